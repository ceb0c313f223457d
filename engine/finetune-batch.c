/*
 * finetune-batch.c: what a fine-tuning step learns from: data windows (and
 * where they start), their context noise, the model's proposals for --noise
 * model, the MLE batch, the validation loss, and the step's loss terms
 * summed over the ranks under MPI.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dist.h"
#include "finetune-impl.h"
#include "finetune.h"
#include "gpt.h"
#include "optim.h"
#include "rng.h"
#include "tokenizer.h"
#include "train.h"
#include "util.h"

/*
 * With doc_start, the first token of every document of the training stream
 * that has room for a whole window (prompt_tokens + window + 1 tokens) after
 * it: trajectories then begin where a user's story begins, and the model sees
 * each story whole (a window from a random place starts mid-story, and a
 * story's length rule cannot be learned from it).
 */
int
finetune_find_docs(struct finetune *ft, int eot, char **cause)
{
	const struct train_data *d = ft->train;
	size_t room = (size_t)ft->o.prompt_tokens + (size_t)ft->o.window + 1, n = 0;

	for (size_t i = 0; i + room < d->n; i++)
		if ((i == 0 || d->tokens[i - 1] == eot) && d->tokens[i] != eot)
			n++;
	if (n == 0)
		return util_error(cause, "no document of the corpus has room for a "
		    "prompt and a window (%zu tokens)", room);
	ft->doc_starts = malloc(n * sizeof *ft->doc_starts);
	if (ft->doc_starts == NULL)
		return util_error(cause, "out of memory");
	for (size_t i = 0; i + room < d->n; i++)
		if ((i == 0 || d->tokens[i - 1] == eot) && d->tokens[i] != eot)
			ft->doc_starts[ft->n_doc_starts++] = i;
	return 0;
}

/* Where a training window starts: anywhere, or (doc_start) at a document's start. */
size_t
finetune_window_start(const struct finetune *ft, struct rng *rng, size_t span)
{
	if (ft->doc_starts != NULL)
		return ft->doc_starts[rng_below(rng, (uint64_t)ft->n_doc_starts)];
	return (size_t)rng_below(rng, span);
}

/* A data window: a prompt of P tokens and its continuation (ending at <|endoftext|>: terminal). */
void
finetune_window(const struct finetune *ft, const struct train_data *d, size_t start, int P,
    const int **prompt, const int **cont, int *n_cont, int *terminal)
{
	int eot = tokenizer_eot(ft->tok);

	*prompt = d->tokens + start;
	*cont = d->tokens + start + P;
	*n_cont = 0;
	*terminal = 0;
	while (*n_cont < ft->o.window && start + (size_t)P + (size_t)*n_cont < d->n) {
		int t = (*cont)[(*n_cont)++];
		if (t == eot) {
			*terminal = 1;
			break;
		}
	}
}

/*
 * A training trajectory's prompt length: uniform in 1..prompt_tokens, so the
 * short contexts a user types (a name, three words) get loss and model samples
 * too; with a fixed length no state shorter than the prompt was ever trained.
 */
int
finetune_prompt_len(const struct finetune *ft, struct rng *rng)
{
	return 1 + (int)rng_below(rng, (uint64_t)ft->o.prompt_tokens);
}

/*
 * With probability ctx_noise, replace some of a data prompt's tokens (never
 * the last) with noise that stays: the continuation after them is clean data.
 * Erased noise teaches "take back the token just typed"; this teaches that
 * strange text further back (an unseen word in a user's prompt) is no reason
 * to erase, or the model erases everything after an unfamiliar prompt.
 * With ctx_noise_insert the noise tokens are inserted between the prompt's
 * tokens rather than replacing them: replacing the hero's name in a prompt
 * teaches that the story may go on with another one (data/README).
 */
int
finetune_ctx_noise(const struct finetune *ft, struct sm_traj *t, struct rng *rng,
    char **cause)
{
	int V = gpt_config(ft->model)->vocab_size, eot = tokenizer_eot(ft->tok);
	double rate;
	int *p, n = 0, room;

	if (t->n_prompt < 2 || rng_double(rng) >= ft->o.ctx_noise)
		return 0;
	rate = 0.5 * rng_double(rng);
	if (!ft->o.ctx_noise_insert) {
		for (int i = 0; i < t->n_prompt - 1; i++)
			if (rng_double(rng) < rate)
				t->prompt[i] = sm_noise_token(ft->noise_cdf, V, eot, rng);
		return 0;
	}
	/*
	 * Insert instead: every data token stays (the hero's name too). At most
	 * room tokens, so the longest prompt, window and burst still fit the
	 * context (finetune_new checked them without this noise).
	 */
	room = gpt_config(ft->model)->max_seq_len - ft->o.prompt_tokens - ft->o.window -
	    SM_MAX_BURST;
	if ((p = malloc((size_t)(2 * t->n_prompt + 1) * sizeof *p)) == NULL)
		return util_error(cause, "out of memory");
	for (int i = 0; i < t->n_prompt; i++) {
		if (i > 0 && n - i < room && rng_double(rng) < rate)
			p[n++] = sm_noise_token(ft->noise_cdf, V, eot, rng);
		p[n++] = t->prompt[i];
	}
	free(t->prompt);
	t->prompt = p;
	t->n_prompt = n;
	return 0;
}

