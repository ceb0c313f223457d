/*
 * ui.c: `seqmatch ui`, the interactive terminal UI: option parsing, the
 * terminal checks, the one UI loop, key dispatch, the status and key-hint
 * lines, the help overlay, the theme picker and session browser, the UI-state
 * file. Curses itself is in ui-term.c, the models' generations in ui-side.c.
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
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "cmd.h"
#include "checkpoint.h"
#include "conf.h"
#include "cpu.h"
#include "finetune.h"
#include "gpt.h"
#include "options.h"
#include "pool.h"
#include "quant.h"
#include "qweights.h"
#include "tokenizer.h"
#include "transcript.h"
#include "util.h"
#include "weights.h"
#include "view-sessions.h"
#include "view-themes.h"

#include "ui-int.h"

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

/* The help overlay: key, what it does ("" key: a heading; " " key: a line goes on). */
#define UI_HELP_GLOSSARY "Glossary: what the numbers mean (g jumps here)"
static const char *const ui_help[][2] = {
	{ "", "Everywhere" },
	{ "Tab S-Tab", "move between panes (text A and B, decoding, fine-tune, stats...)" },
	{ "F1 or ?", "this help (? outside the prompt editor)" },
	{ "F10 ^Q, q", "quit (q outside the prompt editor); ^C never quits" },
	{ "^C", "stop what runs or plays: a generation, the playback, a fine-tune start" },
	{ "Esc", "stop a running generation; in other panes: back to the prompt" },
	{ "^L", "redraw the screen" },
	{ "z", "zoom the focused pane (outside the prompt editor; stats: the curve)" },
	{ "F2 T", "pick a theme: j k preview, Enter keeps, Esc undoes" },
	{ "1 2 3 4", "show or hide the decoding, inspector, stats, fine-tune panes" },
	{ "R", "generate again with the seed of the last run" },
	{ "S", "same prompt, a new seed" },
	{ "b", "before/after: the last run's knobs against the current" },
	{ " ", "ones, same prompt and seeds (table in the stats pane)" },
	{ "F3 or O", "saved sessions: Enter replays one, then R regenerates it" },
	{ "", "Prompt editor (text pane)" },
	{ "Enter", "generate from the prompt" },
	{ "^J Alt-Enter", "a new line (a paste goes in literally)" },
	{ "Left Right", "move; Home End ^A ^E line start and end" },
	{ "Bksp ^U ^W ^K", "delete a character, to the line start, a word, to its end" },
	{ "Up Down", "lines, then history (the unsent draft is kept)" },
	{ "^G", "edit the prompt in $VISUAL or $EDITOR" },
	{ "Esc", "to playback keys" },
	{ "", "Playback (text pane, after Enter; compare: both sides)" },
	{ "Space", "pause or resume the animation" },
	{ ". ,", "step one event forward or back" },
	{ "n N", "next or previous <bksp>" },
	{ "a", "stop at each <bksp>: P(<bksp>) vs best token" },
	{ "m M", "next/previous mark: the inspector shows its <bksp>" },
	{ "+ - ] [", "animation speed (events a second)" },
	{ "v", "view: clean (rewrites marked), trail, timeline" },
	{ " ", "(branch rows: each rewritten position's attempts)" },
	{ "~old~ new", "a mark: erased text struck, then what replaced it" },
	{ "new x2", "a mark: the same text written twice there" },
	{ "LOOP (flag)", "fix: forbid_retype 1, max_consecutive_backspaces 1" },
	{ "r", "replay from the event log (compare: both sides)" },
	{ "PgUp PgDn", "scroll the text (the wheel too); End follows it again" },
	{ "click", "a token or mark: inspect it; Esc follows playback" },
	{ "i Enter", "back to the prompt editor" },
	{ "", "Decoding pane" },
	{ "j k Up Down", "select a parameter" },
	{ "h l - +", "adjust it" },
	{ "Enter", "type a value (Esc cancels; a bad one stays to be fixed)" },
	{ "d D", "reset one, or all, to the defaults" },
	{ "p", "next preset: greedy, balanced, creative" },
	{ "", "Fine-tune pane (generation uses its latest weights)" },
	{ "j k h l e d", "rows: objective, steps, lr, noise, weights pick-up" },
	{ "Enter g", "start a fine-tune of a copy of the weights (asks y/n)" },
	{ "p x", "pause or resume; stop, saving (asks y/n)" },
	{ "s", "save now (asks y/n) to MODEL-ft.bin, or -ft-2, -ft-3... if taken" },
	{ "q", "while it runs asks: s save, d discard, c cancel" },
	{ "", "Typing outside the prompt editor" },
	{ "letters", "only the focused pane's keys act; starting, stopping and" },
	{ " ", "saving a fine-tune ask y/n (any other key says no)" },
	{ "other keys", "a printable key the pane does not use is taken as a prompt" },
	{ " ", "typed in the wrong pane: it and the printable keys after it" },
	{ " ", "are ignored until a pause of 1 s or a non-printable key," },
	{ " ", "decoding changes made by that burst of keys are undone, and" },
	{ " ", "the status line says where the focus is" },
	{ "Esc", "back to the prompt editor from any other pane" },
	{ "", UI_HELP_GLOSSARY },
	{ "sampled p", "inspector: the chosen token's probability after the" },
	{ " ", "sampler chain (temperature, top-k...), what was drawn" },
	{ "P(<bksp>)", "the model's own probability of erasing at that step," },
	{ " ", "before the knobs (backspace_bias shifts it)" },
	{ "entropy", "how spread the model's choice is, in nats (0: certain)" },
	{ "gross net", "tokens typed in all; tokens left after the erases" },
	{ "bksp rate", "erases / actions (tokens typed + erases)" },
	{ "re-emission", "erases whose token was typed again at once (the model" },
	{ " ", "cannot see what it erased; forbid_retype forbids it)" },
	{ "distinct-n", "different n-token runs / all of them (1: no repeats)" },
	{ "tok/s", "prefill: prompt tokens a second; generate: actions a" },
	{ " ", "second; fine-tune: input tokens a second, averaged" },
	{ "MAUVE", "0..1: how close the generations are, as a distribution," },
	{ " ", "to the reference text (1: cannot tell them apart)" },
	{ "P Q R c", "P the reference text, Q the generations, R a mix of" },
	{ " ", "both; curve x = exp(-c KL(Q|R)), y = exp(-c KL(P|R)), c" },
	{ " ", "a fixed scale; the area under it is MAUVE" },
	{ "n k", "MAUVE: samples counted; k clusters of the features" },
	{ "erases/100", "before/after (b): erases per 100 typed tokens" },
	{ "fix/retype", "erases then a different token (a correction) / then" },
	{ " ", "the same token again (a retype)" },
	{ "loops", "runs where one slot was erased and retyped 3 times or" },
	{ " ", "more, or the action cap ended it (max_tokens x 2)" },
	{ "violations", "before/after, with check: CMD in config.yaml: runs" },
	{ " ", "the story checker flags (its protocol: eval --check)" },
	{ "loss BC", "fine-tune: the objective, and its behaviour-cloning" },
	{ " ", "part (cross-entropy on the data's next actions)" },
	{ "V(s0)", "SequenceMatch (section 3, the loss): the value of the" },
	{ " ", "start state, the credit the chi-squared objective gives" },
	{ " ", "the whole sequence from its first step; watch it move" },
	{ "val loss", "loss on held-out text; 'from' is the run's first value" },
};

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
	    "  --weights W       fp32, bf16 or q8: generate with the matrices converted to\n"
	    "                    this format (default: config.yaml's weights:, else fp32)\n"
	    "  -h, --help        this help\n");
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

