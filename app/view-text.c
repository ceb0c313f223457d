/*
 * view-text.c: the text pane: the prompt editor and the generation, replayed
 * from the event log at a speed the user sets.
 *
 * How this works. The worker appends events to ui->log as fast as the model
 * goes; this pane shows the first `shown` of them, and tick() advances
 * `shown` at `speed` events a second, whatever the model's speed. Applying an
 * ERASE starts a flash: until flash_until the erased token is drawn in the
 * `erased` style (and while paused on an ERASE it stays flagged), then the
 * clean view drops it and the trail view keeps it as a `ghost`. The timeline
 * view is the branch view of view-branches.c (one row per rewritten
 * position). The text is rebuilt from the log
 * on every draw (a few hundred tokens), as bytes with one style per byte, so
 * a character split across tokens is drawn once it is complete.
 *
 * The pane has two modes: editing (letters go to the prompt editor,
 * editor.c; Enter generates) and playback (letters are playback keys; Enter
 * or i edits). In compare mode the pane of model B (ui->side 1) only plays
 * back: it shows model A's prompt read only and passes editing keys on.
 *
 * A click on a token selects its event for the inspector (ui->log.inspect);
 * the text and timeline scroll with the wheel or PgUp/PgDn (scroll counts
 * lines up from the end, 0 follows the end).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "editor.h"
#include "theme.h"
#include "tokenizer.h"
#include "ui.h"
#include "view-branches.h"

#define VIEW_TEXT_FLASH 0.35      /* seconds an erased token flashes */
#define VIEW_TEXT_DEFAULT_SPEED 5 /* index into view_text_speeds */

/* Playback speeds, events a second. */
static const double view_text_speeds[] = {1, 2, 5, 10, 20, 40, 80, 160, 320, 1000};
#define VIEW_TEXT_NSPEEDS (sizeof view_text_speeds / sizeof view_text_speeds[0])

enum view_text_view { VIEW_TEXT_CLEAN, VIEW_TEXT_TRAIL, VIEW_TEXT_TIMELINE, VIEW_TEXT_NVIEWS };
static const char *const view_text_view_names[] = {"clean", "trail", "timeline"};

/* The pane's state. */
struct view_text {
	struct editor ed;  /* the prompt editor */
	char *history_path; /* where the history is saved (NULL: nowhere) */
	int editing;
	int ptop;          /* the first prompt row shown (a tall draft scrolls) */
	int scroll;        /* text lines scrolled up from the end (0: follow the end) */
	struct grid_rect text_rect; /* where the text was last drawn, for clicks */
	int text_skip;     /* the lines the last draw skipped */
	/* Playback. */
	unsigned serial;   /* the log this playback follows */
	size_t shown;      /* events applied */
	int speed;         /* index into view_text_speeds */
	int paused;
	double last_step;  /* when the last event was applied */
	double flash_until;
	int view;
	/* Drawing scratch: the text as bytes with a style each. */
	char *buf;
	unsigned char *sty;
	long *evi;         /* (nbuf) the event each byte came from, -1: the prompt */
	size_t nbuf, capbuf;
};

/* Create the pane. */
static void *
view_text_init(struct ui *ui)
{
	struct view_text *t = xcalloc(1, sizeof *t);
	char *cause = NULL;

	editor_init(&t->ed);
	t->editing = ui->side == 0;
	t->speed = VIEW_TEXT_DEFAULT_SPEED;
	t->serial = ui->log.serial;
	if (ui->side == 0 && (t->history_path = editor_history_path()) != NULL &&
	    editor_history_load(&t->ed, t->history_path, &cause) < 0 && cause != NULL) {
		if (ui->message[0] == '\0')
			ui_message(ui, 1, "history: %s", cause);
		else /* keep the notice already there (a bad config) */
			ui_message(ui, 1, "%.120s; history: %s", ui->message, cause);
	}
	free(cause);
	return t;
}

/* Free the pane. */
static void
view_text_free(void *p)
{
	struct view_text *t = p;

	editor_release(&t->ed);
	free(t->history_path);
	free(t->buf);
	free(t->evi);
	free(t->sty);
	free(t);
}

