/*
 * finetune-snapshot.c: the fine-tune's published weights: immutable,
 * reference-counted snapshots a reader (the UI's generator) takes and drops,
 * and their bf16/q8 conversions, made once per snapshot.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "finetune-impl.h"
#include "finetune.h"
#include "gpt.h"
#include "qweights.h"
#include "util.h"

/* Take a reference. */
struct snapshot *
snapshot_ref(struct snapshot *s)
{
	if (s != NULL)
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
	return s;
}

/* Drop a reference; the last one frees the weights. */
void
snapshot_unref(struct snapshot *s)
{
	if (s != NULL && __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		for (int f = 0; f < QUANT_NUM_FORMATS; f++)
			qweights_free(s->qw[f]);
		pthread_mutex_destroy(&s->qlock);
		gpt_free(s->model);
		free(s);
	}
}

/* The snapshot's matrices in format f, converted once. */
const struct qweights *
snapshot_weights(struct snapshot *s, enum quant_format f, char **cause)
{
	struct qweights *qw;

	pthread_mutex_lock(&s->qlock);
	if (s->qw[f] == NULL)
		s->qw[f] = qweights_new(s->model, f, cause);
	qw = s->qw[f];
	pthread_mutex_unlock(&s->qlock);
	return qw;
}

/* Copy the current weights into a new snapshot and make it the latest. */
int
finetune_publish(struct finetune *ft, char **cause)
{
	struct snapshot *s, *old;

	s = calloc(1, sizeof *s);
	if (s == NULL)
		return util_error(cause, "out of memory");
	s->model = gpt_new(gpt_config(ft->model), cause);
	if (s->model == NULL) {
		free(s);
		return -1;
	}
	memcpy(gpt_param_memory(s->model), gpt_param_memory(ft->model),
	    gpt_num_params(ft->model) * sizeof(float));
	gpt_set_bksp(s->model, gpt_has_bksp(ft->model));
	/* Here, once, so that a generator's reader need not hash 0.5 GB per run (124M). */
	s->hash = util_fnv1a(UTIL_FNV_INIT, gpt_param_memory(s->model),
	    gpt_num_params(s->model) * sizeof(float));
	s->refs = 1;
	pthread_mutex_init(&s->qlock, NULL);
	s->step = ft->step;
	pthread_mutex_lock(&ft->lock);
	s->version = ++ft->version;
	old = ft->snap;
	ft->snap = s;
	pthread_mutex_unlock(&ft->lock);
	snapshot_unref(old);
	return 0;
}

/* The latest snapshot, referenced. */
struct snapshot *
finetune_snapshot(struct finetune *ft)
{
	struct snapshot *s;

	pthread_mutex_lock(&ft->lock);
	s = snapshot_ref(ft->snap);
	pthread_mutex_unlock(&ft->lock);
	return s;
}
