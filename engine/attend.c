/*
 * attend.c: one new row's attention over one head's cached slots, with a
 * run-time choice of instruction set.
 *
 * How this works
 * --------------
 * Three passes over the slots, each in slot order: the scores q . k_t /
 * sqrt(HS) and their maximum m; e_t = exp(s_t - m) and their sum S; then
 * out = (sum_t e_t v_t) / S. Keys and values are separate arrays, so each
 * byte of the cache is read once either way; an online softmax would only
 * add rescaling.
 *
 * At long contexts this is a large part of a generated token: timers in a
 * one-off build of the decoding code (now engine/gpt-kv.c) put it at 29-32%
 * of a q8 token of the 124M model at 200-400 slots (4.4 us per cached slot
 * per token) with the scalar kernel below (4 lanes wide, a divide and an
 * expf per slot). The vector kernels keep the query and, for the weighted
 * sum, the output in registers: four key rows' dot products share one
 * reduction, a vector exp takes the scores, and even and odd value rows go
 * to separate accumulators. All 144 heads of the 124M model, one thread,
 * cache warm (one-off driver): 300 slots took 1380 us scalar, 683 us AVX2
 * and 374 us AVX-512 (31.9, 15.8 and 8.6 ns per head and slot); 26 slots
 * 81, 34 and 30 us. From memory, two threads, after 256 MB streamed through
 * the cache as the weights are in a token: 300 slots 854-959 us scalar,
 * 596-715 us AVX-512, i.e. 31-37 GB/s of keys and values while the machine
 * read 60 GB/s streaming; software prefetch 4-8 KB ahead did not change
 * that (0.98-1.07x).
 *
 * exp: x = n ln 2 + r with n = round(x / ln 2) and |r| <= ln(2)/2, ln 2 in
 * two parts (Cody and Waite) so that r is exact to float precision; exp(r)
 * by its Taylor polynomial of degree 7, whose truncation error r^8 / 8! <=
 * 5.3e-9 is below half an ulp of 1; then times 2^n (vscalefps on AVX-512; on
 * AVX2 built in the exponent bits, with x clamped at -87 so 2^n stays a
 * normal float: exp(-87) = 1.6e-38 then stands for anything smaller, which
 * no sum of weights >= 1 can tell from 0).
 *
 * Each head's result depends only on its own data and the instruction set,
 * so splitting heads over threads changes no bit.
 *
 * Nothing here prints, allocates, exits or aborts.
 */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#include "simd.h"
#define ATTEND_X86 1
#endif

#include "attend.h"
#include "cpu.h"

/* The first row of a chunk of slots in array a. */
static inline const float *
attend_chunk(const struct attend_cache *c, const float *a, int ci)
{
	return a + (size_t)ci * c->stride;
}

/* Slots in chunk ci of n slots. */
static inline int
attend_chunk_len(const struct attend_cache *c, int ci, int n)
{
	int left = n - ci * c->chunk;

	return left < c->chunk ? left : c->chunk;
}

/* ---- scalar ---- */

typedef float attend_v4 __attribute__((vector_size(16)));

/*
 * Dot product in 16 independent lanes (four 4-wide registers), then their sum
 * in lane order. Kept in registers, not an array of 16: as an array they went
 * through memory on every step, about two fifths of a long context's
 * attention under `perf annotate`.
 */
