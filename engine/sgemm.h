/*
 * sgemm.h: the engine's row-major single-precision products, C = alpha op(A)
 * op(B) + beta C with op(A) (M,K) and op(B) (K,N), shared by rows of C among
 * the threads of engine/pool.c when OpenBLAS runs on one thread.
 *
 * The program runs OpenBLAS on one thread (app/main.c) so that the pool is the
 * only set of threads: OpenBLAS's own workers spin for a while after every
 * call, and on a machine with two cores that spin takes the core the pool's
 * worker needs for the loops between the products (sgemm.c says what was
 * measured). With OpenBLAS on several threads (a caller that did not set it
 * to one) sgemm_pool is a plain cblas_sgemm call.
 */
#ifndef SEQMATCH_SGEMM_H
#define SEQMATCH_SGEMM_H

/* ta, tb nonzero: A is stored (K,M), B is stored (N,K). */
void sgemm_pool(int ta, int tb, int M, int N, int K, float alpha, const float *A,
    int lda, const float *B, int ldb, float beta, float *C, int ldc);
/*
 * C (M,N) = A (M,K) B (N,K)^T + bias (N) in every row, a linear layer's
 * forward product; each task copies the bias into its own rows first.
 */
void sgemm_pool_bias(int M, int N, int K, const float *A, int lda, const float *B,
    int ldb, const float *bias, float *C, int ldc);

#endif
