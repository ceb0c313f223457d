/*
 * headmm.c: the matrix products of one attention head, on one thread, over
 * the lower triangle only.
 *
 * Attention's products (kernels.c, "How this works") are T x T x HS: for the
 * 124M model at T = 256, 8.4 MFLOP each, 6912 of them per training step.
 * Handed one by one to a BLAS with two threads they ran at 65-88 GFLOP/s,
 * under half its rate on the linear layers (one-off driver timing every
 * cblas_sgemm of a step, 2-vCPU AMD EPYC): too small to split well, and each
 * computed both triangles although the mask keeps only j <= i. Here a pool
 * thread takes whole heads and these kernels skip the blocks that only hold
 * masked entries, about half the work. One layer's attention (B = 8, T = 256,
 * 12 heads of 64) took 16.5 ms forward and 11.7 ms backward against 31.8 and
 * 42.9 ms through BLAS (tests/bench/attention-bench, which alternates the two
 * in one process).
 *
 * With A (T,T) zero above its diagonal (P or dS in attention), X and Y (T,D):
 *
 *	headmm_nt_lower  C = alpha X Y^T       for j <= i (S, dP)
 *	headmm_nn_lower  C = alpha A X + beta C     (out_h = P V, dQ = dS K)
 *	headmm_tn_upper  C = alpha A^T X + beta C   (dV = P^T dO, dK = dS^T Q)
 *
 * Blocks of 4 rows by 64 columns (16 AVX-512 sums). nt_lower first copies 64
 * rows of Y transposed into a buffer on the stack (D x 64 floats, at most
 * 64 KB), so every inner step is a broadcast of one element of X against
 * contiguous rows. Each output element is one sum in a fixed order, whatever
 * the number of threads: the same numbers on every run.
 *
 * Only for AVX-512 and D a multiple of 16 up to HEADMM_MAX_D; otherwise
 * headmm_usable says no and kernels.c keeps its BLAS path.
 */
#include "config.h"

#include <pthread.h>
#include <stddef.h>

#include "cpu.h"
#include "headmm.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HEADMM_X86 1
#endif

/* Rows and columns of one block. */
#define HEADMM_R 4
#define HEADMM_W 64

static int headmm_enabled = 1;
static int headmm_have;
static pthread_once_t headmm_once = PTHREAD_ONCE_INIT;

/* Read the CPU flag once. */
static void
headmm_detect(void)
{
	headmm_have = cpu_has_avx512();
}

/* Turn the kernels off (tests force the BLAS path with it) or on. */
void
headmm_set_enabled(int on)
{
	headmm_enabled = on;
}

/* Whether heads of size D go through these kernels on this CPU. */
int
headmm_usable(int D)
{
	pthread_once(&headmm_once, headmm_detect);
	return headmm_enabled && headmm_have && D > 0 && D % 16 == 0 &&
	    D <= HEADMM_MAX_D;
}

#ifdef HEADMM_X86
#define HEADMM_TARGET __attribute__((target("avx512f")))

/* Lanes of vector v of a block row whose columns are below n. */
HEADMM_TARGET static inline __mmask16
headmm_mask(int v, int n)
{
	int left = n - 16 * v;

	return left >= 16 ? 0xffff : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
}

/*
 * Sums acc[r][v] += a[r * lda + k * sa] x[k * ldx + 16 v], k in [k0, k1):
 * rows of a are r (nr of them), steps along k are sa apart in a; x's rows
 * are ldx apart. The common inner loop of all three products.
 */
#define HEADMM_LOOP(NR, NV, acc, a, lda, sa, x, ldx, k0, k1) do {		\
	for (long k_ = (k0); k_ < (k1); k_++) {					\
		const float *xr_ = (x) + k_ * (ldx);				\
		__m512 xv_[NV];							\
		_Pragma("GCC unroll 4")						\
		for (int v_ = 0; v_ < (NV); v_++)				\
			xv_[v_] = _mm512_loadu_ps(xr_ + 16 * v_);		\
		_Pragma("GCC unroll 4")						\
		for (int r_ = 0; r_ < (NR); r_++) {				\
			__m512 b_ = _mm512_set1_ps((a)[r_ * (lda) + k_ * (sa)]);\
			_Pragma("GCC unroll 4")					\
			for (int v_ = 0; v_ < (NV); v_++)			\
				acc[r_][v_] = _mm512_fmadd_ps(b_, xv_[v_],	\
				    acc[r_][v_]);				\
		}								\
	}									\
} while (0)

/*
 * One block of nr rows (c's rows ldc apart) by nv vectors of 16 columns:
 * c = alpha sum_k a[r][k] x[k] (+ beta c), k in [k0, k1).
 */
