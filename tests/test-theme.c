/*
 * test-theme.c: the theme loader, colour degrading and depth detection (TAP).
 * Every shipped theme in $SRCDIR/themes must load; bad files must fail with
 * exactly the expected "file:line:col: message" lines, in order, and leave the
 * previous theme alone.
 */
#include "config.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "theme.h"

static char test_theme_dir[256]; /* a temporary directory for extends tests */

/* Load text as "t.yaml"; returns the messages (free them), or NULL if it loaded. */
static char *
test_theme_errors(const char *text, size_t len, struct theme *t)
{
	struct theme tmp;
	char *cause = NULL;

	if (t == NULL)
		t = &tmp;
	if (theme_load_buffer(t, text, len, "t.yaml", NULL, &cause) == 0)
		return NULL;
	return cause != NULL ? cause : strdup("(no message)");
}

/* Check that text fails to load with exactly the messages want. */
static void
test_theme_expect(const char *what, const char *text, const char *want)
{
	char *got = test_theme_errors(text, strlen(text), NULL);

	if (!tap_ok(got != NULL && strcmp(got, want) == 0, "%s", what)) {
		tap_diag("want: %s", want);
		tap_diag("got:  %s", got != NULL ? got : "(loaded)");
	}
	free(got);
}

/* Check that the messages of text contain want. */
static void
test_theme_expect_sub(const char *what, const char *text, size_t len, const char *want)
{
	char *got = test_theme_errors(text, len, NULL);

	if (!tap_ok(got != NULL && strstr(got, want) != NULL, "%s", what)) {
		tap_diag("want substring: %s", want);
		tap_diag("got: %s", got != NULL ? got : "(loaded)");
	}
	free(got);
}

/* Write a file in the temporary directory; returns its path in a static buffer. */
static const char *
test_theme_write(const char *name, const char *text)
{
	static char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", test_theme_dir, name);
	f = fopen(path, "w");
	if (f == NULL) {
		tap_diag("cannot write %s", path);
		return path;
	}
	fputs(text, f);
	fclose(f);
	return path;
}

/* Every theme in $SRCDIR/themes loads, and the required ones are there. */
static void
test_theme_shipped(void)
{
	static const char *const required[] = {
		"default", "light", "high-contrast", "monochrome", "gruvbox-dark"
	};
	const char *srcdir = getenv("SRCDIR");
	char dir[PATH_MAX], path[PATH_MAX + 300], lint[256];
	const char *search[2];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(dir, sizeof dir, "%s/themes", srcdir != NULL ? srcdir : ".");
	search[0] = dir;
	search[1] = NULL;
	d = opendir(dir);
	if (!tap_ok(d != NULL, "the themes directory %s exists", dir))
		return;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		struct theme t;
		char *cause = NULL;

		if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (!tap_ok(theme_load_file(&t, path, search, &cause) == 0, "shipped theme %s loads",
		    e->d_name))
			tap_diag("%s", cause != NULL ? cause : "?");
		else if (!tap_ok(theme_lint(&t, lint, sizeof lint) == 0, "shipped theme %s has no "
		    "holes (theme_lint)", e->d_name))
			tap_diag("%s", lint);
		free(cause);
		n++;
	}
	closedir(d);
	tap_ok(n >= 5, "at least 5 shipped themes (%d)", n);
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
		struct theme t;
		char *cause = NULL;
		int rc = theme_load(&t, required[i], search, &cause);

		tap_ok(rc == 0 && strcmp(t.name, required[i]) == 0, "theme '%s' found by name",
		    required[i]);
		free(cause);
		if (rc != 0)
			continue;
		if (strcmp(required[i], "gruvbox-dark") == 0) {
			/* Only the palette changed: the default theme's slots follow it. */
			tap_ok(t.slots[THEME_SLOT_TEXT].fg.kind == THEME_COLOUR_RGB &&
			    t.slots[THEME_SLOT_TEXT].fg.value == 0xebdbb2,
			    "gruvbox-dark: text is gruvbox fg1 through the default theme");
			tap_ok(t.slots[THEME_SLOT_PROMPT].attrs == THEME_ATTR_BOLD,
			    "gruvbox-dark: prompt keeps the default theme's bold");
		}
		if (strcmp(required[i], "high-contrast") == 0)
			/* "background: black" is the screen's colour, not a foreground. */
			tap_ok(t.slots[THEME_SLOT_BACKGROUND].bg.kind == THEME_COLOUR_RGB &&
			    t.slots[THEME_SLOT_BACKGROUND].bg.value == 0x000000 &&
			    t.slots[THEME_SLOT_TEXT].bg.kind == THEME_COLOUR_RGB,
			    "high-contrast: the screen background is black like the panes");
		if (strcmp(required[i], "monochrome") == 0) {
			int plain = 1;

			for (int s = 0; s < THEME_NSLOTS; s++)
				plain &= t.slots[s].fg.kind == THEME_COLOUR_DEFAULT &&
				    t.slots[s].bg.kind == THEME_COLOUR_DEFAULT;
			tap_ok(plain, "monochrome: no colours, attributes only");
			tap_ok(t.slots[THEME_SLOT_CURSOR].attrs & THEME_ATTR_REVERSE,
			    "monochrome: the cursor is reverse video");
		}
	}
}

