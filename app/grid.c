/* grid.c: an in-memory cell grid and its drawing primitives (no curses, no locale). */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "grid.h"

/*
 * Character widths come from our own small table (grid_width_wide, grid_width_zero)
 * rather than wcwidth(): wcwidth() depends on the C library's locale data, returns -1
 * for everything non-ASCII under LANG=C and differs between libc versions, and the
 * layout must be identical in the tests, on every machine and in every locale. The
 * table holds the East Asian Wide and Fullwidth ranges and the emoji blocks terminals
 * draw two columns wide (Unicode 15, merged into fewer ranges; it agrees with glibc
 * 2.36's C.UTF-8 on every wide character except U+16FE4 and the emoji skin-tone
 * modifiers, which join the emoji before them here), and the combining marks of the
 * Latin, Greek, Cyrillic, Hebrew, Arabic, Devanagari and Thai blocks plus the zero-width
 * characters (other scripts' marks take a column). Ambiguous-width characters are one column.
 * Combining marks join the grapheme of the cell before them while it fits in
 * GRID_CELL_BYTES; full grapheme clustering (ZWJ emoji sequences) is not attempted.
 *
 * Invalid UTF-8 is drawn as U+FFFD, one per maximal invalid subpart (as the Unicode
 * standard recommends), or '?' with ASCII glyphs; control characters are drawn the same
 * way, so callers make newlines and tabs visible themselves.
 */

#define GRID_REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */
#define GRID_INVALID 0x110000u           /* not a code point: invalid UTF-8 */

/* A range of code points. */
struct grid_range {
	uint32_t lo, hi;
};

/* Two columns wide. */
static const struct grid_range grid_width_wide[] = {
	{0x1100, 0x115f}, {0x231a, 0x231b}, {0x2329, 0x232a}, {0x23e9, 0x23ec},
	{0x23f0, 0x23f0}, {0x23f3, 0x23f3}, {0x25fd, 0x25fe}, {0x2614, 0x2615},
	{0x2648, 0x2653}, {0x267f, 0x267f}, {0x2693, 0x2693}, {0x26a1, 0x26a1},
	{0x26aa, 0x26ab}, {0x26bd, 0x26be}, {0x26c4, 0x26c5}, {0x26ce, 0x26ce},
	{0x26d4, 0x26d4}, {0x26ea, 0x26ea}, {0x26f2, 0x26f3}, {0x26f5, 0x26f5},
	{0x26fa, 0x26fa}, {0x26fd, 0x26fd}, {0x2705, 0x2705}, {0x270a, 0x270b},
	{0x2728, 0x2728}, {0x274c, 0x274c}, {0x274e, 0x274e}, {0x2753, 0x2755},
	{0x2757, 0x2757}, {0x2795, 0x2797}, {0x27b0, 0x27b0}, {0x27bf, 0x27bf},
	{0x2b1b, 0x2b1c}, {0x2b50, 0x2b50}, {0x2b55, 0x2b55}, {0x2e80, 0x303e},
	{0x3041, 0xa4c6}, {0xa960, 0xa97c},
	{0xac00, 0xd7a3}, {0xf900, 0xfaff}, {0xfe10, 0xfe19}, {0xfe30, 0xfe6b},
	{0xff01, 0xff60}, {0xffe0, 0xffe6}, {0x16fe0, 0x16fe4}, {0x16ff0, 0x16ff1},
	{0x17000, 0x18cd5}, {0x18d00, 0x18d08}, {0x1aff0, 0x1b2fb}, {0x1f004, 0x1f004},
	{0x1f0cf, 0x1f0cf}, {0x1f18e, 0x1f18e}, {0x1f191, 0x1f19a}, {0x1f200, 0x1f202},
	{0x1f210, 0x1f23b}, {0x1f240, 0x1f248}, {0x1f250, 0x1f251}, {0x1f260, 0x1f265},
	{0x1f300, 0x1f320}, {0x1f32d, 0x1f335}, {0x1f337, 0x1f37c}, {0x1f37e, 0x1f393},
	{0x1f3a0, 0x1f3ca}, {0x1f3cf, 0x1f3d3}, {0x1f3e0, 0x1f3f0}, {0x1f3f4, 0x1f3f4},
	{0x1f3f8, 0x1f3fa}, {0x1f400, 0x1f43e}, {0x1f440, 0x1f440}, {0x1f442, 0x1f4fc},
	{0x1f4ff, 0x1f53d}, {0x1f54b, 0x1f54e}, {0x1f550, 0x1f567}, {0x1f57a, 0x1f57a},
	{0x1f595, 0x1f596}, {0x1f5a4, 0x1f5a4}, {0x1f5fb, 0x1f64f}, {0x1f680, 0x1f6c5},
	{0x1f6cc, 0x1f6cc}, {0x1f6d0, 0x1f6d2}, {0x1f6d5, 0x1f6d7}, {0x1f6dc, 0x1f6df},
	{0x1f6eb, 0x1f6ec}, {0x1f6f4, 0x1f6fc}, {0x1f7e0, 0x1f7eb}, {0x1f7f0, 0x1f7f0},
	{0x1f90c, 0x1f93a}, {0x1f93c, 0x1f945}, {0x1f947, 0x1f9ff}, {0x1fa70, 0x1faff},
	{0x20000, 0x2fffd}, {0x30000, 0x3fffd},
};

