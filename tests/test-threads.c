/*
 * test-threads.c: the fine-tune trainer in its thread while a generator
 * thread reads the published weight snapshots: pause, resume, stop, versions
 * that move, and (in the ThreadSanitizer build) no data race and no
 * use-after-free of a snapshot.
 */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include "finetune.h"
#include "generate.h"
#include "gpt.h"
#include "sampler.h"
#include "tap.h"
#include "tokenizer.h"
#include "train.h"
#include "util.h"

struct reader {
	struct finetune *ft;
	const struct tokenizer *tok;
	long versions_seen, last_version, generations;
	long hash_bad;  /* snapshots whose stored hash is not their weights' */
	int done;
};

/* A generator thread: takes the latest snapshot for each generation. */
static void *
reader_thread(void *arg)
{
	struct reader *r = arg;
	struct sampler_params sp;
	int prompt[2] = { 'c', 'a' };

	sampler_defaults(&sp);
	sp.max_tokens = 16;
	while (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) {
		struct snapshot *s = finetune_snapshot(r->ft);
		if (s->version != r->last_version) {
			const struct gpt_model *sm = s->model;

			r->versions_seen++;
			r->last_version = s->version;
			/* The UI's run hash (app/ui-side.c) is the one the trainer stored. */
			if (s->hash != util_fnv1a(UTIL_FNV_INIT, gpt_params(sm)->wte,
			    gpt_num_params(sm) * sizeof(float)))
				r->hash_bad++;
		}
		sp.seed = r->generations;
		generate_run(s->model, r->tok, &sp, prompt, 2, NULL, NULL, NULL, NULL);
		r->generations++;
		snapshot_unref(s);
	}
	return NULL;
}

/* A generation's events, and the live changes a test makes at given steps. */
struct live {
	int ids[512], types[512], reloads[512];
	float model_prob[512];
	int n;
	struct generate_event stop;
	int step;                        /* refresh calls so far */
	int at;                          /* the step that changes something (-1: none) */
	struct sampler_params change;    /* new parameters at `at` (if has_change) */
	int has_change;
	const struct gpt_model *switch_to; /* new weights at `at`, or NULL */
	struct gpt_model *free_at_switch; /* the first weights, freed once switched off */
	int effective[512], n_effective; /* the effective sequence when the change came */
	/* Threaded: switch once to a newer snapshot of ft than `held` at step `at`. */
	struct finetune *ft;
	struct snapshot *held;
	long waited_from;
};

/* Record events (the effective sequence is replayed from them). */
static int
live_event(const struct generate_event *ev, void *arg)
{
	struct live *l = arg;

	if (ev->type == GENERATE_EVENT_STOP) {
		l->stop = *ev;
		return 0;
	}
	if (l->n < 512) {
		l->ids[l->n] = ev->token;
		l->types[l->n] = ev->type;
		l->reloads[l->n] = ev->n_reloads;
		l->model_prob[l->n] = ev->model_prob;
		l->n++;
	}
	return 0;
}

/* The effective sequence: prompt, then the events so far. */
static void
live_effective(struct live *l, const int *prompt, int n_prompt)
{
	memcpy(l->effective, prompt, (size_t)n_prompt * sizeof *prompt);
	l->n_effective = n_prompt;
	for (int i = 0; i < l->n; i++) {
		if (l->types[i] == GENERATE_EVENT_APPEND)
			l->effective[l->n_effective++] = l->ids[i];
		else
			l->n_effective--;
	}
}

static const int live_prompt[3] = { 'a', 'b', 'c' };

/* Refresh: at step `at`, hand over the new parameters and/or weights. */
static int
live_refresh(struct sampler_params *p, const struct gpt_model **m, void *arg)
{
	struct live *l = arg;

	if (l->step++ != l->at)
		return 0;
	live_effective(l, live_prompt, 3);
	if (l->has_change)
		*p = l->change;
	if (l->switch_to != NULL)
		*m = l->switch_to;
	/* The engine must not read the old weights after this (ASan catches it). */
	gpt_free(l->free_at_switch);
	l->free_at_switch = NULL;
	return 1;
}

