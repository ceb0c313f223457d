/*
 * view-text.c: the text pane: the prompt editor and the generation, replayed
 * from the event log at a speed the user sets.
 *
 * How this works. The worker appends events to ui->log as fast as the model
 * goes; this pane shows the first `shown` of them, and tick() advances
 * `shown` at `speed` events a second, whatever the model's speed. Applying an
 * ERASE starts a flash: until flash_until the erased token is drawn in the
 * `erased` style (and while paused on an ERASE it stays flagged, with
 * P(<bksp>) against the best token on the last row); the flash lasts as long
 * as VIEW_TEXT_FLASH_EVENTS events at the speed, at most VIEW_TEXT_FLASH
 * seconds, and in auto-pause mode (a) the playback stops there instead. Then
 * the clean view leaves a mark and the trail view keeps the token struck
 * through. The timeline view is the branch view of view-branches.c (one
 * row per rewritten position). The text is rebuilt from the log on every
 * draw (a few hundred tokens), as bytes with one style per byte, so a
 * character split across tokens is drawn once it is complete.
 *
 * Marks. The clean view keeps a trace of every rewritten position: replaying
 * the log gives each position (counted from the prompt's end) its erased
 * attempts. A run of rewritten positions (taken back by one erase run) is
 * drawn as the text last erased there, struck through (U+0336 after each
 * character; ~text~ in ASCII) in the `ghost` style, then the live text in the
 * `mark` style; when the live text is what was erased (an identical retype)
 * no struck text, but a count (x2, ^2 in ASCII) of the times it was written.
 * The erase run going on at the end shows struck too. Marks wait while the
 * text ends inside a character split across tokens, so they never split it.
 * The trail view strikes its ghosts the same way, so they never read as
 * words of the sentence. m and M select the next and previous mark:
 * the inspector shows its <bksp> decision (a click on a mark does the same).
 *
 * The pane has two modes: editing (letters go to the prompt editor,
 * editor.c; Enter generates) and playback (letters are playback keys; Enter
 * or i edits). In compare mode the pane of model B (ui->side 1) only plays
 * back: it shows model A's prompt read only and passes editing keys on. The
 * two panes play in lockstep (view_text_lock): A's pane holds the one clock,
 * counting events of both logs (an erase in either stops both), B's copies
 * its position, and B's playback keys drive A's clock.
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

#define VIEW_TEXT_FLASH 0.35      /* seconds an erased token flashes, at most */
#define VIEW_TEXT_FLASH_EVENTS 14 /* ... or as long as this many events at the speed */
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
	char *sent;        /* the prompt just sent, until the generation starts (or is refused) */
	unsigned sent_serial; /* the log's serial when it was sent */
	int ptop;          /* the first prompt row shown (a tall draft scrolls) */
	int scroll;        /* text lines scrolled up from the end (0: follow the end) */
	struct grid_rect text_rect; /* where the text was last drawn, for clicks */
	int text_skip;     /* the lines the last draw skipped */
	/* Playback. */
	unsigned serial;   /* the log this playback follows */
	size_t pos;        /* the playback clock: steps applied (in lockstep, of both logs) */
	size_t shown;      /* events of this log applied: pos, at most the log's length */
	int speed;         /* index into view_text_speeds */
	int paused;
	double last_step;  /* when the last event was applied */
	double flash_until;
	int view;
	int autopause;     /* stop the playback at each <bksp> */
	/* Compare mode (view_text_lock): A's pane has a peer, B's a leader. */
	struct view_text *peer, *leader;
	struct ui *peer_ui, *leader_ui;
	/* Drawing scratch: the text as bytes with a style each. */
	char *buf;
	unsigned char *sty;
	long *evi;         /* (nbuf) the event each byte came from, -1: the prompt */
	size_t nbuf, capbuf;
	long select;       /* the event whose text is drawn selected (-1: none) */
	long find_ev;      /* view_text_flow: find the line of this event's text (-1: no) */
	int found_line;
	long *marks;       /* the <bksp> event of each mark, in text order (last build) */
	size_t nmarks, capmarks;
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
	t->select = -1;
	t->find_ev = -1;
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
	free(t->sent);
	free(t->history_path);
	free(t->buf);
	free(t->evi);
	free(t->sty);
	free(t->marks);
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

	snprintf(buf, size, "%s %g/s%s%s", view_text_view_names[t->view],
	    view_text_speeds[t->speed], t->autopause ? " auto-pause" : "",
	    t->paused ? " paused" : "");
}

