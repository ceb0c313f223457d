/* cmd-finetune.c: `seqmatch finetune`: SequenceMatch, BC or MLE fine-tuning of a checkpoint. */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cmd.h"
#include "checkpoint.h"
#include "corpus.h"
#include "cpu.h"
#include "dist.h"
#include "finetune.h"
#include "gpt.h"
#include "options.h"
#include "pool.h"
#include "progress.h"
#include "record.h"
#include "tokenizer.h"
#include "train-flow.h"
#include "train.h"
#include "util.h"

enum {
	CMD_FT_MODEL = 0x100, CMD_FT_CORPUS, CMD_FT_OUT, CMD_FT_BEST, CMD_FT_METHOD,
	CMD_FT_GAMMA, CMD_FT_C, CMD_FT_BETA, CMD_FT_VTERM, CMD_FT_BC_WARMUP, CMD_FT_BC_MIX,
	CMD_FT_P_NOISE, CMD_FT_CTX_NOISE, CMD_FT_BURST, CMD_FT_NOISE, CMD_FT_NOISE_TEMP, CMD_FT_NOISE_CONF, CMD_FT_DOC_START, CMD_FT_CTX_INSERT,
	CMD_FT_SAMPLE_EVERY,
	CMD_FT_SAMPLES,
	CMD_FT_REPLAY, CMD_FT_BATCH, CMD_FT_MODEL_BATCH, CMD_FT_PROMPT, CMD_FT_WINDOW, CMD_FT_VAL_FRACTION,
	CMD_FT_SEPARATOR, CMD_FT_RESUME, CMD_FT_JSON, CMD_FT_HELP,
	CMD_FT_OPTIM /* .. + OPTIONS_OPTIM_N - 1: the optimiser's options */
};

static const struct option cmd_finetune_longopts[] = {
	{ "model", required_argument, NULL, CMD_FT_MODEL },
	{ "corpus", required_argument, NULL, CMD_FT_CORPUS },
	{ "out", required_argument, NULL, CMD_FT_OUT },
	{ "best", required_argument, NULL, CMD_FT_BEST },
	{ "method", required_argument, NULL, CMD_FT_METHOD },
	{ "gamma", required_argument, NULL, CMD_FT_GAMMA },
	{ "sm-c", required_argument, NULL, CMD_FT_C },
	{ "beta", required_argument, NULL, CMD_FT_BETA },
	{ "v-term", required_argument, NULL, CMD_FT_VTERM },
	{ "bc-warmup", required_argument, NULL, CMD_FT_BC_WARMUP },
	{ "bc-mix", required_argument, NULL, CMD_FT_BC_MIX },
	{ "p-noise", required_argument, NULL, CMD_FT_P_NOISE },
	{ "ctx-noise", required_argument, NULL, CMD_FT_CTX_NOISE },
	{ "burst-mean", required_argument, NULL, CMD_FT_BURST },
	{ "noise", required_argument, NULL, CMD_FT_NOISE },
	{ "noise-temp", required_argument, NULL, CMD_FT_NOISE_TEMP },
	{ "noise-confidence", required_argument, NULL, CMD_FT_NOISE_CONF },
	{ "doc-start", no_argument, NULL, CMD_FT_DOC_START },
	{ "ctx-noise-insert", no_argument, NULL, CMD_FT_CTX_INSERT },
	{ "sample-every", required_argument, NULL, CMD_FT_SAMPLE_EVERY },
	{ "samples-per-round", required_argument, NULL, CMD_FT_SAMPLES },
	{ "model-batch", required_argument, NULL, CMD_FT_MODEL_BATCH },
	{ "replay-rounds", required_argument, NULL, CMD_FT_REPLAY },
	{ "batch-size", required_argument, NULL, CMD_FT_BATCH },
	{ "prompt-tokens", required_argument, NULL, CMD_FT_PROMPT },
	{ "window", required_argument, NULL, CMD_FT_WINDOW },
	{ "val-fraction", required_argument, NULL, CMD_FT_VAL_FRACTION },
	{ "separator", required_argument, NULL, CMD_FT_SEPARATOR },
	{ "resume", no_argument, NULL, CMD_FT_RESUME },
	{ "json", no_argument, NULL, CMD_FT_JSON },
	{ "help", no_argument, NULL, CMD_FT_HELP },
	OPTIONS_OPTIM_LONGOPTS(CMD_FT_OPTIM),
	{ NULL, 0, NULL, 0 }
};

