/*
 * fuzz-corpus.c: a fuzz target for the corpus reader (corpus_parse, which
 * corpus_load runs on the file's bytes) and the held-out split.
 *
 * LLVMFuzzerTestOneInput parses one input with both separators and checks
 * the reader's promises (engine/corpus.h): a corpus or a message naming the
 * file, never both, never neither; a corpus has at least one document, each
 * non-empty, NUL-free, as long as its lens entry says, without a blank first
 * or last line (nor, with blank-line separators, a blank line inside, nor,
 * with % separators, a % line); bytes is their total and hash the FNV-1a of
 * the input. corpus_split then puts every document on one side, both sides
 * non-empty when there are two or more. Built with libFuzzer:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DFUZZ_CORPUS_NO_MAIN -I. \
 *       -Iengine tests/fuzz-corpus.c engine/libseqmatch.a -lopenblas -lm -lpthread \
 *       -o fuzz-corpus
 *   ./fuzz-corpus tests/fuzz-seeds/corpus
 * Without libFuzzer (make check) main() is the smoke test of tests/fuzz-main.h.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long fuzz_corpus_loaded; /* parses that gave a corpus */

/* Abort with a reason (the fuzzer keeps the input). */
static void
fuzz_corpus_fail(const char *what, const char *cause)
{
	fprintf(stderr, "fuzz-corpus: %s%s%s\n", what, cause != NULL ? ": " : "",
	    cause != NULL ? cause : "");
	abort();
}

/* Whether a line (n bytes) is blank: spaces, tabs, \r, \f, \v only. */
static int
fuzz_corpus_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\0' || strchr(" \t\r\f\v", s[i]) == NULL)
			return 0;
	return 1;
}

/* Whether a line is a % separator: % then spaces or tabs. */
static int
fuzz_corpus_percent(const char *s, size_t n)
{
	if (n == 0 || s[0] != '%')
		return 0;
	for (size_t i = 1; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

/* Check one document's lines against the separator's rules. */
static void
fuzz_corpus_doc(const char *doc, size_t len, enum corpus_sep sep)
{
	size_t off = 0, line = 0, last_blank = 0;

	if (len == 0 || strlen(doc) != len)
		fuzz_corpus_fail("an empty document, or one with a NUL or a wrong length", doc);
	while (off <= len) {
		const char *s = doc + off, *nl = memchr(s, '\n', len - off);
		size_t n = nl != NULL ? (size_t)(nl - s) : len - off;
		int blank = fuzz_corpus_blank(s, n);

		if (blank && (line == 0 || sep == CORPUS_SEP_BLANK))
			fuzz_corpus_fail("a document with a blank first line, or a blank line "
			    "with blank-line separators", doc);
		if (sep == CORPUS_SEP_PERCENT && fuzz_corpus_percent(s, n))
			fuzz_corpus_fail("a document holding a % separator", doc);
		last_blank = (size_t)blank;
		line++;
		if (nl == NULL)
			break;
		off += n + 1;
	}
	if (last_blank)
		fuzz_corpus_fail("a document with a blank last line", doc);
}

/* Parse with one separator and check the result. */
static void
fuzz_corpus_one(const uint8_t *data, size_t size, enum corpus_sep sep)
{
	struct corpus *c = (struct corpus *)(uintptr_t)1, *tr = NULL, *va = NULL;
	char *cause = NULL;
	size_t total = 0;

	if (corpus_parse("fuzz.txt", (const char *)data, size, sep, &c, &cause) != 0) {
		if (cause == NULL || strncmp(cause, "fuzz.txt", 8) != 0 || c != NULL)
			fuzz_corpus_fail("a refusal without a message naming the file", cause);
		free(cause);
		return;
	}
	if (c == NULL || cause != NULL || c->ndocs == 0)
		fuzz_corpus_fail("a corpus with a message, or with no document", cause);
	fuzz_corpus_loaded++;
	for (size_t i = 0; i < c->ndocs; i++) {
		fuzz_corpus_doc(c->docs[i], c->lens[i], sep);
		total += c->lens[i];
	}
	if (total != c->bytes)
		fuzz_corpus_fail("bytes is not the documents' total", NULL);
	if (c->hash != util_fnv1a(UTIL_FNV_INIT, data, size))
		fuzz_corpus_fail("hash is not the FNV-1a of the file", NULL);
	if (corpus_split(c, size % 2 ? 0.5 : 0.1, size, &tr, &va, &cause) != 0)
		fuzz_corpus_fail("corpus_split failed", cause);
	if (tr->ndocs + va->ndocs != c->ndocs ||
	    (c->ndocs >= 2 && (tr->ndocs == 0 || va->ndocs == 0)))
		fuzz_corpus_fail("the split lost documents or left a side empty", NULL);
	corpus_free(tr);
	corpus_free(va);
	corpus_free(c);
}

/* One input, read with both separators. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_corpus_one(data, size, CORPUS_SEP_BLANK);
	fuzz_corpus_one(data, size, CORPUS_SEP_PERCENT);
	return 0;
}

#ifndef FUZZ_CORPUS_NO_MAIN

#define FUZZ_MAIN_NAME "corpus"
#define FUZZ_MAIN_RUNS 3000
#define FUZZ_MAIN_MAX_LEN 8192
#define FUZZ_MAIN_REPORT fuzz_corpus_report

/* How many parses gave a corpus. */
static int
fuzz_corpus_report(void)
{
	printf("# %ld corpora parsed\n", fuzz_corpus_loaded);
	return fuzz_corpus_loaded > 0 ? 0 : -1;
}

/* Lines, separators, line ends and UTF-8, good and bad. */
static const char *const fuzz_main_snippets[] = {
	"Once upon a time.\n", "\n", "\r\n", "\r", "%\n", "% \t\n", "%%\n", " \t\n", "\f\v\n",
	"", "\xef\xbb\xbf", "caf\xc3\xa9", "\xc3", "\xc3\x28", "\xed\xa0\x80", "\xf4\x90\x80\x80",
	"\xf0\x9f\x98\x80", "\xc0\xaf", "\xe0\x80\xaf", "\xff", "word ", "  x\n", "\n\n\n",
};

#include "fuzz-main.h"

#endif
