/*
 * ui-ab.c: what a knob change does. The `b` key compares the decoding
 * parameters the last run started with ("before") against the current ones
 * ("after"): same prompt, same weights, and the same UI_AB_SEEDS seeds (the
 * last run's and the next ones), so that the only difference is the knobs.
 * Per side it counts erases per 100 typed tokens, corrections against
 * retypes, runs that hit a loop, and distinct-2 of the final texts; the stats
 * pane draws the table from ui->ab.
 *
 * How this works. A worker thread runs generate_run for seed 1 before, seed 1
 * after, seed 2 before, ... (interleaved, so a half-done table already
 * compares like with like); each finished run is folded into its column under
 * a mutex and a byte on the wake pipe tells the loop, which copies the column
 * into ui->ab (ui_ab_poll). This file never touches curses. A new `b` while
 * one runs cancels it first; quitting cancels and joins it.
 *
 * Rule violations (`seqmatch eval --check CMD`, app/cmd-eval-check.c) are not
 * measured here: the UI has no checker configured, and running an external
 * command per generation from the UI is left for later.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "checker.h"
#include "finetune.h"
#include "generate.h"
#include "gpt.h"
#include "qweights.h"
#include "textstats.h"
#include "tokenizer.h"

#include "ui-int.h"

/* The worker's state. */
struct ui_ab {
	pthread_t thread;
	const struct gpt_model *model;
	const struct qweights *qw;    /* model's matrices in the format to decode with */
	struct snapshot *snap;        /* fine-tuned weights (a reference), or NULL: model */
	const struct tokenizer *tok;
	struct sampler_params params[2]; /* before, after */
	int *ids;                     /* (n) the prompt */
	int n;
	int wake_fd;
	atomic_int cancel;
	pthread_mutex_t mutex;        /* guards info, changed */
	struct ui_ab_info info;
	int changed;
	/* The running generation's events (worker only). */
	struct generate_event *ev;
	size_t nev, capev;
	int oom;                      /* the worker ran out of memory for events */
	char *check_cmd;              /* the story checker (config.yaml check:), or NULL */
	char *prompt;                 /* the prompt's text, for the checker */
};

/* Count one run's corrections, retypes and whether it looped (see ui.h). */
void
ui_ab_count(const struct generate_event *ev, int n, long *corrections, long *retypes,
    int *loop)
{
	int run_slot = -1, run_token = -1, run = 0, same;

	*loop = 0;
	for (int i = 0; i < n; i++) {
		if (ev[i].type == GENERATE_EVENT_STOP &&
		    ev[i].reason == GENERATE_STOP_MAX_ACTIONS)
			*loop = 1;
		if (ev[i].type != GENERATE_EVENT_ERASE)
			continue;
		same = 0;
		for (int j = i + 1; j < n; j++)
			if (ev[j].type == GENERATE_EVENT_APPEND && ev[j].slot == ev[i].slot) {
				same = ev[j].token == ev[i].token;
				break;
			}
		if (same) {
			(*retypes)++;
			/* Erased and retyped again and again at one slot: a loop. */
			if (ev[i].slot == run_slot && ev[i].token == run_token)
				run++;
			else {
				run_slot = ev[i].slot;
				run_token = ev[i].token;
				run = 1;
			}
			if (run >= UI_AB_LOOP_RETYPES)
				*loop = 1;
		} else
			(*corrections)++;
	}
}

/* Wake the UI thread (a full pipe already means it will wake). */
static void
ui_ab_wake(struct ui_ab *ab)
{
	ssize_t r;

	if (ab->wake_fd < 0)
		return;
	do
		r = write(ab->wake_fd, "b", 1);
	while (r < 0 && errno == EINTR);
}

/* generate_run's callback: keep the event; non-zero cancels. */
static int
ui_ab_event(const struct generate_event *ev, void *arg)
{
	struct ui_ab *ab = arg;

	if (ab->nev == ab->capev) {
		/* A worker thread: out of memory ends the run, never the program. */
		size_t cap = ab->capev ? 2 * ab->capev : 256;
		struct generate_event *p = realloc(ab->ev, cap * sizeof *p);

		if (p == NULL) {
			ab->oom = 1;
			return 1;
		}
		ab->ev = p;
		ab->capev = cap;
	}
	ab->ev[ab->nev++] = *ev;
	return atomic_load(&ab->cancel);
}

/* Mark the comparison failed with why, and wake the loop. */
static void
ui_ab_fail(struct ui_ab *ab, const char *why)
{
	pthread_mutex_lock(&ab->mutex);
	ab->info.state = UI_AB_FAILED;
	snprintf(ab->info.error, sizeof ab->info.error, "%s", why);
	ab->changed = 1;
	pthread_mutex_unlock(&ab->mutex);
	ui_ab_wake(ab);
}

