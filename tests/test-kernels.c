/*
 * test-kernels.c: TAP tests for engine/kernels.c. Fast kernels against the
 * naive references on random inputs, central-difference gradient checks of
 * every backward kernel (fast and reference), the tree mask builder and the
 * cross-entropy contract. Sizes are tiny so the whole run takes well under a
 * second with one BLAS thread.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "cpu.h"
#include "headmm.h"
#include "kernels.h"
#include "pool.h"
#include "rng.h"
#include "sgemm.h"
#include "tap.h"

#define TEST_RTOL	1e-4	/* fast vs reference, relative to the data's scale */
#define TEST_FD_EPS	1e-2f	/* central-difference step */
#define TEST_FD_ABS	1e-3	/* a gradient entry passes if abs error < this */
#define TEST_FD_REL	1e-2	/* ... or relative error < this */

static struct rng test_rng;

/* Zeroed allocation that cannot fail (a test may exit). */
static void *
test_alloc(size_t n)
{
	void *p = calloc(1, n == 0 ? 1 : n);

	if (p == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(99);
	}
	return p;
}

/* A zeroed float array. */
static float *
test_floats(size_t n)
{
	return test_alloc(n * sizeof(float));
}

/* Fill with N(0, sd^2) values. */
static void
test_fill(float *a, size_t n, float sd)
{
	for (size_t i = 0; i < n; i++)
		a[i] = sd * rng_normal(&test_rng);
}

/* A copy of a float array. */
static float *
test_dup(const float *a, size_t n)
{
	float *p = test_floats(n);

	memcpy(p, a, n * sizeof *p);
	return p;
}

/* a -= b: turns an accumulated gradient back into the increment. */
static void
test_sub(float *a, const float *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		a[i] -= b[i];
}

/* Largest absolute value. */
static double
test_maxabs(const float *a, size_t n)
{
	double m = 0;

	for (size_t i = 0; i < n; i++)
		if (fabs(a[i]) > m)
			m = fabs(a[i]);
	return m;
}

/* sum(a * r) in double: the scalar loss whose gradient wrt a is r. */
static double
test_dot(const float *a, const float *r, size_t n)
{
	double s = 0;

	for (size_t i = 0; i < n; i++)
		s += (double)a[i] * r[i];
	return s;
}

/* Compare got against want with TEST_RTOL relative to max(1, max|want|). */
static int
test_close(const char *what, const float *got, const float *want, size_t n)
{
	double d = tap_maxdiff(got, want, n), s = test_maxabs(want, n);
	double tol = TEST_RTOL * (s > 1 ? s : 1);

	tap_diag("%s: max diff %.3g (scale %.3g, tol %.3g)", what, d, s, tol);
	return tap_ok(d <= tol, "%s", what);
}

/* A random parent array: half the time the previous input, else any earlier one or -1. */
static void
test_random_parents(int *parent, int B, int T)
{
	for (int b = 0; b < B; b++)
		for (int i = 0; i < T; i++) {
			int p;

			if (i > 0 && rng_below(&test_rng, 2) == 0)
				p = i - 1;
			else
				p = (int)rng_below(&test_rng, (uint64_t)i + 1) - 1;
			parent[b * T + i] = p;
		}
}

/* Gradient-check state: every kernel's arrays; one loss function per kernel. */
struct test_fd {
	int		 B, T, C, OC, NH, N, V, Vp;
	const int	*ids, *pos, *targets;
	const uint8_t	*mask;
	float		*a, *b, *c;	/* the inputs being perturbed */
	float		*out, *aux1, *aux2;
	const float	*R;		/* dout */
	float		 dloss;
};

/* Central differences of loss wrt every element of param into num. */
static void
test_fd_grad(double *num, float *param, size_t n,
    double (*loss)(struct test_fd *), struct test_fd *fd)
{
	for (size_t i = 0; i < n; i++) {
		float	v = param[i], vp = v + TEST_FD_EPS, vm = v - TEST_FD_EPS;
		double	lp, lm;

		param[i] = vp;
		lp = loss(fd);
		param[i] = vm;
		lm = loss(fd);
		param[i] = v;
		/* Divide by the step actually taken after float rounding. */
		num[i] = (lp - lm) / ((double)vp - (double)vm);
	}
}

/* Compare an analytic gradient with a numerical one; report the worst entries. */
static int
test_fd_compare(const char *what, const float *ana, const double *num, size_t n)
{
	double	worst_abs = 0, worst_rel = 0;
	size_t	bad = 0;

	for (size_t i = 0; i < n; i++) {
		double	ad = fabs((double)ana[i] - num[i]);
		double	den = fabs((double)ana[i]) + fabs(num[i]);
		double	rel = den > 0 ? ad / den : 0;

		if (!(ad < TEST_FD_ABS || rel < TEST_FD_REL))
			bad++;
		if (ad > worst_abs || ad != ad)
			worst_abs = ad;
		if (ad >= TEST_FD_ABS && rel > worst_rel)
			worst_rel = rel;
	}
	tap_diag("%s: worst abs err %.3g, worst rel err (abs >= %g) %.3g, "
	    "%zu/%zu bad", what, worst_abs, TEST_FD_ABS, worst_rel, bad, n);
	return tap_ok(bad == 0, "gradcheck %s", what);
}

/* ---------------------------------------------------------------------- */
/* Loss functions for the gradient checks: L = sum(out * R). */

/* Encoder: a = wte, b = wpe. */
static double
test_loss_encoder(struct test_fd *fd)
{
	kernels_encoder_forward(fd->out, fd->ids, fd->pos, fd->a, fd->b,
	    fd->B, fd->T, fd->C);
	return test_dot(fd->out, fd->R, (size_t)fd->N * fd->C);
}

/* LayerNorm: a = inp, b = weight, c = bias. */
static double
test_loss_layernorm(struct test_fd *fd)
{
	kernels_ref_layernorm_forward(fd->out, fd->aux1, fd->aux2, fd->a, fd->b,
	    fd->c, fd->N, fd->C);
	return test_dot(fd->out, fd->R, (size_t)fd->N * fd->C);
}

/* Matmul: a = inp, b = weight, c = bias. */
static double
test_loss_matmul(struct test_fd *fd)
{
	kernels_ref_matmul_forward(fd->out, fd->a, fd->b, fd->c, fd->N, fd->C,
	    fd->OC);
	return test_dot(fd->out, fd->R, (size_t)fd->N * fd->OC);
}

/* Attention: a = qkv; aux1 = att. */
static double
test_loss_attention(struct test_fd *fd)
{
	kernels_ref_attention_forward(fd->out, fd->aux1, fd->a, fd->mask,
	    fd->B, fd->T, fd->C, fd->NH);
	return test_dot(fd->out, fd->R, (size_t)fd->N * fd->C);
}

/* GELU: a = inp. */
static double
test_loss_gelu(struct test_fd *fd)
{
	kernels_ref_gelu_forward(fd->out, fd->a, fd->N);
	return test_dot(fd->out, fd->R, fd->N);
}

/* Residual: a, b. */
static double
test_loss_residual(struct test_fd *fd)
{
	kernels_residual_forward(fd->out, fd->a, fd->b, fd->N);
	return test_dot(fd->out, fd->R, fd->N);
}

/* Cross-entropy: L = dloss * sum(losses); a = logits, aux1 = dlogits, out = losses. */
static double
test_loss_crossentropy(struct test_fd *fd)
{
	return fd->dloss * kernels_ref_crossentropy(fd->out, fd->aux1, fd->a,
	    fd->targets, fd->dloss, fd->N, fd->V, fd->Vp);
}

