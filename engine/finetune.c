/*
 * finetune.c: the fine-tuning trainer (SequenceMatch, BC, MLE).
 *
 * How this works. Each step builds a batch of trajectories: data windows from
 * the training stream (a prompt of prompt_tokens, then up to `window` tokens,
 * ending at <|endoftext|> if the document ends: a terminal step), augmented
 * with typed-and-erased noise for bc and sm (docs/sequencematch.md section 4), and,
 * for sm once BC warm-up is over, as many of the model's own trajectories from
 * a FIFO replay buffer (beta = 1/2). Every sample_every steps the buffer gets
 * samples_per_round new generations from data prompts with the current
 * weights, at temperature 1 with no filters, <bksp> enabled. The batch goes
 * through one tree-masked forward pass, sm_loss gives the gradient on the
 * logits, and AdamW updates the weights. mle skips all that and minimises the
 * plain cross-entropy of the windows.
 *
 * Under MPI (dist.h) every rank builds the whole step's list of trajectories
 * from the same generator (augmentation is cheap; the forward pass of --noise
 * model's proposals is repeated on every rank), then packs and runs only its
 * contiguous share of them, with the global batch's normalisers (sm_batch's
 * n_data, n_model, data_steps), so the ranks' gradients sum to the global
 * batch's (optim_reduce). A sampling round draws every sample's prompt and
 * seed as one process would, each rank generates its share of the samples,
 * and an allgather puts all of them, in order, into every rank's replay
 * buffer: the buffers stay identical and generation runs in parallel.
 *
 * In a thread, the loop checks pause and stop requests between steps. Every
 * publish_every steps it copies the weights into a new immutable snapshot and
 * swaps it in under a mutex; readers take a reference under the same mutex
 * and drop it when done, so a generator never sees weights change under it
 * and never copies them per token.
 *
 * The pieces live beside this file (finetune-impl.h has the struct):
 * finetune-batch.c the windows, noise, MLE batch, validation and MPI stats,
 * finetune-replay.c the model's samples and the replay ring,
 * finetune-snapshot.c the published snapshots.
 */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "dist.h"
#include "finetune-impl.h"
#include "finetune.h"
#include "gpt.h"
#include "optim.h"
#include "record.h"
#include "rng.h"
#include "tokenizer.h"
#include "train.h"
#include "util.h"

/* Defaults (docs/sequencematch.md, "Defaults", says which are settled). */
void
finetune_options_defaults(struct finetune_options *o)
{
	memset(o, 0, sizeof *o);
	o->method = FINETUNE_SM;
	sm_params_defaults(&o->sm);
	o->batch_size = 8;
	o->model_batch = 0;
	o->prompt_tokens = 8;
	o->window = 32;
	o->steps = 300;
	o->optim.lr = 3e-4f;
	o->optim.min_lr_frac = 0.1f;
	o->optim.weight_decay = 0.0f;
	o->optim.beta1 = 0.9f;
	o->optim.beta2 = 0.95f;
	o->optim.eps = 1e-8f;
	o->optim.grad_clip = 1.0f;
	o->optim.warmup = 10;
	o->bc_warmup = 50;
	o->bc_mix = 0.001;
	o->p_noise = 0.05;
	o->ctx_noise = 0.5;
	o->burst_mean = 1.5;
	o->unigram_noise = 0;
	o->model_noise = 0;
	o->noise_fallback = 0;
	o->noise_temp = 1.0;
	o->noise_confidence = 0;
	o->doc_start = 0;
	o->ctx_noise_insert = 0;
	o->sample_every = 10;
	o->samples_per_round = 8;
	o->replay_rounds = 4;
	o->eval_every = 50;
	o->eval_batches = 4;
	o->save_every = 0;
	o->publish_every = 1;
	o->seed = 1337;
}

