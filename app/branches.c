/*
 * branches.c: the per-position branch view of an event log (branches.h).
 *
 * How this works. One pass over the events keeps the stack of live APPENDs
 * (an ERASE pops the top, marking that APPEND erased) and the erase runs.
 * Then the APPENDs are bucketed by slot, stably (a counting sort), so each
 * slot's attempts are in the order they were typed; consecutive attempts
 * with the same token and the same fate are collapsed into one group with a
 * count. A slot's retypes are APPENDs of the token erased there just before:
 * the model cannot see what it erased, so at temperature 0 with a high
 * backspace_bias it types the same token again, erases it again, and so on
 * until the cap on actions (generate.h: twice max_tokens). forbid_retype
 * masks exactly that token at the next step; max_consecutive_backspaces caps
 * the erase runs when the loop erases several tokens at a time.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "branches.h"
#include "generate.h"
#include "tokenizer.h"
#include "ui.h"

/* Empty b. */
void
branches_init(struct branches *b)
{
	memset(b, 0, sizeof *b);
	b->loop.slot = -1;
	b->loop.token = -1;
}

/* Free b's arrays and empty it. */
void
branches_release(struct branches *b)
{
	free(b->slots);
	free(b->groups);
	free(b->live);
	branches_init(b);
}

/* Whether slot s is listed in the view. */
int
branches_slot_rewritten(const struct branches_slot *s)
{
	return s->tries > 1 || s->erases > 0;
}

/* Find the loop in b (slots, erase runs already counted) and the knob that stops it. */
static void
branches_find_loop(struct branches *b, const struct sampler_params *p)
{
	struct branches_loop *l = &b->loop;
	int forbid = p != NULL ? p->forbid_retype : 0;

	for (int i = 0; i < b->n_slots; i++) {
		const struct branches_slot *s = &b->slots[i];

		if (s->retypes > l->retypes) {
			l->retypes = s->retypes;
			l->slot = s->slot;
			/* The retyped token: the last erased group's. */
			for (int k = s->first + s->n; k-- > s->first;)
				if (b->groups[k].erased) {
					l->token = b->groups[k].token;
					break;
				}
			l->erased = 0;
			for (int k = s->first; k < s->first + s->n; k++)
				if (b->groups[k].erased && b->groups[k].token == l->token)
					l->erased += b->groups[k].count;
		}
	}
	l->found = l->retypes >= BRANCHES_LOOP_RETYPES || l->action_cap;
	if (!l->found)
		return;
	if (l->retypes >= BRANCHES_LOOP_RETYPES && !forbid)
		l->knob = BRANCHES_KNOB_FORBID_RETYPE;
	else if (l->longest_chain >= 2)
		l->knob = BRANCHES_KNOB_MAX_CONSECUTIVE;
	else if (!forbid)
		l->knob = BRANCHES_KNOB_FORBID_RETYPE;
	else
		l->knob = BRANCHES_KNOB_NONE;
}

