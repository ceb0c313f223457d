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
 * 0..1, and its area (= MAUVE); P is the reference text, Q the generations,
 * R their mixture and c a fixed scale, as the legend line says.
 *
 * After the `b` key, the before/after table (ui->ab, filled by ui-ab.c) comes
 * first: the last run's knobs against the current ones on the same seeds.
 * Every number carries a label that says what it counts (gross = typed,
 * net = kept); the help's glossary (g in it) says more.
 *
 * A run that loops (app/branches.c) gets a first row in the error style
 * naming the knob that stops the loop.
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
#define VIEW_STATS_AB_CELL 7     /* a cell of the before/after table: " 12.5/3" */

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

/* The first of the n texts that fits in width columns, else the last (wrapped or truncated later). */
static const char *
view_stats_fit(const char *const *texts, int n, int width)
{
	for (int i = 0; i < n - 1; i++)
		if ((int)strlen(texts[i]) <= width)
			return texts[i];
	return texts[n - 1];
}

/*
 * One line of numbers in the first of its n forms (longest first) that fits
 * r's width; when none does, the last one wrapped at spaces: a number is never
 * cut (at 80x24 the pane is 26 columns inside). Returns the row after it.
 */
static int
view_stats_fitline(struct grid *g, struct grid_rect r, int row, int style,
    const char *const *texts, int n)
{
	const char *t = view_stats_fit(texts, n, r.w);

	if ((int)strlen(t) <= r.w)
		return view_stats_line(g, r, row, style, "%s", t);
	return view_stats_wrap(g, r, row, t, style);
}

/*
 * A rate line in three forms, longest first: "NAME 0.333 (1/3 what)", "SHORT
 * 0.333 (1/3)", "SHORT 0.333"; "- (0 what)" when the denominator is 0.
 */
static void
view_stats_rate(char forms[3][96], const char *name, const char *shortname, double rate,
    long num, long den, const char *what)
{
	if (den == 0) {
		snprintf(forms[0], 96, "%s - (0 %s)", name, what);
		snprintf(forms[1], 96, "%s - (0 %s)", shortname, what);
		snprintf(forms[2], 96, "%s -", shortname);
		return;
	}
	snprintf(forms[0], 96, "%s %.3f (%ld/%ld %s)", name, rate, num, den, what);
	snprintf(forms[1], 96, "%s %.3f (%ld/%ld)", shortname, rate, num, den);
	snprintf(forms[2], 96, "%s %.3f", shortname, rate);
}

/* Draw the live MAUVE lines from row; returns the row after them. */
static int
view_stats_mauve(struct grid *g, struct grid_rect r, int row, const struct ui *ui)
{
	const struct ui_mauve_info *m = &ui->mauve;
	char buf[512], value[32], forms[3][96];
	const char *const fp[3] = { forms[0], forms[1], forms[2] };

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
		/* n: samples (finished generations); k: clusters of the quantized features. */
		if (m->n > 0)
			snprintf(value, sizeof value, "%.3f", m->mauve);
		else
			snprintf(value, sizeof value, "-");
		snprintf(forms[0], sizeof forms[0], "MAUVE (live estimate) %s  n=%d samples  "
		    "k=%d clusters", value, m->n, m->k);
		snprintf(forms[1], sizeof forms[1], "MAUVE (live) %s n=%d k=%d clusters", value,
		    m->n, m->k);
		snprintf(forms[2], sizeof forms[2], "MAUVE live %s n=%d k=%d", value, m->n, m->k);
		row = view_stats_fitline(g, r, row, THEME_SLOT_VALUE, fp, 3);
		if (m->pending > 0)
			row = view_stats_line(g, r, row, THEME_SLOT_DIM, "  +%d sample%s queued",
			    m->pending, m->pending == 1 ? "" : "s");
		if (m->n < VIEW_STATS_MAUVE_FEW)
			row = view_stats_line(g, r, row, THEME_SLOT_WARNING, "few samples: noisy");
		break;
	}
	snprintf(buf, sizeof buf, "P: reference %s (first %d tokens), Q: the generations, "
	    "R: their mix, c: scale; featurizer: %s (live: one sample per finished "
	    "generation; seqmatch eval gives the full estimator)", m->ref,
	    m->max_tokens, ui->featurizer_name != NULL ? ui->featurizer_name :
	    ui->model_name != NULL ? ui->model_name : "the loaded model");
	return view_stats_wrap(g, r, row, buf, THEME_SLOT_DIM);
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

