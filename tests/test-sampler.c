/*
 * test-sampler.c: the decoding parameter table and parser, the sampler chain
 * (greedy, top-k, typical-p, top-p, min-p, temperature, repetition penalty)
 * checked against exact expectations and empirical frequencies, and the CPU
 * and BLAS helpers.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "rng.h"
#include "sampler.h"
#include "tap.h"
#include "util.h"

/* Defaults with every filter off and the given temperature. */
static void
test_params_off(struct sampler_params *p, double temperature)
{
	sampler_defaults(p);
	p->temperature = temperature;
	p->top_k = 0;
	p->top_p = 1;
	p->min_p = 0;
	p->typical_p = 1;
	p->repeat_penalty = 1;
}

/* Index of the largest value (lowest id on ties). */
static int
test_argmax(const float *x, int n)
{
	int best = 0;

	for (int i = 1; i < n; i++)
		if (x[i] > x[best])
			best = i;
	return best;
}

/* Draw `draws` tokens from a copy of logits each time into counts (n). */
static void
test_counts(const struct sampler_params *p, const float *logits, int n,
    const int *hist, int nhist, int draws, uint64_t seed, int *counts)
{
	float *work = malloc(sizeof(float) * n);
	struct rng rng;

	rng_init(&rng, seed);
	memset(counts, 0, sizeof(int) * n);
	for (int d = 0; d < draws; d++) {
		int id;

		memcpy(work, logits, sizeof(float) * n);
		id = sampler_sample(p, work, n, hist, nhist, &rng, NULL, NULL);
		if (id >= 0 && id < n)
			counts[id]++;
	}
	free(work);
}

/* sampler_set that must fail with a message naming the row (and equal to want if given). */
static void
test_reject(struct sampler_params *p, const char *name, const char *text,
    const char *want)
{
	const struct sampler_param *row = sampler_find(name);
	char *cause = NULL;
	int rc = sampler_set(p, row, text, &cause);

	tap_ok(rc == -1 && cause != NULL && strstr(cause, row->name) != NULL &&
	    (want == NULL || strcmp(cause, want) == 0),
	    "reject %s '%s': %s", name, text, cause ? cause : "(no message)");
	free(cause);
}

