/*
 * quant.c: bf16 and 8-bit group weights, conversion from fp32, and their
 * matrix-vector kernels with a run-time choice of instruction set.
 *
 * How this works
 * --------------
 * Generation reads every weight once per token, so its speed is bytes per
 * token over the memory bandwidth; bf16 halves the bytes and q8 (1 byte per
 * weight plus a 4-byte scale per 32) cuts them to 0.28 of fp32. A product
 * out (n,R) = inp (n,K) W^T first prepares the inputs once (below), then
 * splits the rows of W among the pool's threads; each thread walks its rows
 * in order (one sequential stream per thread for the hardware prefetcher),
 * then helps with the end of the others' (quant_task), and dots each row
 * with the n prepared inputs while the row is in L1. fp32 takes the same
 * path for one input row (OpenBLAS's sgemv threads spin-wait beside the
 * pool's: in `perf record` of a run alternating fp32 and bf16 tokens they
 * still took CPU in sched_yield while bf16 decoded).
 *
 * bf16. vdpbf16ps (AVX512_BF16) multiplies pairs of bf16 and adds them into
 * fp32 lanes; bf16 x bf16 products are exact in fp32. Rounding the input x
 * to bf16 would lose 8 bits of it, so x is split as x = xh + xl with xh =
 * bf16(x) and xl = bf16(x - xh) (the "bf16x2" split), and each weight block
 * takes two vdpbf16ps: w xh + w xl equals w x up to 2^-16 relative, which
 * keeps bf16 weights the only approximation. The other kernels widen bf16 to
 * fp32 (a 16-bit shift) and use x as it is. Measured on an AMD EPYC with
 * AVX512_BF16, the vdpbf16ps kernel ran fastest on weights in cache but at a
 * third of the widening AVX-512F kernel's speed on weights streamed from
 * memory, which is what generation does; so the widening kernel is the
 * default and vdpbf16ps is chosen with quant_set_bf16_dot.
 *
 * q8. Both operands are integers per group of 32 (llama.cpp's Q8_0 x Q8_0):
 * dot = sum_g dw_g dx_g sum_i qw_i qx_i. vpdpbusd (AVX512_VNNI) multiplies
 * unsigned by signed bytes, so it takes |qx| and qw with the sign of qx
 * (qw qx = |qx| (sign(qx) qw)); |qx| <= 127 fits an unsigned byte and the
 * 4-product sums fit int32. One 64-byte register holds two groups: lanes
 * 0-7 sum group g and lanes 8-15 group g+1, converted to float and scaled by
 * a vector holding dw dx of each group. The AVX2 kernel does the same with
 * vpmaddubsw (pairs into int16: 2 * 127 * 127 fits) and vpmaddwd.
 *
 * Nothing here prints, allocates (except quant_matrix_init), exits or aborts.
 */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#include "simd.h"
#define QUANT_X86 1
#endif

#include "cpu.h"
#include "pool.h"
#include "quant.h"
#include "sgemm.h"
#include "util.h"

#define QUANT_G QUANT_GROUP
/*
 * Every kernel prefetches its weights a line at a time inside its loop, twice:
 * into L1 a little ahead (*_AHEAD) and into L2 further on (*_AHEAD_L2). The
 * hardware prefetcher alone did not keep enough reads in flight beside the
 * kernels' arithmetic, and one distance did not either: into L1 alone, 4096
 * bytes ahead streamed the 124M bf16 products 9% slower than 2048. On the
 * 2-vCPU Intel Xeon (AVX-512, AMX), whole 124M tokens with a one-off driver
 * alternating the forms in one process (six rounds each), against L1 alone
 * at the earlier distances (fp32 and bf16 2048, q8 3072; the AVX2 fp32/bf16
 * kernel had no prefetch):
 * - AVX-512 bf16: 1024 + 3072 1.06x (1024 + 4096 1.03x); in a run without
 *   the old form, 768 + 3072 1.01x of 1024 + 3072, 1536 + 3072 0.98x,
 *   1024 + 2048 0.97x. fp32: 1024 + 3072 1.03x (1024 + 4096 1.00x,
 *   2048 + 6144 0.94x).
 * - AVX-512 q8: 2048 + 6144 1.16x and 1.14x in two runs (1024 + 3072 1.03x,
 *   2048 + 4096 1.07x, 2048 + 8192 1.13x, 2048 + 12288 1.14x). But whole
 *   tokens of rounds of 12 or more read part of q8's 139 MB from the L3
 *   cache, and how much moves with the VM's neighbours. Streamed from memory
 *   alone (one 0.5 GB matrix per product, a driver alternating the two
 *   kernels in one process, each against the bandwidth measured beside it,
 *   runs of 11 pairs), 1024 + 3072 read 1.10-1.15x as fast as 2048 + 6144 in
 *   three runs (0.85-0.89 of the bound against 0.75-0.81; fp32 and bf16 read
 *   0.84-0.92 there); 512 + 2048 1.14x, 768 + 3072 1.10x, 1536 + 3072 1.11x,
 *   1024 + 2048 1.11x, 1024 + 4096 1.06x, 4096 + 8192 1.00x; a longer lead
 *   for the scales nothing. Whole tokens in rounds of 12 with the cache's
 *   help, the same driver's kernels in turn: level (paired ratios 1.015-1.039
 *   in four runs against 1.016 and 1.029 for a copy of the same kernel). So
 *   the AVX-512 q8 kernel uses QUANT_AHEAD and QUANT_AHEAD_L2 as fp32 and
 *   bf16 do.
 * - Under the AVX2 cap: q8 2048 + 6144 1.16x (3072 + 8192 as much); bf16
 *   1024 + 3072 1.36x against none (2048 alone 1.32x, 1024 alone 1.16x); fp32
 *   1.14x (2048 alone 1.06x). Then bf16 asking each line once instead of at
 *   every half line: 1.05-1.06x more (117.2-118.6 against 111.3-111.9 tokens/s,
 *   the two libraries in turn three times).
 * Not measured on the AMD EPYC (Zen 5), where L1 prefetches at the start of
 * each row gained nothing in the fp32 and bf16 kernels.
 */
#define QUANT_AHEAD 1024
#define QUANT_AHEAD_L2 3072
/* The AVX2 q8 kernel's (the AVX-512 one uses the two above). */
#define QUANT_Q8_AHEAD 2048
#define QUANT_Q8_AHEAD_L2 6144
/* Eight times the bytes ahead that the q8 kernels prefetch each row's scales. */
#define QUANT_Q8_PREFETCH 4096

/*
 * Products of fewer multiply-adds than this run on the calling thread alone.
 * Waking a sleeping pool worker and waiting for it cost about 12 us on the
 * 2-core development machine while other work loaded it (a 768 x 768 bf16
 * product took 23 us on one thread, 38 us on two); the pool's workers now
 * spin between the products of a token (engine/pool.c), so the small default
 * model's block products (C = 128 or 256, at most 262144) still run on one
 * thread but the 124M model's 768 x 768 ones (589824) are split too: on one
 * thread its 12 per token took about 0.25 ms of a q8 token's 3-4 ms.
 */
#define QUANT_SPLIT_MACS (1L << 19)

