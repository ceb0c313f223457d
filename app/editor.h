/*
 * editor.h: the prompt editor, without a terminal: a multi-line UTF-8 buffer
 * with a cursor, the prompt history (keeping the unsent draft) and its file,
 * bracketed paste, and the round trip through $EDITOR. Keys are ui.h's.
 */
#ifndef SEQMATCH_EDITOR_H
#define SEQMATCH_EDITOR_H

#include <stddef.h>

#define EDITOR_MAX_BYTES 65536 /* longest draft (a model's context is far shorter) */
#define EDITOR_HISTORY 500     /* entries kept, in memory and in the file */

/* What a key did. */
enum editor_result {
	EDITOR_IGNORED,   /* not an editing key: the caller may use it */
	EDITOR_CHANGED,   /* the text or the cursor moved */
	EDITOR_SUBMIT     /* Enter outside a paste: send the draft */
};

/* The editor (embedded in its owner: editor_init / editor_release). */
struct editor {
	char *text;               /* valid UTF-8, NUL-terminated; no control characters but \n \t */
	size_t len, cap, cursor;  /* cursor: a byte offset on a character boundary */
	char **history;           /* (nhistory) oldest first */
	int nhistory;
	int hpos;                 /* the entry shown while browsing; nhistory: the draft */
	char *draft;              /* the unsent text kept while browsing */
	int pasting;              /* inside a bracketed paste */
	int paste_cr;             /* the last pasted key was a CR (a CR LF is one newline) */
	int truncated;            /* an insert hit EDITOR_MAX_BYTES */
};

void editor_init(struct editor *e);
void editor_release(struct editor *e);
/* Replace the text (sanitized: see editor_insert); the cursor goes to the end. */
void editor_set(struct editor *e, const char *s, size_t n);
/*
 * Insert bytes at the cursor: invalid UTF-8 becomes U+FFFD, CR LF and lone CR
 * become \n, other control characters but \n and \t are dropped.
 */
void editor_insert(struct editor *e, const char *s, size_t n);
/* Handle a key (ui.h numbering). */
enum editor_result editor_key(struct editor *e, int key);
/* The line (0-based) and the column (in characters) of the cursor. */
void editor_cursor_pos(const struct editor *e, int *line, int *col);
/* Lines in the text (1 for an empty text). */
int editor_lines(const struct editor *e);

/* Remember a sent prompt (not an empty one, not twice in a row) and reset browsing. */
void editor_remember(struct editor *e, const char *s);
/* The history file: $XDG_STATE_HOME/seqmatch/history, else ~/.local/state/...; NULL if neither. */
char *editor_history_path(void);
/*
 * Load the history file (a missing file is no history). Bad lines are skipped;
 * a file that is not a history file is not loaded. Returns 0, or -1 with a
 * one-line *cause (loaded what it could), or 1 (no file).
 */
int editor_history_load(struct editor *e, const char *path, char **cause);
/* Save the history to path atomically (temp file + rename, mode 0600). 0, or -1 with *cause. */
int editor_history_save(const struct editor *e, const char *path, char **cause);

/*
 * Edit text in $VISUAL, else $EDITOR, else vi, on a temp file under $TMPDIR:
 * on success *out is the file's text (at most EDITOR_MAX_BYTES; *truncated
 * says if it was longer) and 0 is returned; -1 with *cause on failure (the
 * editor failed or the file could not be read). Blocks until the editor ends;
 * the caller hands it the terminal.
 */
int editor_external(const char *text, char **out, int *truncated, char **cause);

/*
 * A one-line value field (a number or name typed into a pane's row), NUL-
 * terminated in buf (size bytes): printable ASCII other than space is typed,
 * Backspace and ^U delete. Returns 1 for Enter (take the value), -1 for Esc
 * (drop it), 0 otherwise.
 */
int editor_field_key(char *buf, size_t size, int key);

#endif
