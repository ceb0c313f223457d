/*
 * test-branches.c: the branch view's data (app/branches.c) from hand-built
 * event logs: attempts per position in order, kept text, identical attempts
 * collapsed ("' said' x23 erased/retyped"), and loops: the same token typed
 * and erased 127 times until the action cap (issue: temperature 0, bias 3),
 * long erase runs, and what the warning names.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "branches.h"
#include "generate.h"
#include "sampler.h"
#include "tap.h"
#include "tokenizer.h"
#include "ui.h"

#define LOG_MAX 1024

static struct tokenizer *tok;
static struct generate_event evbuf[LOG_MAX];
static int live_depth; /* the log's live tokens (prompt excluded), for the slots */

/* Start an empty log with a 2-token prompt. */
static void
log_start(struct ui_log *log)
{
	memset(log, 0, sizeof *log);
	log->prompt = "The fox";
	log->n_prompt = 2;
	log->ev = evbuf;
	log->cap = LOG_MAX;
	log->inspect = -1;
	live_depth = 0;
}

/* The id of text, which must be one token. */
static int
id_of(const char *text)
{
	int *ids = NULL, id;
	size_t n = 0;
	char *cause = NULL;

	if (tokenizer_encode(tok, (const uint8_t *)text, strlen(text), &ids, &n, &cause) != 0)
		app_fatal("encode: %s", cause);
	if (n != 1)
		app_fatal("'%s' is %zu tokens, not one", text, n);
	id = ids[0];
	free(ids);
	return id;
}

/* Add an APPEND of text. */
static void
log_append(struct ui_log *log, const char *text)
{
	struct generate_event *ev;

	if (log->n >= LOG_MAX)
		app_fatal("log full");
	ev = &log->ev[log->n++];
	memset(ev, 0, sizeof *ev);
	ev->type = GENERATE_EVENT_APPEND;
	ev->token = id_of(text);
	ev->slot = log->n_prompt + live_depth++;
}

/* Add k ERASEs of the last live tokens (the token ids do not matter to branches.c). */
static void
log_erase(struct ui_log *log, int k)
{
	for (int i = 0; i < k; i++) {
		struct generate_event *ev = &log->ev[log->n++];

		memset(ev, 0, sizeof *ev);
		ev->type = GENERATE_EVENT_ERASE;
		ev->slot = log->n_prompt + --live_depth;
	}
}

/* End the log with a stop reason. */
static void
log_stop(struct ui_log *log, enum generate_stop reason)
{
	log->done = 1;
	log->reason = reason;
}

/* The index in b->slots of slot s, -1 if absent. */
static int
find_slot(const struct branches *b, int s)
{
	for (int i = 0; i < b->n_slots; i++)
		if (b->slots[i].slot == s)
			return i;
	return -1;
}

/* Check slot s's text. */
static void
check_slot(const struct branches *b, int s, const char *want, const char *what)
{
	char buf[256];
	int i = find_slot(b, s);

	if (i < 0) {
		tap_ok(0, "%s: slot %d is listed", what, s);
		return;
	}
	branches_slot_text(b, i, tok, buf, sizeof buf);
	if (!tap_ok(strcmp(buf, want) == 0, "%s: slot %d reads %s", what, s, want))
		tap_diag("got %s", buf);
}

/* A correction: ' cat' and ' dog' erased, ' hen' kept; the text around it. */
static void
test_correction(void)
{
	struct ui_log log;
	struct branches b;
	struct sampler_params p;
	char buf[256];

	sampler_defaults(&p);
	log_start(&log);
	log_append(&log, " was");
	log_append(&log, " a");
	log_append(&log, " cat");
	log_erase(&log, 1);
	log_append(&log, " dog");
	log_erase(&log, 1);
	log_append(&log, " hen");
	log_append(&log, ".");
	log_stop(&log, GENERATE_STOP_EOT);
	branches_init(&b);
	branches_build(&b, &log, log.n, &p);
	tap_ok(b.n_slots == 4 && b.rewritten == 1 && b.erases == 2, "correction: 4 positions, "
	    "1 rewritten, 2 erases (got %d, %d, %d)", b.n_slots, b.rewritten, b.erases);
	check_slot(&b, 4, "' cat' x -> ' dog' x -> ' hen'", "correction");
	check_slot(&b, 2, "' was'", "correction");
	tap_ok(!branches_slot_rewritten(&b.slots[find_slot(&b, 2)]) &&
	    branches_slot_rewritten(&b.slots[find_slot(&b, 4)]), "correction: only the "
	    "rewritten position is listed");
	tap_ok(b.n_live == 4 && b.live[2] == id_of(" hen") && b.live[3] == id_of("."),
	    "correction: the kept text is ' was a hen.'");
	tap_ok(!b.loop.found && branches_log_warning(&log, tok, &p, buf, sizeof buf) == 0 &&
	    buf[0] == '\0', "correction: no loop, no warning");
	/* Up to the playback position: after the first erase only ' cat' x at slot 4. */
	branches_build(&b, &log, 4, &p);
	check_slot(&b, 4, "' cat' x", "correction at event 4");
	tap_ok(b.n_live == 2, "correction at event 4: two tokens kept (%d)", b.n_live);
	branches_release(&b);
}

