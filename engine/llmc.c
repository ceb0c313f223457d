/*
 * llmc.c: import and export of llm.c's model and tokenizer files (llmc.h).
 *
 * The engine keeps GPT-2's parameters in llm.c's layout already (gpt.h: the
 * same 16 tensors in the same order and shapes), so a model file is a header
 * check and a copy. The only difference is the padded vocabulary: llm.c pads
 * wte to padded_vocab_size rows (50304 for GPT-2) and ignores the padding;
 * the engine needs one row past vocab_size for <bksp>, and takes the first
 * padded row for it. Everything import needs to write the same bytes back
 * (the two versions, the file's padded size) goes into the record.
 *
 * The tokenizer file lists the tokens' bytes; tokenizer_from_pieces recovers
 * GPT-2's merges from their order (tokenizer.c explains how).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpt.h"
#include "llmc.h"
#include "record.h"
#include "tokenizer.h"
#include "util.h"

#define LLMC_HEADER_BYTES (LLMC_HEADER_INTS * 4)

/* A little-endian int32 at p. */
static int32_t
llmc_get_i32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 |
	    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

/* Store a little-endian int32. */
static void
llmc_put_i32(uint8_t *p, int32_t v)
{
	uint32_t u = (uint32_t)v;

	p[0] = (uint8_t)u;
	p[1] = (uint8_t)(u >> 8);
	p[2] = (uint8_t)(u >> 16);
	p[3] = (uint8_t)(u >> 24);
}

/* Decode n little-endian float32 values. */
static void
llmc_get_f32(float *dst, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++, p += 4) {
		uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;

		memcpy(&dst[i], &u, 4);
	}
}

/* Encode n float32 values little-endian. */
static void
llmc_put_f32(uint8_t *p, const float *src, size_t n)
{
	for (size_t i = 0; i < n; i++, p += 4) {
		uint32_t u;

		memcpy(&u, &src[i], 4);
		p[0] = (uint8_t)u;
		p[1] = (uint8_t)(u >> 8);
		p[2] = (uint8_t)(u >> 16);
		p[3] = (uint8_t)(u >> 24);
	}
}

/* Header entries from first on must be zero (llm.c writes zeros there). */
static int
llmc_check_zero(const char *path, const uint8_t *h, int first, char **cause)
{
	for (int i = first; i < LLMC_HEADER_INTS; i++) {
		if (llmc_get_i32(h + 4 * i) != 0)
			return util_error(cause, "%s: header entry %d is %ld; "
			    "llm.c leaves entries %d..255 zero in this version",
			    path, i, (long)llmc_get_i32(h + 4 * i), first);
	}
	return 0;
}

/* Parse the model file into a new model; *file_vp gets the file's padded rows. */
/*
 * The start of either llm.c file: long enough for the header, the magic of
 * the kind wanted (the other kind's is named as such); *version is read.
 */
static int
llmc_check_head(const char *path, const uint8_t *buf, size_t len, int model,
    int32_t *version, char **cause)
{
	const char *what = model ? "model" : "tokenizer";
	const char *other = model ? "tokenizer" : "model";
	int32_t want = model ? LLMC_MODEL_MAGIC : LLMC_TOKENIZER_MAGIC;
	int32_t wrong = model ? LLMC_TOKENIZER_MAGIC : LLMC_MODEL_MAGIC;
	int32_t magic;

	if (len < LLMC_HEADER_BYTES)
		return util_error(cause, "%s: truncated: %zu bytes, but an llm.c "
		    "%s file starts with a %d-byte header", path, len, what,
		    LLMC_HEADER_BYTES);
	magic = llmc_get_i32(buf);
	*version = llmc_get_i32(buf + 4);
	if (magic == wrong)
		return util_error(cause, "%s: this is an llm.c %s file (magic %ld), "
		    "not a %s file (magic %ld)", path, other, (long)wrong, what,
		    (long)want);
	if (magic != want)
		return util_error(cause, "%s: bad magic %ld: not an llm.c %s file "
		    "(expected %ld)", path, (long)magic, what, (long)want);
	return 0;
}

static int
llmc_read_model(const char *path, const uint8_t *buf, size_t len,
    struct gpt_model **mp, int *versionp, int *file_vp, char **cause)
{
	struct gpt_config cfg;
	struct gpt_model *m;
	size_t sizes[GPT_NUM_TENSORS], ours[GPT_NUM_TENSORS], total, need;
	size_t off = LLMC_HEADER_BYTES;
	int32_t version, vp;
	float *dst;
	char *msg = NULL;

