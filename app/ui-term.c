/*
 * ui-term.c: the UI's curses side: start-up (locale, glyphs, colour depth,
 * keys, mouse, bracketed paste), theme colours as curses pairs, copying the
 * grid to the screen (only the cells that changed), the frame trace, signals
 * (they only write to the wake pipe), running $EDITOR with curses suspended,
 * and restoring the terminal on every way out.
 */
#include "config.h"

#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "app.h"
#include "editor.h"
#include "util.h"

#include "ui-curses.h"
#include "ui-int.h"

#define UI_CURSES_PASTE_BEGIN (KEY_MAX + 1) /* define_key codes of the paste brackets */
#define UI_CURSES_PASTE_END (KEY_MAX + 2)
#define UI_MOUSE_EVENTS (BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED)

/* struct ui_term keeps attributes as uint32_t so that ui-int.h needs no curses. */
_Static_assert((A_ATTRIBUTES & ~(attr_t)UINT32_MAX) == 0, "curses attributes fit 32 bits");

volatile sig_atomic_t ui_signal_caught;
FILE *ui_trace;                          /* SEQMATCH_UI_TRACE: one line a frame */
double ui_trace_draw;                    /* when this frame's pane drawing began */
double ui_trace_key;                     /* when the first key since the last frame was read */
static struct sigaction ui_old_winch;
static int ui_curses_active;

#define UI_BLIT_RUN 256                  /* ASCII cells handed to curses in one call */

/* What ui_blit_copy last gave curses for each cell, so that unchanged cells are skipped. */
struct ui_shadow {
	struct grid_cell cell;
	attr_t attr;
	short pair;
};
static struct ui_shadow *ui_shadow;     /* (ui_shadow_h, ui_shadow_w); NULL: none valid */
static int ui_shadow_w, ui_shadow_h;

/* Open $SEQMATCH_UI_TRACE for appending, line-buffered: a killed UI leaves whole lines. */
void
ui_trace_open(struct ui *ui)
{
	const char *path = getenv("SEQMATCH_UI_TRACE");

	if (path == NULL || path[0] == '\0')
		return;
	if ((ui_trace = fopen(path, "ae")) == NULL) {
		ui_message(ui, 1, "SEQMATCH_UI_TRACE: %s: %s", path, strerror(errno));
		return;
	}
	setvbuf(ui_trace, NULL, _IOLBF, 0);
}

/* Append a frame's times in ms: panes into the grid, grid to curses, doupdate, key to screen. */
static void
ui_trace_frame(const struct grid *g, int full, double blit, double update)
{
	double end = util_now();

	fprintf(ui_trace, "t=%.6f size=%dx%d full=%d draw_ms=%.3f blit_ms=%.3f update_ms=%.3f",
	    end, g->width, g->height, full, (blit - ui_trace_draw) * 1e3, (update - blit) * 1e3,
	    (end - update) * 1e3);
	if (ui_trace_key > 0)
		fprintf(ui_trace, " key_ms=%.3f", (end - ui_trace_key) * 1e3);
	fputc('\n', ui_trace);
	ui_trace_key = 0;
}

/* Whether the terminal lacks an alternate screen (smcup), as vt100 does. */
static int
ui_no_alt_screen(void)
{
	char *smcup = tigetstr("smcup");

	return smcup == NULL || smcup == (char *)-1 || smcup[0] == '\0';
}

/* Bracketed paste: the terminal marks pasted text (CSI 200~ ... 201~) while on. */
static void
ui_paste_mode(int on)
{
	const char *seq = on ? "\033[?2004h" : "\033[?2004l";

	if (write(STDOUT_FILENO, seq, strlen(seq)) < 0) {
		/* A terminal that is gone: nothing to switch. */
	}
}

/* Restore the terminal if curses has it (atexit, app_fatal, every exit path). */
void
ui_restore(void)
{
	if (ui_curses_active) {
		ui_curses_active = 0;
		ui_paste_mode(0);
		if (ui_no_alt_screen()) {
			/* The last frame would stay under the shell: blank it; endwin then
			 * leaves the cursor on the bottom line. */
			clear();
			refresh();
		}
		endwin();
		app_sigbus_term(0);
	}
}

