/*
 * train-flow.h: what `seqmatch train` and `seqmatch finetune` do alike around
 * their engine loop: the default best path, the corpus and its held-out split,
 * --resume from MODEL and MODEL.opt, the token streams, the progress bar and
 * the JSON lines' validation fields, and the closing message with its exit
 * status. A command fills the first fields, calls the functions below in
 * their order (those returning int give 0, or -1 after printing the error,
 * with `status` holding the exit status), and returns train_flow_release's
 * status.
 */
#ifndef SEQMATCH_TRAIN_FLOW_H
#define SEQMATCH_TRAIN_FLOW_H

#include <stdint.h>

#include "corpus.h"
#include "progress.h"
#include "record.h"
#include "train.h"

struct gpt_model;
struct tokenizer;

struct train_flow {
	/* The command's options (train_flow_init sets the defaults). */
	const char *corpus_path;
	enum corpus_sep sep;
	double val_fraction;
	const char *out;           /* latest checkpoint, and out.opt */
	const char *best;          /* best checkpoint; NULL: out with -best before .bin */
	int resume;
	int json;                  /* JSON lines on stdout instead of a bar */

	/* What the steps load; train_flow_release frees what is still here. */
	struct corpus *corpus, *ctrain, *cval;
	struct tokenizer *tok;
	struct gpt_model *model;   /* set to NULL when handed to an owner */
	struct record rec;
	struct train_data dtrain, dval;
	long start;                /* steps already done (resume) */
	struct progress bar;
	char *cause;               /* the engine's last error */
	char *best_alloc;
	int lock_fd;               /* out.lock, held while the run writes out (-1: none) */
	char *lock_path;
	int status;                /* exit status (APP_EXIT_ERROR until done) */
};

void train_flow_init(struct train_flow *f);
/* Return the exit status, after freeing everything the flow holds. */
int train_flow_release(struct train_flow *f);

/*
 * The default best path; then, before any work, that out and best can be
 * written and no other run holds out.lock; then the corpus and its split
 * (seeded) into ctrain, cval.
 */
int train_flow_corpus(struct train_flow *f, uint64_t seed);
/*
 * --resume: model, tokenizer and record from out, the optimiser state and
 * step count from out.opt. Warns if the record's hash_key (NULL: no check)
 * names another corpus; refuses (usage) when `steps` are already done.
 */
int train_flow_resume(struct train_flow *f, long steps, const char *hash_key);
/* Token streams of the split with the tokenizer. */
int train_flow_data(struct train_flow *f);

/* Start the bar (quiet with --json) for steps start+1 .. steps, and catch Ctrl-C. */
void train_flow_begin(struct train_flow *f, long steps);
/* End a JSON progress line: the validation fields when there are some. */
void train_flow_json_end(int has_val, float val_loss, float best_val_loss);
/*
 * Update the bar after `step` (loss, tokens since the start) and, after a
 * validation, say so, followed by extra (a command's own figures, or "").
 */
void train_flow_report(struct train_flow *f, long step, double loss, double tokens,
    int has_val, float val_loss, float best_val_loss, int saved_best,
    const char *extra);
/* After the loop (done steps): interrupted (resume hint) or done; sets status. */
void train_flow_done(struct train_flow *f, long done);
/* For the opening line: "; N MPI processes, each B/N" under mpirun, else "". */
const char *train_flow_procs(void);

#endif
