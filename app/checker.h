/*
 * checker.h: an external story checker (checker.c has the protocol), shared by
 * `seqmatch eval --check` and the UI's before/after.
 */
#ifndef SEQMATCH_CHECKER_H
#define SEQMATCH_CHECKER_H

#include <stddef.h>

/* One text: the prompt, the continuation after erases, the stop reason's name. */
struct checker_text {
	const char *prompt;
	size_t prompt_len;
	const char *text;
	size_t len;
	const char *stop;
};

/* A violation of text i of this kind; non-zero refuses it (the run fails). */
typedef int (*checker_fn)(int i, const char *kind, void *arg);

/*
 * Run `/bin/sh -c cmd` over n texts, with env's "NAME=value" entries (NULL
 * or NULL-terminated) added to its environment; each violation goes to fn.
 * 0, or -1 with the reason in *cause (malloc'd). Thread-safe.
 */
int checker_run(const char *cmd, const struct checker_text *t, int n,
    const char *const *env, checker_fn fn, void *arg, char **cause);

#endif