/* The parameter table, defaults, lookup and the strict parser. */
static void
test_table(void)
{
	struct sampler_params p, q;
	const struct sampler_param *row;
	char *cause = NULL;
	int ok = 1;

	for (size_t i = 0; i < sampler_table_len; i++) {
		row = &sampler_table[i];
		if (!(row->def >= row->min && row->def <= row->max)) {
			tap_diag("%s: default %g outside [%g, %g]", row->name,
			    row->def, row->min, row->max);
			ok = 0;
		}
		if (row->help == NULL || row->disabled == NULL || row->option == NULL)
			ok = 0;
	}
	tap_ok(ok, "every default is within its range and every row is complete");
	tap_ok(sampler_table_len == 13, "thirteen parameters (%zu)", sampler_table_len);

	sampler_defaults(&p);
	ok = 1;
	for (size_t i = 0; i < sampler_table_len; i++)
		if (sampler_get(&p, &sampler_table[i]) != sampler_table[i].def)
			ok = 0;
	tap_ok(ok, "sampler_defaults matches the table");
	tap_ok(p.temperature == 0.8 && p.top_k == 40 && p.top_p == 0.95 &&
	    p.min_p == 0.05 && p.typical_p == 1.0 && p.repeat_penalty == 1.0 &&
	    p.repeat_last_n == 64 && p.max_tokens == 128 && p.seed == -1,
	    "defaults are llama.cpp's");

	row = sampler_find("top_k");
	tap_ok(row != NULL && strcmp(row->option, "top-k") == 0, "find by name");
	tap_ok(sampler_find("top-p") == sampler_find("top_p") &&
	    sampler_find("top-p") != NULL, "find by option");
	tap_ok(sampler_find("temp") == sampler_find("temperature") &&
	    sampler_find("temp") != NULL, "find by alias");
	tap_ok(sampler_find("--repeat-last-n") == sampler_find("repeat_last_n"),
	    "find by --option");
	tap_ok(sampler_find("topk") == NULL && sampler_find("") == NULL,
	    "unknown names are not found");

	tap_ok(sampler_set(&p, sampler_find("top_p"), "0.5", &cause) == 0 &&
	    p.top_p == 0.5, "set top_p 0.5");
	tap_ok(sampler_set(&p, sampler_find("top_k"), "7", &cause) == 0 &&
	    p.top_k == 7, "set top_k 7");
	tap_ok(sampler_set(&p, sampler_find("temp"), "0", &cause) == 0 &&
	    p.temperature == 0, "set temperature 0 through the alias");
	tap_ok(sampler_set(&p, sampler_find("seed"), "9007199254740993", &cause) == 0 &&
	    p.seed == 9007199254740993LL, "set seed beyond 2^53 exactly");
	tap_ok(sampler_set(&p, sampler_find("seed"), "-1", &cause) == 0 &&
	    p.seed == -1, "set seed -1");
	tap_ok(sampler_set(&p, sampler_find("repeat_last_n"), "-1", &cause) == 0 &&
	    p.repeat_last_n == -1, "set repeat_last_n -1");

	q = p;
	test_reject(&p, "top_k", "abc", "top_k: 'abc' is not a number");
	test_reject(&p, "top_p", "1.5", "top_p: 1.5 is out of range [0, 1]");
	test_reject(&p, "top_k", "1.5", NULL);
	test_reject(&p, "max_tokens", "1e3", NULL);
	test_reject(&p, "repeat_last_n", "-2", NULL);
	test_reject(&p, "seed", "9223372036854775808", NULL);
	test_reject(&p, "top_k", "99999999999", NULL);
	test_reject(&p, "temperature", "-0.5", NULL);
	test_reject(&p, "repeat_penalty", "10.5", NULL);

	ok = 1;
	{
		static const char *const bad[] = {
			"inf", "-inf", "nan", "NaN", "infinity", "", " 1", "1 ",
			"0x1", "1e999", "1,5", "--1",
		};
		for (size_t i = 0; i < sampler_table_len; i++) {
			row = &sampler_table[i];
			for (size_t j = 0; j < sizeof bad / sizeof bad[0]; j++) {
				free(cause);
				cause = NULL;
				/* backspace_bias takes -inf: it turns backspacing off. */
				if (row->min == -INFINITY && strcmp(bad[j], "-inf") == 0)
					continue;
				if (sampler_set(&p, row, bad[j], &cause) != -1 ||
				    cause == NULL || strstr(cause, row->name) == NULL) {
					tap_diag("%s accepted '%s' or gave no message (%s)",
					    row->name, bad[j], cause ? cause : "none");
					ok = 0;
				}
			}
		}
	}
	tap_ok(ok, "inf, nan, blanks, hex, overflow rejected for every parameter, "
	    "each with its name in the message");
	tap_ok(memcmp(&p, &q, sizeof p) == 0, "rejected values leave the parameters alone");
	row = sampler_find("backspace-bias");
	tap_ok(row != NULL && sampler_set(&p, row, "-inf", &cause) == 0 &&
	    p.backspace_bias == -INFINITY, "backspace_bias accepts -inf (backspacing off)");
	free(cause);
}

