/*
 * ui-side.c: each model's generations. Side A is the loaded model (with the
 * fine-tune pane's latest weights), side B the --compare one: both start on
 * the same prompt with the same seed and parameters; their workers' events go
 * into their logs; finished runs become live MAUVE samples (B's through A's
 * tokenizer and featurizer, so the scores compare) and saved transcripts.
 * Also opening a saved transcript into side A.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "branches.h"
#include "finetune.h"
#include "gpt.h"
#include "qweights.h"
#include "sampler.h"
#include "textstats.h"
#include "tokenizer.h"
#include "transcript.h"
#include "ui-session.h"
#include "util.h"

#include "ui-int.h"

/* Copy the live MAUVE estimates; start B's worker once A's has fitted. 1 if changed. */
int
ui_mauve_poll(struct ui_state *s)
{
	int changed = 0;

	if (s->side[0].mauve != NULL && ui_mauve_get(s->side[0].mauve, &s->ui.mauve))
		changed = 1;
	/* One fit at a time on two cores; B's uses A's featurizer, so the scores compare. */
	if (s->nsides == 2 && s->side[1].mauve == NULL && s->ui.mauve.state == UI_MAUVE_READY)
		s->side[1].mauve = ui_mauve_start(s->model, s->tok, &s->rec, ui_wake[1]);
	if (s->side[1].mauve != NULL && ui_mauve_get(s->side[1].mauve, &s->ui_b.mauve))
		changed = 1;
	return changed;
}

/* FNV-1a of a model's parameter block (the side's loaded model's is computed once). */
static uint64_t
ui_model_hash(struct ui_side *d, const struct gpt_model *m)
{
	uint64_t h;

	if (m == d->model && d->model_hash_done)
		return d->model_hash;
	h = util_fnv1a(UTIL_FNV_INIT, gpt_params(m)->wte, gpt_num_params(m) * sizeof(float));
	if (m == d->model) {
		d->model_hash = h;
		d->model_hash_done = 1;
	}
	return h;
}

/* "B: " for model B's notices in compare mode, "" otherwise. */
static const char *
ui_side_prefix(const struct ui_state *s, const struct ui_side *d)
{
	if (s->nsides < 2)
		return "";
	return d == &s->side[0] ? "A: " : "B: ";
}

/* Start one side's generation from prompt text with seed; -1 with a notice on failure. */
static int
ui_side_generate(struct ui_state *s, struct ui_side *d, const char *prompt, uint64_t seed)
{
	struct sampler_params p = s->ui.params;
	struct ui_log *log = &d->ui->log;
	const struct gpt_model *m;
	int *ids = NULL;
	size_t n = 0;
	char *cause = NULL;

	if (prompt[0] == '\0') { /* an empty prompt starts a new document */
		ids = xmalloc(sizeof *ids);
		ids[0] = tokenizer_eot(d->tok);
		n = 1;
	} else if (tokenizer_encode(d->tok, (const uint8_t *)prompt, strlen(prompt), &ids, &n,
	    &cause) != 0) {
		ui_message(&s->ui, 1, "%sprompt: %s", ui_side_prefix(s, d), cause);
		free(cause);
		return -1;
	}
	if (n >= (size_t)gpt_config(d->model)->max_seq_len) {
		ui_message(&s->ui, 1, "%sprompt: %zu tokens do not fit the model's context of %d",
		    ui_side_prefix(s, d), n, gpt_config(d->model)->max_seq_len);
		free(ids);
		return -1;
	}
	p.seed = (int64_t)seed;
	/* A: the latest fine-tuned weights when a fine-tune exists, held for the whole run. */
	if (d == &s->side[0])
		d->gen_snap = ui_ft_snapshot(s->ft);
	m = d->gen_snap != NULL ? d->gen_snap->model : d->model;
	d->gen = ui_gen_start(d->model, d->gen_snap, d->tok, &p, ids, (int)n, d->qw,
	    ui_wake[1], &cause);
	free(ids);
	d->ui->weights_version = d->gen != NULL && d->gen_snap != NULL ? d->gen_snap->version : 0;
	d->run_params = p;
	/* A snapshot's hash was taken by the trainer when it published it. */
	d->run_hash = d->gen_snap != NULL ? d->gen_snap->hash : ui_model_hash(d, m);
	if (d->gen == NULL) {
		snapshot_unref(d->gen_snap);
		d->gen_snap = NULL;
		ui_message(&s->ui, 1, "%scannot start the generation: %s", ui_side_prefix(s, d),
		    cause);
		free(cause);
		return -1;
	}
	if (log->prompt != prompt) {
		free(log->prompt);
		log->prompt = xstrdup(prompt);
	}
	log->n_prompt = (int)n;
	log->inspect = -1;
	log->params_changed = 0;
	log->n = 0;
	log->shown = 0;
	log->done = 0;
	log->seed = seed;
	log->serial++;
	d->ui->have_run = 1;
	d->ui->generating = 1;
	return 0;
}

