/*
 * test-quant.c: TAP tests for engine/quant.c and engine/qweights.c: bf16 and
 * q8 round trips within their bounds, every kernel (each instruction set this
 * CPU has, the fallbacks forced with quant_set_isa_limit) against the naive
 * reference on random shapes with odd sizes and tails, and a KV-cached
 * forward pass per format against fp32 within a stated tolerance; the
 * greedy step's argmax of engine/bench.c.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cpu.h"
#include "generate.h"
#include "gpt.h"
#include "pool.h"
#include "quant.h"
#include "qweights.h"
#include "rng.h"
#include "tap.h"
#include "tokenizer.h"

/*
 * Kernel vs reference, relative to sum_k |w_k x_k| of the row: the kernels
 * sum K products in float in another order than the double reference
 * (about K * 2^-24 relative at worst, 2e-4 for K = 3000, far less for
 * random signs); the vdpbf16ps kernel also splits x into two bf16 halves,
 * exact to 2^-16 relative.
 */
#define TEST_RTOL 1e-4

static struct rng test_rng;

/* Allocation that cannot fail (a test may exit). */
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

/* Fill with N(0, sd^2) values. */
static void
test_fill(float *a, size_t n, float sd)
{
	for (size_t i = 0; i < n; i++)
		a[i] = sd * rng_normal(&test_rng);
}

/* bf16: exact on representable values, RNE within 2^-8 relative, NaN kept. */
static void
test_bf16_roundtrip(void)
{
	float worst = 0, x;
	int exact = 1;

	for (int i = 0; i < 100000; i++) {
		float v = rng_normal(&test_rng) * powf(2.0f, (float)(i % 40 - 20));
		float b = quant_bf16_to_f32(quant_bf16_from_f32(v));
		float e = fabsf(b - v) / fabsf(v);
		if (v != 0 && e > worst)
			worst = e;
		/* A bf16 value converts back to itself. */
		if (quant_bf16_to_f32(quant_bf16_from_f32(b)) != b)
			exact = 0;
	}
	tap_ok(worst <= 1.0f / 256, "bf16 round trip within 2^-8 relative (worst %.3g)",
	    (double)worst);
	tap_ok(exact, "bf16 values convert back to themselves");
	/* 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties go to even (1). */
	x = 1.0f + 1.0f / 256;
	tap_ok(quant_bf16_to_f32(quant_bf16_from_f32(x)) == 1.0f, "bf16 ties to even");
	x = 1.0f + 3.0f / 256;
	tap_ok(quant_bf16_to_f32(quant_bf16_from_f32(x)) == 1.0f + 4.0f / 256,
	    "bf16 ties to even (odd neighbour rounds up)");
	tap_ok(isnan(quant_bf16_to_f32(quant_bf16_from_f32(NAN))), "bf16 keeps NaN");
	tap_ok(isinf(quant_bf16_to_f32(quant_bf16_from_f32(INFINITY))), "bf16 keeps inf");
}

/* q8: |x - d q| <= d/2 per element, padding zero, zero groups exact. */
static void
test_q8_roundtrip(void)
{
	static const int sizes[] = { 1, 31, 32, 33, 64, 95, 768, 1001 };

	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		int n = sizes[s], np = (n + 31) / 32 * 32, ok = 1, pad = 1, range = 1;
		int8_t *q = test_alloc((size_t)np);
		float *d = test_alloc((size_t)(np / 32) * sizeof *d);
		float *x = test_alloc((size_t)n * sizeof *x), *y = test_alloc((size_t)n * sizeof *y);
		double worst = 0;

		test_fill(x, (size_t)n, 1.0f);
		if (n > 40)
			for (int k = 32; k < 64 && k < n; k++)
				x[k] = 0; /* an all-zero group */
		x[n / 2] = 50.0f; /* an outlier in one group */
		quant_q8_quantize(q, d, x, n);
		quant_q8_dequantize(y, q, d, n);
		for (int k = 0; k < n; k++) {
			double e = fabs((double)x[k] - y[k]), b = d[k / 32] / 2 * (1 + 1e-6);
			if (e > b)
				ok = 0;
			if (e > worst)
				worst = e;
			if (q[k] == -128)
				range = 0;
		}
		for (int k = n; k < np; k++)
			if (q[k] != 0)
				pad = 0;
		tap_ok(ok && pad && range, "q8 round trip n=%d: error <= d/2 (worst %.3g), "
		    "q in [-127,127], padding zero", n, worst);
		free(q);
		free(d);
		free(x);
		free(y);
	}
}