/* Zero columns: combining marks, joiners, variation selectors, emoji modifiers. */
static const struct grid_range grid_width_zero[] = {
	{0x0300, 0x036f}, {0x0483, 0x0489}, {0x0591, 0x05bd}, {0x05bf, 0x05bf},
	{0x05c1, 0x05c2}, {0x05c4, 0x05c5}, {0x05c7, 0x05c7}, {0x0610, 0x061a},
	{0x064b, 0x065f}, {0x0670, 0x0670}, {0x06d6, 0x06dc}, {0x06df, 0x06e4},
	{0x06e7, 0x06e8}, {0x06ea, 0x06ed}, {0x0900, 0x0902}, {0x093a, 0x093a},
	{0x093c, 0x093c}, {0x0941, 0x0948}, {0x094d, 0x094d}, {0x0951, 0x0957},
	{0x0e31, 0x0e31}, {0x0e34, 0x0e3a}, {0x0e47, 0x0e4e}, {0x1160, 0x11ff},
	{0x1ab0, 0x1aff}, {0x1dc0, 0x1dff}, {0x200b, 0x200f}, {0x202a, 0x202e},
	{0x2060, 0x2064}, {0x20d0, 0x20f0}, {0x302a, 0x302d}, {0x3099, 0x309a},
	{0xfe00, 0xfe0f}, {0xfe20, 0xfe2f}, {0xfeff, 0xfeff}, {0x1f3fb, 0x1f3ff},
	{0xe0001, 0xe0001}, {0xe0020, 0xe007f}, {0xe0100, 0xe01ef},
};

