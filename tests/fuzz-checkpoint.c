/*
 * fuzz-checkpoint.c: a fuzz target for the checkpoint readers
 * (checkpoint_load_mem_weights and checkpoint_load_optim_mem, which
 * checkpoint_open_weights and checkpoint_load_optim run on a file's bytes;
 * the model file's TOKN and RECD sections reach tokenizer_deserialize and
 * record_deserialize, a stored bf16 or q8 file's QMAT qweights_load).
 *
 * An input starting with the optimizer file's magic is read as one, for a
 * fixed model of the seeds' shape (L=1 C=4 NH=1 T=8 V=259 Vp=320); any other
 * as a model file. For half the inputs (by a hash of their bytes) the target
 * first repairs every section's CRC and the whole-file CRC in END., so that
 * mutations reach the checks behind the CRCs.
 *
 * LLVMFuzzerTestOneInput checks the readers' promises (engine/checkpoint.h):
 * a result or a message naming the file, never both, never neither; nothing
 * reaches the caller on failure (the model pointer, the step, the run id
 * and the model's AdamW state stay as they were); what loads, saved again and
 * read back, gives the same bytes. A model file is also written out and
 * opened as generate and the UI open it by default (checkpoint_open_weights,
 * mapped: the weights and a stored file's matrices used in place): the same
 * verdict as from memory, a refusal naming the file, and what loads saves to
 * the same bytes. Built with libFuzzer:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DFUZZ_CHECKPOINT_NO_MAIN -I. \
 *       -Iengine tests/fuzz-checkpoint.c engine/libseqmatch.a -lopenblas -lm -lpthread \
 *       -o fuzz-checkpoint
 *   ./fuzz-checkpoint -max_len=32768 tests/fuzz-seeds/checkpoint
 * Without libFuzzer (make check) main() is the smoke test of tests/fuzz-main.h.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "crc32.h"
#include "gpt.h"
#include "qweights.h"
#include "record.h"
#include "tokenizer.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECKPOINT_MAX 65536 /* longest input repaired and read */

static char fuzz_checkpoint_tmp[4096];  /* a temporary file for the round trips */
static char fuzz_checkpoint_in[4096];   /* the input as a file, for the mapped reader */
static long fuzz_checkpoint_mapped;     /* inputs that loaded mapped */
static struct gpt_model *fuzz_checkpoint_model; /* the optimizer files' model */
static long fuzz_checkpoint_models, fuzz_checkpoint_optims; /* inputs that loaded */

/* Abort with a reason (the fuzzer keeps the input). */
static void
fuzz_checkpoint_fail(const char *what, const char *cause)
{
	fprintf(stderr, "fuzz-checkpoint: %s%s%s\n", what, cause != NULL ? ": " : "",
	    cause != NULL ? cause : "");
	abort();
}

/* Remove the temporary file and free the model at exit. */
static void
fuzz_checkpoint_cleanup(void)
{
	if (fuzz_checkpoint_tmp[0] != '\0')
		unlink(fuzz_checkpoint_tmp);
	if (fuzz_checkpoint_in[0] != '\0')
		unlink(fuzz_checkpoint_in);
	gpt_free(fuzz_checkpoint_model);
}

/* Make an empty temporary file named NAME.XXXXXX in $TMPDIR (or /tmp) into path. */
static void
fuzz_checkpoint_mktemp(char *path, size_t n, const char *name)
{
	const char *t = getenv("TMPDIR");
	int fd;

	snprintf(path, n, "%s/%s.XXXXXX", t != NULL && t[0] != '\0' ? t : "/tmp", name);
	if ((fd = mkstemp(path)) < 0)
		fuzz_checkpoint_fail("cannot make a temporary file", NULL);
	close(fd);
}

/* Set up the temporary files' names and the fixed model, once. */
static void
fuzz_checkpoint_setup(void)
{
	struct gpt_config cfg = { 8, 259, 320, 1, 1, 4 };
	char *cause = NULL;

	if (fuzz_checkpoint_model != NULL)
		return;
	fuzz_checkpoint_model = gpt_new(&cfg, &cause);
	if (fuzz_checkpoint_model == NULL)
		fuzz_checkpoint_fail("cannot make the model", cause);
	fuzz_checkpoint_mktemp(fuzz_checkpoint_tmp, sizeof fuzz_checkpoint_tmp,
	    "fuzz-checkpoint");
	fuzz_checkpoint_mktemp(fuzz_checkpoint_in, sizeof fuzz_checkpoint_in,
	    "fuzz-checkpoint-in");
	atexit(fuzz_checkpoint_cleanup);
}