/*
 * The recipe data/model.bin was made with (Makefile.am's SM_RECIPE and
 * FT_COMMON; data/README's ablation found it): windows that begin at a
 * document's start and hold a whole story, prompts of 1 to 16 tokens with
 * inserted noise, behaviour cloning for the first half of the steps, then
 * SequenceMatch at c = 0 (no quadratic term) mixed half and half with BC, the
 * model's trajectories added to the data's; noise bursts start with a token
 * the model itself proposes where it gives the data token at least 0.5, with
 * a uniform one elsewhere (round 7 of data/README: it cut by about four
 * fifths the hero and pet errors uniform noise never taught the model to
 * erase).
 * The UI's fine-tune pane starts from it.
 */
void
finetune_options_recipe(struct finetune_options *o)
{
	finetune_options_defaults(o);
	o->batch_size = 16;
	o->prompt_tokens = 16;
	o->window = 96;
	o->doc_start = 1;
	o->ctx_noise_insert = 1;
	o->steps = 1500;
	o->bc_warmup = o->steps / 2;
	o->bc_mix = 0.5;
	o->sm.c = 0;
	o->model_noise = 1;
	o->noise_fallback = 1;
	o->noise_confidence = 0.5;
	o->model_batch = o->batch_size;
	o->eval_every = 250;
}

/* "sm", "bc" or "mle". */
const char *
finetune_method_name(enum finetune_method m)
{
	return m == FINETUNE_SM ? "sm" : m == FINETUNE_BC ? "bc" : "mle";
}

/* Parse a method name. */
int
finetune_method_parse(const char *s, enum finetune_method *m)
{
	if (strcmp(s, "sm") == 0)
		*m = FINETUNE_SM;
	else if (strcmp(s, "bc") == 0)
		*m = FINETUNE_BC;
	else if (strcmp(s, "mle") == 0)
		*m = FINETUNE_MLE;
	else
		return -1;
	return 0;
}

/*
 * Parse --noise: uniform, unigram, model (the model's proposals, none where
 * --noise-confidence finds it unsure), model+uniform or model+unigram (the
 * model's proposals where it is sure, that noise elsewhere).
 */
int
finetune_noise_parse(const char *s, struct finetune_options *o)
{
	static const char *const names[] = { "uniform", "unigram", "model",
		"model+uniform", "model+unigram" };

	for (int i = 0; i < 5; i++)
		if (strcmp(s, names[i]) == 0) {
			o->unigram_noise = i == 1 || i == 4;
			o->model_noise = i >= 2;
			o->noise_fallback = i >= 3;
			return 0;
		}
	return -1;
}

/* The --noise name of the options. */
const char *
finetune_noise_name(const struct finetune_options *o)
{
	if (o->model_noise && o->noise_fallback)
		return o->unigram_noise ? "model+unigram" : "model+uniform";
	return o->model_noise ? "model" : o->unigram_noise ? "unigram" : "uniform";
}

/* Every tunable into the record. */
void
finetune_options_record(const struct finetune_options *o, struct record *rec)
{
	record_set(rec, "method", "%s", finetune_method_name(o->method));
	record_set(rec, "gamma", "%g", o->sm.gamma);
	record_set(rec, "c", "%g", o->sm.c);
	record_set(rec, "beta", "%g", o->sm.beta);
	record_set(rec, "v_term", "%g", o->sm.v_term);
	record_set(rec, "bc_warmup", "%ld", o->bc_warmup);
	record_set(rec, "bc_mix", "%g", o->bc_mix);
	record_set(rec, "p_noise", "%g", o->p_noise);
	record_set(rec, "ctx_noise", "%g", o->ctx_noise);
	record_set(rec, "burst_mean", "%g", o->burst_mean);
	record_set(rec, "noise", "%s", finetune_noise_name(o));
	record_set(rec, "noise_temp", "%g", o->noise_temp);
	record_set(rec, "noise_confidence", "%g", o->noise_confidence);
	record_set(rec, "doc_start", "%d", o->doc_start);
	record_set(rec, "ctx_noise_insert", "%d", o->ctx_noise_insert);
	record_set(rec, "sample_every", "%d", o->sample_every);
	record_set(rec, "samples_per_round", "%d", o->samples_per_round);
	record_set(rec, "replay_rounds", "%d", o->replay_rounds);
	record_set(rec, "ft_batch_size", "%d", o->batch_size);
	record_set(rec, "model_batch", "%d", o->model_batch);
	record_set(rec, "prompt_tokens", "%d", o->prompt_tokens);
	record_set(rec, "window", "%d", o->window);
	record_set(rec, "ft_steps", "%ld", o->steps);
	optim_options_record(&o->optim, "ft_", rec);
	record_set(rec, "ft_seed", "%llu", (unsigned long long)o->seed);
	if (o->method != FINETUNE_MLE)
		record_set(rec, "actions", "bksp");
}

