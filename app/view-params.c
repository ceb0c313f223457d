/*
 * view-params.c: the decoding pane: every row of the engine's sampler_table
 * under column headers (knob, value, default; range and meaning when wide),
 * grouped with the backtracking knobs first so that they show at 80x24, the
 * selected knob's meaning under the list and a note when the list scrolls;
 * select, adjust, type a value, reset, presets. Every change goes through
 * sampler_set, so the pane accepts exactly what the command line accepts; a
 * bad value changes nothing and stays in the field to be corrected.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "theme.h"
#include "editor.h"
#include "ui.h"

#define VIEW_PARAMS_EDIT_MAX 40
#define VIEW_PARAMS_VALW 6     /* value column ("random"; longer values are cut) */
#define VIEW_PARAMS_DEFW 7     /* default column (as wide as its header) */
#define VIEW_PARAMS_FIXW (1 + VIEW_PARAMS_VALW + 1 + VIEW_PARAMS_DEFW) /* after the name */
#define VIEW_PARAMS_LABELW 11  /* the table's short labels */
#define VIEW_PARAMS_RANGEW 11  /* range column: "-inf..100" */

/*
 * The order shown: group headings ("#...") and knob names. The backtracking
 * knobs come first: they are what this program is about, and at 80x24 the
 * pane shows only about six rows. It starts with a heading, and every row of
 * sampler_table appears once (tests/test-ui-panes.c draws the pane tall and
 * looks for each name).
 */
static const char *const view_params_list[] = {
	"#backtracking (<bksp>)", "backspace_bias", "max_consecutive_backspaces",
	"max_total_backspaces", "forbid_retype",
	"#sampling", "temperature", "top_k", "top_p", "min_p", "typical_p", "repeat_penalty",
	"repeat_last_n",
	"#length and seed", "max_tokens", "seed",
};
#define VIEW_PARAMS_NLIST (sizeof view_params_list / sizeof view_params_list[0])

/* Which columns fit (view_params_draw). */
struct view_params_cols {
	int full;    /* full names, else the short labels */
	int namew;
	int range;   /* the range column */
	int meaning; /* the meaning column */
};

/* A preset: parameter values set on top of the defaults. */
struct view_params_preset {
	const char *name;
	const char *values[4][2]; /* name, value; NULL-terminated */
};

static const struct view_params_preset view_params_presets[] = {
	{ "greedy", { { "temperature", "0" }, { NULL, NULL } } },
	{ "balanced", { { NULL, NULL } } },
	{ "creative", { { "temperature", "1.1" }, { "top_k", "100" }, { "top_p", "0.98" },
	    { "min_p", "0.02" } } },
};
#define VIEW_PARAMS_NPRESETS (sizeof view_params_presets / sizeof view_params_presets[0])

/* The pane's state. */
struct view_params {
	size_t sel;                      /* selected entry of view_params_list (a knob) */
	int editing;                     /* typing a value */
	char edit[VIEW_PARAMS_EDIT_MAX]; /* the typed value */
	size_t top;                      /* first entry shown */
	size_t preset;                   /* the preset p applies next */
};

/* The knob of a display-list entry (a heading gives the first knob after it). */
static const struct sampler_param *
view_params_row(size_t i)
{
	const struct sampler_param *row;

	for (; i < VIEW_PARAMS_NLIST; i++)
		if (view_params_list[i][0] != '#' &&
		    (row = sampler_find(view_params_list[i])) != NULL)
			return row;
	return &sampler_table[0];
}

/* The next knob entry from i in direction dir (+1 or -1), or i if there is none. */
static size_t
view_params_next(size_t i, int dir)
{
	for (size_t j = i; dir > 0 ? j + 1 < VIEW_PARAMS_NLIST : j > 0;) {
		j = dir > 0 ? j + 1 : j - 1;
		if (view_params_list[j][0] != '#')
			return j;
	}
	return i;
}

