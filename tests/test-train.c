/*
 * test-train.c: end-to-end determinism of training and generation.
 * A few MLE steps on a tiny corpus reproduce stored losses within a tolerance
 * and the loss goes down; a stopped and resumed run matches an uninterrupted
 * one; generation with a fixed seed reproduces a stored token sequence.
 * First the shared optimiser (engine/optim.c) on its own: the learning rate
 * at known steps, one AdamW step against its formula, and its record entries
 * through a serialise/parse round trip.
 * Run with one BLAS thread (make check sets OPENBLAS_NUM_THREADS=1).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "generate.h"
#include "gpt.h"
#include "optim.h"
#include "record.h"
#include "sampler.h"
#include "tap.h"
#include "tokenizer.h"
#include "train.h"

static char corpus_text[] =
    "the cat sat on the mat. the dog sat on the log. a cat and a dog met on "
    "the mat and the log. the cat ran. the dog ran. the cat and the dog sat.\n"
    "one two three four five six seven eight nine ten. one two three four five "
    "six seven eight nine ten. ten nine eight seven six five four three two one.\n"
    "she sells sea shells by the sea shore. the shells she sells are sea shells "
    "for sure. so if she sells sea shells on the sea shore, the shells are sure.\n";

#define STEPS 30
static float losses[STEPS + 1];
static long resume_stop_at;
static volatile sig_atomic_t stop_flag;

/* Collect each step's loss; stop when asked to. */
static void
collect(const struct train_progress *p, void *arg)
{
	losses[p->step] = p->loss;
	if (resume_stop_at > 0 && p->step == resume_stop_at)
		stop_flag = 1;
}

/* A tiny model, tokenizer and data; returns 0 on success. */
static int
setup(struct tokenizer **tok, struct gpt_model **m, struct train_data *d)
{
	char *cause = NULL;
	char *docs[1] = { corpus_text };
	size_t lens[1] = { sizeof corpus_text - 1 };
	struct gpt_config cfg = { 32, 0, 0, 2, 4, 32 };

	if (tokenizer_train((const uint8_t *)corpus_text, lens[0], 300, tok, &cause) != 0 ||
	    train_data_build(*tok, docs, lens, 1, d, &cause) != 0) {
		tap_diag("setup: %s", cause);
		return -1;
	}
	cfg.vocab_size = tokenizer_vocab_size(*tok);
	cfg.padded_vocab_size = (cfg.vocab_size + 1 + 63) / 64 * 64;
	*m = gpt_new(&cfg, &cause);
	if (*m == NULL)
		return -1;
	gpt_init_random(*m, 1234);
	return 0;
}

/* Train `steps` (from start), into path. */
static long
run(struct gpt_model *m, struct tokenizer *tok, struct train_data *d, long start,
    const char *path, struct record *rec)
{
	struct train_run r;
	char *cause = NULL;
	long done;

	memset(&r, 0, sizeof r);
	train_options_defaults(&r.opt);
	r.opt.batch_size = 4;
	r.opt.seq_len = 16;
	r.opt.steps = STEPS;
	r.opt.optim.lr = 3e-3f;
	r.opt.optim.warmup = 3;
	r.opt.eval_every = 0;
	r.opt.save_every = 0;
	r.opt.seed = 99;
	r.model = m;
	r.tok = tok;
	r.train = d;
	r.val = NULL;
	r.rec = rec;
	r.out_path = path;
	r.start_step = start;
	r.stop = &stop_flag;
	r.cb = collect;
	done = train_run(&r, &cause);
	if (done < 0)
		tap_diag("train_run: %s", cause);
	free(cause);
	return done;
}

/* Stored losses: measured once with OPENBLAS_NUM_THREADS=1 (see the commit). */
static const struct { int step; float loss; } stored[] = {
	{ 1, 5.7291f }, { 10, 4.8761f }, { 20, 4.1512f }, { 30, 3.9621f },
};

/* Stored generation: seed 7, default decoding, 24 tokens after "the cat". */
static const int stored_ids[] = {
	114, 269, 266, 261, 287, 115, 259, 46, 288, 265, 116, 285, 110, 292, 295, 273,
	272, 297, 101, 259, 101, 298, 287, 297,
};

