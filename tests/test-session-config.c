/*
 * test-session-config.c: the config parser (conf_parse): every key
 * read, bad files rejected with FILE:LINE:COL and nothing half-applied; a
 * transcript that survives a write and a parse; the loader that turns a saved
 * session back into the UI's event log (field by field, old files, another
 * tokenizer refused, malformed files with their line numbers); and the
 * session browser drawn into a grid.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "conf.h"
#include "generate.h"
#include "grid.h"
#include "tap.h"
#include "tokenizer.h"
#include "transcript.h"
#include "ui.h"
#include "ui-session.h"
#include "view-sessions.h"

/* Check that text fails with exactly the message want, and c is untouched. */
static void
test_bad(const char *what, const char *text, const char *want)
{
	struct conf c;
	char *cause = NULL;
	int rc;

	conf_init(&c);
	c.params.top_k = 3;
	rc = conf_parse(&c, text, strlen(text), "c.yaml", &cause);
	if (!tap_ok(rc == -1 && cause != NULL && strcmp(cause, want) == 0 && c.params.top_k == 3 &&
	    c.theme == NULL && c.mouse == -1, "%s", what)) {
		tap_diag("want: %s", want);
		tap_diag("got:  %s (rc %d)", cause != NULL ? cause : "(none)", rc);
	}
	free(cause);
	conf_release(&c);
}

/* Parse, write and parse back a transcript. */
static void
test_roundtrip(void)
{
	static const char text[] =
	    "{\"type\": \"header\", \"format\": 1, \"version\": \"1\", \"model\": \"m\", "
	    "\"model_hash\": \"0123456789abcdef\", \"weights_version\": 2, \"time\": \"t\", "
	    "\"prompt\": \"a\\tb\", \"params\": {\"temperature\": 0.7, \"top_k\": 5, "
	    "\"top_p\": 0.9, \"min_p\": 0, \"typical_p\": 1, \"repeat_penalty\": 1, "
	    "\"repeat_last_n\": 64, \"max_tokens\": 9, \"seed\": 7, \"backspace_bias\": null, "
	    "\"max_consecutive_backspaces\": 2, \"max_total_backspaces\": -1, "
	    "\"forbid_retype\": 1}, \"seed\": 18446744073709551615}\n"
	    "{\"type\": \"append\", \"id\": 1, \"text\": \"x\", \"slot\": 2, \"prob\": 0.5}\n"
	    "{\"type\": \"erase\", \"id\": 1, \"text\": \"x\", \"slot\": 2, \"prob\": 0.25}\n"
	    "{\"type\": \"append\", \"id\": 3, \"text\": \"\\u00e9\", \"slot\": 2, \"prob\": 1}\n"
	    "{\"type\": \"stop\", \"reason\": \"eot\", \"generated\": 2, \"erased\": 1, "
	    "\"seconds\": 0.125}\n";
	struct transcript s;
	char *cause = NULL, *buf = NULL, *final;
	size_t size = 0, len;
	FILE *f;

	if (!tap_ok(transcript_parse(&s, text, strlen(text), "s.jsonl", &cause) == 0,
	    "a transcript parses")) {
		tap_diag("%s", cause);
		free(cause);
		return;
	}
	tap_ok(s.n == 3 && s.ev[1].erase && s.seed == UINT64_MAX && s.params.top_k == 5 &&
	    isinf(s.params.backspace_bias) && s.params.forbid_retype == 1 &&
	    s.model_hash == 0x0123456789abcdefULL && s.stopped && s.n_erased == 1,
	    "every field is read");
	tap_ok(s.weights == NULL, "a transcript without a weight format reads as not recorded");
	final = transcript_final_text(&s, &len);
	tap_ok(strcmp(final, "a\tb\xc3\xa9") == 0, "the final text applies the erase");
	free(final);
	f = open_memstream(&buf, &size);
	transcript_write(f, &s);
	fclose(f);
	tap_ok(strstr(buf, "\"seed\": 18446744073709551615}\n") != NULL,
	    "the seed is written exactly");
	transcript_free(&s);
	tap_ok(transcript_parse(&s, buf, size, "w.jsonl", &cause) == 0 && s.n == 3 &&
	    s.params.temperature == 0.7 && s.seconds == 0.125, "what is written parses back");
	tap_ok(strstr(buf, "\"weights\"") == NULL, "and is written without one");
	free(buf);
	buf = NULL;
	/* With one: written, read back, shown in the Markdown export. */
	s.weights = strdup("q8");
	f = open_memstream(&buf, &size);
	transcript_write(f, &s);
	fclose(f);
	transcript_free(&s);
	tap_ok(strstr(buf, ", \"weights\": \"q8\"") != NULL &&
	    transcript_parse(&s, buf, size, "w.jsonl", &cause) == 0 && s.weights != NULL &&
	    strcmp(s.weights, "q8") == 0, "the weight format is written and read back");
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &size);
	transcript_markdown(f, &s);
	fclose(f);
	tap_ok(strstr(buf, "| weight format | q8 |") != NULL, "the Markdown export shows it");
	transcript_free(&s);
	free(buf);
	free(cause);
	cause = NULL;
	/* A format that does not exist: refused at its line. */
	{
		char *bad = strdup(text), *at = strstr(bad, "\"time\"");
		size_t blen;

		buf = NULL;
		f = open_memstream(&buf, &blen);
		fprintf(f, "%.*s\"weights\": \"q4\", %s", (int)(at - bad), bad, at);
		fclose(f);
		if (!tap_ok(transcript_parse(&s, buf, blen, "q.jsonl", &cause) == -1 &&
		    cause != NULL && strstr(cause, "q.jsonl:1:") == cause &&
		    strstr(cause, "weights") != NULL && strstr(cause, "fp32, bf16 or q8") != NULL,
		    "an unknown weight format is refused with its line"))
			tap_diag("%s", cause != NULL ? cause : "(no message)");
		free(cause);
		free(buf);
		free(bad);
	}
}

