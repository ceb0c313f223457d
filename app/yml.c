/*
 * yml.c: the bounded YAML tree, diagnostics and "did you mean" that every
 * YAML (and JSON lines) reader of app/ shares.
 *
 * How parsing works. libyaml's event API feeds a small tree of our own, so
 * that we, not libyaml, decide what aliases cost: an alias is a pointer to its
 * anchor's finished node (an alias inside its own anchor is an undefined
 * alias, so there are no cycles), each node carries its "weight" (how many
 * nodes it stands for with aliases expanded), and the parse stops when the
 * nesting passes the depth limit, the aliases the alias limit or any weight
 * the node limit: a billion-laughs file is refused after a few events instead
 * of being walked. libyaml's marks are zero-based; the tree's are one-based.
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "yml.h"

/* An anchor defined so far. */
struct yml_anchor {
	char *name;
	struct yml_node *node;
};

/* A parse in progress. */
struct yml_parser {
	struct yml_doc *doc;
	struct yml_error *err;
	const char *what;
	int max_depth, max_aliases;
	size_t max_nodes;
};

/* ---- Diagnostics ---- */

/* Format the message, control bytes as '?'. */
static char *
yml_vmessage(const char *name, int line, int col, const char *fmt, va_list ap)
{
	char *msg, *out;
	int n;

	if (vasprintf(&msg, fmt, ap) < 0)
		return NULL;
	if (line > 0)
		n = asprintf(&out, "%s:%d:%d: %s", name, line, col, msg);
	else
		n = asprintf(&out, "%s: %s", name, msg);
	free(msg);
	if (n < 0)
		return NULL;
	/* Names in messages come from the file: keep control bytes off the terminal. */
	for (char *p = out; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
	return out;
}

/* "name:line:col: message". */
char *
yml_message(const char *name, int line, int col, const char *fmt, ...)
{
	va_list ap;
	char *out;

	va_start(ap, fmt);
	out = yml_vmessage(name, line, col, fmt, ap);
	va_end(ap);
	return out;
}

/* The message into *cause. */
int
yml_diag(char **cause, const char *name, int line, int col, const char *fmt, ...)
{
	va_list ap;

	if (cause == NULL)
		return -1;
	va_start(ap, fmt);
	free(*cause);
	*cause = yml_vmessage(name, line, col, fmt, ap);
	va_end(ap);
	return -1;
}

/* Record the parse's (first) problem at line:col. */
static void __attribute__((format(printf, 4, 5)))
yml_fail(struct yml_parser *p, int line, int col, const char *fmt, ...)
{
	va_list ap;

	if (p->err->msg[0] != '\0' || p->err->oom)
		return;
	p->err->line = line;
	p->err->col = col;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
	va_end(ap);
}

/* ---- Did you mean ---- */

/* Edit distance with adjacent transpositions (optimal string alignment), case-blind. */
static int
yml_distance(const char *a, const char *b)
{
	int d[3][YML_NAME_MAX + 1];
	size_t la = strlen(a), lb = strlen(b);

	if (la > YML_NAME_MAX || lb > YML_NAME_MAX)
		return INT_MAX;
	/* Rows i-2, i-1 and i, kept in a ring of three. */
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int *cur = d[i % 3], *prev = d[(i - 1) % 3], *prev2 = d[(i + 1) % 3];

		cur[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int cost = tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]);
			int v = prev[j] + 1;

			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (prev[j - 1] + cost < v)
				v = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
		}
	}
	return d[la % 3][lb];
}

/* Start a suggestion for word. */
void
yml_suggest_init(struct yml_suggest *s, const char *word)
{
	s->word = word;
	s->best = NULL;
	s->dist = INT_MAX;
}

/* Keep cand if it is closer than the best so far. */
void
yml_suggest_add(struct yml_suggest *s, const char *cand)
{
	int d = yml_distance(s->word, cand);

	if (d < s->dist) {
		s->dist = d;
		s->best = cand;
	}
}

/* Close enough: at most a third of the word (at least 2) and not the whole word. */
const char *
yml_suggest_text(const struct yml_suggest *s, char *buf, size_t size)
{
	int limit = (int)strlen(s->word) / 3;

	if (limit < 2)
		limit = 2;
	if (size > 0)
		buf[0] = '\0';
	if (s->best == NULL || s->dist > limit || s->dist >= (int)strlen(s->word))
		return size > 0 ? buf : "";
	snprintf(buf, size, " (did you mean '%s'?)", s->best);
	return buf;
}

