/*
 * tokenizer-train.c: learning the merges of a byte-level BPE tokenizer
 * (engine/tokenizer.c has the tokenizer itself).
 *
 * How this works
 *
 * Training. The chunks (pre-tokenization, engine/tokenizer.c) are counted in
 * a hash map; each distinct chunk becomes a "word" with a frequency, laid
 * out once as a linked list of symbol ids (bytes at first). Every adjacent
 * pair of symbols has a count (the sum of the frequencies of the words it
 * occurs in, once per occurrence), a list of the positions where it may
 * start, and a place in a binary max-heap ordered by (count, then smallest
 * left, then smallest right, so ties are broken deterministically). Each
 * step takes the heap top (a, b), gives it the next id c and visits only the
 * positions in its list, skipping stale ones. Merging "x a b y" into "x c y"
 * unlinks one symbol, takes f (the word frequency) from (x,a), (a,b) and
 * (b,y) and adds f to (x,c) and (c,y), listing their positions; the heap
 * entries of the changed pairs move up or down. A step thus costs in
 * proportion to the pair's occurrences, not to the corpus or to the length
 * of the words that hold it. Occurrences only overlap in runs of one symbol
 * ("a a a"), and those are merged left to right ("aa a"), as the encoder
 * does. Training stops at the asked vocabulary size or when the best pair
 * occurs fewer than twice.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tokenizer-impl.h"
#include "util.h"

/* One distinct chunk of the training text. */
struct tokenizer_chunk {
	const uint8_t *p;
	size_t len;
	uint64_t hash;
	int64_t freq;
};

/* One adjacent pair of symbols during training. */
struct tokenizer_pair {
	int64_t count;    /* occurrences weighted by word frequency */
	int32_t left;
	int32_t right;
	int32_t heap_pos; /* index in the heap, -1 before the heap is built */
	uint32_t npos;
	uint32_t cappos;
	uint32_t *pos;    /* symbol positions that may start the pair (stale ok) */
};

/*
 * Training state. Every distinct chunk of two or more bytes is laid out once
 * in sym; prev and next link the live symbols of one word (TOKENIZER_NONE at
 * the word's ends), so merging two symbols is a constant-time unlink.
 */
struct tokenizer_trainer {
	struct tokenizer_chunk *chunks; /* (nwords): the distinct chunks */
	size_t nwords;
	size_t nsyms;
	int32_t *sym;       /* (nsyms): symbol id, -1 once merged into its left */
	uint32_t *prev;     /* (nsyms) */
	uint32_t *next;     /* (nsyms) */
	uint32_t *word;     /* (nsyms): the chunk each position belongs to */

	struct tokenizer_pair *pairs;
	size_t npairs;
	size_t cappairs;
	int32_t *slots;     /* (slot_mask+1): pair index or -1 */
	size_t slot_mask;
	int32_t *heap;      /* (npairs): pair indices, best first */
	size_t nheap;
	int heap_ready;
};

/* No neighbour: the end of a word. */
#define TOKENIZER_NONE UINT32_MAX

/* Free what a trainer holds. */
static void
tokenizer_trainer_release(struct tokenizer_trainer *t)
{
	for (size_t i = 0; i < t->npairs; i++)
		free(t->pairs[i].pos);
	free(t->pairs);
	free(t->slots);
	free(t->heap);
	free(t->chunks);
	free(t->sym);
	free(t->prev);
	free(t->next);
	free(t->word);
}

