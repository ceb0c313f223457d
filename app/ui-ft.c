/*
 * ui-ft.c: the UI's fine-tune job: a SequenceMatch, BC or MLE fine-tune of a
 * copy of the loaded model's weights, run by the engine's trainer thread
 * (engine/finetune.h) while the UI stays usable. It sits beside the
 * generation worker (ui-gen.c) and the live MAUVE (ui-mauve.c): the loop owns
 * it, hands its snapshots to the generator, and copies its state into
 * ui->ft for the fine-tune pane (view-finetune.c), which only draws that copy
 * and asks for actions (UI_FINETUNE). Each run saves to a path chosen when
 * it starts: the model's path with -ft before .bin, numbered (-ft-2, -ft-3...)
 * past any file already there, so a run never replaces an earlier result or
 * the loaded file.
 *
 * Threads: a preparation thread loads and splits the corpus, tokenizes it and
 * copies the weights (tens of milliseconds that would freeze the UI); the
 * trainer's progress callback runs on the trainer thread. Both copy what they
 * have into mutex-protected fields and write a byte to the wake pipe; only
 * the UI thread calls the functions below. The trainer's end has no
 * callback, so ui_ft_poll polls while a run is live.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "app.h"
#include "corpus.h"
#include "finetune.h"
#include "gpt.h"
#include "quant.h"
#include "record.h"
#include "train.h"
#include "ui.h"

#define UI_FT_POLL 0.25 /* seconds between state polls while a run is live */

/* The job. */
struct ui_ft {
	/* The loaded model (read only; the UI keeps it alive). */
	const struct gpt_model *model;
	const struct tokenizer *tok;
	const struct record *model_rec;
	const char *model_path;
	int wake_fd;
	char *out_path;               /* the current or last run's -ft path (or the next free
	                               * one before a start) */

	/* The UI thread's. */
	struct finetune *ft;          /* NULL before the first start */
	struct finetune_options run;  /* the options of the current or last run */
	int live;                     /* the trainer thread has not been joined */
	int preparing;                /* the prep thread loads the corpus and copies the weights */
	int pause_req;                /* we asked it to pause */
	int save_pending;             /* save once it has paused */
	int resume_after_save;        /* and then resume */
	int stop_req;                 /* x asked the run to stop (it saves) */
	int discard_req;              /* quitting without a save: the run writes nothing more */
	int prep_cancel;              /* Ctrl-C during preparation: do not start the trainer */
	int seen_state;               /* the trainer state last reported (enum finetune_state) */
	pthread_t prep;
	struct finetune_options prep_o; /* the options it prepares for */
	char *prep_corpus;            /* the corpus it loads (malloc'd) */
	struct gpt_model *prep_copy;  /* its copy of the weights, once done */
	char *prep_cause;             /* why it failed, or NULL */
	struct record rec;            /* the fine-tune's training record */
	struct corpus *corpus, *ctrain, *cval;
	struct train_data dtrain, dval;
	char corpus_note[320];        /* which corpus, or why none */
	char note[320];               /* the last action's outcome */
	int note_error;
	int note_end;                 /* the note says how the run ended */
	unsigned note_serial;
	char error[256];              /* the trainer's error, once failed */
	int stored;                   /* the model file's stored weight format, -1: fp32 */

	pthread_mutex_t mutex;        /* guards everything below */
	int dirty;                    /* new progress since the last poll */
	int prep_done;                /* the prep thread has finished */
	int have;                     /* last holds a step */
	struct finetune_progress last;
	double hist[UI_FT_HIST];
	int n_hist;
	double tps;                   /* tokens/s, smoothed over the steps (ui_ft_smooth) */
	int have_val0;                /* val0 holds the run's first validation loss */
	float val0;
	long val0_step;
	double hist_lo, hist_hi;      /* the range of every loss of the run (lo > hi: none) */
};

/* Set the job's note (printf-style); the loop shows it on the status line too. */
static void __attribute__((format(printf, 3, 4)))
ui_ft_note(struct ui_ft *j, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->note, sizeof j->note, fmt, ap);
	va_end(ap);
	j->note_error = error;
	j->note_end = 0;
	j->note_serial++;
}

/* Whether path or path.opt exists (a result not to replace). */
static int
ui_ft_taken(const char *path)
{
	struct stat st;
	char *opt;
	int taken;

	if (stat(path, &st) == 0)
		return 1;
	if (asprintf(&opt, "%s.opt", path) < 0)
		app_fatal("out of memory");
	taken = stat(opt, &st) == 0;
	free(opt);
	return taken;
}

