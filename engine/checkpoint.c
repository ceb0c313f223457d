/*
 * checkpoint.c: the seqmatch model file and the optimizer-state file (the
 * format is documented in checkpoint.h).
 *
 * How this works. A save encodes everything into one buffer, field by field
 * with explicit widths and byte order, and hands it to util_write_file_atomic
 * (a unique temporary name, fsync, rename, fsync of the directory), so a
 * crash leaves the previous file intact. Version 3 puts ALGN's zeros before
 * PARM so that the weights start on a 4096-byte boundary of the file.
 *
 * A load maps the whole file read-only and private (a pipe or device, or
 * CHECKPOINT_LOAD_COPY, is read into a buffer instead) and checks it in this
 * order, so the message names the first thing wrong: header length, magic,
 * version, config (through gpt_config_check, before anything is allocated
 * from it), the parameter count against the config, then the section
 * framing (every length against the bytes left, before any allocation),
 * CRCs, required and duplicate sections, the PARM size, the parameters
 * finite; only then the tokenizer is parsed and matched against the config,
 * the record parsed and the model built: for a version 3 file around the
 * mapped weights themselves (gpt_new_external, which unmaps the file when the
 * model is freed or made private), else by copying them out. A version 4
 * file's stored matrices are used in place from the mapping too
 * (qweights_map, whose qweights_free unmaps the file), its other tensors
 * copied (checkpoint-quant.c). Results reach the caller only when everything
 * passed.
 *
 * Reading every byte once: each section's CRC is computed once (crc32_pool
 * of engine/crc32.c: on the worker pool for a large one, the parts joined by
 * crc32_concat) and the whole-file CRC in END. is assembled from the
 * sections' CRCs and the few framing bytes instead of a second pass. With MAP_POPULATE the
 * kernel maps every page in one call rather than one fault per 64 KiB.
 *
 * This file holds the loads; the rest lives beside it (checkpoint-impl.h has
 * the constants and shared helpers): checkpoint-format.c the section walk and
 * checks, checkpoint-write.c the saves, checkpoint-map.c the mapped files,
 * checkpoint-quant.c a version 4 file's stored weights, checkpoint-pair.c a
 * run's latest pair.
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint-impl.h"
#include "checkpoint.h"
#include "gpt.h"
#include "qweights.h"
#include "record.h"
#include "tokenizer.h"
#include "util.h"

/* Names of the config fields in file order (for messages). */
static const char *checkpoint_field_names[CHECKPOINT_NFIELDS] = {
	"max_seq_len", "vocab_size", "padded_vocab_size", "num_layers", "num_heads",
	"channels"
};

/* Read and check a model file, its parameters read in place: see checkpoint.h. */
int
checkpoint_load(const char *path, struct gpt_model **mp, struct tokenizer **tokp,
    struct record *rec, char **cause)
{
	return checkpoint_open(path, 0, mp, tokp, rec, cause);
}

static int checkpoint_decode(const char *path, const uint8_t *b, size_t len,
    struct checkpoint_map *map, const char *unmapped, int flags, struct gpt_model **mp,
    struct tokenizer **tokp, struct record *rec, struct qweights **qwp, char **cause);

/* Load a model file with flags (CHECKPOINT_LOAD_*): see checkpoint.h. */
int
checkpoint_open(const char *path, int flags, struct gpt_model **mp, struct tokenizer **tokp,
    struct record *rec, char **cause)
{
	return checkpoint_open_weights(path, flags, mp, tokp, rec, NULL, cause);
}

/* The same, accepting a file stored in bf16 or q8 (*qwp): see checkpoint.h. */
int
checkpoint_open_weights(const char *path, int flags, struct gpt_model **mp,
    struct tokenizer **tokp, struct record *rec, struct qweights **qwp, char **cause)
{
	struct checkpoint_map *map;
	char *buf;
	size_t len;
	int fd, rc;

