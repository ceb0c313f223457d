/*
 * fuzz-tokenizer.c: a fuzz target for the tokenizer's readers:
 * tokenizer_deserialize (the TOKN section of a model file), tokenizer_encode
 * on any bytes and tokenizer_decode on any ids.
 *
 * LLVMFuzzerTestOneInput checks, on one input: deserialize gives a tokenizer
 * or a message, never both, never neither, and a tokenizer it gives
 * serialises back to the same bytes; with that tokenizer (or, when the input
 * is not one, a small trained one), the input's bytes encode to ids in range
 * that decode back to the same bytes; and the input read as little-endian
 * int32 ids decodes to text or to a message (an id out of 0..V). The bytes
 * also go through a GPT-2-kind twin of the small tokenizer (same merges, bytes
 * in reverse order, GPT-2's PCRE2 pre-tokenizer). Built with
 * libFuzzer:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DFUZZ_TOKENIZER_NO_MAIN -I. \
 *       -Iengine tests/fuzz-tokenizer.c engine/libseqmatch.a -lopenblas -lpcre2-8 -lm -lpthread \
 *       -o fuzz-tokenizer
 *   ./fuzz-tokenizer tests/fuzz-seeds/tokenizer
 * Without libFuzzer (make check) main() is the smoke test of tests/fuzz-main.h.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tokenizer *fuzz_tokenizer_trained; /* for inputs that are not a tokenizer */
static struct tokenizer *fuzz_tokenizer_gpt2;    /* its GPT-2-kind twin */
static long fuzz_tokenizer_loaded, fuzz_tokenizer_decoded; /* inputs that parsed, decoded */

/* Abort with a reason (the fuzzer keeps the input). */
static void
fuzz_tokenizer_fail(const char *what, const char *cause)
{
	fprintf(stderr, "fuzz-tokenizer: %s%s%s\n", what, cause != NULL ? ": " : "",
	    cause != NULL ? cause : "");
	abort();
}

/* Free the trained tokenizer at exit (so the leak checker stays quiet). */
static void
fuzz_tokenizer_cleanup(void)
{
	tokenizer_free(fuzz_tokenizer_trained);
	tokenizer_free(fuzz_tokenizer_gpt2);
}

/* A small tokenizer trained once on a fixed text (with merges of UTF-8 and spaces). */
static struct tokenizer *
fuzz_tokenizer_default(void)
{
	static const char text[] = "the cat sat on the mat. the cat ate the rat; "
	    "caf\xc3\xa9 caf\xc3\xa9 na\xc3\xafve na\xc3\xafve 123 123 1234   \n\n  the end\n";
	char *cause = NULL;

	if (fuzz_tokenizer_trained == NULL) {
		if (tokenizer_train((const uint8_t *)text, sizeof text - 1, 300,
		    &fuzz_tokenizer_trained, &cause) != 0)
			fuzz_tokenizer_fail("cannot train the default tokenizer", cause);
		atexit(fuzz_tokenizer_cleanup);
	}
	return fuzz_tokenizer_trained;
}

/*
 * The default tokenizer's twin of GPT-2's kind: its TOKN form made version 2
 * with kind 1 and the bytes of ids 0..255 reversed.
 */
static struct tokenizer *
fuzz_tokenizer_gpt2_twin(void)
{
	uint8_t *buf = NULL, *b2;
	size_t len = 0;
	char *cause = NULL;

	if (fuzz_tokenizer_gpt2 != NULL)
		return fuzz_tokenizer_gpt2;
	if (tokenizer_serialize(fuzz_tokenizer_default(), &buf, &len, &cause) != 0)
		fuzz_tokenizer_fail("cannot serialise the default tokenizer", cause);
	b2 = realloc(buf, len + 260);
	if (b2 == NULL)
		fuzz_tokenizer_fail("out of memory", NULL);
	b2[4] = 2;
	b2[len] = 1;
	b2[len + 1] = b2[len + 2] = b2[len + 3] = 0;
	for (int i = 0; i < 256; i++)
		b2[len + 4 + i] = (uint8_t)(255 - i);
	if (tokenizer_deserialize(b2, len + 260, &fuzz_tokenizer_gpt2, &cause) != 0)
		fuzz_tokenizer_fail("cannot load the GPT-2-kind twin", cause);
	free(b2);
	return fuzz_tokenizer_gpt2;
}

/* Encode text and decode the ids: the same bytes, every id a real token. */
static void
fuzz_tokenizer_round_trip(const struct tokenizer *tok, const uint8_t *text, size_t len)
{
	int *ids = NULL;
	size_t n = 0, dlen = 0;
	uint8_t *back = NULL;
	char *cause = NULL;

	if (tokenizer_encode(tok, text, len, &ids, &n, &cause) != 0)
		fuzz_tokenizer_fail("encode refused bytes", cause);
	if (cause != NULL || n > len)
		fuzz_tokenizer_fail("encode gave a message or more ids than bytes", cause);
	for (size_t i = 0; i < n; i++)
		if (ids[i] < 0 || ids[i] >= tokenizer_eot(tok))
			fuzz_tokenizer_fail("encode gave an id out of range", NULL);
	if (tokenizer_decode(tok, ids, n, &back, &dlen, &cause) != 0)
		fuzz_tokenizer_fail("decode refused encode's ids", cause);
	if (dlen != len || memcmp(back, text, len) != 0 || back[dlen] != '\0')
		fuzz_tokenizer_fail("decode(encode(x)) is not x", NULL);
	free(ids);
	free(back);
}