/* The vector quantizer gives the scalar one's bytes and scales exactly. */
static void
test_q8_paths(void)
{
	int n = 1000, np = 1024, same = 1;
	int8_t qa[1024], qb[1024];
	float da[32], db[32], x[1000];

	test_fill(x, (size_t)n, 1.0f);
	for (int k = 0; k < 64; k++)
		x[k] = (float)(k - 32) * 0.5f; /* exact halves: the rounding ties */
	quant_set_isa_limit(QUANT_ISA_AVX512);
	quant_q8_quantize(qa, da, x, n);
	quant_set_isa_limit(QUANT_ISA_SCALAR);
	quant_q8_quantize(qb, db, x, n);
	quant_set_isa_limit(QUANT_ISA_AVX512);
	same = memcmp(qa, qb, (size_t)np) == 0 && memcmp(da, db, sizeof da) == 0;
	tap_ok(same, "q8 quantization: the %s path gives the scalar path's bytes",
	    quant_kernel_name(QUANT_Q8));
}

/* One kernel check: n inputs against a random (R,K) matrix in format f. */
static int
test_matmul_case(enum quant_format f, int R, int K, int n, int bias)
{
	float *w = test_alloc((size_t)R * K * sizeof *w);
	float *x = test_alloc((size_t)n * K * sizeof *x);
	float *b = test_alloc((size_t)R * sizeof *b);
	float *out = test_alloc((size_t)n * R * sizeof *out);
	float *ref = test_alloc((size_t)n * R * sizeof *ref);
	void *work = test_alloc(quant_work_size(f, K, n) + 64);
	struct quant_matrix qm;
	double worst = 0;
	char *cause = NULL;
	int ok;

	test_fill(w, (size_t)R * K, 0.05f);
	test_fill(x, (size_t)n * K, 1.0f);
	test_fill(b, (size_t)R, 0.1f);
	if (quant_matrix_init(&qm, f, w, R, K, &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		exit(99);
	}
	quant_matmul(out, x, &qm, bias ? b : NULL, n, work);
	quant_ref_matmul(ref, x, &qm, bias ? b : NULL, n);
	for (int i = 0; i < n; i++)
		for (int r = 0; r < R; r++) {
			double scale = fabs(b[r]);
			for (int k = 0; k < K; k++)
				scale += fabs((double)quant_matrix_get(&qm, r, k) * x[(size_t)i * K + k]);
			double e = fabs((double)out[(size_t)i * R + r] - ref[(size_t)i * R + r]) /
			    scale;
			if (!(e <= worst))
				worst = isnan(e) ? INFINITY : e > worst ? e : worst;
		}
	ok = worst <= TEST_RTOL;
	if (!ok)
		tap_diag("%s %s R=%d K=%d n=%d: relative error %.3g", quant_format_name(f),
		    quant_kernel_name(f), R, K, n, worst);
	quant_matrix_release(&qm);
	free(w);
	free(x);
	free(b);
	free(out);
	free(ref);
	free(work);
	return ok;
}

/* Every format's kernel on fixed odd shapes and random ones. */
static void
test_kernels(enum quant_isa limit, const char *label)
{
	static const int shapes[][3] = {
		{ 1, 1, 1 }, { 3, 31, 1 }, { 5, 32, 2 }, { 7, 33, 1 }, { 17, 63, 3 },
		{ 9, 64, 1 }, { 13, 65, 4 }, { 64, 768, 1 }, { 33, 3072, 2 }, { 101, 97, 5 },
		/* Large enough to be split among the pool's threads (engine/quant.c). */
		{ 1500, 701, 1 },
		/* Several rows of an fp32 matrix past 512 KB: the row kernels, not sgemm. */
		{ 700, 201, 3 },
		/* Inputs in fours and a rest of three, then two (bf16 widens once per four). */
		{ 37, 129, 7 }, { 19, 800, 10 }
	};
	enum quant_format fs[] = { QUANT_FP32, QUANT_BF16, QUANT_Q8 };

	quant_set_isa_limit(limit);
	for (size_t fi = 0; fi < 3; fi++) {
		enum quant_format f = fs[fi];
		int ok = 1, cases = 0;
		for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++, cases++)
			ok &= test_matmul_case(f, shapes[s][0], shapes[s][1], shapes[s][2],
			    (int)(s % 2));
		for (int t = 0; t < 20; t++, cases++)
			ok &= test_matmul_case(f, 1 + (int)rng_below(&test_rng, 300),
			    1 + (int)rng_below(&test_rng, 700), 1 + (int)rng_below(&test_rng, 4),
			    t % 2);
		tap_ok(ok, "%s: %s kernel (%s) matches the reference on %d shapes", label,
		    quant_format_name(f), quant_kernel_name(f), cases);
	}
	quant_set_isa_limit(QUANT_ISA_AVX512);
}