/* plot: each value read, unset by default. */
static void
test_plot(void)
{
	static const char *names[] = { "braille", "block", "ascii" };
	static const int want[] = { GRID_PLOT_BRAILLE, GRID_PLOT_BLOCK, GRID_PLOT_ASCII };
	struct conf c;
	char text[64], *cause = NULL;
	int ok = 1;

	conf_init(&c);
	ok &= c.plot == -1;
	for (int i = 0; i < 3; i++) {
		snprintf(text, sizeof text, "plot: %s\n", names[i]);
		ok &= conf_parse(&c, text, strlen(text), "c.yaml", &cause) == 0 &&
		    c.plot == want[i];
	}
	tap_ok(ok, "plot: braille, block and ascii are read");
	free(cause);
	conf_release(&c);
}

/* A small tokenizer trained on text (NULL on failure). */
static struct tokenizer *
test_tokenizer(const char *text)
{
	struct tokenizer *tok = NULL;
	char *cause = NULL;

	if (tokenizer_train((const uint8_t *)text, strlen(text), 300, &tok, &cause) != 0) {
		tap_diag("tokenizer: %s", cause);
		free(cause);
		return NULL;
	}
	return tok;
}

/* Append an event to log like generate_run would (counts and length follow). */
static void
test_push(struct ui_log *log, int erase, int token, float prob, int step, int V)
{
	struct generate_event *e, *prev = log->n > 0 ? &log->ev[log->n - 1] : NULL;
	int depth = prev != NULL ? prev->length - log->n_prompt : 0;

	if (log->n == log->cap) {
		log->cap = log->cap ? 2 * log->cap : 16;
		log->ev = xrealloc(log->ev, log->cap * sizeof *log->ev);
	}
	e = &log->ev[log->n++];
	memset(e, 0, sizeof *e);
	e->type = erase ? GENERATE_EVENT_ERASE : GENERATE_EVENT_APPEND;
	e->token = token;
	e->slot = log->n_prompt + depth - (erase ? 1 : 0);
	e->prob = prob;
	e->model_prob = prob * 0.75f;
	e->seconds = 0.01 * step + 1.0 / 3.0;
	e->n_generated = (prev != NULL ? prev->n_generated : 0) + !erase;
	e->n_erased = (prev != NULL ? prev->n_erased : 0) + erase;
	e->length = log->n_prompt + depth + (erase ? -1 : 1);
	e->p_bksp = 0.1f * (float)step + 0.0123f;
	e->entropy = 2.0f / (float)(step + 3);
	e->n_top = step % (GENERATE_TOP + 1);
	for (int k = 0; k < e->n_top; k++) {
		e->top[k].id = (token + k * 7) % (V + 1); /* V is <bksp> */
		e->top[k].prob = 1.0f / (float)(k + 2 + step);
	}
	e->prefill_seconds = 0.0625;
}

/* Whether two events are equal in every field the transcript keeps. */
static int
test_same_event(const struct generate_event *a, const struct generate_event *b, size_t i)
{
	int same = a->type == b->type && a->token == b->token && a->slot == b->slot &&
	    a->prob == b->prob && a->model_prob == b->model_prob && a->seconds == b->seconds &&
	    a->n_generated == b->n_generated && a->n_erased == b->n_erased &&
	    a->length == b->length && a->p_bksp == b->p_bksp && a->entropy == b->entropy &&
	    a->n_top == b->n_top && a->prefill_seconds == b->prefill_seconds &&
	    a->generate_seconds == b->generate_seconds && a->reason == b->reason;

	for (int k = 0; same && k < a->n_top; k++)
		same = a->top[k].id == b->top[k].id && a->top[k].prob == b->top[k].prob;
	if (!same)
		tap_diag("event %zu differs: type %d/%d token %d/%d slot %d/%d prob %.9g/%.9g "
		    "n_top %d/%d entropy %.9g/%.9g length %d/%d", i, a->type, b->type, a->token,
		    b->token, a->slot, b->slot, a->prob, b->prob, a->n_top, b->n_top, a->entropy,
		    b->entropy, a->length, b->length);
	return same;
}

