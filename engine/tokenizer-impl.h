/*
 * tokenizer-impl.h: the tokenizer struct and the helpers shared inside the
 * engine by tokenizer.c (pre-tokenization, encoding, the file format),
 * tokenizer-train.c (training) and tokenizer-gpt2.c (GPT-2's vocabulary from
 * llm.c's token list).
 */
#ifndef SEQMATCH_TOKENIZER_IMPL_H
#define SEQMATCH_TOKENIZER_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "pretok.h"
#include "tokenizer.h"

/* Chunks up to this length use the rescanning encoder, longer ones the heap. */
#define TOKENIZER_SHORT_CHUNK 32
/* An empty slot in the pair -> rank table (no real pair has this key). */
#define TOKENIZER_EMPTY_KEY UINT64_MAX

/* A tokenizer: the opaque type of tokenizer.h. */
struct tokenizer {
	int V;              /* real tokens, EOT included */
	int nmerges;        /* M = V - 257 */
	int32_t *merges;    /* (M, 2): left and right id of token 256 + r */
	size_t *piece_off;  /* (V+1): where each token's bytes start in pieces */
	size_t *piece_len;  /* (V+1) */
	uint8_t *pieces;    /* all token bytes, then the EOT and <bksp> texts */
	uint64_t *map_keys; /* (map_mask+1): pair key or TOKENIZER_EMPTY_KEY */
	int32_t *map_ranks; /* (map_mask+1): merge rank of the pair */
	size_t map_mask;
	enum tokenizer_kind kind;
	uint8_t id_byte[256];  /* the byte of each id 0..255 */
	int32_t byte_id[256];  /* the id of each byte */
	struct pretok *pretok; /* GPT-2's pre-tokenizer, NULL for our own */
};

/* Scratch arrays for the long-chunk encoder, grown as needed. */
struct tokenizer_scratch {
	size_t cap;       /* entries in sym, prev, next */
	int32_t *sym;     /* symbol at each position, -1 once merged away */
	uint32_t *prev;   /* linked list of live positions */
	uint32_t *next;
	size_t heapcap;
	uint64_t *heap;   /* min-heap of rank << 32 | position */
};

/* Key of a pair of ids (both below 2^31). */
uint64_t tokenizer_pair_key(int32_t left, int32_t right);

/* Mix a 64-bit key into a table index (Fibonacci hashing plus a fold). */
uint64_t tokenizer_hash64(uint64_t key);

/* Smallest power of two >= n (n >= 1, small enough not to overflow). */
size_t tokenizer_pow2(size_t n);

/* End of the chunk of text[0..len) that starts at i (i < len), by our own rule. */
size_t tokenizer_chunk_end(const uint8_t *text, size_t len, size_t i);

/*
 * Build a tokenizer from a merge table (M pairs), checking that every merge
 * refers to earlier ids and no pair repeats. id_byte gives the byte of ids
 * 0..255 (a permutation; NULL for byte order). Takes nothing over from merges.
 */
int tokenizer_build(const int32_t *merges, int nmerges, const uint8_t *id_byte,
    enum tokenizer_kind kind, struct tokenizer **out, char **cause);

/* Encode a short chunk (2..TOKENIZER_SHORT_CHUNK bytes) by rescanning ranks. */
size_t tokenizer_encode_short(const struct tokenizer *tok, const uint8_t *p,
    size_t n, int *out);

/* Encode a long chunk with a linked list and a (rank, position) heap. */
int tokenizer_encode_long(const struct tokenizer *tok, const uint8_t *p,
    size_t n, int *out, size_t *nout, struct tokenizer_scratch *s,
    char **cause);

#endif
