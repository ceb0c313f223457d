/*
 * test-session-config.c: the config parser (session_config_parse): every key
 * read, bad files rejected with FILE:LINE:COL and nothing half-applied; and a
 * transcript that survives a write and a parse.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "session.h"
#include "tap.h"

/* The app's allocation and fatal-error helpers, for session.c. */
void
app_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	abort();
}

/* malloc or die. */
void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		app_fatal("out of memory");
	return p;
}

/* calloc or die. */
void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		app_fatal("out of memory");
	return p;
}

/* realloc or die. */
void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n ? n : 1)) == NULL)
		app_fatal("out of memory");
	return p;
}

/* strdup or die. */
char *
xstrdup(const char *s)
{
	return strcpy(xmalloc(strlen(s) + 1), s);
}

/* Check that text fails with exactly the message want, and c is untouched. */
static void
test_bad(const char *what, const char *text, const char *want)
{
	struct session_config c;
	char *cause = NULL;
	int rc;

	session_config_init(&c);
	c.params.top_k = 3;
	rc = session_config_parse(&c, text, strlen(text), "c.yaml", &cause);
	if (!tap_ok(rc == -1 && cause != NULL && strcmp(cause, want) == 0 && c.params.top_k == 3 &&
	    c.theme == NULL && c.mouse == -1, "%s", what)) {
		tap_diag("want: %s", want);
		tap_diag("got:  %s (rc %d)", cause != NULL ? cause : "(none)", rc);
	}
	free(cause);
	session_config_release(&c);
}

/* Parse, write and parse back a transcript. */
static void
test_roundtrip(void)
{
	static const char text[] =
	    "{\"type\": \"header\", \"format\": 1, \"version\": \"1\", \"model\": \"m\", "
	    "\"model_hash\": \"0123456789abcdef\", \"weights_version\": 2, \"time\": \"t\", "
	    "\"prompt\": \"a\\tb\", \"params\": {\"temperature\": 0.7, \"top_k\": 5, "
	    "\"top_p\": 0.9, \"min_p\": 0, \"typical_p\": 1, \"repeat_penalty\": 1, "
	    "\"repeat_last_n\": 64, \"max_tokens\": 9, \"seed\": 7, \"backspace_bias\": null, "
	    "\"max_consecutive_backspaces\": 2, \"max_total_backspaces\": -1, "
	    "\"forbid_retype\": 1}, \"seed\": 18446744073709551615}\n"
	    "{\"type\": \"append\", \"id\": 1, \"text\": \"x\", \"slot\": 2, \"prob\": 0.5}\n"
	    "{\"type\": \"erase\", \"id\": 1, \"text\": \"x\", \"slot\": 2, \"prob\": 0.25}\n"
	    "{\"type\": \"append\", \"id\": 3, \"text\": \"\\u00e9\", \"slot\": 2, \"prob\": 1}\n"
	    "{\"type\": \"stop\", \"reason\": \"eot\", \"generated\": 2, \"erased\": 1, "
	    "\"seconds\": 0.125}\n";
	struct session s;
	char *cause = NULL, *buf = NULL, *final;
	size_t size = 0, len;
	FILE *f;

	if (!tap_ok(session_parse(&s, text, strlen(text), "s.jsonl", &cause) == 0,
	    "a transcript parses")) {
		tap_diag("%s", cause);
		free(cause);
		return;
	}
	tap_ok(s.n == 3 && s.ev[1].erase && s.seed == UINT64_MAX && s.params.top_k == 5 &&
	    isinf(s.params.backspace_bias) && s.params.forbid_retype == 1 &&
	    s.model_hash == 0x0123456789abcdefULL && s.stopped && s.n_erased == 1,
	    "every field is read");
	final = session_final_text(&s, &len);
	tap_ok(strcmp(final, "a\tb\xc3\xa9") == 0, "the final text applies the erase");
	free(final);
	f = open_memstream(&buf, &size);
	session_write(f, &s);
	fclose(f);
	tap_ok(strstr(buf, "\"seed\": 18446744073709551615}\n") != NULL,
	    "the seed is written exactly");
	session_free(&s);
	tap_ok(session_parse(&s, buf, size, "w.jsonl", &cause) == 0 && s.n == 3 &&
	    s.params.temperature == 0.7 && s.seconds == 0.125, "what is written parses back");
	session_free(&s);
	free(buf);
	free(cause);
}

/* Run the tests. */
int
main(void)
{
	struct session_config c;
	const char *good = "# mine\ntheme: light\ncolours: direct\nmouse: no\n"
	    "decoding:\n  temperature: 0.25\n  top-k: 9\n  backspace_bias: -inf\n";
	char *cause = NULL;

	session_config_init(&c);
	tap_ok(session_config_parse(&c, good, strlen(good), "c.yaml", &cause) == 0 &&
	    strcmp(c.theme, "light") == 0 && strcmp(c.colors, "direct") == 0 && c.mouse == 0 &&
	    c.params.temperature == 0.25 && c.params.top_k == 9 &&
	    isinf(c.params.backspace_bias) && c.n_decoding == 3, "a good config: every key");
	free(cause);
	cause = NULL;
	session_config_release(&c);
	session_config_init(&c);
	tap_ok(session_config_parse(&c, "", 0, "c.yaml", &cause) == 0 && c.theme == NULL &&
	    c.params.top_k == 40, "an empty config sets nothing");
	session_config_release(&c);

	test_bad("a bad value", "decoding:\n  top_p: 2\n", "c.yaml:2:10: decoding: top_p: 2 is "
	    "out of range [0, 1]");
	test_bad("half applied is not applied", "theme: x\nmouse: false\ndecoding:\n  top_k: 5\n"
	    "  min_p: x\n", "c.yaml:5:10: decoding: min_p: 'x' is not a number");
	test_bad("unknown key", "\n\n  zoom: 1\n", "c.yaml:3:3: unknown key 'zoom' (theme, colors, "
	    "mouse, decoding)");
	test_bad("not a mapping", "- a\n", "c.yaml:1:1: the config must be a mapping (theme, "
	    "colors, mouse, decoding)");
	test_bad("decoding not a mapping", "decoding: 3\n", "c.yaml:1:11: decoding must be a "
	    "mapping of parameter: value");
	test_bad("theme not a scalar", "theme: [a]\n", "c.yaml:1:8: theme must be a single value");
	test_bad("mouse not a bool", "mouse: maybe\n", "c.yaml:1:8: mouse must be true or false, "
	    "not 'maybe'");
	test_bad("tab indentation", "decoding:\n\ttop_k: 1\n",
	    "c.yaml:2:1: found character that cannot start any token while scanning for the "
	    "next token");
	test_roundtrip();
	return tap_done();
}
