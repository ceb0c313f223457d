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
 * model is freed or made private), else by copying them out. Results reach
 * the caller only when everything passed.
 *
 * Reading every byte once: each section's CRC is computed once (crc32_pool
 * of engine/crc32.c: on the worker pool for a large one, the parts joined by
 * crc32_concat) and the whole-file CRC in END. is assembled from the
 * sections' CRCs and the few framing bytes instead of a second pass. With MAP_POPULATE the
 * kernel maps every page in one call rather than one fault per 64 KiB.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "crc32.h"
#include "gpt.h"
#include "qweights.h"
#include "record.h"
#include "tokenizer.h"
#include "util.h"

#define CHECKPOINT_MAGIC "SEQMATCH"
#define CHECKPOINT_OPT_MAGIC "SEQMOPT1"
#define CHECKPOINT_OPT_VERSION 2
#define CHECKPOINT_NFIELDS 6
/* magic, version, field count, fields, parameter count */
#define CHECKPOINT_HEADER (8 + 4 + 4 + 4 * CHECKPOINT_NFIELDS + 8)
/* magic, version, parameter count, step; version 2 adds the run id */
#define CHECKPOINT_OPT_HEADER_V1 (8 + 4 + 8 + 8)
#define CHECKPOINT_OPT_HEADER (CHECKPOINT_OPT_HEADER_V1 + 8)
/* Version 2's END. payload: the CRC-32 of every byte before END.'s tag. */
#define CHECKPOINT_END_LEN 4
/* tag, payload length (before) and CRC (after) */
#define CHECKPOINT_FRAME (4 + 8 + 4)
/* Version 3: PARM's payload starts at a multiple of this in the file. */
#define CHECKPOINT_ALIGN 4096
/* Version 4's WFMT payload: u32 format code, u32 group size. */
#define CHECKPOINT_WFMT_LEN 8

/* Names of the config fields in file order (for messages). */
static const char *checkpoint_field_names[CHECKPOINT_NFIELDS] = {
	"max_seq_len", "vocab_size", "padded_vocab_size", "num_layers", "num_heads",
	"channels"
};

/* Little-endian u32 at p. */
static uint32_t
checkpoint_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* Little-endian u64 at p. */
static uint64_t
checkpoint_get_u64(const uint8_t *p)
{
	return (uint64_t)checkpoint_get_u32(p) | (uint64_t)checkpoint_get_u32(p + 4) << 32;
}

/* Little-endian f32 at p. */
static float
checkpoint_get_f32(const uint8_t *p)
{
	uint32_t u = checkpoint_get_u32(p);
	float f;

	memcpy(&f, &u, sizeof f);
	return f;
}

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

/* A tag for messages: the four characters if printable, else hex. */
static void
checkpoint_tag_name(const uint8_t *tag, char out[16])
{
	for (int i = 0; i < 4; i++) {
		if (tag[i] < 0x20 || tag[i] > 0x7e) {
			snprintf(out, 16, "0x%08x", (unsigned)checkpoint_get_u32(tag));
			return;
		}
	}
	memcpy(out, tag, 4);
	out[4] = '\0';
}

/*
 * Describe the first non-finite value of x (n floats), with tensor names when
 * sizes is not NULL; returns 0 if all are finite.
 */
static int
checkpoint_check_finite(const char *path, const char *what, const float *x,
    size_t n, const size_t *sizes, char **cause)
{
	for (size_t i = 0; i < n; i++) {
		const char *kind;
		size_t j = i;
		int t = 0;

		if (isfinite(x[i]))
			continue;
		kind = isnan(x[i]) ? "NaN" : x[i] > 0 ? "+Inf" : "-Inf";
		if (sizes == NULL)
			return util_error(cause, "%s: %s[%zu] is %s", path, what, i, kind);
		while (t < GPT_NUM_TENSORS - 1 && j >= sizes[t])
			j -= sizes[t++];
		return util_error(cause, "%s: %s %s[%zu] is %s", path, what,
		    gpt_tensor_name(t), j, kind);
	}
	return 0;
}

/* What the section walk looks for. */
struct checkpoint_section {
	const char *tag;
	int required;
	const uint8_t *p; /* payload, set when found */
	uint64_t len;
	int found;
	uint32_t min_version; /* refused as unknown in older files (0: any) */
	int lazy;         /* leave its CRC (and so the file's) unchecked */
};