/* Decode the input as int32 ids: text, or a message when an id is out of range. */
static void
fuzz_tokenizer_decode(const struct tokenizer *tok, const uint8_t *data, size_t size)
{
	size_t n = size / 4, len = 7;
	int *ids = calloc(n ? n : 1, sizeof *ids), bad = 0;
	uint8_t *out = (uint8_t *)(uintptr_t)1;
	char *cause = NULL;

	if (ids == NULL)
		fuzz_tokenizer_fail("out of memory", NULL);
	for (size_t i = 0; i < n; i++) {
		uint32_t v = (uint32_t)data[4 * i] | (uint32_t)data[4 * i + 1] << 8 |
		    (uint32_t)data[4 * i + 2] << 16 | (uint32_t)data[4 * i + 3] << 24;

		/* Mostly small ids, so that some inputs decode. */
		ids[i] = (data[4 * i + 3] & 0x80) ? (int)(int32_t)v : (int)(v % 400);
		if (ids[i] < 0 || ids[i] > tokenizer_bksp(tok))
			bad = 1;
	}
	if (tokenizer_decode(tok, ids, n, &out, &len, &cause) == 0) {
		if (bad || cause != NULL || out == NULL || out[len] != '\0')
			fuzz_tokenizer_fail("decode accepted a bad id or gave a message", cause);
		fuzz_tokenizer_decoded++;
		free(out);
	} else {
		if (!bad || cause == NULL || out != NULL || len != 0)
			fuzz_tokenizer_fail("decode refused good ids, or without a message", cause);
		free(cause);
	}
	free(ids);
}

/* One input through deserialize, encode and decode. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tokenizer *tok = (struct tokenizer *)(uintptr_t)1;
	uint8_t *again = NULL;
	size_t alen = 0;
	char *cause = NULL;

	if (tokenizer_deserialize(data, size, &tok, &cause) == 0) {
		if (tok == NULL || cause != NULL)
			fuzz_tokenizer_fail("a tokenizer and a message, or neither", cause);
	fuzz_tokenizer_loaded++;
		if (tokenizer_serialize(tok, &again, &alen, &cause) != 0)
			fuzz_tokenizer_fail("serialize failed", cause);
		if (alen != size || memcmp(again, data, size) != 0)
			fuzz_tokenizer_fail("serialize(deserialize(x)) is not x", NULL);
		free(again);
		/* Encode the merge table itself: ids of every size. */
		fuzz_tokenizer_round_trip(tok, data, size);
		fuzz_tokenizer_decode(tok, data, size);
		tokenizer_free(tok);
		return 0;
	}
	if (cause == NULL || strncmp(cause, "tokenizer: ", 11) != 0 || tok != NULL)
		fuzz_tokenizer_fail("a refusal without a message, or with a tokenizer", cause);
	free(cause);
	fuzz_tokenizer_round_trip(fuzz_tokenizer_default(), data, size);
	fuzz_tokenizer_round_trip(fuzz_tokenizer_gpt2_twin(), data, size);
	fuzz_tokenizer_decode(fuzz_tokenizer_default(), data, size);
	return 0;
}

#ifndef FUZZ_TOKENIZER_NO_MAIN

#define FUZZ_MAIN_NAME "tokenizer"
#define FUZZ_MAIN_RUNS 3000
#define FUZZ_MAIN_MAX_LEN 8192
#define FUZZ_MAIN_REPORT fuzz_tokenizer_report

/* How many inputs were tokenizers, and decoded as ids. */
static int
fuzz_tokenizer_report(void)
{
	printf("# %ld tokenizers loaded, %ld id lists decoded\n", fuzz_tokenizer_loaded,
	    fuzz_tokenizer_decoded);
	return fuzz_tokenizer_loaded > 0 && fuzz_tokenizer_decoded > 0 ? 0 : -1;
}

/* Text pieces (for encode) and header pieces (for deserialize). */
static const char *const fuzz_main_snippets[] = {
	"the ", "cat", " sat", "caf\xc3\xa9", "\xc3", "\xa9", "\xff", "\xf0\x9f\x98\x80", "",
	"<|endoftext|>", "<bksp>", "   ", "\n\n", "\t", "123", "a1b2", ".,;", "SMTK",
	"\x01\x00\x00\x00", "\x01\x01\x00\x00", "\x00\x01\x00\x00", "\xff\xff\xff\x7f",
};

#include "fuzz-main.h"

#endif
