/*
 * view-sessions.c: the session browser overlay: a table of the saved
 * transcripts (transcript_list), newest first: date and time, model, seed,
 * tokens/erased, the main decoding settings, the prompt's first words; below
 * them every setting of the selected session, so that two runs of one prompt
 * can be told apart. Up/Down/j/k/PgUp/PgDn/Home/End
 * move, Enter opens, Esc, q or F3 closes. The loop does the opening
 * (transcript_load, ui_session_to_log); this file only lists and draws.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "grid.h"
#include "sampler.h"
#include "theme.h"
#include "transcript.h"
#include "ui.h"
#include "view-sessions.h"

#define VIEW_SESSIONS_KNOBS_W 22 /* the settings column: "T0.8 k40 p0.95 b+0" */
#define VIEW_SESSIONS_FIXED_W 66 /* date, model, seed and tokens/erased with their gaps */
#define VIEW_SESSIONS_PROMPT_MIN 24 /* the prompt's least width beside the settings column */
#define VIEW_SESSIONS_DETAIL_H 3 /* rows for the selected session's every setting */

/* The browser's state. */
struct view_sessions {
	char *dir;                    /* where the sessions are, or NULL */
	char *error;                  /* the directory cannot be read: why */
	struct transcript_entry *e;   /* (n), newest first */
	size_t n;
	size_t sel, top;              /* the selected row, the first row shown */
	int page;                     /* rows shown at the last draw (PgUp/PgDn) */
};

/* Read the list. */
struct view_sessions *
view_sessions_new(const char *dir)
{
	struct view_sessions *v = xcalloc(1, sizeof *v);

	v->page = 10;
	if (dir == NULL) {
		v->error = xstrdup("neither XDG_STATE_HOME nor HOME is set: no sessions");
		return v;
	}
	v->dir = xstrdup(dir);
	if (transcript_list(dir, &v->e, &v->n, &v->error) != 0 && v->error == NULL)
		v->error = xstrdup(dir);
	return v;
}

/* Free the browser. */
void
view_sessions_free(struct view_sessions *v)
{
	if (v == NULL)
		return;
	transcript_list_free(v->e, v->n);
	free(v->dir);
	free(v->error);
	free(v);
}

/* Move the selection by d rows, clamped. */
static void
view_sessions_move(struct view_sessions *v, long d)
{
	long sel = (long)v->sel + d;

	if (sel >= (long)v->n)
		sel = (long)v->n - 1;
	if (sel < 0)
		sel = 0;
	v->sel = (size_t)sel;
}

/* Handle a key. */
enum view_sessions_action
view_sessions_key(struct view_sessions *v, int key)
{
	switch (key) {
	case UI_KEY_ESC:
	case 'q':
	case UI_KEY_F3:
		return VIEW_SESSIONS_CLOSE;
	case UI_KEY_ENTER:
		return v->n > 0 ? VIEW_SESSIONS_OPEN : VIEW_SESSIONS_CLOSE;
	case UI_KEY_UP:
	case 'k':
		view_sessions_move(v, -1);
		return VIEW_SESSIONS_REDRAW;
	case UI_KEY_DOWN:
	case 'j':
		view_sessions_move(v, 1);
		return VIEW_SESSIONS_REDRAW;
	case UI_KEY_PGUP:
		view_sessions_move(v, -v->page);
		return VIEW_SESSIONS_REDRAW;
	case UI_KEY_PGDN:
		view_sessions_move(v, v->page);
		return VIEW_SESSIONS_REDRAW;
	case UI_KEY_HOME:
	case 'g':
		v->sel = 0;
		return VIEW_SESSIONS_REDRAW;
	case UI_KEY_END:
	case 'G':
		view_sessions_move(v, (long)v->n);
		return VIEW_SESSIONS_REDRAW;
	}
	return VIEW_SESSIONS_NONE;
}

