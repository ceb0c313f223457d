/*
 * session.h: the user's config file ($XDG_CONFIG_HOME/seqmatch/config.yaml,
 * read, never written) and session transcripts (JSON lines in
 * $XDG_STATE_HOME/seqmatch/sessions/): saving one after a generation,
 * reading one back for `seqmatch session`, listing them, and turning one
 * back into an event log the UI replays (session_to_log).
 */
#ifndef SEQMATCH_SESSION_H
#define SEQMATCH_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "generate.h"
#include "grid.h"
#include "sampler.h"

struct ui_log;
struct tokenizer;

/* What config.yaml sets; unset fields keep their "unset" values. */
struct session_config {
	char *theme;                  /* theme name or file, NULL: unset */
	char *colors;                 /* auto, none, 16, 256 or direct; NULL: unset */
	int mouse;                    /* 0, 1; -1: unset */
	int plot;                     /* an enum grid_plot; -1: unset */
	struct sampler_params params; /* the defaults with decoding: applied */
	int n_decoding;               /* decoding: entries applied */
};

/* Unset everything (params get the defaults). */
void session_config_init(struct session_config *c);
void session_config_release(struct session_config *c);
/* $XDG_CONFIG_HOME/seqmatch/config.yaml, else ~/.config/...; malloc'd, NULL without HOME. */
char *session_config_path(void);
/*
 * Parse config text (name for messages). 0 with c filled; -1 with
 * "name:line:col: message" in *cause and c left as it was.
 */
int session_config_parse(struct session_config *c, const char *text, size_t len,
    const char *name, char **cause);
/* Load path: 0 loaded, 1 no such file (c untouched), -1 bad file (*cause). */
int session_config_load(struct session_config *c, const char *path, char **cause);

/* One of a step's top alternatives. */
struct session_top {
	int id;
	float prob;
};

/* One append or erase of a transcript. */
struct session_event {
	int erase;                    /* 0 append, 1 erase */
	int id;                       /* the token */
	int slot;
	double prob;
	char *text;                   /* the token's bytes (len of them) */
	size_t len;
	int detail;                   /* the fields below were saved (format 2) */
	float model_prob;             /* under the model's softmax */
	double seconds;               /* since the start of the generation */
	float entropy;                /* nats */
	float p_bksp;
	int n_top;
	struct session_top top[GENERATE_TOP];
};

/* A transcript. */
struct session {
	char *path;                   /* the name it was read under (messages), or NULL */
	int format;                   /* 1 or 2 */
	char *version;                /* the program's version that wrote it */
	char *model;                  /* the model's path */
	uint64_t model_hash;          /* FNV-1a of the parameter block */
	long weights_version;         /* fine-tune weights version (0: as loaded) */
	char *time;                   /* local time, ISO 8601 */
	char *prompt;
	struct sampler_params params;
	uint64_t seed;                /* the seed used */
	int params_changed;           /* params are the starting ones; they changed mid-run */
	int n_prompt;                 /* the prompt's tokens (format 1: from the first event;
	                               * -1 when unknown) */
	uint64_t tokenizer_hash;      /* FNV-1a of the serialised tokenizer, 0: not saved */
	struct session_event *ev;     /* (n), on lines 2 .. n + 1 */
	size_t n;
	int stopped;                  /* the stop line is there */
	char *reason;                 /* generate_stop_name */
	int n_generated, n_erased;
	double seconds;               /* generating (prefill excluded) */
	int stop_detail;              /* the two below were saved (format 2) */
	double prefill_seconds, elapsed;
};

/* A saved session as `session list` and the browser show it. */
struct session_entry {
	char *id;                     /* the file name without .jsonl */
	char *path;
	char *error;                  /* unreadable: why (the fields below are unset), or NULL */
	char *time, *model, *prompt;
	uint64_t seed, model_hash;
	int stopped, n_generated, n_erased;
};

void session_free(struct session *s);
/* Write s as JSON lines (header, events, stop). */
void session_write(FILE *f, const struct session *s);
/* Parse JSON lines; -1 with "name:line:col: message" in *cause. */
int session_parse(struct session *s, const char *text, size_t len, const char *name,
    char **cause);
/* Read a transcript file. */
int session_load(struct session *s, const char *path, char **cause);
/* Write s as Markdown: settings, final text, the backspace events. */
void session_markdown(FILE *f, const struct session *s);
/* The text after the events: prompt plus the tokens left (malloc'd, *len bytes). */
char *session_final_text(const struct session *s, size_t *len);
/*
 * Turn a transcript into an event log for the UI (log filled afresh: the
 * caller frees the old one's prompt and ev). The tokens must be tok's: the
 * saved text of every token is checked against tok, and a session from
 * another tokenizer is refused (-1, "file:line: why" in *cause) rather than
 * shown as wrong text.
 */
int session_to_log(const struct session *s, const struct tokenizer *tok, struct ui_log *log,
    char **cause);
/* FNV-1a of a tokenizer's serialised form (0 if it cannot be serialised). */
uint64_t session_tokenizer_hash(const struct tokenizer *tok);

/* $XDG_STATE_HOME/seqmatch/sessions, else ~/.local/state/...; malloc'd, NULL without HOME. */
char *session_dir(void);
/*
 * Save a finished generation's log to dir (created) as YYYYmmdd-HHMMSS-SEED.jsonl,
 * atomically. *path (may be NULL) gets the file's path (malloc'd).
 */
int session_save_log(const char *dir, const struct ui_log *log, const struct tokenizer *tok,
    const struct sampler_params *params, const char *model_path, uint64_t model_hash,
    long weights_version, char **path, char **cause);
/*
 * The sessions in dir, newest first (*n of them, *out malloc'd; each one's
 * header and stop line read, an unreadable one with its error). 0, or -1 with
 * *cause if dir cannot be read (a missing dir is no sessions).
 */
int session_list(const char *dir, struct session_entry **out, size_t *n, char **cause);
void session_list_free(struct session_entry *e, size_t n);
/*
 * A session's file from an ID (as `session list` shows; looked up in dir) or a
 * FILE path (with a '/' or ending in .jsonl); malloc'd, or NULL with *cause.
 */
char *session_resolve(const char *dir, const char *id_or_file, char **cause);

#endif
