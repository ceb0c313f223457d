/*
 * sm.c: the SequenceMatch objective.
 *
 * How this works. A trajectory is a prompt and a list of actions; <bksp> is
 * never fed to the network. sm_layout_build replays the actions on a stack of
 * input positions (docs/sequencematch.md section 2): a token is pushed as a new
 * input whose position id is its depth and whose parent is the current top, a
 * <bksp> pops (never below the prompt), and sp[t] records which input's output
 * is the state before action t. One tree-masked forward pass then yields the
 * logits of every state, deleted branches included.
 *
 * Logits are soft Q-values: V(s) = logsumexp_a l(s)[a] over the actions (the V
 * tokens and <bksp>; <bksp> is not an action at the prompt's floor), and the
 * reward of s -a-> s' is r = l(s)[a] - gamma V(s'). For a trajectory with
 * weight W = (1-gamma)/|D| (data) or (1-gamma)/|M| (model), e = 1 for data and
 * 0 for model, q = c(1-beta) or c beta, lam = 1-beta or beta (section 3):
 *
 *   loss += W g^t (-e r + q r^2) + W lam g^t (V(s_t) - gamma V(s_t+1))
 *
 * with V(s_T) = v_term after a terminal <|endoftext|> (a window cut at the
 * maximum length is not terminal and bootstraps from its last state). Its
 * gradient on each row of logits is a sparse vector plus a scalar times that
 * row's softmax, so it is accumulated as (sparse entries, one coefficient per
 * row) and the softmax is added once per row at the end: the cost of a
 * cross-entropy. Behaviour cloning adds bc_weight times the mean cross-entropy
 * of the credited actions over data steps. With c = 0, beta = 0 and data only,
 * the SequenceMatch term is exactly W times the discounted cross-entropy
 * sum_t g^t (-log p(y_t | s_t)) (tests/test-sm.c checks this).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "rng.h"
#include "sm.h"
#include "util.h"

/* Defaults (docs/sequencematch.md, "Defaults"; gamma for windows under 128 tokens). */
void
sm_params_defaults(struct sm_params *p)
{
	p->gamma = 0.99;
	p->c = 0.0025;
	p->beta = 0.5;
	p->v_term = 0.0;
	p->bc_weight = 0.0;
	p->sm_weight = 1.0;
}

/* Free a trajectory's arrays. */
void
sm_traj_release(struct sm_traj *t)
{
	free(t->prompt);
	free(t->actions);
	free(t->credit);
	memset(t, 0, sizeof *t);
}

/* Ints a trajectory takes flattened (sm_traj_flatten). */
size_t
sm_traj_flat_len(const struct sm_traj *t)
{
	return 5 + (size_t)t->n_prompt + (size_t)t->n_actions *
	    (t->credit != NULL ? 2 : 1);
}

/* Flatten a trajectory into ints: sizes and flags, prompt, actions, credit. */
int *
sm_traj_flatten(const struct sm_traj *t, int *p)
{
	*p++ = t->n_prompt;
	*p++ = t->n_actions;
	*p++ = t->is_data;
	*p++ = t->terminal;
	*p++ = t->credit != NULL;
	memcpy(p, t->prompt, (size_t)t->n_prompt * sizeof *p);
	p += t->n_prompt;
	memcpy(p, t->actions, (size_t)t->n_actions * sizeof *p);
	p += t->n_actions;
	if (t->credit != NULL) {
		memcpy(p, t->credit, (size_t)t->n_actions * sizeof *p);
		p += t->n_actions;
	}
	return p;
}