/* Undo a finetune_new that failed: the caller keeps the model. */
static void
finetune_new_fail(struct finetune *ft)
{
	ft->model = NULL;
	finetune_free(ft);
}

/* A new fine-tune. */
struct finetune *
finetune_new(struct gpt_model *model, const struct tokenizer *tok,
    const struct train_data *train, const struct train_data *val,
    const struct finetune_options *o, struct record *rec, const char *out_path,
    const char *best_path, long start_step, char **cause)
{
	const struct gpt_config *cfg = gpt_config(model);
	struct finetune *ft;
	size_t need = (size_t)o->prompt_tokens + (size_t)o->window + 2;

	if (o->prompt_tokens < 1 || o->window < 1 || o->batch_size < 1) {
		util_error(cause, "prompt_tokens, window and batch_size must be positive");
		return NULL;
	}
	if (o->batch_size < dist_size()) {
		util_error(cause, "batch size %d is smaller than the %d processes: each "
		    "needs at least one trajectory", o->batch_size, dist_size());
		return NULL;
	}
	if (o->prompt_tokens + o->window + SM_MAX_BURST > cfg->max_seq_len) {
		util_error(cause, "prompt_tokens %d + window %d + %d (noise) exceed the "
		    "model's context %d", o->prompt_tokens, o->window, SM_MAX_BURST,
		    cfg->max_seq_len);
		return NULL;
	}
	if (train->n < need) {
		util_error(cause, "the training data has %zu tokens; a window needs %zu",
		    train->n, need);
		return NULL;
	}
	if (tokenizer_bksp(tok) != cfg->vocab_size || cfg->padded_vocab_size <=
	    cfg->vocab_size) {
		util_error(cause, "the model has no row for <bksp>");
		return NULL;
	}
	ft = calloc(1, sizeof *ft);
	if (ft == NULL) {
		util_error(cause, "out of memory");
		return NULL;
	}
	ft->model = model;
	ft->tok = tok;
	ft->train = train;
	ft->val = val;
	ft->o = *o;
	ft->rec = rec;
	ft->step = ft->start_step = start_step;
	ft->best_val = INFINITY;
	ft->out_path = out_path != NULL ? strdup(out_path) : NULL;
	ft->best_path = best_path != NULL ? strdup(best_path) : NULL;
	ft->replay_cap = o->samples_per_round * o->replay_rounds;
	if (ft->replay_cap < 1)
		ft->replay_cap = 1;
	ft->replay = calloc((size_t)ft->replay_cap, sizeof *ft->replay);
	pthread_mutex_init(&ft->lock, NULL);
	pthread_cond_init(&ft->cond, NULL);
	/* A lost path would mean a run that never saves. */
	if (ft->replay == NULL || (out_path != NULL && ft->out_path == NULL) ||
	    (best_path != NULL && ft->best_path == NULL)) {
		finetune_new_fail(ft);
		util_error(cause, "out of memory");
		return NULL;
	}
	if (o->unigram_noise) {
		int V = cfg->vocab_size;
		ft->noise_cdf = calloc((size_t)V, sizeof *ft->noise_cdf);
		if (ft->noise_cdf == NULL) {
			finetune_new_fail(ft);
			util_error(cause, "out of memory");
			return NULL;
		}
		for (size_t i = 0; i < train->n; i++)
			if (train->tokens[i] != tokenizer_eot(tok))
				ft->noise_cdf[train->tokens[i]] += 1;
		for (int v = 1; v < V; v++)
			ft->noise_cdf[v] += ft->noise_cdf[v - 1];
	}
	if (o->doc_start && finetune_find_docs(ft, tokenizer_eot(tok), cause) != 0) {
		finetune_new_fail(ft);
		return NULL;
	}
	/* Every parameter changes: a model read in place from its file gets its own copy. */
	if (gpt_make_private(model, cause) != 0) {
		finetune_new_fail(ft);
		return NULL;
	}
	if (o->method != FINETUNE_MLE && !gpt_has_bksp(model))
		gpt_init_bksp(model);
	if (rec != NULL) {
		const char *b = record_get(rec, "best_val_loss");
		if (b != NULL && start_step > 0)
			ft->best_val = strtof(b, NULL);
		finetune_options_record(o, rec);
		/* A new fine-tune is a new run (its base's id goes); a resumed one keeps it. */
		if (start_step == 0 || record_get(rec, "run_id") == NULL)
			record_set(rec, "run_id", "%016llx",
			    (unsigned long long)util_random_id());
	}
	ft->state = FINETUNE_IDLE;
	if (finetune_publish(ft, cause) != 0) {
		finetune_new_fail(ft);
		return NULL;
	}
	return ft;
}