/* Save a log with ui_session_save_log, load it back with ui_session_to_log. */
static void
test_log(void)
{
	static const char corpus[] = "the cat sat on the mat. the dog sat on the log. "
	    "a cat and a dog and the mat and the log sat there. ";
	struct tokenizer *tok = test_tokenizer(corpus), *other;
	struct sampler_params params;
	struct ui_log log, back;
	struct transcript s;
	char dir[] = "/tmp/test-session.XXXXXX", *path = NULL, *cause = NULL, *text;
	int *ids = NULL, same = 1, step = 0, V;
	size_t n_ids = 0;
	FILE *f;

	if (tok == NULL || mkdtemp(dir) == NULL) {
		tap_ok(0, "a tokenizer and a temp directory for the log tests");
		return;
	}
	V = tokenizer_vocab_size(tok);
	memset(&log, 0, sizeof log);
	log.prompt = xstrdup("the cat");
	tokenizer_encode(tok, (const uint8_t *)log.prompt, strlen(log.prompt), &ids, &n_ids,
	    &cause);
	log.n_prompt = (int)n_ids;
	free(ids);
	tokenizer_encode(tok, (const uint8_t *)" sat on the mat", 15, &ids, &n_ids, &cause);
	/* Appends, an erase of the last one and its retyping, another erase run. */
	for (size_t i = 0; i < n_ids; i++)
		test_push(&log, 0, ids[i], 0.5f / (float)(i + 1), step++, V);
	test_push(&log, 1, ids[n_ids - 1], 0.2f, step++, V);
	test_push(&log, 0, ids[n_ids - 1], 0.3f, step++, V);
	test_push(&log, 1, ids[n_ids - 1], 0.125f, step++, V);
	test_push(&log, 1, ids[n_ids - 2], 0.0625f, step++, V);
	test_push(&log, 0, 'x', 0.9f, step++, V);
	free(ids);
	log.done = 1;
	log.reason = GENERATE_STOP_MAX_TOKENS;
	memset(&log.stop, 0, sizeof log.stop);
	log.stop.type = GENERATE_EVENT_STOP;
	log.stop.token = -1;
	log.stop.reason = log.reason;
	log.stop.n_generated = log.ev[log.n - 1].n_generated;
	log.stop.n_erased = log.ev[log.n - 1].n_erased;
	log.stop.length = log.ev[log.n - 1].length;
	log.stop.slot = log.stop.length - 1;
	log.stop.seconds = 0.75;
	log.stop.prefill_seconds = 0.0625;
	log.stop.generate_seconds = 0.6875;
	log.seed = 12345678901234567ULL;
	log.params_changed = 1;
	sampler_defaults(&params);
	params.temperature = 0.3;
	params.top_k = 11;
	params.backspace_bias = -INFINITY;
	params.seed = 2668638249135444712LL; /* a double would round it */

	if (!tap_ok(ui_session_save_log(dir, &log, tok, &params, "/m/model.bin",
	    0xfedcba9876543210ULL, 3, "bf16", &path, &cause) == 0, "a log is saved")) {
		tap_diag("%s", cause);
		return;
	}
	if (!tap_ok(transcript_load(&s, path, &cause) == 0 && ui_session_to_log(&s, tok, &back,
	    &cause) == 0, "the saved log loads back")) {
		tap_diag("%s", cause);
		return;
	}
	tap_ok(strcmp(back.prompt, log.prompt) == 0 && back.n_prompt == log.n_prompt &&
	    back.seed == log.seed && back.n == log.n && back.done && back.shown == 0 &&
	    back.inspect == -1 && back.reason == log.reason, "prompt, n_prompt, seed, count, done");
	tap_ok(s.params_changed == 1 && back.params_changed == 1, "a run whose parameters "
	    "changed mid-way says so after loading");
	for (size_t i = 0; i < log.n && back.n == log.n; i++)
		same &= test_same_event(&log.ev[i], &back.ev[i], i);
	tap_ok(same, "%zu events equal field by field (top alternatives, entropy, P(<bksp>), "
	    "timings, counts)", log.n);
	tap_ok(test_same_event(&log.stop, &back.stop, log.n), "the STOP event equal field by field");
	tap_ok(s.params.temperature == 0.3 && s.params.top_k == 11 &&
	    isinf(s.params.backspace_bias) && s.params.seed == 2668638249135444712LL &&
	    strcmp(s.model, "/m/model.bin") == 0 && s.model_hash == 0xfedcba9876543210ULL &&
	    s.weights_version == 3 && s.tokenizer_hash == transcript_tokenizer_hash(tok) &&
	    s.weights != NULL && strcmp(s.weights, "bf16") == 0,
	    "parameters, model path and hash, weights version and format, tokenizer hash");
	free(back.prompt);
	free(back.ev);

	/* A token whose text is not this tokenizer's: refused, with its line. */
	{
		char *saved = s.ev[1].text;
		size_t saved_len = s.ev[1].len;

		s.ev[1].text = xstrdup("zz");
		s.ev[1].len = 2;
		cause = NULL;
		if (!tap_ok(ui_session_to_log(&s, tok, &back, &cause) == -1 && cause != NULL &&
		    strstr(cause, path) == cause && strstr(cause, ":3:1: token ") != NULL &&
		    strstr(cause, "but 'zz' in the session") != NULL,
		    "a token with other text is refused at its line"))
			tap_diag("%s", cause != NULL ? cause : "(no message)");
		free(cause);
		free(s.ev[1].text);
		s.ev[1].text = saved;
		s.ev[1].len = saved_len;
	}

	/* Another tokenizer: refused with the reason, never shown as wrong text. */
	other = test_tokenizer("zzzz yyyy zzzz yyyy xxxx wwww zzzz wwww qqqq qqqq qqqq ");
	cause = NULL;
	if (!tap_ok(other != NULL && ui_session_to_log(&s, other, &back, &cause) == -1 &&
	    cause != NULL && strstr(cause, path) == cause && strstr(cause, ":1: ") != NULL &&
	    strstr(cause, "another tokenizer (model /m/model.bin)") != NULL,
	    "another tokenizer is refused with FILE:LINE and the model to use"))
		tap_diag("%s", cause != NULL ? cause : "(no message)");
	free(cause);
	tokenizer_free(other);
	transcript_free(&s);

	/* A format 1 file (no details, no n_prompt): still opens, details unknown. */
	text = NULL;
	{
		size_t size = 0;

		f = open_memstream(&text, &size);
		fprintf(f, "{\"type\": \"header\", \"format\": 1, \"version\": \"0.1\", "
		    "\"model\": \"m\", \"model_hash\": \"0000000000000001\", \"weights_version\": 0, "
		    "\"time\": \"t\", \"prompt\": \"the cat\", \"params\": {\"temperature\": 0.8, "
		    "\"top_k\": 40, \"top_p\": 0.95, \"min_p\": 0.05, \"typical_p\": 1, "
		    "\"repeat_penalty\": 1, \"repeat_last_n\": 64, \"max_tokens\": 10, \"seed\": -1, "
		    "\"backspace_bias\": 0, \"max_consecutive_backspaces\": -1, "
		    "\"max_total_backspaces\": -1, \"forbid_retype\": 0}, \"seed\": 4}\n"
		    "{\"type\": \"append\", \"id\": 120, \"text\": \"x\", \"slot\": %d, \"prob\": 0.5}\n"
		    "{\"type\": \"erase\", \"id\": 120, \"text\": \"x\", \"slot\": %d, \"prob\": 0.25}\n"
		    "{\"type\": \"append\", \"id\": 121, \"text\": \"y\", \"slot\": %d, \"prob\": 1}\n"
		    "{\"type\": \"stop\", \"reason\": \"max_tokens\", \"generated\": 2, \"erased\": 1, "
		    "\"seconds\": 0.5}\n", log.n_prompt, log.n_prompt, log.n_prompt);
		fclose(f);
		cause = NULL;
		if (!tap_ok(transcript_parse(&s, text, size, "old.jsonl", &cause) == 0 &&
		    ui_session_to_log(&s, tok, &back, &cause) == 0 && back.n == 3 &&
		    back.n_prompt == log.n_prompt && back.ev[2].token == 121 &&
		    back.ev[2].length == log.n_prompt + 1 && back.ev[1].n_erased == 1 &&
		    back.ev[0].n_top == 0 && isnan(back.ev[0].entropy) && back.stop.n_generated == 2 &&
		    back.stop.generate_seconds == 0.5, "a format 1 transcript opens (details unknown)"))
			tap_diag("%s", cause != NULL ? cause : "fields differ");
		else {
			free(back.prompt);
			free(back.ev);
		}
		free(cause);
		transcript_free(&s);
		free(text);
	}
	unlink(path);
	rmdir(dir);
	free(path);
	free(log.prompt);
	free(log.ev);
	tokenizer_free(tok);
}