/* Usage with every default. */
static void
cmd_finetune_usage(FILE *f)
{
	struct finetune_options d;

	finetune_options_defaults(&d);
	fprintf(f,
"usage: seqmatch finetune --model BASE --corpus FILE --out MODEL [options]\n"
"\n"
"Fine-tune a checkpoint with SequenceMatch (sm: chi-squared occupancy matching\n"
"with a <bksp> action; Cundy and Ermon), behaviour cloning on noise-augmented\n"
"data (bc) or plain maximum likelihood (mle). A base model without <bksp> gets\n"
"the action added (its row starts as the mean token row). Writes MODEL,\n"
"MODEL.opt (for --resume) and the best model by validation loss (the mean\n"
"cross-entropy of held-out windows). Ctrl-C saves and exits.\n"
"Under mpirun (seqmatch built --with-mpi), the N processes share every batch\n"
"and every sampling round, and average their gradients: the same steps as one\n"
"process with the same --batch-size; rank 0 prints and saves.\n"
"\n"
"  --method sm|bc|mle      (default sm)\n"
"  --corpus FILE --separator blank|percent --val-fraction F (default 0.1)\n"
"  --best PATH             best checkpoint (default MODEL with -best before .bin)\n"
"  --resume                continue MODEL from MODEL.opt up to --steps\n"
"Trajectories:\n"
"  --batch-size N          trajectories per step (default %d; half are the\n"
"                          model's own for sm after --bc-warmup, unless\n"
"  --model-batch N         N model trajectories are added to the data ones\n"
"                          instead (default 0: taken from the batch)\n"
"  --prompt-tokens N       longest prompt; each trajectory draws 1..N (default %d)\n"
"  --window N              data tokens after the prompt (default %d)\n"
"  --doc-start             windows (and model samples' prompts) begin at a\n"
"                          document's start instead of anywhere\n"
"  --p-noise F             noise bursts per data position (default %g)\n"
"  --ctx-noise F           share of prompts given noise that stays (default %g)\n"
"  --ctx-noise-insert      that noise is inserted between the prompt's tokens\n"
"                          instead of replacing some of them\n"
"  --burst-mean F          mean burst length (default %g)\n"
"  --noise KIND            noise tokens: uniform (default), unigram, model\n"
"                          (a burst's first token is one the model proposes\n"
"                          there, never the data token), model+uniform or\n"
"                          model+unigram (where --noise-confidence finds the\n"
"                          model unsure, the other kind instead of none)\n"
"  --noise-temp F          temperature of those proposals (default %g)\n"
"  --noise-confidence F    model noise only where the model gives the data\n"
"                          token at least F (default %g: everywhere)\n"
"  --sample-every N        new model samples every N steps (default %d)\n"
"  --samples-per-round N   sequences per sampling round (default %d)\n"
"  --replay-rounds N       rounds kept in the replay buffer (default %d)\n"
"Objective:\n"
"  --gamma F               discount (default %g)\n"
"  --sm-c F                weight c of the quadratic term (default %g)\n"
"  --beta F                share of model trajectories in the mixture (default %g)\n"
"  --v-term F              value of the terminal state (default %g)\n"
"  --bc-warmup N           BC-only steps first (default %ld)\n"
"  --bc-mix F              BC weight after warm-up; SM gets 1-F (default %g)\n"
"Optimisation:\n"
"  --steps N (default %ld) --lr F (default %g) --min-lr-frac F (default %g)\n"
"  --warmup N (default %ld) --weight-decay F (default %g) --grad-clip F (default %g)\n"
"  --beta1 F (default %g) --beta2 F (default %g) --eps F (default %g)\n"
"  --eval-every N (default %ld) --eval-batches N (default %d)\n"
"  --save-every N (default: at the end) --seed N (default %llu)\n"
"  --json                  one JSON object per step on stdout\n",
	    d.batch_size, d.prompt_tokens, d.window, d.p_noise, d.ctx_noise, d.burst_mean,
	    d.noise_temp, d.noise_confidence, d.sample_every, d.samples_per_round, d.replay_rounds, d.sm.gamma, d.sm.c,
	    d.sm.beta, d.sm.v_term, d.bc_warmup, d.bc_mix, d.steps, (double)d.optim.lr,
	    (double)d.optim.min_lr_frac, d.optim.warmup, (double)d.optim.weight_decay,
	    (double)d.optim.grad_clip, (double)d.optim.beta1, (double)d.optim.beta2,
	    (double)d.optim.eps,
	    d.eval_every, d.eval_batches,
	    (unsigned long long)d.seed);
}

