/*
 * branches.h: the per-position branch view of a generation's event log: for
 * each text position (slot) the tokens tried there in order, erased or kept,
 * identical attempts collapsed with a count, and loop detection (the same
 * token erased and retyped at one slot, or a run ending on the action cap)
 * with the decoding knob that stops it. Pure data: no drawing, no curses.
 */
#ifndef SEQMATCH_BRANCHES_H
#define SEQMATCH_BRANCHES_H

#include <stddef.h>

#include "sampler.h"

struct tokenizer;
struct ui_log;

/* The same token erased and typed again this often at one slot is a loop. */
#define BRANCHES_LOOP_RETYPES 5

/* Consecutive attempts at one slot with the same token and fate, collapsed. */
struct branches_group {
	int token;
	int count;       /* attempts collapsed (>= 1) */
	int erased;      /* 1: each was erased; 0: the (last) attempt is in the text */
	size_t ev;       /* the APPEND event of the last of them (for the inspector) */
};

/* One text position that was typed at least once. */
struct branches_slot {
	int slot;        /* the engine's slot (prompt tokens included) */
	int first, n;    /* its groups: b->groups[first .. first + n) */
	int tries;       /* APPENDs at this slot */
	int erases;      /* of which erased */
	int retypes;     /* APPENDs of the token erased just before at this slot */
};

/* Which knob stops a loop. */
enum branches_knob {
	BRANCHES_KNOB_NONE,             /* none of the two: lower backspace_bias */
	BRANCHES_KNOB_FORBID_RETYPE,    /* forbid_retype 1 */
	BRANCHES_KNOB_MAX_CONSECUTIVE   /* max_consecutive_backspaces 1 */
};

/* What loop, if any, the log shows. */
struct branches_loop {
	int found;
	int slot;          /* the slot with the most retypes (-1: none) */
	int token;         /* the token retyped there (-1: none) */
	int retypes;       /* how often */
	int erased;        /* how often that token was erased there */
	int longest_chain; /* the longest run of consecutive erases */
	int chains_at_cap; /* erase runs stopped by max_consecutive_backspaces */
	int action_cap;    /* the run ended on the cap on actions (appends + erases) */
	enum branches_knob knob;
};

/* The branch view of the first `upto` events of a log. */
struct branches {
	struct branches_slot *slots;   /* (n_slots) by slot, typed slots only */
	int n_slots;
	struct branches_group *groups; /* (n_groups) */
	int n_groups;
	int n_prompt;                  /* the log's prompt tokens */
	int *live;                     /* (n_live) the tokens in the text, from slot n_prompt */
	int n_live;
	int rewritten;                 /* slots with more than one attempt or an erase */
	int erases;                    /* ERASE events */
	struct branches_loop loop;
};

void branches_init(struct branches *b);
void branches_release(struct branches *b);
/*
 * Build b (released first) from the first upto events of log (clipped to
 * log->n); p (may be NULL) gives max_consecutive_backspaces and forbid_retype
 * for the loop's knob. The action cap counts only once upto reaches the end
 * of a finished log.
 */
void branches_build(struct branches *b, const struct ui_log *log, size_t upto,
    const struct sampler_params *p);
/* Whether slot s is listed in the view (more than one attempt, or erased). */
int branches_slot_rewritten(const struct branches_slot *s);
/*
 * A group as text: "' In' x" (erased once), "' said' x23 erased/retyped",
 * "'\"'" (kept); newlines and tabs as \n and \t. Returns the length (buf is
 * always terminated).
 */
size_t branches_group_text(const struct branches_group *gr, const struct tokenizer *tok,
    char *buf, size_t size);
/* A slot's groups joined with " -> " ("' In' x -> '\"'"); returns the length. */
size_t branches_slot_text(const struct branches *b, int i, const struct tokenizer *tok,
    char *buf, size_t size);
/* The knob's name ("forbid_retype"), NULL for BRANCHES_KNOB_NONE. */
const char *branches_knob_name(enum branches_knob k);
/* What branches_warning returns for a token retyped at one slot (1: another loop). */
#define BRANCHES_RETYPE_LOOP 2

/*
 * The loop warning for the status line ("" and 0 when no loop): first the
 * knob that stops it with its value in p (the current one), so a narrow
 * status line still shows it, then what loops, where and how often.
 * Returns BRANCHES_RETYPE_LOOP when a token was retyped at one slot, 1 for
 * a run that reached the action cap otherwise.
 */
int branches_warning(const struct branches *b, const struct tokenizer *tok,
    const struct sampler_params *p, char *buf, size_t size);
/* A short flag for a pane ("loop: set forbid_retype 1 (now 0)"); 0 when no loop. */
int branches_flag(const struct branches *b, const struct sampler_params *p, char *buf,
    size_t size);
/* branches_warning of the whole of a log (build, warn, release); returns as it does. */
int branches_log_warning(const struct ui_log *log, const struct tokenizer *tok,
    const struct sampler_params *p, char *buf, size_t size);

#endif
