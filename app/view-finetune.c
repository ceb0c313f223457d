/*
 * view-finetune.c: the fine-tune pane: a SequenceMatch fine-tune of a copy of
 * the loaded model's weights, run by the engine's trainer thread
 * (engine/finetune.h) while the UI stays usable. Keys: s start, p pause or
 * resume, x stop, w save (to the model's path with -ft before .bin, never the
 * loaded file). It shows the state, step/steps, the last loss terms, tokens/s,
 * ETA, the published weights version and a loss sparkline.
 *
 * Threads: the progress callback runs on the trainer thread; it copies the
 * progress into a mutex-protected struct and writes a byte to the UI's wake
 * pipe (as the generation worker does). Only the UI thread draws; the tick
 * notices new progress and the end of the thread (it polls while a run is
 * live, since the thread's end has no callback). While the trainer runs, BLAS
 * uses one thread so the UI and generation keep the other core.
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

#include "app.h"
#include "corpus.h"
#include "cpu.h"
#include "finetune.h"
#include "gpt.h"
#include "record.h"
#include "theme.h"
#include "train.h"
#include "ui.h"

#define VIEW_FINETUNE_HIST 512    /* loss values kept for the sparkline */
#define VIEW_FINETUNE_POLL 0.25   /* seconds between state polls while a run is live */

/* The pane's state. */
struct view_finetune {
	struct ui *ui;
	struct finetune *ft;          /* NULL before the first start */
	int live;                     /* the trainer thread has not been joined */
	int pause_req;                /* we asked it to pause */
	int save_pending;             /* save once it has paused */
	int resume_after_save;        /* and then resume */
	int saved_threads;            /* BLAS threads before the run (0: not changed) */
	struct record rec;            /* the fine-tune's training record */
	struct corpus *corpus, *ctrain, *cval;
	struct train_data dtrain, dval;
	char *out_path;               /* the -ft path */
	char corpus_note[320];        /* which corpus, or why none */
	char note[320];               /* the last action's outcome */
	int note_error;
	char error[256];              /* the trainer's error, once failed */
	pthread_mutex_t mutex;        /* guards everything below */
	int dirty;                    /* new progress since the last tick */
	int have;                     /* last holds a step */
	struct finetune_progress last;
	double hist[VIEW_FINETUNE_HIST];
	int n_hist;
};

/* Set the pane's note (printf-style). */
static void __attribute__((format(printf, 3, 4)))
view_finetune_note(struct view_finetune *v, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->note, sizeof v->note, fmt, ap);
	va_end(ap);
	v->note_error = error;
}

/* The -ft path next to the model: "x.bin" -> "x-ft.bin", else "x-ft". */
static char *
view_finetune_out_path(const char *model)
{
	size_t n = strlen(model);
	char *s;

	if (n > 4 && strcmp(model + n - 4, ".bin") == 0) {
		if (asprintf(&s, "%.*s-ft.bin", (int)(n - 4), model) < 0)
			app_fatal("out of memory");
	} else if (asprintf(&s, "%s-ft", model) < 0)
		app_fatal("out of memory");
	return s;
}

/* The directory of this program, or NULL. */
static char *
view_finetune_exe_dir(void)
{
	char exe[4096], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash == NULL)
		return NULL;
	*slash = '\0';
	return xstrdup(exe);
}

/* Pick the corpus: the model's record, else the shipped one; NULL with the reason in note. */
char *
ui_find_corpus(const struct record *rec, char *note, size_t size)
{
	static const char *const keys[] = { "corpus", "ft_corpus" };
	const char *val;
	char *dir, *path = NULL;
	const char *tried = NULL;

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		val = rec != NULL ? record_get(rec, keys[i]) : NULL;
		if (val == NULL || val[0] == '\0')
			continue;
		if (access(val, R_OK) == 0) {
			snprintf(note, size, "corpus %s (record key %s)", val, keys[i]);
			return xstrdup(val);
		}
		if (tried == NULL)
			tried = val;
	}
	dir = view_finetune_exe_dir();
	if (dir != NULL && asprintf(&path, "%s/data/corpus.txt", dir) < 0)
		app_fatal("out of memory");
	free(dir);
	if (path == NULL || access(path, R_OK) != 0) {
		free(path);
		path = xstrdup("data/corpus.txt");
		if (access(path, R_OK) != 0) {
			free(path);
			if (asprintf(&path, "%s/corpus.txt", PKGDATADIR) < 0)
				app_fatal("out of memory");
			if (access(path, R_OK) != 0) {
				snprintf(note, size, "no corpus: %s%s%s"
				    "no data/corpus.txt next to the program or here, none in %s",
				    tried != NULL ? "the record's " : "", tried != NULL ? tried : "",
				    tried != NULL ? " is not readable; " : "the model's record "
				    "names none; ", PKGDATADIR);
				free(path);
				return NULL;
			}
		}
	}
	snprintf(note, size, "corpus %s (shipped%s)", path,
	    tried != NULL ? "; the record's one is not readable" :
	    "; the model's record names none");
	return path;
}

