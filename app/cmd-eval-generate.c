/*
 * cmd-eval-generate.c: the generations of `seqmatch eval`: every prompt of a
 * generation seed through one model with its sampling seed, the event log of
 * each kept for engine/textstats and for the erase outcomes
 * (cmd-eval-erases.c), the net tokens decoded to text, and the
 * reference continuation scored teacher-forced (mean log-probability per token
 * over the model's real tokens).
 *
 * Under mpirun each rank generates and scores its share of the prompts; an
 * allgather of the event logs then gives every rank all of them, in order,
 * and each counts and decodes every sample as one process would.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cmd-eval.h"
#include "dist.h"
#include "generate.h"
#include "gpt.h"
#include "progress.h"
#include "qweights.h"
#include "sampler.h"
#include "textstats.h"
#include "tokenizer.h"
#include "util.h"

/* A generation's event log, filled by the callback. */
struct cmd_eval_generate_log {
	struct generate_event *ev;
	int n, cap;
};

/* Event callback: keep every event. */
static int
cmd_eval_generate_collect(const struct generate_event *ev, void *arg)
{
	struct cmd_eval_generate_log *log = arg;

	if (log->n == log->cap) {
		log->cap = log->cap ? log->cap * 2 : 256;
		log->ev = xrealloc(log->ev, (size_t)log->cap * sizeof *log->ev);
	}
	log->ev[log->n++] = *ev;
	return app_interrupted ? 1 : 0;
}

/* Add the log-probability of ref (nr) after prompt (np), teacher-forced, to *sum. */
static int
cmd_eval_generate_logprob(const struct cmd_eval_model *mod, struct gpt_kv *kv,
    const int *prompt, int np, const int *ref, int nr, float *logits, double *sum,
    long *tokens, char **cause)
{
	int V = gpt_config(mod->model)->vocab_size;
	int *seq = xmalloc((size_t)(np + nr) * sizeof *seq);

	memcpy(seq, prompt, (size_t)np * sizeof *seq);
	memcpy(seq + np, ref, (size_t)nr * sizeof *seq);
	gpt_kv_truncate(kv, 0);
	if (gpt_kv_append(mod->model, kv, seq, np + nr, cause) != 0) {
		free(seq);
		return -1;
	}
	free(seq);
	for (int j = 0; j < nr; j++) {
		double maxv = -INFINITY, s = 0;

		/* log-softmax over the V real tokens (<bksp> and padding excluded). */
		gpt_kv_logits(mod->model, kv, np - 1 + j, logits);
		for (int v = 0; v < V; v++)
			if (logits[v] > maxv)
				maxv = logits[v];
		for (int v = 0; v < V; v++)
			s += exp((double)logits[v] - maxv);
		*sum += (double)logits[ref[j]] - maxv - log(s);
		(*tokens)++;
	}
	return 0;
}

/* Record one model's per-seed statistics of generation seed g. */
static void
cmd_eval_generate_record(struct cmd_eval *e, struct cmd_eval_model *mod, int g,
    struct textstats *ts, const struct cmd_eval_erases *er, double lp_sum,
    long lp_tokens)
{
	struct cmd_eval_row *row = &mod->row;

	textstats_finish(ts);
	cmd_eval_row_textstats(row, g, ts);
	cmd_eval_row_stops(row, g, e->n);
	row->v[CMD_EVAL_M_BACKSPACE_RATE][g] = ts->backspace_rate;
	row->v[CMD_EVAL_M_ERASES][g] = (double)ts->erases;
	row->v[CMD_EVAL_M_CORRECTIONS][g] = (double)er->corrections;
	row->v[CMD_EVAL_M_RETYPES][g] = (double)er->retypes;
	row->v[CMD_EVAL_M_UNFOLLOWED][g] = (double)er->unfollowed;
	row->v[CMD_EVAL_M_CORRECTION_SHARE][g] = er->corrections + er->retypes > 0 ?
	    (double)er->corrections / (double)(er->corrections + er->retypes) : NAN;
	row->v[CMD_EVAL_M_MEAN_LOGPROB][g] = lp_tokens > 0 ? lp_sum / (double)lp_tokens : NAN;
	mod->appends += ts->appends;
	mod->net_tokens += ts->net_tokens;
	mod->re_emissions += ts->re_emissions;
	if (ts->longest_backspace_run > mod->longest_backspace_run)
		mod->longest_backspace_run = ts->longest_backspace_run;
}

