/*
 * progress.h: a progress report for long loops (training, benchmarks).
 *
 * On a terminal (stderr is a tty) one line redrawn in place with \r, at most
 * about ten times a second:
 *   [#####.....] 45/100 loss 3.21 12.3k tok/s ETA 1m02s
 * and finished with a newline. When stderr is not a terminal, the same text
 * as plain lines, at most one a second (and always the last one). `-q` turns
 * it off entirely (progress_set_quiet).
 */
#ifndef SEQMATCH_PROGRESS_H
#define SEQMATCH_PROGRESS_H

struct progress {
	long first;       /* step the run started at (for rates and ETA on resume) */
	long total;       /* last step */
	long done;        /* steps done so far */
	double loss;      /* latest loss (NaN: not shown) */
	double tokens;    /* tokens processed since first */
	double start;     /* util_now() at init */
	double last_draw; /* util_now() at the last draw */
	int tty;          /* stderr is a terminal */
	int drawn;        /* a partial line is on the terminal */
	int width;        /* length of the last line drawn */
	long drawn_done;  /* `done` at the last draw */
};

/* Hide all progress output (global, from -q). */
void progress_set_quiet(int quiet);
int progress_quiet(void);

/* Start a report for steps first+1 .. total. */
void progress_init(struct progress *p, long first, long total);
/*
 * Record that `done` steps are complete, the latest loss (NaN to leave it
 * out) and the cumulative number of tokens since the start; redraws if due.
 */
void progress_update(struct progress *p, long done, double loss, double tokens);
/* Print a message line (stderr) without garbling the bar; it is redrawn next update. */
void progress_message(struct progress *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Draw the final state and end the line. */
void progress_finish(struct progress *p);

#endif
