/*
 * tokenizer.c: byte-level BPE tokenizer: pre-tokenization, encoding, decoding
 * and the on-disk format.
 *
 * How this works
 *
 * Byte-level BPE (Sennrich et al. 2016, "Neural Machine Translation of Rare
 * Words with Subword Units", section 3.2; byte-level as in GPT-2, Radford et
 * al. 2019, section 2.2). The alphabet is the 256 byte values, so any byte
 * string can be encoded and decoded back exactly. Token 256 + r is the r-th
 * learned merge: the concatenation of two earlier tokens (left, right). The
 * last real token, V-1, is <|endoftext|>; V is <bksp>. Neither is ever
 * produced by encode and both decode to no bytes.
 *
 * Pre-tokenization. Text is cut into chunks and merges never cross a chunk
 * boundary, so a token never spans, say, the end of one word and the start of
 * the next. A chunk is a run of letters (ASCII letters and every byte >= 0x80,
 * so UTF-8 text stays whole), a run of digits, a run of other non-space
 * symbols or a run of whitespace. As in GPT-2, a single space (0x20) that ends
 * a whitespace run moves to the start of the run after it: "a  word" is "a",
 * " ", " word". Newlines therefore stay in whitespace chunks.
 *
 * Training is engine/tokenizer-train.c's.
 *
 * Encoding. Each chunk is encoded on its own, the way GPT-2's bpe() does it:
 * among the adjacent pairs that have a merge, take the one of lowest rank
 * (earliest learned), merge all its occurrences left to right, repeat. The
 * pair -> rank map is an open-addressing hash table. Short chunks keep an
 * array of pair ranks and rescan it; long chunks use a linked list of symbols
 * and a min-heap of (rank, position), which gives the same result in
 * O(n log n) (a merge's result id always has a higher rank than the merge,
 * so popping in (rank, position) order is the same left-to-right pass). A
 * direct-mapped cache, private to one encode call, remembers the ids of short
 * chunks already seen, since natural text repeats its words a lot.
 *
 * GPT-2's vocabulary. A GPT-2 tokenizer (built by tokenizer-gpt2.c from
 * llm.c's token list) differs in two ways. Its ids 0..255 are the 256 bytes
 * in GPT-2's order (printable bytes first), not in byte order: id_byte and
 * byte_id hold that permutation, and encoding starts from byte_id of each
 * byte. And its chunks come from GPT-2's pre-tokenizer (pretok.c) instead of
 * the rule above.
 *
 * File format (all little-endian u32): "SMTK", version, V, the number of
 * merges M (V = 256 + M + 1), then M pairs (left, right). Version 1 ends
 * there: the project's own pre-tokenizer, ids 0..255 in byte order. Version 2
 * (written only for other tokenizers, so files of our own kind stay readable
 * by older programs, and a GPT-2 tokenizer is refused by them rather than
 * silently cut by the wrong rule) adds a u32 kind (enum tokenizer_kind) and
 * the 256 bytes of ids 0..255.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pretok.h"
#include "tokenizer-impl.h"
#include "util.h"

#define TOKENIZER_MAGIC "SMTK"
#define TOKENIZER_VERSION 1
#define TOKENIZER_VERSION_KIND 2 /* with kind and byte order */
#define TOKENIZER_HEADER_BYTES 16
/* Total bytes of all token pieces together; guards against hostile files. */
#define TOKENIZER_MAX_PIECE_BYTES ((size_t)256 << 20)
/* Chunks up to this length go through the encode cache. */
#define TOKENIZER_CACHE_CHUNK 48
/* Inputs shorter than this are encoded without a cache. */
#define TOKENIZER_CACHE_MIN_INPUT 4096

/* Byte classes for pre-tokenization. */
enum tokenizer_class {
	TOKENIZER_CLASS_LETTER,
	TOKENIZER_CLASS_DIGIT,
	TOKENIZER_CLASS_SPACE,
	TOKENIZER_CLASS_SYMBOL
};

/* Class of one byte: bytes >= 0x80 are letters so UTF-8 sequences stay whole. */
static enum tokenizer_class
tokenizer_class_of(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80)
		return TOKENIZER_CLASS_LETTER;
	if (c >= '0' && c <= '9')
		return TOKENIZER_CLASS_DIGIT;
	if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f')
		return TOKENIZER_CLASS_SPACE;
	return TOKENIZER_CLASS_SYMBOL;
}

