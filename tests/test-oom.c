/*
 * test-oom.c: out-of-memory paths of the engine. The allocation-failure
 * injection (engine/util.h: util_fail_alloc) makes the nth allocation fail,
 * for n = 1, 2, ... until an operation runs through without reaching an nth
 * allocation; at every n the operation must fail with a message (-1 and a
 * cause), never crash, never go on as if nothing happened (that was how a
 * failed record_set dropped "run_id" or "actions" from a saved checkpoint,
 * and how the inspector's top list came back empty), and leave nothing
 * allocated (run under the ASan build, the leak checker sees every n). Walked: checkpoint_load of a
 * tiny model, checkpoint_load_optim, a training run of two steps that saves
 * its pair (train_run), a SequenceMatch fine-tune of three steps that
 * saves (finetune_new, finetune_run, finetune_save), a generation of a few
 * tokens (generate_run), and tokenizer_train.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "finetune.h"
#include "generate.h"
#include "gpt.h"
#include "record.h"
#include "sampler.h"
#include "tap.h"
#include "tokenizer.h"
#include "train.h"
#include "util.h"

#define TEST_OOM_MAX_N 20000 /* a walk longer than this is a failure of its own */

static char test_oom_text[] =
    "the cat sat on the mat. the dog sat on the log. a cat and a dog met on "
    "the mat and the log. the cat ran. the dog ran. the cat and the dog sat.\n";

static char test_oom_dir[] = "/tmp/test-oom.XXXXXX";
static char test_oom_model[512], test_oom_opt[512], test_oom_out[512];
static long test_oom_n; /* the allocation that fails in this run of the operation */

/* What one walk saw. */
struct test_oom_walk {
	long points;   /* allocations that failed */
	long refused;  /* of which the operation failed with a message */
	long silent;   /* failed without a message (a broken promise) */
	long survived; /* succeeded anyway */
};

/* One operation: 0 or -1 with *cause; frees whatever it made. */
typedef int (*test_oom_op)(char **cause);

/* Run op with the nth allocation failing, for n = 1, 2, ... */
static void
test_oom_walk(const char *name, test_oom_op op)
{
	struct test_oom_walk w = { 0, 0, 0, 0 };
	char *cause = NULL;
	long n;
	int rc, hit;

	for (n = 1; n <= TEST_OOM_MAX_N; n++) {
		cause = NULL;
		test_oom_n = n;
		util_fail_alloc(n);
		rc = op(&cause);
		hit = util_fail_alloc_hit();
		util_fail_alloc(0);
		if (!hit) {
			if (rc != 0)
				tap_diag("%s: failed with no allocation failing: %s", name,
				    cause != NULL ? cause : "(no message)");
			free(cause);
			break;
		}
		w.points++;
		if (rc == 0) {
			w.survived++;
		}
		else if (cause != NULL && cause[0] != '\0')
			w.refused++;
		else {
			w.silent++;
			tap_diag("%s: allocation %ld failed without a message", name, n);
		}
		free(cause);
	}
	/* Going on after a failed allocation means something was silently left out. */
	tap_ok(n <= TEST_OOM_MAX_N && rc == 0 && w.silent == 0 && w.survived == 0 && w.points > 0,
	    "%s: %ld allocations failed one at a time: %ld errors with a cause, %ld "
	    "went on, %ld without a message", name, w.points, w.refused, w.survived, w.silent);
}

/* Load the model. */
static int
test_oom_load(char **cause)
{
	struct gpt_model *m;
	struct tokenizer *tok;
	struct record rec;

	record_init(&rec);
	if (checkpoint_load(test_oom_model, &m, &tok, &rec, cause) != 0) {
		record_release(&rec);
		return -1;
	}
	record_release(&rec);
	tokenizer_free(tok);
	gpt_free(m);
	return 0;
}

/*
 * Load the model with the injection off (checkpoint_load has a walk of its
 * own), then arm it again for the rest of the operation.
 */
