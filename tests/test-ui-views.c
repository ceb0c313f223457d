/*
 * test-ui-views.c: the stats and inspector panes, drawn (without curses) into a
 * 40x12 grid from a hand-made event log and a hand-made live MAUVE state,
 * checked for their numbers; the stats pane's divergence curve, drawn from
 * known curves and checked for where its dots land; and the live MAUVE worker
 * (ui-mauve.c) on a tiny random model, checked for publishing the curve; the
 * text pane's marks of rewritten text, its erase pauses and auto-pause, and
 * compare mode's lockstep playback, driven by keys and ticks.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "generate.h"
#include "gpt.h"
#include "grid.h"
#include "record.h"
#include "tap.h"
#include "theme.h"
#include "tokenizer.h"
#include "ui.h"

/* Draw a pane into a fresh 40x12 ASCII grid and return the dump (malloc'd). */
static char *
draw_pane(const struct ui_pane *pane, struct ui *ui)
{
	struct grid g;
	void *state;
	char *s;

	if (grid_init(&g, 40, 12, GRID_GLYPHS_ASCII) != 0)
		abort();
	state = pane->init(ui);
	pane->draw(state, ui, &g, grid_rect_make(0, 0, 40, 12), 0);
	pane->free(state);
	s = grid_dump(&g);
	grid_release(&g);
	if (s == NULL)
		abort();
	return s;
}

/* Draw a pane into g (w x h, glyphs; the caller releases it); returns the dump (malloc'd). */
static char *
draw_into(struct grid *g, const struct ui_pane *pane, struct ui *ui, int w, int h,
    enum grid_glyphs glyphs)
{
	void *state;
	char *s;

	if (grid_init(g, w, h, glyphs) != 0)
		abort();
	state = pane->init(ui);
	pane->draw(state, ui, g, grid_rect_make(0, 0, w, h), 0);
	pane->free(state);
	if ((s = grid_dump(g)) == NULL)
		abort();
	return s;
}

/* Check that the dump holds want. */
static void
expect_has(const char *dump, const char *want, const char *what)
{
	if (!tap_ok(strstr(dump, want) != NULL, "%s: \"%s\"", what, want))
		tap_diag("got:\n%s", dump);
}

/* Check that the dump does not hold bad. */
static void
expect_lacks(const char *dump, const char *bad, const char *what)
{
	if (!tap_ok(strstr(dump, bad) == NULL, "%s: no \"%s\"", what, bad))
		tap_diag("got:\n%s", dump);
}

/* Add an event to the log. */
static void
add(struct ui_log *log, enum generate_event_type type, int token, int slot, float prob)
{
	struct generate_event *ev = &log->ev[log->n++];

	memset(ev, 0, sizeof *ev);
	ev->type = type;
	ev->token = token;
	ev->slot = slot;
	ev->prob = prob;
}

/* Whether cell (x, y) of g shows text. */
static int
cell_is(const struct grid *g, int x, int y, const char *text)
{
	const struct grid_cell *c = grid_cell_at(g, x, y);

	return c != NULL && c->len == strlen(text) && memcmp(c->text, text, c->len) == 0;
}

/* Whether cell (x, y) of g is blank (a space). */
static int
cell_blank(const struct grid *g, int x, int y)
{
	return cell_is(g, x, y, " ");
}

/* Whether cell (x, y) of g holds a plot dot of the mode (braille, or ASCII dots). */
static int
cell_dot(const struct grid *g, int x, int y, int braille)
{
	const struct grid_cell *c = grid_cell_at(g, x, y);
	const unsigned char *t = c != NULL ? (const unsigned char *)c->text : NULL;

	if (t == NULL || c->len == 0 || cell_blank(g, x, y))
		return 0;
	if (braille) /* U+2801..U+28FF: E2 A0..A3 xx, not the empty pattern */
		return c->len == 3 && t[0] == 0xe2 && t[1] >= 0xa0 && t[1] <= 0xa3 &&
		    !(t[1] == 0xa0 && t[2] == 0x80);
	return c->len == 1 && t[0] < 0x80;
}

/* The plot's area, found from its axes: the corner is a "0" then the corner glyph. */
struct plot_box {
	int x, y, w, h; /* the dot cells: columns x..x+w-1, rows y..y+h-1 */
};

/* Find the plot's axes in g; returns 0 when there are none. */
static int
find_plot(const struct grid *g, struct plot_box *b)
{
	int ascii = g->glyphs == GRID_GLYPHS_ASCII;
	const char *corner = ascii ? "+" : "\xe2\x94\x94", *side = ascii ? "|" : "\xe2\x94\x82";
	const char *tick = ascii ? "|" : "\xe2\x94\xa4", *hline = ascii ? "-" : "\xe2\x94\x80";

	for (int y = 1; y < g->height; y++) {
		for (int x = 1; x < g->width; x++) {
			int top = y - 1, right = x + 1;

			if (!cell_is(g, x, y, corner) || !cell_is(g, x - 1, y, "0"))
				continue;
			while (top > 0 && cell_is(g, x, top, side) && !cell_is(g, x - 1, top, "1"))
				top--;
			if (!cell_is(g, x, top, tick) || !cell_is(g, x - 1, top, "1"))
				return 0;
			while (right < g->width && cell_is(g, right, y, hline))
				right++;
			b->x = x + 1;
			b->y = top;
			b->w = right - b->x;
			b->h = y - top;
			return b->w > 0 && b->h > 0;
		}
	}
	return 0;
}