/* The trajectory at *at of a flattened block of n ints; *at moves past it. */
int
sm_traj_unflatten(const int *flat, size_t n, size_t *at, struct sm_traj *t,
    char **cause)
{
	const int *p = flat + *at;
	size_t need;

	memset(t, 0, sizeof *t);
	if (n - *at < 5 || p[0] < 0 || p[1] < 0)
		return util_error(cause, "a flattened trajectory is cut short");
	need = 5 + (size_t)p[0] + (size_t)p[1] * (p[4] ? 2 : 1);
	if (n - *at < need)
		return util_error(cause, "a flattened trajectory is cut short");
	t->n_prompt = p[0];
	t->n_actions = p[1];
	t->is_data = p[2];
	t->terminal = p[3];
	t->prompt = malloc(((size_t)p[0] + 1) * sizeof(int));
	t->actions = malloc(((size_t)p[1] + 1) * sizeof(int));
	t->credit = p[4] ? malloc(((size_t)p[1] + 1) * sizeof(int)) : NULL;
	if (t->prompt == NULL || t->actions == NULL || (p[4] && t->credit == NULL)) {
		sm_traj_release(t);
		return util_error(cause, "out of memory");
	}
	memcpy(t->prompt, p + 5, (size_t)p[0] * sizeof(int));
	memcpy(t->actions, p + 5 + p[0], (size_t)p[1] * sizeof(int));
	if (t->credit != NULL)
		memcpy(t->credit, p + 5 + p[0] + p[1], (size_t)p[1] * sizeof(int));
	*at += need;
	return 0;
}

/* Deep copy of a trajectory. */
int
sm_traj_copy(struct sm_traj *dst, const struct sm_traj *src, char **cause)
{
	*dst = *src;
	dst->prompt = malloc((size_t)(src->n_prompt + 1) * sizeof(int));
	dst->actions = malloc((size_t)(src->n_actions + 1) * sizeof(int));
	dst->credit = src->credit != NULL ?
	    malloc((size_t)(src->n_actions + 1) * sizeof(int)) : NULL;
	if (dst->prompt == NULL || dst->actions == NULL ||
	    (src->credit != NULL && dst->credit == NULL)) {
		sm_traj_release(dst);
		return util_error(cause, "out of memory");
	}
	memcpy(dst->prompt, src->prompt, (size_t)src->n_prompt * sizeof(int));
	memcpy(dst->actions, src->actions, (size_t)src->n_actions * sizeof(int));
	if (src->credit != NULL)
		memcpy(dst->credit, src->credit, (size_t)src->n_actions * sizeof(int));
	return 0;
}

/* Free a layout. */
void
sm_layout_release(struct sm_layout *l)
{
	free(l->ids);
	free(l->pos);
	free(l->parent);
	free(l->sp);
	memset(l, 0, sizeof *l);
}

/* Section 2: inputs, position ids, parents and state pointers of a trajectory. */
int
sm_layout_build(const struct sm_traj *t, int bksp, struct sm_layout *out,
    char **cause)
{
	int cap = t->n_prompt + t->n_actions, *stack, depth = 0, L = 0;

	memset(out, 0, sizeof *out);
	if (t->n_prompt < 1)
		return util_error(cause, "a trajectory needs a prompt of at least one token");
	if (t->n_actions < 0)
		return util_error(cause, "negative action count");
	out->ids = malloc((size_t)cap * sizeof(int));
	out->pos = malloc((size_t)cap * sizeof(int));
	out->parent = malloc((size_t)cap * sizeof(int));
	out->sp = malloc((size_t)(t->n_actions + 1) * sizeof(int));
	stack = malloc((size_t)cap * sizeof(int));
	if (out->ids == NULL || out->pos == NULL || out->parent == NULL ||
	    out->sp == NULL || stack == NULL) {
		free(stack);
		sm_layout_release(out);
		return util_error(cause, "out of memory");
	}
	for (int i = 0; i < t->n_prompt + t->n_actions; i++) {
		int a = i < t->n_prompt ? t->prompt[i] : t->actions[i - t->n_prompt];
		int step = i - t->n_prompt;

		if (i == t->n_prompt)
			out->sp[0] = stack[depth - 1];
		if (step >= 0 && a == bksp) {
			if (depth > t->n_prompt)
				depth--;
		} else {
			if (a < 0)
				return free(stack), sm_layout_release(out),
				    util_error(cause, "negative token id %d", a);
			out->ids[L] = a;
			out->pos[L] = depth;
			out->parent[L] = depth > 0 ? stack[depth - 1] : -1;
			stack[depth++] = L++;
		}
		if (step >= 0)
			out->sp[step + 1] = stack[depth - 1];
	}
	if (t->n_actions == 0)
		out->sp[0] = stack[depth - 1];
	out->n_inputs = L;
	free(stack);
	return 0;
}

