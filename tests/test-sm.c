/*
 * test-sm.c: SequenceMatch (docs/sequencematch.md): the layout of the worked
 * example; the BC identity with and without backspaces and noise; finite
 * differences of the loss on random logits and through the whole model; the
 * one-pass logits against KV-cached replay with backspaces; generation with
 * backspace: stored events for a seed, the prompt never erased, caps.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "generate.h"
#include "gpt.h"
#include "rng.h"
#include "sampler.h"
#include "sm.h"
#include "tap.h"
#include "tokenizer.h"

enum { V = 20, VP = 24, BK = 20, EOT = 19 };

/* A trajectory from static arrays (copied). */
static void
traj(struct sm_traj *t, const int *prompt, int np, const int *act, int na,
    const int *credit, int is_data, int terminal)
{
	memset(t, 0, sizeof *t);
	t->prompt = malloc(sizeof(int) * (size_t)(np + 1));
	t->actions = malloc(sizeof(int) * (size_t)(na + 1));
	memcpy(t->prompt, prompt, sizeof(int) * (size_t)np);
	memcpy(t->actions, act, sizeof(int) * (size_t)na);
	if (credit != NULL) {
		t->credit = malloc(sizeof(int) * (size_t)(na + 1));
		memcpy(t->credit, credit, sizeof(int) * (size_t)na);
	}
	t->n_prompt = np;
	t->n_actions = na;
	t->is_data = is_data;
	t->terminal = terminal;
}

/* The worked example of section 2. */
static void
test_layout(void)
{
	int prompt[2] = { 1, 2 }, act[9] = { 3, 4, BK, 5, 6, BK, BK, 7, EOT };
	int ids[8] = { 1, 2, 3, 4, 5, 6, 7, EOT }, pos[8] = { 0, 1, 2, 3, 3, 4, 3, 4 };
	int parent[8] = { -1, 0, 1, 2, 2, 4, 2, 6 }, sp[10] = { 1, 2, 3, 2, 4, 5, 4, 2, 6, 7 };
	struct sm_traj t;
	struct sm_layout l;
	char *cause = NULL;

	traj(&t, prompt, 2, act, 9, NULL, 1, 1);
	tap_ok(sm_layout_build(&t, BK, &l, &cause) == 0 && l.n_inputs == 8,
	    "worked example: 8 inputs");
	tap_ok(memcmp(l.ids, ids, sizeof ids) == 0, "worked example: tokens");
	tap_ok(memcmp(l.pos, pos, sizeof pos) == 0, "worked example: position ids");
	tap_ok(memcmp(l.parent, parent, sizeof parent) == 0, "worked example: parents");
	tap_ok(memcmp(l.sp, sp, sizeof sp) == 0, "worked example: state pointers");
	sm_layout_release(&l);
	sm_traj_release(&t);

	/* A <bksp> at the floor changes nothing. */
	{
		int a2[3] = { BK, 3, BK };
		traj(&t, prompt, 2, a2, 3, NULL, 0, 0);
		sm_layout_build(&t, BK, &l, &cause);
		tap_ok(l.n_inputs == 3 && l.sp[0] == 1 && l.sp[1] == 1 && l.sp[2] == 2 &&
		    l.sp[3] == 1, "a <bksp> never erases the prompt");
		sm_layout_release(&l);
		sm_traj_release(&t);
	}
	free(cause);
}

/* Random logits for a batch. */
static float *
random_logits(const struct sm_batch *b, uint64_t seed)
{
	struct rng rng;
	size_t n = (size_t)b->B * b->T * VP;
	float *l = malloc(n * sizeof *l);

	rng_init(&rng, seed);
	for (size_t i = 0; i < n; i++)
		l[i] = 2.0f * rng_normal(&rng);
	return l;
}