/*
 * Walk the sections from off to END., checking every length against the
 * bytes left, the CRCs (and from version 2 the whole file's, in END.),
 * unknown, duplicate and required sections; fills secs. The payload of a
 * lazy section is not read (its pages stay untouched in a mapping), and then
 * neither is the whole-file CRC checked. Each byte is run through the CRC
 * once: the file's CRC is assembled from the sections' with crc32_concat.
 */
static int
checkpoint_walk(const char *path, const uint8_t *buf, size_t len, size_t off,
    uint32_t version, struct checkpoint_section *secs, int nsecs, char **cause)
{
	char name[16];
	uint32_t file_crc = crc32_update(0, buf, off);
	int file_known = 1;

	for (;;) {
		size_t left = len - off;
		const uint8_t *tag = buf + off, *payload;
		uint64_t plen;
		uint32_t crc;
		int i;

		if (left == 0)
			return util_error(cause, "%s: truncated: no END. section", path);
		if (left < 12)
			return util_error(cause, "%s: truncated: section header needs 12 "
			    "bytes, %zu left", path, left);
		checkpoint_tag_name(tag, name);
		plen = checkpoint_get_u64(buf + off + 4);
		off += 12;
		left -= 12;
		if (plen > left || left - plen < 4) {
			return util_error(cause, "%s: truncated: section %s needs %llu "
			    "bytes, %zu left", path, name,
			    plen > UINT64_MAX - 4 ? (unsigned long long)plen :
			    (unsigned long long)plen + 4, left);
		}
		payload = buf + off;
		off += (size_t)plen;
		crc = checkpoint_get_u32(buf + off);
		off += 4;
		for (i = 0; i < nsecs; i++) {
			if (memcmp(tag, secs[i].tag, 4) == 0 && version >= secs[i].min_version)
				break;
		}
		if (i < nsecs && secs[i].lazy)
			file_known = 0;
		else {
			uint32_t got = crc32_pool(payload, (size_t)plen);

			if (got != crc)
				return util_error(cause, "%s: corrupt: CRC mismatch in section %s",
				    path, name);
			if (memcmp(tag, "END.", 4) != 0) {
				file_crc = crc32_update(file_crc, tag, 12);
				file_crc = crc32_concat(file_crc, got, plen);
				file_crc = crc32_update(file_crc, payload + plen, 4);
			}
		}
		if (memcmp(tag, "END.", 4) == 0) {
			uint64_t want = version >= 2 ? CHECKPOINT_END_LEN : 0;

			if (plen != want)
				return util_error(cause, "%s: corrupt: section END. has %llu "
				    "bytes, expected %llu", path, (unsigned long long)plen,
				    (unsigned long long)want);
			if (off != len)
				return util_error(cause, "%s: corrupt: %zu bytes after the END. "
				    "section", path, len - off);
			if (version >= 2 && file_known &&
			    file_crc != checkpoint_get_u32(payload))
				return util_error(cause, "%s: corrupt: the file's CRC does not "
				    "match (header or section tags changed)", path);
			break;
		}
		/* Writers of every version emit only the known sections. */
		if (i == nsecs)
			return util_error(cause, "%s: corrupt: unknown section %s", path, name);
		if (secs[i].found)
			return util_error(cause, "%s: corrupt: duplicate section %s", path,
			    name);
		secs[i].found = 1;
		secs[i].p = payload;
		secs[i].len = plen;
	}
	for (int i = 0; i < nsecs; i++) {
		if (secs[i].required && !secs[i].found)
			return util_error(cause, "%s: missing section %s", path, secs[i].tag);
	}
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
	size_t sizes[GPT_NUM_TENSORS], np = n, qlen = 0, wlen = 0;
	uint8_t *tbuf = NULL, *rbuf = NULL;
	size_t tlen = 0, rlen = 0, alen;
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
		wlen = CHECKPOINT_WFMT_LEN + CHECKPOINT_FRAME;
	}
	/* ALGN's zeros put PARM's payload at a multiple of CHECKPOINT_ALIGN. */
	alen = (CHECKPOINT_ALIGN - (CHECKPOINT_HEADER + 2 * CHECKPOINT_FRAME + tlen % CHECKPOINT_ALIGN +
	    rlen % CHECKPOINT_ALIGN + wlen + CHECKPOINT_FRAME + 12) % CHECKPOINT_ALIGN) %
	    CHECKPOINT_ALIGN;
	if (util_mul(np, 4, &pbytes) != 0 || checkpoint_size_add(&total, tlen) != 0 ||
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
	start = checkpoint_w_begin(&w, "ALGN", alen);
	memset(w.p + w.off, 0, alen);
	w.off += alen;
	checkpoint_w_end(&w, start);
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

/*
 * Check the start of a file: length, magic, version 1 to version (common to
 * both formats); *found gets the file's version.
 */
static int
checkpoint_check_head(const char *path, const uint8_t *buf, size_t len,
    const char *magic, const char *what, size_t header, uint32_t version,
    uint32_t *found_out, char **cause)
{
	uint32_t found;

	if (len == 0)
		return util_error(cause, "%s: empty file (not a %s)", path, what);
	if (memcmp(buf, magic, len < 8 ? len : 8) != 0)
		return util_error(cause, "%s: not a %s (bad magic)", path, what);
	if (len < header)
		return util_error(cause, "%s: truncated: header needs %zu bytes, %zu in "
		    "file", path, header, len);
	found = checkpoint_get_u32(buf + 8);
	if (found < 1 || found > version)
		return util_error(cause, "%s: unsupported version %u (this build reads "
		    "versions 1 to %u)", path, (unsigned)found, (unsigned)version);
	*found_out = found;
	return 0;
}

/*
 * Mapped files, for checkpoint_mapped_path: a fixed table a signal handler
 * can read without locks (base is set last on registering, first on
 * unregistering). Registering and unregistering take the mutex.
 */
#define CHECKPOINT_MAX_MAPS 64
static struct {
	_Atomic uintptr_t base;
	size_t len;
	char *path;
} checkpoint_maps[CHECKPOINT_MAX_MAPS];
static pthread_mutex_t checkpoint_maps_lock = PTHREAD_MUTEX_INITIALIZER;

/* A read-only private mapping of a whole checkpoint file. */
struct checkpoint_map {
	void *base;
	size_t len;
	int slot; /* in checkpoint_maps, -1 if the table was full */
};

/* Map path (fd open on it, len bytes) read-only; NULL with *cause on failure. */
static struct checkpoint_map *
checkpoint_map_file(const char *path, int fd, size_t len, int populate, char **cause)
{
	struct checkpoint_map *map = malloc(sizeof *map);
	char *copy = strdup(path);

	if (map == NULL || copy == NULL) {
		free(map);
		free(copy);
		util_error(cause, "%s: out of memory", path);
		return NULL;
	}
	map->len = len;
	map->base = mmap(NULL, len, PROT_READ, MAP_PRIVATE | (populate ? MAP_POPULATE : 0),
	    fd, 0);
	if (map->base == MAP_FAILED) {
		util_error(cause, "%s: cannot map the file: %s", path, strerror(errno));
		free(map);
		free(copy);
		return NULL;
	}
	map->slot = -1;
	pthread_mutex_lock(&checkpoint_maps_lock);
	for (int i = 0; i < CHECKPOINT_MAX_MAPS; i++) {
		if (atomic_load(&checkpoint_maps[i].base) == 0 && checkpoint_maps[i].path == NULL) {
			checkpoint_maps[i].len = len;
			checkpoint_maps[i].path = copy;
			atomic_store(&checkpoint_maps[i].base, (uintptr_t)map->base);
			map->slot = i;
			copy = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&checkpoint_maps_lock);
	free(copy);
	return map;
}

/* Unmap a file mapped by checkpoint_map_file (a gpt_new_external release). */
static void
checkpoint_unmap(void *arg)
{
	struct checkpoint_map *map = arg;

	if (map == NULL)
		return;
	if (map->slot >= 0) {
		pthread_mutex_lock(&checkpoint_maps_lock);
		atomic_store(&checkpoint_maps[map->slot].base, 0);
		free(checkpoint_maps[map->slot].path);
		checkpoint_maps[map->slot].path = NULL;
		pthread_mutex_unlock(&checkpoint_maps_lock);
	}
	munmap(map->base, map->len);
	free(map);
}

/* The file mapped at addr (async-signal-safe), or NULL. */
const char *
checkpoint_mapped_path(const void *addr)
{
	uintptr_t a = (uintptr_t)addr;

	for (int i = 0; i < CHECKPOINT_MAX_MAPS; i++) {
		uintptr_t base = atomic_load(&checkpoint_maps[i].base);

		if (base != 0 && a >= base && a - base < checkpoint_maps[i].len)
			return checkpoint_maps[i].path;
	}
	return NULL;
}

/*
 * Open path for mapping: *fd and *len for a regular non-empty file; *fd = -1
 * (and 0) for anything else, which the caller reads whole instead.
 */
static int
checkpoint_open_file(const char *path, int *fd, size_t *len, char **cause)
{
	struct stat st;

	*fd = -1;
	*len = 0;
	/* Open only a regular file here: opening a FIFO twice would lose its writer. */
	if (stat(path, &st) != 0)
		return util_error(cause, "%s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return util_error(cause, "%s: is a directory", path);
	if (!S_ISREG(st.st_mode))
		return 0;
	if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return util_error(cause, "%s: %s", path, strerror(errno));
	if (fstat(*fd, &st) != 0) {
		util_error(cause, "%s: %s", path, strerror(errno));
		close(*fd);
		*fd = -1;
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		close(*fd);
		*fd = -1;
		return util_error(cause, "%s: is a directory", path);
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uintmax_t)st.st_size >= SIZE_MAX) {
		close(*fd);
		*fd = -1;
		return 0;
	}
	*len = (size_t)st.st_size;
	return 0;
}

/* Read and check a model file, its parameters read in place: see checkpoint.h. */
int
checkpoint_load(const char *path, struct gpt_model **mp, struct tokenizer **tokp,
    struct record *rec, char **cause)
{
	return checkpoint_open(path, 0, mp, tokp, rec, cause);
}

static int checkpoint_decode(const char *path, const uint8_t *b, size_t len,
    struct checkpoint_map *map, int flags, struct gpt_model **mp, struct tokenizer **tokp,
    struct record *rec, struct qweights **qwp, char **cause);

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
		    CHECKPOINT_LOAD_COPY, mp, tokp, rec, qwp, cause);
		free(buf);
		return rc;
	}
	/* Every page is read at load unless lazy: map them all in one call. */
	map = checkpoint_map_file(path, fd, len, !(flags & CHECKPOINT_LOAD_LAZY), cause);
	close(fd); /* the mapping keeps the file */
	if (map == NULL)
		return -1;
	rc = checkpoint_decode(path, map->base, map->len, map, flags, mp, tokp, rec, qwp,
	    cause);
	/* The model owns the mapping when it reads its parameters in place. */
	if (rc != 0 || !gpt_params_external(*mp) || (qwp != NULL && *qwp != NULL))
		checkpoint_unmap(map);
	return rc;
}

