/*
 * test-gpt.c: the whole model: finite-difference gradients through every layer
 * with a tree mask and shuffled position ids; KV-cached decoding against the
 * full forward pass (with rollbacks, and a tree-masked pass against decoding
 * with backspaces; past the context where attention is split over threads); AdamW's skip on NaN, weight decay and clipping;
 * configuration checks.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpt.h"
#include "pool.h"
#include "rng.h"
#include "tap.h"

static const struct gpt_config tiny = { 16, 20, 24, 2, 2, 16 };

/* Loss of the current parameters on a fixed batch. */
static float
loss_of(struct gpt_model *m, const int *in, const int *pos, const int *parent,
    const int *tg, int B, int T)
{
	char *cause = NULL;
	if (gpt_forward(m, in, pos, parent, B, T, &cause) != 0) {
		tap_diag("forward failed: %s", cause);
		free(cause);
		return NAN;
	}
	return gpt_loss_ce(m, tg);
}

/* Finite differences against backward over a sample of every tensor. */
static void
test_gradcheck(void)
{
	enum { B = 2, T = 8 };
	/* Sequence 0: the worked example of docs/sequencematch.md section 2. */
	int parent[B * T] = { -1, 0, 1, 2, 2, 4, 2, 6,  -1, 0, 1, 2, 3, 4, 5, 6 };
	int pos[B * T] = { 0, 1, 2, 3, 3, 4, 3, 4,  5, 2, 7, 0, 3, 6, 1, 4 };
	int in[B * T], tg[B * T];
	struct gpt_model *m;
	struct rng rng;
	size_t sizes[GPT_NUM_TENSORS], off = 0;
	char *cause = NULL;
	float *params, *grads;
	int bad = 0, checked = 0;
	double worst = 0;

	m = gpt_new(&tiny, &cause);
	gpt_init_random(m, 3);
	/* Larger weights than GPT-2's init so that every path carries gradient. */
	params = gpt_param_memory(m);
	rng_init(&rng, 11);
	for (size_t i = 0; i < gpt_num_params(m); i++)
		params[i] += 0.1f * rng_normal(&rng);
	for (int i = 0; i < B * T; i++) {
		in[i] = (int)rng_below(&rng, 20);
		tg[i] = i % 5 == 3 ? -1 : (int)rng_below(&rng, 20);
	}
	loss_of(m, in, pos, parent, tg, B, T);
	gpt_zero_grad(m, NULL);
	tap_ok(gpt_backward(m, &cause) == 0, "backward runs");
	grads = malloc(gpt_num_params(m) * sizeof *grads);
	memcpy(grads, gpt_grad_memory(m), gpt_num_params(m) * sizeof *grads);

	gpt_config_sizes(&tiny, sizes);
	for (int k = 0; k < GPT_NUM_TENSORS; k++) {
		int tensor_bad = 0;
		double tensor_worst = 0;
		for (int s = 0; s < 12; s++) {
			size_t i = off + (size_t)rng_below(&rng, sizes[k]);
			float save = params[i], eps = 1e-2f;
			double lp, lm, fd, err;

			if (k == 0 && s < 4)
				i = off + (size_t)in[s] * 16 + (size_t)s; /* rows in use */
			save = params[i];
			params[i] = save + eps;
			lp = loss_of(m, in, pos, parent, tg, B, T);
			params[i] = save - eps;
			lm = loss_of(m, in, pos, parent, tg, B, T);
			params[i] = save;
			fd = (lp - lm) / (2.0 * eps);
			err = fabs(fd - grads[i]) / (2e-3 + fabs(fd) + fabs(grads[i]));
			if (err > tensor_worst)
				tensor_worst = err;
			if (err > 2e-2) {
				tensor_bad++;
				tap_diag("%s[%zu]: finite difference %.6g, backward %.6g",
				    gpt_tensor_name(k), i - off, fd, (double)grads[i]);
			}
			checked++;
		}
		if (tensor_worst > worst)
			worst = tensor_worst;
		bad += tensor_bad;
		tap_ok(tensor_bad == 0, "gradient of %s matches finite differences "
		    "(worst relative error %.2e)", gpt_tensor_name(k), tensor_worst);
		off += sizes[k];
	}
	tap_diag("%d parameters checked, %d off, worst relative error %.2e", checked, bad, worst);
	free(grads);
	gpt_free(m);
}