/* Count the distinct chunks of the text, in order of first appearance. */
static int
tokenizer_train_chunks(struct tokenizer_trainer *t, const uint8_t *text,
    size_t len, char **cause)
{
	int32_t *slots = NULL;
	size_t mask = 4095, cap = 0, pos = 0;

	slots = malloc((mask + 1) * sizeof *slots);
	if (slots == NULL)
		return util_error(cause, "tokenizer: out of memory");
	memset(slots, 0xff, (mask + 1) * sizeof *slots);
	while (pos < len) {
		size_t end = tokenizer_chunk_end(text, len, pos), i;
		uint64_t h = util_fnv1a(UTIL_FNV_INIT, text + pos, end - pos);
		struct tokenizer_chunk *c;

		i = tokenizer_hash64(h) & mask;
		while (slots[i] >= 0) {
			c = &t->chunks[slots[i]];
			if (c->hash == h && c->len == end - pos &&
			    memcmp(c->p, text + pos, c->len) == 0)
				break;
			i = (i + 1) & mask;
		}
		if (slots[i] >= 0) {
			t->chunks[slots[i]].freq++;
			pos = end;
			continue;
		}
		if (t->nwords >= (size_t)INT32_MAX - 1) {
			free(slots);
			return util_error(cause, "tokenizer: more than %d "
			    "distinct chunks in the training text", INT32_MAX - 1);
		}
		if (t->nwords == cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			void *p = realloc(t->chunks, ncap * sizeof *t->chunks);
			if (p == NULL)
				goto oom;
			t->chunks = p;
			cap = ncap;
		}
		c = &t->chunks[t->nwords];
		c->p = text + pos;
		c->len = end - pos;
		c->hash = h;
		c->freq = 1;
		slots[i] = (int32_t)t->nwords++;
		pos = end;
		if (t->nwords * 2 > mask + 1) {
			/* Grow the table and reinsert every chunk. */
			size_t nmask = (mask + 1) * 2 - 1;
			int32_t *ns = malloc((nmask + 1) * sizeof *ns);
			if (ns == NULL)
				goto oom;
			memset(ns, 0xff, (nmask + 1) * sizeof *ns);
			for (size_t w = 0; w < t->nwords; w++) {
				size_t k = tokenizer_hash64(t->chunks[w].hash) &
				    nmask;
				while (ns[k] >= 0)
					k = (k + 1) & nmask;
				ns[k] = (int32_t)w;
			}
			free(slots);
			slots = ns;
			mask = nmask;
		}
	}
	free(slots);
	return 0;

oom:
	free(slots);
	return util_error(cause, "tokenizer: out of memory");
}

/* Whether pair a should come out of the heap before pair b. */
static int
tokenizer_train_better(const struct tokenizer_pair *a,
    const struct tokenizer_pair *b)
{
	if (a->count != b->count)
		return a->count > b->count;
	if (a->left != b->left)
		return a->left < b->left;
	return a->right < b->right;
}

/* Put pair index p at heap position i. */
static void
tokenizer_train_heap_set(struct tokenizer_trainer *t, size_t i, int32_t p)
{
	t->heap[i] = p;
	t->pairs[p].heap_pos = (int32_t)i;
}

/* Move the heap entry at i towards the top while it beats its parent. */
static void
tokenizer_train_sift_up(struct tokenizer_trainer *t, size_t i)
{
	int32_t p = t->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!tokenizer_train_better(&t->pairs[p],
		    &t->pairs[t->heap[parent]]))
			break;
		tokenizer_train_heap_set(t, i, t->heap[parent]);
		i = parent;
	}
	tokenizer_train_heap_set(t, i, p);
}

/* Move the heap entry at i down while a child beats it. */
static void
tokenizer_train_sift_down(struct tokenizer_trainer *t, size_t i)
{
	int32_t p = t->heap[i];

	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= t->nheap)
			break;
		if (child + 1 < t->nheap &&
		    tokenizer_train_better(&t->pairs[t->heap[child + 1]],
		    &t->pairs[t->heap[child]]))
			child++;
		if (!tokenizer_train_better(&t->pairs[t->heap[child]],
		    &t->pairs[p]))
			break;
		tokenizer_train_heap_set(t, i, t->heap[child]);
		i = child;
	}
	tokenizer_train_heap_set(t, i, p);
}

