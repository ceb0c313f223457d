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
 * view lists the events as +tok / -tok lines. The text is rebuilt from the log
 * on every draw (a few hundred tokens), as bytes with one style per byte, so
 * a character split across tokens is drawn once it is complete.
 *
 * The pane has two modes: editing (letters go to the prompt line; Enter
 * generates) and playback (letters are playback keys; Enter or i edits).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "theme.h"
#include "tokenizer.h"
#include "ui.h"

#define VIEW_TEXT_HISTORY 100     /* prompts kept */
#define VIEW_TEXT_FLASH 0.35      /* seconds an erased token flashes */
#define VIEW_TEXT_DEFAULT_SPEED 5 /* index into view_text_speeds */

/* Playback speeds, events a second. */
static const double view_text_speeds[] = {1, 2, 5, 10, 20, 40, 80, 160, 320, 1000};
#define VIEW_TEXT_NSPEEDS (sizeof view_text_speeds / sizeof view_text_speeds[0])

enum view_text_view { VIEW_TEXT_CLEAN, VIEW_TEXT_TRAIL, VIEW_TEXT_TIMELINE, VIEW_TEXT_NVIEWS };
static const char *const view_text_view_names[] = {"clean", "trail", "timeline"};

/* The pane's state. */
struct view_text {
	/* Prompt editor. */
	char *line;        /* UTF-8, NUL-terminated */
	size_t len, cap, cursor; /* cursor: byte offset */
	char *history[VIEW_TEXT_HISTORY];
	int nhistory;
	int hpos;          /* index into history while browsing, nhistory for the draft */
	char *draft;       /* the unsent line kept while browsing history */
	int editing;
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
	size_t nbuf, capbuf;
};

/* Create the pane. */
static void *
view_text_init(struct ui *ui)
{
	struct view_text *t = xcalloc(1, sizeof *t);

	t->cap = 64;
	t->line = xcalloc(1, t->cap);
	t->editing = 1;
	t->speed = VIEW_TEXT_DEFAULT_SPEED;
	t->serial = ui->log.serial;
	return t;
}

/* Free the pane. */
static void
view_text_free(void *p)
{
	struct view_text *t = p;

	for (int i = 0; i < t->nhistory; i++)
		free(t->history[i]);
	free(t->draft);
	free(t->line);
	free(t->buf);
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

/* Replace the editor's line. */
static void
view_text_set_line(struct view_text *t, const char *s)
{
	size_t n = strlen(s);

	if (n + 1 > t->cap) {
		t->cap = n + 64;
		t->line = xrealloc(t->line, t->cap);
	}
	memcpy(t->line, s, n + 1);
	t->len = t->cursor = n;
}

/* Insert bytes at the cursor. */
static void
view_text_insert(struct view_text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		t->cap = 2 * (t->len + n + 1);
		t->line = xrealloc(t->line, t->cap);
	}
	memmove(t->line + t->cursor + n, t->line + t->cursor, t->len - t->cursor + 1);
	memcpy(t->line + t->cursor, s, n);
	t->len += n;
	t->cursor += n;
}

/* Delete the bytes [from, to) of the line. */
static void
view_text_delete(struct view_text *t, size_t from, size_t to)
{
	memmove(t->line + from, t->line + to, t->len - to + 1);
	t->len -= to - from;
	t->cursor = from;
}

/* The start of the UTF-8 character before byte i. */
static size_t
view_text_prev_char(const char *s, size_t i)
{
	if (i == 0)
		return 0;
	i--;
	while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
		i--;
	return i;
}

/* The end of the UTF-8 character at byte i. */
static size_t
view_text_next_char(const char *s, size_t len, size_t i)
{
	if (i >= len)
		return len;
	i++;
	while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
		i++;
	return i;
}

