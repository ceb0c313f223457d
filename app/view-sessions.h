/*
 * view-sessions.h: the session browser, an overlay over the panes (F3 or O):
 * the saved transcripts newest first; Enter asks the loop to open the
 * selected one. Draws into a struct grid; no curses.
 */
#ifndef SEQMATCH_VIEW_SESSIONS_H
#define SEQMATCH_VIEW_SESSIONS_H

#include "grid.h"

struct view_sessions;

/* What a key asks of the loop. */
enum view_sessions_action {
	VIEW_SESSIONS_NONE,    /* not a browser key */
	VIEW_SESSIONS_REDRAW,  /* the selection moved */
	VIEW_SESSIONS_CLOSE,   /* Esc, q or F3: close the browser */
	VIEW_SESSIONS_OPEN     /* Enter: open view_sessions_selected, then close */
};

/* Read the sessions in dir (NULL: none can be saved: the browser says why). */
struct view_sessions *view_sessions_new(const char *dir);
void view_sessions_free(struct view_sessions *v);
/* Handle a key (a ui_key). */
enum view_sessions_action view_sessions_key(struct view_sessions *v, int key);
/* The selected session's file, or NULL when there is none. */
const char *view_sessions_selected(const struct view_sessions *v);
/* How many sessions are listed. */
size_t view_sessions_count(const struct view_sessions *v);
/* Draw the overlay centred in screen. */
void view_sessions_draw(struct view_sessions *v, struct grid *g, struct grid_rect screen);

#endif