/* ' said' typed and erased 23 times, then kept: one collapsed group. */
static void
test_collapse(void)
{
	struct ui_log log;
	struct branches b;
	struct sampler_params p;

	sampler_defaults(&p);
	log_start(&log);
	log_append(&log, " was");
	for (int i = 0; i < 23; i++) {
		log_append(&log, " said");
		log_erase(&log, 1);
	}
	log_append(&log, " said");
	log_stop(&log, GENERATE_STOP_MAX_TOKENS);
	branches_init(&b);
	branches_build(&b, &log, log.n, &p);
	check_slot(&b, 3, "' said' x23 erased/retyped -> ' said'", "collapse");
	tap_ok(b.slots[find_slot(&b, 3)].tries == 24 && b.slots[find_slot(&b, 3)].retypes == 23,
	    "collapse: 24 tries, 23 retypes");
	tap_ok(b.loop.found && b.loop.knob == BRANCHES_KNOB_FORBID_RETYPE && !b.loop.action_cap,
	    "collapse: 23 retypes are a loop that forbid_retype stops (not at the action cap)");
	/* Below the threshold: 4 retypes are no loop yet. */
	branches_build(&b, &log, 1 + 2 * (BRANCHES_LOOP_RETYPES - 1) + 1, &p);
	tap_ok(!b.loop.found && b.loop.retypes == BRANCHES_LOOP_RETYPES - 1,
	    "collapse: %d retypes are not a loop yet", BRANCHES_LOOP_RETYPES - 1);
	branches_release(&b);
}

/* The loop: ' fox' typed and erased 127 times until the action cap. */
static void
test_loop127(void)
{
	struct ui_log log;
	struct branches b;
	struct sampler_params p;
	char buf[256];

	sampler_defaults(&p);
	p.temperature = 0;
	p.backspace_bias = 3;
	log_start(&log);
	log_append(&log, " was");
	log_append(&log, " a");
	for (int i = 0; i < 127; i++) {
		log_append(&log, " fox");
		log_erase(&log, 1);
	}
	log_stop(&log, GENERATE_STOP_MAX_ACTIONS);
	branches_init(&b);
	branches_build(&b, &log, log.n, &p);
	check_slot(&b, 4, "' fox' x127 erased/retyped", "loop");
	tap_ok(b.loop.found && b.loop.action_cap && b.loop.slot == 4 &&
	    b.loop.token == id_of(" fox") && b.loop.erased == 127 && b.loop.retypes == 126 &&
	    b.loop.longest_chain == 1, "loop: found at slot 4, ' fox', 127 erased, 126 retyped, "
	    "runs of 1, at the action cap");
	tap_ok(b.loop.knob == BRANCHES_KNOB_FORBID_RETYPE &&
	    strcmp(branches_knob_name(b.loop.knob), "forbid_retype") == 0,
	    "loop: forbid_retype stops it");
	tap_ok(branches_warning(&b, tok, &p, buf, sizeof buf) == BRANCHES_RETYPE_LOOP,
	    "loop: a retype loop");
	if (!tap_ok(strcmp(buf, "loop: set forbid_retype 1 (now 0): ' fox' typed and erased 127 "
	    "times at slot 4 until the action cap") == 0, "loop: the status-line warning"))
		tap_diag("got %s", buf);
	branches_flag(&b, &p, buf, sizeof buf);
	if (!tap_ok(strcmp(buf, "LOOP: set forbid_retype 1 (now 0)") == 0, "loop: the flag"))
		tap_diag("got %s", buf);
	/* Mid-playback: the loop shows once it has retyped often enough, without the cap. */
	branches_build(&b, &log, 2 + 2 * 10, &p);
	tap_ok(b.loop.found && !b.loop.action_cap && b.loop.erased == 10,
	    "loop: seen mid-playback after 10 erases");
	/* The action cap alone is a loop (no retype): forbid_retype on, runs of 1. */
	p.forbid_retype = 1;
	branches_build(&b, &log, log.n, &p);
	tap_ok(b.loop.found && b.loop.knob == BRANCHES_KNOB_NONE, "loop: with forbid_retype "
	    "already on, the advice is the bias");
	branches_flag(&b, &p, buf, sizeof buf);
	if (!tap_ok(strstr(buf, "lower backspace_bias (now 3)") != NULL, "loop: flag names "
	    "backspace_bias and its value"))
		tap_diag("got %s", buf);
	branches_release(&b);
}