/*
 * From 80 input rows fp32 and bf16 products go through sgemm_pool (bf16 in
 * panels of 256 widened rows): 300 rows make a panel and a part of one, with
 * and without a bias, against the same reference.
 */
static void
test_gemm_path(void)
{
	enum quant_format fs[] = { QUANT_FP32, QUANT_BF16 };

	for (size_t fi = 0; fi < 2; fi++) {
		int ok = test_matmul_case(fs[fi], 300, 97, 80, 1) &&
		    test_matmul_case(fs[fi], 300, 97, 81, 0) &&
		    test_matmul_case(fs[fi], 513, 64, 130, 1);

		tap_ok(ok, "%s: 80 input rows and more (sgemm) match the reference",
		    quant_format_name(fs[fi]));
	}
}

/*
 * Rows shared among threads (engine/quant.c's quant_task: own share from the
 * front, then the back half of another's): on pools of 2 to 4 threads (more
 * threads than this machine may have cores, so some start late and others
 * take their rows), every row is written exactly as one thread writes it.
 * The output starts as NaN, so a row nobody wrote fails the comparison.
 */
static void
test_shares(void)
{
	enum quant_format fs[] = { QUANT_FP32, QUANT_BF16, QUANT_Q8 };
	int R = 6001, K = 256, pool = pool_threads();
	float *w = test_alloc((size_t)R * K * sizeof *w);
	float *x = test_alloc((size_t)K * sizeof *x);
	float *one = test_alloc((size_t)R * sizeof *one);
	float *out = test_alloc((size_t)R * sizeof *out);

	test_fill(w, (size_t)R * K, 0.05f);
	test_fill(x, (size_t)K, 1.0f);
	for (size_t fi = 0; fi < 3; fi++) {
		struct quant_matrix qm;
		void *work = test_alloc(quant_work_size(fs[fi], K, 1) + 64);
		char *cause = NULL;
		int ok = 1, runs = 0;

		if (quant_matrix_init(&qm, fs[fi], w, R, K, &cause) != 0) {
			fprintf(stderr, "%s\n", cause);
			exit(99);
		}
		pool_set_threads(1);
		quant_matmul(one, x, &qm, NULL, 1, work);
		for (int t = 2; t <= 4; t++) {
			pool_set_threads(t);
			for (int rep = 0; rep < 25; rep++, runs++) {
				for (int r = 0; r < R; r++)
					out[r] = NAN;
				quant_matmul(out, x, &qm, NULL, 1, work);
				ok &= memcmp(out, one, (size_t)R * sizeof *out) == 0;
			}
		}
		tap_ok(ok, "%s: %d products of %d rows on pools of 2-4 threads write every "
		    "row as one thread does", quant_format_name(fs[fi]), runs, R);
		quant_matrix_release(&qm);
		free(work);
	}
	pool_set_threads(pool);
	free(w);
	free(x);
	free(one);
	free(out);
}

/*
 * The largest |logit difference| over a prompt and a few decoded steps,
 * between decoding with format f and fp32, relative to the fp32 logits' spread
 * (their standard deviation), with every prompt token's logits compared too.
 */
