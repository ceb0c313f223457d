/*
 * test-editor.c: the prompt editor (app/editor.c): editing keys, UTF-8 (a
 * character is never split), multi-line movement, history with the kept
 * draft, bracketed paste, the history file (round trip, cap, bad files) and
 * $EDITOR; then the text pane (app/view-text.c) drawn into a grid: the
 * multi-line prompt, a character split across two tokens and its erase, a
 * click selecting a token for the inspector, and compare mode's read-only pane.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "editor.h"
#include "generate.h"
#include "grid.h"
#include "tap.h"
#include "theme.h"
#include "tokenizer.h"
#include "ui.h"

/* Send the keys of a string (ASCII) one by one. */
static void
type(struct editor *e, const char *s)
{
	for (; *s != '\0'; s++)
		editor_key(e, (unsigned char)*s);
}

/* Check the editor's text and cursor. */
static void
expect_text(const struct editor *e, const char *text, size_t cursor, const char *what)
{
	if (!tap_ok(strcmp(e->text, text) == 0 && e->cursor == cursor && e->len == strlen(text),
	    "%s", what))
		tap_diag("got \"%s\" cursor %zu, want \"%s\" cursor %zu", e->text, e->cursor, text,
		    cursor);
}

/* Write a file. */
static void
write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		abort();
	fputs(s, f);
	fclose(f);
}