/* Greedy, no backspace: the base parameters of the live tests. */
static void
live_params(struct sampler_params *p, int max_tokens)
{
	sampler_defaults(p);
	p->temperature = 0;
	p->backspace_bias = -INFINITY;
	p->max_tokens = max_tokens;
	p->seed = 1;
}

/* Run from live_prompt with l's changes. */
static int
live_run(const struct gpt_model *m, const struct tokenizer *tok,
    const struct sampler_params *p, struct live *l, char **cause)
{
	l->n = 0;
	l->step = 0;
	return generate_run_live(m, tok, p, live_prompt, 3, live_event, live_refresh, l, NULL,
	    cause);
}

/*
 * Whether b's events equal a's from event `from` on: ids, kinds and model
 * probabilities bit for bit (the same computation: one prefill of the same
 * text, then the same steps; BLAS runs on one thread in make check).
 */
static int
live_same_tail(const struct live *a, int from, const struct live *b)
{
	if (a->n - from != b->n)
		return 0;
	for (int i = 0; i < b->n; i++)
		if (a->ids[from + i] != b->ids[i] || a->types[from + i] != b->types[i] ||
		    a->model_prob[from + i] != b->model_prob[i])
			return 0;
	return 1;
}

/* Parameters changed between steps act from the next step. */
static void
test_live_params(const struct gpt_model *m, const struct tokenizer *tok)
{
	struct sampler_params p;
	struct live ref, l;
	char *cause = NULL;
	int before, after, ok;

	/* max_tokens lowered at step 5 to 8: the run stops at 8, on the same tokens. */
	live_params(&p, 40);
	memset(&ref, 0, sizeof ref);
	ref.at = -1;
	live_run(m, tok, &p, &ref, &cause);
	memset(&l, 0, sizeof l);
	l.at = 5;
	l.has_change = 1;
	live_params(&l.change, 8);
	ok = live_run(m, tok, &p, &l, &cause) == 0;
	tap_ok(ok && ref.n == 40 && l.n == 8 && l.stop.reason == GENERATE_STOP_MAX_TOKENS &&
	    memcmp(l.ids, ref.ids, 8 * sizeof *l.ids) == 0, "max_tokens lowered mid-run "
	    "(40 -> 8 at step 5): %d tokens, stop %s, the same first tokens", l.n,
	    generate_stop_name(l.stop.reason));
	/* Lowered under the length already written: it stops at the next step. */
	l.at = 10;
	live_params(&l.change, 3);
	ok = live_run(m, tok, &p, &l, &cause) == 0;
	tap_ok(ok && l.n == 10 && l.stop.reason == GENERATE_STOP_MAX_TOKENS,
	    "max_tokens 3 given at step 10 stops there (%d tokens)", l.n);

	/* backspace_bias +30 (erase whenever allowed), then -inf from step 6. */
	p.backspace_bias = 30;
	p.max_tokens = 20;
	memset(&l, 0, sizeof l);
	l.at = 6;
	l.has_change = 1;
	l.change = p;
	l.change.backspace_bias = -INFINITY;
	l.change.seed = 99; /* ignored: the random stream goes on */
	ok = live_run(m, tok, &p, &l, &cause) == 0;
	before = after = 0;
	for (int i = 0; i < l.n; i++)
		if (l.types[i] == GENERATE_EVENT_ERASE)
			*(i < 6 ? &before : &after) += 1;
	tap_ok(ok && before == 3 && after == 0, "backspace_bias +30 then -inf at step 6: "
	    "%d erases before (append, erase, ...), %d after", before, after);
	/* From the switch on, it is what greedy decoding without <bksp> writes from there. */
	memset(&ref, 0, sizeof ref);
	ref.at = -1;
	live_params(&p, 20 - (l.n_effective - 3));
	ok = ok && generate_run(m, tok, &p, l.effective, l.n_effective, live_event, &ref, NULL,
	    &cause) == 0;
	tap_ok(ok && live_same_tail(&l, 6, &ref), "after the change the run equals a fresh "
	    "greedy run from its text (%d events)", ref.n);
	free(cause);
}