/* Free a fine-tune (stopping its thread first). */
void
finetune_free(struct finetune *ft)
{
	if (ft == NULL)
		return;
	if (ft->thread_started) {
		finetune_stop(ft);
		finetune_join(ft, NULL);
	}
	for (int i = 0; i < ft->replay_cap && ft->replay != NULL; i++)
		sm_traj_release(&ft->replay[i]);
	free(ft->replay);
	free(ft->noise_cdf);
	free(ft->doc_starts);
	free(ft->out_path);
	free(ft->best_path);
	free(ft->error);
	snapshot_unref(ft->snap);
	gpt_free(ft->model);
	pthread_mutex_destroy(&ft->lock);
	pthread_cond_destroy(&ft->cond);
	free(ft);
}

/* One optimisation step (and a sampling round when due). */
int
finetune_step(struct finetune *ft, struct finetune_progress *pr, char **cause)
{
	const struct finetune_options *o = &ft->o;
	const struct gpt_config *cfg = gpt_config(ft->model);
	int bksp = tokenizer_bksp(ft->tok), eot = tokenizer_eot(ft->tok);
	int use_model = o->method == FINETUNE_SM && ft->step >= o->bc_warmup;
	struct rng rng;
	double t0;
	int r;

	memset(pr, 0, sizeof *pr);
	if (ft->step >= o->steps)
		return 1;
	rng_init(&rng, o->seed * 0x9e3779b97f4a7c15ULL + (uint64_t)ft->step);
	if (use_model && (ft->replay_n == 0 ||
	    (o->sample_every > 0 && (ft->step - o->bc_warmup) % o->sample_every == 0))) {
		t0 = util_now();
		if (finetune_sample_round(ft, &rng, cause) != 0)
			return -1;
		pr->sampled = 1;
		pr->sample_seconds = util_now() - t0;
	}
	t0 = util_now();
	if (o->method == FINETUNE_MLE) {
		if (finetune_mle_batch(ft, &rng, pr, cause) != 0)
			return -1;
	} else {
		/*
		 * With model_batch the data trajectories stay batch_size and the
		 * model's are added; without it they take half of the batch (the
		 * first recipe), which halves the data the SM phase learns from
		 * (data/README, round 5).
		 */
		int B = o->batch_size, nm = 0;
		if (use_model && ft->replay_n > 0)
			nm = o->model_batch > 0 ? o->model_batch : B / 2;
		int nd = o->model_batch > 0 ? B : B - nm;
		B = nd + nm;
		pr->n_data = nd;
		pr->n_model = nm;
		struct sm_traj *data = calloc((size_t)nd, sizeof *data);
		const struct sm_traj **tp = calloc((size_t)B, sizeof *tp);
		struct sm_batch b;
		struct sm_params p = o->sm;

		if (data == NULL || tp == NULL) {
			free(data);
			free(tp);
			return util_error(cause, "out of memory");
		}
		/*
		 * Every window is drawn before any is augmented (the generator's
		 * order), so the clean windows are kept; the model's proposals only
		 * with --noise model and noise to place.
		 */
		int want_prop = o->model_noise && o->p_noise > 0;
		struct sm_traj *clean = calloc((size_t)nd, sizeof *clean);
		int **prop = want_prop ? calloc((size_t)nd, sizeof *prop) : NULL;

		r = clean == NULL || (want_prop && prop == NULL) ?
		    util_error(cause, "out of memory") : 0;
		for (int i = 0; i < nd && r == 0; i++) {
			const int *prompt, *cont;
			int nc, term, P = finetune_prompt_len(ft, &rng);
			size_t start = finetune_window_start(ft, &rng, ft->train->n -
			    (size_t)o->prompt_tokens - 1);
			finetune_window(ft, ft->train, start, P, &prompt, &cont, &nc, &term);
			clean[i].prompt = (int *)(uintptr_t)prompt;
			clean[i].n_prompt = P;
			clean[i].actions = (int *)(uintptr_t)cont;
			clean[i].n_actions = nc;
			clean[i].is_data = 1;
			clean[i].terminal = term;
			if (want_prop && (prop[i] = malloc((size_t)(nc > 0 ? nc : 1) *
			    sizeof **prop)) == NULL)
				r = util_error(cause, "out of memory");
		}
		if (r == 0 && want_prop)
			r = finetune_propose(ft, clean, nd, prop, &rng, cause);
		for (int i = 0; i < nd && r == 0; i++) {
			const struct sm_traj *c = &clean[i];
			r = sm_augment(c->prompt, c->n_prompt, c->actions, c->n_actions,
			    c->terminal, o->p_noise, o->burst_mean, ft->noise_cdf,
			    want_prop ? prop[i] : NULL, cfg->vocab_size, eot, bksp,
			    &rng, &data[i], cause);
			if (r == 0)
				r = finetune_ctx_noise(ft, &data[i], &rng, cause);
			tp[i] = &data[i];
		}
		for (int i = 0; prop != NULL && i < nd; i++)
			free(prop[i]);
		free(prop);
		free(clean);
		if (r != 0) {
			for (int k = 0; k < nd; k++)
				sm_traj_release(&data[k]);
			free(data);
			free(tp);
			return -1;
		}
		for (int i = 0; i < nm; i++)
			tp[nd + i] = &ft->replay[rng_below(&rng, (uint64_t)ft->replay_n)];
		if (o->method == FINETUNE_BC || !use_model) {
			p.bc_weight = 1.0;
			p.sm_weight = 0.0;
		} else {
			p.bc_weight = o->bc_mix;
			p.sm_weight = 1.0 - o->bc_mix;
		}
		/* This rank's share of the trajectories, with the batch's normalisers. */
		long lo, hi, data_steps = 0;
		dist_share(B, &lo, &hi);
		for (int i = 0; i < nd; i++)
			data_steps += data[i].n_actions;
		r = sm_batch_build(tp + lo, (int)(hi - lo), bksp, 4 * cfg->max_seq_len, &b,
		    cause);
		if (r == 0) {
			b.n_data = nd;
			b.n_model = nm;
			b.data_steps = data_steps;
			r = gpt_forward(ft->model, b.ids, b.pos, b.parent, b.B, b.T, cause);
			if (r == 0)
				r = sm_loss(&b, gpt_logits(ft->model), gpt_dlogits(ft->model),
				    cfg->vocab_size, cfg->padded_vocab_size, bksp, &p, &pr->sm,
				    cause);
			pr->tokens_per_s = (double)b.B * b.T;
			pr->n_rows = b.B;
			sm_batch_release(&b);
		}
		for (int i = 0; i < nd; i++)
			sm_traj_release(&data[i]);
		free(data);
		free(tp);
		if (r != 0)
			return -1;
	}
	if (gpt_zero_grad(ft->model, cause) != 0 || gpt_backward(ft->model, cause) != 0 ||
	    optim_reduce(ft->model, NULL, 1, &pr->comm_s, cause) != 0 ||
	    finetune_reduce_stats(pr, cause) != 0)
		return -1;
	r = optim_step(&o->optim, ft->model, ft->step, o->steps, &pr->lr, &pr->grad_norm,
	    cause);
	if (r < 0)
		return -1;
	if (!isfinite(pr->sm.loss))
		r = 1;
	if (r == 1)
		util_log(UTIL_LOG_WARN, "fine-tune step %ld skipped: loss %g, gradient norm "
		    "%g (not finite)", ft->step + 1, pr->sm.loss, (double)pr->grad_norm);
	pr->skipped = r;
	pr->step_seconds = util_now() - t0;
	pr->tokens_per_s /= pr->step_seconds > 0 ? pr->step_seconds : 1;
	__atomic_store_n(&ft->step, ft->step + 1, __ATOMIC_RELAXED);
	pr->step = ft->step;
	pr->steps = o->steps;
	pr->elapsed = util_now() - ft->t_start;
	pr->eta = pr->elapsed / (double)(ft->step - ft->start_step) *
	    (double)(o->steps - ft->step);
	if (o->publish_every > 0 && ft->step % o->publish_every == 0 &&
	    finetune_publish(ft, cause) != 0)
		return -1;
	pr->version = ft->version;
	pr->best_val_loss = ft->best_val;
	if ((o->eval_every > 0 && ft->step % o->eval_every == 0) || ft->step == o->steps) {
		r = finetune_eval(ft, &pr->val_loss, cause);
		if (r < 0)
			return -1;
		if (r == 0) {
			pr->has_val = 1;
			if (ft->rec != NULL)
				record_set(ft->rec, "val_loss", "%.6f", (double)pr->val_loss);
			if (pr->val_loss < ft->best_val) {
				ft->best_val = pr->val_loss;
				pr->best_val_loss = ft->best_val;
				if (ft->rec != NULL) {
					record_set(ft->rec, "best_val_loss", "%.6f",
					    (double)ft->best_val);
					record_set(ft->rec, "steps", "%ld", ft->step);
				}
				if (ft->best_path != NULL && dist_rank() == 0) {
					if (checkpoint_save(ft->best_path, ft->model, ft->tok,
					    ft->rec, cause) != 0)
						return -1;
					pr->saved_best = 1;
				}
			}
		}
	}
	if (o->save_every > 0 && ft->step % o->save_every == 0 && ft->step != o->steps &&
	    finetune_save(ft, cause) != 0)
		return -1;
	return ft->step >= o->steps ? 1 : 0;
}

