/*
 * test-eval.c: the engine parts of `seqmatch eval`: text statistics on
 * hand-made event logs (erases, re-emissions, runs, inconsistent logs) and
 * token sequences (distinct-n, repetition rate) with exact expected numbers;
 * the featurizer against a KV cache filled one token at a time, truncation,
 * reuse of the cache across texts, and empty texts; and the event logs of the
 * real generator with <bksp> turned on, replayed and counted consistently;
 * and eval's erase outcomes (app/cmd-eval-erases.c) on hand-made and real logs.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-eval.h"
#include "featurize.h"
#include "generate.h"
#include "gpt.h"
#include "tap.h"
#include "sampler.h"
#include "textstats.h"
#include "tokenizer.h"

#define A GENERATE_EVENT_APPEND
#define E GENERATE_EVENT_ERASE
#define S GENERATE_EVENT_STOP

/* An event with a type, a token and a slot. */
static struct generate_event
ev(enum generate_event_type type, int token, int slot)
{
	struct generate_event e;

	memset(&e, 0, sizeof e);
	e.type = type;
	e.token = token;
	e.slot = slot;
	return e;
}

/* Whether two doubles agree to 1e-15. */
static int
near(double a, double b)
{
	return fabs(a - b) <= 1e-15;
}

/* Backspace, re-emission, runs, gross and net on two logs with erases. */
static void
test_events(void)
{
	/* Prompt of 3 tokens: slots start at 3. */
	struct generate_event log1[] = {
		ev(A, 10, 3), ev(A, 11, 4), ev(E, 11, 4), ev(A, 11, 4), /* re-emission */
		ev(A, 12, 5), ev(E, 12, 5), ev(E, 11, 4), ev(A, 13, 4), /* run of 2 */
		ev(A, 14, 5), ev(S, -1, 5)
	};
	/* Prompt of 2 tokens: a run of 3 back to the prompt, then a re-emission. */
	struct generate_event log2[] = {
		ev(A, 5, 2), ev(A, 6, 3), ev(A, 7, 4), ev(E, 7, 4), ev(E, 6, 3),
		ev(E, 5, 2), ev(A, 5, 2), ev(A, 8, 3), ev(S, -1, 3)
	};
	struct generate_event plain[] = { ev(A, 1, 4), ev(A, 2, 5), ev(S, -1, 5) };
	struct textstats s;
	char *cause = NULL;
	int *ids, n;

	tap_ok(textstats_replay(log1, 10, 3, &ids, &n, &cause) == 0 && n == 3 &&
	    ids[0] == 10 && ids[1] == 13 && ids[2] == 14, "replay: net ids 10 13 14");
	free(ids);
	tap_ok(textstats_replay(log2, 9, 2, &ids, &n, &cause) == 0 && n == 2 &&
	    ids[0] == 5 && ids[1] == 8, "replay: net ids 5 8 after erasing everything");
	free(ids);

	textstats_init(&s);
	tap_ok(textstats_add_events(&s, log1, 10, 3, &cause) == 0, "add log 1");
	textstats_finish(&s);
	tap_ok(s.appends == 6 && s.erases == 3 && s.actions == 9 && s.net_tokens == 3,
	    "log 1: gross 6, erased 3, actions 9, net 3 (got %ld %ld %ld %ld)",
	    s.appends, s.erases, s.actions, s.net_tokens);
	tap_ok(near(s.backspace_rate, 3.0 / 9.0), "log 1: backspace rate 3/9 (%.17g)",
	    s.backspace_rate);
	tap_ok(s.re_emissions == 1 && near(s.re_emission_rate, 1.0 / 3.0),
	    "log 1: one re-emission of three erases (%ld, %.17g)", s.re_emissions,
	    s.re_emission_rate);
	tap_ok(s.longest_backspace_run == 2, "log 1: longest run 2 (%ld)",
	    s.longest_backspace_run);

	tap_ok(textstats_add_events(&s, log2, 9, 2, &cause) == 0, "add log 2");
	tap_ok(textstats_add_events(&s, plain, 3, 4, &cause) == 0, "add a log with no erase");
	textstats_finish(&s);
	tap_ok(s.logs == 3 && s.appends == 13 && s.erases == 6 && s.actions == 19 &&
	    s.net_tokens == 7, "three logs: gross 13, erased 6, actions 19, net 7 "
	    "(got %ld %ld %ld %ld)", s.appends, s.erases, s.actions, s.net_tokens);
	tap_ok(near(s.backspace_rate, 6.0 / 19.0), "three logs: backspace rate 6/19 (%.17g)",
	    s.backspace_rate);
	tap_ok(s.re_emissions == 2 && near(s.re_emission_rate, 2.0 / 6.0),
	    "three logs: re-emission rate 2/6 (%ld, %.17g)", s.re_emissions,
	    s.re_emission_rate);
	tap_ok(s.longest_backspace_run == 3, "three logs: longest run 3 (%ld)",
	    s.longest_backspace_run);
	textstats_release(&s);

	/* No erase at all: rates are 0 and the denominators say why. */
	textstats_init(&s);
	textstats_add_events(&s, plain, 3, 4, &cause);
	textstats_finish(&s);
	tap_ok(s.erases == 0 && s.backspace_rate == 0 && s.re_emission_rate == 0 &&
	    s.longest_backspace_run == 0 && s.net_tokens == 2,
	    "no erase: rates 0, run 0, net 2");
	textstats_release(&s);

	/* An erase run that is split by an append is two runs. */
	{
		struct generate_event split[] = {
			ev(A, 1, 1), ev(A, 2, 2), ev(E, 2, 2), ev(A, 3, 2), ev(E, 3, 2),
			ev(S, -1, 1)
		};
		textstats_init(&s);
		tap_ok(textstats_add_events(&s, split, 6, 1, &cause) == 0 &&
		    s.longest_backspace_run == 1 && s.re_emissions == 0,
		    "erases split by an append: run 1, erase then a different token is "
		    "no re-emission");
		textstats_release(&s);
	}
}