/* Suggestion from a NULL-terminated list. */
const char *
yml_suggest_list(const char *word, const char *const *names, char *buf, size_t size)
{
	struct yml_suggest s;

	yml_suggest_init(&s, word);
	for (size_t i = 0; names[i] != NULL; i++)
		yml_suggest_add(&s, names[i]);
	return yml_suggest_text(&s, buf, size);
}

/* ---- The tree ---- */

/* Free a document. */
void
yml_doc_release(struct yml_doc *doc)
{
	struct yml_node *n, *next;

	for (n = doc->all; n != NULL; n = next) {
		next = n->next;
		free(n->value);
		free(n->kids);
		free(n->alias);
		free(n);
	}
	for (size_t i = 0; i < doc->nanchors; i++)
		free(doc->anchors[i].name);
	free(doc->anchors);
	memset(doc, 0, sizeof *doc);
}

/* A one-based position from a zero-based libyaml mark (saturated). */
static int
yml_pos(size_t v)
{
	return v > (size_t)INT_MAX - 1 ? INT_MAX : (int)v + 1;
}

/* A new node at a libyaml mark. */
static struct yml_node *
yml_node_new(struct yml_parser *p, enum yml_type type, yaml_mark_t mark)
{
	struct yml_node *n = calloc(1, sizeof *n);

	if (n == NULL) {
		p->err->oom = 1;
		return NULL;
	}
	n->type = type;
	n->line = yml_pos(mark.line);
	n->col = yml_pos(mark.column);
	n->weight = 1;
	n->next = p->doc->all;
	p->doc->all = n;
	p->doc->nnodes++;
	return n;
}

/* Append a kid to a collection node. */
static int
yml_node_add(struct yml_parser *p, struct yml_node *parent, struct yml_node *kid)
{
	if (parent->nkids == parent->capkids) {
		size_t cap = parent->capkids ? parent->capkids * 2 : 4;
		struct yml_node **kids = realloc(parent->kids, cap * sizeof *kids);

		if (kids == NULL) {
			p->err->oom = 1;
			return -1;
		}
		parent->kids = kids;
		parent->capkids = cap;
	}
	parent->kids[parent->nkids++] = kid;
	parent->weight += kid->weight; /* both <= max_nodes: no overflow */
	return 0;
}

/* Remember an anchor (a later one with the same name wins, as in YAML). */
static int
yml_anchor_add(struct yml_parser *p, const char *name, struct yml_node *node)
{
	struct yml_doc *doc = p->doc;
	struct yml_anchor *a = realloc(doc->anchors, (doc->nanchors + 1) * sizeof *a);

	if (a == NULL) {
		p->err->oom = 1;
		return -1;
	}
	doc->anchors = a;
	if ((a[doc->nanchors].name = strdup(name)) == NULL) {
		p->err->oom = 1;
		return -1;
	}
	a[doc->nanchors++].node = node;
	return 0;
}

/* The node an anchor names, or NULL. */
static struct yml_node *
yml_anchor_find(struct yml_doc *doc, const char *name)
{
	for (size_t i = doc->nanchors; i-- > 0;) {
		if (strcmp(doc->anchors[i].name, name) == 0)
			return doc->anchors[i].node;
	}
	return NULL;
}

/* Line and column (1-based) of a byte offset in buf. */
static void
yml_offset_position(const unsigned char *buf, size_t len, size_t offset, int *line, int *col)
{
	size_t start = 0;
	int l = 1;

	if (offset > len)
		offset = len;
	for (size_t i = 0; i < offset; i++) {
		if (buf[i] == '\n') {
			l++;
			start = i + 1;
		}
	}
	*line = l;
	*col = (int)(offset - start + 1);
}

/* Record libyaml's error. */
static void
yml_libyaml_error(struct yml_parser *p, yaml_parser_t *yp, const unsigned char *buf,
    size_t len)
{
	const char *problem = yp->problem != NULL ? yp->problem : "bad input";
	int line, col;

	p->err->syntax = 1;
	p->err->problem = yp->problem;
	p->err->context = yp->context;
	switch (yp->error) {
	case YAML_MEMORY_ERROR:
		p->err->oom = 1;
		return;
	case YAML_READER_ERROR:
		yml_offset_position(buf, len, yp->problem_offset, &line, &col);
		if (yp->problem_value != -1)
			yml_fail(p, line, col, "not a YAML text file: %s (byte 0x%02x)", problem,
			    (unsigned)yp->problem_value & 0xff);
		else
			yml_fail(p, line, col, "not a YAML text file: %s", problem);
		return;
	default:
		line = yml_pos(yp->problem_mark.line);
		col = yml_pos(yp->problem_mark.column);
		if (yp->problem == NULL && yp->context != NULL) {
			line = yml_pos(yp->context_mark.line);
			col = yml_pos(yp->context_mark.column);
		}
		if (yp->context != NULL)
			yml_fail(p, line, col, "YAML syntax error: %s %s", yp->context,
			    yp->problem != NULL ? yp->problem : "");
		else
			yml_fail(p, line, col, "YAML syntax error: %s", problem);
		return;
	}
}