/* Whether the prompt editor has the keyboard. */
int
view_text_editing(void *p)
{
	return ((struct view_text *)p)->editing;
}

/* The view, speed and pause state for the status line. */
void
view_text_describe(void *p, char *buf, size_t size)
{
	struct view_text *t = p;

	snprintf(buf, size, "%s %g/s%s", view_text_view_names[t->view],
	    view_text_speeds[t->speed], t->paused ? " paused" : "");
}

/* Replace the draft (after $EDITOR) and edit it. */
void
view_text_set_draft(void *p, const char *text)
{
	struct view_text *t = p;

	editor_set(&t->ed, text, strlen(text));
	t->editing = 1;
}

/* The view and the speed (events a second) for the UI-state file. */
int
view_text_get_state(void *p, int *view, int *speed)
{
	struct view_text *t = p;

	*view = t->view;
	*speed = (int)view_text_speeds[t->speed];
	return 0;
}

/* Restore the view (out of range: left alone) and the nearest speed. */
void
view_text_set_state(void *p, int view, int speed)
{
	struct view_text *t = p;
	size_t best = 0;

	if (view >= 0 && view < VIEW_TEXT_NVIEWS)
		t->view = view;
	if (speed <= 0)
		return;
	for (size_t i = 1; i < VIEW_TEXT_NSPEEDS; i++)
		if (fabs(view_text_speeds[i] - speed) < fabs(view_text_speeds[best] - speed))
			best = i;
	t->speed = (int)best;
}

/* Send the draft: remember it, save the history, ask the loop to generate. */
static int
view_text_submit(struct view_text *t, struct ui *ui)
{
	char *cause = NULL;

	if (ui->generating) {
		ui_message(ui, 1, "a generation is running: Esc or Ctrl-C stops it");
		return UI_REDRAW;
	}
	free(ui->request);
	ui->request = xstrdup(t->ed.text);
	editor_remember(&t->ed, t->ed.text);
	if (t->history_path != NULL && t->ed.nhistory > 0 &&
	    editor_history_save(&t->ed, t->history_path, &cause) != 0)
		ui_message(ui, 1, "history not saved: %s", cause != NULL ? cause : "?");
	free(cause);
	editor_set(&t->ed, "", 0);
	t->ptop = 0;
	t->editing = 0;
	return UI_GENERATE | UI_REDRAW;
}

/* A key while the prompt editor has the keyboard. */
static int
view_text_key_edit(struct view_text *t, struct ui *ui, int key)
{
	enum editor_result r;

	if (!t->ed.pasting) {
		switch (key) {
		case UI_CTRL('g'):
			free(ui->request);
			ui->request = xstrdup(t->ed.text);
			return UI_EDITOR | UI_REDRAW;
		case UI_KEY_ESC:
			if (ui->generating)
				return UI_STOP | UI_REDRAW;
			if (ui->log.inspect >= 0) { /* first drop a clicked selection */
				ui->log.inspect = -1;
				return UI_REDRAW;
			}
			if (ui->have_run) {
				t->editing = 0; /* to playback */
				return UI_REDRAW;
			}
			return 0;
		}
	}
	t->ed.truncated = 0;
	r = editor_key(&t->ed, key);
	if (t->ed.truncated)
		ui_message(ui, 1, "the prompt is limited to %d KiB", EDITOR_MAX_BYTES / 1024);
	if (r == EDITOR_SUBMIT)
		return view_text_submit(t, ui);
	if (r == EDITOR_CHANGED)
		return UI_REDRAW;
	return UI_PASS;
}

/* Whether the event at index i of the log is an ERASE. */
static int
view_text_is_erase(const struct ui *ui, size_t i)
{
	return i < ui->log.n && ui->log.ev[i].type == GENERATE_EVENT_ERASE;
}

/* Move playback to `to` events applied, paused (a step or a jump). */
static int
view_text_seek(struct view_text *t, struct ui *ui, size_t to)
{
	if (to > ui->log.n)
		to = ui->log.n;
	t->shown = to;
	t->paused = 1;
	t->flash_until = 0;
	return UI_REDRAW;
}