/* Ctrl-C: pause a playback that is still animating; 1 if it was. */
int
view_text_stop(void *p, struct ui *ui)
{
	struct view_text *t = p;

	if (t->paused || t->shown >= ui->log.n)
		return 0;
	t->paused = 1;
	return 1;
}

/* Give the prompt editor the keyboard (Esc from another pane). */
void
view_text_edit(void *p, struct ui *ui)
{
	struct view_text *t = p;

	if (ui->side == 0)
		t->editing = 1;
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
	free(t->sent);
	t->sent = xstrdup(t->ed.text);
	t->sent_serial = ui->log.serial;
	editor_set(&t->ed, "", 0);
	t->ptop = 0;
	t->editing = 0;
	return UI_GENERATE | UI_REDRAW;
}

/*
 * After a send: when the loop refused to start it (too long for the context,
 * not encodable), put the prompt back in the editor and say so, rather than
 * leave an empty editor. Returns UI_REDRAW when it did.
 */
static int
view_text_check_sent(struct view_text *t, struct ui *ui)
{
	char why[192];

	if (t->sent == NULL || ui->generating)
		goto done;
	if (ui->log.serial != t->sent_serial || t->ed.len > 0)
		goto done; /* it started (and perhaps ended), or a new draft is being typed */
	snprintf(why, sizeof why, "%.150s", ui->message);
	editor_set(&t->ed, t->sent, strlen(t->sent));
	t->editing = 1;
	ui_message(ui, 1, "%s; it is back in the editor (and Up recalls it)",
	    why[0] != '\0' ? why : "not sent");
	free(t->sent);
	t->sent = NULL;
	return UI_REDRAW;
done:
	free(t->sent);
	t->sent = NULL;
	return 0;
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

/* Whether the playback step i is an ERASE on this side or, in lockstep, the other. */
static int
view_text_erase_at(const struct view_text *t, const struct ui *ui, size_t i)
{
	return view_text_is_erase(ui, i) || (t->peer_ui != NULL &&
	    view_text_is_erase(t->peer_ui, i));
}

/*
 * The steps the playback may show: the log's events; in lockstep the longer
 * log's, but no further than a log still being written (both wait for it).
 */
static size_t
view_text_total(const struct view_text *t, const struct ui *ui)
{
	const struct ui_log *a = &ui->log, *b;
	size_t n = a->n;

	if (t->peer_ui == NULL || !t->peer_ui->have_run)
		return n;
	b = &t->peer_ui->log;
	if (b->n > n)
		n = b->n;
	if (!a->done && ui->generating && a->n < n)
		n = a->n;
	if (!b->done && t->peer_ui->generating && b->n < n)
		n = b->n;
	return n;
}

/* The events of this side's log shown now. */
static size_t
view_text_shown(const struct view_text *t, const struct ui *ui)
{
	return t->pos < ui->log.n ? t->pos : ui->log.n;
}

/* Move playback to `to` events applied, paused (a step or a jump). */
static int
view_text_seek(struct view_text *t, struct ui *ui, size_t to)
{
	size_t total = view_text_total(t, ui);

	if (to > total)
		to = total;
	t->pos = to;
	t->paused = 1;
	t->flash_until = 0;
	return UI_REDRAW;
}

/* Forget the inspector's selection on this side and the other. */
static void
view_text_unselect(struct view_text *t, struct ui *ui)
{
	ui->log.inspect = -1;
	if (t->peer_ui != NULL)
		t->peer_ui->log.inspect = -1;
}

static void view_text_build(struct view_text *t, const struct ui *ui);
static int view_text_flow(struct view_text *t, struct grid *g, enum grid_glyphs glyphs,
    struct grid_rect r, int skip, int hx, int hy, long *hit);

/* Scroll the text (as last built and drawn) so that the text of event ev shows. */
static void
view_text_scroll_to(struct view_text *t, const struct ui *ui, long ev)
{
	struct grid_rect r = t->text_rect;
	int lines, top, skip;

	if (grid_rect_empty(r))
		return;
	t->find_ev = ev;
	t->found_line = -1;
	lines = view_text_flow(t, NULL, ui->glyphs, r, 0, 0, 0, NULL);
	t->find_ev = -1;
	if (t->found_line < 0)
		return;
	top = lines > r.h ? lines - r.h : 0;
	skip = top - t->scroll;
	if (t->found_line >= skip && t->found_line < skip + r.h)
		return; /* already on screen */
	skip = t->found_line - r.h / 2;
	skip = skip < 0 ? 0 : skip > top ? top : skip;
	t->scroll = top - skip;
}

/* Select the next (dir 1) or previous (-1) mark for the inspector. */
static int
view_text_select_mark(struct view_text *t, struct ui *ui, int dir)
{
	size_t k, at = (size_t)-1;
	int view = t->view;

	t->view = VIEW_TEXT_CLEAN; /* the marks are the clean view's, whatever the view */
	view_text_build(t, ui);
	t->view = view;
	if (t->nmarks == 0) {
		ui_message(ui, 0, "no rewritten text yet");
		return UI_REDRAW;
	}
	for (k = 0; k < t->nmarks; k++)
		if (t->marks[k] == ui->log.inspect)
			at = k;
	if (at == (size_t)-1)
		k = dir > 0 ? 0 : t->nmarks - 1;
	else if (dir > 0)
		k = at + 1 < t->nmarks ? at + 1 : 0;
	else
		k = at > 0 ? at - 1 : t->nmarks - 1;
	ui->log.inspect = t->marks[k];
	if (view == VIEW_TEXT_CLEAN)
		view_text_scroll_to(t, ui, t->marks[k]);
	ui_message(ui, 0, "mark %zu/%zu: the inspector shows its <bksp>; Esc follows the "
	    "playback", k + 1, t->nmarks);
	return UI_REDRAW;
}

/* Whether a playback key drives the clock (speed, pause, steps, jumps, replay). */
static int
view_text_clock_key(int key)
{
	if (key == UI_KEY_RIGHT || key == UI_KEY_LEFT || key == UI_KEY_HOME || key == UI_KEY_END)
		return 1;
	return key > 0 && key < 0x80 && strchr("+]-[a .,nNr", key) != NULL;
}

/* A key in playback mode. */
static int
view_text_key_play(struct view_text *t, struct ui *ui, int key)
{
	size_t i, total;

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
	case 'm':
	case 'M':
		return view_text_select_mark(t, ui, key == 'm' ? 1 : -1);
	case UI_KEY_PGUP:
		t->scroll += t->text_rect.h > 2 ? t->text_rect.h - 1 : 1;
		return UI_REDRAW;
	case UI_KEY_PGDN:
		t->scroll -= t->text_rect.h > 2 ? t->text_rect.h - 1 : 1;
		if (t->scroll < 0)
			t->scroll = 0;
		return UI_REDRAW;
	}
	if (t->leader != NULL) { /* lockstep: the clock is in model A's pane */
		if (!view_text_clock_key(key))
			return UI_PASS;
		if (key == UI_KEY_END || key == 'r')
			t->scroll = 0;
		return view_text_key_play(t->leader, t->leader_ui, key);
	}
	total = view_text_total(t, ui);
	switch (key) {
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
	case 'a':
		t->autopause = !t->autopause;
		ui_message(ui, 0, "auto-pause at each <bksp> %s", t->autopause ? "on: Space "
		    "goes on" : "off");
		return UI_REDRAW;
	}
	/* The keys that move the playback also return the inspector to following it. */
	switch (key) {
	case ' ':
		view_text_unselect(t, ui);
		t->paused = !t->paused;
		t->last_step = ui->now;
		return UI_REDRAW;
	case '.':
	case UI_KEY_RIGHT:
		view_text_unselect(t, ui);
		return view_text_seek(t, ui, t->pos + 1);
	case ',':
	case UI_KEY_LEFT:
		view_text_unselect(t, ui);
		return view_text_seek(t, ui, t->pos > 0 ? t->pos - 1 : 0);
	case UI_KEY_HOME:
		view_text_unselect(t, ui);
		return view_text_seek(t, ui, 0);
	case UI_KEY_END:
		view_text_unselect(t, ui);
		t->scroll = 0;
		return view_text_seek(t, ui, total);
	case 'n':
		view_text_unselect(t, ui);
		for (i = t->pos; i < total; i++)
			if (view_text_erase_at(t, ui, i))
				return view_text_seek(t, ui, i + 1);
		ui_message(ui, 0, "no later <bksp>%s", ui->log.done ? "" : " yet");
		return UI_REDRAW;
	case 'N':
		view_text_unselect(t, ui);
		for (i = t->pos > 1 ? t->pos - 1 : 0; i-- > 0;)
			if (view_text_erase_at(t, ui, i))
				return view_text_seek(t, ui, i + 1);
		ui_message(ui, 0, "no earlier <bksp>");
		return UI_REDRAW;
	case 'r':
		if (!ui->have_run)
			return 0;
		view_text_unselect(t, ui);
		t->pos = 0;
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
	int flags;

	if (t->editing && ui->side == 0)
		return view_text_key_edit(t, ui, key);
	flags = view_text_key_play(t, ui, key);
	t->shown = view_text_shown(t, ui);
	return flags;
}

/* How long an erase holds the playback at a period (seconds an event). */
static double
view_text_flash_seconds(double period)
{
	double f = VIEW_TEXT_FLASH_EVENTS * period;

	if (f > VIEW_TEXT_FLASH)
		f = VIEW_TEXT_FLASH;
	return f > period ? f : period;
}

/* Advance the playback to ui->now (view_text_tick publishes the result). */
static int
view_text_advance(void *p, struct ui *ui, double *wait)
{
	struct view_text *t = p;
	double period = 1.0 / view_text_speeds[t->speed], w;
	size_t total;
	int changed = 0;

	if (t->serial != ui->log.serial) { /* a new generation: follow it from the start */
		t->serial = ui->log.serial;
		t->pos = 0;
		t->scroll = 0;
		t->paused = 0;
		t->flash_until = 0;
		t->last_step = ui->now;
		changed = 1;
	}
	total = view_text_total(t, ui);
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
	if (t->paused || t->pos >= total) {
		t->last_step = ui->now;
		return changed ? UI_REDRAW : 0;
	}
	while (t->pos < total && ui->now - t->last_step >= period) {
		t->last_step += period;
		t->pos++;
		changed = 1;
		if (view_text_erase_at(t, ui, t->pos - 1)) {
			if (t->autopause)
				t->paused = 1;
			else
				t->flash_until = ui->now + view_text_flash_seconds(period);
			break;
		}
	}
	if (ui->now - t->last_step > period) /* do not run ahead after a stall */
		t->last_step = ui->now - period;
	if (t->flash_until > 0)
		w = t->flash_until - ui->now;
	else if (t->pos < total && !t->paused)
		w = t->last_step + period - ui->now;
	else
		w = -1;
	if (w >= 0 && (*wait < 0 || w < *wait))
		*wait = w < 0.001 ? 0.001 : w;
	return changed ? UI_REDRAW : 0;
}

/* Lockstep: copy the leader's clock into this (model B's) pane; 1 if it changed. */
static int
view_text_follow(struct view_text *t, struct ui *ui)
{
	const struct view_text *l = t->leader;
	size_t shown = l->pos < ui->log.n ? l->pos : ui->log.n;
	int changed = shown != t->shown || l->paused != t->paused ||
	    (l->flash_until > 0) != (t->flash_until > 0);

	if (t->serial != ui->log.serial) {
		t->serial = ui->log.serial;
		t->scroll = 0;
		changed = 1;
	}
	t->pos = l->pos;
	t->shown = shown;
	t->paused = l->paused;
	t->flash_until = l->flash_until;
	t->speed = l->speed;
	t->autopause = l->autopause;
	t->last_step = l->last_step;
	return changed;
}

/* Advance the playback and publish its position for the stats and inspector panes. */
static int
view_text_tick(void *p, struct ui *ui, double *wait)
{
	struct view_text *t = p;
	int flags;

	if (t->leader != NULL)
		flags = view_text_follow(t, ui) ? UI_REDRAW : 0;
	else
		flags = view_text_advance(p, ui, wait);
	flags |= view_text_check_sent(t, ui);
	t->shown = view_text_shown(t, ui);
	ui->log.shown = t->shown;
	return flags;
}

/* Compare mode: B's pane (b, on ub) plays in lockstep with A's (a, on ua). */
void
view_text_lock(void *a, struct ui *ua, void *b, struct ui *ub)
{
	struct view_text *ta = a, *tb = b;

	ta->peer = tb;
	ta->peer_ui = ub;
	tb->leader = ta;
	tb->leader_ui = ua;
	view_text_follow(tb, ub);
}

/* Make room for n more bytes in the drawing buffer. */
static void
view_text_reserve(struct view_text *t, size_t n)
{
	if (t->nbuf + n > t->capbuf) {
		t->capbuf = 2 * (t->nbuf + n) + 256;
		t->buf = xrealloc(t->buf, t->capbuf);
		t->sty = xrealloc(t->sty, t->capbuf);
		t->evi = xrealloc(t->evi, t->capbuf * sizeof *t->evi);
	}
}

/* Append bytes in a style, from event ev (-1: the prompt), to the drawing buffer. */
static void
view_text_emit(struct view_text *t, const void *s, size_t n, int style, long ev)
{
	view_text_reserve(t, n);
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

static size_t view_text_seq(const unsigned char *s, size_t n);

/* Append a mark's <bksp> event to the list of marks. */
static void
view_text_add_mark(struct view_text *t, long ev)
{
	if (t->nmarks == t->capmarks) {
		t->capmarks = 2 * t->capmarks + 16;
		t->marks = xrealloc(t->marks, t->capmarks * sizeof *t->marks);
	}
	t->marks[t->nmarks++] = ev;
}

/*
 * Append erased text struck through: bytes s[0..n), from events evs[0..n),
 * each character followed by U+0336 (COMBINING LONG STROKE OVERLAY), or in
 * ASCII the text between two ~. Whitespace at either end stays unstruck
 * (unless there is nothing else), newlines show as a return glyph, other
 * control bytes and broken UTF-8 as a replacement character. Continuation
 * bytes that complete a live character split across tokens join it unstruck.
 */
static void
view_text_emit_struck(struct view_text *t, enum grid_glyphs glyphs, const unsigned char *s,
    const long *evs, size_t n, int style)
{
	static const char stroke[] = "\xcc\xb6";
	size_t a = 0, a0, b, i, len;
	int ascii = glyphs == GRID_GLYPHS_ASCII;

	/* The rest of a live character split across tokens joins it, unstruck. */
	if (view_text_cut((const unsigned char *)t->buf, t->nbuf))
		while (a < n && a < 3 && (s[a] & 0xc0) == 0x80) {
			view_text_emit(t, s + a, 1, style, evs[a]);
			a++;
		}
	a0 = a;
	b = n;
	while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\n'))
		a++;
	while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\n'))
		b--;
	if (a == b) { /* only whitespace: strike it all, or it would not show */
		a = a0;
		b = n;
	}
	for (i = a0; i < a; i++)
		if (s[i] == ' ' || s[i] == '\t')
			view_text_emit(t, " ", 1, style, evs[i]);
	if (a == b)
		return;
	if (ascii)
		view_text_emit(t, "~", 1, style, evs[a]);
	for (i = a; i < b; i += len) {
		len = view_text_seq(s + i, b - i);
		if (len == 0) /* cut off at the end */
			len = b - i;
		if (s[i] == '\n')
			view_text_emit(t, ascii ? "|" : "\xe2\x86\xb5", ascii ? 1 : 3, style, evs[i]);
		else if (s[i] == '\t')
			view_text_emit(t, " ", 1, style, evs[i]);
		else if (s[i] < 0x20 || s[i] == 0x7f || (s[i] >= 0x80 && (s[i] < 0xc2 ||
		    s[i] > 0xf4 || len != (size_t)(s[i] < 0xe0 ? 2 : s[i] < 0xf0 ? 3 : 4))))
			view_text_emit(t, ascii ? "?" : "\xef\xbf\xbd", ascii ? 1 : 3, style, evs[i]);
		else
			view_text_emit(t, s + i, len, style, evs[i]);
		if (!ascii)
			view_text_emit(t, stroke, 2, style, evs[i]);
	}
	if (ascii)
		view_text_emit(t, "~", 1, style, evs[b - 1]);
	for (i = b; i < n; i++)
		if (s[i] == ' ' || s[i] == '\t')
			view_text_emit(t, " ", 1, style, evs[i]);
}

/* Append the pieces of events ev[0..k) struck through, each byte from evs_of[j] (or its own). */
static void
view_text_emit_struck_events(struct view_text *t, const struct ui *ui, const size_t *ev,
    const long *evs_of, size_t k, int style)
{
	unsigned char *s = NULL;
	long *evs = NULL;
	size_t n = 0, cap = 0, len;
	const uint8_t *piece;

	for (size_t j = 0; j < k; j++) {
		int id = ui->log.ev[ev[j]].token;

		if (id == tokenizer_eot(ui->tok) || id == tokenizer_bksp(ui->tok))
			continue;
		piece = tokenizer_piece(ui->tok, id, &len);
		if (n + len > cap) {
			cap = 2 * (n + len) + 64;
			s = xrealloc(s, cap);
			evs = xrealloc(evs, cap * sizeof *evs);
		}
		memcpy(s + n, piece, len);
		for (size_t b = 0; b < len; b++)
			evs[n + b] = evs_of != NULL ? evs_of[j] : (long)ev[j];
		n += len;
	}
	if (n > 0)
		view_text_emit_struck(t, ui->glyphs, s, evs, n, style);
	free(s);
	free(evs);
}

/* Trail view: append pending ghosts ev[0..k) struck through; the flagged one flashes. */
static void
view_text_emit_ghosts(struct view_text *t, const struct ui *ui, const size_t *ev, size_t k,
    size_t flag_idx)
{
	size_t a = 0;

	for (size_t j = 0; j < k; j++) {
		if (ev[j] != flag_idx)
			continue;
		view_text_emit_struck_events(t, ui, ev + a, NULL, j - a, THEME_SLOT_GHOST);
		view_text_emit_token(t, ui, ev[j], THEME_SLOT_ERASED);
		a = j + 1;
	}
	view_text_emit_struck_events(t, ui, ev + a, NULL, k - a, THEME_SLOT_GHOST);
}

/* Move the marks waiting in aux to the text, unless the text ends inside a character. */
static void
view_text_flush(struct view_text *t, struct view_text *aux)
{
	if (aux->nbuf == 0 || view_text_cut((const unsigned char *)t->buf, t->nbuf))
		return;
	view_text_reserve(t, aux->nbuf);
	memcpy(t->buf + t->nbuf, aux->buf, aux->nbuf);
	memcpy(t->sty + t->nbuf, aux->sty, aux->nbuf);
	memcpy(t->evi + t->nbuf, aux->evi, aux->nbuf * sizeof *t->evi);
	t->nbuf += aux->nbuf;
	aux->nbuf = 0;
}

/* What the replay knows of one position (counted from the prompt's end). */
struct view_text_pos {
	size_t last_app;   /* the APPEND event last erased here */
	long last_erase;   /* the ERASE event that erased it */
	int natt;          /* erased attempts here */
	int nsame;         /* of them, the live token's id */
};

/* The clean view: live text, rewritten runs marked, the erase run at the end struck. */
static void
view_text_build_clean(struct view_text *t, const struct ui *ui, size_t n, int flagged)
{
	size_t nlive = 0, maxpos = 0, i, p, q, k, run = 0;
	size_t *live = xmalloc((n + 1) * sizeof *live), *stack = xmalloc((n + 1) * sizeof *stack);
	size_t *evs = xmalloc((n + 1) * sizeof *evs);
	long *evs_of = xmalloc((n + 1) * sizeof *evs_of);
	struct view_text_pos *pos = xcalloc(n + 1, sizeof *pos);
	struct view_text aux; /* marks wait here while the text ends inside a character */
	char count[32];

	memset(&aux, 0, sizeof aux);

	for (i = 0; i < n; i++) {
		if (ui->log.ev[i].type == GENERATE_EVENT_APPEND) {
			live[nlive++] = i;
			if (nlive > maxpos)
				maxpos = nlive;
			run = 0;
		} else if (nlive > 0) {
			nlive--;
			pos[nlive].last_app = live[nlive];
			pos[nlive].last_erase = (long)i;
			pos[nlive].natt++;
			run++;
		}
	}
	/* Identical retypes: replay again, comparing each erased token with the live one. */
	for (i = 0, k = 0; i < n; i++) {
		if (ui->log.ev[i].type == GENERATE_EVENT_APPEND)
			stack[k++] = i;
		else if (k > 0) {
			k--;
			if (k < nlive && ui->log.ev[stack[k]].token == ui->log.ev[live[k]].token)
				pos[k].nsame++;
		}
	}
	for (p = 0; p < nlive;) {
		int same = 1;

		if (pos[p].natt == 0) {
			view_text_emit_token(t, ui, live[p++], THEME_SLOT_GENERATED);
			view_text_flush(t, &aux);
			continue;
		}
		/* A run: positions one erase run took back (erased one after another). */
		for (q = p; q < nlive && pos[q].natt > 0 && (q == p ||
		    pos[q].last_erase + 1 == pos[q - 1].last_erase); q++) {
			evs[q - p] = pos[q].last_app;
			evs_of[q - p] = pos[q].last_erase;
			if (ui->log.ev[pos[q].last_app].token != ui->log.ev[live[q]].token)
				same = 0;
		}
		if (!same) /* a correction: what was there, struck, then the new text */
			view_text_emit_struck_events(&aux, ui, evs, evs_of, q - p, THEME_SLOT_GHOST);
		view_text_flush(t, &aux);
		for (k = p; k < q; k++) {
			view_text_emit_token(t, ui, live[k], THEME_SLOT_MARK);
			view_text_flush(t, &aux);
		}
		if (pos[p].nsame > 0) { /* written nsame + 1 times here */
			snprintf(count, sizeof count, "%s%d", ui->glyphs == GRID_GLYPHS_ASCII ? "^" :
			    "\xc3\x97", pos[p].nsame + 1);
			view_text_emit(&aux, count, strlen(count), THEME_SLOT_MARK, pos[p].last_erase);
			view_text_flush(t, &aux);
		}
		view_text_add_mark(t, pos[p].last_erase);
		p = q;
	}
	/* The erase run going on at the end: the token just erased flashes, the rest struck. */
	if (run > 0 && nlive + run <= maxpos) {
		p = nlive;
		view_text_add_mark(t, pos[p].last_erase);
		if (flagged) {
			view_text_emit_token(t, ui, pos[p].last_app, THEME_SLOT_ERASED);
			view_text_flush(t, &aux);
			p++;
		}
		for (k = p; k < nlive + run; k++) {
			evs[k - p] = pos[k].last_app;
			evs_of[k - p] = pos[k].last_erase;
		}
		view_text_emit_struck_events(&aux, ui, evs, evs_of, nlive + run - p,
		    THEME_SLOT_GHOST);
		view_text_flush(t, &aux);
	}
	/* Marks still waiting when the text ends inside a character are not drawn yet. */
	free(aux.buf);
	free(aux.sty);
	free(aux.evi);
	free(live);
	free(stack);
	free(evs);
	free(evs_of);
	free(pos);
}

/* Build the clean or trail text of the events shown into the buffer. */
static void
view_text_build(struct view_text *t, const struct ui *ui)
{
	size_t n = view_text_shown(t, ui), nlive = 0, i;
	size_t *live = xmalloc((n + 1) * sizeof *live); /* event indices of live tokens */
	unsigned char *ghost = xcalloc(n + 1, 1);       /* APPEND events later erased */
	int flagged = view_text_flagged(t, ui);
	size_t flag_idx = (size_t)-1;

	t->nbuf = 0;
	t->nmarks = 0;
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
		 * Ghosts go where they were typed, struck through, except inside a
		 * live character split across tokens: they wait until its last
		 * byte is out, so they never join (and spoil) the live character.
		 */
		size_t npend = 0;

		for (i = 0; i < n; i++) {
			if (ui->log.ev[i].type != GENERATE_EVENT_APPEND)
				continue;
			if (ghost[i]) { /* a run of ghosts is struck as one */
				live[npend++] = i; /* live[] is free now: the pending ghosts */
				continue;
			}
			for (int after = 0; after < 2; after++) {
				if (npend > 0 && !view_text_cut((const unsigned char *)t->buf,
				    t->nbuf)) {
					view_text_emit_ghosts(t, ui, live, npend, flagged ?
					    flag_idx : (size_t)-1);
					npend = 0;
				}
				if (!after)
					view_text_emit_token(t, ui, i, THEME_SLOT_GENERATED);
			}
		}
		/* the text ends inside a character */
		view_text_emit_ghosts(t, ui, live, npend, flagged ? flag_idx : (size_t)-1);
	} else
		view_text_build_clean(t, ui, n, flagged);
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

/* Bytes of the zero-width characters (combining marks, the strike) from byte i on. */
static size_t
view_text_marks_after(const struct view_text *t, size_t i)
{
	const unsigned char *b = (const unsigned char *)t->buf;
	size_t n = 0, len;

	while (i + n < t->nbuf && b[i + n] >= 0x80 &&
	    (len = view_text_seq(b + i + n, t->nbuf - i - n)) > 1 &&
	    grid_text_width(t->buf + i + n, len, GRID_GLYPHS_UTF8) == 0)
		n += len;
	return n;
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
 * at (hx, hy) (relative to r), or stays. With t->find_ev >= 0, t->found_line
 * gets the first line with a byte of that event (it stays when there is none).
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
		len += view_text_marks_after(t, i + len);
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
			    b[i] == '\t' ? 1 : len, t->select >= 0 && t->evi[i] == t->select ?
			    THEME_SLOT_SELECTION : view_text_char_style(t->sty + i, len), 0);
		if (hit != NULL && line - skip == hy && hx >= x && hx < x + (w > 0 ? w : 1))
			*hit = (long)i;
		if (t->find_ev >= 0 && t->found_line < 0 && t->evi[i] == t->find_ev)
			t->found_line = line;
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

/*
 * The row under the text while paused on a <bksp>: the model's P(<bksp>)
 * against its likeliest other action at that step (generate.h's top[]), so
 * one sees how close the decision to erase was.
 */
static void
view_text_draw_decision(struct ui *ui, struct grid *g, struct grid_rect r, int row)
{
	const struct generate_event *ev = &ui->log.ev[ui->log.shown - 1];
	int bksp = tokenizer_bksp(ui->tok), best = -1;
	char line[192], piece[48];
	size_t n, k = 0;
	const uint8_t *s;

	for (int i = 0; i < ev->n_top && i < GENERATE_TOP; i++)
		if (ev->top[i].id != bksp && (best < 0 || ev->top[i].prob > ev->top[best].prob))
			best = i;
	if (best >= 0 && ev->top[best].id == tokenizer_eot(ui->tok))
		snprintf(piece, sizeof piece, "%s", TOKENIZER_EOT_TEXT);
	else if (best >= 0) {
		s = tokenizer_piece(ui->tok, ev->top[best].id, &n);
		piece[k++] = '\'';
		for (size_t j = 0; j < n && k + 4 < sizeof piece; j++) {
			if (s[j] == '\n' || s[j] == '\t') {
				piece[k++] = '\\';
				piece[k++] = s[j] == '\n' ? 'n' : 't';
			} else
				piece[k++] = (char)s[j];
		}
		piece[k++] = '\'';
		piece[k] = '\0';
	}
	if (isnan(ev->p_bksp))
		snprintf(line, sizeof line, "<bksp> here: P(<bksp>) not recorded");
	else if (best < 0)
		snprintf(line, sizeof line, "<bksp> here: P(<bksp>) %.3f; no other token recorded",
		    ev->p_bksp);
	else
		snprintf(line, sizeof line, "<bksp> here: P(<bksp>) %.3f vs best token %s %.3f",
		    ev->p_bksp, piece, ev->top[best].prob);
	grid_put_trunc(g, r, 0, row, line, r.w, THEME_SLOT_BKSP_MARKER, 0);
}

/* Draw the pane. */
static void
view_text_draw(void *p, struct ui *ui, struct grid *g, struct grid_rect r, int focused)
{
	struct view_text *t = p;
	struct grid_rect in = grid_rect_inset(r, 1), text, prompt;
	char title[96];
	int lines, prows, top;

	t->shown = view_text_shown(t, ui);
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
	if (ui->have_run && t->paused && t->shown > 0 && view_text_is_erase(ui, t->shown - 1) &&
	    text.h >= 2) { /* paused on a <bksp>: how close the decision was, on the last row */
		text.h--;
		view_text_draw_decision(ui, g, grid_rect_make(text.x, text.y + text.h, text.w, 1),
		    0);
	}
	t->text_rect = text;
	t->select = ui->log.inspect;
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