/* The checker's callback: count the violations. */
static int
ui_ab_violation(int i, const char *kind, void *arg)
{
	(void)i;
	(void)kind;
	++*(int *)arg;
	return 0;
}

/*
 * Run the story checker on the run's final text (its n_ids net ids; worker
 * thread): its violations, or -1 with *cause.
 */
static int
ui_ab_check(struct ui_ab *ab, const int *ids, int n_ids, char **cause)
{
	struct checker_text t;
	const char *stop = "eot";
	uint8_t *text = NULL;
	size_t len = 0;
	int nviol = 0;

	for (size_t i = 0; i < ab->nev; i++)
		if (ab->ev[i].type == GENERATE_EVENT_STOP)
			stop = generate_stop_name(ab->ev[i].reason);
	if (tokenizer_decode(ab->tok, ids, (size_t)n_ids, &text, &len, cause) != 0)
		return -1;
	t.prompt = ab->prompt;
	t.prompt_len = strlen(ab->prompt);
	t.text = (const char *)text;
	t.len = len;
	t.stop = stop;
	if (checker_run(ab->check_cmd, &t, 1, NULL, ui_ab_violation, &nviol, cause) != 0)
		nviol = -1;
	free(text);
	return nviol;
}

/* The worker: every seed, before then after; a column's numbers after each run. */
static void *
ui_ab_main(void *arg)
{
	struct ui_ab *ab = arg;
	struct textstats ts[2];
	const struct qweights *qw = ab->qw;
	char *cause = NULL;
	int *ids = NULL, n_ids = 0;

	textstats_init(&ts[0]);
	textstats_init(&ts[1]);
	/* The generator's format: a snapshot's matrices are converted once, and kept. */
	if (ab->snap != NULL &&
	    (qw = snapshot_weights(ab->snap, qweights_format(ab->qw), &cause)) == NULL) {
		ui_ab_fail(ab, cause != NULL ? cause : "out of memory");
		free(cause);
		goto out;
	}
	for (int k = 0; k < 2 * ab->info.n_seeds && !atomic_load(&ab->cancel); k++) {
		int side = k % 2, loop = 0, nviol = 0;
		struct sampler_params p = ab->params[side];
		struct ui_ab_col c;
		long corr = 0, ret = 0;

		p.seed = (int64_t)(ab->info.seed + (uint64_t)(k / 2));
		ab->nev = 0;
		if (generate_run_weights(ab->snap != NULL ? ab->snap->model : ab->model, qw,
		    ab->tok, &p, ab->ids, ab->n, ui_ab_event, NULL, ab, NULL, &cause) != 0 ||
		    textstats_add_events(&ts[side], ab->ev, (int)ab->nev, ab->n, &cause) != 0 ||
		    textstats_replay(ab->ev, (int)ab->nev, ab->n, &ids, &n_ids, &cause) != 0 ||
		    textstats_add_ids(&ts[side], ids, n_ids, &cause) != 0) {
			ui_ab_fail(ab, cause != NULL ? cause : "generation failed");
			free(cause);
			free(ids);
			goto out;
		}
		if (ab->oom) {
			ui_ab_fail(ab, "out of memory for the generated tokens");
			free(ids);
			goto out;
		}
		if (atomic_load(&ab->cancel)) {
			free(ids);
			break; /* a cancelled run is not a sample */
		}
		ui_ab_count(ab->ev, (int)ab->nev, &corr, &ret, &loop);
		if (ab->check_cmd != NULL && (nviol = ui_ab_check(ab, ids, n_ids, &cause)) < 0) {
			char why[160];

			snprintf(why, sizeof why, "check: %s", cause != NULL ? cause : "failed");
			ui_ab_fail(ab, why);
			free(cause);
			free(ids);
			goto out;
		}
		free(ids);
		ids = NULL;
		textstats_finish(&ts[side]);
		pthread_mutex_lock(&ab->mutex);
		c = side == 0 ? ab->info.before : ab->info.after;
		c.runs++;
		c.appends = ts[side].appends;
		c.erases = ts[side].erases;
		c.corrections += corr;
		c.retypes += ret;
		c.loops += loop;
		c.distinct2 = ts[side].ngrams[1] > 0 ? ts[side].distinct[1] : -1;
		if (ab->check_cmd != NULL) {
			c.checked++;
			c.violating += nviol > 0;
		}
		if (side == 0)
			ab->info.before = c;
		else
			ab->info.after = c;
		if (k + 1 == 2 * ab->info.n_seeds)
			ab->info.state = UI_AB_DONE;
		ab->changed = 1;
		pthread_mutex_unlock(&ab->mutex);
		ui_ab_wake(ab);
	}
out:
	textstats_release(&ts[0]);
	textstats_release(&ts[1]);
	return NULL;
}

