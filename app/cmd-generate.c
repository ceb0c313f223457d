/* cmd-generate.c: `seqmatch generate`: text from a prompt, streamed, or as JSON events. */
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
#include "cpu.h"
#include "generate.h"
#include "gpt.h"
#include "json.h"
#include "options.h"
#include "record.h"
#include "qweights.h"
#include "sampler.h"
#include "tokenizer.h"
#include "weights.h"

enum {
	CMD_GENERATE_MODEL = 0x100, CMD_GENERATE_PROMPT, CMD_GENERATE_JSON,
	CMD_GENERATE_TOP, CMD_GENERATE_WEIGHTS, CMD_GENERATE_HELP, CMD_GENERATE_LOAD,
	CMD_GENERATE_VERBOSE
};

static const struct option cmd_generate_own[] = {
	{ "model", required_argument, NULL, CMD_GENERATE_MODEL },
	{ "prompt", required_argument, NULL, CMD_GENERATE_PROMPT },
	{ "json", no_argument, NULL, CMD_GENERATE_JSON },
	{ "top", required_argument, NULL, CMD_GENERATE_TOP },
	{ "weights", required_argument, NULL, CMD_GENERATE_WEIGHTS },
	{ "load", required_argument, NULL, CMD_GENERATE_LOAD },
	{ "verbose", no_argument, NULL, CMD_GENERATE_VERBOSE },
	{ "help", no_argument, NULL, CMD_GENERATE_HELP },
	{ NULL, 0, NULL, 0 }
};

/* Print usage, with the decoding table. */
static void
cmd_generate_usage(FILE *f)
{
	fprintf(f,
"usage: seqmatch generate [--model MODEL] [--prompt TEXT] [--weights FORMAT]\n"
"                         [decoding options] [--json] [--load map|lazy|copy] [-v]\n"
"\n"
"Generate text from a prompt (TEXT, or standard input when --prompt is not\n"
"given and stdin is not a terminal). The text goes to stdout; the seed used,\n"
"which replays the run exactly, and the speeds go to stderr. --json prints\n"
"one event per line instead: start (parameters, seed), append (id, text,\n"
"probability), stop (reason, counts, prefill and generate tokens/s); --top N\n"
"adds the step's N most likely actions under the model (N <= 8) and the\n"
"entropy to each append and erase event.\n"
"MODEL defaults to $SEQMATCH_MODEL, then the installed default model.\n"
"--weights fp32|bf16|q8 decodes with the matrices converted at load time to\n"
"bf16 or to 8-bit groups (a scale per 32 weights); default: the format a\n"
"`seqmatch quantize` file stores, else config.yaml's weights:, else fp32.\n"
"A stored bf16 or q8 file decodes with its own matrices; --weights fp32\n"
"dequantizes them; the other format is refused.\n"
"--load: map (default) uses a version 3 file's weights, and a `seqmatch\n"
"quantize` file's stored matrices, in place from a read-only mapping, every\n"
"CRC checked at load; lazy maps without reading the weights first (their CRC\n"
"and finiteness are then not checked; a quantize file is always checked\n"
"whole); copy reads the whole file and copies the weights (files before\n"
"version 3 always are).\n"
"-v, --verbose prints the model's memory (mapped and private bytes) and the\n"
"weight format after loading and the process's peak resident memory at the\n"
"end, on stderr.\n"
"\n"
"Decoding (applied in this order: repeat penalty, top-k, typical-p, top-p,\n"
"min-p, temperature):\n");
	options_sampler_help(f);
}

struct cmd_generate_state {
	const struct tokenizer *tok;
	int json;
	int top;        /* alternatives per event in --json (0: none) */
	int tty;        /* stdout is a terminal: erase in place */
	int buffered;   /* not a terminal and backspacing on: print the final text */
	uint64_t seed;
	char *text;     /* the effective continuation (buffered mode) */
	size_t len, cap;
	size_t *ends;   /* text length after each appended token */
	int nends;
};

