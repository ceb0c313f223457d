/*
 * test-llmc.c: llm.c's model and tokenizer files (engine/llmc.h).
 *
 * A small random model and tokenizer are written here in llm.c's formats
 * (from llm.c's documented layout, not through the engine), imported, and
 * every tensor is checked to be in its place by comparing the engine's logits
 * (training forward and KV-cached decoding) with a naive forward pass written
 * below from the file's raw floats. Then the model goes through a seqmatch
 * checkpoint and back out through export, which must give the same bytes;
 * a <bksp> row added by fine-tuning lands in the first padded row. Bad files
 * are refused with a message naming the file. Last, GPT-2's real tokenizer
 * (tests/data/gpt2-tokenizer.bin, see tests/data/README) encodes tricky
 * strings into the ids GPT-2 gives them.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "gpt.h"
#include "llmc.h"
#include "record.h"
#include "tokenizer.h"
#include "util.h"
#include "tap.h"

#define TEST_OK(cond, ...) do {				\
	int test_ok_ = (cond);				\
	tap_ok(test_ok_, __VA_ARGS__);			\
} while (0)
#define TEST_MSG(c) ((c) != NULL ? (c) : "(no message)")

/* The small model: T, L, NH, C (V and Vp follow from the tokenizer). */
#define TEST_MAXT 12
#define TEST_L 2
#define TEST_NH 2
#define TEST_C 16

/* Merged tokens of the test vocabulary, in merge order (each is two earlier ones). */
static const char *test_merges[] = {
	"th", "he", "the", " t", " the", "in", "ing", " in", "an", "and", " a",
	" and", "er", "on", "re", "ou", " s", " w", "at", "ed", "es", "is",
	" th", " o", "ll", "ing ", "aa", "aaaa", "\xc3\xa9", "\xc3\xa9s",
};
#define TEST_NMERGES (int)(sizeof test_merges / sizeof test_merges[0])

/* A growing byte buffer. */
struct test_buf {
	uint8_t *p;
	size_t n, cap;
};

/* Append bytes. */
static void
test_put(struct test_buf *b, const void *s, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 1024;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			abort();
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

/* Append a little-endian int32. */
static void
test_put_i32(struct test_buf *b, int32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
	    (uint8_t)((uint32_t)v >> 24) };
	test_put(b, x, 4);
}

/* An llm.c header: magic, version, then the given entries, zeros after. */
static void
test_header(struct test_buf *b, int32_t magic, int32_t version, const int32_t *v, int n)
{
	test_put_i32(b, magic);
	test_put_i32(b, version);
	for (int i = 0; i < 254; i++)
		test_put_i32(b, i < n ? v[i] : 0);
}

/* The test tokenizer file: bytes in a scrambled order, the merges, EOT. */
static void
test_tokenizer_file(struct test_buf *b, int version)
{
	int32_t h[2] = { 256 + TEST_NMERGES + 1, 256 + TEST_NMERGES };

	test_header(b, 20240328, version, h, version == 2 ? 2 : 1);
	for (int id = 0; id < 256; id++) {
		uint8_t len = 1, byte = (uint8_t)(id * 167 + 13); /* 167 is odd */

		test_put(b, &len, 1);
		test_put(b, &byte, 1);
	}
	for (int k = 0; k < TEST_NMERGES; k++) {
		uint8_t len = (uint8_t)strlen(test_merges[k]);

		test_put(b, &len, 1);
		test_put(b, test_merges[k], len);
	}
	{
		uint8_t len = 13;

		test_put(b, &len, 1);
		test_put(b, "<|endoftext|>", 13);
	}
}

/* Deterministic pseudo-random numbers in [-1, 1) (not the engine's rng). */
static double
test_rand(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(*s >> 11) / (double)(1ULL << 52) - 1.0;
}

/* Sizes of llm.c's 16 tensors, wte with vp rows. */
static size_t
test_sizes(int V, int vp, size_t s[16])
{
	size_t C = TEST_C, L = TEST_L, total = 0;

	(void)V;
	s[0] = (size_t)vp * C; s[1] = TEST_MAXT * C; s[2] = L * C; s[3] = L * C;
	s[4] = L * 3 * C * C; s[5] = L * 3 * C; s[6] = L * C * C; s[7] = L * C;
	s[8] = L * C; s[9] = L * C; s[10] = L * 4 * C * C; s[11] = L * 4 * C;
	s[12] = L * C * 4 * C; s[13] = L * C; s[14] = C; s[15] = C;
	for (int i = 0; i < 16; i++)
		total += s[i];
	return total;
}

