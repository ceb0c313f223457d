/*
 * yml.h: the one YAML reader of app/ (themes, config.yaml, ui.yaml and the
 * JSON lines of transcripts): libyaml's events built into a bounded tree of
 * our own, diagnostics as "file:line:col: message", and the one "did you
 * mean" helper. Self-contained (libyaml and libc): out of memory comes back
 * as an error, never by exiting. Named yml, not yaml, so that it neither
 * shadows <yaml.h> nor takes libyaml's yaml_ prefix.
 */
#ifndef SEQMATCH_YML_H
#define SEQMATCH_YML_H

#include <stddef.h>

/* The default limits (what a theme file may use). */
#define YML_MAX_DEPTH 16     /* nesting of collections */
#define YML_MAX_ALIASES 64   /* alias (*x) uses per document */
#define YML_MAX_NODES 20000  /* nodes, aliases expanded */
#define YML_NAME_MAX 64      /* longest word "did you mean" compares */

enum yml_type {
	YML_SCALAR,
	YML_SEQ,
	YML_MAP,
	YML_ALIAS
};

/* A node; a mapping's kids are key, value, key, value... */
struct yml_node {
	enum yml_type type;
	int line, col;              /* 1-based (libyaml's marks plus 1) */
	char *value;                /* scalar: its bytes, NUL-terminated */
	size_t len;
	int plain;                  /* an unquoted scalar */
	int quoted;                 /* a single- or double-quoted scalar */
	int flow;                   /* a flow collection ({...} or [...]) */
	struct yml_node **kids;     /* (nkids) */
	size_t nkids, capkids;
	struct yml_node *target;    /* alias: its anchor's node (finished before it) */
	char *alias;                /* alias: the anchor's name */
	size_t weight;              /* nodes it stands for, aliases expanded */
	struct yml_node *next;      /* every node of a document, for freeing */
};

/* What a document may use; a zero field takes the default above. */
struct yml_limits {
	int max_depth;
	int max_aliases;            /* -1: no alias at all */
	size_t max_nodes;
	const char *what;           /* "a theme file": the document in messages */
};

/* A parsed document. */
struct yml_doc {
	struct yml_node *root;      /* NULL: an empty stream */
	struct yml_node *all;
	size_t nnodes, naliases;
	struct yml_anchor *anchors;
	size_t nanchors;
};

/*
 * Why a parse failed: where (1-based), the message, and for a syntax error
 * libyaml's own problem and context (static strings, may be NULL) so that a
 * reader of JSON can word it as JSON.
 */
struct yml_error {
	int oom;
	int syntax;                 /* libyaml refused the text */
	int line, col;
	const char *problem, *context;
	char msg[512];
};

/*
 * Parse buf (len bytes, one document) into doc. 0, or -1 with err filled
 * (err->oom when out of memory); doc is always released by yml_doc_release.
 * The parse stops at the first problem: syntax, depth, aliases, size.
 */
int yml_parse(struct yml_doc *doc, const void *buf, size_t len, const struct yml_limits *lim,
    struct yml_error *err);
void yml_doc_release(struct yml_doc *doc);
/*
 * yml_parse for a file the user wrote: -1 with "name:line:col: message" in
 * *cause and nothing to release (out of memory is such a message too).
 */
int yml_load(struct yml_doc *doc, const char *name, const void *buf, size_t len,
    const struct yml_limits *lim, char **cause);

/* An alias's node (n itself when it is none). */
const struct yml_node *yml_deref(const struct yml_node *n);
/* Whether n is YAML's null: an unquoted empty, ~ or null (any case). */
int yml_is_null(const struct yml_node *n);
/* A non-null scalar's text without NUL bytes, else NULL. */
const char *yml_scalar(const struct yml_node *n);
/* What n is for messages: "a list", "a mapping", "nothing (null)", "a string". */
const char *yml_what(const struct yml_node *n);
/* The value of key in mapping map (the first such key), or NULL. */
const struct yml_node *yml_get(const struct yml_node *map, const char *key);

/*
 * The diagnostic "name:line:col: message" (line 0: "name: message"), control
 * bytes shown as '?'; malloc'd, NULL when out of memory.
 */
char *yml_message(const char *name, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* yml_message into *cause (cause may be NULL; an old *cause is freed); returns -1. */
int yml_diag(char **cause, const char *name, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* "Did you mean": the closest candidate to a word seen so far. */
struct yml_suggest {
	const char *word;
	const char *best;
	int dist;
};

void yml_suggest_init(struct yml_suggest *s, const char *word);
/* Consider cand. */
void yml_suggest_add(struct yml_suggest *s, const char *cand);
/* " (did you mean 'x'?)" in buf when the best is close enough to the word, else "". */
const char *yml_suggest_text(const struct yml_suggest *s, char *buf, size_t size);
/* The same over a NULL-terminated list of names. */
const char *yml_suggest_list(const char *word, const char *const *names, char *buf,
    size_t size);

#endif