/* End of the chunk that starts at i (i < len); see the essay above. */
size_t
tokenizer_chunk_end(const uint8_t *text, size_t len, size_t i)
{
	enum tokenizer_class c;
	size_t j;

	if (tokenizer_class_of(text[i]) == TOKENIZER_CLASS_SPACE) {
		j = i + 1;
		while (j < len &&
		    tokenizer_class_of(text[j]) == TOKENIZER_CLASS_SPACE)
			j++;
		if (j == len || text[j - 1] != ' ')
			return j;
		if (j - 1 > i)
			return j - 1; /* the last space goes with the next run */
		i = j; /* a lone space: it starts the next run's chunk */
	}
	c = tokenizer_class_of(text[i]);
	j = i + 1;
	while (j < len && tokenizer_class_of(text[j]) == c)
		j++;
	return j;
}

/* Key of a pair of ids (both below 2^31). */
uint64_t
tokenizer_pair_key(int32_t left, int32_t right)
{
	return ((uint64_t)(uint32_t)left << 32) | (uint32_t)right;
}

/* Mix a 64-bit key into a table index (Fibonacci hashing plus a fold). */
uint64_t
tokenizer_hash64(uint64_t key)
{
	uint64_t h = key * 0x9e3779b97f4a7c15ULL;

	return h ^ (h >> 29);
}

