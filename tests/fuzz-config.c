/*
 * fuzz-config.c: a fuzz target for the config loader (conf_parse, which
 * conf_load runs on the file's bytes) and, on the same input, the session
 * transcript parser (transcript_parse).
 *
 * LLVMFuzzerTestOneInput checks the loaders' promises: a result or a message,
 * never both, never neither; a message starts with "fuzz.yaml:LINE:COL: "
 * (or "fuzz.jsonl:LINE:COL: "); a failed config parse leaves the config as it
 * was; a loaded config holds only allowed values; a parsed transcript
 * written out and parsed again writes the same bytes. Built with libFuzzer:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DFUZZ_CONFIG_NO_MAIN \
 *       -I. -Iapp -Iengine tests/fuzz-config.c app/log.c app/xmalloc.c app/conf.c \
 *       app/transcript.c app/yml.c app/json.c app/paths.c engine/libseqmatch.a -lyaml -lopenblas -lm -lpthread -o fuzz-config
 *   ./fuzz-config -max_len=4096 CORPUS_DIR
 * Without libFuzzer (make check) main() is a smoke test: seed configs and
 * transcripts, then 3000 deterministic random and mutated inputs, a few of
 * them through conf_load from a temp file ([SEED] [FILES...] replays other
 * inputs). Run it under ASan to catch leaks too.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "conf.h"
#include "grid.h"
#include "transcript.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long fuzz_config_loaded, fuzz_config_parsed; /* inputs accepted by each parser */

/* Abort with a reason (the fuzzer keeps the input). */
static void
fuzz_config_fail(const char *what, const char *cause)
{
	fprintf(stderr, "fuzz-config: %s%s%s\n", what, cause != NULL ? ": " : "",
	    cause != NULL ? cause : "");
	abort();
}

/* Whether cause is "name:LINE:COL: something" with LINE, COL >= 1. */
static int
fuzz_config_positioned(const char *cause, const char *name)
{
	size_t n = strlen(name);
	const char *p;
	char *end;
	long line, col;

	if (strncmp(cause, name, n) != 0 || cause[n] != ':')
		return 0;
	p = cause + n + 1;
	line = strtol(p, &end, 10);
	if (end == p || *end != ':' || line < 1)
		return 0;
	p = end + 1;
	col = strtol(p, &end, 10);
	return end != p && col >= 1 && end[0] == ':' && end[1] == ' ' && end[2] != '\0';
}

/* Check a loaded config holds only what the loader allows. */
static void
fuzz_config_check_values(const struct conf *c)
{
	static const char *depths[] = { "auto", "none", "16", "256", "direct" };
	int ok = 0;

	if (c->colors != NULL) {
		for (size_t i = 0; i < 5; i++)
			ok |= strcmp(c->colors, depths[i]) == 0;
		if (!ok)
			fuzz_config_fail("colors holds a value the loader should refuse",
			    c->colors);
	}
	if (c->mouse < -1 || c->mouse > 1 || c->plot < -1 || c->plot > GRID_PLOT_ASCII)
		fuzz_config_fail("mouse or plot out of range", NULL);
	for (size_t i = 0; i < sampler_table_len; i++) {
		double v = sampler_get(&c->params, &sampler_table[i]);

		if (isnan(v) || v < sampler_table[i].min || v > sampler_table[i].max)
			fuzz_config_fail("a decoding value out of its range",
			    sampler_table[i].name);
	}
}

/* The config parser's promises on one input. */
static void
fuzz_config_one(const uint8_t *data, size_t size)
{
	struct conf c;
	char *cause = NULL;
	int rc;

	conf_init(&c);
	c.params.top_k = 3;
	c.theme = xstrdup("before");
	rc = conf_parse(&c, (const char *)data, size, "fuzz.yaml", &cause);
	if (rc == 0) {
		if (cause != NULL)
			fuzz_config_fail("a config loaded with a message", cause);
		fuzz_config_check_values(&c);
		fuzz_config_loaded++;
	} else {
		if (rc != -1 || cause == NULL)
			fuzz_config_fail("a config refused without a message", NULL);
		if (!fuzz_config_positioned(cause, "fuzz.yaml"))
			fuzz_config_fail("a message without FILE:LINE:COL", cause);
		if (c.params.top_k != 3 || c.theme == NULL || strcmp(c.theme, "before") != 0 ||
		    c.colors != NULL || c.mouse != -1 || c.plot != -1 || c.n_decoding != 0)
			fuzz_config_fail("a refused config changed the previous one", cause);
	}
	free(cause);
	conf_release(&c);
}