/* Inconsistent logs are refused with a message. */
static void
test_bad_logs(void)
{
	struct generate_event prompt_erase[] = { ev(E, 4, 2) };
	struct generate_event wrong_token[] = { ev(A, 4, 2), ev(E, 5, 2) };
	struct generate_event wrong_slot[] = { ev(A, 4, 3) };
	struct generate_event erase_slot[] = { ev(A, 4, 2), ev(A, 5, 3), ev(E, 4, 2) };
	struct textstats s;
	char *cause = NULL;
	int *ids, n, r;

	textstats_init(&s);
	r = textstats_add_events(&s, prompt_erase, 1, 2, &cause);
	tap_ok(r == -1 && cause != NULL && strstr(cause, "prompt") != NULL,
	    "erasing a prompt token is refused (%s)", cause ? cause : "");
	free(cause);
	cause = NULL;
	r = textstats_replay(wrong_token, 2, 2, &ids, &n, &cause);
	tap_ok(r == -1 && cause != NULL,
	    "erasing a token that is not the last one is refused (%s)", cause ? cause : "");
	free(cause);
	cause = NULL;
	r = textstats_replay(wrong_slot, 1, 2, &ids, &n, &cause);
	tap_ok(r == -1 && cause != NULL,
	    "an append past the end is refused (%s)", cause ? cause : "");
	free(cause);
	cause = NULL;
	r = textstats_replay(erase_slot, 3, 2, &ids, &n, &cause);
	tap_ok(r == -1 && cause != NULL,
	    "an erase of an earlier slot is refused (%s)", cause ? cause : "");
	free(cause);
	tap_ok(s.logs == 0 && s.actions == 0, "a refused log adds nothing");
	textstats_release(&s);
}

