/* test-ui-grid.c: the cell grid primitives, the layout, and golden screens of the layout. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "grid.h"
#include "layout.h"
#include "tap.h"

/*
 * Golden files live in $SRCDIR/tests/golden (SRCDIR comes from the test harness; "." when
 * run by hand from the top of the tree). SEQMATCH_REGEN_GOLDEN=1 rewrites them; without
 * it a missing file is a failure.
 */

/* Style ids of the demo screens (the theme's slots will take their place). */
enum {
	ST_DEFAULT, ST_BORDER, ST_FOCUS, ST_TITLE, ST_STATUS, ST_KEY, ST_HINT, ST_TEXT,
	ST_DIM, ST_BAR, ST_BAR_EMPTY, ST_PLOT, ST_WARN, ST_PROMPT
};

/* ---- helpers ---- */

/* The grid as text (aborts on out of memory: this is a test). */
static char *
dump(const struct grid *g)
{
	char *s = grid_dump(g);

	if (s == NULL)
		abort();
	return s;
}

/* Check the dump of g against want. */
static void
expect_dump(const struct grid *g, const char *want, const char *what)
{
	char *got = dump(g);

	if (!tap_ok(strcmp(got, want) == 0, "%s", what)) {
		tap_diag("want:\n%s", want);
		tap_diag("got:\n%s", got);
	}
	free(got);
}