/* The test model file; *params gets the floats written (malloc'd). */
static void
test_model_file(struct test_buf *b, int version, int V, int vp, float **params)
{
	int32_t h[6] = { TEST_MAXT, V, TEST_L, TEST_NH, TEST_C, vp };
	size_t s[16], total = test_sizes(V, vp, s), k = 0;
	uint64_t seed = 42;
	float *p = malloc(total * sizeof *p);

	test_header(b, 20240326, version, h, version == 3 ? 6 : 5);
	for (int i = 0; i < 16; i++) {
		int ln_weight = i == 2 || i == 8 || i == 14;

		for (size_t j = 0; j < s[i]; j++, k++) {
			double r = test_rand(&seed);

			/* llm.c's padded rows are zero; the rest is random. */
			if (i == 0 && j >= (size_t)V * TEST_C)
				p[k] = 0.0f;
			else
				p[k] = (float)(ln_weight ? 1.0 + 0.2 * r : 0.3 * r);
		}
	}
	for (size_t j = 0; j < total; j++) {
		uint32_t u;

		memcpy(&u, &p[j], 4);
		test_put_i32(b, (int32_t)u);
	}
	*params = p;
}

/* LayerNorm of x (C) in double. */
static void
test_ln(const double *x, const float *w, const float *bias, double *y)
{
	double mean = 0, var = 0;

	for (int i = 0; i < TEST_C; i++)
		mean += x[i];
	mean /= TEST_C;
	for (int i = 0; i < TEST_C; i++)
		var += (x[i] - mean) * (x[i] - mean);
	var /= TEST_C;
	for (int i = 0; i < TEST_C; i++)
		y[i] = (x[i] - mean) / sqrt(var + 1e-5) * w[i] + bias[i];
}

/* y (oc) = W (oc, ic) x + b, all from raw floats. */
static void
test_matvec(const float *W, const float *b, const double *x, int oc, int ic, double *y)
{
	for (int o = 0; o < oc; o++) {
		double acc = b != NULL ? b[o] : 0;

		for (int i = 0; i < ic; i++)
			acc += (double)W[(size_t)o * ic + i] * x[i];
		y[o] = acc;
	}
}

/*
 * GPT-2's forward pass, naively, in double, from llm.c's raw tensors p (the
 * order and shapes of llm.c's file): the logits (V) after each of the T tokens
 * go to logits (T, V).
 */
