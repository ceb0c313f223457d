/*
 * ui-int.h: what the UI's three files share, private to them: ui.c (the loop,
 * key dispatch, the status and key-hint lines, overlays, `seqmatch ui`),
 * ui-term.c (curses: start-up, colours, the blit, keys, signals, restoring the
 * terminal; the only file that sees curses) and ui-side.c (each model's generations, compare mode, the live
 * MAUVE workers, transcripts). Only these and the panes' headers see it.
 */
#ifndef SEQMATCH_UI_INT_H
#define SEQMATCH_UI_INT_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "grid.h"
#include "layout.h"
#include "record.h"
#include "sampler.h"
#include "theme.h"
#include "ui.h"
#include "uistate.h"

#define UI_FRAME_SECONDS (1.0 / 60.0) /* frame cap */
#define UI_GUARD_SECONDS 1.0 /* a pause in typing that ends a burst of keys and the guard */

/* The question the status line asks. */
enum ui_ask { UI_ASK_NONE, UI_ASK_QUIT, UI_ASK_FT };

struct view_sessions;
struct view_themes;

/* What ui_term_read got from the terminal, in the UI's terms. */
enum ui_term_input_type {
	UI_TERM_INPUT_KEY,            /* key: a ui_key (ui.h), 0 for one the UI ignores */
	UI_TERM_INPUT_RESIZE,         /* w, h: the new size */
	UI_TERM_INPUT_MOUSE           /* button (1, 4 or 5: the wheel), x, y */
};
struct ui_term_input {
	enum ui_term_input_type type;
	int key;
	int w, h;
	int button, x, y;
};

/* The terminal side: colours and attributes of each slot. */
struct ui_term {
	enum theme_depth depth;
	uint32_t attr[THEME_NSLOTS];   /* curses attributes (attr_t, which fits: ui-term.c) */
	short pair[THEME_NSLOTS];
};

/* One model's generations: A, the loaded model, and in compare mode B. */
struct ui_side {
	struct ui *ui;                /* what this side's panes read */
	struct gpt_model *model;      /* the loaded weights */
	const struct qweights *qw;    /* its matrices in the format it decodes with */
	struct tokenizer *tok;
	struct ui_gen *gen;           /* the running generation, or NULL */
	struct snapshot *gen_snap;    /* fine-tuned weights it uses (A only) */
	struct ui_mauve *mauve;       /* the live MAUVE worker (B's featurizes with A's model) */
	struct sampler_params run_params; /* the parameters the running/last run started with */
	uint64_t run_hash;            /* FNV-1a of the weights it uses */
	uint64_t model_hash;          /* the loaded weights' FNV-1a, once model_hash_done */
	int model_hash_done;
};

/* Everything the loop owns. */
struct ui_state {
	struct ui ui;                 /* model A's (and the shared panes') view */
	struct ui ui_b;               /* compare mode: model B's */
	void *pane[LAYOUT_COUNT];     /* pane states, for ui_panes */
	struct gpt_model *model;
	struct tokenizer *tok;
	struct record rec;            /* the loaded model's training record */
	struct gpt_model *model_b;    /* compare mode: model B, its tokenizer and record */
	struct tokenizer *tok_b;
	struct record rec_b;
	struct ui_side side[2];
	int nsides;                   /* 2 in compare mode */
	struct ui_ft *ft;             /* the fine-tune job (ui-ft.c) */
	struct ui_ab *ab;             /* the before/after worker (ui-ab.c), or NULL */
	char *check_cmd;              /* config.yaml's check: the before/after's checker, or NULL */
	int asking;                   /* a question waits for its answer (enum ui_ask) */
	char question[160];           /* it, shown alone on the status line */
	enum ui_ft_action ask_ft;     /* UI_ASK_FT: the action it confirms */
	struct finetune_options ask_o; /* ... and its options (a start) */
	int quit_discard;             /* quitting drops the running fine-tune unsaved */
	int guard;                    /* typing aimed at the prompt went elsewhere: printable
	                               * keys are dropped until a non-printable one or a pause */
	double guard_t;               /* the last key it dropped (or armed it) */
	int guard_undone;             /* arming it put decoding values back */
	double burst_t;               /* the last printable key outside the prompt editor */
	struct sampler_params burst_params; /* the decoding values when that burst of keys began */
	int burst_changed;            /* a key of the burst changed a decoding value */
	int text_side;                /* the text pane focused last (the inspector follows it) */
	char label[2][80];            /* compare mode: the pane-title labels */
	unsigned enabled;             /* LAYOUT_BIT()s of the panes switched on (digit keys) */
	struct theme theme;
	struct ui_term term;
	struct grid grid;
	struct layout lay;
	int focus;                    /* a pane with a key handler */
	int zoom;
	int help;
	int help_top;                 /* the help overlay's first line shown (it scrolls) */
	struct view_sessions *sessions; /* the session browser overlay, while open */
	int mouse;
	int clear;                    /* Ctrl-L: repaint everything */
	int pasting;                  /* inside a bracketed paste: keys go to the pane as text */
	const char *core;
	int weights;                  /* generation's weight format, an enum quant_format */
	struct qweights *qw, *qw_b;   /* the models' matrices in their formats (side[].qw) */
	struct view_themes *picker;   /* the theme picker, when open */
	char theme_spec[UISTATE_THEME_MAX]; /* the name or path the theme came from, "": built-in */
	struct uistate saved;         /* the UI state file's contents (the theme last picked) */
	char *state_path;             /* the UI state file, NULL: none (no HOME) */
};

/* ui-term.c: the signal caught, the frame trace (SEQMATCH_UI_TRACE). */
extern volatile sig_atomic_t ui_signal_caught;
extern FILE *ui_trace;
extern double ui_trace_draw, ui_trace_key;

/* ui-term.c */
void ui_trace_open(struct ui *ui);
void ui_restore(void);
void ui_signals(void);
void ui_term_theme(struct ui_term *t, const struct theme *theme);
void ui_blit(struct ui_state *s);
void ui_blit_forget(void);
void ui_blit_release(void);
int ui_term_read(struct ui_term_input *in);
int ui_term_next_is_enter(void);
char *ui_run_editor(struct ui_state *s, const char *draft);
int ui_curses_start(struct ui_state *s, int forced_depth, int ascii);

/* ui-side.c */
int ui_busy(const struct ui_state *s);
void ui_generate(struct ui_state *s, const char *prompt, int64_t seed);
int ui_take_events(struct ui_state *s);
int ui_mauve_poll(struct ui_state *s);
void ui_compare_init(struct ui_state *s, const char *path);
int ui_open_session(struct ui_state *s, const char *path, char **cause);

/* ui-ab.c: start the before/after comparison, poll it into s->ui.ab, stop it. */
void ui_ab_begin(struct ui_state *s);
int ui_ab_poll(struct ui_state *s);
void ui_ab_end(struct ui_state *s);

#endif