/*
 * fp32 and bf16 products of several input rows (a prompt's) go through
 * sgemm_pool, bf16 QUANT_PANEL weight rows at a time widened to fp32 in the
 * work space (quant_bf16_gemm), when there are at least QUANT_GEMM_ROWS of
 * them, or for fp32 when the matrix is at most QUANT_GEMM_BYTES; otherwise
 * through the row kernels, which dot each weight row with every input while
 * the row is in L1 and so give each row the bits of a one-token step
 * (quant_gemm). Measured with one-off drivers alternating the ways in one
 * process (2-vCPU AMD EPYC, best of 3): whole prefills of the 124M model,
 * tokens/s with the row kernels against sgemm, fp32 226 / 60 at 2 tokens,
 * 441 / 207 at 8, 649 / 418 at 32, 651 / 651 at 64, 607 / 783 at 96,
 * 540 / 887 at 256; bf16 402 / 45, 603 / 159, 687 / 365, 736 / 535,
 * 620 / 666, 544 / 826 (sgemm_pool splits a product by bands of input rows,
 * so a few rows leave the pool's other threads idle, and OpenBLAS packs the
 * weights it then reads once). But the shipped model's matrices (C = 128, at
 * most 256 KB, in L2) cost arithmetic, not bytes, and OpenBLAS's blocking
 * wins there: 32-token fp32 prefills of data/model.bin ran at 21.1-21.9
 * thousand tokens/s with its block matrices through sgemm against 18.6-19.0
 * with the row kernels on one thread, 20.8-20.9 against 20.1-20.2 on two.
 * In bf16 the two ways were level there (12.6-12.9 thousand), so bf16 keeps
 * the one-token bits below QUANT_GEMM_ROWS (tests/test-quant.c's rollback
 * check prefills 20 tokens and redoes 4 one at a time).
 */
#define QUANT_GEMM_ROWS 80
#define QUANT_GEMM_BYTES (512L << 10)
#define QUANT_PANEL 256

static int
quant_gemm(enum quant_format f, long R, long K, int n)
{
	if (f == QUANT_FP32)
		return n >= QUANT_GEMM_ROWS || (n > 1 && R * K * (long)sizeof(float) <=
		    QUANT_GEMM_BYTES);
	return f == QUANT_BF16 && n >= QUANT_GEMM_ROWS;
}

static const char *const quant_format_names[QUANT_NUM_FORMATS] = {
	"fp32", "bf16", "q8"
};

/* The format's name. */
const char *
quant_format_name(enum quant_format f)
{
	if ((unsigned)f >= QUANT_NUM_FORMATS)
		return "?";
	return quant_format_names[f];
}

/* Parse a format name. */
int
quant_format_parse(const char *s, enum quant_format *f, char **cause)
{
	for (int i = 0; i < QUANT_NUM_FORMATS; i++)
		if (s != NULL && strcmp(s, quant_format_names[i]) == 0) {
			*f = (enum quant_format)i;
			return 0;
		}
	return util_error(cause, "unknown weight format '%s' (expected fp32, bf16 or q8)",
	    s != NULL ? s : "");
}

/* K rounded up to a whole number of groups. */
static long
quant_padded(long K)
{
	return (K + QUANT_G - 1) / QUANT_G * QUANT_G;
}

/* Bytes per weight in storage. */
double
quant_format_bytes_per_weight(enum quant_format f, int K)
{
	switch (f) {
	case QUANT_BF16:
		return 2.0;
	case QUANT_Q8:
		return (double)quant_padded(K) * (1.0 + 4.0 / QUANT_G) / K;
	default:
		return 4.0;
	}
}

/* Round to nearest even; NaN stays a (quiet) NaN. */
uint16_t
quant_bf16_from_f32(float x)
{
	uint32_t u;

	memcpy(&u, &x, sizeof u);
	if ((u & 0x7fffffffu) > 0x7f800000u)
		return (uint16_t)((u >> 16) | 0x40u);
	u += 0x7fffu + ((u >> 16) & 1u);
	return (uint16_t)(u >> 16);
}

/* Exact widening. */
float
quant_bf16_to_f32(uint16_t h)
{
	uint32_t u = (uint32_t)h << 16;
	float x;

	memcpy(&x, &u, sizeof x);
	return x;
}

/* Per-group 8-bit quantization with zero padding, one element at a time. */
static void
quant_q8_quantize_scalar(int8_t *q, float *scale, const float *x, int n)
{
	long np = quant_padded(n);

	for (long g = 0; g < np / QUANT_G; g++) {
		long k0 = g * QUANT_G, k1 = k0 + QUANT_G < n ? k0 + QUANT_G : n;
		float amax = 0, d, id;

		for (long k = k0; k < k1; k++)
			if (fabsf(x[k]) > amax)
				amax = fabsf(x[k]);
		d = amax / 127.0f;
		id = d > 0 ? 1.0f / d : 0.0f;
		scale[g] = d;
		for (long k = k0; k < k0 + QUANT_G; k++) {
			/* Half away from zero, without a libm call; |v| <= 127 by the scale. */
			float v = k < k1 ? x[k] * id : 0.0f;
			int i = v >= 0 ? (int)(v + 0.5f) : -(int)(0.5f - v);
			q[k] = (int8_t)(i > 127 ? 127 : i < -127 ? -127 : i);
		}
	}
}

/* x = d q. */
void
quant_q8_dequantize(float *x, const int8_t *q, const float *scale, int n)
{
	for (long k = 0; k < n; k++)
		x[k] = scale[k / QUANT_G] * (float)q[k];
}

/* The shape of W (R,K) in format f, no arrays yet. */
static void
quant_matrix_shape(struct quant_matrix *qm, enum quant_format f, int R, int K)
{
	memset(qm, 0, sizeof *qm);
	qm->format = f;
	qm->rows = R;
	qm->cols = K;
	qm->stride = f == QUANT_Q8 ? (int)quant_padded(K) : K;
}

/* Convert w into qm's arrays. */
static void
quant_matrix_fill(struct quant_matrix *qm, const float *w)
{
	size_t RK = (size_t)qm->rows * (size_t)qm->stride;

	if (qm->format == QUANT_BF16)
		for (size_t i = 0; i < RK; i++)
			qm->bf16[i] = quant_bf16_from_f32(w[i]);
	else if (qm->format == QUANT_Q8)
		for (long r = 0; r < qm->rows; r++)
			quant_q8_quantize(qm->q + r * qm->stride,
			    qm->scale + r * (qm->stride / QUANT_G), w + r * (long)qm->cols,
			    qm->cols);
}

/* The arrays' bytes, each rounded up to 64. */
static size_t
quant_round64(size_t n)
{
	return (n + 63) / 64 * 64;
}

/* Memory a placed matrix takes. */
size_t
quant_matrix_size(enum quant_format f, int R, int K)
{
	size_t RK = (size_t)R * (size_t)(f == QUANT_Q8 ? quant_padded(K) : K);

	switch (f) {
	case QUANT_BF16:
		return quant_round64(RK * sizeof(uint16_t));
	case QUANT_Q8:
		return quant_round64(RK) + quant_round64(RK / QUANT_G * sizeof(float));
	default:
		return 0;
	}
}

/* Lay a matrix out in the caller's memory, converting w into it. */
void
quant_matrix_place(struct quant_matrix *qm, enum quant_format f, const float *w,
    int R, int K, void *mem)
{
	quant_matrix_shape(qm, f, R, K);
	if (f == QUANT_BF16)
		qm->bf16 = mem;
	else if (f == QUANT_Q8) {
		qm->q = mem;
		qm->scale = (float *)(void *)((char *)mem +
		    quant_round64((size_t)R * (size_t)qm->stride));
	}
	if (w != NULL)
		quant_matrix_fill(qm, w);
}

/* Convert a matrix. */
int
quant_matrix_init(struct quant_matrix *qm, enum quant_format f, const float *w,
    int R, int K, char **cause)
{
	void *mem;

	if (f == QUANT_FP32) {
		quant_matrix_shape(qm, f, R, K);
		qm->f32 = w;
		return 0;
	}
	if ((mem = util_alloc(quant_matrix_size(f, R, K))) == NULL) {
		quant_matrix_shape(qm, f, R, K);
		return util_error(cause, "out of memory for a %d x %d %s matrix", R, K,
		    quant_format_name(f));
	}
	quant_matrix_place(qm, f, w, R, K, mem);
	qm->own = mem;
	return 0;
}

/* Free what init allocated. */
void
quant_matrix_release(struct quant_matrix *qm)
{
	util_free(qm->own);
	qm->own = NULL;
	qm->bf16 = NULL;
	qm->q = NULL;
	qm->scale = NULL;
}