static int
test_oom_load_quietly(struct gpt_model **m, struct tokenizer **tok, struct record *rec)
{
	char *cause = NULL;
	int rc;

	util_fail_alloc(0);
	rc = checkpoint_load(test_oom_model, m, tok, rec, &cause);
	if (rc != 0)
		tap_diag("%s", cause);
	free(cause);
	util_fail_alloc(test_oom_n);
	return rc;
}

/* The optimizer state for the model. */
static int
test_oom_load_optim(char **cause)
{
	struct gpt_model *m;
	struct tokenizer *tok;
	long step = 0;
	uint64_t run = 0;
	int rc;

	if (test_oom_load_quietly(&m, &tok, NULL) != 0)
		return util_error(cause, "the model does not load");
	rc = checkpoint_load_optim(test_oom_opt, m, &step, &run, cause);
	if (rc == 0 && (step != 3 || run != 0x1234))
		rc = util_error(cause, "wrong step or run id");
	tokenizer_free(tok);
	gpt_free(m);
	return rc;
}

/* Two training steps from the model, saving the pair at the end. */
static int
test_oom_train(char **cause)
{
	struct gpt_model *m;
	struct tokenizer *tok;
	struct record rec;
	struct train_data d;
	struct train_run r;
	char *docs[1] = { test_oom_text };
	size_t lens[1] = { sizeof test_oom_text - 1 };
	volatile sig_atomic_t stop = 0;
	long done = -1;

	record_init(&rec);
	memset(&d, 0, sizeof d);
	if (test_oom_load_quietly(&m, &tok, &rec) != 0) {
		record_release(&rec);
		return util_error(cause, "the model does not load");
	}
	if (train_data_build(tok, docs, lens, 1, &d, cause) == 0) {
		memset(&r, 0, sizeof r);
		train_options_defaults(&r.opt);
		r.opt.batch_size = 2;
		r.opt.seq_len = 8;
		r.opt.steps = 2;
		r.opt.eval_every = 0;
		r.opt.save_every = 0;
		r.opt.seed = 5;
		r.model = m;
		r.tok = tok;
		r.train = &d;
		r.val = &d;
		r.rec = &rec;
		r.out_path = test_oom_out;
		r.stop = &stop;
		done = train_run(&r, cause);
	}
	train_data_release(&d);
	record_release(&rec);
	tokenizer_free(tok);
	gpt_free(m);
	return done == 2 ? 0 : -1;
}

/*
 * A SequenceMatch fine-tune of three steps (one of them on model samples)
 * that saves its pair: finetune_new takes the model over only when it
 * succeeds (before, a failure after its first allocation freed the model,
 * and the caller freed it again).
 */
static int
test_oom_finetune(char **cause)
{
	struct gpt_model *m;
	struct tokenizer *tok;
	struct record rec;
	struct train_data d;
	struct finetune_options o;
	struct finetune *ft = NULL;
	char *docs[1] = { test_oom_text };
	size_t lens[1] = { sizeof test_oom_text - 1 };
	int rc = -1;

	record_init(&rec);
	memset(&d, 0, sizeof d);
	if (test_oom_load_quietly(&m, &tok, &rec) != 0) {
		record_release(&rec);
		return util_error(cause, "the model does not load");
	}
	if (train_data_build(tok, docs, lens, 1, &d, cause) == 0) {
		finetune_options_defaults(&o);
		o.steps = 3;
		o.bc_warmup = 1;
		o.prompt_tokens = 2;
		o.window = 4;
		o.batch_size = 2;
		o.sample_every = 1;
		o.samples_per_round = 2;
		o.eval_every = 0;
		o.doc_start = 1;
		o.seed = 4;
		ft = finetune_new(m, tok, &d, &d, &o, &rec, test_oom_out, NULL, 0, cause);
		if (ft != NULL) {
			m = NULL; /* the fine-tune's now */
			rc = finetune_run(ft, NULL, NULL, NULL, cause);
			if (rc == 0)
				rc = finetune_save(ft, cause);
		}
	}
	finetune_free(ft);
	gpt_free(m);
	train_data_release(&d);
	record_release(&rec);
	tokenizer_free(tok);
	return rc;
}

/* Count the appended tokens. */
static int
test_oom_count(const struct generate_event *ev, void *arg)
{
	if (ev->type == GENERATE_EVENT_APPEND)
		(*(int *)arg)++;
	return 0;
}

