/*
 * transcript.h: session transcripts, JSON lines in
 * $XDG_STATE_HOME/seqmatch/sessions/: writing one, reading one back (for
 * `seqmatch session` and the UI), Markdown export, and listing them. The
 * conversion to and from the UI's event log is the UI's (ui-session.h).
 */
#ifndef SEQMATCH_TRANSCRIPT_H
#define SEQMATCH_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "generate.h"
#include "sampler.h"

struct tokenizer;

/* One of a step's top alternatives. */
struct transcript_top {
	int id;
	float prob;
};

/* One append or erase of a transcript. */
struct transcript_event {
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
	struct transcript_top top[GENERATE_TOP];
};

/* A transcript. */
struct transcript {
	char *path;                   /* the name it was read under (messages), or NULL */
	int format;                   /* 1 or 2 */
	char *version;                /* the program's version that wrote it */
	char *model;                  /* the model's path */
	uint64_t model_hash;          /* FNV-1a of the parameter block */
	long weights_version;         /* fine-tune weights version (0: as loaded) */
	char *weights;                /* the weight format it generated with ("fp32", "bf16",
	                               * "q8"), NULL: not recorded (older transcripts) */
	char *time;                   /* local time, ISO 8601 */
	char *prompt;
	struct sampler_params params;
	uint64_t seed;                /* the seed used */
	int params_changed;           /* params are the starting ones; they changed mid-run */
	int n_prompt;                 /* the prompt's tokens (format 1: from the first event;
	                               * -1 when unknown) */
	uint64_t tokenizer_hash;      /* FNV-1a of the serialised tokenizer, 0: not saved */
	struct transcript_event *ev;  /* (n), on lines 2 .. n + 1 */
	size_t n;
	int stopped;                  /* the stop line is there */
	char *reason;                 /* generate_stop_name */
	int n_generated, n_erased;
	double seconds;               /* generating (prefill excluded) */
	int stop_detail;              /* the two below were saved (format 2) */
	double prefill_seconds, elapsed;
};

/* A saved session as `session list` and the browser show it. */
struct transcript_entry {
	char *id;                     /* the file name without .jsonl */
	char *path;
	char *error;                  /* unreadable: why (the fields below are unset), or NULL */
	char *time, *model, *prompt;
	uint64_t seed, model_hash;
	int stopped, n_generated, n_erased;
	struct sampler_params params; /* the decoding settings it started with */
	int params_changed;           /* they changed while it ran */
};

void transcript_free(struct transcript *s);
/* Write s as JSON lines (header, events, stop). */
void transcript_write(FILE *f, const struct transcript *s);
/* Parse JSON lines; -1 with "name:line:col: message" in *cause. */
int transcript_parse(struct transcript *s, const char *text, size_t len, const char *name,
    char **cause);
/* Read a transcript file. */
int transcript_load(struct transcript *s, const char *path, char **cause);
/* Write s as Markdown: settings, final text, the backspace events. */
void transcript_markdown(FILE *f, const struct transcript *s);
/* One decoding value as the exports write it ("0.8", "-inf", "40", a seed exactly). */
void transcript_param_text(const struct sampler_params *p, const struct sampler_param *row,
    char *buf, size_t size);
/* The text after the events: prompt plus the tokens left (malloc'd, *len bytes). */
char *transcript_final_text(const struct transcript *s, size_t *len);
/* FNV-1a of a tokenizer's serialised form (0 if it cannot be serialised). */
uint64_t transcript_tokenizer_hash(const struct tokenizer *tok);

/*
 * A prompt's first line for one row of a listing (`session list`, the UI's
 * browser): control characters written as \t, \r or \xNN, as the Markdown
 * export writes them (a raw tab would split `session list`'s columns),
 * at most max_chars characters, never half a UTF-8 sequence; malloc'd.
 */
char *transcript_prompt_line(const char *prompt, size_t max_chars);

/* $XDG_STATE_HOME/seqmatch/sessions, else ~/.local/state/...; malloc'd, NULL without HOME. */
char *transcript_dir(void);
/*
 * Save t to dir (created) as YYYYmmdd-HHMMSS-SEED.jsonl (-2, -3... when that
 * is taken), atomically; its version and time are set to this program's and
 * now. *path (may be NULL) gets the file's path (malloc'd).
 */
int transcript_save(struct transcript *t, const char *dir, char **path, char **cause);
/*
 * The sessions in dir, newest first (*n of them, *out malloc'd; each one's
 * header and stop line read, an unreadable one with its error). 0, or -1 with
 * *cause if dir cannot be read (a missing dir is no sessions).
 */
int transcript_list(const char *dir, struct transcript_entry **out, size_t *n, char **cause);
void transcript_list_free(struct transcript_entry *e, size_t n);
/*
 * A session's file from an ID (as `session list` shows; looked up in dir) or a
 * FILE path (with a '/' or ending in .jsonl); malloc'd, or NULL with *cause.
 */
char *transcript_resolve(const char *dir, const char *id_or_file, char **cause);

#endif