/* Logits of decoding step by step equal those of one forward pass, with rollbacks. */
static void
test_kv_cache(void)
{
	enum { T = 14 };
	int seq[T], seq2[T];
	struct gpt_config cfg = { 16, 20, 24, 2, 4, 32 };
	struct gpt_model *m;
	struct gpt_kv *kv;
	struct rng rng;
	float *full, logits[24];
	double worst = 0;
	char *cause = NULL;
	int r;

	m = gpt_new(&cfg, &cause);
	gpt_init_random(m, 5);
	rng_init(&rng, 9);
	for (size_t i = 0; i < gpt_num_params(m); i++)
		gpt_param_memory(m)[i] += 0.05f * rng_normal(&rng);
	for (int i = 0; i < T; i++)
		seq[i] = seq2[i] = (int)rng_below(&rng, 20);
	for (int i = 7; i < T; i++)
		seq2[i] = (int)rng_below(&rng, 20);

	full = malloc((size_t)T * 24 * sizeof *full);
	gpt_forward(m, seq, NULL, NULL, 1, T, &cause);
	memcpy(full, gpt_logits(m), (size_t)T * 24 * sizeof *full);

	kv = gpt_kv_new(m, 16, &cause);
	tap_ok(gpt_kv_append(m, kv, seq, 5, &cause) == 0, "prefill 5 tokens");
	for (int i = 5; i < T; i++)
		gpt_kv_append(m, kv, &seq[i], 1, &cause);
	for (int i = 0; i < T; i++) {
		gpt_kv_logits(m, kv, i, logits);
		double d = tap_maxdiff(logits, full + (size_t)i * 24, 24);
		if (d > worst)
			worst = d;
	}
	tap_ok(worst < 1e-4, "KV-cached logits equal the full pass (max diff %.2e)", worst);

	/* Roll back to 7 slots and continue with other tokens. */
	gpt_kv_truncate(kv, 7);
	tap_ok(gpt_kv_len(kv) == 7, "truncate to 7 slots");
	gpt_kv_append(m, kv, seq2 + 7, T - 7, &cause);
	gpt_forward(m, seq2, NULL, NULL, 1, T, &cause);
	worst = 0;
	for (int i = 0; i < T; i++) {
		gpt_kv_logits(m, kv, i, logits);
		double d = tap_maxdiff(logits, gpt_logits(m) + (size_t)i * 24, 24);
		if (d > worst)
			worst = d;
	}
	tap_ok(worst < 1e-4, "after a rollback, logits equal the full pass of the new "
	    "sequence (max diff %.2e)", worst);
	r = gpt_kv_append(m, kv, seq, 3, &cause);
	tap_ok(r != 0 && cause != NULL, "appending past the capacity fails: %s",
	    cause ? cause : "");
	free(cause);
	gpt_kv_free(kv);
	free(full);
	gpt_free(m);
}

/*
 * Decoding where one row's keys, values and attention are split over the pool
 * by heads (engine/gpt.c, gpt_kv_attend): past 65536 cached floats per layer
 * (slot 256 at 256 channels), and at every slot from 768 channels. The first
 * `prefill` tokens go in as one append (each row's keys and values are copied
 * in before it attends). On two threads the logits of every slot are bit for
 * bit those of one thread (each head's sums keep their order), and they equal
 * the full forward pass.
 */
static void
test_kv_split_heads(int C, int NH, int T, int prefill, const char *what)
{
	enum { Vp = 24 };
	struct gpt_config cfg = { T, 20, Vp, 1, NH, C };
	struct gpt_model *m;
	struct gpt_kv *kv[2];
	struct rng rng;
	int *seq = malloc((size_t)T * sizeof *seq), same = 1, threads = pool_threads();
	float *lg[2];
	double worst = 0;
	char *cause = NULL;

	m = gpt_new(&cfg, &cause);
	gpt_init_random(m, 6);
	rng_init(&rng, 10);
	for (size_t i = 0; i < gpt_num_params(m); i++)
		gpt_param_memory(m)[i] += 0.05f * rng_normal(&rng);
	for (int i = 0; i < T; i++)
		seq[i] = (int)rng_below(&rng, 20);
	for (int k = 0; k < 2; k++) {
		pool_set_threads(k == 0 ? 1 : 2);
		kv[k] = gpt_kv_new(m, T, &cause);
		lg[k] = malloc((size_t)T * Vp * sizeof(float));
		gpt_kv_append(m, kv[k], seq, prefill, &cause);
		for (int i = 0; i < T; i++) {
			if (i >= prefill)
				gpt_kv_append(m, kv[k], &seq[i], 1, &cause);
			gpt_kv_logits(m, kv[k], i, lg[k] + (size_t)i * Vp);
		}
	}
	pool_set_threads(threads);
	tap_ok(gpt_kv_len(kv[0]) == T && gpt_kv_len(kv[1]) == T, "%s: decoded %d slots",
	    what, T);
	same = memcmp(lg[0], lg[1], (size_t)T * Vp * sizeof(float)) == 0;
	tap_ok(same, "%s: attention split over 2 threads: every slot's logits bit for bit "
	    "those of 1 thread", what);
	gpt_forward(m, seq, NULL, NULL, 1, T, &cause);
	for (int i = 0; i < T; i++) {
		double d = tap_maxdiff(lg[1] + (size_t)i * Vp, gpt_logits(m) + (size_t)i * Vp, Vp);
		if (d > worst)
			worst = d;
	}
	tap_ok(worst < 1e-4, "%s: ... and equal the full pass (max diff %.2e)", what, worst);
	for (int k = 0; k < 2; k++) {
		gpt_kv_free(kv[k]);
		free(lg[k]);
	}
	free(seq);
	gpt_free(m);
}