/* Editing keys, UTF-8 and multi-line movement. */
static void
test_editing(void)
{
	struct editor e;

	editor_init(&e);
	type(&e, "ab");
	editor_key(&e, 0xe9);   /* é: 2 bytes */
	editor_key(&e, 0x4e16); /* 世: 3 bytes */
	expect_text(&e, "ab\xc3\xa9\xe4\xb8\x96", 7, "code points are inserted as UTF-8");
	editor_key(&e, UI_KEY_LEFT);
	expect_text(&e, "ab\xc3\xa9\xe4\xb8\x96", 4, "Left steps over a whole 3-byte character");
	editor_key(&e, UI_KEY_BACKSPACE);
	expect_text(&e, "ab\xe4\xb8\x96", 2, "Backspace deletes a whole 2-byte character");
	editor_key(&e, UI_KEY_DELETE);
	expect_text(&e, "ab", 2, "Delete deletes a whole 3-byte character");
	editor_key(&e, 0xd800); /* a surrogate is not a character */
	editor_key(&e, 0x85);   /* a C1 control */
	editor_key(&e, 1);      /* Ctrl-A is a key, not text: moves home */
	expect_text(&e, "ab", 0, "surrogates and C1 controls are not inserted; ^A goes home");
	editor_key(&e, UI_KEY_END);
	type(&e, " cd ef");
	editor_key(&e, UI_CTRL('w'));
	expect_text(&e, "ab cd ", 6, "^W deletes the word before the cursor");
	tap_ok(editor_key(&e, UI_KEY_ENTER) == EDITOR_SUBMIT, "Enter submits");
	tap_ok(editor_key(&e, UI_KEY_F3) == EDITOR_IGNORED && editor_key(&e, '\t') ==
	    EDITOR_IGNORED, "F-keys and Tab are not the editor's");

	/* Multi-line: ^J inserts a newline; Home/End/^U/^K work on the line. */
	editor_set(&e, "", 0);
	type(&e, "first");
	editor_key(&e, UI_CTRL('j'));
	type(&e, "2nd");
	editor_key(&e, UI_CTRL('j'));
	type(&e, "third line");
	expect_text(&e, "first\n2nd\nthird line", 20, "^J inserts newlines");
	tap_ok(editor_lines(&e) == 3, "three lines");
	editor_key(&e, UI_KEY_HOME);
	expect_text(&e, "first\n2nd\nthird line", 10, "Home goes to the start of the line");
	editor_key(&e, UI_KEY_END);
	editor_key(&e, UI_KEY_UP); /* column 10 on a 3-column line: its end */
	expect_text(&e, "first\n2nd\nthird line", 9, "Up keeps the column, clamped to the line");
	editor_key(&e, UI_KEY_LEFT);
	editor_key(&e, UI_KEY_UP);
	expect_text(&e, "first\n2nd\nthird line", 2, "Up again: the same column on line 1");
	editor_key(&e, UI_KEY_DOWN);
	editor_key(&e, UI_KEY_DOWN);
	expect_text(&e, "first\n2nd\nthird line", 12, "Down twice: the same column on line 3");
	editor_key(&e, UI_CTRL('u'));
	expect_text(&e, "first\n2nd\nird line", 10, "^U deletes to the start of the line only");
	editor_key(&e, UI_KEY_UP);
	editor_key(&e, UI_KEY_END);
	editor_key(&e, UI_CTRL('k'));
	expect_text(&e, "first\n2ndird line", 9, "^K at a line's end joins the next line");

	/* Repair of text from outside (history, $EDITOR, the set draft). */
	editor_set(&e, "a\xff" "b\xe2\x82" "c\r\nd\re\x01\x1b[31mf\tg\xc2\x85", 22);
	expect_text(&e, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\nd\ne[31mf\tg", 20,
	    "invalid UTF-8 -> U+FFFD, CR LF and CR -> LF, controls but tab dropped");
	editor_release(&e);
}

/* The history keeps the unsent draft; Up/Down browse only from the first/last line. */
static void
test_history(void)
{
	struct editor e;

	editor_init(&e);
	editor_remember(&e, "one");
	editor_remember(&e, "two\nlines");
	editor_remember(&e, "two\nlines"); /* not twice in a row */
	editor_remember(&e, "");
	tap_ok(e.nhistory == 2, "empty and repeated prompts are not remembered");
	type(&e, "draft");
	editor_key(&e, UI_KEY_UP);
	expect_text(&e, "two\nlines", 9, "Up from the draft: the newest entry, cursor at its end");
	editor_key(&e, UI_KEY_UP);
	expect_text(&e, "two\nlines", 3, "Up inside a multi-line entry moves a line first");
	editor_key(&e, UI_KEY_UP);
	expect_text(&e, "one", 3, "Up from its first line: the older entry");
	editor_key(&e, UI_KEY_UP);
	expect_text(&e, "one", 3, "Up at the oldest entry stays");
	editor_key(&e, UI_KEY_DOWN);
	expect_text(&e, "two\nlines", 3, "Down: the newer entry, on its first line");
	editor_key(&e, UI_KEY_DOWN);
	expect_text(&e, "two\nlines", 7, "Down inside it moves a line");
	editor_key(&e, UI_KEY_DOWN);
	expect_text(&e, "draft", 5, "Down from the last line: the kept draft");
	for (int i = 0; i < EDITOR_HISTORY + 100; i++) {
		char s[16];

		snprintf(s, sizeof s, "p%d", i);
		editor_remember(&e, s);
	}
	tap_ok(e.nhistory == EDITOR_HISTORY && strcmp(e.history[0], "p100") == 0 &&
	    strcmp(e.history[EDITOR_HISTORY - 1], "p599") == 0,
	    "the history is capped at %d, dropping the oldest", EDITOR_HISTORY);
	editor_release(&e);
}

/* Bracketed paste: text goes in literally, Enter never submits. */
static void
test_paste(void)
{
	struct editor e;
	int submitted = 0;
	static const int keys[] = { UI_KEY_PASTE_BEGIN, 'a', UI_KEY_ENTER, '\n', 'b', '\t', 1, 27,
		UI_KEY_UP, UI_KEY_ENTER, 'c', UI_KEY_PASTE_END };

	editor_init(&e);
	type(&e, "> ");
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		submitted |= editor_key(&e, keys[i]) == EDITOR_SUBMIT;
	expect_text(&e, "> a\nb\t\nc", 8,
	    "a paste: CR LF one newline, tab kept, controls and arrows dropped");
	tap_ok(!submitted && !e.pasting, "Enter inside a paste does not submit");
	tap_ok(editor_key(&e, UI_KEY_ENTER) == EDITOR_SUBMIT, "Enter after the paste submits");
	editor_release(&e);
}

/* The history file: round trip, atomic write, bad files. */
static void
test_history_file(const char *dir)
{
	struct editor e, f;
	char path[512], bad[512], *cause = NULL;
	struct stat st;
	int rc, ok;

	snprintf(path, sizeof path, "%s/state/seqmatch/history", dir);
	editor_init(&e);
	editor_remember(&e, "plain");
	editor_remember(&e, "two\nlines\twith a tab and a \\ backslash \\n");
	editor_remember(&e, "caf\xc3\xa9 \xe4\xb8\x96");
	rc = editor_history_save(&e, path, &cause);
	tap_ok(rc == 0, "the history is saved (directories created): %s", cause ? cause : "");
	tap_ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "the file is private (0600)");
	editor_init(&f);
	rc = editor_history_load(&f, path, &cause);
	ok = rc == 0 && f.nhistory == 3;
	for (int i = 0; ok && i < 3; i++)
		ok = strcmp(e.history[i], f.history[i]) == 0;
	if (!tap_ok(ok, "the history file round-trips multi-line, tab, backslash and UTF-8 entries"))
		tap_diag("rc %d, %d entries, %s", rc, f.nhistory, cause ? cause : "");
	tap_ok(f.hpos == f.nhistory, "loading leaves browsing at the draft");
	editor_release(&f);

	snprintf(bad, sizeof bad, "%s/state/seqmatch", dir);
	snprintf(path, sizeof path, "%s/state/seqmatch/history", dir);
	{ /* no temp files left next to it */
		char cmd[1200];

		snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 1", bad);
		tap_ok(system(cmd) == 0, "no temp file is left after the rename");
	}

	/* Not a history file: nothing loaded, a message with the place. */
	snprintf(bad, sizeof bad, "%s/bad1", dir);
	write_file(bad, "just some text\nmore\n");
	editor_init(&f);
	free(cause);
	cause = NULL;
	rc = editor_history_load(&f, bad, &cause);
	tap_ok(rc == -1 && f.nhistory == 0 && cause != NULL && strstr(cause, "bad1:1:") != NULL,
	    "a file without the header is not loaded: %s", cause ? cause : "(none)");
	editor_release(&f);

	/* Bad lines: skipped, counted; the good ones load. */
	snprintf(bad, sizeof bad, "%s/bad2", dir);
	write_file(bad, "# seqmatch history 1\ngood one\nbad \\q escape\ninvalid \xff utf8\n"
	    "trailing \\\n\ngood two");
	editor_init(&f);
	free(cause);
	cause = NULL;
	rc = editor_history_load(&f, bad, &cause);
	tap_ok(rc == -1 && f.nhistory == 2 && strcmp(f.history[0], "good one") == 0 &&
	    strcmp(f.history[1], "good two") == 0 && cause != NULL &&
	    strstr(cause, "bad2:3: a bad entry (3 skipped)") != NULL,
	    "bad lines are skipped with the first one's place: %s", cause ? cause : "(none)");
	editor_release(&f);

	/* A binary file (NUL bytes), an empty file, a missing file. */
	snprintf(bad, sizeof bad, "%s/bad3", dir);
	{
		FILE *fp = fopen(bad, "wb");

		fwrite("# seqmatch history 1\n\0\0\0x\n", 1, 26, fp);
		fclose(fp);
	}
	editor_init(&f);
	rc = editor_history_load(&f, bad, &cause);
	tap_ok(rc == -1 && f.nhistory == 0, "a file with NUL bytes is not loaded");
	editor_release(&f);
	write_file(bad, "");
	editor_init(&f);
	rc = editor_history_load(&f, bad, &cause);
	tap_ok(rc == -1 && f.nhistory == 0, "an empty file is not a history file");
	editor_release(&f);
	snprintf(bad, sizeof bad, "%s/missing", dir);
	editor_init(&f);
	tap_ok(editor_history_load(&f, bad, &cause) == 1 && f.nhistory == 0,
	    "a missing file is no history, no error");
	editor_release(&f);
	/* A directory where the file should be: saving fails with a message, nothing half-done. */
	snprintf(bad, sizeof bad, "%s/adir", dir);
	mkdir(bad, 0700);
	free(cause);
	cause = NULL;
	tap_ok(editor_history_save(&e, bad, &cause) == -1 && cause != NULL,
	    "saving over a directory fails with a message: %s", cause ? cause : "(none)");
	free(cause);
	editor_release(&e);
}