/* Encode a code point as UTF-8; returns the bytes written (0 if invalid). */
static size_t
view_text_utf8(int cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp >= 0xd800 && cp < 0xe000)
		return 0;
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	if (cp < 0x110000) {
		out[0] = (char)(0xf0 | (cp >> 18));
		out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[3] = (char)(0x80 | (cp & 0x3f));
		return 4;
	}
	return 0;
}

/* Browse the history by dir (-1 older, +1 newer), keeping the unsent draft. */
static void
view_text_history(struct view_text *t, int dir)
{
	int to = t->hpos + dir;

	if (to < 0 || to > t->nhistory)
		return;
	if (t->hpos == t->nhistory) {
		free(t->draft);
		t->draft = xstrdup(t->line);
	}
	t->hpos = to;
	view_text_set_line(t, to == t->nhistory ? (t->draft ? t->draft : "") : t->history[to]);
}

/* Remember a sent prompt (not twice in a row). */
static void
view_text_remember(struct view_text *t, const char *s)
{
	if (s[0] == '\0' || (t->nhistory > 0 && strcmp(t->history[t->nhistory - 1], s) == 0))
		return;
	if (t->nhistory == VIEW_TEXT_HISTORY) {
		free(t->history[0]);
		memmove(t->history, t->history + 1, (VIEW_TEXT_HISTORY - 1) * sizeof *t->history);
		t->nhistory--;
	}
	t->history[t->nhistory++] = xstrdup(s);
}

/* A key while the prompt editor has the keyboard. */
static int
view_text_key_edit(struct view_text *t, struct ui *ui, int key)
{
	char enc[4];
	size_t n, i;

	switch (key) {
	case UI_KEY_ENTER:
		if (ui->generating) {
			ui_message(ui, 1, "a generation is running: Esc or Ctrl-C stops it");
			return UI_REDRAW;
		}
		view_text_remember(t, t->line);
		free(ui->request);
		ui->request = xstrdup(t->line);
		free(t->draft);
		t->draft = NULL;
		t->hpos = t->nhistory;
		view_text_set_line(t, "");
		t->editing = 0;
		return UI_GENERATE | UI_REDRAW;
	case UI_KEY_ESC:
		if (ui->generating)
			return UI_STOP | UI_REDRAW;
		if (ui->have_run) {
			t->editing = 0; /* to playback */
			return UI_REDRAW;
		}
		return 0;
	case UI_KEY_LEFT:
		t->cursor = view_text_prev_char(t->line, t->cursor);
		return UI_REDRAW;
	case UI_KEY_RIGHT:
		t->cursor = view_text_next_char(t->line, t->len, t->cursor);
		return UI_REDRAW;
	case UI_KEY_HOME:
	case UI_CTRL('a'):
		t->cursor = 0;
		return UI_REDRAW;
	case UI_KEY_END:
	case UI_CTRL('e'):
		t->cursor = t->len;
		return UI_REDRAW;
	case UI_KEY_BACKSPACE:
		if (t->cursor > 0)
			view_text_delete(t, view_text_prev_char(t->line, t->cursor), t->cursor);
		return UI_REDRAW;
	case UI_KEY_DELETE:
	case UI_CTRL('d'):
		if (t->cursor < t->len) {
			size_t end = view_text_next_char(t->line, t->len, t->cursor);

			view_text_delete(t, t->cursor, end);
		}
		return UI_REDRAW;
	case UI_CTRL('u'):
		view_text_delete(t, 0, t->cursor);
		return UI_REDRAW;
	case UI_CTRL('k'):
		t->line[t->cursor] = '\0';
		t->len = t->cursor;
		return UI_REDRAW;
	case UI_CTRL('w'):
		i = t->cursor;
		while (i > 0 && t->line[i - 1] == ' ')
			i--;
		while (i > 0 && t->line[i - 1] != ' ')
			i--;
		view_text_delete(t, i, t->cursor);
		return UI_REDRAW;
	case UI_KEY_UP:
		view_text_history(t, -1);
		return UI_REDRAW;
	case UI_KEY_DOWN:
		view_text_history(t, +1);
		return UI_REDRAW;
	}
	if (key == '\t' || key < 0x20 || key == 0x7f || key >= UI_KEY_UP)
		return UI_PASS;
	n = view_text_utf8(key, enc);
	if (n > 0)
		view_text_insert(t, enc, n);
	return UI_REDRAW;
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
		t->editing = 1;
		return UI_REDRAW;
	case UI_KEY_ESC:
		if (ui->generating)
			return UI_STOP | UI_REDRAW;
		t->editing = 1;
		return UI_REDRAW;
	case 'v':
		t->view = (t->view + 1) % VIEW_TEXT_NVIEWS;
		return UI_REDRAW;
	case ' ':
		t->paused = !t->paused;
		t->last_step = ui->now;
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
	case '.':
	case UI_KEY_RIGHT:
		return view_text_seek(t, ui, t->shown + 1);
	case ',':
	case UI_KEY_LEFT:
		return view_text_seek(t, ui, t->shown > 0 ? t->shown - 1 : 0);
	case UI_KEY_HOME:
		return view_text_seek(t, ui, 0);
	case UI_KEY_END:
		return view_text_seek(t, ui, ui->log.n);
	case 'n':
		for (i = t->shown; i < ui->log.n; i++)
			if (view_text_is_erase(ui, i))
				return view_text_seek(t, ui, i + 1);
		ui_message(ui, 0, "no later <bksp>%s", ui->log.done ? "" : " yet");
		return UI_REDRAW;
	case 'N':
		for (i = t->shown > 1 ? t->shown - 1 : 0; i-- > 0;)
			if (view_text_is_erase(ui, i))
				return view_text_seek(t, ui, i + 1);
		ui_message(ui, 0, "no earlier <bksp>");
		return UI_REDRAW;
	case 'r':
		if (!ui->have_run)
			return 0;
		t->shown = 0;
		t->paused = 0;
		t->flash_until = 0;
		t->last_step = ui->now;
		return UI_REDRAW;
	}
	return UI_PASS;
}

