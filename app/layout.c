/* layout.c: the one layout function: terminal size and pane switches to rectangles. */
#include "config.h"

#include <string.h>

#include "layout.h"

/*
 * How this works.
 *
 * The screen is a status line (top or bottom row above the key hints), a key-hint line
 * (last row) and the body between them. Every pane is a box of its own (no shared
 * borders), so a rectangle is everything a pane needs.
 *
 * Normal mode, 80x24 and up:
 *
 *	+- Text ------------------------+- Decoding ---+
 *	|                               |              |
 *	|                               |              |
 *	|                               +- Stats ------+
 *	+- Inspector ---+- Fine-tune ---+              |
 *	|               |               |              |
 *	+---------------+---------------+--------------+
 *
 * The sidebar (decoding over stats) is 35% of the width, 28 to 60 columns; the strip
 * under the text (inspector beside fine-tune) a third of the body, 7 to 14 rows. A pane
 * missing from a column gives its room to the others in that column.
 *
 * Compare mode: the left part is two equal columns, model A and model B, each a text
 * pane over its stats; the sidebar stacks decoding, inspector and fine-tune. Without a
 * sidebar and below 60 columns the two models stack vertically instead.
 *
 * Collapsing: every pane has a minimum size (LAYOUT_MIN_*). The function places the
 * enabled panes; if any comes out under its minimum, it drops the next pane in a fixed
 * order and places again, until everything fits:
 *
 *	normal:  fine-tune, inspector, stats, decoding
 *	compare: fine-tune, inspector, decoding, stats (the stats are the comparison)
 *
 * The text pane(s) never collapse. At 80x24 every pane fits in both modes' first choices
 * except that compare mode keeps only the two texts and their stats. Zoom gives the
 * zoomed pane the whole body (if the pane is enabled, whatever its collapse state: zoom
 * is how a user reaches a collapsed pane on a small terminal). Under the floor
 * (LAYOUT_MIN_WIDTH x LAYOUT_MIN_HEIGHT, where the text pane still has a 38x6 inside)
 * nothing is placed and the result says so, with the floor as the size needed.
 */

#define LAYOUT_TEXT_MIN_W 30
#define LAYOUT_TEXT_MIN_H 6
#define LAYOUT_DECODE_MIN_W 26
#define LAYOUT_DECODE_MIN_H 8
#define LAYOUT_DECODE_NAT_H 20 /* every parameter, the seed and the presets */
#define LAYOUT_SIDE_MIN_W 28
#define LAYOUT_SIDE_MAX_W 60
#define LAYOUT_SMALL_MIN_W 24 /* inspector, stats, fine-tune */
#define LAYOUT_SMALL_MIN_H 6
#define LAYOUT_STRIP_MIN_H 7
#define LAYOUT_STRIP_MAX_H 14

static const char *const layout_names[LAYOUT_COUNT] = {
	[LAYOUT_TEXT] = "Text",
	[LAYOUT_DECODE] = "Decoding",
	[LAYOUT_INSPECT] = "Inspector",
	[LAYOUT_STATS] = "Stats",
	[LAYOUT_FINETUNE] = "Fine-tune",
	[LAYOUT_TEXT2] = "Text B",
	[LAYOUT_STATS2] = "Stats B",
	[LAYOUT_STATUS] = "Status",
	[LAYOUT_KEYS] = "Keys",
};

/* Collapse orders (the panes that can collapse, first to go first). */
static const int layout_order_normal[] = {LAYOUT_FINETUNE, LAYOUT_INSPECT, LAYOUT_STATS,
	LAYOUT_DECODE};
static const int layout_order_compare[] = {LAYOUT_FINETUNE, LAYOUT_INSPECT, LAYOUT_DECODE,
	LAYOUT_STATS};

/* A pane's display name ("Text", "Decoding", ...). */
const char *
layout_pane_name(int pane)
{
	if (pane < 0 || pane >= LAYOUT_COUNT)
		return "?";
	return layout_names[pane];
}

