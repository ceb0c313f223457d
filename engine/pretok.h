/*
 * pretok.h: GPT-2's pre-tokenizer: the regular expression that cuts text into
 * the chunks byte-level BPE then encodes one by one (through PCRE2).
 */
#ifndef SEQMATCH_PRETOK_H
#define SEQMATCH_PRETOK_H

#include <stddef.h>
#include <stdint.h>

struct pretok;

/* Compile GPT-2's pattern (once per tokenizer; matching is thread-safe). */
struct pretok *pretok_new_gpt2(char **cause);
void pretok_free(struct pretok *p);
/*
 * Cut text (len bytes, any bytes) into chunks: *ends (malloc'd, *n entries)
 * gets the end offset of each chunk, in order; the chunks cover the text.
 * A byte that is not part of a valid UTF-8 sequence counts as one character
 * that is neither a letter, a number nor a space (see pretok.c).
 */
int pretok_split(const struct pretok *p, const uint8_t *text, size_t len,
    size_t **ends, size_t *n, char **cause);

#endif
