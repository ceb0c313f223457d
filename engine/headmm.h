/*
 * headmm.h: one attention head's products on the calling thread, over the
 * lower triangle (headmm.c). A (T,T) is zero above its diagonal; X, Y, C have
 * D columns and the leading dimensions given.
 */
#ifndef SEQMATCH_HEADMM_H
#define SEQMATCH_HEADMM_H

/* Largest head size these kernels take (nt_lower's buffer: D x 64 floats). */
#define HEADMM_MAX_D 256

/* Whether heads of size D use these kernels here (AVX-512, D % 16 == 0). */
int headmm_usable(int D);
/* Off (0) makes headmm_usable say no: tests compare against the BLAS path. */
void headmm_set_enabled(int on);

/* C (T,T) = alpha X Y^T for j <= i; blocks wholly above the diagonal untouched. */
void headmm_nt_lower(float *c, int ldc, const float *x, int ldx, const float *y,
    int ldy, int T, int D, float alpha);
/* C (T,D) = alpha A X + beta C. */
void headmm_nn_lower(float *c, int ldc, const float *a, int lda, const float *x,
    int ldx, int T, int D, float alpha, float beta);
/* C (T,D) = alpha A^T X + beta C. */
void headmm_tn_upper(float *c, int ldc, const float *a, int lda, const float *x,
    int ldx, int T, int D, float alpha, float beta);

#endif
