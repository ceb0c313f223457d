/*
 * ui-gen.c: the UI's generation worker. A thread runs generate_run; its
 * callback copies each event into a mutex-protected queue and writes a byte
 * to the UI's wake pipe. The UI thread takes the queue when it wakes; this
 * file never touches curses. Cancelling sets a flag the callback returns.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "generate.h"
#include "ui.h"

/* A running generation. */
struct ui_gen {
	pthread_t thread;
	const struct gpt_model *model;
	const struct tokenizer *tok;
	struct sampler_params params;
	int *ids;                  /* (n) the prompt */
	int n;
	int wake_fd;
	atomic_int cancel;         /* set by the UI, returned by the callback */
	pthread_mutex_t mutex;     /* guards everything below */
	struct generate_event *q;  /* (nq) events not yet taken */
	size_t nq, capq;
	int finished;
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

/* generate_run's callback: queue the event, wake the UI; non-zero cancels. */
static int
ui_gen_event(const struct generate_event *ev, void *arg)
{
	struct ui_gen *g = arg;

	pthread_mutex_lock(&g->mutex);
	if (g->nq == g->capq) {
		g->capq = g->capq ? 2 * g->capq : 64;
		g->q = xrealloc(g->q, g->capq * sizeof *g->q);
	}
	g->q[g->nq++] = *ev;
	pthread_mutex_unlock(&g->mutex);
	ui_gen_wake(g);
	return atomic_load(&g->cancel);
}

/* The worker thread. */
static void *
ui_gen_main(void *arg)
{
	struct ui_gen *g = arg;
	char *cause = NULL;
	int rc;

	rc = generate_run(g->model, g->tok, &g->params, g->ids, g->n, ui_gen_event, g,
	    NULL, &cause);
	pthread_mutex_lock(&g->mutex);
	g->finished = 1;
	g->rc = rc;
	g->cause = cause;
	pthread_mutex_unlock(&g->mutex);
	ui_gen_wake(g);
	return NULL;
}

/* Start a worker. */
struct ui_gen *
ui_gen_start(const struct gpt_model *m, const struct tokenizer *tok,
    const struct sampler_params *params, const int *ids, int n, int wake_fd, char **cause)
{
	struct ui_gen *g = xcalloc(1, sizeof *g);
	int err;

	g->model = m;
	g->tok = tok;
	g->params = *params;
	g->ids = xmalloc((size_t)n * sizeof *g->ids);
	memcpy(g->ids, ids, (size_t)n * sizeof *g->ids);
	g->n = n;
	g->wake_fd = wake_fd;
	atomic_init(&g->cancel, 0);
	pthread_mutex_init(&g->mutex, NULL);
	err = pthread_create(&g->thread, NULL, ui_gen_main, g);
	if (err != 0) {
		*cause = xstrdup(strerror(err));
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
	pthread_mutex_destroy(&g->mutex);
	free(g->q);
	free(g->ids);
	free(g);
	return rc;
}