/* Write a byte to the wake pipe (async-signal-safe). */
static void
ui_poke(void)
{
	int saved = errno;

	if (ui_wake[1] >= 0 && write(ui_wake[1], "s", 1) < 0) {
		/* Full: the loop wakes anyway. */
	}
	errno = saved;
}

/* SIGTERM, SIGINT, SIGHUP: note it and wake the loop, which leaves. */
static void
ui_on_signal(int sig)
{
	ui_signal_caught = sig;
	ui_poke();
}

/* SIGWINCH: wake the loop, then let curses note the resize. */
static void
ui_on_winch(int sig)
{
	ui_poke();
	if ((ui_old_winch.sa_flags & SA_SIGINFO) == 0 && ui_old_winch.sa_handler != SIG_DFL &&
	    ui_old_winch.sa_handler != SIG_IGN && ui_old_winch.sa_handler != NULL)
		ui_old_winch.sa_handler(sig);
}

/* Install the signal handlers (after curses has installed its own SIGWINCH one). */
void
ui_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = ui_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = ui_on_winch;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGWINCH, &sa, &ui_old_winch);
}

/* The colour number curses uses for a degraded theme colour; *bold for folded brights. */
static int
ui_colour(struct theme_colour c, enum theme_depth depth, int *bold)
{
	if (c.kind == THEME_COLOUR_DEFAULT)
		return -1;
	if (depth == THEME_DEPTH_DIRECT) {
		/* Direct terminfo: numbers under 8 are the ANSI colours, the rest RGB. */
		uint32_t rgb = c.kind == THEME_COLOUR_RGB ? c.value : theme_index_rgb(c.value);

		if (c.kind == THEME_COLOUR_INDEX && c.value < 8)
			return (int)c.value;
		return rgb < 8 ? 8 : (int)rgb;
	}
	if (c.kind == THEME_COLOUR_INDEX && c.value >= 8 && c.value < 16 && COLORS < 16) {
		*bold = 1;
		return (int)c.value - 8;
	}
	return (int)c.value;
}

/* Turn the theme into colour pairs and attributes for the terminal's depth. */
void
ui_term_theme(struct ui_term *t, const struct theme *theme)
{
	struct theme deg;
	char *sitm;

	theme_degrade(theme, t->depth, &deg);
	sitm = tigetstr("sitm");
	if (sitm == NULL || sitm == (char *)-1) /* no italics: ghosts must keep an attribute */
		theme_drop_italic(&deg);
	for (int s = 0; s < THEME_NSLOTS; s++) {
		const struct theme_style *st = &deg.slots[s];
		attr_t a = 0;
		int bold = 0, junk = 0, fg, bg;

		if (st->attrs & THEME_ATTR_BOLD)
			a |= A_BOLD;
		if (st->attrs & THEME_ATTR_DIM)
			a |= A_DIM;
		if (st->attrs & THEME_ATTR_UNDERLINE)
			a |= A_UNDERLINE;
		if (st->attrs & THEME_ATTR_REVERSE)
			a |= A_REVERSE;
		if (st->attrs & THEME_ATTR_ITALIC)
			a |= A_ITALIC;
		t->pair[s] = 0;
		if (t->depth != THEME_DEPTH_NONE) {
			fg = ui_colour(st->fg, t->depth, &bold);
			bg = ui_colour(st->bg, t->depth, &junk);
			if (bold)
				a |= A_BOLD;
			if (init_extended_pair(s + 1, fg, bg) == OK)
				t->pair[s] = (short)(s + 1);
		}
		t->attr[s] = a;
	}
}

/* The attributes of a grid cell. */
static attr_t
ui_cell_attr(const struct ui_term *t, const struct grid_cell *c, int style)
{
	attr_t a = t->attr[style];

	if (c->attr & GRID_ATTR_BOLD)
		a |= A_BOLD;
	if (c->attr & GRID_ATTR_DIM)
		a |= A_DIM;
	if (c->attr & GRID_ATTR_UNDERLINE)
		a |= A_UNDERLINE;
	if (c->attr & GRID_ATTR_REVERSE)
		a |= A_REVERSE;
	if (c->attr & GRID_ATTR_ITALIC)
		a |= A_ITALIC;
	return a;
}