HEADMM_TARGET static inline void
headmm_block(float *c, long ldc, const float *a, long lda, long sa, const float *x,
    long ldx, long k0, long k1, int nr, int nv, float alpha, float beta)
{
	__m512 acc[HEADMM_R][4];

	for (int r = 0; r < HEADMM_R; r++)
		for (int v = 0; v < 4; v++)
			acc[r][v] = _mm512_setzero_ps();
	if (nr == HEADMM_R && nv == 4)
		HEADMM_LOOP(HEADMM_R, 4, acc, a, lda, sa, x, ldx, k0, k1);
	else if (nr == HEADMM_R && nv == 1)
		HEADMM_LOOP(HEADMM_R, 1, acc, a, lda, sa, x, ldx, k0, k1);
	else if (nv == 4) {
		for (int r = 0; r < nr; r++) {
			__m512 (*ar)[4] = &acc[r];
			HEADMM_LOOP(1, 4, ar, a + r * lda, lda, sa, x, ldx, k0, k1);
		}
	} else {
		for (int r = 0; r < nr; r++) {
			__m512 (*ar)[4] = &acc[r];
			HEADMM_LOOP(1, 1, ar, a + r * lda, lda, sa, x, ldx, k0, k1);
		}
	}
	for (int r = 0; r < nr; r++)
		for (int v = 0; v < nv; v++) {
			float *cp = c + r * ldc + 16 * v;
			__m512 s = _mm512_mul_ps(_mm512_set1_ps(alpha), acc[r][v]);
			if (beta != 0.0f)
				s = _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_loadu_ps(cp), s);
			_mm512_storeu_ps(cp, s);
		}
}

/* The D columns of rows [i0, i0 + nr) in blocks of 64, then of 16. */
HEADMM_TARGET static void
headmm_rows(float *c, long ldc, const float *a, long lda, long sa, const float *x,
    long ldx, long k0, long k1, int nr, int D, float alpha, float beta)
{
	int d = 0;

	for (; d + 64 <= D; d += 64)
		headmm_block(c + d, ldc, a, lda, sa, x + d, ldx, k0, k1, nr, 4, alpha, beta);
	for (; d < D; d += 16)
		headmm_block(c + d, ldc, a, lda, sa, x + d, ldx, k0, k1, nr, 1, alpha, beta);
}

/* C (T,D) = alpha A X + beta C, A (T,T) lower triangular: k <= i only. */
HEADMM_TARGET void
headmm_nn_lower(float *c, int ldc, const float *a, int lda, const float *x, int ldx,
    int T, int D, float alpha, float beta)
{
	for (int i = 0; i < T; i += HEADMM_R) {
		int nr = T - i < HEADMM_R ? T - i : HEADMM_R;
		headmm_rows(c + (long)i * ldc, ldc, a + (long)i * lda, lda, 1, x, ldx,
		    0, i + nr, nr, D, alpha, beta);
	}
}

/* C (T,D) = alpha A^T X + beta C, A (T,T) lower triangular: k >= j only. */
HEADMM_TARGET void
headmm_tn_upper(float *c, int ldc, const float *a, int lda, const float *x, int ldx,
    int T, int D, float alpha, float beta)
{
	/* Row j of A^T is column j of A: a[j + k lda], the rows of a block 1 apart. */
	for (int j = 0; j < T; j += HEADMM_R) {
		int nr = T - j < HEADMM_R ? T - j : HEADMM_R;
		headmm_rows(c + (long)j * ldc, ldc, a + j, 1, lda, x, ldx, j, T, nr, D,
		    alpha, beta);
	}
}

/*
 * dst (16,16) = src (16,16) transposed, rows lds and ldd apart: pairs of
 * floats, then of pairs, interleaved within each 128-bit lane, then the lanes
 * gathered across vectors. nt_lower's copy of Y had been a loop of scalar
 * loads and stores, about a fifth of that kernel's time. One layer's
 * attention forward at the 124M step's shape (the best of 200 calls, a
 * one-off driver; five pairs of the two builds in turn, 2-vCPU Intel Xeon):
 * 6.45-6.89 ms before, 5.95-6.47 after, faster in each pair.
 */