/* Whether letters go to the prompt editor. */
static int
ui_typing(const struct ui_state *s)
{
	return ui_focus(s) == LAYOUT_TEXT && view_text_editing(s->pane[LAYOUT_TEXT]);
}

/*
 * The memory of the loaded models (A and B): bytes used in place from their
 * files' mappings, and bytes of their own (copies, training state).
 */
static void
ui_status_memory(const struct ui_state *s, char *buf, size_t size)
{
	size_t mapped = 0, priv = 0, a, b;

	if (s->model != NULL) {
		gpt_memory(s->model, &a, &b);
		mapped += a;
		priv += b;
	}
	if (s->model_b != NULL) {
		gpt_memory(s->model_b, &a, &b);
		mapped += a;
		priv += b;
	}
	snprintf(buf, size, " mapped %.0f MiB, private %.0f MiB |", (double)mapped / 1048576.0,
	    (double)priv / 1048576.0);
}

/* The status line: model, seed, view, the notice; OpenBLAS core, theme, colours, memory when they fit. */
static void
ui_draw_status(struct ui_state *s, struct grid_rect r)
{
	char left[256], right[160], view[64], seed[48], weights[32], mem[64];
	const struct ui *msg = s->ui.message[0] == '\0' && s->nsides == 2 ? &s->ui_b : &s->ui;
	int col, rw;

	grid_fill(&s->grid, r, NULL, THEME_SLOT_STATUS, 0);
	/* A question, or where typed keys went, has the whole line: it must show at 80 columns. */
	if (s->asking || (s->guard && s->ui.message[0] != '\0')) {
		grid_put_trunc(&s->grid, r, 1, 0, s->asking ? s->question : s->ui.message, r.w - 1,
		    THEME_SLOT_ERROR, GRID_ATTR_REVERSE);
		return;
	}
	view_text_describe(s->pane[LAYOUT_TEXT], view, sizeof view);
	if (s->ui.have_run)
		snprintf(seed, sizeof seed, "seed %llu", (unsigned long long)s->ui.log.seed);
	else
		snprintf(seed, sizeof seed, "seed -");
	weights[0] = '\0';
	if (s->ui.weights_version > 0)
		snprintf(weights, sizeof weights, " weights v%ld", s->ui.weights_version);
	/* A generation format other than fp32 is named (both sides use it). */
	if (s->weights != QUANT_FP32)
		snprintf(weights + strlen(weights), sizeof weights - strlen(weights), " %s",
		    quant_format_name((enum quant_format)s->weights));
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
	/* The loaded models' memory, when the line has room left for it. */
	ui_status_memory(s, mem, sizeof mem);
	if (r.w - col >= rw + (int)strlen(mem))
		grid_put(&s->grid, r, r.w - rw - (int)strlen(mem), 0, mem, THEME_SLOT_STATUS, 0);
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
		"v", "view", "?", "help", "q", "quit", "m M", "marks", "a", "auto-pause", "+ -",
		"speed", "r", "replay", "R S", "same/new seed", "b", "before/after", "i", "edit",
		"F2 T", "theme", "F3 O", "sessions", NULL };
	static const char *const decoding[] = { "j k", "select", "h l", "adjust", "Enter",
		"type", "d D", "reset", "p", "preset", "b", "before/after", "?", "help", "q", "quit",
		"Esc", "prompt", "R S", "same/new seed", "F2 T", "theme", NULL };
	static const char *const finetune[] = { "Enter", "start", "j k h l e", "options", "p",
		"pause", "x", "stop", "s", "save -ft", "?", "help", "q", "quit", "Esc", "prompt",
		"F2 T", "theme", NULL };
	static const char *const display[] = { "z", "zoom", "Tab", "panes", "Esc", "prompt",
		"1-4", "show/hide panes", "?", "help", "q", "quit", "R S", "same/new seed", "b",
		"before/after", "F2 T", "theme", NULL };
	static const char *const ask_quit[] = { "s", "save and quit", "d", "discard and quit",
		"c Esc", "cancel", NULL };
	static const char *const ask_yn[] = { "y", "yes", "any other key", "no", NULL };
	const char *const *k;
	int col = 1, f = ui_focus(s);

	if (s->asking)
		k = s->asking == UI_ASK_QUIT ? ask_quit : ask_yn;
	else if (f == LAYOUT_DECODE)
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