/* Distinct-n and the repetition rate on known sequences. */
static void
test_ngrams(void)
{
	int g1[] = { 1, 2, 1, 2 }, g2[] = { 1, 2, 3 };
	int g3[] = { 7, 7, 7, 7, 7, 7 }, g4[] = { 1, 2, 3, 4, 1, 2, 3, 4, 1 };
	struct textstats s;
	char *cause = NULL;
	int *big, ok = 1;

	textstats_init(&s);
	textstats_add_ids(&s, g1, 4, &cause);
	textstats_add_ids(&s, g2, 3, &cause);
	textstats_finish(&s);
	/*
	 * 1-grams: 7, distinct {1,2,3}. 2-grams: 12 21 12 | 12 23: 5, distinct 3
	 * (no 2-gram "2 1" across the boundary). 3-grams: 121 212 | 123: 3, all distinct.
	 */
	tap_ok(s.ngrams[0] == 7 && s.distinct_ngrams[0] == 3 && near(s.distinct[0], 3.0 / 7),
	    "distinct-1 = 3/7 (%ld/%ld)", s.distinct_ngrams[0], s.ngrams[0]);
	tap_ok(s.ngrams[1] == 5 && s.distinct_ngrams[1] == 3 && near(s.distinct[1], 3.0 / 5),
	    "distinct-2 = 3/5, n-grams do not cross generations (%ld/%ld)",
	    s.distinct_ngrams[1], s.ngrams[1]);
	tap_ok(s.ngrams[2] == 3 && s.distinct_ngrams[2] == 3 && s.distinct[2] == 1.0,
	    "distinct-3 = 3/3 (%ld/%ld)", s.distinct_ngrams[2], s.ngrams[2]);
	tap_ok(s.repetition_sequences == 1 && s.repetition_rate == 0,
	    "repetition: only the 4-token generation counts, no repeat");
	textstats_release(&s);

	/* 7x6: 3 4-grams, 2 repeats. 123412341: 6 4-grams, 2 repeats. */
	textstats_init(&s);
	textstats_add_ids(&s, g1, 4, &cause);
	textstats_add_ids(&s, g2, 3, &cause);
	textstats_add_ids(&s, g3, 6, &cause);
	textstats_add_ids(&s, g4, 9, &cause);
	textstats_finish(&s);
	tap_ok(s.repetition_sequences == 3 &&
	    near(s.repetition_rate, (0.0 + 2.0 / 3 + 2.0 / 6) / 3),
	    "repetition rate = mean(0, 2/3, 1/3) = 1/3 (%.17g)", s.repetition_rate);
	tap_ok(s.sequences == 4, "4 sequences counted");
	textstats_release(&s);

	/* Empty statistics: every rate 0. */
	textstats_init(&s);
	textstats_add_ids(&s, NULL, 0, &cause);
	textstats_finish(&s);
	tap_ok(s.sequences == 1 && s.ngrams[0] == 0 && s.distinct[0] == 0 &&
	    s.repetition_rate == 0, "an empty generation: no n-gram, rates 0");
	textstats_release(&s);

	/* Many keys (the sets grow): 5000 distinct ids, then the same again. */
	big = malloc(5000 * sizeof *big);
	for (int i = 0; i < 5000; i++)
		big[i] = i * 7919;
	textstats_init(&s);
	textstats_add_ids(&s, big, 5000, &cause);
	textstats_finish(&s);
	ok = s.distinct[0] == 1.0 && s.distinct[2] == 1.0;
	textstats_add_ids(&s, big, 5000, &cause);
	textstats_finish(&s);
	tap_ok(ok && s.distinct[0] == 0.5 && s.distinct_ngrams[1] == 4999 &&
	    s.repetition_rate == 0, "5000 distinct ids twice: distinct-1 1 then 1/2");
	textstats_release(&s);
	free(big);
}

