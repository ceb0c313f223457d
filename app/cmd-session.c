/*
 * cmd-session.c: `seqmatch session`: list the saved session transcripts,
 * export one as Markdown or normalised JSON lines, and check a config file
 * (for scripts: the problem as FILE:LINE:COL: MESSAGE).
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "session.h"

/* The help text. */
static void
cmd_session_usage(FILE *f)
{
	fprintf(f, "Usage: seqmatch session list\n"
	    "       seqmatch session export FILE.jsonl [--markdown]\n"
	    "       seqmatch session check-config [FILE]\n"
	    "\n"
	    "list          the saved sessions, one per line: FILE, a tab, the seed, a tab,\n"
	    "              the prompt's first line\n"
	    "export        print a session as normalised JSON lines, or with --markdown\n"
	    "              as Markdown (settings, final text, the backspace events)\n"
	    "check-config  load a config file (default: the user's config.yaml)\n"
	    "\n"
	    "Sessions: $XDG_STATE_HOME/seqmatch/sessions (default ~/.local/state/...)\n"
	    "Config:   $XDG_CONFIG_HOME/seqmatch/config.yaml (default ~/.config/...)\n"
	    "\n"
	    "Exit status: 0 ok, 1 a bad or missing file, 2 bad command line.\n");
}

/* Sort file names. */
static int
cmd_session_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* `session list`. */
static int
cmd_session_list(void)
{
	char *dir = session_dir(), **names = NULL, *path;
	size_t n = 0;
	struct dirent *de;
	struct session s;
	char *cause = NULL;
	DIR *d;

	if (dir == NULL) {
		app_error("session: neither XDG_STATE_HOME nor HOME is set");
		return APP_EXIT_ERROR;
	}
	if ((d = opendir(dir)) == NULL) {
		free(dir); /* no sessions saved yet */
		return APP_EXIT_OK;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len > 6 && strcmp(de->d_name + len - 6, ".jsonl") == 0) {
			names = xrealloc(names, (n + 1) * sizeof *names);
			names[n++] = xstrdup(de->d_name);
		}
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmd_session_cmp);
	for (size_t i = 0; i < n; i++) {
		if (asprintf(&path, "%s/%s", dir, names[i]) < 0)
			app_fatal("out of memory");
		if (session_load(&s, path, &cause) != 0) {
			app_warn("%s", cause);
			free(cause);
			cause = NULL;
		} else {
			size_t l = strcspn(s.prompt, "\n");

			printf("%s\t%llu\t%.*s\n", path, (unsigned long long)s.seed,
			    (int)(l > 60 ? 60 : l), s.prompt);
			session_free(&s);
		}
		free(path);
		free(names[i]);
	}
	free(names);
	free(dir);
	return APP_EXIT_OK;
}

/* `session export FILE [--markdown]`. */
static int
cmd_session_export(int argc, char **argv)
{
	const char *file = NULL;
	int markdown = 0;
	struct session s;
	char *cause = NULL;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--markdown") == 0 || strcmp(argv[i], "-m") == 0)
			markdown = 1;
		else if (strcmp(argv[i], "--json") == 0)
			markdown = 0;
		else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			app_error("session export: unknown option '%s'", argv[i]);
			return APP_EXIT_USAGE;
		} else if (file != NULL) {
			app_error("session export: one FILE only");
			return APP_EXIT_USAGE;
		} else
			file = argv[i];
	}
	if (file == NULL) {
		app_error("session export: which FILE.jsonl?");
		return APP_EXIT_USAGE;
	}
	if (session_load(&s, file, &cause) != 0) {
		app_error("%s", cause);
		free(cause);
		return APP_EXIT_ERROR;
	}
	if (markdown)
		session_markdown(stdout, &s);
	else
		session_write(stdout, &s);
	session_free(&s);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		app_error("session export: cannot write the output");
		return APP_EXIT_ERROR;
	}
	return APP_EXIT_OK;
}

/* `session check-config [FILE]`. */
static int
cmd_session_check_config(int argc, char **argv)
{
	struct session_config c;
	char *path, *cause = NULL;
	int rc;

	if (argc > 1) {
		app_error("session check-config: one FILE at most");
		return APP_EXIT_USAGE;
	}
	path = argc == 1 ? xstrdup(argv[0]) : session_config_path();
	if (path == NULL) {
		app_error("session: neither XDG_CONFIG_HOME nor HOME is set");
		return APP_EXIT_ERROR;
	}
	session_config_init(&c);
	rc = session_config_load(&c, path, &cause);
	if (rc == 1)
		app_error("%s: no such file", path);
	else if (rc != 0)
		fprintf(stderr, "%s\n", cause);
	else
		printf("%s: ok (theme %s, colors %s, mouse %s, %d decoding values)\n", path,
		    c.theme != NULL ? c.theme : "unset", c.colors != NULL ? c.colors : "unset",
		    c.mouse < 0 ? "unset" : c.mouse ? "on" : "off", c.n_decoding);
	free(cause);
	free(path);
	session_config_release(&c);
	return rc == 0 ? APP_EXIT_OK : APP_EXIT_ERROR;
}

/* `seqmatch session`. */
int
cmd_session(int argc, char **argv)
{
	if (argc < 2) {
		cmd_session_usage(stderr);
		return APP_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		cmd_session_usage(stdout);
		return APP_EXIT_OK;
	}
	if (strcmp(argv[1], "list") == 0) {
		if (argc > 2) {
			app_error("session list: unexpected argument '%s'", argv[2]);
			return APP_EXIT_USAGE;
		}
		return cmd_session_list();
	}
	if (strcmp(argv[1], "export") == 0)
		return cmd_session_export(argc - 2, argv + 2);
	if (strcmp(argv[1], "check-config") == 0)
		return cmd_session_check_config(argc - 2, argv + 2);
	app_error("session: unknown action '%s' (list, export, check-config)", argv[1]);
	return APP_EXIT_USAGE;
}