static float
attend_dot(const float *a, const float *b, int n)
{
	attend_v4 l0 = { 0 }, l1 = { 0 }, l2 = { 0 }, l3 = { 0 }, x, y;
	float d = 0;
	int i = 0;

	for (; i + 16 <= n; i += 16) {
		memcpy(&x, a + i, sizeof x);
		memcpy(&y, b + i, sizeof y);
		l0 += x * y;
		memcpy(&x, a + i + 4, sizeof x);
		memcpy(&y, b + i + 4, sizeof y);
		l1 += x * y;
		memcpy(&x, a + i + 8, sizeof x);
		memcpy(&y, b + i + 8, sizeof y);
		l2 += x * y;
		memcpy(&x, a + i + 12, sizeof x);
		memcpy(&y, b + i + 12, sizeof y);
		l3 += x * y;
	}
	for (int k = 0; k < 4; k++)
		d += l0[k];
	for (int k = 0; k < 4; k++)
		d += l1[k];
	for (int k = 0; k < 4; k++)
		d += l2[k];
	for (int k = 0; k < 4; k++)
		d += l3[k];
	for (; i < n; i++)
		d += a[i] * b[i];
	return d;
}

static void
attend_row_scalar(const struct attend_cache *c, const float *q, int n, float *sc,
    float *out)
{
	int hs = c->hs, nch = (n + c->chunk - 1) / c->chunk;
	float scale = 1.0f / sqrtf((float)hs), maxv = -INFINITY, sum = 0;

	for (int ci = 0, t = 0; ci < nch; ci++) {
		const float *k = attend_chunk(c, c->k, ci);

		for (int i = attend_chunk_len(c, ci, n); i > 0; i--, t++, k += hs) {
			sc[t] = attend_dot(q, k, hs) * scale;
			if (sc[t] > maxv)
				maxv = sc[t];
		}
	}
	for (int t = 0; t < n; t++) {
		sc[t] = expf(sc[t] - maxv);
		sum += sc[t];
	}
	memset(out, 0, (size_t)hs * sizeof(float));
	for (int ci = 0, t = 0; ci < nch; ci++) {
		const float *v = attend_chunk(c, c->v, ci);

		for (int i = attend_chunk_len(c, ci, n); i > 0; i--, t++, v += hs) {
			float w = sc[t] / sum;

			for (int j = 0; j < hs; j++)
				out[j] += w * v[j];
		}
	}
}

#ifdef ATTEND_X86
#define ATTEND_LOG2E 1.44269504088896341f
#define ATTEND_LN2_HI 0.693145751953125f	/* ln 2 to 15 bits: n * it is exact */
#define ATTEND_LN2_LO 1.42860682030941723e-6f
/* 1/k! for k = 7..0, Horner's order. */
#define ATTEND_EXP_POLY(fma, set1, r)                                            \
	fma(fma(fma(fma(fma(fma(fma(set1(1.0f / 5040), r, set1(1.0f / 720)), r,     \
	    set1(1.0f / 120)), r, set1(1.0f / 24)), r, set1(1.0f / 6)), r,          \
	    set1(0.5f)), r, set1(1.0f)), r, set1(1.0f))

/* ---- AVX-512 ---- */

#define ATTEND_512 __attribute__((target("avx512f")))

/* exp of 16 lanes (see the top of the file). A NaN stays a NaN. */
ATTEND_512 static inline __m512
attend_exp512(__m512 x)
{
	__m512 n, r;

	x = _mm512_max_ps(_mm512_set1_ps(-104.0f), x);	/* exp < 2^-150: 0 */
	n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(ATTEND_LOG2E)),
	    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	r = _mm512_fnmadd_ps(n, _mm512_set1_ps(ATTEND_LN2_HI), x);
	r = _mm512_fnmadd_ps(n, _mm512_set1_ps(ATTEND_LN2_LO), r);
	return _mm512_scalef_ps(ATTEND_EXP_POLY(_mm512_fmadd_ps, _mm512_set1_ps, r), n);
}

/*
 * The sums of the 16 lanes of a, b, c and d, in lanes 0-3. Each sum is taken
 * in the same order whatever the other three hold, so a slot's score has the
 * same bits in a group of four and alone (attend_hsum512).
 */