/* ---------------------------------------------------------------------- */
/* 1. Fast kernels against the naive references. */

/* Matmul forward and backward, with and without bias. */
static void
test_ref_matmul(int N, int C, int OC)
{
	float	*inp = test_floats((size_t)N * C), *w = test_floats((size_t)OC * C);
	float	*bias = test_floats(OC), *dout = test_floats((size_t)N * OC);
	float	*o1 = test_floats((size_t)N * OC), *o2 = test_floats((size_t)N * OC);
	float	*g0i = test_floats((size_t)N * C), *g0w = test_floats((size_t)OC * C);
	float	*g0b = test_floats(OC);
	float	*di1, *dw1, *db1, *di2, *dw2, *db2;
	char	 name[128];

	test_fill(inp, (size_t)N * C, 1);
	test_fill(w, (size_t)OC * C, 0.5f);
	test_fill(bias, OC, 1);
	test_fill(dout, (size_t)N * OC, 1);
	test_fill(g0i, (size_t)N * C, 1);
	test_fill(g0w, (size_t)OC * C, 1);
	test_fill(g0b, OC, 1);

	kernels_matmul_forward(o1, inp, w, bias, N, C, OC);
	kernels_ref_matmul_forward(o2, inp, w, bias, N, C, OC);
	snprintf(name, sizeof name, "matmul forward N=%d C=%d OC=%d", N, C, OC);
	test_close(name, o1, o2, (size_t)N * OC);

	memset(o1, 0xff, (size_t)N * OC * sizeof *o1);	/* NaN: must be overwritten */
	kernels_matmul_forward(o1, inp, w, NULL, N, C, OC);
	kernels_ref_matmul_forward(o2, inp, w, NULL, N, C, OC);
	snprintf(name, sizeof name, "matmul forward no bias N=%d C=%d OC=%d",
	    N, C, OC);
	test_close(name, o1, o2, (size_t)N * OC);

	/* Backward on top of nonzero gradients: checks += too. */
	di1 = test_dup(g0i, (size_t)N * C);
	dw1 = test_dup(g0w, (size_t)OC * C);
	db1 = test_dup(g0b, OC);
	di2 = test_dup(g0i, (size_t)N * C);
	dw2 = test_dup(g0w, (size_t)OC * C);
	db2 = test_dup(g0b, OC);
	kernels_matmul_backward(di1, dw1, db1, dout, inp, w, N, C, OC);
	kernels_ref_matmul_backward(di2, dw2, db2, dout, inp, w, N, C, OC);
	snprintf(name, sizeof name, "matmul backward dinp N=%d C=%d OC=%d",
	    N, C, OC);
	test_close(name, di1, di2, (size_t)N * C);
	snprintf(name, sizeof name, "matmul backward dweight N=%d C=%d OC=%d",
	    N, C, OC);
	test_close(name, dw1, dw2, (size_t)OC * C);
	snprintf(name, sizeof name, "matmul backward dbias N=%d C=%d OC=%d",
	    N, C, OC);
	test_close(name, db1, db2, OC);

	/* dbias NULL is allowed and leaves the rest identical. */
	memcpy(di2, g0i, (size_t)N * C * sizeof *di2);
	memcpy(dw2, g0w, (size_t)OC * C * sizeof *dw2);
	kernels_matmul_backward(di2, dw2, NULL, dout, inp, w, N, C, OC);
	tap_ok(tap_maxdiff(di1, di2, (size_t)N * C) == 0 &&
	    tap_maxdiff(dw1, dw2, (size_t)OC * C) == 0,
	    "matmul backward with dbias NULL");

	/* _into overwrites dinp (NaN before): the same as adding into zeros. */
	memset(di1, 0, (size_t)N * C * sizeof *di1);
	memset(di2, 0xff, (size_t)N * C * sizeof *di2);
	memcpy(dw2, dw1, (size_t)OC * C * sizeof *dw2);
	memcpy(db2, db1, (size_t)OC * sizeof *db2);
	kernels_matmul_backward(di1, dw1, db1, dout, inp, w, N, C, OC);
	kernels_matmul_backward_into(di2, dw2, db2, dout, inp, w, N, C, OC);
	tap_ok(tap_maxdiff(di1, di2, (size_t)N * C) == 0 &&
	    tap_maxdiff(dw1, dw2, (size_t)OC * C) == 0 &&
	    tap_maxdiff(db1, db2, OC) == 0,
	    "matmul backward_into N=%d C=%d OC=%d equals += into zeros", N, C, OC);

	free(inp); free(w); free(bias); free(dout); free(o1); free(o2);
	free(g0i); free(g0w); free(g0b);
	free(di1); free(dw1); free(db1); free(di2); free(dw2); free(db2);
}

/* Attention forward and backward on a causal chain or a random tree. */
static void
test_ref_attention(int B, int T, int C, int NH, int tree)
{
	size_t	 nqkv = (size_t)B * T * 3 * C, nout = (size_t)B * T * C;
	size_t	 natt = (size_t)B * NH * T * T;
	int	*parent = test_alloc((size_t)B * T * sizeof *parent);
	uint8_t	*mask = test_alloc((size_t)B * T * T);
	float	*qkv = test_floats(nqkv), *dout = test_floats(nout);
	float	*o1 = test_floats(nout), *o2 = test_floats(nout);
	float	*a1 = test_floats(natt), *a2 = test_floats(natt);
	float	*g0 = test_floats(nqkv), *d1, *d2;
	float	*scratch = test_floats((size_t)T * T);
	double	 worst = 0;
	int	 bad = 0;
	char	 name[128];
	const char *kind = tree ? "tree" : "causal";

	test_random_parents(parent, B, T);
	if (kernels_mask_build(mask, tree ? parent : NULL, B, T) != 0)
		tap_diag("mask_build failed");
	test_fill(qkv, nqkv, 1);
	test_fill(dout, nout, 1);
	test_fill(g0, nqkv, 1);
	memset(o1, 0xff, nout * sizeof *o1);	/* NaN: must be overwritten */
	memset(a1, 0xff, natt * sizeof *a1);

	kernels_attention_forward(o1, a1, qkv, mask, B, T, C, NH);
	kernels_ref_attention_forward(o2, a2, qkv, mask, B, T, C, NH);
	snprintf(name, sizeof name, "attention forward out %s B=%d T=%d C=%d NH=%d",
	    kind, B, T, C, NH);
	test_close(name, o1, o2, nout);
	snprintf(name, sizeof name, "attention forward att %s B=%d T=%d C=%d NH=%d",
	    kind, B, T, C, NH);
	test_close(name, a1, a2, natt);

	/* Rows of att sum to 1 and are exactly 0 where masked. */
	for (int b = 0; b < B; b++)
	for (int h = 0; h < NH; h++)
	for (int i = 0; i < T; i++) {
		const float	*r = a1 + (((size_t)b * NH + h) * T + i) * T;
		const uint8_t	*m = mask + ((size_t)b * T + i) * T;
		double		 s = 0;

		for (int j = 0; j < T; j++) {
			if (!m[j] && r[j] != 0)
				bad++;
			s += r[j];
		}
		if (fabs(s - 1) > worst || s != s)
			worst = fabs(s - 1);
	}
	tap_diag("attention %s: worst |rowsum - 1| %.3g, %d masked nonzero",
	    kind, worst, bad);
	tap_ok(worst < 1e-5 && bad == 0, "attention %s att rows are masked "
	    "probabilities", kind);

	d1 = test_dup(g0, nqkv);
	d2 = test_dup(g0, nqkv);
	kernels_attention_backward(d1, scratch, 1, dout, qkv, a1, mask, B, T, C, NH);
	kernels_ref_attention_backward(d2, dout, qkv, a2, mask, B, T, C, NH);
	snprintf(name, sizeof name, "attention backward %s B=%d T=%d C=%d NH=%d",
	    kind, B, T, C, NH);
	test_close(name, d1, d2, nqkv);

	/* _into overwrites dqkv (NaN before): the same as adding into zeros. */
	memset(d1, 0, nqkv * sizeof *d1);
	memset(d2, 0xff, nqkv * sizeof *d2);
	kernels_attention_backward(d1, scratch, 1, dout, qkv, a1, mask, B, T, C, NH);
	kernels_attention_backward_into(d2, scratch, 1, dout, qkv, a1, mask, B, T, C, NH);
	tap_ok(tap_maxdiff(d1, d2, nqkv) == 0,
	    "attention backward_into %s equals += into zeros", kind);

	free(parent); free(mask); free(qkv); free(dout); free(o1); free(o2);
	free(a1); free(a2); free(g0); free(d1); free(d2); free(scratch);
}