/* The slot table: names unique, findable, fallback sane. */
static void
test_theme_slots(void)
{
	struct theme t;
	int ok = 1;

	for (int i = 0; i < THEME_NSLOTS; i++) {
		ok &= theme_slot_find(theme_slot_name((enum theme_slot)i)) == i;
		ok &= theme_slot_help((enum theme_slot)i) != NULL;
	}
	tap_ok(ok, "every slot name maps back to its slot (%d slots)", THEME_NSLOTS);
	tap_ok(theme_slot_find("nope") == -1 && theme_slot_name(THEME_NSLOTS) == NULL,
	    "unknown slots are refused");
	theme_init_default(&t);
	tap_ok(strcmp(t.name, "builtin") == 0 &&
	    t.slots[THEME_SLOT_CURSOR].attrs == THEME_ATTR_REVERSE &&
	    t.slots[THEME_SLOT_BACKGROUND].bg.kind == THEME_COLOUR_DEFAULT,
	    "the built-in theme");
	tap_ok(strcmp(theme_slot_name(THEME_SLOT_BORDER_FOCUS), "border_focus") == 0 &&
	    strcmp(theme_slot_name(THEME_SLOT_BKSP_MARKER), "bksp_marker") == 0,
	    "slot keys come from the X-macro");
}

/* Colour parsing and formatting. */
static void
test_theme_colours(void)
{
	struct theme_colour c;
	char *cause = NULL;
	char buf[32];

	tap_ok(theme_colour_parse("#abc", &c, NULL) == 0 && c.kind == THEME_COLOUR_RGB &&
	    c.value == 0xaabbcc, "#rgb");
	tap_ok(theme_colour_parse("#5F87aF", &c, NULL) == 0 && c.value == 0x5f87af, "#rrggbb");
	tap_ok(theme_colour_parse("208", &c, NULL) == 0 && c.kind == THEME_COLOUR_INDEX &&
	    c.value == 208, "0-255");
	tap_ok(theme_colour_parse("Bright-Red", &c, NULL) == 0 && c.value == 9, "names");
	tap_ok(theme_colour_parse("grey", &c, NULL) == 0 && c.value == 8 &&
	    theme_colour_parse("gray", &c, NULL) == 0 && c.value == 8, "grey and gray");
	tap_ok(theme_colour_parse("default", &c, NULL) == 0 && c.kind == THEME_COLOUR_DEFAULT,
	    "default");
	tap_ok(theme_colour_parse("256", &c, &cause) < 0 && cause != NULL &&
	    strstr(cause, "out of range") != NULL, "256 is out of range");
	free(cause);
	tap_ok(theme_colour_parse("magneta", &c, &cause) < 0 && cause != NULL &&
	    strcmp(cause, "unknown colour 'magneta' (did you mean 'magenta'?)") == 0,
	    "a misspelt name gets a suggestion");
	free(cause);
	c.kind = THEME_COLOUR_RGB;
	c.value = 0xff8700;
	theme_colour_format(c, buf, sizeof buf);
	tap_ok(strcmp(buf, "#ff8700") == 0, "format RGB");
	c.kind = THEME_COLOUR_INDEX;
	c.value = 12;
	theme_colour_format(c, buf, sizeof buf);
	tap_ok(strcmp(buf, "bright-blue") == 0, "format a name");
	theme_attrs_format(THEME_ATTR_BOLD | THEME_ATTR_ITALIC, buf, sizeof buf);
	tap_ok(strcmp(buf, "bold,italic") == 0, "format attributes");
}