HEADMM_TARGET static inline void
headmm_transpose16(float *dst, long ldd, const float *src, long lds)
{
	__m512 r[16], a[16], b[16];

	for (int k = 0; k < 16; k++)
		r[k] = _mm512_loadu_ps(src + k * lds);
	/* a[2k], a[2k+1]: rows 2k and 2k+1 interleaved by floats. */
	for (int k = 0; k < 8; k++) {
		a[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
		a[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
	}
	/* b[4k + c], lane L: rows 4k..4k+3 at column 4L + c. */
	for (int k = 0; k < 4; k++) {
		__m512d p0 = _mm512_castps_pd(a[4 * k]), p1 = _mm512_castps_pd(a[4 * k + 1]);
		__m512d p2 = _mm512_castps_pd(a[4 * k + 2]), p3 = _mm512_castps_pd(a[4 * k + 3]);

		b[4 * k] = _mm512_castpd_ps(_mm512_unpacklo_pd(p0, p2));
		b[4 * k + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(p0, p2));
		b[4 * k + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(p1, p3));
		b[4 * k + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(p1, p3));
	}
	/* Column 4L + c of src: lane L of b[c], b[4 + c], b[8 + c], b[12 + c]. */
	for (int c = 0; c < 4; c++) {
		__m512 u = _mm512_shuffle_f32x4(b[c], b[4 + c], 0x88);
		__m512 v = _mm512_shuffle_f32x4(b[c], b[4 + c], 0xdd);
		__m512 w = _mm512_shuffle_f32x4(b[8 + c], b[12 + c], 0x88);
		__m512 x = _mm512_shuffle_f32x4(b[8 + c], b[12 + c], 0xdd);

		_mm512_storeu_ps(dst + c * ldd, _mm512_shuffle_f32x4(u, w, 0x88));
		_mm512_storeu_ps(dst + (4 + c) * ldd, _mm512_shuffle_f32x4(v, x, 0x88));
		_mm512_storeu_ps(dst + (8 + c) * ldd, _mm512_shuffle_f32x4(u, w, 0xdd));
		_mm512_storeu_ps(dst + (12 + c) * ldd, _mm512_shuffle_f32x4(v, x, 0xdd));
	}
}

/*
 * C (T,T) = alpha X Y^T wherever j <= i (X, Y (T,D)); blocks wholly above
 * the diagonal are not written, the rest of a block's row is.
 */
HEADMM_TARGET void
headmm_nt_lower(float *c, int ldc, const float *x, int ldx, const float *y, int ldy,
    int T, int D, float alpha)
{
	const __m512 al = _mm512_set1_ps(alpha);
	float yt[HEADMM_MAX_D * HEADMM_W] __attribute__((aligned(64)));

	for (int j0 = 0; j0 < T; j0 += HEADMM_W) {
		int nj = T - j0 < HEADMM_W ? T - j0 : HEADMM_W;

		/* yt (D, 64) = rows j0.. of Y transposed, zeros past T. */
		if (nj == HEADMM_W)
			for (int d = 0; d < D; d += 16)
				for (int j = 0; j < HEADMM_W; j += 16)
					headmm_transpose16(yt + d * HEADMM_W + j, HEADMM_W,
					    y + (long)(j0 + j) * ldy + d, ldy);
		else
			for (int d = 0; d < D; d++)
				for (int j = 0; j < HEADMM_W; j++)
					yt[d * HEADMM_W + j] =
					    j < nj ? y[(long)(j0 + j) * ldy + d] : 0.0f;
		for (int i = j0 / HEADMM_R * HEADMM_R; i < T; i += HEADMM_R) {
			int nr = T - i < HEADMM_R ? T - i : HEADMM_R;
			__m512 acc[HEADMM_R][4];

			for (int r = 0; r < HEADMM_R; r++)
				for (int v = 0; v < 4; v++)
					acc[r][v] = _mm512_setzero_ps();
			if (nr == HEADMM_R)
				HEADMM_LOOP(HEADMM_R, 4, acc, x + (long)i * ldx, ldx, 1, yt,
				    HEADMM_W, 0, D);
			else
				for (int r = 0; r < nr; r++) {
					__m512 (*ar)[4] = &acc[r];
					HEADMM_LOOP(1, 4, ar, x + (long)(i + r) * ldx, ldx, 1,
					    yt, HEADMM_W, 0, D);
				}
			for (int r = 0; r < nr; r++)
				for (int v = 0; v < 4; v++)
					_mm512_mask_storeu_ps(c + (long)(i + r) * ldc + j0 + 16 * v,
					    headmm_mask(v, nj), _mm512_mul_ps(al, acc[r][v]));
		}
	}
}
#else
/* Never called: headmm_usable is 0 without x86 (cpu_has_avx512). */
void
headmm_nn_lower(float *c, int ldc, const float *a, int lda, const float *x, int ldx,
    int T, int D, float alpha, float beta)
{
	(void)c; (void)ldc; (void)a; (void)lda; (void)x; (void)ldx;
	(void)T; (void)D; (void)alpha; (void)beta;
}

void
headmm_tn_upper(float *c, int ldc, const float *a, int lda, const float *x, int ldx,
    int T, int D, float alpha, float beta)
{
	(void)c; (void)ldc; (void)a; (void)lda; (void)x; (void)ldx;
	(void)T; (void)D; (void)alpha; (void)beta;
}

void
headmm_nt_lower(float *c, int ldc, const float *x, int ldx, const float *y, int ldy,
    int T, int D, float alpha)
{
	(void)c; (void)ldc; (void)x; (void)ldx; (void)y; (void)ldy;
	(void)T; (void)D; (void)alpha;
}
#endif
