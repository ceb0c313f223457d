/*
 * ui.c: `seqmatch ui`, the interactive terminal UI: option parsing, the
 * terminal checks, curses set-up and tear-down, the one UI loop, the status
 * and key-hint lines, the help overlay, and the generation worker's messages.
 *
 * How this works. Panes draw into an in-memory struct grid (app/grid.h); once
 * a frame the grid is copied to curses and doupdate() sends the difference.
 * The loop: drain the wake pipe and the worker's events, let the panes advance
 * their animations, draw if anything changed (at most 60 frames a second),
 * then sleep in poll() on the terminal and the wake pipe until a key, an
 * event, a signal or the next animation step. Idle, the timeout is infinite:
 * no CPU. The worker thread (ui-gen.c) and the signal handlers only write a
 * byte to the wake pipe; only this thread calls curses. A resize arrives as
 * KEY_RESIZE from curses (its SIGWINCH handler, which ours chains to after
 * waking the loop) and goes through layout_compute like every frame.
 *
 * The terminal is restored on every way out: the loop's end, atexit, and
 * app_fatal (through app_fatal_hook).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "curses.h"

#include "app.h"
#include "checkpoint.h"
#include "editor.h"
#include "cpu.h"
#include "finetune.h"
#include "generate.h"
#include "gpt.h"
#include "grid.h"
#include "layout.h"
#include "record.h"
#include "textstats.h"
#include "session.h"
#include "theme.h"
#include "tokenizer.h"
#include "ui.h"
#include "uistate.h"
#include "util.h"
#include "view-sessions.h"
#include "view-themes.h"

#define UI_FRAME_SECONDS (1.0 / 60.0) /* frame cap */
#define UI_BLIT_RUN 256               /* ASCII cells handed to curses in one call */
#define UI_CURSES_PASTE_BEGIN (KEY_MAX + 1) /* define_key codes of the paste brackets */
#define UI_CURSES_PASTE_END (KEY_MAX + 2)
#define UI_MOUSE_EVENTS (BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED)

/* The panes with a real implementation, by layout slot (NULL: a placeholder box). */
static const struct ui_pane *const ui_panes[LAYOUT_COUNT] = {
	[LAYOUT_TEXT] = &view_text_pane,
	[LAYOUT_DECODE] = &view_params_pane,
	[LAYOUT_INSPECT] = &view_inspector_pane,
	[LAYOUT_STATS] = &view_stats_pane,
	[LAYOUT_FINETUNE] = &view_finetune_pane,
	[LAYOUT_TEXT2] = &view_text_pane,
	[LAYOUT_STATS2] = &view_stats_pane,
};

/* What the placeholder panes say (no fake numbers); every enabled pane is real now. */
static const char *const ui_placeholders[LAYOUT_COUNT] = { NULL };

/* The help overlay: key, what it does ("" key: a heading). */
static const char *const ui_help[][2] = {
	{ "", "Everywhere" },
	{ "Tab S-Tab", "move between the text (A, B), decoding and fine-tune panes" },
	{ "F1 or ?", "this help (? outside the prompt editor)" },
	{ "F10 ^Q, q", "quit (q outside the prompt editor)" },
	{ "Esc ^C", "stop a running generation (^C at rest quits)" },
	{ "^L", "redraw the screen" },
	{ "z", "zoom the focused pane (outside the prompt editor)" },
	{ "F2 T", "pick a theme: j k preview, Enter keeps, Esc undoes" },
	{ "1 2 3 4", "show or hide the decoding, inspector, stats, fine-tune panes" },
	{ "R", "generate again with the seed of the last run" },
	{ "F3 or O", "saved sessions: Enter replays one, then R regenerates it" },
	{ "", "Prompt editor (text pane)" },
	{ "Enter", "generate from the prompt" },
	{ "^J Alt-Enter", "a new line (a paste goes in literally)" },
	{ "Left Right", "move; Home End ^A ^E line start and end" },
	{ "Bksp ^U ^W ^K", "delete a character, to the line start, a word, to its end" },
	{ "Up Down", "lines, then history (the unsent draft is kept)" },
	{ "^G", "edit the prompt in $VISUAL or $EDITOR" },
	{ "Esc", "to playback keys" },
	{ "", "Playback (text pane, after Enter)" },
	{ "Space", "pause or resume the animation" },
	{ ". ,", "step one event forward or back" },
	{ "n N", "next or previous <bksp>" },
	{ "+ - ] [", "animation speed (events a second)" },
	{ "v", "view: clean, trail (erased as ghosts), timeline" },
	{ "r", "replay the last generation from its event log" },
	{ "PgUp PgDn", "scroll the text (the wheel too); End follows it again" },
	{ "click", "a token: the inspector shows it; Esc follows the playback" },
	{ "i Enter", "back to the prompt editor" },
	{ "", "Decoding pane" },
	{ "j k Up Down", "select a parameter" },
	{ "h l - +", "adjust it" },
	{ "Enter", "type a value (Esc cancels)" },
	{ "d D", "reset one, or all, to the defaults" },
	{ "p", "next preset: greedy, balanced, creative" },
	{ "", "Fine-tune pane (generation uses its latest weights)" },
	{ "j k h l e d", "rows: objective, steps, lr, noise, weights pick-up" },
	{ "Enter g", "start a fine-tune of a copy of the weights" },
	{ "p x", "pause or resume; stop (it saves)" },
	{ "s", "save to the model's path with -ft before .bin" },
};

/* The terminal side: colours and attributes of each slot. */
struct ui_term {
	enum theme_depth depth;
	attr_t attr[THEME_NSLOTS];
	short pair[THEME_NSLOTS];
};

/* One model's generations: A, the loaded model, and in compare mode B. */
struct ui_side {
	struct ui *ui;                /* what this side's panes read */
	struct gpt_model *model;      /* the loaded weights */
	struct tokenizer *tok;
	struct ui_gen *gen;           /* the running generation, or NULL */
	struct snapshot *gen_snap;    /* fine-tuned weights it uses (A only) */
	struct ui_mauve *mauve;       /* the live MAUVE worker (B's featurizes with A's model) */
	struct sampler_params run_params; /* the parameters the running/last run started with */
	uint64_t run_hash;            /* FNV-1a of the weights it uses */
	uint64_t model_hash;          /* the loaded weights' FNV-1a, once model_hash_done */
	int model_hash_done;
};

/* Everything the loop owns. */
struct ui_state {
	struct ui ui;                 /* model A's (and the shared panes') view */
	struct ui ui_b;               /* compare mode: model B's */
	void *pane[LAYOUT_COUNT];     /* pane states, for ui_panes */
	struct gpt_model *model;
	struct tokenizer *tok;
	struct record rec;            /* the loaded model's training record */
	struct gpt_model *model_b;    /* compare mode: model B, its tokenizer and record */
	struct tokenizer *tok_b;
	struct record rec_b;
	struct ui_side side[2];
	int nsides;                   /* 2 in compare mode */
	int text_side;                /* the text pane focused last (the inspector follows it) */
	char label[2][80];            /* compare mode: the pane-title labels */
	unsigned enabled;             /* LAYOUT_BIT()s of the panes switched on (digit keys) */
	struct theme theme;
	struct ui_term term;
	struct grid grid;
	struct layout lay;
	int focus;                    /* a pane with a key handler */
	int zoom;
	int help;
	int help_top;                 /* the help overlay's first line shown (it scrolls) */
	struct view_sessions *sessions; /* the session browser overlay, while open */
	int mouse;
	int clear;                    /* Ctrl-L: repaint everything */
	int pasting;                  /* inside a bracketed paste: keys go to the pane as text */
	const char *core;
	struct view_themes *picker;   /* the theme picker, when open */
	char theme_spec[UISTATE_THEME_MAX]; /* the name or path the theme came from, "": built-in */
	struct uistate saved;         /* the UI state file's contents (the theme last picked) */
	char *state_path;             /* the UI state file, NULL: none (no HOME) */
};

static int ui_wake[2] = { -1, -1 };      /* the self-pipe: read end, write end */
static volatile sig_atomic_t ui_signal_caught;
static struct sigaction ui_old_winch;
static int ui_curses_active;
static FILE *ui_trace;                   /* SEQMATCH_UI_TRACE: one line a frame */
static double ui_trace_draw;             /* when this frame's pane drawing began */
static double ui_trace_key;              /* when the first key since the last frame was read */