/* Whether every byte of s is ASCII. */
static int
all_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/* A quarter circle from (1, 0) to (0, 1): a close model (its bulge is top right). */
static void
curve_close(struct ui_mauve_info *m)
{
	m->curve_len = 33;
	for (int i = 0; i < m->curve_len; i++) {
		double t = (M_PI / 2) * i / (m->curve_len - 1);

		m->curve_x[i] = cos(t);
		m->curve_y[i] = sin(t);
	}
}

/* The frontier of disjoint supports with c = 5, x = (1-w)^5, y = w^5: hugs the axes. */
static void
curve_disjoint(struct ui_mauve_info *m)
{
	m->curve_len = 27;
	m->curve_x[0] = 1;
	m->curve_y[0] = 0;
	for (int i = 1; i < 26; i++) {
		double w = 1e-6 + (1 - 2e-6) * (i - 1) / 24.0;

		m->curve_x[i] = pow(1 - w, 5);
		m->curve_y[i] = pow(w, 5);
	}
	m->curve_x[26] = 0;
	m->curve_y[26] = 1;
}

/* The stats pane's divergence curve: where its dots land, its labels, its absence (run: a log). */
static void
test_curve(const struct tokenizer *tok, const struct ui *run)
{
	struct ui ui, ui2;
	struct grid g;
	struct plot_box b;
	char *d;

	memset(&ui, 0, sizeof ui);
	ui.tok = tok;
	ui.model_name = "model.bin";
	ui.mauve.state = UI_MAUVE_READY;
	ui.mauve.max_tokens = 48;
	ui.mauve.k = 5;
	ui.mauve.n = 50;
	ui.mauve.mauve = 0.7854;
	snprintf(ui.mauve.ref, sizeof ui.mauve.ref, "heldout.txt");
	curve_close(&ui.mauve);

	for (int braille = 1; braille >= 0; braille--) {
		const char *mode = braille ? "braille" : "ascii";

		ui.glyphs = braille ? GRID_GLYPHS_UTF8 : GRID_GLYPHS_ASCII;
		ui.plot = braille ? GRID_PLOT_BRAILLE : GRID_PLOT_ASCII;
		d = draw_into(&g, &view_stats_pane, &ui, 40, 24, ui.glyphs);
		expect_has(d, "divergence curve (live, n=50)", mode);
		expect_has(d, "area (MAUVE) 0.785", mode);
		expect_has(d, "x=exp(-c KL(Q|R))", mode);
		expect_has(d, "y=exp(-c KL(P|R))", mode);
		if (!braille)
			tap_ok(all_ascii(d), "ascii: only ASCII bytes");
		if (!tap_ok(find_plot(&g, &b) && b.w >= 16 && b.h >= 4, "%s: axes found", mode)) {
			tap_diag("got:\n%s", d);
		} else {
			/* (0, 1) top left and (1, 0) bottom right are on it; (0, 0) and (1, 1) not. */
			tap_ok(cell_dot(&g, b.x, b.y, braille), "%s: dot at (0, 1)", mode);
			tap_ok(cell_dot(&g, b.x + b.w - 1, b.y + b.h - 1, braille),
			    "%s: dot at (1, 0)", mode);
			tap_ok(cell_blank(&g, b.x, b.y + b.h - 1), "%s: none at (0, 0)", mode);
			tap_ok(cell_blank(&g, b.x + b.w - 1, b.y), "%s: none at (1, 1)", mode);
			tap_ok(cell_dot(&g, b.x + b.w * 7 / 10, b.y + b.h * 3 / 10, braille) ||
			    cell_dot(&g, b.x + b.w * 7 / 10, b.y + b.h * 3 / 10 - 1, braille) ||
			    cell_dot(&g, b.x + b.w * 7 / 10, b.y + b.h * 3 / 10 + 1, braille),
			    "%s: the bulge near (0.7, 0.7)", mode);
		}
		free(d);
		grid_release(&g);
	}

	/* A far model: the curve hugs the axes, so (0, 0) is on it and the middle is empty. */
	curve_disjoint(&ui.mauve);
	ui.mauve.mauve = 0.004;
	d = draw_into(&g, &view_stats_pane, &ui, 40, 24, ui.glyphs);
	if (tap_ok(find_plot(&g, &b), "disjoint: axes found")) {
		tap_ok(cell_dot(&g, b.x, b.y + b.h - 1, 0), "disjoint: dot at (0, 0)");
		tap_ok(cell_blank(&g, b.x + b.w / 2, b.y + b.h / 2), "disjoint: none mid-plot");
		tap_ok(cell_blank(&g, b.x + b.w - 1, b.y), "disjoint: none at (1, 1)");
	} else
		tap_diag("got:\n%s", d);
	expect_has(d, "area (MAUVE) 0.004", "disjoint");
	free(d);
	grid_release(&g);

	/* Not symmetric in x and y: (1, 0), (1, 0.6), (0, 1); x is across, y is up. */
	ui.mauve.curve_len = 3;
	ui.mauve.curve_x[0] = 1;
	ui.mauve.curve_y[0] = 0;
	ui.mauve.curve_x[1] = 1;
	ui.mauve.curve_y[1] = 0.6;
	ui.mauve.curve_x[2] = 0;
	ui.mauve.curve_y[2] = 1;
	d = draw_into(&g, &view_stats_pane, &ui, 40, 24, ui.glyphs);
	if (tap_ok(find_plot(&g, &b), "lopsided: axes found")) {
		tap_ok(cell_dot(&g, b.x + b.w - 1, b.y + b.h / 2, 0), "lopsided: dot at (1, 0.5)");
		tap_ok(cell_blank(&g, b.x + b.w / 2, b.y), "lopsided: none at (0.5, 1)");
	} else
		tap_diag("got:\n%s", d);
	free(d);
	grid_release(&g);

	/* No curve yet: one line says why, no axes. */
	ui.mauve.curve_len = 0;
	ui.mauve.n = 0;
	d = draw_into(&g, &view_stats_pane, &ui, 40, 24, ui.glyphs);
	expect_has(d, "curve: waiting for samples", "no curve");
	tap_ok(!find_plot(&g, &b), "no curve: no axes");
	free(d);
	grid_release(&g);
	ui.mauve.state = UI_MAUVE_FITTING;
	d = draw_into(&g, &view_stats_pane, &ui, 40, 24, ui.glyphs);
	expect_has(d, "curve: after the reference is fitted", "fitting");
	tap_ok(!find_plot(&g, &b), "fitting: no axes");
	free(d);
	grid_release(&g);

	/* The narrowest plot (18 columns inside the box) still names both axes. */
	ui.mauve.state = UI_MAUVE_READY;
	ui.mauve.n = 50;
	ui.mauve.mauve = 0.7854;
	curve_close(&ui.mauve);
	d = draw_into(&g, &view_stats_pane, &ui, 20, 40, ui.glyphs);
	if (!tap_ok(find_plot(&g, &b) && b.w == 16, "20 wide: a 16-column plot"))
		tap_diag("got:\n%s", d);
	expect_has(d, "curve (live, n=50)", "20 wide");
	expect_has(d, "x=e^-cKL(Q|R)", "20 wide");
	expect_has(d, "y=exp(-c KL(P|R))", "20 wide");
	expect_has(d, "area (MAUVE) 0.785", "20 wide");
	free(d);
	grid_release(&g);

	/* Too little room: 40x12 keeps the score line and says the plot needs more. */
	ui.mauve.state = UI_MAUVE_READY;
	ui.mauve.n = 50;
	ui.mauve.mauve = 0.7854;
	curve_close(&ui.mauve);
	d = draw_into(&g, &view_stats_pane, &ui, 40, 12, ui.glyphs);
	tap_ok(!find_plot(&g, &b), "40x12: no axes");
	expect_has(d, "MAUVE (live) 0.785", "40x12");
	expect_has(d, "curve: needs a larger pane", "40x12");
	free(d);
	grid_release(&g);

	/* With a run's numbers: a 20-row pane has no room for the plot, a 30-row one has. */
	ui2 = *run;
	ui2.mauve = ui.mauve;
	ui2.glyphs = ui.glyphs;
	ui2.plot = ui.plot;
	for (int h = 20; h <= 30; h += 10) {
		d = draw_into(&g, &view_stats_pane, &ui2, 40, h, ui2.glyphs);
		expect_has(d, "tokens typed (gross) 7, kept (net) 4", h == 20 ? "40x20" : "40x30");
		expect_has(d, "MAUVE (live) 0.785", h == 20 ? "40x20" : "40x30");
		if (!tap_ok(find_plot(&g, &b) == (h == 30), "40x%d: %s", h,
		    h == 30 ? "a plot" : "no plot"))
			tap_diag("got:\n%s", d);
		free(d);
		grid_release(&g);
	}
}