/* $EDITOR: the text round-trips through a script; a failing editor is an error. */
static void
test_external(const char *dir)
{
	char script[512], seen[512], env[1100], *out = NULL, *cause = NULL;
	int truncated, rc;
	FILE *f;

	snprintf(script, sizeof script, "%s/ed.sh", dir);
	snprintf(seen, sizeof seen, "%s/seen", dir);
	f = fopen(script, "w");
	/* Records what it was given, then writes a new prompt (with bad bytes) and a newline. */
	fprintf(f, "#!/bin/sh\nfor p; do :; done\necho \"$p\" > '%s'\ncat \"$p\" >> '%s'\n"
	    "printf 'edited\\nprompt \\377\\n' > \"$p\"\n", seen, seen);
	fclose(f);
	chmod(script, 0700);
	snprintf(env, sizeof env, "%s --flag", script); /* arguments in $EDITOR are allowed */
	unsetenv("VISUAL");
	setenv("EDITOR", env, 1);
	setenv("TMPDIR", dir, 1);
	rc = editor_external("the draft", &out, &truncated, &cause);
	tap_ok(rc == 0 && out != NULL && strcmp(out, "edited\nprompt \xff") == 0 && !truncated,
	    "the editor's file comes back, the final newline dropped: %s",
	    cause ? cause : out ? out : "");
	{
		char line[600] = "", draft[64] = "";

		f = fopen(seen, "r");
		if (f != NULL) {
			if (fgets(line, sizeof line, f) == NULL || fgets(draft, sizeof draft, f) == NULL)
				line[0] = '\0';
			fclose(f);
		}
		line[strcspn(line, "\n")] = '\0';
		tap_ok(strncmp(line, dir, strlen(dir)) == 0 && strstr(line, "seqmatch-prompt.") != NULL,
		    "the temp file is under $TMPDIR: %s", line);
		tap_ok(strcmp(draft, "the draft") == 0, "the editor gets the draft");
		tap_ok(line[0] != '\0' && access(line, F_OK) != 0, "the temp file is removed");
	}
	free(out);
	setenv("EDITOR", "false", 1);
	rc = editor_external("keep me", &out, &truncated, &cause);
	tap_ok(rc == -1 && out == NULL && cause != NULL && strstr(cause, "exit status 1") != NULL,
	    "a failing editor is an error: %s", cause ? cause : "(none)");
	setenv("EDITOR", "/nonexistent/editor", 1);
	rc = editor_external("keep me", &out, &truncated, &cause);
	tap_ok(rc == -1 && cause != NULL && strstr(cause, "not found") != NULL,
	    "a missing editor is an error: %s", cause ? cause : "(none)");
	free(cause);
}