/* Latest checkpoint and optimizer state. */
int
finetune_save(struct finetune *ft, char **cause)
{
	if (ft->out_path == NULL || dist_rank() != 0)
		return 0;
	if (ft->rec != NULL)
		record_set(ft->rec, "steps", "%ld", ft->step);
	return checkpoint_save_pair(ft->out_path, ft->model, ft->tok, ft->rec, ft->step, cause);
}

/* Run to completion here; *stop (may be NULL) ends the run early. Saves at the end. */
int
finetune_run(struct finetune *ft, finetune_cb cb, void *arg, volatile int *stop,
    char **cause)
{
	struct finetune_progress pr;
	int r = 0;

	ft->t_start = util_now();
	if (optim_sync_start(ft->model, cause) != 0)
		return -1;
	while (ft->step < ft->o.steps) {
		/* Every rank stops at the same step. */
		r = dist_any(stop != NULL && *stop, cause);
		if (r < 0)
			return -1;
		if (r)
			break;
		r = finetune_step(ft, &pr, cause);
		if (r < 0)
			return -1;
		if (cb != NULL)
			cb(&pr, arg);
	}
	return finetune_save(ft, cause);
}

/* The trainer thread. */
static void *
finetune_thread(void *arg)
{
	struct finetune *ft = arg;
	struct finetune_progress pr;
	char *cause = NULL;
	int r = 0, discard;

	ft->t_start = util_now();
	for (;;) {
		pthread_mutex_lock(&ft->lock);
		while (ft->pause_req && !ft->stop_req) {
			ft->state = FINETUNE_PAUSED;
			pthread_cond_wait(&ft->cond, &ft->lock);
		}
		if (ft->stop_req || ft->step >= ft->o.steps) {
			pthread_mutex_unlock(&ft->lock);
			break;
		}
		ft->state = FINETUNE_RUNNING;
		pthread_mutex_unlock(&ft->lock);
		r = finetune_step(ft, &pr, &cause);
		if (r < 0)
			break;
		if (ft->cb != NULL)
			ft->cb(&pr, ft->cb_arg);
	}
	pthread_mutex_lock(&ft->lock);
	discard = ft->discard;
	pthread_mutex_unlock(&ft->lock);
	if (r >= 0 && !discard && finetune_save(ft, &cause) != 0)
		r = -1;
	pthread_mutex_lock(&ft->lock);
	ft->state = r < 0 ? FINETUNE_FAILED : FINETUNE_DONE;
	ft->error = cause;
	pthread_cond_broadcast(&ft->cond);
	pthread_mutex_unlock(&ft->lock);
	return NULL;
}

