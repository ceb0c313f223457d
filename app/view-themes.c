/*
 * view-themes.c: the theme picker overlay (see view-themes.h). It lists the
 * themes theme_list_new finds (the names `seqmatch theme list` prints), loads
 * the selected one on every move so the UI can redraw in it, and remembers
 * the theme shown when it opened so that Esc can put it back.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "grid.h"
#include "theme.h"
#include "ui.h"
#include "view-themes.h"

#define VIEW_THEMES_MAX_W 60     /* the overlay's width on a wide terminal */
#define VIEW_THEMES_ERR_LINES 3  /* most lines of a load error shown */
#define VIEW_THEMES_NAME_MAX_W 20 /* the name column, at most */

/* One theme of the list. */
struct view_themes_item {
	char *name;   /* shown */
	char *spec;   /* what to load and save: the name, or a path outside the search path */
	char *path;   /* the file */
	char *where;  /* its directory, $HOME as ~ */
};

/* The picker's state. */
struct view_themes {
	char **search;                /* the theme search path */
	struct view_themes_item *item; /* (n) */
	size_t n;
	size_t sel;                   /* the selected item */
	long current;                 /* the item shown when the picker opened, -1: none */
	struct theme orig;            /* the theme shown when it opened (Esc restores it) */
	char *error;                  /* the selected item's first load error, or NULL */
};

/* The directory of path with $HOME shown as ~ (malloc'd). */
static char *
view_themes_where(const char *path)
{
	const char *home = getenv("HOME"), *slash = strrchr(path, '/');
	size_t len = slash != NULL ? (size_t)(slash - path) : 0, hl;
	char *out;

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	hl = home != NULL ? strlen(home) : 0;
	if (hl > 1 && len >= hl && strncmp(path, home, hl) == 0 &&
	    (path[hl] == '/' || len == hl)) {
		out = xmalloc(len - hl + 2);
		out[0] = '~';
		memcpy(out + 1, path + hl, len - hl);
		out[len - hl + 1] = '\0';
		return out;
	}
	out = xmalloc(len + 1);
	memcpy(out, path, len);
	out[len] = '\0';
	return out;
}

/* Append an item (strings copied). */
static void
view_themes_add(struct view_themes *v, const char *name, const char *spec, const char *path)
{
	struct view_themes_item *it;

	v->item = xrealloc(v->item, (v->n + 1) * sizeof *v->item);
	it = &v->item[v->n++];
	it->name = xstrdup(name);
	it->spec = xstrdup(spec);
	it->path = xstrdup(path);
	it->where = view_themes_where(path);
}

/* Open the picker. */
struct view_themes *
view_themes_new(const char *current, const struct theme *shown, const char *exe_dir)
{
	struct view_themes *v = xcalloc(1, sizeof *v);
	struct theme_entry *list;
	size_t n;

	v->search = theme_search_path_new(getenv("XDG_CONFIG_HOME"), getenv("HOME"), exe_dir);
	if (v->search == NULL || theme_list_new((const char *const *)v->search, &list, &n) != 0)
		app_fatal("out of memory");
	v->orig = *shown;
	v->current = -1;
	/* A theme given as a path (--theme ./x.yaml) is listed first, as its path. */
	if (current != NULL && current[0] != '\0' && (strchr(current, '/') != NULL ||
	    (strlen(current) > 5 && strcmp(current + strlen(current) - 5, ".yaml") == 0))) {
		const char *base = strrchr(current, '/') != NULL ? strrchr(current, '/') + 1 : current;

		view_themes_add(v, base, current, current);
		v->current = 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (v->current < 0 && current != NULL && strcmp(list[i].name, current) == 0)
			v->current = (long)v->n;
		view_themes_add(v, list[i].name, list[i].name, list[i].path);
	}
	theme_list_free(list, n);
	v->sel = v->current >= 0 ? (size_t)v->current : 0;
	return v;
}

/* Free the picker. */
void
view_themes_free(struct view_themes *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->n; i++) {
		free(v->item[i].name);
		free(v->item[i].spec);
		free(v->item[i].path);
		free(v->item[i].where);
	}
	free(v->item);
	free(v->error);
	theme_search_path_free(v->search);
	free(v);
}

