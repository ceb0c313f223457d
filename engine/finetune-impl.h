/*
 * finetune-impl.h: the fine-tune struct and the helpers shared inside the
 * engine by finetune.c (options, lifecycle, the step, the thread),
 * finetune-batch.c (data windows, noise, MLE batch, validation, MPI stats),
 * finetune-replay.c (model samples and the replay ring) and
 * finetune-snapshot.c (published weights).
 */
#ifndef SEQMATCH_FINETUNE_IMPL_H
#define SEQMATCH_FINETUNE_IMPL_H

#include <pthread.h>
#include <stddef.h>

#include "finetune.h"
#include "rng.h"
#include "sm.h"
#include "train.h"

struct finetune {
	struct gpt_model *model;
	const struct tokenizer *tok;
	const struct train_data *train, *val;
	struct finetune_options o;
	struct record *rec;
	char *out_path, *best_path;
	long step;                /* steps done */
	long start_step;
	double t_start;
	float best_val;
	double *noise_cdf;        /* (V) unigram CDF, or NULL */
	size_t *doc_starts;       /* (n_doc_starts) with doc_start: first token of each document */
	size_t n_doc_starts;

	struct sm_traj *replay;   /* FIFO ring */
	int replay_cap, replay_n, replay_head;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	int thread_started;
	enum finetune_state state;
	int pause_req, stop_req;
	int discard;              /* finetune_discard: stop without the final save */
	finetune_cb cb;
	void *cb_arg;
	char *error;

	struct snapshot *snap;
	long version;
};

/* finetune-snapshot.c: copy the current weights into a new snapshot and make it the latest. */
int finetune_publish(struct finetune *ft, char **cause);

/* finetune-batch.c */
int finetune_find_docs(struct finetune *ft, int eot, char **cause);
size_t finetune_window_start(const struct finetune *ft, struct rng *rng, size_t span);
void finetune_window(const struct finetune *ft, const struct train_data *d, size_t start,
    int P, const int **prompt, const int **cont, int *n_cont, int *terminal);
int finetune_prompt_len(const struct finetune *ft, struct rng *rng);
int finetune_ctx_noise(const struct finetune *ft, struct sm_traj *t, struct rng *rng,
    char **cause);
int finetune_eval(struct finetune *ft, float *loss, char **cause);
int finetune_propose(struct finetune *ft, struct sm_traj *clean, int n, int **prop,
    struct rng *rng, char **cause);
int finetune_mle_batch(struct finetune *ft, struct rng *rng, struct finetune_progress *pr,
    char **cause);
int finetune_reduce_stats(struct finetune_progress *pr, char **cause);

/* finetune-replay.c: refill the replay ring with new generations. */
int finetune_sample_round(struct finetune *ft, struct rng *rng, char **cause);

#endif