/* Smallest power of two >= n (n >= 1, small enough not to overflow). */
size_t
tokenizer_pow2(size_t n)
{
	size_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

/* Rank of the merge of (left, right), or -1 if there is none. */
static int32_t
tokenizer_rank(const struct tokenizer *tok, int32_t left, int32_t right)
{
	uint64_t key = tokenizer_pair_key(left, right);
	size_t i = tokenizer_hash64(key) & tok->map_mask;

	for (;;) {
		if (tok->map_keys[i] == key)
			return tok->map_ranks[i];
		if (tok->map_keys[i] == TOKENIZER_EMPTY_KEY)
			return -1;
		i = (i + 1) & tok->map_mask;
	}
}

/* Free a tokenizer. */
void
tokenizer_free(struct tokenizer *tok)
{
	if (tok == NULL)
		return;
	free(tok->merges);
	free(tok->piece_off);
	free(tok->piece_len);
	free(tok->pieces);
	free(tok->map_keys);
	free(tok->map_ranks);
	pretok_free(tok->pretok);
	free(tok);
}

/*
 * Build a tokenizer from a merge table (M pairs), checking that every merge
 * refers to earlier ids and no pair repeats. id_byte gives the byte of ids
 * 0..255 (a permutation; NULL for byte order). Takes nothing over from merges.
 */
int
tokenizer_build(const int32_t *merges, int nmerges, const uint8_t *id_byte,
    enum tokenizer_kind kind, struct tokenizer **out, char **cause)
{
	struct tokenizer *tok;
	int V = 256 + nmerges + 1;
	size_t total = 0, cap, eot_len = strlen(TOKENIZER_EOT_TEXT);
	size_t bksp_len = strlen(TOKENIZER_BKSP_TEXT);

	*out = NULL;
	if (nmerges < 0 || nmerges > TOKENIZER_MAX_VOCAB - 257)
		return util_error(cause, "tokenizer: %d merges is out of range "
		    "0..%d", nmerges, TOKENIZER_MAX_VOCAB - 257);
	tok = calloc(1, sizeof *tok);
	if (tok == NULL)
		return util_error(cause, "tokenizer: out of memory");
	tok->V = V;
	tok->nmerges = nmerges;
	tok->kind = kind;
	for (int b = 0; b < 256; b++)
		tok->byte_id[b] = -1;
	for (int id = 0; id < 256; id++) {
		uint8_t b = id_byte != NULL ? id_byte[id] : (uint8_t)id;

		if (tok->byte_id[b] >= 0) {
			util_error(cause, "tokenizer: ids %d and %d are both the "
			    "byte 0x%02x", (int)tok->byte_id[b], id, b);
			tokenizer_free(tok);
			return -1;
		}
		tok->id_byte[id] = b;
		tok->byte_id[b] = id;
	}
	if (kind == TOKENIZER_KIND_GPT2 &&
	    (tok->pretok = pretok_new_gpt2(cause)) == NULL) {
		tokenizer_free(tok);
		return -1;
	}
	tok->merges = malloc(((size_t)nmerges + 1) * 2 * sizeof *tok->merges);
	tok->piece_off = malloc(((size_t)V + 1) * sizeof *tok->piece_off);
	tok->piece_len = malloc(((size_t)V + 1) * sizeof *tok->piece_len);
	cap = tokenizer_pow2(2 * (size_t)nmerges + 16);
	tok->map_mask = cap - 1;
	tok->map_keys = malloc(cap * sizeof *tok->map_keys);
	tok->map_ranks = malloc(cap * sizeof *tok->map_ranks);
	if (tok->merges == NULL || tok->piece_off == NULL ||
	    tok->piece_len == NULL || tok->map_keys == NULL ||
	    tok->map_ranks == NULL)
		goto oom;
	if (nmerges > 0)
		memcpy(tok->merges, merges, (size_t)nmerges * 2 *
		    sizeof *merges);
	for (size_t i = 0; i < cap; i++)
		tok->map_keys[i] = TOKENIZER_EMPTY_KEY;

	/* Check the merges and size the pieces before allocating them. */
	for (int id = 0; id < 256; id++)
		tok->piece_len[id] = 1;
	total = 256;
	for (int r = 0; r < nmerges; r++) {
		int32_t l = merges[2 * r], rt = merges[2 * r + 1];
		int32_t defined = 256 + r;
		uint64_t key;
		size_t slot;

		if (l < 0 || l >= defined) {
			util_error(cause, "tokenizer: merge %d refers to id %ld "
			    "which is not defined yet", r, (long)(uint32_t)l);
			goto fail;
		}
		if (rt < 0 || rt >= defined) {
			util_error(cause, "tokenizer: merge %d refers to id %ld "
			    "which is not defined yet", r, (long)(uint32_t)rt);
			goto fail;
		}
		key = tokenizer_pair_key(l, rt);
		slot = tokenizer_hash64(key) & tok->map_mask;
		while (tok->map_keys[slot] != TOKENIZER_EMPTY_KEY) {
			if (tok->map_keys[slot] == key) {
				util_error(cause, "tokenizer: merge %d repeats the "
				    "pair (%d, %d) of merge %d", r, (int)l, (int)rt,
				    (int)tok->map_ranks[slot]);
				goto fail;
			}
			slot = (slot + 1) & tok->map_mask;
		}
		tok->map_keys[slot] = key;
		tok->map_ranks[slot] = r;
		tok->piece_len[defined] = tok->piece_len[l] + tok->piece_len[rt];
		total += tok->piece_len[defined];
		if (tok->piece_len[defined] > TOKENIZER_MAX_PIECE_BYTES ||
		    total > TOKENIZER_MAX_PIECE_BYTES) {
			util_error(cause, "tokenizer: merge %d makes the tokens "
			    "longer than %zu bytes in total", r,
			    TOKENIZER_MAX_PIECE_BYTES);
			goto fail;
		}
	}
	tok->piece_len[V - 1] = eot_len;
	tok->piece_len[V] = bksp_len;
	tok->pieces = malloc(total + eot_len + bksp_len);
	if (tok->pieces == NULL)
		goto oom;

	/* Lay the bytes out: each merge is its left piece then its right. */
	for (int id = 0; id < 256; id++) {
		tok->piece_off[id] = (size_t)id;
		tok->pieces[id] = tok->id_byte[id];
	}
	total = 256;
	for (int r = 0; r < nmerges; r++) {
		int32_t l = merges[2 * r], rt = merges[2 * r + 1];
		int id = 256 + r;

		tok->piece_off[id] = total;
		memcpy(tok->pieces + total, tok->pieces + tok->piece_off[l],
		    tok->piece_len[l]);
		memcpy(tok->pieces + total + tok->piece_len[l],
		    tok->pieces + tok->piece_off[rt], tok->piece_len[rt]);
		total += tok->piece_len[id];
	}
	tok->piece_off[V - 1] = total;
	memcpy(tok->pieces + total, TOKENIZER_EOT_TEXT, eot_len);
	total += eot_len;
	tok->piece_off[V] = total;
	memcpy(tok->pieces + total, TOKENIZER_BKSP_TEXT, bksp_len);
	*out = tok;
	return 0;

oom:
	util_error(cause, "tokenizer: out of memory");
fail:
	tokenizer_free(tok);
	return -1;
}

/* V: number of real tokens, EOT included. */
int
tokenizer_vocab_size(const struct tokenizer *tok)
{
	return tok->V;
}

/* Id of <|endoftext|>. */
int
tokenizer_eot(const struct tokenizer *tok)
{
	return tok->V - 1;
}

/* Id of <bksp>. */
int
tokenizer_bksp(const struct tokenizer *tok)
{
	return tok->V;
}

/* The bytes of one token, or NULL (and length 0) for an id out of range. */
const uint8_t *
tokenizer_piece(const struct tokenizer *tok, int id, size_t *len)
{
	if (id < 0 || id > tok->V) {
		if (len != NULL)
			*len = 0;
		return NULL;
	}
	if (len != NULL)
		*len = tok->piece_len[id];
	return tok->pieces + tok->piece_off[id];
}

/* How this tokenizer cuts text into chunks. */
enum tokenizer_kind
tokenizer_kind(const struct tokenizer *tok)
{
	return tok->kind;
}

/* ---- Encoding ---- */

/* One remembered chunk: its bytes (in the input) and its ids (in the output). */
struct tokenizer_cache_entry {
	const uint8_t *p;
	size_t len;
	size_t off;
	size_t n;
};

/* Encode a short chunk (2..TOKENIZER_SHORT_CHUNK bytes) by rescanning ranks. */
size_t
tokenizer_encode_short(const struct tokenizer *tok, const uint8_t *p, size_t n,
    int *out)
{
	int32_t sym[TOKENIZER_SHORT_CHUNK], rank[TOKENIZER_SHORT_CHUNK];
	size_t m = n;

	for (size_t i = 0; i < n; i++)
		sym[i] = tok->byte_id[p[i]];
	for (size_t i = 0; i + 1 < n; i++)
		rank[i] = tokenizer_rank(tok, sym[i], sym[i + 1]);
	while (m > 1) {
		int32_t best = -1, c;
		size_t first = 0, i, o;

		for (i = 0; i + 1 < m; i++) {
			if (rank[i] >= 0 && (best < 0 || rank[i] < best)) {
				best = rank[i];
				first = i;
			}
		}
		if (best < 0)
			break;
		/* Merge every occurrence from the first one on, left to right. */
		c = 256 + best;
		for (i = o = first; i < m; o++) {
			if (i + 1 < m && rank[i] == best) {
				sym[o] = c;
				i += 2;
			} else {
				sym[o] = sym[i];
				rank[o] = rank[i];
				i++;
			}
		}
		m = o;
		/* Only pairs that touch a new c have changed. */
		for (i = first > 0 ? first - 1 : 0; i + 1 < m; i++) {
			if (sym[i] == c || sym[i + 1] == c)
				rank[i] = tokenizer_rank(tok, sym[i], sym[i + 1]);
		}
	}
	for (size_t i = 0; i < m; i++)
		out[i] = sym[i];
	return m;
}

/* Push onto the long-chunk min-heap (capacity is ensured by the caller). */
static void
tokenizer_encode_push(struct tokenizer_scratch *s, size_t *nheap, uint64_t e)
{
	size_t i = (*nheap)++;

	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (s->heap[parent] <= e)
			break;
		s->heap[i] = s->heap[parent];
		i = parent;
	}
	s->heap[i] = e;
}

