/*
 * kernels-ref.c: naive reference kernels (plain loops, no BLAS, sums in double)
 * with the same contracts as their fast counterparts in kernels.c. They exist
 * only to be compared against; they follow the formulas literally, including
 * the mask (every j with mask[i][j] set, not just j <= i).
 */
#include "config.h"

#include <math.h>
#include <stddef.h>

#include "kernels.h"

#define KERNELS_REF_PI 3.14159265358979323846

/* out = inp @ weight^T + bias, one dot product per output. */
void
kernels_ref_matmul_forward(float *out, const float *inp, const float *weight,
    const float *bias, int N, int C, int OC)
{
	for (int n = 0; n < N; n++) {
		for (int o = 0; o < OC; o++) {
			double s = bias != NULL ? bias[o] : 0.0;

			for (int c = 0; c < C; c++)
				s += (double)inp[(size_t)n * C + c] *
				    weight[(size_t)o * C + c];
			out[(size_t)n * OC + o] = (float)s;
		}
	}
}

/* Matmul backward: dinp +=, dweight +=, dbias += (if not NULL). */
void
kernels_ref_matmul_backward(float *dinp, float *dweight, float *dbias,
    const float *dout, const float *inp, const float *weight, int N, int C, int OC)
{
	for (int n = 0; n < N; n++) {
		for (int c = 0; c < C; c++) {
			double s = 0;

			for (int o = 0; o < OC; o++)
				s += (double)dout[(size_t)n * OC + o] *
				    weight[(size_t)o * C + c];
			dinp[(size_t)n * C + c] += (float)s;
		}
	}
	for (int o = 0; o < OC; o++) {
		for (int c = 0; c < C; c++) {
			double s = 0;

			for (int n = 0; n < N; n++)
				s += (double)dout[(size_t)n * OC + o] *
				    inp[(size_t)n * C + c];
			dweight[(size_t)o * C + c] += (float)s;
		}
	}
	if (dbias == NULL)
		return;
	for (int o = 0; o < OC; o++) {
		double s = 0;

		for (int n = 0; n < N; n++)
			s += dout[(size_t)n * OC + o];
		dbias[o] += (float)s;
	}
}

/* Attention forward: scores, masked softmax, weighted sum of values. */
void
kernels_ref_attention_forward(float *out, float *att, const float *qkv,
    const uint8_t *mask, int B, int T, int C, int NH)
{
	int	HS = C / NH, C3 = 3 * C;
	double	scale = 1.0 / sqrt((double)HS);

	for (int b = 0; b < B; b++)
	for (int h = 0; h < NH; h++)
	for (int i = 0; i < T; i++) {
		const float	*q = qkv + ((size_t)b * T + i) * C3 + h * HS;
		const uint8_t	*m = mask + ((size_t)b * T + i) * T;
		float		*a = att + (((size_t)b * NH + h) * T + i) * T;
		double		 mx = -INFINITY, sum = 0;

		for (int j = 0; j < T; j++) {
			const float	*k = qkv + ((size_t)b * T + j) * C3 + C +
			    h * HS;
			double		 s = 0;

			for (int c = 0; c < HS; c++)
				s += (double)q[c] * k[c];
			s *= scale;
			a[j] = (float)s;
			if (m[j] && a[j] > mx)
				mx = a[j];
		}
		for (int j = 0; j < T; j++) {
			double e = m[j] ? exp((double)a[j] - mx) : 0.0;

			a[j] = (float)e;
			sum += e;
		}
		for (int j = 0; j < T; j++)
			a[j] = (float)(a[j] / sum);

		for (int c = 0; c < HS; c++) {
			double s = 0;

			for (int j = 0; j < T; j++)
				s += (double)a[j] *
				    qkv[((size_t)b * T + j) * C3 + 2 * C + h * HS + c];
			out[((size_t)b * T + i) * C + h * HS + c] = (float)s;
		}
	}
}

/* Attention backward without scratch: dP recomputed on the fly, twice. */
void
kernels_ref_attention_backward(float *dqkv, const float *dout,
    const float *qkv, const float *att, const uint8_t *mask, int B, int T, int C,
    int NH)
{
	int	HS = C / NH, C3 = 3 * C;
	double	scale = 1.0 / sqrt((double)HS);

	for (int b = 0; b < B; b++)
	for (int h = 0; h < NH; h++)
	for (int i = 0; i < T; i++) {
		const float	*a = att + (((size_t)b * NH + h) * T + i) * T;
		const float	*d = dout + ((size_t)b * T + i) * C + h * HS;
		const float	*q = qkv + ((size_t)b * T + i) * C3 + h * HS;
		float		*dq = dqkv + ((size_t)b * T + i) * C3 + h * HS;
		double		 rowsum = 0;

		/* rowsum = sum_j P_ij dP_ij with dP_ij = dO_i . V_j. */
		for (int j = 0; j < T; j++) {
			const float	*v = qkv + ((size_t)b * T + j) * C3 +
			    2 * C + h * HS;
			double		 dp = 0;

			for (int c = 0; c < HS; c++)
				dp += (double)d[c] * v[c];
			rowsum += a[j] * dp;
		}
		for (int j = 0; j < T; j++) {
			size_t		 rj = ((size_t)b * T + j) * C3 + h * HS;
			const float	*k = qkv + rj + C, *v = qkv + rj + 2 * C;
			float		*dk = dqkv + rj + C, *dv = dqkv + rj + 2 * C;
			double		 dp = 0, ds;

			if (!mask[((size_t)b * T + i) * T + j])
				continue;
			for (int c = 0; c < HS; c++)
				dp += (double)d[c] * v[c];
			ds = a[j] * (dp - rowsum) * scale;
			for (int c = 0; c < HS; c++) {
				dv[c] += (float)((double)a[j] * d[c]);
				dq[c] += (float)(ds * k[c]);
				dk[c] += (float)(ds * q[c]);
			}
		}
	}
}