	if (checkpoint_open_file(path, &fd, &len, cause) != 0)
		return -1;
	if (fd < 0 || (flags & CHECKPOINT_LOAD_COPY)) {
		/* A pipe, a device, an empty file, or asked to: read it whole. */
		if (fd >= 0)
			close(fd);
		if (util_read_file(path, 0, &buf, &len, cause) != 0)
			return -1;
		rc = checkpoint_decode(path, (const uint8_t *)buf, len, NULL,
		    fd < 0 ? "not a regular file" : "a copy was asked for",
		    CHECKPOINT_LOAD_COPY, mp, tokp, rec, qwp, cause);
		free(buf);
		return rc;
	}
	/* Every page is read at load unless lazy: map them all in one call. */
	map = checkpoint_map_file(path, fd, len, !(flags & CHECKPOINT_LOAD_LAZY), cause);
	close(fd); /* the mapping keeps the file */
	if (map == NULL)
		return -1;
	rc = checkpoint_decode(path, map->base, map->len, map, NULL, flags, mp, tokp, rec,
	    qwp, cause);
	/*
	 * The mapping belongs to what reads it in place: a stored file's matrices
	 * (whose model's parameter block is anonymous memory), else the model.
	 */
	if (rc != 0 || (qwp != NULL && *qwp != NULL ? qweights_mapped(*qwp) == 0 :
	    !gpt_params_external(*mp)))
		checkpoint_unmap(map);
	return rc;
}

/* Check a model file's bytes (path names it in messages); as checkpoint_load. */
int
checkpoint_load_mem(const char *path, const void *data, size_t len, struct gpt_model **mp,
    struct tokenizer **tokp, struct record *rec, char **cause)
{
	return checkpoint_decode(path, data, len, NULL, "read from memory",
	    CHECKPOINT_LOAD_COPY, mp, tokp, rec, NULL, cause);
}

/* The same, accepting a stored-format file (*qwp). */
int
checkpoint_load_mem_weights(const char *path, const void *data, size_t len,
    struct gpt_model **mp, struct tokenizer **tokp, struct record *rec,
    struct qweights **qwp, char **cause)
{
	return checkpoint_decode(path, data, len, NULL, "read from memory",
	    CHECKPOINT_LOAD_COPY, mp, tokp, rec, qwp, cause);
}

/*
 * The header of a model file: version, config (checked) and the parameter
 * count, which must match the config.
 */
static int
checkpoint_read_header(const char *path, const uint8_t *b, size_t len, uint32_t *version,
    struct gpt_config *cfg, size_t *n, size_t sizes[GPT_NUM_TENSORS], char **cause)
{
	uint32_t nfields, f[CHECKPOINT_NFIELDS];
	uint64_t nfile;
	char *msg = NULL;

	if (checkpoint_check_head(path, b, len, CHECKPOINT_MAGIC,
	    "seqmatch model file", CHECKPOINT_HEADER, CHECKPOINT_VERSION, version,
	    cause) != 0)
		return -1;
	nfields = checkpoint_get_u32(b + 12);
	if (nfields != CHECKPOINT_NFIELDS)
		return util_error(cause, "%s: corrupt: %u config fields (version %u has %d)",
		    path, (unsigned)nfields, (unsigned)*version, CHECKPOINT_NFIELDS);
	for (int i = 0; i < CHECKPOINT_NFIELDS; i++) {
		f[i] = checkpoint_get_u32(b + 16 + 4 * i);
		if (f[i] > INT_MAX)
			return util_error(cause, "%s: bad config: %s = %u is out of range", path,
			    checkpoint_field_names[i], (unsigned)f[i]);
	}
	cfg->max_seq_len = (int)f[0];
	cfg->vocab_size = (int)f[1];
	cfg->padded_vocab_size = (int)f[2];
	cfg->num_layers = (int)f[3];
	cfg->num_heads = (int)f[4];
	cfg->channels = (int)f[5];
	if (gpt_config_check(cfg, &msg) != 0) {
		util_error(cause, "%s: bad config: %s", path, msg ? msg : "invalid");
		free(msg);
		return -1;
	}
	*n = gpt_config_sizes(cfg, sizes);
	nfile = checkpoint_get_u64(b + 16 + 4 * CHECKPOINT_NFIELDS);
	if (nfile != (uint64_t)*n)
		return util_error(cause, "%s: corrupt: the header says %llu parameters, the "
		    "config implies %zu", path, (unsigned long long)nfile, *n);
	return 0;
}

/* Parse the TOKN payload and match it against the config. */
static int
checkpoint_read_tokenizer(const char *path, const struct checkpoint_section *stok,
    const struct gpt_config *cfg, struct tokenizer **tokp, char **cause)
{
	struct tokenizer *tok;
	char *msg = NULL;

	if (tokenizer_deserialize(stok->p, (size_t)stok->len, &tok, &msg) != 0) {
		util_error(cause, "%s: section TOKN: %s", path, msg ? msg : "invalid");
		free(msg);
		return -1;
	}
	if (tokenizer_vocab_size(tok) != cfg->vocab_size ||
	    cfg->padded_vocab_size <= tokenizer_vocab_size(tok)) {
		util_error(cause, "%s: corrupt: the tokenizer has %d tokens but the "
		    "config says vocab_size %d, padded_vocab_size %d", path,
		    tokenizer_vocab_size(tok), cfg->vocab_size, cfg->padded_vocab_size);
		tokenizer_free(tok);
		return -1;
	}
	*tokp = tok;
	return 0;
}