/* A header line, format 2, prompt "ab", n_prompt 2. */
#define TEST_HEADER "{\"type\": \"header\", \"format\": 2, \"version\": \"0.1\", \"model\": " \
	"\"m\", \"model_hash\": \"0000000000000001\", \"weights_version\": 0, \"time\": \"t\", " \
	"\"prompt\": \"ab\", \"n_prompt\": 2, \"params\": {\"temperature\": 0.8, \"top_k\": 40, " \
	"\"top_p\": 0.95, \"min_p\": 0.05, \"typical_p\": 1, \"repeat_penalty\": 1, " \
	"\"repeat_last_n\": 64, \"max_tokens\": 10, \"seed\": -1, \"backspace_bias\": 0, " \
	"\"max_consecutive_backspaces\": -1, \"max_total_backspaces\": -1, \"forbid_retype\": 0}, " \
	"\"seed\": 4}\n"
#define TEST_APPEND "{\"type\": \"append\", \"id\": 120, \"text\": \"x\", \"slot\": 2, " \
	"\"prob\": 0.5}\n"

/* A malformed transcript gives exactly want (FILE:LINE:COL: message). */
static void
test_malformed_one(const char *what, const char *text, const char *want)
{
	struct transcript s;
	char *cause = NULL;
	int rc = transcript_parse(&s, text, strlen(text), "bad.jsonl", &cause);

	if (!tap_ok(rc == -1 && cause != NULL && strcmp(cause, want) == 0, "malformed: %s", what)) {
		tap_diag("want: %s", want);
		tap_diag("got:  %s (rc %d)", cause != NULL ? cause : "(none)", rc);
	}
	if (rc == 0)
		transcript_free(&s);
	free(cause);
}

