/*
 * ui-gen.c: the UI's generation worker. A thread runs generate_run; its
 * callback copies each event into a mutex-protected queue and writes a byte
 * to the UI's wake pipe. The UI thread takes the queue when it wakes; this
 * file never touches curses. Cancelling sets a flag the callback returns.
 *
 * Live changes: ui_gen_update and ui_gen_set_weights leave new parameters or a
 * newer weight snapshot under the mutex; generate_run_live's refresh callback
 * takes them before the next step (an atomic flag keeps the usual step free of
 * the lock). The worker holds a reference on the snapshot it generates with
 * and drops the previous one only once the engine has switched away from it.
 *
 * Weight formats: the loaded model's matrices were converted once, at load
 * (or read as stored by `seqmatch quantize`), and are handed in; a
 * snapshot's are converted by the first generation that reads it and kept
 * with it (snapshot_weights, engine/finetune.h), also when a running
 * generation switches to it. The snapshots' parameters stay fp32.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "finetune.h"
#include "generate.h"
#include "qweights.h"
#include "ui.h"

/* A running generation. */
struct ui_gen {
	pthread_t thread;
	const struct gpt_model *model;
	const struct tokenizer *tok;
	struct sampler_params params;
	int *ids;                  /* (n) the prompt */
	int n;
	const struct qweights *qw; /* model's matrices in the format to decode with */
	int wake_fd;
	atomic_int cancel;         /* set by the UI, returned by the callback */
	atomic_int pending;        /* new parameters or weights wait in the fields below */
	struct snapshot *snap;     /* the fine-tuned weights in use (a reference), or NULL: model */
	pthread_mutex_t mutex;     /* guards everything below */
	struct sampler_params next_params; /* valid when have_params */
	int have_params;
	struct snapshot *next_snap; /* newer weights to switch to (a reference), or NULL */
	struct sampler_params sent; /* the last parameters given (UI thread only) */
	struct generate_event *q;  /* (nq) events not yet taken */
	size_t nq, capq;
	int finished;
	int oom;                   /* the queue could not grow: the run was cancelled */
	int rc;
	char *cause;
};

/* Wake the UI thread (a full pipe already means it will wake). */
static void
ui_gen_wake(struct ui_gen *g)
{
	ssize_t r;

	do
		r = write(g->wake_fd, "g", 1);
	while (r < 0 && errno == EINTR);
}

/*
 * generate_run's callback: queue the event, wake the UI; non-zero cancels.
 * Out of memory cancels the run and is reported by ui_gen_finish: this
 * thread must not reach app_fatal, which restores the terminal under the UI
 * thread's curses calls.
 */
static int
ui_gen_event(const struct generate_event *ev, void *arg)
{
	struct ui_gen *g = arg;
	int oom = 0;

	pthread_mutex_lock(&g->mutex);
	if (g->nq == g->capq) {
		size_t cap = g->capq ? 2 * g->capq : 64;
		struct generate_event *q = realloc(g->q, cap * sizeof *g->q);

		if (q != NULL) {
			g->q = q;
			g->capq = cap;
		} else
			oom = g->oom = 1;
	}
	if (!oom)
		g->q[g->nq++] = *ev;
	pthread_mutex_unlock(&g->mutex);
	ui_gen_wake(g);
	return oom || atomic_load(&g->cancel);
}

/* generate_run_live's refresh, on the worker: take new parameters and weights. */
static int
ui_gen_refresh(struct sampler_params *params, const struct gpt_model **model, void *arg)
{
	struct ui_gen *g = arg;
	struct snapshot *old = NULL;

	if (!atomic_load(&g->pending))
		return 0;
	pthread_mutex_lock(&g->mutex);
	atomic_store(&g->pending, 0);
	if (g->have_params) {
		*params = g->next_params;
		g->have_params = 0;
	}
	if (g->next_snap != NULL) {
		old = g->snap;
		g->snap = g->next_snap;
		g->next_snap = NULL;
		*model = g->snap->model;
	}
	pthread_mutex_unlock(&g->mutex);
	/* The engine reads the old weights no more once it has the new ones. */
	snapshot_unref(old);
	return 1;
}

/* generate_run_cached's weights_for, on the worker: the snapshot just taken's. */
static const struct qweights *
ui_gen_weights_for(const struct gpt_model *m, enum quant_format f, void *arg)
{
	struct ui_gen *g = arg;
	struct snapshot *snap;

	pthread_mutex_lock(&g->mutex);
	snap = g->snap;
	pthread_mutex_unlock(&g->mutex);
	/* g->snap holds a reference until the next refresh or the end. */
	return snap != NULL && snap->model == m ? snapshot_weights(snap, f, NULL) : NULL;
}