/* Build the branch view of the first upto events of log. */
void
branches_build(struct branches *b, const struct ui_log *log, size_t upto,
    const struct sampler_params *p)
{
	size_t n = upto < log->n ? upto : log->n, napp = 0, nstack = 0, i;
	size_t *app = xmalloc((n + 1) * sizeof *app);     /* APPEND event indices */
	unsigned char *erased = xcalloc(n + 1, 1);        /* by APPEND number */
	size_t *stack = xmalloc((n + 1) * sizeof *stack);  /* live APPEND numbers */
	int *slot_of = xmalloc((n + 1) * sizeof *slot_of); /* by APPEND number, from 0 */
	int *start, *order, max_slot = -1, run = 0;
	int cap = p != NULL ? p->max_consecutive_backspaces : -1;

	branches_release(b);
	b->n_prompt = log->n_prompt;
	for (i = 0; i < n; i++) {
		const struct generate_event *ev = &log->ev[i];

		if (ev->type == GENERATE_EVENT_APPEND) {
			/* The slot follows from the live stack; the event's own may disagree in a
			 * log read from a file, and the stack is what the text shows. */
			slot_of[napp] = (int)nstack;
			if (slot_of[napp] > max_slot)
				max_slot = slot_of[napp];
			stack[nstack++] = napp;
			app[napp++] = i;
			if (run > 0 && cap > 0 && run == cap)
				b->loop.chains_at_cap++;
			run = 0;
		} else if (ev->type == GENERATE_EVENT_ERASE) {
			b->erases++;
			if (nstack > 0)
				erased[stack[--nstack]] = 1;
			if (++run > b->loop.longest_chain)
				b->loop.longest_chain = run;
		}
	}
	if (run > 0 && cap > 0 && run == cap)
		b->loop.chains_at_cap++;
	b->loop.action_cap = log->done && n == log->n &&
	    log->reason == GENERATE_STOP_MAX_ACTIONS;

	/* The text: the live stack. */
	b->n_live = (int)nstack;
	b->live = xmalloc((nstack + 1) * sizeof *b->live);
	for (i = 0; i < nstack; i++)
		b->live[i] = log->ev[app[stack[i]]].token;

	/* Bucket the APPENDs by slot, stably. */
	start = xcalloc((size_t)max_slot + 2, sizeof *start);
	order = xmalloc((napp + 1) * sizeof *order);
	for (i = 0; i < napp; i++)
		start[slot_of[i] + 1]++;
	for (int s = 0; s <= max_slot; s++)
		start[s + 1] += start[s];
	for (i = 0; i < napp; i++)
		order[start[slot_of[i]]++] = (int)i;
	/* start[s] is now the end of slot s's bucket. */

	b->slots = xmalloc(((size_t)max_slot + 1 + 1) * sizeof *b->slots);
	b->groups = xmalloc((napp + 1) * sizeof *b->groups);
	for (int s = 0, k = 0; s <= max_slot; s++) {
		struct branches_slot *sl = &b->slots[b->n_slots++];
		int last_erased = -1;

		memset(sl, 0, sizeof *sl);
		sl->slot = log->n_prompt + s;
		sl->first = b->n_groups;
		for (; k < start[s]; k++) {
			int a = order[k], tok = log->ev[app[a]].token, er = erased[a];
			struct branches_group *gr = sl->n > 0 ? &b->groups[b->n_groups - 1] : NULL;

			sl->tries++;
			sl->erases += er;
			if (tok == last_erased)
				sl->retypes++;
			if (er)
				last_erased = tok;
			if (gr != NULL && gr->token == tok && gr->erased == er) {
				gr->count++;
				gr->ev = app[a];
				continue;
			}
			gr = &b->groups[b->n_groups++];
			gr->token = tok;
			gr->count = 1;
			gr->erased = er;
			gr->ev = app[a];
			sl->n++;
		}
		if (branches_slot_rewritten(sl))
			b->rewritten++;
	}
	branches_find_loop(b, p);
	free(start);
	free(order);
	free(app);
	free(erased);
	free(stack);
	free(slot_of);
}

/* Append the token's text, quoted, newlines and tabs escaped, to buf at *k. */
static void
branches_put_token(const struct tokenizer *tok, int id, char *buf, size_t size, size_t *k)
{
	size_t n, j;
	const uint8_t *s = tokenizer_piece(tok, id, &n);

	if (*k + 1 < size)
		buf[(*k)++] = '\'';
	for (j = 0; j < n && *k + 3 < size; j++) {
		if (s[j] == '\n' || s[j] == '\t') {
			buf[(*k)++] = '\\';
			buf[(*k)++] = s[j] == '\n' ? 'n' : 't';
		} else
			buf[(*k)++] = (char)s[j];
	}
	if (*k + 1 < size)
		buf[(*k)++] = '\'';
	buf[*k] = '\0';
}

/* A group as text. */
size_t
branches_group_text(const struct branches_group *gr, const struct tokenizer *tok, char *buf,
    size_t size)
{
	size_t k = 0;

	if (size == 0)
		return 0;
	buf[0] = '\0';
	branches_put_token(tok, gr->token, buf, size, &k);
	if (gr->erased && gr->count > 1)
		k += (size_t)snprintf(buf + k, size - k, " x%d erased/retyped", gr->count);
	else if (gr->erased)
		k += (size_t)snprintf(buf + k, size - k, " x");
	else if (gr->count > 1) /* a kept token typed twice in a row (cannot happen) */
		k += (size_t)snprintf(buf + k, size - k, " x%d", gr->count);
	return k < size ? k : size - 1;
}

