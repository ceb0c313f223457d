/*
 * train-flow.c: the CLI flow train and finetune share (train-flow.h): their
 * messages and exit statuses live here once, so the two commands cannot drift.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "app.h"
#include "checkpoint.h"
#include "dist.h"
#include "gpt.h"
#include "options.h"
#include "tokenizer.h"
#include "train-flow.h"

/* Defaults: blank-line separated documents, a tenth held out. */
void
train_flow_init(struct train_flow *f)
{
	memset(f, 0, sizeof *f);
	f->sep = CORPUS_SEP_BLANK;
	f->val_fraction = 0.1;
	record_init(&f->rec);
	f->status = APP_EXIT_ERROR;
	f->lock_fd = -1;
}

/* Free it all; the exit status. */
int
train_flow_release(struct train_flow *f)
{
	if (f->lock_fd >= 0) {
		unlink(f->lock_path);
		close(f->lock_fd);
	}
	free(f->lock_path);
	free(f->cause);
	free(f->best_alloc);
	train_data_release(&f->dtrain);
	train_data_release(&f->dval);
	corpus_free(f->corpus);
	corpus_free(f->ctrain);
	corpus_free(f->cval);
	tokenizer_free(f->tok);
	gpt_free(f->model);
	record_release(&f->rec);
	return f->status;
}

/* Whether a checkpoint can be written at path (a file in a writable directory). */
static int
train_flow_writable(const char *option, const char *path)
{
	struct stat st;
	char *copy = xstrdup(path), *dir = dirname(copy);
	int ok = 1;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		app_error("%s %s is a directory; give a file name", option, path);
		ok = 0;
	} else if (access(dir, W_OK | X_OK) != 0) {
		app_error("%s %s: cannot write in %s: %s", option, path, dir, strerror(errno));
		ok = 0;
	}
	free(copy);
	return ok;
}

/*
 * Before any work: the outputs can be written, and no other run writes them
 * (a lock on OUT.lock, held until train_flow_release; the kernel drops it if
 * the process dies, so a stale file never blocks).
 */
static int
train_flow_claim(struct train_flow *f)
{
	struct flock fl;

	if (!train_flow_writable("--out", f->out) || !train_flow_writable("--best", f->best))
		return -1;
	if (asprintf(&f->lock_path, "%s.lock", f->out) < 0)
		app_fatal("out of memory");
	f->lock_fd = open(f->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (f->lock_fd < 0) {
		app_error("%s: %s", f->lock_path, strerror(errno));
		return -1;
	}
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(f->lock_fd, F_SETLK, &fl) != 0) {
		int e = errno;

		memset(&fl, 0, sizeof fl);
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		close(f->lock_fd);
		f->lock_fd = -1;
		if ((e == EACCES || e == EAGAIN) && (f->lock_fd = open(f->lock_path, O_RDWR |
		    O_CLOEXEC)) >= 0 && fcntl(f->lock_fd, F_GETLK, &fl) == 0 &&
		    fl.l_type != F_UNLCK)
			app_error("%s is being written by process %ld (it holds %s); wait for it "
			    "or choose another --out", f->out, (long)fl.l_pid, f->lock_path);
		else
			app_error("%s: cannot lock: %s", f->lock_path, strerror(e));
		if (f->lock_fd >= 0)
			close(f->lock_fd);
		f->lock_fd = -1;
		return -1;
	}
	return 0;
}

/* The outputs claimed, the best path, then the corpus and its held-out split. */
int
train_flow_corpus(struct train_flow *f, uint64_t seed)
{
	double h[4];

	if (f->best == NULL)
		f->best = f->best_alloc = options_best_path(f->out);
	/* Under MPI rank 0 alone writes the outputs. */
	if (dist_rank() == 0 && train_flow_claim(f) != 0)
		return -1;
	if (corpus_load(f->corpus_path, f->sep, &f->corpus, &f->cause) != 0) {
		app_error("%s", f->cause);
		return -1;
	}
	/* Every rank must read the same corpus: the largest hash is the smallest. */
	h[0] = (double)(f->corpus->hash >> 32);
	h[1] = (double)(f->corpus->hash & 0xffffffffu);
	h[2] = -h[0];
	h[3] = -h[1];
	if (dist_max_double(h, 4, &f->cause) != 0) {
		app_error("%s", f->cause);
		return -1;
	}
	if (h[0] != -h[2] || h[1] != -h[3]) {
		app_error("%s differs from the corpus of another rank (its hash %016llx)",
		    f->corpus_path, (unsigned long long)f->corpus->hash);
		return -1;
	}
	if (corpus_split(f->corpus, f->val_fraction, seed, &f->ctrain, &f->cval,
	    &f->cause) != 0) {
		app_error("%s: %s", f->corpus_path, f->cause);
		return -1;
	}
	return 0;
}

