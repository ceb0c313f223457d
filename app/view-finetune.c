/*
 * view-finetune.c: the fine-tune pane: a SequenceMatch fine-tune of a copy of
 * the loaded model's weights, run by the engine's trainer thread
 * (engine/finetune.h) while the UI stays usable. Rows set the next run's
 * objective (sm, bc, mle), steps, learning rate and noise (j k select, h l
 * adjust, e types a value, d D reset) and when generation picks up new
 * weights (the next generation, or the next token: the running generation
 * switches, see ui_gen_set_weights). Keys: Enter or g start, p pause or
 * resume, x stop, s save (atomically, to the model's path with -ft before
 * .bin, never the loaded file). It shows the state, step/steps, the last loss
 * terms, tokens/s, ETA, the published weights version and a loss sparkline.
 * Quitting while it runs asks first (view_finetune_confirm_quit).
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

#include <sys/stat.h>

#include "app.h"
#include "corpus.h"
#include "finetune.h"
#include "gpt.h"
#include "record.h"
#include "theme.h"
#include "train.h"
#include "editor.h"
#include "ui.h"

#define VIEW_FINETUNE_HIST 512    /* loss values kept for the sparkline */
#define VIEW_FINETUNE_POLL 0.25   /* seconds between state polls while a run is live */
#define VIEW_FINETUNE_EDIT_MAX 32

/* The option rows. */
enum view_finetune_row {
	VIEW_FINETUNE_ROW_METHOD,
	VIEW_FINETUNE_ROW_STEPS,
	VIEW_FINETUNE_ROW_LR,
	VIEW_FINETUNE_ROW_NOISE,
	VIEW_FINETUNE_ROW_WEIGHTS,
	VIEW_FINETUNE_NROWS
};

static const char *const view_finetune_row_names[VIEW_FINETUNE_NROWS] = {
	"objective", "steps", "lr", "noise", "weights"
};

/* Learning rates the arrows step through. */
static const double view_finetune_lrs[] = { 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 3e-4, 5e-4,
	1e-3, 2e-3, 5e-3, 1e-2 };
#define VIEW_FINETUNE_NLRS (sizeof view_finetune_lrs / sizeof view_finetune_lrs[0])

/* The pane's state. */
struct view_finetune {
	int seen_state;              /* the trainer state last drawn (enum finetune_state) */
	struct ui *ui;
	struct finetune_options o;    /* the next start's options (the rows) */
	int next_token;               /* weights: 1 the next token, 0 the next generation */
	int sel;                      /* selected row */
	int editing;                  /* typing a value into the selected row */
	char edit[VIEW_FINETUNE_EDIT_MAX];
	int asking;                   /* the quit question is in the status line */
	struct finetune *ft;          /* NULL before the first start */
	enum finetune_method run_method; /* the objective of the current or last run */
	long run_steps;               /* and its steps, learning rate, noise */
	float run_lr;
	double run_noise;
	int live;                     /* the trainer thread has not been joined */
	int preparing;                /* the prep thread loads the corpus and copies the weights */
	pthread_t prep;
	struct finetune_options prep_o; /* the options it prepares for */
	char *prep_corpus;            /* the corpus it loads (malloc'd) */
	struct gpt_model *prep_copy;  /* its copy of the weights, once done */
	char *prep_cause;             /* why it failed, or NULL */
	int pause_req;                /* we asked it to pause */
	int save_pending;             /* save once it has paused */
	int resume_after_save;        /* and then resume */
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
	int prep_done;                /* the prep thread has finished */
	int have;                     /* last holds a step */
	struct finetune_progress last;
	double hist[VIEW_FINETUNE_HIST];
	int n_hist;
};

/* Set the pane's note and the status-line notice (printf-style). */
static void __attribute__((format(printf, 3, 4)))
view_finetune_note(struct view_finetune *v, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->note, sizeof v->note, fmt, ap);
	va_end(ap);
	v->note_error = error;
	/* The pane may be too short to show it: the status line has it too. */
	ui_message(v->ui, error, "%s", v->note);
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
	dir = app_data_dir();
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