struct gen_ids {
	int *ids;
	int *n;
};

/* Collect appended ids. */
static int
collect_ids(const struct generate_event *ev, void *arg)
{
	struct gen_ids *g = arg;
	if (ev->type == GENERATE_EVENT_APPEND && *g->n < 64)
		g->ids[(*g->n)++] = ev->token;
	return 0;
}

/* The learning-rate schedule at known steps. */
static void
test_optim_schedule(void)
{
	struct optim_options o = { 1e-3f, 0.1f, 4, 0, 0.9f, 0.95f, 1e-8f, 0 };
	float prev = INFINITY;
	int mono = 1;

	/* Warm-up: (k + 1) / 4 of the peak; then a cosine over steps 4..14 of 15. */
	tap_ok(fabs(optim_lr(&o, 0, 15) - 2.5e-4) < 1e-10, "lr at step 0 is lr/4: %g",
	    (double)optim_lr(&o, 0, 15));
	tap_ok(optim_lr(&o, 3, 15) == o.lr && optim_lr(&o, 4, 15) == o.lr,
	    "lr at the last warm-up step and the first decay step is the peak");
	tap_ok(fabs(optim_lr(&o, 9, 15) - 0.55e-3) < 1e-9,
	    "lr half-way through the decay is lr * (0.1 + 0.9 / 2): %g",
	    (double)optim_lr(&o, 9, 15));
	tap_ok(fabs(optim_lr(&o, 14, 15) - 1e-4) < 1e-10 &&
	    fabs(optim_lr(&o, 40, 15) - 1e-4) < 1e-10,
	    "lr at the last step (and after) is lr * min_lr_frac: %g",
	    (double)optim_lr(&o, 14, 15));
	for (long k = 4; k < 15; k++) {
		float lr = optim_lr(&o, k, 15);
		mono = mono && lr <= prev;
		prev = lr;
	}
	tap_ok(mono, "the decay never goes up");
	o.warmup = 0;
	tap_ok(optim_lr(&o, 0, 1) == o.lr, "a one-step run without warm-up uses the peak");
}

/* One AdamW step through optim_step against the formula. */
static void
test_optim_step(void)
{
	struct gpt_config cfg = { 8, 16, 64, 1, 2, 8 };
	struct optim_options o = { 2e-3f, 0.1f, 0, 0, 0.9f, 0.95f, 1e-8f, 0 };
	struct gpt_model *m;
	float *before, *p, *g, lr = 0, norm = 0;
	double worst = 0;
	size_t n;
	char *cause = NULL;
	int r;

	m = gpt_new(&cfg, &cause);
	if (m == NULL || gpt_zero_grad(m, &cause) != 0) {
		tap_ok(0, "a model for the AdamW step: %s", cause);
		free(cause);
		gpt_free(m);
		return;
	}
	gpt_init_random(m, 5);
	n = gpt_num_params(m);
	p = gpt_param_memory(m);
	g = gpt_grad_memory(m);
	before = malloc(n * sizeof *before);
	memcpy(before, p, n * sizeof *before);
	for (size_t i = 0; i < n; i++)
		g[i] = i % 2 ? 0.5f : -0.25f;
	/*
	 * Step 0 of 3, no decay, no clipping: m and v after bias correction are g
	 * and g^2, so each parameter moves by lr * g / (|g| + eps).
	 */
	r = optim_step(&o, m, 0, 3, &lr, &norm, &cause);
	tap_ok(r == 0 && lr == optim_lr(&o, 0, 3), "optim_step updates at the scheduled "
	    "rate %g", (double)lr);
	tap_ok(fabs(norm - sqrt((double)(n / 2) * 0.0625 + (double)(n - n / 2) * 0.25)) <
	    1e-3 * norm, "optim_step reports the gradient norm %g", (double)norm);
	for (size_t i = 0; i < n; i++) {
		double want = before[i] - (double)lr * g[i] / (fabs(g[i]) + 1e-8);
		if (fabs(p[i] - want) > worst)
			worst = fabs(p[i] - want);
	}
	tap_ok(worst < 1e-6, "the first AdamW step is lr * g / (|g| + eps) (max diff "
	    "%.2e)", worst);
	memcpy(before, p, n * sizeof *before);
	g[0] = NAN;
	r = optim_step(&o, m, 1, 3, &lr, &norm, &cause);
	tap_ok(r == 1 && memcmp(before, p, n * sizeof *p) == 0,
	    "a NaN gradient skips the step and changes nothing");
	free(before);
	free(cause);
	gpt_free(m);
}

