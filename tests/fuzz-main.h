/*
 * fuzz-main.h: the make-check driver the fuzz targets share when they are
 * built without libFuzzer (tests/fuzz-checkpoint.c, fuzz-tokenizer.c,
 * fuzz-corpus.c, fuzz-npy.c, fuzz-options.c, fuzz-uistate.c).
 *
 * Include it at the end of a target, after defining
 *   FUZZ_MAIN_NAME      the seed directory's name ("npy": tests/fuzz-seeds/npy/)
 *   FUZZ_MAIN_RUNS      how many random and mutated inputs to try
 *   FUZZ_MAIN_MAX_LEN   the longest input made
 *   fuzz_main_snippets  an array of byte strings the inputs are glued from
 *                       and inserted into seeds ("" stands for one NUL byte)
 * and optionally FUZZ_MAIN_REPORT, a function returning 0 when the inputs
 * reached what they should (some of them loaded), after a "# " line saying how many.
 * main() then runs LLVMFuzzerTestOneInput on every file in the seed directory
 * ($SRCDIR/tests/fuzz-seeds/NAME, which also holds every input that once
 * crashed a target: they replay here), then on deterministic random bytes,
 * glued snippets and mutated seeds (xorshift64* from a fixed state, so a
 * failure replays by its seed), and prints TAP. Arguments: [SEED] [FILES...]
 * replays other inputs first. Run it under ASan to catch leaks too.
 */
#ifndef SEQMATCH_FUZZ_MAIN_H
#define SEQMATCH_FUZZ_MAIN_H

#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAIN_MAX_SEEDS 64
#define FUZZ_MAIN_NSNIPPETS (sizeof fuzz_main_snippets / sizeof fuzz_main_snippets[0])

static uint64_t fuzz_main_state = 0x9e3779b97f4a7c15u;

/* xorshift64*: deterministic, so a failure can be replayed by seed. */
static uint64_t
fuzz_main_rand(void)
{
	fuzz_main_state ^= fuzz_main_state >> 12;
	fuzz_main_state ^= fuzz_main_state << 25;
	fuzz_main_state ^= fuzz_main_state >> 27;
	return fuzz_main_state * 0x2545f4914f6cdd1du;
}

/* A random number below n (n > 0). */
static size_t
fuzz_main_below(size_t n)
{
	return (size_t)(fuzz_main_rand() % n);
}

/* Read a whole file (NULL on failure; an empty file gives a 1-byte buffer). */
static uint8_t *
fuzz_main_read(const char *path, size_t *len)
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

/* A random snippet and its length ("" is one NUL byte). */
static const char *
fuzz_main_snippet(size_t *len)
{
	const char *s = fuzz_main_snippets[fuzz_main_below(FUZZ_MAIN_NSNIPPETS)];

	*len = s[0] == '\0' ? 1 : strlen(s);
	return s;
}

/* One mutation of buf (n bytes of cap) in place; returns the new length. */
static size_t
fuzz_main_mutate(uint8_t *buf, size_t n, size_t cap)
{
	static const uint32_t special[] = { 0, 1, 0x7fffffffu, 0x80000000u, 0xffffffffu,
		0xfffffffeu, 256, 65536 };
	size_t at = n ? fuzz_main_below(n) : 0, l;
	const char *s;

	switch (fuzz_main_below(6)) {
	case 0: /* flip a bit */
		if (n)
			buf[at] ^= (uint8_t)(1u << fuzz_main_below(8));
		break;
	case 1: /* delete a run */
		if (n) {
			l = 1 + fuzz_main_below(n - at < 16 ? n - at : 16);
			memmove(buf + at, buf + at + l, n - at - l);
			n -= l;
		}
		break;
	case 2: /* insert a snippet */
		s = fuzz_main_snippet(&l);
		if (n + l <= cap) {
			memmove(buf + at + l, buf + at, n - at);
			memcpy(buf + at, s, l);
			n += l;
		}
		break;
	case 3: /* duplicate a chunk */
		l = n ? fuzz_main_below(n - at < 64 ? n - at : 64) : 0;
		if (n + l <= cap) {
			memmove(buf + at + l, buf + at, n - at);
			n += l;
		}
		break;
	case 4: /* a little-endian special value over four bytes */
		if (n >= 4) {
			uint32_t v = special[fuzz_main_below(sizeof special / sizeof special[0])];

			at = fuzz_main_below(n - 3);
			for (int i = 0; i < 4; i++)
				buf[at + (size_t)i] = (uint8_t)(v >> (8 * i));
		}
		break;
	default: /* cut the end */
		if (n)
			n = fuzz_main_below(n);
		break;
	}
	return n;
}