/* Mean per-token cross-entropy of data windows (no noise) under the model. */
int
finetune_eval(struct finetune *ft, float *loss, char **cause)
{
	const struct train_data *d = ft->val;
	int P = ft->o.prompt_tokens, B = ft->o.batch_size, bksp = tokenizer_bksp(ft->tok);
	const struct gpt_config *cfg = gpt_config(ft->model);
	double sum = 0;
	long steps = 0;
	size_t span;

	if (d == NULL || d->n < (size_t)(P + ft->o.window + 2))
		return 1;
	span = d->n - (size_t)P - (size_t)ft->o.window - 1;
	for (int k = 0; k < ft->o.eval_batches; k++) {
		struct sm_traj t[64];
		const struct sm_traj *tp[64];
		struct sm_batch b;
		struct sm_params p;
		struct sm_stats st;
		int n = B > 64 ? 64 : B;

		if (k % dist_size() != dist_rank())
			continue; /* another rank's batch */
		for (int i = 0; i < n; i++) {
			const int *prompt, *cont;
			int nc, term;
			size_t start = span * (size_t)(k * n + i) /
			    (size_t)(ft->o.eval_batches * n);
			finetune_window(ft, d, start, P, &prompt, &cont, &nc, &term);
			t[i].prompt = (int *)(uintptr_t)prompt;
			t[i].n_prompt = P;
			t[i].actions = (int *)(uintptr_t)cont;
			t[i].credit = NULL;
			t[i].n_actions = nc;
			t[i].is_data = 1;
			t[i].terminal = term;
			tp[i] = &t[i];
		}
		if (sm_batch_build(tp, n, bksp, cfg->max_seq_len * 2, &b, cause) != 0)
			return -1;
		memset(&p, 0, sizeof p);
		p.gamma = ft->o.sm.gamma;
		p.bc_weight = 1.0;
		if (gpt_forward(ft->model, b.ids, b.pos, b.parent, b.B, b.T, cause) != 0 ||
		    sm_loss(&b, gpt_logits(ft->model), gpt_dlogits(ft->model),
		    cfg->vocab_size, cfg->padded_vocab_size, bksp, &p, &st, cause) != 0) {
			sm_batch_release(&b);
			return -1;
		}
		sum += st.bc;
		steps++;
		sm_batch_release(&b);
	}
	if (dist_sum_double(&sum, 1, cause) != 0)
		return -1;
	steps = ft->o.eval_batches;
	*loss = (float)(sum / (double)steps);
	return 0;
}

/*
 * Noise that looks like the model's own mistakes (--noise model): one
 * forward pass over the n clean data windows with the current weights; at
 * each continuation position the model proposes a token at noise_temp, drawn
 * from its distribution renormalised over the ordinary tokens other than the
 * data token and <|endoftext|>. After a wrong name or number the model then
 * sees the state it would really reach and is taught to erase it, which
 * uniform or unigram noise never shows it (data/README has the ablation).
 * With noise_confidence > 0 only positions where the model gives the data
 * token at least that probability (at temperature 1) get a proposal: where
 * the data itself offers many choices (an adjective, a place) another token
 * is usually no mistake, and teaching to erase it only teaches erasing good
 * text. prop[i] (clean[i].n_actions) gets the proposals (-1: none; -2:
 * none, but noise_fallback puts uniform or unigram noise there instead, so
 * the odd tokens a temperature-1 sample types are still erased).
 */
int
finetune_propose(struct finetune *ft, struct sm_traj *clean, int n, int **prop,
    struct rng *rng, char **cause)
{
	const struct gpt_config *cfg = gpt_config(ft->model);
	const struct sm_traj **tp = calloc((size_t)n, sizeof *tp);
	int V = cfg->vocab_size, Vp = cfg->padded_vocab_size;
	int eot = tokenizer_eot(ft->tok), bksp = tokenizer_bksp(ft->tok);
	double *w = malloc((size_t)V * sizeof *w), inv = 1.0 / ft->o.noise_temp;
	int conf = ft->o.noise_confidence > 0;
	struct sm_batch b;
	const float *logits;
	int ret = -1;

