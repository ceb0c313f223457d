/*
 * record.c: the training record, an ordered list of key/value strings kept in
 * checkpoints (hyper-parameters, corpus hash, losses...).
 *
 * Serialised form: for each entry in order, the key, a NUL, the value, a NUL.
 * Keys are non-empty printable ASCII (0x20..0x7e) and unique; values are any
 * bytes except NUL. An empty buffer is an empty record.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "util.h"

/* Keys longer than this are refused (they can only come from a damaged file). */
#define RECORD_MAX_KEY 256

/* Make an empty record. */
void
record_init(struct record *r)
{
	r->n = 0;
	r->keys = NULL;
	r->values = NULL;
	r->incomplete = 0;
}

/* Free every entry and leave the record empty. */
void
record_release(struct record *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->keys[i]);
		free(r->values[i]);
	}
	free(r->keys);
	free(r->values);
	record_init(r);
}

/* Index of key, or -1. */
static long
record_find(const struct record *r, const char *key)
{
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->keys[i], key) == 0)
			return (long)i;
	}
	return -1;
}

/* Append an entry taking ownership of key and value; frees them on failure. */
static int
record_append(struct record *r, char *key, char *value)
{
	char **keys, **values;
	size_t bytes;

	if (util_mul(r->n + 1, sizeof *keys, &bytes) != 0)
		goto fail;
	keys = realloc(r->keys, bytes);
	if (keys == NULL)
		goto fail;
	r->keys = keys;
	values = realloc(r->values, bytes);
	if (values == NULL)
		goto fail;
	r->values = values;
	r->keys[r->n] = key;
	r->values[r->n] = value;
	r->n++;
	return 0;

fail:
	free(key);
	free(value);
	return -1;
}

/* Set key to a formatted value, replacing an existing entry in place. */
int
record_set(struct record *r, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *value, *k;
	long i;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&value, fmt, ap);
	va_end(ap);
	if (n < 0) {
		r->incomplete = 1;
		return -1;
	}
	i = record_find(r, key);
	if (i >= 0) {
		free(r->values[i]);
		r->values[i] = value;
		return 0;
	}
	k = strdup(key);
	if (k == NULL) {
		free(value);
		r->incomplete = 1;
		return -1;
	}
	if (record_append(r, k, value) != 0) {
		r->incomplete = 1;
		return -1;
	}
	return 0;
}

/* Look a key up. */
const char *
record_get(const struct record *r, const char *key)
{
	long i = record_find(r, key);

	return i >= 0 ? r->values[i] : NULL;
}

/*
 * Deep copy. dst need not be initialised: it is overwritten (not released)
 * and left empty on failure.
 */
int
record_copy(struct record *dst, const struct record *src)
{
	struct record tmp;

	record_init(&tmp);
	for (size_t i = 0; i < src->n; i++) {
		char *k = strdup(src->keys[i]);
		char *v = strdup(src->values[i]);

		if (k == NULL || v == NULL) {
			free(k);
			free(v);
			record_release(&tmp);
			record_init(dst);
			return -1;
		}
		if (record_append(&tmp, k, v) != 0) {
			record_release(&tmp);
			record_init(dst);
			return -1;
		}
	}
	tmp.incomplete = src->incomplete;
	*dst = tmp;
	return 0;
}

/* Check a key (of length len, no NUL inside); entry is 1-based for messages. */
static int
record_check_key(const char *key, size_t len, size_t entry, char **cause)
{
	if (len == 0)
		return util_error(cause, "record: entry %zu: empty key", entry);
	if (len > RECORD_MAX_KEY)
		return util_error(cause, "record: entry %zu: key longer than %d bytes",
		    entry, RECORD_MAX_KEY);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)key[i];

		if (c < 0x20 || c > 0x7e)
			return util_error(cause, "record: entry %zu: key has non-printable "
			    "byte 0x%02x at offset %zu", entry, c, i);
	}
	return 0;
}

/* Serialise as "key\0value\0" pairs; refuses records that would not parse back. */
int
record_serialize(const struct record *r, uint8_t **buf, size_t *len, char **cause)
{
	size_t total = 0, off = 0;
	uint8_t *out;

	*buf = NULL;
	*len = 0;
	if (r->incomplete)
		return util_error(cause, "record: out of memory (an entry could not be "
		    "stored, so the record is incomplete)");
	for (size_t i = 0; i < r->n; i++) {
		size_t kl = strlen(r->keys[i]), vl = strlen(r->values[i]);

		if (record_check_key(r->keys[i], kl, i + 1, cause) != 0)
			return -1;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(r->keys[i], r->keys[j]) == 0)
				return util_error(cause, "record: entry %zu: duplicate key "
				    "\"%s\"", i + 1, r->keys[i]);
		}
		if (util_add(total, kl, &total) != 0 ||
		    util_add(total, vl, &total) != 0 ||
		    util_add(total, 2, &total) != 0)
			return util_error(cause, "record: too large");
	}
	out = malloc(total ? total : 1);
	if (out == NULL)
		return util_error(cause, "record: out of memory");
	for (size_t i = 0; i < r->n; i++) {
		size_t kl = strlen(r->keys[i]) + 1, vl = strlen(r->values[i]) + 1;

		memcpy(out + off, r->keys[i], kl);
		off += kl;
		memcpy(out + off, r->values[i], vl);
		off += vl;
	}
	*buf = out;
	*len = total;
	return 0;
}

/*
 * Parse "key\0value\0" pairs. Every entry is checked; on success r's previous
 * contents are released and replaced, on failure r is unchanged.
 */
int
record_deserialize(const uint8_t *buf, size_t len, struct record *r, char **cause)
{
	struct record tmp;
	size_t off = 0, entry = 0;

	record_init(&tmp);
	while (off < len) {
		const char *key = (const char *)buf + off, *value;
		const uint8_t *nul;
		size_t kl, vl;

		entry++;
		nul = memchr(buf + off, '\0', len - off);
		if (nul == NULL) {
			util_error(cause, "record: entry %zu: unterminated key at byte %zu",
			    entry, off);
			goto fail;
		}
		kl = (size_t)(nul - (buf + off));
		if (record_check_key(key, kl, entry, cause) != 0)
			goto fail;
		if (record_find(&tmp, key) >= 0) {
			util_error(cause, "record: entry %zu: duplicate key \"%s\"", entry,
			    key);
			goto fail;
		}
		off += kl + 1;
		if (off >= len) {
			util_error(cause, "record: entry %zu: key \"%s\" has no value",
			    entry, key);
			goto fail;
		}
		value = (const char *)buf + off;
		nul = memchr(buf + off, '\0', len - off);
		if (nul == NULL) {
			util_error(cause, "record: entry %zu: unterminated value for key "
			    "\"%s\"", entry, key);
			goto fail;
		}
		vl = (size_t)(nul - (buf + off));
		off += vl + 1;

		char *k = strdup(key), *v = strdup(value);
		if (k == NULL || v == NULL) {
			free(k);
			free(v);
			util_error(cause, "record: out of memory");
			goto fail;
		}
		if (record_append(&tmp, k, v) != 0) {
			util_error(cause, "record: out of memory");
			goto fail;
		}
	}
	record_release(r);
	*r = tmp;
	return 0;

fail:
	record_release(&tmp);
	return -1;
}