static void
test_naive_logits(const float *p, int V, int vp, const int *tok, int T, double *logits)
{
	enum { C = TEST_C, NH = TEST_NH, HS = TEST_C / TEST_NH };
	size_t s[16], off[16], o = 0;
	double x[TEST_MAXT][C], qkv[TEST_MAXT][3 * C], h[C], att[C], y[C], f[4 * C];

	test_sizes(V, vp, s);
	for (int i = 0; i < 16; i++) {
		off[i] = o;
		o += s[i];
	}
	/* Token embedding (wte row) plus position embedding (wpe row). */
	for (int t = 0; t < T; t++)
		for (int c = 0; c < C; c++)
			x[t][c] = (double)p[off[0] + (size_t)tok[t] * C + c] +
			    p[off[1] + (size_t)t * C + c];
	for (int l = 0; l < TEST_L; l++) {
		/* ln1, then q, k, v of every position (qkvw is (3C, C)). */
		for (int t = 0; t < T; t++) {
			test_ln(x[t], p + off[2] + l * C, p + off[3] + l * C, h);
			test_matvec(p + off[4] + (size_t)l * 3 * C * C,
			    p + off[5] + l * 3 * C, h, 3 * C, C, qkv[t]);
		}
		for (int t = 0; t < T; t++) {
			/* Causal attention of each head over positions 0..t. */
			for (int hd = 0; hd < NH; hd++) {
				double w[TEST_MAXT], mx = -1e300, sum = 0;

				for (int u = 0; u <= t; u++) {
					double d = 0;

					for (int i = 0; i < HS; i++)
						d += qkv[t][hd * HS + i] *
						    qkv[u][C + hd * HS + i];
					w[u] = d / sqrt((double)HS);
					if (w[u] > mx)
						mx = w[u];
				}
				for (int u = 0; u <= t; u++)
					sum += (w[u] = exp(w[u] - mx));
				for (int i = 0; i < HS; i++) {
					double a = 0;

					for (int u = 0; u <= t; u++)
						a += w[u] / sum *
						    qkv[u][2 * C + hd * HS + i];
					att[hd * HS + i] = a;
				}
			}
			/* Output projection and the residual (q, k, v are done). */
			test_matvec(p + off[6] + (size_t)l * C * C,
			    p + off[7] + l * C, att, C, C, y);
			for (int c = 0; c < C; c++)
				x[t][c] += y[c];
		}
		/* ln2, fc (4C, C), GELU (tanh form), fcproj (C, 4C), residual. */
		for (int t = 0; t < T; t++) {
			test_ln(x[t], p + off[8] + l * C, p + off[9] + l * C, h);
			test_matvec(p + off[10] + (size_t)l * 4 * C * C,
			    p + off[11] + l * 4 * C, h, 4 * C, C, f);
			for (int i = 0; i < 4 * C; i++)
				f[i] = 0.5 * f[i] * (1 + tanh(sqrt(2 / M_PI) *
				    (f[i] + 0.044715 * f[i] * f[i] * f[i])));
			test_matvec(p + off[12] + (size_t)l * C * 4 * C,
			    p + off[13] + l * C, f, C, 4 * C, y);
			for (int c = 0; c < C; c++)
				x[t][c] += y[c];
		}
	}
	/* lnf, then the LM head tied to wte (the first V rows). */
	for (int t = 0; t < T; t++) {
		test_ln(x[t], p + off[14], p + off[15], h);
		test_matvec(p + off[0], NULL, h, V, C, logits + (size_t)t * V);
	}
}

/* The GPT-2 cases: tests/data/gpt2-expected.js printed these (see there how). */
struct test_case {
	const char *what;
	const char *text;
	size_t len;
	int ids[64];
	size_t n;
};
static const struct test_case test_cases[] = {
#include "gpt2-cases.inc"
};

static char test_dir[4096];

/* A path inside the test directory (one of a few static buffers). */
static const char *
test_path(const char *name)
{
	static char bufs[8][4200];
	static int next;
	char *b = bufs[next++ % 8];

	snprintf(b, sizeof bufs[0], "%s/%s", test_dir, name);
	return b;
}

/* Write a file; abort on failure (the test's own files). */
static void
test_write(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		abort();
	}
}

/* Whether a file holds exactly these bytes. */
static int
test_same_file(const char *path, const uint8_t *p, size_t n)
{
	char *buf = NULL, *cause = NULL;
	size_t len;
	int same;

	if (util_read_file(path, 0, &buf, &len, &cause) != 0) {
		tap_diag("%s", TEST_MSG(cause));
		free(cause);
		return 0;
	}
	same = len == n && memcmp(buf, p, n) == 0;
	if (!same)
		tap_diag("%s: %zu bytes, expected %zu", path, len, n);
	free(buf);
	return same;
}

/* Max |engine - naive| over every position's V logits, training and KV paths. */
static void
test_logits(struct gpt_model *m, const float *raw, int V, int vp, const char *what)
{
	int ids[TEST_MAXT], T = TEST_MAXT, Vp = gpt_config(m)->padded_vocab_size;
	double *ref = malloc((size_t)T * V * sizeof *ref), dtrain = 0, dkv = 0, scale = 0;
	float *kvl = malloc((size_t)Vp * sizeof *kvl);
	struct gpt_kv *kv;
	char *cause = NULL;
	uint64_t seed = 7;

	for (int t = 0; t < T; t++)
		ids[t] = (int)((test_rand(&seed) + 1) / 2 * V) % V;
	ids[1] = V - 1; /* <|endoftext|> too */
	test_naive_logits(raw, V, vp, ids, T, ref);
	for (size_t i = 0; i < (size_t)T * V; i++)
		scale = fmax(scale, fabs(ref[i]));
	TEST_OK(gpt_forward(m, ids, NULL, NULL, 1, T, &cause) == 0,
	    "%s: forward (%s)", what, TEST_MSG(cause));
	for (int t = 0; t < T; t++)
		for (int v = 0; v < V; v++)
			dtrain = fmax(dtrain, fabs(gpt_logits(m)[(size_t)t * Vp + v] -
			    ref[(size_t)t * V + v]));
	kv = gpt_kv_new(m, T, &cause);
	TEST_OK(kv != NULL && gpt_kv_append(m, kv, ids, T, &cause) == 0,
	    "%s: KV cache (%s)", what, TEST_MSG(cause));
	for (int t = 0; kv != NULL && t < T; t++) {
		gpt_kv_logits(m, kv, t, kvl);
		for (int v = 0; v < V; v++)
			dkv = fmax(dkv, fabs(kvl[v] - ref[(size_t)t * V + v]));
	}
	tap_diag("%s: logits up to %.3g; max difference from the naive forward: "
	    "training %.3g, KV cache %.3g", what, scale, dtrain, dkv);
	TEST_OK(scale > 0.1 && dtrain < 1e-4 * scale && dkv < 1e-4 * scale,
	    "%s: every tensor in its place (logits match the naive forward)", what);
	gpt_kv_free(kv);
	free(cause);
	free(ref);
	free(kvl);
}