/* ---- the text pane: marks, erase pauses, auto-pause, compare lockstep ---- */

/* Send keys (0 ends) to a text pane. */
static void
text_keys(void *p, struct ui *ui, const int *keys)
{
	for (; *keys != 0; keys++)
		view_text_pane.key(p, ui, *keys);
}

/* Tick a text pane every millisecond from ui->now to `until`. */
static void
text_ticks(void *p, struct ui *ui, double until)
{
	while (ui->now < until) {
		double wait = -1;

		ui->now += 0.001;
		view_text_pane.tick(p, ui, &wait);
	}
}

/* Draw a text pane into g (w x h, glyphs; the caller releases it); returns the dump. */
static char *
text_draw(void *p, struct ui *ui, struct grid *g, int w, int h, enum grid_glyphs glyphs)
{
	char *s;

	ui->glyphs = glyphs;
	if (grid_init(g, w, h, glyphs) != 0)
		abort();
	view_text_pane.draw(p, ui, g, grid_rect_make(0, 0, w, h), 1);
	if ((s = grid_dump(g)) == NULL)
		abort();
	return s;
}

/* The cell (x, y) of the first cell in g showing text, or 0 if none. */
static int
find_cell(const struct grid *g, const char *text, int *x, int *y)
{
	for (*y = 0; *y < g->height; (*y)++)
		for (*x = 0; *x < g->width; (*x)++)
			if (cell_is(g, *x, *y, text))
				return 1;
	return 0;
}

/*
 * Marks in the clean view. Prompt "ab"; +x +y -y +z (a correction, y to z)
 * +w -w +w (an identical retype) +k: the clean text is "abx" "y" struck, "z"
 * marked, "w" marked with a count 2, "k"; the trail text has both ghosts
 * struck where they were. m and M select the marks (their <bksp>, events 3
 * and 6, 1-based), and so does a click on the struck text.
 */
