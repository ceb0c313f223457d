/*
 * cmd-theme.c: `seqmatch theme`: check theme files (for scripts and theme
 * authors: every problem with its file, line and column) and list the themes
 * found in the search path.
 */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "cmd.h"
#include "theme.h"

/* The help text. */
static void
cmd_theme_usage(FILE *f)
{
	fprintf(f, "Usage: seqmatch theme check [--verbose] FILE...\n"
	    "       seqmatch theme list [--verbose]\n"
	    "\n"
	    "check  load each FILE (a path, or a theme name from the search path) and\n"
	    "       report every problem as FILE:LINE:COL: MESSAGE on stderr, and\n"
	    "       what loads but looks wrong (holes of the terminal's background)\n"
	    "list   the themes in the search path, one per line: NAME, a tab, PATH\n"
	    "\n"
	    "Options:\n"
	    "  -v, --verbose  check: print the resolved slots; list: check each theme\n"
	    "  -h, --help     show this help\n"
	    "\n"
	    "Search path (first match wins):\n"
	    "  $XDG_CONFIG_HOME/seqmatch/themes (default ~/.config/seqmatch/themes)\n"
	    "  %s/themes\n"
	    "  themes/ next to the seqmatch program (an uninstalled build)\n"
	    "\n"
	    "Exit status: 0 every theme loads, 1 a theme has problems, 2 bad command line.\n",
	    PKGDATADIR);
}

/* The search path from the environment; free with theme_search_path_free. */
static char **
cmd_theme_search_path(void)
{
	char *exe_dir = app_data_dir();
	char **path;

	path = theme_search_path_new(getenv("XDG_CONFIG_HOME"), getenv("HOME"), exe_dir);
	free(exe_dir);
	if (path == NULL)
		app_fatal("out of memory");
	return path;
}

/* Print a resolved theme, one slot per line. */
static void
cmd_theme_print(const struct theme *t)
{
	char fg[32], bg[32], attrs[64];

	printf("name: %s\n", t->name);
	for (int i = 0; i < THEME_NSLOTS; i++) {
		const struct theme_style *s = &t->slots[i];

		theme_colour_format(s->fg, fg, sizeof fg);
		theme_colour_format(s->bg, bg, sizeof bg);
		theme_attrs_format(s->attrs, attrs, sizeof attrs);
		printf("  %-14s fg %-9s bg %-9s attrs %s\n",
		    theme_slot_name((enum theme_slot)i), fg, bg, attrs);
	}
}

/* `theme check`: load every file; 0 if all load. */
static int
cmd_theme_check(int argc, char **argv, int verbose, char **search)
{
	int rc = APP_EXIT_OK;

	if (argc == 0) {
		app_error("theme check: no FILE given");
		cmd_theme_usage(stderr);
		return APP_EXIT_USAGE;
	}
	for (int i = 0; i < argc; i++) {
		struct theme t;
		char *cause = NULL, lint[256];
		struct stat st;
		int r;

		/* A bare name that is not a file here is looked up in the search path. */
		if (stat(argv[i], &st) == 0 || strchr(argv[i], '/') != NULL)
			r = theme_load_file(&t, argv[i], (const char *const *)search, &cause);
		else
			r = theme_load(&t, argv[i], (const char *const *)search, &cause);
		if (r < 0) {
			fflush(stdout);
			fprintf(stderr, "%s\n", cause != NULL ? cause : "out of memory");
			free(cause);
			rc = APP_EXIT_ERROR;
			continue;
		}
		if (theme_lint(&t, lint, sizeof lint)) {
			fflush(stdout);
			fprintf(stderr, "%s: %s\n", argv[i], lint);
			rc = APP_EXIT_ERROR;
			continue;
		}
		printf("%s: ok (theme '%s')\n", argv[i], t.name);
		if (verbose)
			cmd_theme_print(&t);
	}
	return rc;
}

/* `theme list`: every NAME.yaml in the search path, first match of a name wins. */
static int
cmd_theme_list(int verbose, char **search)
{
	struct theme_entry *list;
	size_t n;
	int rc = APP_EXIT_OK;

	if (theme_list_new((const char *const *)search, &list, &n) != 0)
		app_fatal("out of memory");
	for (size_t i = 0; i < n; i++) {
		struct theme t;
		char *cause = NULL;

		printf("%s\t%s", list[i].name, list[i].path);
		if (verbose) {
			if (theme_load_file(&t, list[i].path, (const char *const *)search,
			    &cause) == 0) {
				printf("\tok");
			} else {
				printf("\tERRORS");
				fflush(stdout);
				fprintf(stderr, "%s\n", cause != NULL ? cause : "out of memory");
				rc = APP_EXIT_ERROR;
			}
			free(cause);
		}
		printf("\n");
	}
	theme_list_free(list, n);
	return rc;
}

/* `seqmatch theme`. */
int
cmd_theme(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *sub;
	char **search;
	int c, verbose = 0, rc;

	/* "+": options stop at the subcommand; its own options are parsed below. */
	while ((c = getopt_long(argc, argv, "+vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbose = 1;
			break;
		case 'h':
			cmd_theme_usage(stdout);
			return APP_EXIT_OK;
		default:
			cmd_theme_usage(stderr);
			return APP_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		app_error("theme: say check or list");
		cmd_theme_usage(stderr);
		return APP_EXIT_USAGE;
	}
	sub = argv[optind];
	if (strcmp(sub, "help") == 0) {
		cmd_theme_usage(stdout);
		return APP_EXIT_OK;
	}
	if (strcmp(sub, "check") != 0 && strcmp(sub, "list") != 0) {
		app_error("theme: unknown subcommand '%s' (use check or list)", sub);
		return APP_EXIT_USAGE;
	}
	/* The subcommand's options: argv[optind] plays argv[0]. */
	argc -= optind;
	argv += optind;
	optind = 1;
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbose = 1;
			break;
		case 'h':
			cmd_theme_usage(stdout);
			return APP_EXIT_OK;
		default:
			cmd_theme_usage(stderr);
			return APP_EXIT_USAGE;
		}
	}
	if (strcmp(sub, "list") == 0 && optind < argc) {
		app_error("theme list: unexpected argument '%s'", argv[optind]);
		return APP_EXIT_USAGE;
	}
	search = cmd_theme_search_path();
	if (strcmp(sub, "check") == 0)
		rc = cmd_theme_check(argc - optind, argv + optind, verbose, search);
	else
		rc = cmd_theme_list(verbose, search);
	theme_search_path_free(search);
	return rc;
}
