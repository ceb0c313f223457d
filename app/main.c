/*
 * main.c: the seqmatch program's entry point: global options, OpenBLAS kernel
 * selection and subcommand dispatch. The top of app/: nothing calls into it
 * (messages are in log.c, allocation in xmalloc.c, signals in signals.c,
 * the default model in paths.c).
 *
 * How the OpenBLAS kernel selection works. OpenBLAS (built with DYNAMIC_ARCH,
 * as Debian's is) picks its kernels in a constructor when the library is
 * loaded, before main() runs, from cpuid or from $OPENBLAS_CORETYPE. Debian
 * 12's 0.3.21 does not know recent Intel CPUs and silently takes its generic
 * Prescott kernels, 5x slower than the SkylakeX ones that are correct there.
 * Setting the variable inside main() is too late, so when the user has not
 * chosen (no OPENBLAS_CORETYPE, no SEQMATCH_NO_CORETYPE, no --no-coretype) and
 * the core in use is generic while cpuid offers better, we set
 * OPENBLAS_CORETYPE and execute ourselves again with SEQMATCH_REEXEC=1 and
 * the generic core's name in SEQMATCH_GENERIC_CORE. The new process compares a
 * small product against a naive one; if they disagree it warns and executes
 * once more with the generic core (SEQMATCH_REEXEC=2, no further check).
 * OPENBLAS_CORETYPE being set is what stops a loop; SEQMATCH_REEXEC only says
 * "check the kernels you were given" and is removed from the environment at
 * once, so processes we or our caller start later begin clean (they inherit
 * OPENBLAS_CORETYPE, which is right: same machine, same kernels).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "cmd.h"
#include "cpu.h"
#include "dist.h"
#include "pool.h"
#include "options.h"
#include "progress.h"
#include "util.h"

/*
 * The prompt of a plain `seqmatch` run: empty, i.e. a new document from
 * <|endoftext|>, so that any model writes in the style of its own corpus.
 */
#define MAIN_DEFAULT_PROMPT ""
#define MAIN_MAX_THREADS 64 /* Debian's OpenBLAS is built for at most 64 threads */

static int main_threads;     /* --threads, 0 when not given */
static int main_quiet;       /* -q */
static int main_debug;       /* $SEQMATCH_DEBUG: engine debug and info messages */
static char main_core_how[192] = "detected by OpenBLAS";

/* A subcommand. */
struct main_cmd {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
};

static const struct main_cmd main_cmds[] = {
	{ "train", cmd_train, "train a tokenizer and a model on a text corpus" },
	{ "finetune", cmd_finetune, "fine-tune a model: SequenceMatch (<bksp>), BC or MLE" },
	{ "generate", cmd_generate, "write text from a model, given a prompt" },
	{ "tokenize", cmd_tokenize, "print the token ids and pieces of a text" },
	{ "import", cmd_import, "llm.c's model and tokenizer files into a model" },
	{ "export", cmd_export, "a model into llm.c's model and tokenizer files" },
	{ "quantize", cmd_quantize, "store a model's matrices as bf16 or q8 (or back to fp32)" },
	{ "bench", cmd_bench, "measure this machine: sgemm, bandwidth, training, generation" },
	{ "mauve", cmd_mauve, "MAUVE between two feature matrices (.npy)" },
	{ "eval", cmd_eval, "generate from held-out prompts; MAUVE and text statistics" },
	{ "theme", cmd_theme, "check and list colour themes" },
	{ "session", cmd_session, "list and export saved UI sessions; check the config" },
	{ "ui", cmd_ui, "the interactive terminal UI" },
};
#define MAIN_NCMDS (sizeof main_cmds / sizeof main_cmds[0])