/* Glyphs, indexed [glyph set]. */
static const char *const grid_box_light[2][6] = { /* tl tr bl br h v */
	{"\xe2\x94\x8c", "\xe2\x94\x90", "\xe2\x94\x94", "\xe2\x94\x98", "\xe2\x94\x80", "\xe2\x94\x82"},
	{"+", "+", "+", "+", "-", "|"},
};
static const char *const grid_box_heavy[2][6] = {
	{"\xe2\x94\x8f", "\xe2\x94\x93", "\xe2\x94\x97", "\xe2\x94\x9b", "\xe2\x94\x81", "\xe2\x94\x83"},
	{"+", "+", "+", "+", "=", "|"}, /* focus shows in the top and bottom edges */
};
/* U+2581..U+2588, lower one eighth to full block. */
static const char *const grid_spark_utf8[8] = {
	"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
	"\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88",
};
static const char grid_spark_ascii[] = "_.-~^";
/* Left one eighth (U+258F) to left seven eighths (U+2589). */
static const char *const grid_eighths[8] = {
	"", "\xe2\x96\x8f", "\xe2\x96\x8e", "\xe2\x96\x8d", "\xe2\x96\x8c",
	"\xe2\x96\x8b", "\xe2\x96\x8a", "\xe2\x96\x89",
};
/* Quadrant blocks by mask: 1 top left, 2 top right, 4 bottom left, 8 bottom right. */
static const char *const grid_quadrants[16] = {
	" ", "\xe2\x96\x98", "\xe2\x96\x9d", "\xe2\x96\x80", "\xe2\x96\x96", "\xe2\x96\x8c",
	"\xe2\x96\x9e", "\xe2\x96\x9b", "\xe2\x96\x97", "\xe2\x96\x9a", "\xe2\x96\x90",
	"\xe2\x96\x9c", "\xe2\x96\x84", "\xe2\x96\x99", "\xe2\x96\x9f", "\xe2\x96\x88",
};
/* ASCII 1x2 "dots" by mask: 1 top, 2 bottom. */
static const char *const grid_ascii_dots[4] = {" ", "'", ".", ":"};

/* Whether cp is in a sorted range table. */
static int
grid_in_table(uint32_t cp, const struct grid_range *t, size_t n)
{
	size_t lo = 0, hi = n;

	if (cp < t[0].lo || cp > t[n - 1].hi)
		return 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (cp > t[mid].hi)
			lo = mid + 1;
		else if (cp < t[mid].lo)
			hi = mid;
		else
			return 1;
	}
	return 0;
}

/* Columns a (printable) code point takes: 0, 1 or 2. */
static int
grid_cp_width(uint32_t cp)
{
	if (cp < 0x300)
		return 1;
	if (grid_in_table(cp, grid_width_zero, sizeof grid_width_zero / sizeof grid_width_zero[0]))
		return 0;
	if (cp >= 0x1100 &&
	    grid_in_table(cp, grid_width_wide, sizeof grid_width_wide / sizeof grid_width_wide[0]))
		return 2;
	return 1;
}

/*
 * Decode one code point from s (len > 0); returns the bytes consumed. An invalid
 * sequence sets *cp to GRID_INVALID and consumes its maximal subpart (at least one byte).
 */
static size_t
grid_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t need, i;
	uint32_t v;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		*cp = GRID_INVALID;
		return 1;
	}
	for (i = 1; i <= need; i++) {
		if (i >= len || s[i] < lo || s[i] > hi) {
			*cp = GRID_INVALID;
			return i;
		}
		v = (v << 6) | (s[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*cp = v;
	return need + 1;
}

/*
 * The next character of s to draw: its bytes (*out, *outlen), its width (returned) and
 * the bytes of s consumed (*used). Applies the replacement rules and the glyph set.
 */
static int
grid_next(const char *s, size_t len, enum grid_glyphs glyphs, const char **out, size_t *outlen,
    size_t *used)
{
	uint32_t cp;
	size_t n = grid_decode((const unsigned char *)s, len, &cp);
	int w;

	*used = n;
	if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == GRID_INVALID) {
		*out = glyphs == GRID_GLYPHS_ASCII ? "?" : GRID_REPLACEMENT;
		*outlen = glyphs == GRID_GLYPHS_ASCII ? 1 : 3;
		return 1;
	}
	if (cp < 0x80) {
		*out = s;
		*outlen = 1;
		return 1;
	}
	w = grid_cp_width(cp);
	if (glyphs == GRID_GLYPHS_ASCII) { /* one '?' a character; combining marks vanish */
		*out = "?";
		*outlen = w == 0 ? 0 : 1;
		return w == 0 ? 0 : 1;
	}
	*out = s;
	*outlen = n;
	return w;
}

/* Columns a string takes when drawn with the given glyph set. */
int
grid_text_width(const char *s, size_t len, enum grid_glyphs glyphs)
{
	int width = 0;

	while (len > 0) {
		const char *out;
		size_t outlen, used;

		if ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f) {
			width++;
			s++;
			len--;
			continue;
		}
		width += grid_next(s, len, glyphs, &out, &outlen, &used);
		s += used;
		len -= used;
	}
	return width;
}

