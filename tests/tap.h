/*
 * tap.h: a minimal TAP producer for the C tests (plan at the end, exit status
 * from failures). Every test binary gets an alarm when it starts (a
 * constructor below): a wait that never ends fails the test instead of hanging
 * the suite. SEQMATCH_TEST_TIMEOUT sets the seconds (default 600, 0: none).
 */
#ifndef SEQMATCH_TAP_H
#define SEQMATCH_TAP_H

#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TAP_TIMEOUT_DEFAULT 600 /* seconds: generous, the slowest test takes a minute */

static int tap_count;
static int tap_failed;

/* Report one test; returns cond. */
static int __attribute__((format(printf, 2, 3), unused))
tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

/* A diagnostic line. */
static void __attribute__((format(printf, 1, 2), unused))
tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Print the plan and return the exit status for main. */
static int __attribute__((unused))
tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

/* SIGALRM: say so in TAP (async-signal-safe writes only) and fail. */
static void
tap_timeout(int sig)
{
	static const char msg[] = "Bail out! timed out (SEQMATCH_TEST_TIMEOUT)\n";
	ssize_t rc = write(STDOUT_FILENO, msg, sizeof msg - 1);

	(void)sig;
	(void)rc;
	_exit(1);
}

/* Arm the alarm before main runs. */
static void __attribute__((constructor, unused))
tap_arm_alarm(void)
{
	const char *env = getenv("SEQMATCH_TEST_TIMEOUT");
	long secs = TAP_TIMEOUT_DEFAULT;
	char *end;

	if (env != NULL && env[0] != '\0') {
		secs = strtol(env, &end, 10);
		if (*end != '\0' || secs < 0)
			secs = TAP_TIMEOUT_DEFAULT;
	}
	if (secs == 0)
		return;
	signal(SIGALRM, tap_timeout);
	alarm((unsigned)secs);
}

/* Max absolute difference between two float arrays. */
static double __attribute__((unused))
tap_maxdiff(const float *a, const float *b, size_t n)
{
	double m = 0;
	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)a[i] - (double)b[i]);
		if (d > m || d != d)
			m = d != d ? INFINITY : d;
	}
	return m;
}

#endif