/* Bytes one product reads. */
size_t
quant_matrix_bytes(const struct quant_matrix *qm)
{
	size_t RK = (size_t)qm->rows * (size_t)qm->stride;

	switch (qm->format) {
	case QUANT_BF16:
		return RK * 2;
	case QUANT_Q8:
		return RK + RK / QUANT_G * sizeof(float);
	default:
		return RK * 4;
	}
}

/* One weight as float. */
float
quant_matrix_get(const struct quant_matrix *qm, int r, int k)
{
	size_t i = (size_t)r * (size_t)qm->stride + (size_t)k;

	switch (qm->format) {
	case QUANT_BF16:
		return quant_bf16_to_f32(qm->bf16[i]);
	case QUANT_Q8:
		return qm->scale[i / QUANT_G] * (float)qm->q[i];
	default:
		return qm->f32[i];
	}
}

/* ---- instruction set choice ---- */

static int quant_limit = QUANT_ISA_AVX512;
/* bf16 at the AVX-512 level: 0 widens to fp32 (AVX-512F), 1 uses vdpbf16ps. */
static int quant_bf16_dot;
static pthread_once_t quant_once = PTHREAD_ONCE_INIT;
static int quant_have_avx2, quant_have_512, quant_have_bf16, quant_have_vnni;

/* Read the CPU flags once. */
static void
quant_detect(void)
{
	quant_have_avx2 = cpu_has_avx2_fma();
	quant_have_512 = cpu_has_avx512_bw();
	quant_have_bf16 = cpu_has_avx512_bf16();
	quant_have_vnni = cpu_has_avx512_vnni();
}

/* Cap the instruction set (tests force the fallbacks with it). */
void
quant_set_isa_limit(enum quant_isa limit)
{
	quant_limit = (int)limit;
}

/* Use vdpbf16ps (1) or the widening AVX-512F kernel (0) for bf16 at the AVX-512 level. */
void
quant_set_bf16_dot(int on)
{
	quant_bf16_dot = on;
}

/* The best supported instruction set for a format, under the cap. */
enum quant_isa
quant_isa(enum quant_format f)
{
#ifdef QUANT_X86
	pthread_once(&quant_once, quant_detect);
	if (quant_limit >= QUANT_ISA_AVX512 &&
	    ((f == QUANT_FP32 && quant_have_512) ||
	    (f == QUANT_BF16 && (quant_bf16_dot ? quant_have_bf16 : quant_have_512)) ||
	    (f == QUANT_Q8 && quant_have_vnni)))
		return QUANT_ISA_AVX512;
	if (quant_limit >= QUANT_ISA_AVX2 && quant_have_avx2)
		return QUANT_ISA_AVX2;
#endif
	return QUANT_ISA_SCALAR;
}

/* Kernel name for reports. */
const char *
quant_kernel_name(enum quant_format f)
{
	switch (f) {
	case QUANT_FP32:
		/* The row kernels (products of many rows or of small matrices: sgemm_pool, quant_gemm). */
		return quant_isa(f) == QUANT_ISA_AVX512 ? "avx512" :
		    quant_isa(f) == QUANT_ISA_AVX2 ? "avx2" : "scalar";
	case QUANT_BF16:
		return quant_isa(f) == QUANT_ISA_AVX512 ?
		    (quant_bf16_dot ? "avx512-bf16" : "avx512") :
		    quant_isa(f) == QUANT_ISA_AVX2 ? "avx2" : "scalar";
	case QUANT_Q8:
		return quant_isa(f) == QUANT_ISA_AVX512 ? "avx512-vnni" :
		    quant_isa(f) == QUANT_ISA_AVX2 ? "avx2" : "scalar";
	}
	return "?";
}

/* ---- kernels ---- */

/* A product in progress: rows [r0, r1) of W against n prepared inputs. */
struct quant_job {
	float *out;               /* (n,R) */
	const float *inp;         /* (n,K) */
	const struct quant_matrix *w;
	const float *bias;        /* (R) or NULL */
	int n;
	const uint16_t *xh, *xl;  /* bf16 split inputs (n,Kb) */
	const float *xeo;         /* AVX-512 bf16: each input's even, then odd elements (n,Kb) */
	const int8_t *xq;         /* q8 inputs (n,Kp) */
	const float *xs;          /* q8 input scales (n,Kp/G) */
	const int32_t *xc;        /* AVX-512 q8: -128 (sum of 4 inputs) (n,Kp/4) */
	void (*rows)(const struct quant_job *j, long r0, long r1);
	struct quant_share *shares; /* one per task (quant_task) */
	long block;               /* rows claimed at a time */
};

/*
 * A task's share of the rows, [front, back) packed in one word (front in the
 * high 32 bits): its own thread claims `block` rows at a time from the front;
 * another thread that has run out takes the back half in one claim (a cache
 * line each: the owner's claims stay local).
 */
struct quant_share {
	_Alignas(64) _Atomic uint64_t span;
};

#define QUANT_SPAN(front, back) (((uint64_t)(uint32_t)(front) << 32) | (uint32_t)(back))

/* Shares at most (one per thread). */
#define QUANT_MAX_SHARES 64
/* Bytes of weights a claim takes: about 16 KB (a few rows). */
#define QUANT_BLOCK_BYTES 16384

/* bf16 inputs are padded to whole 32-element blocks. */
static long
quant_bf16_padded(long K)
{
	return (K + 31) / 32 * 32;
}

/* Store a dot product plus bias. */
static inline void
quant_store(const struct quant_job *j, int i, long r, float d)
{
	j->out[(long)i * j->w->rows + r] = d + (j->bias != NULL ? j->bias[r] : 0.0f);
}

/* Scalar bf16 rows: widen and multiply-add in float. */
static void
quant_bf16_rows_scalar(const struct quant_job *j, long r0, long r1)
{
	long K = j->w->cols;

	for (long r = r0; r < r1; r++) {
		const uint16_t *wr = j->w->bf16 + r * K;
		for (int i = 0; i < j->n; i++) {
			const float *x = j->inp + (long)i * K;
			float s = 0;
			for (long k = 0; k < K; k++)
				s += quant_bf16_to_f32(wr[k]) * x[k];
			quant_store(j, i, r, s);
		}
	}
}

/* Scalar fp32 rows. */
static void
quant_f32_rows_scalar(const struct quant_job *j, long r0, long r1)
{
	long K = j->w->cols;

	for (long r = r0; r < r1; r++) {
		const float *wr = j->w->f32 + r * K;
		for (int i = 0; i < j->n; i++) {
			const float *x = j->inp + (long)i * K;
			float s = 0;
			for (long k = 0; k < K; k++)
				s += wr[k] * x[k];
			quant_store(j, i, r, s);
		}
	}
}

/* Scalar q8 rows: integer dot per group, scaled. */
static void
quant_q8_rows_scalar(const struct quant_job *j, long r0, long r1)
{
	long Kp = j->w->stride, ng = Kp / QUANT_G;

	for (long r = r0; r < r1; r++) {
		const int8_t *wq = j->w->q + r * Kp;
		const float *ws = j->w->scale + r * ng;
		for (int i = 0; i < j->n; i++) {
			const int8_t *xq = j->xq + (long)i * Kp;
			const float *xs = j->xs + (long)i * ng;
			float s = 0;
			for (long g = 0; g < ng; g++) {
				int32_t d = 0;
				for (int k = 0; k < QUANT_G; k++)
					d += (int32_t)wq[g * QUANT_G + k] * xq[g * QUANT_G + k];
				s += ws[g] * xs[g] * (float)d;
			}
			quant_store(j, i, r, s);
		}
	}
}

#ifdef QUANT_X86
/*
 * The kernels' prefetch of one line of weights: at + QUANT_AHEAD into L1,
 * at + QUANT_AHEAD_L2 into L2 (the AVX2 q8 kernel: the QUANT_Q8_ pair).
 * Past a matrix's end this only names addresses: prefetches never fault.
 */