/* BC identity: c = 0, beta = 0, data only -> W * discounted cross-entropy. */
static void
test_bc_identity(void)
{
	int prompt[2] = { 1, 2 };
	int a_plain[5] = { 3, 4, 5, 6, EOT };
	int a_bk[9] = { 3, 4, BK, 5, 6, BK, BK, 7, EOT };
	struct sm_traj t[3];
	struct rng rng;
	const struct sm_traj *tp[3] = { &t[0], &t[1], &t[2] };
	int cont[6] = { 3, 4, 5, 6, 7, EOT };
	struct sm_params p;
	char *cause = NULL;

	traj(&t[0], prompt, 2, a_plain, 5, NULL, 1, 1);
	traj(&t[1], prompt, 2, a_bk, 9, NULL, 1, 0);
	rng_init(&rng, 3);
	sm_augment(prompt, 2, cont, 6, 1, 0.4, 1.5, NULL, NULL, V, EOT, BK, &rng, &t[2],
	    &cause);
	tap_diag("noise-augmented trajectory: %d actions for 6 data tokens",
	    t[2].n_actions);
	sm_params_defaults(&p);
	p.c = 0;
	p.beta = 0;
	for (int k = 0; k < 3; k++) {
		struct sm_batch b;
		struct sm_stats st;
		float *logits, *d, *ref;
		double W, loss_ref = 0, g = 1;
		const struct sm_layout *l;
		size_t n;

		sm_batch_build(tp + k, 1, BK, 64, &b, &cause);
		n = (size_t)b.B * b.T * VP;
		logits = random_logits(&b, 10 + (uint64_t)k);
		d = malloc(n * sizeof *d);
		ref = calloc(n, sizeof *ref);
		sm_loss(&b, logits, d, V, VP, BK, &p, &st, &cause);
		W = 1.0 - p.gamma;
		l = &b.layouts[0];
		for (int s = 0; s < t[k].n_actions; s++) {
			int j = l->sp[s], y = t[k].credit ? t[k].credit[s] : t[k].actions[s];
			int cols = l->pos[j] + 1 <= 2 ? V : V + 1;
			const float *x = logits + (size_t)j * VP;
			double mx = x[0], sum = 0;
			for (int c = 1; c < cols; c++)
				mx = x[c] > mx ? x[c] : mx;
			for (int c = 0; c < cols; c++)
				sum += exp(x[c] - mx);
			loss_ref += W * g * (mx + log(sum) - x[y]);
			for (int c = 0; c < cols; c++)
				ref[(size_t)j * VP + c] += (float)(W * g * exp(x[c] - mx) / sum);
			ref[(size_t)j * VP + y] -= (float)(W * g);
			g *= p.gamma;
		}
		tap_ok(fabs(st.loss - loss_ref) < 1e-6 * (1 + fabs(loss_ref)),
		    "BC identity (%s): loss %.9f = W * discounted CE %.9f",
		    k == 0 ? "no backspace" : k == 1 ? "with backspaces" : "with noise",
		    st.loss, loss_ref);
		tap_ok(tap_maxdiff(d, ref, n) < 1e-7, "BC identity (%s): gradient "
		    "(max diff %.2e)", k == 0 ? "no backspace" : k == 1 ?
		    "with backspaces" : "with noise", tap_maxdiff(d, ref, n));
		free(logits);
		free(d);
		free(ref);
		sm_batch_release(&b);
	}
	for (int k = 0; k < 3; k++)
		sm_traj_release(&t[k]);
	free(cause);
}

/* The loss of a batch as a function of the logits, in double for differences. */
static double
loss_at(const struct sm_batch *b, const float *logits, const struct sm_params *p)
{
	struct sm_stats st;
	float *d = malloc((size_t)b->B * b->T * VP * sizeof *d);
	sm_loss(b, logits, d, V, VP, BK, p, &st, NULL);
	free(d);
	return st.loss;
}