static const char train_text[] =
    "the quick brown fox jumps over the lazy dog. the dog sleeps. "
    "a quick brown dog jumps over the lazy fox. the fox runs away quickly. "
    "over and over the fox and the dog play in the brown grass.";

/* The hidden state of the last token with the cache filled one token at a time. */
static int
reference_feature(const struct gpt_model *m, const int *ids, int n, float *out)
{
	struct gpt_kv *kv;
	char *cause = NULL;

	if ((kv = gpt_kv_new(m, gpt_config(m)->max_seq_len, &cause)) == NULL)
		return -1;
	for (int i = 0; i < n; i++)
		if (gpt_kv_append(m, kv, ids + i, 1, &cause) != 0) {
			gpt_kv_free(kv);
			free(cause);
			return -1;
		}
	memcpy(out, gpt_kv_hidden(kv, n - 1), (size_t)gpt_config(m)->channels * sizeof *out);
	gpt_kv_free(kv);
	return 0;
}

/* Event collector for generate_run. */
struct collect {
	struct generate_event ev[512];
	int n;
};

/* Keep each event (the log is bounded by twice max_tokens actions). */
static int
collect_event(const struct generate_event *e, void *arg)
{
	struct collect *c = arg;

	if (c->n < 512)
		c->ev[c->n++] = *e;
	return 0;
}

/* The generator's own logs with erases: replay and counts agree with its stop event. */
static void
test_generator(struct gpt_model *m, const struct tokenizer *tok)
{
	struct sampler_params p;
	struct textstats s;
	struct cmd_eval_erases er = { 0, 0, 0, 0 };
	struct collect *c = calloc(1, sizeof *c);
	const struct generate_event *stop;
	int prompt[3] = { 't', 'h', 'e' }, bad = 0;
	long erases = 0, appends = 0;
	char *cause = NULL;

	gpt_init_bksp(m);
	gpt_set_bksp(m, 1);
	sampler_defaults(&p);
	p.backspace_bias = 3;
	p.max_tokens = 12;
	textstats_init(&s);
	for (int seed = 1; seed <= 20; seed++) {
		p.seed = seed;
		c->n = 0;
		if (generate_run(m, tok, &p, prompt, 3, collect_event, c, NULL, &cause) != 0 ||
		    c->n == 0 || c->ev[c->n - 1].type != GENERATE_EVENT_STOP) {
			bad++;
			continue;
		}
		stop = &c->ev[c->n - 1];
		if (textstats_add_events(&s, c->ev, c->n, 3, &cause) != 0) {
			tap_diag("seed %d: %s", seed, cause);
			free(cause);
			cause = NULL;
			bad++;
			continue;
		}
		cmd_eval_erases_add(&er, c->ev, c->n);
		erases += stop->n_erased;
		appends += stop->n_generated;
		if (s.net_tokens != appends - erases || s.erases != erases ||
		    s.appends != appends)
			bad++;
	}
	textstats_finish(&s);
	tap_ok(er.erases == s.erases && er.corrections + er.retypes + er.unfollowed ==
	    er.erases && er.retypes >= s.re_emissions,
	    "eval's erase outcomes on the generator's logs add up (%ld corrections, %ld "
	    "retypes, %ld not followed)", er.corrections, er.retypes, er.unfollowed);
	tap_ok(bad == 0 && s.erases > 0 && s.logs == 20,
	    "the generator's logs with <bksp>: consistent, counts match its stop events "
	    "(%ld appends, %ld erases, %ld re-emissions, longest run %ld)", s.appends,
	    s.erases, s.re_emissions, s.longest_backspace_run);
	textstats_release(&s);
	free(c);
}