/* Handle a key. */
static int
view_text_key(void *p, struct ui *ui, int key)
{
	struct view_text *t = p;

	if (t->editing)
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

/* Append bytes in a style to the drawing buffer. */
static void
view_text_emit(struct view_text *t, const void *s, size_t n, int style)
{
	if (t->nbuf + n > t->capbuf) {
		t->capbuf = 2 * (t->nbuf + n) + 256;
		t->buf = xrealloc(t->buf, t->capbuf);
		t->sty = xrealloc(t->sty, t->capbuf);
	}
	memcpy(t->buf + t->nbuf, s, n);
	memset(t->sty + t->nbuf, style, n);
	t->nbuf += n;
}

/* Append a token's bytes (end-of-text shows nothing in the text). */
static void
view_text_emit_token(struct view_text *t, const struct ui *ui, int id, int style)
{
	size_t n;
	const uint8_t *piece;

	if (id == tokenizer_eot(ui->tok) || id == tokenizer_bksp(ui->tok))
		return;
	piece = tokenizer_piece(ui->tok, id, &n);
	view_text_emit(t, piece, n, style);
}

/* Whether the erase just applied is to be flagged (flashing, or paused on it). */
static int
view_text_flagged(const struct view_text *t, const struct ui *ui)
{
	return t->shown > 0 && view_text_is_erase(ui, t->shown - 1) &&
	    (t->flash_until > 0 || t->paused);
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
		view_text_emit(t, ui->log.prompt, strlen(ui->log.prompt), THEME_SLOT_PROMPT);
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
		for (i = 0; i < n; i++) {
			if (ui->log.ev[i].type != GENERATE_EVENT_APPEND)
				continue;
			view_text_emit_token(t, ui, ui->log.ev[i].token,
			    !ghost[i] ? THEME_SLOT_GENERATED
			    : (flagged && i == flag_idx) ? THEME_SLOT_ERASED : THEME_SLOT_GHOST);
		}
	} else {
		for (i = 0; i < nlive; i++)
			view_text_emit_token(t, ui, ui->log.ev[live[i]].token,
			    THEME_SLOT_GENERATED);
		if (flagged && flag_idx != (size_t)-1)
			view_text_emit_token(t, ui, ui->log.ev[flag_idx].token,
			    THEME_SLOT_ERASED);
	}
	free(live);
	free(ghost);
}