/*
 * The head products of headmm.c against the BLAS path, and against
 * themselves on one and on two threads: there each element is one sum in a
 * fixed order, so the two must agree exactly.
 */
static void
test_headmm_paths(int B, int T, int C, int NH)
{
	size_t	 nqkv = (size_t)B * T * 3 * C, nout = (size_t)B * T * C;
	size_t	 natt = (size_t)B * NH * T * T;
	int	*parent = test_alloc((size_t)B * T * sizeof *parent);
	uint8_t	*mask = test_alloc((size_t)B * T * T);
	float	*qkv = test_floats(nqkv), *dout = test_floats(nout);
	float	*scratch = test_floats(2 * (size_t)T * T);
	float	*o[3], *a[3], *d[3];
	int	 threads = pool_threads(), HS = C / NH;
	char	 name[128];

	test_random_parents(parent, B, T);
	if (kernels_mask_build(mask, parent, B, T) != 0)
		tap_diag("mask_build failed");
	test_fill(qkv, nqkv, 1);
	test_fill(dout, nout, 1);
	/* 0: headmm on two threads, 1: on one, 2: BLAS. */
	for (int k = 0; k < 3; k++) {
		o[k] = test_floats(nout);
		a[k] = test_floats(natt);
		d[k] = test_floats(nqkv);
		memset(o[k], 0xff, nout * sizeof *o[k]);	/* NaN: must be overwritten */
		memset(a[k], 0xff, natt * sizeof *a[k]);
		memset(d[k], 0xff, nqkv * sizeof *d[k]);
		memset(scratch, 0xff, 2 * (size_t)T * T * sizeof *scratch);
		pool_set_threads(k == 0 ? 2 : 1);
		headmm_set_enabled(k < 2);
		kernels_attention_forward(o[k], a[k], qkv, mask, B, T, C, NH);
		kernels_attention_backward_into(d[k], scratch, 2, dout, qkv, a[k], mask,
		    B, T, C, NH);
	}
	headmm_set_enabled(1);
	pool_set_threads(threads);
	tap_diag("head size %d: headmm %s", HS, headmm_usable(HS) ? "used" : "not used "
	    "(the three runs all take the BLAS path)");
	snprintf(name, sizeof name, "headmm B=%d T=%d C=%d NH=%d: 1 and 2 threads "
	    "give the same bits", B, T, C, NH);
	tap_ok(tap_maxdiff(o[0], o[1], nout) == 0 && tap_maxdiff(a[0], a[1], natt) == 0 &&
	    tap_maxdiff(d[0], d[1], nqkv) == 0, "%s", name);
	snprintf(name, sizeof name, "headmm B=%d T=%d C=%d NH=%d: out as by BLAS",
	    B, T, C, NH);
	test_close(name, o[0], o[2], nout);
	snprintf(name, sizeof name, "headmm B=%d T=%d C=%d NH=%d: att as by BLAS",
	    B, T, C, NH);
	test_close(name, a[0], a[2], natt);
	snprintf(name, sizeof name, "headmm B=%d T=%d C=%d NH=%d: dqkv as by BLAS",
	    B, T, C, NH);
	test_close(name, d[0], d[2], nqkv);
	for (int k = 0; k < 3; k++) {
		free(o[k]);
		free(a[k]);
		free(d[k]);
	}
	free(parent); free(mask); free(qkv); free(dout); free(scratch);
}

/*
 * sgemm_pool (engine/sgemm.c) in the program's setting, OpenBLAS on one thread
 * and the pool on `threads`, against one cblas_sgemm call over the whole
 * product: the bands of rows are the same sums, so the bits must agree. And
 * against the product summed in double, as test_close allows.
 */
static void
test_sgemm_pool(int ta, int tb, int M, int N, int K, float beta, int threads)
{
	int	 blas = cpu_threads(), pool = pool_threads();
	int	 lda = ta ? M : K, ldb = tb ? K : N;
	float	*a = test_floats((size_t)M * K), *b = test_floats((size_t)K * N);
	float	*c0 = test_floats((size_t)M * N), *c1, *want = test_floats((size_t)M * N);
	char	 name[128];

	test_fill(a, (size_t)M * K, 1);
	test_fill(b, (size_t)K * N, 1);
	test_fill(c0, (size_t)M * N, 1);
	c1 = test_dup(c0, (size_t)M * N);
	for (int i = 0; i < M; i++)
		for (int j = 0; j < N; j++) {
			double sum = 0;

			for (int k = 0; k < K; k++)
				sum += (double)(ta ? a[(size_t)k * lda + i] :
				    a[(size_t)i * lda + k]) * (tb ? b[(size_t)j * ldb + k] :
				    b[(size_t)k * ldb + j]);
			want[(size_t)i * N + j] = (float)(0.5 * sum +
			    beta * c0[(size_t)i * N + j]);
		}
	cpu_set_threads(1);
	pool_set_threads(threads);
	cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
	    tb ? CblasTrans : CblasNoTrans, M, N, K, 0.5f, a, lda, b, ldb, beta, c0, N);
	sgemm_pool(ta, tb, M, N, K, 0.5f, a, lda, b, ldb, beta, c1, N);
	pool_set_threads(pool);
	cpu_set_threads(blas);
	snprintf(name, sizeof name, "sgemm_pool %c%c M=%d N=%d K=%d beta=%g on %d threads",
	    ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, beta, threads);
	tap_ok(memcmp(c0, c1, (size_t)M * N * sizeof *c0) == 0,
	    "%s: the bits of one cblas_sgemm", name);
	test_close(name, c1, want, (size_t)M * N);
	free(a); free(b); free(c0); free(c1); free(want);
}

/*
 * sgemm_pool_bias on `threads`: against one cblas_sgemm over rows preloaded
 * with the bias (the bits) and against the product summed in double; and
 * with no bias, against sgemm_pool with beta 0.
 */
