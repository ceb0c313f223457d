/*
 * cmd-tokenize.c: `seqmatch tokenize`: the token ids and pieces a model's
 * tokenizer gives a text (from the arguments or standard input), as lines or
 * as JSON ({"ids": [...], "pieces": [...]}, what llama.cpp's tokenize prints).
 *
 * Pieces are bytes, not always whole UTF-8 characters (byte-level BPE can cut
 * a character in two). Plain output shows valid UTF-8 as is and escapes
 * everything else (\n, \t, \\, \', \xNN). JSON strings must be valid Unicode,
 * so a byte that is not part of a valid UTF-8 sequence is written as \u00XX
 * with XX the byte: readers that want the exact bytes map U+0080..U+00FF
 * written that way back to single bytes. This is only "lossless-ish": a
 * genuine U+0080..U+00FF character is written as UTF-8 (two bytes, unescaped)
 * and so stays distinguishable only by how it was written, not by its value
 * after a JSON parser has read it.
 */
#include "config.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "cmd.h"
#include "json.h"
#include "checkpoint.h"
#include "tokenizer.h"

#define CMD_TOKENIZE_MAX_INPUT (256u << 20) /* bytes read from stdin */

/* The help text. */
static void
cmd_tokenize_usage(FILE *f)
{
	fprintf(f, "Usage: seqmatch tokenize --model MODEL [--json] [TEXT...]\n"
	    "\n"
	    "Print the tokens of TEXT (the arguments joined by spaces), or of standard\n"
	    "input when no TEXT is given, under MODEL's tokenizer.\n"
	    "\n"
	    "Options:\n"
	    "  -m, --model MODEL  model file whose tokenizer to use (required)\n"
	    "  --json             print {\"ids\": [...], \"pieces\": [...]} on one line\n"
	    "  -h, --help         show this help\n"
	    "\n"
	    "Plain output is one line per token: ID, a tab, and the piece in single\n"
	    "quotes, with \\n, \\t, \\r, \\\\, \\' and \\xNN for bytes that are not\n"
	    "printable or not valid UTF-8.\n"
	    "\n"
	    "In JSON, pieces are strings; a piece can be part of a UTF-8 character, and\n"
	    "each byte that is not part of a valid UTF-8 sequence is written \\u00XX\n"
	    "(XX = the byte). To recover exact bytes, map such escapes back to bytes;\n"
	    "a real U+0080..U+00FF character is written unescaped as UTF-8.\n"
	    "\n"
	    "Exit status: 0 success, 1 unreadable or bad model or input, 2 bad command line.\n");
}

/* Print a piece for the plain output: quoted, escaped. */
static void
cmd_tokenize_plain_piece(const uint8_t *s, size_t n)
{
	putchar('\'');
	for (size_t i = 0; i < n;) {
		size_t len = json_utf8_len(s + i, n - i);
		uint8_t c = s[i];

		if (len > 1) {
			fwrite(s + i, 1, len, stdout);
			i += len;
			continue;
		}
		if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c == '\r')
			fputs("\\r", stdout);
		else if (c == '\\')
			fputs("\\\\", stdout);
		else if (c == '\'')
			fputs("\\'", stdout);
		else if (len == 0 || c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
		i++;
	}
	putchar('\'');
}


/* Read all of standard input (binary); -1 with a message on error. */
static int
cmd_tokenize_read_stdin(char **buf, size_t *len)
{
	char *data = NULL;
	size_t cap = 0, n = 0, got;

	for (;;) {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 65536;
			data = xrealloc(data, cap);
		}
		got = fread(data + n, 1, cap - n, stdin);
		n += got;
		if (n > CMD_TOKENIZE_MAX_INPUT) {
			app_error("standard input: more than %u bytes", CMD_TOKENIZE_MAX_INPUT);
			free(data);
			return -1;
		}
		if (got == 0)
			break;
	}
	if (ferror(stdin)) {
		app_error("standard input: read error");
		free(data);
		return -1;
	}
	*buf = data;
	*len = n;
	return 0;
}