/* A method's name in the pane. */
static const char *
view_finetune_method_label(enum finetune_method m)
{
	return m == FINETUNE_SM ? "SequenceMatch (sm)" : m == FINETUNE_BC ?
	    "behaviour cloning (bc)" : "plain MLE (mle)";
}

/* A row's value as text. */
static void
view_finetune_row_value(const struct view_finetune *v, int row, char *buf, size_t size)
{
	switch (row) {
	case VIEW_FINETUNE_ROW_METHOD:
		snprintf(buf, size, "%s", view_finetune_method_label(v->o.method));
		break;
	case VIEW_FINETUNE_ROW_STEPS:
		snprintf(buf, size, "%ld", v->o.steps);
		break;
	case VIEW_FINETUNE_ROW_LR:
		snprintf(buf, size, "%g", (double)v->o.optim.lr);
		break;
	case VIEW_FINETUNE_ROW_NOISE:
		snprintf(buf, size, "%g%s", v->o.p_noise, v->o.method == FINETUNE_MLE ?
		    " (mle: unused)" : "");
		break;
	default:
		snprintf(buf, size, "%s", v->next_token ? "next token" : "next generation");
		break;
	}
}

/* What a row accepts (the note after a bad value). */
static const char *
view_finetune_row_range(int row)
{
	switch (row) {
	case VIEW_FINETUNE_ROW_METHOD:
		return "sm, bc or mle";
	case VIEW_FINETUNE_ROW_STEPS:
		return "a whole number from 1 to 1000000";
	case VIEW_FINETUNE_ROW_LR:
		return "a number above 0, at most 1";
	case VIEW_FINETUNE_ROW_NOISE:
		return "a number from 0 to 0.5";
	}
	return "generation or token";
}

/* Set a row from text; nothing changes on a bad value (-1, with a note). */
static int
view_finetune_row_set(struct view_finetune *v, int row, const char *text)
{
	enum finetune_method m;
	char *end;
	double x = 0;
	int ok;

	if (row == VIEW_FINETUNE_ROW_METHOD) {
		if ((ok = finetune_method_parse(text, &m) == 0))
			v->o.method = m;
	} else if (row == VIEW_FINETUNE_ROW_WEIGHTS) {
		ok = 1;
		if (strncmp(text, "gen", 3) == 0 || strcmp(text, "next generation") == 0)
			v->next_token = 0;
		else if (strncmp(text, "tok", 3) == 0 || strcmp(text, "next token") == 0)
			v->next_token = 1;
		else
			ok = 0;
	} else {
		errno = 0;
		x = strtod(text, &end);
		ok = end != text && *end == '\0' && errno == 0 && isfinite(x);
		if (ok && row == VIEW_FINETUNE_ROW_STEPS) {
			if ((ok = x >= 1 && x <= 1000000 && x == floor(x)))
				v->o.steps = (long)x;
		} else if (ok && row == VIEW_FINETUNE_ROW_LR) {
			if ((ok = x > 0 && x <= 1))
				v->o.optim.lr = (float)x;
		} else if (ok && (ok = x >= 0 && x <= 0.5))
			v->o.p_noise = x;
	}
	if (!ok) {
		view_finetune_note(v, 1, "%s: '%s' is not %s", view_finetune_row_names[row], text,
		    view_finetune_row_range(row));
		return -1;
	}
	return 0;
}

/* Whether a row is fixed now (the options of a live run; the weights row never is). */
static int
view_finetune_row_locked(struct view_finetune *v, int row)
{
	if (!v->live || row == VIEW_FINETUNE_ROW_WEIGHTS)
		return 0;
	view_finetune_note(v, 1, "%s is fixed while the fine-tune runs (x stops it)",
	    view_finetune_row_names[row]);
	return 1;
}