/* The selected session's file. */
const char *
view_sessions_selected(const struct view_sessions *v)
{
	return v->n > 0 ? v->e[v->sel].path : NULL;
}

/* How many sessions are listed. */
size_t
view_sessions_count(const struct view_sessions *v)
{
	return v->n;
}

/* The settings column: temperature, top-k, top-p and backspace bias ("T0.8 k40 p0.95 b+0"). */
static void
view_sessions_knobs(const struct sampler_params *p, char *buf, size_t size)
{
	snprintf(buf, size, "T%.3g k%d p%.3g b%+.3g", p->temperature, p->top_k, p->top_p,
	    p->backspace_bias);
}

/*
 * One row's text: "2026-11-26 14:30  model.bin  seed  40/3  T0.8 k40 p0.95 b+0
 * prompt..." (buf of size), the settings column knobs_w wide (0: none). The
 * prompt's control characters are escaped as in `session list` (a tab is \t,
 * never a replacement character).
 */
static void
view_sessions_row(const struct transcript_entry *e, const char *dir, int knobs_w, char *buf,
    size_t size)
{
	char when[20], counts[32], knobs[48], *prompt;
	const char *model;
	size_t l;

	if (e->error != NULL) { /* the message without the directory */
		l = strlen(dir);
		snprintf(buf, size, "%-16s  unreadable: %s", e->id, strncmp(e->error, dir, l) == 0 &&
		    e->error[l] == '/' ? e->error + l + 1 : e->error);
		return;
	}
	snprintf(when, sizeof when, "%.16s", e->time);
	if (strlen(when) > 10 && when[10] == 'T')
		when[10] = ' ';
	model = strrchr(e->model, '/') != NULL ? strrchr(e->model, '/') + 1 : e->model;
	if (e->stopped)
		snprintf(counts, sizeof counts, "%d/%d", e->n_generated, e->n_erased);
	else
		snprintf(counts, sizeof counts, "-");
	view_sessions_knobs(&e->params, knobs, sizeof knobs);
	prompt = transcript_prompt_line(e->prompt, 60);
	snprintf(buf, size, "%-16s  %-14.14s %20llu  %-9s  %-*s%s%s", when, model,
	    (unsigned long long)e->seed, counts, knobs_w, knobs_w > 0 ? knobs : "",
	    knobs_w > 0 ? "  " : "", e->prompt[0] != '\0' ? prompt : "(empty prompt)");
	free(prompt);
}

/* The selected session's every decoding setting, word-wrapped into rows of in from row. */
static void
view_sessions_detail(const struct transcript_entry *e, struct grid *g, struct grid_rect in,
    int row)
{
	char text[1024], piece[1024], v[32];
	size_t o, start = 0, len;
	int w = in.w - 2;

	if (e->error != NULL || w < 10)
		return;
	o = (size_t)snprintf(text, sizeof text, "settings: seed\001used\001%llu;",
	    (unsigned long long)e->seed);
	for (size_t i = 0; i < sampler_table_len && o < sizeof text; i++) {
		if (strcmp(sampler_table[i].name, "seed") == 0)
			continue;
		transcript_param_text(&e->params, &sampler_table[i], v, sizeof v);
		/* \001 joins a name to its value: a line never breaks between them. */
		o += (size_t)snprintf(text + o, sizeof text - o, " %s\001%s", sampler_table[i].name,
		    v);
	}
	if (e->params_changed && o < sizeof text)
		snprintf(text + o, sizeof text - o, " (the starting ones: they changed while it ran)");
	len = strlen(text);
	for (; row < in.h && start < len; row++) { /* break at spaces: no number is cut */
		size_t end = start + (size_t)w < len ? start + (size_t)w : len, brk = end;

		if (end < len) {
			while (brk > start && text[brk] != ' ')
				brk--;
			if (brk == start)
				brk = end;
		}
		memcpy(piece, text + start, brk - start);
		piece[brk - start] = '\0';
		for (char *c = piece; (c = strchr(c, '\001')) != NULL; c++)
			*c = ' ';
		grid_put(g, in, 1, row, piece, THEME_SLOT_DIM, 0);
		start = brk;
		while (start < len && text[start] == ' ')
			start++;
	}
}