/* Pop the smallest entry off the long-chunk min-heap (which is not empty). */
static uint64_t
tokenizer_encode_pop(struct tokenizer_scratch *s, size_t *nheap)
{
	uint64_t top = s->heap[0], e = s->heap[--(*nheap)];
	size_t i = 0, n = *nheap;

	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= n)
			break;
		if (child + 1 < n && s->heap[child + 1] < s->heap[child])
			child++;
		if (s->heap[child] >= e)
			break;
		s->heap[i] = s->heap[child];
		i = child;
	}
	if (n > 0)
		s->heap[i] = e;
	return top;
}

/* Encode a long chunk with a linked list and a (rank, position) heap. */
int
tokenizer_encode_long(const struct tokenizer *tok, const uint8_t *p, size_t n,
    int *out, size_t *nout, struct tokenizer_scratch *s, char **cause)
{
	size_t nheap = 0, m = 0;
	uint32_t i;

	if (n > UINT32_MAX - 1)
		return util_error(cause, "tokenizer: a chunk of %zu bytes is "
		    "too long to encode", n);
	if (n > s->cap) {
		void *a = realloc(s->sym, n * sizeof *s->sym);
		void *b = a ? realloc(s->prev, n * sizeof *s->prev) : NULL;
		void *c = b ? realloc(s->next, n * sizeof *s->next) : NULL;
		if (a != NULL)
			s->sym = a;
		if (b != NULL)
			s->prev = b;
		if (c == NULL)
			return util_error(cause, "tokenizer: out of memory");
		s->next = c;
		s->cap = n;
	}
	/* At most n-1 first entries plus two per merge (at most n-1 merges). */
	if (3 * n > s->heapcap) {
		void *h = realloc(s->heap, 3 * n * sizeof *s->heap);
		if (h == NULL)
			return util_error(cause, "tokenizer: out of memory");
		s->heap = h;
		s->heapcap = 3 * n;
	}
	for (i = 0; i < n; i++) {
		s->sym[i] = tok->byte_id[p[i]];
		s->prev[i] = i - 1; /* UINT32_MAX for the first: no neighbour */
		s->next[i] = i + 1; /* n for the last */
	}
	for (i = 0; i + 1 < n; i++) {
		int32_t r = tokenizer_rank(tok, s->sym[i], s->sym[i + 1]);
		if (r >= 0)
			tokenizer_encode_push(s, &nheap, (uint64_t)r << 32 | i);
	}
	while (nheap > 0) {
		uint64_t e = tokenizer_encode_pop(s, &nheap);
		int32_t r = (int32_t)(e >> 32), c = 256 + r, nr;
		uint32_t j, k;

		i = (uint32_t)e;
		j = s->next[i];
		/* Stale if the pair at i is no longer the one this rank merges. */
		if (s->sym[i] != tok->merges[2 * r] || j >= n ||
		    s->sym[j] != tok->merges[2 * r + 1])
			continue;
		s->sym[i] = c;
		s->sym[j] = -1;
		k = s->next[j];
		s->next[i] = k;
		if (k < n)
			s->prev[k] = i;
		if (s->prev[i] != UINT32_MAX) {
			uint32_t h = s->prev[i];
			nr = tokenizer_rank(tok, s->sym[h], c);
			if (nr >= 0)
				tokenizer_encode_push(s, &nheap,
				    (uint64_t)nr << 32 | h);
		}
		if (k < n) {
			nr = tokenizer_rank(tok, c, s->sym[k]);
			if (nr >= 0)
				tokenizer_encode_push(s, &nheap,
				    (uint64_t)nr << 32 | i);
		}
	}
	for (i = 0; i < n; i = s->next[i])
		out[m++] = s->sym[i];
	*nout = m;
	return 0;
}