ATTEND_512 static inline __m128
attend_hsum4_512(__m512 a, __m512 b, __m512 c, __m512 d)
{
	/* 128-bit quarters: a0+a2, a1+a3, b0+b2, b1+b3; then c and d the same. */
	__m512 ab = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44),
	    _mm512_shuffle_f32x4(a, b, 0xee));
	__m512 cd = _mm512_add_ps(_mm512_shuffle_f32x4(c, d, 0x44),
	    _mm512_shuffle_f32x4(c, d, 0xee));
	/* One quarter each of a, b, c, d; then the 4 lanes of each quarter. */
	__m512 s = _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, 0x88),
	    _mm512_shuffle_f32x4(ab, cd, 0xdd));

	s = _mm512_add_ps(s, _mm512_permute_ps(s, 0x4e));
	s = _mm512_add_ps(s, _mm512_permute_ps(s, 0xb1));
	return _mm512_castps512_ps128(_mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8,
	    12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), s));
}

ATTEND_512 static inline float
attend_hsum512(__m512 a)
{
	__m512 z = _mm512_setzero_ps();

	return _mm_cvtss_f32(attend_hsum4_512(a, z, z, z));
}

/*
 * sc[t] = q . k_t * scale for the slots of one chunk: four rows at a time
 * (one load of q for four keys, one reduction for four sums), then one.
 */
ATTEND_512 static void
attend_scores512(const float *q, const float *k0, int m, int hs, float scale, float *sc)
{
	int i = 0;

	for (; i + 4 <= m; i += 4) {
		const float *k = k0 + (size_t)i * hs;
		__m512 x = _mm512_loadu_ps(q);
		__m512 a0 = _mm512_mul_ps(x, _mm512_loadu_ps(k));
		__m512 a1 = _mm512_mul_ps(x, _mm512_loadu_ps(k + hs));
		__m512 a2 = _mm512_mul_ps(x, _mm512_loadu_ps(k + 2 * hs));
		__m512 a3 = _mm512_mul_ps(x, _mm512_loadu_ps(k + 3 * hs));

		for (int j = 16; j < hs; j += 16) {
			x = _mm512_loadu_ps(q + j);
			a0 = _mm512_fmadd_ps(x, _mm512_loadu_ps(k + j), a0);
			a1 = _mm512_fmadd_ps(x, _mm512_loadu_ps(k + hs + j), a1);
			a2 = _mm512_fmadd_ps(x, _mm512_loadu_ps(k + 2 * hs + j), a2);
			a3 = _mm512_fmadd_ps(x, _mm512_loadu_ps(k + 3 * hs + j), a3);
		}
		_mm_storeu_ps(sc + i, _mm_mul_ps(attend_hsum4_512(a0, a1, a2, a3),
		    _mm_set1_ps(scale)));
	}
	for (; i < m; i++) {
		const float *k = k0 + (size_t)i * hs;
		__m512 a = _mm512_mul_ps(_mm512_loadu_ps(q), _mm512_loadu_ps(k));

		for (int j = 16; j < hs; j += 16)
			a = _mm512_fmadd_ps(_mm512_loadu_ps(q + j), _mm512_loadu_ps(k + j), a);
		sc[i] = attend_hsum512(a) * scale;
	}
}

/*
 * out[c0..c0+16 nb) = sum_t e_t v_t[c0..] * inv, nb (1-4, a constant after
 * inlining) registers per slot; even and odd slots in separate accumulators,
 * so that a multiply-add waits on the one two slots before, not one.
 */