/* Whether curses already holds cell c with attr and pair (per the shadow); records it if not. */
static int
ui_shadow_same(struct ui_shadow *sh, const struct grid_cell *c, attr_t attr, short pair)
{
	if (sh->attr == attr && sh->pair == pair && sh->cell.len == c->len &&
	    sh->cell.width == c->width && sh->cell.attr == c->attr &&
	    sh->cell.style == c->style && memcmp(sh->cell.text, c->text, c->len) == 0)
		return 1;
	sh->cell = *c;
	sh->attr = attr;
	sh->pair = pair;
	return 0;
}

/* Copy the grid to curses (wnoutrefresh; ui_blit sends it). Cells unchanged since the
 * last frame are skipped (only this function writes stdscr; anything else that does
 * must set s->clear, which also repaints the terminal). Runs of printable ASCII cells
 * go in one mvwadd_wchnstr, other cells one by one at their own column (our widths are
 * not wcwidth's, so a run never spans a wide or non-ASCII cell). */
static void
ui_blit_copy(struct ui_state *s)
{
	const struct grid *g = &s->grid;
	cchar_t cc, run[UI_BLIT_RUN];
	int n, x0;

	if (s->clear || ui_shadow_w != g->width || ui_shadow_h != g->height) {
		free(ui_shadow);
		ui_shadow = xcalloc((size_t)g->width * (size_t)g->height + 1, sizeof *ui_shadow);
		for (size_t i = 0; i < (size_t)g->width * (size_t)g->height; i++)
			ui_shadow[i].pair = -1; /* matches no cell */
		ui_shadow_w = g->width;
		ui_shadow_h = g->height;
	}
	if (s->clear) {
		clearok(curscr, TRUE);
		s->clear = 0;
	}
	for (int y = 0; y < g->height; y++) {
		n = x0 = 0;
		for (int x = 0; x < g->width; x++) {
			const struct grid_cell *c = grid_cell_at(g, x, y);
			wchar_t wc[CCHARW_MAX + 1];
			mbstate_t mb;
			size_t off = 0, k;
			int nw = 0, style, same;
			attr_t attr;

			if (c == NULL)
				continue;
			style = c->style >= 0 && c->style < THEME_NSLOTS ? c->style : 0;
			attr = ui_cell_attr(&s->term, c, style);
			same = ui_shadow_same(&ui_shadow[(size_t)y * (size_t)g->width + (size_t)x], c,
			    attr, s->term.pair[style]);
			if (n > 0 && (same || c->width != 1 || c->len != 1 || c->text[0] < 0x20 ||
			    c->text[0] >= 0x7f)) {
				mvwadd_wchnstr(stdscr, y, x0, run, n);
				n = 0;
			}
			if (same || c->width == 0)
				continue;
			if (c->width == 1 && c->len == 1 && c->text[0] >= 0x20 && c->text[0] < 0x7f) {
				wc[0] = (wchar_t)c->text[0];
				wc[1] = L'\0';
				if (n == 0)
					x0 = x;
				setcchar(&run[n++], wc, attr, s->term.pair[style], NULL);
				if (n == UI_BLIT_RUN) {
					mvwadd_wchnstr(stdscr, y, x0, run, n);
					n = 0;
				}
				continue;
			}
			memset(&mb, 0, sizeof mb);
			while (off < c->len && nw < CCHARW_MAX) {
				k = mbrtowc(&wc[nw], c->text + off, c->len - off, &mb);
				if (k == 0 || k == (size_t)-1 || k == (size_t)-2)
					break;
				nw++;
				off += k;
			}
			if (nw == 0)
				wc[nw++] = L'?';
			wc[nw] = L'\0';
			setcchar(&cc, wc, attr, s->term.pair[style], NULL);
			mvwadd_wch(stdscr, y, x, &cc);
		}
		if (n > 0)
			mvwadd_wchnstr(stdscr, y, x0, run, n);
	}
	wnoutrefresh(stdscr);
}

