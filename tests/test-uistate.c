/*
 * test-uistate.c: the UI state file (app/uistate.c): a round trip through
 * text and through a file, a missing file, bad files rejected whole with
 * FILE:LINE:COL and nothing half-applied, atomic saves that leave the old file
 * when they fail, a bad file kept as .bad on the next save, and the XDG path.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "layout.h"
#include "tap.h"
#include "uistate.h"

static char test_dir[] = "/tmp/test-uistate.XXXXXX";

/* Whether two states are the same. */
static int
test_same(const struct uistate *a, const struct uistate *b)
{
	return strcmp(a->theme, b->theme) == 0 && a->panes == b->panes && a->zoom == b->zoom &&
	    a->focus == b->focus && a->view == b->view && a->speed == b->speed;
}

/* A state unlike the defaults in every field. */
static void
test_sample(struct uistate *st)
{
	uistate_init(st);
	snprintf(st->theme, sizeof st->theme, "gruvbox-dark");
	st->panes = LAYOUT_BIT(LAYOUT_TEXT) | LAYOUT_BIT(LAYOUT_DECODE) | LAYOUT_BIT(LAYOUT_STATS);
	st->zoom = LAYOUT_STATS;
	st->focus = LAYOUT_DECODE;
	st->view = 2;
	st->speed = 7;
}

/* Write a file (len bytes of text). */
static void
test_write(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		exit(99);
	}
}