/* Import, compare logits, round-trip through a checkpoint and export. */
static void
test_roundtrip(int mver, int tver, int vp_extra)
{
	struct test_buf mb = { 0 }, tb = { 0 };
	struct gpt_model *m = NULL, *m2 = NULL;
	struct tokenizer *tok = NULL, *tok2 = NULL;
	struct record rec, rec2;
	char what[64], *cause = NULL;
	float *raw;
	int V = 256 + TEST_NMERGES + 1, vp = mver == 3 ? V + vp_extra : V;

	snprintf(what, sizeof what, "model v%d (padded %d), tokenizer v%d", mver, vp,
	    tver);
	test_tokenizer_file(&tb, tver);
	test_model_file(&mb, mver, V, vp, &raw);
	test_write(test_path("in.bin"), mb.p, mb.n);
	test_write(test_path("in-tok.bin"), tb.p, tb.n);
	record_init(&rec);
	record_init(&rec2);
	TEST_OK(llmc_import(test_path("in.bin"), test_path("in-tok.bin"), &m, &tok, &rec,
	    &cause) == 0, "%s: import (%s)", what, TEST_MSG(cause));
	if (m == NULL)
		goto done;
	TEST_OK(gpt_config(m)->vocab_size == V && gpt_config(m)->padded_vocab_size ==
	    (vp > V ? vp : V + 1) && tokenizer_bksp(tok) == V &&
	    tokenizer_kind(tok) == TOKENIZER_KIND_GPT2 && !gpt_has_bksp(m),
	    "%s: vocabulary %d, <bksp> is row %d, the first padded one", what, V, V);
	test_logits(m, raw, V, vp, what);

	/* Through a seqmatch checkpoint and back out. */
	TEST_OK(checkpoint_save(test_path("m.bin"), m, tok, &rec, &cause) == 0 &&
	    checkpoint_load(test_path("m.bin"), &m2, &tok2, &rec2, &cause) == 0,
	    "%s: checkpoint save and load (%s)", what, TEST_MSG(cause));
	if (m2 == NULL)
		goto done;
	TEST_OK(tokenizer_kind(tok2) == TOKENIZER_KIND_GPT2,
	    "%s: the checkpoint keeps GPT-2's tokenizer kind", what);
	TEST_OK(llmc_export(test_path("out.bin"), test_path("out-tok.bin"), m2, tok2,
	    &rec2, &cause) == 0, "%s: export (%s)", what, TEST_MSG(cause));
	TEST_OK(test_same_file(test_path("out.bin"), mb.p, mb.n),
	    "%s: the exported model file has the imported bytes", what);
	TEST_OK(test_same_file(test_path("out-tok.bin"), tb.p, tb.n),
	    "%s: the exported tokenizer file has the imported bytes", what);

	/* A fine-tune's <bksp> row goes to the first padded row (m2 was loaded
	 * from its file's mapping: it writes only to a copy of its own). */
	TEST_OK(gpt_make_private(m2, &cause) == 0, "%s: a private copy (%s)", what,
	    TEST_MSG(cause));
	gpt_init_bksp(m2);
	gpt_set_bksp(m2, 1);
	TEST_OK(llmc_export(test_path("ft.bin"), test_path("ft-tok.bin"), m2, tok2,
	    &rec2, &cause) == 0, "%s: export with <bksp> (%s)", what, TEST_MSG(cause));
	{
		char *buf = NULL;
		size_t len = 0, C = TEST_C;
		int32_t h[8];
		int rows_same, bksp_row;

		if (util_read_file(test_path("ft.bin"), 0, &buf, &len, &cause) == 0) {
			int vpo;
			memcpy(h, buf, sizeof h);
			vpo = vp > V ? vp : V + 1;
			rows_same = memcmp(buf + 1024, mb.p + 1024, (size_t)V * C * 4) == 0;
			bksp_row = memcmp(buf + 1024 + (size_t)V * C * 4,
			    gpt_params(m2)->wte + (size_t)V * C, C * 4) == 0;
			TEST_OK(h[1] == 3 && h[3] == V && h[7] == vpo &&
			    len == 1024 + ((size_t)vpo * C + mb.n / 4 - 256 -
			    (size_t)vp * C) * 4 && rows_same && bksp_row &&
			    memcmp(buf + len - (mb.n - 1024 - (size_t)vp * C * 4),
			    mb.p + 1024 + (size_t)vp * C * 4,
			    mb.n - 1024 - (size_t)vp * C * 4) == 0,
			    "%s: <bksp> exported as row %d of %d (version 3); the other "
			    "rows and tensors unchanged", what, V, vpo);
		}
		free(buf);
	}
done:
	free(cause);
	record_release(&rec);
	record_release(&rec2);
	gpt_free(m);
	gpt_free(m2);
	tokenizer_free(tok);
	tokenizer_free(tok2);
	free(raw);
	free(mb.p);
	free(tb.p);
}

