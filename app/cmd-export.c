/*
 * cmd-export.c: `seqmatch export`: a seqmatch model file back into llm.c's
 * model and tokenizer files (engine/llmc.h).
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
#include "llmc.h"
#include "record.h"
#include "tokenizer.h"

/* The help text. */
static void
cmd_export_usage(FILE *f)
{
	fprintf(f, "Usage: seqmatch export --model M --llmc MODEL.bin --llmc-tokenizer TOKENIZER.bin\n"
	    "\n"
	    "Write model M as llm.c's model file (float32) and tokenizer file. A model\n"
	    "imported with `seqmatch import` is written back in the versions it came\n"
	    "in, byte for byte when it has not been changed. A fine-tuned model's\n"
	    "<bksp> row is the first padded row, which llm.c ignores, so the files\n"
	    "still load in llm.c.\n"
	    "\n"
	    "Options:\n"
	    "  -m, --model M               the seqmatch model file\n"
	    "  --llmc MODEL.bin            llm.c's model file to write\n"
	    "  --llmc-tokenizer FILE       llm.c's tokenizer file to write\n"
	    "  -h, --help                  show this help\n"
	    "\n"
	    "Exit status: 0 success, 1 unreadable or bad file, 2 bad command line.\n");
}

/* seqmatch export. */
int
cmd_export(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "llmc", required_argument, NULL, 'l' },
		{ "llmc-tokenizer", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *model = NULL, *out = NULL, *tokout = NULL;
	struct gpt_model *m = NULL;
	struct tokenizer *tok = NULL;
	struct record rec;
	char *cause = NULL;
	int c, rc = APP_EXIT_ERROR;

	while ((c = getopt_long(argc, argv, "m:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			model = optarg;
			break;
		case 'l':
			out = optarg;
			break;
		case 't':
			tokout = optarg;
			break;
		case 'h':
			cmd_export_usage(stdout);
			return APP_EXIT_OK;
		default:
			fprintf(stderr, "Try 'seqmatch export --help'.\n");
			return APP_EXIT_USAGE;
		}
	}
	if (model == NULL || out == NULL || tokout == NULL || optind < argc) {
		app_error("export: %s", optind < argc ? "unexpected argument" :
		    "--model, --llmc and --llmc-tokenizer are required");
		fprintf(stderr, "Try 'seqmatch export --help'.\n");
		return APP_EXIT_USAGE;
	}
	record_init(&rec);
	if (checkpoint_load(model, &m, &tok, &rec, &cause) != 0) {
		if (cause != NULL && strstr(cause, model) != NULL)
			app_error("%s", cause);
		else
			app_error("%s: %s", model, cause != NULL ? cause :
			    "cannot load the model");
		goto done;
	}
	if (tokenizer_kind(tok) != TOKENIZER_KIND_GPT2)
		app_warn("%s: its tokenizer cuts text by seqmatch's own rule, not "
		    "GPT-2's; llm.c decodes its tokens fine, but `seqmatch import` "
		    "of these files would tokenize with GPT-2's rule", model);
	if (llmc_export(out, tokout, m, tok, &rec, &cause) != 0) {
		app_error("%s", cause != NULL ? cause : "export failed");
		goto done;
	}
	rc = APP_EXIT_OK;
done:
	free(cause);
	record_release(&rec);
	gpt_free(m);
	tokenizer_free(tok);
	return rc;
}
