/*
 * log.c: the program's messages on stderr: errors, warnings, the fatal
 * error that ends the program, and the engine's diagnostics (with the rank
 * in an MPI job). A leaf of app/: it calls nothing else of the program (the
 * UI reaches it through app_fatal_hook to give the terminal back first).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "dist.h"
#include "util.h"

void (*app_fatal_hook)(void);

static int log_quiet; /* -q: no warnings */
static int log_debug; /* $SEQMATCH_DEBUG: the engine's debug and info messages */

/* Print "seqmatch: [prefix]message" on stderr. */
static void __attribute__((format(printf, 2, 0)))
log_vmessage(const char *prefix, const char *fmt, va_list ap)
{
	fflush(stdout);
	if (dist_size() > 1)
		fprintf(stderr, "seqmatch: rank %d: %s", dist_rank(), prefix);
	else
		fprintf(stderr, "seqmatch: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	fflush(stderr);
}

/* Report an error and exit 1. */
void
app_fatal(const char *fmt, ...)
{
	va_list ap;

	if (app_fatal_hook != NULL) { /* the curses UI: give the terminal back first */
		void (*hook)(void) = app_fatal_hook;

		app_fatal_hook = NULL;
		hook();
	}
	va_start(ap, fmt);
	log_vmessage("", fmt, ap);
	va_end(ap);
	exit(APP_EXIT_ERROR);
}

/* Report an error. */
void
app_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmessage("", fmt, ap);
	va_end(ap);
}

/* Report a warning (not with -q). */
void
app_warn(const char *fmt, ...)
{
	va_list ap;

	if (log_quiet)
		return;
	va_start(ap, fmt);
	log_vmessage("warning: ", fmt, ap);
	va_end(ap);
}

/* A warning that -q does not hide. */
void
app_warn_always(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmessage("warning: ", fmt, ap);
	va_end(ap);
}

/* Engine diagnostics: warnings and errors on stderr; debug and info with $SEQMATCH_DEBUG. */
static void
log_engine(enum util_log_level level, const char *msg, void *arg)
{
	(void)arg;
	switch (level) {
	case UTIL_LOG_DEBUG:
	case UTIL_LOG_INFO:
		if (log_debug)
			fprintf(stderr, "seqmatch: %s%s\n",
			    level == UTIL_LOG_DEBUG ? "debug: " : "", msg);
		break;
	case UTIL_LOG_WARN:
		if (!log_quiet)
			fprintf(stderr, "seqmatch: warning: %s\n", msg);
		break;
	case UTIL_LOG_ERROR:
		fprintf(stderr, "seqmatch: %s\n", msg);
		break;
	}
}

/* Set -q and $SEQMATCH_DEBUG, and route the engine's diagnostics here. */
void
app_log_init(int quiet, int debug)
{
	log_quiet = quiet;
	log_debug = debug;
	util_log_set(log_engine, NULL);
}