__attribute__((target("avx512f"), always_inline)) static inline void
attend_wsum512(const struct attend_cache *c, const float *e, int n, float inv, int c0,
    int nb, float *out)
{
	int hs = c->hs, nch = (n + c->chunk - 1) / c->chunk;
	__m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
	__m512 b0 = a0, b1 = a0, b2 = a0, b3 = a0, w, x;

	for (int ci = 0, t = 0; ci < nch; ci++) {
		const float *v0 = attend_chunk(c, c->v, ci) + c0;
		int m = attend_chunk_len(c, ci, n), i = 0;

		for (; i + 2 <= m; i += 2, t += 2) {
			const float *v = v0 + (size_t)i * hs, *u = v + hs;

			w = _mm512_set1_ps(e[t]);
			x = _mm512_set1_ps(e[t + 1]);
			a0 = _mm512_fmadd_ps(w, _mm512_loadu_ps(v), a0);
			b0 = _mm512_fmadd_ps(x, _mm512_loadu_ps(u), b0);
			if (nb > 1) {
				a1 = _mm512_fmadd_ps(w, _mm512_loadu_ps(v + 16), a1);
				b1 = _mm512_fmadd_ps(x, _mm512_loadu_ps(u + 16), b1);
			}
			if (nb > 2) {
				a2 = _mm512_fmadd_ps(w, _mm512_loadu_ps(v + 32), a2);
				b2 = _mm512_fmadd_ps(x, _mm512_loadu_ps(u + 32), b2);
			}
			if (nb > 3) {
				a3 = _mm512_fmadd_ps(w, _mm512_loadu_ps(v + 48), a3);
				b3 = _mm512_fmadd_ps(x, _mm512_loadu_ps(u + 48), b3);
			}
		}
		if (i < m) {
			const float *v = v0 + (size_t)i * hs;

			w = _mm512_set1_ps(e[t++]);
			a0 = _mm512_fmadd_ps(w, _mm512_loadu_ps(v), a0);
			if (nb > 1)
				a1 = _mm512_fmadd_ps(w, _mm512_loadu_ps(v + 16), a1);
			if (nb > 2)
				a2 = _mm512_fmadd_ps(w, _mm512_loadu_ps(v + 32), a2);
			if (nb > 3)
				a3 = _mm512_fmadd_ps(w, _mm512_loadu_ps(v + 48), a3);
		}
	}
	w = _mm512_set1_ps(inv);
	_mm512_storeu_ps(out + c0, _mm512_mul_ps(_mm512_add_ps(a0, b0), w));
	if (nb > 1)
		_mm512_storeu_ps(out + c0 + 16, _mm512_mul_ps(_mm512_add_ps(a1, b1), w));
	if (nb > 2)
		_mm512_storeu_ps(out + c0 + 32, _mm512_mul_ps(_mm512_add_ps(a2, b2), w));
	if (nb > 3)
		_mm512_storeu_ps(out + c0 + 48, _mm512_mul_ps(_mm512_add_ps(a3, b3), w));
}

/* hs a multiple of 16. */
ATTEND_512 static void
attend_row_512(const struct attend_cache *c, const float *q, int n, float *sc, float *out)
{
	int hs = c->hs, nch = (n + c->chunk - 1) / c->chunk, c0;
	float scale = 1.0f / sqrtf((float)hs), maxv, inv;
	__m512 mx = _mm512_set1_ps(-INFINITY), sum = _mm512_setzero_ps();

	for (int ci = 0; ci < nch; ci++)
		attend_scores512(q, attend_chunk(c, c->k, ci), attend_chunk_len(c, ci, n), hs,
		    scale, sc + (size_t)ci * c->chunk);
	for (int t = 0; t < n; t += 16) {
		__mmask16 m = n - t >= 16 ? 0xffff : (__mmask16)((1u << (n - t)) - 1);

		mx = _mm512_mask_max_ps(mx, m, _mm512_maskz_loadu_ps(m, sc + t), mx);
	}
	maxv = _mm512_reduce_max_ps(mx);
	for (int t = 0; t < n; t += 16) {
		__mmask16 m = n - t >= 16 ? 0xffff : (__mmask16)((1u << (n - t)) - 1);
		__m512 e = attend_exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, sc + t),
		    _mm512_set1_ps(maxv)));

		_mm512_mask_storeu_ps(sc + t, m, e);
		sum = _mm512_mask_add_ps(sum, m, sum, e);
	}
	inv = 1.0f / _mm512_reduce_add_ps(sum);
	for (c0 = 0; c0 + 64 <= hs; c0 += 64)
		attend_wsum512(c, sc, n, inv, c0, 4, out);
	for (; c0 < hs; c0 += 16)
		attend_wsum512(c, sc, n, inv, c0, 1, out);
}