/* Write s into a malloc'd buffer. */
static char *
fuzz_config_write(const struct transcript *s, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (f == NULL)
		app_fatal("out of memory");
	transcript_write(f, s);
	fclose(f);
	return buf;
}

/* The transcript parser's promises on one input. */
static void
fuzz_config_transcript(const uint8_t *data, size_t size)
{
	struct transcript s, s2;
	char *cause = NULL, *a, *b;
	size_t alen, blen;
	int rc;

	rc = transcript_parse(&s, (const char *)data, size, "fuzz.jsonl", &cause);
	if (rc != 0) {
		if (rc != -1 || cause == NULL)
			fuzz_config_fail("a transcript refused without a message", NULL);
		if (!fuzz_config_positioned(cause, "fuzz.jsonl"))
			fuzz_config_fail("a transcript message without FILE:LINE:COL", cause);
		free(cause);
		return;
	}
	if (cause != NULL)
		fuzz_config_fail("a transcript parsed with a message", cause);
	fuzz_config_parsed++;
	a = fuzz_config_write(&s, &alen);
	if (transcript_parse(&s2, a, alen, "fuzz.jsonl", &cause) != 0)
		fuzz_config_fail("a written transcript does not parse again", cause);
	b = fuzz_config_write(&s2, &blen);
	if (alen != blen || memcmp(a, b, alen) != 0)
		fuzz_config_fail("writing a parsed transcript twice differs", NULL);
	free(a);
	free(b);
	transcript_free(&s);
	transcript_free(&s2);
}

/* Load one input with both parsers; abort if either breaks its contract. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_config_one(data, size);
	fuzz_config_transcript(data, size);
	return 0;
}

#ifndef FUZZ_CONFIG_NO_MAIN

#include "tap.h" /* the smoke test's alarm (not under libFuzzer) */

#define FUZZ_CONFIG_RUNS 3000
#define FUZZ_CONFIG_FILE_EVERY 100 /* every 100th input also through a temp file */

static uint64_t fuzz_config_state = 0x9e3779b97f4a7c15u;

/* xorshift64*: deterministic, so a failure can be replayed by seed. */
static uint64_t
fuzz_config_rand(void)
{
	fuzz_config_state ^= fuzz_config_state >> 12;
	fuzz_config_state ^= fuzz_config_state << 25;
	fuzz_config_state ^= fuzz_config_state >> 27;
	return fuzz_config_state * 0x2545f4914f6cdd1du;
}

/* A random number below n (n > 0). */
static size_t
fuzz_config_below(size_t n)
{
	return (size_t)(fuzz_config_rand() % n);
}