static double
test_forward_diff(struct gpt_model *m, enum quant_format f, int chunked)
{
	const struct gpt_config *c = gpt_config(m);
	int Vp = c->padded_vocab_size, T = 24;
	struct gpt_kv *a = gpt_kv_new(m, T, NULL), *b = gpt_kv_new(m, T, NULL);
	struct qweights *qw = qweights_new(m, f, NULL);
	float *la = test_alloc((size_t)Vp * sizeof *la), *lb = test_alloc((size_t)Vp * sizeof *lb);
	int ids[24];
	double worst = 0;

	if (a == NULL || b == NULL || qw == NULL ||
	    gpt_kv_set_weights(b, qweights_kv(qw), NULL) != 0) {
		fprintf(stderr, "out of memory\n");
		exit(99);
	}
	for (int i = 0; i < T; i++)
		ids[i] = (int)rng_below(&test_rng, (uint64_t)c->vocab_size);
	gpt_kv_append(m, a, ids, T, NULL);
	if (chunked) {
		gpt_kv_append(m, b, ids, T / 2, NULL);
		for (int i = T / 2; i < T; i++)
			gpt_kv_append(m, b, ids + i, 1, NULL);
	} else
		gpt_kv_append(m, b, ids, T, NULL);
	for (int s = 0; s < T; s++) {
		double mean = 0, var = 0, d = 0;
		gpt_kv_logits(m, a, s, la);
		gpt_kv_logits(m, b, s, lb);
		for (int v = 0; v < Vp; v++)
			mean += la[v];
		mean /= Vp;
		for (int v = 0; v < Vp; v++) {
			var += (la[v] - mean) * (la[v] - mean);
			if (fabs((double)la[v] - lb[v]) > d)
				d = fabs((double)la[v] - lb[v]);
		}
		d /= sqrt(var / Vp);
		if (!(d <= worst))
			worst = isnan(d) ? INFINITY : d;
	}
	qweights_free(qw);
	gpt_kv_free(a);
	gpt_kv_free(b);
	free(la);
	free(lb);
	return worst;
}

/*
 * A forward pass per format against fp32 on a random GPT-2 (N(0, 0.02)
 * weights, 4 layers of 64 channels). Tolerances, as the largest logit error
 * over the logits' standard deviation:
 * - fp32 through the cache's weight hook: 1e-5 (BLAS either way; only the
 *   summation order can differ).
 * - bf16: each weight off by at most 2^-8 relative, errors of random sign, so
 *   a product of K terms is off by about 2^-8 / sqrt(3) / sqrt(K) of its
 *   typical size, compounded over 4 layers and the head: a few 1e-3.
 *   The bound is 2e-2, an order of magnitude above the measured error while
 *   still failing if a matrix were wrong (that gives errors of order 1).
 * - q8: weights and inputs off by up to half a step of max|group| / 127,
 *   about 10x bf16's relative error: bound 1e-1.
 */
static void
test_forward(void)
{
	struct gpt_config cfg = { 64, 200, 256, 4, 4, 64 };
	struct gpt_model *m = gpt_new(&cfg, NULL);
	double e32, e16, e8, e16c, e8c;

	if (m == NULL)
		exit(99);
	gpt_init_random(m, 5);
	e32 = test_forward_diff(m, QUANT_FP32, 0);
	e16 = test_forward_diff(m, QUANT_BF16, 0);
	e8 = test_forward_diff(m, QUANT_Q8, 0);
	e16c = test_forward_diff(m, QUANT_BF16, 1);
	e8c = test_forward_diff(m, QUANT_Q8, 1);
	tap_ok(e32 <= 1e-5, "fp32 weights: forward equals fp32 (error %.3g)", e32);
	tap_ok(e16 <= 2e-2 && e16c <= 2e-2 && e16 > 0,
	    "bf16 forward within 2e-2 of fp32 (prompt %.3g, token by token %.3g)", e16, e16c);
	tap_ok(e8 <= 1e-1 && e8c <= 1e-1 && e8 > e16 / 4,
	    "q8 forward within 1e-1 of fp32 (prompt %.3g, token by token %.3g)", e8, e8c);
	/* The fallbacks give the same forward within the same bounds. */
	quant_set_isa_limit(QUANT_ISA_AVX2);
	e16 = test_forward_diff(m, QUANT_BF16, 1);
	e8 = test_forward_diff(m, QUANT_Q8, 1);
	quant_set_isa_limit(QUANT_ISA_AVX512);
	tap_ok(e16 <= 2e-2 && e8 <= 1e-1,
	    "without AVX-512: bf16 %.3g, q8 %.3g within the same bounds", e16, e8);
	gpt_free(m);
}

/* A run that switches weights at step `at` (refresh), collecting appended ids. */
struct test_live {
	const struct gpt_model *to;
	int at, step, n;
	int ids[64];
};