/* A slot's groups joined with " -> ". */
size_t
branches_slot_text(const struct branches *b, int i, const struct tokenizer *tok, char *buf,
    size_t size)
{
	const struct branches_slot *s = &b->slots[i];
	size_t k = 0;

	if (size == 0)
		return 0;
	buf[0] = '\0';
	for (int g = 0; g < s->n && k + 1 < size; g++) {
		if (g > 0)
			k += (size_t)snprintf(buf + k, size - k, " -> ");
		if (k + 1 >= size)
			break;
		k += branches_group_text(&b->groups[s->first + g], tok, buf + k, size - k);
	}
	return k < size ? k : size - 1;
}

/* The knob's name. */
const char *
branches_knob_name(enum branches_knob k)
{
	switch (k) {
	case BRANCHES_KNOB_FORBID_RETYPE:
		return "forbid_retype";
	case BRANCHES_KNOB_MAX_CONSECUTIVE:
		return "max_consecutive_backspaces";
	case BRANCHES_KNOB_NONE:
		break;
	}
	return NULL;
}

/* "set forbid_retype 1 (now 0)", or the bias advice when neither knob helps. */
static void
branches_advice(const struct branches_loop *l, const struct sampler_params *p, char *buf,
    size_t size)
{
	struct sampler_params d;

	if (p == NULL) {
		sampler_defaults(&d);
		p = &d;
	}
	switch (l->knob) {
	case BRANCHES_KNOB_FORBID_RETYPE:
		snprintf(buf, size, "set forbid_retype 1 (now %d)%s", p->forbid_retype,
		    l->longest_chain >= 2 ? " or max_consecutive_backspaces 1" : "");
		break;
	case BRANCHES_KNOB_MAX_CONSECUTIVE:
		snprintf(buf, size, "set max_consecutive_backspaces 1 (now %d)",
		    p->max_consecutive_backspaces);
		break;
	case BRANCHES_KNOB_NONE:
		snprintf(buf, size, "forbid_retype is on: lower backspace_bias (now %g)",
		    p->backspace_bias);
		break;
	}
}

/* The loop warning for the status line. */
int
branches_warning(const struct branches *b, const struct tokenizer *tok,
    const struct sampler_params *p, char *buf, size_t size)
{
	const struct branches_loop *l = &b->loop;
	char what[64], advice[96];
	size_t k = 0;

	if (size > 0)
		buf[0] = '\0';
	if (!l->found || size == 0)
		return 0;
	branches_advice(l, p, advice, sizeof advice);
	if (l->retypes >= BRANCHES_LOOP_RETYPES && l->token >= 0) {
		branches_put_token(tok, l->token, what, sizeof what, &k);
		snprintf(buf, size, "loop: %s: %s typed and erased %d times at slot %d%s", advice,
		    what, l->erased, l->slot, l->action_cap ? " until the action cap" : "");
		return BRANCHES_RETYPE_LOOP;
	}
	snprintf(buf, size, "loop: %s: %d erases until the action cap (runs of up to %d)", advice,
	    b->erases, l->longest_chain);
	return 1;
}

/* A short flag for a pane. */
int
branches_flag(const struct branches *b, const struct sampler_params *p, char *buf,
    size_t size)
{
	char advice[96];

	if (size > 0)
		buf[0] = '\0';
	if (!b->loop.found || size == 0)
		return 0;
	branches_advice(&b->loop, p, advice, sizeof advice);
	snprintf(buf, size, "LOOP: %s", advice);
	return 1;
}

/* The loop warning of a whole log. */
int
branches_log_warning(const struct ui_log *log, const struct tokenizer *tok,
    const struct sampler_params *p, char *buf, size_t size)
{
	struct branches b;
	int found;

	branches_init(&b);
	branches_build(&b, log, log->n, p);
	found = branches_warning(&b, tok, p, buf, size);
	branches_release(&b);
	return found;
}
