/*
 * sampler.h: decoding parameters (one table feeds the CLI, --help, the UI and
 * the docs) and the sampler chain that turns logits into a token.
 *
 * Chain, in order (llama.cpp's): repetition penalty over the last repeat_last_n
 * tokens, then if temperature <= 0 greedy argmax; else top-k, typical-p, top-p,
 * min-p, temperature, and a draw from the remaining distribution.
 */
#ifndef SEQMATCH_SAMPLER_H
#define SEQMATCH_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

struct rng;

struct sampler_params {
	double temperature;
	int top_k;
	double top_p;
	double min_p;
	double typical_p;
	double repeat_penalty;
	int repeat_last_n;
	int max_tokens;
	int64_t seed; /* -1: random */
	/* Backspace controls (models fine-tuned with a <bksp> action). */
	double backspace_bias;          /* added to the <bksp> logit; -inf: never */
	int max_consecutive_backspaces; /* -1: no cap; 0: never */
	int max_total_backspaces;       /* -1: up to max_tokens; 0: never */
	int forbid_retype;              /* 1: mask the token just erased at the next step */
};

enum sampler_type { SAMPLER_DOUBLE, SAMPLER_INT, SAMPLER_INT64 };

/* One row of the parameter table. */
struct sampler_param {
	const char *name;     /* snake_case name: "top_k" */
	const char *option;   /* long option: "top-k" */
	const char *alias;    /* another long option, or NULL ("temp") */
	enum sampler_type type;
	size_t offset;        /* into struct sampler_params */
	double def;           /* default */
	double min, max;      /* accepted range, inclusive; min -inf accepts "-inf" */
	const char *disabled; /* what value turns it off, in words */
	const char *help;     /* one sentence: --help, the docs, a wide decoding pane */
	const char *label;    /* at most 11 columns, for a narrow pane: "rep_penalty" */
	const char *brief;    /* its meaning in at most 26 columns, for a narrow pane */
};

extern const struct sampler_param sampler_table[];
extern const size_t sampler_table_len;

void sampler_defaults(struct sampler_params *p);
const struct sampler_param *sampler_find(const char *name_or_option);
double sampler_get(const struct sampler_params *p, const struct sampler_param *row);
/* Parse and set one value (checks the number and the range). */
int sampler_set(struct sampler_params *p, const struct sampler_param *row,
    const char *text, char **cause);

/* Top alternatives reported for one step. */
struct sampler_top {
	int id;
	float prob;
};

/*
 * Sample a token. logits (n) are modified in place (penalties, masking).
 * history (nhist): previous token ids for the repetition penalty (to forbid a
 * token, set its logit to -INFINITY). Returns the id, or -1 when nothing can be
 * sampled (every logit -inf or NaN) or memory runs out; *prob gets its probability under
 * the final distribution and *model_prob its probability under softmax(logits)
 * before any sampler (for statistics). Either may be NULL.
 */
int sampler_sample(const struct sampler_params *p, float *logits, int n,
    const int *history, int nhist, struct rng *rng, float *prob, float *model_prob);

/* Softmax of logits (n) into probs (n); returns the entropy in nats. */
double sampler_softmax(const float *logits, float *probs, int n);
/* The k most probable ids of probs (n), sorted by decreasing probability (k <= SAMPLER_TOP_MAX). */
#define SAMPLER_TOP_MAX 64
int sampler_top(const float *probs, int n, struct sampler_top *out, int k);

#endif