/* Create the pane, the first knob selected. */
static void *
view_params_init(struct ui *ui)
{
	struct view_params *v = xcalloc(1, sizeof *v);

	v->sel = view_params_next(0, +1);
	return v;
}

/* Free the pane. */
static void
view_params_free(void *p)
{
	free(p);
}

/* Write a value as the table's type spells it. */
static void
view_params_format(const struct sampler_param *row, double v, char *buf, size_t size)
{
	if (isinf(v))
		snprintf(buf, size, "%s", v < 0 ? "-inf" : "inf");
	else if (row->type == SAMPLER_DOUBLE)
		snprintf(buf, size, "%.4g", v);
	else
		snprintf(buf, size, "%.0f", v);
}

/* The accepted range of a row: "0..100". */
static void
view_params_range(const struct sampler_param *row, char *buf, size_t size)
{
	char lo[32], hi[32];

	view_params_format(row, row->min, lo, sizeof lo);
	if (row->max >= 1e6)
		snprintf(hi, sizeof hi, "max");
	else
		view_params_format(row, row->max, hi, sizeof hi);
	snprintf(buf, size, "%s..%s", lo, hi);
}

/* Set a row from text through sampler_set; on failure the notice says why. */
static int
view_params_set(struct ui *ui, const struct sampler_param *row, const char *text)
{
	char *cause = NULL;

	if (sampler_set(&ui->params, row, text, &cause) != 0) {
		/* sampler_set's cause names the knob already. */
		if (cause != NULL)
			ui_message(ui, 1, "%s (fix it, or Esc)", cause);
		else
			ui_message(ui, 1, "%s: bad value", row->name);
		free(cause);
		return -1;
	}
	return 0;
}

/* The step of the arrow keys for a row. */
static double
view_params_step(const struct sampler_param *row, double v)
{
	if (strcmp(row->name, "top_k") == 0)
		return 5;
	if (strcmp(row->name, "max_tokens") == 0 || strcmp(row->name, "repeat_last_n") == 0)
		return 16;
	if (strcmp(row->name, "backspace_bias") == 0)
		return 0.5;
	if (row->type == SAMPLER_DOUBLE)
		return 0.05;
	return 1;
}

/* Move the selected value one step (dir -1 or +1), clamped to the range. */
static int
view_params_adjust(struct ui *ui, const struct sampler_param *row, int dir)
{
	double v = sampler_get(&ui->params, row), step = view_params_step(row, v);
	char buf[64];

	if (isinf(v) && v < 0) {
		if (dir < 0)
			return 0;
		v = -10;
	} else {
		v += dir * step;
		if (row->type == SAMPLER_DOUBLE)
			v = round(v / step) * step; /* no 0.8500000001 */
		if (isinf(row->min) && v < -10)
			v = -INFINITY;
		else if (v < row->min)
			v = row->min;
		if (v > row->max)
			v = row->max;
	}
	view_params_format(row, v, buf, sizeof buf);
	view_params_set(ui, row, buf);
	return UI_REDRAW;
}

/* Apply a preset: the defaults, then its values. */
static void
view_params_preset(struct ui *ui, size_t i)
{
	const struct view_params_preset *p = &view_params_presets[i];
	struct sampler_params keep = ui->params;

	sampler_defaults(&ui->params);
	ui->params.seed = keep.seed;
	for (size_t k = 0; k < 4 && p->values[k][0] != NULL; k++)
		view_params_set(ui, sampler_find(p->values[k][0]), p->values[k][1]);
	ui_message(ui, 0, "preset %s", p->name);
}

/* A key while typing a value. */
static int
view_params_key_edit(struct view_params *v, struct ui *ui, int key)
{
	const struct sampler_param *row = view_params_row(v->sel);
	int r = editor_field_key(v->edit, sizeof v->edit, key);

	if (r == -1)
		v->editing = 0;
	/* A bad value keeps the field open with the typed text, to be corrected. */
	if (r == 1 && view_params_set(ui, row, v->edit) == 0) {
		v->editing = 0;
		ui_message(ui, 0, "%s = %s", row->name, v->edit);
	}
	return UI_REDRAW;
}