/* Whether any side is generating. */
int
ui_busy(const struct ui_state *s)
{
	for (int i = 0; i < s->nsides; i++)
		if (s->side[i].gen != NULL)
			return 1;
	return 0;
}

/*
 * Start a generation from prompt text; seed < 0 uses the parameters' seed. In
 * compare mode both models start on the same prompt with the same seed and
 * parameters.
 */
void
ui_generate(struct ui_state *s, const char *prompt, int64_t seed)
{
	char *copy;
	uint64_t used;
	int started = 0;

	if (ui_busy(s)) {
		ui_message(&s->ui, 1, "a generation is running: Esc or Ctrl-C stops it");
		return;
	}
	used = generate_pick_seed(seed >= 0 ? seed : s->ui.params.seed);
	copy = xstrdup(prompt); /* prompt may be a log's own copy, replaced on the way */
	for (int i = 0; i < s->nsides; i++)
		if (ui_side_generate(s, &s->side[i], copy, used) == 0)
			started++;
	if (started == s->nsides)
		ui_message(&s->ui, 0, "generating with seed %llu%s", (unsigned long long)used,
		    s->nsides > 1 ? " (both models)" : "");
	free(copy);
}

/* A generation's net ids (prompt excluded) in model A's tokens, for A's featurizer. */
static int
ui_sample_ids(struct ui_state *s, struct ui_side *d, int **out, int *n_out)
{
	int *ids = NULL, n_ids = 0;
	uint8_t *text = NULL;
	size_t len = 0, n = 0;
	char *cause = NULL;
	int rc;

	*out = NULL;
	*n_out = 0;
	rc = textstats_replay(d->ui->log.ev, (int)d->ui->log.n, d->ui->log.n_prompt, &ids,
	    &n_ids, &cause);
	if (rc == 0 && d->tok != s->tok) { /* B's tokens: through text into A's */
		rc = tokenizer_decode(d->tok, ids, (size_t)n_ids, &text, &len, &cause);
		free(ids);
		ids = NULL;
		if (rc == 0)
			rc = tokenizer_encode(s->tok, text, len, &ids, &n, &cause);
		n_ids = (int)n;
		free(text);
	}
	free(cause);
	if (rc != 0) {
		free(ids);
		return -1;
	}
	*out = ids;
	*n_out = n_ids;
	return 0;
}

/* Queue the net text of a side's finished generation as a live MAUVE sample. */
static void
ui_queue_mauve(struct ui_state *s, struct ui_side *d)
{
	int *ids, n_ids;

	if (d->mauve == NULL || ui_sample_ids(s, d, &ids, &n_ids) != 0)
		return;
	ui_mauve_add(d->mauve, ids, n_ids);
	free(ids);
}

/* Save a side's finished generation as a transcript (a failure is a notice). */
static void
ui_save_session(struct ui_state *s, struct ui_side *d)
{
	char *dir = transcript_dir(), *cause = NULL;

	if (dir == NULL)
		return;
	if (ui_session_save_log(dir, &d->ui->log, d->tok, &d->run_params, d->ui->model_path,
	    d->run_hash, d->ui->weights_version,
	    d->qw != NULL ? quant_format_name(qweights_format(d->qw)) : NULL, NULL, &cause) != 0)
		ui_message(&s->ui, 1, "%ssession not saved: %s", ui_side_prefix(s, d),
		    cause != NULL ? cause : "?");
	free(cause);
	free(dir);
}