/* Index of pair (left, right), created with count 0 if new; -1 if out of memory. */
static int32_t
tokenizer_train_pair(struct tokenizer_trainer *t, int32_t left, int32_t right)
{
	uint64_t key = tokenizer_pair_key(left, right);
	size_t i = tokenizer_hash64(key) & t->slot_mask;
	struct tokenizer_pair *p;

	while (t->slots[i] >= 0) {
		p = &t->pairs[t->slots[i]];
		if (p->left == left && p->right == right)
			return t->slots[i];
		i = (i + 1) & t->slot_mask;
	}
	if (t->npairs >= (size_t)INT32_MAX - 1)
		return -1;
	if (t->npairs == t->cappairs) {
		size_t ncap = t->cappairs ? t->cappairs * 2 : 4096;
		void *np = realloc(t->pairs, ncap * sizeof *t->pairs);
		if (np == NULL)
			return -1;
		t->pairs = np;
		np = realloc(t->heap, ncap * sizeof *t->heap);
		if (np == NULL)
			return -1;
		t->heap = np;
		t->cappairs = ncap;
	}
	p = &t->pairs[t->npairs];
	memset(p, 0, sizeof *p);
	p->left = left;
	p->right = right;
	p->heap_pos = -1;
	t->slots[i] = (int32_t)t->npairs++;
	if (t->heap_ready) {
		t->heap[t->nheap] = (int32_t)(t->npairs - 1);
		p->heap_pos = (int32_t)t->nheap++;
	}
	if (t->npairs * 2 > t->slot_mask + 1) {
		/* Grow the table and reinsert every pair. */
		size_t nmask = (t->slot_mask + 1) * 2 - 1;
		int32_t *ns = malloc((nmask + 1) * sizeof *ns);
		if (ns == NULL)
			return -1;
		memset(ns, 0xff, (nmask + 1) * sizeof *ns);
		for (size_t k = 0; k < t->npairs; k++) {
			size_t s = tokenizer_hash64(tokenizer_pair_key(
			    t->pairs[k].left, t->pairs[k].right)) & nmask;
			while (ns[s] >= 0)
				s = (s + 1) & nmask;
			ns[s] = (int32_t)k;
		}
		free(t->slots);
		t->slots = ns;
		t->slot_mask = nmask;
	}
	return (int32_t)(t->npairs - 1);
}

/* Add d to the count of (left, right); if d > 0 the pair now starts at pos. */
static int
tokenizer_train_add(struct tokenizer_trainer *t, int32_t left, int32_t right,
    int64_t d, uint32_t pos)
{
	int32_t pi = tokenizer_train_pair(t, left, right);
	struct tokenizer_pair *p;

	if (pi < 0)
		return -1;
	p = &t->pairs[pi];
	p->count += d;
	if (d > 0 && (p->npos == 0 || p->pos[p->npos - 1] != pos)) {
		if (p->npos == p->cappos) {
			uint32_t ncap = p->cappos ? p->cappos * 2 : 4;
			uint32_t *np;
			if (ncap <= p->cappos)
				return -1;
			np = realloc(p->pos, ncap * sizeof *np);
			if (np == NULL)
				return -1;
			p->pos = np;
			p->cappos = ncap;
		}
		p->pos[p->npos++] = pos;
	}
	if (t->heap_ready) {
		if (d > 0)
			tokenizer_train_sift_up(t, (size_t)p->heap_pos);
		else
			tokenizer_train_sift_down(t, (size_t)p->heap_pos);
	}
	return 0;
}

/*
 * Merge the pair (a, b) starting at position i into c, if it still is there,
 * and move the counts of the neighbouring pairs:
 * x a b y -> x c y takes f from (x,a), (a,b), (b,y) and gives it to (x,c), (c,y).
 */
static int
tokenizer_train_merge_at(struct tokenizer_trainer *t, uint32_t i, int32_t a,
    int32_t b, int32_t c)
{
	uint32_t j = t->next[i], h = t->prev[i], k;
	int64_t f;

	if (t->sym[i] != a || j == TOKENIZER_NONE || t->sym[j] != b)
		return 0; /* stale: merged away or changed since it was listed */
	f = t->chunks[t->word[i]].freq;
	k = t->next[j];
	if (tokenizer_train_add(t, a, b, -f, i) != 0)
		return -1;
	if (h != TOKENIZER_NONE &&
	    (tokenizer_train_add(t, t->sym[h], a, -f, h) != 0 ||
	    tokenizer_train_add(t, t->sym[h], c, f, h) != 0))
		return -1;
	if (k != TOKENIZER_NONE &&
	    (tokenizer_train_add(t, b, t->sym[k], -f, j) != 0 ||
	    tokenizer_train_add(t, c, t->sym[k], f, i) != 0))
		return -1;
	t->sym[i] = c;
	t->sym[j] = -1;
	t->next[i] = k;
	if (k != TOKENIZER_NONE)
		t->prev[k] = i;
	return 0;
}

