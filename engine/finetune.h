/*
 * finetune.h: fine-tuning a model with SequenceMatch, BC or MLE, as an object
 * that a command runs to completion or that the UI drives from a thread
 * (start, pause, resume, stop, progress callbacks), publishing immutable,
 * reference-counted weight snapshots that a concurrent generator picks up.
 */
#ifndef SEQMATCH_FINETUNE_H
#define SEQMATCH_FINETUNE_H

#include <pthread.h>
#include <stdint.h>

#include "optim.h"
#include "quant.h"
#include "sm.h"

struct gpt_model;
struct tokenizer;
struct record;
struct train_data;

enum finetune_method { FINETUNE_SM, FINETUNE_BC, FINETUNE_MLE };

struct finetune_options {
	enum finetune_method method;
	struct sm_params sm;     /* gamma, c, beta, v_term (bc/sm weights are set per step) */
	int batch_size;          /* trajectories per step (data, plus model ones for sm) */
	int model_batch;         /* sm after warm-up: model trajectories added to batch_size
	                            data ones (0: batch_size/2 of them, taken from it) */
	int prompt_tokens;       /* longest prompt: each trajectory draws 1..prompt_tokens */
	int window;              /* data tokens after the prompt */
	long steps;              /* total optimiser steps (across resumes) */
	struct optim_options optim; /* AdamW and its learning-rate schedule */
	long bc_warmup;          /* sm: BC-only steps first */
	double bc_mix;           /* sm: weight of BC after bc_warmup (SM gets 1 - bc_mix) */
	double p_noise;          /* noise bursts per data position */
	double ctx_noise;        /* share of data prompts given noise that stays (not erased) */
	double burst_mean;       /* mean burst length */
	int unigram_noise;       /* noise from the data's unigram distribution */
	int model_noise;         /* a burst's first token proposed by the model itself */
	int noise_fallback;      /* model_noise: uniform/unigram noise where it proposes none */
	double noise_temp;       /* temperature of those proposals */
	double noise_confidence; /* proposals only where P(data token) >= this */
	int doc_start;           /* windows begin at a document's first token */
	int ctx_noise_insert;    /* ctx_noise inserts tokens instead of replacing them */
	int sample_every;        /* k_sample: new model samples every N steps */
	int samples_per_round;   /* sequences generated per round */
	int replay_rounds;       /* FIFO size in rounds */
	long eval_every;         /* validation every N steps (0: at the end) */
	int eval_batches;
	long save_every;         /* latest checkpoint every N steps (0: at the end) */
	int publish_every;       /* a weight snapshot every N steps */
	uint64_t seed;
};

void finetune_options_defaults(struct finetune_options *o);
/* data/model.bin's recipe (the UI's starting point); bc_warmup is half the steps. */
void finetune_options_recipe(struct finetune_options *o);
const char *finetune_method_name(enum finetune_method m);
int finetune_method_parse(const char *s, enum finetune_method *m);
int finetune_noise_parse(const char *s, struct finetune_options *o);
const char *finetune_noise_name(const struct finetune_options *o);
/* Write every option into a training record. */
void finetune_options_record(const struct finetune_options *o, struct record *rec);

/* What one step did (given to the progress callback). */
struct finetune_progress {
	long step, steps;
	struct sm_stats sm;      /* loss terms of this step */
	float grad_norm, lr;
	int skipped;             /* NaN/Inf: the update was skipped */
	int sampled;             /* model samples were generated before this step */
	int n_data, n_model;     /* data and model trajectories in this step's batch */
	double sample_seconds;   /* time spent generating them */
	double step_seconds;     /* the optimisation step alone */
	double tokens_per_s;     /* input positions per second of the step */
	int n_rows;              /* trajectories this process ran (MPI: its share) */
	double comm_s;           /* seconds in the gradient allreduce (MPI; else 0) */
	double elapsed, eta;
	long version;            /* weights version last published */
	int has_val;
	float val_loss, best_val_loss;
	int saved_best;
};

typedef void (*finetune_cb)(const struct finetune_progress *p, void *arg);

/* Immutable weights shared between the trainer and generators. */
struct snapshot {
	struct gpt_model *model; /* parameters only; <bksp> trained */
	long version;            /* increases with each publication */
	long step;
	uint64_t hash;           /* util_fnv1a of the parameter block, taken when published */
	int refs;                /* atomic */
	pthread_mutex_t qlock;   /* guards qw */
	struct qweights *qw[QUANT_NUM_FORMATS]; /* converted matrices, made on first use */
};

struct snapshot *snapshot_ref(struct snapshot *s);
void snapshot_unref(struct snapshot *s);
/*
 * s's matrices in format f (engine/qweights.h), converted by the first caller
 * that asks for f and shared by every later one (any thread) until the last
 * reference goes: a snapshot is converted once, however many generations
 * read it. NULL with a message if out of memory.
 */
const struct qweights *snapshot_weights(struct snapshot *s, enum quant_format f,
    char **cause);

enum finetune_state {
	FINETUNE_IDLE, FINETUNE_RUNNING, FINETUNE_PAUSED, FINETUNE_DONE,
	FINETUNE_FAILED
};

struct finetune;

/*
 * A fine-tune of model (taken over when this succeeds: freed by
 * finetune_free; on failure the caller still owns it) with tokenizer tok
 * on train (and val, may be empty) data token streams. rec is updated and
 * written into checkpoints. start_step > 0 resumes (the optimizer state must be
 * loaded in the model already). out_path: latest checkpoint (+ ".opt"),
 * best_path: best by validation (may be NULL).
 */
struct finetune *finetune_new(struct gpt_model *model, const struct tokenizer *tok,
    const struct train_data *train, const struct train_data *val,
    const struct finetune_options *o, struct record *rec, const char *out_path,
    const char *best_path, long start_step, char **cause);
void finetune_free(struct finetune *ft);

/* One step on the calling thread (not while the thread runs). 1 when done. */
int finetune_step(struct finetune *ft, struct finetune_progress *p, char **cause);
/* Run in a thread until the steps are done or finetune_stop; it saves on its way out. */
int finetune_start(struct finetune *ft, finetune_cb cb, void *arg, char **cause);
void finetune_pause(struct finetune *ft);
void finetune_resume(struct finetune *ft);
void finetune_stop(struct finetune *ft);
/* Stop after the current step without the final save (nothing written on the way out). */
void finetune_discard(struct finetune *ft);
/* Wait for the thread; 0 on success, -1 with its error. */
int finetune_join(struct finetune *ft, char **cause);
enum finetune_state finetune_get_state(const struct finetune *ft);
long finetune_steps_done(const struct finetune *ft);
/* Run to completion on the calling thread (stop flag checked between steps). */
int finetune_run(struct finetune *ft, finetune_cb cb, void *arg,
    volatile int *stop, char **cause);
/* Save latest checkpoint and optimizer state now (between steps). */
int finetune_save(struct finetune *ft, char **cause);
/* The latest published weights (a reference: snapshot_unref when done). */
struct snapshot *finetune_snapshot(struct finetune *ft);

/*
 * Generate one model trajectory (prompt + actions, with <bksp>) at
 * temperature 1 with no filters, for the replay buffer.
 */
int finetune_sample(const struct gpt_model *m, const struct tokenizer *tok,
    const int *prompt, int n_prompt, int max_tokens, uint64_t seed,
    struct sm_traj *out, char **cause);

#endif