/* Move a side's queued events into its log; reap its worker when it has ended. */
static int
ui_side_take(struct ui_state *s, struct ui_side *d)
{
	struct generate_event *ev;
	struct ui_log *log = &d->ui->log;
	size_t n;
	int finished, rc, fed, loop, erased_all;
	char *cause = NULL, warn[200];

	if (d->gen == NULL)
		return 0;
	/* Model A's run picks up fine-tuned weights as the fine-tune pane says. */
	fed = d == &s->side[0] ? ui_ft_feed(s->ft, d->gen, s->ui.ft_next_token,
	    &s->ui.weights_version) : 0;
	ev = ui_gen_take(d->gen, &n, &finished);
	for (size_t i = 0; i < n; i++) {
		if (ev[i].type == GENERATE_EVENT_STOP) {
			log->done = 1;
			log->reason = ev[i].reason;
			log->stop = ev[i];
			ui_queue_mauve(s, d);
			ui_message(&s->ui, 0, "%sdone (%s): %d tokens, %d erased, %.1f tokens/s",
			    ui_side_prefix(s, d), generate_stop_name(ev[i].reason),
			    ev[i].n_generated, ev[i].n_erased, ev[i].generate_seconds > 0 ?
			    (ev[i].n_generated + ev[i].n_erased) / ev[i].generate_seconds : 0.0);
			ui_save_session(s, d);
			/*
			 * A loop names its knob (branches.c), unless the model erased all it
			 * wrote without retyping: then the prompt is the likelier cause.
			 * "done (" comes first, so a narrow status line still shows it.
			 */
			loop = branches_log_warning(log, d->tok, &d->ui->params, warn, sizeof warn);
			erased_all = ev[i].reason == GENERATE_STOP_MAX_ACTIONS &&
			    ev[i].n_generated - ev[i].n_erased <= 1;
			if (loop == BRANCHES_RETYPE_LOOP || (loop && !erased_all))
				ui_message(&s->ui, 1, "%sdone (%s), %s; %d tokens, %d erased",
				    ui_side_prefix(s, d), generate_stop_name(ev[i].reason), warn,
				    ev[i].n_generated, ev[i].n_erased);
			else if (erased_all)
				ui_message(&s->ui, 1, "%sthe model erased all it wrote: the prompt is "
				    "unlike its corpus's text (try a name, e.g. 'Lena'), or lower "
				    "backspace_bias", ui_side_prefix(s, d));
			continue;
		}
		if (log->n == log->cap) {
			log->cap = log->cap ? 2 * log->cap : 256;
			log->ev = xrealloc(log->ev, log->cap * sizeof *log->ev);
		}
		log->ev[log->n++] = ev[i];
	}
	free(ev);
	if (finished) {
		rc = ui_gen_finish(d->gen, &cause);
		d->gen = NULL;
		snapshot_unref(d->gen_snap);
		d->gen_snap = NULL;
		d->ui->generating = 0;
		if (rc != 0)
			ui_message(&s->ui, 1, "%sgeneration failed: %s", ui_side_prefix(s, d),
			    cause ? cause : "?");
		free(cause);
	}
	return n > 0 || finished || fed;
}

/* Take every side's events; 1 if anything changed. */
int
ui_take_events(struct ui_state *s)
{
	int changed = 0;

	for (int i = 0; i < s->nsides; i++)
		changed |= ui_side_take(s, &s->side[i]);
	return changed;
}

/*
 * What opening a session did to the decoding settings, for its notice:
 * "temperature 1.2 (was 0.8), backspace_bias 4 (was 0)" (the first three,
 * then "+N more"), or "" when nothing changed. The seed setting stays.
 */
static void
ui_side_params_change(const struct sampler_params *was, const struct sampler_params *now,
    char *buf, size_t size)
{
	size_t o = 0;
	int n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sampler_table_len; i++) {
		const struct sampler_param *row = &sampler_table[i];
		char a[32], b[32];

		if (strcmp(row->name, "seed") == 0)
			continue;
		transcript_param_text(was, row, a, sizeof a);
		transcript_param_text(now, row, b, sizeof b);
		if (strcmp(a, b) == 0) /* as shown: 6 digits */
			continue;
		if (n++ < 3 && o < size)
			o += (size_t)snprintf(buf + o, size - o, "%s%s %s (was %s)", n > 1 ? ", " :
			    "", row->name, b, a);
	}
	if (n > 3 && o < size)
		snprintf(buf + o, size - o, " (+%d more)", n - 3);
}

/*
 * Open a saved session: its log replaces the last run (the text pane replays
 * it from the start), its decoding parameters become the current ones (the
 * notice says which changed), and
 * R regenerates it with its seed. -1 with *cause, nothing changed, if it
 * cannot be read or is not this model's tokenizer's.
 */
