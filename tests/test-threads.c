/*
 * test-threads.c: the fine-tune trainer in its thread while a generator
 * thread reads the published weight snapshots: pause, resume, stop, versions
 * that move, and (in the ThreadSanitizer build) no data race and no
 * use-after-free of a snapshot.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "finetune.h"
#include "generate.h"
#include "gpt.h"
#include "sampler.h"
#include "tap.h"
#include "tokenizer.h"
#include "train.h"

struct reader {
	struct finetune *ft;
	const struct tokenizer *tok;
	long versions_seen, last_version, generations;
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
			r->versions_seen++;
			r->last_version = s->version;
		}
		sp.seed = r->generations;
		generate_run(s->model, r->tok, &sp, prompt, 2, NULL, NULL, NULL, NULL);
		r->generations++;
		snapshot_unref(s);
	}
	return NULL;
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
	tap_ok(finetune_steps_done(ft) == before, "no step while paused");
	finetune_resume(ft);
	before = finetune_join(ft, &cause) == 0 ? finetune_steps_done(ft) : -1;
	tap_ok(before == 40, "the thread finished all %ld steps", before);
	__atomic_store_n(&r.done, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	tap_ok(r.generations > 0 && r.versions_seen >= 2, "the generator ran %ld "
	    "generations over %ld weight versions", r.generations, r.versions_seen);
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

	tokenizer_free(tok);
	train_data_release(&d);
	free(copy);
	free(cause);
	return tap_done();
}
