/*
 * view-stats.c: the stats pane: statistics of the current generation's event
 * log up to the playback position of the text pane (the title says "playback
 * 12/40"), so the numbers move as the playback advances: gross and net
 * tokens, backspace and re-emission rates, the longest backspace run and
 * distinct-1/2 of the net text, all from engine/textstats.h. The speeds
 * (prefill and generate tokens/s) come from the STOP event and are the whole
 * run's. Below them, the live MAUVE estimate (ui->mauve, plain data the loop
 * copies from the worker in ui-mauve.c): fixed reference clusters and running
 * counts over the finished generations, labelled live, not `seqmatch eval`'s
 * full estimator. When rows are left below all that, the live divergence
 * curve is plotted (grid_plot, in ui->plot's dots) with its axes named as
 * mauve-text names them, x = exp(-c KL(Q|R)) and y = exp(-c KL(P|R)), both
 * 0..1, and its area (= MAUVE). A run that loops (app/branches.c) gets a
 * first row in the error style naming the knob that stops the loop.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "branches.h"
#include "textstats.h"
#include "theme.h"
#include "ui.h"

#define VIEW_STATS_MAUVE_FEW 50 /* below this many samples the estimate is noisy */
#define VIEW_STATS_PLOT_MIN_H 4  /* the curve's plot area: at least 4 rows (16 braille dots) */
#define VIEW_STATS_PLOT_MIN_W 16 /* and 16 columns */
#define VIEW_STATS_PLOT_MAX_H 12 /* no taller than this: the numbers matter more */
#define VIEW_STATS_PLOT_EXTRA 4  /* rows around the plot: title, x axis, x label, area */
#define VIEW_STATS_PLOT_NARROW 24 /* narrower: the area and the y label need a row each */

/* The pane's state: the numbers of the last (serial, shown) computed. */
struct view_stats {
	int valid;
	unsigned serial;
	size_t shown;
	struct textstats st; /* sets released: numbers only */
	char error[160];     /* non-empty: the log could not be replayed */
};

/* Create the pane. */
static void *
view_stats_init(struct ui *ui)
{
	return xcalloc(1, sizeof(struct view_stats));
}

/* Free the pane. */
static void
view_stats_free(void *p)
{
	free(p);
}

/* Compute the statistics of the first n events of the log into v. */
static void
view_stats_compute(struct view_stats *v, const struct ui_log *log, size_t n)
{
	int *ids = NULL, n_ids = 0;
	char *cause = NULL;

	v->error[0] = '\0';
	textstats_init(&v->st);
	if (textstats_add_events(&v->st, log->ev, (int)n, log->n_prompt, &cause) != 0 ||
	    textstats_replay(log->ev, (int)n, log->n_prompt, &ids, &n_ids, &cause) != 0 ||
	    textstats_add_ids(&v->st, ids, n_ids, &cause) != 0) {
		snprintf(v->error, sizeof v->error, "cannot read the event log: %s",
		    cause != NULL ? cause : "?");
		free(cause);
	}
	textstats_finish(&v->st);
	textstats_release(&v->st);
	free(ids);
}

/* printf a line at row of r; returns row + 1. */
static int __attribute__((format(printf, 5, 6)))
view_stats_line(struct grid *g, struct grid_rect r, int row, int style, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	grid_put_trunc(g, r, 0, row, buf, r.w, style, 0);
	return row + 1;
}

/* Word-wrap s (ASCII) into r from row; returns the row after it. */
static int
view_stats_wrap(struct grid *g, struct grid_rect r, int row, const char *s, int style)
{
	size_t len = strlen(s), start = 0, end, brk;

	while (start < len && row < r.h && r.w > 0) {
		end = start + (size_t)r.w < len ? start + (size_t)r.w : len;
		brk = end;
		if (end < len) { /* break at the last space that fits, if any */
			while (brk > start && s[brk] != ' ')
				brk--;
			if (brk == start)
				brk = end;
		}
		grid_putn(g, r, 0, row++, s + start, brk - start, style, 0);
		start = brk;
		while (start < len && s[start] == ' ')
			start++;
	}
	return row;
}

/* A rate as "0.333 (1/3 what)", or "- (0 what)" when the denominator is 0. */
static void
view_stats_rate(char *buf, size_t size, double rate, long num, long den, const char *what)
{
	if (den == 0)
		snprintf(buf, size, "- (0 %s)", what);
	else
		snprintf(buf, size, "%.3f (%ld/%ld %s)", rate, num, den, what);
}