/* Overwrite a little-endian int32 at byte offset off. */
static void
test_set_i32(uint8_t *p, size_t off, int32_t v)
{
	uint32_t u = (uint32_t)v;

	p[off] = (uint8_t)u;
	p[off + 1] = (uint8_t)(u >> 8);
	p[off + 2] = (uint8_t)(u >> 16);
	p[off + 3] = (uint8_t)(u >> 24);
}

/* One bad pair of files: refused, with the bad file's name and the words expected. */
static void
test_bad(const char *what, const uint8_t *mp, size_t mn, const uint8_t *tp, size_t tn,
    const char *file, const char *words)
{
	struct gpt_model *m = NULL;
	struct tokenizer *tok = NULL;
	struct record rec;
	char *cause = NULL;
	int rc;

	record_init(&rec);
	rc = llmc_import_mem("model.bin", mp, mn, "tok.bin", tp, tn, &m, &tok, &rec,
	    &cause);
	TEST_OK(rc == -1 && m == NULL && tok == NULL && cause != NULL &&
	    strncmp(cause, file, strlen(file)) == 0 && strstr(cause, words) != NULL,
	    "bad files: %s: %s", what, TEST_MSG(cause));
	free(cause);
	record_release(&rec);
	gpt_free(m);
	tokenizer_free(tok);
}