/* generate_run_weights' callback: keep appended ids. */
static int
test_live_event(const struct generate_event *ev, void *arg)
{
	struct test_live *l = arg;

	if (ev->type == GENERATE_EVENT_APPEND && l->n < 64)
		l->ids[l->n++] = ev->token;
	return 0;
}

/* Switch to l->to before step l->at. */
static int
test_live_refresh(struct sampler_params *p, const struct gpt_model **m, void *arg)
{
	struct test_live *l = arg;

	(void)p;
	if (l->step++ != l->at)
		return 0;
	*m = l->to;
	return 1;
}

/*
 * Rollback and weight switches with a format: truncating the cache and
 * appending again gives the same logits bit for bit; a run moved to other
 * weights by its refresh converts them to its format, so from the switch on
 * it writes what a fresh run of the new weights in that format writes from
 * the same text.
 */
static void
test_live(enum quant_format f)
{
	static const char text[] = "the cat sat on the mat and the dog sat on the log; "
	    "a bird sang in the tree by the river while the sun went down.";
	struct gpt_config cfg = { 64, 0, 0, 2, 2, 32 };
	struct gpt_model *a, *b;
	struct qweights *qa, *qb;
	struct tokenizer *tok;
	struct sampler_params p;
	struct test_live l, ref;
	struct gpt_kv *kv;
	int prompt[3] = { 5, 9, 17 }, eff[40], neff, same = 1;
	float la[512], lb[512];

	if (tokenizer_train((const uint8_t *)text, sizeof text - 1, 300, &tok, NULL) != 0)
		exit(99);
	cfg.vocab_size = tokenizer_vocab_size(tok);
	cfg.padded_vocab_size = (cfg.vocab_size + 1 + 63) / 64 * 64;
	a = gpt_new(&cfg, NULL);
	b = gpt_new(&cfg, NULL);
	if (a == NULL || b == NULL || cfg.padded_vocab_size > 512)
		exit(99);
	gpt_init_random(a, 1);
	gpt_init_random(b, 2);
	qa = qweights_new(a, f, NULL);
	qb = qweights_new(b, f, NULL);
	kv = gpt_kv_new(a, 32, NULL);
	if (qa == NULL || qb == NULL || kv == NULL ||
	    gpt_kv_set_weights(kv, qweights_kv(qa), NULL) != 0)
		exit(99);

	/* Rollback: logits of slot 15 after 20 tokens, truncated to 12 and redone. */
	for (int i = 0; i < 20; i++)
		eff[i] = (int)rng_below(&test_rng, (uint64_t)cfg.vocab_size);
	gpt_kv_append(a, kv, eff, 20, NULL);
	gpt_kv_logits(a, kv, 15, la);
	gpt_kv_truncate(kv, 12);
	for (int i = 12; i < 16; i++)
		gpt_kv_append(a, kv, eff + i, 1, NULL);
	gpt_kv_logits(a, kv, 15, lb);
	for (int v = 0; v < cfg.padded_vocab_size; v++)
		same &= memcmp(&la[v], &lb[v], sizeof la[v]) == 0;
	tap_ok(same, "%s: truncating and appending again gives the same logits",
	    quant_format_name(f));

	sampler_defaults(&p);
	p.temperature = 0;
	p.backspace_bias = -INFINITY;
	p.max_tokens = 20;
	p.seed = 1;
	memset(&l, 0, sizeof l);
	l.to = b;
	l.at = 6;
	memset(&ref, 0, sizeof ref);
	ref.at = -1;
	if (generate_run_weights(a, qa, tok, &p, prompt, 3, test_live_event,
	    test_live_refresh, &l, NULL, NULL) != 0)
		exit(99);
	memcpy(eff, prompt, sizeof prompt);
	memcpy(eff + 3, l.ids, (size_t)l.at * sizeof *eff);
	neff = 3 + l.at;
	p.max_tokens = 20 - l.at;
	if (generate_run_weights(b, qb, tok, &p, eff, neff, test_live_event, NULL, &ref,
	    NULL, NULL) != 0)
		exit(99);
	tap_ok(l.n == 20 && ref.n == l.n - l.at &&
	    memcmp(ref.ids, l.ids + l.at, (size_t)ref.n * sizeof *ref.ids) == 0,
	    "%s: weights switched at step %d give a fresh %s run of the new weights "
	    "(%d tokens)", quant_format_name(f), l.at, quant_format_name(f), ref.n);
	gpt_kv_free(kv);
	qweights_free(qa);
	qweights_free(qb);
	gpt_free(a);
	gpt_free(b);
	tokenizer_free(tok);
}

