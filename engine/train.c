/*
 * train.c: MLE training (next-token cross-entropy) with AdamW.
 *
 * Batches are B random windows of T+1 tokens from the training stream (inputs
 * are the first T, targets the last T); the window starts come from a
 * generator seeded by (seed, step), so a resumed run draws the same batches as
 * an uninterrupted one. The optimiser and its schedule are optim.c's.
 *
 * Under MPI (dist.h) every rank draws the same B window starts and takes its
 * contiguous share of them; its mean loss, and so its gradient, is weighted
 * by its share of the B*T positions before the ranks sum them (optim_reduce),
 * which makes the sum the mean over the global batch, as one process would
 * compute it. Validation batches are shared out the same way; rank 0 alone
 * writes checkpoints.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "dist.h"
#include "gpt.h"
#include "optim.h"
#include "record.h"
#include "rng.h"
#include "tokenizer.h"
#include "train.h"
#include "util.h"

/* Defaults: small-model settings that train well on a few MB of text. */
void
train_options_defaults(struct train_options *o)
{
	memset(o, 0, sizeof *o);
	o->batch_size = 8;
	o->seq_len = 64;
	o->steps = 1000;
	o->optim.lr = 1e-3f;
	o->optim.min_lr_frac = 0.1f;
	o->optim.warmup = 50;
	o->optim.weight_decay = 0.1f;
	o->optim.beta1 = 0.9f;
	o->optim.beta2 = 0.95f;
	o->optim.eps = 1e-8f;
	o->optim.grad_clip = 1.0f;
	o->eval_every = 100;
	o->eval_batches = 8;
	o->save_every = 500;
	o->seed = 1337;
}

/* Tokenize documents into one stream, each followed by <|endoftext|>. */
int
train_data_build(const struct tokenizer *tok, char *const *docs, const size_t *lens,
    size_t ndocs, struct train_data *out, char **cause)
{
	int *all = NULL;
	size_t n = 0, cap = 0;
	int eot = tokenizer_eot(tok);

	out->tokens = NULL;
	out->n = 0;
	for (size_t d = 0; d < ndocs; d++) {
		int *ids;
		size_t k;

		if (tokenizer_encode(tok, (const uint8_t *)docs[d], lens[d], &ids, &k,
		    cause) != 0) {
			free(all);
			return -1;
		}
		if (n + k + 1 > cap) {
			size_t ncap = (n + k + 1) * 2;
			int *p = realloc(all, ncap * sizeof *all);
			if (p == NULL) {
				free(ids);
				free(all);
				return util_error(cause, "out of memory tokenizing the corpus");
			}
			all = p;
			cap = ncap;
		}
		memcpy(all + n, ids, k * sizeof *ids);
		n += k;
		all[n++] = eot;
		free(ids);
	}
	out->tokens = all;
	out->n = n;
	return 0;
}

/* Free a token stream. */
void
train_data_release(struct train_data *d)
{
	free(d->tokens);
	d->tokens = NULL;
	d->n = 0;
}

/* Fill inputs/targets (B,T) from windows starting at starts[b]. */
static void
train_fill(const struct train_data *d, const size_t *starts, int B, int T,
    int *inputs, int *targets)
{
	for (int b = 0; b < B; b++)
		for (int t = 0; t < T; t++) {
			inputs[b * T + t] = d->tokens[starts[b] + (size_t)t];
			targets[b * T + t] = d->tokens[starts[b] + (size_t)t + 1];
		}
}

/* Mean validation loss over n_batches evenly spaced windows. */
int
train_eval(struct gpt_model *m, const struct train_data *d, int B, int T,
    int n_batches, float *loss, char **cause)
{
	int *inputs = NULL, *targets = NULL;
	size_t *starts = NULL, span, total = (size_t)B * (size_t)n_batches, k = 0;
	double sum = 0;
	int ret = -1;

	if (d->n < (size_t)T + 1)
		return util_error(cause, "validation data has %zu tokens; a window needs "
		    "%d", d->n, T + 1);
	inputs = malloc((size_t)B * T * sizeof *inputs);
	targets = malloc((size_t)B * T * sizeof *targets);
	starts = malloc((size_t)B * sizeof *starts);
	if (inputs == NULL || targets == NULL || starts == NULL) {
		util_error(cause, "out of memory");
		goto out;
	}
	span = d->n - (size_t)T - 1;
	for (int i = 0; i < n_batches; i++) {
		for (int b = 0; b < B; b++, k++)
			starts[b] = total > 1 ? span * k / (total - 1) : 0;
		if (i % dist_size() != dist_rank())
			continue; /* another rank's batch */
		train_fill(d, starts, B, T, inputs, targets);
		if (gpt_forward(m, inputs, NULL, NULL, B, T, cause) != 0)
			goto out;
		sum += gpt_loss_ce(m, targets);
	}
	if (dist_sum_double(&sum, 1, cause) != 0)
		goto out;
	*loss = (float)(sum / n_batches);
	ret = 0;
out:
	free(inputs);
	free(targets);
	free(starts);
	return ret;
}

/* Write the latest checkpoint and the optimizer state. */
static int
train_save(struct train_run *r, long steps_done, char **cause)
{
	if (dist_rank() != 0)
		return 0;
	record_set(r->rec, "steps", "%ld", steps_done);
	return checkpoint_save_pair(r->out_path, r->model, r->tok, r->rec, steps_done, cause);
}

/* Store the options in the training record. */
static void
train_record_options(struct record *rec, const struct train_options *o)
{
	record_set(rec, "method", "mle");
	record_set(rec, "batch_size", "%d", o->batch_size);
	record_set(rec, "seq_len", "%d", o->seq_len);
	record_set(rec, "total_steps", "%ld", o->steps);
	optim_options_record(&o->optim, "", rec);
	record_set(rec, "seed", "%llu", (unsigned long long)o->seed);
}

