/*
 * xmalloc.c: allocation that cannot fail: out of memory ends the program
 * with a message (app_fatal, log.c). For the main thread only; a worker
 * thread allocates with plain malloc and reports failure through its result.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "app.h"

/* malloc or die. */
void *
xmalloc(size_t n)
{
	void *p = malloc(n == 0 ? 1 : n);

	if (p == NULL)
		app_fatal("out of memory (allocating %zu bytes)", n);
	return p;
}

/* calloc or die. */
void *
xcalloc(size_t n, size_t size)
{
	void *p;

	if (n == 0 || size == 0)
		n = size = 1;
	p = calloc(n, size);
	if (p == NULL)
		app_fatal("out of memory (allocating %zu x %zu bytes)", n, size);
	return p;
}

/* realloc or die. */
void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n == 0 ? 1 : n);

	if (q == NULL)
		app_fatal("out of memory (allocating %zu bytes)", n);
	return q;
}

/* strdup or die. */
char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		app_fatal("out of memory (copying %zu bytes)", strlen(s) + 1);
	return p;
}
