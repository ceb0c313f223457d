/*
 * cmd-bench.c: `seqmatch bench`: this machine's limits, then training and
 * generation throughput as fractions of them.
 *
 * First the sgemm peak (best GFLOP/s over transformer-shaped products) and the
 * read bandwidth, then for each configuration (random weights): a training
 * step (forward, loss, backward, AdamW) at B x T (the median of the timed
 * steps, so that one step slowed by other work does not move it), and
 * single-sequence generation.
 *
 * On the shared VM this was built on, the memory speed moved by half from one
 * minute to the next (README.md, bench), so a limit measured once at the start
 * said more about that minute than about the work. Each timed step is scored
 * against the best shape's sgemm rate measured just before and just after it
 * (the larger of the two), each generation round against the bandwidth
 * measured so (engine/bench.c's bench_generate_rounds), and the medians of
 * those fractions are reported; the start's figures only pick the shape and
 * are printed. An sgemm rate is the better of the program's way (the pool
 * sharing out single-threaded OpenBLAS calls, engine/sgemm.c) and OpenBLAS on
 * its own threads, so the step is scored against the faster of the two.
 * Training FLOPs per token are counted as 6N + 12 L T C with N the weights
 * used in matrix products (blocks and LM head), the usual model-FLOPs
 * count; generation reads every weight once per token, so its bound is
 * bandwidth / weight bytes. A token also reads every cached key and value
 * (engine/attend.c): at 124M 0.55 MB a token in the default rounds (12
 * tokens from an empty context) against 139 MB of q8 weights, but 20 MB
 * after 256 tokens of context. --depth N starts each round after N tokens
 * (as llama-bench's --n-depth), times their prefill and reports a second
 * fraction with the cache's bytes counted (engine/bench.c's bench_kv_bytes);
 * the first, the weights' alone, stays the one the targets are judged by.
 * Generation runs in each weight format (fp32, bf16, q8: engine/quant.h), in
 * rounds that alternate the formats so that a change in the machine's load
 * hits all of them; each format's speed is the median of its rounds and its
 * bound counts its own bytes. Each round is also scored against a read of a
 * buffer of the format's own size (the weights of a small format can sit in a
 * large cache between tokens, which memory's bound does not see). The
 * held-out loss of each format comes from the shipped model (data/model.bin)
 * on the held-out corpus beside it (data/heldout.txt): random weights have no
 * meaningful loss.
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
#include "cpu.h"
#include "checkpoint.h"
#include "corpus.h"
#include "gpt.h"
#include "kernels.h"
#include "options.h"
#include "pool.h"
#include "quant.h"
#include "qweights.h"
#include "rng.h"
#include "sm.h"
#include "tokenizer.h"
#include "util.h"

/* Rounds of generation per format (the median is reported). */
#define CMD_BENCH_ROUNDS 5
/* The bandwidth buffer: far larger than any cache. */
#define CMD_BENCH_BW_BYTES ((size_t)512 << 20)
/* Seconds of each bandwidth measurement beside the generation rounds. */
#define CMD_BENCH_ROUND_BW_SECONDS 0.5
/* Seconds of each sgemm peak measurement beside the training steps. */
#define CMD_BENCH_STEP_PEAK_SECONDS 0.5

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
	/* The limits measured beside the steps (median) and the rounds (median, range). */
	double step_peak, gen_bw, gen_bw_min, gen_bw_max;
	int gen_tokens, gen_depth;
	double kv_bytes;    /* the cache's bytes read per generated token (mean) */
	/* Per weight format (enum quant_format). */
	double fmt_tok_s[QUANT_NUM_FORMATS], fmt_bytes[QUANT_NUM_FORMATS];
	double fmt_frac[QUANT_NUM_FORMATS], fmt_frac_kv[QUANT_NUM_FORMATS];
	/* The rounds' range of fmt_frac: how much the machine moved under them. */
	double fmt_frac_min[QUANT_NUM_FORMATS], fmt_frac_max[QUANT_NUM_FORMATS];
	double fmt_prefill[QUANT_NUM_FORMATS]; /* the context's prefill, tokens/s */
	/* A read of the format's own bytes beside its rounds, and the fraction of it (medians). */
	double fmt_own_gbs[QUANT_NUM_FORMATS], fmt_frac_own[QUANT_NUM_FORMATS];
};

