/* cmd-train.c: `seqmatch train`: tokenizer and MLE pretraining from a plain-text corpus. */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "cmd.h"
#include "checkpoint.h"
#include "corpus.h"
#include "cpu.h"
#include "dist.h"
#include "gpt.h"
#include "options.h"
#include "pool.h"
#include "progress.h"
#include "record.h"
#include "tokenizer.h"
#include "train-flow.h"
#include "train.h"
#include "util.h"

/* Model size presets. */
struct cmd_train_preset {
	const char *name;
	int layers, heads, channels, context, vocab;
};

static const struct cmd_train_preset cmd_train_presets[] = {
	{ "tiny", 2, 4, 64, 64, 512 },
	{ "small", 4, 4, 128, 128, 2048 },
	{ "medium", 6, 8, 256, 256, 4096 },
	{ "gpt2", 12, 12, 768, 1024, 50257 },
};
#define CMD_TRAIN_NPRESETS (sizeof cmd_train_presets / sizeof cmd_train_presets[0])

enum {
	CMD_TRAIN_CORPUS = 0x100, CMD_TRAIN_OUT, CMD_TRAIN_PRESET, CMD_TRAIN_LAYERS,
	CMD_TRAIN_HEADS, CMD_TRAIN_CHANNELS, CMD_TRAIN_CONTEXT, CMD_TRAIN_VOCAB,
	CMD_TRAIN_TOKENIZER, CMD_TRAIN_SEQ_LEN, CMD_TRAIN_BATCH, CMD_TRAIN_VAL_FRACTION,
	CMD_TRAIN_SEPARATOR, CMD_TRAIN_RESUME, CMD_TRAIN_JSON, CMD_TRAIN_BEST, CMD_TRAIN_HELP,
	CMD_TRAIN_OPTIM /* .. + OPTIONS_OPTIM_N - 1: the optimiser's options */
};

static const struct option cmd_train_longopts[] = {
	{ "corpus", required_argument, NULL, CMD_TRAIN_CORPUS },
	{ "out", required_argument, NULL, CMD_TRAIN_OUT },
	{ "preset", required_argument, NULL, CMD_TRAIN_PRESET },
	{ "layers", required_argument, NULL, CMD_TRAIN_LAYERS },
	{ "heads", required_argument, NULL, CMD_TRAIN_HEADS },
	{ "channels", required_argument, NULL, CMD_TRAIN_CHANNELS },
	{ "context", required_argument, NULL, CMD_TRAIN_CONTEXT },
	{ "vocab-size", required_argument, NULL, CMD_TRAIN_VOCAB },
	{ "tokenizer-from", required_argument, NULL, CMD_TRAIN_TOKENIZER },
	{ "seq-len", required_argument, NULL, CMD_TRAIN_SEQ_LEN },
	{ "batch-size", required_argument, NULL, CMD_TRAIN_BATCH },
	{ "val-fraction", required_argument, NULL, CMD_TRAIN_VAL_FRACTION },
	{ "separator", required_argument, NULL, CMD_TRAIN_SEPARATOR },
	{ "resume", no_argument, NULL, CMD_TRAIN_RESUME },
	{ "json", no_argument, NULL, CMD_TRAIN_JSON },
	{ "best", required_argument, NULL, CMD_TRAIN_BEST },
	{ "help", no_argument, NULL, CMD_TRAIN_HELP },
	OPTIONS_OPTIM_LONGOPTS(CMD_TRAIN_OPTIM),
	{ NULL, 0, NULL, 0 }
};

