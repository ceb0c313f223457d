/*
 * app-stubs.c: the program's fatal-error and allocation helpers (app/main.c
 * has the real ones) for the tests that link app/ sources without main.c.
 * Out of memory or a fatal error prints the reason and aborts the test.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"

/* Print "seqmatch: message" and abort. */
void
app_fatal(const char *fmt, ...)
{
	va_list ap;

	fputs("seqmatch: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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
