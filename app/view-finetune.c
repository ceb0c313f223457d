/*
 * view-finetune.c: the fine-tune pane. It draws the fine-tune job's state
 * (ui->ft, copied by the loop from ui-ft.c) and asks the loop for actions
 * (UI_FINETUNE with ui->ft_action); the job itself lives in ui-ft.c. Rows set
 * the next run's objective (sm, bc, mle), steps, learning rate and noise (j k
 * select, h l adjust, e types a value, d D reset) and when generation picks
 * up new weights (the next generation, or the next token: the running
 * generation switches, see ui_gen_set_weights). Keys: Enter or g start, p
 * pause or resume, x stop, s save (the loop asks y/n before a start, stop or
 * save: a letter typed into this pane by mistake must not act). It shows the state, step/steps, the last
 * loss terms, tokens/s, ETA, the published weights version and a loss
 * sparkline.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "editor.h"
#include "finetune.h"
#include "theme.h"
#include "ui.h"

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
	struct ui *ui;
	struct finetune_options o;    /* the next start's options (the rows) */
	int sel;                      /* selected row */
	int editing;                  /* typing a value into the selected row */
	char edit[VIEW_FINETUNE_EDIT_MAX];
	int was_live;                 /* ui->ft.live at the last tick */
	char note[320];               /* the pane's own last note (a row's value) */
	int note_error;
	unsigned note_over;           /* the job's note serial it is newer than */
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
	v->note_over = v->ui->ft.note_serial;
	/* The pane may be too short to show it: the status line has it too. */
	ui_message(v->ui, error, "%s", v->note);
}

/* The newer of the pane's note and the job's; *error whether it is an error. */
static const char *
view_finetune_last_note(const struct view_finetune *v, int *error)
{
	if (v->note[0] != '\0' && v->note_over == v->ui->ft.note_serial) {
		*error = v->note_error;
		return v->note;
	}
	*error = v->ui->ft.note_error;
	return v->ui->ft.note;
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
		snprintf(buf, size, "%s", v->ui->ft_next_token ? "next token" : "next generation");
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
			v->ui->ft_next_token = 0;
		else if (strncmp(text, "tok", 3) == 0 || strcmp(text, "next token") == 0)
			v->ui->ft_next_token = 1;
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
	if (!v->ui->ft.live || row == VIEW_FINETUNE_ROW_WEIGHTS)
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
		v->ui->ft_next_token = !v->ui->ft_next_token;
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
	finetune_options_recipe(&d);
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
		v->ui->ft_next_token = 0;
		break;
	}
}

/* Create the pane. */
static void *
view_finetune_init(struct ui *ui)
{
	struct view_finetune *v = xcalloc(1, sizeof *v);

	v->ui = ui;
	finetune_options_recipe(&v->o);
	return v;
}