/* The worker thread. */
static void *
ui_gen_main(void *arg)
{
	struct ui_gen *g = arg;
	const struct qweights *qw = g->qw;
	char *cause = NULL;
	int rc = -1;

	if (g->snap == NULL || (qw = snapshot_weights(g->snap, qweights_format(g->qw),
	    &cause)) != NULL)
		rc = generate_run_cached(g->model, qw, g->tok, &g->params, g->ids, g->n,
		    ui_gen_event, ui_gen_refresh, ui_gen_weights_for, g, NULL, &cause);
	pthread_mutex_lock(&g->mutex);
	if (g->oom && rc == 0) {
		rc = -1;
		cause = strdup("out of memory for the generated tokens"); /* NULL: "?" */
	}
	g->finished = 1;
	g->rc = rc;
	g->cause = cause;
	pthread_mutex_unlock(&g->mutex);
	ui_gen_wake(g);
	return NULL;
}

/* Start a worker on snap's weights (referenced here), or on m without a snapshot. */
struct ui_gen *
ui_gen_start(const struct gpt_model *m, struct snapshot *snap, const struct tokenizer *tok,
    const struct sampler_params *params, const int *ids, int n, const struct qweights *qw,
    int wake_fd, char **cause)
{
	struct ui_gen *g = xcalloc(1, sizeof *g);
	int err;

	g->snap = snapshot_ref(snap);
	g->model = snap != NULL ? snap->model : m;
	g->tok = tok;
	g->params = *params;
	g->sent = *params;
	g->ids = xmalloc((size_t)n * sizeof *g->ids);
	memcpy(g->ids, ids, (size_t)n * sizeof *g->ids);
	g->n = n;
	g->qw = qw;
	g->wake_fd = wake_fd;
	atomic_init(&g->cancel, 0);
	atomic_init(&g->pending, 0);
	pthread_mutex_init(&g->mutex, NULL);
	err = pthread_create(&g->thread, NULL, ui_gen_main, g);
	if (err != 0) {
		*cause = xstrdup(strerror(err));
		snapshot_unref(g->snap);
		pthread_mutex_destroy(&g->mutex);
		free(g->ids);
		free(g);
		return NULL;
	}
	return g;
}

/* Take the queued events. */
struct generate_event *
ui_gen_take(struct ui_gen *g, size_t *n, int *finished)
{
	struct generate_event *q;

	pthread_mutex_lock(&g->mutex);
	q = g->q;
	*n = g->nq;
	*finished = g->finished;
	g->q = NULL;
	g->nq = g->capq = 0;
	pthread_mutex_unlock(&g->mutex);
	return q;
}

/* Ask the worker to stop. */
void
ui_gen_cancel(struct ui_gen *g)
{
	atomic_store(&g->cancel, 1);
}

/* Whether two parameter sets differ in a row of the table (the seed aside). */
static int
ui_gen_params_differ(const struct sampler_params *a, const struct sampler_params *b)
{
	for (size_t i = 0; i < sampler_table_len; i++) {
		double x = sampler_get(a, &sampler_table[i]), y = sampler_get(b, &sampler_table[i]);

		if (strcmp(sampler_table[i].name, "seed") != 0 && x != y && !(x != x && y != y))
			return 1;
	}
	return 0;
}

/* New decoding parameters from the next step (the seed is the run's); 1 if they changed. */
int
ui_gen_update(struct ui_gen *g, const struct sampler_params *p)
{
	if (!ui_gen_params_differ(&g->sent, p))
		return 0;
	g->sent = *p;
	pthread_mutex_lock(&g->mutex);
	g->next_params = *p;
	g->have_params = 1;
	atomic_store(&g->pending, 1);
	pthread_mutex_unlock(&g->mutex);
	return 1;
}

/* Switch to other weights from the next step; 1 unless s is in use or waiting already. */
int
ui_gen_set_weights(struct ui_gen *g, struct snapshot *s)
{
	struct snapshot *old = NULL;
	int taken = 0;

	if (s == NULL)
		return 0;
	pthread_mutex_lock(&g->mutex);
	/* Both are referenced, so an address is never reused while compared. */
	if (s != (g->next_snap != NULL ? g->next_snap : g->snap)) {
		old = g->next_snap;	/* never used: drop it */
		g->next_snap = snapshot_ref(s);
		atomic_store(&g->pending, 1);
		taken = 1;
	}
	pthread_mutex_unlock(&g->mutex);
	snapshot_unref(old);
	return taken;
}

/* The weights version the worker generates with (0: the loaded weights). */
long
ui_gen_weights_version(struct ui_gen *g)
{
	long v;

	pthread_mutex_lock(&g->mutex);
	v = g->snap != NULL ? g->snap->version : 0;
	pthread_mutex_unlock(&g->mutex);
	return v;
}

/* Join and free the worker. */
int
ui_gen_finish(struct ui_gen *g, char **cause)
{
	int rc;

	pthread_join(g->thread, NULL);
	rc = g->rc;
	if (cause != NULL)
		*cause = g->cause;
	else
		free(g->cause);
	snapshot_unref(g->snap);
	snapshot_unref(g->next_snap);
	pthread_mutex_destroy(&g->mutex);
	free(g->q);
	free(g->ids);
	free(g);
	return rc;
}