/* Finite differences of the loss against its gradient on random logits. */
static void
test_fd_logits(void)
{
	int prompt[2] = { 1, 2 };
	int a1[9] = { 3, 4, BK, 5, 6, BK, BK, 7, EOT };
	int a2[7] = { 8, BK, 9, 10, BK, 11, 12 };          /* cut window */
	int c1[9] = { 3, 4, BK, 5, 6, BK, BK, 7, EOT };
	int a3[6] = { 3, 6, BK, BK, 4, 5 };                 /* model sample */
	struct sm_traj t[3];
	const struct sm_traj *tp[3] = { &t[0], &t[1], &t[2] };
	struct sm_batch b;
	struct sm_params p;
	float *logits, *d;
	size_t n;
	int bad = 0, checked = 0;
	double worst = 0;
	struct rng rng;

	traj(&t[0], prompt, 2, a1, 9, c1, 1, 1);
	traj(&t[1], prompt, 2, a2, 7, NULL, 1, 0);
	traj(&t[2], prompt, 2, a3, 6, NULL, 0, 0);
	sm_batch_build(tp, 3, BK, 64, &b, NULL);
	sm_params_defaults(&p);
	p.c = 0.3;          /* large enough for the quadratic term to matter */
	p.gamma = 0.9;
	p.v_term = 0.7;
	p.bc_weight = 0.5;
	n = (size_t)b.B * b.T * VP;
	logits = random_logits(&b, 77);
	d = malloc(n * sizeof *d);
	{
		struct sm_stats st;
		sm_loss(&b, logits, d, V, VP, BK, &p, &st, NULL);
		tap_diag("loss %.6f: data reward %.4f quadratic %.4f value %.4f bc %.4f "
		    "V(s0) %.3f", st.loss, st.data_reward, st.quadratic, st.value, st.bc,
		    st.v0);
	}
	rng_init(&rng, 5);
	for (size_t i = 0; i < n; i++) {
		float save = logits[i];
		double lp, lm, fd, err;
		int col = (int)(i % VP);

		if (col > V || (d[i] == 0 && rng_below(&rng, 8) != 0))
			continue;
		logits[i] = save + 1e-2f;
		lp = loss_at(&b, logits, &p);
		logits[i] = save - 1e-2f;
		lm = loss_at(&b, logits, &p);
		logits[i] = save;
		fd = (lp - lm) / 2e-2;
		err = fabs(fd - d[i]) / (1e-4 + fabs(fd) + fabs(d[i]));
		if (err > worst)
			worst = err;
		if (err > 1e-2) {
			if (bad < 5)
				tap_diag("logit %zu: fd %.6g analytic %.6g", i, fd, (double)d[i]);
			bad++;
		}
		checked++;
	}
	tap_ok(bad == 0 && checked > 100, "loss gradient matches finite differences on "
	    "%d logits (terminal, cut, model; worst relative error %.2e)", checked, worst);
	free(logits);
	free(d);
	sm_batch_release(&b);
	for (int k = 0; k < 3; k++)
		sm_traj_release(&t[k]);
}

/* Total loss through the model. */
static double
model_loss(struct gpt_model *m, const struct sm_batch *b, const struct sm_params *p)
{
	struct sm_stats st;
	gpt_forward(m, b->ids, b->pos, b->parent, b->B, b->T, NULL);
	sm_loss(b, gpt_logits(m), gpt_dlogits(m), V, VP, BK, p, &st, NULL);
	return st.loss;
}

