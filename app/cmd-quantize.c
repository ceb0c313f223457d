/*
 * cmd-quantize.c: `seqmatch quantize`: a model file with its matrices stored
 * in a generation format (bf16 or q8, engine/quant.h), so that generate,
 * eval and the UI load them without converting (model file version 4,
 * engine/checkpoint.h); and the way back, a stored file's weights
 * dequantized into an fp32 (version 3) file.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "checkpoint.h"
#include "cmd.h"
#include "gpt.h"
#include "options.h"
#include "qweights.h"
#include "record.h"
#include "tokenizer.h"

/* The help text. */
static void
cmd_quantize_usage(FILE *f)
{
	fprintf(f, "Usage: seqmatch quantize --model IN --out OUT --weights bf16|q8|fp32\n"
	    "\n"
	    "Write model IN to OUT with its block matrices and LM head stored in a weight\n"
	    "format: bf16 (2 bytes a weight) or q8 (8-bit integers, a float scale per\n"
	    "group of 32 weights). The format is recorded in OUT (model file version 4):\n"
	    "generate, eval and ui then use these matrices as they are, with no\n"
	    "conversion. Embeddings, biases and LayerNorms stay fp32. train, finetune\n"
	    "and export refuse such a file: they need fp32 weights.\n"
	    "--weights fp32 on a bf16 or q8 file writes its weights dequantized into an\n"
	    "ordinary fp32 file (not the original's weights: those were rounded).\n"
	    "A q8 file is not converted to bf16 or back (that would round twice):\n"
	    "quantize the fp32 original instead.\n"
	    "\n"
	    "Options:\n"
	    "  -m, --model IN              the model file to read\n"
	    "  -o, --out OUT               the model file to write (atomically)\n"
	    "  --weights FORMAT            bf16, q8, or fp32\n"
	    "  -h, --help                  show this help\n"
	    "\n"
	    "Exit status: 0 success, 1 unreadable or bad file, 2 bad command line.\n");
}

/* seqmatch quantize. */
int
cmd_quantize(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "out", required_argument, NULL, 'o' },
		{ "weights", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *model = NULL, *out = NULL;
	struct gpt_model *m = NULL;
	struct tokenizer *tok = NULL;
	struct qweights *stored = NULL, *qw = NULL;
	struct record rec;
	char *cause = NULL;
	int c, weights = -1, rc = APP_EXIT_ERROR;
	enum quant_format want, have;

	while ((c = getopt_long(argc, argv, "m:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			model = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'w':
			if (options_weights("weights", optarg, &weights) != 0)
				return APP_EXIT_USAGE;
			break;
		case 'h':
			cmd_quantize_usage(stdout);
			return APP_EXIT_OK;
		default:
			fprintf(stderr, "Try 'seqmatch quantize --help'.\n");
			return APP_EXIT_USAGE;
		}
	}
	if (model == NULL || out == NULL || weights < 0 || optind < argc) {
		app_error("quantize: %s", optind < argc ? "unexpected argument" :
		    "--model, --out and --weights are required");
		fprintf(stderr, "Try 'seqmatch quantize --help'.\n");
		return APP_EXIT_USAGE;
	}
	want = (enum quant_format)weights;
	record_init(&rec);
	if (checkpoint_open_weights(model, 0, &m, &tok, &rec, &stored,
	    &cause) != 0) {
		app_error("%s", cause != NULL ? cause : "cannot load the model");
		goto done;
	}
	have = stored != NULL ? qweights_format(stored) : QUANT_FP32;
	if (have == want) {
		app_error("quantize: %s already holds %s weights; nothing to do", model,
		    quant_format_name(have));
		rc = APP_EXIT_USAGE;
		goto done;
	}
	if (have != QUANT_FP32 && want != QUANT_FP32) {
		app_error("quantize: %s holds %s weights; converting them to %s would round "
		    "them twice: quantize the fp32 file it was made from (or write fp32 "
		    "with --weights fp32 first, knowingly)", model, quant_format_name(have),
		    quant_format_name(want));
		rc = APP_EXIT_USAGE;
		goto done;
	}
	if (want != QUANT_FP32 &&
	    (qw = qweights_new(m, want, &cause)) == NULL) {
		app_error("quantize: %s", cause);
		goto done;
	}
	if (have != QUANT_FP32)
		qweights_fill_fp32(stored, m); /* the fp32 file's matrices */
	if (checkpoint_save_weights(out, m, tok, &rec, qw, &cause) != 0) {
		app_error("%s", cause);
		goto done;
	}
	if (have != QUANT_FP32)
		fprintf(stderr, "seqmatch: wrote %s: fp32 weights dequantized from %s's %s "
		    "weights\n", out, model, quant_format_name(have));
	else
		fprintf(stderr, "seqmatch: wrote %s: matrices stored as %s\n", out,
		    quant_format_name(want));
	rc = APP_EXIT_OK;
done:
	free(cause);
	record_release(&rec);
	qweights_free(qw);
	qweights_free(stored);
	gpt_free(m);
	tokenizer_free(tok);
	return rc;
}
