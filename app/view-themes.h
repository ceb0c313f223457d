/*
 * view-themes.h: the theme picker, an overlay over the panes (F2 or T): the
 * themes of the search path with where each comes from, the shown one
 * marked; moving the selection loads that theme at once (live preview),
 * Enter keeps it, Esc or q puts the previous one back. A theme that does not
 * load shows its first error in the overlay and the colours stay. No curses:
 * it draws into a struct grid and hands the UI a struct theme.
 */
#ifndef SEQMATCH_VIEW_THEMES_H
#define SEQMATCH_VIEW_THEMES_H

#include "grid.h"
#include "theme.h"

/* What view_themes_key asks of the UI (bits). */
#define VIEW_THEMES_REDRAW 0x01   /* draw a frame */
#define VIEW_THEMES_RECOLOUR 0x02 /* the shown theme changed: rebuild the colour pairs */
#define VIEW_THEMES_CLOSE 0x04    /* the picker is done: free it */
#define VIEW_THEMES_PICKED 0x08   /* closed by Enter: view_themes_pick names the theme */

struct view_themes;

/*
 * Open the picker. current is the name or path the shown theme was loaded
 * from ("" for the built-in one), shown the theme itself (copied: Esc brings
 * it back), exe_dir the program's directory for the search path (may be
 * NULL). The search path comes from $XDG_CONFIG_HOME and $HOME.
 */
struct view_themes *view_themes_new(const char *current, const struct theme *shown,
    const char *exe_dir);
void view_themes_free(struct view_themes *v);
/* A key (enum ui_key or a code point): VIEW_THEMES_* bits; *shown gets previews. */
int view_themes_key(struct view_themes *v, int key, struct theme *shown);
/* The name (or path) of the theme kept by Enter. */
const char *view_themes_pick(const struct view_themes *v);
/* Draw the overlay, centred in the grid (it fits from 40x10 up). */
void view_themes_draw(const struct view_themes *v, struct grid *g);

#endif