	*mp = NULL;
	if (llmc_check_head(path, buf, len, 1, &version, cause) != 0)
		return -1;
	if (version == 5)
		return util_error(cause, "%s: version 5 (bfloat16 weights) is not "
		    "supported; write the float32 file (version 3)", path);
	if (version != 3 && version != 1)
		return util_error(cause, "%s: unsupported version %ld (expected 3, "
		    "float32 with a padded vocabulary, or 1)", path, (long)version);
	cfg.max_seq_len = llmc_get_i32(buf + 8);
	cfg.vocab_size = llmc_get_i32(buf + 12);
	cfg.num_layers = llmc_get_i32(buf + 16);
	cfg.num_heads = llmc_get_i32(buf + 20);
	cfg.channels = llmc_get_i32(buf + 24);
	vp = version == 3 ? llmc_get_i32(buf + 28) : cfg.vocab_size;
	if (llmc_check_zero(path, buf, version == 3 ? 8 : 7, cause) != 0)
		return -1;
	if (version == 3 && vp < cfg.vocab_size)
		return util_error(cause, "%s: padded_vocab_size %ld is smaller than "
		    "vocab_size %d", path, (long)vp, cfg.vocab_size);
	/* One row past the vocabulary for <bksp>: the file's first padded one. */
	cfg.padded_vocab_size = vp > cfg.vocab_size ? vp : cfg.vocab_size + 1;
	if (gpt_config_check(&cfg, &msg) != 0) {
		util_error(cause, "%s: %s", path, msg);
		free(msg);
		return -1;
	}
	/* The file's size follows from the header: check before allocating. */
	total = gpt_config_sizes(&cfg, sizes);
	memcpy(ours, sizes, sizeof ours);
	total -= sizes[0];
	sizes[0] = (size_t)vp * (size_t)cfg.channels;
	total += sizes[0];
	need = total * 4;
	if (len - LLMC_HEADER_BYTES != need)
		return util_error(cause, "%s: the header's configuration "
		    "(max_seq_len %d, vocab_size %d, padded %ld, %d layers, %d "
		    "heads, %d channels) needs %zu bytes of float32 parameters "
		    "after the header, but the file has %zu", path,
		    cfg.max_seq_len, cfg.vocab_size, (long)vp, cfg.num_layers,
		    cfg.num_heads, cfg.channels, need, len - LLMC_HEADER_BYTES);
	m = gpt_new(&cfg, &msg);
	if (m == NULL) {
		util_error(cause, "%s: %s", path, msg);
		free(msg);
		return -1;
	}
	/* The tensors lie in one block in this order (gpt_point_params). */
	dst = gpt_param_memory(m);
	for (int i = 0; i < GPT_NUM_TENSORS; i++) {
		llmc_get_f32(dst, buf + off, sizes[i]);
		for (size_t k = 0; k < sizes[i]; k++) {
			if (!isfinite(dst[k])) {
				util_error(cause, "%s: tensor %s has a non-finite "
				    "value at index %zu (byte %zu)", path,
				    gpt_tensor_name(i), k, off + 4 * k);
				gpt_free(m);
				return -1;
			}
		}
		off += 4 * sizes[i];
		dst += ours[i]; /* our wte may have a row more: it stays zero */
	}
	*mp = m;
	*versionp = version;
	*file_vp = vp;
	return 0;
}

/* Parse a tokenizer file into a GPT-2 tokenizer; see llmc.h. */
int
llmc_import_tokenizer_mem(const char *path, const void *data, size_t len,
    struct tokenizer **tokp, int *versionp, char **cause)
{
	const uint8_t *buf = data;
	const uint8_t **pieces = NULL;
	size_t *lens = NULL, off = LLMC_HEADER_BYTES;
	size_t eot_len = strlen(TOKENIZER_EOT_TEXT);
	int32_t version, V;
	char *msg = NULL;
	int rc = -1;