#define QUANT_PREFETCH(at, ahead, ahead_l2) do { \
	_mm_prefetch((const char *)((at) + (ahead)), _MM_HINT_T0); \
	_mm_prefetch((const char *)((at) + (ahead_l2)), _MM_HINT_T1); \
} while (0)

/* Eight weights of row r from column k as floats: fp32 loaded, bf16 widened. */
__attribute__((target("avx2,fma"), always_inline)) static inline __m256
quant_load8_avx2(const struct quant_matrix *w, int bf16, long r, long k)
{
	if (bf16)
		return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(
		    _mm_loadu_si128((const __m128i *)(w->bf16 + r * w->cols + k))), 16));
	return _mm256_loadu_ps(w->f32 + r * w->cols + k);
}

/*
 * Row r of W against inputs i0..i0+ni-1 (ni <= 4, a constant where inlined),
 * 16 weights per step in two sums per input, the tail one at a time: each
 * group of weights is loaded (and for bf16 widened) once for all ni inputs,
 * and each input's sums see the same products in the same order as with
 * ni = 1 (a prompt keeps the bits of one-token steps).
 */
__attribute__((target("avx2,fma"), always_inline)) static inline void
quant_float_row_avx2(const struct quant_job *j, long r, int i0, int ni, int bf16)
{
	const struct quant_matrix *w = j->w;
	long K = w->cols, K16 = K / 16 * 16, k;
	uintptr_t row = bf16 ? (uintptr_t)(w->bf16 + r * K) : (uintptr_t)(w->f32 + r * K);
	const float *x[4];
	__m256 a0[4], a1[4];

#pragma GCC unroll 4
	for (int i = 0; i < ni; i++) {
		x[i] = j->inp + (long)(i0 + i) * K;
		a0[i] = _mm256_setzero_ps();
		a1[i] = _mm256_setzero_ps();
	}
	for (k = 0; k < K16; k += 16) {
		__m256 w0, w1;

		/* 16 weights are a line of fp32, half a line of bf16: bf16 asks every other step. */
		if (i0 == 0 && (!bf16 || k % 32 == 0)) {
			uintptr_t at = row + (uintptr_t)(k * (bf16 ? 2 : 4));
			QUANT_PREFETCH(at, QUANT_AHEAD, QUANT_AHEAD_L2);
		}
		w0 = quant_load8_avx2(w, bf16, r, k);
		w1 = quant_load8_avx2(w, bf16, r, k + 8);
#pragma GCC unroll 4
		for (int i = 0; i < ni; i++) {
			a0[i] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[i] + k), a0[i]);
			a1[i] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x[i] + k + 8), a1[i]);
		}
	}
#pragma GCC unroll 4
	for (int i = 0; i < ni; i++) {
		float s = simd_hsum256(_mm256_add_ps(a0[i], a1[i]));
		for (long t = k; t < K; t++)
			s += quant_matrix_get(w, (int)r, (int)t) * x[i][t];
		quant_store(j, i0 + i, r, s);
	}
}

/*
 * AVX2 fp32 and bf16 rows, four inputs at a time. One body for both formats
 * (quant_load8_avx2 is the only difference); each caller below passes its
 * format as a constant, so the choice is made when compiling, not per load.
 */
__attribute__((target("avx2,fma"), always_inline)) static inline void
quant_float_rows_avx2(const struct quant_job *j, long r0, long r1, int bf16)
{
	int n = j->n;

	for (long r = r0; r < r1; r++) {
		int i = 0;

		for (; i + 4 <= n; i += 4)
			quant_float_row_avx2(j, r, i, 4, bf16);
		switch (n - i) {
		case 3:
			quant_float_row_avx2(j, r, i, 3, bf16);
			break;
		case 2:
			quant_float_row_avx2(j, r, i, 2, bf16);
			break;
		case 1:
			quant_float_row_avx2(j, r, i, 1, bf16);
			break;
		}
	}
}

__attribute__((target("avx2,fma"))) static void
quant_f32_rows_avx2(const struct quant_job *j, long r0, long r1)
{
	quant_float_rows_avx2(j, r0, r1, 0);
}

__attribute__((target("avx2,fma"))) static void
quant_bf16_rows_avx2(const struct quant_job *j, long r0, long r1)
{
	quant_float_rows_avx2(j, r0, r1, 1);
}

/* One group of 32 into acc: vpmaddubsw of |x| and w with x's sign, vpmaddwd, scale s. */
__attribute__((target("avx2,fma"), always_inline)) static inline __m256
quant_q8_group_avx2(__m256 acc, const int8_t *w, const int8_t *x, float s)
{
	__m256i wv = _mm256_loadu_si256((const __m256i *)w);
	__m256i xv = _mm256_loadu_si256((const __m256i *)x);
	__m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(xv, xv),
	    _mm256_sign_epi8(wv, xv)), _mm256_set1_epi16(1));

	return _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(s), acc);
}

/*
 * AVX2 q8 rows: one group per register, groups alternating between two sums
 * (one chain of FMAs would be the limit, as in the AVX-512 kernel), the
 * weights prefetched QUANT_Q8_AHEAD bytes ahead inside the loop. With each
 * row's weights prefetched 4 KB ahead at its start instead, against the form
 * before that (one sum, no prefetch), whole q8 tokens of the 124M model under
 * the AVX2 cap ran at a median 311-316 against 286-289 tokens/s (a one-off
 * driver alternating the two in one process, 15 rounds of 20 tokens each,
 * twice, at 62-63 GB/s; 2-vCPU AMD EPYC), still about 70% of the bound: the
 * arithmetic, about 3.5 cycles per group on one thread with the matrix in
 * cache either way, is the limit on two threads there. On the 2-vCPU Intel
 * Xeon under the same cap, prefetching inside the loop 3072 bytes ahead gave
 * 1.13-1.15x the tokens/s of the row-start form (three runs of six rounds of
 * 60 tokens, alternating in one process; 4096 ahead 1.11x, 2048 1.09x); then
 * a second prefetch into L2 further on (QUANT_Q8_AHEAD_L2) 1.16x more.
 * Streamed from memory alone (the driver of the note at the top of this
 * file), this kernel read 0.89-0.92 of the bound with these distances, and
 * the AVX-512 kernel's shorter ones gave it nothing (paired ratios 0.98-1.00).
 */
__attribute__((target("avx2,fma"))) static void
quant_q8_rows_avx2(const struct quant_job *j, long r0, long r1)
{
	long Kp = j->w->stride, ng = Kp / QUANT_G;

	for (long r = r0; r < r1; r++) {
		const int8_t *wq = j->w->q + r * Kp;
		const float *ws = j->w->scale + r * ng;

		/* Past the matrix's end this only names addresses: prefetches never fault. */
		_mm_prefetch((const char *)((uintptr_t)ws + QUANT_Q8_PREFETCH / 8), _MM_HINT_T0);
		for (int i = 0; i < j->n; i++) {
			const int8_t *xq = j->xq + (long)i * Kp;
			const float *xs = j->xs + (long)i * ng;
			__m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
			long g;

			for (g = 0; g + 2 <= ng; g += 2) {
				if (i == 0)
					QUANT_PREFETCH((uintptr_t)(wq + g * QUANT_G), QUANT_Q8_AHEAD,
					    QUANT_Q8_AHEAD_L2);
				acc0 = quant_q8_group_avx2(acc0, wq + g * QUANT_G, xq + g * QUANT_G,
				    ws[g] * xs[g]);
				acc1 = quant_q8_group_avx2(acc1, wq + (g + 1) * QUANT_G,
				    xq + (g + 1) * QUANT_G, ws[g + 1] * xs[g + 1]);
			}
			if (g < ng)
				acc0 = quant_q8_group_avx2(acc0, wq + g * QUANT_G, xq + g * QUANT_G,
				    ws[g] * xs[g]);
			quant_store(j, i, r, simd_hsum256(_mm256_add_ps(acc0, acc1)));
		}
	}
}

