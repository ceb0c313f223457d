/*
 * generate.c: KV-cached generation reported as events.
 *
 * The prompt is prefilled in one pass (sgemm), then each step takes the logits
 * of the last slot from its cached hidden state (one sgemv with the LM head),
 * samples with the decoding parameters and appends the token (one forward
 * step). Only the V real tokens are candidates; the <bksp> row and padding are
 * never sampled here.
 *
 * generate_run_live asks a refresh callback before every step whether the
 * parameters or the weights changed (the UI's decoding pane and a fine-tune
 * publishing snapshots). New parameters only change the step settings; new
 * weights re-run the effective sequence through them into the same KV cache
 * (same shapes), so the cache never holds two models' keys and values.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "generate.h"
#include "gpt.h"
#include "qweights.h"
#include "rng.h"
#include "tokenizer.h"
#include "util.h"

/* Name of a stop reason (for JSON and messages). */
const char *
generate_stop_name(enum generate_stop reason)
{
	switch (reason) {
	case GENERATE_STOP_EOT:
		return "eot";
	case GENERATE_STOP_MAX_TOKENS:
		return "max_tokens";
	case GENERATE_STOP_CONTEXT:
		return "context_full";
	case GENERATE_STOP_CANCELLED:
		return "cancelled";
	case GENERATE_STOP_MAX_ACTIONS:
		return "max_actions";
	}
	return "?";
}

