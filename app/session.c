/*
 * session.c: the config file (read with libyaml, never written) and session
 * transcripts as JSON lines (written with json.c, read back with libyaml,
 * whose flow style reads JSON), for the UI and `seqmatch session`.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <yaml.h>

#include "app.h"
#include "generate.h"
#include "json.h"
#include "sampler.h"
#include "session.h"
#include "tokenizer.h"
#include "ui.h"
#include "util.h"

#define SESSION_MAX_CONFIG (64 * 1024)         /* bytes of config.yaml */
#define SESSION_MAX_FILE (256 * 1024 * 1024)   /* bytes of a transcript */
#define SESSION_FORMAT 2                        /* 2: n_prompt, tokenizer_hash, step details */

/* $VAR/suffix if VAR is set and absolute, else $HOME/fallback/suffix; NULL without either. */
static char *
session_xdg(const char *var, const char *fallback, const char *suffix)
{
	return app_xdg_path(getenv(var), getenv("HOME"), fallback, suffix);
}

/* The config file's path. */
char *
session_config_path(void)
{
	return session_xdg("XDG_CONFIG_HOME", ".config", "seqmatch/config.yaml");
}

/* The sessions directory. */
char *
session_dir(void)
{
	return session_xdg("XDG_STATE_HOME", ".local/state", "seqmatch/sessions");
}

/* Unset everything. */
void
session_config_init(struct session_config *c)
{
	memset(c, 0, sizeof *c);
	c->mouse = -1;
	c->plot = -1;
	sampler_defaults(&c->params);
}

/* Free the strings. */
void
session_config_release(struct session_config *c)
{
	free(c->theme);
	free(c->colors);
	c->theme = c->colors = NULL;
}

/* A scalar node's text, or NULL if n is not a scalar. */
static const char *
session_scalar(const yaml_node_t *n)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

/* "name:line:col: " from a libyaml mark (zero-based). */
static void __attribute__((format(printf, 5, 6)))
session_mark_error(char **cause, const char *name, int line, int col, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		app_fatal("out of memory");
	va_end(ap);
	util_error(cause, "%s:%d:%d: %s", name, line, col, msg);
	free(msg);
}

/*
 * The error of a failed yaml_parser_load. line0: the lines before the text;
 * linelen >= 0: the text is one line of that length (a mark past its end is
 * put at its end).
 */
static void
session_yaml_error(const yaml_parser_t *p, const char *name, int line0, long linelen,
    char **cause)
{
	yaml_mark_t m = p->problem != NULL ? p->problem_mark : p->context_mark;

	if (linelen >= 0 && (m.line > 0 || (long)m.column > linelen)) {
		m.line = 0;
		m.column = (size_t)linelen;
	}

	session_mark_error(cause, name, line0 + (int)m.line + 1, (int)m.column + 1, "%s%s%s",
	    p->problem != NULL ? p->problem : "not valid YAML",
	    p->context != NULL ? " " : "", p->context != NULL ? p->context : "");
}

