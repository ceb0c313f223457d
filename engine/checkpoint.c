/*
 * checkpoint.c: the seqmatch model file and the optimizer-state file (the
 * format is documented in checkpoint.h).
 *
 * How this works. A save encodes everything into one buffer, field by field
 * with explicit widths and byte order, and hands it to util_write_file_atomic
 * (a unique temporary name, fsync, rename, fsync of the directory), so a
 * crash leaves the previous file intact. A load reads the whole file and
 * checks it in this order, so the message names the first thing wrong:
 * header length, magic, version, config (through gpt_config_check, before
 * anything is allocated from it), the parameter count against the config,
 * then the section framing (every length against the
 * bytes left, before any allocation), CRCs, required and duplicate sections,
 * the PARM size; only then is the model allocated and decoded (parameters
 * must be finite), the tokenizer parsed and matched against the config, and
 * the record parsed. Results reach the caller only when everything passed.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "gpt.h"
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

/* Names of the config fields in file order (for messages). */
static const char *checkpoint_field_names[CHECKPOINT_NFIELDS] = {
	"max_seq_len", "vocab_size", "padded_vocab_size", "num_layers", "num_heads",
	"channels"
};

/* CRC-32 table for the reflected IEEE polynomial 0xedb88320. */
static const uint32_t checkpoint_crc_table[256] = {
	0x00000000U, 0x77073096U, 0xee0e612cU, 0x990951baU, 0x076dc419U, 0x706af48fU,
	0xe963a535U, 0x9e6495a3U, 0x0edb8832U, 0x79dcb8a4U, 0xe0d5e91eU, 0x97d2d988U,
	0x09b64c2bU, 0x7eb17cbdU, 0xe7b82d07U, 0x90bf1d91U, 0x1db71064U, 0x6ab020f2U,
	0xf3b97148U, 0x84be41deU, 0x1adad47dU, 0x6ddde4ebU, 0xf4d4b551U, 0x83d385c7U,
	0x136c9856U, 0x646ba8c0U, 0xfd62f97aU, 0x8a65c9ecU, 0x14015c4fU, 0x63066cd9U,
	0xfa0f3d63U, 0x8d080df5U, 0x3b6e20c8U, 0x4c69105eU, 0xd56041e4U, 0xa2677172U,
	0x3c03e4d1U, 0x4b04d447U, 0xd20d85fdU, 0xa50ab56bU, 0x35b5a8faU, 0x42b2986cU,
	0xdbbbc9d6U, 0xacbcf940U, 0x32d86ce3U, 0x45df5c75U, 0xdcd60dcfU, 0xabd13d59U,
	0x26d930acU, 0x51de003aU, 0xc8d75180U, 0xbfd06116U, 0x21b4f4b5U, 0x56b3c423U,
	0xcfba9599U, 0xb8bda50fU, 0x2802b89eU, 0x5f058808U, 0xc60cd9b2U, 0xb10be924U,
	0x2f6f7c87U, 0x58684c11U, 0xc1611dabU, 0xb6662d3dU, 0x76dc4190U, 0x01db7106U,
	0x98d220bcU, 0xefd5102aU, 0x71b18589U, 0x06b6b51fU, 0x9fbfe4a5U, 0xe8b8d433U,
	0x7807c9a2U, 0x0f00f934U, 0x9609a88eU, 0xe10e9818U, 0x7f6a0dbbU, 0x086d3d2dU,
	0x91646c97U, 0xe6635c01U, 0x6b6b51f4U, 0x1c6c6162U, 0x856530d8U, 0xf262004eU,
	0x6c0695edU, 0x1b01a57bU, 0x8208f4c1U, 0xf50fc457U, 0x65b0d9c6U, 0x12b7e950U,
	0x8bbeb8eaU, 0xfcb9887cU, 0x62dd1ddfU, 0x15da2d49U, 0x8cd37cf3U, 0xfbd44c65U,
	0x4db26158U, 0x3ab551ceU, 0xa3bc0074U, 0xd4bb30e2U, 0x4adfa541U, 0x3dd895d7U,
	0xa4d1c46dU, 0xd3d6f4fbU, 0x4369e96aU, 0x346ed9fcU, 0xad678846U, 0xda60b8d0U,
	0x44042d73U, 0x33031de5U, 0xaa0a4c5fU, 0xdd0d7cc9U, 0x5005713cU, 0x270241aaU,
	0xbe0b1010U, 0xc90c2086U, 0x5768b525U, 0x206f85b3U, 0xb966d409U, 0xce61e49fU,
	0x5edef90eU, 0x29d9c998U, 0xb0d09822U, 0xc7d7a8b4U, 0x59b33d17U, 0x2eb40d81U,
	0xb7bd5c3bU, 0xc0ba6cadU, 0xedb88320U, 0x9abfb3b6U, 0x03b6e20cU, 0x74b1d29aU,
	0xead54739U, 0x9dd277afU, 0x04db2615U, 0x73dc1683U, 0xe3630b12U, 0x94643b84U,
	0x0d6d6a3eU, 0x7a6a5aa8U, 0xe40ecf0bU, 0x9309ff9dU, 0x0a00ae27U, 0x7d079eb1U,
	0xf00f9344U, 0x8708a3d2U, 0x1e01f268U, 0x6906c2feU, 0xf762575dU, 0x806567cbU,
	0x196c3671U, 0x6e6b06e7U, 0xfed41b76U, 0x89d32be0U, 0x10da7a5aU, 0x67dd4accU,
	0xf9b9df6fU, 0x8ebeeff9U, 0x17b7be43U, 0x60b08ed5U, 0xd6d6a3e8U, 0xa1d1937eU,
	0x38d8c2c4U, 0x4fdff252U, 0xd1bb67f1U, 0xa6bc5767U, 0x3fb506ddU, 0x48b2364bU,
	0xd80d2bdaU, 0xaf0a1b4cU, 0x36034af6U, 0x41047a60U, 0xdf60efc3U, 0xa867df55U,
	0x316e8eefU, 0x4669be79U, 0xcb61b38cU, 0xbc66831aU, 0x256fd2a0U, 0x5268e236U,
	0xcc0c7795U, 0xbb0b4703U, 0x220216b9U, 0x5505262fU, 0xc5ba3bbeU, 0xb2bd0b28U,
	0x2bb45a92U, 0x5cb36a04U, 0xc2d7ffa7U, 0xb5d0cf31U, 0x2cd99e8bU, 0x5bdeae1dU,
	0x9b64c2b0U, 0xec63f226U, 0x756aa39cU, 0x026d930aU, 0x9c0906a9U, 0xeb0e363fU,
	0x72076785U, 0x05005713U, 0x95bf4a82U, 0xe2b87a14U, 0x7bb12baeU, 0x0cb61b38U,
	0x92d28e9bU, 0xe5d5be0dU, 0x7cdcefb7U, 0x0bdbdf21U, 0x86d3d2d4U, 0xf1d4e242U,
	0x68ddb3f8U, 0x1fda836eU, 0x81be16cdU, 0xf6b9265bU, 0x6fb077e1U, 0x18b74777U,
	0x88085ae6U, 0xff0f6a70U, 0x66063bcaU, 0x11010b5cU, 0x8f659effU, 0xf862ae69U,
	0x616bffd3U, 0x166ccf45U, 0xa00ae278U, 0xd70dd2eeU, 0x4e048354U, 0x3903b3c2U,
	0xa7672661U, 0xd06016f7U, 0x4969474dU, 0x3e6e77dbU, 0xaed16a4aU, 0xd9d65adcU,
	0x40df0b66U, 0x37d83bf0U, 0xa9bcae53U, 0xdebb9ec5U, 0x47b2cf7fU, 0x30b5ffe9U,
	0xbdbdf21cU, 0xcabac28aU, 0x53b39330U, 0x24b4a3a6U, 0xbad03605U, 0xcdd70693U,
	0x54de5729U, 0x23d967bfU, 0xb3667a2eU, 0xc4614ab8U, 0x5d681b02U, 0x2a6f2b94U,
	0xb40bbe37U, 0xc30c8ea1U, 0x5a05df1bU, 0x2d02ef8dU,
};