/* Greedy and filters that must reduce to greedy. */
static void
test_greedy(void)
{
	enum { N = 1000 };
	float logits[N], work[N], prob, mprob;
	struct sampler_params p;
	struct rng rng, lr;
	int am, ok;

	rng_init(&lr, 7);
	for (int i = 0; i < N; i++)
		logits[i] = rng_normal(&lr) * 3;
	am = test_argmax(logits, N);

	test_params_off(&p, 0);
	rng_init(&rng, 1);
	memcpy(work, logits, sizeof work);
	tap_ok(sampler_sample(&p, work, N, NULL, 0, &rng, &prob, &mprob) == am &&
	    prob == 1, "greedy picks the argmax with probability 1");
	{
		float probs[N];
		sampler_softmax(logits, probs, N);
		tap_ok(fabsf(mprob - probs[am]) < 1e-6f,
		    "model_prob is the softmax probability (%g vs %g)", mprob, probs[am]);
	}
	{
		float tie[5] = { 1, 3, 2, 3, -1 };
		tap_ok(sampler_sample(&p, tie, 5, NULL, 0, &rng, NULL, NULL) == 1,
		    "greedy ties go to the lowest id");
	}
	{
		float neg[3] = { -INFINITY, -INFINITY, -INFINITY };
		tap_ok(sampler_sample(&p, neg, 3, NULL, 0, &rng, &prob, NULL) == -1,
		    "all -inf: nothing to sample, -1");
	}

	ok = 1;
	test_params_off(&p, 1.5);
	p.top_k = 1;
	for (int s = 0; s < 200; s++) {
		memcpy(work, logits, sizeof work);
		if (sampler_sample(&p, work, N, NULL, 0, &rng, &prob, NULL) != am ||
		    prob != 1)
			ok = 0;
	}
	tap_ok(ok, "top_k=1 equals greedy");

	ok = 1;
	test_params_off(&p, 1.5);
	p.top_p = 1e-6;
	for (int s = 0; s < 200; s++) {
		memcpy(work, logits, sizeof work);
		if (sampler_sample(&p, work, N, NULL, 0, &rng, NULL, NULL) != am)
			ok = 0;
	}
	tap_ok(ok, "tiny top_p equals greedy");

	ok = 1;
	test_params_off(&p, 1.5);
	p.min_p = 1;
	for (int s = 0; s < 200; s++) {
		memcpy(work, logits, sizeof work);
		if (sampler_sample(&p, work, N, NULL, 0, &rng, NULL, NULL) != am)
			ok = 0;
	}
	tap_ok(ok, "min_p=1 equals greedy");

	{
		float l[6] = { 0, 0, -INFINITY, 0, NAN, 0 };
		int counts[6];

		test_params_off(&p, 1);
		test_counts(&p, l, 6, NULL, 0, 10000, 3, counts);
		tap_ok(counts[2] == 0 && counts[4] == 0 && counts[0] > 0 &&
		    counts[5] > 0, "-inf and NaN never sampled in 10000 draws (%d, %d)",
		    counts[2], counts[4]);
		sampler_defaults(&p);
		test_counts(&p, l, 6, NULL, 0, 10000, 4, counts);
		tap_ok(counts[2] == 0 && counts[4] == 0,
		    "... nor with the default chain");
		p.top_k = 2;
		test_counts(&p, l, 6, NULL, 0, 10000, 4, counts);
		tap_ok(counts[2] == 0 && counts[4] == 0 && counts[0] + counts[1] == 10000,
		    "... nor through top-k (lowest ids kept on ties)");
	}
}

/* Maximum |count/draws - expected| over n. */
static double
test_freq_err(const int *counts, const float *expected, int n, int draws)
{
	double worst = 0;

	for (int i = 0; i < n; i++) {
		double d = fabs((double)counts[i] / draws - expected[i]);
		if (d > worst)
			worst = d;
	}
	return worst;
}