/* Copy the grid to curses and send the frame (the one doupdate); timed when tracing. */
void
ui_blit(struct ui_state *s)
{
	double blit, update;
	int full = s->clear;

	if (ui_trace == NULL) {
		ui_blit_copy(s);
		doupdate();
		return;
	}
	blit = util_now();
	ui_blit_copy(s);
	update = util_now();
	doupdate();
	ui_trace_frame(&s->grid, full, blit, update);
}

/* Turn a curses key into a ui_key; 0 for none. */
static int
ui_key_from_curses(int r, wint_t wch)
{
	if (r == KEY_CODE_YES) {
		switch (wch) {
		case KEY_UP: return UI_KEY_UP;
		case KEY_DOWN: return UI_KEY_DOWN;
		case KEY_LEFT: return UI_KEY_LEFT;
		case KEY_RIGHT: return UI_KEY_RIGHT;
		case KEY_HOME: return UI_KEY_HOME;
		case KEY_END: return UI_KEY_END;
		case KEY_PPAGE: return UI_KEY_PGUP;
		case KEY_NPAGE: return UI_KEY_PGDN;
		case KEY_BACKSPACE: return UI_KEY_BACKSPACE;
		case KEY_DC: return UI_KEY_DELETE;
		case KEY_ENTER: return UI_KEY_ENTER;
		case KEY_BTAB: return UI_KEY_BTAB;
		case KEY_F(1): return UI_KEY_F1;
		case KEY_F(10): return UI_KEY_F10;
		case UI_CURSES_PASTE_BEGIN: return UI_KEY_PASTE_BEGIN;
		case UI_CURSES_PASTE_END: return UI_KEY_PASTE_END;
		}
		if (wch >= KEY_F(2) && wch <= KEY_F(9))
			return UI_KEY_F2 + (int)(wch - KEY_F(2));
		return 0;
	}
	if (wch == '\r')
		return UI_KEY_ENTER;
	if (wch == '\n') /* Ctrl-J: with nonl(), Enter sends \r */
		return UI_CTRL('j');
	if (wch == 127 || wch == 8)
		return UI_KEY_BACKSPACE;
	return (int)wch;
}

/*
 * Read the next input curses has, translated (a key, a resize, a mouse
 * button); 0 when there is none. Mouse events other than the buttons the UI
 * uses are skipped.
 */
int
ui_term_read(struct ui_term_input *in)
{
	MEVENT me;
	wint_t wch;
	int r;

	memset(in, 0, sizeof *in);
	while ((r = wget_wch(stdscr, &wch)) != ERR) {
		if (r == KEY_CODE_YES && wch == KEY_RESIZE) {
			in->type = UI_TERM_INPUT_RESIZE;
			getmaxyx(stdscr, in->h, in->w);
			return 1;
		}
		if (r == KEY_CODE_YES && wch == KEY_MOUSE) {
			if (getmouse(&me) != OK)
				continue;
			if (me.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED))
				in->button = 1;
			else if (me.bstate & BUTTON4_PRESSED)
				in->button = 4;
			else if (me.bstate & BUTTON5_PRESSED)
				in->button = 5;
			else
				continue;
			in->type = UI_TERM_INPUT_MOUSE;
			in->x = me.x;
			in->y = me.y;
			return 1;
		}
		in->type = UI_TERM_INPUT_KEY;
		in->key = ui_key_from_curses(r, wch);
		return 1;
	}
	return 0;
}

/*
 * After an Esc: whether Enter came with it (Alt-Enter), which is then
 * consumed; any other input is given back for the next read, so Esc and a key
 * read together stay two keys.
 */
int
ui_term_next_is_enter(void)
{
	wint_t next;
	int r = wget_wch(stdscr, &next);

	if (r == OK && next == '\r')
		return 1;
	if (r == OK)
		unget_wch((wchar_t)next);
	else if (r == KEY_CODE_YES)
		ungetch((int)next);
	return 0;
}

/*
 * Edit the draft in $VISUAL/$EDITOR with curses suspended: the edited text
 * (malloc'd), or NULL when the editor failed (a notice says why; the caller
 * keeps the draft).
 */