/* AVX-512 BF16 rows: two vdpbf16ps per 32 weights (x = xh + xl). */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16"))) static void
quant_bf16_rows_avx512(const struct quant_job *j, long r0, long r1)
{
	long K = j->w->cols, Kb = quant_bf16_padded(K), K32 = K / 32 * 32;
	__mmask32 tail = (__mmask32)((1ull << (K - K32)) - 1);

	for (long r = r0; r < r1; r++) {
		const uint16_t *wr = j->w->bf16 + r * K;
		for (int i = 0; i < j->n; i++) {
			const uint16_t *xh = j->xh + (long)i * Kb, *xl = j->xl + (long)i * Kb;
			__m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
			long k;
			for (k = 0; k < K32; k += 32) {
				__m512i w = _mm512_loadu_si512(wr + k);
				a0 = _mm512_dpbf16_ps(a0, (__m512bh)w,
				    (__m512bh)_mm512_loadu_si512(xh + k));
				a1 = _mm512_dpbf16_ps(a1, (__m512bh)w,
				    (__m512bh)_mm512_loadu_si512(xl + k));
			}
			if (tail) {
				__m512i w = _mm512_maskz_loadu_epi16(tail, wr + k);
				a0 = _mm512_dpbf16_ps(a0, (__m512bh)w,
				    (__m512bh)_mm512_loadu_si512(xh + k));
				a1 = _mm512_dpbf16_ps(a1, (__m512bh)w,
				    (__m512bh)_mm512_loadu_si512(xl + k));
			}
			quant_store(j, i, r, _mm512_reduce_add_ps(_mm512_add_ps(a0, a1)));
		}
	}
}

/*
 * The AVX-512 fp32 and bf16 kernel takes its weights 32 at a time as two
 * vectors of 16 floats, v0 and v1. fp32: columns k..k+15 and k+16..k+31. bf16
 * (64 bytes, 16 pairs of neighbours): v0 the even columns k, k+2, .. (each
 * pair's low half shifted up 16 bits), v1 the odd ones (the high half, the
 * low one masked off), which the inputs match by being split the same way
 * (quant_bf16_split). Before, each group of 16 bf16 weights was widened to
 * 32 bits (a zero extension and a shift: one more instruction per 16 weights,
 * on the shuffle port). On the 2-vCPU Intel Xeon, 124M decode-bench, builds
 * in turn, three pairs: bf16 123.5-125.6 to 132.6-133.4 tokens/s (82-86% to
 * 88-91% of the bound).
 */
__attribute__((target("avx512f,avx512bw,avx512vl"), always_inline)) static inline void
quant_load32_avx512(const void *row, int bf16, long k, __mmask32 m, __m512 *v0, __m512 *v1)
{
	if (bf16) {
		__m512i u = _mm512_maskz_loadu_epi16(m, (const uint16_t *)row + k);

		*v0 = _mm512_castsi512_ps(_mm512_slli_epi32(u, 16));
		*v1 = _mm512_castsi512_ps(_mm512_and_si512(u,
		    _mm512_set1_epi32((int)0xffff0000u)));
	} else {
		*v0 = _mm512_maskz_loadu_ps((__mmask16)m, (const float *)row + k);
		*v1 = _mm512_maskz_loadu_ps((__mmask16)(m >> 16), (const float *)row + k + 16);
	}
}

/*
 * The inputs that v0 (half 0) or v1 (half 1) of columns k.. meet: fp32 x + k
 * or x + k + 16; bf16 the even or the odd half of the split row x (kh floats
 * each, zero padded), from k / 2.
 */
__attribute__((always_inline)) static inline const float *
quant_x32(const float *x, int bf16, long kh, long k, int half)
{
	return bf16 ? x + half * kh + k / 2 : x + k + 16 * half;
}

/*
 * Row r of an fp32 or bf16 W against inputs i0..i0+ni-1 (ni <= 4 and bf16
 * constants where inlined; t masks the last K % 32 columns): each 32 weights
 * are loaded (for bf16 split) once for all ni inputs. Each input's four sums
 * see the same products in the same order as with ni = 1, so a prompt's rows
 * get the bits of one-token steps (tests/test-quant.c's rollback check).
 * Before, a product of n inputs loaded (and for bf16 widened) every weight n
 * times; on the Intel Xeon the shipped model's bf16 prefill went from
 * 30.1-30.3 to 35.8-36.8 thousand tokens/s (README.md).
 */
__attribute__((target("avx512f,avx512bw,avx512vl"), always_inline)) static inline void
quant_float_row_avx512(const struct quant_job *j, long r, int i0, int ni, int bf16,
    __mmask32 t)
{
	const struct quant_matrix *w = j->w;
	long K = w->cols, K32 = K / 32 * 32, kh = quant_bf16_padded(K) / 2, k;
	const void *row = bf16 ? (const void *)(w->bf16 + r * K) : (const void *)(w->f32 + r * K);
	const float *x[4];
	__m512 a[4][4];

#pragma GCC unroll 4
	for (int i = 0; i < ni; i++) {
		x[i] = bf16 ? j->xeo + (long)(i0 + i) * 2 * kh : j->inp + (long)(i0 + i) * K;
#pragma GCC unroll 4
		for (int c = 0; c < 4; c++)
			a[i][c] = _mm512_setzero_ps();
	}
	/* Four chains of FMAs per input: with two their latency limited the loop. */
	for (k = 0; k + 64 <= K32; k += 64) {
		__m512 v[4];

		if (i0 == 0) {
			/* 64 weights are 2 lines of bf16, 4 of fp32. */
			uintptr_t at = (uintptr_t)row + (uintptr_t)(k * (bf16 ? 2 : 4));
			QUANT_PREFETCH(at, QUANT_AHEAD, QUANT_AHEAD_L2);
			QUANT_PREFETCH(at + 64, QUANT_AHEAD, QUANT_AHEAD_L2);
			if (!bf16) {
				QUANT_PREFETCH(at + 128, QUANT_AHEAD, QUANT_AHEAD_L2);
				QUANT_PREFETCH(at + 192, QUANT_AHEAD, QUANT_AHEAD_L2);
			}
		}
		quant_load32_avx512(row, bf16, k, ~0u, &v[0], &v[1]);
		quant_load32_avx512(row, bf16, k + 32, ~0u, &v[2], &v[3]);
#pragma GCC unroll 4
		for (int i = 0; i < ni; i++)
#pragma GCC unroll 4
			for (int c = 0; c < 4; c++)
				a[i][c] = _mm512_fmadd_ps(v[c], _mm512_loadu_ps(quant_x32(x[i],
				    bf16, kh, k + 32 * (c / 2), c % 2)), a[i][c]);
	}
	/* The last 32 or fewer columns: bf16 inputs are zero past K, fp32 ones masked. */
	for (; k < K; k += 32) {
		__mmask32 m = k < K32 ? ~0u : t;
		__m512 v0, v1;

		quant_load32_avx512(row, bf16, k, m, &v0, &v1);
#pragma GCC unroll 4
		for (int i = 0; i < ni; i++) {
			const float *x0 = quant_x32(x[i], bf16, kh, k, 0);
			const float *x1 = quant_x32(x[i], bf16, kh, k, 1);

			a[i][0] = _mm512_fmadd_ps(v0, bf16 ? _mm512_loadu_ps(x0) :
			    _mm512_maskz_loadu_ps((__mmask16)m, x0), a[i][0]);
			a[i][1] = _mm512_fmadd_ps(v1, bf16 ? _mm512_loadu_ps(x1) :
			    _mm512_maskz_loadu_ps((__mmask16)(m >> 16), x1), a[i][1]);
		}
	}
#pragma GCC unroll 4
	for (int i = 0; i < ni; i++)
		quant_store(j, i0 + i, r, _mm512_reduce_add_ps(_mm512_add_ps(
		    _mm512_add_ps(a[i][0], a[i][1]), _mm512_add_ps(a[i][2], a[i][3]))));
}