/* What ui_blit_copy last gave curses for each cell, so that unchanged cells are skipped. */
struct ui_shadow {
	struct grid_cell cell;
	attr_t attr;
	short pair;
};
static struct ui_shadow *ui_shadow;     /* (ui_shadow_h, ui_shadow_w); NULL: none valid */
static int ui_shadow_w, ui_shadow_h;

/* Seconds on a monotonic clock. */
static double
ui_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Open $SEQMATCH_UI_TRACE for appending, line-buffered: a killed UI leaves whole lines. */
static void
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
	double end = ui_now();

	fprintf(ui_trace, "t=%.6f size=%dx%d full=%d draw_ms=%.3f blit_ms=%.3f update_ms=%.3f",
	    end, g->width, g->height, full, (blit - ui_trace_draw) * 1e3, (update - blit) * 1e3,
	    (end - update) * 1e3);
	if (ui_trace_key > 0)
		fprintf(ui_trace, " key_ms=%.3f", (end - ui_trace_key) * 1e3);
	fputc('\n', ui_trace);
	ui_trace_key = 0;
}

/* Set the status-line notice. */
void
ui_message(struct ui *ui, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ui->message, sizeof ui->message, fmt, ap);
	va_end(ap);
	ui->message_error = error;
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
static void
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
static void
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

/* Engine diagnostics would scribble over the screen: drop them (errors come back as causes). */
static void
ui_log(enum util_log_level level, const char *msg, void *arg)
{
}