/* Frequencies match the softmax at temperature 1 and 0.5. */
static void
test_frequencies(void)
{
	enum { N = 8, DRAWS = 200000 };
	const float logits[N] = { 1.0f, 0.5f, -0.3f, 2.0f, 0.0f, -1.5f, 1.2f, 0.7f };
	float scaled[N], expect[N], work[N], prob, mprob;
	int counts[N];
	struct sampler_params p;
	struct rng rng;
	double err;

	test_params_off(&p, 1);
	sampler_softmax(logits, expect, N);
	test_counts(&p, logits, N, NULL, 0, DRAWS, 11, counts);
	err = test_freq_err(counts, expect, N, DRAWS);
	tap_ok(err < 0.01, "T=1: frequencies match softmax (max error %.4f)", err);

	for (int i = 0; i < N; i++)
		scaled[i] = logits[i] / 0.5f;
	p.temperature = 0.5;
	sampler_softmax(scaled, expect, N);
	test_counts(&p, logits, N, NULL, 0, DRAWS, 12, counts);
	err = test_freq_err(counts, expect, N, DRAWS);
	tap_ok(err < 0.01, "T=0.5: frequencies match softmax(logits/0.5) (max error %.4f)",
	    err);

	/* Filters that keep everything must not change the T=0.5 distribution. */
	p.top_p = 0.99999;
	p.typical_p = 0.99999;
	p.min_p = 1e-6;
	test_counts(&p, logits, N, NULL, 0, DRAWS, 13, counts);
	err = test_freq_err(counts, expect, N, DRAWS);
	tap_ok(err < 0.01, "T=0.5 after no-op typical, top-p and min-p filters "
	    "(max error %.4f)", err);
	test_params_off(&p, 0.5);

	rng_init(&rng, 5);
	memcpy(work, logits, sizeof work);
	{
		int id = sampler_sample(&p, work, N, NULL, 0, &rng, &prob, &mprob);
		float orig[N];

		sampler_softmax(logits, orig, N);
		tap_ok(id >= 0 && fabsf(prob - expect[id]) < 1e-6f &&
		    fabsf(mprob - orig[id]) < 1e-6f,
		    "prob is the T=0.5 probability, model_prob the model's");
	}
}

