/*
 * optim.h: the optimiser that train and finetune share: its options, the
 * learning-rate schedule (linear warm-up, then a cosine decay to
 * lr * min_lr_frac at the last step), one AdamW step with that rate, and the
 * options' entries in the training record.
 */
#ifndef SEQMATCH_OPTIM_H
#define SEQMATCH_OPTIM_H

#include <stddef.h>

struct gpt_model;
struct record;

struct optim_options {
	float lr;             /* peak learning rate */
	float min_lr_frac;    /* final lr = lr * min_lr_frac */
	long warmup;          /* linear warm-up steps */
	float weight_decay;   /* AdamW decay, matrices only */
	float beta1, beta2, eps;
	float grad_clip;      /* clip the global gradient norm to this; <= 0: off */
};

/* Learning rate at a 0-based step of a run of `steps` steps in total. */
float optim_lr(const struct optim_options *o, long step, long steps);

/*
 * One AdamW step (0-based step of `steps`) on the model's gradients at the
 * scheduled rate, which goes into *lr; *grad_norm gets the gradient's global
 * norm before clipping. Returns 0 after an update, 1 if the gradient is not
 * finite (nothing changed), -1 on error.
 */
int optim_step(const struct optim_options *o, struct gpt_model *m, long step,
    long steps, float *lr, float *grad_norm, char **cause);

/*
 * Data-parallel runs (dist.h; no-ops in a single process). Before the first
 * step: every rank takes rank 0's parameters and AdamW moments.
 */
int optim_sync_start(struct gpt_model *m, char **cause);
/* x *= w over n floats (a rank's share of a loss normalisation). */
void optim_scale(float *x, size_t n, float w);
/*
 * After the backward pass: sum the ranks' gradient blocks in place (one
 * MPI_Allreduce over the contiguous block; each rank weighted its own by its
 * share w of the global batch's normalisation), and, when loss is not NULL,
 * replace *loss by the sum over ranks of w * loss. *comm (may be NULL) gets
 * the seconds the gradient sum took.
 */
int optim_reduce(struct gpt_model *m, float *loss, float w, double *comm,
    char **cause);

/*
 * Write the options into a training record as prefix + "lr", "min_lr_frac",
 * "warmup", "weight_decay", "beta1", "beta2", "eps", "grad_clip", in that
 * order (train uses no prefix, finetune "ft_").
 */
void optim_options_record(const struct optim_options *o, const char *prefix,
    struct record *rec);

#endif
