/*
 * ui-notify.c: how every part of the UI tells the loop something: the
 * status-line notice (ui_message) and the self-pipe that wakes the loop from
 * a worker thread or a signal handler (ui_wake; ui.c opens and closes it). A
 * leaf of the UI: the panes, the workers and the terminal layer use it, and
 * it uses none of them.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "ui.h"

int ui_wake[2] = { -1, -1 }; /* the self-pipe: read end, write end */

/* Set the status-line notice. */
void
ui_message(struct ui *ui, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ui->message, sizeof ui->message, fmt, ap);
	va_end(ap);
	ui->message_error = error;
}