/* Check a model file's bytes (path names it in messages); as checkpoint_load. */
int
checkpoint_load_mem(const char *path, const void *data, size_t len, struct gpt_model **mp,
    struct tokenizer **tokp, struct record *rec, char **cause)
{
	return checkpoint_decode(path, data, len, NULL, CHECKPOINT_LOAD_COPY, mp, tokp, rec,
	    NULL, cause);
}

/* The same, accepting a stored-format file (*qwp). */
int
checkpoint_load_mem_weights(const char *path, const void *data, size_t len,
    struct gpt_model **mp, struct tokenizer **tokp, struct record *rec,
    struct qweights **qwp, char **cause)
{
	return checkpoint_decode(path, data, len, NULL, CHECKPOINT_LOAD_COPY, mp, tokp, rec,
	    qwp, cause);
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

/* A stored file's fp32 parameter block: anonymous memory, unmapped on release. */
struct checkpoint_anon {
	void *p;
	size_t len;
};

/* Release a block of checkpoint_new_stored (a gpt_new_external release). */
static void
checkpoint_anon_release(void *arg)
{
	struct checkpoint_anon *a = arg;

	munmap(a->p, a->len);
	free(a);
}

/*
 * The model of a version 4 file: every tensor but the block matrices from
 * PARM (payload p), checked finite. The block is anonymous memory whose
 * pages stay untouched, and so cost no memory, until something writes them
 * (qweights_fill_fp32): decoding in the stored format never reads them.
 */
static struct gpt_model *
checkpoint_new_stored(const char *path, const struct gpt_config *cfg, size_t n,
    const size_t sizes[GPT_NUM_TENSORS], const uint8_t *p, char **cause)
{
	struct checkpoint_anon *a = malloc(sizeof *a);
	struct gpt_model *m;
	char *msg = NULL;
	float *t;

	if (a == NULL) {
		util_error(cause, "%s: out of memory", path);
		return NULL;
	}
	a->len = n * sizeof(float);
	a->p = mmap(NULL, a->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a->p == MAP_FAILED) {
		util_error(cause, "%s: out of memory for %zu parameters", path, n);
		free(a);
		return NULL;
	}
	t = a->p;
	for (int i = 0; i < GPT_NUM_TENSORS; t += sizes[i], i++) {
		char what[64];

		if (qweights_tensor_stored(i))
			continue;
		if (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
			memcpy(t, p, sizes[i] * 4);
		else
			for (size_t j = 0; j < sizes[i]; j++)
				t[j] = checkpoint_get_f32(p + 4 * j);
		p += sizes[i] * 4;
		snprintf(what, sizeof what, "parameter %s", gpt_tensor_name(i));
		if (checkpoint_check_finite(path, what, t, sizes[i], NULL, cause) != 0) {
			checkpoint_anon_release(a);
			return NULL;
		}
	}
	if ((m = gpt_new_external(cfg, a->p, checkpoint_anon_release, a, &msg)) == NULL) {
		util_error(cause, "%s: %s", path, msg != NULL ? msg : "cannot create the model");
		free(msg);
		checkpoint_anon_release(a);
	}
	return m;
}

/* Version 4's WFMT (and QMAT, required with it): the stored weight format. */
static int
checkpoint_read_format(const char *path, const struct checkpoint_section *sfmt,
    const struct checkpoint_section *sqmat, enum quant_format *f, char **cause)
{
	uint32_t code, group;

	if (!sfmt->found || !sqmat->found)
		return util_error(cause, "%s: missing section %s (a version 4 file stores "
		    "its matrices in a weight format)", path, sfmt->found ? "QMAT" : "WFMT");
	if (sfmt->len != CHECKPOINT_WFMT_LEN)
		return util_error(cause, "%s: corrupt: section WFMT has %llu bytes, "
		    "expected %d", path, (unsigned long long)sfmt->len, CHECKPOINT_WFMT_LEN);
	code = checkpoint_get_u32(sfmt->p);
	group = checkpoint_get_u32(sfmt->p + 4);
	if (code == 1 && group == 1)
		*f = QUANT_BF16;
	else if (code == 2 && group == QUANT_GROUP)
		*f = QUANT_Q8;
	else
		return util_error(cause, "%s: unsupported weight format %u with groups of %u "
		    "(this build reads 1 = bf16 and 2 = q8 in groups of %d)", path,
		    (unsigned)code, (unsigned)group, QUANT_GROUP);
	return 0;
}

/*
 * Check a model file's bytes b (len) and build the model: its parameters
 * read in place from map when the file allows it (version 3, PARM aligned,
 * a little-endian host) and flags do not ask for a copy, else copied.
 */
static int
checkpoint_decode(const char *path, const uint8_t *b, size_t len,
    struct checkpoint_map *map, int flags, struct gpt_model **mp, struct tokenizer **tokp,
    struct record *rec, struct qweights **qwp, char **cause)
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
	/* A stored-format file is copied and decoded whole: every byte is checked. */
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
	} else if (fmt != QUANT_FP32 &&
	    (qw = qweights_load(m, fmt, sqmat->p, (size_t)sqmat->len, path, cause)) == NULL)
		goto fail;

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

/* path with suffix appended (malloc'd), or NULL with *cause. */
static char *
checkpoint_suffixed(const char *path, const char *suffix, char **cause)
{
	char *s;

	if (asprintf(&s, "%s%s", path, suffix) < 0) {
		util_error(cause, "out of memory");
		return NULL;
	}
	return s;
}

/* The run id a record names (its "run_id", hex), 0 if none. */
uint64_t
checkpoint_run_id(const struct record *rec)
{
	const char *v = rec != NULL ? record_get(rec, "run_id") : NULL;

	return v != NULL ? strtoull(v, NULL, 16) : 0;
}

/* Save a run's latest pair: see checkpoint.h. */
int
checkpoint_save_pair(const char *path, struct gpt_model *m, const struct tokenizer *tok,
    const struct record *rec, long step, char **cause)
{
	char *opt = checkpoint_suffixed(path, ".opt", cause);
	char *prev = checkpoint_suffixed(path, ".prev", cause);
	char *opt_prev = checkpoint_suffixed(path, ".opt.prev", cause);
	int kept = 0, rc = -1;

	if (opt == NULL || prev == NULL || opt_prev == NULL)
		goto out;
	/*
	 * Keep the pair on disk (which belongs together: every save completes it,
	 * and checkpoint_load_pair puts a kept pair back) as hard links until the
	 * new one is complete: a kill between the two writes leaves it to resume.
	 */
	if (access(path, F_OK) == 0 && access(opt, F_OK) == 0) {
		unlink(prev);
		unlink(opt_prev);
		kept = link(path, prev) == 0 && link(opt, opt_prev) == 0;
		if (!kept) { /* no hard links here: save without the safety net */
			unlink(prev);
			unlink(opt_prev);
		}
	}
	if (checkpoint_save(path, m, tok, rec, cause) != 0 ||
	    checkpoint_save_optim(opt, m, step, checkpoint_run_id(rec), cause) != 0)
		goto out;
	if (kept) {
		unlink(opt_prev);
		unlink(prev);
	}
	rc = 0;
out:
	free(opt);
	free(prev);
	free(opt_prev);
	return rc;
}

/*
 * Load model and opt and check that they are one save: the record's "steps"
 * and "run_id" against the optimizer file's step and run id.
 */
static int
checkpoint_try_pair(const char *model, const char *opt, struct gpt_model **mp,
    struct tokenizer **tokp, struct record *rec, long *step, char **cause)
{
	struct gpt_model *m = NULL;
	struct tokenizer *tok = NULL;
	struct record tmp;
	uint64_t run = 0, mrun;
	const char *v;
	long ostep = 0, mstep = -1;