/* A theme file exercising every form of slot value. */
static void
test_theme_forms(void)
{
	static const char text[] =
	    "name: forms\n"
	    "palette:\n"
	    "  accent: '#5fafd7'\n"
	    "  alias-of-accent: accent\n"
	    "  red: '#cc241d'\n"          /* shadows the built-in red */
	    "  blue: blue\n"              /* refers to its own name: the built-in */
	    "slots:\n"
	    "  text: accent\n"
	    "  dim: 244 on default\n"
	    "  prompt: { fg: alias-of-accent, attrs: [bold, underline] }\n"
	    "  title: { attrs: bold italic }\n"
	    "  error: red\n"
	    "  plot: blue\n"
	    "  status: \"on #123\"\n"
	    "  hint: { fg: bright-black, attrs: [] }\n";
	struct theme t;
	char *got = test_theme_errors(text, strlen(text), &t);

	if (!tap_ok(got == NULL, "every slot form loads"))
		tap_diag("%s", got);
	free(got);
	if (got != NULL)
		return;
	tap_ok(strcmp(t.name, "forms") == 0, "name");
	tap_ok(t.slots[THEME_SLOT_TEXT].fg.value == 0x5fafd7, "short form: palette name");
	tap_ok(t.slots[THEME_SLOT_DIM].fg.kind == THEME_COLOUR_INDEX &&
	    t.slots[THEME_SLOT_DIM].fg.value == 244 &&
	    t.slots[THEME_SLOT_DIM].bg.kind == THEME_COLOUR_DEFAULT, "short form: FG on BG");
	tap_ok(t.slots[THEME_SLOT_PROMPT].fg.value == 0x5fafd7 &&
	    t.slots[THEME_SLOT_PROMPT].attrs == (THEME_ATTR_BOLD | THEME_ATTR_UNDERLINE),
	    "mapping: palette chain and attrs");
	tap_ok(t.slots[THEME_SLOT_TITLE].attrs == (THEME_ATTR_BOLD | THEME_ATTR_ITALIC) &&
	    t.slots[THEME_SLOT_TITLE].fg.kind == THEME_COLOUR_DEFAULT,
	    "attrs as a string; fg kept from the built-in theme");
	tap_ok(t.slots[THEME_SLOT_ERROR].fg.kind == THEME_COLOUR_RGB &&
	    t.slots[THEME_SLOT_ERROR].fg.value == 0xcc241d &&
	    t.slots[THEME_SLOT_ERROR].attrs == THEME_ATTR_BOLD,
	    "a palette entry shadows a colour name; unset attrs stay");
	tap_ok(t.slots[THEME_SLOT_PLOT].fg.kind == THEME_COLOUR_INDEX &&
	    t.slots[THEME_SLOT_PLOT].fg.value == 4, "'blue: blue' is the built-in blue");
	tap_ok(t.slots[THEME_SLOT_STATUS].bg.value == 0x112233 &&
	    t.slots[THEME_SLOT_STATUS].fg.kind == THEME_COLOUR_INDEX,
	    "short form: on BG keeps fg");
	tap_ok(t.slots[THEME_SLOT_HINT].attrs == 0 && t.slots[THEME_SLOT_HINT].fg.value == 8,
	    "attrs: [] clears attributes");

	/* No name: the file's name. */
	got = NULL;
	tap_ok(theme_load_buffer(&t, "slots: {}\n", 10, "dir/my-theme.yaml", NULL, &got) == 0 &&
	    strcmp(t.name, "my-theme") == 0, "a theme without a name is named after its file");
	free(got);
}

/*
 * The background slot: its one colour is the screen's background; an fg alone
 * there is refused; a text background over the terminal's own is caught by
 * theme_lint (the holes high-contrast.yaml had when "background: black" was
 * read as a foreground).
 */
static void
test_theme_background(void)
{
	static const char holes[] = "slots:\n  text: white on black\n";
	static const char one[] = "slots:\n  background: '#102030'\n";
	static const char two[] = "slots:\n  background: red on blue\n";
	static const char same[] = "slots:\n  text: white on black\n  background: black\n";
	struct theme t;
	char *got, lint[256];

	got = test_theme_errors(one, strlen(one), &t);
	tap_ok(got == NULL && t.slots[THEME_SLOT_BACKGROUND].bg.kind == THEME_COLOUR_RGB &&
	    t.slots[THEME_SLOT_BACKGROUND].bg.value == 0x102030 &&
	    t.slots[THEME_SLOT_BACKGROUND].fg.kind == THEME_COLOUR_DEFAULT,
	    "background: COLOUR sets the background");
	free(got);
	got = test_theme_errors(two, strlen(two), &t);
	tap_ok(got == NULL && t.slots[THEME_SLOT_BACKGROUND].fg.value == 1 &&
	    t.slots[THEME_SLOT_BACKGROUND].bg.value == 4, "background: FG on BG as elsewhere");
	free(got);
	test_theme_expect("background: { fg: black } is refused, with its place",
	    "slots:\n  background: { fg: black }\n",
	    "t.yaml:2:17: slot 'background' is the screen behind the panes: an fg alone "
	    "changes nothing; give it a bg ('background: COLOUR' or '{ bg: COLOUR }')");
	got = test_theme_errors(holes, strlen(holes), &t);
	tap_ok(got == NULL && theme_lint(&t, lint, sizeof lint) == 1 &&
	    strstr(lint, "holes") != NULL && strstr(lint, "background: black") != NULL,
	    "theme_lint: a text bg over the terminal's background is caught");
	tap_diag("%s", lint);
	free(got);
	got = test_theme_errors(same, strlen(same), &t);
	tap_ok(got == NULL && theme_lint(&t, lint, sizeof lint) == 0 && lint[0] == '\0',
	    "theme_lint: nothing to say when the background matches");
	free(got);
}