/* v clamped to [lo, hi] (lo wins if they cross). */
static int
layout_clamp(int v, int lo, int hi)
{
	if (v > hi)
		v = hi;
	if (v < lo)
		v = lo;
	return v;
}

/* Whether rectangle r is at least w x h. */
static int
layout_fits(struct grid_rect r, int w, int h)
{
	return r.w >= w && r.h >= h;
}

/* Take the right-hand sidebar off *area, leaving at least keep_w columns; returns it. */
static struct grid_rect
layout_sidebar(struct grid_rect *area, int keep_w)
{
	int sw = layout_clamp(area->w * 7 / 20, LAYOUT_SIDE_MIN_W, LAYOUT_SIDE_MAX_W);
	struct grid_rect side;

	if (area->w - sw < keep_w)
		sw = area->w - keep_w;
	if (sw < 0)
		sw = 0;
	side = grid_rect_make(area->x + area->w - sw, area->y, sw, area->h);
	area->w -= sw;
	return side;
}

/* Take rows off the bottom of *area for a strip (third of ref_h, keeping keep_h); returns it. */
static struct grid_rect
layout_strip(struct grid_rect *area, int ref_h, int keep_h)
{
	int h = layout_clamp(ref_h / 3, LAYOUT_STRIP_MIN_H, LAYOUT_STRIP_MAX_H);
	struct grid_rect strip;

	if (area->h - h < keep_h)
		h = area->h - keep_h;
	if (h < 0)
		h = 0;
	strip = grid_rect_make(area->x, area->y + area->h - h, area->w, h);
	area->h -= h;
	return strip;
}

/* Split r into n stacked rectangles; the first gets first_h rows if > 0, the rest share. */
static void
layout_stack(struct grid_rect r, int n, int first_h, struct grid_rect **out)
{
	int y = r.y, left = r.h;

	for (int i = 0; i < n; i++) {
		int h = i == 0 && first_h > 0 && n > 1 ? first_h : left / (n - i);

		*out[i] = grid_rect_make(r.x, y, r.w, h);
		y += h;
		left -= h;
	}
}

/* Split r into n side-by-side rectangles of (nearly) equal width, the left ones wider. */
static void
layout_row(struct grid_rect r, int n, struct grid_rect **out)
{
	int x = r.x, left = r.w;

	for (int i = 0; i < n; i++) {
		int w = (left + (n - i) - 1) / (n - i);

		*out[i] = grid_rect_make(x, r.y, w, r.h);
		x += w;
		left -= w;
	}
}

/* Normal mode: place the text pane and the panes in set; 1 if all meet their minimums. */
static int
layout_place_normal(struct grid_rect body, unsigned set, struct grid_rect *rect)
{
	struct grid_rect main = body, *col[2];
	int has_dec = !!(set & LAYOUT_BIT(LAYOUT_DECODE)), has_st = !!(set & LAYOUT_BIT(LAYOUT_STATS));
	int has_in = !!(set & LAYOUT_BIT(LAYOUT_INSPECT)), has_ft = !!(set & LAYOUT_BIT(LAYOUT_FINETUNE));
	int ok = 1, n;

	if (has_dec || has_st) {
		struct grid_rect side = layout_sidebar(&main, LAYOUT_TEXT_MIN_W);
		int dh = 0;

		n = 0;
		if (has_dec)
			col[n++] = &rect[LAYOUT_DECODE];
		if (has_st)
			col[n++] = &rect[LAYOUT_STATS];
		if (n == 2) {
			dh = layout_clamp(side.h * 11 / 20, LAYOUT_DECODE_MIN_H, LAYOUT_DECODE_NAT_H);
			if (side.h - dh < LAYOUT_SMALL_MIN_H)
				dh = side.h - LAYOUT_SMALL_MIN_H;
		}
		layout_stack(side, n, dh, col);
	}
	if (has_in || has_ft) {
		struct grid_rect strip = layout_strip(&main, body.h, LAYOUT_TEXT_MIN_H);

		n = 0;
		if (has_in)
			col[n++] = &rect[LAYOUT_INSPECT];
		if (has_ft)
			col[n++] = &rect[LAYOUT_FINETUNE];
		layout_row(strip, n, col);
	}
	rect[LAYOUT_TEXT] = main;
	ok &= layout_fits(main, LAYOUT_TEXT_MIN_W, LAYOUT_TEXT_MIN_H);
	if (has_dec)
		ok &= layout_fits(rect[LAYOUT_DECODE], LAYOUT_DECODE_MIN_W, LAYOUT_DECODE_MIN_H);
	if (has_st)
		ok &= layout_fits(rect[LAYOUT_STATS], LAYOUT_SMALL_MIN_W, LAYOUT_SMALL_MIN_H);
	if (has_in)
		ok &= layout_fits(rect[LAYOUT_INSPECT], LAYOUT_SMALL_MIN_W, LAYOUT_SMALL_MIN_H);
	if (has_ft)
		ok &= layout_fits(rect[LAYOUT_FINETUNE], LAYOUT_SMALL_MIN_W, LAYOUT_SMALL_MIN_H);
	return ok;
}

