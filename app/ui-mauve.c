/*
 * ui-mauve.c: the UI's live MAUVE worker. A thread featurizes up to
 * UI_MAUVE_MAX_REF reference documents (data/heldout.txt next to the
 * fine-tune's corpus when it exists, else that corpus), each cut to its first
 * UI_MAUVE_MAX_TOKENS tokens, with the loaded model and its own featurizer
 * (own KV cache; the weights are only read), and fits mauve_live on them.
 * Then it waits for samples: the net ids of each finished generation, queued
 * by the UI thread; it decodes, featurizes and adds each one and publishes the
 * new scores. This is the live estimator (fixed clusters, running counts),
 * not `seqmatch eval`'s full one. The state is mutex-protected; every change
 * writes a byte to the UI's wake pipe. No curses here.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "corpus.h"
#include "featurize.h"
#include "mauve.h"
#include "tokenizer.h"
#include "ui.h"

/* A queued sample: a generation's net ids. */
struct ui_mauve_sample {
	int *ids;
	int n;
};

/* The worker. */
struct ui_mauve {
	pthread_t thread;
	int started;                   /* the thread exists (join it) */
	const struct gpt_model *model;
	const struct tokenizer *tok;
	char *ref_path;                /* the reference file */
	int wake_fd;
	pthread_mutex_t mutex;         /* guards everything below */
	pthread_cond_t cond;           /* a sample was queued, or stop */
	int stop;
	struct ui_mauve_sample *q;     /* (nq) samples not yet added */
	size_t nq, capq;
	struct ui_mauve_info info;     /* the published state */
	int changed;                   /* info changed since the last ui_mauve_get */
};

/* Wake the UI thread (a full pipe already means it will wake). */
static void
ui_mauve_wake(struct ui_mauve *mv)
{
	ssize_t r;

	if (mv->wake_fd < 0)
		return;
	do
		r = write(mv->wake_fd, "m", 1);
	while (r < 0 && errno == EINTR);
}

/* Publish a failure (the worker then ends). */
static void
ui_mauve_fail(struct ui_mauve *mv, const char *what, const char *cause)
{
	pthread_mutex_lock(&mv->mutex);
	mv->info.state = UI_MAUVE_FAILED;
	snprintf(mv->info.error, sizeof mv->info.error, "%s: %s", what,
	    cause != NULL ? cause : "?");
	mv->changed = 1;
	pthread_mutex_unlock(&mv->mutex);
	ui_mauve_wake(mv);
}

/* Whether the UI asked the worker to stop. */
static int
ui_mauve_stopping(struct ui_mauve *mv)
{
	int stop;

	pthread_mutex_lock(&mv->mutex);
	stop = mv->stop;
	pthread_mutex_unlock(&mv->mutex);
	return stop;
}

/* Featurize the reference texts and fit; NULL (state published) on failure or stop. */
static struct mauve_live *
ui_mauve_fit(struct ui_mauve *mv, struct featurizer *f)
{
	struct mauve_options o;
	struct mauve_live *l = NULL;
	struct corpus *c = NULL;
	char *cause = NULL;
	float *p = NULL;
	int d = featurize_dim(f), rows = 0, n_ref, r;

	if (corpus_load(mv->ref_path, CORPUS_SEP_BLANK, &c, &cause) != 0) {
		ui_mauve_fail(mv, "reference", cause);
		goto out;
	}
	n_ref = c->ndocs < UI_MAUVE_MAX_REF ? (int)c->ndocs : UI_MAUVE_MAX_REF;
	pthread_mutex_lock(&mv->mutex);
	mv->info.n_ref = n_ref;
	mv->changed = 1;
	pthread_mutex_unlock(&mv->mutex);
	ui_mauve_wake(mv);
	/* Out of memory is this worker's failure, never app_fatal's (see ui_mauve_main). */
	if ((p = malloc((size_t)n_ref * (size_t)d * sizeof *p)) == NULL) {
		ui_mauve_fail(mv, "reference", "out of memory");
		goto out;
	}
	for (int i = 0; i < n_ref; i++) {
		if (ui_mauve_stopping(mv))
			goto out;
		r = featurize_text(f, (const uint8_t *)c->docs[i], c->lens[i],
		    p + (size_t)rows * (size_t)d, NULL, NULL, &cause);
		if (r < 0) {
			ui_mauve_fail(mv, "featurizing the reference", cause);
			goto out;
		}
		if (r == 0)
			rows++;
	}
	if (rows < 2) {
		ui_mauve_fail(mv, "reference", "fewer than 2 non-empty texts");
		goto out;
	}
	mauve_options_defaults(&o);
	if ((l = mauve_live_new(p, rows, d, &o, &cause)) == NULL) {
		ui_mauve_fail(mv, "fitting the reference", cause);
		goto out;
	}
	pthread_mutex_lock(&mv->mutex);
	mv->info.state = UI_MAUVE_READY;
	mv->info.n_ref = rows;
	mv->info.k = o.num_buckets > 0 ? o.num_buckets : mauve_num_buckets(rows, rows);
	mv->changed = 1;
	pthread_mutex_unlock(&mv->mutex);
	ui_mauve_wake(mv);
out:
	free(cause);
	free(p);
	corpus_free(c);
	return l;
}