/* Join the TEXT arguments with single spaces. */
static char *
cmd_tokenize_join(int argc, char **argv, size_t *len)
{
	size_t total = 0, off = 0;
	char *s;

	for (int i = 0; i < argc; i++)
		total += strlen(argv[i]) + 1;
	s = xmalloc(total + 1);
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]);

		if (i > 0)
			s[off++] = ' ';
		memcpy(s + off, argv[i], l);
		off += l;
	}
	s[off] = '\0';
	*len = off;
	return s;
}

/* Print the tokens, plain or JSON. */
static void
cmd_tokenize_print(const struct tokenizer *tok, const int *ids, size_t n, int json)
{
	const uint8_t *piece;
	size_t plen;

	if (!json) {
		for (size_t i = 0; i < n; i++) {
			piece = tokenizer_piece(tok, ids[i], &plen);
			printf("%d\t", ids[i]);
			cmd_tokenize_plain_piece(piece != NULL ? piece : (const uint8_t *)"",
			    piece != NULL ? plen : 0);
			putchar('\n');
		}
		return;
	}
	fputs("{\"ids\": [", stdout);
	for (size_t i = 0; i < n; i++)
		printf("%s%d", i ? ", " : "", ids[i]);
	fputs("], \"pieces\": [", stdout);
	for (size_t i = 0; i < n; i++) {
		piece = tokenizer_piece(tok, ids[i], &plen);
		if (i > 0)
			fputs(", ", stdout);
		json_string(stdout, piece != NULL ? piece : (const uint8_t *)"",
		    piece != NULL ? plen : 0);
	}
	fputs("]}\n", stdout);
}

/* Print a loader message, adding the path when the message does not name it. */
static void
cmd_tokenize_load_error(const char *path, const char *cause)
{
	if (cause == NULL)
		app_error("%s: cannot load the model", path);
	else if (strstr(cause, path) != NULL)
		app_error("%s", cause);
	else
		app_error("%s: %s", path, cause);
}

/* seqmatch tokenize. */
int
cmd_tokenize(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *model = NULL;
	struct tokenizer *tok = NULL;
	char *text = NULL, *cause = NULL;
	int *ids = NULL, json = 0, c;
	size_t len, n = 0;

	while ((c = getopt_long(argc, argv, "m:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			model = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			cmd_tokenize_usage(stdout);
			return APP_EXIT_OK;
		default:
			fprintf(stderr, "Try 'seqmatch tokenize --help'.\n");
			return APP_EXIT_USAGE;
		}
	}
	if (model == NULL) {
		app_error("tokenize: --model MODEL is required");
		fprintf(stderr, "Try 'seqmatch tokenize --help'.\n");
		return APP_EXIT_USAGE;
	}

	/* Only the tokenizer is needed: the weights are not read. */
	if (checkpoint_load_tokenizer(model, &tok, &cause) != 0) {
		cmd_tokenize_load_error(model, cause);
		free(cause);
		return APP_EXIT_ERROR;
	}

	if (optind < argc)
		text = cmd_tokenize_join(argc - optind, argv + optind, &len);
	else if (cmd_tokenize_read_stdin(&text, &len) != 0) {
		tokenizer_free(tok);
		return APP_EXIT_ERROR;
	}

	if (tokenizer_encode(tok, (const uint8_t *)text, len, &ids, &n, &cause) != 0) {
		app_error("tokenize: %s", cause != NULL ? cause : "cannot encode the text");
		free(cause);
		free(text);
		tokenizer_free(tok);
		return APP_EXIT_ERROR;
	}
	cmd_tokenize_print(tok, ids, n, json);

	free(ids);
	free(text);
	tokenizer_free(tok);
	return APP_EXIT_OK;
}