/* Pick the fine-tune's corpus; NULL with corpus_note. */
static char *
view_finetune_find_corpus(struct view_finetune *v)
{
	return ui_find_corpus(v->ui->model_rec, v->corpus_note, sizeof v->corpus_note);
}

/* Progress callback, on the trainer thread: copy the step and wake the UI. */
static void
view_finetune_progress(const struct finetune_progress *p, void *arg)
{
	struct view_finetune *v = arg;
	ssize_t r;

	pthread_mutex_lock(&v->mutex);
	v->last = *p;
	v->have = 1;
	v->dirty = 1;
	if (v->n_hist == VIEW_FINETUNE_HIST) {
		memmove(v->hist, v->hist + 1, (VIEW_FINETUNE_HIST - 1) * sizeof *v->hist);
		v->n_hist--;
	}
	v->hist[v->n_hist++] = p->skipped ? NAN : p->sm.loss;
	pthread_mutex_unlock(&v->mutex);
	if (v->ui->wake_fd >= 0) {
		do
			r = write(v->ui->wake_fd, "f", 1);
		while (r < 0 && errno == EINTR);
	}
}

/* Drop the data and record of a previous run (the fine-tune must be freed). */
static void
view_finetune_release(struct view_finetune *v)
{
	train_data_release(&v->dtrain);
	train_data_release(&v->dval);
	memset(&v->dtrain, 0, sizeof v->dtrain);
	memset(&v->dval, 0, sizeof v->dval);
	corpus_free(v->corpus);
	corpus_free(v->ctrain);
	corpus_free(v->cval);
	v->corpus = v->ctrain = v->cval = NULL;
	record_release(&v->rec);
	record_init(&v->rec);
}

/* Start a fine-tune of a copy of the loaded weights. */
static void
view_finetune_start(struct view_finetune *v)
{
	struct finetune_options o;
	struct gpt_model *copy;
	char *corpus_path, *cause = NULL;

	if (v->live) {
		view_finetune_note(v, 1, "a fine-tune is running: x stops it");
		return;
	}
	finetune_free(v->ft);
	v->ft = NULL;
	view_finetune_release(v);
	pthread_mutex_lock(&v->mutex);
	v->have = 0;
	v->n_hist = 0;
	pthread_mutex_unlock(&v->mutex);
	v->error[0] = '\0';
	if ((corpus_path = view_finetune_find_corpus(v)) == NULL) {
		view_finetune_note(v, 1, "cannot start: no corpus");
		return;
	}
	finetune_options_defaults(&o);
	if (corpus_load(corpus_path, CORPUS_SEP_BLANK, &v->corpus, &cause) != 0 ||
	    corpus_split(v->corpus, 0.1, o.seed, &v->ctrain, &v->cval, &cause) != 0 ||
	    train_data_build(v->ui->tok, v->ctrain->docs, v->ctrain->lens, v->ctrain->ndocs,
	    &v->dtrain, &cause) != 0 ||
	    train_data_build(v->ui->tok, v->cval->docs, v->cval->lens, v->cval->ndocs,
	    &v->dval, &cause) != 0)
		goto fail;
	if ((copy = gpt_new(gpt_config(v->ui->model), &cause)) == NULL)
		goto fail;
	/* gpt_param_memory is not const-qualified; the loaded model is only read. */
	memcpy(gpt_param_memory(copy), gpt_param_memory((struct gpt_model *)(uintptr_t)
	    v->ui->model), gpt_num_params(v->ui->model) * sizeof(float));
	gpt_set_bksp(copy, gpt_has_bksp(v->ui->model));
	if (v->ui->model_rec != NULL)
		record_copy(&v->rec, v->ui->model_rec);
	record_set(&v->rec, "base_model", "%s", v->ui->model_path);
	record_set(&v->rec, "ft_corpus", "%s", corpus_path);
	record_set(&v->rec, "ft_corpus_hash", "%016llx", (unsigned long long)v->corpus->hash);
	record_set(&v->rec, "best_val_loss", "inf");
	v->ft = finetune_new(copy, v->ui->tok, &v->dtrain, &v->dval, &o, &v->rec,
	    v->out_path, NULL, 0, &cause);
	if (v->ft == NULL) {
		gpt_free(copy);
		goto fail;
	}
	v->saved_threads = cpu_threads();
	cpu_set_threads(1);
	if (finetune_start(v->ft, view_finetune_progress, v, &cause) != 0) {
		cpu_set_threads(v->saved_threads);
		v->saved_threads = 0;
		goto fail;
	}
	v->live = 1;
	v->pause_req = v->save_pending = 0;
	view_finetune_note(v, 0, "started: %ld steps, BLAS on 1 thread", o.steps);
	free(corpus_path);
	return;
fail:
	view_finetune_note(v, 1, "cannot start: %s", cause != NULL ? cause : "?");
	snprintf(v->error, sizeof v->error, "%s", cause != NULL ? cause : "?");
	free(cause);
	free(corpus_path);
	finetune_free(v->ft);
	v->ft = NULL;
	view_finetune_release(v);
}