struct cmd_finetune_state {
	struct train_flow *f;
	double tokens;
	double sample_s, step_s;
};

/* Progress: bar or JSON lines with every loss term. */
static void
cmd_finetune_progress(const struct finetune_progress *p, void *arg)
{
	struct cmd_finetune_state *s = arg;
	char extra[96];

	s->tokens += p->tokens_per_s * p->step_seconds;
	s->sample_s += p->sample_seconds;
	s->step_s += p->step_seconds;
	if (dist_rank() != 0)
		return; /* rank 0 alone reports */
	if (s->f->json) {
		printf("{\"step\": %ld, \"steps\": %ld, \"loss\": %.6f, \"data_reward\": %.6f, "
		    "\"quadratic\": %.6f, \"value\": %.6f, \"bc\": %.6f, \"v0\": %.4f, "
		    "\"mean_reward\": %.4f, \"bksp_p_clean\": %.6f, \"bksp_p_noisy\": %.6f, "
		    "\"lr\": %.6g, \"grad_norm\": %.6g, \"skipped\": %s, \"sampled\": %s, "
		    "\"sample_seconds\": %.4f, \"step_seconds\": %.4f, "
		    "\"tokens_per_s\": %.1f, \"eta\": %.1f, \"version\": %ld",
		    p->step, p->steps, p->sm.loss, p->sm.data_reward, p->sm.quadratic,
		    p->sm.value, p->sm.bc, p->sm.v0, p->sm.mean_reward, p->sm.bksp_p_clean,
		    p->sm.bksp_p_noisy, (double)p->lr, (double)p->grad_norm,
		    p->skipped ? "true" : "false", p->sampled ? "true" : "false",
		    p->sample_seconds, p->step_seconds, p->tokens_per_s, p->eta,
		    p->version);
		if (dist_size() > 1)
			printf(", \"processes\": %d, \"comm_s\": %.6f", dist_size(), p->comm_s);
		train_flow_json_end(p->has_val, p->val_loss, p->best_val_loss);
	}
	extra[0] = '\0';
	if (p->has_val)
		snprintf(extra, sizeof extra, "; P(bksp) clean %.4f noisy %.4f",
		    p->sm.bksp_p_clean, p->sm.bksp_p_noisy);
	train_flow_report(s->f, p->step, p->sm.loss, s->tokens, p->has_val, p->val_loss,
	    p->best_val_loss, p->saved_best, extra);
}


/* Parse a double option into *out. */
#define CMD_FT_DOUBLE(name, lo, hi, dst) do {					\
	double v_;								\
	if (options_double(name, optarg, lo, hi, &v_) != 0)			\
		return APP_EXIT_USAGE;						\
	dst = v_;								\
} while (0)

