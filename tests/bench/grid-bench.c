/* grid-bench.c: time full redraws of a 200x60 screen into the cell grid (make tests/bench/grid-bench). */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grid.h"
#include "layout.h"

#define BENCH_FRAMES 1000

/* Seconds on a monotonic clock. */
static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* One frame as the UI will draw it: layout, boxes, every text row full, stats, plots. */
static void
bench_frame(struct grid *g, int frame)
{
	static const char words[] = "Once upon a time there was a small model that wrote, "
	    "erased and wrote again; the naïve café menu said 日本語 and nobody minded. ";
	struct layout_request req = {g->width, g->height, LAYOUT_ALL, LAYOUT_TEXT, LAYOUT_NONE,
		0, 0};
	struct layout lo;
	double v[256], px[64], py[64];
	char buf[64];

	layout_compute(&req, &lo);
	grid_clear(g, 0);
	for (int i = 0; i < 256; i++)
		v[i] = sin((i + frame) * 0.1);
	for (int i = 0; i < 64; i++) {
		px[i] = i / 63.0;
		py[i] = 1 - sqrt(px[i]);
	}
	for (int p = 0; p < LAYOUT_STATUS; p++) {
		struct grid_rect r = lo.rect[p], in = grid_rect_inset(r, 1);

		if (!(lo.shown & LAYOUT_BIT(p)))
			continue;
		grid_box(g, r, p == lo.focus ? GRID_BOX_HEAVY : GRID_BOX_LIGHT, layout_pane_name(p),
		    1, 2, 0);
		for (int row = 0; row < in.h; row++) {
			switch (p) {
			case LAYOUT_TEXT: { /* a full page of text, several styles a row */
				int col = 0;

				while (col < in.w)
					col = grid_put(g, in, col, row, words + (row * 7 + col) % 40,
					    3 + (col & 3), 0);
				break;
			}
			case LAYOUT_STATS:
				if (row < 4) {
					snprintf(buf, sizeof buf, "value %d: %.3f", row, v[row]);
					grid_put(g, in, 0, row, buf, 3, 0);
				}
				break;
			default:
				snprintf(buf, sizeof buf, "parameter %2d", row);
				grid_put(g, in, 0, row, buf, 3, 0);
				grid_hbar(g, in, 14, row, in.w - 20, (row % 10) / 10.0, 4, 5);
				break;
			}
		}
		if (p == LAYOUT_STATS)
			grid_plot(g, grid_rect_make(in.x, in.y + 4, in.w, in.h - 4), px, py, 64,
			    GRID_PLOT_BRAILLE, 6);
		if (p == LAYOUT_FINETUNE)
			grid_sparkline(g, in, 0, in.h - 1, in.w, v, 256, 0, 0, 6);
	}
	grid_fill(g, lo.rect[LAYOUT_STATUS], " ", 7, GRID_ATTR_REVERSE);
	grid_put(g, lo.rect[LAYOUT_STATUS], 1, 0, "seqmatch | model.bin | seed 42", 7,
	    GRID_ATTR_REVERSE);
	grid_put(g, lo.rect[LAYOUT_KEYS], 0, 0, "q Quit  ? Help  Tab Pane  e Zoom", 8, 0);
}

int
main(int argc, char **argv)
{
	int frames = argc > 1 ? atoi(argv[1]) : BENCH_FRAMES;
	struct grid g;
	double t0, t;

	if (frames <= 0)
		frames = BENCH_FRAMES;
	if (grid_init(&g, 200, 60, GRID_GLYPHS_UTF8) != 0) {
		fprintf(stderr, "grid-bench: out of memory\n");
		return 1;
	}
	bench_frame(&g, 0); /* warm up */
	t0 = bench_now();
	for (int i = 0; i < frames; i++)
		bench_frame(&g, i);
	t = bench_now() - t0;
	printf("grid-bench: %d full redraws at 200x60: %.1f us/frame (target < 2000)\n", frames,
	    t / frames * 1e6);
	grid_release(&g);
	return 0;
}