/* Check one row of the dump of g (without its newline). */
static void
expect_row(const struct grid *g, int row, const char *want, const char *what)
{
	char *got = dump(g), *p = got, *nl;

	for (int i = 0; i < row && p != NULL; i++) {
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	if (p != NULL && (nl = strchr(p, '\n')) != NULL)
		*nl = '\0';
	if (!tap_ok(p != NULL && strcmp(p, want) == 0, "%s", what))
		tap_diag("row %d: want \"%s\", got \"%s\"", row, want, p ? p : "(none)");
	free(got);
}

/* ---- primitives ---- */

/* Clipping at all four edges of a rectangle and of the grid. */
static void
test_clipping(void)
{
	struct grid g;
	struct grid_rect r = {2, 1, 4, 2};
	int end;

	grid_init(&g, 8, 4, GRID_GLYPHS_UTF8);
	end = grid_put(&g, r, -2, 0, "abcdef", 0, 0);
	expect_row(&g, 1, "  cdef", "clip at the left edge");
	tap_ok(end == 4, "put returns the unclipped end column (%d)", end);
	grid_put(&g, r, 2, 1, "xyz", 0, 0);
	expect_row(&g, 2, "    xy", "clip at the right edge");
	grid_put(&g, r, 0, -1, "TOP", 0, 0);
	grid_put(&g, r, 0, 2, "BOTTOM", 0, 0);
	expect_dump(&g, "\n  cdef\n    xy\n\n", "rows above and below the rectangle draw nothing");
	grid_clear(&g, 0);
	grid_put(&g, grid_rect_make(5, -1, 10, 10), 0, 1, "0123456789", 0, 0);
	grid_put(&g, grid_rect_make(-3, 3, 10, 10), 0, 0, "0123456789", 0, 0);
	expect_dump(&g, "     012\n\n\n3456789\n", "clip to the grid on every side");
	grid_clear(&g, 0);
	grid_put(&g, grid_rect_make(0, 0, 0, 4), 0, 0, "x", 0, 0);
	grid_put(&g, grid_rect_make(0, 0, 4, 0), 0, 0, "x", 0, 0);
	expect_dump(&g, "\n\n\n\n", "empty rectangles draw nothing");
	grid_release(&g);
}

/* Wide characters: two cells, cut at the edges, half overwritten. */
static void
test_wide(void)
{
	struct grid g;
	const struct grid_cell *c;

	grid_init(&g, 6, 3, GRID_GLYPHS_UTF8);
	grid_put(&g, grid_rect_make(0, 0, 5, 1), 0, 0, "日本語", 0, 0);
	expect_row(&g, 0, "日本", "a wide character that does not fit at the right edge is cut");
	c = grid_cell_at(&g, 4, 0);
	tap_ok(c->width == 1 && c->text[0] == ' ', "its visible half is a blank");
	c = grid_cell_at(&g, 1, 0);
	tap_ok(grid_cell_at(&g, 0, 0)->width == 2 && c->width == 0 && c->len == 0,
	    "a wide character is a lead and a continuation cell");
	grid_put(&g, grid_rect_make(0, 1, 6, 1), -1, 0, "日本語", 0, 0);
	expect_row(&g, 1, " 本語", "a wide character cut at the left edge leaves a blank");
	grid_put(&g, grid_rect_make(0, 2, 6, 1), 0, 0, "日本語", 0, 0);
	grid_put(&g, grid_rect_make(0, 2, 6, 1), 1, 0, "x", 0, 0);
	grid_put(&g, grid_rect_make(0, 2, 6, 1), 2, 0, "y", 0, 0);
	expect_row(&g, 2, " xy 語", "writing over either half of a wide character blanks the other");
	tap_ok(grid_text_width("a日本\xcc\x81z", 8, GRID_GLYPHS_UTF8) == 6,
	    "text width counts wide as 2 and combining as 0");
	tap_ok(grid_text_width("a日本z", 8, GRID_GLYPHS_ASCII) == 4,
	    "in ASCII every character is one '?'");
	grid_clear(&g, 0);
	grid_put(&g, grid_rect_make(0, 0, 6, 1), 0, 0, "e\xcc\x81t\xc3\xa9", 0, 0);
	expect_row(&g, 0, "e\xcc\x81t\xc3\xa9", "a combining mark joins the cell before it");
	tap_ok(grid_cell_at(&g, 1, 0)->text[0] == 't', "and takes no column");
	grid_put(&g, grid_rect_make(0, 1, 6, 1), 0, 0, "\xf0\x9f\x98\x80!", 0, 0);
	expect_row(&g, 1, "\xf0\x9f\x98\x80!", "an emoji takes two columns");
	tap_ok(grid_cell_at(&g, 2, 1)->text[0] == '!', "and the next character follows it");
	grid_release(&g);
}

/* Invalid UTF-8 and control characters. */
static void
test_invalid(void)
{
	struct grid g;
	const char *bad = "a\xff" "b\xe6\x97" "c\xc0\xaf" "d\xed\xa0\x80" "e\tf";

	grid_init(&g, 30, 2, GRID_GLYPHS_UTF8);
	grid_put(&g, grid_rect_make(0, 0, 30, 1), 0, 0, bad, 0, 0);
	expect_row(&g, 0, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd"
	    "d\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "e\xef\xbf\xbd" "f",
	    "invalid UTF-8 (stray, truncated, overlong, surrogate) and a tab draw U+FFFD");
	grid_put(&g, grid_rect_make(0, 1, 30, 1), 0, 0, "\xe6\x97", 0, 0);
	expect_row(&g, 1, "\xef\xbf\xbd", "a sequence cut by the end of the string is one U+FFFD");
	grid_release(&g);
	grid_init(&g, 30, 1, GRID_GLYPHS_ASCII);
	grid_put(&g, grid_rect_make(0, 0, 30, 1), 0, 0, bad, 0, 0);
	expect_row(&g, 0, "a?b?c??d???e?f", "in ASCII mode they draw '?'");
	grid_clear(&g, 0);
	grid_put(&g, grid_rect_make(0, 0, 30, 1), 0, 0, "日本 e\xcc\x81", 0, 0);
	expect_row(&g, 0, "?? e", "in ASCII mode valid non-ASCII is one '?' and combining marks vanish");
	grid_release(&g);
}

/* Boxes in both glyph sets, titles cut to fit. */
static void
test_box(void)
{
	struct grid g;

	grid_init(&g, 12, 4, GRID_GLYPHS_UTF8);
	grid_box(&g, grid_rect_make(0, 0, 12, 3), GRID_BOX_LIGHT, "Stats", 1, 3, 0);
	expect_dump(&g, "┌─ Stats ──┐\n│          │\n└──────────┘\n\n", "a UTF-8 box with a title");
	grid_clear(&g, 0);
	grid_box(&g, grid_rect_make(0, 0, 10, 4), GRID_BOX_HEAVY, "Inspector", 2, 3, 0);
	expect_dump(&g, "┏━ Insp… ┓\n┃        ┃\n┃        ┃\n┗━━━━━━━━┛\n",
	    "a heavy box; a long title ends in an ellipsis");
	tap_ok(grid_cell_at(&g, 3, 0)->style == 3 && grid_cell_at(&g, 0, 0)->style == 2,
	    "title and border have their styles");
	grid_release(&g);
	grid_init(&g, 12, 3, GRID_GLYPHS_ASCII);
	grid_box(&g, grid_rect_make(0, 0, 12, 3), GRID_BOX_LIGHT, "Stats", 1, 3, 0);
	expect_dump(&g, "+- Stats --+\n|          |\n+----------+\n", "an ASCII box with a title");
	grid_clear(&g, 0);
	grid_box(&g, grid_rect_make(1, 0, 9, 3), GRID_BOX_HEAVY, "Decoding", 1, 3, 0);
	expect_dump(&g, " += Dec~ +\n |       |\n +=======+\n", "an ASCII heavy box, title cut with '~'");
	grid_clear(&g, 0);
	grid_box(&g, grid_rect_make(0, 0, 1, 3), GRID_BOX_LIGHT, "x", 1, 3, 0);
	grid_box(&g, grid_rect_make(0, 0, 5, 2), GRID_BOX_LIGHT, "Title", 1, 3, 0);
	expect_dump(&g, "+---+\n+---+\n\n", "boxes too small for a title or a box");
	grid_release(&g);
}

/* Horizontal bars. */
static void
test_hbar(void)
{
	struct grid g;
	struct grid_rect r = {0, 0, 10, 4};

	grid_init(&g, 10, 4, GRID_GLYPHS_UTF8);
	grid_hbar(&g, r, 0, 0, 4, 0.5, 9, 10);
	grid_hbar(&g, r, 0, 1, 4, 0.3, 9, 10);
	grid_hbar(&g, r, 0, 2, 4, 1.5, 9, 10);
	grid_hbar(&g, r, 0, 3, 4, NAN, 9, 10);
	expect_dump(&g, "██░░\n█▎░░\n████\n░░░░\n", "UTF-8 bars with eighths, clamped, NaN empty");
	tap_ok(grid_cell_at(&g, 2, 0)->style == 10 && grid_cell_at(&g, 1, 0)->style == 9,
	    "filled and empty cells have their styles");
	grid_release(&g);
	grid_init(&g, 10, 2, GRID_GLYPHS_ASCII);
	grid_hbar(&g, r, 0, 0, 4, 0.5, 9, 10);
	grid_hbar(&g, r, 0, 1, 4, 0.3, 9, 10);
	expect_dump(&g, "##..\n#...\n", "ASCII bars");
	grid_release(&g);
}

/* Sparklines. */
static void
test_sparkline(void)
{
	struct grid g;
	struct grid_rect r = {0, 0, 10, 5};
	const double ramp[8] = {0, 1, 2, 3, 4, 5, 6, 7};
	const double gap[4] = {1, NAN, 3, 2};
	const double flat[3] = {5, 5, 5};

	grid_init(&g, 10, 5, GRID_GLYPHS_UTF8);
	grid_sparkline(&g, r, 0, 0, 8, ramp, 8, 0, 7, 11);
	grid_sparkline(&g, r, 0, 1, 4, ramp, 8, 0, 0, 11);
	grid_sparkline(&g, r, 0, 2, 6, gap, 4, 0, 0, 11);
	grid_sparkline(&g, r, 0, 3, 3, flat, 3, 0, 0, 11);
	grid_sparkline(&g, r, 0, 4, 4, ramp, 8, 2, 5, 11);
	expect_dump(&g, "▁▂▃▄▅▆▇█\n▁▃▆█\n  ▁ █▅\n▄▄▄\n▆███\n",
	    "ramp, last values auto-scaled, NaN gap right-aligned, flat line, clamped");
	grid_release(&g);
	grid_init(&g, 10, 1, GRID_GLYPHS_ASCII);
	grid_sparkline(&g, r, 0, 0, 8, ramp, 8, 0, 7, 11);
	expect_dump(&g, "_..--~~^\n", "ASCII sparkline");
	grid_release(&g);
}

/* Plots of the diagonal y = x in the three modes. */
static void
test_plot(void)
{
	struct grid g;
	const double x[2] = {0, 1}, y[2] = {0, 1};
	const double cx[5] = {0, 0.25, NAN, 0.75, 1}, cy[5] = {1, 0.75, NAN, 0.25, 0};

	grid_init(&g, 4, 2, GRID_GLYPHS_UTF8);
	grid_plot(&g, grid_rect_make(0, 0, 4, 2), x, y, 2, GRID_PLOT_BRAILLE, 11);
	expect_dump(&g, "  ⡠⠊\n⡠⠊\n", "braille diagonal");
	tap_ok(grid_cell_at(&g, 0, 1)->style == 11 && grid_cell_at(&g, 3, 1)->style == 0,
	    "only cells with dots are drawn");
	grid_clear(&g, 0);
	grid_plot(&g, grid_rect_make(0, 0, 4, 2), x, y, 2, GRID_PLOT_BLOCK, 11);
	expect_dump(&g, "  ▄▀\n▄▀\n", "block diagonal");
	grid_clear(&g, 0);
	grid_plot(&g, grid_rect_make(0, 0, 4, 2), cx, cy, 5, GRID_PLOT_BRAILLE, 11);
	expect_dump(&g, "⠑⠄\n  ⠐⢄\n", "a NaN breaks the line");
	grid_release(&g);
	grid_init(&g, 4, 2, GRID_GLYPHS_ASCII);
	grid_plot(&g, grid_rect_make(0, 0, 4, 2), x, y, 2, GRID_PLOT_BRAILLE, 11);
	expect_dump(&g, "  .'\n.'\n", "ASCII glyphs force the ASCII plot");
	grid_release(&g);
}

/* Dumps: trailing blanks trimmed, style ids. */
static void
test_dump(void)
{
	struct grid g;
	char *s;

	grid_init(&g, 6, 2, GRID_GLYPHS_UTF8);
	grid_put(&g, grid_rect_make(0, 0, 6, 2), 1, 0, "ab", 3, 0);
	grid_put(&g, grid_rect_make(0, 0, 6, 2), 0, 1, "日", 36, GRID_ATTR_BOLD);
	expect_dump(&g, " ab\n日\n", "text dump trims trailing blanks");
	s = grid_dump_styles(&g);
	tap_ok(s != NULL && strcmp(s, ".33\nAA\n") == 0, "style dump: one character per cell");
	free(s);
	tap_ok(grid_cell_at(&g, 0, 1)->attr == GRID_ATTR_BOLD, "attributes are kept");
	tap_ok(grid_resize(&g, 3, 1) == 0 && g.width == 3, "resize");
	expect_dump(&g, "\n", "resize clears");
	grid_release(&g);
}

/* ---- layout ---- */

/* Whether two rectangles share a cell. */
static int
overlap(struct grid_rect a, struct grid_rect b)
{
	return !grid_rect_empty(grid_rect_intersect(a, b));
}

/* Invariants over many sizes, both modes, status line top or bottom. */
static void
test_layout_invariants(void)
{
	static const int normal_order[] = {LAYOUT_FINETUNE, LAYOUT_INSPECT, LAYOUT_STATS, LAYOUT_DECODE};
	static const int compare_order[] = {LAYOUT_FINETUNE, LAYOUT_INSPECT, LAYOUT_DECODE, LAYOUT_STATS};
	int bad_inside = 0, bad_overlap = 0, bad_cover = 0, bad_text = 0, bad_order = 0;
	int bad_mono = 0, cases = 0;

	for (int compare = 0; compare < 2; compare++)
	for (int top = 0; top < 2; top++)
	for (int h = 10; h <= 70; h++) {
		int prev = 0;

		for (int w = 40; w <= 220; w++) {
			struct layout_request req = {w, h, LAYOUT_ALL, LAYOUT_TEXT, LAYOUT_NONE, compare, top};
			struct layout lo;
			long area = 0;
			int n = 0;
			const int *order = compare ? compare_order : normal_order;

			layout_compute(&req, &lo);
			cases++;
			for (int p = 0; p < LAYOUT_COUNT; p++) {
				struct grid_rect r = lo.rect[p];

				if (!(lo.shown & LAYOUT_BIT(p)))
					continue;
				n++;
				if (r.x < 0 || r.y < 0 || r.x + r.w > w || r.y + r.h > h || grid_rect_empty(r))
					bad_inside++;
				if (p < LAYOUT_STATUS)
					area += (long)r.w * r.h;
				for (int q = p + 1; q < LAYOUT_COUNT; q++)
					if ((lo.shown & LAYOUT_BIT(q)) && overlap(r, lo.rect[q]))
						bad_overlap++;
			}
			if (area != (long)lo.body.w * lo.body.h || lo.body.h != h - 2)
				bad_cover++;
			if (!(lo.shown & LAYOUT_BIT(LAYOUT_TEXT)) ||
			    !!(lo.shown & LAYOUT_BIT(LAYOUT_TEXT2)) != compare)
				bad_text++;
			for (int i = 0; i < 4; i++)
				for (int j = i + 1; j < 4; j++)
					if ((lo.shown & LAYOUT_BIT(order[i])) && !(lo.shown & LAYOUT_BIT(order[j])))
						bad_order++;
			if (n < prev)
				bad_mono++;
			prev = n;
		}
	}
	tap_ok(bad_inside == 0, "layout: every rectangle inside the screen (%d cases, %d bad)",
	    cases, bad_inside);
	tap_ok(bad_overlap == 0, "layout: no two rectangles overlap (%d bad)", bad_overlap);
	tap_ok(bad_cover == 0, "layout: the panes tile the body exactly (%d bad)", bad_cover);
	tap_ok(bad_text == 0, "layout: the text pane(s) always shown (%d bad)", bad_text);
	tap_ok(bad_order == 0, "layout: panes collapse in the documented order (%d bad)", bad_order);
	tap_ok(bad_mono == 0, "layout: a wider terminal never shows fewer panes (%d bad)", bad_mono);
}

/* Specific sizes, zoom, focus, the floor. */
static void
test_layout_cases(void)
{
	struct layout_request req = {80, 24, LAYOUT_ALL, LAYOUT_FINETUNE, LAYOUT_NONE, 0, 0};
	struct layout lo;
	unsigned all = LAYOUT_ALL | LAYOUT_BIT(LAYOUT_STATUS) | LAYOUT_BIT(LAYOUT_KEYS);

	layout_compute(&req, &lo);
	tap_ok(!lo.too_small && lo.shown == all && lo.collapsed == 0,
	    "80x24: every pane shown (shown %#x)", lo.shown);
	tap_ok(lo.rect[LAYOUT_TEXT].w >= 50 && lo.rect[LAYOUT_TEXT].h >= 14,
	    "80x24: the text pane is the biggest (%dx%d)", lo.rect[LAYOUT_TEXT].w,
	    lo.rect[LAYOUT_TEXT].h);
	tap_ok(lo.focus == LAYOUT_FINETUNE, "80x24: focus kept");
	tap_ok(lo.rect[LAYOUT_KEYS].y == 23 && lo.rect[LAYOUT_STATUS].y == 22 &&
	    lo.rect[LAYOUT_STATUS].w == 80, "status above the key hints at the bottom");
	req.status_top = 1;
	layout_compute(&req, &lo);
	tap_ok(lo.rect[LAYOUT_STATUS].y == 0 && lo.body.y == 1 && lo.rect[LAYOUT_KEYS].y == 23,
	    "status line on top");
	req.status_top = 0;

	req.width = 40;
	req.height = 12;
	layout_compute(&req, &lo);
	tap_ok(lo.shown == (LAYOUT_BIT(LAYOUT_TEXT) | LAYOUT_BIT(LAYOUT_STATUS) |
	    LAYOUT_BIT(LAYOUT_KEYS)) && lo.collapsed == (LAYOUT_ALL & ~LAYOUT_BIT(LAYOUT_TEXT)),
	    "40x12: only the text pane");
	tap_ok(lo.focus == LAYOUT_TEXT, "a collapsed focused pane gives focus to the text pane");
	req.zoom = LAYOUT_STATS;
	layout_compute(&req, &lo);
	tap_ok(lo.zoom == LAYOUT_STATS && lo.focus == LAYOUT_STATS &&
	    memcmp(&lo.rect[LAYOUT_STATS], &lo.body, sizeof lo.body) == 0 &&
	    grid_rect_empty(lo.rect[LAYOUT_TEXT]), "40x12: a collapsed pane can be zoomed to the body");
	req.enabled = LAYOUT_ALL & ~LAYOUT_BIT(LAYOUT_STATS);
	layout_compute(&req, &lo);
	tap_ok(lo.zoom == LAYOUT_NONE && (lo.shown & LAYOUT_BIT(LAYOUT_TEXT)),
	    "zooming a disabled pane is ignored");
	req.enabled = LAYOUT_ALL;
	req.zoom = LAYOUT_NONE;

	req.width = 39;
	layout_compute(&req, &lo);
	tap_ok(lo.too_small && lo.need_width == LAYOUT_MIN_WIDTH &&
	    lo.need_height == LAYOUT_MIN_HEIGHT && lo.shown == 0, "39x12: too small, needs 40x10");
	req.width = 40;
	req.height = 9;
	layout_compute(&req, &lo);
	tap_ok(lo.too_small, "40x9: too small");
	req.height = 10;
	layout_compute(&req, &lo);
	tap_ok(!lo.too_small && lo.rect[LAYOUT_TEXT].w == 40 && lo.rect[LAYOUT_TEXT].h == 8,
	    "40x10: at the floor the text pane has the body");

	req.width = 80;
	req.height = 24;
	req.compare = 1;
	layout_compute(&req, &lo);
	tap_ok((lo.shown & LAYOUT_BIT(LAYOUT_STATS)) && (lo.shown & LAYOUT_BIT(LAYOUT_STATS2)) &&
	    lo.rect[LAYOUT_TEXT].w == 40 && lo.rect[LAYOUT_TEXT2].x == 40,
	    "80x24 compare: two texts side by side, each with its stats");
	req.width = 120;
	req.height = 40;
	layout_compute(&req, &lo);
	tap_ok((lo.shown & all) == all, "120x40 compare: every pane shown");
	req.width = 50;
	req.height = 20;
	layout_compute(&req, &lo);
	tap_ok(lo.rect[LAYOUT_TEXT2].y > lo.rect[LAYOUT_TEXT].y && lo.rect[LAYOUT_TEXT2].x == 0,
	    "50x20 compare: the two models stack");
	req.width = -5;
	req.height = 0;
	layout_compute(&req, &lo);
	tap_ok(lo.too_small, "nonsense sizes are too small");
}

/* ---- golden screens ---- */

/* Word-wrap text into r from row *row on; stops at the bottom. */
static void
demo_wrap(struct grid *g, struct grid_rect r, int *row, const char *text, int style)
{
	const char *p = text;
	int col = 0;

	while (*p != '\0' && *row < r.h) {
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		int w = grid_text_width(p, len, g->glyphs);

		if (col > 0 && col + 1 + w > r.w) {
			(*row)++;
			col = 0;
			if (*row >= r.h)
				break;
		}
		if (col > 0)
			col++;
		col = grid_putn(g, r, col, *row, p, len, style, 0);
		p += len;
		while (*p == ' ')
			p++;
	}
	(*row)++;
}

/* A "name .... value" line. */
static void
demo_kv(struct grid *g, struct grid_rect r, int row, const char *k, const char *v, int vstyle)
{
	int vw = grid_text_width(v, strlen(v), g->glyphs);

	grid_put_trunc(g, r, 0, row, k, r.w - vw - 1, ST_DIM, 0);
	grid_put(g, r, r.w - vw, row, v, vstyle, 0);
}

/* The sample contents of each pane. */
static void
demo_pane(struct grid *g, int pane, struct grid_rect in)
{
	static const double loss[24] = {3.9, 3.7, 3.6, 3.3, 3.2, 3.25, 3.0, 2.9, 2.95, 2.8, 2.7,
		2.72, 2.6, 2.55, 2.5, 2.52, 2.45, 2.4, 2.41, 2.36, 2.33, 2.31, 2.3, 2.28};
	static const char *const params[][2] = {
		{"temperature", "0.80"}, {"top-k", "40"}, {"top-p", "0.95"}, {"min-p", "0.05"},
		{"typical-p", "1.00"}, {"repeat-penalty", "1.10"}, {"repeat-last-n", "64"},
		{"max-tokens", "128"}, {"seed", "42"}, {"bksp-bias", "0.00"}, {"max-bksp-run", "4"},
		{"max-bksp-total", "32"}, {"forbid-retype", "on"},
	};
	static const char *const alts[][2] = {
		{"\" the\"", "0.41"}, {"\" a\"", "0.22"}, {"\"\\n\"", "0.09"}, {"<bksp>", "0.03"},
		{"<|endoftext|>", "0.01"},
	};
	int row = 0;

	switch (pane) {
	case LAYOUT_TEXT:
	case LAYOUT_TEXT2:
		grid_put(g, in, 0, row, "> ", ST_PROMPT, GRID_ATTR_BOLD);
		demo_wrap(g, grid_rect_make(in.x + 2, in.y, in.w - 2, in.h), &row,
		    "Once upon a time", ST_TEXT);
		row++;
		demo_wrap(g, in, &row, pane == LAYOUT_TEXT ?
		    "Once upon a time there was a small model that wrote, erased and wrote again. "
		    "It liked the naïve café on the corner, where the menu said 日本語 and "
		    "nobody minded a token taken back."
		    : "Once upon a time a base model kept going without looking back, and "
		    "the story wandered off into lists of lists of lists.", ST_TEXT);
		break;
	case LAYOUT_DECODE:
		for (size_t i = 0; i < sizeof params / sizeof params[0] && row < in.h; i++, row++)
			demo_kv(g, in, row, params[i][0], params[i][1], i == 0 ? ST_WARN : ST_TEXT);
		if (row + 1 < in.h)
			grid_put(g, in, 0, row + 1, "preset: balanced", ST_DIM, 0);
		break;
	case LAYOUT_INSPECT:
		grid_put(g, in, 0, row++, "token 17 \" the\"  H=2.31", ST_TEXT, 0);
		for (size_t i = 0; i < sizeof alts / sizeof alts[0] && row < in.h; i++, row++) {
			int bw = in.w - 20;

			grid_put_trunc(g, in, 0, row, alts[i][0], 14, ST_TEXT, 0);
			if (bw > 2)
				grid_hbar(g, in, 15, row, bw, atof(alts[i][1]) * 2, ST_BAR, ST_BAR_EMPTY);
			grid_put(g, in, in.w - 4, row, alts[i][1], ST_DIM, 0);
		}
		break;
	case LAYOUT_STATS:
	case LAYOUT_STATS2: {
		double px[33], py[33];

		demo_kv(g, in, row++, "tokens/s", pane == LAYOUT_STATS ? "812.5" : "790.1", ST_TEXT);
		demo_kv(g, in, row++, "backspace rate", pane == LAYOUT_STATS ? "3.1%" : "0.0%", ST_TEXT);
		demo_kv(g, in, row++, "distinct-2", pane == LAYOUT_STATS ? "0.87" : "0.61", ST_TEXT);
		demo_kv(g, in, row++, "MAUVE live n=64", pane == LAYOUT_STATS ? "0.71" : "0.52", ST_WARN);
		for (int i = 0; i <= 32; i++) {
			px[i] = i / 32.0;
			py[i] = 1 - pow(px[i], pane == LAYOUT_STATS ? 0.35 : 0.7);
		}
		if (in.h - row >= 2)
			grid_plot(g, grid_rect_make(in.x, in.y + row, in.w, in.h - row), px, py, 33,
			    GRID_PLOT_BRAILLE, ST_PLOT);
		break;
	}
	case LAYOUT_FINETUNE:
		grid_put(g, in, 0, row++, "SequenceMatch  step 120/600", ST_TEXT, 0);
		grid_hbar(g, in, 0, row++, in.w, 0.2, ST_BAR, ST_BAR_EMPTY);
		demo_kv(g, in, row++, "loss", "2.28", ST_TEXT);
		demo_kv(g, in, row++, "ETA", "4m10s", ST_TEXT);
		grid_sparkline(g, in, 0, row++, in.w, loss, 24, 0, 0, ST_PLOT);
		break;
	}
}

/* Draw a whole demo screen for a layout, as the UI will (panes as titled boxes). */
static void
demo_draw(struct grid *g, const struct layout *lo)
{
	const int ascii = g->glyphs == GRID_GLYPHS_ASCII;
	static const char *const keys[][2] = {
		{"q", "Quit"}, {"?", "Help"}, {"Tab", "Pane"}, {"e", "Zoom"}, {"1-5", "Panes"},
		{"c", "Compare"}, {"v", "View"}, {"F2/t", "Theme"},
	};
	char buf[128];

	grid_clear(g, ST_DEFAULT);
	if (lo->too_small) {
		struct grid_rect all = grid_rect_make(0, 0, g->width, g->height);
		char have[32], need[32];
		int w;

		snprintf(buf, sizeof buf, "terminal too small: have %dx%d, need %dx%d", lo->width,
		    lo->height, lo->need_width, lo->need_height);
		w = grid_text_width(buf, strlen(buf), g->glyphs);
		if (w <= g->width) {
			grid_put(g, all, (g->width - w) / 2, g->height / 2, buf, ST_WARN, 0);
			return;
		}
		snprintf(have, sizeof have, "have %dx%d", lo->width, lo->height);
		snprintf(need, sizeof need, "need %dx%d", lo->need_width, lo->need_height);
		grid_put(g, all, (g->width - 18) / 2, g->height / 2 - 1, "terminal too small", ST_WARN, 0);
		grid_put(g, all, (g->width - (int)strlen(have)) / 2, g->height / 2, have, ST_WARN, 0);
		grid_put(g, all, (g->width - (int)strlen(need)) / 2, g->height / 2 + 1, need, ST_WARN, 0);
		return;
	}
	for (int p = 0; p < LAYOUT_STATUS; p++) {
		struct grid_rect r = lo->rect[p];
		int focus = p == lo->focus;

		if (!(lo->shown & LAYOUT_BIT(p)))
			continue;
		snprintf(buf, sizeof buf, "%s%s", layout_pane_name(p), p == lo->zoom ? " (zoom)" : "");
		grid_box(g, r, focus ? GRID_BOX_HEAVY : GRID_BOX_LIGHT, buf,
		    focus ? ST_FOCUS : ST_BORDER, ST_TITLE, focus ? GRID_ATTR_BOLD : 0);
		demo_pane(g, p, grid_rect_inset(r, 1));
	}
	/* Status line: reversed, left and right parts. */
	{
		struct grid_rect s = lo->rect[LAYOUT_STATUS];
		const char *sep = ascii ? " | " : " │ ";
		int w;

		grid_fill(g, s, " ", ST_STATUS, GRID_ATTR_REVERSE);
		snprintf(buf, sizeof buf, "%dx%d %s ", lo->width, lo->height, ascii ? "ASCII" : "UTF-8");
		w = grid_text_width(buf, strlen(buf), g->glyphs);
		grid_put(g, s, s.w - w, 0, buf, ST_STATUS, GRID_ATTR_REVERSE);
		snprintf(buf, sizeof buf, " seqmatch%smodel.bin%sseed 42%sclean view", sep, sep, sep);
		grid_put_trunc(g, s, 0, 0, buf, s.w - w - 1, ST_STATUS, GRID_ATTR_REVERSE);
	}
	/* Key hints: key in its style, label after it, until the line is full. */
	{
		struct grid_rect k = lo->rect[LAYOUT_KEYS];
		int col = 0;

		for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
			int need = (int)(strlen(keys[i][0]) + 1 + strlen(keys[i][1]));

			if (col + need > k.w)
				break;
			col = grid_put(g, k, col, 0, keys[i][0], ST_KEY, GRID_ATTR_BOLD);
			col = grid_put(g, k, col + 1, 0, keys[i][1], ST_HINT, 0) + 2;
		}
	}
}

