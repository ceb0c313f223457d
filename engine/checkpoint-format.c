/*
 * checkpoint-format.c: what reading both file formats shares: the section
 * walk (lengths, CRCs, unknown, duplicate and required sections), the start of
 * a file (magic and version) and the finiteness check of stored floats.
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "checkpoint-impl.h"
#include "checkpoint.h"
#include "crc32.h"
#include "gpt.h"
#include "util.h"

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
int
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

/*
 * Walk the sections from off to END., checking every length against the
 * bytes left, the CRCs (and from version 2 the whole file's, in END.),
 * unknown, duplicate and required sections; fills secs. The payload of a
 * lazy section is not read (its pages stay untouched in a mapping), and then
 * neither is the whole-file CRC checked. Each byte is run through the CRC
 * once: the file's CRC is assembled from the sections' with crc32_concat.
 */
int
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

/*
 * Check the start of a file: length, magic, version 1 to version (common to
 * both formats); *found gets the file's version.
 */
int
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