/* A rectangle. */
struct grid_rect
grid_rect_make(int x, int y, int w, int h)
{
	struct grid_rect r = {x, y, w, h};

	return r;
}

/* r shrunk by n cells on every side (empty when nothing is left). */
struct grid_rect
grid_rect_inset(struct grid_rect r, int n)
{
	r.x += n;
	r.y += n;
	r.w -= 2 * n;
	r.h -= 2 * n;
	if (r.w < 0)
		r.w = 0;
	if (r.h < 0)
		r.h = 0;
	return r;
}

/* The intersection of two rectangles. */
struct grid_rect
grid_rect_intersect(struct grid_rect a, struct grid_rect b)
{
	struct grid_rect r;
	int x1 = a.x + a.w < b.x + b.w ? a.x + a.w : b.x + b.w;
	int y1 = a.y + a.h < b.y + b.h ? a.y + a.h : b.y + b.h;

	r.x = a.x > b.x ? a.x : b.x;
	r.y = a.y > b.y ? a.y : b.y;
	r.w = x1 > r.x ? x1 - r.x : 0;
	r.h = y1 > r.y ? y1 - r.y : 0;
	return r;
}

/* Whether a rectangle has no cells. */
int
grid_rect_empty(struct grid_rect r)
{
	return r.w <= 0 || r.h <= 0;
}

/* r clipped to the grid. */
static struct grid_rect
grid_clip(const struct grid *g, struct grid_rect r)
{
	return grid_rect_intersect(r, grid_rect_make(0, 0, g->width, g->height));
}

/* Set up a grid of width x height blank cells; -1 when out of memory. */
int
grid_init(struct grid *g, int width, int height, enum grid_glyphs glyphs)
{
	memset(g, 0, sizeof *g);
	g->glyphs = glyphs;
	return grid_resize(g, width, height);
}

/* Change the size; the contents are cleared. -1 (grid unchanged) when out of memory. */
int
grid_resize(struct grid *g, int width, int height)
{
	size_t n;
	struct grid_cell *cells;
	uint8_t *scratch;

	if (width < 0)
		width = 0;
	if (height < 0)
		height = 0;
	n = (size_t)width * (size_t)height;
	cells = malloc((n ? n : 1) * sizeof *cells);
	scratch = malloc(n ? n : 1);
	if (cells == NULL || scratch == NULL) {
		free(cells);
		free(scratch);
		return -1;
	}
	free(g->cells);
	free(g->scratch);
	g->cells = cells;
	g->scratch = scratch;
	g->width = width;
	g->height = height;
	grid_clear(g, 0);
	return 0;
}

/* Free the cells. */
void
grid_release(struct grid *g)
{
	free(g->cells);
	free(g->scratch);
	g->cells = NULL;
	g->scratch = NULL;
	g->width = g->height = 0;
}

/* The cell at (x, y), or NULL outside the grid. */
const struct grid_cell *
grid_cell_at(const struct grid *g, int x, int y)
{
	if (x < 0 || y < 0 || x >= g->width || y >= g->height)
		return NULL;
	return &g->cells[(size_t)y * (size_t)g->width + (size_t)x];
}

/* A blank cell in a style. */
static void
grid_blank(struct grid_cell *c, int style, unsigned attr)
{
	memset(c, 0, sizeof *c);
	c->text[0] = ' ';
	c->len = 1;
	c->width = 1;
	c->attr = (uint8_t)attr;
	c->style = style;
}

/*
 * Write a character of width 1 or 2 at (x, y), which must be inside the grid (and x + 1
 * too for width 2). A wide character half overwritten loses its other half.
 */
