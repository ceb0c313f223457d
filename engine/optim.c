/*
 * optim.c: the optimiser shared by train.c and finetune.c.
 *
 * The schedule warms the rate up linearly over `warmup` steps (step k gets
 * lr * (k + 1) / warmup), then follows a cosine from lr down to
 * lr * min_lr_frac at the last step, as in llm.c's train_gpt2.c. AdamW itself
 * (Loshchilov and Hutter 2019, with global-norm clipping) runs in gpt.c's
 * gpt_update on the model's contiguous parameter, gradient and moment blocks;
 * this module turns the options and the step into its settings.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>

#include "gpt.h"
#include "optim.h"
#include "record.h"

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
