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
#include "util.h"

#define UI_FRAME_SECONDS (1.0 / 60.0) /* frame cap */
#define UI_BLIT_RUN 256               /* ASCII cells handed to curses in one call */

/* The panes with a real implementation, by layout slot (NULL: a placeholder box). */
static const struct ui_pane *const ui_panes[LAYOUT_COUNT] = {
	[LAYOUT_TEXT] = &view_text_pane,
	[LAYOUT_DECODE] = &view_params_pane,
	[LAYOUT_INSPECT] = &view_inspector_pane,
	[LAYOUT_STATS] = &view_stats_pane,
	[LAYOUT_FINETUNE] = &view_finetune_pane,
};

/* What the placeholder panes say (no fake numbers); every enabled pane is real now. */
static const char *const ui_placeholders[LAYOUT_COUNT] = { NULL };

/* The help overlay: key, what it does ("" key: a heading). */
static const char *const ui_help[][2] = {
	{ "", "Everywhere" },
	{ "Tab S-Tab", "move between the text, decoding and fine-tune panes" },
	{ "F1 or ?", "this help (? outside the prompt editor)" },
	{ "F10 ^Q, q", "quit (q outside the prompt editor)" },
	{ "Esc ^C", "stop a running generation (^C at rest quits)" },
	{ "^L", "redraw the screen" },
	{ "z", "zoom the focused pane (outside the prompt editor)" },
	{ "R", "generate again with the seed of the last run" },
	{ "", "Prompt editor (text pane)" },
	{ "Enter", "generate from the prompt" },
	{ "Left Right", "move; Home End ^A ^E line start and end" },
	{ "Bksp ^U ^W ^K", "delete a character, to the start, a word, to the end" },
	{ "Up Down", "history (the unsent draft is kept)" },
	{ "Esc", "to playback keys" },
	{ "", "Playback (text pane, after Enter)" },
	{ "Space", "pause or resume the animation" },
	{ ". ,", "step one event forward or back" },
	{ "n N", "next or previous <bksp>" },
	{ "+ - ] [", "animation speed (events a second)" },
	{ "v", "view: clean, trail (erased as ghosts), timeline" },
	{ "r", "replay the last generation from its event log" },
	{ "i Enter", "back to the prompt editor" },
	{ "", "Decoding pane" },
	{ "j k Up Down", "select a parameter" },
	{ "h l - +", "adjust it" },
	{ "Enter", "type a value (Esc cancels)" },
	{ "d D", "reset one, or all, to the defaults" },
	{ "1 2 3", "presets: greedy, balanced, creative" },
	{ "", "Fine-tune pane (generation uses its latest weights)" },
	{ "s", "start a SequenceMatch fine-tune of a copy of the weights" },
	{ "p x", "pause or resume; stop (it saves)" },
	{ "w", "save to the model's path with -ft before .bin" },
};

/* The terminal side: colours and attributes of each slot. */
struct ui_term {
	enum theme_depth depth;
	attr_t attr[THEME_NSLOTS];
	short pair[THEME_NSLOTS];
};

