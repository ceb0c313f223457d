/*
 * fuzz-theme.c: a fuzz target for the theme loader.
 *
 * LLVMFuzzerTestOneInput loads a theme from memory and checks the loader's
 * promises (a result or a message, never both, never neither; messages carry
 * a position). Built with libFuzzer:
 *   clang -g -fsanitize=fuzzer,address,undefined -DFUZZ_THEME_NO_MAIN -I. -Iapp \
 *       tests/fuzz-theme.c app/theme.c -lyaml -o fuzz-theme
 *   ./fuzz-theme -dict=... themes/
 * Without libFuzzer (make check) main() is a smoke test: the shipped themes,
 * then 2000 deterministic random and mutated inputs ([SEED] [FILES...] to
 * replay other inputs). Run it under ASan to catch leaks too.
 */
#include "config.h"

#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "theme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Load one input; abort if the loader breaks its contract. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct theme t, out;
	char *cause = NULL;
	int rc;

	theme_init_default(&t);
	rc = theme_load_buffer(&t, data, size, "fuzz.yaml", NULL, &cause);
	if (rc == 0) {
		if (cause != NULL)
			abort();
		for (int d = THEME_DEPTH_NONE; d <= THEME_DEPTH_DIRECT; d++)
			theme_degrade(&t, (enum theme_depth)d, &out);
	} else {
		if (rc != -1 || cause == NULL || cause[0] == '\0')
			abort();
		/* "out of memory" is the one message without a file name. */
		if (strcmp(cause, "out of memory") != 0 && strstr(cause, "fuzz.yaml") == NULL &&
		    strchr(cause, ':') == NULL)
			abort();
		free(cause);
	}
	return 0;
}

#ifndef FUZZ_THEME_NO_MAIN

#include "tap.h" /* the smoke test's alarm (not under libFuzzer) */

#define FUZZ_THEME_RUNS 2000
#define FUZZ_THEME_MAX_SEEDS 64

static uint64_t fuzz_theme_state = 0x9e3779b97f4a7c15u;

/* xorshift64*: deterministic, so a failure can be replayed by seed. */
static uint64_t
fuzz_theme_rand(void)
{
	fuzz_theme_state ^= fuzz_theme_state >> 12;
	fuzz_theme_state ^= fuzz_theme_state << 25;
	fuzz_theme_state ^= fuzz_theme_state >> 27;
	return fuzz_theme_state * 0x2545f4914f6cdd1du;
}

/* A random number below n (n > 0). */
static size_t
fuzz_theme_below(size_t n)
{
	return (size_t)(fuzz_theme_rand() % n);
}