/* Move a row's value one step (dir -1 or +1), within its range. */
static void
view_finetune_row_adjust(struct view_finetune *v, int row, int dir)
{
	size_t i;

	if (view_finetune_row_locked(v, row))
		return;
	switch (row) {
	case VIEW_FINETUNE_ROW_METHOD:
		v->o.method = (enum finetune_method)(((int)v->o.method + 3 + dir) % 3);
		break;
	case VIEW_FINETUNE_ROW_STEPS:
		v->o.steps += dir * (v->o.steps + dir > 100 ? 50 : 10);
		v->o.steps = v->o.steps < 10 ? 10 : v->o.steps > 1000000 ? 1000000 : v->o.steps;
		break;
	case VIEW_FINETUNE_ROW_LR:
		/* The next rate on the ladder above or below the current one. */
		if (dir > 0) {
			for (i = 0; i + 1 < VIEW_FINETUNE_NLRS &&
			    view_finetune_lrs[i] <= (double)v->o.optim.lr * 1.0001; i++)
				continue;
		} else {
			for (i = VIEW_FINETUNE_NLRS - 1; i > 0 &&
			    view_finetune_lrs[i] >= (double)v->o.optim.lr * 0.9999; i--)
				continue;
		}
		v->o.optim.lr = (float)view_finetune_lrs[i];
		break;
	case VIEW_FINETUNE_ROW_NOISE:
		v->o.p_noise = round((v->o.p_noise + dir * 0.01) * 100) / 100;
		v->o.p_noise = v->o.p_noise < 0 ? 0 : v->o.p_noise > 0.5 ? 0.5 : v->o.p_noise;
		break;
	default:
		v->next_token = !v->next_token;
		break;
	}
}

/* Put a row back to its default. */
static void
view_finetune_row_reset(struct view_finetune *v, int row)
{
	struct finetune_options d;

	if (view_finetune_row_locked(v, row))
		return;
	finetune_options_defaults(&d);
	switch (row) {
	case VIEW_FINETUNE_ROW_METHOD:
		v->o.method = d.method;
		break;
	case VIEW_FINETUNE_ROW_STEPS:
		v->o.steps = d.steps;
		break;
	case VIEW_FINETUNE_ROW_LR:
		v->o.optim.lr = d.optim.lr;
		break;
	case VIEW_FINETUNE_ROW_NOISE:
		v->o.p_noise = d.p_noise;
		break;
	default:
		v->next_token = 0;
		break;
	}
}

/* Whether two paths name the same file (both exist). */
static int
view_finetune_same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return a != NULL && b != NULL && stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Wake the UI thread (from the trainer or prep thread; a full pipe wakes it anyway). */
static void
view_finetune_wake(struct view_finetune *v)
{
	ssize_t r;

	if (v->ui->wake_fd >= 0) {
		do
			r = write(v->ui->wake_fd, "f", 1);
		while (r < 0 && errno == EINTR);
	}
}