/* Seed inputs: configs and transcripts that reach the loaders' corners. */
static const char *const fuzz_config_seeds[] = {
	"theme: light\ncolors: 256\nmouse: false\nplot: block\ndecoding:\n  temperature: 0.5\n"
	"  top-k: 7\n  backspace_bias: -inf\n",
	"colours: direct\nplot: braille\n",
	"decoding: {top_p: 0.9, min_p: 0, seed: 42, repeat_last_n: -1}\n",
	"mouse: on\ntheme: ./my theme.yaml\n",
	"{\"type\": \"header\", \"format\": 2, \"version\": \"0.1\", \"model\": \"m.bin\", "
	"\"model_hash\": \"00000000deadbeef\", \"weights_version\": 0, \"time\": "
	"\"2026-01-01T00:00:00+0000\", \"prompt\": \"Hi\", \"n_prompt\": 1, "
	"\"tokenizer_hash\": \"0123456789abcdef\", \"params\": {\"temperature\": 0.8, "
	"\"top_k\": 40, \"top_p\": 0.95, \"min_p\": 0.05, \"typical_p\": 1, "
	"\"repeat_penalty\": 1, \"repeat_last_n\": 64, \"max_tokens\": 10, \"seed\": -1, "
	"\"backspace_bias\": null, \"max_consecutive_backspaces\": -1, "
	"\"max_total_backspaces\": -1, \"forbid_retype\": 0}, \"seed\": 7}\n"
	"{\"type\": \"append\", \"id\": 5, \"text\": \" a\", \"slot\": 1, \"prob\": 0.5, "
	"\"model_prob\": 0.25, \"seconds\": 0.01, \"entropy\": 1.5, \"p_bksp\": 0.125, "
	"\"top\": [{\"id\": 5, \"prob\": 0.25}, {\"id\": 9, \"prob\": 0.125}]}\n"
	"{\"type\": \"erase\", \"id\": 5, \"text\": \" a\", \"slot\": 1, \"prob\": 0.5}\n"
	"{\"type\": \"append\", \"id\": 6, \"text\": \"\\u00e9\\n\", \"slot\": 1, \"prob\": 1}\n"
	"{\"type\": \"stop\", \"reason\": \"eot\", \"generated\": 2, \"erased\": 1, "
	"\"seconds\": 0.5, \"prefill_seconds\": 0.1, \"elapsed\": 0.6}\n",
};
#define FUZZ_CONFIG_NSEEDS (sizeof fuzz_config_seeds / sizeof fuzz_config_seeds[0])

/* Pieces glued in and inserted. */
static const char *const fuzz_config_snippets[] = {
	"theme: ", "colors: ", "mouse: ", "plot: ", "decoding:\n", "  temperature: ",
	"  top_k: ", "  seed: ", "block", "ascii", "braille", "none", "256", "-inf", "inf",
	"nan", "1e309", "-1", "0x10", "true", "&a ", "*a", "[", "]", "{", "}", ": ", "- ",
	"\n  ", "'", "\"", "#", "!!str ", "---\n", "...\n", "\xff", "\t", "? ", "|\n  x\n",
	"~", "null", "<<: *a\n", "\n", "{\"type\": \"append\", ", "\"slot\": ", "\"id\": ",
	"\"top\": [", "{\"id\": 1, \"prob\": 0.5}", "\"text\": \"\\u0000\"", ", ",
	"\"type\": \"stop\"", "\"format\": 1", "\"n_prompt\": 2",
};
#define FUZZ_CONFIG_NSNIPPETS (sizeof fuzz_config_snippets / sizeof fuzz_config_snippets[0])

/* Insert a snippet at at (n bytes in buf of cap); returns the new length. */
static size_t
fuzz_config_insert(uint8_t *buf, size_t n, size_t cap, size_t at)
{
	const char *s = fuzz_config_snippets[fuzz_config_below(FUZZ_CONFIG_NSNIPPETS)];
	size_t l = strlen(s);

	if (n + l > cap)
		return n;
	memmove(buf + at + l, buf + at, n - at);
	memcpy(buf + at, s, l);
	return n + l;
}

/* Make an input into buf (cap bytes); returns its length. */
static size_t
fuzz_config_make(uint8_t *buf, size_t cap)
{
	size_t n = 0, k;
	const char *seed;

	switch (fuzz_config_below(4)) {
	case 0: /* random bytes */
		n = fuzz_config_below(256);
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)fuzz_config_rand();
		return n;
	case 1: /* snippets glued together */
		for (k = 1 + fuzz_config_below(30); k > 0; k--)
			n = fuzz_config_insert(buf, n, cap, n);
		return n;
	default: /* a seed, mutated */
		seed = fuzz_config_seeds[fuzz_config_below(FUZZ_CONFIG_NSEEDS)];
		n = strlen(seed) < cap ? strlen(seed) : cap;
		memcpy(buf, seed, n);
		for (size_t m = 1 + fuzz_config_below(6); m > 0; m--) {
			size_t at = n ? fuzz_config_below(n) : 0;

			switch (fuzz_config_below(4)) {
			case 0: /* flip a bit */
				if (n)
					buf[at] ^= (uint8_t)(1u << fuzz_config_below(8));
				break;
			case 1: /* delete a run */
				if (n) {
					size_t l = 1 + fuzz_config_below(n - at < 16 ? n - at : 16);

					memmove(buf + at, buf + at + l, n - at - l);
					n -= l;
				}
				break;
			case 2: /* insert a snippet */
				n = fuzz_config_insert(buf, n, cap, at);
				break;
			default: /* replace a digit */
				if (n && buf[at] >= '0' && buf[at] <= '9')
					buf[at] = (uint8_t)('0' + fuzz_config_below(10));
				break;
			}
		}
		return n;
	}
}