/*
 * The first free -ft path next to the model: "x.bin" -> "x-ft.bin", then
 * "x-ft-2.bin", "x-ft-3.bin"... ("x" -> "x-ft", "x-ft-2"...), skipping any
 * name whose file or .opt exists, so that no earlier result is replaced.
 */
char *
ui_ft_out_path(const char *model)
{
	size_t n = strlen(model);
	int bin = n > 4 && strcmp(model + n - 4, ".bin") == 0;
	char *s;

	for (int i = 1;; i++) {
		char num[24] = "";

		if (i > 1)
			snprintf(num, sizeof num, "-%d", i);
		if (asprintf(&s, "%.*s-ft%s%s", (int)(bin ? n - 4 : n), model, num,
		    bin ? ".bin" : "") < 0)
			app_fatal("out of memory");
		if (!ui_ft_taken(s) || i >= 9999)
			return s;
		free(s);
	}
}

/* A path's file name: notes name the file; it is always next to the model. */
static const char *
ui_ft_base(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

/* Whether two paths name the same file (both exist). */
static int
ui_ft_same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return a != NULL && b != NULL && stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Wake the UI thread (from the trainer or prep thread; a full pipe wakes it anyway). */
static void
ui_ft_wake(struct ui_ft *j)
{
	ssize_t r;

	if (j->wake_fd >= 0) {
		do
			r = write(j->wake_fd, "f", 1);
		while (r < 0 && errno == EINTR);
	}
}

/*
 * A moving average for a rate that jumps from step to step (a step that
 * samples from the model is much slower than one that does not): the first
 * value as it is, then an exponential moving average with weight
 * UI_FT_SMOOTH on the new one.
 */
double
ui_ft_smooth(double avg, double x, long n_before)
{
	if (n_before <= 0 || !isfinite(avg))
		return x;
	if (!isfinite(x))
		return avg;
	return avg + UI_FT_SMOOTH * (x - avg);
}

/* Progress callback, on the trainer thread: copy the step and wake the UI. */
static void
ui_ft_progress(const struct finetune_progress *p, void *arg)
{
	struct ui_ft *j = arg;

	pthread_mutex_lock(&j->mutex);
	j->last = *p;
	j->have = 1;
	j->dirty = 1;
	if (j->n_hist == UI_FT_HIST) {
		memmove(j->hist, j->hist + 1, (UI_FT_HIST - 1) * sizeof *j->hist);
		j->n_hist--;
	}
	j->hist[j->n_hist++] = p->skipped ? NAN : p->sm.loss;
	j->tps = ui_ft_smooth(j->tps, p->tokens_per_s, j->n_hist - 1);
	if (p->has_val && !j->have_val0) {
		j->have_val0 = 1;
		j->val0 = p->val_loss;
		j->val0_step = p->step;
	}
	if (!p->skipped && isfinite(p->sm.loss)) { /* the scale only widens: no jumps */
		if (!(j->hist_lo <= j->hist_hi))
			j->hist_lo = j->hist_hi = p->sm.loss;
		else if (p->sm.loss < j->hist_lo)
			j->hist_lo = p->sm.loss;
		else if (p->sm.loss > j->hist_hi)
			j->hist_hi = p->sm.loss;
	}
	pthread_mutex_unlock(&j->mutex);
	ui_ft_wake(j);
}

/* Drop the data and record of a previous run (the fine-tune must be freed). */
static void
ui_ft_release(struct ui_ft *j)
{
	train_data_release(&j->dtrain);
	train_data_release(&j->dval);
	memset(&j->dtrain, 0, sizeof j->dtrain);
	memset(&j->dval, 0, sizeof j->dval);
	corpus_free(j->corpus);
	corpus_free(j->ctrain);
	corpus_free(j->cval);
	j->corpus = j->ctrain = j->cval = NULL;
	record_release(&j->rec);
	record_init(&j->rec);
}

/*
 * The prep thread: load and split the corpus, tokenize both parts, copy the
 * weights. It writes only the job's data fields, which the UI thread leaves
 * alone while preparing is set, then says it is done and wakes the loop;
 * ui_ft_poll finishes.
 */
static void *
ui_ft_prepare(void *arg)
{
	struct ui_ft *j = arg;
	char *cause = NULL;
	struct gpt_model *copy = NULL;

	if (corpus_load(j->prep_corpus, CORPUS_SEP_BLANK, &j->corpus, &cause) == 0 &&
	    corpus_split(j->corpus, 0.1, j->prep_o.seed, &j->ctrain, &j->cval, &cause) == 0 &&
	    train_data_build(j->tok, j->ctrain->docs, j->ctrain->lens, j->ctrain->ndocs,
	    &j->dtrain, &cause) == 0 &&
	    train_data_build(j->tok, j->cval->docs, j->cval->lens, j->cval->ndocs,
	    &j->dval, &cause) == 0 &&
	    (copy = gpt_new(gpt_config(j->model), &cause)) != NULL) {
		/* gpt_param_memory is not const-qualified; the loaded model is only read. */
		memcpy(gpt_param_memory(copy), gpt_param_memory((struct gpt_model *)(uintptr_t)
		    j->model), gpt_num_params(j->model) * sizeof(float));
		gpt_set_bksp(copy, gpt_has_bksp(j->model));
	}
	pthread_mutex_lock(&j->mutex);
	j->prep_copy = copy;
	j->prep_cause = cause;
	j->prep_done = 1;
	j->dirty = 1;
	pthread_mutex_unlock(&j->mutex);
	ui_ft_wake(j);
	return NULL;
}

/* A job for the model at model_path; wake_fd gets a byte whenever there is news. */
struct ui_ft *
ui_ft_new(const struct gpt_model *model, const struct tokenizer *tok,
    const struct record *model_rec, const char *model_path, int wake_fd)
{
	struct ui_ft *j = xcalloc(1, sizeof *j);

	j->model = model;
	j->tok = tok;
	j->model_rec = model_rec;
	j->model_path = model_path;
	j->wake_fd = wake_fd;
	j->out_path = ui_ft_out_path(model_path != NULL ? model_path : "model.bin");
	j->stored = -1;
	finetune_options_recipe(&j->run);
	pthread_mutex_init(&j->mutex, NULL);
	record_init(&j->rec);
	snprintf(j->corpus_note, sizeof j->corpus_note, "corpus: chosen on start");
	return j;
}

/* The loaded file stores its matrices in format (a quant_format; -1: fp32): no fine-tune. */
void
ui_ft_set_stored(struct ui_ft *j, int format)
{
	j->stored = format;
}

/* Start a fine-tune of a copy of the loaded weights: checks here, the slow part on a thread. */
static void
ui_ft_start(struct ui_ft *j, const struct finetune_options *o)
{
	char *corpus_path;
	int rc;

	if (j->live || j->preparing) {
		ui_ft_note(j, 1, j->live ? "a fine-tune is running: x stops it" :
		    "a fine-tune is starting");
		return;
	}
	if (j->stored >= 0) {
		ui_ft_note(j, 1, "cannot start: %s holds %s weights (seqmatch quantize); "
		    "fine-tuning needs fp32: load the fp32 file it came from, or make one "
		    "with seqmatch quantize --weights fp32", j->model_path != NULL ?
		    j->model_path : "the model", quant_format_name((enum quant_format)j->stored));
		return;
	}
	finetune_free(j->ft);
	j->ft = NULL;
	ui_ft_release(j);
	pthread_mutex_lock(&j->mutex);
	j->have = 0;
	j->n_hist = 0;
	j->tps = 0;
	j->have_val0 = 0;
	j->hist_lo = 1;
	j->hist_hi = 0;
	j->prep_done = 0;
	pthread_mutex_unlock(&j->mutex);
	j->error[0] = '\0';
	j->stop_req = j->discard_req = j->prep_cancel = 0;
	/* The path is fixed now: the first free name, never an earlier run's file. */
	free(j->out_path);
	j->out_path = ui_ft_out_path(j->model_path != NULL ? j->model_path : "model.bin");
	corpus_path = app_find_corpus(j->model_rec, j->corpus_note, sizeof j->corpus_note);
	if (corpus_path == NULL) {
		ui_ft_note(j, 1, "cannot start: no corpus");
		return;
	}
	if (ui_ft_same_file(j->out_path, j->model_path)) {
		ui_ft_note(j, 1, "cannot start: %s is the loaded model; it is never overwritten",
		    j->out_path);
		free(corpus_path);
		return;
	}
	j->prep_o = *o;
	/* The recipe's warm-up (finetune_options_recipe): BC for half the steps chosen. */
	j->prep_o.bc_warmup = o->steps / 2;
	j->prep_corpus = corpus_path;
	j->prep_copy = NULL;
	j->prep_cause = NULL;
	j->preparing = 1;
	if ((rc = pthread_create(&j->prep, NULL, ui_ft_prepare, j)) != 0) {
		j->preparing = 0;
		free(j->prep_corpus);
		j->prep_corpus = NULL;
		ui_ft_note(j, 1, "cannot start: %s", strerror(rc));
		return;
	}
	ui_ft_note(j, 0, "starting: loading %s", corpus_path);
}

/* The prep thread is done (UI thread): join it and start the trainer, or say why not. */
static void
ui_ft_started(struct ui_ft *j)
{
	struct finetune_options o = j->prep_o;
	struct gpt_model *copy = j->prep_copy;
	char *cause = j->prep_cause, *corpus_path = j->prep_corpus;

	pthread_join(j->prep, NULL);
	j->preparing = 0;
	j->prep_copy = NULL;
	j->prep_cause = NULL;
	j->prep_corpus = NULL;
	if (j->prep_cancel) {
		j->prep_cancel = 0;
		gpt_free(copy);
		free(cause);
		free(corpus_path);
		ui_ft_release(j);
		ui_ft_note(j, 0, "fine-tune start cancelled (nothing ran)");
		return;
	}
	if (copy == NULL)
		goto fail;
	if (j->model_rec != NULL)
		record_copy(&j->rec, j->model_rec);
	record_set(&j->rec, "base_model", "%s", j->model_path);
	record_set(&j->rec, "ft_corpus", "%s", corpus_path);
	record_set(&j->rec, "ft_corpus_hash", "%016llx", (unsigned long long)j->corpus->hash);
	record_set(&j->rec, "best_val_loss", "inf");
	j->ft = finetune_new(copy, j->tok, &j->dtrain, &j->dval, &o, &j->rec, j->out_path, NULL,
	    0, &cause);
	if (j->ft == NULL) {
		gpt_free(copy);
		goto fail;
	}
	if (finetune_start(j->ft, ui_ft_progress, j, &cause) != 0)
		goto fail;
	j->live = 1;
	j->run = o;
	j->pause_req = j->save_pending = 0;
	ui_ft_note(j, 0, "started: %s, %ld steps, lr %g; saves to %s",
	    finetune_method_name(o.method), o.steps, (double)o.optim.lr, ui_ft_base(j->out_path));
	free(corpus_path);
	return;
fail:
	ui_ft_note(j, 1, "cannot start: %s", cause != NULL ? cause : "?");
	snprintf(j->error, sizeof j->error, "%s", cause != NULL ? cause : "?");
	free(cause);
	free(corpus_path);
	finetune_free(j->ft);
	j->ft = NULL;
	ui_ft_release(j);
}

/* Save now (the trainer must be between steps: joined or paused). */
static void
ui_ft_save_now(struct ui_ft *j)
{
	char *cause = NULL;

	if (ui_ft_same_file(j->out_path, j->model_path)) {
		ui_ft_note(j, 1, "not saved: %s is the loaded model", j->out_path);
		return;
	}
	if (finetune_save(j->ft, &cause) != 0)
		ui_ft_note(j, 1, "save failed: %s", cause != NULL ? cause : "?");
	else
		ui_ft_note(j, 0, "saved %s at step %ld", ui_ft_base(j->out_path),
		    finetune_steps_done(j->ft));
	free(cause);
}

/* Join a trainer thread that has ended. */
static void
ui_ft_join(struct ui_ft *j)
{
	char *cause = NULL;

	if (!j->live)
		return;
	if (finetune_join(j->ft, &cause) != 0) {
		snprintf(j->error, sizeof j->error, "%s", cause != NULL ? cause : "?");
		ui_ft_note(j, 1, "fine-tune failed: %s", j->error);
	} else if (j->discard_req)
		ui_ft_note(j, 0, "stopped at step %ld; discarded (%s not written)",
		    finetune_steps_done(j->ft), ui_ft_base(j->out_path));
	else if (j->stop_req)
		ui_ft_note(j, 0, "stopped at step %ld; saved to %s", finetune_steps_done(j->ft),
		    ui_ft_base(j->out_path));
	else
		ui_ft_note(j, 0, "finished all %ld steps; saved to %s", finetune_steps_done(j->ft),
		    ui_ft_base(j->out_path));
	j->note_end = 1;
	free(cause);
	j->live = 0;
	j->pause_req = j->save_pending = 0;
}

/* p: pause after this step, or resume. */
static void
ui_ft_pause(struct ui_ft *j)
{
	if (!j->live) {
		ui_ft_note(j, 1, "nothing to pause: Enter or g starts a fine-tune");
		return;
	}
	if (j->pause_req) {
		j->pause_req = 0;
		if (j->save_pending)
			j->resume_after_save = 1;
		else
			finetune_resume(j->ft);
		ui_ft_note(j, 0, "resumed");
	} else {
		j->pause_req = 1;
		finetune_pause(j->ft);
		ui_ft_note(j, 0, "pausing after this step");
	}
}

/* x: stop after this step (the trainer saves on its way out). */
static void
ui_ft_stop(struct ui_ft *j)
{
	if (!j->live) {
		ui_ft_note(j, 1, "nothing to stop");
		return;
	}
	finetune_stop(j->ft);
	j->stop_req = 1;
	ui_ft_note(j, 0, "stopping after this step; it saves to %s", ui_ft_base(j->out_path));
}

/* s: save now if between steps, else pause, save when paused and go on if it ran. */
static void
ui_ft_save(struct ui_ft *j)
{
	if (j->ft == NULL) {
		ui_ft_note(j, 1, "nothing to save: Enter or g starts a fine-tune");
		return;
	}
	if (!j->live || (finetune_get_state(j->ft) == FINETUNE_PAUSED && j->pause_req))
		ui_ft_save_now(j);
	else if (!j->save_pending) {
		j->save_pending = 1;
		j->resume_after_save = !j->pause_req;
		j->pause_req = 1;
		finetune_pause(j->ft);
		ui_ft_note(j, 0, "saving after this step...");
	}
}

/* Carry out what the pane asked for (o: the options for UI_FT_START). */
void
ui_ft_act(struct ui_ft *j, enum ui_ft_action a, const struct finetune_options *o)
{
	switch (a) {
	case UI_FT_NONE:
		break;
	case UI_FT_START:
		ui_ft_start(j, o);
		break;
	case UI_FT_PAUSE:
		ui_ft_pause(j);
		break;
	case UI_FT_STOP:
		ui_ft_stop(j);
		break;
	case UI_FT_SAVE:
		ui_ft_save(j);
		break;
	}
}

/*
 * Notice new progress, the end of preparation, a pause to save in and the
 * thread's end; 1 if anything changed. While a run is live, *wait is cut to
 * the poll interval (the thread's end has no callback).
 */
int
ui_ft_poll(struct ui_ft *j, double *wait)
{
	enum finetune_state st;
	int changed = 0, prepared;

	pthread_mutex_lock(&j->mutex);
	if (j->dirty) {
		j->dirty = 0;
		changed = 1;
	}
	prepared = j->preparing && j->prep_done;
	pthread_mutex_unlock(&j->mutex);
	if (prepared) {
		ui_ft_started(j);
		changed = 1;
	}
	if (!j->live)
		return changed;
	st = finetune_get_state(j->ft);
	if ((int)st != j->seen_state) { /* e.g. "pausing" became "paused": no callback says so */
		j->seen_state = (int)st;
		changed = 1;
		if (st == FINETUNE_PAUSED && j->pause_req && !j->save_pending)
			ui_ft_note(j, 0, "paused at step %ld: p resumes", finetune_steps_done(j->ft));
	}
	if (st == FINETUNE_DONE || st == FINETUNE_FAILED) {
		ui_ft_join(j);
		return 1;
	}
	if (j->save_pending && st == FINETUNE_PAUSED) {
		j->save_pending = 0;
		ui_ft_save_now(j);
		if (j->resume_after_save) {
			j->pause_req = 0;
			finetune_resume(j->ft);
		}
		j->resume_after_save = 0;
		changed = 1;
	}
	if (*wait < 0 || *wait > UI_FT_POLL)
		*wait = UI_FT_POLL;
	return changed;
}

/* Copy the job's state into out (for the pane). */
void
ui_ft_get(struct ui_ft *j, struct ui_ft_info *out)
{
	struct snapshot *snap;

	pthread_mutex_lock(&j->mutex);
	out->have = j->have;
	out->last = j->last;
	out->n_hist = j->n_hist;
	out->hist_lo = j->hist_lo;
	out->hist_hi = j->hist_hi;
	memcpy(out->hist, j->hist, (size_t)j->n_hist * sizeof *out->hist);
	out->tokens_per_s = j->tps;
	out->have_val0 = j->have_val0;
	out->val0 = j->val0;
	out->val0_step = j->val0_step;
	pthread_mutex_unlock(&j->mutex);
	out->started = j->ft != NULL;
	out->state = j->ft != NULL ? finetune_get_state(j->ft) : FINETUNE_IDLE;
	out->live = j->live;
	out->preparing = j->preparing;
	out->pausing = j->pause_req;
	out->stopped = j->stop_req || j->discard_req;
	out->steps_done = j->ft != NULL ? finetune_steps_done(j->ft) : 0;
	out->version = 0;
	if (j->ft != NULL && (snap = finetune_snapshot(j->ft)) != NULL) {
		out->version = snap->version;
		snapshot_unref(snap);
	}
	out->run = j->run;
	snprintf(out->note, sizeof out->note, "%s", j->note);
	out->note_error = j->note_error;
	out->note_end = j->note_end;
	out->note_serial = j->note_serial;
	snprintf(out->error, sizeof out->error, "%s", j->error);
	snprintf(out->corpus_note, sizeof out->corpus_note, "%s", j->corpus_note);
	out->out_path = j->out_path;
}

/* The latest weights (referenced; snapshot_unref), or NULL before a start. */
struct snapshot *
ui_ft_snapshot(struct ui_ft *j)
{
	return j != NULL && j->ft != NULL ? finetune_snapshot(j->ft) : NULL;
}

/*
 * Each loop while generating (model A): with next_token set, hand g the
 * latest snapshot (ui_gen_set_weights); *version gets the version g uses.
 * 1 if that changed (redraw).
 */
int
ui_ft_feed(struct ui_ft *j, struct ui_gen *g, int next_token, long *version)
{
	struct snapshot *snap;
	long v;

	if (j == NULL || g == NULL)
		return 0;
	if (next_token && (snap = ui_ft_snapshot(j)) != NULL) {
		ui_gen_set_weights(g, snap);
		snapshot_unref(snap);
	}
	v = ui_gen_weights_version(g);
	if (v == *version)
		return 0;
	*version = v;
	return 1;
}

/* Whether a trainer thread is live (quitting must stop and save it). */
int
ui_ft_busy(const struct ui_ft *j)
{
	return j != NULL && j->live;
}

/* Ctrl-C: cancel a start still preparing; 1 if there was one. */
int
ui_ft_cancel(struct ui_ft *j)
{
	if (j == NULL || !j->preparing || j->prep_cancel)
		return 0;
	j->prep_cancel = 1; /* ui_ft_started drops what the thread made */
	ui_ft_note(j, 0, "cancelling the fine-tune start...");
	return 1;
}

/*
 * Quitting: stop a live fine-tune and save what it learned, or with discard
 * let it write nothing more (finetune_discard); a one-line notice in buf.
 */
void
ui_ft_quit(struct ui_ft *j, int discard, char *buf, size_t size)
{
	buf[0] = '\0';
	if (j == NULL || !j->live)
		return;
	if (discard) {
		j->discard_req = 1;
		finetune_discard(j->ft);
	} else {
		j->stop_req = 1;
		finetune_stop(j->ft);
	}
	ui_ft_join(j); /* without discard the thread runs finetune_save on its way out */
	if (j->error[0] != '\0')
		snprintf(buf, size, "fine-tune failed at step %ld: %s (not saved)",
		    finetune_steps_done(j->ft), j->error);
	else if (discard)
		snprintf(buf, size, "fine-tune stopped at step %ld and discarded (%s not "
		    "written)", finetune_steps_done(j->ft), j->out_path);
	else
		snprintf(buf, size, "fine-tune stopped at step %ld; saved %s (and .opt)",
		    finetune_steps_done(j->ft), j->out_path);
}

/* Free the job (stops a running fine-tune; its thread saves on the way out). */
void
ui_ft_free(struct ui_ft *j)
{
	if (j == NULL)
		return;
	if (j->preparing) { /* let it finish, then drop what it made */
		pthread_join(j->prep, NULL);
		j->preparing = 0;
		gpt_free(j->prep_copy);
		free(j->prep_cause);
		free(j->prep_corpus);
	}
	if (j->live) {
		finetune_stop(j->ft);
		ui_ft_join(j);
	}
	finetune_free(j->ft);
	ui_ft_release(j);
	record_release(&j->rec);
	free(j->out_path);
	pthread_mutex_destroy(&j->mutex);
	free(j);
}