/* Bad files: messages, lines, columns. */
static void
test_theme_bad(void)
{
	struct theme t;
	char *cause = NULL;
	char *huge;
	int rc;

	test_theme_expect("unknown slot, with a suggestion",
	    "name: x\nslots:\n  txet: red\n",
	    "t.yaml:3:3: unknown slot 'txet' (did you mean 'text'?)");
	test_theme_expect("unknown slot, no suggestion when nothing is close",
	    "slots:\n  frobnicator: red\n",
	    "t.yaml:2:3: unknown slot 'frobnicator'");
	test_theme_expect("unknown top-level key, with a suggestion",
	    "name: x\nslot:\n  text: red\n",
	    "t.yaml:2:1: unknown key 'slot' (did you mean 'slots'?)");
	test_theme_expect("a slot at the top level",
	    "prob_high: red\n",
	    "t.yaml:1:1: unknown key 'prob_high' (slots go under 'slots:')");
	test_theme_expect("bad colour: #12345",
	    "slots:\n  text: '#12345'\n",
	    "t.yaml:2:9: bad colour '#12345': 5 hex digits (use #rgb or #rrggbb)");
	test_theme_expect("bad colour: 300",
	    "slots:\n  text:\n    fg: 300\n",
	    "t.yaml:3:9: colour number 300 is out of range (0-255)");
	test_theme_expect("bad colour: purpel",
	    "slots:\n  text: { fg: purpel }\n",
	    "t.yaml:2:15: unknown colour 'purpel'");
	test_theme_expect("bad colour in the short form: position of the word",
	    "slots:\n  status: black on yelow\n",
	    "t.yaml:2:20: unknown colour 'yelow' (did you mean 'yellow'?)");
	test_theme_expect("unknown palette name, suggestion from the palette",
	    "palette:\n  accent: '#123456'\nslots:\n  text: acent\n",
	    "t.yaml:4:9: unknown colour 'acent' (did you mean 'accent'?)");
	test_theme_expect("wrong type: a list where a mapping is expected",
	    "slots:\n  - text\n  - red\n",
	    "t.yaml:2:3: 'slots' must be a mapping of slot names to colours, found a list");
	test_theme_expect("wrong type: a list as a slot value",
	    "slots:\n  text: [red, blue]\n",
	    "t.yaml:2:9: expected a mapping with fg, bg and attrs (or a string \"FG on BG\"), "
	    "found a list");
	test_theme_expect("wrong type: a mapping as a colour",
	    "slots:\n  text:\n    fg: { r: 1 }\n",
	    "t.yaml:3:9: expected a colour (a name, #rrggbb, 0-255 or default), found a mapping");
	test_theme_expect("unknown attribute, with a suggestion",
	    "slots:\n  text: { attrs: [bold, undrline] }\n",
	    "t.yaml:2:25: unknown attribute 'undrline' (did you mean 'underline'?)");
	test_theme_expect("duplicate slot",
	    "slots:\n  text: red\n  text: blue\n",
	    "t.yaml:3:3: duplicate slot 'text' (first at line 2)");
	test_theme_expect("top level is not a mapping",
	    "- a\n- b\n",
	    "t.yaml:1:1: expected a mapping with name, extends, palette and slots at the top "
	    "level, found a list");
	test_theme_expect("empty file", "",
	    "t.yaml:1:1: empty theme: expected a mapping with name, extends, palette and slots");
	test_theme_expect("YAML syntax error",
	    "slots:\n  text: red\n bad: [\n",
	    "t.yaml:3:2: YAML syntax error: while parsing a block mapping did not find "
	    "expected key");
	test_theme_expect("two documents",
	    "name: a\n---\nname: b\n",
	    "t.yaml:2:1: a theme file holds one YAML document; this is a second one");
	test_theme_expect("unquoted # starts a comment: a hint",
	    "slots:\n  text: #ff0000\n",
	    "t.yaml:2:8: expected a colour or a mapping with fg, bg and attrs, found nothing "
	    "(null) (quote colours that start with '#': \"#ff0000\"; unquoted, '#' starts a "
	    "comment)");
	test_theme_expect("undefined alias",
	    "slots:\n  text: *nope\n",
	    "t.yaml:2:9: undefined alias '*nope'");
	test_theme_expect("palette loop",
	    "palette:\n  a: b\n  b: a\nslots:\n  text: a\n",
	    "t.yaml:3:6: palette entry 'a' refers back to itself");

	/* Alias bomb (billion laughs): refused at the alias that makes it too big. */
	test_theme_expect("alias bomb",
	    "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
	    "t.yaml:5:12: alias '*d' expands to too much (more than 20000 nodes)");
	{
		/* Many cheap aliases: the count limit. */
		char text[2048];
		size_t n = (size_t)snprintf(text, sizeof text, "a: &a x\nb: [");

		for (int i = 0; i < 70; i++)
			n += (size_t)snprintf(text + n, sizeof text - n, "*a, ");
		snprintf(text + n, sizeof text - n, "*a]\n");
		test_theme_expect("too many aliases", text,
		    "t.yaml:2:261: more than 64 aliases");
	}

	/* Deep nesting: 30 levels of flow sequences. */
	{
		char text[128];
		size_t n = (size_t)snprintf(text, sizeof text, "slots: ");

		for (int i = 0; i < 30; i++)
			text[n++] = '[';
		for (int i = 0; i < 30; i++)
			text[n++] = ']';
		text[n++] = '\n';
		text[n] = '\0';
		/* The top mapping is level 1, so the 16th '[' (column 23) is level 17. */
		test_theme_expect("deep nesting", text, "t.yaml:1:23: nested deeper than 16 levels");
	}

	/* Huge file. */
	huge = malloc(THEME_MAX_FILE_SIZE + 100);
	if (huge != NULL) {
		memset(huge, '#', THEME_MAX_FILE_SIZE + 99);
		huge[THEME_MAX_FILE_SIZE + 99] = '\0';
		test_theme_expect_sub("huge file", huge, THEME_MAX_FILE_SIZE + 99,
		    "t.yaml:1:1: file too large (262243 bytes; the limit is 262144)");
		free(huge);
	}

	/* Not YAML at all. */
	test_theme_expect_sub("binary junk: not UTF-8", "\x80\x81\x82junk\x01\xff", 10,
	    "t.yaml:1:1: not a YAML text file: invalid leading UTF-8 octet (byte 0x80)");
	test_theme_expect_sub("binary junk: control characters",
	    "name: x\nslots: \x01\x02\x03\n", 17,
	    "t.yaml:2:8: not a YAML text file: control characters are not allowed (byte 0x01)");
	test_theme_expect_sub("binary junk: NUL bytes", "name: x\0\0\0\0", 11,
	    "t.yaml:1:8: not a YAML text file: control characters are not allowed (byte 0x00)");

	/* Several errors in one file: all reported, sorted by position. */
	test_theme_expect("several errors, all of them, in order",
	    "name: many\n"
	    "slots:\n"
	    "  text: { fg: purpel, bg: '#12345' }\n"
	    "  txet: red\n"
	    "  dim: 300\n"
	    "colours: {}\n"
	    "  \n",
	    "t.yaml:3:15: unknown colour 'purpel'\n"
	    "t.yaml:3:27: bad colour '#12345': 5 hex digits (use #rgb or #rrggbb)\n"
	    "t.yaml:4:3: unknown slot 'txet' (did you mean 'text'?)\n"
	    "t.yaml:5:8: colour number 300 is out of range (0-255)\n"
	    "t.yaml:6:1: unknown key 'colours'");

	/* A failed load leaves the caller's theme alone. */
	theme_init_default(&t);
	snprintf(t.name, sizeof t.name, "previous");
	t.slots[THEME_SLOT_TEXT].fg.kind = THEME_COLOUR_INDEX;
	t.slots[THEME_SLOT_TEXT].fg.value = 42;
	rc = theme_load_buffer(&t, "name: new\nslots:\n  text: '#ffffff'\n  dim: nope\n", 44,
	    "t.yaml", NULL, &cause);
	tap_ok(rc < 0 && strcmp(t.name, "previous") == 0 &&
	    t.slots[THEME_SLOT_TEXT].fg.value == 42, "a failed load changes nothing");
	free(cause);
	cause = NULL;
	tap_ok(theme_load_file(&t, "/nonexistent/x.yaml", NULL, &cause) < 0 && cause != NULL &&
	    strcmp(cause, "/nonexistent/x.yaml: No such file or directory") == 0,
	    "missing file");
	free(cause);
}

