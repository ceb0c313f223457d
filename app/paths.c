/*
 * paths.c: where files live: the data/ and themes/ of an uninstalled build
 * (the installed program uses PKGDATADIR), the XDG directories for the user's
 * config and the program's state, and making those directories.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "record.h"
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

/* Whether a regular file is readable. */
static int
paths_readable(const char *path)
{
	return access(path, R_OK) == 0;
}

/*
 * Find the default model. An explicit $SEQMATCH_MODEL is returned even if it
 * does not exist, so that loading it reports the user's path rather than "no
 * model found". Then the XDG data directory, then data/model.bin next to the
 * program (the source tree for an in-tree build) and in the current directory.
 */
const char *
app_default_model(void)
{
	static char path[PATH_MAX + 64];
	const char *env, *home;
	char *dir;

	env = getenv("SEQMATCH_MODEL");
	if (env != NULL && env[0] != '\0')
		return env;

	env = getenv("XDG_DATA_HOME");
	home = getenv("HOME");
	if (env != NULL && env[0] == '/') {
		snprintf(path, sizeof path, "%s/seqmatch/model.bin", env);
		if (paths_readable(path))
			return path;
	} else if (home != NULL && home[0] != '\0') {
		snprintf(path, sizeof path, "%s/.local/share/seqmatch/model.bin", home);
		if (paths_readable(path))
			return path;
	}

	if ((dir = app_data_dir()) != NULL) {
		snprintf(path, sizeof path, "%s/data/model.bin", dir);
		free(dir);
		if (paths_readable(path))
			return path;
	}
	snprintf(path, sizeof path, "data/model.bin");
	if (paths_readable(path))
		return path;
#ifdef PKGDATADIR
	snprintf(path, sizeof path, "%s/model.bin", PKGDATADIR);
	if (paths_readable(path))
		return path;
#endif
	return NULL;
}

/* The fine-tune's or live MAUVE's corpus: the model's record, else the shipped one (app.h). */
char *
app_find_corpus(const struct record *rec, char *note, size_t size)
{
	static const char *const keys[] = { "corpus", "ft_corpus" };
	const char *val;
	char *dir, *path = NULL;
	const char *tried = NULL;

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		val = rec != NULL ? record_get(rec, keys[i]) : NULL;
		if (val == NULL || val[0] == '\0')
			continue;
		if (access(val, R_OK) == 0) {
			snprintf(note, size, "corpus %s (record key %s)", val, keys[i]);
			return xstrdup(val);
		}
		if (tried == NULL)
			tried = val;
	}
	dir = app_data_dir();
	if (dir != NULL && asprintf(&path, "%s/data/corpus.txt", dir) < 0)
		app_fatal("out of memory");
	free(dir);
	if (path == NULL || access(path, R_OK) != 0) {
		free(path);
		path = xstrdup("data/corpus.txt");
		if (access(path, R_OK) != 0) {
			free(path);
			if (asprintf(&path, "%s/corpus.txt", PKGDATADIR) < 0)
				app_fatal("out of memory");
			if (access(path, R_OK) != 0) {
				snprintf(note, size, "no corpus: %s%s%s"
				    "no data/corpus.txt next to the program or here, none in %s",
				    tried != NULL ? "the record's " : "", tried != NULL ? tried : "",
				    tried != NULL ? " is not readable; " : "the model's record "
				    "names none; ", PKGDATADIR);
				free(path);
				return NULL;
			}
		}
	}
	snprintf(note, size, "corpus %s (shipped%s)", path,
	    tried != NULL ? "; the record's one is not readable" :
	    "; the model's record names none");
	return path;
}
