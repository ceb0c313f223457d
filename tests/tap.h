/* tap.h: a minimal TAP producer for the C tests (plan at the end, exit status from failures). */
#ifndef SEQMATCH_TAP_H
#define SEQMATCH_TAP_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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