/*
 * A tree-masked pass over the worked example of docs/sequencematch.md section 2
 * gives the logits that decoding computes with backspaces (truncation).
 */
static void
test_tree_equals_backspace_decoding(void)
{
	/* Prompt P0 P1 = 3 4; actions a b BK c d BK BK e = 5 6 BK 7 8 BK BK 9. */
	int in[8] = { 3, 4, 5, 6, 7, 8, 9, 10 };
	int pos[8] = { 0, 1, 2, 3, 3, 4, 3, 4 };
	int parent[8] = { -1, 0, 1, 2, 2, 4, 2, 6 };
	/* Effective sequences after each input: compare input i's logits. */
	struct gpt_config cfg = { 16, 20, 24, 2, 4, 32 };
	struct gpt_model *m;
	struct gpt_kv *kv;
	float logits[24];
	double worst = 0;
	char *cause = NULL;
	struct { int truncate_to; int tok; int input; } steps[] = {
		{ -1, 3, 0 }, { -1, 4, 1 }, { -1, 5, 2 }, { -1, 6, 3 },
		{ 3, 7, 4 }, { -1, 8, 5 }, { 3, 9, 6 }, { -1, 10, 7 },
	};

	m = gpt_new(&cfg, &cause);
	gpt_init_random(m, 8);
	gpt_forward(m, in, pos, parent, 1, 8, &cause);
	kv = gpt_kv_new(m, 16, &cause);
	for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
		if (steps[s].truncate_to >= 0)
			gpt_kv_truncate(kv, steps[s].truncate_to);
		gpt_kv_append(m, kv, &steps[s].tok, 1, &cause);
		gpt_kv_logits(m, kv, gpt_kv_len(kv) - 1, logits);
		double d = tap_maxdiff(logits, gpt_logits(m) + (size_t)steps[s].input * 24, 24);
		if (d > worst)
			worst = d;
	}
	tap_ok(worst < 1e-4, "tree-masked one-pass logits equal decoding with "
	    "backspaces (max diff %.2e)", worst);
	gpt_kv_free(kv);
	gpt_free(m);
}