/* Whether an environment variable is set to something other than "" or "0". */
static int
main_env_on(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

/* Execute this program again with the same arguments; returns only on failure. */
static void
main_exec(char **argv)
{
	fflush(stdout);
	fflush(stderr);
	execv("/proc/self/exe", argv);
	if (argv[0] != NULL)
		execvp(argv[0], argv);
}

/* Choose the OpenBLAS kernels (see the top of this file); may not return. */
static void
main_select_core(char **argv, int no_coretype)
{
	const char *stage, *generic_env, *core, *best;
	char generic[64] = "", *cause = NULL;

	stage = getenv("SEQMATCH_REEXEC");
	if (stage != NULL) {
		int first = strcmp(stage, "1") == 0;

		generic_env = getenv("SEQMATCH_GENERIC_CORE");
		if (generic_env != NULL)
			snprintf(generic, sizeof generic, "%s", generic_env);
		unsetenv("SEQMATCH_REEXEC");
		unsetenv("SEQMATCH_GENERIC_CORE");
		core = cpu_blas_core();
		if (!first) {
			snprintf(main_core_how, sizeof main_core_how,
			    "generic fallback after the chosen core failed the self-check");
			return;
		}
		snprintf(main_core_how, sizeof main_core_how,
		    "chosen by seqmatch; OpenBLAS detected %s", generic[0] ? generic : "?");
		if (generic[0] != '\0' && cpu_core_is_generic(core))
			app_warn("OPENBLAS_CORETYPE=%s was not honoured; OpenBLAS is using %s",
			    getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "?", core);
		if (cpu_blas_selfcheck(&cause) == 0)
			return;
		if (generic[0] == '\0') {
			/* Not started by us after all: there is nothing to fall back to. */
			app_warn_always("OpenBLAS core %s failed the self-check: %s; set "
			    "OPENBLAS_CORETYPE to a core this CPU supports", core,
			    cause != NULL ? cause : "wrong result");
			free(cause);
			return;
		}
		app_warn_always("OpenBLAS core %s failed the self-check: %s; falling back "
		    "to generic kernels (%s)", core, cause != NULL ? cause : "wrong result",
		    generic);
		free(cause);
		setenv("OPENBLAS_CORETYPE", generic, 1);
		setenv("SEQMATCH_REEXEC", "2", 1);
		main_exec(argv);
		app_fatal("cannot execute %s again with generic kernels: %s; run with "
		    "SEQMATCH_NO_CORETYPE=1", argv[0], strerror(errno));
	}

	if (getenv("OPENBLAS_CORETYPE") != NULL && getenv("OPENBLAS_CORETYPE")[0] != '\0') {
		snprintf(main_core_how, sizeof main_core_how, "from OPENBLAS_CORETYPE=%s",
		    getenv("OPENBLAS_CORETYPE"));
		return;
	}
	if (no_coretype || main_env_on("SEQMATCH_NO_CORETYPE"))
		return;
	core = cpu_blas_core();
	if (core == NULL || !cpu_core_is_generic(core))
		return;
	best = cpu_best_coretype();
	if (best == NULL)
		return;

	snprintf(generic, sizeof generic, "%s", core);
	setenv("OPENBLAS_CORETYPE", best, 1);
	setenv("SEQMATCH_REEXEC", "1", 1);
	setenv("SEQMATCH_GENERIC_CORE", generic, 1);
	main_exec(argv);
	app_warn("cannot execute %s again with OPENBLAS_CORETYPE=%s: %s; staying on the "
	    "generic %s kernels", argv[0], best, strerror(errno), generic);
	unsetenv("OPENBLAS_CORETYPE");
	unsetenv("SEQMATCH_REEXEC");
	unsetenv("SEQMATCH_GENERIC_CORE");
}

/* The global usage text. */
static void
main_usage(FILE *f)
{
	fprintf(f, "Usage: seqmatch [GLOBAL OPTIONS] [COMMAND [OPTIONS]]\n"
	    "\n"
	    "Train and run small GPT-2-style language models on the CPU.\n"
	    "\n"
	    "Commands:\n");
	for (size_t i = 0; i < MAIN_NCMDS; i++)
		fprintf(f, "  %-16s %s\n", main_cmds[i].name, main_cmds[i].summary);
	fprintf(f, "  %-16s %s\n", "help [COMMAND]", "this help, or a command's");
	fprintf(f, "\n"
	    "Without a command, seqmatch opens the UI ('seqmatch ui') on a terminal, and\n"
	    "otherwise writes text from the default model: $SEQMATCH_MODEL,\n"
	    "else $XDG_DATA_HOME/seqmatch/model.bin (~/.local/share/seqmatch/model.bin),\n"
	    "else data/model.bin. Make one with:\n"
	    "  seqmatch train --corpus FILE --out ~/.local/share/seqmatch/model.bin\n"
	    "\n"
	    "Global options (before the command):\n"
	    "  --threads N      worker-pool threads, fixed at start (default all cores;\n"
	    "                   the UI: all cores but one). The pool shares out the\n"
	    "                   matrix products too, with BLAS on one thread in each\n"
	    "  --no-coretype    keep the OpenBLAS kernels OpenBLAS chose itself\n"
	    "  -q, --quiet      no progress bars and no warnings\n"
	    "  -h, --help       show this help\n"
	    "  --version        show the version, the OpenBLAS core and the thread count\n"
	    "\n"
	    "Environment:\n"
	    "  SEQMATCH_MODEL        the default model file\n"
	    "  OPENBLAS_CORETYPE     force OpenBLAS kernels (seqmatch then does not choose)\n"
	    "  SEQMATCH_NO_CORETYPE  1: same as --no-coretype\n"
	    "\n"
	    "Under mpirun (seqmatch configured --with-mpi), train and finetune run\n"
	    "data-parallel (each process takes a share of every batch), and eval\n"
	    "shares out its samples.\n"
	    "\n"
	    "Exit status: 0 success, 1 error (bad file, I/O), 2 bad command line, "
	    "130 interrupted.\n"
	    "Run 'seqmatch COMMAND --help' for the options of a command.\n");
}

/* Print the version, the OpenBLAS core in use and the thread count. */
static void
main_version(void)
{
	printf("seqmatch %s\n", PACKAGE_VERSION);
	printf("OpenBLAS core: %s (%s)\n", cpu_blas_core(), main_core_how);
	printf("Threads: %d (the pool; BLAS one thread in each)\n", pool_threads());
	printf("MPI: %s\n", dist_available() ? dist_library() : "no (configure --with-mpi)");
	printf("CPU: %d cores, AVX2 %s, AVX-512 %s\n", cpu_count(),
	    cpu_has_avx2() ? "yes" : "no", cpu_has_avx512() ? "yes" : "no");
}

/* Find a subcommand by name. */
static const struct main_cmd *
main_find(const char *name)
{
	for (size_t i = 0; i < MAIN_NCMDS; i++) {
		if (strcmp(main_cmds[i].name, name) == 0)
			return &main_cmds[i];
	}
	return NULL;
}

/* Run a subcommand with argv[0] replaced by "seqmatch NAME" (for getopt's messages). */
static int
main_run(const struct main_cmd *cmd, int argc, char **argv)
{
	static char name[64];

	snprintf(name, sizeof name, "seqmatch %s", cmd->name);
	argv[0] = name;
	optind = 1;
	return cmd->fn(argc, argv);
}

/* `seqmatch` alone: generate from the default model, or say how to get one. */
static int
main_default(void)
{
	const char *model = app_default_model();
	char *argv[6], *path;
	int rc;

	if (model == NULL) {
		app_error("no model found: $SEQMATCH_MODEL is not set, and neither "
		    "~/.local/share/seqmatch/model.bin nor data/model.bin exists");
		fprintf(stderr, "Train one with:\n"
		    "  seqmatch train --corpus FILE --out MODEL\n"
		    "and point SEQMATCH_MODEL at it, or save it as "
		    "~/.local/share/seqmatch/model.bin.\n"
		    "Run 'seqmatch --help' for more.\n");
		return APP_EXIT_ERROR;
	}
	argv[0] = (char *)"generate";
	argv[1] = (char *)"--model";
	path = xstrdup(model);
	argv[2] = path;
	argv[3] = (char *)"--prompt";
	argv[4] = (char *)MAIN_DEFAULT_PROMPT;
	argv[5] = NULL;
	rc = main_run(main_find("generate"), 5, argv);
	free(path);
	return rc;
}

/* Point the user at the help after a command-line error; returns the usage status. */
static int
main_bad_usage(void)
{
	fprintf(stderr, "Try 'seqmatch --help'.\n");
	return APP_EXIT_USAGE;
}

/* Parse the global options, choose the kernels, dispatch. */
int
main(int argc, char **argv)
{
	const struct main_cmd *cmd;
	int i, no_coretype = 0, help = 0, version = 0, rc;
	const char *arg, *value;
	char *cause = NULL;

	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (arg[0] != '-' || arg[1] == '\0')
			break;
		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(arg, "--threads") == 0 || strncmp(arg, "--threads=", 10) == 0) {
			if (arg[9] == '=')
				value = arg + 10;
			else if (i + 1 < argc)
				value = argv[++i];
			else {
				app_error("option '--threads' requires an argument");
				return main_bad_usage();
			}
			if (options_int("threads", value, 1, MAIN_MAX_THREADS, &main_threads) != 0)
				return main_bad_usage();
		} else if (strcmp(arg, "--no-coretype") == 0)
			no_coretype = 1;
		else if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0)
			main_quiet = 1;
		else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
			help = 1;
		else if (strcmp(arg, "--version") == 0)
			version = 1;
		else {
			app_error("unknown option '%s' (global options come before the command)",
			    arg);
			return main_bad_usage();
		}
	}
	if (help) {
		main_usage(stdout);
		return APP_EXIT_OK;
	}
	cmd = NULL;
	if (i < argc && strcmp(argv[i], "help") != 0) {
		cmd = main_find(argv[i]);
		if (cmd == NULL) {
			app_error("unknown command '%s'", argv[i]);
			return main_bad_usage();
		}
	}

	app_catch_sigbus();
	main_debug = main_env_on("SEQMATCH_DEBUG");
	progress_set_quiet(main_quiet);
	app_log_init(main_quiet, main_debug);
	main_select_core(argv, no_coretype);
	/*
	 * The thread budget, fixed here before any thread starts and never changed
	 * per call: the pool from --threads (else all cores), BLAS on one thread,
	 * its products shared out by the pool (engine/sgemm.c says why). The UI
	 * narrows the pool once at its start (ui.c).
	 */
	if (dist_init(&argc, &argv, &cause) != 0) {
		app_error("%s", cause);
		free(cause);
		return APP_EXIT_ERROR;
	}
	/* Only train, finetune and eval run distributed; N copies of the rest would collide. */
	if (dist_size() > 1 && (cmd == NULL || (strcmp(cmd->name, "train") != 0 &&
	    strcmp(cmd->name, "finetune") != 0 && strcmp(cmd->name, "eval") != 0))) {
		if (dist_rank() == 0)
			app_error("%s does not run under mpirun (%d processes): train, "
			    "finetune and eval do; run it as one process", cmd != NULL ? cmd->name :
			    "this command", dist_size());
		else /* rank 0 says it and ends the job */
			dist_barrier(NULL);
		fflush(stderr);
		dist_abort(APP_EXIT_USAGE);
	}
	/* Under mpirun, the ranks on this machine share its cores. */
	if (main_threads == 0 && dist_local_size() > 1)
		main_threads = cpu_count() / dist_local_size() > 1 ?
		    cpu_count() / dist_local_size() : 1;
	options_threads = main_threads;
	cpu_set_threads(1);
	pool_set_threads(main_threads > 0 ? main_threads : cpu_count());

	if (version) {
		main_version();
		rc = APP_EXIT_OK;
	} else if (i >= argc && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		char *uargv[] = { (char *)"ui", NULL };

		rc = main_run(main_find("ui"), 1, uargv);
	} else if (i >= argc)
		rc = main_default();
	else if (strcmp(argv[i], "help") == 0) {
		if (i + 1 >= argc) {
			main_usage(stdout);
			rc = APP_EXIT_OK;
		} else if ((cmd = main_find(argv[i + 1])) == NULL) {
			app_error("unknown command '%s'", argv[i + 1]);
			rc = main_bad_usage();
		} else {
			char *hargv[] = { (char *)"help", (char *)"--help", NULL };

			rc = main_run(cmd, 2, hargv);
		}
	} else
		rc = main_run(cmd, argc - i, argv + i);

	if (fflush(stdout) != 0 || ferror(stdout)) {
		app_error("error writing to standard output: %s", strerror(errno));
		if (rc == APP_EXIT_OK)
			rc = APP_EXIT_ERROR;
	}
	/*
	 * An error on one rank of an MPI job ends them all (the others may be
	 * waiting for it in a collective); the rank has printed its message.
	 */
	if (rc == APP_EXIT_ERROR || rc == APP_EXIT_USAGE) {
		fflush(stderr);
		dist_abort(rc);
	}
	dist_finalize();
	return rc;
}
