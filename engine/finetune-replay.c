/*
 * finetune-replay.c: the model's own trajectories: one sample at temperature
 * 1 with <bksp> on, and the sampling rounds that refill the replay ring (under
 * MPI each rank generates its share and an allgather hands out all of them).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dist.h"
#include "finetune-impl.h"
#include "finetune.h"
#include "generate.h"
#include "gpt.h"
#include "rng.h"
#include "sampler.h"
#include "tokenizer.h"
#include "util.h"

/* Collect a generation's actions into a trajectory. */
struct finetune_collect {
	int *actions;
	int n, cap;
	int bksp;
	int fail;
};

/* Generation callback: appends and erases become actions. */
static int
finetune_collect_cb(const struct generate_event *ev, void *arg)
{
	struct finetune_collect *c = arg;

	if (ev->type == GENERATE_EVENT_STOP)
		return 0;
	if (c->n + 2 > c->cap) {
		int ncap = c->cap * 2 + 16;
		int *p = realloc(c->actions, (size_t)ncap * sizeof *p);
		if (p == NULL) {
			c->fail = 1;
			return 1;
		}
		c->actions = p;
		c->cap = ncap;
	}
	c->actions[c->n++] = ev->type == GENERATE_EVENT_ERASE ? c->bksp : ev->token;
	return 0;
}

/* A stop callback that records the reason (appended as <|endoftext|>). */
struct finetune_stop {
	struct finetune_collect *c;
	int eot_stop;
};

/* Wrapper callback seeing the stop reason. */
static int
finetune_sample_cb(const struct generate_event *ev, void *arg)
{
	struct finetune_stop *s = arg;

	if (ev->type == GENERATE_EVENT_STOP) {
		s->eot_stop = ev->reason == GENERATE_STOP_EOT;
		return 0;
	}
	return finetune_collect_cb(ev, s->c);
}

/* One model trajectory at temperature 1, no filters, <bksp> on. */
int
finetune_sample(const struct gpt_model *m, const struct tokenizer *tok,
    const int *prompt, int n_prompt, int max_tokens, uint64_t seed,
    struct sm_traj *out, char **cause)
{
	struct sampler_params sp;
	struct finetune_collect c = { NULL, 0, 0, tokenizer_bksp(tok), 0 };
	struct finetune_stop s = { &c, 0 };

	sampler_defaults(&sp);
	sp.temperature = 1.0;
	sp.top_k = 0;
	sp.top_p = 1.0;
	sp.min_p = 0.0;
	sp.typical_p = 1.0;
	sp.max_tokens = max_tokens;
	sp.seed = (int64_t)(seed & 0x7fffffffffffffffULL);
	memset(out, 0, sizeof *out);
	if (generate_run(m, tok, &sp, prompt, n_prompt, finetune_sample_cb, &s, NULL,
	    cause) != 0 || c.fail) {
		free(c.actions);
		return c.fail ? util_error(cause, "out of memory") : -1;
	}
	if (s.eot_stop) {
		if (c.n + 1 > c.cap) {
			int *p = realloc(c.actions, (size_t)(c.n + 1) * sizeof *p);
			if (p == NULL) {
				free(c.actions);
				return util_error(cause, "out of memory");
			}
			c.actions = p;
		}
		c.actions[c.n++] = tokenizer_eot(tok);
	}
	out->prompt = malloc((size_t)n_prompt * sizeof(int));
	if (out->prompt == NULL) {
		free(c.actions);
		return util_error(cause, "out of memory");
	}
	memcpy(out->prompt, prompt, (size_t)n_prompt * sizeof(int));
	out->n_prompt = n_prompt;
	out->actions = c.actions != NULL ? c.actions : malloc(sizeof(int));
	out->n_actions = c.n;
	out->is_data = 0;
	out->terminal = s.eot_stop;
	return 0;
}

/* Put a trajectory into the replay ring (which takes it over). */
static void
finetune_replay_push(struct finetune *ft, struct sm_traj *t)
{
	sm_traj_release(&ft->replay[ft->replay_head]);
	ft->replay[ft->replay_head] = *t;
	ft->replay_head = (ft->replay_head + 1) % ft->replay_cap;
	if (ft->replay_n < ft->replay_cap)
		ft->replay_n++;
}

/*
 * Refill the replay buffer with new generations from data prompts. Every
 * sample's prompt and seed are drawn in order on every rank; under MPI each
 * rank generates its share and an allgather hands every rank all of them.
 */
int
finetune_sample_round(struct finetune *ft, struct rng *rng, char **cause)
{
	int n = ft->o.samples_per_round, ret = -1, *flat = NULL, *all = NULL, *p;
	int *plen = malloc(((size_t)n + 1) * sizeof *plen);
	size_t *start = malloc(((size_t)n + 1) * sizeof *start), len = 0, nall, at;
	uint64_t *seed = malloc(((size_t)n + 1) * sizeof *seed);
	struct sm_traj *mine = NULL;
	long lo, hi;

	dist_share(n, &lo, &hi);
	mine = calloc((size_t)(hi - lo) + 1, sizeof *mine);
	if (plen == NULL || start == NULL || seed == NULL || mine == NULL) {
		util_error(cause, "out of memory");
		goto out;
	}
	for (int i = 0; i < n; i++) {
		plen[i] = finetune_prompt_len(ft, rng);
		start[i] = finetune_window_start(ft, rng, ft->train->n -
		    (size_t)ft->o.prompt_tokens - 1);
		seed[i] = rng_u64(rng);
	}
	for (long i = lo; i < hi; i++) {
		if (finetune_sample(ft->model, ft->tok, ft->train->tokens + start[i],
		    plen[i], ft->o.window, seed[i], &mine[i - lo], cause) != 0)
			goto out;
		len += sm_traj_flat_len(&mine[i - lo]);
	}
	if (dist_size() == 1) {
		for (long i = 0; i < hi - lo; i++)
			finetune_replay_push(ft, &mine[i]);
		hi = lo; /* the ring has them */
		ret = 0;
		goto out;
	}
	flat = malloc((len + 1) * sizeof *flat);
	if (flat == NULL) {
		util_error(cause, "out of memory");
		goto out;
	}
	p = flat;
	for (long i = 0; i < hi - lo; i++)
		p = sm_traj_flatten(&mine[i], p);
	if (dist_allgather_ints(flat, len, &all, &nall, cause) != 0)
		goto out;
	at = 0;
	for (int i = 0; i < n; i++) {
		struct sm_traj t;

		if (sm_traj_unflatten(all, nall, &at, &t, cause) != 0)
			goto out;
		finetune_replay_push(ft, &t);
	}
	ret = 0;
out:
	for (long i = 0; mine != NULL && i < hi - lo; i++)
		sm_traj_release(&mine[i]);
	free(mine);
	free(plen);
	free(start);
	free(seed);
	free(flat);
	free(all);
	return ret;
}