/* Draw the overlay. */
void
view_sessions_draw(struct view_sessions *v, struct grid *g, struct grid_rect screen)
{
	int w = screen.w - 4 < 150 ? screen.w - 4 : 150;
	int rows = v->n > 0 ? (int)v->n + VIEW_SESSIONS_DETAIL_H : 1;
	int h = screen.h - 2 < rows + 4 ? screen.h - 2 : rows + 4;
	int detail, knobs_w;
	struct grid_rect r, in;
	char title[96], line[512];

	if (w < 10 || h < 4)
		return;
	r = grid_rect_make(screen.x + (screen.w - w) / 2, screen.y + (screen.h - h) / 2, w, h);
	in = grid_rect_inset(r, 1);
	snprintf(title, sizeof title, "Sessions (%zu) - Enter opens, Esc closes", v->n);
	grid_fill(g, r, NULL, THEME_SLOT_TEXT, 0);
	grid_box(g, r, GRID_BOX_HEAVY, title, THEME_SLOT_BORDER_FOCUS, THEME_SLOT_TITLE, 0);
	if (v->error != NULL) {
		grid_put_trunc(g, in, 1, 0, v->error, in.w - 1, THEME_SLOT_ERROR, 0);
		return;
	}
	if (v->n == 0) {
		snprintf(line, sizeof line, "no saved sessions yet in %s: one is saved when a "
		    "generation ends", v->dir);
		grid_put_trunc(g, in, 1, 0, line, in.w - 1, THEME_SLOT_DIM, 0);
		return;
	}
	/* The settings column only when the prompt keeps room; the detail rows have them all. */
	knobs_w = in.w - 2 >= VIEW_SESSIONS_FIXED_W + VIEW_SESSIONS_KNOBS_W + 2 +
	    VIEW_SESSIONS_PROMPT_MIN ? VIEW_SESSIONS_KNOBS_W : 0;
	snprintf(line, sizeof line, "%-16s  %-14s %20s  %-9s  %-*s%s%s", "date", "model", "seed",
	    "tok/erased", knobs_w, knobs_w > 0 ? "temp top-k top-p bksp" : "",
	    knobs_w > 0 ? "  " : "", "prompt");
	grid_put_trunc(g, in, 2, 0, line, in.w - 2, THEME_SLOT_DIM, 0);
	/* The selected session's settings below the rows, when there is room for a row too. */
	detail = in.h - 1 - VIEW_SESSIONS_DETAIL_H >= 1 ? VIEW_SESSIONS_DETAIL_H : 0;
	v->page = in.h - 1 - detail > 1 ? in.h - 1 - detail : 1;
	if (v->sel < v->top)
		v->top = v->sel;
	if (v->sel >= v->top + (size_t)v->page)
		v->top = v->sel - (size_t)v->page + 1;
	for (int i = 0; i < v->page && v->top + (size_t)i < v->n; i++) {
		size_t k = v->top + (size_t)i;
		int sel = k == v->sel;

		view_sessions_row(&v->e[k], v->dir, knobs_w, line, sizeof line);
		if (sel)
			grid_fill(g, grid_rect_make(in.x, in.y + 1 + i, in.w, 1), NULL,
			    THEME_SLOT_SELECTION, 0);
		grid_put(g, in, 0, 1 + i, sel ? ">" : " ", THEME_SLOT_KEY, 0);
		grid_put_trunc(g, in, 2, 1 + i, line, in.w - 2, sel ? THEME_SLOT_SELECTION :
		    v->e[k].error != NULL ? THEME_SLOT_ERROR : THEME_SLOT_TEXT, 0);
	}
	if (detail > 0)
		view_sessions_detail(&v->e[v->sel], g, in, in.h - detail);
}