/* Weights switched mid-run: exactly what the new weights give for the text so far. */
static void
test_live_weights(const struct gpt_model *a, const struct gpt_model *b,
    const struct gpt_model *other_shape, const struct tokenizer *tok)
{
	struct sampler_params p;
	struct live ref, l;
	char *cause = NULL;
	int ok, reloads_ok = 1;

	live_params(&p, 30);
	memset(&ref, 0, sizeof ref);
	ref.at = -1;
	live_run(a, tok, &p, &ref, &cause);
	memset(&l, 0, sizeof l);
	l.at = 10;
	l.switch_to = b;
	ok = live_run(a, tok, &p, &l, &cause) == 0;
	tap_ok(ok && l.n == 30 && memcmp(l.ids, ref.ids, 10 * sizeof *l.ids) == 0,
	    "before the switch (step 10) the run is model A's");
	for (int i = 0; i < l.n; i++)
		reloads_ok &= l.reloads[i] == (i < 10 ? 0 : 1);
	tap_ok(ok && reloads_ok && l.stop.n_reloads == 1, "events count the switch "
	    "(n_reloads 0 before, 1 after)");
	memset(&ref, 0, sizeof ref);
	ref.at = -1;
	p.max_tokens = 20;
	ok = ok && generate_run(b, tok, &p, l.effective, l.n_effective, live_event, &ref, NULL,
	    &cause) == 0;
	tap_ok(ok && live_same_tail(&l, 10, &ref), "after it, tokens and probabilities are "
	    "model B's for the same text (the cache was recomputed, not mixed)");

	/* The first weights may go away once the run has switched off them. */
	{
		struct gpt_model *copy = gpt_new(gpt_config(a), &cause);
		struct live l2;

		memcpy(gpt_param_memory(copy), gpt_param_memory((struct gpt_model *)(uintptr_t)a),
		    gpt_num_params(a) * sizeof(float));
		gpt_set_bksp(copy, gpt_has_bksp(a));
		memset(&l2, 0, sizeof l2);
		l2.at = 10;
		l2.switch_to = b;
		l2.free_at_switch = copy;
		p.max_tokens = 30;
		ok = live_run(copy, tok, &p, &l2, &cause) == 0;
		tap_ok(ok && l2.free_at_switch == NULL && live_same_tail(&l, 0, &l2),
		    "a run whose first weights are freed at the switch goes on the same");
	}

	memset(&l, 0, sizeof l);
	l.at = 3;
	l.switch_to = other_shape;
	p.max_tokens = 30;
	ok = live_run(a, tok, &p, &l, &cause) != 0 && cause != NULL &&
	    strstr(cause, "shape") != NULL;
	tap_ok(ok, "weights of another shape are refused: %s", cause != NULL ? cause : "");
	free(cause);
}

/* Threaded refresh: at step `at`, wait for a snapshot 10 versions newer than held; switch once. */
static int
live_refresh_snapshot(struct sampler_params *p, const struct gpt_model **m, void *arg)
{
	struct live *l = arg;
	struct snapshot *s;

	(void)p;
	if (l->step++ != l->at)
		return 0;
	for (;;) {
		s = finetune_snapshot(l->ft);
		if (s->version >= l->held->version + 10) /* weights that differ enough */
			break;
		snapshot_unref(s);
		if (finetune_get_state(l->ft) == FINETUNE_DONE)
			return 0;
		sched_yield();
	}
	live_effective(l, live_prompt, 3);
	l->waited_from = l->held->version;
	snapshot_unref(l->held); /* the engine reads it no more once this returns */
	l->held = s;
	*m = s->model;
	return 1;
}