/* Finite differences through the whole model, and one pass against KV replay. */
static void
test_through_model(void)
{
	int prompt[2] = { 1, 2 };
	int a1[9] = { 3, 4, BK, 5, 6, BK, BK, 7, EOT };
	int a2[6] = { 8, 9, BK, BK, 10, 11 };
	struct sm_traj t[2];
	const struct sm_traj *tp[2] = { &t[0], &t[1] };
	struct gpt_config cfg = { 16, V, VP, 2, 2, 16 };
	struct gpt_model *m;
	struct sm_batch b;
	struct sm_params p;
	struct rng rng;
	float *grads, *params;
	size_t sizes[GPT_NUM_TENSORS], off = 0;
	int bad = 0, checked = 0;
	double worst = 0;
	char *cause = NULL;

	traj(&t[0], prompt, 2, a1, 9, NULL, 1, 1);
	traj(&t[1], prompt, 2, a2, 6, NULL, 0, 0);
	sm_batch_build(tp, 2, BK, 16, &b, &cause);
	m = gpt_new(&cfg, &cause);
	gpt_init_random(m, 4);
	params = gpt_param_memory(m);
	rng_init(&rng, 6);
	for (size_t i = 0; i < gpt_num_params(m); i++)
		params[i] += 0.1f * rng_normal(&rng);
	sm_params_defaults(&p);
	p.c = 0.2;
	p.gamma = 0.9;
	p.bc_weight = 0.3;
	model_loss(m, &b, &p);
	gpt_zero_grad(m, NULL);
	gpt_backward(m, &cause);
	grads = malloc(gpt_num_params(m) * sizeof *grads);
	memcpy(grads, gpt_grad_memory(m), gpt_num_params(m) * sizeof *grads);
	gpt_config_sizes(&cfg, sizes);
	for (int k = 0; k < GPT_NUM_TENSORS; k++) {
		for (int s = 0; s < 6; s++) {
			size_t i = off + (size_t)rng_below(&rng, sizes[k]);
			float save = params[i];
			double lp, lm, fd, err;

			if (k == 0)	/* rows in use: tokens 1..11 and <bksp> */
				i = off + (size_t)(1 + s * 2 % 11) * 16 + (size_t)s;
			if (k == 0 && s == 5)
				i = off + (size_t)BK * 16 + 3;
			save = params[i];
			params[i] = save + 1e-2f;
			lp = model_loss(m, &b, &p);
			params[i] = save - 1e-2f;
			lm = model_loss(m, &b, &p);
			params[i] = save;
			fd = (lp - lm) / 2e-2;
			err = fabs(fd - grads[i]) / (1e-4 + fabs(fd) + fabs(grads[i]));
			if (err > worst)
				worst = err;
			if (err > 3e-2) {
				bad++;
				tap_diag("%s[%zu]: fd %.6g analytic %.6g", gpt_tensor_name(k),
				    i - off, fd, (double)grads[i]);
			}
			checked++;
		}
		off += sizes[k];
	}
	tap_ok(bad == 0, "SequenceMatch gradient through the whole model matches "
	    "finite differences (%d parameters, worst relative error %.2e)", checked,
	    worst);

	/* One pass equals KV-cached replay of the same actions. */
	{
		struct gpt_kv *kv = gpt_kv_new(m, 16, &cause);
		float lg[VP];
		double w = 0;
		const struct sm_layout *l = &b.layouts[0];

		model_loss(m, &b, &p);
		gpt_kv_append(m, kv, prompt, 2, &cause);
		for (int s = 0; s <= t[0].n_actions; s++) {
			gpt_kv_logits(m, kv, gpt_kv_len(kv) - 1, lg);
			double dd = tap_maxdiff(lg, gpt_logits(m) + (size_t)l->sp[s] * VP, VP);
			if (dd > w)
				w = dd;
			if (s == t[0].n_actions)
				break;
			if (t[0].actions[s] == BK)
				gpt_kv_truncate(kv, gpt_kv_len(kv) - 1);
			else
				gpt_kv_append(m, kv, &t[0].actions[s], 1, &cause);
		}
		tap_ok(w < 1e-4, "one-pass logits at sp[t] equal KV-cached replay with "
		    "backspaces (max diff %.2e)", w);
		gpt_kv_free(kv);
	}
	free(grads);
	gpt_free(m);
	sm_batch_release(&b);
	for (int k = 0; k < 2; k++)
		sm_traj_release(&t[k]);
	free(cause);
}

struct gen_log {
	int type[256], token[256], slot[256], len[256];
	int n, n_prompt, bad_floor, max_run, run, retype, last_erased;
	int bad_top;	/* events whose reported alternatives are inconsistent */
};

/* Record events and check invariants as they come. */
static int
gen_cb(const struct generate_event *ev, void *arg)
{
	struct gen_log *g = arg;

	if (ev->type == GENERATE_EVENT_STOP)
		return 0;
	{
		double sum = 0;
		int ok = ev->n_top > 0 && ev->entropy >= 0 && ev->entropy <= log(1e6);
		for (int i = 0; i < ev->n_top; i++) {
			sum += ev->top[i].prob;
			if (i > 0 && ev->top[i].prob > ev->top[i - 1].prob)
				ok = 0;
		}
		if (!ok || sum > 1.0 + 1e-5 || ev->p_bksp < 0 || ev->p_bksp > 1)
			g->bad_top++;
	}
	if (g->n < 256) {
		g->type[g->n] = ev->type;
		g->token[g->n] = ev->token;
		g->slot[g->n] = ev->slot;
		g->len[g->n] = ev->length;
		g->n++;
	}
	if (ev->type == GENERATE_EVENT_ERASE) {
		if (ev->length < g->n_prompt || ev->slot < g->n_prompt)
			g->bad_floor++;
		g->run++;
		if (g->run > g->max_run)
			g->max_run = g->run;
		g->last_erased = ev->token;
	} else {
		if (g->run > 0 && ev->token == g->last_erased)
			g->retype++;
		g->run = 0;
	}
	return 0;
}