/* Count UTF-8 code points (terminal columns, roughly) of a piece. */
static int
cmd_generate_columns(const uint8_t *p, size_t len)
{
	int n = 0;

	for (size_t i = 0; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			n++;
	return n;
}

/* Event callback: stream text (erasing in place on a terminal) or JSON. */
static int
cmd_generate_event(const struct generate_event *ev, void *arg)
{
	struct cmd_generate_state *s = arg;
	const uint8_t *piece;
	size_t len;

	if (ev->type == GENERATE_EVENT_APPEND || ev->type == GENERATE_EVENT_ERASE) {
		int erase = ev->type == GENERATE_EVENT_ERASE;
		piece = tokenizer_piece(s->tok, ev->token, &len);
		if (s->json) {
			printf("{\"event\": \"%s\", \"id\": %d, \"text\": ",
			    erase ? "erase" : "append", ev->token);
			json_string(stdout, piece, len);
			printf(", \"slot\": %d, \"prob\": ", ev->slot);
			json_number(stdout, ev->prob);
			printf(", \"model_prob\": ");
			json_number(stdout, ev->model_prob);
			printf(", \"p_bksp\": ");
			json_number(stdout, ev->p_bksp);
			if (s->top > 0) {
				printf(", \"entropy\": ");
				json_number(stdout, ev->entropy);
				printf(", \"top\": [");
				for (int i = 0; i < ev->n_top && i < s->top; i++) {
					size_t tl;
					const uint8_t *tp = tokenizer_piece(s->tok,
					    ev->top[i].id, &tl);
					printf("%s{\"id\": %d, \"text\": ", i ? ", " : "",
					    ev->top[i].id);
					json_string(stdout, tp, tl);
					printf(", \"prob\": ");
					json_number(stdout, ev->top[i].prob);
					printf("}");
				}
				printf("]");
			}
			printf(", \"t\": %.6f}\n", ev->seconds);
		} else if (s->buffered) {
			if (erase) {
				s->nends--;
				s->len = s->nends > 0 ? s->ends[s->nends - 1] : 0;
			} else {
				if (s->len + len + 1 > s->cap) {
					s->cap = (s->len + len + 1) * 2;
					s->text = xrealloc(s->text, s->cap);
				}
				memcpy(s->text + s->len, piece, len);
				s->len += len;
				s->ends = xrealloc(s->ends, (size_t)(s->nends + 1) *
				    sizeof *s->ends);
				s->ends[s->nends++] = s->len;
			}
		} else if (erase) {
			/* On a terminal: back over the piece's columns. */
			int cols = cmd_generate_columns(piece, len);
			for (int i = 0; i < cols; i++)
				fputs("\b \b", stdout);
		} else
			fwrite(piece, 1, len, stdout);
		fflush(stdout);
	} else if (ev->type == GENERATE_EVENT_STOP) {
		double gen_rate = ev->generate_seconds > 0 ?
		    ev->n_generated / ev->generate_seconds : 0;
		if (s->json) {
			printf("{\"event\": \"stop\", \"reason\": \"%s\", \"tokens\": %d, "
			    "\"erased\": %d, \"length\": %d, \"seed\": %llu, "
			    "\"prefill_seconds\": %.6f, \"generate_tokens_per_s\": %.2f}\n",
			    generate_stop_name(ev->reason), ev->n_generated, ev->n_erased,
			    ev->length, (unsigned long long)s->seed, ev->prefill_seconds,
			    gen_rate);
		} else {
			if (s->buffered)
				fwrite(s->text, 1, s->len, stdout);
			printf("\n");
			/* The text before the status line when both go to one file or pipe. */
			fflush(stdout);
			fprintf(stderr, "seqmatch: stop: %s; %d tokens appended, %d erased; "
			    "generate %.1f tokens/s; prefill %.3f s; seed %llu\n",
			    generate_stop_name(ev->reason), ev->n_generated, ev->n_erased,
			    gen_rate, ev->prefill_seconds, (unsigned long long)s->seed);
		}
		fflush(stdout);
	}
	return app_interrupted ? 1 : 0;
}

/* Read all of stdin into a string. */
static char *
cmd_generate_read_stdin(size_t *len)
{
	size_t cap = 4096, n = 0, got;
	char *buf = xmalloc(cap);

	while ((got = fread(buf + n, 1, cap - n - 1, stdin)) > 0) {
		n += got;
		if (n + 1 >= cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Print the start event with every parameter. */
static void
cmd_generate_start_json(const struct sampler_params *p, const char *model,
    uint64_t seed, int n_prompt, enum quant_format weights)
{
	printf("{\"event\": \"start\", \"model\": ");
	json_string(stdout, model, strlen(model));
	printf(", \"seed\": %llu, \"prompt_tokens\": %d, \"openblas_core\": \"%s\", "
	    "\"weights\": \"%s\", \"weights_kernel\": \"%s\", \"params\": {",
	    (unsigned long long)seed, n_prompt, cpu_blas_core(), quant_format_name(weights),
	    quant_kernel_name(weights));
	for (size_t i = 0; i < sampler_table_len; i++) {
		const struct sampler_param *row = &sampler_table[i];
		const char *field = (const char *)p + row->offset;

		printf("%s\"%s\": ", i ? ", " : "", row->name);
		if (row->type == SAMPLER_DOUBLE)
			json_number(stdout, sampler_get(p, row));
		else if (row->type == SAMPLER_INT64) /* a double would round a big seed */
			json_int(stdout, *(const int64_t *)(const void *)field);
		else
			json_int(stdout, *(const int *)(const void *)field);
	}
	printf("}}\n");
}

/* `seqmatch generate`. */
int
cmd_generate(int argc, char **argv)
{
	struct sampler_params params;
	struct option *longopts;
	const char *model_path = NULL, *prompt = NULL;
	char *prompt_buf = NULL, *cause = NULL;
	size_t prompt_len = 0, n_ids;
	int *ids = NULL, json = 0, top = 0, weights = -1, opt;
	int status = APP_EXIT_ERROR, load_flags = 0, verbose = 0;
	struct gpt_model *model = NULL;
	struct qweights *qw = NULL;
	struct tokenizer *tok = NULL;
	struct cmd_generate_state st;
	struct record rec;
	uint64_t seed;
	char how[160];

	sampler_defaults(&params);
	record_init(&rec);
	memset(&st, 0, sizeof st);
	longopts = options_sampler_longopts(cmd_generate_own);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "hm:p:v", longopts, NULL)) != -1) {
		const struct sampler_param *row = options_sampler_row(opt);
		if (row != NULL) {
			if (options_sampler_set(&params, row, optarg) != 0) {
				free(longopts);
				return APP_EXIT_USAGE;
			}
			continue;
		}
		switch (opt) {
		case 'm':
		case CMD_GENERATE_MODEL:
			model_path = optarg;
			break;
		case 'p':
		case CMD_GENERATE_PROMPT:
			prompt = optarg;
			break;
		case CMD_GENERATE_JSON:
			json = 1;
			break;
		case CMD_GENERATE_TOP:
			if (options_int("top", optarg, 0, GENERATE_TOP, &top) != 0) {
				free(longopts);
				return APP_EXIT_USAGE;
			}
			break;
		case CMD_GENERATE_WEIGHTS:
			if (options_weights("weights", optarg, &weights) != 0) {
				free(longopts);
				return APP_EXIT_USAGE;
			}
			break;
		case CMD_GENERATE_LOAD:
			if (app_load_flags(optarg, &load_flags) != 0) {
				free(longopts);
				return APP_EXIT_USAGE;
			}
			break;
		case 'v':
		case CMD_GENERATE_VERBOSE:
			verbose = 1;
			break;
		case 'h':
		case CMD_GENERATE_HELP:
			cmd_generate_usage(stdout);
			free(longopts);
			return APP_EXIT_OK;
		default:
			cmd_generate_usage(stderr);
			free(longopts);
			return APP_EXIT_USAGE;
		}
	}
	free(longopts);
	if (optind < argc) {
		app_error("generate: unexpected argument '%s' (use --prompt TEXT)",
		    argv[optind]);
		return APP_EXIT_USAGE;
	}
	if (model_path == NULL && (model_path = app_default_model()) == NULL) {
		app_error("generate: no model given and none found; train one with "
		    "'seqmatch train --corpus FILE --out MODEL' and pass --model MODEL");
		return APP_EXIT_USAGE;
	}
	if (prompt != NULL)
		prompt_len = strlen(prompt);
	else if (!isatty(STDIN_FILENO)) {
		prompt = prompt_buf = cmd_generate_read_stdin(&prompt_len);
	}
	if (app_load_generator(model_path, load_flags, weights,
	    weights < 0 ? app_conf_weights() : -1, 0, &model, &tok, &rec, &qw, NULL, how,
	    sizeof how, &cause) != 0) {
		app_error("%s", cause);
		goto out;
	}
	weights = (int)qweights_format(qw);
	if (verbose) {
		char mem[96];

		app_model_memory(model, mem, sizeof mem);
		fprintf(stderr, "seqmatch: model %s: %s; weights %s\n", model_path, mem, how);
	}

	if (prompt == NULL || prompt_len == 0) {
		/* An empty prompt starts a new document. */
		ids = xmalloc(sizeof *ids);
		ids[0] = tokenizer_eot(tok);
		n_ids = 1;
	} else if (tokenizer_encode(tok, (const uint8_t *)prompt, prompt_len, &ids, &n_ids,
	    &cause) != 0) {
		app_error("prompt: %s", cause);
		goto out;
	}
	if (n_ids >= (size_t)gpt_config(model)->max_seq_len) {
		app_error("prompt: %zu tokens do not fit the model's context of %d",
		    n_ids, gpt_config(model)->max_seq_len);
		status = APP_EXIT_USAGE;
		goto out;
	}
	st.tok = tok;
	st.json = json;
	st.top = top;
	st.tty = isatty(STDOUT_FILENO);
	st.buffered = !st.tty && gpt_has_bksp(model) && params.backspace_bias != -INFINITY;
	/* Pick the seed here so that the start event can report it. */
	seed = generate_pick_seed(params.seed);
	params.seed = (int64_t)seed;
	st.seed = seed;
	if (json)
		cmd_generate_start_json(&params, model_path, seed, (int)n_ids,
		    (enum quant_format)weights);
	else {
		if (prompt != NULL)
			fwrite(prompt, 1, prompt_len, stdout);
		fprintf(stderr, "seqmatch: seed %llu\n", (unsigned long long)seed);
	}
	app_catch_signals();
	if (generate_run_weights(model, qw, tok, &params, ids, (int)n_ids,
	    cmd_generate_event, NULL, &st, NULL, &cause) != 0) {
		app_error("generate: %s", cause);
		goto out;
	}
	status = app_interrupted ? APP_EXIT_INTERRUPTED : APP_EXIT_OK;
	if (verbose) {
		char mem[96];

		app_model_memory(model, mem, sizeof mem);
		fprintf(stderr, "seqmatch: model %s: %s; peak resident %.1f MiB\n", model_path,
		    mem, app_peak_rss() / 1048576.0);
	}
out:
	free(st.text);
	free(st.ends);
	record_release(&rec);
	free(cause);
	free(ids);
	free(prompt_buf);
	tokenizer_free(tok);
	qweights_free(qw);
	gpt_free(model);
	return status;
}
