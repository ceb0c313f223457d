/*
 * simd.h: small x86 vector helpers shared by the engine's kernels
 * (engine/quant.c, engine/attend.c). Include after <immintrin.h>, on x86-64
 * with GCC or clang only.
 */
#ifndef SEQMATCH_SIMD_H
#define SEQMATCH_SIMD_H

/* Sum of the 8 lanes of v. */
__attribute__((target("avx2,fma"))) static inline float
simd_hsum256(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));

	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

#endif