/* Ints one event takes in a gathered block. */
#define CMD_EVAL_EV_INTS ((sizeof(struct generate_event) + sizeof(int) - 1) / sizeof(int))

/*
 * Under MPI: every rank's logs (samples lo..hi-1 of its share) and prompt
 * lengths to every rank, replacing logs[0..n-1] and nps[0..n-1].
 */
static int
cmd_eval_generate_gather(struct cmd_eval_generate_log *logs, int *nps, int n, long lo,
    long hi, char **cause)
{
	size_t len = 0, nall, at = 0;
	int *flat, *p, *all;

	for (long i = lo; i < hi; i++)
		len += 2 + (size_t)logs[i].n * CMD_EVAL_EV_INTS;
	flat = xcalloc(len + 1, sizeof *flat);
	p = flat;
	for (long i = lo; i < hi; i++) {
		*p++ = logs[i].n;
		*p++ = nps[i];
		memcpy(p, logs[i].ev, (size_t)logs[i].n * sizeof *logs[i].ev);
		p += (size_t)logs[i].n * CMD_EVAL_EV_INTS;
	}
	if (dist_allgather_ints(flat, len, &all, &nall, cause) != 0) {
		free(flat);
		return -1;
	}
	free(flat);
	for (int i = 0; i < n; i++) {
		int k;

		if (nall - at < 2 || all[at] < 0 || nall - at - 2 < (size_t)all[at] *
		    CMD_EVAL_EV_INTS) {
			free(all);
			return util_error(cause, "the gathered generations are cut short");
		}
		k = all[at];
		free(logs[i].ev);
		logs[i].ev = xmalloc(((size_t)k + 1) * sizeof *logs[i].ev);
		memcpy(logs[i].ev, all + at + 2, (size_t)k * sizeof *logs[i].ev);
		logs[i].n = logs[i].cap = k;
		nps[i] = all[at + 1];
		at += 2 + (size_t)k * CMD_EVAL_EV_INTS;
	}
	free(all);
	return 0;
}