/* Draw the live MAUVE lines from row; returns the row after them. */
static int
view_stats_mauve(struct grid *g, struct grid_rect r, int row, const struct ui *ui)
{
	const struct ui_mauve_info *m = &ui->mauve;
	char buf[512];

	switch (m->state) {
	case UI_MAUVE_OFF:
		return view_stats_line(g, r, row, THEME_SLOT_DIM, "MAUVE (live): starting...");
	case UI_MAUVE_FAILED:
		snprintf(buf, sizeof buf, "MAUVE (live): cannot run: %s", m->error);
		return view_stats_wrap(g, r, row, buf, THEME_SLOT_ERROR);
	case UI_MAUVE_FITTING:
		if (m->n_ref > 0) {
			snprintf(buf, sizeof buf, "MAUVE (live): fitting reference (%d texts)...",
			    m->n_ref);
			row = view_stats_wrap(g, r, row, buf, THEME_SLOT_DIM);
		} else
			row = view_stats_line(g, r, row, THEME_SLOT_DIM, "MAUVE (live): loading "
			    "reference...");
		break;
	case UI_MAUVE_READY:
		if (m->n > 0)
			row = view_stats_line(g, r, row, THEME_SLOT_VALUE, "MAUVE (live estimate) "
			    "%.3f  n=%d  k=%d", m->mauve, m->n, m->k);
		else
			row = view_stats_line(g, r, row, THEME_SLOT_VALUE, "MAUVE (live estimate) "
			    "-  n=0  k=%d", m->k);
		if (m->pending > 0)
			row = view_stats_line(g, r, row, THEME_SLOT_DIM, "  +%d sample%s queued",
			    m->pending, m->pending == 1 ? "" : "s");
		if (m->n < VIEW_STATS_MAUVE_FEW)
			row = view_stats_line(g, r, row, THEME_SLOT_WARNING, "few samples: noisy");
		break;
	}
	snprintf(buf, sizeof buf, "ref: %s first %d tokens, featurizer: %s (live: one sample "
	    "per finished generation; seqmatch eval gives the full estimator)", m->ref,
	    m->max_tokens, ui->featurizer_name != NULL ? ui->featurizer_name :
	    ui->model_name != NULL ? ui->model_name : "the loaded model");
	return view_stats_wrap(g, r, row, buf, THEME_SLOT_DIM);
}

/* The first of the n texts that fits in width columns, else the last (truncated later). */
static const char *
view_stats_fit(const char *const *texts, int n, int width)
{
	for (int i = 0; i < n - 1; i++)
		if ((int)strlen(texts[i]) <= width)
			return texts[i];
	return texts[n - 1];
}

/* Why there is no curve to plot (one line), or NULL when there is one. */
static const char *
view_stats_no_curve(const struct ui_mauve_info *m)
{
	if (m->state == UI_MAUVE_OFF || m->state == UI_MAUVE_FITTING)
		return "curve: after the reference is fitted";
	if (m->n <= 0 || m->curve_len < 2)
		return "curve: waiting for samples";
	return NULL;
}

/* The plot's axes: "1┤" at the top, "│" down the side, "0└───" along the bottom. */
static void
view_stats_axes(struct grid *g, struct grid_rect r, int row, int pw, int ph)
{
	int ascii = g->glyphs == GRID_GLYPHS_ASCII;

	grid_put(g, r, 0, row, "1", THEME_SLOT_DIM, 0);
	grid_put(g, r, 1, row, ascii ? "|" : "\xe2\x94\xa4", THEME_SLOT_PLOT_AXIS, 0);
	for (int i = 1; i < ph; i++)
		grid_put(g, r, 1, row + i, ascii ? "|" : "\xe2\x94\x82", THEME_SLOT_PLOT_AXIS, 0);
	grid_put(g, r, 0, row + ph, "0", THEME_SLOT_DIM, 0);
	grid_put(g, r, 1, row + ph, ascii ? "+" : "\xe2\x94\x94", THEME_SLOT_PLOT_AXIS, 0);
	for (int i = 0; i < pw; i++)
		grid_put(g, r, 2 + i, row + ph, ascii ? "-" : "\xe2\x94\x80", THEME_SLOT_PLOT_AXIS,
		    0);
}

/* The x axis' labels under it: "0", the axis name centred, "1" under the last column. */
static void
view_stats_xlabel(struct grid *g, struct grid_rect r, int row, int pw)
{
	static const char *const names[] = {"x=exp(-c KL(Q|R))", "x=e^(-c KL(Q|R))",
		"x=e^-cKL(Q|R)", "x"};
	const char *name = view_stats_fit(names, 4, pw - 3);
	int len = (int)strlen(name);

	grid_put(g, r, 1, row, "0", THEME_SLOT_DIM, 0);
	grid_put_trunc(g, r, 2 + (pw - len) / 2, row, name, pw - 2, THEME_SLOT_DIM, 0);
	grid_put(g, r, 1 + pw, row, "1", THEME_SLOT_DIM, 0);
}