/* Encode bytes into ids; see tokenizer.h. */
int
tokenizer_encode(const struct tokenizer *tok, const uint8_t *text, size_t len,
    int **ids, size_t *n, char **cause)
{
	struct tokenizer_scratch s;
	struct tokenizer_cache_entry *cache = NULL;
	size_t cache_mask = 0, pos = 0, nout = 0, *ends = NULL, nends = 0, k = 0;
	int *out;

	*ids = NULL;
	*n = 0;
	memset(&s, 0, sizeof s);
	/* Every token is at least one byte, so len ids always suffice. */
	if (len > SIZE_MAX / sizeof *out - 1)
		return util_error(cause, "tokenizer: input too large");
	/* GPT-2's chunks come from its pattern, all at once. */
	if (tok->pretok != NULL &&
	    pretok_split(tok->pretok, text, len, &ends, &nends, cause) != 0)
		return -1;
	out = malloc((len + 1) * sizeof *out);
	if (out == NULL) {
		free(ends);
		return util_error(cause, "tokenizer: out of memory");
	}
	if (len >= TOKENIZER_CACHE_MIN_INPUT) {
		size_t entries = tokenizer_pow2(len / 16);
		if (entries > 65536)
			entries = 65536;
		cache = calloc(entries, sizeof *cache);
		if (cache != NULL) /* the cache is only an optimisation */
			cache_mask = entries - 1;
	}
	while (pos < len) {
		size_t end = ends != NULL ? ends[k++] :
		    tokenizer_chunk_end(text, len, pos);
		size_t clen = end - pos, got = 0;
		struct tokenizer_cache_entry *ce = NULL;
		const uint8_t *p = text + pos;

		pos = end;
		if (clen == 1) {
			out[nout++] = tok->byte_id[p[0]];
			continue;
		}
		if (cache != NULL && clen <= TOKENIZER_CACHE_CHUNK) {
			uint64_t h = util_fnv1a(UTIL_FNV_INIT, p, clen);
			ce = &cache[tokenizer_hash64(h) & cache_mask];
			if (ce->p != NULL && ce->len == clen &&
			    memcmp(ce->p, p, clen) == 0) {
				memcpy(out + nout, out + ce->off,
				    ce->n * sizeof *out);
				nout += ce->n;
				continue;
			}
		}
		if (clen <= TOKENIZER_SHORT_CHUNK)
			got = tokenizer_encode_short(tok, p, clen, out + nout);
		else if (tokenizer_encode_long(tok, p, clen, out + nout, &got,
		    &s, cause) != 0) {
			free(out);
			free(ends);
			free(cache);
			free(s.sym);
			free(s.prev);
			free(s.next);
			free(s.heap);
			return -1;
		}
		if (ce != NULL) {
			ce->p = p;
			ce->len = clen;
			ce->off = nout;
			ce->n = got;
		}
		nout += got;
	}
	free(ends);
	free(cache);
	free(s.sym);
	free(s.prev);
	free(s.next);
	free(s.heap);
	*ids = out;
	*n = nout;
	return 0;
}