/* A key in playback mode. */
static int
view_text_key_play(struct view_text *t, struct ui *ui, int key)
{
	size_t i;

	switch (key) {
	case UI_KEY_ENTER:
	case 'i':
	case '/':
	case UI_KEY_PASTE_BEGIN:
		if (ui->side != 0)
			return UI_PASS; /* model B follows model A's prompt */
		t->editing = 1;
		return key == UI_KEY_PASTE_BEGIN ? view_text_key_edit(t, ui, key) : UI_REDRAW;
	case UI_KEY_ESC:
		if (ui->generating)
			return UI_STOP | UI_REDRAW;
		if (ui->log.inspect >= 0) { /* back to following the playback */
			ui->log.inspect = -1;
			return UI_REDRAW;
		}
		if (ui->side != 0)
			return UI_PASS;
		t->editing = 1;
		return UI_REDRAW;
	case 'v':
		t->view = (t->view + 1) % VIEW_TEXT_NVIEWS;
		return UI_REDRAW;
	case '+':
	case ']':
		if ((size_t)t->speed + 1 < VIEW_TEXT_NSPEEDS)
			t->speed++;
		return UI_REDRAW;
	case '-':
	case '[':
		if (t->speed > 0)
			t->speed--;
		return UI_REDRAW;
	case UI_KEY_PGUP:
		t->scroll += t->text_rect.h > 2 ? t->text_rect.h - 1 : 1;
		return UI_REDRAW;
	case UI_KEY_PGDN:
		t->scroll -= t->text_rect.h > 2 ? t->text_rect.h - 1 : 1;
		if (t->scroll < 0)
			t->scroll = 0;
		return UI_REDRAW;
	}
	/* The keys that move the playback also return the inspector to following it. */
	switch (key) {
	case ' ':
		ui->log.inspect = -1;
		t->paused = !t->paused;
		t->last_step = ui->now;
		return UI_REDRAW;
	case '.':
	case UI_KEY_RIGHT:
		ui->log.inspect = -1;
		return view_text_seek(t, ui, t->shown + 1);
	case ',':
	case UI_KEY_LEFT:
		ui->log.inspect = -1;
		return view_text_seek(t, ui, t->shown > 0 ? t->shown - 1 : 0);
	case UI_KEY_HOME:
		ui->log.inspect = -1;
		return view_text_seek(t, ui, 0);
	case UI_KEY_END:
		ui->log.inspect = -1;
		t->scroll = 0;
		return view_text_seek(t, ui, ui->log.n);
	case 'n':
		ui->log.inspect = -1;
		for (i = t->shown; i < ui->log.n; i++)
			if (view_text_is_erase(ui, i))
				return view_text_seek(t, ui, i + 1);
		ui_message(ui, 0, "no later <bksp>%s", ui->log.done ? "" : " yet");
		return UI_REDRAW;
	case 'N':
		ui->log.inspect = -1;
		for (i = t->shown > 1 ? t->shown - 1 : 0; i-- > 0;)
			if (view_text_is_erase(ui, i))
				return view_text_seek(t, ui, i + 1);
		ui_message(ui, 0, "no earlier <bksp>");
		return UI_REDRAW;
	case 'r':
		if (!ui->have_run)
			return 0;
		ui->log.inspect = -1;
		t->shown = 0;
		t->paused = 0;
		t->flash_until = 0;
		t->last_step = ui->now;
		t->scroll = 0;
		return UI_REDRAW;
	}
	return UI_PASS;
}

/* Handle a key. */
static int
view_text_key(void *p, struct ui *ui, int key)
{
	struct view_text *t = p;

	if (t->editing && ui->side == 0)
		return view_text_key_edit(t, ui, key);
	return view_text_key_play(t, ui, key);
}