/* A generator switches mid-run to a snapshot the trainer thread published. */
static void
test_live_snapshots(struct finetune *ft, const struct tokenizer *tok)
{
	struct sampler_params p;
	struct live l, ref;
	char *cause = NULL;
	int ok;

	memset(&l, 0, sizeof l);
	l.ft = ft;
	l.held = finetune_snapshot(ft);
	l.at = 4;
	live_params(&p, 24);
	finetune_start(ft, NULL, NULL, &cause);
	ok = generate_run_live(l.held->model, tok, &p, live_prompt, 3, live_event,
	    live_refresh_snapshot, &l, NULL, &cause) == 0;
	tap_ok(ok && l.stop.n_reloads == 1 && l.held->version > l.waited_from,
	    "the generation switched at step 4 from weights v%ld to v%ld, published by the "
	    "trainer thread meanwhile", l.waited_from, l.held->version);
	memset(&ref, 0, sizeof ref);
	ref.at = -1;
	p.max_tokens = 24 - (l.n_effective - 3);
	ok = ok && generate_run(l.held->model, tok, &p, l.effective, l.n_effective, live_event,
	    &ref, NULL, &cause) == 0;
	tap_ok(ok && live_same_tail(&l, 4, &ref), "after the switch it generated with those "
	    "weights exactly (%d events)", ref.n);
	snapshot_unref(l.held);
	finetune_stop(ft);
	finetune_join(ft, NULL);
	free(cause);
}

