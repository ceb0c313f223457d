/* layout.h: where each pane goes for a terminal size (one pure function, no curses). */
#ifndef SEQMATCH_LAYOUT_H
#define SEQMATCH_LAYOUT_H

#include "grid.h"

/* The panes and lines the layout places. */
enum layout_pane {
	LAYOUT_TEXT,     /* the prompt and generation (model A in compare mode) */
	LAYOUT_DECODE,   /* decoding parameters */
	LAYOUT_INSPECT,  /* token inspector */
	LAYOUT_STATS,    /* stats (model A in compare mode) */
	LAYOUT_FINETUNE, /* background fine-tune */
	LAYOUT_TEXT2,    /* compare mode: model B's text */
	LAYOUT_STATS2,   /* compare mode: model B's stats */
	LAYOUT_STATUS,   /* status line, one row, top or bottom */
	LAYOUT_KEYS,     /* key-hint line, one row, bottom */
	LAYOUT_COUNT
};

#define LAYOUT_NONE (-1)
#define LAYOUT_BIT(p) (1u << (p))
/* The panes a user toggles (TEXT2 and STATS2 follow compare mode and STATS). */
#define LAYOUT_ALL (LAYOUT_BIT(LAYOUT_TEXT) | LAYOUT_BIT(LAYOUT_DECODE) | \
	LAYOUT_BIT(LAYOUT_INSPECT) | LAYOUT_BIT(LAYOUT_STATS) | LAYOUT_BIT(LAYOUT_FINETUNE))

/* The floor: below it the UI draws only "terminal too small: have WxH, need WxH". */
#define LAYOUT_MIN_WIDTH 40
#define LAYOUT_MIN_HEIGHT 10

/* What to lay out. */
struct layout_request {
	int width, height; /* the terminal */
	unsigned enabled;  /* LAYOUT_BIT()s of the panes switched on; the text pane always is */
	int focus;         /* the focused pane */
	int zoom;          /* the zoomed pane, or LAYOUT_NONE */
	int compare;       /* two text panes (and stats) side by side */
	int status_top;    /* status line on the top row instead of above the key hints */
};

/* Where things go. A pane not shown has an empty rectangle (all zero). */
struct layout {
	int width, height;
	int too_small;             /* below the floor: nothing placed, draw the message */
	int need_width, need_height; /* the floor, for the message */
	unsigned shown;            /* LAYOUT_BIT()s of the panes (and lines) placed */
	unsigned collapsed;        /* enabled panes left out for lack of room */
	int focus;                 /* the focused pane, moved to the text pane if not shown */
	int zoom;                  /* the zoomed pane, or LAYOUT_NONE when no zoom applies */
	struct grid_rect body;     /* the rows between the status and key-hint lines */
	struct grid_rect rect[LAYOUT_COUNT];
};

void layout_compute(const struct layout_request *req, struct layout *out);
const char *layout_pane_name(int pane);

#endif