/* Malformed transcripts: the line (and column) of the problem. */
static void
test_malformed(void)
{
	test_malformed_one("a truncated line", TEST_HEADER TEST_APPEND
	    "{\"type\": \"append\", \"id\": 121, \"te",
	    "bad.jsonl:3:34: found unexpected end of stream while scanning a quoted scalar");
	test_malformed_one("a truncated last line with its newline", TEST_HEADER
	    "{\"type\": \"stop\", \"reason\n",
	    "bad.jsonl:2:25: found unexpected end of stream while scanning a quoted scalar");
	test_malformed_one("missing header", TEST_APPEND,
	    "bad.jsonl:1:10: the first line must be the header (type \"header\"), not \"append\"");
	test_malformed_one("unknown event type", TEST_HEADER TEST_APPEND
	    "{\"type\": \"rewind\", \"slot\": 2}\n",
	    "bad.jsonl:3:10: unknown line type \"rewind\" (header, append, erase, stop)");
	test_malformed_one("slot a string", TEST_HEADER
	    "{\"type\": \"append\", \"id\": 120, \"text\": \"x\", \"slot\": \"2\", \"prob\": 0.5}\n",
	    "bad.jsonl:2:52: \"slot\" must be a whole number in range");
	test_malformed_one("top not a list", TEST_HEADER
	    "{\"type\": \"append\", \"id\": 120, \"text\": \"x\", \"slot\": 2, \"prob\": 0.5, "
	    "\"model_prob\": 0.5, \"seconds\": 1, \"entropy\": 1, \"p_bksp\": 0, \"top\": 3}\n",
	    "bad.jsonl:2:135: \"top\" must be a list of {\"id\", \"prob\"}");
	test_malformed_one("entropy missing from the details", TEST_HEADER
	    "{\"type\": \"append\", \"id\": 120, \"text\": \"x\", \"slot\": 2, \"prob\": 0.5, "
	    "\"model_prob\": 0.5, \"seconds\": 1, \"p_bksp\": 0, \"top\": []}\n",
	    "bad.jsonl:2:1: \"entropy\" is missing");
	test_malformed_one("an alternative's prob a string", TEST_HEADER
	    "{\"type\": \"append\", \"id\": 120, \"text\": \"x\", \"slot\": 2, \"prob\": 0.5, "
	    "\"model_prob\": 0.5, \"seconds\": 1, \"entropy\": 1, \"p_bksp\": 0, "
	    "\"top\": [{\"id\": 1, \"prob\": \"high\"}]}\n",
	    "bad.jsonl:2:154: \"prob\" must be a number");
	test_malformed_one("a probability of 16", TEST_HEADER
	    "{\"type\": \"append\", \"id\": 120, \"text\": \"x\", \"slot\": 2, \"prob\": 16}\n",
	    "bad.jsonl:2:63: \"prob\" must be in [0, 1]");
	test_malformed_one("an alternative's probability of -5", TEST_HEADER
	    "{\"type\": \"append\", \"id\": 120, \"text\": \"x\", \"slot\": 2, \"prob\": 0.5, "
	    "\"model_prob\": 0.5, \"seconds\": 1, \"entropy\": 1, \"p_bksp\": 0, "
	    "\"top\": [{\"id\": 1, \"prob\": -5}]}\n", "bad.jsonl:2:154: \"prob\" must be in [0, 1]");
	test_malformed_one("a negative duration", TEST_HEADER TEST_APPEND
	    "{\"type\": \"stop\", \"reason\": \"eot\", \"generated\": 1, \"erased\": 0, "
	    "\"seconds\": -2}\n", "bad.jsonl:3:75: \"seconds\" must not be below 0");
	test_malformed_one("stop counts that contradict the events", TEST_HEADER TEST_APPEND
	    "{\"type\": \"stop\", \"reason\": \"eot\", \"generated\": 5, \"erased\": 0, "
	    "\"seconds\": 2}\n", "bad.jsonl:3:1: the stop line counts 5 generated and 0 erased, the events 1 and 0");
	test_malformed_one("a duplicate key", TEST_HEADER
	    "{\"type\": \"append\", \"id\": 120, \"text\": \"x\", \"slot\": 2, \"prob\": 0.5, "
	    "\"id\": 7}\n", "bad.jsonl:2:68: \"id\" appears twice in one object");
	test_malformed_one("a slot that does not follow", TEST_HEADER TEST_APPEND
	    "{\"type\": \"append\", \"id\": 121, \"text\": \"y\", \"slot\": 2, \"prob\": 0.5}\n",
	    "bad.jsonl:3:1: slot 2 does not follow the events before it (expected 3)");
	test_malformed_one("an erase of the prompt", TEST_HEADER
	    "{\"type\": \"erase\", \"id\": 98, \"text\": \"b\", \"slot\": 1, \"prob\": 0.5}\n",
	    "bad.jsonl:2:1: an erase with no generated token left (the prompt is never erased)");
	test_malformed_one("an erase of another token", TEST_HEADER TEST_APPEND
	    "{\"type\": \"erase\", \"id\": 7, \"text\": \"x\", \"slot\": 2, \"prob\": 0.5}\n",
	    "bad.jsonl:3:1: erases token 7 but slot 2 holds token 120");
	test_malformed_one("a bad tokenizer hash", "{\"type\": \"header\", \"format\": 2, "
	    "\"version\": \"0.1\", \"model\": \"m\", \"model_hash\": \"0000000000000001\", "
	    "\"weights_version\": 0, \"time\": \"t\", \"prompt\": \"ab\", \"tokenizer_hash\": "
	    "\"xyz\"}\n", "bad.jsonl:1:168: \"tokenizer_hash\" must be 16 hexadecimal digits");
	test_malformed_one("params_changed not a boolean", "{\"type\": \"header\", \"format\": 2, "
	    "\"version\": \"0.1\", \"model\": \"m\", \"model_hash\": \"0000000000000001\", "
	    "\"weights_version\": 0, \"time\": \"t\", \"prompt\": \"ab\", \"params_changed\": "
	    "3}\n", "bad.jsonl:1:168: \"params_changed\" must be true or false");
	test_malformed_one("format 3", "{\"type\": \"header\", \"format\": 3}\n",
	    "bad.jsonl:1:30: \"format\" must be a whole number in range");
}