/* Bytes of the UTF-8 sequence at s (n left): 1 for ASCII or invalid, 0 if cut off at the end. */
static size_t
view_text_seq(const unsigned char *s, size_t n)
{
	size_t want, i;

	if (s[0] < 0xc0)
		return 1;
	want = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : s[0] < 0xf8 ? 4 : 1;
	for (i = 1; i < want; i++) {
		if (i >= n)
			return 0;
		if ((s[i] & 0xc0) != 0x80)
			return 1;
	}
	return want;
}

/*
 * Flow the buffer into r (wrapping at its width, breaking at newlines),
 * skipping the first `skip` lines; draws when g is not NULL. Returns the
 * number of lines the whole text takes.
 */
static int
view_text_flow(struct view_text *t, struct grid *g, enum grid_glyphs glyphs,
    struct grid_rect r, int skip)
{
	int x = 0, line = 0, w;
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
		if (w > 0 && x + w > r.w) {
			line++;
			x = 0;
		}
		if (g != NULL && line >= skip && line - skip < r.h)
			grid_putn(g, r, x, line - skip, b[i] == '\t' ? " " : t->buf + i,
			    b[i] == '\t' ? 1 : len, t->sty[i], 0);
		x += w;
		i += len;
	}
	return line + 1;
}

/* Draw the timeline view: one line per event, the latest at the bottom. */
static void
view_text_draw_timeline(struct view_text *t, struct ui *ui, struct grid *g,
    struct grid_rect r)
{
	size_t first = t->shown > (size_t)r.h ? t->shown - (size_t)r.h : 0;
	char head[48], piece[64];

	for (size_t i = first; i < t->shown; i++) {
		const struct generate_event *ev = &ui->log.ev[i];
		int erase = ev->type == GENERATE_EVENT_ERASE;
		const uint8_t *s;
		size_t n, k = 0;
		int row = (int)(i - first), col;

		snprintf(head, sizeof head, "%4zu %c ", i + 1, erase ? '-' : '+');
		col = grid_put(g, r, 0, row, head, THEME_SLOT_DIM, 0);
		s = tokenizer_piece(ui->tok, ev->token, &n);
		/* Make newlines and tabs visible: the timeline shows tokens, not text. */
		piece[k++] = '\'';
		for (size_t j = 0; j < n && k + 3 < sizeof piece; j++) {
			if (s[j] == '\n' || s[j] == '\t') {
				piece[k++] = '\\';
				piece[k++] = s[j] == '\n' ? 'n' : 't';
			} else
				piece[k++] = (char)s[j];
		}
		piece[k++] = '\'';
		piece[k] = '\0';
		col = grid_put(g, r, col, row, piece,
		    erase ? THEME_SLOT_ERASED : THEME_SLOT_GENERATED, 0);
		snprintf(head, sizeof head, "  p=%.2f", ev->prob);
		grid_put(g, r, col, row, head, THEME_SLOT_DIM, 0);
	}
}