/* Run one input through conf_load from a temp file too. */
static int
fuzz_config_file(const uint8_t *data, size_t size, const char *dir)
{
	struct conf c;
	char path[4096], *cause = NULL, *cause2 = NULL;
	struct conf c2;
	FILE *f;
	int rc, rc2;

	snprintf(path, sizeof path, "%s/fuzz.yaml", dir);
	if ((f = fopen(path, "wb")) == NULL)
		return -1;
	fwrite(data, 1, size, f);
	fclose(f);
	conf_init(&c);
	conf_init(&c2);
	rc = conf_load(&c, path, &cause);
	rc2 = conf_parse(&c2, (const char *)data, size, path, &cause2);
	/* The file and the bytes give the same answer. */
	if (rc != rc2 || (rc != 0 && (cause == NULL || cause2 == NULL ||
	    strcmp(cause, cause2) != 0)))
		fuzz_config_fail("conf_load and _parse disagree", cause);
	free(cause);
	free(cause2);
	conf_release(&c);
	conf_release(&c2);
	unlink(path);
	return 0;
}

/* Smoke test: the seeds, then random and mutated inputs. */
int
main(int argc, char **argv)
{
	static uint8_t buf[8192];
	char dir[] = "/tmp/fuzz-config.XXXXXX";
	int run, files = 0;

	if (argc > 1)
		fuzz_config_state = strtoull(argv[1], NULL, 0) | 1;
	for (int i = 2; i < argc; i++) { /* replay given files */
		FILE *f = fopen(argv[i], "rb");
		size_t n;

		if (f == NULL)
			continue;
		n = fread(buf, 1, sizeof buf, f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, n);
	}
	for (size_t i = 0; i < FUZZ_CONFIG_NSEEDS; i++)
		LLVMFuzzerTestOneInput((const uint8_t *)fuzz_config_seeds[i],
		    strlen(fuzz_config_seeds[i]));
	/* The seeds are 4 good configs and a good transcript: both paths are exercised. */
	printf("%s1 - %zu seeds: %ld configs and %ld transcripts accepted\n",
	    fuzz_config_loaded == 4 && fuzz_config_parsed == 1 ? "ok " : "not ok ",
	    FUZZ_CONFIG_NSEEDS, fuzz_config_loaded, fuzz_config_parsed);
	if (fuzz_config_loaded != 4 || fuzz_config_parsed != 1)
		return 1;
	if (mkdtemp(dir) == NULL) {
		printf("not ok 2 - a temp directory\n1..2\n");
		return 1;
	}
	for (run = 0; run < FUZZ_CONFIG_RUNS; run++) {
		size_t n = fuzz_config_make(buf, sizeof buf);

		LLVMFuzzerTestOneInput(buf, n);
		if (run % FUZZ_CONFIG_FILE_EVERY == 0 && fuzz_config_file(buf, n, dir) == 0)
			files++;
	}
	rmdir(dir);
	printf("ok 2 - %d random and mutated inputs keep the loaders' promises (%ld configs, "
	    "%ld transcripts accepted)\n", run, fuzz_config_loaded, fuzz_config_parsed);
	printf("%s3 - %d of them loaded from a file as from memory\n",
	    files == FUZZ_CONFIG_RUNS / FUZZ_CONFIG_FILE_EVERY ? "ok " : "not ok ", files);
	printf("1..3\n");
	return files == FUZZ_CONFIG_RUNS / FUZZ_CONFIG_FILE_EVERY ? 0 : 1;
}

#endif