/* `seqmatch finetune`. */
int
cmd_finetune(int argc, char **argv)
{
	struct finetune_options o;
	const char *base = NULL;
	struct options_optim optim;
	int opt, sepv;
	struct finetune *ft = NULL;
	struct train_flow f;
	struct cmd_finetune_state st;

	finetune_options_defaults(&o);
	optim = (struct options_optim){ &o.optim, &o.steps, &o.eval_every, &o.save_every,
	    &o.eval_batches, &o.seed };
	train_flow_init(&f);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", cmd_finetune_longopts, NULL)) != -1) {
		switch (opt) {
		case CMD_FT_MODEL: base = optarg; break;
		case CMD_FT_CORPUS: f.corpus_path = optarg; break;
		case CMD_FT_OUT: f.out = optarg; break;
		case CMD_FT_BEST: f.best = optarg; break;
		case CMD_FT_RESUME: f.resume = 1; break;
		case CMD_FT_JSON: f.json = 1; break;
		case CMD_FT_METHOD:
			if (finetune_method_parse(optarg, &o.method) != 0) {
				app_error("--method: '%s' is not sm, bc or mle", optarg);
				return APP_EXIT_USAGE;
			}
			break;
		case CMD_FT_NOISE:
			if (finetune_noise_parse(optarg, &o) != 0) {
				app_error("--noise: '%s' is not uniform, unigram, model, "
				    "model+uniform or model+unigram", optarg);
				return APP_EXIT_USAGE;
			}
			break;
		case CMD_FT_SEPARATOR:
			if (options_separator(optarg, &sepv) != 0)
				return APP_EXIT_USAGE;
			f.sep = (enum corpus_sep)sepv;
			break;
		case CMD_FT_GAMMA: CMD_FT_DOUBLE("gamma", 0, 0.999999, o.sm.gamma); break;
		case CMD_FT_C: CMD_FT_DOUBLE("sm-c", 0, 100, o.sm.c); break;
		case CMD_FT_BETA: CMD_FT_DOUBLE("beta", 0, 1, o.sm.beta); break;
		case CMD_FT_VTERM: CMD_FT_DOUBLE("v-term", -1000, 1000, o.sm.v_term); break;
		case CMD_FT_BC_MIX: CMD_FT_DOUBLE("bc-mix", 0, 1, o.bc_mix); break;
		case CMD_FT_P_NOISE: CMD_FT_DOUBLE("p-noise", 0, 1, o.p_noise); break;
		case CMD_FT_CTX_NOISE: CMD_FT_DOUBLE("ctx-noise", 0, 1, o.ctx_noise); break;
		case CMD_FT_NOISE_TEMP: CMD_FT_DOUBLE("noise-temp", 0.05, 100, o.noise_temp); break;
		case CMD_FT_DOC_START: o.doc_start = 1; break;
		case CMD_FT_CTX_INSERT: o.ctx_noise_insert = 1; break;
		case CMD_FT_NOISE_CONF:
			CMD_FT_DOUBLE("noise-confidence", 0, 1, o.noise_confidence);
			break;
		case CMD_FT_BURST: CMD_FT_DOUBLE("burst-mean", 1, SM_MAX_BURST, o.burst_mean); break;
		case CMD_FT_VAL_FRACTION: CMD_FT_DOUBLE("val-fraction", 0, 0.5, f.val_fraction); break;
		case CMD_FT_BC_WARMUP:
			if (options_long("bc-warmup", optarg, 0, 1000000000L, &o.bc_warmup) != 0)
				return APP_EXIT_USAGE;
			break;
		case CMD_FT_SAMPLE_EVERY:
			if (options_int("sample-every", optarg, 1, 1000000, &o.sample_every) != 0)
				return APP_EXIT_USAGE;
			break;
		case CMD_FT_SAMPLES:
			if (options_int("samples-per-round", optarg, 1, 100000,
			    &o.samples_per_round) != 0)
				return APP_EXIT_USAGE;
			break;
		case CMD_FT_REPLAY:
			if (options_int("replay-rounds", optarg, 1, 10000, &o.replay_rounds) != 0)
				return APP_EXIT_USAGE;
			break;
		case CMD_FT_BATCH:
			if (options_int("batch-size", optarg, 1, 4096, &o.batch_size) != 0)
				return APP_EXIT_USAGE;
			break;
		case CMD_FT_MODEL_BATCH:
			if (options_int("model-batch", optarg, 0, 4096, &o.model_batch) != 0)
				return APP_EXIT_USAGE;
			break;
		case CMD_FT_PROMPT:
			if (options_int("prompt-tokens", optarg, 1, 65536, &o.prompt_tokens) != 0)
				return APP_EXIT_USAGE;
			break;
		case CMD_FT_WINDOW:
			if (options_int("window", optarg, 1, 65536, &o.window) != 0)
				return APP_EXIT_USAGE;
			break;
		case 'h':
		case CMD_FT_HELP:
			cmd_finetune_usage(stdout);
			return APP_EXIT_OK;
		default:
			if (opt >= CMD_FT_OPTIM && opt < CMD_FT_OPTIM + OPTIONS_OPTIM_N) {
				if (options_optim_set(&optim, opt - CMD_FT_OPTIM, optarg) != 0)
					return APP_EXIT_USAGE;
				break;
			}
			cmd_finetune_usage(stderr);
			return APP_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		app_error("finetune: unexpected argument '%s'", argv[optind]);
		return APP_EXIT_USAGE;
	}
	if (f.corpus_path == NULL || f.out == NULL || (base == NULL && !f.resume)) {
		app_error("finetune: --model BASE, --corpus FILE and --out MODEL are "
		    "required (see seqmatch finetune --help)");
		return APP_EXIT_USAGE;
	}
	if (train_flow_corpus(&f, o.seed) != 0)
		goto out;
	if (f.resume) {
		if (train_flow_resume(&f, o.steps, NULL) != 0)
			goto out;
	} else {
		if (checkpoint_load(base, &f.model, &f.tok, &f.rec, &f.cause) != 0) {
			app_error("%s", f.cause);
			goto out;
		}

		record_set(&f.rec, "base_model", "%s", base);
		record_set(&f.rec, "ft_corpus", "%s", f.corpus_path);
		record_set(&f.rec, "ft_corpus_hash", "%016llx",
		    (unsigned long long)f.corpus->hash);
		record_set(&f.rec, "best_val_loss", "inf");
	}
	if (train_flow_data(&f) != 0)
		goto out;
	ft = finetune_new(f.model, f.tok, &f.dtrain, &f.dval, &o, &f.rec, f.out, f.best,
	    f.start, &f.cause);
	if (ft == NULL) {
		app_error("finetune: %s", f.cause);
		f.status = APP_EXIT_USAGE;
		goto out;
	}
	f.model = NULL;	/* the fine-tune owns it now */
	if (!f.json && dist_rank() == 0)
		fprintf(stderr, "seqmatch: finetune %s from %s: %zu training tokens, %zu "
		    "held out; %d trajectories of %d+%d tokens per step; %d threads "
		    "(%s)%s\n", finetune_method_name(o.method), f.resume ? f.out : base,
		    f.dtrain.n, f.dval.n, o.batch_size, o.prompt_tokens, o.window,
		    pool_threads(), cpu_blas_core(), train_flow_procs());
	memset(&st, 0, sizeof st);
	st.f = &f;
	train_flow_begin(&f, o.steps);
	if (finetune_run(ft, cmd_finetune_progress, &st, (volatile int *)&app_interrupted,
	    &f.cause) != 0) {
		progress_finish(&f.bar);
		app_error("finetune: %s", f.cause);
		goto out;
	}
	progress_finish(&f.bar);
	if (!f.json && dist_rank() == 0 && st.step_s + st.sample_s > 0)
		fprintf(stderr, "seqmatch: %.1f s in optimisation steps, %.1f s (%.0f%%) "
		    "generating model samples\n", st.step_s, st.sample_s,
		    100 * st.sample_s / (st.step_s + st.sample_s));
	train_flow_done(&f, finetune_steps_done(ft));
out:
	finetune_free(ft);
	return train_flow_release(&f);
}
