/*
 * checkpoint-pair.c: a run's latest pair (the model file and PATH.opt, the
 * previous pair kept as hard links until both are written) and its run id.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint-impl.h"
#include "checkpoint.h"
#include "gpt.h"
#include "record.h"
#include "tokenizer.h"
#include "util.h"

/* path with suffix appended (malloc'd), or NULL with *cause. */
static char *
checkpoint_suffixed(const char *path, const char *suffix, char **cause)
{
	char *s;

	if (asprintf(&s, "%s%s", path, suffix) < 0) {
		util_error(cause, "out of memory");
		return NULL;
	}
	return s;
}

/* The run id a record names (its "run_id", hex), 0 if none. */
uint64_t
checkpoint_run_id(const struct record *rec)
{
	const char *v = rec != NULL ? record_get(rec, "run_id") : NULL;

	return v != NULL ? strtoull(v, NULL, 16) : 0;
}

/* Save a run's latest pair: see checkpoint.h. */
int
checkpoint_save_pair(const char *path, struct gpt_model *m, const struct tokenizer *tok,
    const struct record *rec, long step, char **cause)
{
	char *opt = checkpoint_suffixed(path, ".opt", cause);
	char *prev = checkpoint_suffixed(path, ".prev", cause);
	char *opt_prev = checkpoint_suffixed(path, ".opt.prev", cause);
	int kept = 0, rc = -1;

	if (opt == NULL || prev == NULL || opt_prev == NULL)
		goto out;
	/*
	 * Keep the pair on disk (which belongs together: every save completes it,
	 * and checkpoint_load_pair puts a kept pair back) as hard links until the
	 * new one is complete: a kill between the two writes leaves it to resume.
	 */
	if (access(path, F_OK) == 0 && access(opt, F_OK) == 0) {
		unlink(prev);
		unlink(opt_prev);
		kept = link(path, prev) == 0 && link(opt, opt_prev) == 0;
		if (!kept) { /* no hard links here: save without the safety net */
			unlink(prev);
			unlink(opt_prev);
		}
	}
	if (checkpoint_save(path, m, tok, rec, cause) != 0 ||
	    checkpoint_save_optim(opt, m, step, checkpoint_run_id(rec), cause) != 0)
		goto out;
	if (kept) {
		unlink(opt_prev);
		unlink(prev);
	}
	rc = 0;
out:
	free(opt);
	free(prev);
	free(opt_prev);
	return rc;
}

/*
 * Load model and opt and check that they are one save: the record's "steps"
 * and "run_id" against the optimizer file's step and run id.
 */
static int
checkpoint_try_pair(const char *model, const char *opt, struct gpt_model **mp,
    struct tokenizer **tokp, struct record *rec, long *step, char **cause)
{
	struct gpt_model *m = NULL;
	struct tokenizer *tok = NULL;
	struct record tmp;
	uint64_t run = 0, mrun;
	const char *v;
	long ostep = 0, mstep = -1;

	record_init(&tmp);
	if (checkpoint_load(model, &m, &tok, &tmp, cause) != 0)
		goto fail;
	if (checkpoint_load_optim(opt, m, &ostep, &run, cause) != 0)
		goto fail;
	v = record_get(&tmp, "steps");
	if (v != NULL)
		mstep = strtol(v, NULL, 10);
	mrun = checkpoint_run_id(&tmp);
	if ((v != NULL && mstep != ostep) || (run != 0 && mrun != 0 && run != mrun)) {
		util_error(cause, "%s (step %ld, run %016llx) and %s (step %ld, run %016llx) "
		    "are not from the same save", model, mstep, (unsigned long long)mrun,
		    opt, ostep, (unsigned long long)run);
		goto fail;
	}
	*mp = m;
	*tokp = tok;
	*step = ostep;
	if (rec != NULL) {
		record_release(rec);
		*rec = tmp;
	} else
		record_release(&tmp);
	return 0;
fail:
	record_release(&tmp);
	if (tok != NULL)
		tokenizer_free(tok);
	gpt_free(m);
	return -1;
}

/* Load a run's latest pair, or the kept one: see checkpoint.h. */
int
checkpoint_load_pair(const char *path, struct gpt_model **m, struct tokenizer **tok,
    struct record *rec, long *step, int *from_kept, char **cause)
{
	char *opt = checkpoint_suffixed(path, ".opt", cause);
	char *prev = checkpoint_suffixed(path, ".prev", cause);
	char *opt_prev = checkpoint_suffixed(path, ".opt.prev", cause);
	char *first = NULL;
	int rc = -1;

	*from_kept = 0;
	if (opt == NULL || prev == NULL || opt_prev == NULL)
		goto out;
	if (checkpoint_try_pair(path, opt, m, tok, rec, step, &first) == 0) {
		rc = 0;
		goto out;
	}
	if (access(prev, F_OK) == 0 && access(opt_prev, F_OK) == 0 &&
	    checkpoint_try_pair(prev, opt_prev, m, tok, rec, step, NULL) == 0) {
		/* The last save was cut short: the kept pair becomes the latest again. */
		if (rename(prev, path) != 0 || rename(opt_prev, opt) != 0) {
			util_error(cause, "%s: cannot put the kept pair back: %s", path,
			    strerror(errno));
			gpt_free(*m);
			tokenizer_free(*tok);
			*m = NULL;
			*tok = NULL;
			goto out;
		}
		*from_kept = 1;
		rc = 0;
		goto out;
	}
	if (access(path, F_OK) == 0 && access(opt, F_OK) != 0)
		/* A kill during a run's first save, before its .opt was written. */
		util_error(cause, "%s has no optimizer file %s to resume from (the run's first "
		    "save was cut short?): start it again without --resume", path, opt);
	else
		util_error(cause, "%s", first != NULL ? first : "cannot load the pair");
out:
	free(first);
	free(opt);
	free(prev);
	free(opt_prev);
	return rc;
}
