/*
 * textstats.h: statistics of generations, from their token ids and from the
 * event logs of engine/generate.h (appends, erases by <bksp>, stop).
 *
 * Definitions (all rates are 0 when their denominator is 0; the denominators
 * are kept in the struct so a caller can tell "none" from "zero"):
 *
 *   distinct-n (n = 1, 2, 3): number of distinct n-grams over all generations
 *     divided by the number of n-grams over all generations. N-grams never
 *     cross the boundary between two generations.
 *   repetition rate: for one generation of length L >= 4, the fraction of its
 *     L-3 4-grams that already occurred at an earlier position of the same
 *     generation (overlaps count: "a a a a a" has 2 4-grams, the second a
 *     repeat, rate 1/2); the mean of that over the generations with L >= 4.
 *   actions: APPEND plus ERASE events (STOP is not an action).
 *   backspace rate: ERASE events / actions.
 *   re-emission rate: re-emissions / ERASE events, where an ERASE of token t
 *     at slot s is a re-emission when the very next action of the same log is
 *     an APPEND of t at slot s (the model retyped what it erased).
 *   longest backspace run: the most ERASE events in a row in one log (with no
 *     APPEND between them), the maximum over all logs.
 *   gross tokens: APPEND events; net tokens: gross minus erased, which is the
 *     length of the text that is left.
 *
 * The ids given to textstats_add_ids are the net (final) generated tokens,
 * prompt excluded; textstats_replay builds them from an event log.
 */
#ifndef SEQMATCH_TEXTSTATS_H
#define SEQMATCH_TEXTSTATS_H

#include <stddef.h>

struct generate_event;

#define TEXTSTATS_MAX_N 3      /* distinct-1 .. distinct-3 */
#define TEXTSTATS_REPEAT_N 4   /* n of the repetition rate */

struct textstats_set;

struct textstats {
	/* From the ids (textstats_add_ids). */
	long sequences;                       /* generations added */
	long ngrams[TEXTSTATS_MAX_N];         /* n-grams of length i+1, all generations */
	long distinct_ngrams[TEXTSTATS_MAX_N];/* of which distinct */
	double distinct[TEXTSTATS_MAX_N];     /* distinct-(i+1) */
	long repetition_sequences;            /* generations with L >= 4 */
	double repetition_sum;                /* sum of their per-generation rates */
	double repetition_rate;
	/* From the event logs (textstats_add_events). */
	long logs;                            /* event logs added */
	long appends;                         /* gross tokens */
	long erases;                          /* ERASE events */
	long actions;                         /* appends + erases */
	long net_tokens;                      /* appends - erases */
	long re_emissions;
	long longest_backspace_run;
	double backspace_rate;
	double re_emission_rate;
	/* Private: distinct n-gram sets, and the 4-grams of the current generation. */
	struct textstats_set *sets[TEXTSTATS_MAX_N];
	struct textstats_set *repeat_set;
};

/* Start empty statistics. */
void textstats_init(struct textstats *s);
/* Free the n-gram sets (the numbers stay readable). */
void textstats_release(struct textstats *s);
/* Add one generation's net token ids (n >= 0); -1 only when out of memory. */
int textstats_add_ids(struct textstats *s, const int *ids, int n, char **cause);
/*
 * Add one generation's event log (n events, in order). Checks that the log is
 * consistent (see textstats_replay) and returns -1 with a message if not.
 */
int textstats_add_events(struct textstats *s, const struct generate_event *ev, int n,
    int n_prompt, char **cause);
/* Compute the rates from the counts (call after the last add; may be called again). */
void textstats_finish(struct textstats *s);

/*
 * Replay an event log of a generation whose prompt had n_prompt tokens into
 * the net generated ids (*ids malloc'd, may be NULL when *n_ids is 0). An APPEND
 * must go to the slot after the current end, an ERASE must remove the last
 * token (same slot and id) and never a prompt token; anything else is an
 * inconsistent log and returns -1 with a message.
 */
int textstats_replay(const struct generate_event *ev, int n, int n_prompt, int **ids,
    int *n_ids, char **cause);

#endif