/* Save now (the trainer must be between steps: joined or paused). */
static void
view_finetune_save_now(struct view_finetune *v)
{
	char *cause = NULL;

	if (finetune_save(v->ft, &cause) != 0)
		view_finetune_note(v, 1, "save failed: %s", cause != NULL ? cause : "?");
	else
		view_finetune_note(v, 0, "saved %s at step %ld", v->out_path,
		    finetune_steps_done(v->ft));
	free(cause);
}

/* Join a trainer thread that has ended; restore the BLAS threads. */
static void
view_finetune_join(struct view_finetune *v)
{
	char *cause = NULL;

	if (!v->live)
		return;
	if (finetune_join(v->ft, &cause) != 0) {
		snprintf(v->error, sizeof v->error, "%s", cause != NULL ? cause : "?");
		view_finetune_note(v, 1, "fine-tune failed: %s", v->error);
	} else
		view_finetune_note(v, 0, "finished at step %ld; saved %s",
		    finetune_steps_done(v->ft), v->out_path);
	free(cause);
	v->live = 0;
	v->pause_req = v->save_pending = 0;
	if (v->saved_threads > 0)
		cpu_set_threads(v->saved_threads);
	v->saved_threads = 0;
}

/* Create the pane. */
static void *
view_finetune_init(struct ui *ui)
{
	struct view_finetune *v = xcalloc(1, sizeof *v);

	v->ui = ui;
	pthread_mutex_init(&v->mutex, NULL);
	record_init(&v->rec);
	v->out_path = view_finetune_out_path(ui->model_path != NULL ? ui->model_path :
	    "model.bin");
	snprintf(v->corpus_note, sizeof v->corpus_note, "corpus: chosen on start");
	return v;
}

/* Free the pane (stops a running fine-tune; its thread saves on the way out). */
static void
view_finetune_free(void *p)
{
	struct view_finetune *v = p;

	if (v->live) {
		finetune_stop(v->ft);
		view_finetune_join(v);
	}
	finetune_free(v->ft);
	view_finetune_release(v);
	record_release(&v->rec);
	free(v->out_path);
	pthread_mutex_destroy(&v->mutex);
	free(v);
}

/* The state's name. */
static const char *
view_finetune_state_name(enum finetune_state s)
{
	switch (s) {
	case FINETUNE_IDLE: return "idle";
	case FINETUNE_RUNNING: return "running";
	case FINETUNE_PAUSED: return "paused";
	case FINETUNE_DONE: return "done";
	case FINETUNE_FAILED: return "failed";
	}
	return "?";
}

/* printf a line at row of r; returns row + 1. */
static int __attribute__((format(printf, 5, 6)))
view_finetune_line(struct grid *g, struct grid_rect r, int row, int style, const char *fmt,
    ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	grid_put_trunc(g, r, 0, row, buf, r.w, style, 0);
	return row + 1;
}

/* Seconds as "1m05s" or "42s". */
static void
view_finetune_duration(double s, char *buf, size_t size)
{
	long t = s > 0 ? (long)(s + 0.5) : 0;

	if (t >= 3600)
		snprintf(buf, size, "%ldh%02ldm", t / 3600, t / 60 % 60);
	else if (t >= 60)
		snprintf(buf, size, "%ldm%02lds", t / 60, t % 60);
	else
		snprintf(buf, size, "%lds", t);
}

