/*
 * optim.c: the optimiser shared by train.c and finetune.c.
 *
 * The schedule warms the rate up linearly over `warmup` steps (step k gets
 * lr * (k + 1) / warmup), then follows a cosine from lr down to
 * lr * min_lr_frac at the last step, as in llm.c's train_gpt2.c. AdamW itself
 * (Loshchilov and Hutter 2019, with global-norm clipping) runs in gpt.c's
 * gpt_update on the model's contiguous parameter, gradient and moment blocks;
 * this module turns the options and the step into its settings.
 *
 * Under MPI the ranks start from rank 0's parameters and moments
 * (optim_sync_start) and, before each update, sum their weighted gradients in
 * place with one allreduce over the contiguous gradient block (optim_reduce),
 * so every rank takes the same step.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>

#include "dist.h"
#include "gpt.h"
#include "optim.h"
#include "record.h"
#include "util.h"

/* Learning rate at 0-based step. */
float
optim_lr(const struct optim_options *o, long step, long steps)
{
	double progress;

	if (o->warmup > 0 && step < o->warmup)
		return o->lr * (float)(step + 1) / (float)o->warmup;
	if (steps <= o->warmup + 1)
		return o->lr;
	progress = (double)(step - o->warmup) / (double)(steps - o->warmup - 1);
	if (progress > 1)
		progress = 1;
	return (float)(o->lr * (o->min_lr_frac + (1.0 - o->min_lr_frac) * 0.5 *
	    (1.0 + cos(M_PI * progress))));
}

/* One AdamW step at the scheduled rate. */
int
optim_step(const struct optim_options *o, struct gpt_model *m, long step, long steps,
    float *lr, float *grad_norm, char **cause)
{
	struct gpt_adamw adam;

	adam.lr = optim_lr(o, step, steps);
	adam.beta1 = o->beta1;
	adam.beta2 = o->beta2;
	adam.eps = o->eps;
	adam.weight_decay = o->weight_decay;
	adam.grad_clip = o->grad_clip;
	if (lr != NULL)
		*lr = adam.lr;
	return gpt_update(m, &adam, step + 1, grad_norm, cause);
}

/* The options into the record, each key with the prefix. */
void
optim_options_record(const struct optim_options *o, const char *prefix,
    struct record *rec)
{
	char key[64];

#define OPTIM_RECORD(name, fmt, value) do {					\
	snprintf(key, sizeof key, "%s%s", prefix, name);			\
	record_set(rec, key, fmt, value);					\
} while (0)
	OPTIM_RECORD("lr", "%g", (double)o->lr);
	OPTIM_RECORD("min_lr_frac", "%g", (double)o->min_lr_frac);
	OPTIM_RECORD("warmup", "%ld", o->warmup);
	OPTIM_RECORD("weight_decay", "%g", (double)o->weight_decay);
	OPTIM_RECORD("beta1", "%g", (double)o->beta1);
	OPTIM_RECORD("beta2", "%g", (double)o->beta2);
	OPTIM_RECORD("eps", "%g", (double)o->eps);
	OPTIM_RECORD("grad_clip", "%g", (double)o->grad_clip);
#undef OPTIM_RECORD
}

/* Rank 0's parameters and AdamW moments on every rank. */
int
optim_sync_start(struct gpt_model *m, char **cause)
{
	size_t bytes = gpt_num_params(m) * sizeof(float);
	int any;

	if (dist_size() == 1)
		return 0;
	if (gpt_make_private(m, cause) != 0 ||
	    dist_bcast(gpt_param_memory(m), bytes, 0, cause) != 0)
		return -1;
	any = dist_any(gpt_adam_m(m) != NULL, cause);
	if (any < 0)
		return -1;
	if (any && (gpt_alloc_adam(m, cause) != 0 ||
	    dist_bcast(gpt_adam_m(m), bytes, 0, cause) != 0 ||
	    dist_bcast(gpt_adam_v(m), bytes, 0, cause) != 0))
		return -1;
	return 0;
}

/* x *= w over n floats. */
void
optim_scale(float *x, size_t n, float w)
{
	for (size_t i = 0; i < n; i++)
		x[i] *= w;
}

/* Sum the ranks' gradient blocks (and weighted losses) in place. */
int
optim_reduce(struct gpt_model *m, float *loss, float w, double *comm, char **cause)
{
	double t0 = util_now(), l;

	if (dist_size() == 1)
		return 0;
	if (dist_sum_float(gpt_grad_memory(m), gpt_num_params(m), cause) != 0)
		return -1;
	if (comm != NULL)
		*comm = util_now() - t0;
	if (loss != NULL) {
		l = (double)*loss * w;
		if (dist_sum_double(&l, 1, cause) != 0)
			return -1;
		*loss = (float)l;
	}
	return 0;
}