/* A little-endian u32. */
static uint32_t
fuzz_checkpoint_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* Store a little-endian u32. */
static void
fuzz_checkpoint_put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * Repair the CRCs of a file in place: each section's (tag, u64 length,
 * payload, CRC of the payload) from the header's end on, and END.'s payload,
 * the CRC of everything before its tag. Stops at the first section that does
 * not fit.
 */
static void
fuzz_checkpoint_repair(uint8_t *b, size_t len, size_t off)
{
	while (off + 12 <= len) {
		uint64_t n = fuzz_checkpoint_u32(b + off + 4) |
		    (uint64_t)fuzz_checkpoint_u32(b + off + 8) << 32;
		int end = memcmp(b + off, "END.", 4) == 0;

		if (n > len - off - 12 || len - off - 12 - n < 4)
			return;
		if (end && n == 4)
			fuzz_checkpoint_put_u32(b + off + 12, crc32_update(0, b, off));
		fuzz_checkpoint_put_u32(b + off + 12 + n, crc32_update(0, b + off + 12, n));
		if (end)
			return;
		off += 12 + (size_t)n + 4;
	}
}

/* The whole temporary file (malloc'd). */
static char *
fuzz_checkpoint_slurp(size_t *len)
{
	char *buf = NULL, *cause = NULL;

	if (util_read_file(fuzz_checkpoint_tmp, 0, &buf, len, &cause) != 0)
		fuzz_checkpoint_fail("cannot read back the saved file", cause);
	return buf;
}

/*
 * The input as a file, opened mapped (checkpoint_open_weights, flags 0):
 * refused when the in-memory reader refused it (loaded 0), with a message
 * naming the file and nothing set; else loaded, and saved to the bytes
 * saved (a) from the in-memory load.
 */
static void
fuzz_checkpoint_map_file(const uint8_t *data, size_t size, int loaded, const char *a,
    size_t alen)
{
	struct gpt_model *m = (struct gpt_model *)(uintptr_t)1;
	struct tokenizer *tok = (struct tokenizer *)(uintptr_t)1;
	struct qweights *qw = (struct qweights *)(uintptr_t)1;
	struct record rec;
	char *cause = NULL, *b;
	size_t blen;
	FILE *f = fopen(fuzz_checkpoint_in, "wb");

	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		fuzz_checkpoint_fail("cannot write the input to a file", NULL);
	record_init(&rec);
	if (checkpoint_open_weights(fuzz_checkpoint_in, 0, &m, &tok, &rec, &qw, &cause) != 0) {
		if (loaded)
			fuzz_checkpoint_fail("loads from memory, refused mapped", cause);
		if (cause == NULL || strstr(cause, fuzz_checkpoint_in) == NULL)
			fuzz_checkpoint_fail("a mapped refusal without a message naming the file",
			    cause);
		if (m != (struct gpt_model *)(uintptr_t)1 ||
		    tok != (struct tokenizer *)(uintptr_t)1 ||
		    qw != (struct qweights *)(uintptr_t)1)
			fuzz_checkpoint_fail("a mapped refusal that set the results", cause);
		free(cause);
		record_release(&rec);
		return;
	}
	if (!loaded)
		fuzz_checkpoint_fail("refused from memory, loads mapped", NULL);
	fuzz_checkpoint_mapped++;
	if (checkpoint_save_weights(fuzz_checkpoint_tmp, m, tok, &rec, qw, &cause) != 0)
		fuzz_checkpoint_fail("cannot save what loaded mapped", cause);
	b = fuzz_checkpoint_slurp(&blen);
	if (alen != blen || memcmp(a, b, alen) != 0)
		fuzz_checkpoint_fail("the mapped load saves other bytes than the copy", NULL);
	free(b);
	qweights_free(qw);
	gpt_free(m);
	tokenizer_free(tok);
	record_release(&rec);
}