int
main(void)
{
	static const char text[] = "abcd acda bcad dcba abca cdab dadc bacd cabd dbca "
	    "acbd bdac cdba adcb bcda dabc cbad abdc dcab bacd";
	char *docs[1] = { NULL }, *cause = NULL;
	size_t lens[1] = { sizeof text - 1 };
	struct tokenizer *tok;
	struct train_data d;
	struct gpt_config cfg = { 64, 0, 0, 1, 2, 16 };
	struct finetune_options o;
	struct finetune *ft;
	struct gpt_model *m;
	struct reader r;
	pthread_t th;
	long before;
	char *copy = strdup(text);

	docs[0] = copy;
	tokenizer_train((const uint8_t *)text, lens[0], 262, &tok, &cause);
	train_data_build(tok, docs, lens, 1, &d, &cause);
	cfg.vocab_size = tokenizer_vocab_size(tok);
	cfg.padded_vocab_size = (cfg.vocab_size + 1 + 63) / 64 * 64;
	finetune_options_defaults(&o);
	o.steps = 40;
	o.bc_warmup = 5;
	o.sample_every = 5;
	o.samples_per_round = 2;
	o.prompt_tokens = 4;
	o.window = 12;
	o.batch_size = 4;
	o.eval_every = 0;

	m = gpt_new(&cfg, &cause);
	gpt_init_random(m, 1);
	ft = finetune_new(m, tok, &d, NULL, &o, NULL, NULL, NULL, 0, &cause);
	tap_ok(ft != NULL, "fine-tune created");
	memset(&r, 0, sizeof r);
	r.ft = ft;
	r.tok = tok;
	pthread_create(&th, NULL, reader_thread, &r);
	finetune_start(ft, NULL, NULL, &cause);
	finetune_pause(ft);
	while (finetune_get_state(ft) == FINETUNE_RUNNING)
		;
	before = finetune_steps_done(ft);
	tap_ok(finetune_get_state(ft) == FINETUNE_PAUSED ||
	    finetune_get_state(ft) == FINETUNE_DONE, "pause takes effect");
	/* A step takes milliseconds here: a trainer that ignored the pause would
	 * make several in a quarter of a second. */
	nanosleep(&(struct timespec){ .tv_sec = 0, .tv_nsec = 250000000 }, NULL);
	tap_ok(finetune_get_state(ft) == FINETUNE_PAUSED && finetune_steps_done(ft) == before,
	    "no step while paused (%ld steps before and 250 ms later %ld)", before,
	    finetune_steps_done(ft));
	finetune_resume(ft);
	before = finetune_join(ft, &cause) == 0 ? finetune_steps_done(ft) : -1;
	tap_ok(before == 40, "the thread finished all %ld steps", before);
	__atomic_store_n(&r.done, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	tap_ok(r.generations > 0 && r.versions_seen >= 2, "the generator ran %ld "
	    "generations over %ld weight versions", r.generations, r.versions_seen);
	tap_ok(r.versions_seen >= 2 && r.hash_bad == 0, "every snapshot carries its weights' "
	    "hash, taken when published (%ld of %ld wrong)", r.hash_bad, r.versions_seen);
	finetune_free(ft);

	/* Stop early; freeing a running fine-tune stops it too. */
	m = gpt_new(&cfg, &cause);
	gpt_init_random(m, 2);
	o.steps = 1000000;
	ft = finetune_new(m, tok, &d, NULL, &o, NULL, NULL, NULL, 0, &cause);
	finetune_start(ft, NULL, NULL, &cause);
	while (finetune_steps_done(ft) < 3)
		;
	finetune_stop(ft);
	before = finetune_join(ft, &cause) == 0 ? finetune_steps_done(ft) : -1;
	tap_ok(before >= 3 && before < 1000000, "stop ends the thread early (%ld steps)",
	    before);
	finetune_free(ft);
	m = gpt_new(&cfg, &cause);
	gpt_init_random(m, 3);
	ft = finetune_new(m, tok, &d, NULL, &o, NULL, NULL, NULL, 0, &cause);
	finetune_start(ft, NULL, NULL, &cause);
	finetune_free(ft);
	tap_ok(1, "freeing a running fine-tune stops and joins it");

	/* Stop saves to out_path on the way out; discard writes nothing. */
	{
		char dir[] = "/tmp/seqmatch-test-threads.XXXXXX", path[300], opt[310];
		struct stat st;

		if (mkdtemp(dir) == NULL)
			return 99;
		snprintf(path, sizeof path, "%s/ft.bin", dir);
		snprintf(opt, sizeof opt, "%s.opt", path);
		m = gpt_new(&cfg, &cause);
		gpt_init_random(m, 4);
		ft = finetune_new(m, tok, &d, NULL, &o, NULL, path, NULL, 0, &cause);
		finetune_start(ft, NULL, NULL, &cause);
		while (finetune_steps_done(ft) < 2)
			;
		finetune_discard(ft);
		before = finetune_join(ft, &cause) == 0 ? finetune_steps_done(ft) : -1;
		tap_ok(before >= 2 && before < 1000000 && finetune_get_state(ft) == FINETUNE_DONE,
		    "discard ends the thread early (%ld steps)", before);
		tap_ok(stat(path, &st) != 0 && stat(opt, &st) != 0,
		    "discard writes neither the checkpoint nor its .opt");
		finetune_free(ft);
		m = gpt_new(&cfg, &cause);
		gpt_init_random(m, 5);
		ft = finetune_new(m, tok, &d, NULL, &o, NULL, path, NULL, 0, &cause);
		finetune_start(ft, NULL, NULL, &cause);
		while (finetune_steps_done(ft) < 2)
			;
		finetune_stop(ft);
		finetune_join(ft, &cause);
		tap_ok(stat(path, &st) == 0 && stat(opt, &st) == 0,
		    "stop saves the checkpoint and its .opt on the way out");
		finetune_free(ft);
		unlink(opt);
		unlink(path);
		rmdir(dir);
	}

	/* Live changes to a running generation. */
	{
		struct gpt_model *ma = gpt_new(&cfg, &cause), *mb = gpt_new(&cfg, &cause), *mc;
		struct gpt_config other = cfg;

		other.num_layers = 2;
		mc = gpt_new(&other, &cause);
		gpt_init_random(ma, 11);
		gpt_init_random(mb, 12);
		gpt_init_random(mc, 13);
		gpt_init_bksp(ma);
		gpt_init_bksp(mb);
		test_live_params(ma, tok);
		test_live_weights(ma, mb, mc, tok);
		gpt_free(mb);
		gpt_free(mc);
		/* The trainer takes ma over and publishes a snapshot every step. */
		o.steps = 1000000;
		ft = finetune_new(ma, tok, &d, NULL, &o, NULL, NULL, NULL, 0, &cause);
		test_live_snapshots(ft, tok);
		finetune_free(ft);
	}

	tokenizer_free(tok);
	train_data_release(&d);
	free(copy);
	free(cause);
	return tap_done();
}