/* Draw a pane into g (cleared first), return the dump (malloc'd). */
static char *
draw(const struct ui_pane *pane, void *state, struct ui *ui, struct grid *g)
{
	char *s;

	grid_clear(g, 0);
	pane->draw(state, ui, g, grid_rect_make(0, 0, g->width, g->height), 1);
	s = grid_dump(g);
	if (s == NULL)
		abort();
	return s;
}

/* Check that the dump holds want. */
static void
expect_has(const char *dump, const char *want, const char *what)
{
	if (!tap_ok(strstr(dump, want) != NULL, "%s: \"%s\"", what, want))
		tap_diag("got:\n%s", dump);
}

/* Check that the dump does not hold bad. */
static void
expect_lacks(const char *dump, const char *bad, const char *what)
{
	if (!tap_ok(strstr(dump, bad) == NULL, "%s: no \"%s\"", what, bad))
		tap_diag("got:\n%s", dump);
}

/* Add an event to the log. */
static void
add(struct ui_log *log, enum generate_event_type type, int token)
{
	struct generate_event *ev = &log->ev[log->n++];

	memset(ev, 0, sizeof *ev);
	ev->type = type;
	ev->token = token;
	ev->prob = 0.5f;
}

/* The style at the first cell holding text s on the grid, or -1. */
static int
style_of(const struct grid *g, const char *s)
{
	for (int y = 0; y < g->height; y++)
		for (int x = 0; x < g->width; x++) {
			const struct grid_cell *c = grid_cell_at(g, x, y);

			if (c->len == strlen(s) && memcmp(c->text, s, c->len) == 0)
				return c->style;
		}
	return -1;
}