/* The golden file's path for a name. */
static void
golden_path(char *buf, size_t size, const char *name)
{
	const char *src = getenv("SRCDIR");

	snprintf(buf, size, "%s/tests/golden/%s", src && *src ? src : ".", name);
}

/* Read a whole file (NULL if it cannot be read). */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)n + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Line i (0-based) of s into buf ("" past the end); returns 0 past the end. */
static int
nth_line(const char *s, int i, char *buf, size_t size)
{
	const char *e;
	size_t len;

	for (; i > 0 && s != NULL; i--) {
		s = strchr(s, '\n');
		if (s != NULL)
			s++;
	}
	if (s == NULL || *s == '\0') {
		buf[0] = '\0';
		return 0;
	}
	e = strchr(s, '\n');
	len = e ? (size_t)(e - s) : strlen(s);
	if (len >= size)
		len = size - 1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return 1;
}

/* Print the first differing lines of want and got, unified-diff style. */
static void
golden_diff(const char *path, const char *want, const char *got)
{
	char a[2048], b[2048];
	int first = -1, shown = 0;

	for (int i = 0;; i++) {
		int ha = nth_line(want, i, a, sizeof a), hb = nth_line(got, i, b, sizeof b);

		if (!ha && !hb)
			break;
		if (ha != hb || strcmp(a, b) != 0) {
			first = i;
			break;
		}
	}
	tap_diag("--- %s (expected)", path);
	tap_diag("+++ actual (SEQMATCH_REGEN_GOLDEN=1 rewrites it)");
	tap_diag("@@ line %d @@", first + 1);
	for (int i = first > 0 ? first - 1 : 0; shown < 12; i++, shown++) {
		int ha = nth_line(want, i, a, sizeof a), hb = nth_line(got, i, b, sizeof b);

		if (!ha && !hb)
			break;
		if (ha && hb && strcmp(a, b) == 0) {
			tap_diag(" %s", a);
			continue;
		}
		if (ha)
			tap_diag("-%s", a);
		if (hb)
			tap_diag("+%s", b);
	}
}