/* Advance the playback to ui->now (view_text_tick publishes the result). */
static int
view_text_advance(void *p, struct ui *ui, double *wait)
{
	struct view_text *t = p;
	double period = 1.0 / view_text_speeds[t->speed], w;
	int changed = 0;

	if (t->serial != ui->log.serial) { /* a new generation: follow it from the start */
		t->serial = ui->log.serial;
		t->shown = 0;
		t->scroll = 0;
		t->paused = 0;
		t->flash_until = 0;
		t->last_step = ui->now;
		changed = 1;
	}
	if (t->flash_until > 0) {
		if (ui->now < t->flash_until) {
			w = t->flash_until - ui->now;
			if (*wait < 0 || w < *wait)
				*wait = w;
			return changed ? UI_REDRAW : 0;
		}
		t->flash_until = 0;
		t->last_step = ui->now;
		changed = 1;
	}
	if (t->paused || t->shown >= ui->log.n) {
		t->last_step = ui->now;
		return changed ? UI_REDRAW : 0;
	}
	while (t->shown < ui->log.n && ui->now - t->last_step >= period) {
		t->last_step += period;
		t->shown++;
		changed = 1;
		if (view_text_is_erase(ui, t->shown - 1)) {
			t->flash_until = ui->now + (period > VIEW_TEXT_FLASH ? period : VIEW_TEXT_FLASH);
			break;
		}
	}
	if (ui->now - t->last_step > period) /* do not run ahead after a stall */
		t->last_step = ui->now - period;
	if (t->flash_until > 0)
		w = t->flash_until - ui->now;
	else if (t->shown < ui->log.n)
		w = t->last_step + period - ui->now;
	else
		w = -1;
	if (w >= 0 && (*wait < 0 || w < *wait))
		*wait = w < 0.001 ? 0.001 : w;
	return changed ? UI_REDRAW : 0;
}

/* Advance the playback and publish its position for the stats and inspector panes. */
static int
view_text_tick(void *p, struct ui *ui, double *wait)
{
	struct view_text *t = p;
	int flags = view_text_advance(p, ui, wait);

	ui->log.shown = t->shown;
	return flags;
}

/* Append bytes in a style, from event ev (-1: the prompt), to the drawing buffer. */
static void
view_text_emit(struct view_text *t, const void *s, size_t n, int style, long ev)
{
	if (t->nbuf + n > t->capbuf) {
		t->capbuf = 2 * (t->nbuf + n) + 256;
		t->buf = xrealloc(t->buf, t->capbuf);
		t->sty = xrealloc(t->sty, t->capbuf);
		t->evi = xrealloc(t->evi, t->capbuf * sizeof *t->evi);
	}
	memcpy(t->buf + t->nbuf, s, n);
	memset(t->sty + t->nbuf, style, n);
	for (size_t i = 0; i < n; i++)
		t->evi[t->nbuf + i] = ev;
	t->nbuf += n;
}

/* Append the token of event ev (end-of-text shows nothing in the text). */
static void
view_text_emit_token(struct view_text *t, const struct ui *ui, size_t ev, int style)
{
	size_t n;
	const uint8_t *piece;
	int id = ui->log.ev[ev].token;

	if (id == tokenizer_eot(ui->tok) || id == tokenizer_bksp(ui->tok))
		return;
	piece = tokenizer_piece(ui->tok, id, &n);
	view_text_emit(t, piece, n, style, (long)ev);
}

/* Whether the erase just applied is to be flagged (flashing, or paused on it). */
static int
view_text_flagged(const struct view_text *t, const struct ui *ui)
{
	return t->shown > 0 && view_text_is_erase(ui, t->shown - 1) &&
	    (t->flash_until > 0 || t->paused);
}

/* Whether bytes s[0..n) end inside a UTF-8 character (its lead byte still waits for more). */
static int
view_text_cut(const unsigned char *s, size_t n)
{
	for (size_t k = 1; k <= 4 && k <= n; k++) {
		unsigned char c = s[n - k];

		if ((c & 0xc0) == 0x80)
			continue; /* a continuation byte: the lead is further back */
		if (c < 0xc2 || c > 0xf4)
			return 0;
		return k < (size_t)(c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4);
	}
	return 0;
}