/* extends: chains, overrides, cycles, missing targets. */
static void
test_theme_extends(void)
{
	const char *search[2] = { test_theme_dir, NULL };
	char path[PATH_MAX + 64], want[3 * PATH_MAX];
	struct theme t;
	char *cause = NULL;

	test_theme_write("base.yaml",
	    "name: base\n"
	    "palette:\n"
	    "  accent: '#0000ff'\n"
	    "slots:\n"
	    "  text: accent\n"
	    "  title: { fg: accent, attrs: [bold] }\n");
	snprintf(path, sizeof path, "%s", test_theme_write("child.yaml",
	    "name: child\n"
	    "extends: base\n"
	    "palette:\n"
	    "  accent: '#ff0000'\n"
	    "slots:\n"
	    "  title: { attrs: [underline] }\n"));
	if (tap_ok(theme_load_file(&t, path, search, &cause) == 0, "extends by name loads")) {
		tap_ok(strcmp(t.name, "child") == 0, "the child's name wins");
		tap_ok(t.slots[THEME_SLOT_TEXT].fg.value == 0xff0000,
		    "a palette override recolours the base's slots");
		tap_ok(t.slots[THEME_SLOT_TITLE].fg.value == 0xff0000 &&
		    t.slots[THEME_SLOT_TITLE].attrs == THEME_ATTR_UNDERLINE,
		    "slot fields override one by one");
	} else {
		tap_diag("%s", cause);
	}
	free(cause);
	cause = NULL;

	/* By relative path. */
	snprintf(path, sizeof path, "%s", test_theme_write("rel.yaml",
	    "extends: ./child.yaml\nslots:\n  dim: green\n"));
	tap_ok(theme_load_file(&t, path, search, &cause) == 0 &&
	    t.slots[THEME_SLOT_TEXT].fg.value == 0xff0000 &&
	    t.slots[THEME_SLOT_DIM].fg.value == 2, "extends by relative path");
	free(cause);
	cause = NULL;

	/* Missing target. */
	snprintf(path, sizeof path, "%s", test_theme_write("missing.yaml",
	    "name: m\nextends: no-such-theme\n"));
	snprintf(want, sizeof want, "%s:2:10: theme 'no-such-theme' not found in the theme "
	    "search path", path);
	tap_ok(theme_load_file(&t, path, search, &cause) < 0 && cause != NULL &&
	    strcmp(cause, want) == 0, "missing extends target");
	if (cause != NULL && strcmp(cause, want) != 0)
		tap_diag("got: %s", cause);
	free(cause);
	cause = NULL;

	/* A cycle: a -> b -> a. */
	test_theme_write("cyc-b.yaml", "name: b\nextends: cyc-a\n");
	snprintf(path, sizeof path, "%s", test_theme_write("cyc-a.yaml",
	    "name: a\nextends: cyc-b\n"));
	snprintf(want, sizeof want, "%s:2:10: the theme '%s/cyc-b.yaml' extended here has "
	    "errors\n%s/cyc-b.yaml:2:10: extends cycle: '%s/cyc-a.yaml' is already being "
	    "loaded (a theme cannot extend itself, directly or not)", path, test_theme_dir,
	    test_theme_dir, test_theme_dir);
	tap_ok(theme_load_file(&t, path, search, &cause) < 0 && cause != NULL &&
	    strcmp(cause, want) == 0, "extends cycle");
	if (cause != NULL && strcmp(cause, want) != 0)
		tap_diag("got: %s", cause);
	free(cause);
	cause = NULL;

	/* Extending itself. */
	snprintf(path, sizeof path, "%s", test_theme_write("self.yaml", "extends: self\n"));
	tap_ok(theme_load_file(&t, path, search, &cause) < 0 && cause != NULL &&
	    strstr(cause, "extends cycle") != NULL, "a theme extending itself");
	free(cause);
	cause = NULL;

	/* A chain longer than the limit: long0 -> long1 -> ... -> long11. */
	for (int i = 0; i < 12; i++) {
		char name[32], text[64];

		snprintf(name, sizeof name, "long%d.yaml", i);
		if (i < 11)
			snprintf(text, sizeof text, "extends: long%d\n", i + 1);
		else
			snprintf(text, sizeof text, "name: end\n");
		snprintf(path, sizeof path, "%s", test_theme_write(name, text));
	}
	snprintf(path, sizeof path, "%s/long0.yaml", test_theme_dir);
	tap_ok(theme_load_file(&t, path, search, &cause) < 0 && cause != NULL &&
	    strstr(cause, "extends chain longer than 8 themes") != NULL,
	    "extends chain length limit");
	free(cause);
	cause = NULL;

	/* Errors in a base are reported in the base and where it is extended. */
	test_theme_write("broken.yaml", "slots:\n  text: nocolour\n");
	snprintf(path, sizeof path, "%s", test_theme_write("uses-broken.yaml",
	    "extends: broken\n"));
	snprintf(want, sizeof want, "%s/broken.yaml:2:9: unknown colour 'nocolour'",
	    test_theme_dir);
	tap_ok(theme_load_file(&t, path, search, &cause) < 0 && cause != NULL &&
	    strcmp(cause, want) == 0, "an unknown colour in a base theme is reported there");
	if (cause != NULL && strcmp(cause, want) != 0)
		tap_diag("got: %s", cause);
	free(cause);
	cause = NULL;

	/* A base may use a palette name that only its children define. */
	test_theme_write("abstract.yaml", "slots:\n  text: brand\n");
	snprintf(path, sizeof path, "%s", test_theme_write("concrete.yaml",
	    "extends: abstract\npalette:\n  brand: '#abcdef'\n"));
	tap_ok(theme_load_file(&t, path, search, &cause) == 0 &&
	    t.slots[THEME_SLOT_TEXT].fg.value == 0xabcdef,
	    "a child's palette completes its base");
	free(cause);
	cause = NULL;

	/* Syntax errors in a base are also reported where it is extended. */
	test_theme_write("garbled.yaml", "slots: [\n");
	snprintf(path, sizeof path, "%s", test_theme_write("uses-garbled.yaml",
	    "extends: garbled\n"));
	snprintf(want, sizeof want, "%s:1:10: the theme '%s/garbled.yaml' extended here has "
	    "errors", path, test_theme_dir);
	tap_ok(theme_load_file(&t, path, search, &cause) < 0 && cause != NULL &&
	    strncmp(cause, want, strlen(want)) == 0, "errors in a base theme");
	if (cause != NULL && strncmp(cause, want, strlen(want)) != 0)
		tap_diag("got: %s", cause);
	free(cause);
}