/* AdamW: NaN skip, decay on matrices only, clipping. */
static void
test_adamw(void)
{
	struct gpt_model *m;
	struct gpt_adamw o = { 0.1f, 0.9f, 0.95f, 1e-8f, 0.5f, 1.0f };
	size_t n, sizes[GPT_NUM_TENSORS];
	float *before, gn = 0;
	char *cause = NULL;
	int r, bias_same = 1, matrix_shrunk = 1;

	m = gpt_new(&tiny, &cause);
	gpt_init_random(m, 1);
	n = gpt_num_params(m);
	for (size_t i = 0; i < n; i++)  /* non-zero biases and LN, to see decay */
		gpt_param_memory(m)[i] += 0.5f;
	before = malloc(n * sizeof *before);
	memcpy(before, gpt_param_memory(m), n * sizeof *before);
	gpt_zero_grad(m, NULL);
	gpt_grad_memory(m)[17] = NAN;
	r = gpt_update(m, &o, 1, &gn, &cause);
	tap_ok(r == 1, "an update with a NaN gradient is skipped (returned %d)", r);
	tap_ok(memcmp(before, gpt_param_memory(m), n * sizeof *before) == 0,
	    "a skipped update leaves the parameters unchanged");
	gpt_grad_memory(m)[17] = INFINITY;
	tap_ok(gpt_update(m, &o, 1, &gn, &cause) == 1, "an infinite gradient is skipped");

	/* Zero gradient: only weight decay moves the parameters. */
	gpt_zero_grad(m, NULL);
	tap_ok(gpt_update(m, &o, 1, &gn, &cause) == 0 && gn == 0, "zero-gradient update");
	gpt_config_sizes(&tiny, sizes);
	{
		size_t off = 0;
		for (int k = 0; k < GPT_NUM_TENSORS; k++) {
			for (size_t i = off; i < off + sizes[k]; i++) {
				float a = before[i], b = gpt_param_memory(m)[i];
				if (gpt_tensor_is_matrix(k)) {
					if (!(fabsf(b) < fabsf(a) || a == 0))
						matrix_shrunk = 0;
				} else if (a != b)
					bias_same = 0;
			}
			off += sizes[k];
		}
	}
	tap_ok(matrix_shrunk, "weight decay shrinks every matrix entry");
	tap_ok(bias_same, "biases and LayerNorm parameters get no weight decay");

	/* Clipping: a huge gradient reports its norm; the step stays bounded. */
	gpt_zero_grad(m, NULL);
	for (size_t i = 0; i < n; i++)
		gpt_grad_memory(m)[i] = 1000.0f;
	memcpy(before, gpt_param_memory(m), n * sizeof *before);
	o.weight_decay = 0;
	gpt_update(m, &o, 2, &gn, &cause);
	tap_ok(fabs(gn - 1000.0 * sqrt((double)n)) < 1e-3 * gn,
	    "gradient norm reported before clipping (%.1f)", (double)gn);

	/* Every element is zeroed (the pool splits the memset) and counted in the norm. */
	{
		int zero = 1;
		gpt_zero_grad(m, NULL);
		for (size_t i = 0; i < n; i++)
			zero &= gpt_grad_memory(m)[i] == 0.0f;
		tap_ok(zero, "gpt_zero_grad zeroes all %zu gradients", n);
	}
	gpt_grad_memory(m)[5] = 4.0f;
	gpt_grad_memory(m)[n - 1] = 3.0f;
	gpt_update(m, &o, 3, &gn, &cause);
	tap_ok(gn == 5.0f, "the norm counts the first and the last element (%g)", (double)gn);
	gpt_zero_grad(m, NULL);
	gpt_grad_memory(m)[n / 2 + 3] = 2.0f;
	gpt_update(m, &o, 4, &gn, &cause);
	tap_ok(gn == 2.0f, "the norm counts an element mid-way (%g)", (double)gn);
	gpt_free(m);

	/* A parameter count that is not a multiple of the norm's eight sums. */
	{
		static const struct gpt_config odd = { 16, 20, 24, 2, 3, 9 };
		m = gpt_new(&odd, &cause);
		gpt_init_random(m, 1);
		n = gpt_num_params(m);
		gpt_zero_grad(m, NULL);
		gpt_grad_memory(m)[n - 1] = 3.0f;
		gpt_update(m, &o, 1, &gn, &cause);
		tap_ok(n % 8 != 0 && gn == 3.0f, "the norm counts the last of %zu elements "
		    "(%g)", n, (double)gn);
	}
	free(before);
	free(cause);
	gpt_free(m);
}

/* Configurations out of range are refused with a message. */
static void
test_config_check(void)
{
	struct { struct gpt_config c; const char *what; } bad[] = {
		{ { 16, 20, 24, 0, 2, 16 }, "zero layers" },
		{ { 16, 20, 24, 2, 3, 16 }, "heads not dividing channels" },
		{ { 16, 20, 20, 2, 2, 16 }, "padded vocab not above vocab" },
		{ { 0, 20, 24, 2, 2, 16 }, "zero context" },
		{ { 16, 20, 24, 2147483647, 2, 16 }, "absurd layer count" },
		{ { 65536, 1048576, 1048640, 256, 16, 16384 }, "too many parameters" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *cause = NULL;
		struct gpt_model *m = gpt_new(&bad[i].c, &cause);
		tap_ok(m == NULL && cause != NULL, "%s refused: %s", bad[i].what,
		    cause ? cause : "(no message)");
		gpt_free(m);
		free(cause);
	}
	{
		char *cause = NULL;
		struct gpt_model *m = gpt_new(&tiny, &cause);
		int in[2] = { 0, 24 }, parent[2] = { -1, 1 }, pos[2] = { 0, 16 }, r;
		r = gpt_forward(m, in, NULL, NULL, 1, 2, &cause);
		tap_ok(r != 0, "a token id past the vocabulary is refused: %s",
		    cause ? cause : "");
		in[1] = 1;
		r = gpt_forward(m, in, NULL, parent, 1, 2, &cause);
		tap_ok(r != 0, "a parent that is not earlier is refused: %s",
		    cause ? cause : "");
		r = gpt_forward(m, in, pos, NULL, 1, 2, &cause);
		tap_ok(r != 0, "a position id past the context is refused: %s",
		    cause ? cause : "");
		free(cause);
		gpt_free(m);
	}
}

int
main(void)
{
	test_gradcheck();
	test_kv_cache();
	test_kv_split_heads(256, 8, 300, 1, "256 channels, split from slot 256");
	test_kv_split_heads(768, 12, 40, 9, "768 channels, split at every slot");
	test_tree_equals_backspace_decoding();
	test_adamw();
	test_config_check();
	return tap_done();
}