/* The usage text. */
static void
ui_usage(FILE *f)
{
	fprintf(f, "Usage: seqmatch ui [OPTIONS]\n"
	    "\n"
	    "The interactive terminal UI: type a prompt, watch the model write and erase\n"
	    "(<bksp>), tune the decoding parameters. Needs a terminal; press F1 or ? inside.\n"
	    "\n"
	    "Options:\n"
	    "  --model M         the model file (default: $SEQMATCH_MODEL, else the default model)\n"
	    "  --compare M2      compare mode: M2 writes beside M, same prompt, seed and settings\n"
	    "  --theme T         a theme name (themes/T.yaml) or file\n"
	    "  --colors=C        auto, none, 16, 256 or direct (default auto; NO_COLOR means none)\n"
	    "  --no-mouse        do not take the mouse\n"
	    "  --ascii           ASCII glyphs only (automatic when the locale is not UTF-8)\n"
	    "  --session S       open a saved session (an ID from 'seqmatch session list', or\n"
	    "                    a FILE) to replay; R regenerates it\n"
	    "  -h, --help        this help\n");
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
static void
ui_term_theme(struct ui_term *t, const struct theme *theme)
{
	struct theme deg;

	theme_degrade(theme, t->depth, &deg);
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
static void
ui_blit(struct ui_state *s)
{
	double blit, update;
	int full = s->clear;

	if (ui_trace == NULL) {
		ui_blit_copy(s);
		doupdate();
		return;
	}
	blit = ui_now();
	ui_blit_copy(s);
	update = ui_now();
	doupdate();
	ui_trace_frame(&s->grid, full, blit, update);
}

/* Lay out the panes for the current size, focus and zoom. */
static void
ui_relayout(struct ui_state *s)
{
	struct layout_request req;

	memset(&req, 0, sizeof req);
	req.width = s->grid.width;
	req.height = s->grid.height;
	req.enabled = s->enabled | LAYOUT_BIT(LAYOUT_TEXT);
	req.focus = s->focus;
	req.zoom = s->zoom;
	req.compare = s->nsides == 2;
	layout_compute(&req, &s->lay);
}

/* The focused pane as laid out (the text pane when the focused one is hidden). */
static int
ui_focus(const struct ui_state *s)
{
	int f = s->lay.focus;

	if (f < 0 || f >= LAYOUT_COUNT || ui_panes[f] == NULL || ui_panes[f]->key == NULL ||
	    !(s->lay.shown & LAYOUT_BIT(f)))
		return LAYOUT_TEXT;
	return f;
}

/* The struct ui a pane reads: model B's for B's panes; the inspector follows the text pane. */
static struct ui *
ui_pane_ui(struct ui_state *s, int pane)
{
	if (s->nsides < 2)
		return &s->ui;
	if (pane == LAYOUT_INSPECT)
		pane = s->text_side == 1 ? LAYOUT_TEXT2 : LAYOUT_TEXT;
	return pane == LAYOUT_TEXT2 || pane == LAYOUT_STATS2 ? &s->ui_b : &s->ui;
}

/* Note which text pane has the focus, for the inspector. */
static void
ui_note_text_side(struct ui_state *s)
{
	int f = ui_focus(s);

	if (f == LAYOUT_TEXT || f == LAYOUT_TEXT2)
		s->text_side = f == LAYOUT_TEXT2;
}

/* Copy the live MAUVE estimates; start B's worker once A's has fitted. 1 if changed. */
static int
ui_mauve_poll(struct ui_state *s)
{
	int changed = 0;

	if (s->side[0].mauve != NULL && ui_mauve_get(s->side[0].mauve, &s->ui.mauve))
		changed = 1;
	/* One fit at a time on two cores; B's uses A's featurizer, so the scores compare. */
	if (s->nsides == 2 && s->side[1].mauve == NULL && s->ui.mauve.state == UI_MAUVE_READY)
		s->side[1].mauve = ui_mauve_start(s->model, s->tok, &s->rec, ui_wake[1]);
	if (s->side[1].mauve != NULL && ui_mauve_get(s->side[1].mauve, &s->ui_b.mauve))
		changed = 1;
	return changed;
}

/* Whether letters go to the prompt editor. */
static int
ui_typing(const struct ui_state *s)
{
	return ui_focus(s) == LAYOUT_TEXT && view_text_editing(s->pane[LAYOUT_TEXT]);
}

/* The status line: model, seed, view, the notice; OpenBLAS core, theme, colours when they fit. */
static void
ui_draw_status(struct ui_state *s, struct grid_rect r)
{
	char left[256], right[160], view[64], seed[48], weights[32];
	const struct ui *msg = s->ui.message[0] == '\0' && s->nsides == 2 ? &s->ui_b : &s->ui;
	int col, rw;

	grid_fill(&s->grid, r, NULL, THEME_SLOT_STATUS, 0);
	view_text_describe(s->pane[LAYOUT_TEXT], view, sizeof view);
	if (s->ui.have_run)
		snprintf(seed, sizeof seed, "seed %llu", (unsigned long long)s->ui.log.seed);
	else
		snprintf(seed, sizeof seed, "seed -");
	weights[0] = '\0';
	if (s->ui.weights_version > 0)
		snprintf(weights, sizeof weights, " weights v%ld", s->ui.weights_version);
	if (s->nsides == 2)
		snprintf(left, sizeof left, " A %s%s%s | B %s%s | %s | %s ", s->ui.model_name,
		    s->ui.model_bksp ? " (bksp)" : "", weights, s->ui_b.model_name,
		    s->ui_b.model_bksp ? " (bksp)" : "", seed, view);
	else
		snprintf(left, sizeof left, " %s%s%s | %s | %s ", s->ui.model_name,
		    s->ui.model_bksp ? " (bksp)" : "", weights, seed, view);
	snprintf(right, sizeof right, " core %s | theme %s | colours %s ", s->core,
	    s->theme.name, theme_depth_name(s->term.depth));
	col = grid_put_trunc(&s->grid, r, 0, 0, left, r.w, THEME_SLOT_STATUS, 0);
	rw = (int)strlen(right);
	if (msg->message[0] != '\0' && col < r.w - 4) {
		int room = r.w - col - (r.w - col - rw >= 24 ? rw : 0);

		col += grid_put_trunc(&s->grid, r, col, 0, msg->message, room - 1,
		    msg->message_error ? THEME_SLOT_ERROR : THEME_SLOT_STATUS,
		    msg->message_error ? GRID_ATTR_REVERSE : 0);
	}
	if (r.w - col >= rw)
		grid_put(&s->grid, r, r.w - rw, 0, right, THEME_SLOT_STATUS, 0);
}

/* The key-hint line for the focused pane and mode. */
static void
ui_draw_keys(struct ui_state *s, struct grid_rect r)
{
	/* Most needed first: a narrow terminal cuts the line at its end. */
	static const char *const editing[] = { "Enter", "generate", "^J", "newline", "Up/Dn",
		"history", "Esc", "stop/playback", "Tab", "panes", "F1", "help", "F10/^Q", "quit",
		"^G", "$EDITOR", "F2", "theme", "F3", "sessions", NULL };
	static const char *const playback[] = { "Spc", "pause", ". ,", "step", "n N", "bksp",
		"v", "view", "?", "help", "q", "quit", "+ -", "speed", "r", "replay", "i", "edit",
		"F2 T", "theme", "F3 O", "sessions", NULL };
	static const char *const decoding[] = { "j k", "select", "h l", "adjust", "Enter",
		"type", "d D", "reset", "p", "preset", "?", "help", "q", "quit", "R", "same seed",
		"F2 T", "theme", NULL };
	static const char *const finetune[] = { "Enter", "start", "j k h l e", "options", "p",
		"pause", "x", "stop", "s", "save -ft", "?", "help", "q", "quit", "F2 T", "theme",
		NULL };
	static const char *const display[] = { "z", "zoom", "Tab", "panes", "1-4",
		"show/hide panes", "?", "help", "q", "quit", "R", "same seed", "F2 T", "theme",
		NULL };
	const char *const *k;
	int col = 1, f = ui_focus(s);

	if (f == LAYOUT_DECODE)
		k = decoding;
	else if (f == LAYOUT_FINETUNE)
		k = finetune;
	else if (f == LAYOUT_STATS || f == LAYOUT_STATS2 || f == LAYOUT_INSPECT)
		k = display;
	else
		k = ui_typing(s) ? editing : playback;
	grid_fill(&s->grid, r, NULL, THEME_SLOT_HINT, 0);
	for (; k[0] != NULL && col < r.w; k += 2) {
		col = grid_put(&s->grid, r, col, 0, k[0], THEME_SLOT_KEY, 0);
		col = grid_put(&s->grid, r, col + 1, 0, k[1], THEME_SLOT_HINT, 0);
		col += 2;
	}
}

/* A titled box with an honest placeholder line. */
static void
ui_draw_placeholder(struct ui_state *s, int pane, struct grid_rect r)
{
	grid_box(&s->grid, r, GRID_BOX_LIGHT, layout_pane_name(pane), THEME_SLOT_BORDER,
	    THEME_SLOT_TITLE, 0);
	grid_put_trunc(&s->grid, grid_rect_inset(r, 1), 0, 0, ui_placeholders[pane],
	    r.w - 2, THEME_SLOT_DIM, 0);
}

/* The help overlay's rectangle: centred, at most 70 columns, as tall as it fits. */
static struct grid_rect
ui_help_rect(const struct ui_state *s)
{
	int n = (int)(sizeof ui_help / sizeof ui_help[0]);
	int w = s->grid.width - 4 < 70 ? s->grid.width - 4 : 70;
	int h = s->grid.height - 2 < n + 3 ? s->grid.height - 2 : n + 3;

	return grid_rect_make((s->grid.width - w) / 2, (s->grid.height - h) / 2, w, h);
}

/* Scroll the help overlay by a key (j k arrows, Space PgDn PgUp, Home). */
static void
ui_help_scroll(struct ui_state *s, int key)
{
	int n = (int)(sizeof ui_help / sizeof ui_help[0]);
	int rows = ui_help_rect(s).h - 3, top = s->help_top;

	if (rows < 1)
		rows = 1;
	if (key == 'j' || key == UI_KEY_DOWN)
		top++;
	else if (key == 'k' || key == UI_KEY_UP)
		top--;
	else if (key == UI_KEY_PGDN || key == ' ')
		top += rows;
	else if (key == UI_KEY_PGUP)
		top -= rows;
	else
		top = 0;
	if (top > n - rows)
		top = n - rows;
	s->help_top = top < 0 ? 0 : top;
}

/* The help overlay, centred; it scrolls when the terminal is shorter than the list. */
static void
ui_draw_help(struct ui_state *s)
{
	int n = (int)(sizeof ui_help / sizeof ui_help[0]);
	struct grid_rect r = ui_help_rect(s), in = grid_rect_inset(r, 1);
	int rows = in.h - 1, top;
	char title[64];

	if (s->help_top > n - rows)
		s->help_top = n - rows > 0 ? n - rows : 0;
	top = s->help_top;
	if (rows < n)
		snprintf(title, sizeof title, "Help %d-%d/%d - j k scroll, q closes", top + 1,
		    top + rows < n ? top + rows : n, n);
	else
		snprintf(title, sizeof title, "Help - q, Esc or ? closes");
	grid_fill(&s->grid, r, NULL, THEME_SLOT_TEXT, 0);
	grid_box(&s->grid, r, GRID_BOX_HEAVY, title, THEME_SLOT_BORDER_FOCUS, THEME_SLOT_TITLE,
	    0);
	for (int i = 0; i < rows && top + i < n; i++) {
		const char *const *h = ui_help[top + i];

		if (h[0][0] == '\0')
			grid_put_trunc(&s->grid, in, 1, i, h[1], in.w - 1, THEME_SLOT_TITLE, 0);
		else {
			grid_put_trunc(&s->grid, in, 2, i, h[0], 14, THEME_SLOT_KEY, 0);
			grid_put_trunc(&s->grid, in, 17, i, h[1], in.w - 17, THEME_SLOT_TEXT, 0);
		}
	}
	grid_put_trunc(&s->grid, in, 1, in.h - 1, "Letter keys work when the prompt editor "
	    "is not focused; F-keys have the aliases above.", in.w - 1, THEME_SLOT_DIM, 0);
}

/* Draw a whole frame into the grid, then to the terminal. */
static void
ui_draw(struct ui_state *s)
{
	char msg[128];
	int focus;

	if (ui_trace != NULL)
		ui_trace_draw = ui_now();
	ui_relayout(s);
	grid_clear(&s->grid, THEME_SLOT_BACKGROUND);
	if (s->lay.too_small) {
		snprintf(msg, sizeof msg, "terminal too small: have %dx%d, need %dx%d",
		    s->grid.width, s->grid.height, s->lay.need_width, s->lay.need_height);
		for (int row = 0, off = 0; off < (int)strlen(msg) && row < s->grid.height;
		    row++, off += s->grid.width > 0 ? s->grid.width : 1)
			grid_put(&s->grid, grid_rect_make(0, 0, s->grid.width, s->grid.height), 0,
			    row + s->grid.height / 2 - 1 > 0 ? row + s->grid.height / 2 - 1 : row,
			    msg + off, THEME_SLOT_WARNING, 0);
		ui_blit(s);
		return;
	}
	focus = ui_focus(s);
	ui_note_text_side(s);
	for (int p = 0; p < LAYOUT_COUNT; p++) {
		if (p == LAYOUT_STATUS || p == LAYOUT_KEYS || !(s->lay.shown & LAYOUT_BIT(p)) ||
		    grid_rect_empty(s->lay.rect[p]))
			continue;
		if (ui_panes[p] != NULL && s->pane[p] != NULL)
			ui_panes[p]->draw(s->pane[p], ui_pane_ui(s, p), &s->grid, s->lay.rect[p],
			    p == focus);
		else if (ui_placeholders[p] != NULL)
			ui_draw_placeholder(s, p, s->lay.rect[p]);
	}
	if (s->lay.shown & LAYOUT_BIT(LAYOUT_STATUS))
		ui_draw_status(s, s->lay.rect[LAYOUT_STATUS]);
	if (s->lay.shown & LAYOUT_BIT(LAYOUT_KEYS))
		ui_draw_keys(s, s->lay.rect[LAYOUT_KEYS]);
	if (s->help)
		ui_draw_help(s);
	if (s->picker != NULL)
		view_themes_draw(s->picker, &s->grid);
	if (s->sessions != NULL)
		view_sessions_draw(s->sessions, &s->grid, grid_rect_make(0, 0, s->grid.width,
		    s->grid.height));
	ui_blit(s);
}

/* FNV-1a of a model's parameter block (the side's loaded model's is computed once). */
static uint64_t
ui_model_hash(struct ui_side *d, const struct gpt_model *m)
{
	uint64_t h;

	if (m == d->model && d->model_hash_done)
		return d->model_hash;
	h = util_fnv1a(UTIL_FNV_INIT, gpt_params(m)->wte, gpt_num_params(m) * sizeof(float));
	if (m == d->model) {
		d->model_hash = h;
		d->model_hash_done = 1;
	}
	return h;
}

/* "B: " for model B's notices in compare mode, "" otherwise. */
static const char *
ui_side_prefix(const struct ui_state *s, const struct ui_side *d)
{
	if (s->nsides < 2)
		return "";
	return d == &s->side[0] ? "A: " : "B: ";
}

/* Start one side's generation from prompt text with seed; -1 with a notice on failure. */
static int
ui_side_generate(struct ui_state *s, struct ui_side *d, const char *prompt, uint64_t seed)
{
	struct sampler_params p = s->ui.params;
	struct ui_log *log = &d->ui->log;
	const struct gpt_model *m;
	int *ids = NULL;
	size_t n = 0;
	char *cause = NULL;

	if (prompt[0] == '\0') { /* an empty prompt starts a new document */
		ids = xmalloc(sizeof *ids);
		ids[0] = tokenizer_eot(d->tok);
		n = 1;
	} else if (tokenizer_encode(d->tok, (const uint8_t *)prompt, strlen(prompt), &ids, &n,
	    &cause) != 0) {
		ui_message(&s->ui, 1, "%sprompt: %s", ui_side_prefix(s, d), cause);
		free(cause);
		return -1;
	}
	if (n >= (size_t)gpt_config(d->model)->max_seq_len) {
		ui_message(&s->ui, 1, "%sprompt: %zu tokens do not fit the model's context of %d",
		    ui_side_prefix(s, d), n, gpt_config(d->model)->max_seq_len);
		free(ids);
		return -1;
	}
	p.seed = (int64_t)seed;
	/* A: the latest fine-tuned weights when a fine-tune exists, held for the whole run. */
	if (d == &s->side[0])
		d->gen_snap = view_finetune_snapshot(s->pane[LAYOUT_FINETUNE]);
	m = d->gen_snap != NULL ? d->gen_snap->model : d->model;
	d->gen = ui_gen_start(d->model, d->gen_snap, d->tok, &p, ids, (int)n, ui_wake[1],
	    &cause);
	free(ids);
	d->ui->weights_version = d->gen != NULL && d->gen_snap != NULL ? d->gen_snap->version : 0;
	d->run_params = p;
	d->run_hash = ui_model_hash(d, m);
	if (d->gen == NULL) {
		snapshot_unref(d->gen_snap);
		d->gen_snap = NULL;
		ui_message(&s->ui, 1, "%scannot start the generation: %s", ui_side_prefix(s, d),
		    cause);
		free(cause);
		return -1;
	}
	if (log->prompt != prompt) {
		free(log->prompt);
		log->prompt = xstrdup(prompt);
	}
	log->n_prompt = (int)n;
	log->inspect = -1;
	log->n = 0;
	log->shown = 0;
	log->done = 0;
	log->seed = seed;
	log->serial++;
	d->ui->have_run = 1;
	d->ui->generating = 1;
	return 0;
}

/* Whether any side is generating. */
static int
ui_busy(const struct ui_state *s)
{
	for (int i = 0; i < s->nsides; i++)
		if (s->side[i].gen != NULL)
			return 1;
	return 0;
}

/*
 * Start a generation from prompt text; seed < 0 uses the parameters' seed. In
 * compare mode both models start on the same prompt with the same seed and
 * parameters.
 */
static void
ui_generate(struct ui_state *s, const char *prompt, int64_t seed)
{
	char *copy;
	uint64_t used;
	int started = 0;

	if (ui_busy(s)) {
		ui_message(&s->ui, 1, "a generation is running: Esc or Ctrl-C stops it");
		return;
	}
	used = generate_pick_seed(seed >= 0 ? seed : s->ui.params.seed);
	copy = xstrdup(prompt); /* prompt may be a log's own copy, replaced on the way */
	for (int i = 0; i < s->nsides; i++)
		if (ui_side_generate(s, &s->side[i], copy, used) == 0)
			started++;
	if (started == s->nsides)
		ui_message(&s->ui, 0, "generating with seed %llu%s", (unsigned long long)used,
		    s->nsides > 1 ? " (both models)" : "");
	free(copy);
}

/* A generation's net ids (prompt excluded) in model A's tokens, for A's featurizer. */
static int
ui_sample_ids(struct ui_state *s, struct ui_side *d, int **out, int *n_out)
{
	int *ids = NULL, n_ids = 0;
	uint8_t *text = NULL;
	size_t len = 0, n = 0;
	char *cause = NULL;
	int rc;

	*out = NULL;
	*n_out = 0;
	rc = textstats_replay(d->ui->log.ev, (int)d->ui->log.n, d->ui->log.n_prompt, &ids,
	    &n_ids, &cause);
	if (rc == 0 && d->tok != s->tok) { /* B's tokens: through text into A's */
		rc = tokenizer_decode(d->tok, ids, (size_t)n_ids, &text, &len, &cause);
		free(ids);
		ids = NULL;
		if (rc == 0)
			rc = tokenizer_encode(s->tok, text, len, &ids, &n, &cause);
		n_ids = (int)n;
		free(text);
	}
	free(cause);
	if (rc != 0) {
		free(ids);
		return -1;
	}
	*out = ids;
	*n_out = n_ids;
	return 0;
}

/* Queue the net text of a side's finished generation as a live MAUVE sample. */
static void
ui_queue_mauve(struct ui_state *s, struct ui_side *d)
{
	int *ids, n_ids;

	if (d->mauve == NULL || ui_sample_ids(s, d, &ids, &n_ids) != 0)
		return;
	ui_mauve_add(d->mauve, ids, n_ids);
	free(ids);
}

/* Save a side's finished generation as a transcript (a failure is a notice). */
static void
ui_save_session(struct ui_state *s, struct ui_side *d)
{
	char *dir = session_dir(), *cause = NULL;

	if (dir == NULL)
		return;
	if (session_save_log(dir, &d->ui->log, d->tok, &d->run_params, d->ui->model_path,
	    d->run_hash, d->ui->weights_version, NULL, &cause) != 0)
		ui_message(&s->ui, 1, "%ssession not saved: %s", ui_side_prefix(s, d),
		    cause != NULL ? cause : "?");
	free(cause);
	free(dir);
}

/* Move a side's queued events into its log; reap its worker when it has ended. */
static int
ui_side_take(struct ui_state *s, struct ui_side *d)
{
	struct generate_event *ev;
	struct ui_log *log = &d->ui->log;
	size_t n;
	int finished, rc, fed;
	char *cause = NULL;

	if (d->gen == NULL)
		return 0;
	/* Model A's run picks up fine-tuned weights as the fine-tune pane says. */
	fed = d == &s->side[0] ? view_finetune_feed(s->pane[LAYOUT_FINETUNE], d->gen) : 0;
	ev = ui_gen_take(d->gen, &n, &finished);
	for (size_t i = 0; i < n; i++) {
		if (ev[i].type == GENERATE_EVENT_STOP) {
			log->done = 1;
			log->reason = ev[i].reason;
			log->stop = ev[i];
			ui_queue_mauve(s, d);
			ui_message(&s->ui, 0, "%sdone (%s): %d tokens, %d erased, %.1f tokens/s",
			    ui_side_prefix(s, d), generate_stop_name(ev[i].reason),
			    ev[i].n_generated, ev[i].n_erased, ev[i].generate_seconds > 0 ?
			    (ev[i].n_generated + ev[i].n_erased) / ev[i].generate_seconds : 0.0);
			ui_save_session(s, d);
			if (ev[i].reason == GENERATE_STOP_MAX_ACTIONS &&
			    ev[i].n_generated - ev[i].n_erased <= 1)
				ui_message(&s->ui, 1, "%sthe model erased all it wrote: the prompt is "
				    "unlike its corpus's text (try a name, e.g. 'Lena'), or lower "
				    "backspace_bias", ui_side_prefix(s, d));
			continue;
		}
		if (log->n == log->cap) {
			log->cap = log->cap ? 2 * log->cap : 256;
			log->ev = xrealloc(log->ev, log->cap * sizeof *log->ev);
		}
		log->ev[log->n++] = ev[i];
	}
	free(ev);
	if (finished) {
		rc = ui_gen_finish(d->gen, &cause);
		d->gen = NULL;
		snapshot_unref(d->gen_snap);
		d->gen_snap = NULL;
		d->ui->generating = 0;
		if (rc != 0)
			ui_message(&s->ui, 1, "%sgeneration failed: %s", ui_side_prefix(s, d),
			    cause ? cause : "?");
		free(cause);
	}
	return n > 0 || finished || fed;
}

/* Take every side's events; 1 if anything changed. */
static int
ui_take_events(struct ui_state *s)
{
	int changed = 0;

	for (int i = 0; i < s->nsides; i++)
		changed |= ui_side_take(s, &s->side[i]);
	return changed;
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

/* Move the focus to the next (dir 1) or previous (-1) pane with keys on screen. */
static void
ui_cycle_focus(struct ui_state *s, int dir)
{
	static const int order[] = { LAYOUT_TEXT, LAYOUT_TEXT2, LAYOUT_DECODE, LAYOUT_FINETUNE,
		LAYOUT_INSPECT, LAYOUT_STATS, LAYOUT_STATS2 };
	int n = (int)(sizeof order / sizeof order[0]), at = 0, f = ui_focus(s);

	for (int i = 0; i < n; i++)
		if (order[i] == f)
			at = i;
	for (int i = 1; i < n; i++) {
		f = order[(at + dir * i + n) % n];
		if (ui_panes[f] != NULL && ui_panes[f]->key != NULL && s->pane[f] != NULL &&
		    (s->lay.shown & LAYOUT_BIT(f))) {
			s->focus = f;
			return;
		}
	}
}

/*
 * Save the UI state (the theme last picked, the panes, zoom and focus); a
 * failure, or a bad file kept as .bad, is a line in buf ("" otherwise).
 */
static void
ui_state_save(struct ui_state *s, char *buf, size_t size)
{
	char *note = NULL, *cause = NULL;

	buf[0] = '\0';
	if (s->state_path == NULL)
		return;
	s->saved.panes = s->enabled;
	s->saved.zoom = s->zoom;
	s->saved.focus = s->focus;
	if (s->pane[LAYOUT_TEXT] != NULL)
		view_text_get_state(s->pane[LAYOUT_TEXT], &s->saved.view, &s->saved.speed);
	if (uistate_save(&s->saved, s->state_path, &note, &cause) != 0)
		snprintf(buf, size, "UI state not saved: %s", cause != NULL ? cause : "?");
	else if (note != NULL)
		snprintf(buf, size, "UI state: %s", note);
	free(note);
	free(cause);
}

/* Open the theme picker over the panes, the shown theme marked. */
static void
ui_picker_open(struct ui_state *s)
{
	char *dir = app_data_dir();

	view_themes_free(s->picker);
	s->picker = view_themes_new(s->theme_spec, &s->theme, dir);
	free(dir);
}

/* A key while the theme picker is open: preview (new colour pairs), keep and save, or undo. */
static int
ui_picker_key(struct ui_state *s, int key)
{
	char buf[512];
	int r;

	if (key == UI_CTRL('q') || key == UI_KEY_F10)
		return UI_QUIT;
	r = view_themes_key(s->picker, key, &s->theme);
	if (r & VIEW_THEMES_RECOLOUR)
		ui_term_theme(&s->term, &s->theme);
	if (r & VIEW_THEMES_PICKED) {
		snprintf(s->theme_spec, sizeof s->theme_spec, "%s", view_themes_pick(s->picker));
		snprintf(s->saved.theme, sizeof s->saved.theme, "%s", s->theme_spec);
		ui_state_save(s, buf, sizeof buf);
		if (buf[0] != '\0')
			ui_message(&s->ui, 1, "theme %s: %s", s->theme.name, buf);
		else
			ui_message(&s->ui, 0, "theme %s kept", s->theme.name);
	}
	if (r & VIEW_THEMES_CLOSE) {
		view_themes_free(s->picker);
		s->picker = NULL;
	}
	return r != 0 ? UI_REDRAW : 0;
}

/* Show or hide a pane by its digit (1 decoding, 2 inspector, 3 stats, 4 fine-tune). */
static void
ui_toggle_pane(struct ui_state *s, int i)
{
	static const int panes[] = { LAYOUT_DECODE, LAYOUT_INSPECT, LAYOUT_STATS,
		LAYOUT_FINETUNE };
	unsigned bit = LAYOUT_BIT(panes[i]);

	s->enabled ^= bit;
	ui_message(&s->ui, 0, "%s pane %s", layout_pane_name(panes[i]),
	    s->enabled & bit ? "shown" : "hidden");
	if (!(s->enabled & bit) && (s->focus == panes[i] || s->zoom == panes[i])) {
		s->focus = LAYOUT_TEXT;
		s->zoom = LAYOUT_NONE;
	}
}

/*
 * Open a saved session: its log replaces the last run (the text pane replays
 * it from the start), its decoding parameters become the current ones, and
 * R regenerates it with its seed. -1 with *cause, nothing changed, if it
 * cannot be read or is not this model's tokenizer's.
 */
static int
ui_open_session(struct ui_state *s, const char *path, char **cause)
{
	struct session ses;
	struct ui_log log;
	const char *id = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
	uint64_t hash;
	int64_t seed;
	char when[24];

	if (ui_busy(s)) {
		*cause = xstrdup("a generation is running: Esc or Ctrl-C stops it first");
		return -1;
	}
	if (session_load(&ses, path, cause) != 0 || session_to_log(&ses, s->tok, &log,
	    cause) != 0) {
		session_free(&ses);
		return -1;
	}
	free(s->ui.log.prompt);
	free(s->ui.log.ev);
	log.serial = s->ui.log.serial + 1;
	s->ui.log = log;
	seed = s->ui.params.seed; /* R uses the session's seed; the setting stays the user's */
	s->ui.params = ses.params;
	s->ui.params.seed = seed;
	s->ui.have_run = 1;
	if (s->nsides == 2) { /* compare mode: B has no part in it until R runs both */
		free(s->ui_b.log.prompt);
		free(s->ui_b.log.ev);
		memset(&s->ui_b.log, 0, sizeof s->ui_b.log);
		s->ui_b.log.serial = log.serial;
		s->ui_b.log.inspect = -1;
		s->ui_b.have_run = 0;
	}
	hash = ui_model_hash(&s->side[0], s->model);
	snprintf(when, sizeof when, "%.16s", ses.time); /* 2026-11-26T14:48: the line is short */
	if (strlen(when) > 10 && when[10] == 'T')
		when[10] = ' ';
	if (hash != ses.model_hash)
		ui_message(&s->ui, 1, "opened %s: another model made it (hash %016llx, loaded "
		    "%016llx): R will differ (%s)", when,
		    (unsigned long long)ses.model_hash, (unsigned long long)hash, id);
	else
		ui_message(&s->ui, 0, "opened %s; R generates it again (%s)", when, id);
	session_free(&ses);
	return 0;
}

/* A key while the session browser is open. */
static int
ui_key_sessions(struct ui_state *s, int key)
{
	char *path, *cause = NULL;

	switch (view_sessions_key(s->sessions, key)) {
	case VIEW_SESSIONS_NONE:
		return key == UI_CTRL('q') || key == UI_KEY_F10 ? UI_QUIT : 0;
	case VIEW_SESSIONS_REDRAW:
		return UI_REDRAW;
	case VIEW_SESSIONS_OPEN:
		path = xstrdup(view_sessions_selected(s->sessions));
		if (ui_open_session(s, path, &cause) != 0)
			ui_message(&s->ui, 1, "%s", cause != NULL ? cause : path);
		free(cause);
		free(path);
		break;
	case VIEW_SESSIONS_CLOSE:
		break;
	}
	view_sessions_free(s->sessions);
	s->sessions = NULL;
	return UI_REDRAW;
}

/* Open the session browser on the sessions directory. */
static int
ui_browse_sessions(struct ui_state *s)
{
	char *dir = session_dir();

	s->sessions = view_sessions_new(dir);
	free(dir);
	return UI_REDRAW;
}

/* Dispatch a key: help, global keys, the focused pane, then the loop's letter keys. */
static int
ui_key(struct ui_state *s, int key)
{
	int focus = ui_focus(s), flags;

	if (key == UI_KEY_PASTE_BEGIN || key == UI_KEY_PASTE_END)
		s->pasting = key == UI_KEY_PASTE_BEGIN;
	if (s->pasting || key == UI_KEY_PASTE_END) {
		/* Pasted text is text: no global key acts (a pasted Tab or ^C, a 'q'). */
		if (s->help)
			return 0;
		return ui_panes[focus]->key(s->pane[focus], ui_pane_ui(s, focus), key) &
		    ~(UI_PASS | UI_QUIT);
	}
	s->ui.message[0] = '\0';
	s->ui_b.message[0] = '\0';
	if (s->help) {
		if (key == 'q' || key == UI_KEY_ESC || key == '?' || key == UI_KEY_F1) {
			s->help = 0;
			return UI_REDRAW;
		}
		if (key == 'j' || key == UI_KEY_DOWN || key == 'k' || key == UI_KEY_UP ||
		    key == UI_KEY_PGDN || key == ' ' || key == UI_KEY_PGUP || key == UI_KEY_HOME) {
			ui_help_scroll(s, key);
			return UI_REDRAW;
		}
		return key == UI_CTRL('q') || key == UI_KEY_F10 ? UI_QUIT : 0;
	}
	if (s->picker != NULL)
		return ui_picker_key(s, key);
	if (s->sessions != NULL)
		return ui_key_sessions(s, key);
	switch (key) {
	case UI_CTRL('q'):
	case UI_KEY_F10:
		return UI_QUIT;
	case UI_CTRL('c'):
		return s->ui.generating ? UI_STOP | UI_REDRAW : UI_QUIT;
	case UI_CTRL('l'):
		s->clear = 1;
		return UI_REDRAW;
	case UI_KEY_F1:
		s->help = 1;
		s->help_top = 0;
		return UI_REDRAW;
	case UI_KEY_F2:
		ui_picker_open(s);
		return UI_REDRAW;
	case UI_KEY_F3:
		return ui_browse_sessions(s);
	case UI_KEY_TAB:
		ui_cycle_focus(s, 1);
		return UI_REDRAW;
	case UI_KEY_BTAB:
		ui_cycle_focus(s, -1);
		return UI_REDRAW;
	}
	flags = ui_panes[focus]->key(s->pane[focus], ui_pane_ui(s, focus), key);
	if (!(flags & UI_PASS))
		return flags;
	flags &= ~UI_PASS;
	switch (key) {
	case '?':
		s->help = 1;
		s->help_top = 0;
		return flags | UI_REDRAW;
	case 'q':
		return flags | UI_QUIT;
	case UI_KEY_ESC:
		return s->ui.generating ? flags | UI_STOP | UI_REDRAW : flags;
	case 'R':
		return flags | UI_REPLAY_SEED | UI_REDRAW;
	case 'O':
		return flags | ui_browse_sessions(s);
	case 'z':
		s->zoom = s->zoom == LAYOUT_NONE ? focus : LAYOUT_NONE;
		return flags | UI_REDRAW;
	case 'T':
		ui_picker_open(s);
		return flags | UI_REDRAW;
	case '1':
	case '2':
	case '3':
	case '4':
		ui_toggle_pane(s, key - '1');
		return flags | UI_REDRAW;
	}
	return flags;
}

/* Edit the draft in $VISUAL/$EDITOR with curses suspended; a failure keeps the draft. */
static void
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
	} else {
		view_text_set_draft(s->pane[LAYOUT_TEXT], text);
		if (truncated)
			ui_message(&s->ui, 1, "the edited prompt was cut to %d KiB",
			    EDITOR_MAX_BYTES / 1024);
	}
	free(text);
	free(cause);
}

/* Act on a key handler's flags (except REDRAW and QUIT, which the loop reads). */
static void
ui_act(struct ui_state *s, int flags)
{
	if ((flags & UI_STOP) && ui_busy(s)) {
		for (int i = 0; i < s->nsides; i++)
			if (s->side[i].gen != NULL)
				ui_gen_cancel(s->side[i].gen);
		ui_message(&s->ui, 0, "stopping");
	}
	if ((flags & UI_GENERATE) && s->ui.request != NULL) {
		ui_generate(s, s->ui.request, -1);
		free(s->ui.request);
		s->ui.request = NULL;
	}
	if ((flags & UI_EDITOR) && s->ui.request != NULL) {
		ui_run_editor(s, s->ui.request);
		free(s->ui.request);
		s->ui.request = NULL;
	}
	if (flags & UI_REPLAY_SEED) {
		if (!s->ui.have_run || s->ui.log.prompt == NULL)
			ui_message(&s->ui, 1, "nothing to replay yet: generate first");
		else
			ui_generate(s, s->ui.log.prompt, (int64_t)s->ui.log.seed);
	}
	/* Decoding changes reach the running generations at their next token. */
	for (int i = 0; i < s->nsides; i++)
		if (s->side[i].gen != NULL)
			ui_gen_update(s->side[i].gen, &s->ui.params);
}

/* A mouse event: a click focuses the pane under it; clicks and the wheel go to its click hook. */
static int
ui_mouse(struct ui_state *s)
{
	MEVENT me;
	int button, flags;

	if (getmouse(&me) != OK)
		return 0;
	if (me.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED))
		button = 1;
	else if (me.bstate & BUTTON4_PRESSED)
		button = 4;
	else if (me.bstate & BUTTON5_PRESSED)
		button = 5;
	else
		return 0;
	for (int p = 0; p < LAYOUT_COUNT; p++) {
		struct grid_rect r = s->lay.rect[p];

		if (ui_panes[p] == NULL || s->pane[p] == NULL || !(s->lay.shown & LAYOUT_BIT(p)) ||
		    me.x < r.x ||
		    me.x >= r.x + r.w || me.y < r.y || me.y >= r.y + r.h)
			continue;
		flags = UI_REDRAW;
		if (button == 1 && ui_panes[p]->key != NULL)
			s->focus = p;
		if (ui_panes[p]->click != NULL) {
			flags |= ui_panes[p]->click(s->pane[p], ui_pane_ui(s, p), r, me.x, me.y,
			    button);
			ui_act(s, flags & ~(UI_REDRAW | UI_QUIT | UI_PASS));
		}
		return flags & (UI_REDRAW | UI_QUIT);
	}
	return 0;
}