/*
 * The rows under the x axis' name: the area (MAUVE) and the y axis' name on
 * one row when they fit in r's width, else on two (rows tells how many are
 * left). Returns the rows used.
 */
static int
view_stats_ylabel(struct grid *g, struct grid_rect r, int row, int rows, double mauve)
{
	static const char *const ynames[] = {"y=exp(-c KL(P|R))", "y=e^(-c KL(P|R))",
		"y=e^-cKL(P|R)"};
	char one[96], two[64], three[48], area[32];
	const char *ones[3] = {one, two, three};
	const char *best;

	snprintf(one, sizeof one, "area (MAUVE) %.3f  %s", mauve, ynames[0]);
	snprintf(two, sizeof two, "area %.3f  %s", mauve, ynames[1]);
	snprintf(three, sizeof three, "area %.3f %s", mauve, ynames[2]);
	best = view_stats_fit(ones, 3, r.w);
	if ((int)strlen(best) <= r.w || rows < 2) {
		grid_put_trunc(g, r, 0, row, best, r.w, THEME_SLOT_VALUE, 0);
		return 1;
	}
	grid_put_trunc(g, r, 0, row, view_stats_fit(ynames, 3, r.w), r.w, THEME_SLOT_DIM, 0);
	snprintf(area, sizeof area, "area (MAUVE) %.3f", mauve);
	grid_put_trunc(g, r, 0, row + 1, area, r.w, THEME_SLOT_VALUE, 0);
	return 2;
}

/*
 * The divergence curve in the rows of r from row on: a title, the plot with its
 * axes, the x axis' name and the area with the y axis' name. When there is no
 * curve, or too little room for one, a dim line says so.
 */
static void
view_stats_curve(struct grid *g, struct grid_rect r, int row, const struct ui *ui)
{
	const struct ui_mauve_info *m = &ui->mauve;
	const char *why = view_stats_no_curve(m);
	char title[64], title2[64];
	const char *titles[2] = {title, title2};
	int rows = r.h - row, ph, pw, extra = VIEW_STATS_PLOT_EXTRA;

	if (rows <= 0 || m->state == UI_MAUVE_FAILED)
		return; /* the failure is already shown */
	if (r.w < VIEW_STATS_PLOT_NARROW)
		extra++; /* the area and the y axis' name on two rows */
	if (why == NULL && (rows < VIEW_STATS_PLOT_MIN_H + extra ||
	    r.w < VIEW_STATS_PLOT_MIN_W + 2))
		why = "curve: needs a larger pane";
	if (why != NULL) {
		grid_put_trunc(g, r, 0, row, why, r.w, THEME_SLOT_DIM, 0);
		return;
	}
	ph = rows - extra;
	ph = ph < VIEW_STATS_PLOT_MAX_H ? ph : VIEW_STATS_PLOT_MAX_H;
	pw = r.w - 2 < 3 * ph ? r.w - 2 : 3 * ph; /* roughly square in braille dots */
	pw = pw > VIEW_STATS_PLOT_MIN_W ? pw : VIEW_STATS_PLOT_MIN_W;
	snprintf(title, sizeof title, "divergence curve (live, n=%d)", m->n);
	snprintf(title2, sizeof title2, "curve (live, n=%d)", m->n);
	grid_put_trunc(g, r, 0, row, view_stats_fit(titles, 2, r.w), r.w, THEME_SLOT_VALUE, 0);
	view_stats_axes(g, r, row + 1, pw, ph);
	grid_plot(g, grid_rect_make(r.x + 2, r.y + row + 1, pw, ph), m->curve_x, m->curve_y,
	    m->curve_len, ui->plot, THEME_SLOT_PLOT);
	view_stats_xlabel(g, r, row + ph + 2, pw);
	view_stats_ylabel(g, r, row + ph + 3, rows - ph - 3, m->mauve);
}

/* The loop flag (branches.c) in the error style when the log loops up to shown; the next row. */
static int
view_stats_loop(struct grid *g, struct grid_rect r, int row, struct ui *ui, size_t shown)
{
	struct branches b;
	char flag[160];

	branches_init(&b);
	branches_build(&b, &ui->log, shown, &ui->params);
	if (branches_flag(&b, &ui->params, flag, sizeof flag))
		row = view_stats_wrap(g, r, row, flag, THEME_SLOT_ERROR);
	branches_release(&b);
	return row;
}