/* Load the selected theme into *shown (a failure keeps *shown and sets the error). */
static int
view_themes_preview(struct view_themes *v, struct theme *shown)
{
	struct theme t;
	char *cause = NULL, *nl;

	free(v->error);
	v->error = NULL;
	if (theme_load_file(&t, v->item[v->sel].path, (const char *const *)v->search,
	    &cause) != 0) {
		if (cause == NULL)
			cause = xstrdup("out of memory");
		if ((nl = strchr(cause, '\n')) != NULL)
			*nl = '\0';
		/* The row above shows the directory: a message about this file names it short. */
		if (strncmp(cause, v->item[v->sel].path, strlen(v->item[v->sel].path)) == 0 &&
		    cause[strlen(v->item[v->sel].path)] == ':' &&
		    strrchr(v->item[v->sel].path, '/') != NULL) {
			const char *base = strrchr(v->item[v->sel].path, '/') + 1;

			memmove(cause, cause + (base - v->item[v->sel].path),
			    strlen(cause) - (size_t)(base - v->item[v->sel].path) + 1);
		}
		v->error = cause;
		return VIEW_THEMES_REDRAW;
	}
	free(cause);
	*shown = t;
	return VIEW_THEMES_REDRAW | VIEW_THEMES_RECOLOUR;
}

/* Move the selection to i (clamped) and preview it. */
static int
view_themes_select(struct view_themes *v, long i, struct theme *shown)
{
	if (v->n == 0)
		return 0;
	if (i < 0)
		i = 0;
	if (i >= (long)v->n)
		i = (long)v->n - 1;
	if ((size_t)i == v->sel)
		return 0;
	v->sel = (size_t)i;
	return view_themes_preview(v, shown);
}

/* A key. */
int
view_themes_key(struct view_themes *v, int key, struct theme *shown)
{
	switch (key) {
	case UI_KEY_UP:
	case 'k':
		return view_themes_select(v, (long)v->sel - 1, shown);
	case UI_KEY_DOWN:
	case 'j':
		return view_themes_select(v, (long)v->sel + 1, shown);
	case UI_KEY_PGUP:
		return view_themes_select(v, (long)v->sel - 5, shown);
	case UI_KEY_PGDN:
		return view_themes_select(v, (long)v->sel + 5, shown);
	case UI_KEY_HOME:
	case 'g':
		return view_themes_select(v, 0, shown);
	case UI_KEY_END:
	case 'G':
		return view_themes_select(v, (long)v->n - 1, shown);
	case UI_KEY_ENTER:
		if (v->n == 0)
			return VIEW_THEMES_CLOSE | VIEW_THEMES_REDRAW;
		if (v->error != NULL)
			return VIEW_THEMES_REDRAW; /* never keep a theme that does not load */
		return VIEW_THEMES_PICKED | VIEW_THEMES_CLOSE | VIEW_THEMES_REDRAW;
	case UI_KEY_ESC:
	case 'q':
	case 'T':
	case UI_KEY_F2:
	case UI_CTRL('c'):
		*shown = v->orig;
		return VIEW_THEMES_CLOSE | VIEW_THEMES_RECOLOUR | VIEW_THEMES_REDRAW;
	}
	return 0;
}

/* The name (or path) of the selected theme. */
const char *
view_themes_pick(const struct view_themes *v)
{
	return v->n > 0 ? v->item[v->sel].spec : "";
}

/* Bytes of s that fit in w columns (one column a character), whole characters only. */
static size_t
view_themes_fit(const char *s, int w)
{
	size_t i = 0;
	int cols = 0;

	while (s[i] != '\0') {
		size_t k = 1;

		while (((unsigned char)s[i + k] & 0xc0) == 0x80)
			k++;
		if (cols + 1 > w)
			break;
		cols++;
		i += k;
	}
	return i;
}

/* Bytes of s for one line of w columns: broken after a space when one is in the second half. */
static size_t
view_themes_wrap(const char *s, int w)
{
	size_t k = view_themes_fit(s, w), half = view_themes_fit(s, w / 2);

	if (s[k] == '\0' || s[k] == ' ')
		return k;
	for (size_t i = k; i > half; i--)
		if (s[i - 1] == ' ')
			return i;
	return k;
}

/* How many lines of w columns s wraps to (at most max). */
static int
view_themes_lines(const char *s, int w, int max)
{
	int lines = 0;

	while (*s != '\0' && lines < max) {
		size_t k = view_themes_wrap(s, w);

		if (k == 0)
			break;
		s += k;
		lines++;
	}
	return lines;
}

