/*
 * cmd-import.c: `seqmatch import`: llm.c's model and tokenizer files
 * (gpt2_124M.bin, gpt2_tokenizer.bin) into a seqmatch model file, with
 * GPT-2's exact tokenizer (engine/llmc.h).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "checkpoint.h"
#include "cmd.h"
#include "gpt.h"
#include "llmc.h"
#include "record.h"
#include "tokenizer.h"

/* The help text. */
static void
cmd_import_usage(FILE *f)
{
	fprintf(f, "Usage: seqmatch import --llmc MODEL.bin --llmc-tokenizer TOKENIZER.bin --out M\n"
	    "\n"
	    "Read llm.c's model file (float32, version 3 or 1) and tokenizer file\n"
	    "(version 2 or 1) and write them as one seqmatch model file M. The model\n"
	    "then tokenizes text exactly as GPT-2 does (GPT-2's pre-tokenizer, merges\n"
	    "recovered from the vocabulary order). <bksp> is the first padded row of\n"
	    "the vocabulary (50257 for GPT-2), untrained until a fine-tune adds it;\n"
	    "`seqmatch export` writes the same two files back.\n"
	    "\n"
	    "Options:\n"
	    "  --llmc MODEL.bin            llm.c's model file (e.g. gpt2_124M.bin)\n"
	    "  --llmc-tokenizer FILE       llm.c's tokenizer file (gpt2_tokenizer.bin)\n"
	    "  -o, --out M                 the seqmatch model file to write\n"
	    "  -h, --help                  show this help\n"
	    "\n"
	    "Exit status: 0 success, 1 unreadable or bad file, 2 bad command line.\n");
}

/* seqmatch import. */
int
cmd_import(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "llmc", required_argument, NULL, 'l' },
		{ "llmc-tokenizer", required_argument, NULL, 't' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *model = NULL, *tokpath = NULL, *out = NULL;
	struct gpt_model *m = NULL;
	struct tokenizer *tok = NULL;
	struct record rec;
	const struct gpt_config *cfg;
	char *cause = NULL;
	int c, rc = APP_EXIT_ERROR;

	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			model = optarg;
			break;
		case 't':
			tokpath = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			cmd_import_usage(stdout);
			return APP_EXIT_OK;
		default:
			fprintf(stderr, "Try 'seqmatch import --help'.\n");
			return APP_EXIT_USAGE;
		}
	}
	if (model == NULL || tokpath == NULL || out == NULL || optind < argc) {
		app_error("import: %s", optind < argc ? "unexpected argument" :
		    "--llmc, --llmc-tokenizer and --out are required");
		fprintf(stderr, "Try 'seqmatch import --help'.\n");
		return APP_EXIT_USAGE;
	}
	record_init(&rec);
	if (llmc_import(model, tokpath, &m, &tok, &rec, &cause) != 0) {
		app_error("%s", cause != NULL ? cause : "import failed");
		goto done;
	}
	if (checkpoint_save(out, m, tok, &rec, &cause) != 0) {
		app_error("%s", cause != NULL ? cause : "cannot write the model");
		goto done;
	}
	cfg = gpt_config(m);
	fprintf(stderr, "seqmatch: wrote %s: %zu parameters (%d layers, %d heads, "
	    "%d channels, context %d), vocabulary %d, <bksp> id %d\n", out,
	    gpt_num_params(m), cfg->num_layers, cfg->num_heads, cfg->channels,
	    cfg->max_seq_len, cfg->vocab_size, tokenizer_bksp(tok));
	rc = APP_EXIT_OK;
done:
	free(cause);
	record_release(&rec);
	gpt_free(m);
	tokenizer_free(tok);
	return rc;
}