/* Read a whole file (NULL on failure). */
static uint8_t *
fuzz_theme_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		size_t r;

		if (n == cap) {
			uint8_t *p = realloc(buf, cap = cap ? cap * 2 : 4096);

			if (p == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = p;
		}
		r = fread(buf + n, 1, cap - n, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	*len = n;
	return buf;
}

/* Seeds: YAML pieces that reach the loader's corners. */
static const char *const fuzz_theme_snippets[] = {
	"name: x\n", "extends: default\n", "extends: ./x.yaml\n", "palette:\n  a: '#123'\n",
	"slots:\n  text: red on blue\n", "  dim: { fg: 1, bg: 2, attrs: [bold, dim] }\n",
	"&a ", "*a", "[", "]", "{", "}", ": ", "- ", "\n  ", "'", "\"", "#", "!!str ",
	"---\n", "...\n", "\xff", "\x00", "\t", "? ", "|\n  x\n", ">-\n  y\n", "~", "null",
	"300", "#12345", "on", "\xe2\x82\xac", "\\u0000", "<<: *a\n",
};
#define FUZZ_THEME_NSNIPPETS (sizeof fuzz_theme_snippets / sizeof fuzz_theme_snippets[0])

/* Make input number i into buf (cap bytes) from the seeds; returns its length. */
static size_t
fuzz_theme_make(uint8_t *buf, size_t cap, uint8_t **seeds, size_t *lens, size_t nseeds)
{
	size_t n = 0, k;

	switch (fuzz_theme_below(4)) {
	case 0: /* random bytes */
		n = fuzz_theme_below(512);
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)fuzz_theme_rand();
		return n;
	case 1: /* snippets glued together */
		k = 1 + fuzz_theme_below(40);
		for (size_t i = 0; i < k; i++) {
			const char *s = fuzz_theme_snippets[fuzz_theme_below(FUZZ_THEME_NSNIPPETS)];
			size_t l = s[0] == '\0' ? 1 : strlen(s);

			if (n + l > cap)
				break;
			memcpy(buf + n, s, l);
			n += l;
		}
		return n;
	default: /* a seed, mutated */
		if (nseeds == 0)
			return 0;
		k = fuzz_theme_below(nseeds);
		n = lens[k] < cap ? lens[k] : cap;
		memcpy(buf, seeds[k], n);
		for (size_t m = 1 + fuzz_theme_below(8); m > 0; m--) {
			size_t at = n ? fuzz_theme_below(n) : 0;

			switch (fuzz_theme_below(4)) {
			case 0: /* flip a byte */
				if (n)
					buf[at] ^= (uint8_t)(1u << fuzz_theme_below(8));
				break;
			case 1: /* delete a run */
				if (n) {
					size_t l = 1 + fuzz_theme_below(n - at < 16 ? n - at : 16);

					memmove(buf + at, buf + at + l, n - at - l);
					n -= l;
				}
				break;
			case 2: { /* insert a snippet */
				const char *s = fuzz_theme_snippets[fuzz_theme_below(FUZZ_THEME_NSNIPPETS)];
				size_t l = s[0] == '\0' ? 1 : strlen(s);

				if (n + l <= cap) {
					memmove(buf + at + l, buf + at, n - at);
					memcpy(buf + at, s, l);
					n += l;
				}
				break;
			}
			default: { /* duplicate a chunk */
				size_t l = n ? fuzz_theme_below(n - at < 64 ? n - at : 64) : 0;

				if (n + l <= cap) {
					memmove(buf + at + l, buf + at, n - at);
					n += l;
				}
				break;
			}
			}
		}
		return n;
	}
}

/* Smoke test: shipped themes, then random and mutated inputs. */
int
main(int argc, char **argv)
{
	static uint8_t buf[THEME_MAX_FILE_SIZE + 64];
	uint8_t *seeds[FUZZ_THEME_MAX_SEEDS];
	size_t lens[FUZZ_THEME_MAX_SEEDS], nseeds = 0;
	const char *srcdir = getenv("SRCDIR");
	char dir[PATH_MAX], path[PATH_MAX + 300];
	struct dirent *e;
	DIR *d;
	int run = 0;

	if (argc > 1)
		fuzz_theme_state = strtoull(argv[1], NULL, 0) | 1;
	/* Replay given files. */
	for (int i = 2; i < argc; i++) {
		size_t len;
		uint8_t *p = fuzz_theme_read(argv[i], &len);

		if (p != NULL) {
			LLVMFuzzerTestOneInput(p, len);
			free(p);
		}
	}
	snprintf(dir, sizeof dir, "%s/themes", srcdir != NULL ? srcdir : ".");
	d = opendir(dir);
	if (d != NULL) {
		while ((e = readdir(d)) != NULL && nseeds < FUZZ_THEME_MAX_SEEDS) {
			size_t len = strlen(e->d_name);

			if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			seeds[nseeds] = fuzz_theme_read(path, &lens[nseeds]);
			if (seeds[nseeds] != NULL)
				nseeds++;
		}
		closedir(d);
	}
	printf("ok 1 - %zu shipped themes as seeds (from %s)\n", nseeds, dir);
	for (size_t i = 0; i < nseeds; i++)
		LLVMFuzzerTestOneInput(seeds[i], lens[i]);
	printf("ok 2 - the seeds themselves\n");
	for (run = 0; run < FUZZ_THEME_RUNS; run++) {
		size_t n = fuzz_theme_make(buf, sizeof buf, seeds, lens, nseeds);

		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("ok 3 - %d random and mutated inputs without a crash\n", run);
	for (size_t i = 0; i < nseeds; i++)
		free(seeds[i]);
	printf("%s4 - shipped themes found\n", nseeds >= 5 ? "ok " : "not ok ");
	printf("1..4\n");
	return nseeds >= 5 ? 0 : 1;
}

#endif