/* RGB in, expected 256 and 16 indices out. */
static void
test_theme_degrade(void)
{
	static const struct {
		uint32_t rgb;
		unsigned i256, i16;
	} cases[] = {
		{ 0xff0000, 196, 1 },  /* red */
		{ 0x00ff00, 46, 2 },   /* green */
		{ 0x0000ff, 21, 4 },   /* blue */
		{ 0xffffff, 231, 15 }, /* white */
		{ 0x000000, 16, 0 },   /* black */
		{ 0x808080, 244, 7 },  /* a grey: the grey ramp */
		{ 0x5f87af, 67, 7 },   /* a cube colour; greyish: white (#aaaaaa) at 16 */
		{ 0xff5555, 203, 9 },  /* light red: bright-red */
		{ 0xffd75f, 221, 11 }, /* light yellow */
		{ 0x282828, 235, 0 },  /* gruvbox bg */
		/*
		 * Off the palette points, where the weighting decides: a plain
		 * Euclidean distance, red and blue's weights swapped, or fixed
		 * weights without the red mean would pick the colours in the
		 * comments instead.
		 */
		{ 0xcdcee4, 252, 7 },  /* unweighted: 188 and 15 */
		{ 0xc3353e, 167, 3 },  /* unweighted: 131 and 9 */
		{ 0x9ba734, 143, 7 },  /* unweighted: 107 and 3 */
	};
	struct theme_colour c, d;
	struct theme t, out;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		c.kind = THEME_COLOUR_RGB;
		c.value = cases[i].rgb;
		d = theme_colour_degrade(c, THEME_DEPTH_256);
		if (!tap_ok(d.kind == THEME_COLOUR_INDEX && d.value == cases[i].i256,
		    "#%06x -> 256 colour %u", (unsigned)cases[i].rgb, cases[i].i256))
			tap_diag("got %u", (unsigned)d.value);
		d = theme_colour_degrade(c, THEME_DEPTH_16);
		if (!tap_ok(d.kind == THEME_COLOUR_INDEX && d.value == cases[i].i16,
		    "#%06x -> 16 colour %u", (unsigned)cases[i].rgb, cases[i].i16))
			tap_diag("got %u", (unsigned)d.value);
		d = theme_colour_degrade(c, THEME_DEPTH_DIRECT);
		tap_ok(d.kind == THEME_COLOUR_RGB && d.value == cases[i].rgb,
		    "#%06x kept in direct colour", (unsigned)cases[i].rgb);
		d = theme_colour_degrade(c, THEME_DEPTH_NONE);
		tap_ok(d.kind == THEME_COLOUR_DEFAULT, "#%06x -> no colour", (unsigned)cases[i].rgb);
	}
	c.kind = THEME_COLOUR_INDEX;
	c.value = 196;
	d = theme_colour_degrade(c, THEME_DEPTH_DIRECT);
	tap_ok(d.kind == THEME_COLOUR_RGB && d.value == 0xff0000, "196 -> #ff0000 in direct");
	d = theme_colour_degrade(c, THEME_DEPTH_256);
	tap_ok(d.kind == THEME_COLOUR_INDEX && d.value == 196, "196 kept at 256");
	d = theme_colour_degrade(c, THEME_DEPTH_16);
	tap_ok(d.kind == THEME_COLOUR_INDEX && d.value == 1, "196 -> red at 16");
	c.value = 3;
	d = theme_colour_degrade(c, THEME_DEPTH_DIRECT);
	tap_ok(d.kind == THEME_COLOUR_INDEX && d.value == 3,
	    "ANSI colours stay the terminal's own in direct colour");
	c.value = 244;
	d = theme_colour_degrade(c, THEME_DEPTH_DIRECT);
	tap_ok(d.kind == THEME_COLOUR_RGB && d.value == 0x808080, "244 -> #808080");
	c.kind = THEME_COLOUR_DEFAULT;
	d = theme_colour_degrade(c, THEME_DEPTH_16);
	tap_ok(d.kind == THEME_COLOUR_DEFAULT, "default stays default");

	/* A whole theme at depth none: no colours; mono attributes where there were none. */
	theme_init_default(&t);
	t.slots[THEME_SLOT_SELECTION].attrs = 0;
	t.slots[THEME_SLOT_TITLE].attrs = THEME_ATTR_UNDERLINE;
	theme_degrade(&t, THEME_DEPTH_NONE, &out);
	tap_ok(out.slots[THEME_SLOT_ERASED].fg.kind == THEME_COLOUR_DEFAULT &&
	    out.slots[THEME_SLOT_ERASED].bg.kind == THEME_COLOUR_DEFAULT &&
	    out.slots[THEME_SLOT_SELECTION].attrs == THEME_ATTR_REVERSE &&
	    out.slots[THEME_SLOT_TITLE].attrs == THEME_ATTR_UNDERLINE,
	    "theme at depth none: attributes only, the selection still visible");
	/* The erase flash was set apart by its colours: without them it is not the bold prompt. */
	theme_init_default(&t);
	theme_degrade(&t, THEME_DEPTH_NONE, &out);
	tap_ok(out.slots[THEME_SLOT_ERASED].attrs != out.slots[THEME_SLOT_PROMPT].attrs &&
	    (out.slots[THEME_SLOT_ERASED].attrs & THEME_ATTR_REVERSE),
	    "theme at depth none: the erase flash is reverse, unlike the prompt");
	tap_ok(out.slots[THEME_SLOT_MARK].attrs & THEME_ATTR_UNDERLINE &&
	    out.slots[THEME_SLOT_GHOST].attrs != 0 &&
	    out.slots[THEME_SLOT_MARK].attrs != out.slots[THEME_SLOT_GHOST].attrs &&
	    out.slots[THEME_SLOT_MARK].attrs != out.slots[THEME_SLOT_GENERATED].attrs,
	    "theme at depth none: marks, ghosts and text differ");
	/* A terminal without italics: an italic-only ghost gets its mono attributes. */
	t.slots[THEME_SLOT_GHOST].attrs = THEME_ATTR_ITALIC;
	t.slots[THEME_SLOT_TEXT].attrs = 0;
	theme_drop_italic(&t);
	tap_ok(t.slots[THEME_SLOT_GHOST].attrs == THEME_ATTR_DIM && t.slots[THEME_SLOT_TEXT].attrs == 0,
	    "no italics: the ghost is dim instead, others unchanged");
}

