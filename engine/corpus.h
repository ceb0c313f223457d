/* corpus.h: plain UTF-8 text corpora split into documents, and held-out splits. */
#ifndef SEQMATCH_CORPUS_H
#define SEQMATCH_CORPUS_H

#include <stddef.h>
#include <stdint.h>

enum corpus_sep {
	CORPUS_SEP_BLANK,   /* documents separated by one or more blank lines */
	CORPUS_SEP_PERCENT  /* documents separated by a line holding a single % */
};

struct corpus {
	size_t ndocs;
	char **docs;      /* NUL-terminated, leading/trailing blank lines trimmed */
	size_t *lens;
	uint64_t hash;    /* FNV-1a of the file's bytes */
	size_t bytes;     /* total bytes of the documents */
};

/*
 * Load a corpus file. Rejects, with file:line messages: an unreadable or empty
 * file, NUL bytes or invalid UTF-8 (binary files), and a file with no document.
 */
int corpus_load(const char *path, enum corpus_sep sep, struct corpus **out,
    char **cause);
/* Build a corpus from a buffer (same rules; name is used in messages). */
int corpus_parse(const char *name, const char *buf, size_t len, enum corpus_sep sep,
    struct corpus **out, char **cause);
void corpus_free(struct corpus *c);

/*
 * Deterministic held-out split: a document goes to val when a hash of its text
 * and the seed falls below val_fraction; both sides get at least one document
 * when there are two or more. The documents are copied.
 */
int corpus_split(const struct corpus *c, double val_fraction, uint64_t seed,
    struct corpus **train, struct corpus **val, char **cause);

#endif
