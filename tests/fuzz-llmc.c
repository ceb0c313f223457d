/*
 * fuzz-llmc.c: a fuzz target for the readers of llm.c's files (engine/llmc.h):
 * an input that starts with the tokenizer magic goes to
 * llmc_import_tokenizer_mem, any other to llmc_import_mem as the model file,
 * beside a fixed tokenizer of 257 tokens (the 256 bytes and <|endoftext|>).
 *
 * LLVMFuzzerTestOneInput checks that a reader gives its objects or a message
 * naming the file, never both, never neither; a model it gives has the
 * header's configuration, and a tokenizer it gives encodes the input and
 * decodes it back. Built with libFuzzer:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DFUZZ_LLMC_NO_MAIN -I. \
 *       -Iengine tests/fuzz-llmc.c engine/libseqmatch.a -lopenblas -lpcre2-8 \
 *       -lm -lpthread -o fuzz-llmc
 *   ./fuzz-llmc tests/fuzz-seeds/llmc
 * Without libFuzzer (make check) main() is the smoke test of tests/fuzz-main.h.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpt.h"
#include "llmc.h"
#include "record.h"
#include "tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long fuzz_llmc_models, fuzz_llmc_tokenizers; /* inputs that loaded */
static uint8_t fuzz_llmc_tok[1024 + 2 * 256 + 14];  /* the fixed tokenizer file */

/* Abort with a reason (the fuzzer keeps the input). */
static void
fuzz_llmc_fail(const char *what, const char *cause)
{
	fprintf(stderr, "fuzz-llmc: %s%s%s\n", what, cause != NULL ? ": " : "",
	    cause != NULL ? cause : "");
	abort();
}

/* Lay out the fixed tokenizer file once: version 2, bytes in order, EOT. */
static void
fuzz_llmc_init(void)
{
	static const uint8_t head[16] = { 0xc8, 0xd7, 0x34, 0x01, 2, 0, 0, 0,
	    0x01, 0x01, 0, 0, 0x00, 0x01, 0, 0 }; /* 20240328, 2, 257, 256 */
	uint8_t *p = fuzz_llmc_tok + 1024;

	if (fuzz_llmc_tok[0] != 0)
		return;
	memcpy(fuzz_llmc_tok, head, sizeof head);
	for (int b = 0; b < 256; b++) {
		*p++ = 1;
		*p++ = (uint8_t)b;
	}
	*p++ = 13;
	memcpy(p, "<|endoftext|>", 13);
}

/* A loaded tokenizer encodes bytes and decodes them back. */
static void
fuzz_llmc_round_trip(const struct tokenizer *tok, const uint8_t *text, size_t len)
{
	int *ids = NULL;
	size_t n = 0, dlen = 0;
	uint8_t *back = NULL;
	char *cause = NULL;

	if (tokenizer_encode(tok, text, len, &ids, &n, &cause) != 0 ||
	    tokenizer_decode(tok, ids, n, &back, &dlen, &cause) != 0)
		fuzz_llmc_fail("encode or decode failed", cause);
	if (dlen != len || memcmp(back, text, len) != 0)
		fuzz_llmc_fail("decode(encode(x)) is not x", NULL);
	free(ids);
	free(back);
}

/* One input through the model or the tokenizer reader. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gpt_model *m = NULL;
	struct tokenizer *tok = NULL;
	struct record rec;
	char *cause = NULL;
	int version = 0, rc;

	fuzz_llmc_init();
	if (size >= 4 && memcmp(data, fuzz_llmc_tok, 4) == 0) {
		rc = llmc_import_tokenizer_mem("t.bin", data, size, &tok, &version,
		    &cause);
		if (rc == 0) {
			if (tok == NULL || cause != NULL || (version != 1 && version != 2))
				fuzz_llmc_fail("a tokenizer and a message, or neither", cause);
			fuzz_llmc_tokenizers++;
			fuzz_llmc_round_trip(tok, data, size);
			tokenizer_free(tok);
		} else if (tok != NULL || cause == NULL || strncmp(cause, "t.bin", 5) != 0)
			fuzz_llmc_fail("a refusal that does not name t.bin", cause);
		free(cause);
		return 0;
	}
	record_init(&rec);
	rc = llmc_import_mem("m.bin", data, size, "t.bin", fuzz_llmc_tok,
	    sizeof fuzz_llmc_tok, &m, &tok, &rec, &cause);
	if (rc == 0) {
		const struct gpt_config *c = m != NULL ? gpt_config(m) : NULL;

		if (m == NULL || tok == NULL || cause != NULL)
			fuzz_llmc_fail("a model and a message, or neither", cause);
		if (size < 32 || c->vocab_size != 257 ||
		    c->channels != (int)(data[24] | data[25] << 8) ||
		    c->num_layers != (int)(data[16] | data[17] << 8) ||
		    record_get(&rec, "llmc_model_version") == NULL)
			fuzz_llmc_fail("the model does not have the header's configuration",
			    NULL);
		fuzz_llmc_models++;
		gpt_free(m);
		tokenizer_free(tok);
	} else if (m != NULL || tok != NULL || cause == NULL ||
	    (strncmp(cause, "m.bin", 5) != 0 && strncmp(cause, "t.bin", 5) != 0))
		fuzz_llmc_fail("a refusal that does not name a file", cause);
	free(cause);
	record_release(&rec);
	return 0;
}

#ifndef FUZZ_LLMC_NO_MAIN

#define FUZZ_MAIN_NAME "llmc"
#define FUZZ_MAIN_RUNS 2000
#define FUZZ_MAIN_MAX_LEN 16384
#define FUZZ_MAIN_REPORT fuzz_llmc_report

/* How many inputs loaded as a model and as a tokenizer. */
static int
fuzz_llmc_report(void)
{
	printf("# %ld models and %ld tokenizers loaded\n", fuzz_llmc_models,
	    fuzz_llmc_tokenizers);
	return fuzz_llmc_models > 0 && fuzz_llmc_tokenizers > 0 ? 0 : -1;
}

/* Header pieces: both magics, versions, small sizes. */
static const char *const fuzz_main_snippets[] = {
	"\xc6\xd7\x34\x01", "\xc8\xd7\x34\x01", "\x03\x00\x00\x00", "\x01\x00\x00\x00",
	"\x02\x00\x00\x00", "\x05\x00\x00\x00", "\x04\x00\x00\x00", "\x01\x01\x00\x00",
	"\x04\x01\x00\x00", "\xff\xff\xff\x7f", "\x00\x00\x80\x7f", "\x0d<|endoftext|>",
	"\x02th", "\x03the", "",
};

#include "fuzz-main.h"

#endif