/* Compare text with a golden file, or rewrite it under SEQMATCH_REGEN_GOLDEN=1. */
static void
golden_check(const char *name, const char *got)
{
	const char *regen = getenv("SEQMATCH_REGEN_GOLDEN");
	char path[4096], tmp[4200];
	char *want;

	golden_path(path, sizeof path, name);
	if (regen != NULL && strcmp(regen, "1") == 0) {
		FILE *f;
		char dir[4096];

		golden_path(dir, sizeof dir, "");
		if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
			tap_ok(0, "golden %s: cannot create %s", name, dir);
			return;
		}
		snprintf(tmp, sizeof tmp, "%s.tmp", path);
		f = fopen(tmp, "wb");
		if (f == NULL || fputs(got, f) == EOF || fclose(f) != 0 || rename(tmp, path) != 0) {
			tap_ok(0, "golden %s: cannot write %s", name, path);
			return;
		}
		tap_ok(1, "golden %s: regenerated", name);
		return;
	}
	want = slurp(path);
	if (want == NULL) {
		tap_ok(0, "golden %s: missing %s (SEQMATCH_REGEN_GOLDEN=1 creates it)", name, path);
		return;
	}
	if (!tap_ok(strcmp(want, got) == 0, "golden %s", name))
		golden_diff(path, want, got);
	free(want);
}

