/* record.h: the training record stored in checkpoints, as ordered key/value strings. */
#ifndef SEQMATCH_RECORD_H
#define SEQMATCH_RECORD_H

#include <stddef.h>
#include <stdint.h>

struct record {
	size_t n;
	char **keys;
	char **values;
	int incomplete; /* a record_set failed (out of memory): never saved so */
};

void record_init(struct record *r);
void record_release(struct record *r);
/*
 * Set (replace or append) key to a formatted value. Returns -1 on allocation
 * failure, and marks the record incomplete: record_serialize then refuses it,
 * so a caller that goes on cannot save a checkpoint that silently lacks an
 * entry (a run id, a step count, the <bksp> marking).
 */
int record_set(struct record *r, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The value of key, or NULL. */
const char *record_get(const struct record *r, const char *key);
int record_copy(struct record *dst, const struct record *src);
/* Serialise as "key\0value\0" pairs into a malloc'd buffer, and parse back. */
int record_serialize(const struct record *r, uint8_t **buf, size_t *len, char **cause);
int record_deserialize(const uint8_t *buf, size_t len, struct record *r, char **cause);

#endif