/* The requested seed, or one from the clock when the user asked for a random one. */
uint64_t
generate_pick_seed(int64_t requested)
{
	struct timespec ts;
	uint64_t x;

	if (requested >= 0)
		return (uint64_t)requested;
	clock_gettime(CLOCK_REALTIME, &ts);
	x = (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec;
	x ^= x >> 31;
	x *= 0x9e3779b97f4a7c15ULL;
	return (x ^ (x >> 29)) & 0x7fffffffffffffffULL;
}

/* The settings derived from the parameters and weights (recomputed when they change). */
struct generate_limits {
	int use_bksp, ncols, max_actions, max_bk;
};

/* Derive the step settings from params and the weights m. */
static void
generate_limits(const struct gpt_model *m, const struct tokenizer *tok,
    const struct sampler_params *params, struct generate_limits *lim)
{
	const struct gpt_config *cfg = gpt_config(m);
	int cap = cfg->max_seq_len;

	lim->use_bksp = gpt_has_bksp(m) && tokenizer_bksp(tok) < cfg->padded_vocab_size &&
	    params->backspace_bias != -INFINITY && params->max_total_backspaces != 0 &&
	    params->max_consecutive_backspaces != 0;
	lim->ncols = lim->use_bksp ? cfg->vocab_size + 1 : cfg->vocab_size;
	lim->max_actions = 2 * (params->max_tokens >= 0 ? params->max_tokens : cap);
	lim->max_bk = params->max_total_backspaces >= 0 ? params->max_total_backspaces :
	    (params->max_tokens >= 0 ? params->max_tokens : cap);
}

/* Generate from a prompt, reporting events to cb. */
int
generate_run(const struct gpt_model *m, const struct tokenizer *tok,
    const struct sampler_params *params, const int *prompt, int n_prompt,
    generate_cb cb, void *arg, uint64_t *seed_used, char **cause)
{
	return generate_run_live(m, tok, params, prompt, n_prompt, cb, NULL, arg, seed_used,
	    cause);
}

/* Generate from a prompt, letting refresh change the parameters and weights between steps. */
int
generate_run_live(const struct gpt_model *m, const struct tokenizer *tok,
    const struct sampler_params *params, const int *prompt, int n_prompt,
    generate_cb cb, generate_refresh_cb refresh, void *arg, uint64_t *seed_used,
    char **cause)
{
	return generate_run_weights(m, NULL, tok, params, prompt, n_prompt, cb, refresh,
	    arg, seed_used, cause);
}

/* generate_run_live with the matrices in qw's format. */
int
generate_run_weights(const struct gpt_model *m, const struct qweights *qw,
    const struct tokenizer *tok, const struct sampler_params *params,
    const int *prompt, int n_prompt, generate_cb cb, generate_refresh_cb refresh,
    void *arg, uint64_t *seed_used, char **cause)
{
	return generate_run_cached(m, qw, tok, params, prompt, n_prompt, cb, refresh, NULL,
	    arg, seed_used, cause);
}

/* generate_run_weights with the caller's converted weights for a refresh's model. */
int
generate_run_cached(const struct gpt_model *m, const struct qweights *qw,
    const struct tokenizer *tok, const struct sampler_params *params,
    const int *prompt, int n_prompt, generate_cb cb, generate_refresh_cb refresh,
    generate_weights_cb weights_for, void *arg, uint64_t *seed_used, char **cause)
{
	/* A copy: a refresh may free the first weights once the run has moved off them. */
	const struct gpt_config cfg0 = *gpt_config(m), *cfg = &cfg0;
	int V = cfg->vocab_size, Vp = cfg->padded_vocab_size;
	int eot = tokenizer_eot(tok), bksp = tokenizer_bksp(tok), cap = cfg->max_seq_len;
	int erased = -1, reloads = 0;
	int appended = 0, n_erased = 0, run = 0, actions = 0, ret = -1;
	struct gpt_kv *kv = NULL;
	struct qweights *own = NULL; /* qw's format for weights a refresh gave */
	struct generate_event ev;
	struct generate_limits lim;
	struct sampler_params cur = *params; /* the parameters in force */
	struct rng rng;
	float *logits = NULL, *probs = NULL;
	int *seq = NULL;	/* the effective sequence, prompt included */
	int nseq = 0;
	uint64_t seed;
	double t0, t1;

	if (n_prompt < 1)
		return util_error(cause, "the prompt is empty (it needs at least one token)");
	if (n_prompt >= cap)
		return util_error(cause, "the prompt has %d tokens; the context holds %d",
		    n_prompt, cap);
	if (tokenizer_vocab_size(tok) != V)
		return util_error(cause, "tokenizer has %d tokens but the model %d",
		    tokenizer_vocab_size(tok), V);
	generate_limits(m, tok, &cur, &lim);
	seed = generate_pick_seed(params->seed);
	if (seed_used != NULL)
		*seed_used = seed;
	rng_init(&rng, seed);

	kv = gpt_kv_new(m, cap, cause);
	logits = malloc((size_t)Vp * sizeof *logits);
	probs = malloc((size_t)Vp * sizeof *probs);
	seq = malloc((size_t)cap * sizeof *seq);
	if (kv == NULL || logits == NULL || probs == NULL || seq == NULL) {
		if (kv != NULL)
			util_error(cause, "out of memory");
		goto out;
	}
	memcpy(seq, prompt, (size_t)n_prompt * sizeof *seq);
	nseq = n_prompt;
	if (qw != NULL && gpt_kv_set_weights(kv, qweights_kv(qw), cause) != 0)
		goto out;

	t0 = util_now();
	if (gpt_kv_append(m, kv, prompt, n_prompt, cause) != 0)
		goto out;
	t1 = util_now();

	memset(&ev, 0, sizeof ev);
	ev.prefill_seconds = t1 - t0;
	for (;;) {
		const struct gpt_model *next = m;
		float prob, model_prob;
		int id;

		if (refresh != NULL && refresh(&cur, &next, arg)) {
			cur.seed = params->seed; /* the random stream goes on */
			if (next != m) {
				if (memcmp(gpt_config(next), cfg, sizeof *cfg) != 0) {
					util_error(cause, "the new weights have another shape");
					goto out;
				}
				/* Recompute the context with the new weights (one prefill). */
				m = next;
				gpt_kv_truncate(kv, 0);
				if (qw != NULL) {
					enum quant_format f = qweights_format(qw);
					const struct qweights *given = weights_for != NULL ?
					    weights_for(m, f, arg) : NULL;
					struct qweights *q = given != NULL ? NULL :
					    qweights_new(m, f, cause);

					if ((given == NULL && q == NULL) ||
					    gpt_kv_set_weights(kv, qweights_kv(given != NULL ?
					    given : q), cause) != 0) {
						qweights_free(q);
						goto out;
					}
					qweights_free(own);
					own = q;
				}
				if (gpt_kv_append(m, kv, seq, nseq, cause) != 0)
					goto out;
				reloads++;
			}
			generate_limits(m, tok, &cur, &lim);
		}
		if (cur.max_tokens >= 0 && nseq - n_prompt >= cur.max_tokens) {
			ev.reason = GENERATE_STOP_MAX_TOKENS;
			break;
		}
		if (nseq >= cap) {
			ev.reason = GENERATE_STOP_CONTEXT;
			break;
		}
		if (actions >= lim.max_actions) {
			ev.reason = GENERATE_STOP_MAX_ACTIONS;
			break;
		}
		gpt_kv_logits(m, kv, nseq - 1, logits);
		ev.p_bksp = 0;
		if (lim.use_bksp) {
			logits[bksp] += (float)cur.backspace_bias;
			/* Never erase the prompt; respect the caps. */
			if (nseq <= n_prompt || n_erased >= lim.max_bk ||
			    (cur.max_consecutive_backspaces >= 0 &&
			    run >= cur.max_consecutive_backspaces))
				logits[bksp] = -INFINITY;
		}
		if (cur.forbid_retype && erased >= 0)
			logits[erased] = -INFINITY;
		/* The model's distribution at this step, for an inspector. */
		ev.entropy = (float)sampler_softmax(logits, probs, lim.ncols);
		ev.n_top = sampler_top(probs, lim.ncols, ev.top, GENERATE_TOP);
		ev.p_bksp = lim.use_bksp ? probs[bksp] : 0.0f;
		id = sampler_sample(&cur, logits, lim.ncols, seq, nseq, &rng, &prob,
		    &model_prob);
		if (id < 0) {
			util_error(cause, "no token can be sampled (every logit is -inf "
			    "or NaN, or out of memory)");
			goto out;
		}
		actions++;
		if (id == eot) {
			ev.reason = GENERATE_STOP_EOT;
			break;
		}
		ev.prob = prob;
		ev.model_prob = model_prob;
		if (lim.use_bksp && id == bksp) {
			/* Erase: drop the last slot; no forward pass. */
			nseq--;
			gpt_kv_truncate(kv, nseq);
			erased = seq[nseq];
			n_erased++;
			run++;
			ev.type = GENERATE_EVENT_ERASE;
			ev.token = erased;
			ev.slot = nseq;
		} else {
			if (gpt_kv_append(m, kv, &id, 1, cause) != 0)
				goto out;
			seq[nseq++] = id;
			appended++;
			run = 0;
			erased = -1;
			ev.type = GENERATE_EVENT_APPEND;
			ev.token = id;
			ev.slot = nseq - 1;
		}
		ev.seconds = util_now() - t0;
		ev.n_generated = appended;
		ev.n_erased = n_erased;
		ev.length = nseq;
		ev.n_reloads = reloads;
		if (cb != NULL && cb(&ev, arg) != 0) {
			ev.reason = GENERATE_STOP_CANCELLED;
			break;
		}
	}
	ev.type = GENERATE_EVENT_STOP;
	ev.token = -1;
	ev.slot = nseq - 1;
	ev.n_generated = appended;
	ev.n_erased = n_erased;
	ev.length = nseq;
	ev.n_reloads = reloads;
	ev.seconds = util_now() - t0;
	ev.generate_seconds = util_now() - t1;
	if (cb != NULL)
		cb(&ev, arg);
	ret = 0;
out:
	gpt_kv_free(kv);
	qweights_free(own);
	free(logits);
	free(probs);
	free(seq);
	return ret;
}