/* Step 2 for one model and generation seed g: generate, count, score the references. */
int
cmd_eval_generate(struct cmd_eval *e, struct cmd_eval_model *mod, int g)
{
	const struct gpt_config *cfg = gpt_config(mod->model);
	struct cmd_eval_generate_log *logs;
	struct sampler_params params = e->params;
	struct cmd_eval_row *row = &mod->row;
	struct textstats ts;
	struct gpt_kv *kv;
	struct cmd_eval_erases er = { 0, 0, 0, 0 };
	long lp_tokens = 0, lo, hi;
	double lp_sum = 0, lp[2];
	float *logits;
	char *cause = NULL;
	int ret = -1, *nps;

	if ((kv = gpt_kv_new(mod->model, cfg->max_seq_len, &cause)) == NULL ||
	    gpt_kv_set_weights(kv, qweights_kv(mod->qw), &cause) != 0) {
		gpt_kv_free(kv);
		app_error("%s: %s", mod->path, cause);
		free(cause);
		return -1;
	}
	logits = xmalloc((size_t)cfg->padded_vocab_size * sizeof *logits);
	logs = xcalloc((size_t)e->n + 1, sizeof *logs);
	nps = xcalloc((size_t)e->n + 1, sizeof *nps);
	cmd_eval_row_alloc(row, e->n);
	textstats_init(&ts);
	params.max_tokens = e->max_tokens;
	/* This rank's share of the prompts (all of them in one process). */
	dist_share(e->n, &lo, &hi);
	for (long i = lo; i < hi && !app_interrupted; i++) {
		const struct cmd_eval_sample *s = &e->samples[i];
		const int *prompt = s->doc->ids, *ref = s->doc->ids + e->prompt_tokens;
		int *own = NULL, *ownref = NULL, np = e->prompt_tokens;
		int nr = s->doc->n_ids - e->prompt_tokens;
		size_t n1, n2;

		if (!mod->same_tok) {
			if (tokenizer_encode(mod->tok, (const uint8_t *)s->prompt_text,
			    s->prompt_len, &own, &n1, &cause) != 0 ||
			    tokenizer_encode(mod->tok, (const uint8_t *)e->ref.text[i],
			    e->ref.len[i], &ownref, &n2, &cause) != 0)
				goto fail;
			if (n1 < 1 || n1 + n2 > (size_t)cfg->max_seq_len) {
				util_error(&cause, "the prompt and reference take %zu + %zu "
				    "tokens under this model's tokenizer; the context holds %d",
				    n1, n2, cfg->max_seq_len);
				goto fail;
			}
			prompt = own;
			ref = ownref;
			np = (int)n1;
			nr = (int)n2;
		}
		params.seed = (int64_t)s->seed;
		nps[i] = np;
		if (generate_run_weights(mod->model, mod->qw, mod->tok, &params, prompt, np,
		    cmd_eval_generate_collect, NULL, &logs[i], NULL, &cause) != 0)
			goto fail;
		if (app_interrupted) {
			free(own);
			free(ownref);
			break;
		}
		if (nr > 0 && cmd_eval_generate_logprob(mod, kv, prompt, np, ref, nr, logits,
		    &lp_sum, &lp_tokens, &cause) != 0)
			goto fail;
		free(own);
		free(ownref);
		e->done++;
		progress_update(&e->bar, e->done, NAN, e->tokens);
		continue;
fail:
		app_error("%s: generation seed %d, sample %ld (document %zu): %s", mod->path,
		    g + 1, i + 1, s->doc->doc + 1, cause != NULL ? cause : "failed");
		free(own);
		free(ownref);
		goto out;
	}
	if (dist_size() > 1) {
		lp[0] = lp_sum;
		lp[1] = (double)lp_tokens;
		if (cmd_eval_generate_gather(logs, nps, e->n, lo, hi, &cause) != 0 ||
		    dist_sum_double(lp, 2, &cause) != 0) {
			app_error("%s: generation seed %d: %s", mod->path, g + 1, cause);
			goto out;
		}
		lp_sum = lp[0];
		lp_tokens = (long)lp[1];
		e->done += e->n - (hi - lo);
		lo = 0;
		hi = e->n;
	}
	/* Count and decode every sample, in order. */
	for (long i = lo; i < hi && !app_interrupted; i++) {
		const struct cmd_eval_generate_log *log = &logs[i];
		int *ids, nids, np = nps[i];
		uint8_t *text;

		row->stop[i] = GENERATE_STOP_CANCELLED;
		if (log->n > 0 && log->ev[log->n - 1].type == GENERATE_EVENT_STOP) {
			const struct generate_event *stop = &log->ev[log->n - 1];

			mod->gen_tokens += stop->n_generated;
			e->tokens += stop->n_generated;
			mod->gen_seconds += stop->generate_seconds;
			mod->prefill_seconds += stop->prefill_seconds;
			mod->prefill_tokens += np;
			row->stop[i] = stop->reason;
			if ((int)stop->reason >= 0 && (int)stop->reason < CMD_EVAL_NSTOPS)
				mod->stops[stop->reason]++;
		}
		if (cmd_eval_erases_add(&er, log->ev, log->n) != 0)
			app_fatal("out of memory");
		if (textstats_add_events(&ts, log->ev, log->n, np, &cause) != 0 ||
		    textstats_replay(log->ev, log->n, np, &ids, &nids, &cause) != 0) {
			app_error("%s: generation seed %d, sample %ld: %s", mod->path, g + 1,
			    i + 1, cause);
			goto out;
		}
		if (textstats_add_ids(&ts, ids, nids, &cause) != 0 ||
		    tokenizer_decode(mod->tok, ids, (size_t)nids, &text, &row->len[i],
		    &cause) != 0) {
			free(ids);
			app_error("%s: generation seed %d, sample %ld: %s", mod->path, g + 1,
			    i + 1, cause);
			goto out;
		}
		row->text[i] = (char *)text;
		free(ids);
	}
	cmd_eval_generate_record(e, mod, g, &ts, &er, lp_sum, lp_tokens);
	ret = 0;
out:
	for (int i = 0; i < e->n; i++)
		free(logs[i].ev);
	free(logs);
	free(nps);
	textstats_release(&ts);
	free(cause);
	free(logits);
	gpt_kv_free(kv);
	return ret;
}
