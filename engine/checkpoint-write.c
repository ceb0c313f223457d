/*
 * checkpoint-write.c: saving a model file (fp32, or version 4 with the
 * matrices in a stored weight format) and an optimizer-state file: each
 * encoded into one buffer and written atomically.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "checkpoint-impl.h"
#include "checkpoint.h"
#include "crc32.h"
#include "gpt.h"
#include "qweights.h"
#include "record.h"
#include "tokenizer.h"
#include "util.h"

/* Store a little-endian u32 at p. */
static void
checkpoint_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Store a little-endian u64 at p. */
static void
checkpoint_put_u64(uint8_t *p, uint64_t v)
{
	checkpoint_put_u32(p, (uint32_t)v);
	checkpoint_put_u32(p + 4, (uint32_t)(v >> 32));
}

/* A buffer being filled front to back; its size is computed beforehand. */
struct checkpoint_writer {
	uint8_t *p;
	size_t off;
};

/* Append raw bytes. */
static void
checkpoint_w_bytes(struct checkpoint_writer *w, const void *s, size_t n)
{
	if (n > 0)
		memcpy(w->p + w->off, s, n);
	w->off += n;
}

/* Append a u32. */
static void
checkpoint_w_u32(struct checkpoint_writer *w, uint32_t v)
{
	checkpoint_put_u32(w->p + w->off, v);
	w->off += 4;
}

/* Append a u64. */
static void
checkpoint_w_u64(struct checkpoint_writer *w, uint64_t v)
{
	checkpoint_put_u64(w->p + w->off, v);
	w->off += 8;
}

/* Append n floats as little-endian f32; a NULL source writes zeros. */
static void
checkpoint_w_f32(struct checkpoint_writer *w, const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t u = 0;

		if (x != NULL)
			memcpy(&u, &x[i], sizeof u);
		checkpoint_w_u32(w, u);
	}
}

/* Start a section with its tag and payload length; returns the payload offset. */
static size_t
checkpoint_w_begin(struct checkpoint_writer *w, const char *tag, uint64_t len)
{
	checkpoint_w_bytes(w, tag, 4);
	checkpoint_w_u64(w, len);
	return w->off;
}

/* Close a section whose payload started at start: append its CRC. */
static void
checkpoint_w_end(struct checkpoint_writer *w, size_t start)
{
	checkpoint_w_u32(w, crc32_update(0, w->p + start, w->off - start));
}

/* ALGN: alen zero bytes. */
static void
checkpoint_w_align(struct checkpoint_writer *w, size_t alen)
{
	size_t start = checkpoint_w_begin(w, "ALGN", alen);

	memset(w->p + w->off, 0, alen);
	w->off += alen;
	checkpoint_w_end(w, start);
}

/* Close the file: END. holding the CRC-32 of everything before it (version 2). */
static void
checkpoint_w_finish(struct checkpoint_writer *w)
{
	uint32_t crc = crc32_update(0, w->p, w->off);
	size_t start = checkpoint_w_begin(w, "END.", CHECKPOINT_END_LEN);

	checkpoint_w_u32(w, crc);
	checkpoint_w_end(w, start);
}

/* Add a section of len payload bytes to a running file size; -1 on overflow. */
static int
checkpoint_size_add(size_t *total, size_t len)
{
	if (util_add(*total, len, total) != 0 ||
	    util_add(*total, CHECKPOINT_FRAME, total) != 0)
		return -1;
	return 0;
}

/* Save a model, its tokenizer and a record (NULL: empty) to path. */
int
checkpoint_save(const char *path, struct gpt_model *m, const struct tokenizer *tok,
    const struct record *rec, char **cause)
{
	return checkpoint_save_weights(path, m, tok, rec, NULL, cause);
}

/* WFMT's format codes (checkpoint.h). */
static uint32_t
checkpoint_format_code(enum quant_format f)
{
	return f == QUANT_BF16 ? 1 : f == QUANT_Q8 ? 2 : 0;
}