/* Load out and out.opt to go on from where they stopped. */
int
train_flow_resume(struct train_flow *f, long steps, const char *hash_key)
{
	const char *h;
	int kept;

	if (checkpoint_load_pair(f->out, &f->model, &f->tok, &f->rec, &f->start, &kept,
	    &f->cause) != 0) {
		app_error("--resume: %s", f->cause);
		return -1;
	}
	if (kept)
		app_warn("--resume: the last save of %s was cut short; going on from the "
		    "pair kept before it (step %ld)", f->out, f->start);
	h = hash_key != NULL ? record_get(&f->rec, hash_key) : NULL;
	if (h != NULL && strtoull(h, NULL, 16) != f->corpus->hash)
		app_warn("--resume: %s differs from the corpus this model was "
		    "trained on", f->corpus_path);
	if (f->start >= steps) {
		app_error("--resume: %s has already done %ld steps (--steps %ld)",
		    f->out, f->start, steps);
		f->status = APP_EXIT_USAGE;
		return -1;
	}
	return 0;
}

/* Tokenize the training and held-out documents. */
int
train_flow_data(struct train_flow *f)
{
	const struct corpus *t = f->ctrain, *v = f->cval;

	if (train_data_build(f->tok, t->docs, t->lens, t->ndocs, &f->dtrain,
	    &f->cause) != 0 || train_data_build(f->tok, v->docs, v->lens, v->ndocs,
	    &f->dval, &f->cause) != 0) {
		app_error("%s: %s", f->corpus_path, f->cause);
		return -1;
	}
	return 0;
}

/* The bar, and Ctrl-C saving instead of killing. */
void
train_flow_begin(struct train_flow *f, long steps)
{
	/* Under MPI rank 0 alone shows progress. */
	if (f->json || dist_rank() != 0)
		progress_set_quiet(1);
	progress_init(&f->bar, f->start, steps);
	app_catch_signals();
}

/* The validation fields and the end of a JSON line. */
void
train_flow_json_end(int has_val, float val_loss, float best_val_loss)
{
	if (has_val)
		printf(", \"val_loss\": %.6f, \"best_val_loss\": %.6f",
		    (double)val_loss, (double)best_val_loss);
	printf("}\n");
	fflush(stdout);
}

/* The bar after a step, and a line after a validation. */
void
train_flow_report(struct train_flow *f, long step, double loss, double tokens,
    int has_val, float val_loss, float best_val_loss, int saved_best,
    const char *extra)
{
	progress_update(&f->bar, step, loss, tokens);
	if (has_val)
		progress_message(&f->bar, "step %ld: val loss %.4f (best %.4f)%s%s", step,
		    (double)val_loss, (double)best_val_loss,
		    saved_best ? ", saved best" : "", extra);
}

/* The closing line and the exit status. */
void
train_flow_done(struct train_flow *f, long done)
{
	/* Under MPI another rank may have been the one interrupted: all stop early. */
	if (app_interrupted || done < f->bar.total) {
		f->status = APP_EXIT_INTERRUPTED;
		if (dist_rank() != 0)
			return;
		fprintf(stderr, "seqmatch: interrupted at step %ld; saved %s (resume with "
		    "--resume)\n", done, f->out);
		f->status = APP_EXIT_INTERRUPTED;
	} else {
		if (!f->json && dist_rank() == 0)
			fprintf(stderr, "seqmatch: %ld steps done; saved %s and %s.opt\n",
			    done, f->out, f->out);
		f->status = APP_EXIT_OK;
	}
}

/* "; N MPI processes, each B/N" under mpirun, else "". */
const char *
train_flow_procs(void)
{
	static char buf[64];

	if (dist_size() == 1)
		return "";
	snprintf(buf, sizeof buf, "; %d MPI processes, each B/%d", dist_size(),
	    dist_size());
	return buf;
}