/* Features against one-token-at-a-time decoding, truncation, reuse, empty texts. */
static void
test_featurize(void)
{
	struct tokenizer *tok = NULL;
	struct gpt_model *m;
	struct gpt_config cfg;
	struct featurizer *f, *f5;
	const char *ta = "the lazy fox jumps over the quick dog";
	const char *tb = "a brown dog sleeps in the grass";
	char longtext[2000];
	float fa[32], fb[32], fa2[32], ref[32];
	int *ids = NULL, ntok = 0, trunc = 0, r;
	size_t n = 0;
	char *cause = NULL;
	double d;

	if (tokenizer_train((const uint8_t *)train_text, strlen(train_text), 280, &tok,
	    &cause) != 0) {
		tap_ok(0, "train a tokenizer: %s", cause);
		return;
	}
	memset(&cfg, 0, sizeof cfg);
	cfg.max_seq_len = 24;
	cfg.vocab_size = tokenizer_vocab_size(tok);
	cfg.padded_vocab_size = (cfg.vocab_size + 1 + 7) / 8 * 8;
	cfg.num_layers = 2;
	cfg.num_heads = 2;
	cfg.channels = 32;
	if ((m = gpt_new(&cfg, &cause)) == NULL) {
		tap_ok(0, "a tiny model: %s", cause);
		tokenizer_free(tok);
		return;
	}
	gpt_init_random(m, 7);

	f = featurize_new(m, tok, 0, &cause);
	tap_ok(f != NULL && featurize_max_tokens(f) == 24 && featurize_dim(f) == 32,
	    "default max tokens 1024 is capped at the context (24); width C");
	if (f == NULL)
		goto out;

	tokenizer_encode(tok, (const uint8_t *)ta, strlen(ta), &ids, &n, &cause);
	r = featurize_text(f, (const uint8_t *)ta, strlen(ta), fa, &ntok, &trunc, &cause);
	reference_feature(m, ids, (int)n, ref);
	d = tap_maxdiff(fa, ref, 32);
	tap_ok(r == 0 && ntok == (int)n && !trunc && n > 3 && d < 1e-5,
	    "feature = final hidden state at the last token, one-token-at-a-time cache "
	    "(%zu tokens, max diff %.3g)", n, d);

	r = featurize_text(f, (const uint8_t *)tb, strlen(tb), fb, NULL, NULL, &cause);
	featurize_text(f, (const uint8_t *)ta, strlen(ta), fa2, NULL, NULL, &cause);
	tap_ok(r == 0 && memcmp(fa, fa2, sizeof fa) == 0 && tap_maxdiff(fa, fb, 32) > 1e-3,
	    "the cache is reused across texts: same text, same feature; another text "
	    "differs");

	/* Truncation to 5 tokens equals the feature of the first 5 ids. */
	f5 = featurize_new(m, tok, 5, &cause);
	r = featurize_text(f5, (const uint8_t *)ta, strlen(ta), fb, &ntok, &trunc, &cause);
	reference_feature(m, ids, 5, ref);
	d = tap_maxdiff(fb, ref, 32);
	tap_ok(r == 0 && ntok == 5 && trunc && d < 1e-5,
	    "max_tokens 5: the first 5 tokens only, reported as truncated (max diff %.3g)",
	    d);
	r = featurize_ids(f5, ids, (int)n, fa2, &cause);
	tap_ok(r == 0 && tap_maxdiff(fa2, fb, 32) == 0, "featurize_ids truncates the same way");
	featurize_free(f5);

	/* A text far longer than the context is truncated, not refused. */
	memset(longtext, 0, sizeof longtext);
	while (strlen(longtext) + strlen(train_text) < sizeof longtext)
		strcat(longtext, train_text);
	r = featurize_text(f, (const uint8_t *)longtext, strlen(longtext), fb, &ntok, &trunc,
	    &cause);
	tap_ok(r == 0 && ntok == 24 && trunc, "a long text is cut to the context (%d tokens)",
	    ntok);

	memcpy(fb, fa, sizeof fb);
	r = featurize_text(f, (const uint8_t *)"", 0, fb, &ntok, NULL, &cause);
	tap_ok(r == FEATURIZE_EMPTY && ntok == 0 && memcmp(fa, fb, sizeof fa) == 0,
	    "an empty text is reported as empty and leaves the output alone");
	tap_ok(featurize_ids(f, ids, 0, fb, &cause) == FEATURIZE_EMPTY,
	    "no ids: empty");
	featurize_free(f);
	test_generator(m, tok);
out:
	free(ids);
	free(cause);
	gpt_free(m);
	tokenizer_free(tok);
}