/* top-k, top-p, min-p, typical-p and the repetition penalty. */
static void
test_filters(void)
{
	struct sampler_params p;
	int counts[8];
	double err;

	{
		const float l[8] = { 0.1f, 2.0f, -1.0f, 1.5f, 1.9f, 0.0f, 1.0f, 0.3f };
		test_params_off(&p, 1);
		p.top_k = 3;
		test_counts(&p, l, 8, NULL, 0, 20000, 21, counts);
		tap_ok(counts[1] + counts[3] + counts[4] == 20000 && counts[1] > 0 &&
		    counts[3] > 0 && counts[4] > 0,
		    "top_k=3 returns only the top 3 (ids 1, 4, 3), each of them");
	}

	{
		/* Probabilities 0.1 0.4 0.2 0.3 (shuffled): nucleus 0.5 = {1, 3}. */
		float l[4] = { logf(0.1f), logf(0.4f), logf(0.2f), logf(0.3f) };
		float expect[4] = { 0, 0.4f / 0.7f, 0, 0.3f / 0.7f }, prob;
		struct rng rng;
		int id;

		test_params_off(&p, 1);
		p.top_p = 0.5;
		test_counts(&p, l, 4, NULL, 0, 50000, 22, counts);
		err = test_freq_err(counts, expect, 4, 50000);
		tap_ok(counts[0] == 0 && counts[2] == 0 && err < 0.01,
		    "top_p=0.5 returns only {1, 3} in the ratio 4:3 (max error %.4f)", err);
		rng_init(&rng, 1);
		id = sampler_sample(&p, l, 4, NULL, 0, &rng, &prob, NULL);
		tap_ok(fabsf(prob - expect[id]) < 1e-6f,
		    "prob is renormalised over the nucleus (%g)", prob);

		/* min_p=0.6: keep p >= 0.24: {1, 3}; 0.5 keeps 0.2 as well. */
		test_params_off(&p, 1);
		p.min_p = 0.6;
		test_counts(&p, l, 4, NULL, 0, 20000, 23, counts);
		tap_ok(counts[0] == 0 && counts[2] == 0 && counts[1] > 0 && counts[3] > 0,
		    "min_p=0.6 keeps {1, 3}");
		p.min_p = 0.45;
		test_counts(&p, l, 4, NULL, 0, 20000, 23, counts);
		tap_ok(counts[0] == 0 && counts[2] > 0, "min_p=0.45 keeps id 2 too");
	}

	{
		/* Equal logits: weights are exactly 1, so the cut is exact. */
		const float l[4] = { 0.25f, 0.25f, 0.25f, 0.25f };

		test_params_off(&p, 1);
		p.top_p = 0.5;
		test_counts(&p, l, 4, NULL, 0, 2000, 27, counts);
		tap_ok(counts[0] > 0 && counts[1] > 0 && counts[0] + counts[1] == 2000,
		    "top_p=0.5 on four equal tokens keeps exactly two, the lowest ids");
		test_params_off(&p, 1);
		p.typical_p = 0.75;
		test_counts(&p, l, 4, NULL, 0, 2000, 28, counts);
		tap_ok(counts[3] == 0 && counts[0] > 0 && counts[2] > 0,
		    "typical_p=0.75 on four equal tokens keeps exactly three");
	}

	{
		/*
		 * p = 0.5 0.25 0.125 0.125: H = 1.75 ln 2, surprises 1, 2, 3, 3 ln 2,
		 * distances 0.75, 0.25, 1.25, 1.25 ln 2. typical_p=0.2 keeps only id 1
		 * (not the most likely!); 0.5 keeps {1, 0} in the ratio 1:2.
		 */
		float l[4] = { logf(0.5f), logf(0.25f), logf(0.125f), logf(0.125f) };
		float expect[4] = { 2.0f / 3, 1.0f / 3, 0, 0 };

		test_params_off(&p, 1);
		p.typical_p = 0.2;
		test_counts(&p, l, 4, NULL, 0, 5000, 24, counts);
		tap_ok(counts[1] == 5000, "typical_p=0.2 keeps only the typical token");
		p.typical_p = 0.5;
		test_counts(&p, l, 4, NULL, 0, 50000, 25, counts);
		err = test_freq_err(counts, expect, 4, 50000);
		tap_ok(err < 0.01, "typical_p=0.5 keeps {0, 1} in the ratio 2:1 "
		    "(max error %.4f)", err);
	}

	{
		float l[4] = { 1, 1, 1, 1 }, work[4], expect[4], mprob;
		const int hist[3] = { 0, 0, 0 };
		const int hist2[3] = { 0, 1, 2 };
		struct rng rng;
		double e = exp(0.5);

		test_params_off(&p, 1);
		p.repeat_penalty = 2;
		p.repeat_last_n = 64;
		for (int i = 0; i < 4; i++)
			expect[i] = (float)((i == 0 ? e : exp(1.0)) / (e + 3 * exp(1.0)));
		test_counts(&p, l, 4, hist, 3, 50000, 26, counts);
		err = test_freq_err(counts, expect, 4, 50000);
		tap_ok(err < 0.01 && counts[0] < 0.2 * 50000,
		    "repeat_penalty=2 lowers a repeated token to %.3f (max error %.4f)",
		    (double)counts[0] / 50000, err);

		rng_init(&rng, 1);
		memcpy(work, l, sizeof work);
		sampler_sample(&p, work, 4, hist2, 3, &rng, NULL, NULL);
		tap_ok(work[0] == 0.5f && work[1] == 0.5f && work[2] == 0.5f &&
		    work[3] == 1, "every distinct id in the window is divided once");
		p.repeat_last_n = 1;
		memcpy(work, l, sizeof work);
		sampler_sample(&p, work, 4, hist2, 3, &rng, NULL, NULL);
		tap_ok(work[0] == 1 && work[1] == 1 && work[2] == 0.5f,
		    "repeat_last_n=1 looks only at the last token");
		p.repeat_last_n = 0;
		memcpy(work, l, sizeof work);
		sampler_sample(&p, work, 4, hist2, 3, &rng, NULL, NULL);
		tap_ok(work[2] == 1, "repeat_last_n=0 disables the penalty");
		p.repeat_last_n = -1;
		{
			float neg[4] = { -1, -1, -1, -1 };
			sampler_sample(&p, neg, 4, hist2, 3, &rng, NULL, NULL);
			tap_ok(neg[0] == -2 && neg[2] == -2 && neg[3] == -1,
			    "negative logits are multiplied (whole history with -1)");
		}
		/* Greedy after the penalty, model_prob from before it. */
		{
			float g[3] = { 2, 1.5f, 0 }, orig[3];
			const int h0[1] = { 0 };
			float exp0;
			int id;

			sampler_softmax(g, orig, 3);
			exp0 = orig[0];
			p.temperature = 0;
			id = sampler_sample(&p, g, 3, h0, 1, &rng, NULL, &mprob);
			tap_ok(id == 1, "greedy sees the penalised logits (%d)", id);
			p.temperature = 1;
			p.top_k = 1;
			g[0] = 2;
			g[1] = 0.5f;
			id = sampler_sample(&p, g, 3, h0, 1, &rng, NULL, &mprob);
			sampler_softmax((const float[3]){ 2, 0.5f, 0 }, orig, 3);
			tap_ok(id == 0 && fabsf(mprob - orig[0]) < 1e-6f,
			    "model_prob of a penalised token is from the original logits "
			    "(%g vs %g, greedy case %g)", mprob, orig[0], exp0);
		}
	}
}

