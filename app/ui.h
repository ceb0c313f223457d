/*
 * ui.h: what the curses UI loop (ui.c) shares with its panes (view-*.c) and
 * its generation worker (ui-gen.c). No curses here: panes get keys as the
 * numbers below and draw into a struct grid.
 */
#ifndef SEQMATCH_UI_H
#define SEQMATCH_UI_H

#include <stddef.h>
#include <stdint.h>

#include "finetune.h"
#include "generate.h"
#include "grid.h"
#include "sampler.h"

struct gpt_model;
struct tokenizer;
struct record;
struct snapshot;

/* Keys: Unicode code points (control characters included), or these. */
enum ui_key {
	UI_KEY_UP = 0x110000,
	UI_KEY_DOWN,
	UI_KEY_LEFT,
	UI_KEY_RIGHT,
	UI_KEY_HOME,
	UI_KEY_END,
	UI_KEY_PGUP,
	UI_KEY_PGDN,
	UI_KEY_BACKSPACE,
	UI_KEY_DELETE,
	UI_KEY_ENTER,
	UI_KEY_BTAB,
	UI_KEY_F1,
	UI_KEY_F2,
	UI_KEY_F3,
	UI_KEY_F4,
	UI_KEY_F5,
	UI_KEY_F6,
	UI_KEY_F7,
	UI_KEY_F8,
	UI_KEY_F9,
	UI_KEY_F10,
	UI_KEY_PASTE_BEGIN, /* bracketed paste: the keys until PASTE_END are pasted text */
	UI_KEY_PASTE_END
};
#define UI_KEY_TAB 9
#define UI_KEY_ESC 27
#define UI_CTRL(c) ((c) & 0x1f)

/* What a key handler asks of the loop (bits); handlers never draw. */
#define UI_REDRAW 0x01      /* something changed: draw a frame */
#define UI_QUIT 0x02        /* leave the program */
#define UI_GENERATE 0x04    /* generate from ui->request */
#define UI_STOP 0x08        /* stop the running generation */
#define UI_REPLAY_SEED 0x10 /* generate the last prompt again with the seed it used */
#define UI_PASS 0x20        /* not handled here: the loop's own keys get a chance */
#define UI_EDITOR 0x40      /* edit ui->request (the draft, malloc'd) in $EDITOR; the loop
                             * hands the result back through view_text_set_draft */
#define UI_FINETUNE 0x80    /* do ui->ft_action to the fine-tune job (ui-ft.c) */
#define UI_AB 0x100         /* before/after: the last run's settings against the current
                             * ones, same prompt and seeds (ui-ab.c) */
#define UI_NEW_SEED 0x200   /* generate the last prompt again with a new seed */

/*
 * The event log of the current (or last) generation. Events are kept whole
 * (slot, timings, the step's top alternatives, entropy, P(<bksp>)) so the
 * stats and inspector panes can read them.
 */
struct ui_log {
	char *prompt;          /* the prompt text */
	int n_prompt;          /* its tokens (the slots the events count from) */
	struct generate_event *ev; /* (n) APPEND and ERASE events, in order */
	size_t n, cap;
	size_t shown;          /* playback position: events the text pane has applied */
	int done;              /* the STOP event arrived */
	enum generate_stop reason;
	struct generate_event stop; /* the STOP event (timings), once done */
	uint64_t seed;         /* the seed this run used */
	unsigned serial;       /* changes with every new generation */
	long inspect;          /* the event the inspector shows (0-based), -1: the one at
	                        * the playback position (shown - 1) */
	int params_changed;    /* the decoding parameters changed while it ran (live), so
	                        * its seed and starting parameters do not reproduce it */
};

/* The live MAUVE estimator's state (ui-mauve.c), as plain data for the stats pane. */
enum ui_mauve_state {
	UI_MAUVE_OFF,                /* not started yet */
	UI_MAUVE_FITTING,            /* featurizing the reference texts and fitting */
	UI_MAUVE_READY,              /* fitted: each finished generation adds a sample */
	UI_MAUVE_FAILED              /* cannot run: error says why */
};

#define UI_MAUVE_CURVE_MAX 128

/* A copy of the live estimate (the loop refreshes ui->mauve from the worker). */
struct ui_mauve_info {
	enum ui_mauve_state state;
	char ref[128];               /* the reference file's name */
	int n_ref;                   /* reference texts (being) featurized */
	int max_tokens;              /* tokens per text (the first ones) */
	int k;                       /* clusters */
	int n;                       /* samples counted */
	int pending;                 /* samples queued, not yet added */
	double mauve, mauve_star;    /* over the n samples (n >= 1) */
	int curve_len;               /* points of the divergence curve (0: none yet) */
	double curve_x[UI_MAUVE_CURVE_MAX], curve_y[UI_MAUVE_CURVE_MAX];
	char error[320];             /* UI_MAUVE_FAILED: the reason */
};