static void
test_text_marks(const struct tokenizer *tok)
{
	static const int esc_end[] = {UI_KEY_ESC, UI_KEY_END, 0}, v[] = {'v', 0};
	struct generate_event evs[16];
	struct ui ui;
	struct grid g;
	void *p;
	char *d, desc[64];
	int x = 0, y = 0;

	memset(&ui, 0, sizeof ui);
	ui.tok = tok;
	ui.model_bksp = 1;
	ui.have_run = 1;
	ui.now = 10;
	ui.log.prompt = "ab";
	ui.log.n_prompt = 2;
	ui.log.ev = evs;
	ui.log.serial = 1;
	ui.log.inspect = -1;
	ui.log.done = 1;
	add(&ui.log, GENERATE_EVENT_APPEND, 'x', 2, 0.5f);
	add(&ui.log, GENERATE_EVENT_APPEND, 'y', 3, 0.5f);
	add(&ui.log, GENERATE_EVENT_ERASE, 'y', 3, 0.25f);
	add(&ui.log, GENERATE_EVENT_APPEND, 'z', 3, 0.5f);
	add(&ui.log, GENERATE_EVENT_APPEND, 'w', 4, 0.5f);
	add(&ui.log, GENERATE_EVENT_ERASE, 'w', 4, 0.25f);
	add(&ui.log, GENERATE_EVENT_APPEND, 'w', 4, 0.5f);
	add(&ui.log, GENERATE_EVENT_APPEND, 'k', 5, 0.5f);

	p = view_text_pane.init(&ui);
	text_keys(p, &ui, esc_end);
	d = text_draw(p, &ui, &g, 40, 12, GRID_GLYPHS_ASCII);
	expect_has(d, "|abx~y~zw^2k ", "marks, clean, ASCII");
	free(d);
	grid_release(&g);
	d = text_draw(p, &ui, &g, 40, 12, GRID_GLYPHS_UTF8);
	expect_has(d, "abxy\xcc\xb6zw\xc3\x97" "2k ", "marks, clean, UTF-8 (y struck, x2)");
	if (tap_ok(find_cell(&g, "y\xcc\xb6", &x, &y), "marks: y and its stroke share a cell")) {
		tap_ok(grid_cell_at(&g, x, y)->style == THEME_SLOT_GHOST &&
		    grid_cell_at(&g, x + 1, y)->style == THEME_SLOT_MARK &&
		    grid_cell_at(&g, x + 2, y)->style == THEME_SLOT_MARK &&
		    grid_cell_at(&g, x + 3, y)->style == THEME_SLOT_MARK &&
		    grid_cell_at(&g, x + 5, y)->style == THEME_SLOT_GENERATED,
		    "marks: struck y a ghost; z, w and its count marked; k plain");
		/* A click on the struck y selects the <bksp> that erased it. */
		view_text_pane.click(p, &ui, grid_rect_make(0, 0, 40, 12), x, y, 1);
		tap_ok(ui.log.inspect == 2, "marks: a click on struck text selects its <bksp> "
		    "(event %ld)", ui.log.inspect + 1);
	}
	free(d);
	grid_release(&g);

	ui.log.inspect = -1;
	view_text_pane.key(p, &ui, 'm');
	tap_ok(ui.log.inspect == 2, "m: the first mark's <bksp> (event %ld)", ui.log.inspect + 1);
	view_text_pane.key(p, &ui, 'm');
	tap_ok(ui.log.inspect == 5, "m again: the second mark's (event %ld)", ui.log.inspect + 1);
	view_text_pane.key(p, &ui, 'M');
	tap_ok(ui.log.inspect == 2, "M: back to the first (event %ld)", ui.log.inspect + 1);
	ui.log.shown = 8;
	d = draw_pane(&view_inspector_pane, &ui);
	expect_has(d, "Inspector - selected 3/8", "m: the inspector on the mark");
	expect_has(d, "erased 'y'", "m: the inspector on the mark");
	free(d);

	text_keys(p, &ui, v);
	d = text_draw(p, &ui, &g, 40, 12, GRID_GLYPHS_ASCII);
	expect_has(d, "|abx~y~z~w~wk ", "trail: ghosts struck where they were, ASCII");
	free(d);
	grid_release(&g);
	d = text_draw(p, &ui, &g, 40, 12, GRID_GLYPHS_UTF8);
	expect_has(d, "abxy\xcc\xb6zw\xcc\xb6wk ", "trail: ghosts struck, UTF-8");
	free(d);
	grid_release(&g);
	/* m works in every view and leaves it as it is. */
	ui.log.inspect = -1;
	view_text_pane.key(p, &ui, 'm');
	view_text_describe(p, desc, sizeof desc);
	tap_ok(ui.log.inspect == 2 && strncmp(desc, "trail", 5) == 0,
	    "m in the trail view: the first mark, still the trail view (%ld, %s)",
	    ui.log.inspect + 1, desc);
	view_text_pane.free(p);

	/* A mark scrolled off the top: m brings it back on screen, selected. */
	{
		struct generate_event many[64];
		struct ui u2 = ui;
		void *p2;

		u2.log.ev = many;
		u2.log.n = 0;
		u2.log.inspect = -1;
		add(&u2.log, GENERATE_EVENT_APPEND, 'x', 2, 0.5f);
		add(&u2.log, GENERATE_EVENT_APPEND, 'y', 3, 0.5f);
		add(&u2.log, GENERATE_EVENT_ERASE, 'y', 3, 0.25f);
		add(&u2.log, GENERATE_EVENT_APPEND, 'z', 3, 0.5f);
		for (int i = 0; i < 40; i++)
			add(&u2.log, GENERATE_EVENT_APPEND, i % 2 ? '\n' : 'k', 4 + i, 0.5f);
		p2 = view_text_pane.init(&u2);
		text_keys(p2, &u2, esc_end);
		d = text_draw(p2, &u2, &g, 40, 12, GRID_GLYPHS_ASCII);
		expect_lacks(d, "~y~", "a long text: the mark is scrolled off");
		free(d);
		grid_release(&g);
		view_text_pane.key(p2, &u2, 'm');
		d = text_draw(p2, &u2, &g, 40, 12, GRID_GLYPHS_ASCII);
		expect_has(d, "~y~z", "m: the text scrolls to the mark");
		tap_ok(u2.log.inspect == 2 && find_cell(&g, "y", &x, &y) &&
		    grid_cell_at(&g, x, y)->style == THEME_SLOT_SELECTION,
		    "m: the mark drawn selected");
		free(d);
		grid_release(&g);
		view_text_pane.free(p2);
	}

	/* An erase run at the end: the just-erased token flashes, the run struck before. */
	ui.log.n = 2;
	add(&ui.log, GENERATE_EVENT_APPEND, 'q', 4, 0.5f);
	add(&ui.log, GENERATE_EVENT_ERASE, 'q', 4, 0.25f);
	add(&ui.log, GENERATE_EVENT_ERASE, 'y', 3, 0.25f);
	ui.log.inspect = -1;
	p = view_text_pane.init(&ui);
	text_keys(p, &ui, esc_end);
	d = text_draw(p, &ui, &g, 40, 12, GRID_GLYPHS_ASCII);
	expect_has(d, "|abxy~q~ ", "an erase run at the end: y flagged, q struck");
	free(d);
	grid_release(&g);
	view_text_pane.free(p);
}