/* The text pane: multi-line prompt, split characters, clicks, compare mode, state. */
static void
test_pane(const char *dir)
{
	static const char text[] = "the cat sat on the mat\n";
	struct generate_event evs[16];
	struct tokenizer *tok = NULL;
	struct ui ui;
	struct grid g;
	void *t;
	char *d, *cause = NULL, path[512];
	int view, speed, flags;
	char name[64];

	snprintf(path, sizeof path, "%s/pane-state", dir);
	setenv("XDG_STATE_HOME", path, 1);
	/* 257: bytes and <|endoftext|> only, so ids are the bytes. */
	if (tokenizer_train((const uint8_t *)text, strlen(text), 257, &tok, &cause) != 0) {
		tap_ok(0, "tokenizer: %s", cause);
		return;
	}
	memset(&ui, 0, sizeof ui);
	ui.tok = tok;
	ui.glyphs = GRID_GLYPHS_UTF8;
	ui.log.inspect = -1;
	ui.log.ev = evs;
	if (grid_init(&g, 40, 12, GRID_GLYPHS_UTF8) != 0)
		abort();
	t = view_text_pane.init(&ui);
	tap_ok(view_text_editing(t), "the pane starts in the prompt editor");

	/* A multi-line draft shows its lines. */
	view_text_set_draft(t, "line one\nline two\nline three");
	d = draw(&view_text_pane, t, &ui, &g);
	expect_has(d, "> line one", "multi-line draft, row 1");
	expect_has(d, ": line two", "multi-line draft, row 2");
	expect_has(d, ": line three", "multi-line draft, row 3");
	free(d);
	/* Taller than its space (half the pane): it scrolls to the cursor (at the end). */
	view_text_set_draft(t, "a1\na2\na3\na4\na5\na6\na7\na8\na9");
	d = draw(&view_text_pane, t, &ui, &g);
	expect_has(d, "a9", "a tall draft shows the cursor's line");
	expect_lacks(d, "a1", "a tall draft scrolls its first lines away");
	free(d);
	/* A paste with control characters is drawn safely. */
	view_text_set_draft(t, "");
	view_text_pane.key(t, &ui, UI_KEY_PASTE_BEGIN);
	view_text_pane.key(t, &ui, 'o');
	view_text_pane.key(t, &ui, 27);
	view_text_pane.key(t, &ui, 'k');
	flags = view_text_pane.key(t, &ui, UI_KEY_ENTER);
	view_text_pane.key(t, &ui, UI_KEY_PASTE_END);
	tap_ok(!(flags & UI_GENERATE) && ui.request == NULL, "Enter in a paste does not generate");
	d = draw(&view_text_pane, t, &ui, &g);
	expect_has(d, "> ok", "the pasted text, Esc dropped");
	free(d);
	flags = view_text_pane.key(t, &ui, UI_CTRL('g'));
	tap_ok((flags & UI_EDITOR) && ui.request != NULL && strcmp(ui.request, "ok\n") == 0,
	    "Ctrl-G asks for $EDITOR with the draft");
	free(ui.request);
	ui.request = NULL;

	/* Prompt "ab", then tokens C3 A9 (one character, é) and an erase of A9. */
	ui.have_run = 1;
	ui.log.prompt = "ab";
	ui.log.serial = 1;
	add(&ui.log, GENERATE_EVENT_APPEND, 0xc3);
	add(&ui.log, GENERATE_EVENT_APPEND, 0xa9);
	add(&ui.log, GENERATE_EVENT_ERASE, 0xa9);
	add(&ui.log, GENERATE_EVENT_APPEND, 'x');
	view_text_pane.key(t, &ui, 27); /* to playback */
	tap_ok(!view_text_editing(t), "Esc: playback keys");
	view_text_pane.tick(t, &ui, &(double){ -1 }); /* follows the new log: shown 0 */
	view_text_pane.key(t, &ui, UI_KEY_HOME);
	view_text_pane.key(t, &ui, '.');
	d = draw(&view_text_pane, t, &ui, &g);
	expect_has(d, "ab", "half a character: the prompt");
	expect_lacks(d, "\xef\xbf\xbd", "half a character is not drawn (no U+FFFD)");
	free(d);
	view_text_pane.key(t, &ui, '.');
	d = draw(&view_text_pane, t, &ui, &g);
	expect_has(d, "ab\xc3\xa9", "both halves: the character");
	free(d);
	view_text_pane.key(t, &ui, '.'); /* paused on the erase: flagged */
	d = draw(&view_text_pane, t, &ui, &g);
	expect_has(d, "ab\xc3\xa9", "paused on the erase: the character is still shown");
	tap_ok(style_of(&g, "\xc3\xa9") == THEME_SLOT_ERASED,
	    "... in the erased style (its second half is the erased token)");
	free(d);
	view_text_pane.key(t, &ui, ' '); /* resume: the flag ends */
	d = draw(&view_text_pane, t, &ui, &g);
	expect_lacks(d, "\xc3\xa9", "after the erase the clean view drops the character");
	expect_lacks(d, "\xef\xbf\xbd", "... without leaving a replacement character");
	free(d);
	view_text_pane.key(t, &ui, 'v'); /* trail */
	d = draw(&view_text_pane, t, &ui, &g);
	expect_has(d, "ab\xc3\xa9", "the trail view keeps the erased character");
	tap_ok(style_of(&g, "\xc3\xa9") == THEME_SLOT_GHOST, "... as a ghost");
	free(d);
	view_text_pane.key(t, &ui, 'v'); /* timeline */
	d = draw(&view_text_pane, t, &ui, &g);
	expect_has(d, "slot 1: '\xef\xbf\xbd' x", "the timeline (branch view) lists the erase");
	expect_has(d, "ab_", "... with the kept text around it (half a character waits)");
	free(d);
	/* A click on the position's row (below the summary row) selects its last attempt. */
	flags = view_text_pane.click(t, &ui, grid_rect_make(0, 0, 40, 12), 3, 2, 1);
	tap_ok((flags & UI_REDRAW) && ui.log.inspect == 1, "a click on a timeline row selects "
	    "the position's last attempt (inspect %ld)", ui.log.inspect);
	ui.log.inspect = -1;
	view_text_pane.key(t, &ui, 'v'); /* clean */
	view_text_pane.key(t, &ui, UI_KEY_END);
	d = draw(&view_text_pane, t, &ui, &g);
	expect_has(d, "ab\xef\xbf\xbdx", "a half character followed by another: one U+FFFD");
	free(d);

	/* A click on the 'x' (row 1, column 1 + 3) selects its event for the inspector. */
	flags = view_text_pane.click(t, &ui, grid_rect_make(0, 0, 40, 12), 4, 1, 1);
	tap_ok((flags & UI_REDRAW) && ui.log.inspect == 3, "a click on a token selects its event "
	    "(inspect %ld)", ui.log.inspect);
	ui.log.shown = ui.log.n;
	d = draw(&view_inspector_pane, &ui, &ui, &g);
	expect_has(d, "Inspector - selected 4/4", "the inspector shows the clicked event");
	free(d);
	view_text_pane.click(t, &ui, grid_rect_make(0, 0, 40, 12), 2, 1, 1); /* the prompt */
	tap_ok(ui.log.inspect == 3, "a click on the prompt selects nothing");
	view_text_pane.key(t, &ui, 27);
	tap_ok(ui.log.inspect == -1 && !view_text_editing(t),
	    "Esc returns the inspector to the playback first");
	ui.log.inspect = 1;
	view_text_pane.key(t, &ui, ',');
	tap_ok(ui.log.inspect == -1, "a playback key returns it too");
	tap_ok(view_text_pane.click(t, &ui, grid_rect_make(0, 0, 40, 12), 4, 4, 4) & UI_REDRAW,
	    "the wheel scrolls");

	/*
	 * The second half retyped after its erase (C3 A9, erase, A9): the trail
	 * view shows the live character whole, the erased half after it as a ghost.
	 */
	ui.log.n = 0;
	ui.log.serial++;
	add(&ui.log, GENERATE_EVENT_APPEND, 0xc3);
	add(&ui.log, GENERATE_EVENT_APPEND, 0xa9);
	add(&ui.log, GENERATE_EVENT_ERASE, 0xa9);
	add(&ui.log, GENERATE_EVENT_APPEND, 0xa9);
	view_text_pane.tick(t, &ui, &(double){ -1 });
	view_text_pane.key(t, &ui, UI_KEY_END);
	while (view_text_pane.key(t, &ui, 'v'), view_text_describe(t, name, sizeof name),
	    strncmp(name, "trail", 5) != 0)
		continue;
	d = draw(&view_text_pane, t, &ui, &g);
	expect_has(d, "ab\xc3\xa9\xef\xbf\xbd", "retyped half: the live character, then the "
	    "erased half as a ghost");
	tap_ok(style_of(&g, "\xc3\xa9") == THEME_SLOT_GENERATED &&
	    style_of(&g, "\xef\xbf\xbd\xcc\xb6") == THEME_SLOT_GHOST,
	    "... live, then ghost (struck through)");
	free(d);
	while (view_text_pane.key(t, &ui, 'v'), view_text_describe(t, name, sizeof name),
	    strncmp(name, "clean", 5) != 0)
		continue;

	/* The UI-state functions. */
	view_text_set_state(t, 2, 35);
	view_text_get_state(t, &view, &speed);
	tap_ok(view == 2 && speed == 40, "state: view 2, speed 35 -> the nearest, 40 (%d %d)",
	    view, speed);
	view_text_set_state(t, 7, -1);
	view_text_get_state(t, &view, &speed);
	tap_ok(view == 2 && speed == 40, "state: a bad view and speed change nothing");
	view_text_pane.free(t);

	/* Compare mode, model B: never edits, plays back, shows A's prompt. */
	ui.side = 1;
	t = view_text_pane.init(&ui);
	tap_ok(!view_text_editing(t), "side 1: not editing");
	tap_ok(view_text_pane.key(t, &ui, 'i') == UI_PASS &&
	    view_text_pane.key(t, &ui, UI_KEY_ENTER) == UI_PASS &&
	    view_text_pane.key(t, &ui, 'x') == UI_PASS &&
	    view_text_pane.key(t, &ui, UI_KEY_PASTE_BEGIN) == UI_PASS && !view_text_editing(t),
	    "side 1: i, Enter, letters and pastes pass");
	tap_ok(view_text_pane.key(t, &ui, '.') & UI_REDRAW, "side 1: playback keys work");
	d = draw(&view_text_pane, t, &ui, &g);
	expect_has(d, "> ab", "side 1: the prompt, read only");
	free(d);
	view_text_pane.free(t);
	ui.side = 0;

	/* A submitted prompt is saved in the history file ($XDG_STATE_HOME). */
	ui.have_run = 0;
	t = view_text_pane.init(&ui);
	view_text_set_draft(t, "saved\nprompt");
	flags = view_text_pane.key(t, &ui, UI_KEY_ENTER);
	tap_ok((flags & UI_GENERATE) && ui.request != NULL && strcmp(ui.request, "saved\nprompt")
	    == 0, "Enter generates the multi-line draft");
	free(ui.request);
	ui.request = NULL;
	view_text_pane.free(t);
	t = view_text_pane.init(&ui);
	view_text_pane.key(t, &ui, UI_KEY_UP);
	d = draw(&view_text_pane, t, &ui, &g);
	expect_has(d, ": prompt", "the next start loads it (Up recalls it)");
	free(d);
	view_text_pane.free(t);
	grid_release(&g);
	tokenizer_free(tok);
}

