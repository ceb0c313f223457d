/*
 * cmd-bench.c: `seqmatch bench`: this machine's limits, then training and
 * generation throughput as fractions of them.
 *
 * First the sgemm peak (best GFLOP/s over transformer-shaped products) and the
 * read bandwidth, then for each configuration (random weights): a training
 * step (forward, loss, backward, AdamW) at B x T, and single-sequence
 * generation. Training FLOPs per token are counted as 6N + 12 L T C with N the
 * weights used in matrix products (blocks and LM head), the usual model-FLOPs
 * count; generation reads every weight once per token, so its bound is
 * bandwidth / weight bytes.
 */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cmd.h"
#include "bench.h"
#include "checkpoint.h"
#include "cpu.h"
#include "gpt.h"
#include "options.h"
#include "rng.h"
#include "sm.h"
#include "tokenizer.h"
#include "util.h"

struct cmd_bench_config {
	const char *name;
	struct gpt_config cfg;
	int B, T;
	const char *model; /* a model file's weights instead of random ones */
};

struct cmd_bench_result {
	double step_s, train_tok_s, train_gflops, train_frac;
	double sm_step_s, sm_ratio;
	double gen_tok_s, gen_gbs, gen_frac, weight_bytes;
	int gen_tokens;
};

/* Usage. */
static void
cmd_bench_usage(FILE *f)
{
	fprintf(f,
"usage: seqmatch bench [--json] [--steps N] [--tokens N] [--small-only] [--model M]\n"
"\n"
"Measures the sgemm peak (GFLOP/s) and memory bandwidth (GB/s) of this machine,\n"
"then a training step and generation for a small model and for the GPT-2 124M\n"
"configuration (random weights), as fractions of those limits. Uses the BLAS\n"
"thread count of --threads (all cores by default).\n"
"  --steps N      timed training steps per model after one warm-up (default 3)\n"
"  --tokens N     generated tokens per model (default 64)\n"
"  --small-only   skip the 124M configuration\n"
"  --model M      measure model file M (e.g. an imported GPT-2) instead of the\n"
"                 124M configuration with random weights\n"
"  --json         one JSON object on stdout\n");
}

/* Weights used by matrix products: blocks and the LM head. */
static double
cmd_bench_matmul_params(const struct gpt_config *c)
{
	double C = c->channels;
	return (double)c->num_layers * 12.0 * C * C + (double)c->padded_vocab_size * C;
}

/*
 * Time SequenceMatch steps over the same B x T input positions as the MLE
 * step: B trajectories (half data, half model) of a prompt and actions with
 * about 10% <bksp>, each laid out into exactly T inputs (a tree mask).
 */
static int
cmd_bench_sm_step(struct gpt_model *m, int B, int T, int steps, double *sec,
    char **cause)
{
	const struct gpt_config *c = gpt_config(m);
	struct sm_traj *tr = xcalloc((size_t)B, sizeof *tr);
	const struct sm_traj **tp = xcalloc((size_t)B, sizeof *tp);
	struct gpt_adamw adam = { 1e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 1.0f };
	struct sm_params p;
	struct sm_stats st;
	struct sm_batch b;
	struct rng rng;
	int P = 8, bksp = c->vocab_size, ret = -1;
	double t0 = 0;
	float gn;

	rng_init(&rng, 11);
	sm_params_defaults(&p);
	p.bc_weight = 0.001;
	for (int i = 0; i < B; i++) {
		int n = 0, typed = 0, depth = P;
		tr[i].prompt = xmalloc((size_t)P * sizeof(int));
		tr[i].actions = xmalloc((size_t)(2 * T) * sizeof(int));
		for (int k = 0; k < P; k++)
			tr[i].prompt[k] = (int)rng_below(&rng, (uint64_t)c->vocab_size);
		tr[i].n_prompt = P;
		while (typed < T - P) {
			if (depth > P && rng_below(&rng, 10) == 0) {
				tr[i].actions[n++] = bksp;
				depth--;
			} else {
				tr[i].actions[n++] = (int)rng_below(&rng,
				    (uint64_t)c->vocab_size - 1);
				typed++;
				depth++;
			}
		}
		tr[i].n_actions = n;
		tr[i].is_data = i % 2 == 0;
		tp[i] = &tr[i];
	}
	if (sm_batch_build(tp, B, bksp, T, &b, cause) != 0)
		goto out;
	for (int s = 0; s <= steps; s++) {
		if (s == 1)
			t0 = util_now();
		if (gpt_forward(m, b.ids, b.pos, b.parent, b.B, b.T, cause) != 0 ||
		    sm_loss(&b, gpt_logits(m), gpt_dlogits(m), c->vocab_size,
		    c->padded_vocab_size, bksp, &p, &st, cause) != 0 ||
		    gpt_zero_grad(m, cause) != 0 || gpt_backward(m, cause) != 0 ||
		    gpt_update(m, &adam, s + 1, &gn, cause) < 0) {
			sm_batch_release(&b);
			goto out;
		}
	}
	*sec = (util_now() - t0) / steps;
	sm_batch_release(&b);
	ret = 0;
out:
	for (int i = 0; i < B; i++)
		sm_traj_release(&tr[i]);
	free(tr);
	free(tp);
	return ret;
}