	*tokp = NULL;
	if (llmc_check_head(path, buf, len, 0, &version, cause) != 0)
		return -1;
	if (version != 2 && version != 1)
		return util_error(cause, "%s: unsupported version %ld (expected 2 "
		    "or 1)", path, (long)version);
	V = llmc_get_i32(buf + 8);
	if (V < 257 || V > TOKENIZER_MAX_VOCAB)
		return util_error(cause, "%s: vocab_size %ld is out of range "
		    "[257, %d] (256 bytes, merges, <|endoftext|>)", path, (long)V,
		    TOKENIZER_MAX_VOCAB);
	if (version == 2 && llmc_get_i32(buf + 12) != V - 1)
		return util_error(cause, "%s: the end-of-text id is %ld; seqmatch "
		    "needs it to be the last token, %ld", path,
		    (long)llmc_get_i32(buf + 12), (long)V - 1);
	if (llmc_check_zero(path, buf, version == 2 ? 4 : 3, cause) != 0)
		return -1;
	/* Every token takes at least two bytes: check before allocating. */
	if ((len - LLMC_HEADER_BYTES) / 2 < (size_t)V)
		return util_error(cause, "%s: truncated: %ld tokens need at least "
		    "%zu bytes after the header, the file has %zu", path, (long)V,
		    2 * (size_t)V, len - LLMC_HEADER_BYTES);
	pieces = malloc((size_t)V * sizeof *pieces);
	lens = malloc((size_t)V * sizeof *lens);
	if (pieces == NULL || lens == NULL) {
		util_error(cause, "%s: out of memory", path);
		goto done;
	}
	for (int32_t i = 0; i < V; i++) {
		if (off >= len) {
			util_error(cause, "%s: truncated at token %ld of %ld",
			    path, (long)i, (long)V);
			goto done;
		}
		lens[i] = buf[off++];
		if (lens[i] == 0) {
			util_error(cause, "%s: token %ld has length 0 (byte %zu)",
			    path, (long)i, off - 1);
			goto done;
		}
		if (lens[i] > len - off) {
			util_error(cause, "%s: truncated in token %ld (%zu bytes "
			    "declared, %zu left)", path, (long)i, lens[i],
			    len - off);
			goto done;
		}
		pieces[i] = buf + off;
		off += lens[i];
	}
	if (off != len) {
		util_error(cause, "%s: %zu bytes after the last of %ld tokens",
		    path, len - off, (long)V);
		goto done;
	}
	if (lens[V - 1] != eot_len ||
	    memcmp(pieces[V - 1], TOKENIZER_EOT_TEXT, eot_len) != 0) {
		util_error(cause, "%s: the last token (%ld) must be %s", path,
		    (long)V - 1, TOKENIZER_EOT_TEXT);
		goto done;
	}
	if (tokenizer_from_pieces(pieces, lens, V - 1, TOKENIZER_KIND_GPT2, tokp,
	    &msg) != 0) {
		util_error(cause, "%s: %s", path, msg);
		free(msg);
		goto done;
	}
	*versionp = version;
	rc = 0;
done:
	free(pieces);
	free(lens);
	return rc;
}

/* Import from memory; see llmc.h. */
int
llmc_import_mem(const char *model_path, const void *mdata, size_t mlen,
    const char *tok_path, const void *tdata, size_t tlen, struct gpt_model **mp,
    struct tokenizer **tokp, struct record *rec, char **cause)
{
	struct gpt_model *m = NULL;
	struct tokenizer *tok = NULL;
	int mver = 0, tver = 0, vp = 0;

	*mp = NULL;
	*tokp = NULL;
	if (llmc_read_model(model_path, mdata, mlen, &m, &mver, &vp, cause) != 0)
		return -1;
	if (llmc_import_tokenizer_mem(tok_path, tdata, tlen, &tok, &tver,
	    cause) != 0) {
		gpt_free(m);
		return -1;
	}
	if (tokenizer_vocab_size(tok) != gpt_config(m)->vocab_size) {
		util_error(cause, "%s has vocab_size %d but %s has %d tokens",
		    model_path, gpt_config(m)->vocab_size, tok_path,
		    tokenizer_vocab_size(tok));
		goto fail;
	}
	if (rec != NULL && (record_set(rec, "source", "llm.c") != 0 ||
	    record_set(rec, "llmc_model_version", "%d", mver) != 0 ||
	    record_set(rec, "llmc_tokenizer_version", "%d", tver) != 0 ||
	    record_set(rec, "llmc_padded_vocab_size", "%d", vp) != 0)) {
		util_error(cause, "out of memory");
		goto fail;
	}
	*mp = m;
	*tokp = tok;
	return 0;
fail:
	gpt_free(m);
	tokenizer_free(tok);
	return -1;
}

/* Import llm.c's files; see llmc.h. */
int
llmc_import(const char *model_path, const char *tok_path, struct gpt_model **m,
    struct tokenizer **tok, struct record *rec, char **cause)
{
	char *mbuf = NULL, *tbuf = NULL;
	size_t mlen, tlen;
	int rc;

	*m = NULL;
	*tok = NULL;
	if (util_read_file(model_path, 0, &mbuf, &mlen, cause) != 0)
		return -1;
	if (util_read_file(tok_path, 0, &tbuf, &tlen, cause) != 0) {
		free(mbuf);
		return -1;
	}
	rc = llmc_import_mem(model_path, mbuf, mlen, tok_path, tbuf, tlen, m, tok,
	    rec, cause);
	free(mbuf);
	free(tbuf);
	return rc;
}