/* Usage. */
static void
cmd_bench_usage(FILE *f)
{
	fprintf(f,
"usage: seqmatch bench [--json] [--steps N] [--tokens N] [--depth N]\n"
"                      [--small-only] [--generate-only] [--model PATH]\n"
"                      [--heldout PATH] [--measure M]\n"
"\n"
"Measures the sgemm peak (GFLOP/s) and memory bandwidth (GB/s) of this machine,\n"
"then a training step and generation for a small model and for the GPT-2 124M\n"
"configuration (random weights), as fractions of those limits, measured again\n"
"beside every timed step and generation round. Generation runs in each weight\n"
"format (fp32, bf16, q8), whose held-out loss is compared on a trained model.\n"
"Uses the threads of --threads (all cores by default).\n"
"  --steps N      timed training steps per model after one warm-up (default 3);\n"
"                 the median step is reported\n"
"  --tokens N     generated tokens per model and format, over 5 rounds (default 64)\n"
"  --depth N      each round's tokens follow N tokens of context, prefilled\n"
"                 in one pass (default 0; cut to what a model's context holds);\n"
"                 the prefill's speed and the cache's bytes are then reported\n"
"  --model PATH   the trained model for the loss comparison (default: the\n"
"                 default model, data/model.bin)\n"
"  --heldout PATH its held-out corpus (default: heldout.txt beside the model)\n"
"  --small-only   skip the 124M configuration\n"
"  --generate-only  skip the training and SequenceMatch steps\n"
"  --measure M    measure model file M (e.g. an imported GPT-2) instead of the\n"
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

/*
 * Generation speed per weight format: CMD_BENCH_ROUNDS rounds, each decoding
 * tokens / rounds tokens in every format in turn, each round against the
 * bandwidth measured on either side of it (engine/bench.c); per format the
 * median round's tokens/s and the median of the rounds' fractions.
 */
static int
cmd_bench_generate(const struct gpt_model *m, int tokens, int depth,
    struct cmd_bench_result *r, char **cause)
{
	struct qweights *qw[QUANT_NUM_FORMATS] = { NULL };
	double rate[QUANT_NUM_FORMATS * CMD_BENCH_ROUNDS];
	double frac[QUANT_NUM_FORMATS * CMD_BENCH_ROUNDS], lim[CMD_BENCH_ROUNDS];
	double frac_kv[QUANT_NUM_FORMATS * CMD_BENCH_ROUNDS];
	double prefill[QUANT_NUM_FORMATS * CMD_BENCH_ROUNDS];
	double own[QUANT_NUM_FORMATS * CMD_BENCH_ROUNDS];
	double frac_own[QUANT_NUM_FORMATS * CMD_BENCH_ROUNDS];
	struct bench_gen_result res = { rate, frac, frac_kv, lim, prefill, own, frac_own };
	struct bench_gen g = { depth, tokens / CMD_BENCH_ROUNDS, CMD_BENCH_ROUNDS,
	    CMD_BENCH_BW_BYTES, CMD_BENCH_ROUND_BW_SECONDS };
	int ctx = gpt_config(m)->max_seq_len, ret = -1;

	if (g.per < 1)
		g.per = 1;
	/* Token 0, the context and a round's tokens share the positions. */
	if (g.depth > ctx - 1 - g.per) {
		g.depth = ctx - 1 - g.per > 0 ? ctx - 1 - g.per : 0;
		fprintf(stderr, "seqmatch bench: --depth %d cut to %d: the model's context "
		    "holds %d positions (token 0, the context and a round's %d tokens)\n",
		    depth, g.depth, ctx, g.per);
	}
	r->gen_depth = g.depth;
	r->kv_bytes = bench_kv_bytes(gpt_config(m), g.depth, g.per);
	for (int f = 0; f < QUANT_NUM_FORMATS; f++)
		if ((qw[f] = qweights_new(m, (enum quant_format)f, cause)) == NULL)
			goto out;
	if (bench_generate_rounds(m, qw, QUANT_NUM_FORMATS, &g, &res, cause) != 0)
		goto out;
	for (int f = 0; f < QUANT_NUM_FORMATS; f++) {
		r->fmt_tok_s[f] = bench_median(rate + f * CMD_BENCH_ROUNDS, CMD_BENCH_ROUNDS,
		    NULL, NULL);
		r->fmt_bytes[f] = (double)qweights_bytes(qw[f]);
		r->fmt_frac[f] = bench_median(frac + f * CMD_BENCH_ROUNDS, CMD_BENCH_ROUNDS,
		    &r->fmt_frac_min[f], &r->fmt_frac_max[f]);
		r->fmt_frac_kv[f] = bench_median(frac_kv + f * CMD_BENCH_ROUNDS,
		    CMD_BENCH_ROUNDS, NULL, NULL);
		r->fmt_prefill[f] = bench_median(prefill + f * CMD_BENCH_ROUNDS,
		    CMD_BENCH_ROUNDS, NULL, NULL);
		r->fmt_own_gbs[f] = bench_median(own + f * CMD_BENCH_ROUNDS, CMD_BENCH_ROUNDS,
		    NULL, NULL);
		r->fmt_frac_own[f] = bench_median(frac_own + f * CMD_BENCH_ROUNDS,
		    CMD_BENCH_ROUNDS, NULL, NULL);
	}
	r->gen_bw = bench_median(lim, CMD_BENCH_ROUNDS, &r->gen_bw_min, &r->gen_bw_max);
	ret = 0;
out:
	for (int f = 0; f < QUANT_NUM_FORMATS; f++)
		qweights_free(qw[f]);
	return ret;
}

/*
 * Mean held-out loss (nats per token) of a model decoding with weights qw:
 * each document as <|endoftext|> text <|endoftext|>, cut to the context, run
 * through the KV cache in one prefill, every next token scored over the V
 * real tokens. *ntok gets the tokens scored.
 */
static int
cmd_bench_heldout(const struct gpt_model *m, const struct tokenizer *tok,
    const struct corpus *held, const struct qweights *qw, double *loss, long *ntok,
    char **cause)
{
	const struct gpt_config *c = gpt_config(m);
	int T = c->max_seq_len, V = c->vocab_size, eot = tokenizer_eot(tok), ret = -1;
	int *seq = xmalloc((size_t)T * sizeof *seq);
	float *logits = xmalloc((size_t)c->padded_vocab_size * sizeof *logits);
	struct gpt_kv *kv;
	double sum = 0;
	long n = 0;

	if ((kv = gpt_kv_new(m, T, cause)) == NULL ||
	    gpt_kv_set_weights(kv, qweights_kv(qw), cause) != 0)
		goto out;
	for (size_t d = 0; d < held->ndocs; d++) {
		int *ids, len = 0;
		size_t nids;
		if (tokenizer_encode(tok, (const uint8_t *)held->docs[d], held->lens[d], &ids,
		    &nids, cause) != 0)
			goto out;
		seq[len++] = eot;
		for (size_t i = 0; i < nids && len < T; i++)
			seq[len++] = ids[i];
		if (len < T)
			seq[len++] = eot;
		free(ids);
		gpt_kv_truncate(kv, 0);
		if (gpt_kv_append(m, kv, seq, len, cause) != 0)
			goto out;
		for (int s = 0; s + 1 < len; s++) {
			gpt_kv_logits(m, kv, s, logits);
			sum += kernels_logsumexp(logits, V) - logits[seq[s + 1]];
			n++;
		}
	}
	*loss = n > 0 ? sum / (double)n : 0;
	*ntok = n;
	ret = 0;
out:
	gpt_kv_free(kv);
	free(seq);
	free(logits);
	return ret;
}

/*
 * Held-out loss per format of the model at path on the corpus at held_path
 * (NULL: heldout.txt beside the model). Returns -1 with a message when
 * either cannot be loaded.
 */
static int
cmd_bench_quality(const char *path, const char *held_path,
    double loss[QUANT_NUM_FORMATS], long *ntok, char **cause)
{
	struct gpt_model *m = NULL;
	struct tokenizer *tok = NULL;
	struct corpus *held = NULL;
	char *hp = NULL;
	int ret = -1;

	if (path == NULL)
		return util_error(cause, "no model found (give one with --model)");
	if (held_path == NULL) {
		const char *slash = strrchr(path, '/');
		if (asprintf(&hp, "%.*sheldout.txt",
		    slash != NULL ? (int)(slash - path + 1) : 0, path) < 0)
			return util_error(cause, "out of memory");
		held_path = hp;
	}
	if (checkpoint_load(path, &m, &tok, NULL, cause) != 0 ||
	    corpus_load(held_path, CORPUS_SEP_BLANK, &held, cause) != 0)
		goto out;
	for (int f = 0; f < QUANT_NUM_FORMATS; f++) {
		struct qweights *qw = qweights_new(m, (enum quant_format)f, cause);
		int rc = qw == NULL ? -1 :
		    cmd_bench_heldout(m, tok, held, qw, &loss[f], ntok, cause);
		qweights_free(qw);
		if (rc != 0)
			goto out;
	}
	ret = 0;
out:
	free(hp);
	corpus_free(held);
	tokenizer_free(tok);
	gpt_free(m);
	return ret;
}

/* Time training steps and generation for one configuration. */
static int
cmd_bench_run(const struct cmd_bench_config *bc, int steps, int tokens, int depth,
    int train, const int *shape, struct cmd_bench_result *r, char **cause)
{
	const struct gpt_config *c = &bc->cfg;
	struct gpt_model *m;
	struct gpt_adamw adam = { 1e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 1.0f };
	struct rng rng;
	int B = bc->B, T = bc->T, N = B * T, *inputs, *targets;
	float gn;
	double t0, flops_per_step, pk_before = 0, pk_after, *step_s = NULL, *step_frac = NULL;
	double *step_pk = NULL;
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
	for (int i = 0; i < N; i++) {
		inputs[i] = (int)rng_below(&rng, (uint64_t)c->vocab_size);
		targets[i] = (int)rng_below(&rng, (uint64_t)c->vocab_size);
	}
	flops_per_step = N * (6.0 * cmd_bench_matmul_params(c) +
	    12.0 * c->num_layers * (double)T * c->channels);
	step_s = xcalloc((size_t)steps + 1, sizeof *step_s);
	step_frac = xcalloc((size_t)steps + 1, sizeof *step_frac);
	step_pk = xcalloc((size_t)steps + 1, sizeof *step_pk);
	/*
	 * Each timed step (step 0 is the warm-up) against the peak shape's sgemm
	 * rate measured on either side of it, the larger of the two.
	 */
	for (int s = 0; train && s <= steps; s++) {
		if (s == 1 && (pk_before = bench_sgemm_gflops(shape[0], shape[1], shape[2],
		    CMD_BENCH_STEP_PEAK_SECONDS, NULL, NULL)) <= 0) {
			util_error(cause, "out of memory for the sgemm peak");
			goto out;
		}
		t0 = util_now();
		if (gpt_forward(m, inputs, NULL, NULL, B, T, cause) != 0)
			goto out;
		gpt_loss_ce(m, targets);
		if (gpt_zero_grad(m, cause) != 0 || gpt_backward(m, cause) != 0 ||
		    gpt_update(m, &adam, s + 1, &gn, cause) < 0)
			goto out;
		step_s[s] = util_now() - t0;
		if (s == 0)
			continue;
		if ((pk_after = bench_sgemm_gflops(shape[0], shape[1], shape[2],
		    CMD_BENCH_STEP_PEAK_SECONDS, NULL, NULL)) <= 0) {
			util_error(cause, "out of memory for the sgemm peak");
			goto out;
		}
		step_pk[s] = pk_after > pk_before ? pk_after : pk_before;
		step_frac[s] = flops_per_step / step_s[s] / 1e9 / step_pk[s];
		pk_before = pk_after;
	}
	if (train) {
		/* Medians of the timed steps: time, limit and fraction each. */
		r->step_s = bench_median(step_s + 1, steps, NULL, NULL);
		r->step_peak = bench_median(step_pk + 1, steps, NULL, NULL);
		r->train_frac = bench_median(step_frac + 1, steps, NULL, NULL);
		if (cmd_bench_sm_step(m, B, T, steps, &r->sm_step_s, cause) != 0)
			goto out;
		r->sm_ratio = r->sm_step_s / r->step_s;
		r->train_tok_s = N / r->step_s;
		r->train_gflops = flops_per_step / r->step_s / 1e9;
	}

	if (tokens > c->max_seq_len - 1)
		tokens = c->max_seq_len - 1;
	if (cmd_bench_generate(m, tokens, depth, r, cause) != 0)
		goto out;
	r->gen_tokens = tokens;
	r->gen_tok_s = r->fmt_tok_s[QUANT_FP32];
	r->weight_bytes = 4.0 * cmd_bench_matmul_params(c);
	r->gen_gbs = r->gen_tok_s * r->weight_bytes / 1e9;
	r->gen_frac = r->fmt_frac[QUANT_FP32];
	ret = 0;
out:
	gpt_free(m);
	free(step_s);
	free(step_frac);
	free(step_pk);
	free(inputs);
	free(targets);
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
		{ "depth", required_argument, NULL, 'd' },
		{ "small-only", no_argument, NULL, 'S' },
		{ "generate-only", no_argument, NULL, 'G' },
		{ "model", required_argument, NULL, 'm' },
		{ "heldout", required_argument, NULL, 'H' },
		{ "measure", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct cmd_bench_config configs[2] = {
		{ "small", { 256, 4096, 4160, 6, 8, 256 }, 8, 256, NULL },
		{ "gpt2-124M", { 1024, 50257, 50304, 12, 12, 768 }, 8, 256, NULL },
	};
	struct cmd_bench_result res[2];
	int json = 0, steps = 3, tokens = 64, depth = 0, nconf = 2, first = 0, train = 1, opt;
	double peak = 0, peak_pool = 0, peak_blas = 0, bw;
	size_t best = 0;
	static const int shapes[][3] = {
		{ 2048, 2304, 768 }, { 2048, 3072, 768 }, { 2048, 768, 3072 },
		{ 2048, 768, 768 }
	};
	const char *model_path = NULL, *held_path = NULL, *measure = NULL;
	double loss[QUANT_NUM_FORMATS] = { 0 };
	long loss_tokens = 0;
	int have_loss = 0;
	char *cause = NULL;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = 1; break;
		case 'S': nconf = 1; break;
		case 'G': train = 0; break;
		case 'm': model_path = optarg; break;
		case 'H': held_path = optarg; break;
		case 'M': measure = optarg; break;
		case 's':
			if (options_int("steps", optarg, 1, 1000, &steps) != 0)
				return APP_EXIT_USAGE;
			break;
		case 't':
			if (options_int("tokens", optarg, 1, 100000, &tokens) != 0)
				return APP_EXIT_USAGE;
			break;
		case 'd':
			if (options_int("depth", optarg, 0, 100000, &depth) != 0)
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
	memset(res, 0, sizeof res);
	if (measure != NULL) {
		struct gpt_model *m = NULL;
		struct tokenizer *tok = NULL;

		/* The model's configuration, for the FLOP count and the report. */
		if (checkpoint_load(measure, &m, &tok, NULL, &cause) != 0) {
			app_error("%s", cause);
			free(cause);
			return APP_EXIT_ERROR;
		}
		configs[1].cfg = *gpt_config(m);
		configs[1].name = "model"; /* the path goes to stderr, not into JSON */
		configs[1].model = measure;
		if (configs[1].T > configs[1].cfg.max_seq_len)
			configs[1].T = configs[1].cfg.max_seq_len;
		gpt_free(m);
		tokenizer_free(tok);
		nconf = 2;
		first = 1; /* the model alone */
		if (!json)
			fprintf(stderr, "seqmatch bench: measuring %s\n", measure);
	}
	if (model_path == NULL)
		model_path = app_default_model();
	if (!json)
		fprintf(stderr, "seqmatch bench: OpenBLAS core %s, %d threads; kernels: "
		    "bf16 %s, q8 %s\n", cpu_blas_core(), pool_threads(),
		    quant_kernel_name(QUANT_BF16), quant_kernel_name(QUANT_Q8));
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		double p, b, g = bench_sgemm_gflops(shapes[i][0], shapes[i][1], shapes[i][2],
		    1.0, &p, &b);
		if (g > peak) {
			peak = g;
			peak_pool = p;
			peak_blas = b;
			best = i;
		}
	}
	bw = bench_bandwidth_gbs(CMD_BENCH_BW_BYTES, 1.5);
	if (!json) {
		char blas[64] = "";

		if (peak_blas > 0)
			snprintf(blas, sizeof blas, ", OpenBLAS on its own threads %.1f",
			    peak_blas);
		printf("machine: sgemm peak %.1f GFLOP/s (%d x %d x %d; the pool %.1f%s), "
		    "read bandwidth %.1f GB/s; each training step and generation round is "
		    "scored against these limits measured again beside it\n", peak,
		    shapes[best][0], shapes[best][1], shapes[best][2], peak_pool, blas, bw);
	}
	for (int i = first; i < nconf; i++) {
		struct cmd_bench_config *bc = &configs[i];
		if (!json)
			fprintf(stderr, "seqmatch bench: %s (L=%d C=%d B=%d T=%d)...\n",
			    bc->name, bc->cfg.num_layers, bc->cfg.channels, bc->B, bc->T);
		if (cmd_bench_run(bc, steps, tokens, depth, train, shapes[best], &res[i],
		    &cause) != 0) {
			app_error("bench: %s: %s", bc->name, cause);
			free(cause);
			return APP_EXIT_ERROR;
		}
		if (!json && train)
			printf("%s: train step %.3f s, %.0f tokens/s, %.1f GFLOP/s = %.0f%% of "
			    "the peak measured beside each step (median %.1f GFLOP/s); "
			    "SequenceMatch step %.3f s = %.2fx\n",
			    bc->name, res[i].step_s, res[i].train_tok_s, res[i].train_gflops,
			    100 * res[i].train_frac, res[i].step_peak, res[i].sm_step_s,
			    res[i].sm_ratio);
		if (!json) {
			printf("%s: generation rounds' bandwidth %.1f GB/s (%.1f-%.1f)",
			    bc->name, res[i].gen_bw, res[i].gen_bw_min, res[i].gen_bw_max);
			if (res[i].gen_depth > 0)
				printf("; %d tokens a round after a context of %d, reading "
				    "%.1f MB of cached keys and values a token",
				    tokens / CMD_BENCH_ROUNDS, res[i].gen_depth,
				    res[i].kv_bytes / 1e6);
			printf("\n");
			for (int f = 0; f < QUANT_NUM_FORMATS; f++) {
				printf("%s: generate %-4s %7.1f tokens/s = %.2fx fp32, %.1f MB "
				    "per token, %.0f%% of the bandwidth bound (rounds %.0f-%.0f%%; "
				    "%.1f tokens/s at %.1f GB/s)",
				    bc->name, quant_format_name((enum quant_format)f),
				    res[i].fmt_tok_s[f], res[i].fmt_tok_s[f] /
				    res[i].fmt_tok_s[QUANT_FP32], res[i].fmt_bytes[f] / 1e6,
				    100 * res[i].fmt_frac[f], 100 * res[i].fmt_frac_min[f],
				    100 * res[i].fmt_frac_max[f],
				    res[i].gen_bw * 1e9 / res[i].fmt_bytes[f], res[i].gen_bw);
				if (res[i].gen_depth > 0)
					printf("; %.0f%% of the bound for the weights and the "
					    "cache; context prefilled at %.0f tokens/s",
					    100 * res[i].fmt_frac_kv[f], res[i].fmt_prefill[f]);
				printf("; %.0f%% of a read of its own %.0f MB (%.1f GB/s)\n",
				    100 * res[i].fmt_frac_own[f], res[i].fmt_bytes[f] / 1e6,
				    res[i].fmt_own_gbs[f]);
			}
		}
	}
	if (cmd_bench_quality(model_path, held_path, loss, &loss_tokens, &cause) == 0)
		have_loss = 1;
	else {
		app_warn("bench: no held-out loss comparison: %s", cause);
		free(cause);
		cause = NULL;
	}
	if (have_loss && !json)
		for (int f = 0; f < QUANT_NUM_FORMATS; f++)
			printf("held-out loss (%s, %ld tokens): %-4s %.5f, %+.3f%% vs fp32\n",
			    model_path, loss_tokens, quant_format_name((enum quant_format)f),
			    loss[f], 100 * (loss[f] / loss[QUANT_FP32] - 1));
	if (json) {
		const struct cmd_bench_result *main_r = &res[nconf - 1];
		printf("{\"openblas_core\": \"%s\", \"threads\": %d, \"sgemm_gflops\": %.2f, "
		    "\"sgemm_pool_gflops\": %.2f, \"sgemm_blas_threads_gflops\": %.2f, "
		    "\"bandwidth_gbs\": %.2f, "
		    "\"train_peak_fraction\": %.4f, \"generate_bandwidth_fraction\": %.4f, "
		    "\"sm_step_ratio\": %.4f, "
		    "\"gen_fp32_tokens_s\": %.2f, \"gen_bf16_tokens_s\": %.2f, "
		    "\"gen_q8_tokens_s\": %.2f, \"gen_fp32_bandwidth_fraction\": %.4f, "
		    "\"gen_bf16_bandwidth_fraction\": %.4f, "
		    "\"gen_q8_bandwidth_fraction\": %.4f, \"gen_fp32_bytes\": %.0f, "
		    "\"gen_bf16_bytes\": %.0f, \"gen_q8_bytes\": %.0f, "
		    "\"gen_bandwidth_gbs\": %.2f, \"gen_bandwidth_gbs_min\": %.2f, "
		    "\"gen_bandwidth_gbs_max\": %.2f, \"train_step_peak_gflops\": %.2f, "
		    "\"gen_depth\": %d, \"gen_kv_bytes\": %.0f, "
		    "\"gen_fp32_bandwidth_fraction_with_kv\": %.4f, "
		    "\"gen_bf16_bandwidth_fraction_with_kv\": %.4f, "
		    "\"gen_q8_bandwidth_fraction_with_kv\": %.4f, "
		    "\"gen_fp32_prefill_tokens_s\": %.2f, \"gen_bf16_prefill_tokens_s\": %.2f, "
		    "\"gen_q8_prefill_tokens_s\": %.2f, "
		    "\"gen_fp32_bandwidth_fraction_min\": %.4f, "
		    "\"gen_fp32_bandwidth_fraction_max\": %.4f, "
		    "\"gen_bf16_bandwidth_fraction_min\": %.4f, "
		    "\"gen_bf16_bandwidth_fraction_max\": %.4f, "
		    "\"gen_q8_bandwidth_fraction_min\": %.4f, "
		    "\"gen_q8_bandwidth_fraction_max\": %.4f, "
		    "\"gen_fp32_bandwidth_fraction_own\": %.4f, "
		    "\"gen_bf16_bandwidth_fraction_own\": %.4f, "
		    "\"gen_q8_bandwidth_fraction_own\": %.4f, "
		    "\"gen_fp32_bandwidth_gbs_own\": %.2f, \"gen_bf16_bandwidth_gbs_own\": %.2f, "
		    "\"gen_q8_bandwidth_gbs_own\": %.2f, ",
		    cpu_blas_core(), pool_threads(), peak, peak_pool, peak_blas, bw,
		    main_r->train_frac,
		    main_r->gen_frac, main_r->sm_ratio,
		    main_r->fmt_tok_s[QUANT_FP32], main_r->fmt_tok_s[QUANT_BF16],
		    main_r->fmt_tok_s[QUANT_Q8], main_r->fmt_frac[QUANT_FP32],
		    main_r->fmt_frac[QUANT_BF16], main_r->fmt_frac[QUANT_Q8],
		    main_r->fmt_bytes[QUANT_FP32], main_r->fmt_bytes[QUANT_BF16],
		    main_r->fmt_bytes[QUANT_Q8], main_r->gen_bw, main_r->gen_bw_min,
		    main_r->gen_bw_max, main_r->step_peak, main_r->gen_depth, main_r->kv_bytes,
		    main_r->fmt_frac_kv[QUANT_FP32], main_r->fmt_frac_kv[QUANT_BF16],
		    main_r->fmt_frac_kv[QUANT_Q8], main_r->fmt_prefill[QUANT_FP32],
		    main_r->fmt_prefill[QUANT_BF16], main_r->fmt_prefill[QUANT_Q8],
		    main_r->fmt_frac_min[QUANT_FP32], main_r->fmt_frac_max[QUANT_FP32],
		    main_r->fmt_frac_min[QUANT_BF16], main_r->fmt_frac_max[QUANT_BF16],
		    main_r->fmt_frac_min[QUANT_Q8], main_r->fmt_frac_max[QUANT_Q8],
		    main_r->fmt_frac_own[QUANT_FP32], main_r->fmt_frac_own[QUANT_BF16],
		    main_r->fmt_frac_own[QUANT_Q8], main_r->fmt_own_gbs[QUANT_FP32],
		    main_r->fmt_own_gbs[QUANT_BF16], main_r->fmt_own_gbs[QUANT_Q8]);
		if (have_loss)
			printf("\"heldout_loss_fp32\": %.6f, \"heldout_loss_bf16\": %.6f, "
			    "\"heldout_loss_q8\": %.6f, \"heldout_tokens\": %ld, ",
			    loss[QUANT_FP32], loss[QUANT_BF16], loss[QUANT_Q8], loss_tokens);
		printf("\"bf16_kernel\": \"%s\", \"q8_kernel\": \"%s\", \"models\": [",
		    quant_kernel_name(QUANT_BF16), quant_kernel_name(QUANT_Q8));
		for (int i = first; i < nconf; i++)
			printf("%s{\"name\": \"%s\", \"layers\": %d, \"channels\": %d, "
			    "\"heads\": %d, \"vocab\": %d, \"B\": %d, \"T\": %d, "
			    "\"train_step_s\": %.4f, \"train_tokens_per_s\": %.1f, "
			    "\"train_gflops\": %.2f, \"train_peak_fraction\": %.4f, "
			    "\"sm_step_s\": %.4f, \"sm_step_ratio\": %.4f, "
			    "\"generate_tokens_per_s\": %.2f, \"generate_gbs\": %.2f, "
			    "\"generate_bandwidth_fraction\": %.4f, \"weight_bytes\": %.0f, "
			    "\"generate_depth\": %d}",
			    i > first ? ", " : "", configs[i].name, configs[i].cfg.num_layers,
			    configs[i].cfg.channels, configs[i].cfg.num_heads,
			    configs[i].cfg.vocab_size, configs[i].B, configs[i].T,
			    res[i].step_s, res[i].train_tok_s, res[i].train_gflops,
			    res[i].train_frac, res[i].sm_step_s, res[i].sm_ratio,
			    res[i].gen_tok_s, res[i].gen_gbs,
			    res[i].gen_frac, res[i].weight_bytes, res[i].gen_depth);
		printf("]}\n");
	}
	return APP_EXIT_OK;
}
