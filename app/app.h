/* app.h: what the seqmatch program's files share: commands, fatal errors, allocation, signals. */
#ifndef SEQMATCH_APP_H
#define SEQMATCH_APP_H

#include <signal.h>
#include <stddef.h>

/* Exit statuses. */
#define APP_EXIT_OK 0
#define APP_EXIT_ERROR 1 /* runtime failure: bad file, I/O */
#define APP_EXIT_USAGE 2 /* bad command line */
#define APP_EXIT_INTERRUPTED 130

/* Subcommands: each parses its own options with getopt_long and returns an exit status. */
int cmd_train(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_finetune(int argc, char **argv);
int cmd_mauve(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_theme(int argc, char **argv);
int cmd_session(int argc, char **argv);
int cmd_ui(int argc, char **argv);

/* Called by app_fatal before it prints (the UI sets it to restore the terminal), or NULL. */
extern void (*app_fatal_hook)(void);
/* Print "seqmatch: message" on stderr (restoring the terminal first) and exit 1. */
void app_fatal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* Print "seqmatch: message" on stderr. */
void app_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "seqmatch: warning: message" on stderr. */
void app_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* SIGINT/SIGTERM set app_interrupted (first time); a second SIGINT exits at once. */
extern volatile sig_atomic_t app_interrupted;
void app_catch_signals(void);

/* BLAS threads requested by --threads (0 = default: all cores). */
int app_threads(void);

/*
 * The default model: $SEQMATCH_MODEL, else $XDG_DATA_HOME/seqmatch/model.bin
 * (~/.local/share/...), else data/model.bin in the source tree. NULL if none exists.
 */
const char *app_default_model(void);
/* The directory with data/ and themes/ of an uninstalled build (malloc'd, or NULL; paths.c). */
char *app_data_dir(void);
/* value/suffix for an absolute XDG value, else home/fallback/suffix, else NULL (malloc'd). */
char *app_xdg_path(const char *value, const char *home, const char *fallback, const char *suffix);
/* mkdir -p with mode 0700; -1 with *cause. */
int app_mkdirs(const char *dir, char **cause);

#endif