char *
ui_run_editor(struct ui_state *s, const char *draft)
{
	char *text = NULL, *cause = NULL;
	int truncated, rc;

	def_prog_mode();
	if (s->mouse)
		mousemask(0, NULL);
	ui_paste_mode(0);
	endwin();
	rc = editor_external(draft, &text, &truncated, &cause);
	reset_prog_mode();
	ui_paste_mode(1);
	if (s->mouse)
		mousemask(UI_MOUSE_EVENTS, NULL);
	s->clear = 1;
	if (rc != 0) {
		ui_message(&s->ui, 1, "%s: the draft is kept", cause != NULL ? cause : "editor");
		free(text);
		text = NULL;
	} else if (truncated)
		ui_message(&s->ui, 1, "the edited prompt was cut to %d KiB",
		    EDITOR_MAX_BYTES / 1024);
	free(cause);
	return text;
}

/*
 * Home and End as the common terminals send them, whatever TERM's terminfo
 * says (xterm-256color inside tmux or screen gets ESC [1~ and ESC [4~; rxvt
 * sends ESC [7~ and ESC [8~): otherwise they arrive as loose characters and
 * end up typed into the prompt.
 */
static void
ui_define_home_end(void)
{
	static const char *const home[] = { "\033[1~", "\033[7~", "\033[H", "\033OH" };
	static const char *const end[] = { "\033[4~", "\033[8~", "\033[F", "\033OF" };

	for (size_t i = 0; i < sizeof home / sizeof home[0]; i++) {
		if (key_defined(home[i]) <= 0)
			define_key(home[i], KEY_HOME);
		if (key_defined(end[i]) <= 0)
			define_key(end[i], KEY_END);
	}
}

/* Start curses; -1 with a message if the terminal cannot be used. */
int
ui_curses_start(struct ui_state *s, int forced_depth, int ascii)
{
	const char *codeset;
	enum theme_depth cap;
	int h, w;

	setlocale(LC_ALL, "");
	codeset = nl_langinfo(CODESET);
	s->ui.glyphs = !ascii && codeset != NULL && (strcmp(codeset, "UTF-8") == 0 ||
	    strcmp(codeset, "utf8") == 0) ? GRID_GLYPHS_UTF8 : GRID_GLYPHS_ASCII;
	s->ui.plot = s->ui.glyphs == GRID_GLYPHS_UTF8 ? GRID_PLOT_BRAILLE : GRID_PLOT_ASCII;
	app_sigbus_term(1); /* the modes to give back if a mapped model file fails */
	if (newterm(NULL, stdout, stdin) == NULL) {
		app_sigbus_term(0);
		app_error("ui: cannot use the terminal TERM=%s", getenv("TERM"));
		return -1;
	}
	ui_curses_active = 1;
	raw();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	if (s->mouse)
		mousemask(UI_MOUSE_EVENTS, NULL);
	define_key("\033[200~", UI_CURSES_PASTE_BEGIN);
	define_key("\033[201~", UI_CURSES_PASTE_END);
	ui_define_home_end();
	ui_paste_mode(1);

	s->term.depth = theme_depth_detect(getenv("TERM"), getenv("COLORTERM"),
	    getenv("NO_COLOR"), tigetnum("colors"), forced_depth);
	if (s->term.depth != THEME_DEPTH_NONE && has_colors() && start_color() == OK) {
		use_default_colors();
		cap = COLORS >= 0x1000000 ? THEME_DEPTH_DIRECT : COLORS >= 256 ? THEME_DEPTH_256
		    : COLORS >= 8 ? THEME_DEPTH_16 : THEME_DEPTH_NONE;
		if (s->term.depth > cap)
			s->term.depth = cap;
	} else
		s->term.depth = THEME_DEPTH_NONE;
	ui_term_theme(&s->term, &s->theme);

	getmaxyx(stdscr, h, w);
	if (grid_init(&s->grid, w, h, s->ui.glyphs) != 0)
		app_fatal("out of memory (a %dx%d screen)", w, h);
	return 0;
}

/* Forget what curses was given (it resized stdscr): the next blit copies every cell. */
void
ui_blit_forget(void)
{
	ui_shadow_w = 0;
}

/* Free the blit's record of the screen (on the way out). */
void
ui_blit_release(void)
{
	free(ui_shadow);
	ui_shadow = NULL;
	ui_shadow_w = ui_shadow_h = 0;
}
