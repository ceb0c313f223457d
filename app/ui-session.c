/*
 * ui-session.c: a saved session and the UI's event log, both ways: a
 * finished generation's log saved as a transcript (transcript.c writes it),
 * and a transcript turned back into a log the UI replays, checked against
 * the model's tokenizer first.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "generate.h"
#include "sampler.h"
#include "tokenizer.h"
#include "transcript.h"
#include "ui.h"
#include "ui-session.h"
#include "util.h"

/* Bytes for a message: quoted, control bytes escaped, at most 40 of them. */
static void
ui_session_quote(char *buf, size_t size, const char *text, size_t len)
{
	size_t k = 0;

	buf[k++] = '\'';
	for (size_t i = 0; i < len && k + 8 < size; i++) {
		unsigned char c = (unsigned char)text[i];

		if (i == 40) {
			k += (size_t)snprintf(buf + k, size - k, "...");
			break;
		}
		if (c == '\n')
			k += (size_t)snprintf(buf + k, size - k, "\\n");
		else if (c < 0x20 || c == 0x7f)
			k += (size_t)snprintf(buf + k, size - k, "\\x%02x", c);
		else
			buf[k++] = (char)c;
	}
	buf[k++] = '\'';
	buf[k] = '\0';
}

/* The stop reason named name ('-' or '_'); -1 if none is. */
static int
ui_session_stop_reason(const char *name)
{
	for (int r = GENERATE_STOP_EOT; r <= GENERATE_STOP_MAX_ACTIONS; r++) {
		const char *want = generate_stop_name((enum generate_stop)r);
		size_t i;

		for (i = 0; want[i] != '\0' && (name[i] == want[i] || (name[i] == '-' &&
		    want[i] == '_')); i++)
			continue;
		if (want[i] == '\0' && name[i] == '\0')
			return r;
	}
	return -1;
}

/* Why a session from another tokenizer is refused, and what to do instead. */
static void
ui_session_other_tokenizer(const struct transcript *s, const char *name, size_t line,
    const char *what, char **cause)
{
	util_error(cause, "%s:%zu:1: %s: the session was made with another tokenizer "
	    "(model %s), so its token ids would show the wrong text here; open it with "
	    "that model (seqmatch ui --model %s --session FILE), or read its text with "
	    "'seqmatch session export FILE --markdown'", name, line, what, s->model, s->model);
}

/* Turn a transcript into an event log. */
int
ui_session_to_log(const struct transcript *s, const struct tokenizer *tok, struct ui_log *log,
    char **cause)
{
	const char *name = s->path != NULL ? s->path : "session";
	int V = tokenizer_vocab_size(tok), n_prompt, reason = GENERATE_STOP_CANCELLED;
	int *ids = NULL, depth = 0, appended = 0, erased = 0;
	size_t n_ids = 0;
	char what[256], a[64], b[64];
	struct generate_event *ev;

	if (s->prompt[0] == '\0')
		n_prompt = 1; /* an empty prompt starts from <|endoftext|> */
	else if (tokenizer_encode(tok, (const uint8_t *)s->prompt, strlen(s->prompt), &ids,
	    &n_ids, cause) != 0)
		return -1;
	else
		n_prompt = (int)n_ids;
	free(ids);
	if (s->n_prompt >= 0 && s->n_prompt != n_prompt) {
		snprintf(what, sizeof what, "the prompt is %d tokens here but %d in the session",
		    n_prompt, s->n_prompt);
		ui_session_other_tokenizer(s, name, 1, what, cause);
		return -1;
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct transcript_event *e = &s->ev[i];
		const uint8_t *piece;
		size_t len;

		if (e->id >= V - 1) {
			snprintf(what, sizeof what, "token %d is not an ordinary token of this "
			    "model's %d", e->id, V);
			ui_session_other_tokenizer(s, name, i + 2, what, cause);
			return -1;
		}
		piece = tokenizer_piece(tok, e->id, &len);
		if (len != e->len || memcmp(piece, e->text, len) != 0) {
			ui_session_quote(a, sizeof a, (const char *)piece, len);
			ui_session_quote(b, sizeof b, e->text, e->len);
			snprintf(what, sizeof what, "token %d is %s here but %s in the session",
			    e->id, a, b);
			ui_session_other_tokenizer(s, name, i + 2, what, cause);
			return -1;
		}
		for (int k = 0; k < e->n_top; k++) {
			if (e->top[k].id > V) {
				snprintf(what, sizeof what, "alternative token %d is past this "
				    "model's %d", e->top[k].id, V);
				ui_session_other_tokenizer(s, name, i + 2, what, cause);
				return -1;
			}
		}
	}
	if (s->stopped && (reason = ui_session_stop_reason(s->reason)) < 0) {
		util_error(cause, "%s:%zu:1: unknown stop reason '%s'", name, s->n + 2,
		    s->reason);
		return -1;
	}

	memset(log, 0, sizeof *log);
	log->prompt = xstrdup(s->prompt);
	log->n_prompt = n_prompt;
	log->ev = xcalloc(s->n + 1, sizeof *log->ev);
	log->n = s->n;
	log->cap = s->n + 1;
	log->inspect = -1;
	log->seed = s->seed;
	log->params_changed = s->params_changed;
	for (size_t i = 0; i < s->n; i++) {
		const struct transcript_event *e = &s->ev[i];

		ev = &log->ev[i];
		ev->type = e->erase ? GENERATE_EVENT_ERASE : GENERATE_EVENT_APPEND;
		ev->token = e->id;
		ev->slot = e->slot;
		ev->prob = (float)e->prob;
		if (e->erase) {
			depth--;
			erased++;
		} else {
			depth++;
			appended++;
		}
		ev->n_generated = appended;
		ev->n_erased = erased;
		ev->length = n_prompt + depth;
		ev->prefill_seconds = s->stop_detail ? s->prefill_seconds : 0;
		if (e->detail) {
			ev->model_prob = e->model_prob;
			ev->seconds = e->seconds;
			ev->entropy = e->entropy;
			ev->p_bksp = e->p_bksp;
			ev->n_top = e->n_top;
			for (int k = 0; k < e->n_top; k++) {
				ev->top[k].id = e->top[k].id;
				ev->top[k].prob = e->top[k].prob;
			}
		} else { /* format 1 did not save them: not known */
			ev->model_prob = ev->entropy = ev->p_bksp = NAN;
			ev->seconds = NAN;
		}
	}
	if (s->stopped) {
		log->done = 1;
		log->reason = (enum generate_stop)reason;
		ev = &log->stop;
		ev->type = GENERATE_EVENT_STOP;
		ev->token = -1;
		ev->reason = log->reason;
		ev->n_generated = s->n_generated;
		ev->n_erased = s->n_erased;
		ev->length = n_prompt + depth;
		ev->slot = ev->length - 1;
		ev->generate_seconds = s->seconds;
		ev->prefill_seconds = s->stop_detail ? s->prefill_seconds : 0;
		ev->seconds = s->stop_detail ? s->elapsed : s->seconds;
	}
	return 0;
}