/* Handle a key. */
static int
view_params_key(void *p, struct ui *ui, int key)
{
	struct view_params *v = p;
	const struct sampler_param *row = view_params_row(v->sel);
	double def;

	if (v->editing)
		return view_params_key_edit(v, ui, key);
	switch (key) {
	case UI_KEY_UP:
	case 'k':
		v->sel = view_params_next(v->sel, -1);
		return UI_REDRAW;
	case UI_KEY_DOWN:
	case 'j':
		v->sel = view_params_next(v->sel, +1);
		return UI_REDRAW;
	case UI_KEY_HOME:
	case 'g':
		v->sel = view_params_next(0, +1);
		return UI_REDRAW;
	case UI_KEY_END:
	case 'G':
		v->sel = view_params_next(VIEW_PARAMS_NLIST - 1, -1);
		if (view_params_list[VIEW_PARAMS_NLIST - 1][0] != '#')
			v->sel = VIEW_PARAMS_NLIST - 1;
		return UI_REDRAW;
	case UI_KEY_LEFT:
	case 'h':
	case '-':
		return view_params_adjust(ui, row, -1);
	case UI_KEY_RIGHT:
	case 'l':
	case '+':
	case '=':
		return view_params_adjust(ui, row, +1);
	case UI_KEY_ENTER:
		v->editing = 1;
		view_params_format(row, sampler_get(&ui->params, row), v->edit, sizeof v->edit);
		return UI_REDRAW;
	case 'd':
		def = row->def;
		{
			char buf[64];

			view_params_format(row, def, buf, sizeof buf);
			view_params_set(ui, row, buf);
		}
		return UI_REDRAW;
	case 'D':
		sampler_defaults(&ui->params);
		ui_message(ui, 0, "every parameter back to its default");
		return UI_REDRAW;
	case 'p':
		view_params_preset(ui, v->preset);
		v->preset = (v->preset + 1) % VIEW_PARAMS_NPRESETS;
		return UI_REDRAW;
	}
	return UI_PASS;
}

/* Draw one knob's line at row y: name, value, default, then range and meaning if they fit. */
static void
view_params_draw_row(struct view_params *v, struct ui *ui, struct grid *g, struct grid_rect in,
    int y, size_t i, const struct view_params_cols *c, int focused)
{
	const struct sampler_param *row = view_params_row(i);
	double cur = sampler_get(&ui->params, row);
	int sel = i == v->sel, changed = cur != row->def, col;
	int hi = sel && focused;
	char val[64], def[64], range[160];

	if (hi)
		grid_fill(g, grid_rect_make(in.x, in.y + y, in.w, 1), NULL, THEME_SLOT_SELECTION, 0);
	grid_put_trunc(g, in, 0, y, c->full ? row->name : row->label, c->namew,
	    hi ? THEME_SLOT_SELECTION : THEME_SLOT_TEXT, 0);
	col = c->namew + 1;
	if (sel && v->editing) {
		snprintf(val, sizeof val, "[%s]", v->edit);
		grid_put_trunc(g, in, col, y, val, in.w - col, THEME_SLOT_CURSOR, 0);
		return;
	}
	view_params_format(row, cur, val, sizeof val);
	if (strcmp(row->name, "seed") == 0 && cur < 0)
		snprintf(val, sizeof val, "random");
	/* Right-aligned; a longer value (a typed seed) is cut with an ellipsis. */
	grid_put_trunc(g, in, col + VIEW_PARAMS_VALW - (int)strlen(val) > col ? col +
	    VIEW_PARAMS_VALW - (int)strlen(val) : col, y, val, VIEW_PARAMS_VALW, hi ?
	    THEME_SLOT_SELECTION : changed ? THEME_SLOT_VALUE_CHANGED : THEME_SLOT_VALUE, 0);
	col += VIEW_PARAMS_VALW + 1;
	view_params_format(row, row->def, def, sizeof def);
	grid_put_trunc(g, in, col + VIEW_PARAMS_DEFW - (int)strlen(def) > col ? col +
	    VIEW_PARAMS_DEFW - (int)strlen(def) : col, y, def, VIEW_PARAMS_DEFW, hi ?
	    THEME_SLOT_SELECTION : THEME_SLOT_DEFAULT_VALUE, 0);
	col += VIEW_PARAMS_DEFW + 2;
	if (c->range) {
		view_params_range(row, range, sizeof range);
		grid_put_trunc(g, in, col, y, range, VIEW_PARAMS_RANGEW, hi ? THEME_SLOT_SELECTION
		    : THEME_SLOT_DIM, 0);
		col += VIEW_PARAMS_RANGEW + 1;
	}
	if (c->meaning)
		grid_put_trunc(g, in, col, y, (int)strlen(row->help) <= in.w - col ? row->help :
		    row->brief, in.w - col, hi ? THEME_SLOT_SELECTION : THEME_SLOT_DIM, 0);
}

