/*
 * quant-ref.c: the naive reference of quant_matmul (quant.h), for the tests:
 * one thread, plain loops, sums in double, weights read through
 * quant_matrix_get and q8 inputs through their own quantize/dequantize.
 */
#include "config.h"

#include <stdlib.h>

#include "quant.h"

/* out (n,R) = inp (n,K) @ W^T + bias, in double. */
void
quant_ref_matmul(float *out, const float *inp, const struct quant_matrix *w,
    const float *bias, int n)
{
	int R = w->rows, K = w->cols, Kp = (K + QUANT_GROUP - 1) / QUANT_GROUP * QUANT_GROUP;
	int8_t *q = malloc((size_t)Kp);
	float *s = malloc((size_t)(Kp / QUANT_GROUP) * sizeof *s);
	float *x = malloc((size_t)K * sizeof *x);

	if (q == NULL || s == NULL || x == NULL)
		goto out;
	for (int i = 0; i < n; i++) {
		const float *in = inp + (size_t)i * K;
		if (w->format == QUANT_Q8) {
			quant_q8_quantize(q, s, in, K);
			quant_q8_dequantize(x, q, s, K);
			in = x;
		}
		for (int r = 0; r < R; r++) {
			double d = bias != NULL ? bias[r] : 0.0;
			for (int k = 0; k < K; k++)
				d += (double)quant_matrix_get(w, r, k) * in[k];
			out[(size_t)i * R + r] = (float)d;
		}
	}
out:
	free(q);
	free(s);
	free(x);
}