/* AVX-512F fp32 or bf16 rows, four inputs at a time (bf16 a constant where inlined). */
__attribute__((target("avx512f,avx512bw,avx512vl"), always_inline)) static inline void
quant_float_rows_avx512(const struct quant_job *j, long r0, long r1, int bf16)
{
	__mmask32 t = (__mmask32)((1ull << (j->w->cols % 32)) - 1);
	int n = j->n;

	/* One-token steps, the decoding hot path: no dispatch per row. */
	if (n == 1) {
		for (long r = r0; r < r1; r++)
			quant_float_row_avx512(j, r, 0, 1, bf16, t);
		return;
	}
	for (long r = r0; r < r1; r++) {
		int i = 0;

		for (; i + 4 <= n; i += 4)
			quant_float_row_avx512(j, r, i, 4, bf16, t);
		switch (n - i) {
		case 3:
			quant_float_row_avx512(j, r, i, 3, bf16, t);
			break;
		case 2:
			quant_float_row_avx512(j, r, i, 2, bf16, t);
			break;
		case 1:
			quant_float_row_avx512(j, r, i, 1, bf16, t);
			break;
		}
	}
}

__attribute__((target("avx512f,avx512bw,avx512vl"))) static void
quant_f32_rows_avx512(const struct quant_job *j, long r0, long r1)
{
	quant_float_rows_avx512(j, r0, r1, 0);
}

__attribute__((target("avx512f,avx512bw,avx512vl"))) static void
quant_bf16_rows_avx512f(const struct quant_job *j, long r0, long r1)
{
	quant_float_rows_avx512(j, r0, r1, 1);
}

/*
 * quant_q8_quantize for the inputs, 32 at a time: the same operations as the
 * scalar loop (max |x|, d = max / 127, 1 / d, x / d rounded half away from
 * zero as trunc(v + copysign(0.5, v))), hence the same bytes and scales.
 */
__attribute__((target("avx512f,avx512bw,avx512vl"))) static void
quant_q8_quantize_avx512(int8_t *q, float *scale, const float *x, int n)
{
	const __m512 half = _mm512_set1_ps(0.5f);
	const __m512i sign = _mm512_set1_epi32((int)0x80000000u);
	int ng = n / QUANT_G;

	for (int g = 0; g < ng; g++) {
		__m512 x0 = _mm512_loadu_ps(x + g * QUANT_G);
		__m512 x1 = _mm512_loadu_ps(x + g * QUANT_G + 16);
		float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(x0),
		    _mm512_abs_ps(x1)));
		float d = amax / 127.0f, id = d > 0 ? 1.0f / d : 0.0f;
		__m512 vid = _mm512_set1_ps(id);
		__m512 v0 = _mm512_mul_ps(x0, vid), v1 = _mm512_mul_ps(x1, vid);
		/* copysign(0.5, v): the sign bit of v on 0.5. */
		__m512 h0 = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(half),
		    _mm512_and_si512(_mm512_castps_si512(v0), sign)));
		__m512 h1 = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(half),
		    _mm512_and_si512(_mm512_castps_si512(v1), sign)));
		__m512i i0 = _mm512_cvttps_epi32(_mm512_add_ps(v0, h0));
		__m512i i1 = _mm512_cvttps_epi32(_mm512_add_ps(v1, h1));
		const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127);

		i0 = _mm512_min_epi32(_mm512_max_epi32(i0, lo), hi);
		i1 = _mm512_min_epi32(_mm512_max_epi32(i1, lo), hi);
		_mm_storeu_si128((__m128i *)(q + g * QUANT_G), _mm512_cvtepi32_epi8(i0));
		_mm_storeu_si128((__m128i *)(q + g * QUANT_G + 16), _mm512_cvtepi32_epi8(i1));
		scale[g] = d;
	}
	if (ng * QUANT_G < n)
		quant_q8_quantize_scalar(q + ng * QUANT_G, scale + ng, x + ng * QUANT_G,
		    n - ng * QUANT_G);
}
#endif

/* Per-group 8-bit quantization with zero padding (the same bytes on every path). */
void
quant_q8_quantize(int8_t *q, float *scale, const float *x, int n)
{
#ifdef QUANT_X86
	if (quant_isa(QUANT_Q8) == QUANT_ISA_AVX512) {
		quant_q8_quantize_avx512(q, scale, x, n);
		return;
	}
#endif
	quant_q8_quantize_scalar(q, scale, x, n);
}

#ifdef QUANT_X86

/*
 * AVX-512 VNNI rows: two groups per vpdpbusd. The weights are made unsigned by
 * flipping their top bit (w + 128, 1 to 255) and the inputs stay signed, so
 * each lane sums (w + 128) x over 4 bytes; the accumulator starts at the
 * input's -128 (sum of those 4 x) (xc, made once per product), which leaves
 * exactly sum w x, the integers of the sign-moving form this replaced. The
 * scales dw dx of 8 groups are one multiply of 8 weight scales by 8 input
 * scales (the same float products as before), and vpermps spreads a pair of
 * them over the lanes. Per 64 weight bytes: three loads, an xor, vpdpbusd, a
 * conversion, vpermps and an FMA, alternating between two sums. The earlier
 * form (signs moved onto the weights with a mask and a subtraction, |x|, two
 * scale products broadcast and blended per pair, one sum) ran at 50-60 GB/s
 * per thread from cache, two to three times what each of 2 threads must
 * stream from memory, limited by the latency of its one chain of FMAs; this
 * one at 60-80 GB/s on K = 768 and 3072 (tests/bench/decode-bench.c times
 * the whole token).
 */
#define QUANT_Q8_TARGET "avx512f,avx512bw,avx512vl,avx512vnni"

/*
 * The kernel prefetches the weights inside its loop (QUANT_AHEAD into L1,
 * QUANT_AHEAD_L2 into L2: measured at the top of this file, after the
 * history below) and each row's scales QUANT_Q8_PREFETCH / 8 ahead: the
 * hardware prefetcher alone did not keep enough reads in flight beside this
 * kernel's arithmetic (8 instructions per 64 bytes). On the 2-vCPU Intel Xeon
 * (AVX-512, AMX), whole 124M tokens with a one-off driver alternating the
 * forms in one process (six rounds of 60 tokens, three runs): inside the loop
 * 3072 bytes ahead 1.08-1.12x the tokens/s of the earlier form below, 4096
 * ahead 1.06-1.07x, 2048 1.02-1.05x, 6144 0.98x. The earlier form prefetched
 * each row's weights 4 KB ahead at its start; measured on the 2-vCPU AMD EPYC
 * (Zen 5), where the in-loop form was not tried, with one-off drivers that
 * alternate the two forms in one process, each timing against the read
 * bandwidth measured beside it: the 124M model's 3072 x 768 q8 matrices
 * streamed from memory at 77-86% of that bandwidth against 58-76% (8 pairs;
 * 2048 bytes ahead gained less, 8192 nothing), and whole q8 tokens at a median
 * 0.68-0.76 of their bound against 0.58-0.61 (two runs of 30-40 rounds). The
 * same prefetch in the bf16 and fp32 kernels gained nothing there (they
 * prefetch inside their loops instead: QUANT_AHEAD); the AVX2 q8 kernel had it
 * too.
 */

/*
 * One pair of groups: weights w, inputs x and their xc term (m: the bytes
 * read, all 64 or the first group's 32), scaled by the lanes of sv (the
 * products dw dx of a block's groups) that idx picks.
 */
__attribute__((target(QUANT_Q8_TARGET), always_inline)) static inline __m512
quant_q8_pair(__m512 acc, const int8_t *w, const int8_t *x, const int32_t *xc,
    __m512 sv, __m512i idx, __mmask64 m)
{
	const __m512i flip = _mm512_set1_epi8((char)0x80);
	__m512i u = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, w), flip);
	__m512i d = _mm512_dpbusd_epi32(_mm512_maskz_loadu_epi32((__mmask16)
	    (m == ~0ull ? 0xffff : 0x00ff), xc), u, _mm512_maskz_loadu_epi8(m, x));

	return _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_permutexvar_ps(idx, sv), acc);
}