	record_init(&tmp);
	if (checkpoint_load(model, &m, &tok, &tmp, cause) != 0)
		goto fail;
	if (checkpoint_load_optim(opt, m, &ostep, &run, cause) != 0)
		goto fail;
	v = record_get(&tmp, "steps");
	if (v != NULL)
		mstep = strtol(v, NULL, 10);
	mrun = checkpoint_run_id(&tmp);
	if ((v != NULL && mstep != ostep) || (run != 0 && mrun != 0 && run != mrun)) {
		util_error(cause, "%s (step %ld, run %016llx) and %s (step %ld, run %016llx) "
		    "are not from the same save", model, mstep, (unsigned long long)mrun,
		    opt, ostep, (unsigned long long)run);
		goto fail;
	}
	*mp = m;
	*tokp = tok;
	*step = ostep;
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
	gpt_free(m);
	return -1;
}

/* Load a run's latest pair, or the kept one: see checkpoint.h. */
int
checkpoint_load_pair(const char *path, struct gpt_model **m, struct tokenizer **tok,
    struct record *rec, long *step, int *from_kept, char **cause)
{
	char *opt = checkpoint_suffixed(path, ".opt", cause);
	char *prev = checkpoint_suffixed(path, ".prev", cause);
	char *opt_prev = checkpoint_suffixed(path, ".opt.prev", cause);
	char *first = NULL;
	int rc = -1;