/* Generation with backspace. */
static void
test_generate_backspace(void)
{
	static const char text[] = "abc abd abe the cat sat on the mat and the dog";
	struct gpt_config cfg = { 64, 0, 0, 2, 2, 16 };
	struct tokenizer *tok;
	struct gpt_model *m;
	struct sampler_params sp;
	struct gen_log g;
	int prompt[3], erases = 0;
	char *cause = NULL;
	/* Stored: seed 11, backspace_bias 3, max_tokens 12 (types: 0 append, 1 erase). */
	static const int stored_type[] = {
		0, 1, 0, 1, 0, 1, 0, 0, 0, 1, 1, 1, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 1, 0,
	};
	static const int stored_token[] = {
		185, 185, 240, 240, 148, 148, 112, 48, 139, 139, 48, 112, 50, 50, 207, 232,
		232, 207, 146, 229, 229, 119, 119, 233,
	};
	int regen = getenv("SEQMATCH_REGEN") != NULL;

	tokenizer_train((const uint8_t *)text, sizeof text - 1, 270, &tok, &cause);
	cfg.vocab_size = tokenizer_vocab_size(tok);
	cfg.padded_vocab_size = (cfg.vocab_size + 1 + 63) / 64 * 64;
	m = gpt_new(&cfg, &cause);
	gpt_init_random(m, 2);
	gpt_init_bksp(m);
	prompt[0] = 'a';
	prompt[1] = 'b';
	prompt[2] = 'c';
	sampler_defaults(&sp);
	sp.seed = 11;
	sp.backspace_bias = 3.0;
	sp.max_tokens = 12;
	memset(&g, 0, sizeof g);
	g.n_prompt = 3;
	generate_run(m, tok, &sp, prompt, 3, gen_cb, &g, NULL, &cause);
	for (int i = 0; i < g.n; i++)
		erases += g.type[i] == GENERATE_EVENT_ERASE;
	tap_ok(erases > 0, "a model with a strong <bksp> bias erases (%d of %d events)",
	    erases, g.n);
	tap_ok(g.bad_floor == 0, "the prompt is never erased");
	tap_ok(g.bad_top == 0, "every event reports sorted alternatives, an entropy "
	    "and P(<bksp>) in range");
	if (regen) {
		printf("# types:");
		for (int i = 0; i < g.n; i++)
			printf(" %d,", g.type[i]);
		printf("\n# tokens:");
		for (int i = 0; i < g.n; i++)
			printf(" %d,", g.token[i]);
		printf("\n");
	}
	{
		int same = g.n == (int)(sizeof stored_type / sizeof stored_type[0]);
		for (int i = 0; same && i < g.n; i++)
			same = g.type[i] == stored_type[i] && g.token[i] == stored_token[i];
		tap_ok(same, "seed 11 reproduces the stored %d events", g.n);
	}

	/* Caps. */
	memset(&g, 0, sizeof g);
	g.n_prompt = 3;
	sp.backspace_bias = 6.0;
	sp.max_consecutive_backspaces = 1;
	sp.max_tokens = 30;
	generate_run(m, tok, &sp, prompt, 3, gen_cb, &g, NULL, &cause);
	tap_ok(g.max_run <= 1, "max_consecutive_backspaces 1 holds (longest run %d)",
	    g.max_run);
	memset(&g, 0, sizeof g);
	g.n_prompt = 3;
	sp.max_consecutive_backspaces = -1;
	sp.max_total_backspaces = 4;
	generate_run(m, tok, &sp, prompt, 3, gen_cb, &g, NULL, &cause);
	erases = 0;
	for (int i = 0; i < g.n; i++)
		erases += g.type[i] == GENERATE_EVENT_ERASE;
	tap_ok(erases <= 4 && erases > 0, "max_total_backspaces 4 holds (%d erases)",
	    erases);
	memset(&g, 0, sizeof g);
	g.n_prompt = 3;
	sp.max_total_backspaces = -1;
	sp.forbid_retype = 1;
	sp.temperature = 0;     /* greedy would retype at once without the mask */
	generate_run(m, tok, &sp, prompt, 3, gen_cb, &g, NULL, &cause);
	tap_ok(g.retype == 0, "forbid_retype: no token is retyped right after its erase");
	sp.forbid_retype = 0;
	sp.backspace_bias = -INFINITY;
	memset(&g, 0, sizeof g);
	g.n_prompt = 3;
	sp.temperature = 0.8;
	generate_run(m, tok, &sp, prompt, 3, gen_cb, &g, NULL, &cause);
	erases = 0;
	for (int i = 0; i < g.n; i++)
		erases += g.type[i] == GENERATE_EVENT_ERASE;
	tap_ok(erases == 0, "backspace_bias -inf turns backspacing off");
	gpt_free(m);
	tokenizer_free(tok);
	free(cause);
}