/*
 * One row's dot product with one prepared input (ng groups); with ahead, it
 * prefetches the weights as it goes (QUANT_AHEAD, QUANT_AHEAD_L2).
 */
__attribute__((target(QUANT_Q8_TARGET), always_inline)) static inline float
quant_q8_row_avx512(const int8_t *wq, const float *ws, const int8_t *xq,
    const int32_t *xc, const float *xs, long ng, int ahead)
{
	/* Lanes 0-7 take scale 2q of wsv, lanes 8-15 scale 2q + 1. */
	const __m512i i0 = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
	const __m512i i1 = _mm512_set_epi32(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2);
	const __m512i i2 = _mm512_set_epi32(5, 5, 5, 5, 5, 5, 5, 5, 4, 4, 4, 4, 4, 4, 4, 4);
	const __m512i i3 = _mm512_set_epi32(7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 6, 6, 6, 6, 6);
	/* Pairs alternate between two sums: one chain of FMAs would be the limit. */
	__m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps(), sv;
	long g, rem;

	/* Blocks of 8 groups (4 pairs; 8 scales in one load): K = 768 has 3. */
	for (g = 0; g + 8 <= ng; g += 8) {
		if (ahead) {
			/* Past the matrix's end this only names addresses: prefetches never fault. */
			uintptr_t at = (uintptr_t)wq;

			QUANT_PREFETCH(at, QUANT_AHEAD, QUANT_AHEAD_L2);
			QUANT_PREFETCH(at + 64, QUANT_AHEAD, QUANT_AHEAD_L2);
			QUANT_PREFETCH(at + 128, QUANT_AHEAD, QUANT_AHEAD_L2);
			QUANT_PREFETCH(at + 192, QUANT_AHEAD, QUANT_AHEAD_L2);
		}
		sv = _mm512_castps256_ps512(_mm256_mul_ps(_mm256_loadu_ps(ws + g),
		    _mm256_loadu_ps(xs + g)));
		acc0 = quant_q8_pair(acc0, wq, xq, xc, sv, i0, ~0ull);
		acc1 = quant_q8_pair(acc1, wq + 64, xq + 64, xc + 16, sv, i1, ~0ull);
		acc0 = quant_q8_pair(acc0, wq + 128, xq + 128, xc + 32, sv, i2, ~0ull);
		acc1 = quant_q8_pair(acc1, wq + 192, xq + 192, xc + 48, sv, i3, ~0ull);
		wq += 256;
		xq += 256;
		xc += 64;
	}
	if ((rem = ng - g) > 0) {
		__mmask16 m = (__mmask16)((1u << rem) - 1);
		__m512i idx = i0;
		sv = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, ws + g),
		    _mm512_maskz_loadu_ps(m, xs + g));
		for (; rem >= 2; rem -= 2) {
			if (ahead)
				QUANT_PREFETCH((uintptr_t)wq, QUANT_AHEAD, QUANT_AHEAD_L2);
			acc0 = quant_q8_pair(acc0, wq, xq, xc, sv, idx, ~0ull);
			idx = _mm512_add_epi32(idx, _mm512_set1_epi32(2));
			wq += 64;
			xq += 64;
			xc += 16;
		}
		/* An odd last group: the pair's upper half reads as zeros. */
		if (rem > 0)
			acc1 = quant_q8_pair(acc1, wq, xq, xc, sv, idx, 0xffffffffull);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

__attribute__((target(QUANT_Q8_TARGET))) static void
quant_q8_rows_avx512(const struct quant_job *j, long r0, long r1)
{
	long Kp = j->w->stride, ng = Kp / QUANT_G, R = j->w->rows;
	const int8_t *q = j->w->q;
	const float *scale = j->w->scale, *bias = j->bias;
	float *out = j->out;
	int n = j->n;

	for (long r = r0; r < r1; r++) {
		/* Past the matrix's end this only names addresses: prefetches never fault. */
		_mm_prefetch((const char *)((uintptr_t)(scale + r * ng) + QUANT_Q8_PREFETCH / 8),
		    _MM_HINT_T0);
		for (int i = 0; i < n; i++) {
			float d = quant_q8_row_avx512(q + r * Kp, scale + r * ng,
			    j->xq + (long)i * Kp, j->xc + (long)i * (Kp / 4),
			    j->xs + (long)i * ng, ng, i == 0);
			out[(long)i * R + r] = d + (bias != NULL ? bias[r] : 0.0f);
		}
	}
}

/* The AVX-512 kernel's per-input term xc = -128 (sum of 4 x) per lane. */
__attribute__((target(QUANT_Q8_TARGET))) static void
quant_q8_prepare_avx512(int32_t *xc, const int8_t *xq, long Kp)
{
	const __m512i u128 = _mm512_set1_epi8((char)0x80);
	long k;

	/* vpdpbusd of 128 (unsigned) and x: 128 (sum of 4 x); Kp is a multiple of 32. */
	for (k = 0; k + 64 <= Kp; k += 64)
		_mm512_storeu_si512(xc + k / 4, _mm512_sub_epi32(_mm512_setzero_si512(),
		    _mm512_dpbusd_epi32(_mm512_setzero_si512(), u128,
		    _mm512_loadu_si512(xq + k))));
	if (k < Kp)
		_mm512_mask_storeu_epi32(xc + k / 4, 0x00ff, _mm512_sub_epi32(
		    _mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), u128,
		    _mm512_maskz_loadu_epi8(0xffffffffull, xq + k))));
}
#endif

/* Work space for n prepared input rows. */
size_t
quant_work_size(enum quant_format f, int K, int n)
{
	switch (f) {
	case QUANT_BF16: {
		size_t split = (size_t)n * (size_t)quant_bf16_padded(K) * 2 * sizeof(uint16_t);
		size_t panel = (size_t)QUANT_PANEL * (size_t)K * sizeof(float);

		return n >= QUANT_GEMM_ROWS && panel > split ? panel : split;
	}
	case QUANT_Q8:
		/* xq, xs, then the AVX-512 kernel's xc (Kp / 4 int32). */
		return (size_t)n * (size_t)quant_padded(K) +
		    (size_t)n * (size_t)(quant_padded(K) / QUANT_G) * sizeof(float) +
		    (size_t)n * (size_t)(quant_padded(K) / 4) * sizeof(int32_t);
	default:
		return 0;
	}
}

/*
 * out (n,R) = inp (n,K) W^T + bias for bf16 W and many input rows: each panel
 * of QUANT_PANEL rows of W widened to fp32 in work, then one sgemm_pool.
 */
static void
quant_bf16_gemm(float *out, const float *inp, const struct quant_matrix *w,
    const float *bias, int n, float *work)
{
	long K = w->cols, R = w->rows;

	for (long r0 = 0; r0 < R; r0 += QUANT_PANEL) {
		long nr = R - r0 < QUANT_PANEL ? R - r0 : QUANT_PANEL;
		const uint16_t *src = w->bf16 + r0 * K;

		for (long i = 0; i < nr * K; i++)
			work[i] = quant_bf16_to_f32(src[i]);
		sgemm_pool_bias(n, (int)nr, (int)K, inp, (int)K, work, (int)K,
		    bias != NULL ? bias + r0 : NULL, out + r0, (int)R);
	}
}

/*
 * Claim up to `block` rows from the front of share sh into [*r0, *r1); 0 when
 * it is empty.
 */