/* Decode ids into bytes; see tokenizer.h. */
int
tokenizer_decode(const struct tokenizer *tok, const int *ids, size_t n,
    uint8_t **out, size_t *len, char **cause)
{
	size_t total = 0, o = 0;
	uint8_t *buf;

	*out = NULL;
	*len = 0;
	for (size_t i = 0; i < n; i++) {
		if (ids[i] < 0 || ids[i] > tok->V)
			return util_error(cause, "tokenizer: id %d at position "
			    "%zu is out of range 0..%d", ids[i], i, tok->V);
		if (ids[i] < tok->V - 1 &&
		    util_add(total, tok->piece_len[ids[i]], &total) != 0)
			return util_error(cause, "tokenizer: decoded text too "
			    "large");
	}
	if (total == SIZE_MAX)
		return util_error(cause, "tokenizer: decoded text too large");
	buf = malloc(total + 1);
	if (buf == NULL)
		return util_error(cause, "tokenizer: out of memory");
	for (size_t i = 0; i < n; i++) {
		if (ids[i] >= tok->V - 1)
			continue; /* EOT and <bksp> add no bytes */
		memcpy(buf + o, tok->pieces + tok->piece_off[ids[i]],
		    tok->piece_len[ids[i]]);
		o += tok->piece_len[ids[i]];
	}
	buf[o] = '\0';
	*out = buf;
	*len = o;
	return 0;
}

/* ---- Serialisation ---- */

/* Store a little-endian u32. */
static void
tokenizer_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Load a little-endian u32. */
static uint32_t
tokenizer_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* Write the tokenizer into a malloc'd buffer. */
int
tokenizer_serialize(const struct tokenizer *tok, uint8_t **buf, size_t *len,
    char **cause)
{
	size_t size = TOKENIZER_HEADER_BYTES + (size_t)tok->nmerges * 8;
	int ours = tok->kind == TOKENIZER_KIND_OWN;
	uint8_t *b;

	for (int id = 0; id < 256; id++)
		ours = ours && tok->id_byte[id] == id;
	*buf = NULL;
	*len = 0;
	b = malloc(size + (ours ? 0 : 4 + 256));
	if (b == NULL)
		return util_error(cause, "tokenizer: out of memory");
	memcpy(b, TOKENIZER_MAGIC, 4);
	tokenizer_put_u32(b + 4, ours ? TOKENIZER_VERSION :
	    TOKENIZER_VERSION_KIND);
	tokenizer_put_u32(b + 8, (uint32_t)tok->V);
	tokenizer_put_u32(b + 12, (uint32_t)tok->nmerges);
	for (int r = 0; r < tok->nmerges; r++) {
		tokenizer_put_u32(b + 16 + 8 * (size_t)r,
		    (uint32_t)tok->merges[2 * r]);
		tokenizer_put_u32(b + 20 + 8 * (size_t)r,
		    (uint32_t)tok->merges[2 * r + 1]);
	}
	if (!ours) {
		tokenizer_put_u32(b + size, (uint32_t)tok->kind);
		memcpy(b + size + 4, tok->id_byte, 256);
		size += 4 + 256;
	}
	*buf = b;
	*len = size;
	return 0;
}