/* Free the pane (the job is the loop's). */
static void
view_finetune_free(void *p)
{
	free(p);
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
	const struct ui_ft_info *ft = &ui->ft;
	const struct finetune_progress *pr = &ft->last;
	struct grid_rect in = grid_rect_inset(r, 1);
	int row = 0, col, note_error;
	enum finetune_state st = ft->started ? ft->state : FINETUNE_IDLE;
	const char *state = view_finetune_state_name(st);
	const char *note = view_finetune_last_note(v, &note_error);
	char eta[32], title[64], val[128];

	snprintf(title, sizeof title, "Fine-tune (%s)", finetune_method_name(ft->live ?
	    ft->run.method : v->o.method));
	grid_box(g, r, focused ? GRID_BOX_HEAVY : GRID_BOX_LIGHT, title,
	    focused ? THEME_SLOT_BORDER_FOCUS : THEME_SLOT_BORDER, THEME_SLOT_TITLE, 0);
	if (grid_rect_empty(in))
		return;
	if (st == FINETUNE_RUNNING && ft->pausing)
		state = "pausing";
	else if (st == FINETUNE_DONE && ft->stopped && ft->steps_done < ft->run.steps)
		state = "stopped"; /* x: not "done", the run did not finish */
	if (!ft->live) {
		row = view_finetune_draw_rows(v, g, in, row, 0, VIEW_FINETUNE_NROWS, focused);
		if (note[0] != '\0')
			row = view_finetune_line(g, in, row, note_error ? THEME_SLOT_ERROR :
			    THEME_SLOT_TEXT, "%s", note);
		if (!ft->started)
			row = view_finetune_line(g, in, row, THEME_SLOT_DIM, "Enter or g starts on "
			    "a copy of the weights");
	}
	if (ft->started) {
		col = grid_put(g, in, 0, row, "state ", THEME_SLOT_DIM, 0);
		col = grid_put(g, in, col, row, state, st == FINETUNE_FAILED ? THEME_SLOT_ERROR :
		    st == FINETUNE_DONE ? THEME_SLOT_GOOD : THEME_SLOT_VALUE, GRID_ATTR_BOLD);
		if (st == FINETUNE_FAILED)
			grid_put_trunc(g, in, col, row, ft->error, in.w - col - 1, THEME_SLOT_ERROR, 0);
		else
			view_finetune_line(g, grid_rect_make(in.x + col, in.y, in.w - col, in.h), row,
			    THEME_SLOT_VALUE, " step %ld/%ld v%ld",
			    ft->have ? pr->step : ft->steps_done, ft->run.steps, ft->version);
		row++;
		if (ft->have) {
			view_finetune_duration(pr->eta, eta, sizeof eta);
			/* V(s0): the value of the start state in SequenceMatch's loss (? g in
			 * the help's glossary says it in words). */
			snprintf(val, sizeof val, "loss %.4f  BC %.4f  V(s0) %.3f%s", pr->sm.loss,
			    pr->sm.bc, pr->sm.v0, pr->skipped ? "  (skipped: not finite)" :
			    " (start-state value)");
			if ((int)strlen(val) > in.w && !pr->skipped)
				val[strlen(val) - strlen(" (start-state value)")] = '\0';
			row = view_finetune_line(g, in, row, THEME_SLOT_VALUE, "%s", val);
			/* Smoothed: one step that samples is far slower than the next. */
			row = view_finetune_line(g, in, row, THEME_SLOT_VALUE, "%.0f tok/s avg  ETA %s  "
			    "weights v%ld", ft->tokens_per_s, eta, ft->version);
			if (row < in.h && ft->n_hist > 0) {
				col = grid_put(g, in, 0, row, "loss ", THEME_SLOT_DIM, 0);
				/* The run's whole range, not the shown values': a fixed scale
				 * that widens only when a loss falls outside it. */
				grid_sparkline(g, in, col, row, in.w - col, ft->hist, ft->n_hist,
				    ft->hist_lo, ft->hist_hi, THEME_SLOT_SPARKLINE);
				row++;
			}
		} else if (st == FINETUNE_RUNNING)
			row = view_finetune_line(g, in, row, THEME_SLOT_DIM, "first step running...");
		if (ft->live) {
			row = view_finetune_draw_rows(v, g, in, row, VIEW_FINETUNE_ROW_WEIGHTS,
			    VIEW_FINETUNE_NROWS, focused);
			if (note[0] != '\0')
				row = view_finetune_line(g, in, row, note_error ? THEME_SLOT_ERROR :
				    THEME_SLOT_TEXT, "%s", note);
			row = view_finetune_line(g, in, row, THEME_SLOT_DIM, "%s, %ld steps, lr %g, "
			    "noise %g", finetune_method_name(ft->run.method), ft->run.steps,
			    (double)ft->run.optim.lr, ft->run.p_noise);
		}
		if (ft->have && ft->run.method != FINETUNE_MLE)
			row = view_finetune_line(g, in, row, THEME_SLOT_VALUE, "P(<bksp>) clean "
			    "%.4f noisy %.4f", pr->sm.bksp_p_clean, pr->sm.bksp_p_noisy);
		if (ft->have && pr->has_val)
			row = view_finetune_line(g, in, row, THEME_SLOT_VALUE, "val loss %.4f "
			    "(from %.4f, best %.4f)", (double)pr->val_loss, ft->have_val0 ?
			    (double)ft->val0 : (double)pr->val_loss, (double)pr->best_val_loss);
	}
	row = view_finetune_line(g, in, row, THEME_SLOT_DIM, "%s", ft->corpus_note);
	row = view_finetune_line(g, in, row, THEME_SLOT_DIM, "s saves to %s",
	    ft->out_path != NULL ? ft->out_path : "?");
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

/* Ask the loop to do a to the job. */
static int
view_finetune_ask(struct ui *ui, enum ui_ft_action a, const struct finetune_options *o)
{
	ui->ft_action = a;
	if (o != NULL)
		ui->ft_options = *o;
	return UI_FINETUNE | UI_REDRAW;
}

/* Keys: rows (j k h l e d D), Enter or g start, p pause/resume, x stop, s save. */
static int
view_finetune_key(void *p, struct ui *ui, int key)
{
	struct view_finetune *v = p;
	int live = ui->ft.live;

	if (v->editing)
		return view_finetune_key_edit(v, key);
	switch (key) {
	case UI_KEY_UP:
	case 'k':
		v->sel = live ? VIEW_FINETUNE_ROW_WEIGHTS : v->sel > 0 ? v->sel - 1 : 0;
		return UI_REDRAW;
	case UI_KEY_DOWN:
	case 'j':
		v->sel = live ? VIEW_FINETUNE_ROW_WEIGHTS : v->sel + 1 < VIEW_FINETUNE_NROWS ?
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
			snprintf(v->edit, sizeof v->edit, "%s", ui->ft_next_token ? "token" :
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
			if (!live || i == VIEW_FINETUNE_ROW_WEIGHTS)
				view_finetune_row_reset(v, i);
		view_finetune_note(v, 0, live ? "weights row back to its default (the others "
		    "are fixed while it runs)" : "every row back to its default");
		return UI_REDRAW;
	case UI_KEY_ENTER:
	case 'g':
		return view_finetune_ask(ui, UI_FT_START, &v->o);
	case 'p':
		return view_finetune_ask(ui, UI_FT_PAUSE, NULL);
	case 'x':
		return view_finetune_ask(ui, UI_FT_STOP, NULL);
	case 's':
		return view_finetune_ask(ui, UI_FT_SAVE, NULL);
	}
	return UI_PASS;
}

/* A run that has just started selects the one row that can change while it runs. */
static int
view_finetune_tick(void *p, struct ui *ui, double *wait)
{
	struct view_finetune *v = p;
	int flags = 0;

	if (ui->ft.live && !v->was_live) {
		v->sel = VIEW_FINETUNE_ROW_WEIGHTS;
		flags = UI_REDRAW;
	}
	v->was_live = ui->ft.live;
	return flags;
}

const struct ui_pane view_finetune_pane = {
	.name = "finetune",
	.init = view_finetune_init,
	.draw = view_finetune_draw,
	.key = view_finetune_key,
	.tick = view_finetune_tick,
	.free = view_finetune_free,
};