int
ui_open_session(struct ui_state *s, const char *path, char **cause)
{
	struct transcript ses;
	struct ui_log log;
	const char *id = strrchr(path, '/') != NULL ? strrchr(path, '/') + 1 : path;
	uint64_t hash;
	int64_t seed;
	char when[24], change[160], what[192];

	if (ui_busy(s)) {
		*cause = xstrdup("a generation is running: Esc or Ctrl-C stops it first");
		return -1;
	}
	if (transcript_load(&ses, path, cause) != 0 || ui_session_to_log(&ses, s->tok, &log,
	    cause) != 0) {
		transcript_free(&ses);
		return -1;
	}
	free(s->ui.log.prompt);
	free(s->ui.log.ev);
	log.serial = s->ui.log.serial + 1;
	s->ui.log = log;
	seed = s->ui.params.seed; /* R uses the session's seed; the setting stays the user's */
	ui_side_params_change(&s->ui.params, &ses.params, change, sizeof change);
	s->ui.params = ses.params;
	s->ui.params.seed = seed;
	s->ui.have_run = 1;
	if (s->nsides == 2) { /* compare mode: B has no part in it until R runs both */
		free(s->ui_b.log.prompt);
		free(s->ui_b.log.ev);
		memset(&s->ui_b.log, 0, sizeof s->ui_b.log);
		s->ui_b.log.serial = log.serial;
		s->ui_b.log.inspect = -1;
		s->ui_b.have_run = 0;
	}
	hash = ui_model_hash(&s->side[0], s->model);
	snprintf(when, sizeof when, "%.16s", ses.time); /* 2026-11-26T14:48: the line is short */
	if (strlen(when) > 10 && when[10] == 'T')
		when[10] = ' ';
	/* The changed settings first: the status line cuts a long notice at its end. */
	if (change[0] != '\0')
		snprintf(what, sizeof what, "opened: %s", change);
	else
		snprintf(what, sizeof what, "opened %s", when);
	if (hash != ses.model_hash)
		ui_message(&s->ui, 1, "%s; another model made it (hash %016llx, loaded %016llx): "
		    "R will differ (%s)", what, (unsigned long long)ses.model_hash,
		    (unsigned long long)hash, id);
	else if (ses.weights != NULL && s->side[0].qw != NULL &&
	    strcmp(ses.weights, quant_format_name(qweights_format(s->side[0].qw))) != 0)
		ui_message(&s->ui, 1, "%s; it was generated with %s weights, these are %s: R "
		    "will differ (%s)", what, ses.weights,
		    quant_format_name(qweights_format(s->side[0].qw)), id);
	else if (ses.params_changed)
		ui_message(&s->ui, 1, "%s; its parameters changed while it ran, so R will differ "
		    "(%s)", what, id);
	else if (change[0] != '\0')
		ui_message(&s->ui, 0, "%s; R generates it again (%s, %s)", what, when, id);
	else
		ui_message(&s->ui, 0, "%s; R generates it again (%s)", what, id);
	transcript_free(&ses);
	return 0;
}

/* Compare mode: model B's side and its struct ui (the panes TEXT2 and STATS2 read it). */
void
ui_compare_init(struct ui_state *s, const char *path)
{
	const char *slash = strrchr(path, '/');

	s->ui_b.side = 1;
	s->ui_b.model_name = slash != NULL ? slash + 1 : path;
	snprintf(s->label[0], sizeof s->label[0], "A %s", s->ui.model_name);
	snprintf(s->label[1], sizeof s->label[1], "B %s", s->ui_b.model_name);
	s->ui.label = s->label[0];
	s->ui_b.label = s->label[1];
	s->ui_b.featurizer_name = s->ui.model_name;
	s->ui_b.model_path = path;
	s->ui_b.model = s->model_b;
	s->ui_b.model_rec = &s->rec_b;
	s->ui_b.model_bksp = gpt_has_bksp(s->model_b);
	s->ui_b.tok = s->tok_b;
	s->ui_b.params = s->ui.params;
	s->ui_b.log.inspect = -1;
	s->side[1].ui = &s->ui_b;
	s->side[1].model = s->model_b;
	s->side[1].tok = s->tok_b;
	s->nsides = 2;
}