/* Build the clean or trail text of the first `shown` events into the buffer. */
static void
view_text_build(struct view_text *t, const struct ui *ui)
{
	size_t n = t->shown, nlive = 0, i;
	size_t *live = xmalloc((n + 1) * sizeof *live); /* event indices of live tokens */
	unsigned char *ghost = xcalloc(n + 1, 1);       /* APPEND events later erased */
	int flagged = view_text_flagged(t, ui);
	size_t flag_idx = (size_t)-1;

	t->nbuf = 0;
	if (ui->log.prompt != NULL)
		view_text_emit(t, ui->log.prompt, strlen(ui->log.prompt), THEME_SLOT_PROMPT, -1);
	for (i = 0; i < n; i++) {
		if (ui->log.ev[i].type == GENERATE_EVENT_APPEND)
			live[nlive++] = i;
		else if (nlive > 0) {
			nlive--;
			ghost[live[nlive]] = 1;
			if (i == n - 1)
				flag_idx = live[nlive];
		}
	}
	if (t->view == VIEW_TEXT_TRAIL) {
		/*
		 * Ghosts go where they were typed, except inside a live character
		 * split across tokens: they wait until its last byte is out, so
		 * they never join (and spoil) the live character's bytes.
		 */
		size_t npend = 0;

		for (i = 0; i < n; i++) {
			if (ui->log.ev[i].type != GENERATE_EVENT_APPEND)
				continue;
			if (ghost[i]) {
				live[npend++] = i; /* live[] is free now: the pending ghosts */
				if (view_text_cut((const unsigned char *)t->buf, t->nbuf))
					continue;
			} else
				view_text_emit_token(t, ui, i, THEME_SLOT_GENERATED);
			if (view_text_cut((const unsigned char *)t->buf, t->nbuf))
				continue;
			for (size_t k = 0; k < npend; k++)
				view_text_emit_token(t, ui, live[k], (flagged && live[k] ==
				    flag_idx) ? THEME_SLOT_ERASED : THEME_SLOT_GHOST);
			npend = 0;
		}
		for (size_t k = 0; k < npend; k++) /* the text ends inside a character */
			view_text_emit_token(t, ui, live[k], (flagged && live[k] == flag_idx) ?
			    THEME_SLOT_ERASED : THEME_SLOT_GHOST);
	} else {
		for (i = 0; i < nlive; i++)
			view_text_emit_token(t, ui, live[i], THEME_SLOT_GENERATED);
		if (flagged && flag_idx != (size_t)-1)
			view_text_emit_token(t, ui, flag_idx, THEME_SLOT_ERASED);
	}
	free(live);
	free(ghost);
}

/*
 * Bytes of the UTF-8 sequence at s (n left): the whole character, 0 if it is
 * cut off at the end (the rest may come with the next token), else the
 * maximal invalid part (drawn as one replacement character).
 */
static size_t
view_text_seq(const unsigned char *s, size_t n)
{
	size_t want, i;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 1;
	want = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	for (i = 1; i < want; i++) {
		if (i >= n)
			return 0;
		if ((s[i] & 0xc0) != 0x80)
			return i;
	}
	return want;
}

/* The style of a character split across tokens: the most erased of its bytes'. */
static int
view_text_char_style(const unsigned char *sty, size_t len)
{
	int st = sty[0];

	for (size_t k = 1; k < len; k++) {
		if (sty[k] == THEME_SLOT_ERASED || (sty[k] == THEME_SLOT_GHOST &&
		    st != THEME_SLOT_ERASED))
			st = sty[k];
		else if (sty[k] == THEME_SLOT_GENERATED && st == THEME_SLOT_PROMPT)
			st = sty[k];
	}
	return st;
}

/* Cells of the word starting at byte i (up to a space, tab, newline or a cut-off character). */
static int
view_text_word_width(const struct view_text *t, size_t i, enum grid_glyphs glyphs)
{
	const unsigned char *b = (const unsigned char *)t->buf;
	size_t len;
	int w = 0;

	while (i < t->nbuf && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' &&
	    (len = view_text_seq(b + i, t->nbuf - i)) > 0) {
		w += grid_text_width(t->buf + i, len, glyphs);
		i += len;
	}
	return w;
}