/* Print usage. */
static void
cmd_train_usage(FILE *f)
{
	struct train_options d;

	train_options_defaults(&d);
	fprintf(f,
"usage: seqmatch train --corpus FILE --out MODEL [options]\n"
"\n"
"Train a byte-level BPE tokenizer (or reuse one) and a GPT-2 model with maximum\n"
"likelihood on a plain UTF-8 text corpus. Writes MODEL (latest), MODEL.opt\n"
"(optimizer state for --resume) and the best model by validation loss.\n"
"Ctrl-C saves and exits.\n"
"\n"
"Under mpirun (seqmatch built --with-mpi), each of the N processes takes a\n"
"share of every batch and the gradients are averaged (data-parallel): the same\n"
"steps as one process with the same --batch-size; rank 0 prints and saves.\n"
"\n"
"Data:\n"
"  --corpus FILE          text, documents separated by blank lines\n"
"  --separator blank|percent  or by lines holding a single %% (default blank)\n"
"  --val-fraction F       share of documents held out [0, 0.5] (default 0.1)\n"
"  --out MODEL            checkpoint to write\n"
"  --best PATH            best checkpoint (default MODEL with -best before .bin)\n"
"  --resume               continue from MODEL and MODEL.opt up to --steps\n"
"Model:\n"
"  --preset NAME          tiny, small, medium, gpt2 (default small)\n"
"  --layers N --heads N --channels N --context N   override the preset\n"
"  --vocab-size N         tokenizer size, <|endoftext|> included\n"
"  --tokenizer-from MODEL reuse that model's tokenizer\n"
"Optimisation:\n"
"  --steps N              optimiser steps in total (default %ld)\n"
"  --batch-size N         sequences per step (default %d)\n"
"  --seq-len N            tokens per sequence (default: min(context, %d))\n"
"  --lr F                 peak learning rate (default %g)\n"
"  --min-lr-frac F        final lr as a fraction of --lr (default %g)\n"
"  --warmup N             linear warm-up steps (default %ld)\n"
"  --weight-decay F       AdamW decay on matrices (default %g)\n"
"  --beta1 F --beta2 F --eps F   AdamW (default %g, %g, %g)\n"
"  --grad-clip F          clip the gradient norm, 0 = off (default %g)\n"
"  --eval-every N         validate every N steps (default %ld)\n"
"  --eval-batches N       batches per validation (default %d)\n"
"  --save-every N         write MODEL every N steps (default %ld)\n"
"  --seed N               data order and initialisation (default %llu)\n"
"Output:\n"
"  --json                 one JSON object per step on stdout\n",
	    d.steps, d.batch_size, d.seq_len, (double)d.optim.lr,
	    (double)d.optim.min_lr_frac, d.optim.warmup, (double)d.optim.weight_decay,
	    (double)d.optim.beta1, (double)d.optim.beta2, (double)d.optim.eps,
	    (double)d.optim.grad_clip, d.eval_every, d.eval_batches,
	    d.save_every, (unsigned long long)d.seed);
}

struct cmd_train_state {
	struct train_flow *f;
	int B, T;
};

/* Progress callback: a bar on a terminal, JSON lines on request. */
static void
cmd_train_progress(const struct train_progress *p, void *arg)
{
	struct cmd_train_state *s = arg;

	if (dist_rank() != 0)
		return; /* rank 0 alone reports */
	if (s->f->json) {
		printf("{\"step\": %ld, \"steps\": %ld, \"loss\": %.6f, \"lr\": %.6g, "
		    "\"grad_norm\": %.6g, \"skipped\": %s, \"tokens_per_s\": %.1f, "
		    "\"elapsed\": %.3f, \"eta\": %.1f", p->step, p->steps,
		    (double)p->loss, (double)p->lr, (double)p->grad_norm,
		    p->skipped ? "true" : "false", p->tokens_per_s, p->elapsed, p->eta);
		if (dist_size() > 1)
			printf(", \"processes\": %d, \"comm_s\": %.6f", dist_size(), p->comm_s);
		train_flow_json_end(p->has_val, p->val_loss, p->best_val_loss);
	}
	train_flow_report(s->f, p->step, p->loss,
	    (double)(p->step - s->f->bar.first) * s->B * s->T, p->has_val, p->val_loss,
	    p->best_val_loss, p->saved_best, "");
}