/* Read every key curses has; returns the flags of them all. */
static int
ui_read_keys(struct ui_state *s)
{
	int flags = 0, r, key, h, w;
	wint_t wch;

	while ((r = wget_wch(stdscr, &wch)) != ERR) {
		if (r == KEY_CODE_YES && wch == KEY_RESIZE) {
			getmaxyx(stdscr, h, w);
			if (grid_resize(&s->grid, w, h) != 0)
				app_fatal("out of memory (a %dx%d screen)", w, h);
			ui_shadow_w = 0; /* curses resized stdscr: copy every cell again */
			ui_relayout(s);
			flags |= UI_REDRAW;
			continue;
		}
		if (r == KEY_CODE_YES && wch == KEY_MOUSE) {
			flags |= ui_mouse(s);
			continue;
		}
		key = ui_key_from_curses(r, wch);
		if (key == 0)
			continue;
		if (ui_trace != NULL && ui_trace_key == 0)
			ui_trace_key = ui_now();
		if (key == UI_KEY_ESC && !s->pasting) {
			/* Alt-Enter arrives as Esc and Enter together: a newline, like ^J. */
			wint_t next;
			int r2 = wget_wch(stdscr, &next);

			if (r2 == OK && next == '\r')
				key = UI_CTRL('j');
			else if (r2 == OK)
				unget_wch((wchar_t)next);
			else if (r2 == KEY_CODE_YES)
				ungetch((int)next);
		}
		/* Quitting while a fine-tune runs asks first (y or n in the status line). */
		if (view_finetune_asking(s->pane[LAYOUT_FINETUNE]))
			flags |= view_finetune_answer(s->pane[LAYOUT_FINETUNE], &s->ui, key);
		else
			flags |= view_finetune_confirm_quit(s->pane[LAYOUT_FINETUNE], &s->ui,
			    ui_key(s, key));
		ui_act(s, flags & ~(UI_REDRAW | UI_QUIT));
		flags &= UI_REDRAW | UI_QUIT;
		ui_relayout(s);
		if (flags & UI_QUIT)
			break;
	}
	return flags;
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
static int
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
	if (newterm(NULL, stdout, stdin) == NULL) {
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

/*
 * Load the theme: the first of --theme, the UI state's last pick, config.yaml's
 * theme and "default" that loads, else the built-in one. A named theme that
 * fails is a notice with its first error.
 */
static void
ui_load_theme(struct ui_state *s, const char *flag, const char *picked, const char *config)
{
	const char *cand[] = { flag, picked, config, "default" };
	char *dir = app_data_dir(), *cause = NULL, *first = NULL;
	char **search = theme_search_path_new(getenv("XDG_CONFIG_HOME"), getenv("HOME"), dir);

	theme_init_default(&s->theme);
	s->theme_spec[0] = '\0';
	for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++) {
		if (cand[i] == NULL || cand[i][0] == '\0')
			continue;
		if (theme_load(&s->theme, cand[i], (const char *const *)search, &cause) == 0) {
			snprintf(s->theme_spec, sizeof s->theme_spec, "%s", cand[i]);
			break;
		}
		/* A missing "default" is silent: the built-in one is the same scheme. */
		if (first == NULL && i + 1 < sizeof cand / sizeof cand[0]) {
			first = cause != NULL ? cause : xstrdup("cannot load");
			cause = NULL;
		}
		free(cause);
		cause = NULL;
	}
	if (first != NULL) {
		char *nl = strchr(first, '\n');

		if (nl != NULL)
			*nl = '\0';
		ui_message(&s->ui, 1, "theme: %s (using %s)", first, s->theme_spec[0] != '\0' ?
		    s->theme.name : "the built-in one");
	}
	free(first);
	theme_search_path_free(search);
	free(dir);
}

/* Read the UI state file: none means the defaults; a bad one the defaults and a notice. */
static void
ui_state_load(struct ui_state *s)
{
	char *cause = NULL, *nl;

	uistate_init(&s->saved);
	s->state_path = uistate_path(getenv("XDG_STATE_HOME"), getenv("HOME"));
	if (s->state_path != NULL && uistate_load(&s->saved, s->state_path, &cause) < 0) {
		const char *home = getenv("HOME"), *msg = cause != NULL ? cause : "cannot read it";
		size_t hl = home != NULL ? strlen(home) : 0;

		if (cause != NULL && (nl = strchr(cause, '\n')) != NULL)
			*nl = '\0';
		/* ~ for $HOME: the status line is short and file:line:col must show. */
		if (hl > 1 && strncmp(msg, home, hl) == 0 && msg[hl] == '/')
			ui_message(&s->ui, 1, "UI state: ~%s (using the defaults; the next save "
			    "keeps the file as ui.yaml.bad)", msg + hl);
		else
			ui_message(&s->ui, 1, "UI state: %s (using the defaults; the next save "
			    "keeps the file as ui.yaml.bad)", msg);
	}
	free(cause);
	s->enabled = s->saved.panes;
	s->zoom = s->saved.zoom;
	s->focus = s->saved.focus;
}

/* Run the loop until quit or a signal; returns the exit status. */
static int
ui_loop(struct ui_state *s)
{
	struct pollfd fds[2];
	double last_frame = -1, wait;
	int dirty = 1, flags, timeout;
	char drain[256];

	for (;;) {
		while (read(ui_wake[0], drain, sizeof drain) > 0)
			continue;
		if (ui_signal_caught)
			return 128 + ui_signal_caught;
		s->ui.now = ui_now();
		if (ui_take_events(s))
			dirty = 1;
		if (ui_mauve_poll(s))
			dirty = 1;
		s->ui_b.now = s->ui.now;
		wait = -1;
		for (int p = 0; p < LAYOUT_COUNT; p++)
			if (ui_panes[p] != NULL && ui_panes[p]->tick != NULL && s->pane[p] != NULL &&
			    (ui_panes[p]->tick(s->pane[p], ui_pane_ui(s, p), &wait) & UI_REDRAW))
				dirty = 1;
		if (dirty) {
			if (last_frame < 0 || s->ui.now - last_frame >= UI_FRAME_SECONDS) {
				ui_draw(s);
				last_frame = s->ui.now;
				dirty = 0;
				/* The live MAUVE worker starts once the UI is on screen. */
				if (s->side[0].mauve == NULL) {
					s->side[0].mauve = ui_mauve_start(s->model, s->tok, &s->rec,
					    ui_wake[1]);
					dirty = ui_mauve_poll(s);
				}
			} else if (wait < 0 || last_frame + UI_FRAME_SECONDS - s->ui.now < wait)
				wait = last_frame + UI_FRAME_SECONDS - s->ui.now;
		}
		timeout = wait < 0 ? -1 : (int)ceil(wait * 1000);
		fds[0].fd = STDIN_FILENO;
		fds[0].events = POLLIN;
		fds[1].fd = ui_wake[0];
		fds[1].events = POLLIN;
		if (poll(fds, 2, timeout) < 0 && errno != EINTR)
			app_fatal("poll: %s", strerror(errno));
		if (fds[0].revents & (POLLHUP | POLLERR))
			return APP_EXIT_ERROR;
		s->ui.now = ui_now();
		flags = ui_read_keys(s);
		if (flags & UI_QUIT)
			return APP_EXIT_OK;
		if (flags & UI_REDRAW) {
			dirty = 1;
			last_frame = -1; /* input shows at once; the cap paces animation */
		}
	}
}

/* Compare mode: model B's side and its struct ui (the panes TEXT2 and STATS2 read it). */
static void
ui_compare_init(struct ui_state *s, const char *path)
{
	const char *slash = strrchr(path, '/');

	s->ui_b.side = 1;
	s->ui_b.model_name = slash != NULL ? slash + 1 : path;
	snprintf(s->label[0], sizeof s->label[0], "A %s", s->ui.model_name);
	snprintf(s->label[1], sizeof s->label[1], "B %s", s->ui_b.model_name);
	s->ui.label = s->label[0];
	s->ui_b.label = s->label[1];
	s->ui_b.featurizer_name = s->ui.model_name;
	s->ui_b.model_path = path;
	s->ui_b.model = s->model_b;
	s->ui_b.model_rec = &s->rec_b;
	s->ui_b.model_bksp = gpt_has_bksp(s->model_b);
	s->ui_b.tok = s->tok_b;
	s->ui_b.params = s->ui.params;
	s->ui_b.log.inspect = -1;
	s->side[1].ui = &s->ui_b;
	s->side[1].model = s->model_b;
	s->side[1].tok = s->tok_b;
	s->nsides = 2;
}

/* `seqmatch ui`. */
int
cmd_ui(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "compare", required_argument, NULL, 'C' },
		{ "theme", required_argument, NULL, 't' },
		{ "colors", required_argument, NULL, 'c' },
		{ "colours", required_argument, NULL, 'c' },
		{ "no-mouse", no_argument, NULL, 'M' },
		{ "ascii", no_argument, NULL, 'a' },
		{ "session", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ui_state *s;
	const char *model_path = NULL, *compare_path = NULL, *theme_name = NULL, *term, *slash;
	const char *session_arg = NULL;
	char notice[512], state_note[1024];
	int c, forced = THEME_DEPTH_AUTO, ascii = 0, mouse = 1, rc;
	int forced_flag = 0, mouse_flag = 0;
	char *cause = NULL, *config_path, *config_error = NULL;
	struct session_config cfg;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			model_path = optarg;
			break;
		case 'C':
			compare_path = optarg;
			break;
		case 't':
			theme_name = optarg;
			break;
		case 'c':
			forced = theme_depth_parse(optarg);
			forced_flag = 1;
			if (forced == -2) {
				app_error("ui: --colors must be auto, none, 16, 256 or direct, "
				    "not '%s'", optarg);
				return APP_EXIT_USAGE;
			}
			break;
		case 'M':
			mouse = 0;
			mouse_flag = 1;
			break;
		case 'a':
			ascii = 1;
			break;
		case 'S':
			session_arg = optarg;
			break;
		case 'h':
			ui_usage(stdout);
			return APP_EXIT_OK;
		default:
			fprintf(stderr, "Try 'seqmatch ui --help'.\n");
			return APP_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		app_error("ui: unexpected argument '%s'", argv[optind]);
		return APP_EXIT_USAGE;
	}
	term = getenv("TERM");
	if (term == NULL || term[0] == '\0' || strcmp(term, "dumb") == 0) {
		app_error("ui: TERM=%s cannot show the UI (it cannot move the cursor); set TERM "
		    "to your terminal (e.g. xterm-256color) or use 'seqmatch generate'",
		    term != NULL && term[0] != '\0' ? term : "(unset)");
		return APP_EXIT_ERROR;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		app_error("ui: needs a terminal (standard input and output are not both "
		    "terminals); for plain output use 'seqmatch generate'");
		return APP_EXIT_ERROR;
	}
	if (model_path == NULL && (model_path = app_default_model()) == NULL) {
		app_error("ui: no model given and none found; train one with 'seqmatch train "
		    "--corpus FILE --out MODEL' and pass --model MODEL");
		return APP_EXIT_ERROR;
	}

	/* The config file; flags override it; a bad one leaves the defaults (a notice). */
	session_config_init(&cfg);
	if ((config_path = session_config_path()) != NULL &&
	    session_config_load(&cfg, config_path, &config_error) < 0 && config_error == NULL)
		config_error = xstrdup(config_path);
	free(config_path);
	if (!forced_flag && cfg.colors != NULL)
		forced = theme_depth_parse(cfg.colors);
	if (!mouse_flag && cfg.mouse >= 0)
		mouse = cfg.mouse;

	s = xcalloc(1, sizeof *s);
	record_init(&s->rec);
	record_init(&s->rec_b);
	if (checkpoint_load(model_path, &s->model, &s->tok, &s->rec, &cause) != 0 ||
	    (compare_path != NULL && checkpoint_load(compare_path, &s->model_b, &s->tok_b,
	    &s->rec_b, &cause) != 0)) {
		app_error("%s", cause);
		free(cause);
		free(config_error);
		session_config_release(&cfg);
		tokenizer_free(s->tok);
		gpt_free(s->model);
		record_release(&s->rec);
		record_release(&s->rec_b);
		free(s);
		return APP_EXIT_ERROR;
	}
	slash = strrchr(model_path, '/');
	s->ui.model_name = slash != NULL ? slash + 1 : model_path;
	s->ui.model_bksp = gpt_has_bksp(s->model);
	s->ui.model_path = model_path;
	s->ui.model = s->model;
	s->ui.model_rec = &s->rec;
	s->ui.wake_fd = -1;
	s->ui.tok = s->tok;
	s->ui.params = cfg.params;
	s->ui.log.inspect = -1;
	s->nsides = 1;
	s->side[0].ui = &s->ui;
	s->side[0].model = s->model;
	s->side[0].tok = s->tok;
	if (compare_path != NULL)
		ui_compare_init(s, compare_path);
	s->mouse = mouse;
	s->core = cpu_blas_core() != NULL ? cpu_blas_core() : "?";
	if (session_arg != NULL) { /* a bad --session stops here, before the screen is taken */
		char *dir = session_dir(), *path = session_resolve(dir, session_arg, &cause);

		free(dir);
		rc = path != NULL ? ui_open_session(s, path, &cause) : -1;
		free(path);
		if (rc != 0) {
			app_error("ui: %s", cause);
			free(cause);
			free(config_error);
			rc = APP_EXIT_ERROR;
			goto out;
		}
	}
	ui_state_load(s);
	ui_load_theme(s, theme_name, s->saved.theme, cfg.theme);
	if (config_error != NULL) {
		char *nl = strchr(config_error, '\n');

		if (nl != NULL)
			*nl = '\0';
		ui_message(&s->ui, 1, "config: %s (using the defaults)", config_error);
		free(config_error);
	}

	if (pipe(ui_wake) != 0)
		app_fatal("pipe: %s", strerror(errno));
	for (int i = 0; i < 2; i++) {
		fcntl(ui_wake[i], F_SETFL, fcntl(ui_wake[i], F_GETFL) | O_NONBLOCK);
		fcntl(ui_wake[i], F_SETFD, FD_CLOEXEC);
	}
	s->ui.wake_fd = ui_wake[1];
	s->ui_b.wake_fd = ui_wake[1];
	util_log_set(ui_log, NULL);
	app_fatal_hook = ui_restore;
	atexit(ui_restore);
	if (ui_curses_start(s, forced, ascii) != 0) {
		rc = APP_EXIT_ERROR;
		goto out;
	}
	if (cfg.plot >= 0 && (s->ui.glyphs == GRID_GLYPHS_UTF8 || cfg.plot == GRID_PLOT_ASCII))
		s->ui.plot = (enum grid_plot)cfg.plot; /* braille and blocks need UTF-8 */
	ui_signals();
	s->ui_b.glyphs = s->ui.glyphs;
	s->ui_b.plot = s->ui.plot;
	for (int p = 0; p < LAYOUT_COUNT; p++)
		if (ui_panes[p] != NULL &&
		    (s->nsides == 2 || (p != LAYOUT_TEXT2 && p != LAYOUT_STATS2)))
			s->pane[p] = ui_panes[p]->init(ui_pane_ui(s, p));
	view_text_set_state(s->pane[LAYOUT_TEXT], s->saved.view, s->saved.speed);
	if (s->pane[LAYOUT_TEXT2] != NULL)
		view_text_set_state(s->pane[LAYOUT_TEXT2], s->saved.view, s->saved.speed);
	ui_relayout(s);
	ui_trace_open(&s->ui);

	rc = ui_loop(s);

	for (int i = 0; i < s->nsides; i++) {
		struct ui_side *d = &s->side[i];

		if (d->gen != NULL) {
			ui_gen_cancel(d->gen);
			ui_gen_finish(d->gen, NULL);
			d->gen = NULL;
		}
		snapshot_unref(d->gen_snap);
		d->gen_snap = NULL;
		ui_mauve_free(d->mauve);
		d->mauve = NULL;
	}
	ui_state_save(s, state_note, sizeof state_note);
	notice[0] = '\0';
	if (view_finetune_busy(s->pane[LAYOUT_FINETUNE])) {
		/* Stop the trainer after its current step and save what it learned. */
		ui_message(&s->ui, 0, "quitting: stopping the fine-tune and saving it...");
		ui_draw(s);
		view_finetune_quit(s->pane[LAYOUT_FINETUNE], notice, sizeof notice);
	}
	ui_restore();
	if (notice[0] != '\0')
		fprintf(stderr, "seqmatch: ui: %s\n", notice);
	if (state_note[0] != '\0')
		fprintf(stderr, "seqmatch: ui: %s\n", state_note);
	for (int p = 0; p < LAYOUT_COUNT; p++)
		if (ui_panes[p] != NULL && s->pane[p] != NULL)
			ui_panes[p]->free(s->pane[p]);
	grid_release(&s->grid);
	view_sessions_free(s->sessions);
	free(ui_shadow);
	ui_shadow = NULL;
	ui_shadow_w = ui_shadow_h = 0;
out:
	app_fatal_hook = NULL;
	close(ui_wake[0]);
	close(ui_wake[1]);
	ui_wake[0] = ui_wake[1] = -1;
	free(s->ui.log.prompt);
	free(s->ui.log.ev);
	free(s->ui.request);
	view_themes_free(s->picker);
	free(s->state_path);
	free(s->ui_b.log.prompt);
	free(s->ui_b.log.ev);
	free(s->ui_b.request);
	tokenizer_free(s->tok);
	gpt_free(s->model);
	record_release(&s->rec);
	tokenizer_free(s->tok_b);
	gpt_free(s->model_b);
	record_release(&s->rec_b);
	free(s);
	session_config_release(&cfg);
	return rc;
}