/* Everything the loop owns. */
struct ui_state {
	struct ui ui;
	void *pane[LAYOUT_COUNT];     /* pane states, for ui_panes */
	struct gpt_model *model;
	struct tokenizer *tok;
	struct ui_gen *gen;
	struct snapshot *gen_snap;    /* fine-tuned weights the running generation uses */
	struct ui_mauve *mauve;       /* the live MAUVE worker, started after the first frame */
	struct record rec;            /* the loaded model's training record */
	struct theme theme;
	struct ui_term term;
	struct grid grid;
	struct layout lay;
	int focus;                    /* a pane with a key handler */
	int zoom;
	int help;
	int mouse;
	int clear;                    /* Ctrl-L: repaint everything */
	struct sampler_params run_params; /* the parameters the running/last run started with */
	uint64_t run_hash;            /* FNV-1a of the weights it uses */
	uint64_t model_hash;          /* the loaded weights' FNV-1a, once model_hash_done */
	int model_hash_done;
	const char *core;
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

/* Restore the terminal if curses has it (atexit, app_fatal, every exit path). */
static void
ui_restore(void)
{
	if (ui_curses_active) {
		ui_curses_active = 0;
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
	    "  --theme T         a theme name (themes/T.yaml) or file\n"
	    "  --colors=C        auto, none, 16, 256 or direct (default auto; NO_COLOR means none)\n"
	    "  --no-mouse        do not take the mouse\n"
	    "  --ascii           ASCII glyphs only (automatic when the locale is not UTF-8)\n"
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
	req.enabled = LAYOUT_ALL;
	req.focus = s->focus;
	req.zoom = s->zoom;
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
	snprintf(left, sizeof left, " %s%s%s | %s | %s ", s->ui.model_name,
	    s->ui.model_bksp ? " (bksp)" : "", weights, seed, view);
	snprintf(right, sizeof right, " core %s | theme %s | colours %s ", s->core,
	    s->theme.name, theme_depth_name(s->term.depth));
	col = grid_put_trunc(&s->grid, r, 0, 0, left, r.w, THEME_SLOT_STATUS, 0);
	rw = (int)strlen(right);
	if (s->ui.message[0] != '\0' && col < r.w - 4) {
		int room = r.w - col - (r.w - col - rw >= 24 ? rw : 0);

		col += grid_put_trunc(&s->grid, r, col, 0, s->ui.message, room - 1,
		    s->ui.message_error ? THEME_SLOT_ERROR : THEME_SLOT_STATUS,
		    s->ui.message_error ? GRID_ATTR_REVERSE : 0);
	}
	if (r.w - col >= rw)
		grid_put(&s->grid, r, r.w - rw, 0, right, THEME_SLOT_STATUS, 0);
}

/* The key-hint line for the focused pane and mode. */
static void
ui_draw_keys(struct ui_state *s, struct grid_rect r)
{
	static const char *const editing[] = { "Enter", "generate", "Up/Dn", "history",
		"Tab", "panes", "Esc", "stop/playback", "F1", "help", "F10/^Q", "quit", NULL };
	static const char *const playback[] = { "Spc", "pause", ". ,", "step", "n N", "bksp",
		"v", "view", "+ -", "speed", "r", "replay", "i", "edit", "?", "help", "q", "quit",
		NULL };
	static const char *const decoding[] = { "j k", "select", "h l", "adjust", "Enter",
		"type", "d D", "reset", "1 2 3", "presets", "R", "same seed", "?", "help", "q",
		"quit", NULL };
	static const char *const finetune[] = { "s", "start", "p", "pause/resume", "x", "stop",
		"w", "save -ft", "Tab", "panes", "?", "help", "q", "quit", NULL };
	const char *const *k;
	int col = 1;

	if (ui_focus(s) == LAYOUT_DECODE)
		k = decoding;
	else if (ui_focus(s) == LAYOUT_FINETUNE)
		k = finetune;
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

/* The help overlay, centred. */
static void
ui_draw_help(struct ui_state *s)
{
	int n = (int)(sizeof ui_help / sizeof ui_help[0]);
	int w = s->grid.width - 4 < 70 ? s->grid.width - 4 : 70;
	int h = s->grid.height - 2 < n + 3 ? s->grid.height - 2 : n + 3;
	struct grid_rect r = grid_rect_make((s->grid.width - w) / 2, (s->grid.height - h) / 2,
	    w, h), in = grid_rect_inset(r, 1);

	grid_fill(&s->grid, r, NULL, THEME_SLOT_TEXT, 0);
	grid_box(&s->grid, r, GRID_BOX_HEAVY, "Help - q, Esc or ? closes",
	    THEME_SLOT_BORDER_FOCUS, THEME_SLOT_TITLE, 0);
	for (int i = 0; i < n && i < in.h - 1; i++) {
		if (ui_help[i][0][0] == '\0')
			grid_put_trunc(&s->grid, in, 1, i, ui_help[i][1], in.w - 1, THEME_SLOT_TITLE,
			    0);
		else {
			grid_put_trunc(&s->grid, in, 2, i, ui_help[i][0], 14, THEME_SLOT_KEY, 0);
			grid_put_trunc(&s->grid, in, 17, i, ui_help[i][1], in.w - 17,
			    THEME_SLOT_TEXT, 0);
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
	for (int p = 0; p < LAYOUT_COUNT; p++) {
		if (p == LAYOUT_STATUS || p == LAYOUT_KEYS || !(s->lay.shown & LAYOUT_BIT(p)) ||
		    grid_rect_empty(s->lay.rect[p]))
			continue;
		if (ui_panes[p] != NULL)
			ui_panes[p]->draw(s->pane[p], &s->ui, &s->grid, s->lay.rect[p], p == focus);
		else if (ui_placeholders[p] != NULL)
			ui_draw_placeholder(s, p, s->lay.rect[p]);
	}
	if (s->lay.shown & LAYOUT_BIT(LAYOUT_STATUS))
		ui_draw_status(s, s->lay.rect[LAYOUT_STATUS]);
	if (s->lay.shown & LAYOUT_BIT(LAYOUT_KEYS))
		ui_draw_keys(s, s->lay.rect[LAYOUT_KEYS]);
	if (s->help)
		ui_draw_help(s);
	ui_blit(s);
}

/* FNV-1a of a model's parameter block (the loaded model's is computed once). */
static uint64_t
ui_model_hash(struct ui_state *s, const struct gpt_model *m)
{
	uint64_t h;

	if (m == s->model && s->model_hash_done)
		return s->model_hash;
	h = util_fnv1a(UTIL_FNV_INIT, gpt_params(m)->wte, gpt_num_params(m) * sizeof(float));
	if (m == s->model) {
		s->model_hash = h;
		s->model_hash_done = 1;
	}
	return h;
}

/* Start a generation from prompt text; seed < 0 uses the parameters' seed. */
static void
ui_generate(struct ui_state *s, const char *prompt, int64_t seed)
{
	struct sampler_params p = s->ui.params;
	int *ids = NULL;
	size_t n = 0;
	char *cause = NULL;

	if (s->gen != NULL) {
		ui_message(&s->ui, 1, "a generation is running: Esc or Ctrl-C stops it");
		return;
	}
	if (prompt[0] == '\0') { /* an empty prompt starts a new document */
		ids = xmalloc(sizeof *ids);
		ids[0] = tokenizer_eot(s->tok);
		n = 1;
	} else if (tokenizer_encode(s->tok, (const uint8_t *)prompt, strlen(prompt), &ids, &n,
	    &cause) != 0) {
		ui_message(&s->ui, 1, "prompt: %s", cause);
		free(cause);
		return;
	}
	if (n >= (size_t)gpt_config(s->model)->max_seq_len) {
		ui_message(&s->ui, 1, "prompt: %zu tokens do not fit the model's context of %d",
		    n, gpt_config(s->model)->max_seq_len);
		free(ids);
		return;
	}
	p.seed = (int64_t)generate_pick_seed(seed >= 0 ? seed : p.seed);
	/* The latest fine-tuned weights when a fine-tune exists, held for the whole run. */
	s->gen_snap = view_finetune_snapshot(s->pane[LAYOUT_FINETUNE]);
	s->gen = ui_gen_start(s->gen_snap != NULL ? s->gen_snap->model : s->model, s->tok, &p,
	    ids, (int)n, ui_wake[1], &cause);
	free(ids);
	s->ui.weights_version = s->gen != NULL && s->gen_snap != NULL ? s->gen_snap->version : 0;
	s->run_params = p;
	s->run_hash = ui_model_hash(s, s->gen_snap != NULL ? s->gen_snap->model : s->model);
	if (s->gen == NULL) {
		snapshot_unref(s->gen_snap);
		s->gen_snap = NULL;
		ui_message(&s->ui, 1, "cannot start the generation: %s", cause);
		free(cause);
		return;
	}
	if (s->ui.log.prompt != prompt) {
		free(s->ui.log.prompt);
		s->ui.log.prompt = xstrdup(prompt);
	}
	s->ui.log.n_prompt = (int)n;
	s->ui.log.inspect = -1;
	s->ui.log.n = 0;
	s->ui.log.shown = 0;
	s->ui.log.done = 0;
	s->ui.log.seed = (uint64_t)p.seed;
	s->ui.log.serial++;
	s->ui.have_run = 1;
	s->ui.generating = 1;
	ui_message(&s->ui, 0, "generating with seed %llu", (unsigned long long)p.seed);
}

/* Queue the net text of the finished generation in the log as a live MAUVE sample. */
static void
ui_queue_mauve(struct ui_state *s)
{
	int *ids = NULL, n_ids = 0;
	char *cause = NULL;

	if (s->mauve == NULL)
		return;
	if (textstats_replay(s->ui.log.ev, (int)s->ui.log.n, s->ui.log.n_prompt, &ids, &n_ids,
	    &cause) == 0)
		ui_mauve_add(s->mauve, ids, n_ids);
	free(ids);
	free(cause);
}

/* Save the finished generation's transcript (a failure is a notice). */
static void
ui_save_session(struct ui_state *s)
{
	char *dir = session_dir(), *cause = NULL;

	if (dir == NULL)
		return;
	if (session_save_log(dir, &s->ui.log, s->tok, &s->run_params, s->ui.model_path,
	    s->run_hash, s->ui.weights_version, NULL, &cause) != 0)
		ui_message(&s->ui, 1, "session not saved: %s", cause != NULL ? cause : "?");
	free(cause);
	free(dir);
}

/* Move the worker's events into the log; reap it when it has ended. */
static int
ui_take_events(struct ui_state *s)
{
	struct generate_event *ev;
	struct ui_log *log = &s->ui.log;
	size_t n;
	int finished, rc;
	char *cause = NULL;

	if (s->gen == NULL)
		return 0;
	ev = ui_gen_take(s->gen, &n, &finished);
	for (size_t i = 0; i < n; i++) {
		if (ev[i].type == GENERATE_EVENT_STOP) {
			log->done = 1;
			log->reason = ev[i].reason;
			log->stop = ev[i];
			ui_queue_mauve(s);
			ui_message(&s->ui, 0, "done (%s): %d tokens, %d erased, %.1f tokens/s",
			    generate_stop_name(ev[i].reason), ev[i].n_generated, ev[i].n_erased,
			    ev[i].generate_seconds > 0 ? (ev[i].n_generated + ev[i].n_erased) /
			    ev[i].generate_seconds : 0.0);
			ui_save_session(s);
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
		rc = ui_gen_finish(s->gen, &cause);
		s->gen = NULL;
		snapshot_unref(s->gen_snap);
		s->gen_snap = NULL;
		s->ui.generating = 0;
		if (rc != 0)
			ui_message(&s->ui, 1, "generation failed: %s", cause ? cause : "?");
		free(cause);
	}
	return n > 0 || finished;
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
		}
		if (wch >= KEY_F(2) && wch <= KEY_F(9))
			return UI_KEY_F2 + (int)(wch - KEY_F(2));
		return 0;
	}
	if (wch == '\r' || wch == '\n')
		return UI_KEY_ENTER;
	if (wch == 127 || wch == 8)
		return UI_KEY_BACKSPACE;
	return (int)wch;
}

/* Move the focus to the next (dir 1) or previous (-1) real pane on screen. */
static void
ui_cycle_focus(struct ui_state *s, int dir)
{
	int f = ui_focus(s);

	for (int i = 0; i < LAYOUT_COUNT; i++) {
		f = (f + dir + LAYOUT_COUNT) % LAYOUT_COUNT;
		if (ui_panes[f] != NULL && ui_panes[f]->key != NULL &&
		    (s->lay.shown & LAYOUT_BIT(f))) {
			s->focus = f;
			return;
		}
	}
}

/* Dispatch a key: help, global keys, the focused pane, then the loop's letter keys. */
static int
ui_key(struct ui_state *s, int key)
{
	int focus = ui_focus(s), flags;

	s->ui.message[0] = '\0';
	if (s->help) {
		if (key == 'q' || key == UI_KEY_ESC || key == '?' || key == UI_KEY_F1) {
			s->help = 0;
			return UI_REDRAW;
		}
		return key == UI_CTRL('q') || key == UI_KEY_F10 ? UI_QUIT : 0;
	}
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
		return UI_REDRAW;
	case UI_KEY_TAB:
		ui_cycle_focus(s, 1);
		return UI_REDRAW;
	case UI_KEY_BTAB:
		ui_cycle_focus(s, -1);
		return UI_REDRAW;
	}
	flags = ui_panes[focus]->key(s->pane[focus], &s->ui, key);
	if (!(flags & UI_PASS))
		return flags;
	flags &= ~UI_PASS;
	switch (key) {
	case '?':
		s->help = 1;
		return flags | UI_REDRAW;
	case 'q':
		return flags | UI_QUIT;
	case UI_KEY_ESC:
		return s->ui.generating ? flags | UI_STOP | UI_REDRAW : flags;
	case 'R':
		return flags | UI_REPLAY_SEED | UI_REDRAW;
	case 'z':
		s->zoom = s->zoom == LAYOUT_NONE ? focus : LAYOUT_NONE;
		return flags | UI_REDRAW;
	}
	return flags;
}

/* Act on a key handler's flags (except REDRAW and QUIT, which the loop reads). */
static void
ui_act(struct ui_state *s, int flags)
{
	if ((flags & UI_STOP) && s->gen != NULL) {
		ui_gen_cancel(s->gen);
		ui_message(&s->ui, 0, "stopping");
	}
	if ((flags & UI_GENERATE) && s->ui.request != NULL) {
		ui_generate(s, s->ui.request, -1);
		free(s->ui.request);
		s->ui.request = NULL;
	}
	if (flags & UI_REPLAY_SEED) {
		if (!s->ui.have_run)
			ui_message(&s->ui, 1, "nothing to replay yet: generate first");
		else
			ui_generate(s, s->ui.log.prompt, (int64_t)s->ui.log.seed);
	}
}

/* A mouse event: a click focuses the pane under it. */
static int
ui_mouse(struct ui_state *s)
{
	MEVENT me;

	if (getmouse(&me) != OK || !(me.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)))
		return 0;
	for (int p = 0; p < LAYOUT_COUNT; p++) {
		struct grid_rect r = s->lay.rect[p];

		if (ui_panes[p] != NULL && ui_panes[p]->key != NULL &&
		    (s->lay.shown & LAYOUT_BIT(p)) && me.x >= r.x &&
		    me.x < r.x + r.w && me.y >= r.y && me.y < r.y + r.h) {
			s->focus = p;
			return UI_REDRAW;
		}
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
		flags |= ui_key(s, key);
		ui_act(s, flags & ~(UI_REDRAW | UI_QUIT));
		flags &= UI_REDRAW | UI_QUIT;
		ui_relayout(s);
		if (flags & UI_QUIT)
			break;
	}
	return flags;
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
		mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED, NULL);

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

/* The directory of this program (for themes/ in an uninstalled build), or NULL. */
static char *
ui_exe_dir(void)
{
	char exe[4096], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash == NULL)
		return NULL;
	*slash = '\0';
	return xstrdup(exe);
}

/* Load the theme: --theme, else "default" from the search path, else the built-in one. */
static void
ui_load_theme(struct ui_state *s, const char *name)
{
	char *dir = ui_exe_dir(), *cause = NULL;
	char **search = theme_search_path_new(getenv("XDG_CONFIG_HOME"), getenv("HOME"), dir);

	theme_init_default(&s->theme);
	if (name != NULL) {
		if (theme_load(&s->theme, name, (const char *const *)search, &cause) != 0) {
			char *nl = cause != NULL ? strchr(cause, '\n') : NULL;

			if (nl != NULL)
				*nl = '\0';
			ui_message(&s->ui, 1, "theme: %s (using the built-in one)",
			    cause != NULL ? cause : "cannot load");
		}
	} else if (theme_load(&s->theme, "default", (const char *const *)search, &cause) != 0)
		theme_init_default(&s->theme);
	free(cause);
	theme_search_path_free(search);
	free(dir);
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
		if (s->mauve != NULL && ui_mauve_get(s->mauve, &s->ui.mauve))
			dirty = 1;
		wait = -1;
		for (int p = 0; p < LAYOUT_COUNT; p++)
			if (ui_panes[p] != NULL && ui_panes[p]->tick != NULL &&
			    (ui_panes[p]->tick(s->pane[p], &s->ui, &wait) & UI_REDRAW))
				dirty = 1;
		if (dirty) {
			if (last_frame < 0 || s->ui.now - last_frame >= UI_FRAME_SECONDS) {
				ui_draw(s);
				last_frame = s->ui.now;
				dirty = 0;
				/* The live MAUVE worker starts once the UI is on screen. */
				if (s->mauve == NULL) {
					s->mauve = ui_mauve_start(s->model, s->tok, &s->rec,
					    ui_wake[1]);
					dirty = ui_mauve_get(s->mauve, &s->ui.mauve);
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

/* `seqmatch ui`. */
int
cmd_ui(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "theme", required_argument, NULL, 't' },
		{ "colors", required_argument, NULL, 'c' },
		{ "colours", required_argument, NULL, 'c' },
		{ "no-mouse", no_argument, NULL, 'M' },
		{ "ascii", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ui_state *s;
	const char *model_path = NULL, *theme_name = NULL, *term, *slash;
	char notice[512];
	int c, forced = THEME_DEPTH_AUTO, ascii = 0, mouse = 1, rc;
	int forced_flag = 0, mouse_flag = 0;
	char *cause = NULL, *config_path, *config_error = NULL;
	struct session_config cfg;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			model_path = optarg;
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
	if (theme_name == NULL)
		theme_name = cfg.theme;
	if (!forced_flag && cfg.colors != NULL)
		forced = theme_depth_parse(cfg.colors);
	if (!mouse_flag && cfg.mouse >= 0)
		mouse = cfg.mouse;

	s = xcalloc(1, sizeof *s);
	record_init(&s->rec);
	if (checkpoint_load(model_path, &s->model, &s->tok, &s->rec, &cause) != 0) {
		app_error("%s", cause);
		free(cause);
		free(config_error);
		session_config_release(&cfg);
		record_release(&s->rec);
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
	s->focus = LAYOUT_TEXT;
	s->zoom = LAYOUT_NONE;
	s->mouse = mouse;
	s->core = cpu_blas_core() != NULL ? cpu_blas_core() : "?";
	ui_load_theme(s, theme_name);
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
	util_log_set(ui_log, NULL);
	app_fatal_hook = ui_restore;
	atexit(ui_restore);
	if (ui_curses_start(s, forced, ascii) != 0) {
		rc = APP_EXIT_ERROR;
		goto out;
	}
	ui_signals();
	for (int p = 0; p < LAYOUT_COUNT; p++)
		if (ui_panes[p] != NULL)
			s->pane[p] = ui_panes[p]->init(&s->ui);
	ui_relayout(s);
	ui_trace_open(&s->ui);

	rc = ui_loop(s);

	if (s->gen != NULL) {
		ui_gen_cancel(s->gen);
		ui_gen_finish(s->gen, NULL);
		s->gen = NULL;
	}
	snapshot_unref(s->gen_snap);
	s->gen_snap = NULL;
	ui_mauve_free(s->mauve);
	s->mauve = NULL;
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
	for (int p = 0; p < LAYOUT_COUNT; p++)
		if (ui_panes[p] != NULL && s->pane[p] != NULL)
			ui_panes[p]->free(s->pane[p]);
	grid_release(&s->grid);
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
	tokenizer_free(s->tok);
	gpt_free(s->model);
	record_release(&s->rec);
	free(s);
	session_config_release(&cfg);
	return rc;
}