/* `seqmatch train`. */
int
cmd_train(int argc, char **argv)
{
	struct train_options o;
	const char *tok_from = NULL;
	const struct cmd_train_preset *preset = &cmd_train_presets[1];
	int layers = 0, heads = 0, channels = 0, context = 0, vocab = 0, seq_len = 0;
	int opt, sepv;
	struct options_optim optim;
	struct train_flow f;
	struct gpt_config cfg;
	struct train_run run;
	struct cmd_train_state st;
	long done;

	train_options_defaults(&o);
	optim = (struct options_optim){ &o.optim, &o.steps, &o.eval_every, &o.save_every,
	    &o.eval_batches, &o.seed };
	train_flow_init(&f);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", cmd_train_longopts, NULL)) != -1) {
		switch (opt) {
		case CMD_TRAIN_CORPUS: f.corpus_path = optarg; break;
		case CMD_TRAIN_OUT: f.out = optarg; break;
		case CMD_TRAIN_BEST: f.best = optarg; break;
		case CMD_TRAIN_TOKENIZER: tok_from = optarg; break;
		case CMD_TRAIN_RESUME: f.resume = 1; break;
		case CMD_TRAIN_JSON: f.json = 1; break;
		case CMD_TRAIN_PRESET:
			preset = NULL;
			for (size_t i = 0; i < CMD_TRAIN_NPRESETS; i++)
				if (strcmp(optarg, cmd_train_presets[i].name) == 0)
					preset = &cmd_train_presets[i];
			if (preset == NULL) {
				app_error("--preset: unknown preset '%s' (tiny, small, medium, "
				    "gpt2)", optarg);
				return APP_EXIT_USAGE;
			}
			break;
		case CMD_TRAIN_SEPARATOR:
			if (options_separator(optarg, &sepv) != 0)
				return APP_EXIT_USAGE;
			f.sep = (enum corpus_sep)sepv;
			break;
		case CMD_TRAIN_LAYERS:
			if (options_int("layers", optarg, 1, GPT_MAX_LAYERS, &layers) != 0)
				return APP_EXIT_USAGE;
			break;
		case CMD_TRAIN_HEADS:
			if (options_int("heads", optarg, 1, 1024, &heads) != 0)
				return APP_EXIT_USAGE;
			break;
		case CMD_TRAIN_CHANNELS:
			if (options_int("channels", optarg, 1, GPT_MAX_CHANNELS, &channels) != 0)
				return APP_EXIT_USAGE;
			break;
		case CMD_TRAIN_CONTEXT:
			if (options_int("context", optarg, 2, GPT_MAX_SEQ_LEN, &context) != 0)
				return APP_EXIT_USAGE;
			break;
		case CMD_TRAIN_VOCAB:
			if (options_int("vocab-size", optarg, 257, 1000000, &vocab) != 0)
				return APP_EXIT_USAGE;
			break;
		case CMD_TRAIN_SEQ_LEN:
			if (options_int("seq-len", optarg, 1, GPT_MAX_SEQ_LEN, &seq_len) != 0)
				return APP_EXIT_USAGE;
			break;
		case CMD_TRAIN_BATCH:
			if (options_int("batch-size", optarg, 1, 65536, &o.batch_size) != 0)
				return APP_EXIT_USAGE;
			break;
		case CMD_TRAIN_VAL_FRACTION:
			if (options_double("val-fraction", optarg, 0, 0.5, &f.val_fraction) != 0)
				return APP_EXIT_USAGE;
			break;
		case 'h':
		case CMD_TRAIN_HELP:
			cmd_train_usage(stdout);
			return APP_EXIT_OK;
		default:
			if (opt >= CMD_TRAIN_OPTIM && opt < CMD_TRAIN_OPTIM + OPTIONS_OPTIM_N) {
				if (options_optim_set(&optim, opt - CMD_TRAIN_OPTIM, optarg) != 0)
					return APP_EXIT_USAGE;
				break;
			}
			cmd_train_usage(stderr);
			return APP_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		app_error("train: unexpected argument '%s'", argv[optind]);
		return APP_EXIT_USAGE;
	}
	if (f.corpus_path == NULL || f.out == NULL) {
		app_error("train: --corpus FILE and --out MODEL are required "
		    "(see seqmatch train --help)");
		return APP_EXIT_USAGE;
	}

	if (train_flow_corpus(&f, o.seed) != 0)
		goto out;
	if (f.resume) {
		if (train_flow_resume(&f, o.steps, "corpus_hash") != 0)
			goto out;
		cfg = *gpt_config(f.model);
	} else {
		if (tok_from != NULL) {
			if (checkpoint_load_tokenizer(tok_from, &f.tok, &f.cause) != 0) {
				app_error("--tokenizer-from: %s", f.cause);
				goto out;
			}
		} else {
			const struct corpus *ct = f.ctrain;
			size_t total = 0, at = 0;
			uint8_t *all;
			for (size_t i = 0; i < ct->ndocs; i++)
				total += ct->lens[i] + 1;
			all = xmalloc(total + 1);
			for (size_t i = 0; i < ct->ndocs; i++) {
				memcpy(all + at, ct->docs[i], ct->lens[i]);
				at += ct->lens[i];
				all[at++] = '\n';
			}
			if (tokenizer_train(all, at, vocab ? vocab : preset->vocab, &f.tok,
			    &f.cause) != 0) {
				free(all);
				app_error("tokenizer: %s", f.cause);
				goto out;
			}
			free(all);
		}
		cfg.num_layers = layers ? layers : preset->layers;
		cfg.num_heads = heads ? heads : preset->heads;
		cfg.channels = channels ? channels : preset->channels;
		cfg.max_seq_len = context ? context : preset->context;
		cfg.vocab_size = tokenizer_vocab_size(f.tok);
		cfg.padded_vocab_size = (cfg.vocab_size + 1 + 63) / 64 * 64;
		f.model = gpt_new(&cfg, &f.cause);
		if (f.model == NULL) {
			app_error("model: %s", f.cause);
			f.status = APP_EXIT_USAGE;
			goto out;
		}
		gpt_init_random(f.model, o.seed);
		record_set(&f.rec, "corpus", "%s", f.corpus_path);
		record_set(&f.rec, "corpus_hash", "%016llx",
		    (unsigned long long)f.corpus->hash);
		record_set(&f.rec, "val_fraction", "%g", f.val_fraction);
		record_set(&f.rec, "separator", "%s", f.sep == CORPUS_SEP_BLANK ? "blank" :
		    "percent");
	}
	o.seq_len = seq_len ? seq_len : (cfg.max_seq_len < o.seq_len ? cfg.max_seq_len :
	    o.seq_len);
	if (o.seq_len > cfg.max_seq_len) {
		app_error("--seq-len %d exceeds the model's context %d", o.seq_len,
		    cfg.max_seq_len);
		f.status = APP_EXIT_USAGE;
		goto out;
	}
	if (train_flow_data(&f) != 0)
		goto out;
	if (!f.json && dist_rank() == 0)
		fprintf(stderr, "seqmatch: model L=%d C=%d NH=%d context=%d V=%d: %.2fM "
		    "parameters; %zu training tokens, %zu held out; B=%d T=%d, %d "
		    "threads (%s)%s\n", cfg.num_layers, cfg.channels, cfg.num_heads,
		    cfg.max_seq_len, cfg.vocab_size, (double)gpt_num_params(f.model) / 1e6,
		    f.dtrain.n, f.dval.n, o.batch_size, o.seq_len, pool_threads(),
		    cpu_blas_core(), train_flow_procs());

	st.f = &f;
	st.B = o.batch_size;
	st.T = o.seq_len;
	memset(&run, 0, sizeof run);
	run.model = f.model;
	run.tok = f.tok;
	run.train = &f.dtrain;
	run.val = &f.dval;
	run.opt = o;
	run.rec = &f.rec;
	run.out_path = f.out;
	run.best_path = f.best;
	run.start_step = f.start;
	run.stop = &app_interrupted;
	run.cb = cmd_train_progress;
	run.cb_arg = &st;
	train_flow_begin(&f, o.steps);
	done = train_run(&run, &f.cause);
	progress_finish(&f.bar);
	if (done < 0) {
		app_error("train: %s", f.cause);
		goto out;
	}
	train_flow_done(&f, done);
out:
	return train_flow_release(&f);
}