/* ---- AVX2 ---- */

#define ATTEND_256 __attribute__((target("avx2,fma")))

/* exp of 8 lanes (see the top of the file). A NaN stays a NaN. */
ATTEND_256 static inline __m256
attend_exp256(__m256 x)
{
	__m256 n, r;
	__m256i p2;

	x = _mm256_max_ps(_mm256_set1_ps(-87.0f), x);
	n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(ATTEND_LOG2E)),
	    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	r = _mm256_fnmadd_ps(n, _mm256_set1_ps(ATTEND_LN2_HI), x);
	r = _mm256_fnmadd_ps(n, _mm256_set1_ps(ATTEND_LN2_LO), r);
	p2 = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n),
	    _mm256_set1_epi32(127)), 23);
	return _mm256_mul_ps(ATTEND_EXP_POLY(_mm256_fmadd_ps, _mm256_set1_ps, r),
	    _mm256_castsi256_ps(p2));
}

/* Lanes 0..left-1 of 8 set. */
ATTEND_256 static inline __m256i
attend_mask256(int left)
{
	return _mm256_cmpgt_epi32(_mm256_set1_epi32(left),
	    _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

__attribute__((target("avx2,fma"), always_inline)) static inline void
attend_wsum256(const struct attend_cache *c, const float *e, int n, float inv, int c0,
    int nb, float *out)
{
	int hs = c->hs, nch = (n + c->chunk - 1) / c->chunk;
	__m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, w;

	for (int ci = 0, t = 0; ci < nch; ci++) {
		const float *v0 = attend_chunk(c, c->v, ci) + c0;
		int m = attend_chunk_len(c, ci, n);

		for (int i = 0; i < m; i++, t++) {
			const float *v = v0 + (size_t)i * hs;

			w = _mm256_set1_ps(e[t]);
			a0 = _mm256_fmadd_ps(w, _mm256_loadu_ps(v), a0);
			if (nb > 1)
				a1 = _mm256_fmadd_ps(w, _mm256_loadu_ps(v + 8), a1);
			if (nb > 2)
				a2 = _mm256_fmadd_ps(w, _mm256_loadu_ps(v + 16), a2);
			if (nb > 3)
				a3 = _mm256_fmadd_ps(w, _mm256_loadu_ps(v + 24), a3);
		}
	}
	w = _mm256_set1_ps(inv);
	_mm256_storeu_ps(out + c0, _mm256_mul_ps(a0, w));
	if (nb > 1)
		_mm256_storeu_ps(out + c0 + 8, _mm256_mul_ps(a1, w));
	if (nb > 2)
		_mm256_storeu_ps(out + c0 + 16, _mm256_mul_ps(a2, w));
	if (nb > 3)
		_mm256_storeu_ps(out + c0 + 24, _mm256_mul_ps(a3, w));
}

/* hs a multiple of 8. */
ATTEND_256 static void
attend_row_256(const struct attend_cache *c, const float *q, int n, float *sc, float *out)
{
	int hs = c->hs, nch = (n + c->chunk - 1) / c->chunk, c0;
	float scale = 1.0f / sqrtf((float)hs), maxv = -INFINITY, inv;
	__m256 sum = _mm256_setzero_ps();

	for (int ci = 0, t = 0; ci < nch; ci++) {
		const float *k0 = attend_chunk(c, c->k, ci);
		int m = attend_chunk_len(c, ci, n);

		for (int i = 0; i < m; i++, t++) {
			const float *k = k0 + (size_t)i * hs;
			__m256 a = _mm256_mul_ps(_mm256_loadu_ps(q), _mm256_loadu_ps(k));

			for (int j = 8; j < hs; j += 8)
				a = _mm256_fmadd_ps(_mm256_loadu_ps(q + j), _mm256_loadu_ps(k + j), a);
			sc[t] = simd_hsum256(a) * scale;
			if (sc[t] > maxv)
				maxv = sc[t];
		}
	}
	for (int t = 0; t < n; t += 8) {
		__m256i m = attend_mask256(n - t);
		__m256 e = attend_exp256(_mm256_sub_ps(_mm256_maskload_ps(sc + t, m),
		    _mm256_set1_ps(maxv)));

		e = _mm256_and_ps(e, _mm256_castsi256_ps(m));
		_mm256_maskstore_ps(sc + t, m, e);
		sum = _mm256_add_ps(sum, e);
	}
	inv = 1.0f / simd_hsum256(sum);
	for (c0 = 0; c0 + 32 <= hs; c0 += 32)
		attend_wsum256(c, sc, n, inv, c0, 4, out);
	for (; c0 < hs; c0 += 8)
		attend_wsum256(c, sc, n, inv, c0, 1, out);
}
#endif /* ATTEND_X86 */

/* ---- choice ---- */

static int attend_limit = ATTEND_ISA_AVX512;
static pthread_once_t attend_once = PTHREAD_ONCE_INIT;
static int attend_have_avx2, attend_have_512;

static void
attend_detect(void)
{
	attend_have_avx2 = cpu_has_avx2_fma();
	attend_have_512 = cpu_has_avx512();
}

void
attend_set_isa_limit(enum attend_isa limit)
{
	attend_limit = (int)limit;
}

enum attend_isa
attend_isa(int hs)
{
	pthread_once(&attend_once, attend_detect);
#ifdef ATTEND_X86
	if (attend_limit >= ATTEND_ISA_AVX512 && attend_have_512 && hs % 16 == 0)
		return ATTEND_ISA_AVX512;
	if (attend_limit >= ATTEND_ISA_AVX2 && attend_have_avx2 && hs % 8 == 0)
		return ATTEND_ISA_AVX2;
#endif
	(void)hs;
	return ATTEND_ISA_SCALAR;
}

void
attend_row(const struct attend_cache *c, const float *q, int n, float *scores, float *out)
{
	switch (attend_isa(c->hs)) {
#ifdef ATTEND_X86
	case ATTEND_ISA_AVX512:
		attend_row_512(c, q, n, scores, out);
		return;
	case ATTEND_ISA_AVX2:
		attend_row_256(c, q, n, scores, out);
		return;
#endif
	default:
		attend_row_scalar(c, q, n, scores, out);
	}
}

/* q . k_t / sqrt(hs) in double. */
static double
attend_ref_score(const struct attend_cache *c, const float *q, int t)
{
	const float *k = attend_chunk(c, c->k, t / c->chunk) + (size_t)(t % c->chunk) * c->hs;
	double d = 0;

	for (int j = 0; j < c->hs; j++)
		d += (double)q[j] * k[j];
	return d / sqrt((double)c->hs);
}

void
attend_ref(const struct attend_cache *c, const float *q, int n, float *out)
{
	double maxv = -INFINITY, sum = 0;

	for (int t = 0; t < n; t++)
		maxv = fmax(maxv, attend_ref_score(c, q, t));
	for (int t = 0; t < n; t++)
		sum += exp(attend_ref_score(c, q, t) - maxv);
	for (int j = 0; j < c->hs; j++) {
		double acc = 0;

		for (int t = 0; t < n; t++) {
			const float *v = attend_chunk(c, c->v, t / c->chunk) +
			    (size_t)(t % c->chunk) * c->hs;

			acc += exp(attend_ref_score(c, q, t) - maxv) * v[j];
		}
		out[j] = (float)(acc / sum);
	}
}