/*
 * Why a version 4 file's QMAT (section sqmat) is copied rather than used in
 * place from map, NULL if it can be used in place; unmapped says why map is
 * NULL.
 */
static const char *
checkpoint_qmat_copy_why(const struct checkpoint_map *map, const char *unmapped,
    int flags, const struct checkpoint_section *sqmat)
{
	if (map == NULL)
		return unmapped != NULL ? unmapped : "not mapped";
	if (flags & CHECKPOINT_LOAD_COPY)
		return "a copy was asked for";
	if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__)
		return "the host is big-endian, the file little-endian";
	/*
	 * The writer puts QMAT's payload at a multiple of CHECKPOINT_ALIGN, and
	 * earlier version 4 files at a multiple of 4 (after PARM); a file put
	 * together otherwise may not be aligned as the kernels read it.
	 */
	if ((uintptr_t)sqmat->p % QWEIGHTS_MAP_ALIGN != 0)
		return "section QMAT is not 4-byte aligned in the file";
	return NULL;
}

/*
 * Check a model file's bytes b (len) and build the model: its parameters
 * read in place from map when the file allows it (version 3, PARM aligned,
 * a little-endian host) and flags do not ask for a copy, else copied; a
 * version 4 file's stored matrices likewise (checkpoint_qmat_copy_why), its
 * other tensors always copied. unmapped says why map is NULL.
 */
static int
checkpoint_decode(const char *path, const uint8_t *b, size_t len,
    struct checkpoint_map *map, const char *unmapped, int flags, struct gpt_model **mp,
    struct tokenizer **tokp, struct record *rec, struct qweights **qwp, char **cause)
{
	struct checkpoint_section secs[] = {
		{ "TOKN", 1, NULL, 0, 0, 0, 0 },
		{ "RECD", 0, NULL, 0, 0, 0, 0 },
		{ "PARM", 1, NULL, 0, 0, 0, 0 },
		{ "ALGN", 0, NULL, 0, 0, 3, 0 },
		{ "WFMT", 0, NULL, 0, 0, 4, 0 },
		{ "QMAT", 0, NULL, 0, 0, 4, 0 },
	};
	struct checkpoint_section *stok = &secs[0], *srec = &secs[1], *sparm = &secs[2];
	struct checkpoint_section *sfmt = &secs[4], *sqmat = &secs[5];
	struct gpt_config cfg;
	struct gpt_model *m = NULL;
	struct tokenizer *tok = NULL;
	struct qweights *qw = NULL;
	struct record tmp;
	size_t sizes[GPT_NUM_TENSORS], n, np, pbytes;
	enum quant_format fmt = QUANT_FP32;
	uint32_t version;
	char *msg = NULL;
	int in_place, lazy = (flags & CHECKPOINT_LOAD_LAZY) != 0;

	record_init(&tmp);
	if (checkpoint_read_header(path, b, len, &version, &cfg, &n, sizes, cause) != 0)
		goto fail;
	/*
	 * A stored-format file is checked whole, mapped or not: the matrices'
	 * values are checked as the kernels need them (qweights_load).
	 */
	sparm->lazy = lazy && version < 4;
	if (checkpoint_walk(path, b, len, CHECKPOINT_HEADER, version, secs,
	    (int)(sizeof secs / sizeof secs[0]), cause) != 0)
		goto fail;
	np = n;
	if (version >= 4) {
		if (checkpoint_read_format(path, sfmt, sqmat, &fmt, cause) != 0)
			goto fail;
		for (int t = 0; t < GPT_NUM_TENSORS; t++) {
			if (qweights_tensor_stored(t))
				np -= sizes[t];
		}
	}
	if (util_mul(np, 4, &pbytes) != 0 || sparm->len != (uint64_t)pbytes) {
		util_error(cause, "%s: corrupt: section PARM has %llu bytes, expected "
		    "%zu (%zu parameters)", path, (unsigned long long)sparm->len,
		    np * 4, np);
		goto fail;
	}
	if (fmt != QUANT_FP32 && qwp == NULL) {
		util_error(cause, "%s: this model file holds %s weights (written by "
		    "'seqmatch quantize'), which only generate, eval and ui read; training, "
		    "fine-tuning and export need fp32 weights: use the fp32 file it was "
		    "made from, or write its weights back to fp32 (dequantized, not the "
		    "original's) with 'seqmatch quantize --model %s --out OUT --weights fp32'",
		    path, quant_format_name(fmt), path);
		goto fail;
	}
	in_place = map != NULL && !(flags & CHECKPOINT_LOAD_COPY) && version == 3 &&
	    ((uintptr_t)sparm->p & 3) == 0 &&
	    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;
	if (in_place && !lazy &&
	    checkpoint_check_finite(path, "parameter", (const float *)(const void *)sparm->p,
	    n, sizes, cause) != 0)
		goto fail;