/* Lay the words out as linked byte symbols and count every adjacent pair. */
static int
tokenizer_train_setup(struct tokenizer_trainer *t, char **cause)
{
	size_t total = 0, i = 0;

	for (size_t w = 0; w < t->nwords; w++) {
		if (t->chunks[w].len >= 2) /* a single byte has no pairs */
			total += t->chunks[w].len;
	}
	if (total >= TOKENIZER_NONE)
		return util_error(cause, "tokenizer: the distinct chunks of the "
		    "training text hold %zu bytes, more than %lu", total,
		    (unsigned long)TOKENIZER_NONE - 1);
	t->nsyms = total;
	t->sym = malloc((total + 1) * sizeof *t->sym);
	t->prev = malloc((total + 1) * sizeof *t->prev);
	t->next = malloc((total + 1) * sizeof *t->next);
	t->word = malloc((total + 1) * sizeof *t->word);
	t->slot_mask = 8191;
	t->slots = malloc((t->slot_mask + 1) * sizeof *t->slots);
	if (t->sym == NULL || t->prev == NULL || t->next == NULL ||
	    t->word == NULL || t->slots == NULL)
		return util_error(cause, "tokenizer: out of memory");
	memset(t->slots, 0xff, (t->slot_mask + 1) * sizeof *t->slots);
	for (size_t w = 0; w < t->nwords; w++) {
		const struct tokenizer_chunk *c = &t->chunks[w];
		size_t first = i;

		if (c->len < 2)
			continue;
		for (size_t k = 0; k < c->len; k++, i++) {
			t->sym[i] = c->p[k];
			t->word[i] = (uint32_t)w;
			t->prev[i] = k == 0 ? TOKENIZER_NONE : (uint32_t)(i - 1);
			t->next[i] = k + 1 == c->len ? TOKENIZER_NONE :
			    (uint32_t)(i + 1);
		}
		for (size_t k = first; k + 1 < i; k++) {
			if (tokenizer_train_add(t, t->sym[k], t->sym[k + 1],
			    c->freq, (uint32_t)k) != 0)
				return util_error(cause, "tokenizer: out of "
				    "memory");
		}
	}
	/* Heapify once, rather than sifting on every count above. */
	for (size_t k = 0; k < t->npairs; k++)
		tokenizer_train_heap_set(t, k, (int32_t)k);
	t->nheap = t->npairs;
	for (size_t k = t->nheap / 2; k-- > 0;)
		tokenizer_train_sift_down(t, k);
	t->heap_ready = 1;
	return 0;
}

/* Learn merges from text; see tokenizer.h. */
int
tokenizer_train(const uint8_t *text, size_t len, int vocab_size,
    struct tokenizer **out, char **cause)
{
	struct tokenizer_trainer t;
	int32_t *merges = NULL;
	int nmerges = 0, rc;

	*out = NULL;
	if (vocab_size < 257 || vocab_size > TOKENIZER_MAX_VOCAB)
		return util_error(cause, "tokenizer: vocab size %d is out of "
		    "range 257..%d", vocab_size, TOKENIZER_MAX_VOCAB);
	memset(&t, 0, sizeof t);
	merges = malloc(((size_t)vocab_size - 257 + 1) * 2 * sizeof *merges);
	if (merges == NULL)
		return util_error(cause, "tokenizer: out of memory");
	if (tokenizer_train_chunks(&t, text, len, cause) != 0 ||
	    tokenizer_train_setup(&t, cause) != 0)
		goto fail;

	while (256 + nmerges + 1 < vocab_size && t.nheap > 0) {
		int32_t best = t.heap[0], a, b, c;
		uint32_t *pos, npos;

		if (t.pairs[best].count < 2)
			break;
		a = t.pairs[best].left;
		b = t.pairs[best].right;
		c = 256 + nmerges;
		merges[2 * nmerges] = a;
		merges[2 * nmerges + 1] = b;
		nmerges++;
		/* Take the position list: merging only adds to other lists. */
		pos = t.pairs[best].pos;
		npos = t.pairs[best].npos;
		t.pairs[best].pos = NULL;
		t.pairs[best].npos = t.pairs[best].cappos = 0;
		/*
		 * Runs like "a a a" must merge left to right ("aa a"). The list
		 * is already in ascending order: a pair's positions are all
		 * listed in one pass (setup, or the merge that made the newer
		 * of its two ids), and every pass goes in ascending order.
		 */
		for (uint32_t k = 0; k < npos; k++) {
			if (tokenizer_train_merge_at(&t, pos[k], a, b, c) != 0) {
				free(pos);
				util_error(cause, "tokenizer: out of memory");
				goto fail;
			}
		}
		free(pos);
	}
	tokenizer_trainer_release(&t);
	rc = tokenizer_build(merges, nmerges, NULL, TOKENIZER_KIND_OWN, out,
	    cause);
	free(merges);
	return rc;

fail:
	tokenizer_trainer_release(&t);
	free(merges);
	return -1;
}