/* qsort comparator: descending logit then ascending index, via a global. */
static const float *test_sort_base;
static int
test_cmp_desc(const void *va, const void *vb)
{
	int a = *(const int *)va, b = *(const int *)vb;

	if (test_sort_base[a] != test_sort_base[b])
		return test_sort_base[a] > test_sort_base[b] ? -1 : 1;
	return (a > b) - (a < b);
}

/*
 * Draw `draws` tokens and count those outside the reference set `in` (n), or
 * whose reported probability is not probs[id] / mass, the renormalised
 * reference probability. Returns the number of such draws.
 */
static int
test_check_set(const struct sampler_params *p, const float *logits,
    const float *probs, const char *in, double mass, int n, int draws,
    uint64_t seed, int *distinct)
{
	float *work = malloc(sizeof(float) * n), prob;
	char *seen = calloc(n, 1);
	struct rng rng;
	int bad = 0;

	rng_init(&rng, seed);
	*distinct = 0;
	for (int d = 0; d < draws; d++) {
		int id;

		memcpy(work, logits, sizeof(float) * n);
		id = sampler_sample(p, work, n, NULL, 0, &rng, &prob, NULL);
		if (id < 0 || id >= n || !in[id] ||
		    fabs(prob - probs[id] / mass) > 1e-3 * probs[id] / mass) {
			if (bad++ < 3)
				tap_diag("id %d: prob %g, expected %g%s", id, prob,
				    id >= 0 && id < n ? probs[id] / mass : 0,
				    id >= 0 && id < n && in[id] ? "" : " (outside)");
			continue;
		}
		if (!seen[id]++)
			(*distinct)++;
	}
	free(work);
	free(seen);
	return bad;
}

/* Reference typical set: order by |-log p - H| then by logit then id. */
static const float *test_typ_key;
static int
test_cmp_typical(const void *va, const void *vb)
{
	int a = *(const int *)va, b = *(const int *)vb;

	if (test_typ_key[a] != test_typ_key[b])
		return test_typ_key[a] < test_typ_key[b] ? -1 : 1;
	return test_cmp_desc(va, vb);
}