/* Put s in w columns at (col, row) of r; a long one keeps its end, after an ellipsis. */
static void
view_themes_put_tail(struct grid *g, struct grid_rect r, int col, int row, const char *s, int w,
    int style)
{
	const char *ell = g->glyphs == GRID_GLYPHS_ASCII ? "..." : "\xe2\x80\xa6";
	int ew = g->glyphs == GRID_GLYPHS_ASCII ? 3 : 1;

	if (w <= 0)
		return;
	if (grid_text_width(s, strlen(s), g->glyphs) <= w) {
		grid_put(g, r, col, row, s, style, 0);
		return;
	}
	if (w <= ew) {
		grid_put_trunc(g, r, col, row, s, w, style, 0);
		return;
	}
	while (*s != '\0' && grid_text_width(s, strlen(s), g->glyphs) > w - ew) {
		s++;
		while (((unsigned char)*s & 0xc0) == 0x80)
			s++;
	}
	grid_put(g, r, col, row, ell, style, 0);
	grid_put(g, r, col + ew, row, s, style, 0);
}

/* Draw the overlay. */
void
view_themes_draw(const struct view_themes *v, struct grid *g)
{
	int w = g->width >= VIEW_THEMES_MAX_W + 4 ? VIEW_THEMES_MAX_W : g->width - 2;
	int inner = w - 2, err = 0, rows, h, namew = 4, top = 0, row;
	struct grid_rect r, in;

	if (w < 12 || g->height < 6)
		return;
	if (v->error != NULL)
		err = view_themes_lines(v->error, inner - 1, VIEW_THEMES_ERR_LINES);
	rows = v->n > 0 ? (int)v->n : 1;
	h = 2 + 1 + rows + err;
	if (h > g->height - 2) {
		rows -= h - (g->height - 2);
		if (rows < 1) {
			err -= 1 - rows;
			rows = 1;
		}
		if (err < 0)
			err = 0;
		h = 2 + 1 + rows + err;
	}
	r = grid_rect_make((g->width - w) / 2, (g->height - h) / 2, w, h);
	in = grid_rect_inset(r, 1);
	grid_fill(g, r, NULL, THEME_SLOT_TEXT, 0);
	grid_box(g, r, GRID_BOX_HEAVY, "Theme", THEME_SLOT_BORDER_FOCUS, THEME_SLOT_TITLE, 0);
	grid_put_trunc(g, in, 1, 0, inner >= 44 ? "Up/Down j/k preview, Enter keeps, Esc undoes"
	    : "j/k preview Enter keep Esc undo", inner - 1, THEME_SLOT_DIM, 0);
	if (v->n == 0)
		grid_put_trunc(g, in, 1, 1, "no theme files in the search path", inner - 1,
		    THEME_SLOT_WARNING, 0);
	for (size_t i = 0; i < v->n; i++) {
		int nw = grid_text_width(v->item[i].name, strlen(v->item[i].name), g->glyphs);

		if (nw > namew)
			namew = nw;
	}
	if (namew > VIEW_THEMES_NAME_MAX_W)
		namew = VIEW_THEMES_NAME_MAX_W;
	if (namew > inner - 4)
		namew = inner - 4;
	/* Keep the selection in view, in the middle of a long list. */
	if ((int)v->sel >= rows)
		top = (int)v->sel - rows / 2;
	if (top > (int)v->n - rows)
		top = (int)v->n - rows;
	if (top < 0)
		top = 0;
	for (row = 0; row < rows && top + row < (int)v->n; row++) {
		const struct view_themes_item *it = &v->item[top + row];
		int sel = (size_t)(top + row) == v->sel, style = sel ? THEME_SLOT_SELECTION
		    : THEME_SLOT_TEXT, wherew = inner - (namew + 5);
		struct grid_rect line = grid_rect_make(in.x, in.y + 1 + row, in.w, 1);

		if (sel)
			grid_fill(g, line, NULL, THEME_SLOT_SELECTION, 0);
		/* Marks as well as colours: > the selection, * the theme shown at the start. */
		if (sel)
			grid_put(g, line, 0, 0, ">", style, GRID_ATTR_BOLD);
		if (top + row == v->current)
			grid_put(g, line, 1, 0, "*", sel ? style : THEME_SLOT_KEY, 0);
		grid_put_trunc(g, line, 3, 0, it->name, namew, style, sel ? GRID_ATTR_BOLD : 0);
		if (wherew >= 8)
			view_themes_put_tail(g, line, namew + 5, 0, it->where, wherew - 1,
			    sel ? style : THEME_SLOT_DIM);
	}
	if (err > 0) {
		const char *s = v->error;

		for (int k = 0; k < err && *s != '\0'; k++) {
			size_t n = view_themes_wrap(s, inner - 1);

			if (n == 0)
				break;
			grid_putn(g, in, 1, 1 + rows + k, s, n, THEME_SLOT_ERROR, 0);
			s += n;
		}
	}
}