/* A whole file (malloc'd), or NULL. */
static char *
test_slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL)
		return NULL;
	buf = xmalloc(1 << 17);
	n = fread(buf, 1, (1 << 17) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* How many entries dir has whose names start with prefix. */
static int
test_count(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

/* text must fail with exactly want, leaving the state alone. */
static void
test_bad(const char *what, const char *text, const char *want)
{
	struct uistate st, before;
	char *cause = NULL;
	int rc;

	test_sample(&st);
	before = st;
	rc = uistate_parse(&st, text, strlen(text), "ui.yaml", &cause);
	if (!tap_ok(rc == -1 && cause != NULL && strcmp(cause, want) == 0 &&
	    test_same(&st, &before), "bad file, %s", what)) {
		tap_diag("rc %d", rc);
		tap_diag("got:  %s", cause != NULL ? cause : "(no message)");
		tap_diag("want: %s", want);
	}
	free(cause);
}

/* text must fail with a message starting with want. */
static void
test_bad_prefix(const char *what, const char *text, size_t len, const char *want)
{
	struct uistate st, before;
	char *cause = NULL;
	int rc;

	test_sample(&st);
	before = st;
	rc = uistate_parse(&st, text, len, "ui.yaml", &cause);
	if (!tap_ok(rc == -1 && cause != NULL && strncmp(cause, want, strlen(want)) == 0 &&
	    test_same(&st, &before), "bad file, %s", what)) {
		tap_diag("got:  %s", cause != NULL ? cause : "(no message)");
		tap_diag("want: %s...", want);
	}
	free(cause);
}

/* Defaults, and a round trip through text. */
static void
test_round_trip(void)
{
	struct uistate a, b;
	char *text, *cause = NULL;
	int rc;

	uistate_init(&a);
	tap_ok(a.theme[0] == '\0' && a.panes == LAYOUT_ALL && a.zoom == LAYOUT_NONE &&
	    a.focus == LAYOUT_TEXT && a.view == -1 && a.speed == -1,
	    "defaults: no theme, every pane, no zoom, text focused, no view or speed");

	test_sample(&a);
	text = uistate_format(&a);
	uistate_init(&b);
	rc = uistate_parse(&b, text, strlen(text), "ui.yaml", &cause);
	if (!tap_ok(rc == 0 && test_same(&a, &b), "round trip through text"))
		tap_diag("%s / %s", text, cause != NULL ? cause : "");
	tap_ok(strstr(text, "panes: [text, decode, stats]\n") != NULL &&
	    strstr(text, "zoom: stats\n") != NULL && strstr(text, "focus: decode\n") != NULL &&
	    strstr(text, "theme: \"gruvbox-dark\"\n") != NULL && strstr(text, "version: 1\n"),
	    "the text names the panes, zoom, focus and theme");
	free(text);

	/* A path with quotes and backslashes survives. */
	snprintf(a.theme, sizeof a.theme, "/home/u/my \"odd\" \\theme: x.yaml");
	a.view = -1;
	text = uistate_format(&a);
	uistate_init(&b);
	rc = uistate_parse(&b, text, strlen(text), "ui.yaml", &cause);
	tap_ok(rc == 0 && test_same(&a, &b) && strstr(text, "view:") == NULL,
	    "round trip: a theme path with quotes, backslashes and ': '; an unset view");
	free(text);
	free(cause);

	/* Nothing but comments, or nothing: the defaults. */
	uistate_init(&b);
	rc = uistate_parse(&b, "", 0, "ui.yaml", &cause);
	uistate_init(&a);
	tap_ok(rc == 0 && test_same(&a, &b), "an empty file means the defaults");
	rc = uistate_parse(&b, "# nothing\n", 10, "ui.yaml", &cause);
	tap_ok(rc == 0 && test_same(&a, &b), "a file of comments means the defaults");

	/* A zoomed or focused pane that is off falls back. */
	text = "panes: [decode]\nzoom: stats\nfocus: finetune\n";
	rc = uistate_parse(&b, text, strlen(text), "ui.yaml", &cause);
	tap_ok(rc == 0 && b.panes == (LAYOUT_BIT(LAYOUT_TEXT) | LAYOUT_BIT(LAYOUT_DECODE)) &&
	    b.zoom == LAYOUT_NONE && b.focus == LAYOUT_TEXT,
	    "the text pane is always on; zoom and focus on a pane that is off fall back");
	free(cause);
}

/* Every kind of bad file. */
static void
test_bad_files(void)
{
	char big[UISTATE_MAX_FILE_SIZE + 16];

	test_bad_prefix("not YAML (an unclosed list)", "theme: light\npanes: [text, decode\n",
	    strlen("theme: light\npanes: [text, decode\n"),
	    "ui.yaml:3:1: YAML syntax error: ");
	test_bad_prefix("not YAML (a tab indent)", "panes:\n\t- text\n", strlen("panes:\n\t- text\n"),
	    "ui.yaml:2:1: YAML syntax error: ");
	test_bad("not a mapping", "just some words\n",
	    "ui.yaml:1:1: expected 'key: value' lines, got a single value");
	test_bad("a list at the top", "- text\n",
	    "ui.yaml:1:1: expected 'key: value' lines, got a list");
	test_bad("unknown key, with a suggestion", "version: 1\nthme: light\n",
	    "ui.yaml:2:1: unknown key 'thme' (did you mean 'theme'?); the keys are version, "
	    "theme, panes, zoom, focus, view, speed");
	test_bad("unknown key, no suggestion", "colours: 256\n",
	    "ui.yaml:1:1: unknown key 'colours'; the keys are version, theme, panes, zoom, "
	    "focus, view, speed");
	test_bad("panes is not a list", "panes: text\n",
	    "ui.yaml:1:8: panes: expected a list of pane names such as [text, decode], got a "
	    "single value");
	test_bad("unknown pane", "panes: [text, decod]\n",
	    "ui.yaml:1:15: panes: unknown pane 'decod' (did you mean 'decode'?); the panes are "
	    "text, decode, inspect, stats, finetune");
	test_bad("a list inside panes", "panes:\n  - text\n  - [stats]\n",
	    "ui.yaml:3:5: panes: expected a pane name, got a list");
	test_bad("view is not a view's name", "view: trial\n",
	    "ui.yaml:1:7: view: expected clean, trail or timeline, got 'trial' (did you mean "
	    "'trail'?)");
	test_bad("speed is negative", "speed: -3\n",
	    "ui.yaml:1:8: speed: expected a whole number from 0 to 1000000, got '-3'");
	test_bad("speed is a list", "speed: [1]\n",
	    "ui.yaml:1:8: speed: expected a single value, got a list");
	test_bad("theme is a mapping", "theme: {name: x}\n",
	    "ui.yaml:1:8: theme: expected a single value, got a mapping");
	test_bad("zoom names no pane", "zoom: all\n",
	    "ui.yaml:1:7: zoom: unknown pane 'all'; the panes are text, decode, inspect, stats, "
	    "finetune (or none)");
	test_bad("focus is empty", "focus:\n",
	    "ui.yaml:1:7: focus: expected a pane name (text, decode, inspect, stats, finetune), "
	    "got nothing");
	test_bad("focus: none", "focus: none\n",
	    "ui.yaml:1:8: focus: unknown pane 'none'; the panes are text, decode, inspect, stats, "
	    "finetune");
	test_bad("a newer version", "version: 2\ntheme: light\n",
	    "ui.yaml:1:10: version 2 was written by a newer seqmatch (this one reads version 1)");
	test_bad("a bad version", "version: one\n",
	    "ui.yaml:1:10: version: expected 1, got 'one'");
	test_bad("a key twice", "theme: light\ntheme: default\n",
	    "ui.yaml:2:1: 'theme' is given twice");
	test_bad("an alias", "theme: &t light\nfocus: *t\n",
	    "ui.yaml:2:8: aliases (*t) are not allowed in the UI state file");
	test_bad("two documents", "theme: light\n---\ntheme: default\n",
	    "ui.yaml:2:1: the UI state file holds one YAML document; this is a second one");
	test_bad("a key that is a list", "[a]: b\n",
	    "ui.yaml:1:1: expected a key (a name), got a list");
	test_bad("a control character in the theme", "theme: \"a\\tb\"\n",
	    "ui.yaml:1:8: theme: control characters are not allowed in a theme name");
	test_bad_prefix("NUL bytes", "theme: a\0b\n", 11, "ui.yaml:1:1: not a text file");
	memset(big, '#', sizeof big);
	test_bad_prefix("too big", big, sizeof big, "ui.yaml:1:1: 65552 bytes is too big");
}

/* Files: missing, saved, loaded, kept as .bad, atomic on failure. */
static void
test_files(void)
{
	struct uistate a, b;
	char path[512], bad[600], dir[512], *cause = NULL, *note = NULL, *text;
	int rc;

	/* Missing: 1, untouched. */
	snprintf(path, sizeof path, "%s/none/ui.yaml", test_dir);
	test_sample(&a);
	b = a;
	rc = uistate_load(&a, path, &cause);
	tap_ok(rc == 1 && cause == NULL && test_same(&a, &b), "a missing file: 1, no message, "
	    "state untouched");

	/* Save creates the directories; load gives it back. */
	snprintf(path, sizeof path, "%s/state/seqmatch/ui.yaml", test_dir);
	test_sample(&a);
	rc = uistate_save(&a, path, &note, &cause);
	uistate_init(&b);
	tap_ok(rc == 0 && note == NULL && uistate_load(&b, path, &cause) == 0 && test_same(&a, &b),
	    "save creates the directories; load reads the same state back");
	snprintf(dir, sizeof dir, "%s/state/seqmatch", test_dir);
	tap_ok(test_count(dir, "ui.yaml.") == 0, "no temporary file is left after a save");

	/* A bad file on disk: load refuses it; the next save keeps it as .bad. */
	test_write(path, "theme: \"oops\n", 13);
	uistate_init(&b);
	rc = uistate_load(&b, path, &cause);
	if (!tap_ok(rc == -1 && cause != NULL && strncmp(cause, path, strlen(path)) == 0 &&
	    strstr(cause, ":2:1: YAML syntax error") != NULL,
	    "load of a bad file: -1 with path:line:col"))
		tap_diag("got %d: %s", rc, cause != NULL ? cause : "(none)");
	rc = uistate_save(&a, path, &note, &cause);
	snprintf(bad, sizeof bad, "%s.bad", path);
	text = test_slurp(bad);
	tap_ok(rc == 0 && text != NULL && strcmp(text, "theme: \"oops\n") == 0,
	    "the next save keeps the bad file as ui.yaml.bad, byte for byte");
	tap_ok(note != NULL && strstr(note, "ui.yaml.bad") != NULL &&
	    strstr(note, "YAML syntax error") != NULL, "and says so, with the reason");
	free(text);
	free(note);
	note = NULL;
	uistate_init(&b);
	tap_ok(uistate_load(&b, path, &cause) == 0 && test_same(&a, &b),
	    "the new file holds the new state");
	unlink(bad);
	a.speed = 1;
	rc = uistate_save(&a, path, &note, &cause);
	tap_ok(rc == 0 && note == NULL && access(bad, F_OK) != 0,
	    "a good file is replaced without a .bad copy");

	/* A save that cannot write leaves the old file (a read-only directory). */
	text = test_slurp(path);
	if (geteuid() != 0) {
		chmod(dir, 0500);
		a.speed = 9;
		rc = uistate_save(&a, path, &note, &cause);
		chmod(dir, 0700);
		tap_ok(rc == -1 && cause != NULL && strstr(cause, "Permission denied") != NULL,
		    "a save into a read-only directory fails with the reason");
		b.speed = -5;
		tap_ok(uistate_load(&b, path, NULL) == 0 && b.speed == 1,
		    "and the old file is intact");
	} else {
		printf("ok %d - # SKIP root ignores a read-only directory\n", ++tap_count);
		printf("ok %d - # SKIP root ignores a read-only directory\n", ++tap_count);
	}
	free(text);

	/* Another failing write (root too): the temporary name is too long. */
	{
		char longp[600], name[256];

		memset(name, 'u', 250);
		name[250] = '\0';
		snprintf(longp, sizeof longp, "%s/%s", test_dir, name);
		test_write(longp, "speed: 4\n", 9);
		a.speed = 8;
		rc = uistate_save(&a, longp, &note, &cause);
		uistate_init(&b);
		tap_ok(rc == -1 && cause != NULL && uistate_load(&b, longp, NULL) == 0 &&
		    b.speed == 4 && test_count(test_dir, "uuuu") == 1,
		    "a save whose temporary file cannot be made leaves the old file alone");
		unlink(longp);
	}
	free(cause);
}

/* The path from the environment. */
static void
test_path(void)
{
	char *p;

	p = uistate_path("/x/state", "/home/u");
	tap_ok(p != NULL && strcmp(p, "/x/state/seqmatch/ui.yaml") == 0,
	    "XDG_STATE_HOME wins: %s", p);
	free(p);
	p = uistate_path(NULL, "/home/u");
	tap_ok(p != NULL && strcmp(p, "/home/u/.local/state/seqmatch/ui.yaml") == 0,
	    "no XDG_STATE_HOME: ~/.local/state: %s", p);
	free(p);
	p = uistate_path("", "/home/u");
	tap_ok(p != NULL && strcmp(p, "/home/u/.local/state/seqmatch/ui.yaml") == 0,
	    "an empty XDG_STATE_HOME is unset");
	free(p);
	p = uistate_path("rel/state", "/home/u");
	tap_ok(p != NULL && strcmp(p, "/home/u/.local/state/seqmatch/ui.yaml") == 0,
	    "a relative XDG_STATE_HOME is ignored (the XDG spec)");
	free(p);
	p = uistate_path(NULL, NULL);
	tap_ok(p == NULL, "neither: no state file");
	p = uistate_path(NULL, "");
	tap_ok(p == NULL, "an empty HOME: no state file");
}

/* xorshift64*: a deterministic stream for the fuzz loop (a failure replays). */
static uint64_t
test_rand(uint64_t *st)
{
	*st ^= *st >> 12;
	*st ^= *st << 25;
	*st ^= *st >> 27;
	return *st * 0x2545f4914f6cdd1du;
}

/* Whether msg is "ui.yaml:LINE:COL: something" with LINE, COL >= 1. */
static int
test_has_position(const char *msg)
{
	unsigned line, col;
	int end = 0;

	return msg != NULL && sscanf(msg, "ui.yaml:%u:%u: %n", &line, &col, &end) == 2 &&
	    end > 0 && line >= 1 && col >= 1 && msg[end] != '\0';
}

/*
 * Random files from pieces of good and bad ones: every parse either succeeds
 * with a state that is sane and survives a format and parse, or fails with a
 * position and leaves the state alone.
 */
static void
test_fuzz(void)
{
	static const char *const pieces[] = { "version: 1\n", "theme: light\n", "theme: ",
		"panes: [text, decode]\n", "panes:\n  - stats\n", "zoom: none\n", "zoom: ",
		"focus: decode\n", "view: 2\n", "speed: ", "99999999999", "-1", "[", "]", "{",
		"}", ": ", "- ", "\n", "  ", "\t", "'", "\"", "#", "&a ", "*a", "---\n", "...\n",
		"~", "null", "\xff", "\xe2\x82\xac", "!!str ", "? ", "|\n  x\n", "text",
		"finetune", "inspect", ",", "version: 2\n", "<<: *a\n" };
	uint64_t seed = 0x9e3779b97f4a7c15u;
	int bad = 0, ok = 0, failed_runs = 0;

	for (int run = 0; run < 4000; run++) {
		char buf[512], *cause = NULL, *text;
		size_t len = 0;
		int n = 1 + (int)(test_rand(&seed) % 8), rc;
		struct uistate st, before, again;

		buf[0] = '\0';
		for (int i = 0; i < n; i++) {
			const char *p = pieces[test_rand(&seed) % (sizeof pieces / sizeof pieces[0])];

			if (len + strlen(p) + 1 >= sizeof buf)
				break;
			memcpy(buf + len, p, strlen(p) + 1);
			len += strlen(p);
		}
		test_sample(&st);
		before = st;
		rc = uistate_parse(&st, buf, len, "ui.yaml", &cause);
		if (rc == 0) {
			ok++;
			text = uistate_format(&st);
			uistate_init(&again);
			if (cause != NULL || !(st.panes & LAYOUT_BIT(LAYOUT_TEXT)) ||
			    (st.panes & ~LAYOUT_ALL) != 0 || (st.zoom != LAYOUT_NONE &&
			    !(st.panes & LAYOUT_BIT(st.zoom))) || !(st.panes & LAYOUT_BIT(st.focus)) ||
			    st.view < -1 || st.speed < -1 ||
			    uistate_parse(&again, text, strlen(text), "ui.yaml", NULL) != 0 ||
			    !test_same(&st, &again)) {
				if (failed_runs++ < 3)
					tap_diag("run %d: a bad success on '%s'", run, buf);
			}
			free(text);
		} else {
			bad++;
			if (rc != -1 || !test_has_position(cause) || !test_same(&st, &before)) {
				if (failed_runs++ < 3)
					tap_diag("run %d: '%s' -> %d %s", run, buf, rc,
					    cause != NULL ? cause : "(no message)");
			}
		}
		free(cause);
	}
	tap_ok(failed_runs == 0 && ok > 100 && bad > 100, "4000 random files: every one parsed "
	    "to a sane state that round-trips, or refused with a position and nothing "
	    "changed (%d parsed, %d refused)", ok, bad);
}

/* Run everything in a fresh temporary directory. */
int
main(void)
{
	char cmd[600];

	if (mkdtemp(test_dir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	test_round_trip();
	test_bad_files();
	test_files();
	test_path();
	test_fuzz();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", test_dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", test_dir);
	return tap_done();
}