static struct grid_cell *
grid_set(struct grid *g, int x, int y, const char *s, size_t len, int width, int style,
    unsigned attr)
{
	struct grid_cell *row = &g->cells[(size_t)y * (size_t)g->width];
	struct grid_cell *c = &row[x];
	int end = x + width; /* first column after the character */

	if (c->width == 0 && x > 0)
		grid_blank(&row[x - 1], row[x - 1].style, row[x - 1].attr);
	if (row[end - 1].width == 2 && end < g->width)
		grid_blank(&row[end], row[end].style, row[end].attr);
	c->width = (uint8_t)width;
	c->len = (uint8_t)len;
	memcpy(c->text, s, len);
	c->attr = (uint8_t)attr;
	c->style = style;
	if (width == 2) {
		struct grid_cell *cont = &row[x + 1];

		memset(cont, 0, sizeof *cont);
		cont->attr = (uint8_t)attr;
		cont->style = style;
	}
	return c;
}

/* Blank every cell in a style. */
void
grid_clear(struct grid *g, int style)
{
	size_t n = (size_t)g->width * (size_t)g->height;
	struct grid_cell blank;

	grid_blank(&blank, style, 0);
	for (size_t i = 0; i < n; i++)
		g->cells[i] = blank;
}

/* Fill a rectangle with a one-column glyph (NULL for spaces). */
void
grid_fill(struct grid *g, struct grid_rect r, const char *glyph, int style, unsigned attr)
{
	const char *out = " ";
	size_t outlen = 1, used;

	r = grid_clip(g, r);
	if (glyph != NULL && *glyph != '\0' &&
	    grid_next(glyph, strlen(glyph), g->glyphs, &out, &outlen, &used) != 1) {
		out = "?";
		outlen = 1;
	}
	for (int y = r.y; y < r.y + r.h; y++)
		for (int x = r.x; x < r.x + r.w; x++)
			grid_set(g, x, y, out, outlen, 1, style, attr);
}

/* Draw a NUL-terminated string; see grid_putn. */
int
grid_put(struct grid *g, struct grid_rect r, int col, int row, const char *s, int style,
    unsigned attr)
{
	return grid_putn(g, r, col, row, s, strlen(s), style, attr);
}

/*
 * Draw len bytes of UTF-8 at (col, row) relative to r, clipped to r and the grid; a wide
 * character cut by an edge leaves a blank in its visible half. Returns the column after
 * the text as if nothing were clipped, to chain calls.
 */
int
grid_putn(struct grid *g, struct grid_rect r, int col, int row, const char *s, size_t len,
    int style, unsigned attr)
{
	struct grid_rect clip = grid_clip(g, r);
	int x = r.x + col, y = r.y + row;
	int x0 = clip.x, x1 = clip.x + clip.w;
	struct grid_cell *last = NULL;

	if (y < clip.y || y >= clip.y + clip.h || grid_rect_empty(clip))
		return col + grid_text_width(s, len, g->glyphs);
	while (len > 0) {
		const char *out;
		size_t outlen, used;
		int w;
		unsigned char c = (unsigned char)*s;

		if (x >= x1)
			return x - r.x + grid_text_width(s, len, g->glyphs);
		if (c >= 0x20 && c < 0x7f) { /* the common case */
			if (x >= x0)
				last = grid_set(g, x, y, s, 1, 1, style, attr);
			x++;
			s++;
			len--;
			continue;
		}
		w = grid_next(s, len, g->glyphs, &out, &outlen, &used);
		s += used;
		len -= used;
		if (w == 0) {
			if (last != NULL && last->len + outlen <= GRID_CELL_BYTES) {
				memcpy(last->text + last->len, out, outlen);
				last->len = (uint8_t)(last->len + outlen);
			}
			continue;
		}
		last = NULL;
		if (x >= x0 && x + w <= x1)
			last = grid_set(g, x, y, out, outlen, w, style, attr);
		else if (x + 1 == x0 && w == 2)
			grid_set(g, x0, y, " ", 1, 1, style, attr);
		else if (x >= x0 && x < x1)
			grid_set(g, x, y, " ", 1, 1, style, attr);
		x += w;
	}
	return x - r.x;
}