/* Free a batch. */
void
sm_batch_release(struct sm_batch *b)
{
	if (b->layouts != NULL)
		for (int i = 0; i < b->B; i++)
			sm_layout_release(&b->layouts[i]);
	free(b->layouts);
	free(b->trajs);
	free(b->ids);
	free(b->pos);
	free(b->parent);
	memset(b, 0, sizeof *b);
}

/* Pack trajectories into (B,T) rows. */
int
sm_batch_build(const struct sm_traj *const *trajs, int n, int bksp, int max_T,
    struct sm_batch *b, char **cause)
{
	int T = 1;

	memset(b, 0, sizeof *b);
	if (n < 1)
		return util_error(cause, "an empty batch");
	b->B = n;
	b->layouts = calloc((size_t)n, sizeof *b->layouts);
	b->trajs = calloc((size_t)n, sizeof *b->trajs);
	if (b->layouts == NULL || b->trajs == NULL) {
		sm_batch_release(b);
		return util_error(cause, "out of memory");
	}
	for (int i = 0; i < n; i++) {
		b->trajs[i] = trajs[i];
		if (sm_layout_build(trajs[i], bksp, &b->layouts[i], cause) != 0) {
			sm_batch_release(b);
			return -1;
		}
		if (b->layouts[i].n_inputs > T)
			T = b->layouts[i].n_inputs;
		if (trajs[i]->is_data)
			b->n_data++;
		else
			b->n_model++;
	}
	if (T > max_T) {
		sm_batch_release(b);
		return util_error(cause, "a trajectory needs %d inputs; at most %d fit",
		    T, max_T);
	}
	b->T = T;
	b->ids = calloc((size_t)n * T, sizeof(int));
	b->pos = calloc((size_t)n * T, sizeof(int));
	b->parent = malloc((size_t)n * T * sizeof(int));
	if (b->ids == NULL || b->pos == NULL || b->parent == NULL) {
		sm_batch_release(b);
		return util_error(cause, "out of memory");
	}
	for (int i = 0; i < n; i++) {
		const struct sm_layout *l = &b->layouts[i];
		size_t o = (size_t)i * T;
		memcpy(b->ids + o, l->ids, (size_t)l->n_inputs * sizeof(int));
		memcpy(b->pos + o, l->pos, (size_t)l->n_inputs * sizeof(int));
		memcpy(b->parent + o, l->parent, (size_t)l->n_inputs * sizeof(int));
		/* Padding: roots that see only themselves and carry no loss. */
		for (int j = l->n_inputs; j < T; j++)
			b->parent[o + j] = -1;
	}
	return 0;
}

/* Number of action columns in a state: <bksp> is not an action at the floor. */
static int
sm_cols(const struct sm_batch *b, int row, int j, int V)
{
	const struct sm_layout *l = &b->layouts[row];
	return l->pos[j] + 1 <= b->trajs[row]->n_prompt ? V : V + 1;
}

