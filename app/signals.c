/*
 * signals.c: SIGINT and SIGTERM for the commands that run long (train,
 * finetune, eval): the first sets app_interrupted, which they poll between
 * steps; a second SIGINT ends the program at once. The UI has its own
 * handlers (ui-term.c).
 */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "app.h"

volatile sig_atomic_t app_interrupted;

/* The handler: note the first signal; a second SIGINT exits at once. */
static void
signals_handler(int sig)
{
	static const char msg[] = "\nseqmatch: interrupted\n";

	if (sig == SIGINT && app_interrupted) {
		if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0) {
			/* Nothing to do: we are leaving anyway. */
		}
		_exit(APP_EXIT_INTERRUPTED);
	}
	app_interrupted = sig;
}

/* Install the SIGINT/SIGTERM handler (commands that poll app_interrupted call this). */
void
app_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = signals_handler;
	sigemptyset(&sa.sa_mask);
	/* Restart reads and writes: the commands poll app_interrupted between steps. */
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}