/* GELU forward in double: x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
void
kernels_ref_gelu_forward(float *out, const float *inp, int N)
{
	double k = sqrt(2.0 / KERNELS_REF_PI);

	for (int i = 0; i < N; i++) {
		double x = inp[i];

		out[i] = (float)(0.5 * x * (1.0 + tanh(k * (x + 0.044715 * x * x * x))));
	}
}

/* GELU backward in double, product rule with sech^2 = 1/cosh^2. */
void
kernels_ref_gelu_backward(float *dinp, const float *inp, const float *dout, int N)
{
	double k = sqrt(2.0 / KERNELS_REF_PI);

	for (int i = 0; i < N; i++) {
		double x = inp[i];
		double u = k * (x + 0.044715 * x * x * x);
		double du = k * (1.0 + 3.0 * 0.044715 * x * x);
		double ch = cosh(u);
		double g = 0.5 * (1.0 + tanh(u)) + 0.5 * x * du / (ch * ch);

		dinp[i] += (float)(g * dout[i]);
	}
}

/* LayerNorm forward in double; mean and rstd saved. */
void
kernels_ref_layernorm_forward(float *out, float *mean, float *rstd,
    const float *inp, const float *weight, const float *bias, int N, int C)
{
	for (int n = 0; n < N; n++) {
		const float	*x = inp + (size_t)n * C;
		double		 m = 0, v = 0, s;

		for (int c = 0; c < C; c++)
			m += x[c];
		m /= C;
		for (int c = 0; c < C; c++)
			v += (x[c] - m) * (x[c] - m);
		v /= C;
		s = 1.0 / sqrt(v + 1e-5);
		for (int c = 0; c < C; c++)
			out[(size_t)n * C + c] =
			    (float)((x[c] - m) * s * weight[c] + bias[c]);
		mean[n] = (float)m;
		rstd[n] = (float)s;
	}
}

/* LayerNorm backward in double from the saved mean and rstd. */
void
kernels_ref_layernorm_backward(float *dinp, float *dweight, float *dbias,
    const float *dout, const float *inp, const float *weight,
    const float *mean, const float *rstd, int N, int C)
{
	for (int n = 0; n < N; n++) {
		const float	*x = inp + (size_t)n * C;
		const float	*dy = dout + (size_t)n * C;
		double		 m = mean[n], s = rstd[n], a = 0, bb = 0;

		for (int c = 0; c < C; c++) {
			a += (double)weight[c] * dy[c];
			bb += (double)weight[c] * dy[c] * (x[c] - m) * s;
		}
		a /= C;
		bb /= C;
		for (int c = 0; c < C; c++) {
			double nrm = (x[c] - m) * s;

			dbias[c] += dy[c];
			dweight[c] += (float)(nrm * dy[c]);
			dinp[(size_t)n * C + c] +=
			    (float)(((double)weight[c] * dy[c] - a - nrm * bb) * s);
		}
	}
}

/* Softmax cross-entropy in double; read-before-write per index so aliasing is safe. */
double
kernels_ref_crossentropy(float *losses, float *dlogits, const float *logits,
    const int *targets, float dloss, int N, int V, int Vp)
{
	double total = 0;

	for (int n = 0; n < N; n++) {
		const float	*x = logits + (size_t)n * Vp;
		float		*d = dlogits + (size_t)n * Vp;
		int		 t = targets[n];
		double		 mx = -INFINITY, sum = 0, loss;

		if (t < 0) {
			for (int j = 0; j < Vp; j++)
				d[j] = 0.0f;
			losses[n] = 0.0f;
			continue;
		}
		for (int j = 0; j < V; j++)
			if (x[j] > mx)
				mx = x[j];
		for (int j = 0; j < V; j++)
			sum += exp(x[j] - mx);
		loss = -(x[t] - mx - log(sum));
		losses[n] = (float)loss;
		total += loss;
		for (int j = 0; j < Vp; j++) {
			double p = j < V ? exp(x[j] - mx) / sum : 0.0;

			d[j] = (float)(dloss * (p - (j == t ? 1.0 : 0.0)));
		}
	}
	return total;
}