/* Time training steps and generation for one configuration. */
static int
cmd_bench_run(const struct cmd_bench_config *bc, int steps, int tokens, double peak,
    double bw, struct cmd_bench_result *r, char **cause)
{
	const struct gpt_config *c = &bc->cfg;
	struct gpt_model *m;
	struct gpt_kv *kv = NULL;
	struct gpt_adamw adam = { 1e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 1.0f };
	struct rng rng;
	int B = bc->B, T = bc->T, N = B * T, *inputs, *targets, tok;
	float *logits, gn;
	double t0, flops_per_token;
	int ret = -1;

	if (bc->model != NULL) {
		struct tokenizer *mtok = NULL;

		if (checkpoint_load(bc->model, &m, &mtok, NULL, cause) != 0)
			return -1;
		tokenizer_free(mtok);
		c = gpt_config(m);
	} else {
		m = gpt_new(c, cause);
		if (m == NULL)
			return -1;
		gpt_init_random(m, 42);
	}
	rng_init(&rng, 7);
	inputs = xmalloc((size_t)N * sizeof *inputs);
	targets = xmalloc((size_t)N * sizeof *targets);
	logits = xmalloc((size_t)c->padded_vocab_size * sizeof *logits);
	for (int i = 0; i < N; i++) {
		inputs[i] = (int)rng_below(&rng, (uint64_t)c->vocab_size);
		targets[i] = (int)rng_below(&rng, (uint64_t)c->vocab_size);
	}
	t0 = 0;
	for (int s = 0; s <= steps; s++) {
		if (s == 1)
			t0 = util_now();
		if (gpt_forward(m, inputs, NULL, NULL, B, T, cause) != 0)
			goto out;
		gpt_loss_ce(m, targets);
		if (gpt_zero_grad(m, cause) != 0 || gpt_backward(m, cause) != 0 ||
		    gpt_update(m, &adam, s + 1, &gn, cause) < 0)
			goto out;
	}
	r->step_s = (util_now() - t0) / steps;
	if (cmd_bench_sm_step(m, B, T, steps, &r->sm_step_s, cause) != 0)
		goto out;
	r->sm_ratio = r->sm_step_s / r->step_s;
	r->train_tok_s = N / r->step_s;
	flops_per_token = 6.0 * cmd_bench_matmul_params(c) +
	    12.0 * c->num_layers * (double)T * c->channels;
	r->train_gflops = flops_per_token * r->train_tok_s / 1e9;
	r->train_frac = r->train_gflops / peak;

	kv = gpt_kv_new(m, c->max_seq_len, cause);
	if (kv == NULL)
		goto out;
	tok = 0;
	if (gpt_kv_append(m, kv, &tok, 1, cause) != 0)
		goto out;
	if (tokens > c->max_seq_len - 1)
		tokens = c->max_seq_len - 1;
	t0 = util_now();
	for (int i = 0; i < tokens; i++) {
		int best = 0;
		gpt_kv_logits(m, kv, gpt_kv_len(kv) - 1, logits);
		for (int v = 1; v < c->vocab_size; v++)
			if (logits[v] > logits[best])
				best = v;
		if (gpt_kv_append(m, kv, &best, 1, cause) != 0)
			goto out;
	}
	r->gen_tokens = tokens;
	r->gen_tok_s = tokens / (util_now() - t0);
	r->weight_bytes = 4.0 * cmd_bench_matmul_params(c);
	r->gen_gbs = r->gen_tok_s * r->weight_bytes / 1e9;
	r->gen_frac = r->gen_gbs / bw;
	ret = 0;
out:
	gpt_kv_free(kv);
	gpt_free(m);
	free(inputs);
	free(targets);
	free(logits);
	return ret;
}

