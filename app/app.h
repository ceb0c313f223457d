/*
 * app.h: the leaves of app/ that every other file may use: messages
 * (log.c), allocation (xmalloc.c), signals (signals.c) and where files are
 * (paths.c). None of these call anything else of the program.
 */
#ifndef SEQMATCH_APP_H
#define SEQMATCH_APP_H

#include <signal.h>
#include <stddef.h>

struct record;

/* Exit statuses. */
#define APP_EXIT_OK 0
#define APP_EXIT_ERROR 1 /* runtime failure: bad file, I/O */
#define APP_EXIT_USAGE 2 /* bad command line */
#define APP_EXIT_INTERRUPTED 130

/* log.c */
/* Called by app_fatal before it prints (the UI sets it to restore the terminal), or NULL. */
extern void (*app_fatal_hook)(void);
/* Print "seqmatch: message" on stderr (restoring the terminal first) and exit 1. */
void app_fatal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* Print "seqmatch: message" on stderr. */
void app_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "seqmatch: warning: message" on stderr (not with -q). */
void app_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same, even with -q (wrong kernels matter). */
void app_warn_always(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* -q and $SEQMATCH_DEBUG; routes the engine's diagnostics to stderr. */
void app_log_init(int quiet, int debug);

/* xmalloc.c: out of memory is fatal (main thread only). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* signals.c: SIGINT/SIGTERM set app_interrupted (first time); a second SIGINT exits at once. */
extern volatile sig_atomic_t app_interrupted;
void app_catch_signals(void);

/* modelfile.c: --load, the memory line, SIGBUS from a truncated mapped model file. */
struct gpt_model;
/* --load's value (map, lazy, copy) as checkpoint_open flags; -1 with a message. */
int app_load_flags(const char *value, int *flags);
/* "mapped X MiB, private Y MiB" (gpt_memory) into buf. */
void app_model_memory(const struct gpt_model *m, char *buf, size_t size);
/* The process's peak resident memory in bytes. */
size_t app_peak_rss(void);
/* SIGBUS in a mapped model file: a message naming it, exit status 1 (main installs it). */
void app_catch_sigbus(void);
/* The UI saves the terminal's modes (1) before curses, forgets them (0) after. */
void app_sigbus_term(int on);

/* paths.c */
/*
 * The default model: $SEQMATCH_MODEL, else $XDG_DATA_HOME/seqmatch/model.bin
 * (~/.local/share/...), else data/model.bin in the source tree. NULL if none exists.
 */
const char *app_default_model(void);
/* The directory with data/ and themes/ of an uninstalled build (malloc'd, or NULL). */
char *app_data_dir(void);
/* value/suffix for an absolute XDG value, else home/fallback/suffix, else NULL (malloc'd). */
char *app_xdg_path(const char *value, const char *home, const char *fallback, const char *suffix);
/* mkdir -p with mode 0700; -1 with *cause. */
int app_mkdirs(const char *dir, char **cause);
/*
 * The corpus a fine-tune or the live MAUVE uses: the model's record (corpus,
 * ft_corpus), else data/corpus.txt next to the program or here, else the
 * installed one. A malloc'd path with a note (which one) in note, or NULL
 * with the reason in note.
 */
char *app_find_corpus(const struct record *rec, char *note, size_t size);

#endif