/* The large-vocabulary path: nucleus beyond the first partial sort, determinism. */
static void
test_large(void)
{
	enum { N = 50304 };
	float *logits = malloc(sizeof(float) * N), *work = malloc(sizeof(float) * N);
	float *probs = malloc(sizeof(float) * N);
	int *order = malloc(sizeof(int) * N), *counts = malloc(sizeof(int) * N);
	char *in = calloc(N, 1);
	struct sampler_params p;
	struct rng lr, r1, r2;
	int nucleus = 0, ok, outside = 0, distinct = 0;
	double cum = 0, t0, dt;
	int seq1[100], seq2[100];

	rng_init(&lr, 99);
	for (int i = 0; i < N; i++)
		logits[i] = rng_normal(&lr) * 2;

	/* Reference nucleus for top_p = 0.9 by a full sort. */
	sampler_softmax(logits, probs, N);
	for (int i = 0; i < N; i++)
		order[i] = i;
	test_sort_base = logits;
	qsort(order, N, sizeof *order, test_cmp_desc);
	while (nucleus < N && cum < 0.9) {
		cum += probs[order[nucleus]];
		in[order[nucleus++]] = 1;
	}
	test_params_off(&p, 1);
	p.top_p = 0.9;
	outside = test_check_set(&p, logits, probs, in, cum, N, 300, 31, &distinct);
	tap_ok(outside == 0 && nucleus > 256, "top_p=0.9 over %d tokens: the "
	    "reference nucleus of %d with renormalised probabilities (%d distinct "
	    "drawn, %d wrong)", N, nucleus, distinct, outside);

	/* Reference typical set for typical_p = 0.5, then top_p = 0.9 on it. */
	{
		float *key = malloc(sizeof(float) * N);
		double h = sampler_softmax(logits, probs, N), mass = 0;
		int kept = 0;

		for (int i = 0; i < N; i++) {
			key[i] = (float)fabs(-log((double)probs[i]) - h);
			order[i] = i;
		}
		test_typ_key = key;
		qsort(order, N, sizeof *order, test_cmp_typical);
		memset(in, 0, N);
		while (kept < N && mass < 0.5) {
			mass += probs[order[kept]];
			in[order[kept++]] = 1;
		}
		test_params_off(&p, 1);
		p.typical_p = 0.5;
		outside = test_check_set(&p, logits, probs, in, mass, N, 300, 33,
		    &distinct);
		tap_ok(outside == 0 && kept > 256, "typical_p=0.5 over %d tokens: the "
		    "reference set of %d, H = %.3f (%d distinct drawn, %d wrong)", N,
		    kept, h, distinct, outside);
		free(key);
	}
	sampler_softmax(logits, probs, N);
	for (int i = 0; i < N; i++)
		order[i] = i;
	qsort(order, N, sizeof *order, test_cmp_desc);

	/* top_k = 40: exactly the 40 best can come out. */
	test_params_off(&p, 5);
	p.top_k = 40;
	test_counts(&p, logits, N, NULL, 0, 2000, 32, counts);
	memset(in, 0, N);
	for (int i = 0; i < 40; i++)
		in[order[i]] = 1;
	outside = distinct = 0;
	for (int i = 0; i < N; i++) {
		if (counts[i] > 0 && !in[i])
			outside++;
		if (counts[i] > 0)
			distinct++;
	}
	tap_ok(outside == 0 && distinct == 40,
	    "top_k=40 at T=5 draws all of and only the 40 best (%d, %d outside)",
	    distinct, outside);

	/* Same seed, same sequence; the default chain with a penalty. */
	sampler_defaults(&p);
	p.repeat_penalty = 1.1;
	rng_init(&r1, 2024);
	rng_init(&r2, 2024);
	ok = 1;
	t0 = util_now();
	for (int s = 0; s < 100; s++) {
		memcpy(work, logits, sizeof(float) * N);
		seq1[s] = sampler_sample(&p, work, N, seq1, s, &r1, NULL, NULL);
	}
	dt = util_now() - t0;
	for (int s = 0; s < 100; s++) {
		memcpy(work, logits, sizeof(float) * N);
		seq2[s] = sampler_sample(&p, work, N, seq2, s, &r2, NULL, NULL);
		if (seq1[s] != seq2[s] || seq1[s] < 0)
			ok = 0;
	}
	tap_ok(ok, "same seed, same sequence");
	tap_diag("default chain on n=%d: %.1f us per token", N, dt / 100 * 1e6);
	rng_init(&r2, 2025);
	distinct = 0;
	for (int s = 0; s < 100; s++) {
		memcpy(work, logits, sizeof(float) * N);
		if (sampler_sample(&p, work, N, seq2, s, &r2, NULL, NULL) != seq1[s])
			distinct++;
	}
	tap_ok(distinct > 0, "another seed, another sequence (%d of 100 differ)",
	    distinct);

	free(logits);
	free(work);
	free(probs);
	free(order);
	free(counts);
	free(in);
}