/* Parse a YAML boolean; -1 if it is not one. */
static int
session_bool(const char *s)
{
	static const char *yes[] = { "true", "yes", "on", "1" }, *no[] = { "false", "no",
	    "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* Apply the decoding: mapping to t; -1 with *cause. */
static int
session_config_decoding(struct session_config *t, yaml_document_t *doc, yaml_node_t *map,
    const char *name, char **cause)
{
	yaml_node_pair_t *pair;

	if (map->type != YAML_MAPPING_NODE) {
		session_mark_error(cause, name, (int)map->start_mark.line + 1,
		    (int)map->start_mark.column + 1, "decoding must be a mapping of "
		    "parameter: value");
		return -1;
	}
	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(doc, pair->value);
		const char *key = session_scalar(k), *val = session_scalar(v);
		const struct sampler_param *row;
		char *why = NULL;

		if (key == NULL) {
			session_mark_error(cause, name, (int)k->start_mark.line + 1,
			    (int)k->start_mark.column + 1, "decoding: a key must be a "
			    "parameter name");
			return -1;
		}
		if ((row = sampler_find(key)) == NULL) {
			session_mark_error(cause, name, (int)k->start_mark.line + 1,
			    (int)k->start_mark.column + 1, "decoding: unknown parameter '%s'",
			    key);
			return -1;
		}
		if (val == NULL || sampler_set(&t->params, row, val, &why) != 0) {
			session_mark_error(cause, name, (int)v->start_mark.line + 1,
			    (int)v->start_mark.column + 1, "decoding: %s", why != NULL ? why :
			    "must be a number");
			free(why);
			return -1;
		}
		t->n_decoding++;
	}
	return 0;
}

/* Apply the root mapping to t; -1 with *cause. */
static int
session_config_root(struct session_config *t, yaml_document_t *doc, yaml_node_t *root,
    const char *name, char **cause)
{
	static const char *depths[] = { "auto", "none", "16", "256", "direct" };
	static const char *plots[] = { "braille", "block", "ascii" };
	static const int plot_modes[] = { GRID_PLOT_BRAILLE, GRID_PLOT_BLOCK, GRID_PLOT_ASCII };
	yaml_node_pair_t *pair;

	if (root->type != YAML_MAPPING_NODE) {
		session_mark_error(cause, name, (int)root->start_mark.line + 1,
		    (int)root->start_mark.column + 1, "the config must be a mapping "
		    "(theme, colors, mouse, plot, decoding)");
		return -1;
	}
	for (pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top;
	    pair++) {
		yaml_node_t *k = yaml_document_get_node(doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(doc, pair->value);
		const char *key = session_scalar(k), *val = session_scalar(v);
		int line = (int)v->start_mark.line + 1, col = (int)v->start_mark.column + 1;
		size_t i;

		if (key == NULL || (strcmp(key, "decoding") != 0 && val == NULL)) {
			yaml_node_t *at = key == NULL ? k : v;

			session_mark_error(cause, name, (int)at->start_mark.line + 1,
			    (int)at->start_mark.column + 1, key == NULL ? "a key must be a "
			    "name" : "%s must be a single value", key);
			return -1;
		}
		if (strcmp(key, "theme") == 0) {
			free(t->theme);
			t->theme = xstrdup(val);
		} else if (strcmp(key, "colors") == 0 || strcmp(key, "colours") == 0) {
			for (i = 0; i < 5 && strcmp(val, depths[i]) != 0; i++)
				continue;
			if (i == 5) {
				session_mark_error(cause, name, line, col, "colors must be auto, "
				    "none, 16, 256 or direct, not '%s'", val);
				return -1;
			}
			free(t->colors);
			t->colors = xstrdup(val);
		} else if (strcmp(key, "mouse") == 0) {
			if ((t->mouse = session_bool(val)) < 0) {
				session_mark_error(cause, name, line, col, "mouse must be true or "
				    "false, not '%s'", val);
				return -1;
			}
		} else if (strcmp(key, "plot") == 0) {
			for (i = 0; i < 3 && strcmp(val, plots[i]) != 0; i++)
				continue;
			if (i == 3) {
				session_mark_error(cause, name, line, col, "plot must be braille, "
				    "block or ascii, not '%s'", val);
				return -1;
			}
			t->plot = plot_modes[i];
		} else if (strcmp(key, "decoding") == 0) {
			if (session_config_decoding(t, doc, v, name, cause) != 0)
				return -1;
		} else {
			session_mark_error(cause, name, (int)k->start_mark.line + 1,
			    (int)k->start_mark.column + 1, "unknown key '%s' (theme, colors, "
			    "mouse, plot, decoding)", key);
			return -1;
		}
	}
	return 0;
}

/* Parse config text into c (all or nothing). */
int
session_config_parse(struct session_config *c, const char *text, size_t len,
    const char *name, char **cause)
{
	struct session_config t;
	yaml_parser_t p;
	yaml_document_t doc;
	yaml_node_t *root;
	int rc = 0;

	if (len > SESSION_MAX_CONFIG) {
		util_error(cause, "%s:1:1: the config is larger than %d bytes", name,
		    SESSION_MAX_CONFIG);
		return -1;
	}
	session_config_init(&t);
	t.params = c->params;
	if (!yaml_parser_initialize(&p))
		app_fatal("out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	if (!yaml_parser_load(&p, &doc)) {
		session_yaml_error(&p, name, 0, -1, cause);
		yaml_parser_delete(&p);
		return -1;
	}
	root = yaml_document_get_root_node(&doc);
	if (root != NULL && !(root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0))
		rc = session_config_root(&t, &doc, root, name, cause);
	yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	if (rc != 0) {
		session_config_release(&t);
		return -1;
	}
	session_config_release(c);
	*c = t;
	return 0;
}

/* Load the config file at path. */
int
session_config_load(struct session_config *c, const char *path, char **cause)
{
	char *buf = NULL, *why = NULL;
	size_t len;
	struct stat st;
	int rc;

	if (stat(path, &st) != 0 && errno == ENOENT)
		return 1;
	if (util_read_file(path, SESSION_MAX_CONFIG + 1, &buf, &len, &why) != 0) {
		util_error(cause, "%s", why != NULL ? why : path);
		free(why);
		return -1;
	}
	rc = session_config_parse(c, buf, len, path, cause);
	free(buf);
	return rc;
}

/* Free a transcript's contents. */
void
session_free(struct session *s)
{
	free(s->path);
	free(s->version);
	free(s->model);
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
session_jstr(FILE *f, const char *s)
{
	json_string(f, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

/* Write a number: the shortest of 15 to 17 digits that reads back the same; null if not finite. */
static void
session_num(FILE *f, double v)
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
session_fnum(FILE *f, float v)
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
session_write_detail(FILE *f, const struct session_event *e)
{
	fputs(", \"model_prob\": ", f);
	session_fnum(f, e->model_prob);
	fputs(", \"seconds\": ", f);
	session_num(f, e->seconds);
	fputs(", \"entropy\": ", f);
	session_fnum(f, e->entropy);
	fputs(", \"p_bksp\": ", f);
	session_fnum(f, e->p_bksp);
	fputs(", \"top\": [", f);
	for (int k = 0; k < e->n_top; k++) {
		fprintf(f, "%s{\"id\": %d, \"prob\": ", k ? ", " : "", e->top[k].id);
		session_fnum(f, e->top[k].prob);
		fputc('}', f);
	}
	fputc(']', f);
}

/* Write s as JSON lines. */
void
session_write(FILE *f, const struct session *s)
{
	fprintf(f, "{\"type\": \"header\", \"format\": %d, \"version\": ", SESSION_FORMAT);
	session_jstr(f, s->version);
	fputs(", \"model\": ", f);
	session_jstr(f, s->model);
	fprintf(f, ", \"model_hash\": \"%016" PRIx64 "\", \"weights_version\": %ld, \"time\": ",
	    s->model_hash, s->weights_version);
	session_jstr(f, s->time);
	fputs(", \"prompt\": ", f);
	session_jstr(f, s->prompt);
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
			session_num(f, v);
		else if (row->type == SAMPLER_INT64) /* exactly: a double loses a big seed */
			fprintf(f, "%" PRId64, *(const int64_t *)(const void *)
			    ((const char *)&s->params + row->offset));
		else
			fprintf(f, "%lld", (long long)v);
	}
	fprintf(f, "}, \"seed\": %" PRIu64 "}\n", s->seed);
	for (size_t i = 0; i < s->n; i++) {
		const struct session_event *e = &s->ev[i];

		fprintf(f, "{\"type\": \"%s\", \"id\": %d, \"text\": ", e->erase ? "erase" :
		    "append", e->id);
		json_string(f, e->text != NULL ? e->text : "", e->len);
		fprintf(f, ", \"slot\": %d, \"prob\": ", e->slot);
		session_num(f, e->prob);
		if (e->detail)
			session_write_detail(f, e);
		fputs("}\n", f);
	}
	if (s->stopped) {
		fputs("{\"type\": \"stop\", \"reason\": ", f);
		session_jstr(f, s->reason);
		fprintf(f, ", \"generated\": %d, \"erased\": %d, \"seconds\": ", s->n_generated,
		    s->n_erased);
		session_num(f, s->seconds);
		if (s->stop_detail) {
			fputs(", \"prefill_seconds\": ", f);
			session_num(f, s->prefill_seconds);
			fputs(", \"elapsed\": ", f);
			session_num(f, s->elapsed);
		}
		fputs("}\n", f);
	}
}

/* One line being read: the document, its root, where it is. */
struct session_line {
	yaml_document_t *doc;
	yaml_node_t *root;
	const char *name;
	int line;
	char **cause;
};

/* The value of key in the line's root mapping, or NULL. */
static yaml_node_t *
session_get(struct session_line *l, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *pair;

	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		const char *k = session_scalar(yaml_document_get_node(l->doc, pair->key));

		if (k != NULL && strcmp(k, key) == 0)
			return yaml_document_get_node(l->doc, pair->value);
	}
	return NULL;
}

/* Report a problem with a field of the line (at node n, or the line's start). */
static int
session_field_error(struct session_line *l, yaml_node_t *n, const char *key, const char *what)
{
	session_mark_error(l->cause, l->name, l->line, n != NULL ? (int)n->start_mark.column + 1 :
	    1, "\"%s\" %s", key, what);
	return -1;
}

/* A required JSON string field: *out malloc'd, *len (may be NULL) its length. */
static int
session_get_str(struct session_line *l, yaml_node_t *map, const char *key, char **out,
    size_t *len)
{
	yaml_node_t *n = session_get(l, map, key);

	if (n == NULL)
		return session_field_error(l, NULL, key, "is missing");
	if (n->type != YAML_SCALAR_NODE || (n->data.scalar.style !=
	    YAML_DOUBLE_QUOTED_SCALAR_STYLE && n->data.scalar.style !=
	    YAML_SINGLE_QUOTED_SCALAR_STYLE))
		return session_field_error(l, n, key, "must be a string");
	*out = xmalloc(n->data.scalar.length + 1);
	memcpy(*out, n->data.scalar.value, n->data.scalar.length);
	(*out)[n->data.scalar.length] = '\0';
	if (len != NULL)
		*len = n->data.scalar.length;
	return 0;
}

/* A required number field (null gives -inf when null_ok). */
static int
session_get_num(struct session_line *l, yaml_node_t *map, const char *key, double *out,
    int null_ok)
{
	yaml_node_t *n = session_get(l, map, key);
	const char *s = session_scalar(n);
	char *end;

	if (n == NULL)
		return session_field_error(l, NULL, key, "is missing");
	if (s == NULL || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return session_field_error(l, n, key, "must be a number");
	if (null_ok && strcmp(s, "null") == 0) {
		*out = -INFINITY;
		return 0;
	}
	errno = 0;
	*out = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(*out))
		return session_field_error(l, n, key, "must be a number");
	return 0;
}

/* A required integer field in [min, max]. */
static int
session_get_int(struct session_line *l, yaml_node_t *map, const char *key, long long min,
    long long max, long long *out)
{
	yaml_node_t *n = session_get(l, map, key);
	const char *s = session_scalar(n);
	char *end;

	if (n == NULL)
		return session_field_error(l, NULL, key, "is missing");
	errno = 0;
	if (s == NULL || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
	    (*out = strtoll(s, &end, 10), end == s) || *end != '\0' || errno != 0 ||
	    *out < min || *out > max)
		return session_field_error(l, n, key, "must be a whole number in range");
	return 0;
}

/* Read the header line into s. */
static int
session_parse_header(struct session *s, struct session_line *l)
{
	yaml_node_t *params, *n;
	char *hash = NULL, *end;
	long long v;
	const char *seed;

	if (session_get_int(l, l->root, "format", 1, SESSION_FORMAT, &v) != 0)
		return -1;
	s->format = (int)v;
	if (
	    session_get_str(l, l->root, "version", &s->version, NULL) != 0 ||
	    session_get_str(l, l->root, "model", &s->model, NULL) != 0 ||
	    session_get_str(l, l->root, "model_hash", &hash, NULL) != 0)
		return -1;
	s->model_hash = strtoull(hash, &end, 16);
	if (strlen(hash) != 16 || *end != '\0' || !isxdigit((unsigned char)hash[0])) {
		free(hash);
		return session_field_error(l, session_get(l, l->root, "model_hash"), "model_hash",
		    "must be 16 hexadecimal digits");
	}
	free(hash);
	if (session_get_int(l, l->root, "weights_version", 0, LONG_MAX, &v) != 0)
		return -1;
	s->weights_version = (long)v;
	if (session_get_str(l, l->root, "time", &s->time, NULL) != 0 ||
	    session_get_str(l, l->root, "prompt", &s->prompt, NULL) != 0)
		return -1;
	if (session_get(l, l->root, "n_prompt") != NULL) {
		if (session_get_int(l, l->root, "n_prompt", 1, INT32_MAX, &v) != 0)
			return -1;
		s->n_prompt = (int)v;
	}
	if ((n = session_get(l, l->root, "tokenizer_hash")) != NULL) {
		if (session_get_str(l, l->root, "tokenizer_hash", &hash, NULL) != 0)
			return -1;
		s->tokenizer_hash = strtoull(hash, &end, 16);
		if (strlen(hash) != 16 || *end != '\0' || !isxdigit((unsigned char)hash[0])) {
			free(hash);
			return session_field_error(l, n, "tokenizer_hash",
			    "must be 16 hexadecimal digits");
		}
		free(hash);
	}
	if ((n = session_get(l, l->root, "params_changed")) != NULL) {
		const char *b = session_scalar(n);

		if (b == NULL || (strcmp(b, "true") != 0 && strcmp(b, "false") != 0))
			return session_field_error(l, n, "params_changed", "must be true or false");
		s->params_changed = strcmp(b, "true") == 0;
	}
	params = session_get(l, l->root, "params");
	if (params == NULL || params->type != YAML_MAPPING_NODE)
		return session_field_error(l, params, "params", params == NULL ? "is missing" :
		    "must be an object");
	sampler_defaults(&s->params);
	for (size_t i = 0; i < sampler_table_len; i++) {
		const struct sampler_param *row = &sampler_table[i];
		char *why = NULL;
		const char *text;
		double d;

		/* The number's own text: a double would round a 64-bit seed. */
		if (session_get_num(l, params, row->name, &d, isinf(row->min)) != 0)
			return -1;
		text = isinf(d) ? "-inf" : session_scalar(session_get(l, params, row->name));
		if (sampler_set(&s->params, row, text, &why) != 0) {
			session_field_error(l, session_get(l, params, row->name), row->name, why);
			free(why);
			return -1;
		}
	}
	n = session_get(l, l->root, "seed");
	seed = session_scalar(n);
	errno = 0;
	if (seed == NULL || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || seed[0] == '-' ||
	    (s->seed = strtoull(seed, &end, 10), end == seed) || *end != '\0' || errno != 0)
		return session_field_error(l, n, "seed", n == NULL ? "is missing" :
		    "must be a whole number >= 0");
	return 0;
}

/* Read an event's step details (format 2): all of them or none. */
static int
session_parse_detail(struct session_event *e, struct session_line *l)
{
	yaml_node_t *top = session_get(l, l->root, "top");
	yaml_node_item_t *it;
	double d;
	long long v;

	if (top == NULL && session_get(l, l->root, "model_prob") == NULL)
		return 0;
	e->detail = 1;
	if (session_get_num(l, l->root, "model_prob", &d, 0) != 0)
		return -1;
	e->model_prob = (float)d;
	if (session_get_num(l, l->root, "seconds", &e->seconds, 0) != 0 ||
	    session_get_num(l, l->root, "entropy", &d, 0) != 0)
		return -1;
	e->entropy = (float)d;
	if (session_get_num(l, l->root, "p_bksp", &d, 0) != 0)
		return -1;
	e->p_bksp = (float)d;
	if (top == NULL || top->type != YAML_SEQUENCE_NODE)
		return session_field_error(l, top, "top", top == NULL ? "is missing" :
		    "must be a list of {\"id\", \"prob\"}");
	for (it = top->data.sequence.items.start; it < top->data.sequence.items.top; it++) {
		yaml_node_t *item = yaml_document_get_node(l->doc, *it);

		if (e->n_top == GENERATE_TOP)
			return session_field_error(l, item, "top", "has more than "
			    "8 alternatives");
		if (item->type != YAML_MAPPING_NODE)
			return session_field_error(l, item, "top", "must be a list of "
			    "{\"id\", \"prob\"}");
		if (session_get_int(l, item, "id", 0, INT32_MAX, &v) != 0 ||
		    session_get_num(l, item, "prob", &d, 0) != 0)
			return -1;
		e->top[e->n_top].id = (int)v;
		e->top[e->n_top++].prob = (float)d;
	}
	return 0;
}

/* Read an append or erase line. */
static int
session_parse_event(struct session *s, struct session_line *l, int erase)
{
	struct session_event e = { .erase = erase };
	long long v;

	if (session_get_int(l, l->root, "id", 0, INT32_MAX, &v) != 0)
		return -1;
	e.id = (int)v;
	if (session_get_int(l, l->root, "slot", 0, INT32_MAX, &v) != 0)
		return -1;
	e.slot = (int)v;
	if (session_get_num(l, l->root, "prob", &e.prob, 0) != 0 ||
	    session_parse_detail(&e, l) != 0 ||
	    session_get_str(l, l->root, "text", &e.text, &e.len) != 0)
		return -1;
	s->ev = xrealloc(s->ev, (s->n + 1) * sizeof *s->ev);
	s->ev[s->n++] = e;
	return 0;
}

/* Read the stop line. */
static int
session_parse_stop(struct session *s, struct session_line *l)
{
	long long v;

	if (session_get_str(l, l->root, "reason", &s->reason, NULL) != 0 ||
	    session_get_int(l, l->root, "generated", 0, INT32_MAX, &v) != 0)
		return -1;
	s->n_generated = (int)v;
	if (session_get_int(l, l->root, "erased", 0, INT32_MAX, &v) != 0)
		return -1;
	s->n_erased = (int)v;
	if (session_get_num(l, l->root, "seconds", &s->seconds, 0) != 0)
		return -1;
	if (session_get(l, l->root, "prefill_seconds") != NULL) {
		if (session_get_num(l, l->root, "prefill_seconds", &s->prefill_seconds, 0) != 0 ||
		    session_get_num(l, l->root, "elapsed", &s->elapsed, 0) != 0)
			return -1;
		s->stop_detail = 1;
	}
	s->stopped = 1;
	return 0;
}

/* Parse one line (number line, len bytes) into s. */
static int
session_parse_line(struct session *s, const char *text, size_t len, const char *name,
    int line, char **cause)
{
	yaml_parser_t p;
	yaml_document_t doc;
	struct session_line l = { &doc, NULL, name, line, cause };
	yaml_node_t *tn;
	const char *type;
	int rc = -1;

	if (!yaml_parser_initialize(&p))
		app_fatal("out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	if (!yaml_parser_load(&p, &doc)) {
		session_yaml_error(&p, name, line - 1, (long)len, cause);
		yaml_parser_delete(&p);
		return -1;
	}
	l.root = yaml_document_get_root_node(&doc);
	if (l.root == NULL || l.root->type != YAML_MAPPING_NODE ||
	    l.root->data.mapping.style != YAML_FLOW_MAPPING_STYLE) {
		session_mark_error(cause, name, line, 1, "not a JSON object");
		goto out;
	}
	tn = session_get(&l, l.root, "type");
	type = session_scalar(tn);
	if (type == NULL) {
		session_field_error(&l, tn, "type", tn == NULL ? "is missing" : "must be a string");
		goto out;
	}
	if (line == 1 && strcmp(type, "header") != 0) {
		session_mark_error(cause, name, line, (int)tn->start_mark.column + 1,
		    "the first line must be the header (type \"header\"), not \"%s\"", type);
		goto out;
	}
	if (s->stopped) {
		session_mark_error(cause, name, line, 1, "a line after the stop line");
		goto out;
	}
	if (strcmp(type, "header") == 0) {
		if (line != 1)
			session_mark_error(cause, name, line, (int)tn->start_mark.column + 1,
			    "a second header");
		else
			rc = session_parse_header(s, &l);
	} else if (strcmp(type, "append") == 0 || strcmp(type, "erase") == 0)
		rc = session_parse_event(s, &l, type[0] == 'e');
	else if (strcmp(type, "stop") == 0)
		rc = session_parse_stop(s, &l);
	else
		session_mark_error(cause, name, line, (int)tn->start_mark.column + 1,
		    "unknown line type \"%s\" (header, append, erase, stop)", type);
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	return rc;
}

/*
 * Check that the events replay: an append fills the next slot, an erase
 * empties the last one (never the prompt's) and names the token there.
 * Format 1 has no n_prompt: the first event's slot gives it.
 */
static int
session_check_slots(struct session *s, const char *name, char **cause)
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
		const struct session_event *e = &s->ev[i];
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
session_parse(struct session *s, const char *text, size_t len, const char *name,
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
		if (nl > p && session_parse_line(s, p, (size_t)(nl - p), name, line, cause) != 0) {
			session_free(s);
			return -1;
		}
		if (nl == p) {
			session_free(s);
			util_error(cause, "%s:%d:1: an empty line", name, line);
			return -1;
		}
		p = nl + 1;
	}
	if (line == 0) {
		util_error(cause, "%s:1:1: empty file: no header line", name);
		return -1;
	}
	if (session_check_slots(s, name, cause) != 0) {
		session_free(s);
		return -1;
	}
	s->path = xstrdup(name);
	return 0;
}

/* Read a transcript file. */
int
session_load(struct session *s, const char *path, char **cause)
{
	char *buf = NULL, *why = NULL;
	size_t len;
	int rc;

	memset(s, 0, sizeof *s);
	if (util_read_file(path, SESSION_MAX_FILE, &buf, &len, &why) != 0) {
		util_error(cause, "%s", why != NULL ? why : path);
		free(why);
		return -1;
	}
	rc = session_parse(s, buf, len, path, cause);
	free(buf);
	return rc;
}

/* The text after the events. */
char *
session_final_text(const struct session *s, size_t *len)
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

/* Bytes for a message: quoted, control bytes escaped, at most 40 of them. */
static void
session_quote(char *buf, size_t size, const char *text, size_t len)
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
session_stop_reason(const char *name)
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
session_other_tokenizer(const struct session *s, const char *name, size_t line,
    const char *what, char **cause)
{
	util_error(cause, "%s:%zu:1: %s: the session was made with another tokenizer "
	    "(model %s), so its token ids would show the wrong text here; open it with "
	    "that model (seqmatch ui --model %s --session FILE), or read its text with "
	    "'seqmatch session export FILE --markdown'", name, line, what, s->model, s->model);
}

/* Turn a transcript into an event log. */
int
session_to_log(const struct session *s, const struct tokenizer *tok, struct ui_log *log,
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
		session_other_tokenizer(s, name, 1, what, cause);
		return -1;
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct session_event *e = &s->ev[i];
		const uint8_t *piece;
		size_t len;

		if (e->id >= V - 1) {
			snprintf(what, sizeof what, "token %d is not an ordinary token of this "
			    "model's %d", e->id, V);
			session_other_tokenizer(s, name, i + 2, what, cause);
			return -1;
		}
		piece = tokenizer_piece(tok, e->id, &len);
		if (len != e->len || memcmp(piece, e->text, len) != 0) {
			session_quote(a, sizeof a, (const char *)piece, len);
			session_quote(b, sizeof b, e->text, e->len);
			snprintf(what, sizeof what, "token %d is %s here but %s in the session",
			    e->id, a, b);
			session_other_tokenizer(s, name, i + 2, what, cause);
			return -1;
		}
		for (int k = 0; k < e->n_top; k++) {
			if (e->top[k].id > V) {
				snprintf(what, sizeof what, "alternative token %d is past this "
				    "model's %d", e->top[k].id, V);
				session_other_tokenizer(s, name, i + 2, what, cause);
				return -1;
			}
		}
	}
	if (s->stopped && (reason = session_stop_reason(s->reason)) < 0) {
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
		const struct session_event *e = &s->ev[i];

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

/* A code fence longer than any run of backticks in text. */
static void
session_fence(FILE *f, const char *text, size_t len, const char *info)
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

/* Write text inside a Markdown table cell (pipes, newlines and backticks escaped). */
static void
session_cell(FILE *f, const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '|')
			fputs("\\|", f);
		else if (text[i] == '`')
			fputs("\\`", f);
		else if (text[i] == '\n')
			fputs("\\n", f);
		else if (text[i] == '\t')
			fputs("\\t", f);
		else if ((unsigned char)text[i] < 0x20)
			fprintf(f, "\\x%02x", (unsigned char)text[i]);
		else
			fputc(text[i], f);
	}
}

/* Write text in a fenced block. */
static void
session_block(FILE *f, const char *text, size_t len)
{
	session_fence(f, text, len, "text");
	fwrite(text, 1, len, f);
	if (len == 0 || text[len - 1] != '\n')
		fputc('\n', f);
	session_fence(f, text, len, "");
}

/* Write s as Markdown. */
void
session_markdown(FILE *f, const struct session *s)
{
	size_t len, k = 0;
	char *text = session_final_text(s, &len);

	fputs("# seqmatch session\n\n| Setting | Value |\n|---|---|\n", f);
	fputs("| model | ", f);
	session_cell(f, s->model, strlen(s->model));
	fprintf(f, " |\n| model hash | %016" PRIx64 " |\n| weights version | %ld |\n",
	    s->model_hash, s->weights_version);
	fputs("| program version | ", f);
	session_cell(f, s->version, strlen(s->version));
	fputs(" |\n| time | ", f);
	session_cell(f, s->time, strlen(s->time));
	fprintf(f, " |\n| seed used | %" PRIu64 " |\n", s->seed);
	if (s->params_changed)
		fputs("| parameters | changed during the run: below are the starting ones |\n", f);
	for (size_t i = 0; i < sampler_table_len; i++) {
		double v = sampler_get(&s->params, &sampler_table[i]);

		fprintf(f, "| %s | ", sampler_table[i].name);
		if (sampler_table[i].type == SAMPLER_DOUBLE)
			fprintf(f, isinf(v) ? "-inf" : "%.6g", v);
		else
			fprintf(f, "%lld", (long long)v);
		fputs(" |\n", f);
	}
	if (s->stopped)
		fprintf(f, "| stop | %s: %d tokens, %d erased, %.2f s |\n", s->reason,
		    s->n_generated, s->n_erased, s->seconds);
	else
		fputs("| stop | (none: the transcript ends early) |\n", f);
	fputs("\n## Prompt\n\n", f);
	session_block(f, s->prompt, strlen(s->prompt));
	fputs("\n## Text\n\n", f);
	session_block(f, text, len);
	fputs("\n## Backspaces\n\n", f);
	for (size_t i = 0; i < s->n; i++) {
		if (!s->ev[i].erase)
			continue;
		if (k++ == 0)
			fputs("| # | Event | Slot | Erased | P |\n|---|---|---|---|---|\n", f);
		fprintf(f, "| %zu | %zu | %d | `", k, i + 1, s->ev[i].slot);
		session_cell(f, s->ev[i].text, s->ev[i].len);
		fprintf(f, "` | %.4f |\n", s->ev[i].prob);
	}
	if (k == 0)
		fputs("None.\n", f);
	free(text);
}

/* Save a finished generation. */
int
session_save_log(const char *dir, const struct ui_log *log, const struct tokenizer *tok,
    const struct sampler_params *params, const char *model_path, uint64_t model_hash,
    long weights_version, char **path, char **cause)
{
	struct session s;
	char stamp[32], iso[64], *file = NULL, *buf = NULL;
	size_t size = 0;
	time_t now = time(NULL);
	struct tm tm;
	FILE *f;
	int rc;

	memset(&s, 0, sizeof s);
	localtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
	strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%S%z", &tm);
	s.version = xstrdup(PACKAGE_VERSION);
	s.model = xstrdup(model_path != NULL ? model_path : "");
	s.model_hash = model_hash;
	s.weights_version = weights_version;
	s.time = xstrdup(iso);
	s.prompt = xstrdup(log->prompt != NULL ? log->prompt : "");
	s.params = *params;
	s.seed = log->seed;
	s.params_changed = log->params_changed;
	s.n_prompt = log->n_prompt >= 1 ? log->n_prompt : -1;
	s.tokenizer_hash = session_tokenizer_hash(tok);
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
	f = open_memstream(&buf, &size);
	if (f == NULL)
		app_fatal("out of memory");
	session_write(f, &s);
	if (fclose(f) != 0)
		app_fatal("out of memory");
	session_free(&s);
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
		if (asprintf(&file, "%s/%s-%" PRIu64 "%s.jsonl", dir, stamp, log->seed, extra) < 0)
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
session_tokenizer_hash(const struct tokenizer *tok)
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
session_peek(struct session_entry *e)
{
	struct session s;
	char *buf = NULL, *why = NULL;
	const char *last;
	size_t len;
	int line = 1;

	memset(&s, 0, sizeof s);
	s.n_prompt = -1;
	if (util_read_file(e->path, SESSION_MAX_FILE, &buf, &len, &why) != 0) {
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
	else if (session_parse_line(&s, buf, strcspn(buf, "\n"), e->path, 1, &e->error) != 0)
		;
	else if (line > 1 && session_parse_line(&s, last, (size_t)(buf + len - last), e->path, line,
	    &e->error) != 0)
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
	}
	session_free(&s);
	free(buf);
}

/* Newest first: ids start with the time; version order puts -10 after -9. */
static int
session_entry_cmp(const void *a, const void *b)
{
	return strverscmp(((const struct session_entry *)b)->id,
	    ((const struct session_entry *)a)->id);
}

/* The sessions in dir. */
int
session_list(const char *dir, struct session_entry **out, size_t *n, char **cause)
{
	struct session_entry *v = NULL;
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
		session_peek(&v[i]);
	if (count > 1)
		qsort(v, count, sizeof *v, session_entry_cmp);
	*out = v;
	*n = count;
	return 0;
}

/* Free a list. */
void
session_list_free(struct session_entry *e, size_t n)
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
session_resolve(const char *dir, const char *id_or_file, char **cause)
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
