/*
 * cmd-session.c: `seqmatch session`: list the saved session transcripts,
 * export one as Markdown or normalised JSON lines, and check a config file
 * (for scripts: the problem as FILE:LINE:COL: MESSAGE).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cmd.h"
#include "conf.h"
#include "grid.h"
#include "transcript.h"

/* The help text. */
static void
cmd_session_usage(FILE *f)
{
	fprintf(f, "Usage: seqmatch session list\n"
	    "       seqmatch session export ID|FILE.jsonl [--markdown]\n"
	    "       seqmatch session check-config [FILE]\n"
	    "\n"
	    "list          the saved sessions, newest first, one per line, tab-separated:\n"
	    "              ID, time, model, seed, tokens/erased, the prompt's first line\n"
	    "              (its first 60 characters; a tab as \\t, other control\n"
	    "              characters as \\r or \\xNN)\n"
	    "              (open one with 'seqmatch ui --session ID')\n"
	    "export        print a session as normalised JSON lines, or with --markdown\n"
	    "              as Markdown (settings, final text, the backspace events)\n"
	    "check-config  load a config file (default: the user's config.yaml)\n"
	    "\n"
	    "Sessions: $XDG_STATE_HOME/seqmatch/sessions (default ~/.local/state/...)\n"
	    "Config:   $XDG_CONFIG_HOME/seqmatch/config.yaml (default ~/.config/...)\n"
	    "\n"
	    "Exit status: 0 ok, 1 a bad or missing file, 2 bad command line.\n");
}

/* `session list`. */
static int
cmd_session_list(void)
{
	char *dir = transcript_dir(), *cause = NULL;
	struct transcript_entry *v;
	size_t n;

	if (dir == NULL) {
		app_error("session: neither XDG_STATE_HOME nor HOME is set");
		return APP_EXIT_ERROR;
	}
	if (transcript_list(dir, &v, &n, &cause) != 0) {
		app_error("session list: %s", cause);
		free(cause);
		free(dir);
		return APP_EXIT_ERROR;
	}
	for (size_t i = 0; i < n; i++) {
		const char *model;
		char *prompt;

		if (v[i].error != NULL) {
			app_warn("%s", v[i].error);
			continue;
		}
		model = strrchr(v[i].model, '/') != NULL ? strrchr(v[i].model, '/') + 1 :
		    v[i].model;
		printf("%s\t%s\t%s\t%llu\t", v[i].id, v[i].time, model,
		    (unsigned long long)v[i].seed);
		if (v[i].stopped)
			printf("%d/%d", v[i].n_generated, v[i].n_erased);
		else
			printf("-");
		prompt = transcript_prompt_line(v[i].prompt, 60);
		printf("\t%s\n", prompt);
		free(prompt);
	}
	transcript_list_free(v, n);
	free(dir);
	return APP_EXIT_OK;
}

/* `session export FILE [--markdown]`. */
static int
cmd_session_export(int argc, char **argv)
{
	const char *file = NULL;
	int markdown = 0;
	struct transcript s;
	char *cause = NULL, *dir, *path;

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
		app_error("session export: which ID or FILE.jsonl?");
		return APP_EXIT_USAGE;
	}
	dir = transcript_dir();
	path = transcript_resolve(dir, file, &cause);
	free(dir);
	if (path == NULL || transcript_load(&s, path, &cause) != 0) {
		app_error("%s", cause);
		free(cause);
		free(path);
		return APP_EXIT_ERROR;
	}
	free(path);
	if (markdown)
		transcript_markdown(stdout, &s);
	else
		transcript_write(stdout, &s);
	transcript_free(&s);
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
	struct conf c;
	char *path, *cause = NULL;
	int rc;

	if (argc > 1) {
		app_error("session check-config: one FILE at most");
		return APP_EXIT_USAGE;
	}
	path = argc == 1 ? xstrdup(argv[0]) : conf_path();
	if (path == NULL) {
		app_error("session: neither XDG_CONFIG_HOME nor HOME is set");
		return APP_EXIT_ERROR;
	}
	conf_init(&c);
	rc = conf_load(&c, path, &cause);
	if (rc == 1)
		app_error("%s: no such file", path);
	else if (rc != 0)
		fprintf(stderr, "%s\n", cause);
	else
		printf("%s: ok (theme %s, colors %s, mouse %s, plot %s, %d decoding values)\n",
		    path, c.theme != NULL ? c.theme : "unset", c.colors != NULL ? c.colors :
		    "unset", c.mouse < 0 ? "unset" : c.mouse ? "on" : "off", c.plot < 0 ? "unset" :
		    c.plot == GRID_PLOT_BRAILLE ? "braille" : c.plot == GRID_PLOT_BLOCK ? "block" :
		    "ascii", c.n_decoding);
	free(cause);
	free(path);
	conf_release(&c);
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