/* Draw the pane. */
static void
view_finetune_draw(void *p, struct ui *ui, struct grid *g, struct grid_rect r, int focused)
{
	struct view_finetune *v = p;
	struct grid_rect in = grid_rect_inset(r, 1);
	struct finetune_progress pr;
	double hist[VIEW_FINETUNE_HIST];
	int have, n_hist, row = 0, col;
	enum finetune_state st = v->ft != NULL ? finetune_get_state(v->ft) : FINETUNE_IDLE;
	const char *state = view_finetune_state_name(st);
	char eta[32], title[64];
	long version = 0;
	struct snapshot *snap;

	pthread_mutex_lock(&v->mutex);
	pr = v->last;
	have = v->have;
	n_hist = v->n_hist;
	memcpy(hist, v->hist, (size_t)n_hist * sizeof *hist);
	pthread_mutex_unlock(&v->mutex);
	if (v->ft != NULL && (snap = finetune_snapshot(v->ft)) != NULL) {
		version = snap->version;
		snapshot_unref(snap);
	}
	snprintf(title, sizeof title, "Fine-tune (sm)%s", focused ? " - s p x w" : "");
	grid_box(g, r, focused ? GRID_BOX_HEAVY : GRID_BOX_LIGHT, title,
	    focused ? THEME_SLOT_BORDER_FOCUS : THEME_SLOT_BORDER, THEME_SLOT_TITLE, 0);
	if (grid_rect_empty(in))
		return;
	if (st == FINETUNE_RUNNING && v->pause_req)
		state = "pausing (after this step)";
	if (v->ft == NULL) {
		row = view_finetune_line(g, in, row, THEME_SLOT_TEXT, "idle: s starts a "
		    "SequenceMatch fine-tune of a copy of the weights");
	} else {
		col = grid_put(g, in, 0, row, "state ", THEME_SLOT_DIM, 0);
		col = grid_put(g, in, col, row, state, st == FINETUNE_FAILED ? THEME_SLOT_ERROR :
		    st == FINETUNE_DONE ? THEME_SLOT_GOOD : THEME_SLOT_VALUE, GRID_ATTR_BOLD);
		if (st == FINETUNE_FAILED)
			grid_put_trunc(g, in, col, row, v->error[0] ? v->error : "", in.w - col - 1,
			    THEME_SLOT_ERROR, 0);
		else
			view_finetune_line(g, grid_rect_make(in.x + col, in.y, in.w - col, in.h), row,
			    THEME_SLOT_VALUE, "  step %ld/%ld",
			    have ? pr.step : finetune_steps_done(v->ft), have ? pr.steps : 0L);
		row++;
		if (have) {
			view_finetune_duration(pr.eta, eta, sizeof eta);
			row = view_finetune_line(g, in, row, THEME_SLOT_VALUE, "loss %.4f  BC %.4f  "
			    "V(s0) %.3f%s", pr.sm.loss, pr.sm.bc, pr.sm.v0,
			    pr.skipped ? "  (skipped: not finite)" : "");
			row = view_finetune_line(g, in, row, THEME_SLOT_VALUE, "P(<bksp>) clean "
			    "%.4f noisy %.4f", pr.sm.bksp_p_clean, pr.sm.bksp_p_noisy);
			row = view_finetune_line(g, in, row, THEME_SLOT_VALUE, "%.0f tok/s  ETA %s  "
			    "weights v%ld", pr.tokens_per_s, eta, version);
			if (pr.has_val)
				row = view_finetune_line(g, in, row, THEME_SLOT_VALUE, "val loss %.4f "
				    "(best %.4f)", (double)pr.val_loss, (double)pr.best_val_loss);
			if (row < in.h && n_hist > 0) {
				col = grid_put(g, in, 0, row, "loss ", THEME_SLOT_DIM, 0);
				grid_sparkline(g, in, col, row, in.w - col, hist, n_hist, 0, 0,
				    THEME_SLOT_SPARKLINE);
				row++;
			}
		} else {
			if (st == FINETUNE_RUNNING)
				row = view_finetune_line(g, in, row, THEME_SLOT_DIM, "first step "
				    "running...");
			row = view_finetune_line(g, in, row, THEME_SLOT_VALUE, "weights v%ld",
			    version);
		}
	}
	row = view_finetune_line(g, in, row, THEME_SLOT_DIM, "%s", v->corpus_note);
	row = view_finetune_line(g, in, row, THEME_SLOT_DIM, "saves to %s", v->out_path);
	if (v->note[0] != '\0')
		row = view_finetune_line(g, in, row, v->note_error ? THEME_SLOT_ERROR :
		    THEME_SLOT_TEXT, "%s", v->note);
	(void)ui;
}