	if (checkpoint_read_tokenizer(path, stok, &cfg, &tok, cause) != 0) {
		tok = NULL;
		goto fail;
	}
	if (srec->found &&
	    record_deserialize(srec->p, (size_t)srec->len, &tmp, &msg) != 0) {
		util_error(cause, "%s: section RECD: %s", path, msg ? msg : "invalid");
		goto fail;
	}

	/* The file is sound: now build the model. */
	if (in_place) {
		m = gpt_new_external(&cfg, (const float *)(const void *)sparm->p,
		    checkpoint_unmap, map, &msg);
	} else if (fmt != QUANT_FP32)
		m = checkpoint_new_stored(path, &cfg, n, sizes, sparm->p, cause);
	else
		m = gpt_new(&cfg, &msg);
	if (m == NULL && fmt != QUANT_FP32)
		goto fail;
	if (m == NULL) {
		util_error(cause, "%s: %s", path, msg ? msg : "cannot create the model");
		goto fail;
	}
	if (!in_place && fmt == QUANT_FP32) {
		float *params = gpt_param_memory(m);

		for (size_t i = 0; i < n; i++)
			params[i] = checkpoint_get_f32(sparm->p + 4 * i);
		if (checkpoint_check_finite(path, "parameter", params, n, sizes, cause) != 0)
			goto fail;
	} else if (fmt != QUANT_FP32) {
		const char *why = checkpoint_qmat_copy_why(map, unmapped, flags, sqmat);

		/* Mapped, the matrices own the mapping (checkpoint_open_weights). */
		if (why == NULL)
			qw = qweights_map(m, fmt, sqmat->p, (size_t)sqmat->len, checkpoint_unmap,
			    map, path, cause);
		else
			qw = qweights_load(m, fmt, sqmat->p, (size_t)sqmat->len, why, path,
			    cause);
		if (qw == NULL)
			goto fail;
	}

	/* The record says whether <bksp> is a trained action of this model. */
	{
		const char *actions = record_get(&tmp, "actions");
		gpt_set_bksp(m, actions != NULL && strcmp(actions, "bksp") == 0);
	}
	free(msg);
	*mp = m;
	*tokp = tok;
	if (qwp != NULL)
		*qwp = qw;
	if (rec != NULL) {
		record_release(rec);
		*rec = tmp;
	} else
		record_release(&tmp);
	return 0;

fail:
	record_release(&tmp);
	if (tok != NULL)
		tokenizer_free(tok);
	qweights_free(qw);
	gpt_free(m);
	free(msg);
	return -1;
}

/* Only the tokenizer of a model file: see checkpoint.h. */
int
checkpoint_load_tokenizer(const char *path, struct tokenizer **tokp, char **cause)
{
	struct checkpoint_section secs[] = {
		{ "TOKN", 1, NULL, 0, 0, 0, 0 },
		{ "RECD", 0, NULL, 0, 0, 0, 1 },
		{ "PARM", 1, NULL, 0, 0, 0, 1 },
		{ "ALGN", 0, NULL, 0, 0, 3, 1 },
		{ "WFMT", 0, NULL, 0, 0, 4, 1 },
		{ "QMAT", 0, NULL, 0, 0, 4, 1 },
	};
	struct checkpoint_map *map = NULL;
	struct gpt_config cfg;
	size_t sizes[GPT_NUM_TENSORS], n, len;
	uint32_t version;
	const uint8_t *b;
	char *buf = NULL;
	int fd, rc = -1;

	if (checkpoint_open_file(path, &fd, &len, cause) != 0)
		return -1;
	if (fd < 0) {
		if (util_read_file(path, 0, &buf, &len, cause) != 0)
			return -1;
		b = (const uint8_t *)buf;
	} else {
		map = checkpoint_map_file(path, fd, len, 0, cause);
		close(fd);
		if (map == NULL)
			return -1;
		b = map->base;
	}
	if (checkpoint_read_header(path, b, len, &version, &cfg, &n, sizes, cause) == 0 &&
	    checkpoint_walk(path, b, len, CHECKPOINT_HEADER, version, secs,
	    (int)(sizeof secs / sizeof secs[0]), cause) == 0 &&
	    checkpoint_read_tokenizer(path, &secs[0], &cfg, tokp, cause) == 0)
		rc = 0;
	checkpoint_unmap(map);
	free(buf);
	return rc;
}