/* Draw the pane. */
static void
view_stats_draw(void *p, struct ui *ui, struct grid *g, struct grid_rect r, int focused)
{
	struct view_stats *v = p;
	const struct ui_log *log = &ui->log;
	const struct textstats *st = &v->st;
	const struct generate_event *stop = &log->stop;
	struct grid_rect in = grid_rect_inset(r, 1);
	size_t shown = log->shown < log->n ? log->shown : log->n;
	char title[128], rate[96];
	int row = 0;

	if (ui->have_run)
		snprintf(title, sizeof title, "Stats%s%s - playback %zu/%zu",
		    ui->label != NULL ? " " : "", ui->label != NULL ? ui->label : "", shown, log->n);
	else
		snprintf(title, sizeof title, "Stats%s%s", ui->label != NULL ? " " : "",
		    ui->label != NULL ? ui->label : "");
	grid_box(g, r, focused ? GRID_BOX_HEAVY : GRID_BOX_LIGHT, title,
	    focused ? THEME_SLOT_BORDER_FOCUS : THEME_SLOT_BORDER, THEME_SLOT_TITLE, 0);
	if (grid_rect_empty(in))
		return;
	if (!ui->have_run) {
		row = view_stats_line(g, in, row, THEME_SLOT_DIM, "no generation yet");
		row = view_stats_mauve(g, in, row, ui);
		view_stats_curve(g, in, row, ui);
		return;
	}
	if (!v->valid || v->serial != log->serial || v->shown != shown) {
		view_stats_compute(v, log, shown);
		v->valid = 1;
		v->serial = log->serial;
		v->shown = shown;
	}
	if (v->error[0] != '\0')
		row = view_stats_wrap(g, in, row, v->error, THEME_SLOT_ERROR);
	else {
		row = view_stats_loop(g, in, row, ui, shown);
		row = view_stats_line(g, in, row, THEME_SLOT_VALUE, "tokens gross %ld net %ld",
		    st->appends, st->net_tokens);
		view_stats_rate(rate, sizeof rate, st->backspace_rate, st->erases, st->actions,
		    "actions");
		row = view_stats_line(g, in, row, THEME_SLOT_VALUE, "backspace rate %s", rate);
		view_stats_rate(rate, sizeof rate, st->re_emission_rate, st->re_emissions,
		    st->erases, "erases");
		row = view_stats_line(g, in, row, THEME_SLOT_VALUE, "re-emission rate %s", rate);
		row = view_stats_line(g, in, row, THEME_SLOT_VALUE, "longest backspace run %ld",
		    st->longest_backspace_run);
		if (st->ngrams[1] > 0)
			row = view_stats_line(g, in, row, THEME_SLOT_VALUE,
			    "distinct-1 %.3f  distinct-2 %.3f", st->distinct[0], st->distinct[1]);
		else if (st->ngrams[0] > 0)
			row = view_stats_line(g, in, row, THEME_SLOT_VALUE,
			    "distinct-1 %.3f  distinct-2 -", st->distinct[0]);
		else
			row = view_stats_line(g, in, row, THEME_SLOT_VALUE,
			    "distinct-1 -  distinct-2 -");
	}
	/* Speeds: the whole run's, from the STOP event (every action counts, as in the status line). */
	if (!log->done)
		row = view_stats_line(g, in, row, THEME_SLOT_DIM, "run tok/s: when it ends");
	else {
		if (stop->prefill_seconds > 0)
			row = view_stats_line(g, in, row, THEME_SLOT_VALUE,
			    "run prefill %.1f tok/s (%d tok)",
			    log->n_prompt / stop->prefill_seconds, log->n_prompt);
		else
			row = view_stats_line(g, in, row, THEME_SLOT_VALUE, "run prefill - tok/s");
		if (stop->generate_seconds > 0)
			row = view_stats_line(g, in, row, THEME_SLOT_VALUE,
			    "run generate %.1f tok/s (%d act.)",
			    (stop->n_generated + stop->n_erased) / stop->generate_seconds,
			    stop->n_generated + stop->n_erased);
		else
			row = view_stats_line(g, in, row, THEME_SLOT_VALUE, "run generate - tok/s");
	}
	row = view_stats_mauve(g, in, row, ui);
	view_stats_curve(g, in, row, ui);
}

/* No keys of its own: focused only so that z can zoom it (the curve needs room). */
static int
view_stats_key(void *p, struct ui *ui, int key)
{
	(void)p;
	(void)ui;
	(void)key;
	return UI_PASS;
}

const struct ui_pane view_stats_pane = {
	.name = "Stats",
	.init = view_stats_init,
	.draw = view_stats_draw,
	.key = view_stats_key,
	.free = view_stats_free,
};