/* A few tokens from the model. */
static int
test_oom_generate(char **cause)
{
	struct gpt_model *m;
	struct tokenizer *tok;
	struct sampler_params sp;
	int *ids = NULL, count = 0, rc = -1;
	size_t n = 0;

	if (test_oom_load_quietly(&m, &tok, NULL) != 0)
		return util_error(cause, "the model does not load");
	sampler_defaults(&sp);
	sp.seed = 3;
	sp.max_tokens = 6;
	if (tokenizer_encode(tok, (const uint8_t *)"the cat", 7, &ids, &n, cause) == 0)
		rc = generate_run(m, tok, &sp, ids, (int)n, test_oom_count, &count, NULL, cause);
	free(ids);
	tokenizer_free(tok);
	gpt_free(m);
	return rc;
}

/* Learn a tokenizer. */
static int
test_oom_tokenizer(char **cause)
{
	struct tokenizer *tok;

	if (tokenizer_train((const uint8_t *)test_oom_text, sizeof test_oom_text - 1, 280,
	    &tok, cause) != 0)
		return -1;
	tokenizer_free(tok);
	return 0;
}

/* Make the tiny model and its optimizer file the walks read. */
static int
test_oom_setup(void)
{
	struct gpt_config cfg = { 16, 0, 0, 1, 2, 8 };
	struct tokenizer *tok = NULL;
	struct gpt_model *m;
	struct record rec;
	char *cause = NULL;
	int rc;

	if (mkdtemp(test_oom_dir) == NULL)
		return -1;
	snprintf(test_oom_model, sizeof test_oom_model, "%s/m.bin", test_oom_dir);
	snprintf(test_oom_opt, sizeof test_oom_opt, "%s/m.bin.opt", test_oom_dir);
	snprintf(test_oom_out, sizeof test_oom_out, "%s/out.bin", test_oom_dir);
	if (tokenizer_train((const uint8_t *)test_oom_text, sizeof test_oom_text - 1, 280,
	    &tok, &cause) != 0) {
		tap_diag("setup: %s", cause);
		return -1;
	}
	cfg.vocab_size = tokenizer_vocab_size(tok);
	cfg.padded_vocab_size = (cfg.vocab_size + 1 + 63) / 64 * 64;
	m = gpt_new(&cfg, &cause);
	if (m == NULL) {
		tap_diag("setup: %s", cause);
		tokenizer_free(tok);
		return -1;
	}
	gpt_init_random(m, 42);
	record_init(&rec);
	rc = checkpoint_save(test_oom_model, m, tok, &rec, &cause);
	if (rc == 0 && gpt_alloc_adam(m, &cause) == 0)
		rc = checkpoint_save_optim(test_oom_opt, m, 3, 0x1234, &cause);
	if (rc != 0)
		tap_diag("setup: %s", cause);
	free(cause);
	record_release(&rec);
	tokenizer_free(tok);
	gpt_free(m);
	return rc;
}

/* Remove the files. */
static void
test_oom_cleanup(void)
{
	const char *names[] = { "m.bin", "m.bin.opt", "out.bin", "out.bin.opt", "out.bin.prev",
		"out.bin.opt.prev", "out.bin.lock" };
	char path[600];

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", test_oom_dir, names[i]);
		unlink(path);
	}
	rmdir(test_oom_dir);
}

/* Set up, walk each operation, clean up. */
int
main(void)
{
	if (test_oom_setup() != 0) {
		tap_ok(0, "a tiny model to load");
		return tap_done();
	}
	tap_ok(1, "a tiny model to load");
	test_oom_walk("checkpoint_load", test_oom_load);
	test_oom_walk("checkpoint_load_optim", test_oom_load_optim);
	test_oom_walk("train_run, 2 steps and a save", test_oom_train);
	test_oom_walk("finetune_new, run (3 steps) and save", test_oom_finetune);
	test_oom_walk("generate_run, 6 tokens", test_oom_generate);
	test_oom_walk("tokenizer_train", test_oom_tokenizer);
	test_oom_cleanup();
	return tap_done();
}
