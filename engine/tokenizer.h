/*
 * tokenizer.h: byte-level BPE tokenizer.
 *
 * Ids 0..255 are the single bytes (in byte order, or in GPT-2's order for
 * an imported GPT-2 vocabulary), then one id per learned merge in the order
 * learned, then <|endoftext|> (id V-1, where V = tokenizer_vocab_size). The id V
 * is reserved for <bksp>: it is never produced by encode and decodes to no bytes
 * (tokenizer_piece names it "<bksp>" for display).
 */
#ifndef SEQMATCH_TOKENIZER_H
#define SEQMATCH_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#define TOKENIZER_EOT_TEXT "<|endoftext|>"
#define TOKENIZER_BKSP_TEXT "<bksp>"
#define TOKENIZER_MAX_VOCAB 1048576

struct tokenizer;

/* How text is cut into chunks before BPE (recorded in the checkpoint). */
enum tokenizer_kind {
	TOKENIZER_KIND_OWN = 0,  /* the project's rule (tokenizer_train) */
	TOKENIZER_KIND_GPT2 = 1  /* GPT-2's pattern (pretok.c), GPT-2's byte ids */
};

/*
 * Learn merges from text (len bytes) until the vocabulary, EOT included, has
 * vocab_size entries (at least 257), or no pair occurs twice. The text is split
 * into chunks first (letters, digits, other symbols, spaces; a leading space
 * joins the next word; bytes >= 0x80 count as letters), and merges never cross
 * a chunk boundary.
 */
int tokenizer_train(const uint8_t *text, size_t len, int vocab_size,
    struct tokenizer **out, char **cause);
void tokenizer_free(struct tokenizer *tok);
/*
 * A tokenizer from the bytes of its tokens before <|endoftext|> (n of them,
 * so V = n + 1), as llm.c's tokenizer file lists them: tokens 0..255 are the
 * 256 single bytes in any order, token 256 + k is merge k, and its pair is
 * recovered by BPE-encoding its bytes with merges 0..k-1 (which must give
 * exactly two tokens; see tokenizer.c).
 */
int tokenizer_from_pieces(const uint8_t *const *pieces, const size_t *lens, int n,
    enum tokenizer_kind kind, struct tokenizer **out, char **cause);
enum tokenizer_kind tokenizer_kind(const struct tokenizer *tok);

/* V: number of real tokens, EOT included. */
int tokenizer_vocab_size(const struct tokenizer *tok);
int tokenizer_eot(const struct tokenizer *tok);  /* V-1 */
int tokenizer_bksp(const struct tokenizer *tok); /* V */

/* Encode bytes (any bytes) into ids; *ids is malloc'd. EOT text is NOT special. */
int tokenizer_encode(const struct tokenizer *tok, const uint8_t *text, size_t len,
    int **ids, size_t *n, char **cause);
/* The bytes of one token (EOT gives its text, <bksp> its display text). */
const uint8_t *tokenizer_piece(const struct tokenizer *tok, int id, size_t *len);
/* Decode ids into bytes (*out malloc'd, NUL-terminated); EOT and <bksp> add nothing. */
int tokenizer_decode(const struct tokenizer *tok, const int *ids, size_t n,
    uint8_t **out, size_t *len, char **cause);

/* Serialise into a malloc'd buffer; parse one back (every field checked). */
int tokenizer_serialize(const struct tokenizer *tok, uint8_t **buf, size_t *len,
    char **cause);
int tokenizer_deserialize(const uint8_t *buf, size_t len, struct tokenizer **out,
    char **cause);

#endif