/* Draw s in at most maxw columns, ending in an ellipsis when cut; returns the columns used. */
int
grid_put_trunc(struct grid *g, struct grid_rect r, int col, int row, const char *s, int maxw,
    int style, unsigned attr)
{
	size_t len = strlen(s);
	int w = grid_text_width(s, len, g->glyphs);
	struct grid_rect sub;

	if (maxw <= 0)
		return 0;
	if (w <= maxw) {
		grid_putn(g, r, col, row, s, len, style, attr);
		return w;
	}
	/* Clip to maxw - 1 columns, then the ellipsis in the last one. */
	sub = grid_rect_intersect(r, grid_rect_make(r.x + col, r.y + row, maxw - 1, 1));
	grid_putn(g, sub, r.x + col - sub.x, r.y + row - sub.y, s, len, style, attr);
	grid_put(g, r, col + maxw - 1, row,
	    g->glyphs == GRID_GLYPHS_ASCII ? "~" : "\xe2\x80\xa6", style, attr);
	return maxw;
}

/* A box on the edge of r, with an optional title in its top edge: "┌─ Title ───┐". */
void
grid_box(struct grid *g, struct grid_rect r, enum grid_box kind, const char *title, int style,
    int title_style, unsigned title_attr)
{
	const char *const *gl = kind == GRID_BOX_HEAVY ? grid_box_heavy[g->glyphs]
	    : grid_box_light[g->glyphs];
	unsigned attr = 0;

	if (r.w < 2 || r.h < 2)
		return;
	grid_fill(g, grid_rect_make(r.x + 1, r.y, r.w - 2, 1), gl[4], style, attr);
	grid_fill(g, grid_rect_make(r.x + 1, r.y + r.h - 1, r.w - 2, 1), gl[4], style, attr);
	grid_fill(g, grid_rect_make(r.x, r.y + 1, 1, r.h - 2), gl[5], style, attr);
	grid_fill(g, grid_rect_make(r.x + r.w - 1, r.y + 1, 1, r.h - 2), gl[5], style, attr);
	grid_fill(g, grid_rect_make(r.x, r.y, 1, 1), gl[0], style, attr);
	grid_fill(g, grid_rect_make(r.x + r.w - 1, r.y, 1, 1), gl[1], style, attr);
	grid_fill(g, grid_rect_make(r.x, r.y + r.h - 1, 1, 1), gl[2], style, attr);
	grid_fill(g, grid_rect_make(r.x + r.w - 1, r.y + r.h - 1, 1, 1), gl[3], style, attr);
	/* corner, line, space, title, space: the title needs r.w >= 6 for one column. */
	if (title != NULL && *title != '\0' && r.w >= 6) {
		int used = grid_put_trunc(g, r, 3, 0, title, r.w - 5, title_style, title_attr);

		grid_put(g, r, 2, 0, " ", style, attr);
		grid_put(g, r, 3 + used, 0, " ", style, attr);
	}
}

/* A horizontal bar of width cells at (col, row) in r, frac of it filled (eighths in UTF-8). */
void
grid_hbar(struct grid *g, struct grid_rect r, int col, int row, int width, double frac,
    int style, int empty_style)
{
	int ascii = g->glyphs == GRID_GLYPHS_ASCII;
	int eighths, full, part;

	if (width <= 0)
		return;
	if (!(frac > 0))
		frac = 0; /* and NaN */
	if (frac > 1)
		frac = 1;
	eighths = (int)lround(frac * width * (ascii ? 1 : 8));
	full = ascii ? eighths : eighths / 8;
	part = ascii ? 0 : eighths % 8;
	for (int i = 0; i < width; i++) {
		if (i < full)
			grid_put(g, r, col + i, row, ascii ? "#" : "\xe2\x96\x88", style, 0);
		else if (i == full && part > 0)
			grid_put(g, r, col + i, row, grid_eighths[part], style, 0);
		else
			grid_put(g, r, col + i, row, ascii ? "." : "\xe2\x96\x91", empty_style, 0);
	}
}

