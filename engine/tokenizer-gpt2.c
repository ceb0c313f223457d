/*
 * tokenizer-gpt2.c: GPT-2's byte-level BPE vocabulary, built from the bytes
 * of its tokens (llm.c's tokenizer file, read by llmc.c) by recovering the
 * merges from the vocabulary's order. Encoding, decoding and the file format
 * are tokenizer.c's; the struct is in tokenizer-impl.h.
 *
 * How this works
 *
 * llm.c's tokenizer file lists each token's bytes but no merges. GPT-2's
 * token 256 + k is its merge k (the order of encoder.json is the order of
 * vocab.bpe), so the merges are recovered in order: with merges 0..k-1
 * known, BPE-encoding the bytes of token 256 + k must give exactly two
 * tokens, and they are merge k's pair. That BPE applies merges by rank
 * exactly as encoding text does, so the recovered table encodes like
 * GPT-2's vocab.bpe (checked against it for all 50000 merges when the test
 * data was made, tests/data/README). Ids 0..255 are taken as they come, in
 * GPT-2's byte order (engine/tokenizer.c's top comment).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tokenizer-impl.h"
#include "util.h"

/* Printable form of a token's bytes for messages (at most 32, escaped). */
static void
tokenizer_show(const uint8_t *p, size_t n, char out[32 * 4 + 8])
{
	size_t o = 0;

	for (size_t i = 0; i < n && i < 32; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
			out[o++] = (char)p[i];
		else {
			static const char hex[] = "0123456789abcdef";
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[p[i] >> 4];
			out[o++] = hex[p[i] & 15];
		}
	}
	if (n > 32) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* Build a tokenizer from its tokens' bytes, recovering the merges; see tokenizer.h. */
int
tokenizer_from_pieces(const uint8_t *const *pieces, const size_t *lens, int n,
    enum tokenizer_kind kind, struct tokenizer **out, char **cause)
{
	struct tokenizer *t = NULL;
	struct tokenizer_scratch s;
	uint8_t id_byte[256];
	int32_t *merges = NULL;
	int nmerges = n - 256, *ids = NULL, rc = -1;
	size_t cap, maxlen = 2;
	char shown[32 * 4 + 8];

	*out = NULL;
	memset(&s, 0, sizeof s);
	if (n < 256 || n > TOKENIZER_MAX_VOCAB - 1)
		return util_error(cause, "tokenizer: %d tokens before <|endoftext|> "
		    "is out of range 256..%d", n, TOKENIZER_MAX_VOCAB - 1);
	/* A scratch tokenizer whose merge table grows one merge at a time. */
	t = calloc(1, sizeof *t);
	if (t == NULL)
		return util_error(cause, "tokenizer: out of memory");
	for (int b = 0; b < 256; b++)
		t->byte_id[b] = -1;
	for (int id = 0; id < 256; id++) {
		if (lens[id] != 1) {
			util_error(cause, "tokenizer: token %d has %zu bytes; "
			    "tokens 0..255 must be the 256 single bytes", id,
			    lens[id]);
			goto done;
		}
		if (t->byte_id[pieces[id][0]] >= 0) {
			util_error(cause, "tokenizer: tokens %d and %d are both the "
			    "byte 0x%02x; tokens 0..255 must be the 256 single "
			    "bytes", (int)t->byte_id[pieces[id][0]], id,
			    pieces[id][0]);
			goto done;
		}
		t->byte_id[pieces[id][0]] = id;
		id_byte[id] = pieces[id][0];
	}
	for (int id = 256; id < n; id++) {
		if (lens[id] > maxlen)
			maxlen = lens[id];
	}
	cap = tokenizer_pow2(2 * (size_t)nmerges + 16);
	t->map_mask = cap - 1;
	t->map_keys = malloc(cap * sizeof *t->map_keys);
	t->map_ranks = malloc(cap * sizeof *t->map_ranks);
	merges = malloc(((size_t)nmerges + 1) * 2 * sizeof *merges);
	ids = malloc(maxlen * sizeof *ids);
	if (t->map_keys == NULL || t->map_ranks == NULL || merges == NULL ||
	    ids == NULL) {
		util_error(cause, "tokenizer: out of memory");
		goto done;
	}
	for (size_t i = 0; i < cap; i++)
		t->map_keys[i] = TOKENIZER_EMPTY_KEY;
	t->merges = merges;
	for (int r = 0; r < nmerges; r++) {
		const uint8_t *p = pieces[256 + r];
		size_t len = lens[256 + r], got = 0, slot;
		uint64_t key;

		/* BPE with merges 0..r-1 only: must give exactly two tokens. */
		if (len < 2)
			got = len;
		else if (len <= TOKENIZER_SHORT_CHUNK)
			got = tokenizer_encode_short(t, p, len, ids);
		else if (tokenizer_encode_long(t, p, len, ids, &got, &s,
		    cause) != 0)
			goto done;
		if (got != 2) {
			tokenizer_show(p, len, shown);
			util_error(cause, "tokenizer: token %d (\"%s\") is not a "
			    "merge of two earlier tokens: BPE with the %d merges "
			    "before it gives %zu tokens", 256 + r, shown, r, got);
			goto done;
		}
		merges[2 * r] = ids[0];
		merges[2 * r + 1] = ids[1];
		key = tokenizer_pair_key(ids[0], ids[1]);
		slot = tokenizer_hash64(key) & t->map_mask;
		while (t->map_keys[slot] != TOKENIZER_EMPTY_KEY) {
			if (t->map_keys[slot] == key) {
				tokenizer_show(p, len, shown);
				util_error(cause, "tokenizer: token %d (\"%s\") "
				    "repeats token %d", 256 + r, shown,
				    256 + (int)t->map_ranks[slot]);
				goto done;
			}
			slot = (slot + 1) & t->map_mask;
		}
		t->map_keys[slot] = key;
		t->map_ranks[slot] = r;
	}
	rc = tokenizer_build(merges, nmerges, id_byte, kind, out, cause);
done:
	t->merges = NULL;
	tokenizer_free(t);
	free(merges);
	free(ids);
	free(s.sym);
	free(s.prev);
	free(s.next);
	free(s.heap);
	return rc;
}