/*
 * Draw the pane: a header row (knob, value, default; range and meaning when
 * wide), the grouped list (it scrolls), and under it, as the height allows,
 * the selected knob's meaning, a note when rows are out of view, its range
 * and off value, the seed used and the presets.
 */
static void
view_params_draw(void *p, struct ui *ui, struct grid *g, struct grid_rect r, int focused)
{
	struct view_params *v = p;
	struct grid_rect in = grid_rect_inset(r, 1);
	const struct sampler_param *srow;
	struct view_params_cols c;
	char line[256], lo[64], def[64];
	int rows, foot, more_above, more_below, y, fullw = 0;
	size_t first, last;

	grid_box(g, r, focused ? GRID_BOX_HEAVY : GRID_BOX_LIGHT, "Decoding",
	    focused ? THEME_SLOT_BORDER_FOCUS : THEME_SLOT_BORDER, THEME_SLOT_TITLE, 0);
	if (grid_rect_empty(in))
		return;
	for (size_t i = 0; i < sampler_table_len; i++)
		if ((int)strlen(sampler_table[i].name) > fullw)
			fullw = (int)strlen(sampler_table[i].name);
	/* Full names when they fit beside value and default, else the table's short labels. */
	memset(&c, 0, sizeof c);
	c.full = in.w >= fullw + VIEW_PARAMS_FIXW;
	c.namew = c.full ? fullw : VIEW_PARAMS_LABELW;
	if (c.namew > in.w - VIEW_PARAMS_FIXW)
		c.namew = in.w - VIEW_PARAMS_FIXW > 6 ? in.w - VIEW_PARAMS_FIXW : 6;
	c.range = in.w - c.namew - VIEW_PARAMS_FIXW >= VIEW_PARAMS_RANGEW + 1;
	c.meaning = in.w - c.namew - VIEW_PARAMS_FIXW - VIEW_PARAMS_RANGEW - 1 >= 20;
	srow = view_params_row(v->sel);

	/* Footer lines as the height allows, the list keeping at least 6 rows (a group of knobs with its heading at 80x24). */
	foot = in.h - 1 - 6;
	foot = foot < 0 ? 0 : foot > 5 ? 5 : foot;
	rows = in.h - 1 - foot;
	if (rows < 1) {
		rows = in.h;
		foot = 0;
	}
	/* The scroll note needs a footer line only when the list does not fit. */
	if ((size_t)rows >= VIEW_PARAMS_NLIST && foot > 0 && foot < 5) {
		rows += 1;
		foot -= 1;
	}
	if (v->sel < v->top)
		v->top = v->sel;
	if ((int)(v->sel - v->top) >= rows)
		v->top = v->sel - (size_t)rows + 1;
	/* Show a knob's group heading too when it fits. */
	if (v->top > 0 && view_params_list[v->top - 1][0] == '#' &&
	    (int)(v->sel - v->top) + 1 < rows)
		v->top--;
	if (v->top + (size_t)rows > VIEW_PARAMS_NLIST)
		v->top = VIEW_PARAMS_NLIST > (size_t)rows ? VIEW_PARAMS_NLIST - (size_t)rows : 0;

	/* The header. */
	if (rows < in.h) {
		grid_put_trunc(g, in, 0, 0, "knob", c.namew, THEME_SLOT_DIM, GRID_ATTR_UNDERLINE);
		grid_put(g, in, c.namew + 1 + VIEW_PARAMS_VALW - 5, 0, "value", THEME_SLOT_DIM,
		    GRID_ATTR_UNDERLINE);
		grid_put(g, in, c.namew + 1 + VIEW_PARAMS_VALW + 1, 0, "default", THEME_SLOT_DIM,
		    GRID_ATTR_UNDERLINE);
		if (c.range)
			grid_put(g, in, c.namew + VIEW_PARAMS_FIXW + 2, 0, "range", THEME_SLOT_DIM,
			    GRID_ATTR_UNDERLINE);
		if (c.meaning)
			grid_put(g, in, c.namew + VIEW_PARAMS_FIXW + 2 + VIEW_PARAMS_RANGEW + 1, 0,
			    "meaning", THEME_SLOT_DIM, GRID_ATTR_UNDERLINE);
	}
	y = rows < in.h ? 1 : 0;
	first = v->top;
	last = first;
	for (int k = 0; k < rows && first + (size_t)k < VIEW_PARAMS_NLIST; k++, y++) {
		size_t i = first + (size_t)k;

		last = i;
		if (view_params_list[i][0] == '#')
			grid_put_trunc(g, in, 0, y, view_params_list[i] + 1, in.w, THEME_SLOT_TITLE,
			    GRID_ATTR_BOLD);
		else
			view_params_draw_row(v, ui, g, in, y, i, &c, focused);
	}
	more_above = (int)first;
	more_below = (int)(VIEW_PARAMS_NLIST - 1 - last);

	/* The footer, most useful first, from the row under the list. */
	y = in.h - foot;
	if (foot-- > 0) {
		snprintf(line, sizeof line, "%s: %s", srow->name, srow->help);
		if ((int)strlen(line) > in.w)
			snprintf(line, sizeof line, "%s", (int)strlen(srow->help) <= in.w ?
			    srow->help : srow->brief);
		grid_put_trunc(g, in, 0, y++, line, in.w, THEME_SLOT_TEXT, 0);
	}
	if (foot > 0 && (more_above > 0 || more_below > 0)) {
		foot--;
		if (more_below > 0 && more_above > 0)
			snprintf(line, sizeof line, "list scrolls: %d above, %d below (j k)",
			    more_above, more_below);
		else
			snprintf(line, sizeof line, "list scrolls: %d more %s (j k)",
			    more_below > 0 ? more_below : more_above, more_below > 0 ? "below" :
			    "above");
		grid_put_trunc(g, in, 0, y++, line, in.w, THEME_SLOT_DIM, 0);
	}
	if (foot-- > 0) {
		view_params_range(srow, lo, sizeof lo);
		view_params_format(srow, srow->def, def, sizeof def);
		snprintf(line, sizeof line, "range %s, off: %s", lo, srow->disabled);
		grid_put_trunc(g, in, 0, y++, line, in.w, THEME_SLOT_DIM, 0);
	}
	if (foot-- > 0) {
		if (ui->have_run)
			snprintf(line, sizeof line, "seed used: %llu  (R same, S new)",
			    (unsigned long long)ui->log.seed);
		else
			snprintf(line, sizeof line, "seed used: none yet");
		grid_put_trunc(g, in, 0, y++, line, in.w, THEME_SLOT_TEXT, 0);
	}
	if (foot-- > 0)
		grid_put_trunc(g, in, 0, y, "p: presets greedy, balanced, creative in turn",
		    in.w, THEME_SLOT_DIM, 0);
}

const struct ui_pane view_params_pane = {
	.name = "Decoding",
	.init = view_params_init,
	.draw = view_params_draw,
	.key = view_params_key,
	.tick = NULL,
	.free = view_params_free,
};