/* eval's erase outcomes on hand-made logs: corrections, retypes, erases never followed. */
static void
test_erase_outcomes(void)
{
	struct generate_event log1[] = { /* prompt of 3 */
		ev(A, 10, 3), ev(A, 11, 4), ev(E, 11, 4), ev(A, 11, 4), /* retype */
		ev(A, 12, 5), ev(E, 12, 5), ev(E, 11, 4), ev(A, 13, 4), /* 11 -> 13 */
		ev(A, 14, 5), ev(S, -1, 5)                               /* 12 -> 14 */
	};
	struct generate_event log2[] = { /* back to the prompt; slot 4 never typed again */
		ev(A, 5, 2), ev(A, 6, 3), ev(A, 7, 4), ev(E, 7, 4), ev(E, 6, 3),
		ev(E, 5, 2), ev(A, 5, 2), ev(A, 8, 3), ev(S, -1, 3)
	};
	/* Erase, erase, type, type, the same tokens: two retypes (one re-emission). */
	struct generate_event log3[] = {
		ev(A, 1, 2), ev(A, 2, 3), ev(E, 2, 3), ev(E, 1, 2), ev(A, 1, 2), ev(A, 2, 3),
		ev(S, -1, 3)
	};
	struct generate_event log4[] = { ev(A, 1, 2), ev(A, 2, 3), ev(S, -1, 3) };
	struct generate_event log5[] = { ev(A, 1, 2), ev(E, 1, 2), ev(S, -1, 1) };
	struct cmd_eval_erases c = { 0, 0, 0, 0 }, one = { 0, 0, 0, 0 };
	struct textstats s;
	char *cause = NULL;
	int r;

	r = cmd_eval_erases_add(&one, log3, 7);
	tap_ok(r == 0 && one.erases == 2 && one.retypes == 2 && one.corrections == 0 &&
	    one.unfollowed == 0,
	    "erase, erase, type, type the same: 2 retypes (got %ld of %ld erases)",
	    one.retypes, one.erases);
	textstats_init(&s);
	r = textstats_add_events(&s, log3, 7, 2, &cause);
	tap_ok(r == 0 && s.re_emissions == 1,
	    "  where textstats counts 1 re-emission (%ld)", s.re_emissions);
	textstats_release(&s);
	free(cause);
	cmd_eval_erases_add(&c, log1, 10);
	tap_ok(c.erases == 3 && c.corrections == 2 && c.retypes == 1 && c.unfollowed == 0,
	    "a retype and two corrections (%ld, %ld, %ld)", c.corrections, c.retypes,
	    c.unfollowed);
	cmd_eval_erases_add(&c, log2, 9);
	cmd_eval_erases_add(&c, log3, 7);
	cmd_eval_erases_add(&c, log4, 3);
	cmd_eval_erases_add(&c, log5, 3);
	cmd_eval_erases_add(&c, log5, 0);
	tap_ok(c.erases == 9 && c.corrections == 3 && c.retypes == 4 && c.unfollowed == 2,
	    "five logs: 9 erases = 3 corrections + 4 retypes + 2 not followed (%ld = %ld + "
	    "%ld + %ld)", c.erases, c.corrections, c.retypes, c.unfollowed);
}

/* Run every test. */
int
main(void)
{
	test_events();
	test_erase_outcomes();
	test_bad_logs();
	test_ngrams();
	test_featurize();
	return tap_done();
}
