/*
 * uistate.h: the UI state file, $XDG_STATE_HOME/seqmatch/ui.yaml (else
 * ~/.local/state/seqmatch/ui.yaml): what the UI remembers between runs (the
 * theme last picked, the enabled, zoomed and focused panes, the text pane's
 * view and speed). The program writes it; config.yaml, which the user writes,
 * is never touched. No curses here.
 */
#ifndef SEQMATCH_UISTATE_H
#define SEQMATCH_UISTATE_H

#include <stddef.h>

#define UISTATE_VERSION 1                   /* the format written */
#define UISTATE_MAX_FILE_SIZE (64u * 1024u) /* bytes; a bigger file is refused */
#define UISTATE_THEME_MAX 256               /* bytes of a theme name or path, NUL included */

/* The state; uistate_init gives the defaults (what a missing file means). */
struct uistate {
	char theme[UISTATE_THEME_MAX]; /* the theme last picked (name or path), "": none */
	unsigned panes;                /* LAYOUT_BIT()s of the enabled panes (text always) */
	int zoom;                      /* the zoomed pane, or LAYOUT_NONE */
	int focus;                     /* the focused pane */
	int view;                      /* the text pane's view, -1: not saved */
	int speed;                     /* the text pane's speed, -1: not saved */
};

/* The defaults: no theme, every pane, no zoom, the text pane focused, no view or speed. */
void uistate_init(struct uistate *st);
/*
 * The file's path from the environment values (NULL or empty when unset):
 * $XDG_STATE_HOME/seqmatch/ui.yaml when it is absolute, else
 * $HOME/.local/state/seqmatch/ui.yaml; NULL without either (malloc'd).
 */
char *uistate_path(const char *xdg_state_home, const char *home);
/* The name a pane has in the file ("decode"), or NULL for a pane it does not hold. */
const char *uistate_pane_name(int pane);
/*
 * Parse the file's text (name for messages). 0 with *st set; -1 with
 * "name:line:col: message" in *cause (free it) and *st untouched.
 */
int uistate_parse(struct uistate *st, const char *text, size_t len, const char *name,
    char **cause);
/* Load path: 0 loaded, 1 no such file (*st untouched), -1 bad or unreadable (*cause). */
int uistate_load(struct uistate *st, const char *path, char **cause);
/* The file's text for st (malloc'd). */
char *uistate_format(const struct uistate *st);
/*
 * Save st to path: directories created, written to a temporary file in the
 * same directory, fsync'd and renamed over path, so an interrupted or failed
 * save leaves the old file. If the file there cannot be read back as a state
 * file (the user broke it), it is first kept as path.bad and *note (may be
 * NULL; free it) says so. 0, or -1 with *cause and the old file left alone.
 */
int uistate_save(const struct uistate *st, const char *path, char **note, char **cause);

#endif