/* Colour depth detection. */
static void
test_theme_depth(void)
{
	tap_ok(theme_depth_detect("xterm-256color", "truecolor", NULL, 256, THEME_DEPTH_AUTO) ==
	    THEME_DEPTH_DIRECT, "COLORTERM=truecolor");
	tap_ok(theme_depth_detect("xterm-256color", "24bit", NULL, 256, THEME_DEPTH_AUTO) ==
	    THEME_DEPTH_DIRECT, "COLORTERM=24bit");
	tap_ok(theme_depth_detect("xterm-direct", NULL, NULL, 0x1000000, THEME_DEPTH_AUTO) ==
	    THEME_DEPTH_DIRECT, "TERM=xterm-direct");
	tap_ok(theme_depth_detect("xterm-direct", NULL, NULL, -1, THEME_DEPTH_AUTO) ==
	    THEME_DEPTH_DIRECT, "-direct without terminfo");
	tap_ok(theme_depth_detect("xterm-256color", NULL, NULL, 256, THEME_DEPTH_AUTO) ==
	    THEME_DEPTH_256, "256 colours");
	tap_ok(theme_depth_detect("xterm", "", NULL, 8, THEME_DEPTH_AUTO) == THEME_DEPTH_16,
	    "8 colours: 16 (folded by the UI)");
	tap_ok(theme_depth_detect("linux", NULL, NULL, 16, THEME_DEPTH_AUTO) == THEME_DEPTH_16,
	    "16 colours");
	tap_ok(theme_depth_detect("vt100", NULL, NULL, -1, THEME_DEPTH_AUTO) == THEME_DEPTH_16 &&
	    theme_depth_detect("vt100", NULL, NULL, 0, THEME_DEPTH_AUTO) == THEME_DEPTH_NONE,
	    "vt100: no colours in terminfo means none");
	tap_ok(theme_depth_detect("screen-256color", NULL, NULL, -1, THEME_DEPTH_AUTO) ==
	    THEME_DEPTH_256, "unknown count: guessed from TERM");
	tap_ok(theme_depth_detect("dumb", "truecolor", NULL, 256, THEME_DEPTH_AUTO) ==
	    THEME_DEPTH_NONE && theme_depth_detect(NULL, NULL, NULL, -1, THEME_DEPTH_AUTO) ==
	    THEME_DEPTH_NONE, "TERM=dumb or unset: none");
	tap_ok(theme_depth_detect("xterm-direct", "truecolor", "1", 0x1000000, THEME_DEPTH_AUTO) ==
	    THEME_DEPTH_NONE, "NO_COLOR=1 beats everything detected");
	tap_ok(theme_depth_detect("xterm-256color", NULL, "", 256, THEME_DEPTH_AUTO) ==
	    THEME_DEPTH_256, "NO_COLOR empty is ignored");
	tap_ok(theme_depth_detect("xterm-256color", NULL, "1", 256, THEME_DEPTH_256) ==
	    THEME_DEPTH_256, "an explicit flag overrides NO_COLOR");
	tap_ok(theme_depth_detect("xterm-256color", "truecolor", NULL, 256, THEME_DEPTH_16) ==
	    THEME_DEPTH_16, "an explicit flag overrides detection");
	tap_ok(theme_depth_parse("truecolor") == THEME_DEPTH_DIRECT &&
	    theme_depth_parse("256") == THEME_DEPTH_256 &&
	    theme_depth_parse("16") == THEME_DEPTH_16 &&
	    theme_depth_parse("none") == THEME_DEPTH_NONE &&
	    theme_depth_parse("auto") == THEME_DEPTH_AUTO &&
	    theme_depth_parse("lots") == -2, "--colors values");
	tap_ok(strcmp(theme_depth_name(THEME_DEPTH_DIRECT), "direct") == 0, "depth names");
}