/* Every kind of bad file. */
static void
test_bad_files(void)
{
	struct test_buf mb = { 0 }, tb = { 0 };
	uint8_t *m, *t;
	float *raw, nan = NAN;
	int V = 256 + TEST_NMERGES + 1, vp = V + 1;
	/* Where token 258's bytes ("the") start: after 256 bytes, "th", "he". */
	size_t n3 = 1024 + 2 * 256 + 3 + 3 + 1;

	test_tokenizer_file(&tb, 2);
	test_model_file(&mb, 3, V, vp, &raw);
	free(raw);
	m = malloc(mb.n + 8);
	t = malloc(tb.n + 8);
#define TEST_FRESH() do { memcpy(m, mb.p, mb.n); memcpy(t, tb.p, tb.n); } while (0)
	TEST_FRESH();
	test_set_i32(m, 0, 12345);
	test_bad("model magic", m, mb.n, t, tb.n, "model.bin", "bad magic 12345");
	TEST_FRESH();
	test_bad("files swapped", t, tb.n, m, mb.n, "model.bin", "tokenizer file");
	TEST_FRESH();
	test_set_i32(m, 4, 2);
	test_bad("model version 2", m, mb.n, t, tb.n, "model.bin", "unsupported version 2");
	TEST_FRESH();
	test_set_i32(m, 4, 5);
	test_bad("model version 5", m, mb.n, t, tb.n, "model.bin", "bfloat16");
	TEST_FRESH();
	test_bad("model header cut", m, 100, t, tb.n, "model.bin", "truncated");
	test_bad("model cut by 4 bytes", m, mb.n - 4, t, tb.n, "model.bin",
	    "but the file has");
	m[mb.n] = 0;
	test_bad("a byte after the model", m, mb.n + 1, t, tb.n, "model.bin",
	    "but the file has");
	TEST_FRESH();
	test_set_i32(m, 16, 1000000);
	test_bad("a million layers", m, mb.n, t, tb.n, "model.bin", "num_layers");
	TEST_FRESH();
	test_set_i32(m, 24, -16);
	test_bad("negative channels", m, mb.n, t, tb.n, "model.bin", "channels");
	TEST_FRESH();
	test_set_i32(m, 20, 3);
	test_bad("channels not a multiple of heads", m, mb.n, t, tb.n, "model.bin",
	    "not a multiple");
	TEST_FRESH();
	test_set_i32(m, 8, INT32_MAX);
	test_bad("absurd max_seq_len", m, mb.n, t, tb.n, "model.bin", "max_seq_len");
	TEST_FRESH();
	test_set_i32(m, 12, 0);
	test_bad("vocab_size 0", m, mb.n, t, tb.n, "model.bin", "vocab_size");
	TEST_FRESH();
	test_set_i32(m, 28, V - 1);
	test_bad("padded below vocab_size", m, mb.n, t, tb.n, "model.bin",
	    "smaller than vocab_size");
	TEST_FRESH();
	test_set_i32(m, 400, 7);
	test_bad("a stray header entry", m, mb.n, t, tb.n, "model.bin", "entry 100");
	TEST_FRESH();
	memcpy(m + 1024 + 4 * 5000, &nan, 4);
	test_bad("a NaN weight", m, mb.n, t, tb.n, "model.bin", "non-finite");

	TEST_FRESH();
	test_set_i32(t, 0, 20240327);
	test_bad("tokenizer magic", m, mb.n, t, tb.n, "tok.bin", "bad magic");
	TEST_FRESH();
	test_set_i32(t, 4, 3);
	test_bad("tokenizer version 3", m, mb.n, t, tb.n, "tok.bin",
	    "unsupported version 3");
	TEST_FRESH();
	test_set_i32(t, 8, 2000000000);
	test_bad("absurd vocab size", m, mb.n, t, tb.n, "tok.bin", "out of range");
	TEST_FRESH();
	test_set_i32(t, 8, V + 100);
	test_set_i32(t, 12, V + 99);
	test_bad("more tokens than the file holds", m, mb.n, t, tb.n, "tok.bin",
	    "truncated");
	TEST_FRESH();
	test_set_i32(t, 12, 5);
	test_bad("end-of-text id", m, mb.n, t, tb.n, "tok.bin", "end-of-text id is 5");
	TEST_FRESH();
	test_bad("tokenizer cut", m, mb.n, t, tb.n - 3, "tok.bin", "truncated");
	t[tb.n] = 'x';
	test_bad("a byte after the tokens", m, mb.n, t, tb.n + 1, "tok.bin",
	    "after the last");
	TEST_FRESH();
	t[1024] = 0;
	test_bad("an empty token", m, mb.n, t, tb.n, "tok.bin", "length 0");
	TEST_FRESH();
	t[1024 + 2 * 5 + 1] = t[1024 + 1]; /* token 5 is token 0's byte */
	test_bad("a byte twice", m, mb.n, t, tb.n, "tok.bin", "both the byte");
	TEST_FRESH();
	memcpy(t + n3, "qzx", 3);
	test_bad("a token that is not a merge", m, mb.n, t, tb.n, "tok.bin",
	    "not a merge of two earlier tokens");
	TEST_FRESH();
	t[tb.n - 2] = ']';
	test_bad("end-of-text text", m, mb.n, t, tb.n, "tok.bin", "<|endoftext|>");
	TEST_FRESH();
	test_set_i32(m, 12, V - 1); /* wte keeps its padded rows: same length */
	test_bad("vocabularies that differ", m, mb.n, t, tb.n, "model.bin",
	    "but tok.bin has");
#undef TEST_FRESH
	free(m);
	free(t);
	free(mb.p);
	free(tb.p);
}