static void
test_sgemm_bias(int M, int N, int K, int threads)
{
	int	 blas = cpu_threads(), pool = pool_threads();
	float	*a = test_floats((size_t)M * K), *b = test_floats((size_t)N * K);
	float	*bias = test_floats(N), *c0 = test_floats((size_t)M * N);
	float	*c1 = test_floats((size_t)M * N), *want = test_floats((size_t)M * N);
	char	 name[128];
	int	 same;

	test_fill(a, (size_t)M * K, 1);
	test_fill(b, (size_t)N * K, 1);
	test_fill(bias, N, 1);
	for (int i = 0; i < M; i++)
		for (int j = 0; j < N; j++) {
			double sum = bias[j];

			for (int k = 0; k < K; k++)
				sum += (double)a[(size_t)i * K + k] * b[(size_t)j * K + k];
			want[(size_t)i * N + j] = (float)sum;
			c0[(size_t)i * N + j] = bias[j];
		}
	memset(c1, 0xff, (size_t)M * N * sizeof *c1);	/* NaN: must be overwritten */
	cpu_set_threads(1);
	pool_set_threads(threads);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, a, K, b, K,
	    1.0f, c0, N);
	sgemm_pool_bias(M, N, K, a, K, b, K, bias, c1, N);
	snprintf(name, sizeof name, "sgemm_pool_bias M=%d N=%d K=%d on %d threads", M, N,
	    K, threads);
	tap_ok(memcmp(c0, c1, (size_t)M * N * sizeof *c0) == 0,
	    "%s: the bits of one cblas_sgemm over the bias", name);
	test_close(name, c1, want, (size_t)M * N);
	memset(c1, 0xff, (size_t)M * N * sizeof *c1);
	sgemm_pool_bias(M, N, K, a, K, b, K, NULL, c1, N);
	memset(c0, 0xff, (size_t)M * N * sizeof *c0);
	sgemm_pool(0, 1, M, N, K, 1.0f, a, K, b, K, 0.0f, c0, N);
	same = memcmp(c0, c1, (size_t)M * N * sizeof *c0) == 0;
	pool_set_threads(pool);
	cpu_set_threads(blas);
	tap_ok(same, "%s, no bias: the product alone", name);
	free(a); free(b); free(bias); free(c0); free(c1); free(want);
}

/*
 * A linear layer's forward and backward products in the program's setting
 * (OpenBLAS on one thread, sgemm_pool sharing them out) on two threads and on
 * one: the same bits, whatever --threads. (OpenBLAS's own two threads give
 * other bits: this core's split there is not on sgemm.c's bands.)
 */
static void
test_matmul_threads(int N, int C, int OC)
{
	int	 blas = cpu_threads(), pool = pool_threads();
	float	*inp = test_floats((size_t)N * C), *w = test_floats((size_t)OC * C);
	float	*bias = test_floats(OC), *dout = test_floats((size_t)N * OC);
	float	*out[2], *dinp[2], *dw[2], *db[2];

	test_fill(inp, (size_t)N * C, 1);
	test_fill(w, (size_t)OC * C, 0.1f);
	test_fill(bias, OC, 1);
	test_fill(dout, (size_t)N * OC, 1);
	for (int k = 0; k < 2; k++) {
		out[k] = test_floats((size_t)N * OC);
		dinp[k] = test_floats((size_t)N * C);
		dw[k] = test_floats((size_t)OC * C);
		db[k] = test_floats(OC);
		cpu_set_threads(1);
		pool_set_threads(k == 0 ? 2 : 1);
		kernels_matmul_forward(out[k], inp, w, bias, N, C, OC);
		kernels_matmul_backward(dinp[k], dw[k], db[k], dout, inp, w, N, C, OC);
	}
	pool_set_threads(pool);
	cpu_set_threads(blas);
	tap_ok(memcmp(out[0], out[1], (size_t)N * OC * sizeof(float)) == 0 &&
	    memcmp(dinp[0], dinp[1], (size_t)N * C * sizeof(float)) == 0 &&
	    memcmp(dw[0], dw[1], (size_t)OC * C * sizeof(float)) == 0 &&
	    memcmp(db[0], db[1], (size_t)OC * sizeof(float)) == 0,
	    "matmul N=%d C=%d OC=%d: forward and backward give the same bits on a "
	    "pool of two threads and of one (BLAS on one thread)", N, C, OC);
	for (int k = 0; k < 2; k++) {
		free(out[k]); free(dinp[k]); free(dw[k]); free(db[k]);
	}
	free(inp); free(w); free(bias); free(dout);
}

/* Which head sizes headmm.c takes: multiples of 16 up to its buffer, with AVX-512. */
static void
test_headmm_usable(void)
{
	int avx512 = cpu_has_avx512();

	tap_ok(headmm_usable(64) == avx512 && headmm_usable(16) == avx512 &&
	    headmm_usable(HEADMM_MAX_D) == avx512,
	    "headmm takes head sizes 16, 64 and %d exactly when the CPU has AVX-512 (%s)",
	    HEADMM_MAX_D, avx512 ? "it has" : "it has not");
	tap_ok(!headmm_usable(8) && !headmm_usable(24) && !headmm_usable(HEADMM_MAX_D + 16) &&
	    !headmm_usable(0), "headmm refuses head sizes 8, 24, %d and 0",
	    HEADMM_MAX_D + 16);
	headmm_set_enabled(0);
	tap_ok(!headmm_usable(64), "headmm switched off refuses every head size");
	headmm_set_enabled(1);
}

/* LayerNorm forward (out, mean, rstd) and backward. */
static void
test_ref_layernorm(int N, int C)
{
	size_t	 n = (size_t)N * C;
	float	*inp = test_floats(n), *w = test_floats(C), *bias = test_floats(C);
	float	*dout = test_floats(n), *o1 = test_floats(n), *o2 = test_floats(n);
	float	*m1 = test_floats(N), *m2 = test_floats(N);
	float	*r1 = test_floats(N), *r2 = test_floats(N);
	float	*g0i = test_floats(n), *g0w = test_floats(C), *g0b = test_floats(C);
	float	*di1, *dw1, *db1, *di2, *dw2, *db2;

	test_fill(inp, n, 2);
	for (size_t i = 0; i < n; i++)
		inp[i] += 3;	/* a nonzero mean */
	test_fill(w, C, 1);
	test_fill(bias, C, 1);
	test_fill(dout, n, 1);
	test_fill(g0i, n, 1);
	test_fill(g0w, C, 1);
	test_fill(g0b, C, 1);

	kernels_layernorm_forward(o1, m1, r1, inp, w, bias, N, C);
	kernels_ref_layernorm_forward(o2, m2, r2, inp, w, bias, N, C);
	test_close("layernorm forward out", o1, o2, n);
	test_close("layernorm forward mean", m1, m2, N);
	test_close("layernorm forward rstd", r1, r2, N);

	di1 = test_dup(g0i, n); dw1 = test_dup(g0w, C); db1 = test_dup(g0b, C);
	di2 = test_dup(g0i, n); dw2 = test_dup(g0w, C); db2 = test_dup(g0b, C);
	kernels_layernorm_backward(di1, dw1, db1, dout, inp, w, m1, r1, N, C);
	kernels_ref_layernorm_backward(di2, dw2, db2, dout, inp, w, m2, r2, N, C);
	test_close("layernorm backward dinp", di1, di2, n);
	test_close("layernorm backward dweight", dw1, dw2, C);
	test_close("layernorm backward dbias", db1, db2, C);

	free(inp); free(w); free(bias); free(dout); free(o1); free(o2);
	free(m1); free(m2); free(r1); free(r2); free(g0i); free(g0w); free(g0b);
	free(di1); free(dw1); free(db1); free(di2); free(dw2); free(db2);
}