/* One row of the before/after table: a label that fits, then the two cells right-aligned. */
static int
view_stats_ab_row(struct grid *g, struct grid_rect r, int row, const char *long_label,
    const char *short_label, const char *a, const char *b)
{
	int lw = r.w - 2 * VIEW_STATS_AB_CELL;

	if (row >= r.h)
		return row;
	grid_put_trunc(g, r, 0, row, (int)strlen(long_label) <= lw ? long_label : short_label,
	    lw, THEME_SLOT_TEXT, 0);
	grid_put_trunc(g, r, lw + VIEW_STATS_AB_CELL - (int)strlen(a), row, a,
	    VIEW_STATS_AB_CELL, THEME_SLOT_VALUE, 0);
	grid_put_trunc(g, r, lw + 2 * VIEW_STATS_AB_CELL - (int)strlen(b), row, b,
	    VIEW_STATS_AB_CELL, THEME_SLOT_VALUE_CHANGED, 0);
	return row + 1;
}

/*
 * The before/after table (the b key, ui-ab.c): the last run's knobs against
 * the current ones over the same seeds. Returns the row after it.
 */
static int
view_stats_ab(struct grid *g, struct grid_rect r, int row, const struct ui_ab_info *ab)
{
	const struct ui_ab_col *c[2] = {&ab->before, &ab->after};
	char cell[4][2][32], title[192], title2[64];
	const char *titles[2] = {title, title2};

	if (ab->state == UI_AB_FAILED) {
		snprintf(title, sizeof title, "before/after: %s", ab->error);
		return view_stats_wrap(g, r, row, title, THEME_SLOT_ERROR);
	}
	/* The seed is long: the status line has it, a narrow pane says only how many. */
	if (ab->state == UI_AB_RUNNING) {
		snprintf(title, sizeof title, "before/after, seeds %llu+%d: run %d/%d",
		    (unsigned long long)ab->seed, ab->n_seeds - 1, c[0]->runs + c[1]->runs,
		    2 * ab->n_seeds);
		snprintf(title2, sizeof title2, "before/after: run %d/%d", c[0]->runs + c[1]->runs,
		    2 * ab->n_seeds);
	} else {
		snprintf(title, sizeof title, "before/after, seeds %llu+%d (same prompt)",
		    (unsigned long long)ab->seed, ab->n_seeds - 1);
		snprintf(title2, sizeof title2, "before/after, %d seeds", ab->n_seeds);
	}
	row = view_stats_line(g, r, row, THEME_SLOT_TITLE, "%s", view_stats_fit(titles, 2, r.w));
	row = view_stats_line(g, r, row, THEME_SLOT_DIM, "%s", ab->change);
	for (int k = 0; k < 2; k++) {
		if (c[k]->appends > 0)
			snprintf(cell[0][k], sizeof cell[0][k], "%.1f",
			    100.0 * (double)c[k]->erases / (double)c[k]->appends);
		else
			snprintf(cell[0][k], sizeof cell[0][k], "-");
		snprintf(cell[1][k], sizeof cell[1][k], "%ld/%ld", c[k]->corrections,
		    c[k]->retypes);
		snprintf(cell[2][k], sizeof cell[2][k], "%d/%d", c[k]->loops, c[k]->runs);
		if (c[k]->distinct2 >= 0)
			snprintf(cell[3][k], sizeof cell[3][k], "%.3f", c[k]->distinct2);
		else
			snprintf(cell[3][k], sizeof cell[3][k], "-");
	}
	row = view_stats_ab_row(g, r, row, "", "", "before", "after");
	row = view_stats_ab_row(g, r, row, "erases per 100 tokens", "erases/100", cell[0][0],
	    cell[0][1]);
	row = view_stats_ab_row(g, r, row, "corrections/retypes", "fix/retype", cell[1][0],
	    cell[1][1]);
	row = view_stats_ab_row(g, r, row, "runs that looped", "loops", cell[2][0], cell[2][1]);
	row = view_stats_ab_row(g, r, row, "distinct-2 (final text)", "distinct-2", cell[3][0],
	    cell[3][1]);
	if (!ab->has_check)
		return row;
	/* The story checker of config.yaml: runs with at least one rule violation. */
	for (int k = 0; k < 2; k++)
		snprintf(cell[0][k], sizeof cell[0][k], "%d/%d", c[k]->violating, c[k]->checked);
	return view_stats_ab_row(g, r, row, "runs breaking a rule", "violations", cell[0][0],
	    cell[0][1]);
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
	char title[192], f[3][96], d1[16] = "-", d2[16] = "-";
	const char *const fp[3] = { f[0], f[1], f[2] };
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
	if (ui->ab.state != UI_AB_OFF)
		row = view_stats_ab(g, in, row, &ui->ab);
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
		/* Gross: every token typed; net: what is left after the erases. */
		snprintf(f[0], sizeof f[0], "tokens typed (gross) %ld, kept (net) %ld", st->appends,
		    st->net_tokens);
		snprintf(f[1], sizeof f[1], "typed (gross) %ld net %ld", st->appends,
		    st->net_tokens);
		snprintf(f[2], sizeof f[2], "tokens gross %ld net %ld", st->appends,
		    st->net_tokens);
		row = view_stats_fitline(g, in, row, THEME_SLOT_VALUE, fp, 3);
		view_stats_rate(f, "backspace rate", "bksp rate", st->backspace_rate, st->erases,
		    st->actions, "actions");
		row = view_stats_fitline(g, in, row, THEME_SLOT_VALUE, fp, 3);
		/* Re-emission: an erased token typed again at once (the model cannot see what
		 * it erased). */
		view_stats_rate(f, "re-emission (erased, retyped)", "re-emission",
		    st->re_emission_rate, st->re_emissions, st->erases, "erases");
		row = view_stats_fitline(g, in, row, THEME_SLOT_VALUE, fp, 3);
		snprintf(f[0], sizeof f[0], "longest backspace run %ld", st->longest_backspace_run);
		snprintf(f[1], sizeof f[1], "longest bksp run %ld", st->longest_backspace_run);
		row = view_stats_fitline(g, in, row, THEME_SLOT_VALUE, fp, 2);
		if (st->ngrams[0] > 0)
			snprintf(d1, sizeof d1, "%.3f", st->distinct[0]);
		if (st->ngrams[1] > 0)
			snprintf(d2, sizeof d2, "%.3f", st->distinct[1]);
		snprintf(f[0], sizeof f[0], "distinct-1 %s  distinct-2 %s", d1, d2);
		snprintf(f[1], sizeof f[1], "dist-1 %s dist-2 %s", d1, d2);
		row = view_stats_fitline(g, in, row, THEME_SLOT_VALUE, fp, 2);
	}
	/* Speeds: the whole run's, from the STOP event (every action counts, as in the status line). */
	if (!log->done)
		row = view_stats_line(g, in, row, THEME_SLOT_DIM, "run tok/s: when it ends");
	else {
		if (stop->prefill_seconds > 0) {
			double tps = log->n_prompt / stop->prefill_seconds;

			snprintf(f[0], sizeof f[0], "run prefill %.1f tok/s (%d tok)", tps,
			    log->n_prompt);
			snprintf(f[1], sizeof f[1], "prefill %.1f tok/s (%d tok)", tps, log->n_prompt);
			snprintf(f[2], sizeof f[2], "prefill %.1f tok/s", tps);
			row = view_stats_fitline(g, in, row, THEME_SLOT_VALUE, fp, 3);
		} else
			row = view_stats_line(g, in, row, THEME_SLOT_VALUE, "run prefill - tok/s");
		if (stop->generate_seconds > 0) {
			int n = stop->n_generated + stop->n_erased;
			double tps = n / stop->generate_seconds;

			snprintf(f[0], sizeof f[0], "run generate %.1f tok/s (%d act.)", tps, n);
			snprintf(f[1], sizeof f[1], "generate %.1f tok/s (%d act.)", tps, n);
			snprintf(f[2], sizeof f[2], "generate %.1f tok/s", tps);
			row = view_stats_fitline(g, in, row, THEME_SLOT_VALUE, fp, 3);
		} else
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