/* Save with the matrices in qw's format (version 4) unless qw is NULL or fp32. */
int
checkpoint_save_weights(const char *path, struct gpt_model *m, const struct tokenizer *tok,
    const struct record *rec, const struct qweights *qw, char **cause)
{
	const struct gpt_config *cfg = gpt_config(m);
	size_t n = gpt_num_params(m), pbytes, total = CHECKPOINT_HEADER, start;
	const float *params = gpt_param_memory(m);
	size_t sizes[GPT_NUM_TENSORS], np = n, qlen = 0;
	uint8_t *tbuf = NULL, *rbuf = NULL;
	size_t tlen = 0, rlen = 0, alen, before;
	struct checkpoint_writer w;
	enum quant_format f = qw != NULL ? qweights_format(qw) : QUANT_FP32;
	char *msg = NULL;
	int rc;

	/* Never write a file that checkpoint_load would refuse. */
	if (tokenizer_vocab_size(tok) != cfg->vocab_size)
		return util_error(cause, "%s: not saving: the tokenizer has %d tokens but "
		    "the model's vocab_size is %d", path, tokenizer_vocab_size(tok),
		    cfg->vocab_size);
	gpt_config_sizes(cfg, sizes);
	if (checkpoint_check_finite(path, "not saving: parameter", params, n, sizes,
	    cause) != 0)
		return -1;

	if (tokenizer_serialize(tok, &tbuf, &tlen, &msg) != 0) {
		util_error(cause, "%s: tokenizer: %s", path, msg ? msg : "error");
		free(msg);
		return -1;
	}
	if (rec != NULL && record_serialize(rec, &rbuf, &rlen, &msg) != 0) {
		util_error(cause, "%s: %s", path, msg ? msg : "record error");
		free(msg);
		free(tbuf);
		return -1;
	}
	if (f != QUANT_FP32) {
		/* Version 4: PARM holds every tensor but the block matrices. */
		for (int t = 0; t < GPT_NUM_TENSORS; t++) {
			if (qweights_tensor_stored(t))
				np -= sizes[t];
		}
		qlen = qweights_stored_size(cfg, f);
	}
	if (util_mul(np, 4, &pbytes) != 0) {
		free(tbuf);
		free(rbuf);
		return util_error(cause, "%s: model too large", path);
	}
	/*
	 * ALGN's zeros put the payload after it at a multiple of CHECKPOINT_ALIGN:
	 * PARM's (version 3), or QMAT's (version 4, ALGN after PARM), which a
	 * reader then uses in place. before: the bytes ahead of that payload
	 * without ALGN's zeros (modulo CHECKPOINT_ALIGN): the header, TOKN, RECD,
	 * [WFMT, PARM], ALGN's frame and the tag and length of the next section.
	 */
	before = CHECKPOINT_HEADER + 3 * CHECKPOINT_FRAME + 12 + tlen % CHECKPOINT_ALIGN +
	    rlen % CHECKPOINT_ALIGN;
	if (f != QUANT_FP32)
		before += 2 * CHECKPOINT_FRAME + CHECKPOINT_WFMT_LEN + pbytes % CHECKPOINT_ALIGN;
	alen = (CHECKPOINT_ALIGN - before % CHECKPOINT_ALIGN) % CHECKPOINT_ALIGN;
	if (checkpoint_size_add(&total, tlen) != 0 ||
	    checkpoint_size_add(&total, rlen) != 0 ||
	    (f != QUANT_FP32 && checkpoint_size_add(&total, CHECKPOINT_WFMT_LEN) != 0) ||
	    checkpoint_size_add(&total, alen) != 0 ||
	    checkpoint_size_add(&total, pbytes) != 0 ||
	    (f != QUANT_FP32 && checkpoint_size_add(&total, qlen) != 0) ||
	    checkpoint_size_add(&total, CHECKPOINT_END_LEN) != 0) {
		free(tbuf);
		free(rbuf);
		return util_error(cause, "%s: model too large", path);
	}
	w.p = malloc(total);
	w.off = 0;
	if (w.p == NULL) {
		free(tbuf);
		free(rbuf);
		return util_error(cause, "%s: out of memory", path);
	}

	checkpoint_w_bytes(&w, CHECKPOINT_MAGIC, 8);
	checkpoint_w_u32(&w, f != QUANT_FP32 ? CHECKPOINT_VERSION : 3);
	checkpoint_w_u32(&w, CHECKPOINT_NFIELDS);
	checkpoint_w_u32(&w, (uint32_t)cfg->max_seq_len);
	checkpoint_w_u32(&w, (uint32_t)cfg->vocab_size);
	checkpoint_w_u32(&w, (uint32_t)cfg->padded_vocab_size);
	checkpoint_w_u32(&w, (uint32_t)cfg->num_layers);
	checkpoint_w_u32(&w, (uint32_t)cfg->num_heads);
	checkpoint_w_u32(&w, (uint32_t)cfg->channels);
	checkpoint_w_u64(&w, n);

	start = checkpoint_w_begin(&w, "TOKN", tlen);
	checkpoint_w_bytes(&w, tbuf, tlen);
	checkpoint_w_end(&w, start);
	start = checkpoint_w_begin(&w, "RECD", rlen);
	checkpoint_w_bytes(&w, rbuf, rlen);
	checkpoint_w_end(&w, start);
	if (f != QUANT_FP32) {
		start = checkpoint_w_begin(&w, "WFMT", CHECKPOINT_WFMT_LEN);
		checkpoint_w_u32(&w, checkpoint_format_code(f));
		checkpoint_w_u32(&w, f == QUANT_Q8 ? QUANT_GROUP : 1);
		checkpoint_w_end(&w, start);
	}
	if (f == QUANT_FP32)
		checkpoint_w_align(&w, alen);
	start = checkpoint_w_begin(&w, "PARM", pbytes);
	if (f == QUANT_FP32)
		checkpoint_w_f32(&w, params, n);
	else {
		const float *t = params;

		for (int i = 0; i < GPT_NUM_TENSORS; t += sizes[i], i++) {
			if (!qweights_tensor_stored(i))
				checkpoint_w_f32(&w, t, sizes[i]);
		}
	}
	checkpoint_w_end(&w, start);
	if (f != QUANT_FP32) {
		checkpoint_w_align(&w, alen);
		start = checkpoint_w_begin(&w, "QMAT", qlen);
		qweights_store(qw, w.p + w.off);
		w.off += qlen;
		checkpoint_w_end(&w, start);
	}
	checkpoint_w_finish(&w);
	free(tbuf);
	free(rbuf);

	rc = util_write_file_atomic(path, w.p, w.off, 0644, cause);
	free(w.p);
	return rc;
}