/* The before/after comparison's state (ui-ab.c), as plain data for the stats pane. */
enum ui_ab_state {
	UI_AB_OFF,                   /* never asked for */
	UI_AB_RUNNING,               /* generating on the worker */
	UI_AB_DONE,
	UI_AB_FAILED                 /* error says why */
};

#define UI_AB_SEEDS 3                /* seeds per side: the last run's, and the next two */
#define UI_AB_LOOP_RETYPES 3         /* a token erased and retyped this often at one slot
                                      * in a run is a loop */

/* One column of the before/after table: totals over that side's runs. */
struct ui_ab_col {
	int runs;                    /* generations finished */
	long appends, erases;        /* gross tokens typed, <bksp> actions */
	long corrections, retypes;   /* erases followed by a different token at that slot, or
	                              * by the same one (ui_ab_count) */
	int loops;                   /* runs that hit a loop (ui_ab_count) */
	double distinct2;            /* distinct-2 of the runs' final texts (-1: none) */
	int checked;                 /* runs the story checker read (config.yaml check:) */
	int violating;               /* ... of which it found at least one violation in */
};

/* A copy of the comparison (the loop refreshes ui->ab from the worker). */
struct ui_ab_info {
	enum ui_ab_state state;
	uint64_t seed;               /* the first seed (the last run's) */
	int n_seeds;
	char change[96];             /* what differs: "temperature 0.8 -> 0.5 (+1 more)" */
	int has_check;               /* a checker is configured: the violations row shows */
	struct ui_ab_col before, after;
	char error[160];
};

/*
 * Count one run's erases (n events of a log, in order) as corrections or
 * retypes: an ERASE of token t at slot s is a retype when the next APPEND at
 * slot s types t again, else a correction (nothing typed there again counts as
 * a correction: the text moved on). *loop is 1 when one slot saw the same
 * token erased and retyped UI_AB_LOOP_RETYPES times, or the run stopped at
 * the action cap.
 */
void ui_ab_count(const struct generate_event *ev, int n, long *corrections, long *retypes,
    int *loop);

/* What the fine-tune pane asks of the job (UI_FINETUNE). */
enum ui_ft_action {
	UI_FT_NONE,
	UI_FT_START,                 /* start with ui->ft_options */
	UI_FT_PAUSE,                 /* pause after this step, or resume */
	UI_FT_STOP,                  /* stop after this step (it saves) */
	UI_FT_SAVE                   /* save between two steps */
};

#define UI_FT_HIST 512               /* loss values kept for the sparkline */

/* A copy of the fine-tune job's state (the loop refreshes ui->ft from ui-ft.c). */
struct ui_ft_info {
	int started;                 /* a run was started (its state below is meaningful) */
	enum finetune_state state;
	int live;                    /* the trainer thread has not been joined */
	int preparing;               /* the corpus is loading for a start */
	int pausing;                 /* a pause was asked for */
	int stopped;                 /* x (or quitting) stopped it before its last step */
	long steps_done;
	long version;                /* the weights version last published */
	struct finetune_options run; /* the options of the current or last run */
	int have;                    /* last holds a step */
	struct finetune_progress last;
	int n_hist;
	double hist[UI_FT_HIST];     /* the loss of each step (NaN: skipped) */
	double tokens_per_s;         /* smoothed over the steps (ui_ft_smooth) */
	int have_val0;               /* the run's first validation loss, for "from ..." */
	float val0;
	long val0_step;
	double hist_lo, hist_hi;     /* the range of every loss of the run, the sparkline's fixed
	                              * scale (it only widens); lo > hi: none yet */
	char note[320];              /* the last action's outcome */
	int note_error;
	int note_end;                /* the note says how the run ended */
	unsigned note_serial;        /* changes with every note */
	char error[256];             /* the trainer's error, once failed */
	char corpus_note[320];       /* which corpus, or why none */
	const char *out_path;        /* where it saves (the job's string) */
};