/* The residual add, on one thread or split across the pool: exactly a + b. */
static void
test_residual(int N)
{
	float	*a = test_floats(N), *b = test_floats(N), *o = test_floats(N);
	int	 bad = 0;

	test_fill(a, N, 3);
	test_fill(b, N, 1);
	kernels_residual_forward(o, a, b, N);
	for (int i = 0; i < N; i++)
		bad += o[i] != a[i] + b[i];
	tap_ok(bad == 0, "residual forward of %d: %d elements not a + b", N, bad);
	free(a); free(b); free(o);
}

/* GELU forward and backward over a wide range of inputs. */
static void
test_ref_gelu(int N)
{
	float	*inp = test_floats(N), *dout = test_floats(N);
	float	*o1 = test_floats(N), *o2 = test_floats(N);
	float	*g0 = test_floats(N), *d1, *d2;

	test_fill(inp, N, 3);
	test_fill(dout, N, 1);
	test_fill(g0, N, 1);
	kernels_gelu_forward(o1, inp, N);
	kernels_ref_gelu_forward(o2, inp, N);
	test_close("gelu forward", o1, o2, N);
	d1 = test_dup(g0, N);
	d2 = test_dup(g0, N);
	kernels_gelu_backward(d1, inp, dout, N);
	kernels_ref_gelu_backward(d2, inp, dout, N);
	test_close("gelu backward", d1, d2, N);
	memset(d1, 0, N * sizeof *d1);
	memset(d2, 0xff, N * sizeof *d2);
	kernels_gelu_backward(d1, inp, dout, N);
	kernels_gelu_backward_into(d2, inp, dout, N);
	tap_ok(tap_maxdiff(d1, d2, N) == 0, "gelu backward_into equals += into zeros");
	free(inp); free(dout); free(o1); free(o2); free(g0); free(d1); free(d2);
}

/* Cross-entropy: losses, dlogits and the returned sum. */
static void
test_ref_crossentropy(int N, int V, int Vp)
{
	size_t	 n = (size_t)N * Vp;
	int	*targets = test_alloc(N * sizeof *targets);
	float	*logits = test_floats(n), *d1 = test_floats(n), *d2 = test_floats(n);
	float	*l1 = test_floats(N), *l2 = test_floats(N);
	double	 s1, s2;

	test_fill(logits, n, 3);
	for (int i = 0; i < N; i++)
		targets[i] = i % 5 == 3 ? -1 : (int)rng_below(&test_rng, V);
	s1 = kernels_crossentropy(l1, d1, logits, targets, 0.25f, N, V, Vp);
	s2 = kernels_ref_crossentropy(l2, d2, logits, targets, 0.25f, N, V, Vp);
	test_close("crossentropy losses", l1, l2, N);
	test_close("crossentropy dlogits", d1, d2, n);
	tap_diag("crossentropy sum: %.9g vs %.9g", s1, s2);
	tap_ok(fabs(s1 - s2) <= TEST_RTOL * fabs(s2), "crossentropy sum");
	free(targets); free(logits); free(d1); free(d2); free(l1); free(l2);
}

/* ---------------------------------------------------------------------- */
/* 2. Finite-difference gradient checks, fast and reference backward. */

/* Encoder: repeated tokens and positions exercise the scatter-add. */
static void
test_fd_encoder(void)
{
	struct test_fd	 fd = { .B = 2, .T = 7, .C = 16 };
	int		 V = 5, maxT = 9;
	size_t		 n;
	int		*ids, *pos;
	float		*wte, *wpe, *R, *g0e, *g0p, *de, *dp;
	double		*num;

	fd.N = fd.B * fd.T;
	n = (size_t)fd.N * fd.C;
	ids = test_alloc(fd.N * sizeof *ids);
	pos = test_alloc(fd.N * sizeof *pos);
	for (int i = 0; i < fd.N; i++) {
		ids[i] = (int)rng_below(&test_rng, V);
		pos[i] = (int)rng_below(&test_rng, maxT);
	}
	wte = test_floats((size_t)V * fd.C);
	wpe = test_floats((size_t)maxT * fd.C);
	R = test_floats(n);
	g0e = test_floats((size_t)V * fd.C);
	g0p = test_floats((size_t)maxT * fd.C);
	test_fill(wte, (size_t)V * fd.C, 1);
	test_fill(wpe, (size_t)maxT * fd.C, 1);
	test_fill(R, n, 1);
	test_fill(g0e, (size_t)V * fd.C, 1);
	test_fill(g0p, (size_t)maxT * fd.C, 1);
	fd.ids = ids;
	fd.pos = pos;
	fd.a = wte;
	fd.b = wpe;
	fd.R = R;
	fd.out = test_floats(n);

	de = test_dup(g0e, (size_t)V * fd.C);
	dp = test_dup(g0p, (size_t)maxT * fd.C);
	kernels_encoder_backward(de, dp, R, ids, pos, fd.B, fd.T, fd.C);
	test_sub(de, g0e, (size_t)V * fd.C);
	test_sub(dp, g0p, (size_t)maxT * fd.C);

	num = test_alloc((size_t)maxT * fd.C * sizeof *num);
	test_fd_grad(num, wte, (size_t)V * fd.C, test_loss_encoder, &fd);
	test_fd_compare("encoder dwte", de, num, (size_t)V * fd.C);
	test_fd_grad(num, wpe, (size_t)maxT * fd.C, test_loss_encoder, &fd);
	test_fd_compare("encoder dwpe", dp, num, (size_t)maxT * fd.C);

	free(ids); free(pos); free(wte); free(wpe); free(R); free(g0e);
	free(g0p); free(de); free(dp); free(num); free(fd.out);
}

/* LayerNorm: inputs, weight, bias. */
static void
test_fd_layernorm(void)
{
	struct test_fd	 fd = { .N = 6, .C = 16 };
	size_t		 n = (size_t)fd.N * fd.C;
	float		*inp = test_floats(n), *w = test_floats(fd.C);
	float		*bias = test_floats(fd.C), *R = test_floats(n);
	float		*mean = test_floats(fd.N), *rstd = test_floats(fd.N);
	float		*g0i = test_floats(n), *g0w = test_floats(fd.C);
	float		*g0b = test_floats(fd.C);
	double		*num = test_alloc(n * sizeof *num);

	test_fill(inp, n, 1);
	test_fill(w, fd.C, 1);
	test_fill(bias, fd.C, 1);
	test_fill(R, n, 1);
	test_fill(g0i, n, 1);
	test_fill(g0w, fd.C, 1);
	test_fill(g0b, fd.C, 1);
	fd.a = inp;
	fd.b = w;
	fd.c = bias;
	fd.R = R;
	fd.out = test_floats(n);
	fd.aux1 = test_floats(fd.N);
	fd.aux2 = test_floats(fd.N);

	for (int ref = 0; ref < 2; ref++) {
		float		*di = test_dup(g0i, n), *dw = test_dup(g0w, fd.C);
		float		*db = test_dup(g0b, fd.C);
		const char	*k = ref ? "ref" : "fast";
		char		 name[64];

		if (ref) {
			kernels_ref_layernorm_forward(fd.out, mean, rstd, inp, w,
			    bias, fd.N, fd.C);
			kernels_ref_layernorm_backward(di, dw, db, R, inp, w, mean,
			    rstd, fd.N, fd.C);
		} else {
			kernels_layernorm_forward(fd.out, mean, rstd, inp, w, bias,
			    fd.N, fd.C);
			kernels_layernorm_backward(di, dw, db, R, inp, w, mean,
			    rstd, fd.N, fd.C);
		}
		test_sub(di, g0i, n);
		test_sub(dw, g0w, fd.C);
		test_sub(db, g0b, fd.C);

		test_fd_grad(num, inp, n, test_loss_layernorm, &fd);
		snprintf(name, sizeof name, "layernorm dinp (%s)", k);
		test_fd_compare(name, di, num, n);
		test_fd_grad(num, w, fd.C, test_loss_layernorm, &fd);
		snprintf(name, sizeof name, "layernorm dweight (%s)", k);
		test_fd_compare(name, dw, num, fd.C);
		test_fd_grad(num, bias, fd.C, test_loss_layernorm, &fd);
		snprintf(name, sizeof name, "layernorm dbias (%s)", k);
		test_fd_compare(name, db, num, fd.C);
		free(di); free(dw); free(db);
	}
	free(inp); free(w); free(bias); free(R); free(mean); free(rstd);
	free(g0i); free(g0w); free(g0b); free(num);
	free(fd.out); free(fd.aux1); free(fd.aux2);
}