/*
 * The last width values of v as a sparkline at (col, row) in r, right-aligned. Values are
 * scaled from [lo, hi]; lo >= hi (or NaN) scales to the shown values. NaN draws a blank.
 */
void
grid_sparkline(struct grid *g, struct grid_rect r, int col, int row, int width,
    const double *v, int n, double lo, double hi, int style)
{
	int ascii = g->glyphs == GRID_GLYPHS_ASCII;
	int levels = ascii ? (int)sizeof grid_spark_ascii - 1 : 8;
	int first = n > width ? n - width : 0;
	int pad = width - (n - first);

	if (width <= 0)
		return;
	if (!(lo < hi)) {
		lo = INFINITY;
		hi = -INFINITY;
		for (int i = first; i < n; i++) {
			if (v[i] < lo)
				lo = v[i];
			if (v[i] > hi)
				hi = v[i];
		}
	}
	for (int i = 0; i < pad; i++)
		grid_put(g, r, col + i, row, " ", style, 0);
	for (int i = first; i < n; i++) {
		int level;
		char ch[2] = {0, 0};

		if (isnan(v[i])) {
			grid_put(g, r, col + pad + i - first, row, " ", style, 0);
			continue;
		}
		if (hi > lo) {
			double t = (v[i] - lo) / (hi - lo);

			t = t < 0 ? 0 : t > 1 ? 1 : t;
			level = (int)lround(t * (levels - 1));
		} else {
			level = (levels - 1) / 2; /* a flat line shows in the middle */
		}
		if (ascii)
			ch[0] = grid_spark_ascii[level];
		grid_put(g, r, col + pad + i - first, row, ascii ? ch : grid_spark_utf8[level], style, 0);
	}
}

/* Set one dot of the plot (dot coordinates, (0, 0) top left) in the scratch masks. */
static void
grid_plot_dot(uint8_t *mask, int w, int mode, int dx, int dy)
{
	static const uint8_t braille[4][2] = {{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}};
	int cx, cy;
	uint8_t bit;

	if (mode == GRID_PLOT_BRAILLE) {
		cx = dx / 2;
		cy = dy / 4;
		bit = braille[dy % 4][dx % 2];
	} else if (mode == GRID_PLOT_BLOCK) {
		cx = dx / 2;
		cy = dy / 2;
		bit = (uint8_t)(1u << ((dy % 2) * 2 + dx % 2));
	} else {
		cx = dx;
		cy = dy / 2;
		bit = (uint8_t)(1u << (dy % 2));
	}
	mask[cy * w + cx] |= bit;
}

/* Map a coordinate in [0, 1] (clamped) to a dot index in [0, n). */
static int
grid_plot_scale(double v, int n)
{
	v = v < 0 ? 0 : v > 1 ? 1 : v;
	return (int)lround(v * (n - 1));
}

/*
 * A curve through the points (x[i], y[i]) in [0, 1]^2 (y up; clamped), consecutive points
 * joined by straight lines (a NaN breaks the line), filling r. Cells without a dot are
 * left as they were, so axes or labels drawn first stay. ASCII glyphs force GRID_PLOT_ASCII.
 */
void
grid_plot(struct grid *g, struct grid_rect r, const double *x, const double *y, int n,
    enum grid_plot mode, int style)
{
	struct grid_rect c = grid_clip(g, r);
	int dw, dh, px = 0, py = 0, have = 0;