/* Save the AdamW state (zeros before the first update), the step and the run id. */
int
checkpoint_save_optim(const char *path, struct gpt_model *m, long step, uint64_t run_id,
    char **cause)
{
	size_t n = gpt_num_params(m), abytes, total = CHECKPOINT_OPT_HEADER, start;
	const float *am = gpt_adam_m(m), *av = gpt_adam_v(m);
	struct checkpoint_writer w;
	int rc;

	if (step < 0)
		return util_error(cause, "%s: not saving: negative step %ld", path, step);
	if (util_mul(n, 8, &abytes) != 0 || checkpoint_size_add(&total, abytes) != 0 ||
	    checkpoint_size_add(&total, CHECKPOINT_END_LEN) != 0)
		return util_error(cause, "%s: model too large", path);
	w.p = malloc(total);
	w.off = 0;
	if (w.p == NULL)
		return util_error(cause, "%s: out of memory", path);

	checkpoint_w_bytes(&w, CHECKPOINT_OPT_MAGIC, 8);
	checkpoint_w_u32(&w, CHECKPOINT_OPT_VERSION);
	checkpoint_w_u64(&w, n);
	checkpoint_w_u64(&w, (uint64_t)step);
	checkpoint_w_u64(&w, run_id);
	start = checkpoint_w_begin(&w, "ADAM", abytes);
	checkpoint_w_f32(&w, am, n);
	checkpoint_w_f32(&w, av, n);
	checkpoint_w_end(&w, start);
	checkpoint_w_finish(&w);

	rc = util_write_file_atomic(path, w.p, w.off, 0644, cause);
	free(w.p);
	return rc;
}