/* The options' record entries: keys, order, and values that parse back. */
static void
test_optim_record(void)
{
	static const char *const names[] = { "lr", "min_lr_frac", "warmup",
	    "weight_decay", "beta1", "beta2", "eps", "grad_clip" };
	struct optim_options o = { 3e-4f, 0.25f, 17, 0.1f, 0.85f, 0.975f, 1e-7f, 2.5f };
	struct optim_options back;
	struct record rec, rec2;
	uint8_t *buf = NULL;
	size_t len = 0;
	char *cause = NULL, key[32];
	int ok = 1;

	record_init(&rec);
	record_init(&rec2);
	record_set(&rec, "ft_steps", "%d", 100);
	optim_options_record(&o, "ft_", &rec);
	record_set(&rec, "ft_seed", "%d", 1);
	if (record_serialize(&rec, &buf, &len, &cause) != 0 ||
	    record_deserialize(buf, len, &rec2, &cause) != 0) {
		tap_ok(0, "record round trip: %s", cause);
		goto out;
	}
	ok = rec2.n == 10 && strcmp(rec2.keys[0], "ft_steps") == 0 &&
	    strcmp(rec2.keys[9], "ft_seed") == 0;
	for (int i = 0; i < 8 && ok; i++) {
		snprintf(key, sizeof key, "ft_%s", names[i]);
		ok = strcmp(rec2.keys[i + 1], key) == 0;
	}
	tap_ok(ok, "the optimiser writes its eight ft_ keys in order between the others");
	back.lr = strtof(record_get(&rec2, "ft_lr"), NULL);
	back.min_lr_frac = strtof(record_get(&rec2, "ft_min_lr_frac"), NULL);
	back.warmup = strtol(record_get(&rec2, "ft_warmup"), NULL, 10);
	back.weight_decay = strtof(record_get(&rec2, "ft_weight_decay"), NULL);
	back.beta1 = strtof(record_get(&rec2, "ft_beta1"), NULL);
	back.beta2 = strtof(record_get(&rec2, "ft_beta2"), NULL);
	back.eps = strtof(record_get(&rec2, "ft_eps"), NULL);
	back.grad_clip = strtof(record_get(&rec2, "ft_grad_clip"), NULL);
	tap_ok(back.lr == o.lr && back.min_lr_frac == o.min_lr_frac &&
	    back.warmup == o.warmup && back.weight_decay == o.weight_decay &&
	    back.beta1 == o.beta1 && back.beta2 == o.beta2 && back.eps == o.eps &&
	    back.grad_clip == o.grad_clip, "the record's values read back as the options");
	record_release(&rec);
	record_init(&rec);
	optim_options_record(&o, "", &rec);
	tap_ok(rec.n == 8 && strcmp(rec.keys[0], "lr") == 0 &&
	    strcmp(record_get(&rec, "lr"), "0.0003") == 0 &&
	    strcmp(record_get(&rec, "warmup"), "17") == 0,
	    "without a prefix the keys are train's: lr = %s",
	    rec.n > 0 ? rec.values[0] : "(none)");
out:
	free(buf);
	free(cause);
	record_release(&rec);
	record_release(&rec2);
}