/* Keys: s start, p pause/resume, x stop, w save. */
static int
view_finetune_key(void *p, struct ui *ui, int key)
{
	struct view_finetune *v = p;
	enum finetune_state st;

	switch (key) {
	case 's':
		view_finetune_start(v);
		return UI_REDRAW;
	case 'p':
		if (!v->live) {
			view_finetune_note(v, 1, "nothing to pause: s starts a fine-tune");
			return UI_REDRAW;
		}
		if (v->pause_req) {
			v->pause_req = 0;
			if (v->save_pending)
				v->resume_after_save = 1;
			else
				finetune_resume(v->ft);
			view_finetune_note(v, 0, "resumed");
		} else {
			v->pause_req = 1;
			finetune_pause(v->ft);
			view_finetune_note(v, 0, "pausing after this step");
		}
		return UI_REDRAW;
	case 'x':
		if (!v->live) {
			view_finetune_note(v, 1, "nothing to stop");
			return UI_REDRAW;
		}
		finetune_stop(v->ft);
		view_finetune_note(v, 0, "stopping after this step; it saves to %s",
		    v->out_path);
		return UI_REDRAW;
	case 'w':
		if (v->ft == NULL) {
			view_finetune_note(v, 1, "nothing to save: s starts a fine-tune");
			return UI_REDRAW;
		}
		st = finetune_get_state(v->ft);
		if (!v->live || (st == FINETUNE_PAUSED && v->pause_req))
			view_finetune_save_now(v);
		else if (!v->save_pending) {
			/* Between steps only: pause, save when paused, go on if it ran. */
			v->save_pending = 1;
			v->resume_after_save = !v->pause_req;
			v->pause_req = 1;
			finetune_pause(v->ft);
			view_finetune_note(v, 0, "saving after this step...");
		}
		return UI_REDRAW;
	}
	(void)ui;
	return UI_PASS;
}

/* Notice new progress, a pause to save in, and the thread's end. */
static int
view_finetune_tick(void *p, struct ui *ui, double *wait)
{
	struct view_finetune *v = p;
	enum finetune_state st;
	int flags = 0;

	pthread_mutex_lock(&v->mutex);
	if (v->dirty) {
		v->dirty = 0;
		flags |= UI_REDRAW;
	}
	pthread_mutex_unlock(&v->mutex);
	if (!v->live)
		return flags;
	st = finetune_get_state(v->ft);
	if (st == FINETUNE_DONE || st == FINETUNE_FAILED) {
		view_finetune_join(v);
		ui_message(ui, st == FINETUNE_FAILED, "fine-tune: %s", v->note);
		return flags | UI_REDRAW;
	}
	if (v->save_pending && st == FINETUNE_PAUSED) {
		v->save_pending = 0;
		view_finetune_save_now(v);
		if (v->resume_after_save) {
			v->pause_req = 0;
			finetune_resume(v->ft);
		}
		v->resume_after_save = 0;
		flags |= UI_REDRAW;
	}
	if (*wait < 0 || *wait > VIEW_FINETUNE_POLL)
		*wait = VIEW_FINETUNE_POLL;
	return flags;
}

/* The latest weights for the next generation (referenced), or NULL without a fine-tune. */
struct snapshot *
view_finetune_snapshot(void *p)
{
	struct view_finetune *v = p;

	return v != NULL && v->ft != NULL ? finetune_snapshot(v->ft) : NULL;
}

/* Whether a fine-tune thread is live (quitting must stop and save it). */
int
view_finetune_busy(void *p)
{
	struct view_finetune *v = p;

	return v != NULL && v->live;
}

/* Quitting: stop a live fine-tune, save what it learned; a one-line notice in buf. */
void
view_finetune_quit(void *p, char *buf, size_t size)
{
	struct view_finetune *v = p;

	buf[0] = '\0';
	if (v == NULL || !v->live)
		return;
	finetune_stop(v->ft);
	view_finetune_join(v);   /* the thread runs finetune_save on its way out */
	if (v->error[0] != '\0')
		snprintf(buf, size, "fine-tune failed at step %ld: %s (not saved)",
		    finetune_steps_done(v->ft), v->error);
	else
		snprintf(buf, size, "fine-tune stopped at step %ld; saved %s (and .opt)",
		    finetune_steps_done(v->ft), v->out_path);
}

const struct ui_pane view_finetune_pane = {
	.name = "finetune",
	.init = view_finetune_init,
	.draw = view_finetune_draw,
	.key = view_finetune_key,
	.tick = view_finetune_tick,
	.free = view_finetune_free,
};