/* One model's column in compare mode: text over (optional) stats; 1 if both fit. */
static int
layout_place_model(struct grid_rect area, int ref_h, int stats, struct grid_rect *text,
    struct grid_rect *st)
{
	if (stats) {
		*st = layout_strip(&area, ref_h, LAYOUT_TEXT_MIN_H);
		*text = area;
		return layout_fits(*text, LAYOUT_TEXT_MIN_W, LAYOUT_TEXT_MIN_H) &&
		    layout_fits(*st, LAYOUT_SMALL_MIN_W, LAYOUT_SMALL_MIN_H);
	}
	*text = area;
	return layout_fits(*text, LAYOUT_TEXT_MIN_W, LAYOUT_TEXT_MIN_H);
}

/* Compare mode: place both texts and the panes in set; 1 if all meet their minimums. */
static int
layout_place_compare(struct grid_rect body, unsigned set, struct grid_rect *rect)
{
	struct grid_rect left = body, half[2], *col[3];
	int stats = !!(set & LAYOUT_BIT(LAYOUT_STATS));
	int ok = 1, n = 0;

	if (set & LAYOUT_BIT(LAYOUT_DECODE))
		col[n++] = &rect[LAYOUT_DECODE];
	if (set & LAYOUT_BIT(LAYOUT_INSPECT))
		col[n++] = &rect[LAYOUT_INSPECT];
	if (set & LAYOUT_BIT(LAYOUT_FINETUNE))
		col[n++] = &rect[LAYOUT_FINETUNE];
	if (n > 0) {
		struct grid_rect side = layout_sidebar(&left, 2 * LAYOUT_TEXT_MIN_W);
		int dh = 0;

		if (n > 1 && (set & LAYOUT_BIT(LAYOUT_DECODE)))
			dh = layout_clamp(side.h / 2, LAYOUT_DECODE_MIN_H, LAYOUT_DECODE_NAT_H);
		layout_stack(side, n, dh, col);
		for (int i = 0; i < n; i++) {
			int dec = col[i] == &rect[LAYOUT_DECODE];

			ok &= layout_fits(*col[i], dec ? LAYOUT_DECODE_MIN_W : LAYOUT_SMALL_MIN_W,
			    dec ? LAYOUT_DECODE_MIN_H : LAYOUT_SMALL_MIN_H);
		}
	}
	if (n > 0 || left.w >= 2 * LAYOUT_TEXT_MIN_W) {
		struct grid_rect *halves[2] = {&half[0], &half[1]};

		layout_row(left, 2, halves);
		ok &= layout_place_model(half[0], body.h, stats, &rect[LAYOUT_TEXT], &rect[LAYOUT_STATS]);
		ok &= layout_place_model(half[1], body.h, stats, &rect[LAYOUT_TEXT2],
		    &rect[LAYOUT_STATS2]);
	} else {
		struct grid_rect *halves[2] = {&half[0], &half[1]};

		layout_stack(left, 2, 0, halves);
		ok &= layout_place_model(half[0], half[0].h, stats, &rect[LAYOUT_TEXT],
		    &rect[LAYOUT_STATS]);
		ok &= layout_place_model(half[1], half[1].h, stats, &rect[LAYOUT_TEXT2],
		    &rect[LAYOUT_STATS2]);
	}
	return ok;
}