/* Write a minimal session file dir/id.jsonl (broken: a bad one). */
static void
test_write_session(const char *dir, const char *id, const char *time, const char *prompt,
    uint64_t seed, int generated, int broken)
{
	struct transcript s;
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s.jsonl", dir, id);
	if ((f = fopen(path, "w")) == NULL)
		return;
	if (broken) {
		fputs("{\"type\": \"append\"}\n", f);
		fclose(f);
		return;
	}
	memset(&s, 0, sizeof s);
	s.version = xstrdup("0.1");
	s.model = xstrdup("/data/model.bin");
	s.time = xstrdup(time);
	s.prompt = xstrdup(prompt);
	s.n_prompt = -1;
	sampler_defaults(&s.params);
	s.seed = seed;
	s.stopped = 1;
	s.reason = xstrdup("eot");
	s.n_generated = generated;
	s.n_erased = 1;
	transcript_write(f, &s);
	fclose(f);
	transcript_free(&s);
}

/* The row (y) of the first line of dump holding needle, or -1. */
static int
test_row_of(const char *dump, const char *needle)
{
	const char *p = strstr(dump, needle);
	int row = 0;

	if (p == NULL)
		return -1;
	for (const char *q = dump; q < p; q++)
		row += *q == '\n';
	return row;
}