/* A format name parses; a wrong one names itself and the choices. */
static void
test_parse(void)
{
	enum quant_format f = QUANT_FP32;
	char *cause = NULL;
	int rc;

	tap_ok(quant_format_parse("q8", &f, NULL) == 0 && f == QUANT_Q8, "parse q8");
	tap_ok(quant_format_parse("bf16", &f, NULL) == 0 && f == QUANT_BF16, "parse bf16");
	rc = quant_format_parse("int4", &f, &cause);

	tap_ok(rc == -1 && cause != NULL &&
	    strstr(cause, "'int4'") != NULL && strstr(cause, "fp32, bf16 or q8") != NULL,
	    "unknown format rejected: %s", cause != NULL ? cause : "(no message)");
	free(cause);
}

/*
 * engine/bench.c's argmax (the greedy step of `seqmatch bench`, vectorised)
 * against the one-at-a-time loop it replaced: sizes around the vector widths,
 * the maximum placed first, last, in the tail and mid-way, and duplicated (the
 * first copy wins), on values with many ties.
 */
static void
test_argmax(void)
{
	static const int sizes[] = { 1, 2, 7, 8, 9, 31, 32, 33, 63, 64, 65, 100, 1000, 50257 };
	float *x = malloc(50257 * sizeof *x);
	int bad = 0, cases = 0;

	for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
		int n = sizes[si];
		for (int place = 0; place < 5; place++) {
			int at, want = 0;
			for (int i = 0; i < n; i++)
				x[i] = (float)(int)rng_below(&test_rng, 50) - 25.0f;
			/* first, last, the first after the whole 8-blocks, mid-way */
			at = place == 0 ? 0 : place == 1 ? n - 1 :
			    place == 2 ? (n % 8 != 0 ? n - n % 8 : n - 1) : n / 2;
			x[at] = 30.0f;
			if (place == 4 && n > 2)
				x[n - 1] = 30.0f; /* a second copy after the first */
			for (int v = 1; v < n; v++)
				if (x[v] > x[want])
					want = v;
			cases++;
			if (bench_argmax(x, n) != want) {
				bad++;
				tap_diag("n %d, maximum at %d: got %d", n, want, bench_argmax(x, n));
			}
		}
	}
	tap_ok(bad == 0, "argmax: the first index of the maximum in %d arrays", cases);
	free(x);
}

/* engine/bench.c's median: odd and even counts, its range, the values sorted. */
static void
test_median(void)
{
	double odd[] = { 5, 1, 4, 2, 3 }, even[] = { 8, 2, 6, 4 }, one[] = { 7 };
	double lo = 0, hi = 0, m;

	m = bench_median(odd, 5, &lo, &hi);
	tap_ok(m == 3 && lo == 1 && hi == 5 && odd[0] == 1 && odd[4] == 5,
	    "median of 5 values is the middle one (%g), range %g-%g", m, lo, hi);
	m = bench_median(even, 4, &lo, &hi);
	tap_ok(m == 5 && lo == 2 && hi == 8,
	    "median of 4 values is the mean of the middle two (%g), range %g-%g", m, lo, hi);
	m = bench_median(one, 1, NULL, NULL);
	tap_ok(m == 7, "median of one value is that value (%g)", m);
}

/*
 * engine/bench.c's sgemm peak: with OpenBLAS on one thread and a pool of two
 * it times both ways and returns the better; with a pool of one, only the
 * pool's way. Its thread counts are as they were afterwards.
 */
