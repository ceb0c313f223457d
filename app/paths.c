/*
 * paths.c: where files live: the data/ and themes/ of an uninstalled build
 * (the installed program uses PKGDATADIR), the XDG directories for the user's
 * config and the program's state, and making those directories.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "util.h"

/*
 * The directory holding data/ and themes/ for the running program: its own
 * directory (an in-tree build, or wherever the user put it). An out-of-tree
 * build directory has data and themes as links into the source tree (made by
 * configure.ac's data-links), so no build path is compiled in. malloc'd;
 * NULL if /proc/self/exe cannot be read or memory runs out.
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
	return strdup(exe);
}

/*
 * An XDG path: value/suffix when value (an XDG_* variable) is an absolute
 * path, else home/fallback/suffix; NULL when neither can be used (a relative
 * XDG value is invalid by the specification and ignored). malloc'd.
 */
char *
app_xdg_path(const char *value, const char *home, const char *fallback, const char *suffix)
{
	char *out;

	if (value != NULL && value[0] == '/') {
		if (asprintf(&out, "%s/%s", value, suffix) < 0)
			app_fatal("out of memory");
	} else if (home != NULL && home[0] != '\0') {
		if (asprintf(&out, "%s/%s/%s", home, fallback, suffix) < 0)
			app_fatal("out of memory");
	} else
		return NULL;
	return out;
}

/* mkdir -p dir, mode 0700 for the directories it makes; -1 with *cause naming the one that failed. */
int
app_mkdirs(const char *dir, char **cause)
{
	char *p = xstrdup(dir);

	for (char *q = p + 1; ; q++) {
		if (*q == '/' || *q == '\0') {
			char c = *q;

			*q = '\0';
			if (mkdir(p, 0700) != 0 && errno != EEXIST) {
				util_error(cause, "cannot create %s: %s", p, strerror(errno));
				free(p);
				return -1;
			}
			*q = c;
			if (c == '\0')
				break;
		}
	}
	free(p);
	return 0;
}