/* A scalar event's node. */
static struct yml_node *
yml_scalar_new(struct yml_parser *p, const yaml_event_t *ev)
{
	struct yml_node *n = yml_node_new(p, YML_SCALAR, ev->start_mark);

	if (n == NULL)
		return NULL;
	if ((n->value = malloc(ev->data.scalar.length + 1)) == NULL) {
		p->err->oom = 1;
		return NULL;
	}
	memcpy(n->value, ev->data.scalar.value, ev->data.scalar.length);
	n->value[ev->data.scalar.length] = '\0';
	n->len = ev->data.scalar.length;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
	    ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	if (ev->data.scalar.anchor != NULL &&
	    yml_anchor_add(p, (const char *)ev->data.scalar.anchor, n) != 0)
		return NULL;
	return n;
}

/* An alias event's node; NULL with the problem recorded. */
static struct yml_node *
yml_alias_new(struct yml_parser *p, const yaml_event_t *ev, int line, int col)
{
	const char *name = (const char *)ev->data.alias.anchor;
	struct yml_node *n;

	if (p->max_aliases < 0) {
		yml_fail(p, line, col, "aliases (*%s) are not allowed in %s", name, p->what);
		return NULL;
	}
	if (++p->doc->naliases > (size_t)p->max_aliases) {
		yml_fail(p, line, col, "more than %d aliases", p->max_aliases);
		return NULL;
	}
	if ((n = yml_node_new(p, YML_ALIAS, ev->start_mark)) == NULL)
		return NULL;
	if ((n->alias = strdup(name)) == NULL) {
		p->err->oom = 1;
		return NULL;
	}
	if ((n->target = yml_anchor_find(p->doc, name)) == NULL) {
		yml_fail(p, line, col, "undefined alias '*%s'", name);
		return NULL;
	}
	n->weight = n->target->weight;
	return n;
}

/* Parse a document. */
int
yml_parse(struct yml_doc *doc, const void *buf, size_t len, const struct yml_limits *lim,
    struct yml_error *err)
{
	struct yml_parser p = {
		.doc = doc, .err = err,
		.what = lim != NULL && lim->what != NULL ? lim->what : "a YAML file",
		.max_depth = lim != NULL && lim->max_depth > 0 ? lim->max_depth : YML_MAX_DEPTH,
		.max_aliases = lim != NULL && lim->max_aliases != 0 ? lim->max_aliases :
		    YML_MAX_ALIASES,
		.max_nodes = lim != NULL && lim->max_nodes > 0 ? lim->max_nodes : YML_MAX_NODES,
	};
	struct yml_node **stack;
	char **anchors;
	size_t depth = 0;
	yaml_parser_t parser;
	yaml_event_t ev;
	int ndocs = 0, done = 0, failed = 0;

