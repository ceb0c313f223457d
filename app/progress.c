/* progress.c: a progress bar on a terminal, plain lines otherwise. */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"
#include "util.h"

#define PROGRESS_BAR 20           /* characters inside the brackets */
#define PROGRESS_TTY_INTERVAL 0.1 /* seconds between redraws on a terminal */
#define PROGRESS_LOG_INTERVAL 1.0 /* seconds between plain lines */

static int progress_is_quiet;

/* Turn all progress output off or on. */
void
progress_set_quiet(int quiet)
{
	progress_is_quiet = quiet;
}

/* Whether progress output is off. */
int
progress_quiet(void)
{
	return progress_is_quiet;
}

/* Set up a report. */
void
progress_init(struct progress *p, long first, long total)
{
	memset(p, 0, sizeof *p);
	p->first = first;
	p->total = total;
	p->done = first;
	p->loss = NAN;
	p->start = util_now();
	p->last_draw = -1e30;
	p->drawn_done = -1;
	p->tty = isatty(STDERR_FILENO);
}

/* A rate with a k/M suffix: "850", "12.3k", "1.25M". */
static void
progress_rate(char *buf, size_t size, double v)
{
	if (v >= 1e6)
		snprintf(buf, size, "%.2fM", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, size, "%.1fk", v / 1e3);
	else
		snprintf(buf, size, "%.0f", v);
}

/* A duration: "45s", "1m02s", "2h05m". */
static void
progress_duration(char *buf, size_t size, double s)
{
	long t;

	if (!isfinite(s) || s < 0 || s > 1e8) {
		snprintf(buf, size, "?");
		return;
	}
	t = lround(s);
	if (t < 60)
		snprintf(buf, size, "%lds", t);
	else if (t < 3600)
		snprintf(buf, size, "%ldm%02lds", t / 60, t % 60);
	else
		snprintf(buf, size, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
}

/* Format the whole line (without \r or newline). */
static void
progress_format(const struct progress *p, char *buf, size_t size, double now)
{
	double elapsed = now - p->start;
	long steps = p->done - p->first, left = p->total - p->done;
	char bar[PROGRESS_BAR + 1], rate[32], eta[32];
	int filled = 0, n;

	if (p->total > 0) {
		filled = (int)((double)p->done / (double)p->total * PROGRESS_BAR);
		if (filled > PROGRESS_BAR)
			filled = PROGRESS_BAR;
		if (filled < 0)
			filled = 0;
	}
	memset(bar, '#', (size_t)filled);
	memset(bar + filled, '.', (size_t)(PROGRESS_BAR - filled));
	bar[PROGRESS_BAR] = '\0';

	n = snprintf(buf, size, "[%s] %ld/%ld", bar, p->done, p->total);
	if (n < 0 || (size_t)n >= size)
		return;
	if (!isnan(p->loss))
		n += snprintf(buf + n, size - (size_t)n, " loss %.3f", p->loss);
	if ((size_t)n >= size)
		return;
	if (p->tokens > 0 && elapsed > 0) {
		progress_rate(rate, sizeof rate, p->tokens / elapsed);
		n += snprintf(buf + n, size - (size_t)n, " %s tok/s", rate);
	}
	if ((size_t)n >= size)
		return;
	if (steps > 0 && left > 0) {
		progress_duration(eta, sizeof eta, elapsed / (double)steps * (double)left);
		snprintf(buf + n, size - (size_t)n, " ETA %s", eta);
	} else if (left <= 0) {
		progress_duration(eta, sizeof eta, elapsed);
		snprintf(buf + n, size - (size_t)n, " in %s", eta);
	}
}

/* Draw the current state: in place on a terminal, a line otherwise. */
static void
progress_draw(struct progress *p, double now)
{
	char line[256];
	int len;

	progress_format(p, line, sizeof line, now);
	len = (int)strlen(line);
	if (p->tty) {
		/* Pad over what the previous, longer line left behind. */
		fprintf(stderr, "\r%s%*s", line, p->width > len ? p->width - len : 0, "");
		p->width = len;
		p->drawn = 1;
	} else
		fprintf(stderr, "%s\n", line);
	fflush(stderr);
	p->last_draw = now;
	p->drawn_done = p->done;
}

/* Record progress; draw when the last draw is old enough. */
void
progress_update(struct progress *p, long done, double loss, double tokens)
{
	double now = util_now();
	double interval = p->tty ? PROGRESS_TTY_INTERVAL : PROGRESS_LOG_INTERVAL;

	p->done = done;
	p->loss = loss;
	p->tokens = tokens;
	if (progress_is_quiet)
		return;
	if (now - p->last_draw >= interval)
		progress_draw(p, now);
}

/* Print a message line, clearing the bar first. */
void
progress_message(struct progress *p, const char *fmt, ...)
{
	va_list ap;

	if (p->drawn) {
		fprintf(stderr, "\r%*s\r", p->width, "");
		p->drawn = 0;
		p->width = 0;
	}
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	/* Redraw the bar at the next update. */
	p->last_draw = -1e30;
}

/* Final draw and newline. */
void
progress_finish(struct progress *p)
{
	if (progress_is_quiet)
		return;
	/* A plain log already holds a line for this step. */
	if (p->tty || p->drawn_done != p->done)
		progress_draw(p, util_now());
	if (p->tty)
		fputc('\n', stderr);
	fflush(stderr);
	p->drawn = 0;
	p->width = 0;
}