/* Describe what differs between before and after (the seed aside) into buf. */
static void
ui_ab_describe(const struct sampler_params *a, const struct sampler_params *b, char *buf,
    size_t size)
{
	int n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sampler_table_len; i++) {
		const struct sampler_param *row = &sampler_table[i];
		double x = sampler_get(a, row), y = sampler_get(b, row);

		if (strcmp(row->name, "seed") == 0 || x == y)
			continue;
		if (n++ == 0)
			snprintf(buf, size, "%s %g -> %g", row->name, x, y);
	}
	if (n == 0)
		snprintf(buf, size, "no knob changed since the last run");
	else if (n > 1) {
		size_t len = strlen(buf);

		snprintf(buf + len, size - len, " (+%d more)", n - 1);
	}
}

/* Cancel and join a worker, drop its weights, free it. */
static void
ui_ab_free(struct ui_ab *ab)
{
	if (ab == NULL)
		return;
	atomic_store(&ab->cancel, 1);
	pthread_join(ab->thread, NULL);
	snapshot_unref(ab->snap);
	pthread_mutex_destroy(&ab->mutex);
	free(ab->ev);
	free(ab->ids);
	free(ab->check_cmd);
	free(ab->prompt);
	free(ab);
}

/* Start comparing the last run's parameters with the current ones (the b key). */
void
ui_ab_begin(struct ui_state *s)
{
	struct ui_ab *ab;
	const char *prompt = s->ui.log.prompt;
	char *cause = NULL;
	size_t n = 0;
	int *ids = NULL, err;

	if (!s->ui.have_run || prompt == NULL) {
		ui_message(&s->ui, 1, "before/after: generate first (it compares with that run)");
		return;
	}
	ui_ab_free(s->ab);
	s->ab = NULL;
	if (prompt[0] == '\0') {
		ids = xmalloc(sizeof *ids);
		ids[0] = tokenizer_eot(s->tok);
		n = 1;
	} else if (tokenizer_encode(s->tok, (const uint8_t *)prompt, strlen(prompt), &ids, &n,
	    &cause) != 0) {
		ui_message(&s->ui, 1, "before/after: %s", cause);
		free(cause);
		return;
	}
	ab = xcalloc(1, sizeof *ab);
	ab->model = s->model;
	ab->qw = s->side[0].qw;
	ab->snap = ui_ft_snapshot(s->ft); /* the latest weights, for both sides */
	ab->tok = s->tok;
	ab->params[0] = s->side[0].run_params;
	ab->params[1] = s->ui.params;
	ab->ids = ids;
	ab->n = (int)n;
	ab->wake_fd = s->ui.wake_fd;
	ab->check_cmd = s->check_cmd != NULL ? xstrdup(s->check_cmd) : NULL;
	ab->prompt = xstrdup(prompt);
	atomic_init(&ab->cancel, 0);
	pthread_mutex_init(&ab->mutex, NULL);
	memset(&ab->info, 0, sizeof ab->info);
	ab->info.state = UI_AB_RUNNING;
	ab->info.seed = s->ui.log.seed;
	ab->info.n_seeds = UI_AB_SEEDS;
	ab->info.before.distinct2 = ab->info.after.distinct2 = -1;
	ab->info.has_check = ab->check_cmd != NULL;
	ui_ab_describe(&ab->params[0], &ab->params[1], ab->info.change, sizeof ab->info.change);
	s->ui.ab = ab->info;
	err = pthread_create(&ab->thread, NULL, ui_ab_main, ab);
	if (err != 0) {
		ui_message(&s->ui, 1, "before/after: %s", strerror(err));
		snapshot_unref(ab->snap);
		pthread_mutex_destroy(&ab->mutex);
		free(ab->ids);
		free(ab->check_cmd);
		free(ab->prompt);
		free(ab);
		s->ui.ab.state = UI_AB_OFF;
		return;
	}
	s->ab = ab;
	ui_message(&s->ui, 0, "before/after: %d seeds from %llu, in the stats pane",
	    UI_AB_SEEDS, (unsigned long long)s->ui.log.seed);
}

/* Copy the worker's numbers into s->ui.ab; 1 if they changed. */
int
ui_ab_poll(struct ui_state *s)
{
	int changed;

	if (s->ab == NULL)
		return 0;
	pthread_mutex_lock(&s->ab->mutex);
	changed = s->ab->changed;
	s->ab->changed = 0;
	if (changed)
		s->ui.ab = s->ab->info;
	pthread_mutex_unlock(&s->ab->mutex);
	return changed;
}

/* Stop and free the worker (quitting). */
void
ui_ab_end(struct ui_state *s)
{
	ui_ab_free(s->ab);
	s->ab = NULL;
}