/* The default search path. */
static void
test_theme_search_path(void)
{
	char **p;

	p = theme_search_path_new("/x/config", "/home/u", "/src");
	tap_ok(p != NULL && strcmp(p[0], "/x/config/seqmatch/themes") == 0 &&
	    strcmp(p[1], PKGDATADIR "/themes") == 0 && strcmp(p[2], "/src/themes") == 0 &&
	    p[3] == NULL, "search path with XDG_CONFIG_HOME");
	theme_search_path_free(p);
	p = theme_search_path_new("relative", "/home/u", NULL);
	tap_ok(p != NULL && strcmp(p[0], "/home/u/.config/seqmatch/themes") == 0 &&
	    strcmp(p[1], PKGDATADIR "/themes") == 0 && p[2] == NULL,
	    "search path without a usable XDG_CONFIG_HOME");
	theme_search_path_free(p);
	p = theme_search_path_new(NULL, NULL, NULL);
	tap_ok(p != NULL && strcmp(p[0], PKGDATADIR "/themes") == 0 && p[1] == NULL,
	    "search path with no home");
	theme_search_path_free(p);
}

/* Remove the temporary directory's files. */
static void
test_theme_cleanup(void)
{
	DIR *d = opendir(test_theme_dir);
	struct dirent *e;
	char path[PATH_MAX + 300];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", test_theme_dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(test_theme_dir);
}

/* Run everything. */
int
main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(test_theme_dir, sizeof test_theme_dir, "%s/test-theme.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(test_theme_dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_theme_shipped();
	test_theme_slots();
	test_theme_colours();
	test_theme_forms();
	test_theme_bad();
	test_theme_background();
	test_theme_extends();
	test_theme_degrade();
	test_theme_depth();
	test_theme_search_path();
	test_theme_cleanup();
	return tap_done();
}