	if (tp == NULL || w == NULL) {
		util_error(cause, "out of memory");
		goto out;
	}
	for (int i = 0; i < n; i++)
		tp[i] = &clean[i];
	if (sm_batch_build(tp, n, bksp, 4 * cfg->max_seq_len, &b, cause) != 0)
		goto out;
	if (gpt_forward(ft->model, b.ids, b.pos, b.parent, b.B, b.T, cause) != 0) {
		sm_batch_release(&b);
		goto out;
	}
	logits = gpt_logits(ft->model);
	for (int i = 0; i < n; i++)
		for (int k = 0; k < clean[i].n_actions; k++) {
			const float *l = logits + ((size_t)i * b.T +
			    (size_t)b.layouts[i].sp[k]) * Vp;
			int data = clean[i].actions[k];
			double maxv = -INFINITY, maxall = -INFINITY, sum = 0, all = 0, u;

			/*
			 * One pass for both maxima, one for both sums: the proposal's
			 * weights (over the tokens other than data and <|endoftext|>, at
			 * noise_temp) and, for the confidence test, the normaliser of
			 * softmax(l) over every token at temperature 1.
			 */
			prop[i][k] = ft->o.noise_fallback ? -2 : -1;
			for (int v = 0; v < V; v++) {
				if (l[v] > maxall)
					maxall = l[v];
				if (v != data && v != eot && l[v] > maxv)
					maxv = l[v];
			}
			for (int v = 0; v < V; v++) {
				if (conf)
					all += exp((double)l[v] - maxall);
				w[v] = v == data || v == eot ? 0 :
				    exp(((double)l[v] - maxv) * inv);
				sum += w[v];
			}
			if (conf && exp((double)l[data] - maxall) / all <
			    ft->o.noise_confidence)
				continue;
			u = rng_double(rng) * sum;
			for (int v = 0; v < V && sum > 0; v++) {
				if (w[v] > 0)
					prop[i][k] = v;
				if ((u -= w[v]) < 0 && w[v] > 0)
					break;
			}
		}
	sm_batch_release(&b);
	ret = 0;
out:
	free(tp);
	free(w);
	return ret;
}

/* MLE step: plain next-token cross-entropy on windows of prompt+window tokens. */
int
finetune_mle_batch(struct finetune *ft, struct rng *rng, struct finetune_progress *pr,
    char **cause)
{
	int B = ft->o.batch_size, T = ft->o.prompt_tokens + ft->o.window, Bl;
	int *in = malloc((size_t)B * T * sizeof *in), *tg = malloc((size_t)B * T * sizeof *tg);
	int ret = -1;
	long lo, hi;

	if (in == NULL || tg == NULL) {
		util_error(cause, "out of memory");
		goto out;
	}
	/* Every rank draws all B windows and keeps its share lo..hi-1. */
	dist_share(B, &lo, &hi);
	Bl = (int)(hi - lo);
	for (int b = 0; b < B; b++) {
		size_t s = finetune_window_start(ft, rng, ft->train->n - (size_t)T - 1);
		if (b < lo || b >= hi)
			continue;
		for (int t = 0; t < T; t++) {
			in[(b - lo) * T + t] = ft->train->tokens[s + (size_t)t];
			tg[(b - lo) * T + t] = t + 1 < ft->o.prompt_tokens ? -1 :
			    ft->train->tokens[s + (size_t)t + 1];
		}
	}
	if (gpt_forward(ft->model, in, NULL, NULL, Bl, T, cause) != 0)
		goto out;
	pr->sm.bc = gpt_loss_ce(ft->model, tg);
	/* Every window has the same number of targets: weight by the share. */
	if (Bl != B) {
		pr->sm.bc *= (double)Bl / B;
		optim_scale(gpt_dlogits(ft->model), (size_t)Bl * T *
		    (size_t)gpt_config(ft->model)->padded_vocab_size, (float)Bl / B);
	}
	pr->sm.loss = pr->sm.bc;
	pr->tokens_per_s = (double)Bl * T;
	ret = 0;
out:
	free(in);
	free(tg);
	return ret;
}

/*
 * Under MPI: the step's loss terms over the ranks. The sums add up (each rank
 * used the global normalisers); the means are weighted by their counts.
 */
int
finetune_reduce_stats(struct finetune_progress *pr, char **cause)
{
	struct sm_stats *st = &pr->sm;
	double v[13];

	if (dist_size() == 1)
		return 0;
	v[0] = st->loss;
	v[1] = st->data_reward;
	v[2] = st->quadratic;
	v[3] = st->value;
	v[4] = st->bc;
	v[5] = st->v0 * (double)pr->n_rows;
	v[6] = (double)pr->n_rows;
	v[7] = st->mean_reward * (double)st->steps;
	v[8] = (double)st->steps;
	v[9] = st->bksp_p_clean * (double)st->n_clean;
	v[10] = (double)st->n_clean;
	v[11] = st->bksp_p_noisy * (double)st->n_noisy;
	v[12] = (double)st->n_noisy;
	if (dist_sum_double(v, 13, cause) != 0 ||
	    dist_sum_double(&pr->tokens_per_s, 1, cause) != 0)
		return -1;
	st->loss = v[0];
	st->data_reward = v[1];
	st->quadratic = v[2];
	st->value = v[3];
	st->bc = v[4];
	st->v0 = v[6] > 0 ? v[5] / v[6] : 0;
	st->steps = (long)v[8];
	st->mean_reward = v[8] > 0 ? v[7] / v[8] : 0;
	st->n_clean = (long)v[10];
	st->bksp_p_clean = v[10] > 0 ? v[9] / v[10] : 0;
	st->n_noisy = (long)v[12];
	st->bksp_p_noisy = v[12] > 0 ? v[11] / v[12] : 0;
	return 0;
}