/* Matmul: inputs, weight, bias. */
static void
test_fd_matmul(void)
{
	struct test_fd	 fd = { .N = 6, .C = 12, .OC = 10 };
	size_t		 ni = (size_t)fd.N * fd.C, nw = (size_t)fd.OC * fd.C;
	size_t		 no = (size_t)fd.N * fd.OC;
	float		*inp = test_floats(ni), *w = test_floats(nw);
	float		*bias = test_floats(fd.OC), *R = test_floats(no);
	float		*g0i = test_floats(ni), *g0w = test_floats(nw);
	float		*g0b = test_floats(fd.OC);
	double		*num = test_alloc(nw * sizeof *num);

	test_fill(inp, ni, 1);
	test_fill(w, nw, 1);
	test_fill(bias, fd.OC, 1);
	test_fill(R, no, 1);
	test_fill(g0i, ni, 1);
	test_fill(g0w, nw, 1);
	test_fill(g0b, fd.OC, 1);
	fd.a = inp;
	fd.b = w;
	fd.c = bias;
	fd.R = R;
	fd.out = test_floats(no);

	for (int ref = 0; ref < 2; ref++) {
		float		*di = test_dup(g0i, ni), *dw = test_dup(g0w, nw);
		float		*db = test_dup(g0b, fd.OC);
		const char	*k = ref ? "ref" : "fast";
		char		 name[64];

		if (ref)
			kernels_ref_matmul_backward(di, dw, db, R, inp, w, fd.N,
			    fd.C, fd.OC);
		else
			kernels_matmul_backward(di, dw, db, R, inp, w, fd.N,
			    fd.C, fd.OC);
		test_sub(di, g0i, ni);
		test_sub(dw, g0w, nw);
		test_sub(db, g0b, fd.OC);

		test_fd_grad(num, inp, ni, test_loss_matmul, &fd);
		snprintf(name, sizeof name, "matmul dinp (%s)", k);
		test_fd_compare(name, di, num, ni);
		test_fd_grad(num, w, nw, test_loss_matmul, &fd);
		snprintf(name, sizeof name, "matmul dweight (%s)", k);
		test_fd_compare(name, dw, num, nw);
		test_fd_grad(num, bias, fd.OC, test_loss_matmul, &fd);
		snprintf(name, sizeof name, "matmul dbias (%s)", k);
		test_fd_compare(name, db, num, fd.OC);
		free(di); free(dw); free(db);
	}
	free(inp); free(w); free(bias); free(R); free(g0i); free(g0w);
	free(g0b); free(num); free(fd.out);
}

/* Attention with a random tree mask: every entry of qkv. */
static void
test_fd_attention(void)
{
	struct test_fd	 fd = { .B = 2, .T = 9, .C = 16, .NH = 2 };
	size_t		 nqkv, nout, natt;
	int		*parent;
	uint8_t		*mask;
	float		*qkv, *R, *g0, *att, *scratch;
	double		*num;

	fd.N = fd.B * fd.T;
	nqkv = (size_t)fd.N * 3 * fd.C;
	nout = (size_t)fd.N * fd.C;
	natt = (size_t)fd.B * fd.NH * fd.T * fd.T;
	parent = test_alloc((size_t)fd.N * sizeof *parent);
	mask = test_alloc((size_t)fd.B * fd.T * fd.T);
	test_random_parents(parent, fd.B, fd.T);
	if (kernels_mask_build(mask, parent, fd.B, fd.T) != 0)
		tap_diag("mask_build failed");
	qkv = test_floats(nqkv);
	R = test_floats(nout);
	g0 = test_floats(nqkv);
	att = test_floats(natt);
	scratch = test_floats((size_t)fd.T * fd.T);
	num = test_alloc(nqkv * sizeof *num);
	test_fill(qkv, nqkv, 1);
	test_fill(R, nout, 1);
	test_fill(g0, nqkv, 1);
	fd.mask = mask;
	fd.a = qkv;
	fd.R = R;
	fd.out = test_floats(nout);
	fd.aux1 = test_floats(natt);

	test_fd_grad(num, qkv, nqkv, test_loss_attention, &fd);
	for (int ref = 0; ref < 2; ref++) {
		float	*d = test_dup(g0, nqkv);

		if (ref) {
			kernels_ref_attention_forward(fd.out, att, qkv, mask,
			    fd.B, fd.T, fd.C, fd.NH);
			kernels_ref_attention_backward(d, R, qkv, att, mask,
			    fd.B, fd.T, fd.C, fd.NH);
		} else {
			kernels_attention_forward(fd.out, att, qkv, mask,
			    fd.B, fd.T, fd.C, fd.NH);
			kernels_attention_backward(d, scratch, 1, R, qkv, att, mask,
			    fd.B, fd.T, fd.C, fd.NH);
		}
		test_sub(d, g0, nqkv);
		test_fd_compare(ref ? "attention tree dqkv (ref)" :
		    "attention tree dqkv (fast)", d, num, nqkv);
		free(d);
	}
	free(parent); free(mask); free(qkv); free(R); free(g0); free(att);
	free(scratch); free(num); free(fd.out); free(fd.aux1);
}

/* GELU over a wide range of inputs. */
static void
test_fd_gelu(void)
{
	struct test_fd	 fd = { .N = 64 };
	float		*inp = test_floats(fd.N), *R = test_floats(fd.N);
	float		*g0 = test_floats(fd.N);
	double		*num = test_alloc(fd.N * sizeof *num);

	test_fill(inp, fd.N, 2.5f);
	test_fill(R, fd.N, 1);
	test_fill(g0, fd.N, 1);
	fd.a = inp;
	fd.R = R;
	fd.out = test_floats(fd.N);
	test_fd_grad(num, inp, fd.N, test_loss_gelu, &fd);
	for (int ref = 0; ref < 2; ref++) {
		float *d = test_dup(g0, fd.N);

		if (ref)
			kernels_ref_gelu_backward(d, inp, R, fd.N);
		else
			kernels_gelu_backward(d, inp, R, fd.N);
		test_sub(d, g0, fd.N);
		test_fd_compare(ref ? "gelu dinp (ref)" : "gelu dinp (fast)", d,
		    num, fd.N);
		free(d);
	}
	free(inp); free(R); free(g0); free(num); free(fd.out);
}