/* An integer record entry in [lo, hi], or def when absent or out of range. */
static int
llmc_record_int(const struct record *rec, const char *key, int lo, int hi, int def)
{
	const char *v = rec != NULL ? record_get(rec, key) : NULL;
	char *end;
	long x;

	if (v == NULL)
		return def;
	x = strtol(v, &end, 10);
	if (end == v || *end != '\0' || x < lo || x > hi)
		return def;
	return (int)x;
}

/* Export llm.c's files; see llmc.h. */
int
llmc_export(const char *model_path, const char *tok_path, struct gpt_model *m,
    const struct tokenizer *tok, const struct record *rec, char **cause)
{
	const struct gpt_config *cfg = gpt_config(m);
	const float *src = gpt_param_memory(m);
	size_t sizes[GPT_NUM_TENSORS], total, mlen, tlen, off;
	uint8_t *mbuf = NULL, *tbuf = NULL;
	int V = cfg->vocab_size, rows = cfg->padded_vocab_size, mver, tver, rc = -1;

	if (tokenizer_vocab_size(tok) != V)
		return util_error(cause, "the tokenizer has %d tokens but the model "
		    "%d", tokenizer_vocab_size(tok), V);
	mver = llmc_record_int(rec, "llmc_model_version", 1, 3, 3) == 1 ? 1 : 3;
	tver = llmc_record_int(rec, "llmc_tokenizer_version", 1, 2, 2);
	/* Drop the <bksp> row the import added, unless it is trained now. */
	if (!gpt_has_bksp(m))
		rows = llmc_record_int(rec, "llmc_padded_vocab_size", V, rows, rows);
	if (mver == 1 && rows != V)
		mver = 3; /* version 1 has no room for a <bksp> row */

	/* The tokenizer file: every piece must fit its length byte. */
	tlen = LLMC_HEADER_BYTES;
	for (int id = 0; id < V; id++) {
		size_t plen;

		tokenizer_piece(tok, id, &plen);
		if (plen == 0 || plen > 255)
			return util_error(cause, "%s: token %d is %zu bytes long; "
			    "llm.c's tokenizer file holds 1..255 bytes a token",
			    tok_path, id, plen);
		tlen += 1 + plen;
	}
	total = gpt_config_sizes(cfg, sizes);
	total -= sizes[0] - (size_t)rows * (size_t)cfg->channels;
	if (util_mul(total, 4, &mlen) != 0 ||
	    util_add(mlen, LLMC_HEADER_BYTES, &mlen) != 0)
		return util_error(cause, "%s: the model is too large", model_path);
	mbuf = calloc(1, mlen);
	tbuf = calloc(1, tlen);
	if (mbuf == NULL || tbuf == NULL) {
		util_error(cause, "out of memory for %zu bytes", mlen + tlen);
		goto done;
	}
	llmc_put_i32(mbuf, LLMC_MODEL_MAGIC);
	llmc_put_i32(mbuf + 4, mver);
	llmc_put_i32(mbuf + 8, cfg->max_seq_len);
	llmc_put_i32(mbuf + 12, V);
	llmc_put_i32(mbuf + 16, cfg->num_layers);
	llmc_put_i32(mbuf + 20, cfg->num_heads);
	llmc_put_i32(mbuf + 24, cfg->channels);
	if (mver == 3)
		llmc_put_i32(mbuf + 28, rows);
	off = LLMC_HEADER_BYTES;
	for (int i = 0; i < GPT_NUM_TENSORS; i++) {
		size_t n = i == 0 ? (size_t)rows * (size_t)cfg->channels : sizes[i];

		llmc_put_f32(mbuf + off, src, n);
		off += 4 * n;
		src += sizes[i];
	}

	llmc_put_i32(tbuf, LLMC_TOKENIZER_MAGIC);
	llmc_put_i32(tbuf + 4, tver);
	llmc_put_i32(tbuf + 8, V);
	if (tver == 2)
		llmc_put_i32(tbuf + 12, V - 1);
	off = LLMC_HEADER_BYTES;
	for (int id = 0; id < V; id++) {
		size_t plen;
		const uint8_t *p = tokenizer_piece(tok, id, &plen);

		tbuf[off++] = (uint8_t)plen;
		memcpy(tbuf + off, p, plen);
		off += plen;
	}
	if (util_write_file_atomic(model_path, mbuf, mlen, 0644, cause) != 0 ||
	    util_write_file_atomic(tok_path, tbuf, tlen, 0644, cause) != 0)
		goto done;
	rc = 0;
done:
	free(mbuf);
	free(tbuf);
	return rc;
}