#define UI_HELP_KEY_COL 2   /* where the key names start in the help overlay */
#define UI_HELP_KEY_W 14    /* their column's width */
#define UI_HELP_DESC_COL 17 /* where the descriptions start */

/* The help overlay's last line (it stays below the list when the list scrolls). */
static const char ui_help_footer[] = "g: glossary. The UI starts in the prompt editor; F-keys "
    "have the aliases above.";

/*
 * The next line of s (ASCII) in width columns: its length in *len, the start of
 * the line after it returned (NULL at the end). Breaks at the last space that
 * fits, so that a number or a word is never cut in two; a word wider than the
 * whole width is cut.
 */
static const char *
ui_wrap_line(const char *s, int width, size_t *len)
{
	size_t n = strlen(s), brk;

	if (width < 1)
		width = 1;
	if (n <= (size_t)width) {
		*len = n;
		return NULL;
	}
	for (brk = (size_t)width; brk > 0 && s[brk] != ' '; brk--)
		continue;
	*len = brk > 0 ? brk : (size_t)width;
	s += *len;
	while (*s == ' ')
		s++;
	return *s != '\0' ? s : NULL;
}

/* How many rows text takes wrapped in width columns. */
static int
ui_wrap_rows(const char *s, int width)
{
	size_t len;
	int rows = 1;

	while ((s = ui_wrap_line(s, width, &len)) != NULL)
		rows++;
	return rows;
}

/* Rows of the help list inside a box whose inside is inner_w wide (descriptions wrap). */
static int
ui_help_rows(int inner_w)
{
	int n = (int)(sizeof ui_help / sizeof ui_help[0]), rows = 0;

	for (int i = 0; i < n; i++)
		rows += ui_help[i][0][0] == '\0' ? ui_wrap_rows(ui_help[i][1], inner_w - 1) :
		    ui_wrap_rows(ui_help[i][1], inner_w - UI_HELP_DESC_COL);
	return rows;
}

/*
 * The help overlay's rectangle: centred, as wide as its longest line needs
 * (narrower terminals wrap the descriptions), as tall as it fits.
 */
static struct grid_rect
ui_help_rect(const struct ui_state *s)
{
	int n = (int)(sizeof ui_help / sizeof ui_help[0]), need = (int)strlen(ui_help_footer) + 1;
	int w, h, inner;

	for (int i = 0; i < n; i++) {
		int l = (int)strlen(ui_help[i][1]) + (ui_help[i][0][0] == '\0' ? 1 :
		    UI_HELP_DESC_COL);

		need = l > need ? l : need;
	}
	w = s->grid.width - 4 < need + 3 ? s->grid.width - 4 : need + 3;
	inner = w - 2;
	h = ui_help_rows(inner) + ui_wrap_rows(ui_help_footer, inner - 1) + 2;
	h = s->grid.height - 2 < h ? s->grid.height - 2 : h;
	return grid_rect_make((s->grid.width - w) / 2, (s->grid.height - h) / 2, w, h);
}

/* The help list's rows on screen: the inside less the footer. */
static int
ui_help_list_rows(struct grid_rect in)
{
	int rows = in.h - ui_wrap_rows(ui_help_footer, in.w - 1);

	return rows > 1 ? rows : 1;
}