/* sampler_softmax and sampler_top. */
static void
test_softmax_top(void)
{
	enum { N = 1000 };
	float l[N], probs[N];
	struct sampler_top top[5];
	double h, sum = 0;
	int k;

	for (int i = 0; i < N; i++)
		l[i] = 3.25f;
	h = sampler_softmax(l, probs, N);
	for (int i = 0; i < N; i++)
		sum += probs[i];
	tap_ok(fabs(h - log(N)) < 1e-6 && fabs(sum - 1) < 1e-5,
	    "uniform: entropy %.9f = log %d, probabilities sum to 1", h, N);
	{
		float one[3] = { 0, -INFINITY, -INFINITY };
		h = sampler_softmax(one, probs, 3);
		tap_ok(h == 0 && probs[0] == 1 && probs[1] == 0,
		    "a single possible token has entropy 0");
	}
	{
		float two[2] = { 0, 0 };
		h = sampler_softmax(two, probs, 2);
		tap_ok(fabs(h - log(2)) < 1e-7, "two equal tokens: log 2");
	}

	{
		const float p[7] = { 0.1f, 0.3f, 0.05f, 0.3f, 0.2f, 0.0f, 0.05f };
		k = sampler_top(p, 7, top, 4);
		tap_ok(k == 4 && top[0].id == 1 && top[1].id == 3 && top[2].id == 4 &&
		    top[3].id == 0 && top[0].prob == 0.3f && top[3].prob == 0.1f,
		    "sampler_top: best first, ties by lowest id");
		k = sampler_top(p, 3, top, 5);
		tap_ok(k == 3 && top[0].id == 1 && top[1].id == 0 && top[2].id == 2,
		    "sampler_top with k > n returns n");
	}
}

/* CPU features, BLAS core name and the BLAS self-check. */
static void
test_cpu(void)
{
	const char *core = cpu_blas_core(), *best = cpu_best_coretype();
	char *cause = NULL;
	int rc;

	tap_diag("avx2 %d, avx512 %d, BLAS core %s, best coretype %s, %d of %d cpus",
	    cpu_has_avx2(), cpu_has_avx512(), core ? core : "(none)",
	    best ? best : "(none)", cpu_threads(), cpu_count());
	rc = cpu_blas_selfcheck(&cause);
	tap_ok(rc == 0, "BLAS self-check: %s", cause ? cause : "ok");
	free(cause);
	tap_ok(best == NULL || (strcmp(best, "SkylakeX") == 0 && cpu_has_avx512() &&
	    cpu_has_avx2()) || (strcmp(best, "Haswell") == 0 && cpu_has_avx2()),
	    "best coretype agrees with the flags");
	tap_ok(best != NULL || !cpu_has_avx2() || !cpu_has_avx512(),
	    "a CPU with AVX2 and AVX-512 gets a coretype");
	tap_ok(cpu_core_is_generic("Prescott") && cpu_core_is_generic("prescott") &&
	    cpu_core_is_generic("Nehalem") && cpu_core_is_generic("Core2") &&
	    !cpu_core_is_generic("Haswell") && !cpu_core_is_generic("SkylakeX") &&
	    !cpu_core_is_generic("Zen") && !cpu_core_is_generic(NULL),
	    "generic core names");
	tap_ok(cpu_count() >= 1 && cpu_threads() >= 1, "thread counts");
}

/* Run every group. */
int
main(void)
{
	test_table();
	test_greedy();
	test_frequencies();
	test_filters();
	test_softmax_top();
	test_large();
	test_cpu();
	return tap_done();
}