/* Lay out the screen for req into out (see the top of this file). Pure: no I/O, no state. */
void
layout_compute(const struct layout_request *req, struct layout *out)
{
	static const unsigned collapsible = LAYOUT_BIT(LAYOUT_DECODE) | LAYOUT_BIT(LAYOUT_INSPECT) |
	    LAYOUT_BIT(LAYOUT_STATS) | LAYOUT_BIT(LAYOUT_FINETUNE);
	const int *order = req->compare ? layout_order_compare : layout_order_normal;
	unsigned enabled = (req->enabled & LAYOUT_ALL) | LAYOUT_BIT(LAYOUT_TEXT);
	unsigned set = enabled & collapsible;
	struct grid_rect body;
	int zoom = req->zoom;

	memset(out, 0, sizeof *out);
	out->width = req->width;
	out->height = req->height;
	out->need_width = LAYOUT_MIN_WIDTH;
	out->need_height = LAYOUT_MIN_HEIGHT;
	out->focus = LAYOUT_TEXT;
	out->zoom = LAYOUT_NONE;
	if (req->compare) {
		enabled |= LAYOUT_BIT(LAYOUT_TEXT2);
		if (enabled & LAYOUT_BIT(LAYOUT_STATS))
			enabled |= LAYOUT_BIT(LAYOUT_STATS2);
	}
	if (req->width < LAYOUT_MIN_WIDTH || req->height < LAYOUT_MIN_HEIGHT) {
		out->too_small = 1;
		return;
	}

	/* The two lines. */
	body = grid_rect_make(0, 0, req->width, req->height - 2);
	out->rect[LAYOUT_KEYS] = grid_rect_make(0, req->height - 1, req->width, 1);
	if (req->status_top) {
		out->rect[LAYOUT_STATUS] = grid_rect_make(0, 0, req->width, 1);
		body.y = 1;
	} else {
		out->rect[LAYOUT_STATUS] = grid_rect_make(0, req->height - 2, req->width, 1);
	}
	out->body = body;
	out->shown = LAYOUT_BIT(LAYOUT_STATUS) | LAYOUT_BIT(LAYOUT_KEYS);

	/* Zoom: one pane, the whole body. */
	if (zoom >= 0 && zoom < LAYOUT_STATUS && (enabled & LAYOUT_BIT(zoom))) {
		out->rect[zoom] = body;
		out->shown |= LAYOUT_BIT(zoom);
		out->zoom = zoom;
		out->focus = zoom;
		out->collapsed = enabled & ~LAYOUT_BIT(zoom);
		return;
	}

	/* Place, dropping panes in the collapse order until everything fits. */
	for (int i = 0;; i++) {
		struct grid_rect rect[LAYOUT_COUNT];
		int ok;

		memset(rect, 0, sizeof rect);
		ok = req->compare ? layout_place_compare(body, set, rect)
		    : layout_place_normal(body, set, rect);
		if (ok || set == 0) {
			for (int p = 0; p < LAYOUT_STATUS; p++) {
				if (!grid_rect_empty(rect[p])) {
					out->rect[p] = rect[p];
					out->shown |= LAYOUT_BIT(p);
				}
			}
			break;
		}
		set &= ~LAYOUT_BIT(order[i]);
	}
	out->collapsed = enabled & ~out->shown;
	if (req->focus >= 0 && req->focus < LAYOUT_STATUS && (out->shown & LAYOUT_BIT(req->focus)))
		out->focus = req->focus;
}