/* Start the trainer thread. */
int
finetune_start(struct finetune *ft, finetune_cb cb, void *arg, char **cause)
{
	if (ft->thread_started)
		return util_error(cause, "the fine-tune is already running");
	ft->cb = cb;
	ft->cb_arg = arg;
	ft->state = FINETUNE_RUNNING;
	if (pthread_create(&ft->thread, NULL, finetune_thread, ft) != 0) {
		ft->state = FINETUNE_FAILED;
		return util_error(cause, "cannot start the fine-tune thread");
	}
	ft->thread_started = 1;
	return 0;
}

/* Ask the thread to pause after the current step. */
void
finetune_pause(struct finetune *ft)
{
	pthread_mutex_lock(&ft->lock);
	ft->pause_req = 1;
	pthread_mutex_unlock(&ft->lock);
}

/* Let a paused thread go on. */
void
finetune_resume(struct finetune *ft)
{
	pthread_mutex_lock(&ft->lock);
	ft->pause_req = 0;
	pthread_cond_broadcast(&ft->cond);
	pthread_mutex_unlock(&ft->lock);
}

/* Ask the thread to stop after the current step (it saves). */
void
finetune_stop(struct finetune *ft)
{
	pthread_mutex_lock(&ft->lock);
	ft->stop_req = 1;
	pthread_cond_broadcast(&ft->cond);
	pthread_mutex_unlock(&ft->lock);
}

