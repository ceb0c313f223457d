/*
 * train.h: MLE training of a model on a tokenized corpus: batches of random
 * windows, AdamW with warm-up and cosine decay, validation, checkpoints.
 */
#ifndef SEQMATCH_TRAIN_H
#define SEQMATCH_TRAIN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "optim.h"

struct gpt_model;
struct tokenizer;
struct record;

struct train_options {
	int batch_size;       /* B */
	int seq_len;          /* T (<= the model's max_seq_len) */
	long steps;           /* optimiser steps to reach (total, across resumes) */
	struct optim_options optim; /* AdamW and its learning-rate schedule */
	long eval_every;      /* validation every N steps (0: only at the end) */
	int eval_batches;     /* batches per validation */
	long save_every;      /* latest checkpoint every N steps (0: at the end) */
	uint64_t seed;
};

void train_options_defaults(struct train_options *o);

/* Token streams: documents joined, each followed by <|endoftext|>. */
struct train_data {
	int *tokens;
	size_t n;
};

/* Progress of one step, given to the callback. */
struct train_progress {
	long step;            /* 1-based step just done */
	long steps;           /* total */
	float loss;
	float grad_norm;
	float lr;
	int skipped;          /* 1 if the step was skipped (NaN/Inf) */
	double tokens_per_s;
	double elapsed;       /* seconds in this run */
	double eta;           /* seconds */
	double comm_s;        /* seconds in the gradient allreduce (MPI; else 0) */
	int has_val;
	float val_loss;
	float best_val_loss;
	int saved_best;       /* a new best checkpoint was written */
};

typedef void (*train_cb)(const struct train_progress *p, void *arg);

struct train_run {
	struct gpt_model *model;
	const struct tokenizer *tok;
	const struct train_data *train;
	const struct train_data *val;    /* may have n == 0 */
	struct train_options opt;
	struct record *rec;              /* updated and saved into checkpoints */
	const char *out_path;            /* latest checkpoint (and PATH.opt) */
	const char *best_path;           /* best-by-validation checkpoint, or NULL */
	long start_step;                 /* steps already done (resume) */
	volatile sig_atomic_t *stop;     /* set to non-zero to stop (saves first) */
	train_cb cb;
	void *cb_arg;
};

/*
 * Train until opt.steps or *stop. Saves the latest checkpoint and optimizer
 * state at save_every and at the end (also when stopped), and the best one by
 * validation loss. Returns the number of the last step done, or -1.
 */
long train_run(struct train_run *r, char **cause);

/* Mean validation loss over n_batches fixed windows of data. */
int train_eval(struct gpt_model *m, const struct train_data *data, int B, int T,
    int n_batches, float *loss, char **cause);

/* Tokenize documents into a stream; hash the result into *hash if non-NULL. */
int train_data_build(const struct tokenizer *tok, char *const *docs,
    const size_t *lens, size_t ndocs, struct train_data *out, char **cause);
void train_data_release(struct train_data *d);

#endif