/* Residual: both inputs. */
static void
test_fd_residual(void)
{
	struct test_fd	 fd = { .N = 32 };
	float		*a = test_floats(fd.N), *b = test_floats(fd.N);
	float		*R = test_floats(fd.N), *g0a = test_floats(fd.N);
	float		*g0b = test_floats(fd.N), *da, *db;
	double		*num = test_alloc(fd.N * sizeof *num);

	test_fill(a, fd.N, 1);
	test_fill(b, fd.N, 1);
	test_fill(R, fd.N, 1);
	test_fill(g0a, fd.N, 1);
	test_fill(g0b, fd.N, 1);
	fd.a = a;
	fd.b = b;
	fd.R = R;
	fd.out = test_floats(fd.N);
	da = test_dup(g0a, fd.N);
	db = test_dup(g0b, fd.N);
	kernels_residual_backward(da, db, R, fd.N);
	test_sub(da, g0a, fd.N);
	test_sub(db, g0b, fd.N);
	test_fd_grad(num, a, fd.N, test_loss_residual, &fd);
	test_fd_compare("residual da", da, num, fd.N);
	test_fd_grad(num, b, fd.N, test_loss_residual, &fd);
	test_fd_compare("residual db", db, num, fd.N);
	free(a); free(b); free(R); free(g0a); free(g0b); free(da); free(db);
	free(num); free(fd.out);
}

/* Cross-entropy: L = dloss * sum(losses), with ignored rows and padding. */
static void
test_fd_crossentropy(void)
{
	struct test_fd	 fd = { .N = 6, .V = 11, .Vp = 16, .dloss = 0.37f };
	size_t		 n = (size_t)fd.N * fd.Vp;
	int		*targets = test_alloc(fd.N * sizeof *targets);
	float		*logits = test_floats(n), *d = test_floats(n);
	float		*losses = test_floats(fd.N);
	double		*num = test_alloc(n * sizeof *num);

	test_fill(logits, n, 2);
	for (int i = 0; i < fd.N; i++)
		targets[i] = i == 2 ? -1 : (int)rng_below(&test_rng, fd.V);
	fd.targets = targets;
	fd.a = logits;
	fd.out = test_floats(fd.N);
	fd.aux1 = test_floats(n);
	test_fd_grad(num, logits, n, test_loss_crossentropy, &fd);
	for (int ref = 0; ref < 2; ref++) {
		/* Overwritten, not accumulated: start from garbage. */
		test_fill(d, n, 1);
		if (ref)
			kernels_ref_crossentropy(losses, d, logits, targets,
			    fd.dloss, fd.N, fd.V, fd.Vp);
		else
			kernels_crossentropy(losses, d, logits, targets,
			    fd.dloss, fd.N, fd.V, fd.Vp);
		test_fd_compare(ref ? "crossentropy dlogits (ref)" :
		    "crossentropy dlogits (fast)", d, num, n);
	}
	free(targets); free(logits); free(d); free(losses); free(num);
	free(fd.out); free(fd.aux1);
}

/* ---------------------------------------------------------------------- */
/* 3. The mask builder. */

/* Is j an ancestor of i (or i itself) by walking parent[]? */
static int
test_is_ancestor(const int *parent, int i, int j)
{
	for (; i >= 0; i = parent[i])
		if (i == j)
			return 1;
	return 0;
}

/* Chain, the worked example of docs/sequencematch.md, random trees, invalid parents. */
static void
test_mask(void)
{
	enum { B = 2, T = 9, W = 8 };
	/* docs/sequencematch.md section 2: inputs P0 P1 a b c d e eos. */
	static const int	 ex_parent[W] = { -1, 0, 1, 2, 2, 4, 2, 6 };
	static const char	*ex_rows[W] = {
		"10000000", "11000000", "11100000", "11110000",
		"11101000", "11101100", "11100010", "11100011",
	};
	uint8_t	 mask[B * T * T], mask2[B * T * T];
	int	 parent[B * T], bad, rc;

	bad = kernels_mask_build(mask, NULL, B, T) != 0;
	for (int b = 0; b < B; b++)
		for (int i = 0; i < T; i++)
			for (int j = 0; j < T; j++)
				bad += mask[(b * T + i) * T + j] != (j <= i);
	tap_ok(bad == 0, "mask_build: NULL parent is the lower triangle");

	for (int b = 0; b < B; b++)
		for (int i = 0; i < T; i++)
			parent[b * T + i] = i - 1;
	rc = kernels_mask_build(mask2, parent, B, T);
	tap_ok(rc == 0 && memcmp(mask, mask2, sizeof mask) == 0,
	    "mask_build: explicit chain parents equal the NULL chain");

	rc = kernels_mask_build(mask, ex_parent, 1, W);
	bad = 0;
	for (int i = 0; i < W; i++)
		for (int j = 0; j < W; j++)
			bad += mask[i * W + j] != (ex_rows[i][j] == '1');
	tap_ok(rc == 0 && bad == 0, "mask_build: the worked example of docs/sequencematch.md "
	    "(%d wrong entries)", bad);

	bad = 0;
	for (int round = 0; round < 20; round++) {
		test_random_parents(parent, B, T);
		if (kernels_mask_build(mask, parent, B, T) != 0) {
			bad++;
			continue;
		}
		for (int b = 0; b < B; b++)
			for (int i = 0; i < T; i++)
				for (int j = 0; j < T; j++)
					bad += mask[(b * T + i) * T + j] !=
					    test_is_ancestor(parent + b * T, i, j);
	}
	tap_ok(bad == 0, "mask_build: random trees equal ancestor sets");

	/* Invalid parents: self, future, below -1, in the second sequence. */
	for (int i = 0; i < T; i++) {
		parent[i] = i - 1;
		parent[T + i] = i - 1;
	}
	parent[4] = 4;
	rc = kernels_mask_build(mask, parent, B, T);
	parent[4] = 3;
	tap_ok(rc == -1, "mask_build: parent[i] == i is rejected");
	parent[3] = 6;
	rc = kernels_mask_build(mask, parent, B, T);
	parent[3] = 2;
	tap_ok(rc == -1, "mask_build: parent[i] > i is rejected");
	parent[5] = -2;
	rc = kernels_mask_build(mask, parent, B, T);
	parent[5] = 4;
	tap_ok(rc == -1, "mask_build: parent[i] < -1 is rejected");
	parent[0] = 0;
	rc = kernels_mask_build(mask, parent, B, T);
	parent[0] = -1;
	tap_ok(rc == -1, "mask_build: parent[0] == 0 is rejected");
	parent[T + 7] = 8;
	rc = kernels_mask_build(mask, parent, B, T);
	parent[T + 7] = 6;
	tap_ok(rc == -1, "mask_build: a bad parent in the second sequence is "
	    "rejected");
	tap_ok(kernels_mask_build(mask, parent, B, T) == 0,
	    "mask_build: the repaired array is accepted");
}

/* ---------------------------------------------------------------------- */
/* 4. The cross-entropy contract. */

