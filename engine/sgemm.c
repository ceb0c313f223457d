/*
 * sgemm.c: products shared by rows of C over the pool (sgemm.h).
 *
 * Why: OpenBLAS 0.3.21's workers, after each call, spin on sched_yield for
 * about 2^28 cycles (a tenth of a second) before they sleep. The training step
 * alternates OpenBLAS's products with the pool's loops (attention, softmax,
 * GELU, layernorm, AdamW), so on a 2-core machine the pool's worker met a
 * spinning OpenBLAS thread on its core after every product. Measured with
 * tests/bench/attention-bench on the 2-vCPU AMD EPYC: its headmm forward and
 * backward took 12-15 and 17-22 ms in five runs of six, 7.8 and 10.9 ms in the
 * sixth, and 6.3-6.5 and 8.8-9.0 ms in four of four with
 * OPENBLAS_THREAD_TIMEOUT=4 (OpenBLAS's workers sleeping at once). That
 * setting is read only when the library loads, hence this file instead.
 * With this file: 6.1-6.3 and 8.6-8.9 ms in six runs of six.
 *
 * How: each task runs OpenBLAS, single-threaded, on a band of rows of C.
 * Every element of C is then the same sum as in one call over all rows
 * (tested in tests/test-kernels.c), provided the bands start on a multiple
 * of the kernel's register block and none is small enough for a small-matrix
 * kernel. Checked by splitting products under each OPENBLAS_CORETYPE this
 * CPU runs: Haswell and Zen keep their bits at multiples of 12 rows,
 * SkylakeX and Cooperlake at multiples of 8, the older cores at any even
 * split; and SkylakeX takes another kernel for some small products (a
 * one-row band of 1000 x 1000 gave other bits, one of 1000 x 1100 the same).
 * Hence bands of SGEMM_ROWS rows, the last taking the remainder, and tasks of
 * at least about SGEMM_MIN_MACS / 2 multiply-adds.
 *
 * As fast as OpenBLAS's own split: `seqmatch bench` measures its peak shape
 * both ways, and in eight runs this way was the faster in seven (211.1-224.0
 * GFLOP/s against 204.8-215.0 on OpenBLAS's two threads; README.md,
 * Performance).
 */
#include "config.h"

#include <string.h>

#include <cblas.h>

#include "cpu.h"
#include "pool.h"
#include "sgemm.h"

/* Rows of C per band: a multiple of 12 and of 8 (see above). */
#define SGEMM_ROWS 24
/* Below this many multiply-adds per task, fewer tasks; below it in all, one call. */
#define SGEMM_MIN_MACS (1L << 22)

struct sgemm_job {
	int		 ta, tb, M, N, K, lda, ldb, ldc;
	float		 alpha, beta;
	const float	*A, *B;
	float		*C;
	const float	*bias;	/* (N), copied into rows r0..r1 of C first */
};

/* Rows r0..r1 of C = alpha op(A) op(B) + beta C (after the bias, if any). */
static void
sgemm_rows(const struct sgemm_job *j, long r0, long r1)
{
	for (long r = r0; j->bias != NULL && r < r1; r++)
		memcpy(j->C + r * j->ldc, j->bias, (size_t)j->N * sizeof *j->C);
	cblas_sgemm(CblasRowMajor, j->ta ? CblasTrans : CblasNoTrans,
	    j->tb ? CblasTrans : CblasNoTrans, (int)(r1 - r0), j->N, j->K, j->alpha,
	    j->ta ? j->A + r0 : j->A + r0 * j->lda, j->lda, j->B, j->ldb, j->beta,
	    j->C + r0 * j->ldc, j->ldc);
}

/* One task's bands of rows of C; the last band runs to row M. */
static void
sgemm_task(void *arg, int task, int ntasks)
{
	const struct sgemm_job	*j = arg;
	long			 b0, b1;

	pool_range(j->M / SGEMM_ROWS, task, ntasks, &b0, &b1);
	sgemm_rows(j, b0 * SGEMM_ROWS, task == ntasks - 1 ? j->M : b1 * SGEMM_ROWS);
}

/* Run the job on the pool when BLAS has one thread and it is large enough. */
static void
sgemm_run(struct sgemm_job *j)
{
	double	macs = (double)j->M * j->N * j->K;
	int	ntasks = pool_threads();

	if (ntasks > j->M / SGEMM_ROWS)
		ntasks = j->M / SGEMM_ROWS;
	if (ntasks > macs / SGEMM_MIN_MACS)
		ntasks = (int)(macs / SGEMM_MIN_MACS);
	if (ntasks < 2 || cpu_threads() > 1)
		sgemm_rows(j, 0, j->M);
	else
		pool_run(sgemm_task, j, ntasks);
}

/* C = alpha op(A) op(B) + beta C. */
void
sgemm_pool(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
    const float *B, int ldb, float beta, float *C, int ldc)
{
	struct sgemm_job j = { ta, tb, M, N, K, lda, ldb, ldc, alpha, beta, A, B, C, NULL };

	sgemm_run(&j);
}

/* C = A B^T + bias in every row (bias NULL: none). */
void
sgemm_pool_bias(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
    const float *bias, float *C, int ldc)
{
	struct sgemm_job j = { 0, 1, M, N, K, lda, ldb, ldc, 1.0f, bias != NULL ? 1.0f : 0.0f,
	    A, B, C, bias };

	sgemm_run(&j);
}
