/*
 * textstats.c: distinct-n, repetition and backspace statistics of generations.
 *
 * Distinct n-grams are counted with one open-addressing hash set per n (keys
 * are n token ids, linear probing, doubled at half full). The per-generation
 * repetition rate uses a 4-gram set emptied before each generation. Definitions are
 * in textstats.h.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "generate.h"
#include "textstats.h"
#include "util.h"

struct textstats_set {
	int n;            /* ids per key */
	size_t cap;       /* slots, a power of two (0 before the first insert) */
	size_t count;     /* keys stored */
	int *keys;        /* (cap, n) */
	unsigned char *used; /* (cap) */
};

/* A new empty set of n-id keys. */
static struct textstats_set *
textstats_set_new(int n)
{
	struct textstats_set *set = calloc(1, sizeof *set);

	if (set != NULL)
		set->n = n;
	return set;
}

/* Free a set. */
static void
textstats_set_free(struct textstats_set *set)
{
	if (set == NULL)
		return;
	free(set->keys);
	free(set->used);
	free(set);
}

/* Forget every key but keep the memory. */
static void
textstats_set_clear(struct textstats_set *set)
{
	if (set->used != NULL)
		memset(set->used, 0, set->cap);
	set->count = 0;
}

/* Hash of n ids (splitmix64 finaliser over a running mix). */
static uint64_t
textstats_hash(const int *key, int n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL * (uint64_t)(n + 1);

	for (int i = 0; i < n; i++) {
		h ^= (uint32_t)key[i];
		h *= 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 31;
	}
	h *= 0x94d049bb133111ebULL;
	return h ^ (h >> 29);
}

/* Put a key known to be absent into a table of cap slots (no growth). */
static void
textstats_set_place(int *keys, unsigned char *used, size_t cap, int n, const int *key)
{
	size_t i = textstats_hash(key, n) & (cap - 1);

	while (used[i])
		i = (i + 1) & (cap - 1);
	used[i] = 1;
	memcpy(keys + i * (size_t)n, key, (size_t)n * sizeof *keys);
}

/* Double the table (or create it); -1 when out of memory. */
static int
textstats_set_grow(struct textstats_set *set)
{
	size_t ncap = set->cap ? set->cap * 2 : 64, bytes;
	unsigned char *nused;
	int *nkeys;

	if (util_mul(ncap, (size_t)set->n * sizeof *nkeys, &bytes) != 0)
		return -1;
	nkeys = malloc(bytes);
	nused = calloc(ncap, 1);
	if (nkeys == NULL || nused == NULL) {
		free(nkeys);
		free(nused);
		return -1;
	}
	for (size_t i = 0; i < set->cap; i++)
		if (set->used[i])
			textstats_set_place(nkeys, nused, ncap, set->n,
			    set->keys + i * (size_t)set->n);
	free(set->keys);
	free(set->used);
	set->keys = nkeys;
	set->used = nused;
	set->cap = ncap;
	return 0;
}

/* Insert a key: 1 if it was new, 0 if already present, -1 when out of memory. */
static int
textstats_set_insert(struct textstats_set *set, const int *key)
{
	size_t i;
	int n = set->n;

	if ((set->count + 1) * 2 > set->cap && textstats_set_grow(set) != 0)
		return -1;
	i = textstats_hash(key, n) & (set->cap - 1);
	while (set->used[i]) {
		if (memcmp(set->keys + i * (size_t)n, key, (size_t)n * sizeof *key) == 0)
			return 0;
		i = (i + 1) & (set->cap - 1);
	}
	set->used[i] = 1;
	memcpy(set->keys + i * (size_t)n, key, (size_t)n * sizeof *key);
	set->count++;
	return 1;
}

/* Start empty statistics. */
void
textstats_init(struct textstats *s)
{
	memset(s, 0, sizeof *s);
}

/* Free the n-gram sets. */
void
textstats_release(struct textstats *s)
{
	for (int i = 0; i < TEXTSTATS_MAX_N; i++) {
		textstats_set_free(s->sets[i]);
		s->sets[i] = NULL;
	}
	textstats_set_free(s->repeat_set);
	s->repeat_set = NULL;
}