/*
 * Ask the thread to stop after the current step without its final save: what
 * it learned since the last finetune_save (or save_every) is dropped, and no
 * file is written on the way out.
 */
void
finetune_discard(struct finetune *ft)
{
	pthread_mutex_lock(&ft->lock);
	ft->discard = 1;
	ft->stop_req = 1;
	pthread_cond_broadcast(&ft->cond);
	pthread_mutex_unlock(&ft->lock);
}

/* Wait for the thread. */
int
finetune_join(struct finetune *ft, char **cause)
{
	if (!ft->thread_started)
		return 0;
	pthread_join(ft->thread, NULL);
	ft->thread_started = 0;
	if (ft->state == FINETUNE_FAILED)
		return util_error(cause, "%s", ft->error != NULL ? ft->error : "failed");
	return 0;
}

/* Current state. */
enum finetune_state
finetune_get_state(const struct finetune *ft)
{
	enum finetune_state s;

	pthread_mutex_lock((pthread_mutex_t *)(uintptr_t)&ft->lock);
	s = ft->state;
	pthread_mutex_unlock((pthread_mutex_t *)(uintptr_t)&ft->lock);
	return s;
}

/* Steps done (read between steps or for display). */
long
finetune_steps_done(const struct finetune *ft)
{
	return __atomic_load_n(&ft->step, __ATOMIC_RELAXED);
}