/* Row sums, ignored rows, padding, direct -log softmax, aliasing, large logits. */
static void
test_crossentropy(void)
{
	enum { N = 8, V = 37, Vp = 40 };
	float	 logits[N * Vp], d[N * Vp], d2[N * Vp], losses[N], losses2[N];
	int	 targets[N];
	float	 dloss = 0.5f;
	double	 worst = 0, sum, sum2, direct_total = 0;
	int	 bad = 0;

	test_fill(logits, N * Vp, 2);
	for (int i = 0; i < N; i++)
		targets[i] = i == 1 || i == 6 ? -1 : (int)rng_below(&test_rng, V);
	targets[3] = V - 1;	/* the last real column */
	memset(d, 0xff, sizeof d);	/* NaN: every entry must be written */
	sum = kernels_crossentropy(losses, d, logits, targets, dloss, N, V, Vp);

	for (int i = 0; i < N; i++) {
		double s = 0;

		for (int j = 0; j < V; j++)
			s += d[i * Vp + j];
		if (fabs(s) > worst || s != s)
			worst = fabs(s);
	}
	tap_diag("crossentropy: worst |row sum of dlogits| %.3g", worst);
	tap_ok(worst < 1e-6, "crossentropy: dlogits rows sum to 0");

	bad = 0;
	for (int i = 0; i < N; i++)
		for (int j = 0; j < Vp; j++)
			if ((targets[i] < 0 || j >= V) && d[i * Vp + j] != 0)
				bad++;
	for (int i = 0; i < N; i++)
		if (targets[i] < 0 && losses[i] != 0)
			bad++;
	tap_ok(bad == 0, "crossentropy: ignored rows and padded columns are 0");

	/* -log softmax straight from the definition, in double. */
	worst = 0;
	for (int i = 0; i < N; i++) {
		double z = 0, direct;

		if (targets[i] < 0)
			continue;
		for (int j = 0; j < V; j++)
			z += exp((double)logits[i * Vp + j]);
		direct = -log(exp((double)logits[i * Vp + targets[i]]) / z);
		direct_total += direct;
		if (fabs(direct - losses[i]) > worst)
			worst = fabs(direct - losses[i]);
		/* The target's gradient is dloss * (p - 1). */
		if (fabs(d[i * Vp + targets[i]] - dloss * (exp(-direct) - 1)) > 1e-6)
			bad++;
	}
	tap_diag("crossentropy: loss vs direct -log softmax max diff %.3g, "
	    "sum %.9g vs %.9g", worst, sum, direct_total);
	tap_ok(worst < 1e-5 && fabs(sum - direct_total) < 1e-5 * N && bad == 0,
	    "crossentropy: losses equal -log softmax[target]");

	/* dlogits == logits. */
	memcpy(d2, logits, sizeof d2);
	sum2 = kernels_crossentropy(losses2, d2, d2, targets, dloss, N, V, Vp);
	tap_diag("crossentropy aliased: max diff %.3g",
	    tap_maxdiff(d, d2, N * Vp));
	tap_ok(tap_maxdiff(d, d2, N * Vp) == 0 &&
	    tap_maxdiff(losses, losses2, N) == 0 && sum == sum2,
	    "crossentropy: dlogits may alias logits");

	/* Logits far beyond expf's range need the max subtraction. */
	for (int i = 0; i < N * Vp; i++)
		d2[i] = logits[i] + 500.0f;
	sum2 = kernels_crossentropy(losses2, d2, d2, targets, dloss, N, V, Vp);
	tap_diag("crossentropy +500: max loss diff %.3g, sum %.9g vs %.9g",
	    tap_maxdiff(losses, losses2, N), sum2, sum);
	tap_ok(isfinite(sum2) && tap_maxdiff(losses, losses2, N) < 1e-3 &&
	    tap_maxdiff(d, d2, N * Vp) < 1e-3,
	    "crossentropy: large logits stay finite");
}

/* Run every group. */
/* The GELU kernels' tanh agrees with the double-precision tanh everywhere. */
static void
test_fast_tanh(void)
{
	double	worst = 0, at = 0;

	for (int i = -200000; i <= 200000; i++) {
		float	x = (float)i * 1e-4f;
		double	d = fabs((double)kernels_fast_tanh(x) - tanh((double)x));

		if (d > worst) {
			worst = d;
			at = x;
		}
	}
	tap_ok(worst < 1e-6, "fast tanh within 1e-6 of tanh on [-20, 20] (max %.2e at "
	    "%g)", worst, at);
	worst = 0;
	for (int i = -870000; i <= 880000; i++) {
		float	x = (float)i * 1e-4f;
		double	e = exp((double)x);
		double	d = fabs((double)kernels_fast_exp(x) - e) / e;

		if (d > worst) {
			worst = d;
			at = x;
		}
	}
	tap_ok(worst < 1e-6, "fast exp within 1e-6 relative of exp on [-87, 88] (max "
	    "%.2e at %g)", worst, at);
	tap_ok(kernels_fast_exp(-INFINITY) == 0.0f && kernels_fast_exp(-100.0f) == 0.0f &&
	    kernels_fast_exp(0.0f) == 1.0f, "fast exp: 0 below -87, exp(0) = 1");
	tap_ok(kernels_fast_tanh(1e30f) == 1.0f && kernels_fast_tanh(-1e30f) == -1.0f &&
	    kernels_fast_tanh(0.0f) == 0.0f, "fast tanh saturates to +-1 and is odd at 0");
}

int
main(void)
{
	rng_init(&test_rng, 1234);

	test_ref_matmul(14, 24, 40);
	test_ref_matmul(32, 32, 96);
	test_ref_attention(2, 16, 32, 4, 0);
	test_ref_attention(2, 16, 32, 4, 1);
	test_ref_attention(2, 7, 16, 2, 0);
	test_ref_attention(2, 11, 24, 3, 1);
	test_ref_attention(1, 150, 16, 2, 1);	/* three row blocks */
	test_ref_attention(2, 130, 16, 2, 0);
	/* Head sizes headmm.c takes (16, 32, 64, 80 = 64 + 16); T across its blocks. */
	test_ref_attention(2, 70, 128, 2, 0);
	test_ref_attention(1, 131, 48, 3, 1);
	test_ref_attention(2, 5, 32, 1, 1);
	test_ref_attention(1, 67, 160, 2, 0);
	test_headmm_usable();
	test_headmm_paths(2, 70, 128, 2);
	test_headmm_paths(3, 133, 160, 2);
	test_headmm_paths(2, 9, 64, 4);
	/*
	 * Above sgemm.c's sizes for splitting, each form, on two and three
	 * tasks; bands of 24 rows, the last with the remainder (49 rows: 24 and
	 * 25, the split that gave SkylakeX's small-matrix kernel a one-row band).
	 */
	test_sgemm_pool(0, 1, 257, 300, 129, 0.0f, 2);
	test_sgemm_pool(0, 0, 50, 300, 600, 1.0f, 2);
	test_sgemm_pool(1, 0, 150, 300, 300, 1.0f, 3);
	test_sgemm_pool(0, 1, 49, 400, 600, 1.0f, 2);
	test_sgemm_pool(1, 1, 96, 257, 400, 0.0f, 3);
	test_sgemm_pool(0, 1, 5, 7, 9, 1.0f, 2);	/* small: one call */
	test_sgemm_bias(121, 300, 300, 2);	/* two tasks */
	test_sgemm_bias(7, 30, 20, 2);
	test_matmul_threads(256, 192, 576);
	test_ref_layernorm(14, 32);
	test_ref_layernorm(9, 37);	/* two lanes' worth and a tail of 5 */
	test_ref_layernorm(3, 5);	/* all tail */
	test_ref_gelu(257);
	test_residual(257);
	test_residual(200003);	/* split across the pool */
	test_ref_gelu(200003);	/* split across the pool */
	test_fast_tanh();
	test_ref_crossentropy(14, 50, 56);

	test_fd_encoder();
	test_fd_layernorm();
	test_fd_matmul();
	test_fd_attention();
	test_fd_gelu();
	test_fd_residual();
	test_fd_crossentropy();

	test_mask();
	test_crossentropy();
	return tap_done();
}