/* The loss of section 3 (plus BC) and its gradient on the logits. */
int
sm_loss(const struct sm_batch *b, const float *logits, float *dlogits, int V,
    int Vp, int bksp, const struct sm_params *p, struct sm_stats *st, char **cause)
{
	size_t rows = (size_t)b->B * b->T;
	double *lse = NULL, *coef = NULL, gamma = p->gamma;
	uint8_t *used = NULL;
	long data_steps = 0, clean = 0, noisy = 0;
	double wd, wm;

	memset(st, 0, sizeof *st);
	if (bksp != V || Vp < V + 1)
		return util_error(cause, "<bksp> must be column V (%d) of %d", V, Vp);
	lse = malloc(rows * sizeof *lse);
	coef = calloc(rows, sizeof *coef);
	used = calloc(rows, 1);
	if (lse == NULL || coef == NULL || used == NULL) {
		free(lse);
		free(coef);
		free(used);
		return util_error(cause, "out of memory");
	}
	/* Value of every state that appears. */
	for (int i = 0; i < b->B; i++) {
		const struct sm_layout *l = &b->layouts[i];
		for (int t = 0; t <= b->trajs[i]->n_actions; t++) {
			size_t r = (size_t)i * b->T + l->sp[t];
			if (!used[r]) {
				used[r] = 1;
				lse[r] = kernels_logsumexp(logits + r * Vp,
				    sm_cols(b, i, l->sp[t], V));
			}
		}
		if (b->trajs[i]->is_data)
			data_steps += b->trajs[i]->n_actions;
	}
	if (b->data_steps > 0)
		data_steps = b->data_steps;
	memset(dlogits, 0, rows * (size_t)Vp * sizeof *dlogits);
	wd = b->n_data > 0 ? (1.0 - gamma) / b->n_data : 0;
	wm = b->n_model > 0 ? (1.0 - gamma) / b->n_model : 0;

	for (int i = 0; i < b->B; i++) {
		const struct sm_traj *tr = b->trajs[i];
		const struct sm_layout *l = &b->layouts[i];
		int e = tr->is_data ? 1 : 0;
		double W = tr->is_data ? wd : wm;
		double q = tr->is_data ? p->c * (1 - p->beta) : p->c * p->beta;
		double lam = tr->is_data ? 1 - p->beta : p->beta;
		double g = 1, sw = p->sm_weight;
		size_t base = (size_t)i * b->T;

		st->v0 += lse[base + l->sp[0]];
		for (int t = 0; t < tr->n_actions; t++) {
			size_t j = base + l->sp[t], n = base + l->sp[t + 1];
			int y = tr->credit != NULL ? tr->credit[t] : tr->actions[t];
			int term = tr->terminal && t == tr->n_actions - 1;
			const float *lj = logits + j * Vp;
			double Vn = term ? p->v_term : lse[n];
			double r, G;

			if (y < 0 || y >= sm_cols(b, i, l->sp[t], V)) {
				free(lse);
				free(coef);
				free(used);
				memset(st, 0, sizeof *st);
				return util_error(cause, "trajectory %d step %d: action %d is "
				    "not allowed in its state", i, t, y);
			}
			r = lj[y] - gamma * Vn;
			st->data_reward += -e * r * W * g;
			st->quadratic += q * r * r * W * g;
			st->value += W * lam * g * (lse[j] - gamma * Vn);
			st->mean_reward += r;
			st->steps++;
			G = W * g * (-e + 2 * q * r);
			dlogits[j * Vp + y] += (float)(sw * G);
			coef[j] += sw * W * lam * g;
			if (!term)
				coef[n] += sw * (-gamma * G - W * lam * g * gamma);
			if (tr->is_data) {
				double pb = sm_cols(b, i, l->sp[t], V) > V ?
				    exp(lj[bksp] - lse[j]) : 0;
				if (y == bksp) {
					st->bksp_p_noisy += pb;
					noisy++;
				} else {
					st->bksp_p_clean += pb;
					clean++;
				}
				if (p->bc_weight > 0 && data_steps > 0) {
					double wb = p->bc_weight / (double)data_steps;
					st->bc += (lse[j] - lj[y]) / (double)data_steps;
					dlogits[j * Vp + y] -= (float)wb;
					coef[j] += wb;
				}
			}
			g *= gamma;
		}
	}
	/* The softmax part, once per row. */
	for (size_t r = 0; r < rows; r++) {
		if (!used[r] || coef[r] == 0)
			continue;
		int row = (int)(r / (size_t)b->T), j = (int)(r % (size_t)b->T);
		kernels_add_softmax(dlogits + r * Vp, logits + r * Vp, sm_cols(b, row, j, V),
		    lse[r], (float)coef[r]);
	}
	st->loss = p->sm_weight * (st->data_reward + st->quadratic + st->value) +
	    p->bc_weight * st->bc;
	st->v0 /= b->B;
	if (st->steps > 0)
		st->mean_reward /= (double)st->steps;
	st->n_clean = clean;
	st->n_noisy = noisy;
	if (clean > 0)
		st->bksp_p_clean /= (double)clean;
	if (noisy > 0)
		st->bksp_p_noisy /= (double)noisy;
	free(lse);
	free(coef);
	free(used);
	return 0;
}