/* Make one input into buf (cap bytes) from the seeds; returns its length. */
static size_t
fuzz_main_make(uint8_t *buf, size_t cap, uint8_t **seeds, size_t *lens, size_t nseeds)
{
	size_t n = 0, k, l;
	const char *s;

	switch (fuzz_main_below(4)) {
	case 0: /* random bytes */
		n = fuzz_main_below(cap < 512 ? cap : 512);
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)fuzz_main_rand();
		return n;
	case 1: /* snippets glued together */
		k = 1 + fuzz_main_below(40);
		for (size_t i = 0; i < k; i++) {
			s = fuzz_main_snippet(&l);
			if (n + l > cap)
				break;
			memcpy(buf + n, s, l);
			n += l;
		}
		return n;
	default: /* a seed, mutated */
		if (nseeds == 0)
			return 0;
		k = fuzz_main_below(nseeds);
		n = lens[k] < cap ? lens[k] : cap;
		memcpy(buf, seeds[k], n);
		for (size_t m = 1 + fuzz_main_below(8); m > 0; m--)
			n = fuzz_main_mutate(buf, n, cap);
		return n;
	}
}

/* Smoke test: the seeds (crash reproducers among them), then random and mutated inputs. */
int
main(int argc, char **argv)
{
	static uint8_t buf[FUZZ_MAIN_MAX_LEN];
	uint8_t *seeds[FUZZ_MAIN_MAX_SEEDS];
	size_t lens[FUZZ_MAIN_MAX_SEEDS], nseeds = 0;
	const char *srcdir = getenv("SRCDIR");
	char dir[PATH_MAX], path[PATH_MAX + 300];
	struct dirent *e;
	DIR *d;
	int run;

	if (argc > 1)
		fuzz_main_state = strtoull(argv[1], NULL, 0) | 1;
	for (int i = 2; i < argc; i++) {
		size_t len;
		uint8_t *p = fuzz_main_read(argv[i], &len);

		if (p != NULL) {
			LLVMFuzzerTestOneInput(p, len);
			free(p);
		}
	}
	snprintf(dir, sizeof dir, "%s/tests/fuzz-seeds/%s", srcdir != NULL ? srcdir : ".",
	    FUZZ_MAIN_NAME);
	d = opendir(dir);
	if (d != NULL) {
		while ((e = readdir(d)) != NULL && nseeds < FUZZ_MAIN_MAX_SEEDS) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			seeds[nseeds] = fuzz_main_read(path, &lens[nseeds]);
			if (seeds[nseeds] != NULL)
				nseeds++;
		}
		closedir(d);
	}
	printf("%s1 - %zu seeds in %s\n", nseeds > 0 ? "ok " : "not ok ", nseeds, dir);
	for (size_t i = 0; i < nseeds; i++)
		LLVMFuzzerTestOneInput(seeds[i], lens[i]);
	printf("ok 2 - the seeds themselves\n");
	for (run = 0; run < FUZZ_MAIN_RUNS; run++) {
		size_t n = fuzz_main_make(buf, sizeof buf, seeds, lens, nseeds);

		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("ok 3 - %d random and mutated inputs kept the promises\n", run);
	for (size_t i = 0; i < nseeds; i++)
		free(seeds[i]);
#ifdef FUZZ_MAIN_REPORT
	{
		int bad = FUZZ_MAIN_REPORT() != 0;

		printf("%s4 - the inputs reached the parser's successes too\n", bad ? "not ok " : "ok ");
		printf("1..4\n");
		return nseeds > 0 && !bad ? 0 : 1;
	}
#else
	printf("1..3\n");
	return nseeds > 0 ? 0 : 1;
#endif
}

#endif
