/*
 * modelfile.c: what the program adds to the engine's model loading: the
 * --load choice, the memory line (mapped and private bytes) that
 * `generate -v` and the UI's status line show, and the SIGBUS handler that
 * names a model file truncated while it is mapped.
 *
 * Why a handler: checkpoint_load maps the file (engine/checkpoint.h), and a
 * read of a mapped page past the file's end raises SIGBUS. The engine cannot
 * prevent it (another process may truncate the file at any moment), so the
 * program catches it, asks the engine which file holds the faulting address
 * (checkpoint_mapped_path, safe in a handler), gives the terminal back if
 * the UI had it (termios saved before curses started, restored with
 * tcsetattr, which is async-signal-safe), says which file and what happened,
 * and exits with status 1. A SIGBUS anywhere else is re-raised as it came.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include "app.h"
#include "checkpoint.h"
#include "gpt.h"

/* The terminal's modes before the UI changed them (app_sigbus_term). */
static struct termios modelfile_term;
static volatile sig_atomic_t modelfile_term_saved;

/* Parse --load's value: map, lazy or copy. */
int
app_load_flags(const char *value, int *flags)
{
	if (strcmp(value, "map") == 0)
		*flags = 0;
	else if (strcmp(value, "lazy") == 0)
		*flags = CHECKPOINT_LOAD_LAZY;
	else if (strcmp(value, "copy") == 0)
		*flags = CHECKPOINT_LOAD_COPY;
	else {
		app_error("--load: '%s' is not map, lazy or copy", value);
		return -1;
	}
	return 0;
}

/* A size for people: MiB with one decimal. */
static double
modelfile_mib(size_t bytes)
{
	return (double)bytes / 1048576.0;
}

/* "mapped X MiB, private Y MiB" for a model. */
void
app_model_memory(const struct gpt_model *m, char *buf, size_t size)
{
	size_t mapped, priv;

	gpt_memory(m, &mapped, &priv);
	snprintf(buf, size, "mapped %.1f MiB, private %.1f MiB", modelfile_mib(mapped),
	    modelfile_mib(priv));
}

/* The process's peak resident memory in bytes (getrusage). */
size_t
app_peak_rss(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (size_t)ru.ru_maxrss * 1024;
}

/* Write a string to stderr from the handler. */
static void
modelfile_say(const char *s)
{
	if (write(STDERR_FILENO, s, strlen(s)) < 0) {
		/* Nothing else to try: we are leaving. */
	}
}

/* SIGBUS: a mapped model file lost pages (truncated), or someone else's fault. */
static void
modelfile_sigbus(int sig, siginfo_t *si, void *ctx)
{
	const char *path = checkpoint_mapped_path(si->si_addr);

	(void)ctx;
	if (path == NULL) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	if (modelfile_term_saved) {
		static const char reset[] = "\033[?2004l\033[0m\033[?25h\033[?1049l\r\n";

		tcsetattr(STDIN_FILENO, TCSANOW, &modelfile_term);
		if (write(STDOUT_FILENO, reset, sizeof reset - 1) < 0) {
			/* A terminal that is gone: nothing to restore. */
		}
	}
	modelfile_say("seqmatch: ");
	modelfile_say(path);
	modelfile_say(": the model file was truncated or replaced in place while in use "
	    "(its weights are read from a mapping of the file); stopping. Replace model "
	    "files by renaming a new file over them, as seqmatch does.\n");
	_exit(APP_EXIT_ERROR);
}

/* Install the SIGBUS handler (main, before any command). */
void
app_catch_sigbus(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = modelfile_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

/* Save the terminal's modes before the UI changes them (on = 0: forget them). */
void
app_sigbus_term(int on)
{
	if (on && tcgetattr(STDIN_FILENO, &modelfile_term) == 0)
		modelfile_term_saved = 1;
	else
		modelfile_term_saved = 0;
}