/* Save a finished generation. */
int
ui_session_save_log(const char *dir, const struct ui_log *log, const struct tokenizer *tok,
    const struct sampler_params *params, const char *model_path, uint64_t model_hash,
    long weights_version, const char *weights, char **path, char **cause)
{
	struct transcript s;
	int rc;

	memset(&s, 0, sizeof s);
	s.model = xstrdup(model_path != NULL ? model_path : "");
	s.model_hash = model_hash;
	s.weights_version = weights_version;
	s.weights = weights != NULL ? xstrdup(weights) : NULL;
	s.prompt = xstrdup(log->prompt != NULL ? log->prompt : "");
	s.params = *params;
	s.seed = log->seed;
	s.params_changed = log->params_changed;
	s.n_prompt = log->n_prompt >= 1 ? log->n_prompt : -1;
	s.tokenizer_hash = transcript_tokenizer_hash(tok);
	s.ev = xcalloc(log->n + 1, sizeof *s.ev);
	for (size_t i = 0; i < log->n; i++) {
		const struct generate_event *e = &log->ev[i];
		const uint8_t *piece;

		if (e->type == GENERATE_EVENT_STOP)
			continue;
		piece = tokenizer_piece(tok, e->token, &s.ev[s.n].len);
		s.ev[s.n].erase = e->type == GENERATE_EVENT_ERASE;
		s.ev[s.n].id = e->token;
		s.ev[s.n].slot = e->slot;
		s.ev[s.n].prob = e->prob;
		s.ev[s.n].text = xmalloc(s.ev[s.n].len + 1);
		memcpy(s.ev[s.n].text, piece, s.ev[s.n].len);
		s.ev[s.n].text[s.ev[s.n].len] = '\0';
		s.ev[s.n].detail = 1;
		s.ev[s.n].model_prob = e->model_prob;
		s.ev[s.n].seconds = e->seconds;
		s.ev[s.n].entropy = e->entropy;
		s.ev[s.n].p_bksp = e->p_bksp;
		s.ev[s.n].n_top = e->n_top < 0 ? 0 : e->n_top > GENERATE_TOP ? GENERATE_TOP :
		    e->n_top;
		for (int k = 0; k < s.ev[s.n].n_top; k++) {
			s.ev[s.n].top[k].id = e->top[k].id;
			s.ev[s.n].top[k].prob = e->top[k].prob;
		}
		s.n++;
	}
	if (log->done) {
		s.stopped = 1;
		s.reason = xstrdup(generate_stop_name(log->reason));
		s.n_generated = log->stop.n_generated;
		s.n_erased = log->stop.n_erased;
		s.seconds = log->stop.generate_seconds;
		s.stop_detail = 1;
		s.prefill_seconds = log->stop.prefill_seconds;
		s.elapsed = log->stop.seconds;
	}
	rc = transcript_save(&s, dir, path, cause);
	transcript_free(&s);
	return rc;
}