/* Every size, mode and glyph set against its golden file. */
static void
test_golden(void)
{
	static const int sizes[][2] = {{200, 60}, {120, 40}, {80, 24}, {60, 20}, {40, 12}, {30, 8}};
	static const char *const modes[] = {"normal", "zoom", "compare"};

	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		for (int m = 0; m < 3; m++) {
			for (int gl = 0; gl < 2; gl++) {
				struct layout_request req = {sizes[s][0], sizes[s][1], LAYOUT_ALL,
					LAYOUT_TEXT, LAYOUT_NONE, m == 2, 0};
				struct layout lo;
				struct grid g;
				char name[96], *text;

				if (m == 1)
					req.zoom = LAYOUT_STATS;
				if (m == 2)
					req.focus = LAYOUT_TEXT2;
				layout_compute(&req, &lo);
				if (grid_init(&g, req.width, req.height,
				    gl ? GRID_GLYPHS_ASCII : GRID_GLYPHS_UTF8) != 0)
					abort();
				demo_draw(&g, &lo);
				text = dump(&g);
				snprintf(name, sizeof name, "layout-%dx%d-%s-%s.txt", req.width, req.height,
				    modes[m], gl ? "ascii" : "utf8");
				golden_check(name, text);
				free(text);
				if (m == 0 && gl == 0) {
					text = grid_dump_styles(&g);
					snprintf(name, sizeof name, "layout-%dx%d-normal-utf8.styles.txt",
					    req.width, req.height);
					golden_check(name, text);
					free(text);
				}
				grid_release(&g);
			}
		}
	}
}

int
main(void)
{
	test_clipping();
	test_wide();
	test_invalid();
	test_box();
	test_hbar();
	test_sparkline();
	test_plot();
	test_dump();
	test_layout_invariants();
	test_layout_cases();
	test_golden();
	return tap_done();
}