/* What the loop and the panes share. */
struct ui {
	int side;                    /* 0, or 1 for model B in compare mode (its own struct ui:
	                              * model, log, stats; B's text pane never edits a prompt) */
	const char *model_name;      /* file name shown in the status line */
	const char *label;           /* compare mode: "A model.bin" or "B base.bin" for the pane
	                              * titles; NULL otherwise */
	const char *featurizer_name; /* the live MAUVE featurizer's file name (NULL: model_name) */
	const char *model_path;      /* the loaded model file */
	const struct gpt_model *model; /* the loaded weights (read only) */
	const struct record *model_rec; /* its training record */
	int wake_fd;                 /* the self-pipe's write end (threads wake the loop) */
	long weights_version;        /* fine-tune weights of the last generation (0: loaded) */
	int model_bksp;              /* the model has a trained <bksp> */
	const struct tokenizer *tok;
	struct sampler_params params; /* the decoding parameters for the next run */
	struct ui_log log;
	int have_run;                /* log holds a run (its seed is meaningful) */
	int generating;              /* a worker is running */
	char *request;               /* the prompt for UI_GENERATE (malloc'd, the loop frees) */
	char message[256];           /* a notice for the status line, "" for none */
	int message_error;           /* the notice is an error */
	enum grid_glyphs glyphs;
	enum grid_plot plot;         /* how the stats pane plots (braille, block, ASCII) */
	double now;                  /* seconds, monotonic, at the start of this frame */
	struct ui_mauve_info mauve;  /* the live MAUVE estimate (stats pane) */
	struct ui_ft_info ft;        /* the fine-tune job's state (fine-tune pane) */
	enum ui_ft_action ft_action; /* for UI_FINETUNE */
	struct finetune_options ft_options; /* for UI_FT_START */
	int ft_next_token;           /* generation takes new weights at the next token, not the
	                              * next generation (the fine-tune pane's weights row) */
	struct ui_ab_info ab;        /* the before/after comparison (stats pane) */
};

/* A pane: private state behind void *, created by init. */
struct ui_pane {
	const char *name;
	void *(*init)(struct ui *ui);
	/* Draw into r (the pane's whole rectangle, border included). */
	void (*draw)(void *p, struct ui *ui, struct grid *g, struct grid_rect r, int focused);
	/* Handle a key; returns UI_* bits. NULL: a display-only pane that never takes focus. */
	int (*key)(void *p, struct ui *ui, int key);
	/* A mouse event at (x, y) (screen cells) inside r, the pane's rectangle: button 1
	 * a click, 4 and 5 the wheel up and down. UI_* bits. May be NULL. */
	int (*click)(void *p, struct ui *ui, struct grid_rect r, int x, int y, int button);
	/* Advance animations to ui->now: UI_REDRAW if the picture changed; *wait gets the
	 * seconds until the next change (left alone when nothing is pending). May be NULL. */
	int (*tick)(void *p, struct ui *ui, double *wait);
	void (*free)(void *p);
};

extern const struct ui_pane view_text_pane;
extern const struct ui_pane view_params_pane;
extern const struct ui_pane view_stats_pane;
extern const struct ui_pane view_inspector_pane;
extern const struct ui_pane view_finetune_pane;

/* Text pane: whether the prompt editor has the keyboard (letters type). */
int view_text_editing(void *p);
/* Text pane: pause a playback that is still animating (Ctrl-C); 1 if it was. */
int view_text_stop(void *p, struct ui *ui);
/* Text pane: give the prompt editor the keyboard (model A's pane only). */
void view_text_edit(void *p, struct ui *ui);
/* Text pane: replace the prompt draft with text (after UI_EDITOR) and edit it. */
void view_text_set_draft(void *p, const char *text);
/* Text pane: "clean 30/s" (view, speed, paused) for the status line. */
void view_text_describe(void *p, char *buf, size_t size);
/* Text pane, for the UI-state file: the view (0 clean, 1 trail, 2 timeline) and the speed
 * (events a second); returns 0. */
int view_text_get_state(void *p, int *view, int *speed);
/* Text pane: restore them (a view out of range is ignored; the nearest speed is taken). */
void view_text_set_state(void *p, int view, int speed);
/* Text panes in compare mode: b (model B's, on ub) plays in lockstep with a (A's, on ua):
 * a's clock counts both logs' events, b follows it, b's playback keys drive a. */
void view_text_lock(void *a, struct ui *ua, void *b, struct ui *ub);

