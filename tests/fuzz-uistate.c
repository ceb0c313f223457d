/*
 * fuzz-uistate.c: a fuzz target for the UI state file's reader
 * (uistate_parse, which uistate_load runs on ui.yaml's bytes).
 *
 * LLVMFuzzerTestOneInput checks the reader's promises (app/uistate.h): a
 * state or a message, never both, never neither; a message starts with
 * "ui.yaml:LINE:COL: " and leaves the state untouched; a state holds a
 * NUL-terminated theme name, and written out with uistate_format and read
 * back, writes the same text again. Built with libFuzzer:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DFUZZ_UISTATE_NO_MAIN -I. -Iapp \
 *       -Iengine tests/fuzz-uistate.c app/uistate.c app/layout.c app/grid.c app/yml.c app/log.c \
 *       app/xmalloc.c app/paths.c engine/libseqmatch.a -lyaml -lopenblas -lm -lpthread \
 *       -o fuzz-uistate
 *   ./fuzz-uistate tests/fuzz-seeds/uistate
 * Without libFuzzer (make check) main() is the smoke test of tests/fuzz-main.h.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uistate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long fuzz_uistate_loaded; /* inputs that parsed */

/* Abort with a reason (the fuzzer keeps the input). */
static void
fuzz_uistate_fail(const char *what, const char *cause)
{
	fprintf(stderr, "fuzz-uistate: %s%s%s\n", what, cause != NULL ? ": " : "",
	    cause != NULL ? cause : "");
	abort();
}

/* Whether cause is "ui.yaml:LINE:COL: something" with LINE, COL >= 1. */
static int
fuzz_uistate_positioned(const char *cause)
{
	const char *p;
	char *end;
	long line, col;

	if (strncmp(cause, "ui.yaml:", 8) != 0)
		return 0;
	p = cause + 8;
	line = strtol(p, &end, 10);
	if (end == p || *end != ':' || line < 1)
		return 0;
	p = end + 1;
	col = strtol(p, &end, 10);
	return end != p && col >= 1 && strncmp(end, ": ", 2) == 0 && end[2] != '\0';
}

/* Parse one input; abort if the reader breaks its contract. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uistate st, before, st2;
	char *cause = NULL, *t1, *t2;

	/* A state unlike the defaults, to see that a refusal leaves it alone. */
	uistate_init(&st);
	snprintf(st.theme, sizeof st.theme, "before");
	st.speed = 9;
	before = st;
	if (uistate_parse(&st, (const char *)data, size, "ui.yaml", &cause) != 0) {
		if (cause == NULL || !fuzz_uistate_positioned(cause))
			fuzz_uistate_fail("a refusal without a positioned message", cause);
		if (memcmp(&st, &before, sizeof st) != 0)
			fuzz_uistate_fail("a refusal that changed the state", cause);
		free(cause);
		return 0;
	}
	if (cause != NULL)
		fuzz_uistate_fail("a state and a message", cause);
	if (memchr(st.theme, '\0', sizeof st.theme) == NULL)
		fuzz_uistate_fail("a theme name without its NUL", NULL);
	fuzz_uistate_loaded++;
	t1 = uistate_format(&st);
	uistate_init(&st2);
	if (uistate_parse(&st2, t1, strlen(t1), "ui.yaml", &cause) != 0)
		fuzz_uistate_fail("what uistate_format wrote does not parse", cause);
	t2 = uistate_format(&st2);
	if (strcmp(t1, t2) != 0)
		fuzz_uistate_fail("format(parse(format(x))) is not format(x)", t1);
	free(t1);
	free(t2);
	return 0;
}

#ifndef FUZZ_UISTATE_NO_MAIN

#define FUZZ_MAIN_NAME "uistate"
#define FUZZ_MAIN_RUNS 3000
#define FUZZ_MAIN_MAX_LEN 8192
#define FUZZ_MAIN_REPORT fuzz_uistate_report

/* How many inputs parsed. */
static int
fuzz_uistate_report(void)
{
	printf("# %ld states parsed\n", fuzz_uistate_loaded);
	return fuzz_uistate_loaded > 0 ? 0 : -1;
}

/* Keys, values and YAML's corners. */
static const char *const fuzz_main_snippets[] = {
	"version: 1\n", "version: 2\n", "theme: light\n", "theme: \"a \\\"b\\\" c\"\n",
	"panes: [text, decode, stats]\n", "panes: []\n", "zoom: stats\n", "zoom: none\n",
	"focus: finetune\n", "view: ", "speed: 3\n", "speed: -1\n", "speed: 99999999999\n",
	"&a ", "*a", "[", "]", "{", "}", ": ", "- ", "\n  ", "'", "\"", "#", "!!str ", "---\n",
	"...\n", "\xff", "", "\t", "? ", "~", "null", "<<: *a\n", "decode", "inspector",
};

#include "fuzz-main.h"

#endif