/* Scroll the help overlay by a key (j k arrows, Space PgDn PgUp, Home). */
static void
ui_help_scroll(struct ui_state *s, int key)
{
	struct grid_rect in = grid_rect_inset(ui_help_rect(s), 1);
	int n = ui_help_rows(in.w), rows = ui_help_list_rows(in), top = s->help_top;

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

/* Put a wrapped text at col of in from list row *row (rows before top are skipped). */
static void
ui_help_put(struct ui_state *s, struct grid_rect in, int col, const char *text, int top,
    int rows, int *row, int style)
{
	const char *p = text;
	size_t len;

	while (p != NULL) {
		const char *next = ui_wrap_line(p, in.w - col, &len);

		if (*row >= top && *row - top < rows)
			grid_putn(&s->grid, in, col, *row - top, p, len, style, 0);
		(*row)++;
		p = next;
	}
}

/* The help overlay, centred; it scrolls when the terminal is shorter than the list. */
static void
ui_draw_help(struct ui_state *s)
{
	struct grid_rect r = ui_help_rect(s), in = grid_rect_inset(r, 1);
	int n = ui_help_rows(in.w), rows = ui_help_list_rows(in), top, row = 0;
	int nentries = (int)(sizeof ui_help / sizeof ui_help[0]), foot = 0;
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
	for (int i = 0; i < nentries && row < top + rows; i++) {
		const char *const *h = ui_help[i];

		if (h[0][0] == '\0')
			ui_help_put(s, in, 1, h[1], top, rows, &row, THEME_SLOT_TITLE);
		else {
			if (row >= top)
				grid_put_trunc(&s->grid, in, UI_HELP_KEY_COL, row - top, h[0],
				    UI_HELP_KEY_W, THEME_SLOT_KEY, 0);
			ui_help_put(s, in, UI_HELP_DESC_COL, h[1], top, rows, &row,
			    THEME_SLOT_TEXT);
		}
	}
	ui_help_put(s, in, 1, ui_help_footer, -rows, in.h, &foot, THEME_SLOT_DIM);
}

/*
 * The too-small message, centred: "terminal too small: have 30x8, need 40x10"
 * on one line when it fits, else wrapped at spaces after its comma and within
 * its two halves, so that a size like 40x10 is never cut in two.
 */
static void
ui_draw_too_small(struct ui_state *s)
{
	struct grid_rect all = grid_rect_make(0, 0, s->grid.width, s->grid.height);
	char have[64], need[32], one[96];
	const char *part[2] = { one, NULL };
	int rows, row;
	size_t len;

	snprintf(have, sizeof have, "terminal too small: have %dx%d,", s->grid.width,
	    s->grid.height);
	snprintf(need, sizeof need, "need %dx%d", s->lay.need_width, s->lay.need_height);
	snprintf(one, sizeof one, "%s %s", have, need);
	if ((int)strlen(one) > s->grid.width) {
		part[0] = have;
		part[1] = need;
	}
	rows = ui_wrap_rows(part[0], s->grid.width) + (part[1] != NULL ?
	    ui_wrap_rows(part[1], s->grid.width) : 0);
	row = (s->grid.height - rows) / 2 > 0 ? (s->grid.height - rows) / 2 : 0;
	for (int i = 0; i < 2 && part[i] != NULL; i++) {
		for (const char *p = part[i]; p != NULL && row < s->grid.height; row++) {
			const char *next = ui_wrap_line(p, s->grid.width, &len);
			int col = (s->grid.width - (int)len) / 2;

			grid_putn(&s->grid, all, col > 0 ? col : 0, row, p, len,
			    THEME_SLOT_WARNING, 0);
			p = next;
		}
	}
}

/* Draw a whole frame into the grid, then to the terminal. */
static void
ui_draw(struct ui_state *s)
{
	int focus;

	if (ui_trace != NULL)
		ui_trace_draw = util_now();
	ui_relayout(s);
	grid_clear(&s->grid, THEME_SLOT_BACKGROUND);
	if (s->lay.too_small) {
		ui_draw_too_small(s);
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
	char *dir = transcript_dir();

	s->sessions = view_sessions_new(dir);
	free(dir);
	return UI_REDRAW;
}

/* Ctrl-C: stop what runs or plays (a generation, a fine-tune start, the playback); never quit. */
static int
ui_interrupt(struct ui_state *s)
{
	int paused = 0;

	if (ui_busy(s))
		return UI_STOP | UI_REDRAW;
	if (ui_ft_cancel(s->ft))
		return UI_REDRAW;
	if (s->pane[LAYOUT_TEXT] != NULL)
		paused |= view_text_stop(s->pane[LAYOUT_TEXT], &s->ui);
	if (s->pane[LAYOUT_TEXT2] != NULL)
		paused |= view_text_stop(s->pane[LAYOUT_TEXT2], &s->ui_b);
	if (paused)
		ui_message(&s->ui, 0, "playback paused: Space resumes, End jumps to the end");
	else
		ui_message(&s->ui, 0, "nothing to stop (^C never quits: q, F10 or ^Q quits)");
	return UI_REDRAW;
}

/* Whether a key is a printable character (typing), not a control or special key. */
static int
ui_printable(int key)
{
	return key >= 0x20 && key != 0x7f && key < UI_KEY_UP;
}

/* Back to the prompt editor (Esc in another pane): text pane A focused, editing. */
static int
ui_to_prompt(struct ui_state *s)
{
	s->focus = LAYOUT_TEXT;
	if (s->zoom != LAYOUT_NONE && s->zoom != LAYOUT_TEXT)
		s->zoom = LAYOUT_NONE;
	view_text_edit(s->pane[LAYOUT_TEXT], &s->ui);
	s->guard = 0;
	return UI_REDRAW;
}

/*
 * A printable key no pane or loop key took: a prompt typed into the wrong
 * pane. Drop it and the printable keys after it (the guard), undo the
 * decoding values the burst changed, and say where the focus is.
 */
static int
ui_guard_arm(struct ui_state *s, int focus)
{
	if (!s->guard) {
		s->guard_undone = s->burst_changed && focus == LAYOUT_DECODE;
		if (s->guard_undone)
			s->ui.params = s->burst_params;
	}
	s->guard = 1;
	s->guard_t = s->ui.now;
	s->burst_changed = 0;
	if (focus == LAYOUT_TEXT)
		ui_message(&s->ui, 1, "typing? the text pane is in playback: Esc or i edits the "
		    "prompt");
	else
		ui_message(&s->ui, 1, "typing? focus is on the %s pane, not the prompt: Esc goes "
		    "back%s", layout_pane_name(focus), s->guard_undone ? " (changes undone)" : "");
	return UI_REDRAW;
}

/* Dispatch a key: help, global keys, the focused pane, then the loop's letter keys. */
static int
ui_key(struct ui_state *s, int key)
{
	int focus = ui_focus(s), flags, printable;

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
		if (key == 'g') { /* the glossary (drawing clamps the scroll) */
			for (size_t i = 0; i < sizeof ui_help / sizeof ui_help[0]; i++)
				if (strcmp(ui_help[i][1], UI_HELP_GLOSSARY) == 0)
					s->help_top = (int)i;
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
		return ui_interrupt(s);
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
	/* Outside the prompt editor, watch for a prompt typed into the wrong pane. */
	printable = !ui_typing(s) && ui_printable(key);
	if (!printable) {
		s->guard = 0;
		s->burst_t = 0;
	} else {
		if (s->guard && s->ui.now - s->guard_t < UI_GUARD_SECONDS)
			return ui_guard_arm(s, focus);
		s->guard = 0;
		if (s->ui.now - s->burst_t >= UI_GUARD_SECONDS) { /* a new burst of keys */
			s->burst_params = s->ui.params;
			s->burst_changed = 0;
		}
		s->burst_t = s->ui.now;
	}
	flags = ui_panes[focus]->key(s->pane[focus], ui_pane_ui(s, focus), key);
	if (!(flags & UI_PASS)) {
		if (printable && focus == LAYOUT_DECODE)
			s->burst_changed = 1;
		return flags;
	}
	flags &= ~UI_PASS;
	switch (key) {
	case '?':
		s->help = 1;
		s->help_top = 0;
		return flags | UI_REDRAW;
	case 'q':
		return flags | UI_QUIT;
	case UI_KEY_ESC:
		if (ui_busy(s))
			return flags | UI_STOP | UI_REDRAW;
		return focus != LAYOUT_TEXT ? flags | ui_to_prompt(s) : flags;
	case 'R':
		return flags | UI_REPLAY_SEED | UI_REDRAW;
	case 'S':
		return flags | UI_NEW_SEED | UI_REDRAW;
	case 'b':
		return flags | UI_AB | UI_REDRAW;
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
	if (printable)
		return flags | ui_guard_arm(s, focus);
	return flags;
}

/* Poll the fine-tune job and copy its state for the pane; its news goes to the status line. */
static int
ui_ft_update(struct ui_state *s, double *wait)
{
	unsigned serial = s->ui.ft.note_serial;
	int changed = ui_ft_poll(s->ft, wait);

	ui_ft_get(s->ft, &s->ui.ft);
	if (s->ui.ft.note_serial != serial) {
		ui_message(&s->ui, s->ui.ft.note_error, s->ui.ft.note_end ? "fine-tune: %s" : "%s",
		    s->ui.ft.note);
		changed = 1;
	}
	return changed;
}

/*
 * The quit question while a fine-tune runs, into s->question (at most 66
 * columns with a six-digit step count: it fits at 80); 0 when none runs.
 */
static int
ui_quit_question(struct ui_state *s)
{
	if (!ui_ft_busy(s->ft))
		return 0;
	ui_ft_get(s->ft, &s->ui.ft);
	snprintf(s->question, sizeof s->question, "Quit? fine-tune at step %ld/%ld: s save, "
	    "d discard, c cancel", s->ui.ft.steps_done, s->ui.ft.run.steps);
	return 1;
}

/* Keep the quit question's step count live; 1 if the line changed. */
static int
ui_quit_refresh(struct ui_state *s)
{
	char old[sizeof s->question];

	if (s->asking != UI_ASK_QUIT)
		return 0;
	memcpy(old, s->question, sizeof old);
	if (!ui_quit_question(s)) { /* the run ended meanwhile: nothing left to decide */
		s->asking = UI_ASK_NONE;
		return 1;
	}
	return strcmp(old, s->question) != 0;
}

/* Turn a quit into the question while a fine-tune runs; flags otherwise unchanged. */
static int
ui_quit_confirm(struct ui_state *s, int flags)
{
	if (!(flags & UI_QUIT) || !ui_quit_question(s))
		return flags;
	s->asking = UI_ASK_QUIT;
	return (flags & ~UI_QUIT) | UI_REDRAW;
}

/* A model path's file name (questions are short). */
static const char *
ui_base_name(const char *path)
{
	const char *slash = path != NULL ? strrchr(path, '/') : NULL;

	return slash != NULL ? slash + 1 : path != NULL ? path : "?";
}

/*
 * Ask before the pane's start, stop or save acts (a letter typed into the
 * wrong pane must not): 1 with the question set, 0 to act at once (nothing to
 * stop or save, or a start refused anyway).
 */
static int
ui_ft_question(struct ui_state *s, enum ui_ft_action a, const struct finetune_options *o)
{
	const struct ui_ft_info *ft = &s->ui.ft;
	char *path;

	switch (a) {
	case UI_FT_START:
		if (ft->live || ft->preparing)
			return 0;
		path = ui_ft_out_path(s->ui.model_path != NULL ? s->ui.model_path : "model.bin");
		snprintf(s->question, sizeof s->question, "Start fine-tune %s, %ld steps on %s, "
		    "saving %s? y/n", finetune_method_name(o->method), o->steps,
		    ui_base_name(s->ui.model_path), ui_base_name(path));
		free(path);
		return 1;
	case UI_FT_STOP:
		if (!ft->live)
			return 0;
		snprintf(s->question, sizeof s->question, "Stop the fine-tune at step %ld and "
		    "save it to %s? y/n", ft->steps_done, ui_base_name(ft->out_path));
		return 1;
	case UI_FT_SAVE:
		if (!ft->started)
			return 0;
		snprintf(s->question, sizeof s->question, "Save the fine-tune (step %ld) to %s? "
		    "y/n", ft->steps_done, ui_base_name(ft->out_path));
		return 1;
	default:
		return 0;
	}
}

/*
 * The answer to the question: for quitting s saves, d discards, c (n, Esc,
 * ^C) goes back; for a fine-tune action y does it and any other key does not.
 */
static int
ui_answer(struct ui_state *s, int key)
{
	double wait = -1;

	if (s->asking == UI_ASK_FT) {
		s->asking = UI_ASK_NONE;
		if (key == 'y' || key == 'Y') {
			ui_ft_act(s->ft, s->ask_ft, &s->ask_o);
			ui_ft_update(s, &wait);
		} else
			ui_message(&s->ui, 0, "not %s", s->ask_ft == UI_FT_START ? "started" :
			    s->ask_ft == UI_FT_STOP ? "stopped" : "saved");
		return UI_REDRAW;
	}
	if (key == 's' || key == 'S' || key == 'd' || key == 'D') {
		s->asking = UI_ASK_NONE;
		s->quit_discard = key == 'd' || key == 'D';
		ui_message(&s->ui, 0, "quitting: stopping the fine-tune%s...", s->quit_discard ?
		    " (discarded)" : " and saving it");
		return UI_QUIT | UI_REDRAW;
	}
	if (key == 'c' || key == 'C' || key == 'n' || key == 'N' || key == UI_KEY_ESC ||
	    key == UI_CTRL('c')) {
		s->asking = UI_ASK_NONE;
		ui_message(&s->ui, 0, "not quitting; the fine-tune goes on");
		return UI_REDRAW;
	}
	/* Anything else asks again (the run may have ended meanwhile: then just quit). */
	if (!ui_quit_question(s)) {
		s->asking = UI_ASK_NONE;
		return UI_QUIT | UI_REDRAW;
	}
	return UI_REDRAW;
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
	if (flags & UI_FINETUNE) {
		double wait = -1;
		enum ui_ft_action a = s->ui.ft_action;

		s->ui.ft_action = UI_FT_NONE;
		if (ui_ft_question(s, a, &s->ui.ft_options)) {
			s->asking = UI_ASK_FT;
			s->ask_ft = a;
			s->ask_o = s->ui.ft_options;
		} else {
			ui_ft_act(s->ft, a, &s->ui.ft_options);
			ui_ft_update(s, &wait);
		}
	}
	if ((flags & UI_EDITOR) && s->ui.request != NULL) {
		char *text = ui_run_editor(s, s->ui.request);

		if (text != NULL)
			view_text_set_draft(s->pane[LAYOUT_TEXT], text);
		free(text);
		free(s->ui.request);
		s->ui.request = NULL;
	}
	if (flags & UI_REPLAY_SEED) {
		if (!s->ui.have_run || s->ui.log.prompt == NULL)
			ui_message(&s->ui, 1, "nothing to replay yet: generate first");
		else
			ui_generate(s, s->ui.log.prompt, (int64_t)s->ui.log.seed);
	}
	if (flags & UI_NEW_SEED) {
		if (s->ui.log.prompt == NULL)
			ui_message(&s->ui, 1, "no prompt yet: generate first");
		else /* a fresh seed even when the decoding pane fixes one */
			ui_generate(s, s->ui.log.prompt, (int64_t)generate_pick_seed(-1));
	}
	if (flags & UI_AB)
		ui_ab_begin(s);
	/* Decoding changes reach the running generations at their next token. */
	for (int i = 0; i < s->nsides; i++)
		if (s->side[i].gen != NULL && ui_gen_update(s->side[i].gen, &s->ui.params))
			s->side[i].ui->log.params_changed = 1;
}

/* A mouse event: a click focuses the pane under it; clicks and the wheel go to its click hook. */
static int
ui_mouse(struct ui_state *s, const struct ui_term_input *me)
{
	int button = me->button, flags;

	for (int p = 0; p < LAYOUT_COUNT; p++) {
		struct grid_rect r = s->lay.rect[p];

		if (ui_panes[p] == NULL || s->pane[p] == NULL || !(s->lay.shown & LAYOUT_BIT(p)) ||
		    me->x < r.x ||
		    me->x >= r.x + r.w || me->y < r.y || me->y >= r.y + r.h)
			continue;
		flags = UI_REDRAW;
		if (button == 1 && ui_panes[p]->key != NULL)
			s->focus = p;
		if (ui_panes[p]->click != NULL) {
			flags |= ui_panes[p]->click(s->pane[p], ui_pane_ui(s, p), r, me->x, me->y,
			    button);
			ui_act(s, flags & ~(UI_REDRAW | UI_QUIT | UI_PASS));
		}
		return flags & (UI_REDRAW | UI_QUIT);
	}
	return 0;
}

/* Read every key the terminal has; returns the flags of them all. */
static int
ui_read_keys(struct ui_state *s)
{
	int flags = 0, key;
	struct ui_term_input in;

	while (ui_term_read(&in)) {
		if (in.type == UI_TERM_INPUT_RESIZE) {
			if (grid_resize(&s->grid, in.w, in.h) != 0)
				app_fatal("out of memory (a %dx%d screen)", in.w, in.h);
			ui_blit_forget(); /* curses resized stdscr: copy every cell again */
			ui_relayout(s);
			flags |= UI_REDRAW;
			continue;
		}
		if (in.type == UI_TERM_INPUT_MOUSE) {
			flags |= ui_mouse(s, &in);
			continue;
		}
		key = in.key;
		if (key == 0)
			continue;
		if (ui_trace != NULL && ui_trace_key == 0)
			ui_trace_key = util_now();
		/* Alt-Enter arrives as Esc and Enter together: a newline, like ^J. */
		if (key == UI_KEY_ESC && !s->pasting && ui_term_next_is_enter())
			key = UI_CTRL('j');
		/* A question (quitting while a fine-tune runs; starting one) takes the key. */
		if (s->asking)
			flags |= ui_answer(s, key);
		else
			flags |= ui_quit_confirm(s, ui_key(s, key));
		ui_act(s, flags & ~(UI_REDRAW | UI_QUIT));
		flags &= UI_REDRAW | UI_QUIT;
		ui_relayout(s);
		if (flags & UI_QUIT)
			break;
	}
	return flags;
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
	/*
	 * The prompt always has the focus at start, whatever the file says (letters
	 * typed for a prompt must not land in another pane). A zoomed pane takes the
	 * focus (layout.c), so only a zoom of the text pane comes back.
	 */
	s->focus = LAYOUT_TEXT;
	s->zoom = s->saved.zoom == LAYOUT_TEXT ? LAYOUT_TEXT : LAYOUT_NONE;
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
		s->ui.now = util_now();
		if (ui_take_events(s))
			dirty = 1;
		if (ui_mauve_poll(s))
			dirty = 1;
		if (ui_ab_poll(s))
			dirty = 1;
		s->ui_b.now = s->ui.now;
		wait = -1;
		if (ui_ft_update(s, &wait))
			dirty = 1;
		if (ui_quit_refresh(s)) /* its step count is live */
			dirty = 1;
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
		s->ui.now = util_now();
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
		{ "compare", required_argument, NULL, 'C' },
		{ "theme", required_argument, NULL, 't' },
		{ "colors", required_argument, NULL, 'c' },
		{ "colours", required_argument, NULL, 'c' },
		{ "no-mouse", no_argument, NULL, 'M' },
		{ "ascii", no_argument, NULL, 'a' },
		{ "session", required_argument, NULL, 'S' },
		{ "weights", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ui_state *s;
	const char *model_path = NULL, *compare_path = NULL, *theme_name = NULL, *term, *slash;
	const char *session_arg = NULL;
	char notice[512], state_note[1024];
	int c, forced = THEME_DEPTH_AUTO, ascii = 0, mouse = 1, rc;
	int forced_flag = 0, mouse_flag = 0, weights = -1, stored;
	char how[160], how_b[160];
	char *cause = NULL, *config_path, *config_error = NULL;
	struct conf cfg;

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
		case 'w':
			if (options_weights("weights", optarg, &weights) != 0)
				return APP_EXIT_USAGE;
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
	conf_init(&cfg);
	if ((config_path = conf_path()) != NULL &&
	    conf_load(&cfg, config_path, &config_error) < 0 && config_error == NULL)
		config_error = xstrdup(config_path);
	free(config_path);
	if (!forced_flag && cfg.colors != NULL)
		forced = theme_depth_parse(cfg.colors);
	if (!mouse_flag && cfg.mouse >= 0)
		mouse = cfg.mouse;

	s = xcalloc(1, sizeof *s);
	record_init(&s->rec);
	record_init(&s->rec_b);
	/*
	 * Each model's matrices in the format to decode with, once: --weights, else
	 * a `seqmatch quantize` file's own, else config.yaml's; B follows A's
	 * format unless --weights or its own file says otherwise.
	 */
	/* Filled: the live MAUVE's features and the transcripts' hash read fp32. */
	if (app_load_generator(model_path, 0, weights, cfg.weights, 1, &s->model, &s->tok,
	    &s->rec, &s->qw, &stored, how, sizeof how, &cause) != 0 ||
	    (compare_path != NULL && app_load_generator(compare_path, 0, weights,
	    (int)qweights_format(s->qw), 1, &s->model_b, &s->tok_b, &s->rec_b, &s->qw_b, NULL,
	    how_b, sizeof how_b, &cause) != 0)) {
		app_error("%s", cause);
		free(cause);
		free(config_error);
		conf_release(&cfg);
		qweights_free(s->qw);
		tokenizer_free(s->tok);
		gpt_free(s->model);
		record_release(&s->rec);
		record_release(&s->rec_b);
		free(s);
		return APP_EXIT_ERROR;
	}
	weights = (int)qweights_format(s->qw);
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
	s->check_cmd = cfg.check != NULL ? xstrdup(cfg.check) : NULL;
	s->nsides = 1;
	s->side[0].ui = &s->ui;
	s->side[0].model = s->model;
	s->side[0].qw = s->qw;
	s->side[0].tok = s->tok;
	if (compare_path != NULL) {
		ui_compare_init(s, compare_path);
		s->side[1].qw = s->qw_b;
		if (qweights_format(s->qw_b) != qweights_format(s->qw))
			ui_message(&s->ui, 1, "A decodes with %s weights, B with %s", how, how_b);
	}
	s->mouse = mouse;
	s->weights = weights;
	s->core = cpu_blas_core() != NULL ? cpu_blas_core() : "?";
	if (session_arg != NULL) { /* a bad --session stops here, before the screen is taken */
		char *dir = transcript_dir(), *path = transcript_resolve(dir, session_arg, &cause);

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
	/*
	 * BLAS stays on the one thread app/main.c set before any worker starts:
	 * generation, the live MAUVE worker and a fine-tune call BLAS from their
	 * own threads, and changing OpenBLAS's thread count while another thread
	 * is inside a BLAS call can deadlock it (seen: a worker stuck on
	 * OpenBLAS's lock at exit, its server thread spinning). Their products go
	 * through the pool when it is free (engine/sgemm.c); on two cores the
	 * workers are the parallelism.
	 */
	/* The pool: --threads, else all cores but one, left to generation beside a fine-tune. */
	pool_set_threads(options_threads > 0 ? options_threads : cpu_count() - 1);
	s->ft = ui_ft_new(s->model, s->tok, &s->rec, s->ui.model_path, ui_wake[1]);
	ui_ft_set_stored(s->ft, stored);
	ui_ft_get(s->ft, &s->ui.ft);
	s->ui_b.glyphs = s->ui.glyphs;
	s->ui_b.plot = s->ui.plot;
	for (int p = 0; p < LAYOUT_COUNT; p++)
		if (ui_panes[p] != NULL &&
		    (s->nsides == 2 || (p != LAYOUT_TEXT2 && p != LAYOUT_STATS2)))
			s->pane[p] = ui_panes[p]->init(ui_pane_ui(s, p));
	view_text_set_state(s->pane[LAYOUT_TEXT], s->saved.view, s->saved.speed);
	if (s->pane[LAYOUT_TEXT2] != NULL) {
		view_text_set_state(s->pane[LAYOUT_TEXT2], s->saved.view, s->saved.speed);
		view_text_lock(s->pane[LAYOUT_TEXT], &s->ui, s->pane[LAYOUT_TEXT2], &s->ui_b);
	}
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
	ui_ab_end(s);
	ui_state_save(s, state_note, sizeof state_note);
	notice[0] = '\0';
	if (ui_ft_busy(s->ft)) {
		/* Stop the trainer after its current step and save what it learned. */
		ui_message(&s->ui, 0, s->quit_discard ? "quitting: stopping the fine-tune "
		    "(discarded)..." : "quitting: stopping the fine-tune and saving it...");
		ui_draw(s);
		ui_ft_quit(s->ft, s->quit_discard, notice, sizeof notice);
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
	ui_blit_release();
out:
	ui_ft_free(s->ft);
	app_fatal_hook = NULL;
	close(ui_wake[0]);
	close(ui_wake[1]);
	ui_wake[0] = ui_wake[1] = -1;
	free(s->ui.log.prompt);
	free(s->ui.log.ev);
	free(s->ui.request);
	view_themes_free(s->picker);
	free(s->state_path);
	free(s->check_cmd);
	free(s->ui_b.log.prompt);
	free(s->ui_b.log.ev);
	free(s->ui_b.request);
	tokenizer_free(s->tok);
	qweights_free(s->qw);
	gpt_free(s->model);
	record_release(&s->rec);
	tokenizer_free(s->tok_b);
	qweights_free(s->qw_b);
	gpt_free(s->model_b);
	record_release(&s->rec_b);
	free(s);
	conf_release(&cfg);
	return rc;
}