/* The browser: sessions newest first, keys, drawn into a grid. */
static void
test_browser(void)
{
	char dir[] = "/tmp/test-browser.XXXXXX", *dump, cmd[600];
	struct view_sessions *v;
	struct grid g;
	const char *sel;
	int rows[5];

	if (mkdtemp(dir) == NULL || grid_init(&g, 100, 14, GRID_GLYPHS_ASCII) != 0) {
		tap_ok(0, "a temp directory and a grid for the browser");
		return;
	}
	v = view_sessions_new(dir);
	grid_clear(&g, 0);
	view_sessions_draw(v, &g, grid_rect_make(0, 0, 100, 14));
	dump = grid_dump(&g);
	tap_ok(view_sessions_count(v) == 0 && strstr(dump, "no saved sessions yet") != NULL &&
	    view_sessions_key(v, UI_KEY_ENTER) == VIEW_SESSIONS_CLOSE,
	    "browser: an empty directory says so");
	free(dump);
	view_sessions_free(v);

	test_write_session(dir, "20260101-000000-1", "2026-01-01T00:00:00+0000",
	    "oldest prompt\nsecond line", 1, 10, 0);
	test_write_session(dir, "20260301-120000-5", "2026-03-01T12:00:00+0000",
	    "newest prompt", 5, 30, 0);
	test_write_session(dir, "20260301-120000-5-2", "2026-03-01T12:00:00+0000",
	    "newest again", 5, 31, 0);
	test_write_session(dir, "20260201-080000-3", "2026-02-01T08:00:00+0000",
	    "middle prompt", 3, 20, 0);
	test_write_session(dir, "20250101-000000-9", NULL, NULL, 0, 0, 1);
	v = view_sessions_new(dir);
	grid_clear(&g, 0);
	view_sessions_draw(v, &g, grid_rect_make(0, 0, 100, 14));
	dump = grid_dump(&g);
	rows[0] = test_row_of(dump, "newest again");
	rows[1] = test_row_of(dump, "newest prompt");
	rows[2] = test_row_of(dump, "middle prompt");
	rows[3] = test_row_of(dump, "oldest prompt");
	rows[4] = test_row_of(dump, "unreadable: ");
	if (!tap_ok(view_sessions_count(v) == 5 && rows[0] > 0 && rows[1] == rows[0] + 1 &&
	    rows[2] == rows[1] + 1 && rows[3] == rows[2] + 1 && rows[4] == rows[3] + 1,
	    "browser: newest first, an unreadable one last with its error"))
		tap_diag("rows %d %d %d %d %d\n%s", rows[0], rows[1], rows[2], rows[3], rows[4],
		    dump);
	tap_ok(strstr(dump, "2026-03-01 12:00  model.bin") != NULL &&
	    strstr(dump, "31/1") != NULL && strstr(dump, "oldest prompt ") != NULL &&
	    strstr(dump, "second line") == NULL && strstr(dump, "Sessions (5)") != NULL,
	    "browser: a row has date and time, model, seed, tokens/erased, the first line");
	if (!tap_ok(strstr(dump, "> 2026-03-01 12:00") != NULL, "browser: the newest is selected"))
		tap_diag("\n%s", dump);
	free(dump);
	tap_ok(view_sessions_key(v, 'j') == VIEW_SESSIONS_REDRAW &&
	    view_sessions_key(v, UI_KEY_DOWN) == VIEW_SESSIONS_REDRAW &&
	    (sel = view_sessions_selected(v)) != NULL &&
	    strstr(sel, "/20260201-080000-3.jsonl") != NULL, "browser: j and Down move down");
	view_sessions_key(v, 'k');
	tap_ok(strstr(view_sessions_selected(v), "/20260301-120000-5.jsonl") != NULL,
	    "browser: k moves up");
	view_sessions_key(v, UI_KEY_END);
	view_sessions_key(v, UI_KEY_DOWN);
	tap_ok(strstr(view_sessions_selected(v), "/20250101-000000-9.jsonl") != NULL &&
	    view_sessions_key(v, UI_KEY_ENTER) == VIEW_SESSIONS_OPEN &&
	    view_sessions_key(v, UI_KEY_ESC) == VIEW_SESSIONS_CLOSE &&
	    view_sessions_key(v, 'q') == VIEW_SESSIONS_CLOSE &&
	    view_sessions_key(v, 'x') == VIEW_SESSIONS_NONE,
	    "browser: End stays at the last; Enter opens, Esc and q close, others pass");
	/* A short screen scrolls to keep the selection in view. */
	grid_clear(&g, 0);
	view_sessions_draw(v, &g, grid_rect_make(0, 0, 100, 6));
	dump = grid_dump(&g);
	tap_ok(strstr(dump, "> 20250101-000000-9") != NULL && strstr(dump, "newest again") ==
	    NULL, "browser: a short screen scrolls to the selection");
	free(dump);
	view_sessions_free(v);
	grid_release(&g);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
}