/* CRC-32 (IEEE), table-driven, one byte at a time. */
uint32_t
checkpoint_crc32(uint32_t crc, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	crc = ~crc;
	for (size_t i = 0; i < n; i++)
		crc = checkpoint_crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

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
	checkpoint_w_u32(w, checkpoint_crc32(0, w->p + start, w->off - start));
}

/* Close the file: END. holding the CRC-32 of everything before it (version 2). */
static void
checkpoint_w_finish(struct checkpoint_writer *w)
{
	uint32_t crc = checkpoint_crc32(0, w->p, w->off);
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
};

/*
 * Walk the sections from off to END., checking every length against the
 * bytes left, the CRCs (and in version 2 the whole file's, in END.),
 * unknown, duplicate and required sections; fills secs.
 */
static int
checkpoint_walk(const char *path, const uint8_t *buf, size_t len, size_t off,
    uint32_t version, struct checkpoint_section *secs, int nsecs, char **cause)
{
	char name[16];

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
		if (checkpoint_crc32(0, payload, (size_t)plen) != crc)
			return util_error(cause, "%s: corrupt: CRC mismatch in section %s",
			    path, name);
		if (memcmp(tag, "END.", 4) == 0) {
			uint64_t want = version >= 2 ? CHECKPOINT_END_LEN : 0;

			if (plen != want)
				return util_error(cause, "%s: corrupt: section END. has %llu "
				    "bytes, expected %llu", path, (unsigned long long)plen,
				    (unsigned long long)want);
			if (off != len)
				return util_error(cause, "%s: corrupt: %zu bytes after the END. "
				    "section", path, len - off);
			if (version >= 2 && checkpoint_crc32(0, buf, (size_t)(tag - buf)) !=
			    checkpoint_get_u32(payload))
				return util_error(cause, "%s: corrupt: the file's CRC does not "
				    "match (header or section tags changed)", path);
			break;
		}
		for (i = 0; i < nsecs; i++) {
			if (memcmp(tag, secs[i].tag, 4) == 0)
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
	const struct gpt_config *cfg = gpt_config(m);
	size_t n = gpt_num_params(m), pbytes, total = CHECKPOINT_HEADER, start;
	const float *params = gpt_param_memory(m);
	size_t sizes[GPT_NUM_TENSORS];
	uint8_t *tbuf = NULL, *rbuf = NULL;
	size_t tlen = 0, rlen = 0;
	struct checkpoint_writer w;
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
	if (util_mul(n, 4, &pbytes) != 0 || checkpoint_size_add(&total, tlen) != 0 ||
	    checkpoint_size_add(&total, rlen) != 0 ||
	    checkpoint_size_add(&total, pbytes) != 0 ||
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
	checkpoint_w_u32(&w, CHECKPOINT_VERSION);
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
	start = checkpoint_w_begin(&w, "PARM", pbytes);
	checkpoint_w_f32(&w, params, n);
	checkpoint_w_end(&w, start);
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

/* Read and check a model file; results reach the caller only on success. */
int
checkpoint_load(const char *path, struct gpt_model **mp, struct tokenizer **tokp,
    struct record *rec, char **cause)
{
	char *buf;
	size_t len;
	int rc;

	if (util_read_file(path, 0, &buf, &len, cause) != 0)
		return -1;
	rc = checkpoint_load_mem(path, buf, len, mp, tokp, rec, cause);
	free(buf);
	return rc;
}

/* Check a model file's bytes (path names it in messages); as checkpoint_load. */
int
checkpoint_load_mem(const char *path, const void *data, size_t len, struct gpt_model **mp,
    struct tokenizer **tokp, struct record *rec, char **cause)
{
	struct checkpoint_section secs[] = {
		{ "TOKN", 1, NULL, 0, 0 },
		{ "RECD", 0, NULL, 0, 0 },
		{ "PARM", 1, NULL, 0, 0 },
	};
	struct checkpoint_section *stok = &secs[0], *srec = &secs[1], *sparm = &secs[2];
	struct gpt_config cfg;
	struct gpt_model *m = NULL;
	struct tokenizer *tok = NULL;
	struct record tmp;
	size_t sizes[GPT_NUM_TENSORS], n, pbytes;
	uint64_t nfile;
	uint32_t nfields, f[CHECKPOINT_NFIELDS], version;
	char *msg = NULL;
	const uint8_t *b = data;
	float *params;

	record_init(&tmp);
	if (checkpoint_check_head(path, b, len, CHECKPOINT_MAGIC,
	    "seqmatch model file", CHECKPOINT_HEADER, CHECKPOINT_VERSION, &version,
	    cause) != 0)
		goto fail;
	nfields = checkpoint_get_u32(b + 12);
	if (nfields != CHECKPOINT_NFIELDS) {
		util_error(cause, "%s: corrupt: %u config fields (version %u has %d)",
		    path, (unsigned)nfields, (unsigned)version, CHECKPOINT_NFIELDS);
		goto fail;
	}
	for (int i = 0; i < CHECKPOINT_NFIELDS; i++) {
		f[i] = checkpoint_get_u32(b + 16 + 4 * i);
		if (f[i] > INT_MAX) {
			util_error(cause, "%s: bad config: %s = %u is out of range", path,
			    checkpoint_field_names[i], (unsigned)f[i]);
			goto fail;
		}
	}
	cfg.max_seq_len = (int)f[0];
	cfg.vocab_size = (int)f[1];
	cfg.padded_vocab_size = (int)f[2];
	cfg.num_layers = (int)f[3];
	cfg.num_heads = (int)f[4];
	cfg.channels = (int)f[5];
	if (gpt_config_check(&cfg, &msg) != 0) {
		util_error(cause, "%s: bad config: %s", path, msg ? msg : "invalid");
		goto fail;
	}
	n = gpt_config_sizes(&cfg, sizes);
	nfile = checkpoint_get_u64(b + 16 + 4 * CHECKPOINT_NFIELDS);
	if (nfile != (uint64_t)n) {
		util_error(cause, "%s: corrupt: the header says %llu parameters, the "
		    "config implies %zu", path, (unsigned long long)nfile, n);
		goto fail;
	}

	if (checkpoint_walk(path, b, len, CHECKPOINT_HEADER, version, secs,
	    (int)(sizeof secs / sizeof secs[0]), cause) != 0)
		goto fail;
	if (util_mul(n, 4, &pbytes) != 0 || sparm->len != (uint64_t)pbytes) {
		util_error(cause, "%s: corrupt: section PARM has %llu bytes, expected "
		    "%zu (%zu parameters)", path, (unsigned long long)sparm->len,
		    n * 4, n);
		goto fail;
	}

	/* The file is sound: now allocate. */
	m = gpt_new(&cfg, &msg);
	if (m == NULL) {
		util_error(cause, "%s: %s", path, msg ? msg : "cannot create the model");
		goto fail;
	}
	params = gpt_param_memory(m);
	for (size_t i = 0; i < n; i++)
		params[i] = checkpoint_get_f32(sparm->p + 4 * i);
	if (checkpoint_check_finite(path, "parameter", params, n, sizes, cause) != 0)
		goto fail;

	if (tokenizer_deserialize(stok->p, (size_t)stok->len, &tok, &msg) != 0) {
		tok = NULL;
		util_error(cause, "%s: section TOKN: %s", path, msg ? msg : "invalid");
		goto fail;
	}
	if (tokenizer_vocab_size(tok) != cfg.vocab_size ||
	    cfg.padded_vocab_size <= tokenizer_vocab_size(tok)) {
		util_error(cause, "%s: corrupt: the tokenizer has %d tokens but the "
		    "config says vocab_size %d, padded_vocab_size %d", path,
		    tokenizer_vocab_size(tok), cfg.vocab_size, cfg.padded_vocab_size);
		goto fail;
	}
	if (srec->found &&
	    record_deserialize(srec->p, (size_t)srec->len, &tmp, &msg) != 0) {
		util_error(cause, "%s: section RECD: %s", path, msg ? msg : "invalid");
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
	free(msg);
	return -1;
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
	struct checkpoint_section secs[] = { { "ADAM", 1, NULL, 0, 0 } };
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