static void
test_sgemm_peak(void)
{
	int blas = cpu_threads(), pool = pool_threads();
	double p = -1, b = -1, g;

	cpu_set_threads(1);
	pool_set_threads(2);
	g = bench_sgemm_gflops(96, 256, 128, 0.05, &p, &b);
	tap_ok(p > 0 && b > 0 && g == (p > b ? p : b) && cpu_threads() == 1,
	    "sgemm peak on a pool of 2: both ways timed (pool %.1f, OpenBLAS %.1f "
	    "GFLOP/s), the better returned, OpenBLAS back on one thread", p, b);
	pool_set_threads(1);
	g = bench_sgemm_gflops(96, 256, 128, 0.05, &p, &b);
	tap_ok(p > 0 && b == 0 && g == p, "sgemm peak on a pool of 1: the pool's way "
	    "alone (%.1f GFLOP/s)", g);
	tap_ok(bench_sgemm_gflops(0, 256, 128, 0.05, &p, &b) < 0 && p == 0 && b == 0,
	    "sgemm peak of an empty shape: refused");
	pool_set_threads(pool);
	cpu_set_threads(blas);
}

/*
 * engine/bench.c's generation rounds: the formats given run and the one left
 * out does not, and each round's fraction is its tokens/s times the format's
 * bytes per token over that round's limit, a positive bandwidth.
 */
static void
test_generate_rounds(void)
{
	struct gpt_config cfg = { 64, 300, 320, 2, 2, 64 };
	struct gpt_model *m = gpt_new(&cfg, NULL);
	struct qweights *qw[QUANT_NUM_FORMATS] = { NULL };
	double rate[QUANT_NUM_FORMATS * 3], frac[QUANT_NUM_FORMATS * 3], lim[3];
	double frac_kv[QUANT_NUM_FORMATS * 3];
	struct bench_gen g = { 5, 4, 3, (size_t)4 << 20, 0.01 };
	double prefill[QUANT_NUM_FORMATS * 3], own[QUANT_NUM_FORMATS * 3];
	double frac_own[QUANT_NUM_FORMATS * 3];
	struct bench_gen_result res = { rate, frac, frac_kv, lim, prefill, own, frac_own };
	double kv = bench_kv_bytes(&cfg, 5, 4), sec;
	char *cause = NULL;
	int ok = 1;

	if (m == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(99);
	}
	gpt_init_random(m, 5);
	qw[QUANT_FP32] = qweights_new(m, QUANT_FP32, NULL);
	qw[QUANT_Q8] = qweights_new(m, QUANT_Q8, NULL);
	if (qw[QUANT_FP32] == NULL || qw[QUANT_Q8] == NULL ||
	    bench_generate_rounds(m, qw, QUANT_NUM_FORMATS, &g, &res, &cause) != 0) {
		fprintf(stderr, "generate rounds: %s\n", cause != NULL ? cause : "out of memory");
		exit(99);
	}
	for (int r = 0; r < 3; r++) {
		ok &= lim[r] > 0 && rate[QUANT_BF16 * 3 + r] == 0 && frac[QUANT_BF16 * 3 + r] == 0 &&
		    prefill[QUANT_BF16 * 3 + r] == 0 && own[QUANT_BF16 * 3 + r] == 0 &&
		    frac_own[QUANT_BF16 * 3 + r] == 0;
		for (int f = 0; f < QUANT_NUM_FORMATS; f++) {
			double want;
			if (qw[f] == NULL)
				continue;
			want = rate[f * 3 + r] * (double)qweights_bytes(qw[f]) / 1e9 / lim[r];
			ok &= rate[f * 3 + r] > 0 && fabs(frac[f * 3 + r] - want) <= 1e-12 * want;
			want = rate[f * 3 + r] * ((double)qweights_bytes(qw[f]) + kv) / 1e9 / lim[r];
			ok &= fabs(frac_kv[f * 3 + r] - want) <= 1e-12 * want && prefill[f * 3 + r] > 0;
			want = rate[f * 3 + r] * (double)qweights_bytes(qw[f]) / 1e9 / own[f * 3 + r];
			ok &= own[f * 3 + r] > 0 && fabs(frac_own[f * 3 + r] - want) <= 1e-12 * want;
		}
	}
	tap_ok(ok, "generation rounds: fp32 and q8 run, bf16 left out, fractions of each "
	    "round's bandwidth (%.1f-%.1f GB/s), with and without the cache's bytes, "
	    "and of a read of each format's own bytes (q8 %.1f GB/s), the context's "
	    "prefill timed",
	    lim[0], lim[2], own[QUANT_Q8 * 3]);
	/* Timed tokens 0-3 after slots 0-5 attend over 7, 8, 9 and 10 slots. */
	tap_ok(kv == 2.0 * 2 * 64 * 4 * (7 + 8 + 9 + 10) / 4, "the cache's bytes per token "
	    "after a context of 5: %.0f", kv);
	tap_ok(bench_greedy(m, qw[QUANT_Q8], 59, 4, &sec, NULL, &cause) == 0,
	    "a context of 59 and 4 tokens fill the 64 positions");
	ok = bench_greedy(m, qw[QUANT_Q8], 60, 4, &sec, NULL, &cause) != 0;
	tap_ok(ok && cause != NULL && strstr(cause, "do not fit 64") != NULL,
	    "one more is refused: %s", cause != NULL ? cause : "(no message)");
	free(cause);
	qweights_free(qw[QUANT_FP32]);
	qweights_free(qw[QUANT_Q8]);
	gpt_free(m);
}

