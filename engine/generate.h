/*
 * generate.h: generation as a stream of events (token appended, stop with a
 * reason), KV-cached, from a model and a tokenizer with decoding parameters.
 */
#ifndef SEQMATCH_GENERATE_H
#define SEQMATCH_GENERATE_H

#include <stdint.h>

#include "quant.h"
#include "sampler.h"

struct gpt_model;
struct qweights;
struct tokenizer;

/* Alternatives reported per step. */
#define GENERATE_TOP 8

enum generate_event_type {
	GENERATE_EVENT_APPEND, /* a token was appended at slot `slot` */
	GENERATE_EVENT_ERASE,  /* the token at slot `slot` was erased */
	GENERATE_EVENT_STOP    /* the generation ended: see `reason` */
};

enum generate_stop {
	GENERATE_STOP_EOT,        /* the model chose <|endoftext|> */
	GENERATE_STOP_MAX_TOKENS, /* max_tokens reached */
	GENERATE_STOP_CONTEXT,    /* the context is full */
	GENERATE_STOP_CANCELLED,  /* the callback asked to stop */
	GENERATE_STOP_MAX_ACTIONS /* the cap on actions (appends + erases) */
};

struct generate_event {
	enum generate_event_type type;
	int token;          /* the id appended or erased */
	int slot;           /* effective position of that token */
	float prob;         /* probability under the sampling distribution */
	float model_prob;   /* probability under the model's softmax */
	double seconds;     /* since the start of generation */
	enum generate_stop reason; /* for GENERATE_EVENT_STOP */
	int n_generated;    /* tokens appended so far (gross) */
	int n_erased;       /* tokens erased so far */
	int length;         /* effective length (prompt included) after the event */
	float p_bksp;       /* model probability of <bksp> at this step (0 if off) */
	/* The step's most likely actions under the model (for an inspector). */
	int n_top;
	struct sampler_top top[GENERATE_TOP];
	float entropy;      /* of the model's distribution at this step, in nats */
	double prefill_seconds;
	double generate_seconds;
	int n_reloads;      /* weight switches so far (generate_run_live; 0: the first weights) */
};

/* Return non-zero to stop the generation. */
typedef int (*generate_cb)(const struct generate_event *ev, void *arg);

/*
 * Called on the generating thread before every step (each action chosen),
 * the first one included. To change the run from this step on, write new
 * parameters into *params and/or point *model at other weights, and return
 * 1; return 0 to keep both (the cheap, usual case).
 * - Parameters: every field applies from this step (filters, temperature,
 *   penalties, max_tokens, the backspace controls) except seed: the random
 *   stream goes on, so a run changed mid-way is not replayed by its seed.
 *   Caps compare against what the run has done so far: lowering max_tokens
 *   under the current length stops the run now (GENERATE_STOP_MAX_TOKENS).
 * - Weights: they must have the loaded weights' configuration. The KV cache
 *   is recomputed for the current effective sequence with them (one prefill
 *   of up to the context), so every later logit is exactly what the new
 *   weights give for that text; keeping the cache would mix keys and values
 *   of two models in one attention. The caller keeps the old and the new
 *   weights alive: the old ones are no longer read once this returns.
 */
typedef int (*generate_refresh_cb)(struct sampler_params *params,
    const struct gpt_model **model, void *arg);

const char *generate_stop_name(enum generate_stop reason);
/* The seed a run uses: requested if >= 0, else one from the clock (< 2^63). */
uint64_t generate_pick_seed(int64_t requested);

/*
 * Generate from prompt ids (n_prompt >= 1) with the given parameters.
 * When the model has a trained <bksp> action (gpt_has_bksp) and
 * backspace_bias is not -inf, <bksp> is a candidate: it pops the last slot of
 * the KV cache (no forward pass) and is reported as an ERASE event; it never
 * erases the prompt. max_tokens bounds the net length of the continuation;
 * actions (appends + erases) are capped at twice max_tokens (or twice the
 * context).
 * params->seed < 0 picks a seed from the clock; *seed_used (may be NULL) gets
 * the seed actually used, which replays the run exactly.
 */
int generate_run(const struct gpt_model *m, const struct tokenizer *tok,
    const struct sampler_params *params, const int *prompt, int n_prompt,
    generate_cb cb, void *arg, uint64_t *seed_used, char **cause);
/* generate_run with refresh (may be NULL) called before each step; arg goes to both. */
int generate_run_live(const struct gpt_model *m, const struct tokenizer *tok,
    const struct sampler_params *params, const int *prompt, int n_prompt,
    generate_cb cb, generate_refresh_cb refresh, void *arg, uint64_t *seed_used,
    char **cause);
/*
 * generate_run_live decoding with qw, m's matrices in a generation format
 * (qweights_new(m, ...); NULL: m's fp32 parameters). When refresh moves the
 * run to other weights, the run converts them to qw's format itself (and
 * frees that copy when it moves again or ends).
 */
int generate_run_weights(const struct gpt_model *m, const struct qweights *qw,
    const struct tokenizer *tok, const struct sampler_params *params,
    const int *prompt, int n_prompt, generate_cb cb, generate_refresh_cb refresh,
    void *arg, uint64_t *seed_used, char **cause);
/*
 * For generate_run_cached: the matrices of model m (weights a refresh just
 * gave) in format f, kept alive by the caller at least until the next refresh
 * or the end of the run; NULL: the run converts them itself.
 */
typedef const struct qweights *(*generate_weights_cb)(const struct gpt_model *m,
    enum quant_format f, void *arg);
/* generate_run_weights asking weights_for (may be NULL) before converting new weights. */
int generate_run_cached(const struct gpt_model *m, const struct qweights *qw,
    const struct tokenizer *tok, const struct sampler_params *params,
    const int *prompt, int n_prompt, generate_cb cb, generate_refresh_cb refresh,
    generate_weights_cb weights_for, void *arg, uint64_t *seed_used, char **cause);

#endif