	if (g->glyphs == GRID_GLYPHS_ASCII)
		mode = GRID_PLOT_ASCII;
	if (grid_rect_empty(r) || grid_rect_empty(c))
		return;
	dw = r.w * (mode == GRID_PLOT_ASCII ? 1 : 2);
	dh = r.h * (mode == GRID_PLOT_BRAILLE ? 4 : 2);
	if ((size_t)r.w * (size_t)r.h > (size_t)g->width * (size_t)g->height)
		return; /* larger than the scratch masks (and the grid): nothing sensible to draw */
	memset(g->scratch, 0, (size_t)r.w * (size_t)r.h);
	for (int i = 0; i < n; i++) {
		int qx, qy;

		if (isnan(x[i]) || isnan(y[i])) {
			have = 0;
			continue;
		}
		qx = grid_plot_scale(x[i], dw);
		qy = dh - 1 - grid_plot_scale(y[i], dh);
		if (!have) {
			px = qx;
			py = qy;
			have = 1;
		}
		/* Bresenham from (px, py) to (qx, qy). */
		{
			int ddx = abs(qx - px), ddy = -abs(qy - py);
			int sx = px < qx ? 1 : -1, sy = py < qy ? 1 : -1;
			int err = ddx + ddy;

			for (;;) {
				int e2 = 2 * err;

				grid_plot_dot(g->scratch, r.w, mode, px, py);
				if (px == qx && py == qy)
					break;
				if (e2 >= ddy) {
					err += ddy;
					px += sx;
				}
				if (e2 <= ddx) {
					err += ddx;
					py += sy;
				}
			}
		}
	}
	for (int cy = 0; cy < r.h; cy++) {
		for (int cx = 0; cx < r.w; cx++) {
			uint8_t m = g->scratch[cy * r.w + cx];
			char buf[4];

			if (m == 0)
				continue;
			if (mode == GRID_PLOT_BRAILLE) {
				uint32_t cp = 0x2800u + m;

				buf[0] = (char)(0xe0 | (cp >> 12));
				buf[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
				buf[2] = (char)(0x80 | (cp & 0x3f));
				grid_putn(g, r, cx, cy, buf, 3, style, 0);
			} else if (mode == GRID_PLOT_BLOCK) {
				grid_put(g, r, cx, cy, grid_quadrants[m], style, 0);
			} else {
				grid_put(g, r, cx, cy, grid_ascii_dots[m], style, 0);
			}
		}
	}
}

/* The grid as text: one line per row, trailing spaces trimmed; malloc'd (NULL if out of memory). */
char *
grid_dump(const struct grid *g)
{
	size_t cap = (size_t)g->width * (size_t)g->height * GRID_CELL_BYTES + (size_t)g->height + 1;
	char *buf = malloc(cap), *p = buf;

	if (buf == NULL)
		return NULL;
	for (int y = 0; y < g->height; y++) {
		const struct grid_cell *row = &g->cells[(size_t)y * (size_t)g->width];
		char *start = p;

		for (int x = 0; x < g->width; x++) {
			memcpy(p, row[x].text, row[x].len);
			p += row[x].len;
		}
		while (p > start && p[-1] == ' ')
			p--;
		*p++ = '\n';
	}
	*p = '\0';
	return buf;
}

/*
 * The style ids, one character per cell: '.' for 0, 1-9, a-z (10-35), A-Z (36-61), '?'
 * beyond; trailing '.' trimmed. Malloc'd (NULL if out of memory).
 */
char *
grid_dump_styles(const struct grid *g)
{
	static const char digits[] =
	    ".123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	char *buf = malloc((size_t)(g->width + 1) * (size_t)g->height + 1), *p = buf;

	if (buf == NULL)
		return NULL;
	for (int y = 0; y < g->height; y++) {
		const struct grid_cell *row = &g->cells[(size_t)y * (size_t)g->width];
		char *start = p;

		for (int x = 0; x < g->width; x++) {
			int s = row[x].style;

			*p++ = s >= 0 && s < (int)sizeof digits - 1 ? digits[s] : '?';
		}
		while (p > start && p[-1] == '.')
			p--;
		*p++ = '\n';
	}
	*p = '\0';
	return buf;
}