static int
quant_claim_front(struct quant_share *sh, long block, long *r0, long *r1)
{
	uint64_t span = atomic_load_explicit(&sh->span, memory_order_relaxed);

	for (;;) {
		long front = (long)(span >> 32), back = (long)(uint32_t)span;
		long end = front + block < back ? front + block : back;

		if (front >= back)
			return 0;
		if (atomic_compare_exchange_weak(&sh->span, &span, QUANT_SPAN(end, back))) {
			*r0 = front;
			*r1 = end;
			return 1;
		}
	}
}

/*
 * Move the back half of share from (if it holds at least two blocks) into
 * share to, which is empty and only its own thread writes; 0 if too small.
 */
static int
quant_steal_half(struct quant_share *from, struct quant_share *to, long block)
{
	uint64_t span = atomic_load(&from->span);

	for (;;) {
		long front = (long)(span >> 32), back = (long)(uint32_t)span;
		long mid = front + (back - front) / 2;

		if (back - front < 2 * block)
			return 0;
		if (atomic_compare_exchange_weak(&from->span, &span, QUANT_SPAN(front, mid))) {
			atomic_store(&to->span, QUANT_SPAN(mid, back));
			return 1;
		}
	}
}

/*
 * Pool task: its own share of the rows from the front; then the back half of
 * another's, as its own share again; at the end, single claims from the
 * others' fronts. Each thread so reads long contiguous runs. The two vCPUs of
 * the machine this was measured on stream at different speeds (one 10-25%
 * behind the other, and which one varies) and a worker starts a product a
 * little after its caller, so one thread always runs out first. Before, it
 * then took single claims from the other's front, and the two threads read
 * alternate 16 KB blocks of one range for the rest of the product: two threads
 * doing only that read 18.5 GB/s where one thread alone read 26.9 (likely
 * each core's prefetcher running on into the other's blocks). Measured with
 * one-off drivers alternating the forms in one process (124M shapes, 2
 * threads): the 48 bf16 layer products back to back at a median 1.05-1.07x
 * the speed, whole tokens at about 1.10x (q8) and 1.17x (bf16).
 */
static void
quant_task(void *arg, int task, int ntasks)
{
	const struct quant_job *j = arg;
	struct quant_share *mine = &j->shares[task];
	long r0, r1;
	int s;

	do {
		while (quant_claim_front(mine, j->block, &r0, &r1))
			j->rows(j, r0, r1);
		for (s = 1; s < ntasks; s++)
			if (quant_steal_half(&j->shares[(task + s) % ntasks], mine, j->block))
				break;
	} while (s < ntasks);
	for (s = 1; s < ntasks; s++)
		while (quant_claim_front(&j->shares[(task + s) % ntasks], j->block, &r0, &r1))
			j->rows(j, r0, r1);
}

#ifdef QUANT_X86
/*
 * For the AVX-512 bf16 kernel (quant_load32_avx512): each input row's
 * elements 0, 2, 4, .. then 1, 3, 5, .., each half Kb / 2 floats with zeros
 * past K (so that no garbage meets the masked-off weights), into xeo (n,Kb).
 */
static void
quant_bf16_split(float *xeo, const float *inp, int n, long K)
{
	long kh = quant_bf16_padded(K) / 2;

	for (long i = 0; i < n; i++)
		for (long k = 0; k < 2 * kh; k++)
			xeo[i * 2 * kh + (k % 2) * kh + k / 2] = k < K ? inp[i * K + k] : 0.0f;
}
#endif

/* Product of n inputs with a matrix in any format. */
void
quant_matmul(float *out, const float *inp, const struct quant_matrix *w,
    const float *bias, int n, void *work)
{
	struct quant_job j;
	struct quant_share shares[QUANT_MAX_SHARES];
	long K = w->cols, R = w->rows;
	enum quant_isa isa = quant_isa(w->format);
	int ntasks;

	if (w->format == QUANT_FP32 && quant_gemm(w->format, R, K, n)) {
		sgemm_pool_bias(n, (int)R, (int)K, inp, (int)K, w->f32, (int)K, bias, out,
		    (int)R);
		return;
	}
	if (w->format == QUANT_BF16 && quant_gemm(w->format, R, K, n)) {
		quant_bf16_gemm(out, inp, w, bias, n, work);
		return;
	}
	memset(&j, 0, sizeof j);
	j.out = out;
	j.inp = inp;
	j.w = w;
	j.bias = bias;
	j.n = n;
	if (w->format == QUANT_FP32) {
		j.rows = quant_f32_rows_scalar;
#ifdef QUANT_X86
		if (isa == QUANT_ISA_AVX512)
			j.rows = quant_f32_rows_avx512;
		else if (isa == QUANT_ISA_AVX2)
			j.rows = quant_f32_rows_avx2;
#endif
	} else if (w->format == QUANT_BF16) {
		j.rows = quant_bf16_rows_scalar;
#ifdef QUANT_X86
		if (isa == QUANT_ISA_AVX512 && !quant_bf16_dot) {
			quant_bf16_split(work, inp, n, K);
			j.xeo = work;
			j.rows = quant_bf16_rows_avx512f;
		} else if (isa == QUANT_ISA_AVX512) {
			long Kb = quant_bf16_padded(K);
			uint16_t *xh = work, *xl = xh + (long)n * Kb;
			for (long i = 0; i < n; i++)
				for (long k = 0; k < Kb; k++) {
					float x = k < K ? inp[i * K + k] : 0.0f;
					uint16_t h = quant_bf16_from_f32(x);
					xh[i * Kb + k] = h;
					xl[i * Kb + k] = quant_bf16_from_f32(x -
					    quant_bf16_to_f32(h));
				}
			j.xh = xh;
			j.xl = xl;
			j.rows = quant_bf16_rows_avx512;
		} else if (isa == QUANT_ISA_AVX2)
			j.rows = quant_bf16_rows_avx2;
#endif
	} else {
		long Kp = w->stride, ng = Kp / QUANT_G;
		int8_t *xq = work;
		float *xs = (float *)(void *)(xq + n * Kp);
		for (long i = 0; i < n; i++)
			quant_q8_quantize(xq + i * Kp, xs + i * ng, inp + i * K, (int)K);
		j.xq = xq;
		j.xs = xs;
		j.rows = quant_q8_rows_scalar;
#ifdef QUANT_X86
		if (isa == QUANT_ISA_AVX512) {
			int32_t *xc = (int32_t *)(void *)(xs + n * ng);
			for (long i = 0; i < n; i++)
				quant_q8_prepare_avx512(xc + i * (Kp / 4), xq + i * Kp, Kp);
			j.xc = xc;
			j.rows = quant_q8_rows_avx512;
		}
		else if (isa == QUANT_ISA_AVX2)
			j.rows = quant_q8_rows_avx2;
#endif
	}
	(void)isa;
	/*
	 * Small products are not worth waking the pool (see QUANT_SPLIT_MACS).
	 * Larger ones get one task per thread (of at least 64 rows), each a
	 * contiguous share whose back half a thread that has run out takes
	 * (quant_task): the caller starts at once and takes over half the
	 * share of a worker that is slow to wake, as four fixed tasks per
	 * thread did before at the cost of their claims and cut streams.
	 */
	ntasks = 1;
	if (R * K * (long)n >= QUANT_SPLIT_MACS && pool_threads() > 1) {
		ntasks = pool_threads();
		if (ntasks > R / 64)
			ntasks = R / 64 > 1 ? (int)(R / 64) : 1;
		if (ntasks > QUANT_MAX_SHARES)
			ntasks = QUANT_MAX_SHARES;
	}
	j.shares = shares;
	j.block = R;
	if (ntasks > 1) {
		long rb = (long)(quant_matrix_bytes(w) / (size_t)R);
		j.block = QUANT_BLOCK_BYTES / (rb > 0 ? rb : 1);
		if (j.block < 1)
			j.block = 1;
	}
	for (int t = 0; t < ntasks; t++) {
		long r0, r1;
		pool_range(R, t, ntasks, &r0, &r1);
		atomic_init(&shares[t].span, QUANT_SPAN(r0, r1));
	}
	pool_run_spin(quant_task, &j, ntasks);
}