/* A model file: load, and if it loads, save, load and save again: the same bytes. */
static void
fuzz_checkpoint_model_file(const uint8_t *data, size_t size)
{
	struct gpt_model *m = (struct gpt_model *)(uintptr_t)1, *m2 = NULL;
	struct tokenizer *tok = (struct tokenizer *)(uintptr_t)1, *tok2 = NULL;
	struct qweights *qw = (struct qweights *)(uintptr_t)1, *qw2 = NULL;
	struct record rec, rec2;
	char *cause = NULL, *a, *b;
	size_t alen, blen;

	record_init(&rec);
	record_init(&rec2);
	/* Stored bf16 and q8 files (version 4) too: what generate and the UI read. */
	if (checkpoint_load_mem_weights("fuzz.bin", data, size, &m, &tok, &rec, &qw,
	    &cause) != 0) {
		if (cause == NULL || strncmp(cause, "fuzz.bin", 8) != 0)
			fuzz_checkpoint_fail("a refusal without a message naming the file", cause);
		if (m != (struct gpt_model *)(uintptr_t)1 ||
		    tok != (struct tokenizer *)(uintptr_t)1 ||
		    qw != (struct qweights *)(uintptr_t)1)
			fuzz_checkpoint_fail("a refusal that set the results", cause);
		free(cause);
		record_release(&rec);
		fuzz_checkpoint_map_file(data, size, 0, NULL, 0);
		return;
	}
	if (cause != NULL || m == NULL || tok == NULL)
		fuzz_checkpoint_fail("a model and a message, or no model", cause);
	fuzz_checkpoint_models++;
	/* The fp32-only reader refuses a stored file and takes every other one. */
	{
		struct gpt_model *m3 = NULL;
		struct tokenizer *tok3 = NULL;
		int rc = checkpoint_load_mem("fuzz.bin", data, size, &m3, &tok3, NULL, &cause);

		if ((rc == 0) != (qw == NULL) ||
		    (rc != 0 && (cause == NULL || strstr(cause, "seqmatch quantize") == NULL)))
			fuzz_checkpoint_fail("checkpoint_load_mem and the stored format disagree",
			    cause);
		free(cause);
		cause = NULL;
		gpt_free(m3);
		tokenizer_free(tok3);
	}
	if (checkpoint_save_weights(fuzz_checkpoint_tmp, m, tok, &rec, qw, &cause) != 0)
		fuzz_checkpoint_fail("cannot save what loaded", cause);
	a = fuzz_checkpoint_slurp(&alen);
	fuzz_checkpoint_map_file(data, size, 1, a, alen);
	if (checkpoint_load_mem_weights("fuzz.bin", a, alen, &m2, &tok2, &rec2, &qw2,
	    &cause) != 0)
		fuzz_checkpoint_fail("what checkpoint_save wrote does not load", cause);
	if ((qw == NULL) != (qw2 == NULL) ||
	    (qw != NULL && qweights_format(qw) != qweights_format(qw2)))
		fuzz_checkpoint_fail("the stored weight format changed in the round trip", NULL);
	if (checkpoint_save_weights(fuzz_checkpoint_tmp, m2, tok2, &rec2, qw2, &cause) != 0)
		fuzz_checkpoint_fail("cannot save the second time", cause);
	b = fuzz_checkpoint_slurp(&blen);
	if (alen != blen || memcmp(a, b, alen) != 0)
		fuzz_checkpoint_fail("save(load(save(load(x)))) differs from save(load(x))", NULL);
	if (gpt_has_bksp(m) != gpt_has_bksp(m2))
		fuzz_checkpoint_fail("the <bksp> marking changed in the round trip", NULL);
	free(a);
	free(b);
	qweights_free(qw);
	qweights_free(qw2);
	gpt_free(m);
	gpt_free(m2);
	tokenizer_free(tok);
	tokenizer_free(tok2);
	record_release(&rec);
	record_release(&rec2);
}

/* The AdamW state's FNV-1a (0 when the model has none). */
static uint64_t
fuzz_checkpoint_adam_hash(struct gpt_model *m)
{
	size_t n = gpt_num_params(m) * sizeof(float);

	if (gpt_adam_m(m) == NULL)
		return 0;
	return util_fnv1a(util_fnv1a(UTIL_FNV_INIT, gpt_adam_m(m), n), gpt_adam_v(m), n);
}