/* `seqmatch bench`. */
int
cmd_bench(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "steps", required_argument, NULL, 's' },
		{ "tokens", required_argument, NULL, 't' },
		{ "small-only", no_argument, NULL, 'S' },
		{ "model", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct cmd_bench_config configs[2] = {
		{ "small", { 256, 4096, 4160, 6, 8, 256 }, 8, 256, NULL },
		{ "gpt2-124M", { 1024, 50257, 50304, 12, 12, 768 }, 8, 256, NULL },
	};
	struct cmd_bench_result res[2];
	int json = 0, steps = 3, tokens = 64, nconf = 2, first = 0, opt;
	double peak = 0, bw;
	static const int shapes[][3] = {
		{ 2048, 2304, 768 }, { 2048, 3072, 768 }, { 2048, 768, 3072 },
		{ 2048, 768, 768 }
	};
	char *cause = NULL;
	const char *model = NULL;

	memset(res, 0, sizeof res);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = 1; break;
		case 'S': nconf = 1; break;
		case 'm': model = optarg; break;
		case 's':
			if (options_int("steps", optarg, 1, 1000, &steps) != 0)
				return APP_EXIT_USAGE;
			break;
		case 't':
			if (options_int("tokens", optarg, 1, 100000, &tokens) != 0)
				return APP_EXIT_USAGE;
			break;
		case 'h':
			cmd_bench_usage(stdout);
			return APP_EXIT_OK;
		default:
			cmd_bench_usage(stderr);
			return APP_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		app_error("bench: unexpected argument '%s'", argv[optind]);
		return APP_EXIT_USAGE;
	}
	if (model != NULL) {
		struct gpt_model *m = NULL;
		struct tokenizer *tok = NULL;

		/* The model's configuration, for the FLOP count and the report. */
		if (checkpoint_load(model, &m, &tok, NULL, &cause) != 0) {
			app_error("%s", cause);
			free(cause);
			return APP_EXIT_ERROR;
		}
		configs[1].cfg = *gpt_config(m);
		configs[1].name = "model"; /* the path goes to stderr, not into JSON */
		configs[1].model = model;
		if (configs[1].T > configs[1].cfg.max_seq_len)
			configs[1].T = configs[1].cfg.max_seq_len;
		gpt_free(m);
		tokenizer_free(tok);
		nconf = 2;
		first = 1; /* the model alone */
	}
	if (!json && model != NULL)
		fprintf(stderr, "seqmatch bench: model is %s\n", model);
	if (!json)
		fprintf(stderr, "seqmatch bench: OpenBLAS core %s, %d threads\n",
		    cpu_blas_core(), cpu_threads());
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		double g = bench_sgemm_gflops(shapes[i][0], shapes[i][1], shapes[i][2], 1.0);
		if (g > peak)
			peak = g;
	}
	bw = bench_bandwidth_gbs((size_t)512 << 20, 1.5);
	if (!json)
		printf("machine: sgemm peak %.1f GFLOP/s, read bandwidth %.1f GB/s\n",
		    peak, bw);
	for (int i = first; i < nconf; i++) {
		struct cmd_bench_config *bc = &configs[i];
		if (!json)
			fprintf(stderr, "seqmatch bench: %s (L=%d C=%d B=%d T=%d)...\n",
			    bc->name, bc->cfg.num_layers, bc->cfg.channels, bc->B, bc->T);
		if (cmd_bench_run(bc, steps, tokens, peak, bw, &res[i], &cause) != 0) {
			app_error("bench: %s: %s", bc->name, cause);
			free(cause);
			return APP_EXIT_ERROR;
		}
		if (!json)
			printf("%s: train step %.3f s, %.0f tokens/s, %.1f GFLOP/s = %.0f%% of "
			    "peak; SequenceMatch step %.3f s = %.2fx; generate %.1f tokens/s, "
			    "%.1f GB/s = %.0f%% of bandwidth\n",
			    bc->name, res[i].step_s, res[i].train_tok_s, res[i].train_gflops,
			    100 * res[i].train_frac, res[i].sm_step_s, res[i].sm_ratio,
			    res[i].gen_tok_s, res[i].gen_gbs, 100 * res[i].gen_frac);
	}
	if (json) {
		const struct cmd_bench_result *main_r = &res[nconf - 1];
		printf("{\"openblas_core\": \"%s\", \"threads\": %d, \"sgemm_gflops\": %.2f, "
		    "\"bandwidth_gbs\": %.2f, \"train_peak_fraction\": %.4f, "
		    "\"generate_bandwidth_fraction\": %.4f, \"sm_step_ratio\": %.4f, "
		    "\"models\": [",
		    cpu_blas_core(), cpu_threads(), peak, bw, main_r->train_frac,
		    main_r->gen_frac, main_r->sm_ratio);
		for (int i = first; i < nconf; i++)
			printf("%s{\"name\": \"%s\", \"layers\": %d, \"channels\": %d, "
			    "\"heads\": %d, \"vocab\": %d, \"B\": %d, \"T\": %d, "
			    "\"train_step_s\": %.4f, \"train_tokens_per_s\": %.1f, "
			    "\"train_gflops\": %.2f, \"train_peak_fraction\": %.4f, "
			    "\"sm_step_s\": %.4f, \"sm_step_ratio\": %.4f, "
			    "\"generate_tokens_per_s\": %.2f, \"generate_gbs\": %.2f, "
			    "\"generate_bandwidth_fraction\": %.4f, \"weight_bytes\": %.0f}",
			    i > first ? ", " : "", configs[i].name, configs[i].cfg.num_layers,
			    configs[i].cfg.channels, configs[i].cfg.num_heads,
			    configs[i].cfg.vocab_size, configs[i].B, configs[i].T,
			    res[i].step_s, res[i].train_tok_s, res[i].train_gflops,
			    res[i].train_frac, res[i].sm_step_s, res[i].sm_ratio,
			    res[i].gen_tok_s, res[i].gen_gbs,
			    res[i].gen_frac, res[i].weight_bytes);
		printf("]}\n");
	}
	return APP_EXIT_OK;
}