/* Runs of 3 erases of different tokens until the action cap: max_consecutive_backspaces. */
static void
test_chains(void)
{
	static const char *const words[][3] = {{" cat", " sat", " on"}, {" dog", " ran", " to"},
		{" hen", " was", " a"}};
	struct ui_log log;
	struct branches b;
	struct sampler_params p;
	char buf[256];

	sampler_defaults(&p);
	p.forbid_retype = 1;
	p.max_consecutive_backspaces = 3;
	log_start(&log);
	for (int r = 0; r < 3; r++) {
		for (int k = 0; k < 3; k++)
			log_append(&log, words[r][k]);
		log_erase(&log, 3);
	}
	log_stop(&log, GENERATE_STOP_MAX_ACTIONS);
	branches_init(&b);
	branches_build(&b, &log, log.n, &p);
	tap_ok(b.loop.found && b.loop.longest_chain == 3 && b.loop.chains_at_cap == 3 &&
	    b.loop.knob == BRANCHES_KNOB_MAX_CONSECUTIVE, "chains: runs of 3 (3 at the cap) "
	    "name max_consecutive_backspaces");
	check_slot(&b, 2, "' cat' x -> ' dog' x -> ' hen' x", "chains");
	tap_ok(b.n_live == 0 && b.rewritten == 3, "chains: nothing kept, 3 positions rewritten");
	tap_ok(branches_warning(&b, tok, &p, buf, sizeof buf) == 1, "chains: a loop, no retype");
	if (!tap_ok(strcmp(buf, "loop: set max_consecutive_backspaces 1 (now 3): 9 erases until "
	    "the action cap (runs of up to 3)") == 0, "chains: the warning"))
		tap_diag("got %s", buf);
	branches_release(&b);
}

/* An empty log and a log of appends only. */
static void
test_empty(void)
{
	struct ui_log log;
	struct branches b;

	log_start(&log);
	branches_init(&b);
	branches_build(&b, &log, 10, NULL);
	tap_ok(b.n_slots == 0 && b.n_live == 0 && !b.loop.found, "empty: nothing");
	log_append(&log, " was");
	log_append(&log, " a");
	branches_build(&b, &log, log.n, NULL);
	tap_ok(b.n_slots == 2 && b.rewritten == 0 && !b.loop.found, "appends: 2 positions, none "
	    "rewritten");
	branches_release(&b);
}

int
main(void)
{
	static const char corpus[] =
	    "The fox was a fox. The cat sat on a mat. The dog ran to a hen. He said, she said.\n"
	    "The fox was a fox. The cat sat on a mat. The dog ran to a hen. He said, she said.\n"
	    "The fox was a fox. The cat sat on a mat. The dog ran to a hen. He said, she said.\n";
	char *cause = NULL;

	if (tokenizer_train((const uint8_t *)corpus, strlen(corpus), 300, &tok, &cause) != 0) {
		tap_ok(0, "tokenizer: %s", cause);
		free(cause);
		return tap_done();
	}
	test_correction();
	test_collapse();
	test_loop127();
	test_chains();
	test_empty();
	tokenizer_free(tok);
	return tap_done();
}