/*
 * Read and check an optimizer file for m; m, *step and *run_id (0 for a
 * version 1 file, which has none; run_id may be NULL) change only on success.
 */
int
checkpoint_load_optim(const char *path, struct gpt_model *m, long *step, uint64_t *run_id,
    char **cause)
{
	char *buf;
	size_t len;
	int rc;

	if (util_read_file(path, 0, &buf, &len, cause) != 0)
		return -1;
	rc = checkpoint_load_optim_mem(path, buf, len, m, step, run_id, cause);
	free(buf);
	return rc;
}

/* Check an optimizer file's bytes (path names it in messages); as checkpoint_load_optim. */
int
checkpoint_load_optim_mem(const char *path, const void *data, size_t len,
    struct gpt_model *m, long *step, uint64_t *run_id, char **cause)
{
	struct checkpoint_section secs[] = { { "ADAM", 1, NULL, 0, 0, 0, 0 } };
	size_t n = gpt_num_params(m), abytes;
	uint64_t nfile, sfile, rfile = 0;
	uint32_t version;
	size_t header;
	char *msg = NULL;
	const uint8_t *b = data;
	float *am, *av;

	if (checkpoint_check_head(path, b, len, CHECKPOINT_OPT_MAGIC,
	    "seqmatch optimizer file", CHECKPOINT_OPT_HEADER_V1, CHECKPOINT_OPT_VERSION,
	    &version, cause) != 0)
		goto fail;
	header = version >= 2 ? CHECKPOINT_OPT_HEADER : CHECKPOINT_OPT_HEADER_V1;
	if (len < header) {
		util_error(cause, "%s: truncated: header needs %zu bytes, %zu in file", path,
		    header, len);
		goto fail;
	}
	if (version >= 2)
		rfile = checkpoint_get_u64(b + CHECKPOINT_OPT_HEADER_V1);
	nfile = checkpoint_get_u64(b + 12);
	if (nfile != (uint64_t)n) {
		util_error(cause, "%s: the optimizer state is for %llu parameters, the "
		    "model has %zu", path, (unsigned long long)nfile, n);
		goto fail;
	}
	sfile = checkpoint_get_u64(b + 20);
	if (sfile > (uint64_t)LONG_MAX) {
		util_error(cause, "%s: corrupt: step %llu is out of range", path,
		    (unsigned long long)sfile);
		goto fail;
	}
	if (checkpoint_walk(path, b, len, header, version, secs, 1, cause) != 0)
		goto fail;
	if (util_mul(n, 8, &abytes) != 0 || secs[0].len != (uint64_t)abytes) {
		util_error(cause, "%s: corrupt: section ADAM has %llu bytes, expected "
		    "%zu", path, (unsigned long long)secs[0].len, abytes);
		goto fail;
	}
	/* Check every value before touching the model. */
	for (size_t i = 0; i < 2 * n; i++) {
		float x = checkpoint_get_f32(secs[0].p + 4 * i);
		const char *what = i < n ? "m" : "v";
		size_t j = i < n ? i : i - n;

		if (!isfinite(x)) {
			util_error(cause, "%s: AdamW %s[%zu] is %s", path, what, j,
			    isnan(x) ? "NaN" : x > 0 ? "+Inf" : "-Inf");
			goto fail;
		}
		if (i >= n && x < 0) {
			util_error(cause, "%s: AdamW v[%zu] is negative", path, j);
			goto fail;
		}
	}
	if (gpt_adam_m(m) == NULL || gpt_adam_v(m) == NULL) {
		if (gpt_alloc_adam(m, &msg) != 0) {
			util_error(cause, "%s: %s", path, msg ? msg : "out of memory");
			goto fail;
		}
	}
	am = gpt_adam_m(m);
	av = gpt_adam_v(m);
	for (size_t i = 0; i < n; i++) {
		am[i] = checkpoint_get_f32(secs[0].p + 4 * i);
		av[i] = checkpoint_get_f32(secs[0].p + 4 * (n + i));
	}
	*step = (long)sfile;
	if (run_id != NULL)
		*run_id = rfile;
	free(msg);
	return 0;

fail:
	free(msg);
	return -1;
}