/*
 * Flow the buffer into r (wrapping before a word that does not fit, inside
 * one longer than the width, breaking at newlines), skipping the first `skip`
 * lines; draws when g is not NULL. Returns the number of lines the whole text
 * takes. With hit not NULL, *hit gets the byte index of the character drawn
 * at (hx, hy) (relative to r), or stays.
 */
static int
view_text_flow(struct view_text *t, struct grid *g, enum grid_glyphs glyphs,
    struct grid_rect r, int skip, int hx, int hy, long *hit)
{
	int x = 0, line = 0, w, ww;
	size_t i = 0, len;
	const unsigned char *b = (const unsigned char *)t->buf;

	while (i < t->nbuf) {
		if (b[i] == '\n') {
			line++;
			x = 0;
			i++;
			continue;
		}
		len = view_text_seq(b + i, t->nbuf - i);
		if (len == 0) /* an incomplete character at the end: wait for the rest */
			break;
		if (b[i] == '\t')
			w = 1;
		else
			w = grid_text_width(t->buf + i, len, glyphs);
		if (x > 0 && b[i] != ' ' && b[i] != '\t' && (b[i - 1] == ' ' || b[i - 1] == '\t') &&
		    (ww = view_text_word_width(t, i, glyphs)) <= r.w && x + ww > r.w) {
			line++; /* the word goes to the next line whole */
			x = 0;
		} else if (w > 0 && x + w > r.w) {
			line++;
			x = 0;
			if (b[i] == ' ') { /* a space at the break is not carried to the next line */
				i += len;
				continue;
			}
		}
		if (g != NULL && line >= skip && line - skip < r.h)
			grid_putn(g, r, x, line - skip, b[i] == '\t' ? " " : t->buf + i,
			    b[i] == '\t' ? 1 : len, view_text_char_style(t->sty + i, len), 0);
		if (hit != NULL && line - skip == hy && hx >= x && hx < x + (w > 0 ? w : 1))
			*hit = (long)i;
		x += w;
		i += len;
	}
	return line + 1;
}

/* Draw the timeline view: the branch view of the events shown (view-branches.c). */
static void
view_text_draw_timeline(struct view_text *t, struct ui *ui, struct grid *g,
    struct grid_rect r)
{
	view_branches_draw(ui, g, r, t->shown, &t->scroll);
}

/*
 * Lay out prompt text s (len bytes) in rows of width w (a newline or the edge
 * starts a row); draws the rows from `top` into r when g is not NULL, the
 * character at byte `cursor` (or a blank, at the end of a line) in the cursor
 * style unless cursor is -1. *cur_row gets the cursor's row. Returns the rows.
 */
static int
view_text_prompt_flow(const char *s, size_t len, long cursor, struct grid *g,
    struct grid_rect r, int top, enum grid_glyphs glyphs, int style, int *cur_row)
{
	int x = 0, row = 0, cw;
	size_t i = 0, n;

	*cur_row = 0;
	for (;;) {
		int at = cursor >= 0 && (size_t)cursor == i;

		if (i >= len || s[i] == '\n') {
			if (at && x >= r.w) { /* the cursor past a full row starts the next */
				row++;
				x = 0;
			}
			if (at) {
				*cur_row = row;
				if (g != NULL && row >= top && row - top < r.h)
					grid_put(g, r, x, row - top, " ", THEME_SLOT_CURSOR, 0);
			}
			if (i >= len)
				break;
			row++;
			x = 0;
			i++;
			continue;
		}
		n = 1;
		while (i + n < len && ((unsigned char)s[i + n] & 0xc0) == 0x80)
			n++;
		cw = s[i] == '\t' ? 1 : grid_text_width(s + i, n, glyphs);
		if (cw > 0 && x + cw > r.w) {
			row++;
			x = 0;
		}
		if (at)
			*cur_row = row;
		if (g != NULL && row >= top && row - top < r.h)
			grid_putn(g, r, x, row - top, s[i] == '\t' ? " " : s + i,
			    s[i] == '\t' ? 1 : n, at ? THEME_SLOT_CURSOR : style, 0);
		x += cw;
		i += n;
	}
	return row + 1;
}