/* The training loop. */
long
train_run(struct train_run *r, char **cause)
{
	const struct train_options *o = &r->opt;
	int B = o->batch_size, T = o->seq_len;
	int *inputs = NULL, *targets = NULL, Bl;
	size_t starts_n = (size_t)B, *starts = NULL;
	long lo, hi;
	struct train_progress pr;
	double t_start = util_now();
	float best = INFINITY;
	long step = r->start_step, done = r->start_step;
	const char *best_s;

	if (T > gpt_config(r->model)->max_seq_len)
		return util_error(cause, "seq_len %d exceeds the model's max_seq_len %d",
		    T, gpt_config(r->model)->max_seq_len);
	if (r->train->n < (size_t)T + 1)
		return util_error(cause, "the training data has %zu tokens; a window "
		    "needs %d (use a smaller --seq-len or a larger corpus)", r->train->n,
		    T + 1);
	dist_share(B, &lo, &hi);
	Bl = (int)(hi - lo);
	if (B < dist_size())
		return util_error(cause, "batch size %d is smaller than the %d processes: "
		    "each needs at least one sequence", B, dist_size());
	if (optim_sync_start(r->model, cause) != 0)
		return -1;
	best_s = record_get(r->rec, "best_val_loss");
	if (best_s != NULL)
		best = strtof(best_s, NULL);
	train_record_options(r->rec, o);
	/* A new run gets its own id; a resumed one keeps it (checkpoint_save_pair). */
	if (r->start_step == 0 || record_get(r->rec, "run_id") == NULL)
		record_set(r->rec, "run_id", "%016llx", (unsigned long long)util_random_id());
	inputs = malloc((size_t)B * T * sizeof *inputs);
	targets = malloc((size_t)B * T * sizeof *targets);
	starts = malloc(starts_n * sizeof *starts);
	if (inputs == NULL || targets == NULL || starts == NULL) {
		util_error(cause, "out of memory");
		goto fail;
	}

	for (step = r->start_step; step < o->steps; step++) {
		struct rng rng;
		double t0 = util_now(), dt, comm = 0;
		float loss;
		int skipped, stop;

		/* Every rank stops at the same step. */
		stop = dist_any(r->stop != NULL && *r->stop, cause);
		if (stop < 0)
			goto fail;
		if (stop)
			break;
		rng_init(&rng, o->seed * 0x9e3779b97f4a7c15ULL + (uint64_t)step);
		for (int b = 0; b < B; b++)
			starts[b] = (size_t)rng_below(&rng, r->train->n - (size_t)T);
		/* This rank's share of the batch: windows lo..hi-1. */
		train_fill(r->train, starts + lo, Bl, T, inputs, targets);
		if (gpt_forward(r->model, inputs, NULL, NULL, Bl, T, cause) != 0)
			goto fail;
		loss = gpt_loss_ce(r->model, targets);
		if (gpt_zero_grad(r->model, cause) != 0)
			goto fail;
		if (Bl != B)
			optim_scale(gpt_dlogits(r->model), (size_t)Bl * T *
			    (size_t)gpt_config(r->model)->padded_vocab_size, (float)Bl / B);
		if (gpt_backward(r->model, cause) != 0 ||
		    optim_reduce(r->model, Bl != B ? &loss : NULL, (float)Bl / B, &comm,
		    cause) != 0)
			goto fail;
		memset(&pr, 0, sizeof pr);
		pr.comm_s = comm;
		skipped = optim_step(&o->optim, r->model, step, o->steps, &pr.lr,
		    &pr.grad_norm, cause);
		if (skipped < 0)
			goto fail;
		if (!isfinite(loss))
			skipped = 1;
		if (skipped)
			util_log(UTIL_LOG_WARN, "step %ld skipped: loss %g, gradient norm %g "
			    "(not finite)", step + 1, (double)loss, (double)pr.grad_norm);
		done = step + 1;
		dt = util_now() - t0;
		pr.step = done;
		pr.steps = o->steps;
		pr.loss = loss;
		pr.skipped = skipped;
		pr.tokens_per_s = (double)B * T / dt;
		pr.elapsed = util_now() - t_start;
		pr.eta = pr.elapsed / (double)(done - r->start_step) *
		    (double)(o->steps - done);
		pr.best_val_loss = best;
		record_set(r->rec, "last_loss", "%.6f", (double)loss);
		if (r->val != NULL && r->val->n > (size_t)T &&
		    ((o->eval_every > 0 && done % o->eval_every == 0) || done == o->steps)) {
			if (train_eval(r->model, r->val, B, T, o->eval_batches, &pr.val_loss,
			    cause) != 0)
				goto fail;
			pr.has_val = 1;
			record_set(r->rec, "val_loss", "%.6f", (double)pr.val_loss);
			if (pr.val_loss < best) {
				best = pr.val_loss;
				pr.best_val_loss = best;
				record_set(r->rec, "best_val_loss", "%.6f", (double)best);
				record_set(r->rec, "steps", "%ld", done);
				if (r->best_path != NULL && dist_rank() == 0) {
					if (checkpoint_save(r->best_path, r->model, r->tok, r->rec,
					    cause) != 0)
						goto fail;
					pr.saved_best = 1;
				}
			}
		}
		if (o->save_every > 0 && done % o->save_every == 0 && done != o->steps &&
		    train_save(r, done, cause) != 0)
			goto fail;
		if (r->cb != NULL)
			r->cb(&pr, r->cb_arg);
	}
	if (train_save(r, done, cause) != 0)
		goto fail;
	free(inputs);
	free(targets);
	free(starts);
	return done;
fail:
	free(inputs);
	free(targets);
	free(starts);
	return -1;
}
