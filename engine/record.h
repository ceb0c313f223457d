/* record.h: the training record stored in checkpoints, as ordered key/value strings. */
#ifndef SEQMATCH_RECORD_H
#define SEQMATCH_RECORD_H

#include <stddef.h>
#include <stdint.h>

struct record {
	size_t n;
	char **keys;
	char **values;
};

void record_init(struct record *r);
void record_release(struct record *r);
/* Set (replace or append) key to a formatted value. Returns -1 on allocation failure. */
int record_set(struct record *r, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The value of key, or NULL. */
const char *record_get(const struct record *r, const char *key);
int record_copy(struct record *dst, const struct record *src);
/* Serialise as "key\0value\0" pairs into a malloc'd buffer, and parse back. */
int record_serialize(const struct record *r, uint8_t **buf, size_t *len, char **cause);
int record_deserialize(const uint8_t *buf, size_t len, struct record *r, char **cause);

#endif