	memset(doc, 0, sizeof *doc);
	memset(err, 0, sizeof *err);
	stack = calloc((size_t)p.max_depth + 1, sizeof *stack);
	anchors = calloc((size_t)p.max_depth + 1, sizeof *anchors);
	if (stack == NULL || anchors == NULL || !yaml_parser_initialize(&parser)) {
		free(stack);
		free(anchors);
		err->oom = 1;
		return -1;
	}
	yaml_parser_set_input_string(&parser, buf, len);
	while (!done && !failed) {
		struct yml_node *n = NULL;
		const char *anchor;
		int line, col;

		if (!yaml_parser_parse(&parser, &ev)) {
			yml_libyaml_error(&p, &parser, buf, len);
			break;
		}
		line = yml_pos(ev.start_mark.line);
		col = yml_pos(ev.start_mark.column);
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++ndocs > 1)
				yml_fail(&p, line, col, "%s holds one YAML document; this is a "
				    "second one", p.what);
			break;
		case YAML_SCALAR_EVENT:
			n = yml_scalar_new(&p, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (depth >= (size_t)p.max_depth) {
				yml_fail(&p, line, col, "nested deeper than %d levels",
				    p.max_depth);
				break;
			}
			n = yml_node_new(&p, ev.type == YAML_MAPPING_START_EVENT ? YML_MAP :
			    YML_SEQ, ev.start_mark);
			if (n == NULL)
				break;
			if (ev.type == YAML_MAPPING_START_EVENT) {
				anchor = (const char *)ev.data.mapping_start.anchor;
				n->flow = ev.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE;
			} else {
				anchor = (const char *)ev.data.sequence_start.anchor;
				n->flow = ev.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
			}
			anchors[depth] = NULL;
			if (anchor != NULL && (anchors[depth] = strdup(anchor)) == NULL) {
				err->oom = 1;
				break;
			}
			stack[depth++] = n;
			n = NULL; /* attached when it ends */
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth == 0)
				break;
			n = stack[--depth];
			if (anchors[depth] != NULL) {
				yml_anchor_add(&p, anchors[depth], n);
				free(anchors[depth]);
				anchors[depth] = NULL;
			}
			break;
		case YAML_ALIAS_EVENT:
			n = yml_alias_new(&p, &ev, line, col);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (err->oom || err->msg[0] != '\0') {
			failed = 1;
			break;
		}
		if (doc->nnodes > p.max_nodes) {
			yml_fail(&p, line, col, "more than %zu YAML nodes", p.max_nodes);
			failed = 1;
			break;
		}
		if (n == NULL)
			continue;
		if (depth == 0) {
			doc->root = n;
			continue;
		}
		if (yml_node_add(&p, stack[depth - 1], n) < 0) {
			failed = 1;
			break;
		}
		if (stack[depth - 1]->weight > p.max_nodes) {
			if (n->type == YML_ALIAS)
				yml_fail(&p, n->line, n->col, "alias '*%s' expands to too much "
				    "(more than %zu nodes)", n->alias, p.max_nodes);
			else
				yml_fail(&p, n->line, n->col, "more than %zu YAML nodes",
				    p.max_nodes);
			failed = 1;
		}
	}
	while (depth > 0)
		free(anchors[--depth]);
	free(anchors);
	free(stack);
	yaml_parser_delete(&parser);
	if (err->oom && err->msg[0] == '\0')
		snprintf(err->msg, sizeof err->msg, "out of memory");
	return done && !failed ? 0 : -1;
}

/* ---- Reading the tree ---- */

/* Follow an alias to its node. */
const struct yml_node *
yml_deref(const struct yml_node *n)
{
	while (n != NULL && n->type == YML_ALIAS)
		n = n->target;
	return n;
}

/* YAML's null. */
int
yml_is_null(const struct yml_node *n)
{
	n = yml_deref(n);
	return n != NULL && n->type == YML_SCALAR && n->plain && (n->len == 0 ||
	    strcmp(n->value, "~") == 0 || strcasecmp(n->value, "null") == 0);
}

/* A non-null scalar's text. */
const char *
yml_scalar(const struct yml_node *n)
{
	n = yml_deref(n);
	if (n == NULL || n->type != YML_SCALAR || strlen(n->value) != n->len || yml_is_null(n))
		return NULL;
	return n->value;
}

/* What a node is. */
const char *
yml_what(const struct yml_node *n)
{
	n = yml_deref(n);
	if (n == NULL)
		return "nothing";
	switch (n->type) {
	case YML_SEQ:
		return "a list";
	case YML_MAP:
		return "a mapping";
	default:
		return yml_is_null(n) ? "nothing (null)" : "a string";
	}
}

/* The value of key in a mapping. */
const struct yml_node *
yml_get(const struct yml_node *map, const char *key)
{
	map = yml_deref(map);
	if (map == NULL || map->type != YML_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < map->nkids; i += 2) {
		const struct yml_node *k = yml_deref(map->kids[i]);

		if (k != NULL && k->type == YML_SCALAR && strcmp(k->value, key) == 0)
			return map->kids[i + 1];
	}
	return NULL;
}

/* Parse, or say where and why not (yml.h). */
int
yml_load(struct yml_doc *doc, const char *name, const void *buf, size_t len,
    const struct yml_limits *lim, char **cause)
{
	struct yml_error err;

	if (yml_parse(doc, buf, len, lim, &err) == 0)
		return 0;
	if (err.oom)
		yml_diag(cause, name, 1, 1, "out of memory reading it");
	else
		yml_diag(cause, name, err.line, err.col, "%s", err.msg);
	yml_doc_release(doc);
	return -1;
}