/* Progress callback, on the trainer thread: copy the step and wake the UI. */
static void
view_finetune_progress(const struct finetune_progress *p, void *arg)
{
	struct view_finetune *v = arg;

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
	view_finetune_wake(v);
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

/*
 * The prep thread: load and split the corpus, tokenize both parts, copy the
 * weights (tens of milliseconds that would freeze the UI). It writes only the
 * pane's data fields, which the UI thread leaves alone while preparing is set,
 * then says it is done and wakes the loop; view_finetune_tick finishes.
 */
static void *
view_finetune_prepare(void *arg)
{
	struct view_finetune *v = arg;
	char *cause = NULL;
	struct gpt_model *copy = NULL;

	if (corpus_load(v->prep_corpus, CORPUS_SEP_BLANK, &v->corpus, &cause) == 0 &&
	    corpus_split(v->corpus, 0.1, v->prep_o.seed, &v->ctrain, &v->cval, &cause) == 0 &&
	    train_data_build(v->ui->tok, v->ctrain->docs, v->ctrain->lens, v->ctrain->ndocs,
	    &v->dtrain, &cause) == 0 &&
	    train_data_build(v->ui->tok, v->cval->docs, v->cval->lens, v->cval->ndocs,
	    &v->dval, &cause) == 0 &&
	    (copy = gpt_new(gpt_config(v->ui->model), &cause)) != NULL) {
		/* gpt_param_memory is not const-qualified; the loaded model is only read. */
		memcpy(gpt_param_memory(copy), gpt_param_memory((struct gpt_model *)(uintptr_t)
		    v->ui->model), gpt_num_params(v->ui->model) * sizeof(float));
		gpt_set_bksp(copy, gpt_has_bksp(v->ui->model));
	}
	pthread_mutex_lock(&v->mutex);
	v->prep_copy = copy;
	v->prep_cause = cause;
	v->prep_done = 1;
	v->dirty = 1;
	pthread_mutex_unlock(&v->mutex);
	view_finetune_wake(v);
	return NULL;
}

/* Start a fine-tune of a copy of the loaded weights: checks here, the slow part on a thread. */
static void
view_finetune_start(struct view_finetune *v)
{
	char *corpus_path;
	int rc;

	if (v->live || v->preparing) {
		view_finetune_note(v, 1, v->live ? "a fine-tune is running: x stops it" :
		    "a fine-tune is starting");
		return;
	}
	finetune_free(v->ft);
	v->ft = NULL;
	view_finetune_release(v);
	pthread_mutex_lock(&v->mutex);
	v->have = 0;
	v->n_hist = 0;
	v->prep_done = 0;
	pthread_mutex_unlock(&v->mutex);
	v->error[0] = '\0';
	if ((corpus_path = view_finetune_find_corpus(v)) == NULL) {
		view_finetune_note(v, 1, "cannot start: no corpus");
		return;
	}
	if (view_finetune_same_file(v->out_path, v->ui->model_path)) {
		view_finetune_note(v, 1, "cannot start: %s is the loaded model; it is never "
		    "overwritten", v->out_path);
		free(corpus_path);
		return;
	}
	v->prep_o = v->o;
	v->prep_corpus = corpus_path;
	v->prep_copy = NULL;
	v->prep_cause = NULL;
	v->preparing = 1;
	if ((rc = pthread_create(&v->prep, NULL, view_finetune_prepare, v)) != 0) {
		v->preparing = 0;
		free(v->prep_corpus);
		v->prep_corpus = NULL;
		view_finetune_note(v, 1, "cannot start: %s", strerror(rc));
		return;
	}
	view_finetune_note(v, 0, "starting: loading %s", corpus_path);
}

/* The prep thread is done (UI thread): join it and start the trainer, or say why not. */
static void
view_finetune_started(struct view_finetune *v)
{
	struct finetune_options o = v->prep_o;
	struct gpt_model *copy = v->prep_copy;
	char *cause = v->prep_cause, *corpus_path = v->prep_corpus;

	pthread_join(v->prep, NULL);
	v->preparing = 0;
	v->prep_copy = NULL;
	v->prep_cause = NULL;
	v->prep_corpus = NULL;
	if (copy == NULL)
		goto fail;
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
	if (finetune_start(v->ft, view_finetune_progress, v, &cause) != 0)
		goto fail;
	v->live = 1;
	v->run_method = o.method;
	v->run_steps = o.steps;
	v->run_lr = o.optim.lr;
	v->run_noise = o.p_noise;
	v->sel = VIEW_FINETUNE_ROW_WEIGHTS; /* the one row that can change while it runs */
	v->pause_req = v->save_pending = 0;
	view_finetune_note(v, 0, "started: %s, %ld steps, lr %g",
	    finetune_method_name(o.method), o.steps, (double)o.optim.lr);
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

	if (view_finetune_same_file(v->out_path, v->ui->model_path)) {
		view_finetune_note(v, 1, "not saved: %s is the loaded model", v->out_path);
		return;
	}
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
}

/* Create the pane. */
static void *
view_finetune_init(struct ui *ui)
{
	struct view_finetune *v = xcalloc(1, sizeof *v);

	v->ui = ui;
	finetune_options_defaults(&v->o);
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

	if (v->preparing) { /* let it finish, then drop what it made */
		pthread_join(v->prep, NULL);
		v->preparing = 0;
		gpt_free(v->prep_copy);
		free(v->prep_cause);
		free(v->prep_corpus);
	}
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

/* Draw option rows first..last-1 from row; returns the next row. */
static int
view_finetune_draw_rows(struct view_finetune *v, struct grid *g, struct grid_rect in, int row,
    int first, int last, int focused)
{
	char val[128];

	for (int i = first; i < last && row < in.h; i++, row++) {
		int sel = i == v->sel && focused;

		if (sel)
			grid_fill(g, grid_rect_make(in.x, in.y + row, in.w, 1), NULL,
			    THEME_SLOT_SELECTION, 0);
		grid_put_trunc(g, in, 0, row, view_finetune_row_names[i], 10, sel ?
		    THEME_SLOT_SELECTION : THEME_SLOT_TEXT, 0);
		if (i == v->sel && v->editing) {
			snprintf(val, sizeof val, "[%s]", v->edit);
			grid_put_trunc(g, in, 11, row, val, in.w - 11, THEME_SLOT_CURSOR, 0);
			continue;
		}
		view_finetune_row_value(v, i, val, sizeof val);
		grid_put_trunc(g, in, 11, row, val, in.w - 11, sel ? THEME_SLOT_SELECTION :
		    THEME_SLOT_VALUE, 0);
	}
	return row;
}

/*
 * Draw the pane. Lines in order of importance, since at 80x24 it has few
 * rows: before a start the option rows; while it runs the state, loss, rate,
 * sparkline and the one row that can still change (weights), then the rest.
 */
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
	snprintf(title, sizeof title, "Fine-tune (%s)", finetune_method_name(v->live ?
	    v->run_method : v->o.method));
	grid_box(g, r, focused ? GRID_BOX_HEAVY : GRID_BOX_LIGHT, title,
	    focused ? THEME_SLOT_BORDER_FOCUS : THEME_SLOT_BORDER, THEME_SLOT_TITLE, 0);
	if (grid_rect_empty(in))
		return;
	if (st == FINETUNE_RUNNING && v->pause_req)
		state = "pausing";
	if (!v->live) {
		row = view_finetune_draw_rows(v, g, in, row, 0, VIEW_FINETUNE_NROWS, focused);
		if (v->note[0] != '\0')
			row = view_finetune_line(g, in, row, v->note_error ? THEME_SLOT_ERROR :
			    THEME_SLOT_TEXT, "%s", v->note);
		if (v->ft == NULL)
			row = view_finetune_line(g, in, row, THEME_SLOT_DIM, "Enter or g starts on "
			    "a copy of the weights");
	}
	if (v->ft != NULL) {
		col = grid_put(g, in, 0, row, "state ", THEME_SLOT_DIM, 0);
		col = grid_put(g, in, col, row, state, st == FINETUNE_FAILED ? THEME_SLOT_ERROR :
		    st == FINETUNE_DONE ? THEME_SLOT_GOOD : THEME_SLOT_VALUE, GRID_ATTR_BOLD);
		if (st == FINETUNE_FAILED)
			grid_put_trunc(g, in, col, row, v->error[0] ? v->error : "", in.w - col - 1,
			    THEME_SLOT_ERROR, 0);
		else
			view_finetune_line(g, grid_rect_make(in.x + col, in.y, in.w - col, in.h), row,
			    THEME_SLOT_VALUE, " step %ld/%ld v%ld",
			    have ? pr.step : finetune_steps_done(v->ft), v->run_steps, version);
		row++;
		if (have) {
			view_finetune_duration(pr.eta, eta, sizeof eta);
			row = view_finetune_line(g, in, row, THEME_SLOT_VALUE, "loss %.4f  BC %.4f  "
			    "V(s0) %.3f%s", pr.sm.loss, pr.sm.bc, pr.sm.v0,
			    pr.skipped ? "  (skipped: not finite)" : "");
			row = view_finetune_line(g, in, row, THEME_SLOT_VALUE, "%.0f tok/s  ETA %s  "
			    "weights v%ld", pr.tokens_per_s, eta, version);
			if (row < in.h && n_hist > 0) {
				col = grid_put(g, in, 0, row, "loss ", THEME_SLOT_DIM, 0);
				grid_sparkline(g, in, col, row, in.w - col, hist, n_hist, 0, 0,
				    THEME_SLOT_SPARKLINE);
				row++;
			}
		} else if (st == FINETUNE_RUNNING)
			row = view_finetune_line(g, in, row, THEME_SLOT_DIM, "first step running...");
		if (v->live) {
			row = view_finetune_draw_rows(v, g, in, row, VIEW_FINETUNE_ROW_WEIGHTS,
			    VIEW_FINETUNE_NROWS, focused);
			if (v->note[0] != '\0')
				row = view_finetune_line(g, in, row, v->note_error ? THEME_SLOT_ERROR :
				    THEME_SLOT_TEXT, "%s", v->note);
			row = view_finetune_line(g, in, row, THEME_SLOT_DIM, "%s, %ld steps, lr %g, "
			    "noise %g", finetune_method_name(v->run_method), v->run_steps,
			    (double)v->run_lr, v->run_noise);
		}
		if (have && v->run_method != FINETUNE_MLE)
			row = view_finetune_line(g, in, row, THEME_SLOT_VALUE, "P(<bksp>) clean "
			    "%.4f noisy %.4f", pr.sm.bksp_p_clean, pr.sm.bksp_p_noisy);
		if (have && pr.has_val)
			row = view_finetune_line(g, in, row, THEME_SLOT_VALUE, "val loss %.4f "
			    "(best %.4f)", (double)pr.val_loss, (double)pr.best_val_loss);
	}
	row = view_finetune_line(g, in, row, THEME_SLOT_DIM, "%s", v->corpus_note);
	row = view_finetune_line(g, in, row, THEME_SLOT_DIM, "s saves to %s", v->out_path);
	(void)ui;
}

/* A key while typing a row's value: Enter sets it, Esc cancels. */
static int
view_finetune_key_edit(struct view_finetune *v, int key)
{
	int r = editor_field_key(v->edit, sizeof v->edit, key);

	if (r != 0)
		v->editing = 0;
	if (r == 1 && !view_finetune_row_locked(v, v->sel) &&
	    view_finetune_row_set(v, v->sel, v->edit) == 0)
		view_finetune_note(v, 0, "%s = %s", view_finetune_row_names[v->sel], v->edit);
	return UI_REDRAW;
}

/* Keys: rows (j k h l e d D), Enter or g start, p pause/resume, x stop, s save. */
static int
view_finetune_key(void *p, struct ui *ui, int key)
{
	struct view_finetune *v = p;
	enum finetune_state st;

	if (v->editing)
		return view_finetune_key_edit(v, key);
	switch (key) {
	case UI_KEY_UP:
	case 'k':
		v->sel = v->live ? VIEW_FINETUNE_ROW_WEIGHTS : v->sel > 0 ? v->sel - 1 : 0;
		return UI_REDRAW;
	case UI_KEY_DOWN:
	case 'j':
		v->sel = v->live ? VIEW_FINETUNE_ROW_WEIGHTS : v->sel + 1 < VIEW_FINETUNE_NROWS ?
		    v->sel + 1 : v->sel;
		return UI_REDRAW;
	case UI_KEY_LEFT:
	case 'h':
	case '-':
		view_finetune_row_adjust(v, v->sel, -1);
		return UI_REDRAW;
	case UI_KEY_RIGHT:
	case 'l':
	case '+':
	case '=':
		view_finetune_row_adjust(v, v->sel, +1);
		return UI_REDRAW;
	case 'e':
		if (view_finetune_row_locked(v, v->sel))
			return UI_REDRAW;
		v->editing = 1;
		if (v->sel == VIEW_FINETUNE_ROW_METHOD)
			snprintf(v->edit, sizeof v->edit, "%s", finetune_method_name(v->o.method));
		else if (v->sel == VIEW_FINETUNE_ROW_WEIGHTS)
			snprintf(v->edit, sizeof v->edit, "%s", v->next_token ? "token" :
			    "generation");
		else if (v->sel == VIEW_FINETUNE_ROW_NOISE)
			snprintf(v->edit, sizeof v->edit, "%g", v->o.p_noise);
		else
			view_finetune_row_value(v, v->sel, v->edit, sizeof v->edit);
		return UI_REDRAW;
	case 'd':
		view_finetune_row_reset(v, v->sel);
		return UI_REDRAW;
	case 'D':
		for (int i = 0; i < VIEW_FINETUNE_NROWS; i++)
			if (!v->live || i == VIEW_FINETUNE_ROW_WEIGHTS)
				view_finetune_row_reset(v, i);
		view_finetune_note(v, 0, v->live ? "weights row back to its default (the others "
		    "are fixed while it runs)" : "every row back to its default");
		return UI_REDRAW;
	case UI_KEY_ENTER:
	case 'g':
		view_finetune_start(v);
		return UI_REDRAW;
	case 'p':
		if (!v->live) {
			view_finetune_note(v, 1, "nothing to pause: Enter or g starts a fine-tune");
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
	case 's':
		if (v->ft == NULL) {
			view_finetune_note(v, 1, "nothing to save: Enter or g starts a fine-tune");
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

	int prepared;

	pthread_mutex_lock(&v->mutex);
	if (v->dirty) {
		v->dirty = 0;
		flags |= UI_REDRAW;
	}
	prepared = v->preparing && v->prep_done;
	pthread_mutex_unlock(&v->mutex);
	if (prepared) {
		view_finetune_started(v);
		flags |= UI_REDRAW;
	}
	if (!v->live)
		return flags;
	st = finetune_get_state(v->ft);
	if ((int)st != v->seen_state) { /* e.g. "pausing" became "paused": no callback says so */
		v->seen_state = (int)st;
		flags |= UI_REDRAW;
	}
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

/* Hand the running generation the latest weights when the row says "next token". */
int
view_finetune_feed(void *p, struct ui_gen *g)
{
	struct view_finetune *v = p;
	struct snapshot *snap;
	long version;

	if (v == NULL || g == NULL)
		return 0;
	if (v->next_token && v->ft != NULL && (snap = finetune_snapshot(v->ft)) != NULL) {
		ui_gen_set_weights(g, snap);
		snapshot_unref(snap);
	}
	version = ui_gen_weights_version(g);
	if (version == v->ui->weights_version)
		return 0;
	v->ui->weights_version = version;
	return 1;
}

/* The quit question while a fine-tune runs: 1 with it in buf, else 0 ("" in buf). */
int
view_finetune_question(void *p, char *buf, size_t size)
{
	struct view_finetune *v = p;

	buf[0] = '\0';
	if (v == NULL || !v->live)
		return 0;
	snprintf(buf, size, "Quit and save the running fine-tune (step %ld/%ld)? y/n",
	    finetune_steps_done(v->ft), v->run_steps);
	return 1;
}

/* Turn a quit into the question while a fine-tune runs; flags otherwise unchanged. */
int
view_finetune_confirm_quit(void *p, struct ui *ui, int flags)
{
	struct view_finetune *v = p;
	char q[512];

	if (!(flags & UI_QUIT) || !view_finetune_question(v, q, sizeof q))
		return flags;
	v->asking = 1;
	ui_message(ui, 1, "%s", q);	/* highlighted: it waits for an answer */
	return (flags & ~UI_QUIT) | UI_REDRAW;
}

/* Whether the quit question waits for its answer (keys go to view_finetune_answer). */
int
view_finetune_asking(void *p)
{
	struct view_finetune *v = p;

	return v != NULL && v->asking;
}

/* The answer: y quits (the loop's exit stops and saves it), n or Esc goes back. */
int
view_finetune_answer(void *p, struct ui *ui, int key)
{
	struct view_finetune *v = p;
	char q[512];

	if (key == 'y' || key == 'Y') {
		v->asking = 0;
		ui_message(ui, 0, "quitting: stopping the fine-tune and saving it...");
		return UI_QUIT | UI_REDRAW;
	}
	if (key == 'n' || key == 'N' || key == UI_KEY_ESC || key == UI_CTRL('c')) {
		v->asking = 0;
		ui_message(ui, 0, "not quitting; the fine-tune goes on");
		return UI_REDRAW;
	}
	/* Anything else asks again (the run may have ended meanwhile: then just quit). */
	if (!view_finetune_question(v, q, sizeof q)) {
		v->asking = 0;
		return UI_QUIT | UI_REDRAW;
	}
	ui_message(ui, 1, "%s", q);
	return UI_REDRAW;
}

const struct ui_pane view_finetune_pane = {
	.name = "finetune",
	.init = view_finetune_init,
	.draw = view_finetune_draw,
	.key = view_finetune_key,
	.tick = view_finetune_tick,
	.free = view_finetune_free,
};