int
main(void)
{
	struct tokenizer *tok;
	struct gpt_model *m, *m2, *loaded;
	struct tokenizer *tok2;
	struct train_data d;
	struct record rec;
	char dir[] = "/tmp/seqmatch-test-train.XXXXXX", path[256], opt_path[300];
	float full[STEPS + 1];
	long done, step;
	char *cause = NULL;
	double worst = 0;
	int regen = getenv("SEQMATCH_REGEN") != NULL;

	test_optim_schedule();
	test_optim_step();
	test_optim_record();
	if (mkdtemp(dir) == NULL)
		return 99;
	snprintf(path, sizeof path, "%s/model.bin", dir);
	snprintf(opt_path, sizeof opt_path, "%s.opt", path);
	if (setup(&tok, &m, &d) != 0)
		return 99;
	record_init(&rec);

	done = run(m, tok, &d, 0, path, &rec);
	tap_ok(done == STEPS, "trained %ld steps", done);
	memcpy(full, losses, sizeof full);
	for (size_t i = 0; i < sizeof stored / sizeof stored[0]; i++) {
		double diff = fabs(full[stored[i].step] - stored[i].loss);
		if (regen)
			tap_diag("{ %d, %.4ff },", stored[i].step, (double)full[stored[i].step]);
		tap_ok(diff < 2e-3, "loss at step %d is %.4f (stored %.4f)", stored[i].step,
		    (double)full[stored[i].step], (double)stored[i].loss);
	}
	tap_ok(full[STEPS] < full[1] - 1.0f, "the loss goes down: %.3f -> %.3f",
	    (double)full[1], (double)full[STEPS]);
	tap_ok(access(path, R_OK) == 0 && access(opt_path, R_OK) == 0,
	    "the checkpoint and optimizer state were written");

	/* Stop at step 12, resume from the files, compare with the full run. */
	gpt_free(m);
	tokenizer_free(tok);
	train_data_release(&d);
	setup(&tok, &m, &d);
	resume_stop_at = 12;
	stop_flag = 0;
	done = run(m, tok, &d, 0, path, &rec);
	tap_ok(done == 12, "stopping at step 12 returned %ld", done);
	resume_stop_at = 0;
	stop_flag = 0;
	if (checkpoint_load(path, &m2, &tok2, NULL, &cause) != 0 ||
	    checkpoint_load_optim(opt_path, m2, &step, NULL, &cause) != 0) {
		tap_ok(0, "reload the checkpoint: %s", cause);
		return tap_done();
	}
	tap_ok(step == 12, "the optimizer state was saved at step %ld", step);
	done = run(m2, tok2, &d, step, path, &rec);
	tap_ok(done == STEPS, "resumed run reached %ld", done);
	for (int i = 13; i <= STEPS; i++)
		if (fabs(losses[i] - full[i]) > worst)
			worst = fabs(losses[i] - full[i]);
	tap_ok(worst < 1e-5, "resumed losses equal the uninterrupted run's (max diff "
	    "%.2e)", worst);

	gpt_free(m);
	gpt_free(m2);
	tokenizer_free(tok);
	tokenizer_free(tok2);
	train_data_release(&d);
	record_release(&rec);

	/* Generation with a fixed seed reproduces a stored sequence. */
	if (checkpoint_load(path, &loaded, &tok2, NULL, &cause) != 0) {
		tap_ok(0, "load the final checkpoint: %s", cause);
	} else {
		struct sampler_params sp;
		int *ids, a[64], b[64], na = 0, nb = 0, same;
		size_t np;
		uint64_t used;
		struct gen_ids ga = { a, &na }, gb = { b, &nb };

		sampler_defaults(&sp);
		sp.seed = 7;
		sp.max_tokens = 24;
		tokenizer_encode(tok2, (const uint8_t *)"the cat", 7, &ids, &np, &cause);
		generate_run(loaded, tok2, &sp, ids, (int)np, collect_ids, &ga, &used, &cause);
		generate_run(loaded, tok2, &sp, ids, (int)np, collect_ids, &gb, NULL, &cause);
		tap_ok(used == 7, "the seed used is the one asked for");
		same = na == nb && memcmp(a, b, (size_t)na * sizeof *a) == 0;
		tap_ok(same, "the same seed gives the same %d tokens", na);
		if (regen) {
			printf("# stored_ids[] = {");
			for (int i = 0; i < na; i++)
				printf(" %d,", a[i]);
			printf(" };\n");
		}
		same = na == (int)(sizeof stored_ids / sizeof stored_ids[0]) &&
		    memcmp(a, stored_ids, sizeof stored_ids) == 0;
		tap_ok(same, "seed 7 reproduces the stored sequence of %zu tokens",
		    sizeof stored_ids / sizeof stored_ids[0]);
		free(ids);
		gpt_free(loaded);
		tokenizer_free(tok2);
	}
	unlink(path);
	unlink(opt_path);
	rmdir(dir);
	free(cause);
	return tap_done();
}