/* GPT-2's tokenizer on the tricky strings. */
static void
test_gpt2(void)
{
	const char *srcdir = getenv("SRCDIR");
	char path[4200], *buf = NULL, *cause = NULL;
	size_t len;
	struct tokenizer *tok = NULL, *tok2 = NULL;
	uint8_t *ser = NULL;
	size_t serlen;
	int version = 0;

	snprintf(path, sizeof path, "%s/tests/data/gpt2-tokenizer.bin",
	    srcdir != NULL ? srcdir : ".");
	TEST_OK(util_read_file(path, 0, &buf, &len, &cause) == 0 &&
	    llmc_import_tokenizer_mem(path, buf, len, &tok, &version, &cause) == 0 &&
	    version == 2 && tokenizer_vocab_size(tok) == 50257,
	    "GPT-2: %s imports: 50257 tokens, version 2 (%s)", path, TEST_MSG(cause));
	free(buf);
	if (tok == NULL)
		return;
	/* Through the checkpoint's TOKN form (version 2, the kind kept). */
	TEST_OK(tokenizer_serialize(tok, &ser, &serlen, &cause) == 0 && ser[4] == 2 &&
	    tokenizer_deserialize(ser, serlen, &tok2, &cause) == 0 &&
	    tokenizer_kind(tok2) == TOKENIZER_KIND_GPT2,
	    "GPT-2: serialised as TOKN version 2 with its kind (%s)", TEST_MSG(cause));
	free(ser);
	for (size_t c = 0; c < sizeof test_cases / sizeof test_cases[0]; c++) {
		const struct test_case *k = &test_cases[c];

		for (int which = 0; which < 2; which++) {
			const struct tokenizer *tk = which == 0 ? tok : tok2;
			int *ids = NULL, same;
			size_t n = 0, dlen = 0;
			uint8_t *dec = NULL;

			if (tk == NULL)
				continue;
			same = tokenizer_encode(tk, (const uint8_t *)k->text, k->len,
			    &ids, &n, &cause) == 0 && n == k->n;
			for (size_t i = 0; same && i < n; i++)
				same = ids[i] == k->ids[i];
			if (!same) {
				tap_diag("got %zu ids:", n);
				for (size_t i = 0; i < n; i++)
					tap_diag("  %d (expected %d)", ids[i],
					    i < k->n ? k->ids[i] : -1);
			}
			same = same && tokenizer_decode(tk, ids, n, &dec, &dlen,
			    &cause) == 0 && dlen == k->len &&
			    memcmp(dec, k->text, dlen) == 0;
			TEST_OK(same, "GPT-2 %s: %s: GPT-2's %zu ids, decoded back "
			    "byte for byte", which == 0 ? "imported" :
			    "from the checkpoint", k->what, k->n);
			free(ids);
			free(dec);
		}
	}
	free(cause);
	tokenizer_free(tok);
	tokenizer_free(tok2);
}

/* Our own tokenizers keep TOKN version 1, which older programs read. */
static void
test_own_kind(void)
{
	static const char text[] = "the cat and the hat and the bat sat on the mat";
	struct tokenizer *tok = NULL;
	uint8_t *ser = NULL;
	size_t len;
	char *cause = NULL;

	TEST_OK(tokenizer_train((const uint8_t *)text, sizeof text - 1, 270, &tok,
	    &cause) == 0 && tokenizer_kind(tok) == TOKENIZER_KIND_OWN &&
	    tokenizer_serialize(tok, &ser, &len, &cause) == 0 && ser[4] == 1 &&
	    len == 16 + 8 * (size_t)(tokenizer_vocab_size(tok) - 257),
	    "own tokenizer: still written as TOKN version 1 (%s)", TEST_MSG(cause));
	free(ser);
	free(cause);
	tokenizer_free(tok);
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(test_dir, sizeof test_dir, "%s/test-llmc.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(test_dir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	test_roundtrip(3, 2, 33);
	test_roundtrip(3, 2, 1);
	test_roundtrip(3, 1, 0);
	test_roundtrip(1, 2, 0);
	test_bad_files();
	test_gpt2();
	test_own_kind();
	{
		static const char *names[] = { "in.bin", "in-tok.bin", "m.bin",
		    "out.bin", "out-tok.bin", "ft.bin", "ft-tok.bin" };
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
			unlink(test_path(names[i]));
		rmdir(test_dir);
	}
	return tap_done();
}