/*
 * qweights_new lays the matrices out in one block in the order decoding reads
 * them (engine/qweights.c): layer by layer qkvw, attprojw, fcw, fcprojw, then
 * the LM head, each matrix's arrays inside its own quant_matrix_size bytes.
 */
static void
test_layout(enum quant_format f)
{
	struct gpt_config cfg = { 16, 100, 128, 3, 2, 64 };
	struct gpt_model *m = gpt_new(&cfg, NULL);
	struct qweights *qw;
	const struct gpt_kv_weights *w;
	const struct quant_matrix *order[13];
	const char *end = NULL;
	int ok = 1, L = 3;

	if (m == NULL || (gpt_init_random(m, 3), qw = qweights_new(m, f, NULL)) == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(99);
	}
	w = qweights_kv(qw);
	for (int l = 0; l < L; l++) {
		order[4 * l] = &w->qkvw[l];
		order[4 * l + 1] = &w->attprojw[l];
		order[4 * l + 2] = &w->fcw[l];
		order[4 * l + 3] = &w->fcprojw[l];
	}
	order[4 * L] = w->wte;
	for (int t = 0; t <= 4 * L; t++) {
		const struct quant_matrix *qm = order[t];
		const char *start = f == QUANT_BF16 ? (const char *)qm->bf16 : (const char *)qm->q;
		size_t size = quant_matrix_size(f, qm->rows, qm->cols);
		/* each right after the one before, its arrays inside its own bytes */
		ok &= end == NULL || start == end;
		ok &= size >= quant_matrix_bytes(qm) && (uintptr_t)start % 64 == 0;
		if (f == QUANT_Q8)
			ok &= (const char *)qm->scale >= start + (size_t)qm->rows * qm->stride &&
			    (const char *)(qm->scale + (size_t)qm->rows * qm->stride / QUANT_GROUP) <=
			    start + size;
		end = start + size;
	}
	tap_ok(ok, "%s matrices: one block in the order a token reads them",
	    quant_format_name(f));
	qweights_free(qw);
	gpt_free(m);
}

int
main(void)
{
	rng_init(&test_rng, 2024);
	pool_set_threads(2);
	test_parse();
	test_argmax();
	test_median();
	test_sgemm_peak();
	test_generate_rounds();
	test_layout(QUANT_BF16);
	test_layout(QUANT_Q8);
	test_bf16_roundtrip();
	test_q8_roundtrip();
	test_q8_paths();
	tap_diag("this CPU: bf16 %s, q8 %s", quant_kernel_name(QUANT_BF16),
	    quant_kernel_name(QUANT_Q8));
	test_kernels(QUANT_ISA_AVX512, "best");
	test_gemm_path();
	test_shares();
	quant_set_bf16_dot(1);
	test_kernels(QUANT_ISA_AVX512, "vdpbf16ps");
	quant_set_bf16_dot(0);
	test_kernels(QUANT_ISA_AVX2, "no AVX-512");
	test_kernels(QUANT_ISA_SCALAR, "scalar");
	/* The fallback really is used when capped. */
	quant_set_isa_limit(QUANT_ISA_AVX2);
	tap_ok(quant_isa(QUANT_BF16) != QUANT_ISA_AVX512 &&
	    quant_isa(QUANT_Q8) != QUANT_ISA_AVX512, "the cap forces a non-AVX-512 kernel");
	quant_set_isa_limit(QUANT_ISA_AVX512);
	test_forward();
	test_live(QUANT_BF16);
	test_live(QUANT_Q8);
	return tap_done();
}