/* A log of 10 events with erases at 3, 6 and 7 (1-based), the erases' top actions set. */
static void
text_log(struct ui *ui, struct generate_event *evs)
{
	ui->log.prompt = "ab";
	ui->log.n_prompt = 2;
	ui->log.ev = evs;
	ui->log.n = 0;
	ui->log.serial = 1;
	ui->log.inspect = -1;
	ui->log.done = 1;
	add(&ui->log, GENERATE_EVENT_APPEND, 'c', 2, 0.5f);
	add(&ui->log, GENERATE_EVENT_APPEND, 'd', 3, 0.5f);
	add(&ui->log, GENERATE_EVENT_ERASE, 'd', 3, 0.25f);
	add(&ui->log, GENERATE_EVENT_APPEND, 'd', 3, 0.5f);
	add(&ui->log, GENERATE_EVENT_APPEND, 'e', 4, 0.5f);
	add(&ui->log, GENERATE_EVENT_ERASE, 'e', 4, 0.25f);
	add(&ui->log, GENERATE_EVENT_ERASE, 'd', 3, 0.25f);
	add(&ui->log, GENERATE_EVENT_APPEND, 'x', 3, 0.5f);
	add(&ui->log, GENERATE_EVENT_APPEND, '\n', 4, 0.5f);
	add(&ui->log, GENERATE_EVENT_APPEND, 'c', 5, 0.625f);
	for (int i = 0; i < 10; i++) {
		struct generate_event *ev = &evs[i];

		if (ev->type != GENERATE_EVENT_ERASE)
			continue;
		ev->p_bksp = 0.4f;
		ev->n_top = 2;
		ev->top[0].id = tokenizer_bksp(ui->tok);
		ev->top[0].prob = 0.4f;
		ev->top[1].id = 'x';
		ev->top[1].prob = 0.35f;
	}
}

/*
 * Erase pauses scale with the speed: at 1000 events a second the 10 events and
 * their 3 erases play in well under 0.2 s (a fixed 0.35 s pause each took over
 * a second). Auto-pause (a) stops at each erase and says P(<bksp>) against the
 * best token; Space goes on to the next one.
 */
static void
test_text_pauses(const struct tokenizer *tok)
{
	static const int fast[] = {UI_KEY_ESC, ']', ']', ']', ']', 'r', 0};
	static const int autop[] = {'a', 'r', 0};
	struct generate_event evs[16];
	struct ui ui;
	struct grid g;
	char desc[64], *d;
	void *p;

	memset(&ui, 0, sizeof ui);
	ui.tok = tok;
	ui.model_bksp = 1;
	ui.have_run = 1;
	ui.now = 100;
	text_log(&ui, evs);
	p = view_text_pane.init(&ui);
	text_keys(p, &ui, fast);
	view_text_describe(p, desc, sizeof desc);
	tap_ok(strncmp(desc, "clean 1000/s", 12) == 0, "speed 1000/s (%s)", desc);
	text_ticks(p, &ui, 100.2);
	tap_ok(ui.log.shown == 10, "at 1000/s 10 events with 3 erases play in 0.2 s (%zu shown)",
	    ui.log.shown);

	text_keys(p, &ui, autop);
	view_text_describe(p, desc, sizeof desc);
	tap_ok(strstr(desc, "auto-pause") != NULL, "a: the status says auto-pause (%s)", desc);
	text_ticks(p, &ui, 100.4);
	view_text_describe(p, desc, sizeof desc);
	tap_ok(ui.log.shown == 3 && strstr(desc, "paused") != NULL,
	    "auto-pause: stopped at the first erase (%zu shown, %s)", ui.log.shown, desc);
	d = text_draw(p, &ui, &g, 60, 12, GRID_GLYPHS_ASCII);
	expect_has(d, "<bksp> here: P(<bksp>) 0.400 vs best token 'x' 0.350",
	    "auto-pause: P(<bksp>) against the best token, labelled");
	free(d);
	grid_release(&g);
	view_text_pane.key(p, &ui, ' ');
	text_ticks(p, &ui, 100.6);
	tap_ok(ui.log.shown == 6, "Space: on to the next erase (%zu shown)", ui.log.shown);
	view_text_pane.key(p, &ui, ' ');
	text_ticks(p, &ui, 100.8);
	view_text_pane.key(p, &ui, ' ');
	text_ticks(p, &ui, 101.0);
	tap_ok(ui.log.shown == 10, "... and to the end (%zu shown)", ui.log.shown);
	d = text_draw(p, &ui, &g, 60, 12, GRID_GLYPHS_ASCII);
	expect_lacks(d, "<bksp> here", "not on an erase: no P(<bksp>) row");
	free(d);
	grid_release(&g);
	view_text_pane.free(p);
}

/*
 * Compare mode: B's pane follows A's clock. A's log (10 events) and B's (4
 * appends, an erase, 2 appends): B's keys drive both; both show the same
 * step while both logs last; an erase in B's log pauses A too.
 */