/* Run the tests. */
int
main(void)
{
	struct conf c;
	const char *good = "# mine\ntheme: light\ncolours: direct\nmouse: no\n"
	    "decoding:\n  temperature: 0.25\n  top-k: 9\n  backspace_bias: -inf\n";
	char *cause = NULL;

	conf_init(&c);
	tap_ok(conf_parse(&c, good, strlen(good), "c.yaml", &cause) == 0 &&
	    strcmp(c.theme, "light") == 0 && strcmp(c.colors, "direct") == 0 && c.mouse == 0 &&
	    c.params.temperature == 0.25 && c.params.top_k == 9 &&
	    isinf(c.params.backspace_bias) && c.n_decoding == 3, "a good config: every key");
	free(cause);
	cause = NULL;
	conf_release(&c);
	conf_init(&c);
	tap_ok(conf_parse(&c, "", 0, "c.yaml", &cause) == 0 && c.theme == NULL &&
	    c.params.top_k == 40, "an empty config sets nothing");
	conf_release(&c);

	test_bad("a bad value", "decoding:\n  top_p: 2\n", "c.yaml:2:10: decoding: top_p: 2 is "
	    "out of range [0, 1]");
	test_bad("half applied is not applied", "theme: x\nmouse: false\ndecoding:\n  top_k: 5\n"
	    "  min_p: x\n", "c.yaml:5:10: decoding: min_p: 'x' is not a number");
	test_bad("unknown key", "\n\n  zoom: 1\n", "c.yaml:3:3: unknown key 'zoom' (theme, colors, "
	    "mouse, plot, check, weights, decoding)");
	test_bad("not a mapping", "- a\n", "c.yaml:1:1: the config must be a mapping (theme, "
	    "colors, mouse, plot, check, weights, decoding)");
	test_bad("an empty check", "check: ''\n", "c.yaml:1:8: check must be a command");
	test_bad("a bad weight format", "weights: q4\n", "c.yaml:1:10: weights must be fp32, "
	    "bf16 or q8, not 'q4' (did you mean 'q8'?)");
	conf_init(&c);
	tap_ok(conf_parse(&c, "weights: bf16\n", 14, "c.yaml", &cause) == 0 && c.weights == 1,
	    "weights: bf16 is format 1 (enum quant_format)");
	conf_release(&c);
	conf_init(&c);
	tap_ok(conf_parse(&c, "check: python3 data/check-story.py\n", 35, "c.yaml", &cause) == 0 &&
	    c.check != NULL && strcmp(c.check, "python3 data/check-story.py") == 0,
	    "check: the story checker's command");
	conf_release(&c);
	test_bad("a bad plot", "mouse: on\nplot: dots\n", "c.yaml:2:7: plot must be braille, "
	    "block or ascii, not 'dots'");
	test_bad("plot not a scalar", "plot: {a: 1}\n", "c.yaml:1:7: plot must be a single value");
	test_bad("decoding not a mapping", "decoding: 3\n", "c.yaml:1:11: decoding must be a "
	    "mapping of parameter: value");
	test_bad("theme not a scalar", "theme: [a]\n", "c.yaml:1:8: theme must be a single value");
	test_bad("mouse not a bool", "mouse: maybe\n", "c.yaml:1:8: mouse must be true or false, "
	    "not 'maybe'");
	test_bad("tab indentation", "decoding:\n\ttop_k: 1\n",
	    "c.yaml:2:1: YAML syntax error: while scanning for the next token found character "
	    "that cannot start any token");
	test_bad("unknown key, with a suggestion", "thme: light\n", "c.yaml:1:1: unknown key "
	    "'thme' (did you mean 'theme'?) (theme, colors, mouse, plot, check, weights, "
	    "decoding)");
	test_bad("unknown parameter, with a suggestion", "decoding:\n  top_kk: 3\n",
	    "c.yaml:2:3: decoding: unknown parameter 'top_kk' (did you mean 'top_k'?)");
	test_bad("a bad plot, with a suggestion", "plot: blok\n", "c.yaml:1:7: plot must be "
	    "braille, block or ascii, not 'blok' (did you mean 'block'?)");
	test_bad("two documents", "theme: a\n---\ntheme: b\n", "c.yaml:2:1: the config holds "
	    "one YAML document; this is a second one");
	test_bad("an alias bomb", "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, "
	    "*a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d]\n",
	    "c.yaml:5:9: alias '*d' expands to too much (more than 20000 nodes)");
	test_roundtrip();
	test_plot();
	test_log();
	test_malformed();
	test_browser();
	return tap_done();
}