/* Rows the prompt area needs in a pane of inner size (w, h): its draft's, up to half. */
static int
view_text_prompt_rows(struct view_text *t, struct ui *ui, int w, int h)
{
	const char *s = ui->side != 0 ? ui->log.prompt : t->ed.text;
	int rows, cur, cap = h / 2 > 1 ? h / 2 : 1;

	if (s == NULL || w <= 3 || (ui->side == 0 && !t->editing && t->ed.len == 0))
		return 1;
	rows = view_text_prompt_flow(s, strlen(s), ui->side == 0 ? (long)t->ed.cursor : -1, NULL,
	    grid_rect_make(0, 0, w - 2, 1), 0, ui->glyphs, 0, &cur);
	return rows < cap ? rows : cap;
}

/* Draw the prompt area: "> " and the draft, scrolled to show the cursor. */
static void
view_text_draw_prompt(struct view_text *t, struct ui *ui, struct grid *g, struct grid_rect r,
    int focused)
{
	int active = focused && t->editing && ui->side == 0;
	int avail = r.w - 2, rows, cur;
	struct grid_rect body = grid_rect_make(r.x + 2, r.y, avail, r.h);

	grid_put(g, r, 0, 0, "> ", active ? THEME_SLOT_PROMPT : THEME_SLOT_DIM, 0);
	for (int k = 1; k < r.h; k++)
		grid_put(g, r, 0, k, ": ", THEME_SLOT_DIM, 0);
	if (avail <= 1)
		return;
	if (ui->side != 0) { /* compare mode, model B: A's prompt, read only */
		if (ui->log.prompt == NULL)
			grid_put_trunc(g, body, 0, 0, "the prompt of model A", avail,
			    THEME_SLOT_DIM, 0);
		else
			view_text_prompt_flow(ui->log.prompt, strlen(ui->log.prompt), -1, g, body,
			    0, ui->glyphs, THEME_SLOT_DIM, &cur);
		return;
	}
	if (!t->editing && t->ed.len == 0) {
		grid_put_trunc(g, body, 0, 0, ui->generating ? "generating... Esc stops" :
		    "Enter or i: edit the prompt", avail, THEME_SLOT_DIM, 0);
		return;
	}
	if (t->ed.len == 0 && !ui->have_run)
		grid_put_trunc(g, body, 1, 0, "type a prompt, Enter generates", avail - 1,
		    THEME_SLOT_DIM, 0);
	rows = view_text_prompt_flow(t->ed.text, t->ed.len, active ? (long)t->ed.cursor : -1,
	    NULL, body, 0, ui->glyphs, 0, &cur);
	if (cur < t->ptop)
		t->ptop = cur;
	if (cur >= t->ptop + r.h)
		t->ptop = cur - r.h + 1;
	if (t->ptop > rows - r.h)
		t->ptop = rows - r.h > 0 ? rows - r.h : 0;
	view_text_prompt_flow(t->ed.text, t->ed.len, active ? (long)t->ed.cursor : -1, g, body,
	    t->ptop, ui->glyphs, active ? THEME_SLOT_TEXT : THEME_SLOT_DIM, &cur);
	if (t->ptop > 0)
		grid_put(g, r, 0, 0, "^ ", THEME_SLOT_DIM, 0);
	if (t->ptop + r.h < rows)
		grid_put(g, r, 0, r.h - 1, "v ", THEME_SLOT_DIM, 0);
}