static void
test_text_lockstep(const struct tokenizer *tok)
{
	static const int esc[] = {UI_KEY_ESC, 0};
	struct generate_event ea[16], eb[16];
	struct ui ua, ub;
	void *pa, *pb;
	char desc[64];
	int same = 1;

	memset(&ua, 0, sizeof ua);
	memset(&ub, 0, sizeof ub);
	ua.tok = ub.tok = tok;
	ua.have_run = ub.have_run = 1;
	ub.side = 1;
	ua.now = ub.now = 200;
	text_log(&ua, ea);
	ub.log.prompt = "ab";
	ub.log.ev = eb;
	ub.log.serial = 1;
	ub.log.inspect = -1;
	ub.log.done = 1;
	add(&ub.log, GENERATE_EVENT_APPEND, 'p', 2, 0.5f);
	add(&ub.log, GENERATE_EVENT_APPEND, 'q', 3, 0.5f);
	add(&ub.log, GENERATE_EVENT_APPEND, 'r', 4, 0.5f);
	add(&ub.log, GENERATE_EVENT_APPEND, 's', 5, 0.5f);
	add(&ub.log, GENERATE_EVENT_ERASE, 's', 5, 0.5f);
	add(&ub.log, GENERATE_EVENT_APPEND, 't', 5, 0.5f);
	add(&ub.log, GENERATE_EVENT_APPEND, 'u', 6, 0.5f);
	pa = view_text_pane.init(&ua);
	pb = view_text_pane.init(&ub);
	view_text_lock(pa, &ua, pb, &ub);
	text_keys(pa, &ua, esc);
	view_text_pane.key(pb, &ub, 'a'); /* B's keys drive A's clock */
	view_text_pane.key(pb, &ub, 'r');
	view_text_describe(pa, desc, sizeof desc);
	tap_ok(strstr(desc, "auto-pause") != NULL, "lockstep: a on B sets A's auto-pause (%s)",
	    desc);
	/* Auto-pause stops both at step 3 (A's erase), then at 5 (B's erase). */
	for (int stop = 0; stop < 2; stop++) {
		while (ua.now < 200.5 + stop) {
			double wait = -1;

			ua.now += 0.001;
			ub.now = ua.now;
			view_text_pane.tick(pa, &ua, &wait);
			view_text_pane.tick(pb, &ub, &wait);
			if (ua.log.shown != ub.log.shown)
				same = 0;
		}
		tap_ok(ua.log.shown == (stop == 0 ? 3u : 5u) && ub.log.shown == ua.log.shown,
		    "lockstep: both stop at step %d (A %zu, B %zu)", stop == 0 ? 3 : 5,
		    ua.log.shown, ub.log.shown);
		view_text_pane.key(pb, &ub, ' ');
	}
	tap_ok(same, "lockstep: both sides show the same step at every tick");
	view_text_pane.key(pb, &ub, UI_KEY_END);
	ub.now = ua.now += 0.001;
	{
		double wait = -1;

		view_text_pane.tick(pa, &ua, &wait);
		view_text_pane.tick(pb, &ub, &wait);
	}
	tap_ok(ua.log.shown == 10 && ub.log.shown == 7, "lockstep: End on B ends both (A %zu, "
	    "B %zu)", ua.log.shown, ub.log.shown);
	view_text_pane.key(pb, &ub, UI_KEY_HOME);
	{
		double wait = -1;

		view_text_pane.tick(pa, &ua, &wait);
		view_text_pane.tick(pb, &ub, &wait);
	}
	tap_ok(ua.log.shown == 0 && ub.log.shown == 0, "lockstep: Home on B rewinds both");
	view_text_pane.key(pb, &ub, 'n');
	{
		double wait = -1;

		view_text_pane.tick(pa, &ua, &wait);
		view_text_pane.tick(pb, &ub, &wait);
	}
	tap_ok(ua.log.shown == 3 && ub.log.shown == 3, "lockstep: n jumps both to the next "
	    "<bksp> of either (A %zu, B %zu)", ua.log.shown, ub.log.shown);
	view_text_pane.free(pb);
	view_text_pane.free(pa);
}

/* Wait for the worker to publish a change and copy its state into info. */
static void
mauve_wait(struct ui_mauve *mv, int fd, struct ui_mauve_info *info)
{
	char buf[64];

	while (!ui_mauve_get(mv, info)) {
		if (read(fd, buf, sizeof buf) < 0 && errno != EINTR)
			abort();
	}
}

/* The area under the curve as docs/mauve.md step 8 defines it (x sorted, then y), for points in order. */
static double
curve_area(const double *x, const double *y, int n)
{
	double a = 0, b = 0;

	/* The worker's curve runs from (1, 0) to (0, 1): x falls and y rises along it. */
	for (int i = 1; i < n; i++) {
		a += (x[i - 1] - x[i]) * (y[i - 1] + y[i]) / 2;
		b += (y[i] - y[i - 1]) * (x[i - 1] + x[i]) / 2;
	}
	return (a + b) / 2;
}

/*
 * The live worker on a tiny random model and a 30-text reference: no curve
 * while it waits for samples; after one sample, the m + 2 = 27 points from
 * (1, 0) to (0, 1) whose area is the published MAUVE.
 */