/* Draw the prompt line: "> text" scrolled to show the cursor. */
static void
view_text_draw_prompt(struct view_text *t, struct ui *ui, struct grid *g, struct grid_rect r,
    int focused)
{
	int active = focused && t->editing;
	int avail = r.w - 2, start_w;
	size_t start = 0;

	grid_put(g, r, 0, 0, "> ", active ? THEME_SLOT_PROMPT : THEME_SLOT_DIM, 0);
	if (avail <= 1)
		return;
	if (!t->editing && t->len == 0) {
		grid_put_trunc(g, r, 2, 0, ui->generating ? "generating... Esc stops" :
		    "Enter or i: edit the prompt", avail, THEME_SLOT_DIM, 0);
		return;
	}
	if (t->len == 0 && !ui->have_run) {
		grid_put_trunc(g, r, 3, 0, "type a prompt, Enter generates", avail - 1,
		    THEME_SLOT_DIM, 0);
	}
	/* Scroll so that the cursor fits. */
	while (start < t->cursor &&
	    grid_text_width(t->line + start, t->cursor - start, ui->glyphs) > avail - 1)
		start = view_text_next_char(t->line, t->len, start);
	start_w = grid_text_width(t->line + start, t->cursor - start, ui->glyphs);
	grid_putn(g, grid_rect_make(r.x + 2, r.y, avail, 1), 0, 0, t->line + start,
	    t->len - start, active ? THEME_SLOT_TEXT : THEME_SLOT_DIM, 0);
	if (active) {
		const struct grid_cell *c = grid_cell_at(g, r.x + 2 + start_w, r.y);

		if (t->cursor < t->len && c != NULL && c->width > 0)
			grid_putn(g, r, 2 + start_w, 0, c->text, c->len, THEME_SLOT_CURSOR, 0);
		else
			grid_put(g, r, 2 + start_w, 0, " ", THEME_SLOT_CURSOR, 0);
	}
}

/* Draw the pane. */
static void
view_text_draw(void *p, struct ui *ui, struct grid *g, struct grid_rect r, int focused)
{
	struct view_text *t = p;
	struct grid_rect in = grid_rect_inset(r, 1), text, prompt;
	char title[96];
	int lines;

	if (t->shown > ui->log.n)
		t->shown = ui->log.n;
	ui->log.shown = t->shown; /* drawn before the panes that read it (LAYOUT_TEXT is 0) */
	if (ui->have_run) /* events shown of those logged: the playback position */
		snprintf(title, sizeof title, "Text - %s%s - %zu/%zu%s",
		    view_text_view_names[t->view], t->paused ? " (paused)" : "", t->shown,
		    ui->log.n, ui->generating ? " - generating" : "");
	else
		snprintf(title, sizeof title, "Text - %s", view_text_view_names[t->view]);
	grid_box(g, r, focused ? GRID_BOX_HEAVY : GRID_BOX_LIGHT, title,
	    focused ? THEME_SLOT_BORDER_FOCUS : THEME_SLOT_BORDER, THEME_SLOT_TITLE, 0);
	if (grid_rect_empty(in))
		return;
	text = grid_rect_make(in.x, in.y, in.w, in.h - 1);
	prompt = grid_rect_make(in.x, in.y + in.h - 1, in.w, 1);
	if (!ui->have_run) {
		grid_put_trunc(g, text, 0, 0, "Type a prompt below and press Enter.", text.w,
		    THEME_SLOT_DIM, 0);
		if (ui->model_bksp)
			grid_put_trunc(g, text, 0, 1, "This model can erase (<bksp>): watch for it.",
			    text.w, THEME_SLOT_DIM, 0);
	} else if (t->view == VIEW_TEXT_TIMELINE)
		view_text_draw_timeline(t, ui, g, text);
	else {
		view_text_build(t, ui);
		lines = view_text_flow(t, NULL, ui->glyphs, text, 0);
		view_text_flow(t, g, ui->glyphs, text, lines > text.h ? lines - text.h : 0);
	}
	view_text_draw_prompt(t, ui, g, prompt, focused);
}

const struct ui_pane view_text_pane = {
	.name = "Text",
	.init = view_text_init,
	.draw = view_text_draw,
	.key = view_text_key,
	.tick = view_text_tick,
	.free = view_text_free,
};