/*
 * Model-proposed noise (finetune --noise model): each burst starts with the
 * proposed token, is credited with the data token and erased; positions
 * without a proposal (-1) get no noise, those marked -2 (--noise
 * model+uniform where the model is unsure) a burst of ordinary noise; the
 * final text is the data.
 */
static void
test_augment_proposal(void)
{
	int prompt[2] = { 1, 2 }, cont[6] = { 3, 4, 5, 6, 7, EOT };
	int prop[6] = { 9, -1, 11, -2, -1, 13 };
	int ok = 1, bursts = 0, fallback = 0, net[64], nn = 0;
	char *cause = NULL;
	struct rng rng;
	struct sm_traj t;

	rng_init(&rng, 5);
	if (sm_augment(prompt, 2, cont, 6, 1, 1.0, 1.0, NULL, prop, V, EOT, BK, &rng,
	    &t, &cause) != 0) {
		tap_ok(0, "sm_augment with proposals: %s", cause);
		free(cause);
		return;
	}
	for (int k = 0, i = 0; k < t.n_actions; k++) {
		int a = t.actions[k];
		if (a == BK) {
			ok &= t.credit[k] == BK && nn > 0;
			nn--;
			continue;
		}
		net[nn++] = a;
		if (a != cont[i]) {
			/*
			 * The first token of a burst: the proposal (or, at -2, an
			 * ordinary token), credited the data token.
			 */
			ok &= (prop[i] == -2 ? a >= 0 && a < V && a != EOT && a != BK :
			    a == prop[i]) && t.credit[k] == cont[i] && prop[i] != -1;
			fallback += prop[i] == -2;
			bursts++;
			/* burst_mean 1: exactly one token, then one <bksp> */
			ok &= k + 1 < t.n_actions && t.actions[k + 1] == BK;
		} else
			i++;
	}
	ok &= nn == 6 && memcmp(net, cont, sizeof cont) == 0;
	tap_ok(ok && bursts == 4 && fallback == 1, "sm_augment: proposals start the "
	    "bursts (%d of 4 positions, %d of 1 marked for ordinary noise), none "
	    "where there is no proposal, data text kept", bursts, fallback);
	sm_traj_release(&t);
}

/* Trajectories as ints (the replay samples ranks exchange) read back equal. */
static void
test_flatten(void)
{
	int prompt[3] = { 5, 6, 7 }, act[4] = { 8, BK, 9, 10 }, cred[4] = { 9, BK, 9, 10 };
	struct sm_traj a = { prompt, 3, act, cred, 4, 1, 1 };
	struct sm_traj b = { prompt, 2, act, NULL, 3, 0, 0 };
	struct sm_traj x, y, z;
	int flat[64], *p;
	size_t at = 0, n;
	char *cause = NULL;
	int ok;

	p = sm_traj_flatten(&a, flat);
	p = sm_traj_flatten(&b, p);
	n = (size_t)(p - flat);
	ok = n == sm_traj_flat_len(&a) + sm_traj_flat_len(&b);
	ok &= sm_traj_unflatten(flat, n, &at, &x, &cause) == 0 &&
	    sm_traj_unflatten(flat, n, &at, &y, &cause) == 0 && at == n;
	ok &= x.n_prompt == 3 && x.n_actions == 4 && x.is_data && x.terminal &&
	    x.credit != NULL && memcmp(x.prompt, prompt, sizeof prompt) == 0 &&
	    memcmp(x.actions, act, sizeof act) == 0 && memcmp(x.credit, cred, sizeof cred) == 0;
	ok &= y.n_prompt == 2 && y.n_actions == 3 && !y.is_data && !y.terminal &&
	    y.credit == NULL && memcmp(y.actions, act, 3 * sizeof *act) == 0;
	sm_traj_release(&x);
	sm_traj_release(&y);
	at = 0;
	ok &= sm_traj_unflatten(flat, sm_traj_flat_len(&a) - 1, &at, &z, &cause) == -1 &&
	    cause != NULL && at == 0;
	tap_ok(ok, "sm_traj_flatten/unflatten: two trajectories read back equal; a cut "
	    "block is refused (%s)", cause != NULL ? cause : "no message");
	free(cause);
}

int
main(void)
{
	test_flatten();
	test_layout();
	test_bc_identity();
	test_augment_proposal();
	test_fd_logits();
	test_through_model();
	test_generate_backspace();
	return tap_done();
}