/*
 * Copy the curve (n points) into info, thinned to UI_MAUVE_CURVE_MAX points by
 * taking evenly spaced indices (first and last kept, order unchanged).
 */
static void
ui_mauve_set_curve(struct ui_mauve_info *info, const double *x, const double *y, int n)
{
	int len = n < UI_MAUVE_CURVE_MAX ? n : UI_MAUVE_CURVE_MAX;

	if (x == NULL || y == NULL || n <= 0) {
		info->curve_len = 0;
		return;
	}
	for (int i = 0; i < len; i++) {
		/* i (len - 1) / (len - 1) = n - 1 exactly: the last point is kept. */
		int j = len == n || len < 2 ? i :
		    (int)(((long long)i * (n - 1) + (len - 1) / 2) / (len - 1));

		info->curve_x[i] = x[j];
		info->curve_y[i] = y[j];
	}
	info->curve_len = len;
}

/* Decode, featurize and add one sample; publish the new scores. */
static void
ui_mauve_add_one(struct ui_mauve *mv, struct featurizer *f, struct mauve_live *l,
    float *feat, const struct ui_mauve_sample *s)
{
	struct mauve_result res;
	uint8_t *text = NULL;
	size_t len = 0;
	char *cause = NULL;
	int r = -1;

	memset(&res, 0, sizeof res);
	if (tokenizer_decode(mv->tok, s->ids, (size_t)s->n, &text, &len, &cause) == 0 &&
	    (r = featurize_text(f, text, len, feat, NULL, NULL, &cause)) == 0) {
		mauve_live_add(l, feat);
		if (mauve_live_count(l) > 0 && mauve_live_result(l, &res, &cause) != 0)
			r = -1;
	}
	pthread_mutex_lock(&mv->mutex);
	mv->info.pending = (int)mv->nq;
	mv->info.n = mauve_live_count(l);
	if (r == 0 && mv->info.n > 0) {
		mv->info.mauve = res.mauve;
		mv->info.mauve_star = res.mauve_star;
		mv->info.k = res.num_buckets;
		ui_mauve_set_curve(&mv->info, res.curve_x, res.curve_y, res.curve_len);
	}
	mv->changed = 1;
	pthread_mutex_unlock(&mv->mutex);
	mauve_result_release(&res);
	free(text);
	free(cause);
	ui_mauve_wake(mv);
}

/*
 * The worker thread: fit, then add samples until stopped. It allocates
 * without the x* helpers: their app_fatal would restore the terminal under
 * the UI thread's curses calls; a failure is published instead.
 */
static void *
ui_mauve_main(void *arg)
{
	struct ui_mauve *mv = arg;
	struct featurizer *f;
	struct mauve_live *l = NULL;
	struct ui_mauve_sample s;
	float *feat = NULL;
	char *cause = NULL;

	f = featurize_new(mv->model, mv->tok, UI_MAUVE_MAX_TOKENS, &cause);
	if (f == NULL) {
		ui_mauve_fail(mv, "featurizer", cause);
		free(cause);
		return NULL;
	}
	pthread_mutex_lock(&mv->mutex);
	mv->info.max_tokens = featurize_max_tokens(f);
	pthread_mutex_unlock(&mv->mutex);
	if ((l = ui_mauve_fit(mv, f)) == NULL)
		goto out;
	if ((feat = malloc((size_t)featurize_dim(f) * sizeof *feat)) == NULL) {
		ui_mauve_fail(mv, "featurizer", "out of memory");
		goto out;
	}
	for (;;) {
		pthread_mutex_lock(&mv->mutex);
		while (!mv->stop && mv->nq == 0)
			pthread_cond_wait(&mv->cond, &mv->mutex);
		if (mv->stop) {
			pthread_mutex_unlock(&mv->mutex);
			break;
		}
		s = mv->q[0];
		memmove(mv->q, mv->q + 1, (mv->nq - 1) * sizeof *mv->q);
		mv->nq--;
		pthread_mutex_unlock(&mv->mutex);
		ui_mauve_add_one(mv, f, l, feat, &s);
		free(s.ids);
	}
out:
	free(feat);
	mauve_live_free(l);
	featurize_free(f);
	return NULL;
}