/* Add one generation's net ids: n-gram counts and its repetition rate. */
int
textstats_add_ids(struct textstats *s, const int *ids, int n, char **cause)
{
	struct textstats_set *rep = NULL;
	long repeats = 0;
	int r;

	for (int k = 0; k < TEXTSTATS_MAX_N; k++) {
		if (s->sets[k] == NULL && (s->sets[k] = textstats_set_new(k + 1)) == NULL)
			return util_error(cause, "out of memory");
		for (int i = 0; i + k < n; i++) {
			if ((r = textstats_set_insert(s->sets[k], ids + i)) < 0)
				return util_error(cause, "out of memory");
			s->ngrams[k]++;
			s->distinct_ngrams[k] += r;
		}
	}
	if (n >= TEXTSTATS_REPEAT_N) {
		if (s->repeat_set == NULL &&
		    (s->repeat_set = textstats_set_new(TEXTSTATS_REPEAT_N)) == NULL)
			return util_error(cause, "out of memory");
		rep = s->repeat_set;
		textstats_set_clear(rep);
		for (int i = 0; i + TEXTSTATS_REPEAT_N <= n; i++) {
			if ((r = textstats_set_insert(rep, ids + i)) < 0)
				return util_error(cause, "out of memory");
			repeats += r == 0;
		}
		s->repetition_sequences++;
		s->repetition_sum += (double)repeats / (double)(n - TEXTSTATS_REPEAT_N + 1);
	}
	s->sequences++;
	return 0;
}

/* Replay an event log into the net generated ids, checking its consistency. */
int
textstats_replay(const struct generate_event *ev, int n, int n_prompt, int **ids,
    int *n_ids, char **cause)
{
	int *out = NULL, len = 0, cap = 0;

	*ids = NULL;
	*n_ids = 0;
	for (int i = 0; i < n; i++) {
		if (ev[i].type == GENERATE_EVENT_APPEND) {
			if (ev[i].slot != n_prompt + len) {
				free(out);
				return util_error(cause, "event %d: append at slot %d, "
				    "expected %d", i, ev[i].slot, n_prompt + len);
			}
			if (len == cap) {
				int ncap = cap ? cap * 2 : 64;
				int *nout = realloc(out, (size_t)ncap * sizeof *out);
				if (nout == NULL) {
					free(out);
					return util_error(cause, "out of memory");
				}
				out = nout;
				cap = ncap;
			}
			out[len++] = ev[i].token;
		} else if (ev[i].type == GENERATE_EVENT_ERASE) {
			if (len == 0) {
				free(out);
				return util_error(cause, "event %d: erase of slot %d, a "
				    "prompt token (the prompt is never erased)", i,
				    ev[i].slot);
			}
			if (ev[i].slot != n_prompt + len - 1 || ev[i].token != out[len - 1]) {
				util_error(cause, "event %d: erase of token %d at slot %d, "
				    "but the last token is %d at slot %d", i, ev[i].token,
				    ev[i].slot, out[len - 1], n_prompt + len - 1);
				free(out);
				return -1;
			}
			len--;
		}
	}
	*ids = out;
	*n_ids = len;
	return 0;
}

/* Add one event log: actions, erases, re-emissions, runs. */
int
textstats_add_events(struct textstats *s, const struct generate_event *ev, int n,
    int n_prompt, char **cause)
{
	long appends = 0, erases = 0, re = 0, run = 0, longest = 0;
	int *ids, n_ids, pending = -1; /* index of an ERASE awaiting its next action */

	if (textstats_replay(ev, n, n_prompt, &ids, &n_ids, cause) != 0)
		return -1;
	free(ids);
	for (int i = 0; i < n; i++) {
		if (ev[i].type == GENERATE_EVENT_APPEND) {
			if (pending >= 0 && ev[pending].token == ev[i].token &&
			    ev[pending].slot == ev[i].slot)
				re++;
			pending = -1;
			appends++;
			run = 0;
		} else if (ev[i].type == GENERATE_EVENT_ERASE) {
			pending = i;
			erases++;
			if (++run > longest)
				longest = run;
		}
	}
	s->logs++;
	s->appends += appends;
	s->erases += erases;
	s->actions += appends + erases;
	s->net_tokens += appends - erases;
	s->re_emissions += re;
	if (longest > s->longest_backspace_run)
		s->longest_backspace_run = longest;
	return 0;
}

/* Rates from the counts. */
void
textstats_finish(struct textstats *s)
{
	for (int k = 0; k < TEXTSTATS_MAX_N; k++)
		s->distinct[k] = s->ngrams[k] > 0 ?
		    (double)s->distinct_ngrams[k] / (double)s->ngrams[k] : 0.0;
	s->repetition_rate = s->repetition_sequences > 0 ?
	    s->repetition_sum / (double)s->repetition_sequences : 0.0;
	s->backspace_rate = s->actions > 0 ? (double)s->erases / (double)s->actions : 0.0;
	s->re_emission_rate = s->erases > 0 ?
	    (double)s->re_emissions / (double)s->erases : 0.0;
}