/* Draw the pane. */
static void
view_text_draw(void *p, struct ui *ui, struct grid *g, struct grid_rect r, int focused)
{
	struct view_text *t = p;
	struct grid_rect in = grid_rect_inset(r, 1), text, prompt;
	char title[96];
	int lines, prows, top;

	if (t->shown > ui->log.n)
		t->shown = ui->log.n;
	ui->log.shown = t->shown; /* drawn before the panes that read it (LAYOUT_TEXT is 0) */
	if (ui->have_run) /* events shown of those logged: the playback position */
		snprintf(title, sizeof title, "Text%s%s - %s%s - %zu/%zu%s%s",
		    ui->label != NULL ? " " : "", ui->label != NULL ? ui->label : "",
		    view_text_view_names[t->view], t->paused ? " (paused)" : "", t->shown,
		    ui->log.n, ui->generating ? " - generating" : "",
		    t->scroll > 0 ? " - scrolled" : "");
	else
		snprintf(title, sizeof title, "Text%s%s - %s", ui->label != NULL ? " " : "",
		    ui->label != NULL ? ui->label : "", view_text_view_names[t->view]);
	grid_box(g, r, focused ? GRID_BOX_HEAVY : GRID_BOX_LIGHT, title,
	    focused ? THEME_SLOT_BORDER_FOCUS : THEME_SLOT_BORDER, THEME_SLOT_TITLE, 0);
	t->text_rect = grid_rect_make(0, 0, 0, 0);
	if (grid_rect_empty(in))
		return;
	prows = view_text_prompt_rows(t, ui, in.w, in.h);
	text = grid_rect_make(in.x, in.y, in.w, in.h - prows);
	prompt = grid_rect_make(in.x, in.y + in.h - prows, in.w, prows);
	t->text_rect = text;
	if (!ui->have_run) {
		grid_put_trunc(g, text, 0, 0, ui->side != 0 ? "Model B: the same prompt, its "
		    "own text." : "Type a prompt below and press Enter.", text.w, THEME_SLOT_DIM, 0);
		if (ui->model_bksp)
			grid_put_trunc(g, text, 0, 1, "This model can erase (<bksp>): watch for it.",
			    text.w, THEME_SLOT_DIM, 0);
	} else if (t->view == VIEW_TEXT_TIMELINE) {
		if ((size_t)t->scroll > t->shown)
			t->scroll = (int)t->shown;
		view_text_draw_timeline(t, ui, g, text);
	} else {
		view_text_build(t, ui);
		lines = view_text_flow(t, NULL, ui->glyphs, text, 0, 0, 0, NULL);
		top = lines > text.h ? lines - text.h : 0;
		if (t->scroll > top)
			t->scroll = top;
		t->text_skip = top - t->scroll;
		view_text_flow(t, g, ui->glyphs, text, t->text_skip, 0, 0, NULL);
	}
	view_text_draw_prompt(t, ui, g, prompt, focused);
}

/* A click or the wheel: a token click selects its event for the inspector. */
static int
view_text_click(void *p, struct ui *ui, struct grid_rect r, int x, int y, int button)
{
	struct view_text *t = p;
	struct grid_rect tr = t->text_rect;
	long hit = -1;

	if (button == 4) {
		t->scroll += 3;
		return UI_REDRAW;
	}
	if (button == 5) {
		t->scroll = t->scroll > 3 ? t->scroll - 3 : 0;
		return UI_REDRAW;
	}
	if (button != 1 || !ui->have_run || x < tr.x || x >= tr.x + tr.w || y < tr.y ||
	    y >= tr.y + tr.h) {
		if (button == 1 && ui->side == 0 && y >= tr.y + tr.h && y < r.y + r.h - 1) {
			t->editing = 1; /* a click on the prompt area edits */
			return UI_REDRAW;
		}
		return 0;
	}
	if (t->view == VIEW_TEXT_TIMELINE) {
		hit = view_branches_hit(ui, tr, t->shown, t->scroll, y - tr.y);
	} else {
		long byte = -1;

		view_text_build(t, ui);
		view_text_flow(t, NULL, ui->glyphs, tr, t->text_skip, x - tr.x, y - tr.y, &byte);
		if (byte >= 0)
			hit = t->evi[byte];
	}
	if (hit < 0)
		return 0;
	ui->log.inspect = hit;
	return UI_REDRAW;
}

const struct ui_pane view_text_pane = {
	.name = "Text",
	.init = view_text_init,
	.draw = view_text_draw,
	.key = view_text_key,
	.click = view_text_click,
	.tick = view_text_tick,
	.free = view_text_free,
};