/* The reference: heldout.txt next to the corpus if readable, else the corpus. */
static char *
ui_mauve_reference(const char *corpus)
{
	const char *slash = strrchr(corpus, '/');
	char *held;

	if (asprintf(&held, "%.*sheldout.txt", slash != NULL ? (int)(slash - corpus + 1) : 0,
	    corpus) < 0)
		app_fatal("out of memory");
	if (access(held, R_OK) == 0)
		return held;
	free(held);
	return xstrdup(corpus);
}

/* Start the worker. */
struct ui_mauve *
ui_mauve_start(const struct gpt_model *m, const struct tokenizer *tok,
    const struct record *rec, int wake_fd)
{
	struct ui_mauve *mv = xcalloc(1, sizeof *mv);
	char note[320], *corpus;
	const char *slash;
	int err;

	mv->model = m;
	mv->tok = tok;
	mv->wake_fd = wake_fd;
	pthread_mutex_init(&mv->mutex, NULL);
	pthread_cond_init(&mv->cond, NULL);
	mv->info.max_tokens = UI_MAUVE_MAX_TOKENS;
	mv->changed = 1;
	if ((corpus = app_find_corpus(rec, note, sizeof note)) == NULL) {
		mv->info.state = UI_MAUVE_FAILED;
		snprintf(mv->info.error, sizeof mv->info.error, "%s", note);
		return mv;
	}
	mv->ref_path = ui_mauve_reference(corpus);
	free(corpus);
	slash = strrchr(mv->ref_path, '/');
	snprintf(mv->info.ref, sizeof mv->info.ref, "%s", slash != NULL ? slash + 1 :
	    mv->ref_path);
	mv->info.state = UI_MAUVE_FITTING;
	err = pthread_create(&mv->thread, NULL, ui_mauve_main, mv);
	if (err != 0) {
		mv->info.state = UI_MAUVE_FAILED;
		snprintf(mv->info.error, sizeof mv->info.error, "thread: %s", strerror(err));
		return mv;
	}
	mv->started = 1;
	return mv;
}

/* Queue a sample (dropped when the estimator cannot run). */
void
ui_mauve_add(struct ui_mauve *mv, const int *ids, int n)
{
	struct ui_mauve_sample s;

	pthread_mutex_lock(&mv->mutex);
	if (mv->info.state == UI_MAUVE_FAILED || !mv->started) {
		pthread_mutex_unlock(&mv->mutex);
		return;
	}
	s.n = n;
	s.ids = xmalloc((n > 0 ? (size_t)n : 1) * sizeof *s.ids);
	if (n > 0)
		memcpy(s.ids, ids, (size_t)n * sizeof *ids);
	if (mv->nq == mv->capq) {
		mv->capq = mv->capq ? 2 * mv->capq : 8;
		mv->q = xrealloc(mv->q, mv->capq * sizeof *mv->q);
	}
	mv->q[mv->nq++] = s;
	mv->info.pending = (int)mv->nq;
	mv->changed = 1;
	pthread_cond_signal(&mv->cond);
	pthread_mutex_unlock(&mv->mutex);
}

/* Copy the published state. */
int
ui_mauve_get(struct ui_mauve *mv, struct ui_mauve_info *out)
{
	int changed;

	pthread_mutex_lock(&mv->mutex);
	*out = mv->info;
	changed = mv->changed;
	mv->changed = 0;
	pthread_mutex_unlock(&mv->mutex);
	return changed;
}

/* Stop, join and free. */
void
ui_mauve_free(struct ui_mauve *mv)
{
	if (mv == NULL)
		return;
	pthread_mutex_lock(&mv->mutex);
	mv->stop = 1;
	pthread_cond_broadcast(&mv->cond);
	pthread_mutex_unlock(&mv->mutex);
	if (mv->started)
		pthread_join(mv->thread, NULL);
	for (size_t i = 0; i < mv->nq; i++)
		free(mv->q[i].ids);
	free(mv->q);
	free(mv->ref_path);
	pthread_cond_destroy(&mv->cond);
	pthread_mutex_destroy(&mv->mutex);
	free(mv);
}