/* An optimizer file for the fixed model: load, and if it loads, save and load again. */
static void
fuzz_checkpoint_optim_file(const uint8_t *data, size_t size)
{
	struct gpt_model *m = fuzz_checkpoint_model;
	long step = -5, step2 = -5;
	uint64_t run = 77, run2 = 77, before = fuzz_checkpoint_adam_hash(m), after;
	char *cause = NULL, *a;
	size_t alen;

	if (checkpoint_load_optim_mem("fuzz.opt", data, size, m, &step, &run, &cause) != 0) {
		if (cause == NULL || strncmp(cause, "fuzz.opt", 8) != 0)
			fuzz_checkpoint_fail("a refusal without a message naming the file", cause);
		if (step != -5 || run != 77 || fuzz_checkpoint_adam_hash(m) != before)
			fuzz_checkpoint_fail("a refusal that changed the step, run or state", cause);
		free(cause);
		return;
	}
	if (cause != NULL || step < 0)
		fuzz_checkpoint_fail("a load with a message or a negative step", cause);
	fuzz_checkpoint_optims++;
	after = fuzz_checkpoint_adam_hash(m);
	if (checkpoint_save_optim(fuzz_checkpoint_tmp, m, step, run, &cause) != 0)
		fuzz_checkpoint_fail("cannot save what loaded", cause);
	a = fuzz_checkpoint_slurp(&alen);
	if (checkpoint_load_optim_mem("fuzz.opt", a, alen, m, &step2, &run2, &cause) != 0)
		fuzz_checkpoint_fail("what checkpoint_save_optim wrote does not load", cause);
	if (step2 != step || run2 != run || fuzz_checkpoint_adam_hash(m) != after)
		fuzz_checkpoint_fail("the optimizer round trip changed something", NULL);
	free(a);
}

/* One input: a model or an optimizer file, as it is or with its CRCs repaired. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t copy[FUZZ_CHECKPOINT_MAX];
	int opt = size >= 8 && memcmp(data, "SEQMOPT1", 8) == 0;

	if (size > FUZZ_CHECKPOINT_MAX)
		return 0;
	fuzz_checkpoint_setup();
	if (util_fnv1a(UTIL_FNV_INIT, data, size) & 1) {
		memcpy(copy, data, size);
		/* The header's end: after the config (model) or the run id (version 2 opt). */
		fuzz_checkpoint_repair(copy, size, opt ? 36 : 48);
		data = copy;
	}
	if (opt)
		fuzz_checkpoint_optim_file(data, size);
	else
		fuzz_checkpoint_model_file(data, size);
	return 0;
}

#ifndef FUZZ_CHECKPOINT_NO_MAIN

#define FUZZ_MAIN_NAME "checkpoint"
#define FUZZ_MAIN_RUNS 2000
#define FUZZ_MAIN_MAX_LEN 16384
#define FUZZ_MAIN_REPORT fuzz_checkpoint_report

/* How many model and optimizer files loaded (the seeds at least). */
static int
fuzz_checkpoint_report(void)
{
	printf("# %ld model files (%ld of them mapped) and %ld optimizer files loaded\n",
	    fuzz_checkpoint_models, fuzz_checkpoint_mapped, fuzz_checkpoint_optims);
	return fuzz_checkpoint_models > 0 && fuzz_checkpoint_mapped == fuzz_checkpoint_models &&
	    fuzz_checkpoint_optims > 0 ? 0 : -1;
}

/* Magics, tags and lengths. */
static const char *const fuzz_main_snippets[] = {
	"SEQMATCH", "SEQMOPT1", "TOKN", "RECD", "PARM", "ADAM", "END.", "SMTK", "",
	"\x02\x00\x00\x00", "\x01\x00\x00\x00", "\x06\x00\x00\x00", "\x04\x00\x00\x00",
	"\x00\x00\x80\x7f", "\x00\x00\xc0\x7f", "\xff\xff\xff\xff\xff\xff\xff\xff",
	"actions=bksp", "steps", "run_id",
};

#include "fuzz-main.h"

#endif