/* ui-notify.c: set the status-line notice (printf-style). */
void ui_message(struct ui *ui, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* ui-notify.c: the self-pipe that wakes the loop (read end, write end; -1 when closed). */
extern int ui_wake[2];

/* The generation worker (ui-gen.c): a thread running generate_run. */
struct ui_gen;
/*
 * Start generating from ids (n >= 1; copied) with params, on snap's weights
 * (the worker takes its own reference) or, with snap NULL, on m (the caller
 * keeps m alive for the run). The worker writes a byte to wake_fd whenever it
 * has queued events and when it ends. qw is m's matrices in the format to
 * decode with (converted once, when the model was loaded; the caller keeps it
 * alive for the run); a snapshot's matrices in that format are converted once
 * per snapshot and shared by every generation that reads it
 * (snapshot_weights). NULL with *cause on failure.
 */
struct ui_gen *ui_gen_start(const struct gpt_model *m, struct snapshot *snap,
    const struct tokenizer *tok, const struct sampler_params *params, const int *ids, int n,
    const struct qweights *qw, int wake_fd, char **cause);
/* Decoding parameters for the running generation from its next step (its seed stays). */
int ui_gen_update(struct ui_gen *g, const struct sampler_params *p);
/*
 * Other (newer) weights for the running generation from its next step: the
 * context is recomputed with them (generate_run_live). Takes its own
 * reference, dropped once the worker has moved on; 0 (ignored) when s is the
 * snapshot in use or already waiting.
 */
int ui_gen_set_weights(struct ui_gen *g, struct snapshot *s);
/* The weights version the worker generates with now. */
long ui_gen_weights_version(struct ui_gen *g);
/* Take the queued events (*n of them, malloc'd, may be NULL); *finished once the run ended. */
struct generate_event *ui_gen_take(struct ui_gen *g, size_t *n, int *finished);
/* Ask the worker to stop at its next token. */
void ui_gen_cancel(struct ui_gen *g);
/* Join the worker and free it; returns generate_run's status (and its *cause). */
int ui_gen_finish(struct ui_gen *g, char **cause);

/*
 * The fine-tune job (ui-ft.c): a fine-tune of a copy of the loaded weights on
 * the trainer's thread. The loop owns it: it carries out the pane's actions
 * (ui_ft_act), polls it (ui_ft_poll) and copies its state into ui->ft
 * (ui_ft_get); the generator gets its weights from ui_ft_snapshot and
 * ui_ft_feed. wake_fd gets a byte whenever there is news.
 */
struct ui_ft;
struct ui_ft *ui_ft_new(const struct gpt_model *model, const struct tokenizer *tok,
    const struct record *model_rec, const char *model_path, int wake_fd);
void ui_ft_act(struct ui_ft *j, enum ui_ft_action a, const struct finetune_options *o);
/*
 * The model file stores its matrices in format (an enum quant_format, from
 * `seqmatch quantize`; -1: an fp32 file): starting a fine-tune is refused
 * with a note naming the file, the format and the way back to fp32.
 */
void ui_ft_set_stored(struct ui_ft *j, int format);
/* 1 if anything changed; cuts *wait to its poll interval while a run is live. */
int ui_ft_poll(struct ui_ft *j, double *wait);
void ui_ft_get(struct ui_ft *j, struct ui_ft_info *out);
/* The latest weights (referenced; snapshot_unref), or NULL before a start. */
struct snapshot *ui_ft_snapshot(struct ui_ft *j);
/* With next_token, hand g the latest weights; *version: the one g uses (1 if it changed). */
int ui_ft_feed(struct ui_ft *j, struct ui_gen *g, int next_token, long *version);
/* Whether its trainer thread is live. */
int ui_ft_busy(const struct ui_ft *j);
/* Ctrl-C: cancel a start that is still loading its corpus; 1 if there was one. */
int ui_ft_cancel(struct ui_ft *j);
/* Quitting: stop a live run and save it (discard: write nothing more); a one-line notice
 * in buf ("" if none ran). */
void ui_ft_quit(struct ui_ft *j, int discard, char *buf, size_t size);
/* The first free -ft path for a model: x-ft.bin, else x-ft-2.bin... (malloc'd). */
char *ui_ft_out_path(const char *model);
/* Stop a live run (it saves) and free everything. */
void ui_ft_free(struct ui_ft *j);
/* The smoothed rate after x, the average of the n_before values before it being avg. */
#define UI_FT_SMOOTH 0.1
double ui_ft_smooth(double avg, double x, long n_before);

/*
 * The live MAUVE worker (ui-mauve.c): a thread that fits mauve_live on the
 * reference corpus (up to UI_MAUVE_MAX_REF texts, their first
 * UI_MAUVE_MAX_TOKENS tokens, featurized by m with its own KV cache), then
 * adds one queued sample at a time. Writes a byte to wake_fd on each change.
 */
#define UI_MAUVE_MAX_REF 200
#define UI_MAUVE_MAX_TOKENS 48
struct ui_mauve;
/* Start the worker (never NULL: a failure shows as UI_MAUVE_FAILED). */
struct ui_mauve *ui_mauve_start(const struct gpt_model *m, const struct tokenizer *tok,
    const struct record *rec, int wake_fd);
/* Queue a generation's net ids (n of them, prompt excluded; copied) as a sample. */
void ui_mauve_add(struct ui_mauve *mv, const int *ids, int n);
/* Copy the state into out; returns 1 if it changed since the last call. */
int ui_mauve_get(struct ui_mauve *mv, struct ui_mauve_info *out);
/* Stop the worker (after its current text), join it and free everything. */
void ui_mauve_free(struct ui_mauve *mv);

#endif