static void
test_worker(const struct tokenizer *tok)
{
	struct gpt_config cfg = {64, tokenizer_vocab_size(tok), 264, 1, 2, 16};
	struct gpt_model *m;
	struct ui_mauve *mv;
	struct ui_mauve_info info;
	struct record rec;
	char dir[] = "/tmp/seqmatch-ui-views-XXXXXX", path[64], *cause = NULL;
	FILE *f;
	int fds[2], ok = 1;

	if ((m = gpt_new(&cfg, &cause)) == NULL || mkdtemp(dir) == NULL || pipe(fds) != 0) {
		tap_ok(0, "worker setup: %s", cause != NULL ? cause : strerror(errno));
		free(cause);
		gpt_free(m);
		return;
	}
	gpt_init_random(m, 7);
	snprintf(path, sizeof path, "%s/corpus.txt", dir);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	for (int i = 0; i < 30; i++)
		fprintf(f, "the %s sat on the %s number %d\n\n", i % 3 ? "cat" : "dog",
		    i % 2 ? "mat" : "log", i);
	fclose(f);
	record_init(&rec);
	record_set(&rec, "corpus", "%s", path);

	mv = ui_mauve_start(m, tok, &rec, fds[1]);
	do
		mauve_wait(mv, fds[0], &info);
	while (info.state == UI_MAUVE_FITTING);
	if (!tap_ok(info.state == UI_MAUVE_READY, "worker: fitted (%s)", info.error))
		ok = 0;
	tap_ok(info.curve_len == 0 && info.n == 0, "worker: no curve before a sample");
	if (ok) {
		static const int ids[] = {'t', 'h', 'e', ' ', 'c', 'a', 't'};

		ui_mauve_add(mv, ids, 7);
		do
			mauve_wait(mv, fds[0], &info);
		while (info.n < 1 && info.state == UI_MAUVE_READY);
		tap_ok(info.n == 1, "worker: one sample counted");
		if (tap_ok(info.curve_len == 27, "worker: curve of 27 points (got %d)",
		    info.curve_len)) {
			tap_ok(info.curve_x[0] == 1 && info.curve_y[0] == 0 &&
			    info.curve_x[26] == 0 && info.curve_y[26] == 1,
			    "worker: curve from (1, 0) to (0, 1)");
			tap_ok(fabs(curve_area(info.curve_x, info.curve_y, 27) - info.mauve) < 1e-9,
			    "worker: the curve's area %.6f is the published MAUVE %.6f",
			    curve_area(info.curve_x, info.curve_y, 27), info.mauve);
		}
	}
	ui_mauve_free(mv);
	record_release(&rec);
	gpt_free(m);
	close(fds[0]);
	close(fds[1]);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	static const char text[] = "the cat sat on the mat\nthe dog sat on the log\n";
	struct generate_event evs[16];
	struct tokenizer *tok = NULL;
	struct ui ui;
	struct generate_event *last;
	char *cause = NULL, *d;

	/* 257: bytes and <|endoftext|> only, so ids are the bytes. */
	if (tokenizer_train((const uint8_t *)text, strlen(text), 257, &tok, &cause) != 0) {
		tap_ok(0, "tokenizer: %s", cause);
		return tap_done();
	}
	memset(&ui, 0, sizeof ui);
	ui.tok = tok;
	ui.model_bksp = 1;
	ui.glyphs = GRID_GLYPHS_ASCII;

	/* Before any run. */
	d = draw_pane(&view_stats_pane, &ui);
	expect_has(d, "no generation yet", "stats, no run");
	expect_has(d, "MAUVE (live): starting...", "stats, no run");
	free(d);

	/* The live MAUVE worker fitting, and one that cannot run. */
	ui.model_name = "model.bin";
	ui.mauve.state = UI_MAUVE_FITTING;
	ui.mauve.n_ref = 200;
	ui.mauve.max_tokens = 48;
	snprintf(ui.mauve.ref, sizeof ui.mauve.ref, "heldout.txt");
	d = draw_pane(&view_stats_pane, &ui);
	expect_has(d, "MAUVE (live): fitting reference (200", "stats, fitting");
	expect_has(d, "texts)...", "stats, fitting");
	expect_has(d, "P: reference heldout.txt (first 48", "stats, fitting");
	expect_has(d, "featurizer: model.bin", "stats, fitting");
	expect_lacks(d, "n=", "stats, fitting");
	free(d);
	ui.mauve.state = UI_MAUVE_FAILED;
	snprintf(ui.mauve.error, sizeof ui.mauve.error, "no corpus: none here");
	d = draw_pane(&view_stats_pane, &ui);
	expect_has(d, "MAUVE (live): cannot run: no corpus:", "stats, failed");
	free(d);
	d = draw_pane(&view_inspector_pane, &ui);
	expect_has(d, "no token yet", "inspector, no run");
	free(d);

	/*
	 * Prompt "ab" (slots 0, 1). +c +d -d +d (a re-emission) +e -e -d (a run of
	 * 2) +x +\n +c: 7 appends, 3 erases, 10 actions; the net text is "cx\nc".
	 */
	ui.have_run = 1;
	ui.log.prompt = "ab";
	ui.log.n_prompt = 2;
	ui.log.ev = evs;
	ui.log.serial = 1;
	ui.log.inspect = -1;
	add(&ui.log, GENERATE_EVENT_APPEND, 'c', 2, 0.5f);
	add(&ui.log, GENERATE_EVENT_APPEND, 'd', 3, 0.5f);
	add(&ui.log, GENERATE_EVENT_ERASE, 'd', 3, 0.25f);
	add(&ui.log, GENERATE_EVENT_APPEND, 'd', 3, 0.5f);
	add(&ui.log, GENERATE_EVENT_APPEND, 'e', 4, 0.5f);
	add(&ui.log, GENERATE_EVENT_ERASE, 'e', 4, 0.25f);
	add(&ui.log, GENERATE_EVENT_ERASE, 'd', 3, 0.25f);
	add(&ui.log, GENERATE_EVENT_APPEND, 'x', 3, 0.5f);
	add(&ui.log, GENERATE_EVENT_APPEND, '\n', 4, 0.5f);
	add(&ui.log, GENERATE_EVENT_APPEND, 'c', 5, 0.625f);
	last = &ui.log.ev[9];
	last->entropy = 0.987f;
	last->p_bksp = 0.1f;
	last->n_top = 4;
	last->top[0].id = 'c';
	last->top[0].prob = 0.625f;
	last->top[1].id = '\n';
	last->top[1].prob = 0.25f;
	last->top[2].id = tokenizer_bksp(tok);
	last->top[2].prob = 0.1f;
	last->top[3].id = tokenizer_eot(tok);
	last->top[3].prob = 0.025f;
	ui.log.done = 1;
	ui.log.stop.type = GENERATE_EVENT_STOP;
	ui.log.stop.n_generated = 7;
	ui.log.stop.n_erased = 3;
	ui.log.stop.prefill_seconds = 0.5;  /* 2 prompt tokens: 4.0 tok/s */
	ui.log.stop.generate_seconds = 2.0; /* 10 actions: 5.0 tok/s */

	/* The whole log played. */
	ui.log.shown = 10;
	d = draw_pane(&view_stats_pane, &ui);
	expect_has(d, "Stats - playback 10/10", "stats, whole log");
	expect_has(d, "tokens typed (gross) 7, kept (net) 4", "stats, whole log");
	expect_has(d, "backspace rate 0.300 (3/10 actions)", "stats, whole log");
	expect_has(d, "re-emission 0.333 (1/3)", "stats, whole log");
	expect_has(d, "longest backspace run 2", "stats, whole log");
	expect_has(d, "distinct-1 0.750  distinct-2 1.000", "stats, whole log");
	expect_has(d, "run prefill 4.0 tok/s (2 tok)", "stats, whole log");
	expect_has(d, "run generate 5.0 tok/s (10 act.)", "stats, whole log");
	expect_has(d, "MAUVE (live): cannot run", "stats, whole log");
	free(d);

	/* A hand-made live result over 3 samples: the score, n, k and the warning. */
	ui.mauve.state = UI_MAUVE_READY;
	ui.mauve.n = 3;
	ui.mauve.k = 20;
	ui.mauve.mauve = 0.4567;
	ui.mauve.mauve_star = 0.5;
	d = draw_pane(&view_stats_pane, &ui);
	expect_has(d, "MAUVE (live) 0.457 n=3 k=20 clusters", "stats, live result");
	expect_has(d, "few samples: noisy", "stats, live result");
	expect_has(d, "P: reference heldout.txt", "stats, live result");
	free(d);
	ui.mauve.n = 50;
	d = draw_pane(&view_stats_pane, &ui);
	expect_has(d, "n=50", "stats, 50 samples");
	expect_lacks(d, "few samples", "stats, 50 samples");
	free(d);

	/* Playback at event 3 (+c +d -d): the counts follow it. */
	ui.log.shown = 3;
	d = draw_pane(&view_stats_pane, &ui);
	expect_has(d, "Stats - playback 3/10", "stats, playback at 3");
	expect_has(d, "tokens typed (gross) 2, kept (net) 1", "stats, playback at 3");
	expect_has(d, "backspace rate 0.333 (1/3 actions)", "stats, playback at 3");
	expect_has(d, "re-emission 0.000 (0/1)", "stats, playback at 3");
	expect_has(d, "distinct-1 1.000  distinct-2 -", "stats, playback at 3");
	free(d);

	/* An inconsistent log is reported, not counted. */
	ui.log.ev[1].slot = 7;
	d = draw_pane(&view_stats_pane, &ui);
	expect_has(d, "cannot read the event log", "stats, bad log");
	expect_lacks(d, "backspace rate", "stats, bad log");
	free(d);
	ui.log.ev[1].slot = 3;

	/* Inspector at the last event: its alternatives, bars, entropy and P(<bksp>). */
	ui.log.shown = 10;
	d = draw_pane(&view_inspector_pane, &ui);
	expect_has(d, "Inspector - event 10/10", "inspector");
	expect_has(d, "appended 'c' sampled p=0.625", "inspector");
	expect_has(d, "entropy 0.987  model P(<bksp>) 0.100", "inspector");
	/* Piece column 15 wide, bar 15 wide: 0.625 of 15 rounds to 9 cells. */
	expect_has(d, "|>'c'             #########...... 0.625|", "inspector, top row");
	expect_has(d, "| '\\n'            ####........... 0.250|", "inspector, newline row");
	expect_has(d, " <bksp>          ##............. 0.100", "inspector, <bksp> row");
	expect_has(d, " <|endoftext|>   ............... 0.025", "inspector, EOT row");
	free(d);

	/* At an erase: the erased token, <bksp> chosen; no alternatives recorded. */
	ui.log.shown = 7;
	ui.log.ev[6].entropy = 1.5f;
	d = draw_pane(&view_inspector_pane, &ui);
	expect_has(d, "erased 'd' (<bksp> sampled p=0.250)", "inspector, erase");
	expect_has(d, "entropy 1.500", "inspector, erase");
	expect_has(d, "no top alternatives recorded", "inspector, erase without top");
	free(d);

	/* A model without <bksp>: P(<bksp>) is not applicable. */
	ui.model_bksp = 0;
	ui.log.shown = 10;
	d = draw_pane(&view_inspector_pane, &ui);
	expect_has(d, "model P(<bksp>) n/a", "inspector, no bksp");
	free(d);

	test_text_marks(tok);
	test_text_pauses(tok);
	test_text_lockstep(tok);
	test_curve(tok, &ui);
	test_worker(tok);
	tokenizer_free(tok);
	return tap_done();
}
