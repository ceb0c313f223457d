/*
 * paths.c: where an uninstalled build finds its data/ and themes/ (the
 * installed program uses PKGDATADIR; the user's files come from the XDG
 * directories, see the callers).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"

/*
 * The directory holding data/ and themes/ for the running program: its own
 * directory (an in-tree build, or wherever the user put it), except that the
 * program of an out-of-tree build, run from its build directory, gets the
 * source tree, where those files live. malloc'd; NULL if /proc/self/exe
 * cannot be read or memory runs out.
 */
char *
app_data_dir(void)
{
	char exe[4096], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash == NULL)
		return NULL;
	*slash = '\0';
#if defined(SEQMATCH_ABS_BUILDDIR) && defined(SEQMATCH_ABS_SRCDIR)
	if (strcmp(exe, SEQMATCH_ABS_BUILDDIR) == 0)
		return strdup(SEQMATCH_ABS_SRCDIR);
#endif
	return strdup(exe);
}