	*from_kept = 0;
	if (opt == NULL || prev == NULL || opt_prev == NULL)
		goto out;
	if (checkpoint_try_pair(path, opt, m, tok, rec, step, &first) == 0) {
		rc = 0;
		goto out;
	}
	if (access(prev, F_OK) == 0 && access(opt_prev, F_OK) == 0 &&
	    checkpoint_try_pair(prev, opt_prev, m, tok, rec, step, NULL) == 0) {
		/* The last save was cut short: the kept pair becomes the latest again. */
		if (rename(prev, path) != 0 || rename(opt_prev, opt) != 0) {
			util_error(cause, "%s: cannot put the kept pair back: %s", path,
			    strerror(errno));
			gpt_free(*m);
			tokenizer_free(*tok);
			*m = NULL;
			*tok = NULL;
			goto out;
		}
		*from_kept = 1;
		rc = 0;
		goto out;
	}
	if (access(path, F_OK) == 0 && access(opt, F_OK) != 0)
		/* A kill during a run's first save, before its .opt was written. */
		util_error(cause, "%s has no optimizer file %s to resume from (the run's first "
		    "save was cut short?): start it again without --resume", path, opt);
	else
		util_error(cause, "%s", first != NULL ? first : "cannot load the pair");
out:
	free(first);
	free(opt);
	free(prev);
	free(opt_prev);
	return rc;
}