/* A noise token: uniform over ordinary tokens, or from a unigram CDF. */
int
sm_noise_token(const double *cdf, int V, int eot, struct rng *rng)
{
	if (cdf == NULL) {
		int z = (int)rng_below(rng, (uint64_t)(V - 1));
		return z >= eot ? z + 1 : z;
	}
	double u = rng_double(rng) * cdf[V - 1];
	int lo = 0, hi = V - 1;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (cdf[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Section 4: insert typed-and-erased noise bursts into a data continuation. */
int
sm_augment(const int *prompt, int n_prompt, const int *cont, int n_cont,
    int terminal, double p_noise, double burst_mean, const double *noise_cdf,
    const int *proposal, int V, int eot, int bksp, struct rng *rng,
    struct sm_traj *out, char **cause)
{
	int cap = n_cont + 16, n = 0;
	double stop = burst_mean > 1 ? 1.0 / burst_mean : 1.0;

	memset(out, 0, sizeof *out);
	out->prompt = malloc((size_t)(n_prompt + 1) * sizeof(int));
	out->actions = malloc((size_t)cap * sizeof(int));
	out->credit = malloc((size_t)cap * sizeof(int));
	if (out->prompt == NULL || out->actions == NULL || out->credit == NULL)
		goto oom;
	memcpy(out->prompt, prompt, (size_t)n_prompt * sizeof(int));
	out->n_prompt = n_prompt;
	for (int i = 0; i < n_cont; i++) {
		int len = 0;
		if (p_noise > 0 && rng_double(rng) < p_noise &&
		    (proposal == NULL || proposal[i] != -1)) {
			len = 1;
			while (rng_double(rng) >= stop && len < SM_MAX_BURST)
				len++;
		}
		if (n + 2 * len + 1 > cap) {
			int ncap = (n + 2 * len + 1) * 2;
			int *a = realloc(out->actions, (size_t)ncap * sizeof(int));
			if (a == NULL)
				goto oom;
			out->actions = a;
			a = realloc(out->credit, (size_t)ncap * sizeof(int));
			if (a == NULL)
				goto oom;
			out->credit = a;
			cap = ncap;
		}
		for (int k = 0; k < len; k++) {
			out->actions[n] = k == 0 && proposal != NULL && proposal[i] >= 0 ?
			    proposal[i] : sm_noise_token(noise_cdf, V, eot, rng);
			out->credit[n++] = k == 0 ? cont[i] : bksp;
		}
		for (int k = 0; k < len; k++) {
			out->actions[n] = bksp;
			out->credit[n++] = bksp;
		}
		out->actions[n] = cont[i];
		out->credit[n++] = cont[i];
	}
	out->n_actions = n;
	out->is_data = 1;
	out->terminal = terminal;
	return 0;
oom:
	sm_traj_release(out);
	return util_error(cause, "out of memory");
}
