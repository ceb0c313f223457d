/* grid.h: an in-memory grid of terminal cells and the drawing primitives the panes use. */
#ifndef SEQMATCH_GRID_H
#define SEQMATCH_GRID_H

#include <stddef.h>
#include <stdint.h>

/*
 * Panes draw into a struct grid, never into curses: the UI copies the grid to the
 * terminal once per frame, and the tests dump it to text and compare golden files.
 * Coordinates are cells, (0, 0) top left. Every primitive clips to the rectangle it
 * is given and to the grid, so a pane can never draw outside its box.
 */

#define GRID_CELL_BYTES 8 /* most bytes of one grapheme in a cell */

/* Which glyphs the primitives may use: Unicode, or plain ASCII (non-UTF-8 locales). */
enum grid_glyphs {
	GRID_GLYPHS_UTF8,
	GRID_GLYPHS_ASCII
};

/* Attribute bits of a cell (the theme adds colour through the style id). */
enum grid_attr {
	GRID_ATTR_BOLD = 1 << 0,
	GRID_ATTR_DIM = 1 << 1,
	GRID_ATTR_UNDERLINE = 1 << 2,
	GRID_ATTR_REVERSE = 1 << 3,
	GRID_ATTR_ITALIC = 1 << 4
};

/* Box line weights: light for panes, heavy for the focused one. */
enum grid_box {
	GRID_BOX_LIGHT,
	GRID_BOX_HEAVY
};

/* How grid_plot draws a curve: braille (2x4 dots a cell), quadrant blocks (2x2), ASCII (1x2). */
enum grid_plot {
	GRID_PLOT_BRAILLE,
	GRID_PLOT_BLOCK,
	GRID_PLOT_ASCII
};

/* One cell. A wide character is a lead cell (width 2) and a continuation cell (width 0). */
struct grid_cell {
	char text[GRID_CELL_BYTES]; /* UTF-8 of the grapheme, not NUL-terminated */
	uint8_t len;                /* bytes used in text; 0 in a continuation cell */
	uint8_t width;              /* 1, 2 (wide lead) or 0 (continuation of the cell to the left) */
	uint8_t attr;               /* GRID_ATTR_* bits */
	uint8_t unused;
	int style;                  /* semantic style id (a theme slot); 0 is the default */
};

/* A rectangle of cells; w or h <= 0 is empty. */
struct grid_rect {
	int x, y, w, h;
};

/* The grid; read cells through grid_cell_at, write them through the primitives. */
struct grid {
	int width, height;
	enum grid_glyphs glyphs;
	struct grid_cell *cells; /* (height, width), row-major */
	uint8_t *scratch;        /* (height, width) dot masks for grid_plot */
};

int grid_init(struct grid *g, int width, int height, enum grid_glyphs glyphs);
int grid_resize(struct grid *g, int width, int height);
void grid_release(struct grid *g);
const struct grid_cell *grid_cell_at(const struct grid *g, int x, int y);

struct grid_rect grid_rect_make(int x, int y, int w, int h);
struct grid_rect grid_rect_inset(struct grid_rect r, int n);
struct grid_rect grid_rect_intersect(struct grid_rect a, struct grid_rect b);
int grid_rect_empty(struct grid_rect r);

int grid_text_width(const char *s, size_t len, enum grid_glyphs glyphs);

void grid_clear(struct grid *g, int style);
void grid_fill(struct grid *g, struct grid_rect r, const char *glyph, int style, unsigned attr);
int grid_put(struct grid *g, struct grid_rect r, int col, int row, const char *s, int style,
    unsigned attr);
int grid_putn(struct grid *g, struct grid_rect r, int col, int row, const char *s, size_t len,
    int style, unsigned attr);
int grid_put_trunc(struct grid *g, struct grid_rect r, int col, int row, const char *s,
    int maxw, int style, unsigned attr);
void grid_box(struct grid *g, struct grid_rect r, enum grid_box kind, const char *title, int style,
    int title_style, unsigned title_attr);
void grid_hbar(struct grid *g, struct grid_rect r, int col, int row, int width, double frac,
    int style, int empty_style);
void grid_sparkline(struct grid *g, struct grid_rect r, int col, int row, int width,
    const double *v, int n, double lo, double hi, int style);
void grid_plot(struct grid *g, struct grid_rect r, const double *x, const double *y, int n,
    enum grid_plot mode, int style);

char *grid_dump(const struct grid *g);
char *grid_dump_styles(const struct grid *g);

#endif