/* Parse a serialised tokenizer, checking every field. */
int
tokenizer_deserialize(const uint8_t *buf, size_t len, struct tokenizer **out,
    char **cause)
{
	uint32_t version, V, nmerges, kind = TOKENIZER_KIND_OWN;
	const uint8_t *id_byte = NULL;
	size_t extra = 0;
	int32_t *merges;
	int rc;

	*out = NULL;
	if (len < TOKENIZER_HEADER_BYTES)
		return util_error(cause, "tokenizer: truncated header (%zu bytes, "
		    "need %d)", len, TOKENIZER_HEADER_BYTES);
	if (memcmp(buf, TOKENIZER_MAGIC, 4) != 0)
		return util_error(cause, "tokenizer: bad magic (not a seqmatch "
		    "tokenizer; expected \"%s\")", TOKENIZER_MAGIC);
	version = tokenizer_get_u32(buf + 4);
	if (version != TOKENIZER_VERSION && version != TOKENIZER_VERSION_KIND)
		return util_error(cause, "tokenizer: unsupported version %lu "
		    "(expected %d or %d)", (unsigned long)version,
		    TOKENIZER_VERSION, TOKENIZER_VERSION_KIND);
	if (version == TOKENIZER_VERSION_KIND)
		extra = 4 + 256;
	V = tokenizer_get_u32(buf + 8);
	nmerges = tokenizer_get_u32(buf + 12);
	/* Check the counts against the buffer before allocating anything. */
	if (len < TOKENIZER_HEADER_BYTES + extra)
		return util_error(cause, "tokenizer: truncated: version %lu needs "
		    "at least %zu bytes, the section has %zu",
		    (unsigned long)version, TOKENIZER_HEADER_BYTES + extra, len);
	len -= extra;
	if (nmerges > (len - TOKENIZER_HEADER_BYTES) / 8)
		return util_error(cause, "tokenizer: truncated: the header "
		    "declares %lu merges but only %zu bytes of merge data follow",
		    (unsigned long)nmerges, len - TOKENIZER_HEADER_BYTES);
	if (nmerges > TOKENIZER_MAX_VOCAB - 257)
		return util_error(cause, "tokenizer: %lu merges is more than the "
		    "maximum %d", (unsigned long)nmerges,
		    TOKENIZER_MAX_VOCAB - 257);
	if ((uint64_t)V != 256 + (uint64_t)nmerges + 1)
		return util_error(cause, "tokenizer: vocabulary size %lu does not "
		    "match 256 bytes + %lu merges + 1", (unsigned long)V,
		    (unsigned long)nmerges);
	if (len != TOKENIZER_HEADER_BYTES + (size_t)nmerges * 8)
		return util_error(cause, "tokenizer: %zu unexpected bytes after "
		    "the merge table", len - TOKENIZER_HEADER_BYTES -
		    (size_t)nmerges * 8);
	if (extra > 0) {
		kind = tokenizer_get_u32(buf + len);
		id_byte = buf + len + 4;
		int in_order = 1;

		if (kind != TOKENIZER_KIND_OWN && kind != TOKENIZER_KIND_GPT2)
			return util_error(cause, "tokenizer: unknown kind %lu "
			    "(expected %d, our own, or %d, GPT-2)",
			    (unsigned long)kind, TOKENIZER_KIND_OWN,
			    TOKENIZER_KIND_GPT2);
		for (int id = 0; id < 256; id++)
			in_order = in_order && id_byte[id] == id;
		/* One form per tokenizer: that one is version 1. */
		if (kind == TOKENIZER_KIND_OWN && in_order)
			return util_error(cause, "tokenizer: version 2 of our own "
			    "kind with the bytes in order (that is version 1)");
	}
	merges = malloc(((size_t)nmerges + 1) * 2 * sizeof *merges);
	if (merges == NULL)
		return util_error(cause, "tokenizer: out of memory");
	for (uint32_t r = 0; r < nmerges; r++) {
		const uint8_t *p = buf + TOKENIZER_HEADER_BYTES + 8 * (size_t)r;

		/* Ids of 2^31 and more turn negative; tokenizer_build names them. */
		merges[2 * r] = (int32_t)tokenizer_get_u32(p);
		merges[2 * r + 1] = (int32_t)tokenizer_get_u32(p + 4);
	}
	rc = tokenizer_build(merges, (int)nmerges, id_byte,
	    (enum tokenizer_kind)kind, out, cause);
	free(merges);
	return rc;
}
