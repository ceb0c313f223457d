/*
 * transcript.c: session transcripts as JSON lines: written with json.c, read
 * back through yml.c (whose flow style reads JSON; a line is one bounded
 * document, aliases refused), exported as Markdown, saved and listed.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "generate.h"
#include "json.h"
#include "quant.h"
#include "sampler.h"
#include "tokenizer.h"
#include "transcript.h"
#include "util.h"
#include "yml.h"

#define TRANSCRIPT_MAX_FILE (256 * 1024 * 1024)   /* bytes of a transcript */
#define TRANSCRIPT_FORMAT 2                        /* 2: n_prompt, tokenizer_hash, step details */

/* The sessions directory. */
char *
transcript_dir(void)
{
	return app_xdg_path(getenv("XDG_STATE_HOME"), getenv("HOME"), ".local/state",
	    "seqmatch/sessions");
}

/* Free a transcript's contents. */
void
transcript_free(struct transcript *s)
{
	free(s->path);
	free(s->version);
	free(s->model);
	free(s->weights);
	free(s->time);
	free(s->prompt);
	free(s->reason);
	for (size_t i = 0; i < s->n; i++)
		free(s->ev[i].text);
	free(s->ev);
	memset(s, 0, sizeof *s);
}

/* Write a NUL-terminated string as JSON. */
static void
transcript_jstr(FILE *f, const char *s)
{
	json_string(f, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

/* Write a number: the shortest of 15 to 17 digits that reads back the same; null if not finite. */
static void
transcript_num(FILE *f, double v)
{
	char buf[64];

	if (!isfinite(v)) {
		json_number(f, v);
		return;
	}
	for (int digits = 15; digits <= 17; digits++) {
		snprintf(buf, sizeof buf, "%.*g", digits, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	fputs(buf, f);
}

/* Write a float: the shortest of 6 to 9 digits that reads back as the same float. */
static void
transcript_fnum(FILE *f, float v)
{
	char buf[64];

	if (!isfinite(v)) {
		json_number(f, v);
		return;
	}
	for (int digits = 6; digits <= 9; digits++) {
		snprintf(buf, sizeof buf, "%.*g", digits, (double)v);
		if (strtof(buf, NULL) == v)
			break;
	}
	fputs(buf, f);
}

/* Write an event's step details (format 2). */
static void
transcript_write_detail(FILE *f, const struct transcript_event *e)
{
	fputs(", \"model_prob\": ", f);
	transcript_fnum(f, e->model_prob);
	fputs(", \"seconds\": ", f);
	transcript_num(f, e->seconds);
	fputs(", \"entropy\": ", f);
	transcript_fnum(f, e->entropy);
	fputs(", \"p_bksp\": ", f);
	transcript_fnum(f, e->p_bksp);
	fputs(", \"top\": [", f);
	for (int k = 0; k < e->n_top; k++) {
		fprintf(f, "%s{\"id\": %d, \"prob\": ", k ? ", " : "", e->top[k].id);
		transcript_fnum(f, e->top[k].prob);
		fputc('}', f);
	}
	fputc(']', f);
}

/* Write s as JSON lines. */
void
transcript_write(FILE *f, const struct transcript *s)
{
	fprintf(f, "{\"type\": \"header\", \"format\": %d, \"version\": ", TRANSCRIPT_FORMAT);
	transcript_jstr(f, s->version);
	fputs(", \"model\": ", f);
	transcript_jstr(f, s->model);
	fprintf(f, ", \"model_hash\": \"%016" PRIx64 "\", \"weights_version\": %ld, \"time\": ",
	    s->model_hash, s->weights_version);
	transcript_jstr(f, s->time);
	if (s->weights != NULL) {
		fputs(", \"weights\": ", f);
		transcript_jstr(f, s->weights);
	}
	fputs(", \"prompt\": ", f);
	transcript_jstr(f, s->prompt);
	if (s->n_prompt >= 0)
		fprintf(f, ", \"n_prompt\": %d", s->n_prompt);
	if (s->tokenizer_hash != 0)
		fprintf(f, ", \"tokenizer_hash\": \"%016" PRIx64 "\"", s->tokenizer_hash);
	if (s->params_changed)
		fputs(", \"params_changed\": true", f);
	fputs(", \"params\": {", f);
	for (size_t i = 0; i < sampler_table_len; i++) {
		const struct sampler_param *row = &sampler_table[i];
		double v = sampler_get(&s->params, row);

		fprintf(f, "%s\"%s\": ", i ? ", " : "", row->name);
		if (row->type == SAMPLER_DOUBLE)
			transcript_num(f, v);
		else if (row->type == SAMPLER_INT64) /* exactly: a double loses a big seed */
			fprintf(f, "%" PRId64, *(const int64_t *)(const void *)
			    ((const char *)&s->params + row->offset));
		else
			fprintf(f, "%lld", (long long)v);
	}
	fprintf(f, "}, \"seed\": %" PRIu64 "}\n", s->seed);
	for (size_t i = 0; i < s->n; i++) {
		const struct transcript_event *e = &s->ev[i];

		fprintf(f, "{\"type\": \"%s\", \"id\": %d, \"text\": ", e->erase ? "erase" :
		    "append", e->id);
		json_string(f, e->text != NULL ? e->text : "", e->len);
		fprintf(f, ", \"slot\": %d, \"prob\": ", e->slot);
		transcript_num(f, e->prob);
		if (e->detail)
			transcript_write_detail(f, e);
		fputs("}\n", f);
	}
	if (s->stopped) {
		fputs("{\"type\": \"stop\", \"reason\": ", f);
		transcript_jstr(f, s->reason);
		fprintf(f, ", \"generated\": %d, \"erased\": %d, \"seconds\": ", s->n_generated,
		    s->n_erased);
		transcript_num(f, s->seconds);
		if (s->stop_detail) {
			fputs(", \"prefill_seconds\": ", f);
			transcript_num(f, s->prefill_seconds);
			fputs(", \"elapsed\": ", f);
			transcript_num(f, s->elapsed);
		}
		fputs("}\n", f);
	}
}

/* One line being read: the document, its root, where it is. */
struct transcript_line {
	const struct yml_node *root;
	const char *name;
	int line;
	char **cause;
};

/* The value of key in a mapping of the line, or NULL. */
static const struct yml_node *
transcript_get(const struct yml_node *map, const char *key)
{
	return yml_get(map, key);
}

/* A scalar's text (null and NUL bytes included), or NULL if n is not a scalar. */
static const char *
transcript_scalar(const struct yml_node *n)
{
	return n != NULL && n->type == YML_SCALAR ? n->value : NULL;
}

/* Report a problem with a field of the line (at node n, or the line's start). */
static int
transcript_field_error(struct transcript_line *l, const struct yml_node *n, const char *key,
    const char *what)
{
	yml_diag(l->cause, l->name, l->line, n != NULL ? n->col :
	    1, "\"%s\" %s", key, what);
	return -1;
}

/* A required JSON string field: *out malloc'd, *len (may be NULL) its length. */
static int
transcript_get_str(struct transcript_line *l, const struct yml_node *map, const char *key,
    char **out, size_t *len)
{
	const struct yml_node *n = transcript_get(map, key);

	if (n == NULL)
		return transcript_field_error(l, NULL, key, "is missing");
	if (n->type != YML_SCALAR || !n->quoted)
		return transcript_field_error(l, n, key, "must be a string");
	*out = xmalloc(n->len + 1);
	memcpy(*out, n->value, n->len);
	(*out)[n->len] = '\0';
	if (len != NULL)
		*len = n->len;
	return 0;
}

/* A required number field (null gives -inf when null_ok). */
static int
transcript_get_num(struct transcript_line *l, const struct yml_node *map, const char *key,
    double *out, int null_ok)
{
	const struct yml_node *n = transcript_get(map, key);
	const char *s = transcript_scalar(n);
	char *end;

	if (n == NULL)
		return transcript_field_error(l, NULL, key, "is missing");
	if (s == NULL || !n->plain)
		return transcript_field_error(l, n, key, "must be a number");
	if (null_ok && strcmp(s, "null") == 0) {
		*out = -INFINITY;
		return 0;
	}
	errno = 0;
	*out = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(*out))
		return transcript_field_error(l, n, key, "must be a number");
	return 0;
}

/* A required number field in [lo, hi]: probabilities in [0, 1], durations not negative. */
static int
transcript_get_in(struct transcript_line *l, const struct yml_node *map, const char *key,
    double lo, double hi, double *out)
{
	if (transcript_get_num(l, map, key, out, 0) != 0)
		return -1;
	if (*out < lo || *out > hi) {
		char what[64];

		if (isinf(hi))
			snprintf(what, sizeof what, "must not be below %g", lo);
		else
			snprintf(what, sizeof what, "must be in [%g, %g]", lo, hi);
		return transcript_field_error(l, transcript_get(map, key), key, what);
	}
	return 0;
}

/* A key that appears twice in any object of the line (JSON leaves it undefined). */
static int
transcript_dup_keys(struct transcript_line *l, const struct yml_node *n)
{
	if (n == NULL)
		return 0;
	if (n->type == YML_MAP)
		for (size_t i = 0; i + 1 < n->nkids; i += 2)
			for (size_t j = i + 2; j + 1 < n->nkids; j += 2)
				if (n->kids[i]->type == YML_SCALAR && n->kids[j]->type == YML_SCALAR &&
				    strcmp(n->kids[i]->value, n->kids[j]->value) == 0)
					return transcript_field_error(l, n->kids[j], n->kids[j]->value,
					    "appears twice in one object");
	for (size_t i = 0; i < n->nkids; i++)
		if (transcript_dup_keys(l, n->kids[i]) != 0)
			return -1;
	return 0;
}

/* A required integer field in [min, max]. */
static int
transcript_get_int(struct transcript_line *l, const struct yml_node *map, const char *key,
    long long min, long long max, long long *out)
{
	const struct yml_node *n = transcript_get(map, key);
	const char *s = transcript_scalar(n);
	char *end;

	if (n == NULL)
		return transcript_field_error(l, NULL, key, "is missing");
	errno = 0;
	if (s == NULL || !n->plain ||
	    (*out = strtoll(s, &end, 10), end == s) || *end != '\0' || errno != 0 ||
	    *out < min || *out > max)
		return transcript_field_error(l, n, key, "must be a whole number in range");
	return 0;
}

/* Read the header line into s. */
static int
transcript_parse_header(struct transcript *s, struct transcript_line *l)
{
	const struct yml_node *params, *n;
	char *hash = NULL, *end;
	long long v;
	const char *seed;

	if (transcript_get_int(l, l->root, "format", 1, TRANSCRIPT_FORMAT, &v) != 0)
		return -1;
	s->format = (int)v;
	if (
	    transcript_get_str(l, l->root, "version", &s->version, NULL) != 0 ||
	    transcript_get_str(l, l->root, "model", &s->model, NULL) != 0 ||
	    transcript_get_str(l, l->root, "model_hash", &hash, NULL) != 0)
		return -1;
	s->model_hash = strtoull(hash, &end, 16);
	if (strlen(hash) != 16 || *end != '\0' || !isxdigit((unsigned char)hash[0])) {
		free(hash);
		return transcript_field_error(l, transcript_get(l->root, "model_hash"),
		    "model_hash", "must be 16 hexadecimal digits");
	}
	free(hash);
	if (transcript_get_int(l, l->root, "weights_version", 0, LONG_MAX, &v) != 0)
		return -1;
	s->weights_version = (long)v;
	if (transcript_get_str(l, l->root, "time", &s->time, NULL) != 0 ||
	    transcript_get_str(l, l->root, "prompt", &s->prompt, NULL) != 0)
		return -1;
	/* Optional: transcripts written before it decoded in an unrecorded format. */
	if (transcript_get(l->root, "weights") != NULL) {
		enum quant_format f;
		char *why = NULL;

		if (transcript_get_str(l, l->root, "weights", &s->weights, NULL) != 0)
			return -1;
		if (quant_format_parse(s->weights, &f, &why) != 0) {
			free(why);
			return transcript_field_error(l, transcript_get(l->root, "weights"),
			    "weights", "must be fp32, bf16 or q8");
		}
	}
	if (transcript_get(l->root, "n_prompt") != NULL) {
		if (transcript_get_int(l, l->root, "n_prompt", 1, INT32_MAX, &v) != 0)
			return -1;
		s->n_prompt = (int)v;
	}
	if ((n = transcript_get(l->root, "tokenizer_hash")) != NULL) {
		if (transcript_get_str(l, l->root, "tokenizer_hash", &hash, NULL) != 0)
			return -1;
		s->tokenizer_hash = strtoull(hash, &end, 16);
		if (strlen(hash) != 16 || *end != '\0' || !isxdigit((unsigned char)hash[0])) {
			free(hash);
			return transcript_field_error(l, n, "tokenizer_hash",
			    "must be 16 hexadecimal digits");
		}
		free(hash);
	}
	if ((n = transcript_get(l->root, "params_changed")) != NULL) {
		const char *b = transcript_scalar(n);

		if (b == NULL || (strcmp(b, "true") != 0 && strcmp(b, "false") != 0))
			return transcript_field_error(l, n, "params_changed", "must be true or "
			    "false");
		s->params_changed = strcmp(b, "true") == 0;
	}
	params = transcript_get(l->root, "params");
	if (params == NULL || params->type != YML_MAP)
		return transcript_field_error(l, params, "params", params == NULL ? "is missing" :
		    "must be an object");
	sampler_defaults(&s->params);
	for (size_t i = 0; i < sampler_table_len; i++) {
		const struct sampler_param *row = &sampler_table[i];
		char *why = NULL;
		const char *text;
		double d;

		/* The number's own text: a double would round a 64-bit seed. */
		if (transcript_get_num(l, params, row->name, &d, isinf(row->min)) != 0)
			return -1;
		text = isinf(d) ? "-inf" : transcript_scalar(transcript_get(params, row->name));
		if (sampler_set(&s->params, row, text, &why) != 0) {
			transcript_field_error(l, transcript_get(params, row->name), row->name,
			    why);
			free(why);
			return -1;
		}
	}
	n = transcript_get(l->root, "seed");
	seed = transcript_scalar(n);
	errno = 0;
	if (seed == NULL || !n->plain || seed[0] == '-' ||
	    (s->seed = strtoull(seed, &end, 10), end == seed) || *end != '\0' || errno != 0)
		return transcript_field_error(l, n, "seed", n == NULL ? "is missing" :
		    "must be a whole number >= 0");
	return 0;
}

/* Read an event's step details (format 2): all of them or none. */
static int
transcript_parse_detail(struct transcript_event *e, struct transcript_line *l)
{
	const struct yml_node *top = transcript_get(l->root, "top");
	double d;
	long long v;

	if (top == NULL && transcript_get(l->root, "model_prob") == NULL)
		return 0;
	e->detail = 1;
	if (transcript_get_in(l, l->root, "model_prob", 0, 1, &d) != 0)
		return -1;
	e->model_prob = (float)d;
	if (transcript_get_in(l, l->root, "seconds", 0, INFINITY, &e->seconds) != 0 ||
	    transcript_get_in(l, l->root, "entropy", 0, INFINITY, &d) != 0)
		return -1;
	e->entropy = (float)d;
	if (transcript_get_in(l, l->root, "p_bksp", 0, 1, &d) != 0)
		return -1;
	e->p_bksp = (float)d;
	if (top == NULL || top->type != YML_SEQ)
		return transcript_field_error(l, top, "top", top == NULL ? "is missing" :
		    "must be a list of {\"id\", \"prob\"}");
	for (size_t i = 0; i < top->nkids; i++) {
		const struct yml_node *item = top->kids[i];

		if (e->n_top == GENERATE_TOP)
			return transcript_field_error(l, item, "top", "has more than "
			    "8 alternatives");
		if (item->type != YML_MAP)
			return transcript_field_error(l, item, "top", "must be a list of "
			    "{\"id\", \"prob\"}");
		if (transcript_get_int(l, item, "id", 0, INT32_MAX, &v) != 0 ||
		    transcript_get_in(l, item, "prob", 0, 1, &d) != 0)
			return -1;
		e->top[e->n_top].id = (int)v;
		e->top[e->n_top++].prob = (float)d;
	}
	return 0;
}

/* Read an append or erase line. */
static int
transcript_parse_event(struct transcript *s, struct transcript_line *l, int erase)
{
	struct transcript_event e = { .erase = erase };
	long long v;

	if (transcript_get_int(l, l->root, "id", 0, INT32_MAX, &v) != 0)
		return -1;
	e.id = (int)v;
	if (transcript_get_int(l, l->root, "slot", 0, INT32_MAX, &v) != 0)
		return -1;
	e.slot = (int)v;
	if (transcript_get_in(l, l->root, "prob", 0, 1, &e.prob) != 0 ||
	    transcript_parse_detail(&e, l) != 0 ||
	    transcript_get_str(l, l->root, "text", &e.text, &e.len) != 0)
		return -1;
	s->ev = xrealloc(s->ev, (s->n + 1) * sizeof *s->ev);
	s->ev[s->n++] = e;
	return 0;
}

/* Read the stop line. */
static int
transcript_parse_stop(struct transcript *s, struct transcript_line *l)
{
	long long v;

	if (transcript_get_str(l, l->root, "reason", &s->reason, NULL) != 0 ||
	    transcript_get_int(l, l->root, "generated", 0, INT32_MAX, &v) != 0)
		return -1;
	s->n_generated = (int)v;
	if (transcript_get_int(l, l->root, "erased", 0, INT32_MAX, &v) != 0)
		return -1;
	s->n_erased = (int)v;
	if (transcript_get_in(l, l->root, "seconds", 0, INFINITY, &s->seconds) != 0)
		return -1;
	if (transcript_get(l->root, "prefill_seconds") != NULL) {
		if (transcript_get_in(l, l->root, "prefill_seconds", 0, INFINITY,
		    &s->prefill_seconds) != 0 ||
		    transcript_get_in(l, l->root, "elapsed", 0, INFINITY, &s->elapsed) != 0)
			return -1;
		s->stop_detail = 1;
	}
	s->stopped = 1;
	return 0;
}

/*
 * The error of a line libyaml refused, worded as JSON (libyaml's problem and
 * context, no "YAML"); a mark past the line's end is put at its end.
 */
static void
transcript_syntax_error(const struct yml_error *err, const char *name, int line, size_t len,
    char **cause)
{
	int col = err->col;

	if (err->line > 1 || (size_t)col > len + 1)
		col = (int)len + 1;
	if (!err->syntax)
		yml_diag(cause, name, line, col, "%s", err->msg);
	else
		yml_diag(cause, name, line, col, "%s%s%s", err->problem != NULL ? err->problem :
		    "not valid JSON", err->context != NULL ? " " : "", err->context != NULL ?
		    err->context : "");
}

/* Parse one line (number line, len bytes) into s. */
static int
transcript_parse_line(struct transcript *s, const char *text, size_t len, const char *name,
    int line, char **cause)
{
	static const struct yml_limits limits = { .max_aliases = -1, .what = "a transcript" };
	struct yml_doc doc;
	struct yml_error err;
	struct transcript_line l = { NULL, name, line, cause };
	const struct yml_node *tn;
	const char *type;
	int rc = -1;

	if (yml_parse(&doc, text, len, &limits, &err) != 0) {
		if (err.oom)
			app_fatal("out of memory");
		transcript_syntax_error(&err, name, line, len, cause);
		yml_doc_release(&doc);
		return -1;
	}
	l.root = doc.root;
	if (l.root == NULL || l.root->type != YML_MAP || !l.root->flow) {
		yml_diag(cause, name, line, 1, "not a JSON object");
		goto out;
	}
	if (transcript_dup_keys(&l, l.root) != 0)
		goto out;
	tn = transcript_get(l.root, "type");
	type = transcript_scalar(tn);
	if (type == NULL) {
		transcript_field_error(&l, tn, "type", tn == NULL ? "is missing" :
		    "must be a string");
		goto out;
	}
	if (line == 1 && strcmp(type, "header") != 0) {
		yml_diag(cause, name, line, tn->col, "the first line must be the header (type "
		    "\"header\"), not \"%s\"", type);
		goto out;
	}
	if (s->stopped) {
		yml_diag(cause, name, line, 1, "a line after the stop line");
		goto out;
	}
	if (strcmp(type, "header") == 0) {
		if (line != 1)
			yml_diag(cause, name, line, tn->col, "a second header");
		else
			rc = transcript_parse_header(s, &l);
	} else if (strcmp(type, "append") == 0 || strcmp(type, "erase") == 0)
		rc = transcript_parse_event(s, &l, type[0] == 'e');
	else if (strcmp(type, "stop") == 0)
		rc = transcript_parse_stop(s, &l);
	else
		yml_diag(cause, name, line, tn->col, "unknown line type \"%s\" (header, append, "
		    "erase, stop)", type);
out:
	yml_doc_release(&doc);
	return rc;
}

/* The stop line's counts must be the events': appends generated, erases erased. */
static int
transcript_check_stop(const struct transcript *s, const char *name, int line, char **cause)
{
	long appends = 0, erases = 0;

	if (!s->stopped)
		return 0;
	for (size_t i = 0; i < s->n; i++) {
		erases += s->ev[i].erase;
		appends += !s->ev[i].erase;
	}
	if (appends != s->n_generated || erases != s->n_erased)
		return util_error(cause, "%s:%d:1: the stop line counts %d generated and %d erased, "
		    "the events %ld and %ld", name, line, s->n_generated, s->n_erased, appends,
		    erases);
	return 0;
}

/*
 * Check that the events replay: an append fills the next slot, an erase
 * empties the last one (never the prompt's) and names the token there.
 * Format 1 has no n_prompt: the first event's slot gives it.
 */
static int
transcript_check_slots(struct transcript *s, const char *name, char **cause)
{
	size_t *stack, depth = 0;
	int n_prompt = s->n_prompt;

	if (s->n == 0)
		return 0;
	if (n_prompt < 0) {
		if (s->ev[0].erase || s->ev[0].slot < 1) {
			util_error(cause, "%s:2:1: the first event must append after the "
			    "prompt", name);
			return -1;
		}
		n_prompt = s->ev[0].slot;
	}
	stack = xmalloc(s->n * sizeof *stack);
	for (size_t i = 0; i < s->n; i++) {
		const struct transcript_event *e = &s->ev[i];
		long want = (long)n_prompt + (long)depth - (e->erase ? 1 : 0);

		if (e->erase && depth == 0) {
			util_error(cause, "%s:%zu:1: an erase with no generated token left "
			    "(the prompt is never erased)", name, i + 2);
			free(stack);
			return -1;
		}
		if (e->slot != want) {
			util_error(cause, "%s:%zu:1: slot %d does not follow the events "
			    "before it (expected %ld)", name, i + 2, e->slot, want);
			free(stack);
			return -1;
		}
		if (e->erase && s->ev[stack[depth - 1]].id != e->id) {
			util_error(cause, "%s:%zu:1: erases token %d but slot %d holds token "
			    "%d", name, i + 2, e->id, e->slot, s->ev[stack[depth - 1]].id);
			free(stack);
			return -1;
		}
		if (e->erase)
			depth--;
		else
			stack[depth++] = i;
	}
	free(stack);
	s->n_prompt = n_prompt;
	return 0;
}

/* Parse a transcript. */
int
transcript_parse(struct transcript *s, const char *text, size_t len, const char *name,
    char **cause)
{
	const char *p = text, *end = text + len, *nl;
	int line = 0;

	memset(s, 0, sizeof *s);
	s->n_prompt = -1;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		line++;
		if (nl > p && transcript_parse_line(s, p, (size_t)(nl - p), name, line,
		    cause) != 0) {
			transcript_free(s);
			return -1;
		}
		if (nl == p) {
			transcript_free(s);
			util_error(cause, "%s:%d:1: an empty line", name, line);
			return -1;
		}
		p = nl + 1;
	}
	if (line == 0) {
		util_error(cause, "%s:1:1: empty file: no header line", name);
		return -1;
	}
	if (transcript_check_slots(s, name, cause) != 0 || transcript_check_stop(s, name, line,
	    cause) != 0) {
		transcript_free(s);
		return -1;
	}
	s->path = xstrdup(name);
	return 0;
}

/* Read a transcript file. */
int
transcript_load(struct transcript *s, const char *path, char **cause)
{
	char *buf = NULL, *why = NULL;
	size_t len;
	int rc;

	memset(s, 0, sizeof *s);
	if (util_read_file(path, TRANSCRIPT_MAX_FILE, &buf, &len, &why) != 0) {
		util_error(cause, "%s", why != NULL ? why : path);
		free(why);
		return -1;
	}
	rc = transcript_parse(s, buf, len, path, cause);
	free(buf);
	return rc;
}

/* The text after the events. */
char *
transcript_final_text(const struct transcript *s, size_t *len)
{
	size_t plen = strlen(s->prompt != NULL ? s->prompt : ""), n = plen, depth = 0;
	size_t *ends = xmalloc((s->n + 1) * sizeof *ends);
	char *out;

	for (size_t i = 0; i < s->n; i++)
		n += s->ev[i].erase ? 0 : s->ev[i].len;
	out = xmalloc(n + 1);
	memcpy(out, s->prompt != NULL ? s->prompt : "", plen);
	n = plen;
	for (size_t i = 0; i < s->n; i++) {
		if (s->ev[i].erase) {
			if (depth > 0)
				n = --depth > 0 ? ends[depth - 1] : plen;
			continue;
		}
		memcpy(out + n, s->ev[i].text, s->ev[i].len);
		n += s->ev[i].len;
		ends[depth++] = n;
	}
	out[n] = '\0';
	free(ends);
	*len = n;
	return out;
}

/* A code fence longer than any run of backticks in text. */
static void
transcript_fence(FILE *f, const char *text, size_t len, const char *info)
{
	size_t run = 0, longest = 0;

	for (size_t i = 0; i < len; i++) {
		run = text[i] == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	for (size_t i = 0; i < (longest >= 3 ? longest + 1 : 3); i++)
		fputc('`', f);
	fputs(info, f);
	fputc('\n', f);
}

/*
 * A control character as the listings and the Markdown cells write it (\t,
 * \n, \r, else \xNN, DEL included) into buf (5 bytes); 0 if c is not one.
 */
static int
transcript_control(unsigned char c, char *buf)
{
	if (c >= 0x20 && c != 0x7f)
		return 0;
	if (c == '\t' || c == '\n' || c == '\r')
		snprintf(buf, 5, "\\%c", c == '\t' ? 't' : c == '\n' ? 'n' : 'r');
	else
		snprintf(buf, 5, "\\x%02x", c);
	return 1;
}

/* Write text inside a Markdown table cell (pipes, backticks and control characters escaped). */
static void
transcript_cell(FILE *f, const char *text, size_t len)
{
	char esc[5];

	for (size_t i = 0; i < len; i++) {
		if (text[i] == '|')
			fputs("\\|", f);
		else if (text[i] == '`')
			fputs("\\`", f);
		else if (transcript_control((unsigned char)text[i], esc))
			fputs(esc, f);
		else
			fputc(text[i], f);
	}
}

/* A prompt's first line for a listing row, escaped and cut (see transcript.h). */
char *
transcript_prompt_line(const char *prompt, size_t max_chars)
{
	size_t len = strcspn(prompt, "\n"), o = 0, chars = 0;
	char *out = xmalloc(4 * len + 1), esc[5];

	for (size_t i = 0; i < len && chars < max_chars; chars++) {
		size_t k = json_utf8_len((const unsigned char *)prompt + i, len - i);

		if (transcript_control((unsigned char)prompt[i], esc)) {
			memcpy(out + o, esc, strlen(esc));
			o += strlen(esc);
			i++;
		} else if (k == 0) { /* a stray byte: the grid would show U+FFFD anyway */
			o += (size_t)snprintf(out + o, 5, "\\x%02x", (unsigned char)prompt[i]);
			i++;
		} else {
			memcpy(out + o, prompt + i, k);
			o += k;
			i += k;
		}
	}
	out[o] = '\0';
	return out;
}

/* Write text in a fenced block. */
static void
transcript_block(FILE *f, const char *text, size_t len)
{
	transcript_fence(f, text, len, "text");
	fwrite(text, 1, len, f);
	if (len == 0 || text[len - 1] != '\n')
		fputc('\n', f);
	transcript_fence(f, text, len, "");
}

/* One decoding value as text: "%.6g", "-inf", or an integer exactly (a 64-bit seed too). */
void
transcript_param_text(const struct sampler_params *p, const struct sampler_param *row,
    char *buf, size_t size)
{
	double v = sampler_get(p, row);

	if (row->type == SAMPLER_DOUBLE)
		snprintf(buf, size, isinf(v) ? (v < 0 ? "-inf" : "inf") : "%.6g", v);
	else if (row->type == SAMPLER_INT64)
		snprintf(buf, size, "%" PRId64, *(const int64_t *)(const void *)
		    ((const char *)p + row->offset));
	else
		snprintf(buf, size, "%lld", (long long)v);
}

/* Write s as Markdown. */
void
transcript_markdown(FILE *f, const struct transcript *s)
{
	size_t len, k = 0;
	char *text = transcript_final_text(s, &len);

	fputs("# seqmatch session\n\n| Setting | Value |\n|---|---|\n", f);
	fputs("| model | ", f);
	transcript_cell(f, s->model, strlen(s->model));
	fprintf(f, " |\n| model hash | %016" PRIx64 " |\n| weights version | %ld |\n",
	    s->model_hash, s->weights_version);
	fprintf(f, "| weight format | %s |\n", s->weights != NULL ? s->weights :
	    "not recorded");
	fputs("| program version | ", f);
	transcript_cell(f, s->version, strlen(s->version));
	fputs(" |\n| time | ", f);
	transcript_cell(f, s->time, strlen(s->time));
	fprintf(f, " |\n| seed used | %" PRIu64 " |\n", s->seed);
	if (s->params_changed)
		fputs("| parameters | changed during the run: below are the starting ones |\n", f);
	for (size_t i = 0; i < sampler_table_len; i++) {
		char v[32];

		transcript_param_text(&s->params, &sampler_table[i], v, sizeof v);
		fprintf(f, "| %s | %s |\n", sampler_table[i].name, v);
	}
	if (s->stopped)
		fprintf(f, "| stop | %s: %d tokens, %d erased, %.2f s |\n", s->reason,
		    s->n_generated, s->n_erased, s->seconds);
	else
		fputs("| stop | (none: the transcript ends early) |\n", f);
	fputs("\n## Prompt\n\n", f);
	transcript_block(f, s->prompt, strlen(s->prompt));
	fputs("\n## Text\n\n", f);
	transcript_block(f, text, len);
	fputs("\n## Backspaces\n\n", f);
	for (size_t i = 0; i < s->n; i++) {
		if (!s->ev[i].erase)
			continue;
		if (k++ == 0)
			fputs("| # | Event | Slot | Erased | P |\n|---|---|---|---|---|\n", f);
		fprintf(f, "| %zu | %zu | %d | `", k, i + 1, s->ev[i].slot);
		transcript_cell(f, s->ev[i].text, s->ev[i].len);
		fprintf(f, "` | %.4f |\n", s->ev[i].prob);
	}
	if (k == 0)
		fputs("None.\n", f);
	free(text);
}

/* Save a transcript to dir under a new name. */
int
transcript_save(struct transcript *t, const char *dir, char **path, char **cause)
{
	char stamp[32], iso[64], *file = NULL, *buf = NULL;
	size_t size = 0;
	time_t now = time(NULL);
	struct tm tm;
	FILE *f;
	int rc;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
	strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%S%z", &tm);
	free(t->version);
	t->version = xstrdup(PACKAGE_VERSION);
	free(t->time);
	t->time = xstrdup(iso);
	f = open_memstream(&buf, &size);
	if (f == NULL)
		app_fatal("out of memory");
	transcript_write(f, t);
	if (fclose(f) != 0)
		app_fatal("out of memory");
	if (app_mkdirs(dir, cause) != 0) {
		free(buf);
		return -1;
	}
	/* Two runs in one second with one seed: -2, -3, ... rather than overwrite. */
	for (int k = 1; ; k++) {
		char extra[16] = "";

		if (k > 1)
			snprintf(extra, sizeof extra, "-%d", k);
		free(file);
		if (asprintf(&file, "%s/%s-%" PRIu64 "%s.jsonl", dir, stamp, t->seed, extra) < 0)
			app_fatal("out of memory");
		if (access(file, F_OK) != 0 || k >= 1000)
			break;
	}
	rc = util_write_file_atomic(file, buf, size, 0644, cause);
	free(buf);
	if (rc == 0 && path != NULL)
		*path = file;
	else
		free(file);
	return rc;
}

/* FNV-1a of the tokenizer's serialised form. */
uint64_t
transcript_tokenizer_hash(const struct tokenizer *tok)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	uint64_t h;

	if (tok == NULL || tokenizer_serialize(tok, &buf, &len, NULL) != 0)
		return 0;
	h = util_fnv1a(UTIL_FNV_INIT, buf, len);
	free(buf);
	return h != 0 ? h : 1;
}

/* Read a session's header and stop line into e (the events are not read). */
static void
transcript_peek(struct transcript_entry *e)
{
	struct transcript s;
	char *buf = NULL, *why = NULL;
	const char *last;
	size_t len;
	int line = 1;

	memset(&s, 0, sizeof s);
	s.n_prompt = -1;
	if (util_read_file(e->path, TRANSCRIPT_MAX_FILE, &buf, &len, &why) != 0) {
		e->error = why != NULL ? why : xstrdup(e->path);
		return;
	}
	while (len > 0 && buf[len - 1] == '\n')
		len--;
	last = buf + len;
	while (last > buf && last[-1] != '\n')
		last--;
	for (const char *p = buf; p < last; p++)
		line += *p == '\n';
	if (len == 0)
		util_error(&e->error, "%s:1:1: empty file: no header line", e->path);
	else if (transcript_parse_line(&s, buf, strcspn(buf, "\n"), e->path, 1, &e->error) != 0)
		;
	else if (line > 1 && transcript_parse_line(&s, last, (size_t)(buf + len - last), e->path,
	    line, &e->error) != 0)
		;
	else {
		e->time = xstrdup(s.time);
		e->model = xstrdup(s.model);
		e->prompt = xstrdup(s.prompt);
		e->seed = s.seed;
		e->model_hash = s.model_hash;
		e->stopped = s.stopped;
		e->n_generated = s.n_generated;
		e->n_erased = s.n_erased;
		e->params = s.params;
		e->params_changed = s.params_changed;
	}
	transcript_free(&s);
	free(buf);
}

/* Newest first: ids start with the time; version order puts -10 after -9. */
static int
transcript_entry_cmp(const void *a, const void *b)
{
	return strverscmp(((const struct transcript_entry *)b)->id,
	    ((const struct transcript_entry *)a)->id);
}

/* The sessions in dir. */
int
transcript_list(const char *dir, struct transcript_entry **out, size_t *n, char **cause)
{
	struct transcript_entry *v = NULL;
	struct dirent *de;
	size_t count = 0;
	DIR *d;

	*out = NULL;
	*n = 0;
	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return 0; /* no session saved yet */
		util_error(cause, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len <= 6 || de->d_name[0] == '.' ||
		    strcmp(de->d_name + len - 6, ".jsonl") != 0)
			continue;
		v = xrealloc(v, (count + 1) * sizeof *v);
		memset(&v[count], 0, sizeof v[count]);
		v[count].id = xstrdup(de->d_name);
		v[count].id[len - 6] = '\0';
		if (asprintf(&v[count].path, "%s/%s", dir, de->d_name) < 0)
			app_fatal("out of memory");
		count++;
	}
	closedir(d);
	for (size_t i = 0; i < count; i++)
		transcript_peek(&v[i]);
	if (count > 1)
		qsort(v, count, sizeof *v, transcript_entry_cmp);
	*out = v;
	*n = count;
	return 0;
}

/* Free a list. */
void
transcript_list_free(struct transcript_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].id);
		free(e[i].path);
		free(e[i].error);
		free(e[i].time);
		free(e[i].model);
		free(e[i].prompt);
	}
	free(e);
}

/* A session's file from an ID or a path. */
char *
transcript_resolve(const char *dir, const char *id_or_file, char **cause)
{
	size_t len = strlen(id_or_file);
	char *path;

	if (len == 0) {
		util_error(cause, "an empty session name");
		return NULL;
	}
	if (strchr(id_or_file, '/') != NULL || (len > 6 &&
	    strcmp(id_or_file + len - 6, ".jsonl") == 0))
		return xstrdup(id_or_file);
	if (dir == NULL) {
		util_error(cause, "session %s: neither XDG_STATE_HOME nor HOME is set",
		    id_or_file);
		return NULL;
	}
	if (asprintf(&path, "%s/%s.jsonl", dir, id_or_file) < 0)
		app_fatal("out of memory");
	if (access(path, F_OK) != 0) {
		util_error(cause, "no session '%s' in %s (see 'seqmatch session list')",
		    id_or_file, dir);
		free(path);
		return NULL;
	}
	return path;
}
