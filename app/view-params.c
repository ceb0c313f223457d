/*
 * view-params.c: the decoding pane: every row of the engine's sampler_table
 * with its value, default and range; select, adjust, type a value, reset,
 * presets. Every change goes through sampler_set, so the pane accepts exactly
 * what the command line accepts, and a bad value changes nothing.
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
	size_t sel;                      /* selected row of sampler_table */
	int editing;                     /* typing a value */
	char edit[VIEW_PARAMS_EDIT_MAX]; /* the typed value */
	size_t top;                      /* first row shown */
	size_t preset;                   /* the preset p applies next */
};

/* Create the pane. */
static void *
view_params_init(struct ui *ui)
{
	return xcalloc(1, sizeof(struct view_params));
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
		ui_message(ui, 1, "%s: %s", row->name, cause != NULL ? cause : "bad value");
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
	int r = editor_field_key(v->edit, sizeof v->edit, key);

	if (r != 0)
		v->editing = 0;
	if (r == 1 && view_params_set(ui, &sampler_table[v->sel], v->edit) == 0)
		ui_message(ui, 0, "%s = %s", sampler_table[v->sel].name, v->edit);
	return UI_REDRAW;
}

/* Handle a key. */
static int
view_params_key(void *p, struct ui *ui, int key)
{
	struct view_params *v = p;
	const struct sampler_param *row = &sampler_table[v->sel];
	double def;

	if (v->editing)
		return view_params_key_edit(v, ui, key);
	switch (key) {
	case UI_KEY_UP:
	case 'k':
		if (v->sel > 0)
			v->sel--;
		return UI_REDRAW;
	case UI_KEY_DOWN:
	case 'j':
		if (v->sel + 1 < sampler_table_len)
			v->sel++;
		return UI_REDRAW;
	case UI_KEY_HOME:
	case 'g':
		v->sel = 0;
		return UI_REDRAW;
	case UI_KEY_END:
	case 'G':
		v->sel = sampler_table_len - 1;
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

/* Draw the pane. */
static void
view_params_draw(void *p, struct ui *ui, struct grid *g, struct grid_rect r, int focused)
{
	struct view_params *v = p;
	struct grid_rect in = grid_rect_inset(r, 1);
	int rows, namew = 0, show_def, show_range, y;
	char val[64], def[64], range[160], lo[64];

	grid_box(g, r, focused ? GRID_BOX_HEAVY : GRID_BOX_LIGHT, "Decoding",
	    focused ? THEME_SLOT_BORDER_FOCUS : THEME_SLOT_BORDER, THEME_SLOT_TITLE, 0);
	if (grid_rect_empty(in))
		return;
	for (size_t i = 0; i < sampler_table_len; i++) {
		int w = (int)strlen(sampler_table[i].name);

		if (w > namew)
			namew = w;
	}
	/* Name, value (8), default (8), range: drop the range, then the default, then
	 * shorten the names, as the width shrinks. */
	show_range = in.w >= namew + 9 + 9 + 2 + 12;
	if (namew > in.w - 18)
		namew = in.w - 18 > 8 ? in.w - 18 : 8;
	show_def = in.w >= namew + 9 + 9;
	/* Rows for the table; below it the selected row's range, the seed and the presets. */
	rows = in.h - 3 > 1 ? in.h - 3 : in.h;
	if (v->sel < v->top)
		v->top = v->sel;
	if ((int)(v->sel - v->top) >= rows)
		v->top = v->sel - (size_t)rows + 1;
	for (y = 0; y < rows && v->top + (size_t)y < sampler_table_len; y++) {
		size_t i = v->top + (size_t)y;
		const struct sampler_param *row = &sampler_table[i];
		double cur = sampler_get(&ui->params, row);
		int sel = i == v->sel, col, changed = cur != row->def;
		int name_style = sel && focused ? THEME_SLOT_SELECTION : THEME_SLOT_TEXT;

		if (sel && focused)
			grid_fill(g, grid_rect_make(in.x, in.y + y, in.w, 1), NULL,
			    THEME_SLOT_SELECTION, 0);
		grid_put_trunc(g, in, 0, y, row->name, namew, name_style, 0);
		col = namew + 1;
		if (sel && v->editing) {
			snprintf(val, sizeof val, "[%s]", v->edit);
			grid_put_trunc(g, in, col, y, val, in.w - col, THEME_SLOT_CURSOR, 0);
			continue;
		}
		view_params_format(row, cur, val, sizeof val);
		if (strcmp(row->name, "seed") == 0 && cur < 0)
			snprintf(val, sizeof val, "random");
		/* Right-aligned in 8 columns; a longer value (a typed seed) is cut with an ellipsis. */
		grid_put_trunc(g, in, col + 8 - (int)strlen(val) > col ? col + 8 -
		    (int)strlen(val) : col, y, val, 8, sel && focused ? THEME_SLOT_SELECTION
		    : changed ? THEME_SLOT_VALUE_CHANGED : THEME_SLOT_VALUE, 0);
		col += 9;
		if (show_def) {
			view_params_format(row, row->def, def, sizeof def);
			grid_put(g, in, col + 8 - (int)strlen(def) > col ? col + 8 - (int)strlen(def)
			    : col, y, def, sel && focused ? THEME_SLOT_SELECTION
			    : THEME_SLOT_DEFAULT_VALUE, 0);
			col += 10;
		}
		if (show_range) {
			view_params_range(row, range, sizeof range);
			grid_put_trunc(g, in, col, y, range, in.w - col, sel && focused ?
			    THEME_SLOT_SELECTION : THEME_SLOT_DIM, 0);
		}
	}
	if (in.h - 3 < 1)
		return;
	view_params_range(&sampler_table[v->sel], lo, sizeof lo);
	view_params_format(&sampler_table[v->sel], sampler_table[v->sel].def, def, sizeof def);
	snprintf(range, sizeof range, "%s: %s, default %s; off: %s",
	    sampler_table[v->sel].name, lo, def, sampler_table[v->sel].disabled);
	grid_put_trunc(g, in, 0, in.h - 3, range, in.w, THEME_SLOT_DIM, 0);
	if (in.h - 2 < 1)
		return;
	if (ui->have_run)
		snprintf(val, sizeof val, "seed used: %llu  (R replays)",
		    (unsigned long long)ui->log.seed);
	else
		snprintf(val, sizeof val, "seed used: none yet");
	grid_put_trunc(g, in, 0, in.h - 2, val, in.w, THEME_SLOT_TEXT, 0);
	grid_put_trunc(g, in, 0, in.h - 1, "p: presets greedy, balanced, creative in turn", in.w,
	    THEME_SLOT_DIM, 0);
}

const struct ui_pane view_params_pane = {
	.name = "Decoding",
	.init = view_params_init,
	.draw = view_params_draw,
	.key = view_params_key,
	.tick = NULL,
	.free = view_params_free,
};