/* Run the tests in a private temp directory. */
/* The one-line value field of the decoding and fine-tune panes. */
static void
test_field(void)
{
	char buf[6] = "";
	int r = 0;

	for (const char *k = "0.5 e-3xyz"; *k != '\0'; k++)
		r |= editor_field_key(buf, sizeof buf, (unsigned char)*k);
	tap_ok(r == 0 && strcmp(buf, "0.5e-") == 0, "field: typed text without the space, "
	    "cut at its size (\"%s\")", buf);
	editor_field_key(buf, sizeof buf, UI_KEY_BACKSPACE);
	tap_ok(strcmp(buf, "0.5e") == 0, "field: Backspace deletes one (\"%s\")", buf);
	editor_field_key(buf, sizeof buf, UI_CTRL('u'));
	tap_ok(buf[0] == '\0', "field: ^U clears it");
	editor_field_key(buf, sizeof buf, '7');
	tap_ok(editor_field_key(buf, sizeof buf, UI_KEY_ENTER) == 1 &&
	    editor_field_key(buf, sizeof buf, UI_KEY_ESC) == -1 && strcmp(buf, "7") == 0,
	    "field: Enter takes it (1), Esc drops it (-1), neither changes it");
}

int
main(void)
{
	char dir[] = "/tmp/test-editor.XXXXXX", cmd[64];

	if (mkdtemp(dir) == NULL)
		return 99;
	test_editing();
	test_field();
	test_history();
	test_paste();
	test_history_file(dir);
	test_external(dir);
	test_pane(dir);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	return tap_done();
}
