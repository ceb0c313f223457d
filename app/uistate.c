/*
 * uistate.c: reading and writing the UI state file (ui.yaml) with libyaml.
 *
 * The file is a small YAML mapping the program writes:
 *
 *     version: 1
 *     theme: gruvbox-dark
 *     panes: [text, decode, inspect, stats, finetune]
 *     zoom: none
 *     focus: text
 *     view: trail
 *     speed: 40
 *
 * It is read through yml.c (no aliases allowed) so that every problem has a
 * position; anything wrong (not YAML, a wrong type, an unknown key or pane, an
 * alias, a newer version) rejects the whole file with "file:line:col:
 * message" and the caller keeps the defaults: nothing is half-applied. A bad
 * file is not overwritten blindly either: the next save keeps it as
 * ui.yaml.bad first.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "util.h"
#include "layout.h"
#include "uistate.h"
#include "yml.h"

#define UISTATE_INT_MAX 1000000 /* view and speed are small indices */

/* The panes the file names, in the order written. */
static const struct {
	int pane;
	const char *name;
} uistate_panes[] = {
	{ LAYOUT_TEXT, "text" },
	{ LAYOUT_DECODE, "decode" },
	{ LAYOUT_INSPECT, "inspect" },
	{ LAYOUT_STATS, "stats" },
	{ LAYOUT_FINETUNE, "finetune" },
};
#define UISTATE_NPANES (sizeof uistate_panes / sizeof uistate_panes[0])

/* The text pane's views, by index (view-text.c has them in this order), NULL-terminated. */
static const char *const uistate_views[] = { "clean", "trail", "timeline", NULL };
#define UISTATE_NVIEWS 3

/* The keys of the file, for "unknown key" messages. */
static const char *const uistate_keys[] = { "version", "theme", "panes", "zoom", "focus",
	"view", "speed", NULL };

/* The defaults. */
void
uistate_init(struct uistate *st)
{
	memset(st, 0, sizeof *st);
	st->panes = LAYOUT_ALL;
	st->zoom = LAYOUT_NONE;
	st->focus = LAYOUT_TEXT;
	st->view = -1;
	st->speed = -1;
}

/* The path from the environment values. */
char *
uistate_path(const char *xdg_state_home, const char *home)
{
	return app_xdg_path(xdg_state_home, home, ".local/state", "seqmatch/ui.yaml");
}

/* A pane's name in the file. */
const char *
uistate_pane_name(int pane)
{
	for (size_t i = 0; i < UISTATE_NPANES; i++)
		if (uistate_panes[i].pane == pane)
			return uistate_panes[i].name;
	return NULL;
}

/* The pane with this name, or -1. */
static int
uistate_pane_find(const char *name)
{
	for (size_t i = 0; i < UISTATE_NPANES; i++)
		if (strcmp(uistate_panes[i].name, name) == 0)
			return uistate_panes[i].pane;
	return -1;
}

/* The parser's state: the file name, the first error. */
struct uistate_parser {
	const char *name;
	char **cause;
};

/* Record an error at a node. */
static int __attribute__((format(printf, 3, 4)))
uistate_error(struct uistate_parser *p, const struct yml_node *n, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		app_fatal("out of memory");
	va_end(ap);
	yml_diag(p->cause, p->name, n->line, n->col, "%s", msg);
	free(msg);
	return -1;
}

/* What a value is, for "expected X, got Y" messages. */
static const char *
uistate_kind(const struct yml_node *n)
{
	switch (n->type) {
	case YML_SEQ:
		return "a list";
	case YML_MAP:
		return "a mapping";
	case YML_SCALAR:
		return yml_is_null(n) ? "nothing" : "a single value";
	default:
		return "something else";
	}
}

/* A whole number in [0, UISTATE_INT_MAX]; -1 if n is not one. */
static int
uistate_int(const struct yml_node *n)
{
	const char *v = n->value;
	char *end;
	long l;

	if (n->type != YML_SCALAR || v[0] < '0' || v[0] > '9')
		return -1;
	errno = 0;
	l = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || l > UISTATE_INT_MAX)
		return -1;
	return (int)l;
}

/* A pane name for zoom or focus (zoom also takes none); -2 when bad (error recorded). */
static int
uistate_pane_value(struct uistate_parser *p, const struct yml_node *n, const char *key,
    int none_ok)
{
	static const char *const names[] = { "none", "text", "decode", "inspect", "stats",
		"finetune", NULL };
	char hint[64];
	int pane;

	if (n->type != YML_SCALAR || yml_is_null(n)) {
		uistate_error(p, n, "%s: expected a pane name (text, decode, inspect, stats, "
		    "finetune%s), got %s", key, none_ok ? " or none" : "", uistate_kind(n));
		return -2;
	}
	if (none_ok && strcmp(n->value, "none") == 0)
		return LAYOUT_NONE;
	pane = uistate_pane_find(n->value);
	if (pane < 0) {
		uistate_error(p, n, "%s: unknown pane '%s'%s; the panes are text, decode, "
		    "inspect, stats, finetune%s", key, n->value, yml_suggest_list(n->value,
		    none_ok ? names : names + 1, hint, sizeof hint), none_ok ? " (or none)" : "");
		return -2;
	}
	return pane;
}

/* The value of panes: a list of pane names. 0, or -1 (error recorded). */
static int
uistate_panes_value(struct uistate_parser *p, const struct yml_node *n, unsigned *panes)
{
	static const char *const names[] = { "text", "decode", "inspect", "stats", "finetune",
		NULL };
	unsigned bits = LAYOUT_BIT(LAYOUT_TEXT); /* the text pane is always on */
	char hint[64];

	if (n->type != YML_SEQ)
		return uistate_error(p, n, "panes: expected a list of pane names such as "
		    "[text, decode], got %s", uistate_kind(n));
	for (size_t i = 0; i < n->nkids; i++) {
		const struct yml_node *item = n->kids[i];
		int pane;

		if (item->type != YML_SCALAR || yml_is_null(item))
			return uistate_error(p, item, "panes: expected a pane name, got %s",
			    uistate_kind(item));
		pane = uistate_pane_find(item->value);
		if (pane < 0)
			return uistate_error(p, item, "panes: unknown pane '%s'%s; the panes are "
			    "text, decode, inspect, stats, finetune", item->value,
			    yml_suggest_list(item->value, names, hint, sizeof hint));
		bits |= LAYOUT_BIT(pane);
	}
	*panes = bits;
	return 0;
}

/* One key's value into st. 0, or -1 (error recorded). */
static int
uistate_value(struct uistate_parser *p, const char *key, const struct yml_node *n,
    struct uistate *st)
{
	char hint[64];
	int v;

	if (strcmp(key, "panes") == 0)
		return uistate_panes_value(p, n, &st->panes);
	if (n->type != YML_SCALAR)
		return uistate_error(p, n, "%s: expected a single value, got %s", key,
		    uistate_kind(n));
	if (strcmp(key, "version") == 0) {
		v = uistate_int(n);
		if (v > UISTATE_VERSION)
			return uistate_error(p, n, "version %d was written by a newer seqmatch "
			    "(this one reads version %d)", v, UISTATE_VERSION);
		if (v != UISTATE_VERSION)
			return uistate_error(p, n, "version: expected %d, got '%s'",
			    UISTATE_VERSION, n->value);
		return 0;
	}
	if (strcmp(key, "theme") == 0) {
		const char *t = n->value;

		if (yml_is_null(n)) {
			st->theme[0] = '\0';
			return 0;
		}
		if (strlen(t) >= sizeof st->theme)
			return uistate_error(p, n, "theme: a name or path of %zu bytes is too "
			    "long (most %zu)", strlen(t), sizeof st->theme - 1);
		for (const char *c = t; *c != '\0'; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				return uistate_error(p, n, "theme: control characters are not "
				    "allowed in a theme name");
		memcpy(st->theme, t, strlen(t) + 1);
		return 0;
	}
	if (strcmp(key, "zoom") == 0 || strcmp(key, "focus") == 0) {
		int zoom = strcmp(key, "zoom") == 0;

		v = uistate_pane_value(p, n, key, zoom);
		if (v == -2)
			return -1;
		*(zoom ? &st->zoom : &st->focus) = v;
		return 0;
	}
	if (strcmp(key, "view") == 0) {
		for (v = 0; v < UISTATE_NVIEWS; v++)
			if (strcmp(n->value, uistate_views[v]) == 0)
				break;
		if (v == UISTATE_NVIEWS)
			return uistate_error(p, n, "view: expected clean, trail or timeline, got "
			    "'%s'%s", n->value, yml_suggest_list(n->value, uistate_views, hint,
			    sizeof hint));
		st->view = v;
		return 0;
	}
	/* speed */
	if ((v = uistate_int(n)) < 0)
		return uistate_error(p, n, "%s: expected a whole number from 0 to %d, got '%s'",
		    key, UISTATE_INT_MAX, n->value);
	st->speed = v;
	return 0;
}

/* The top-level mapping's keys and values into st. 0, or -1 (error recorded). */
static int
uistate_mapping(struct uistate_parser *p, const struct yml_node *map, struct uistate *st)
{
	unsigned seen = 0;
	char hint[64];

	for (size_t j = 0; j + 1 < map->nkids; j += 2) {
		const struct yml_node *k = map->kids[j];
		int i;

		if (k->type != YML_SCALAR)
			return uistate_error(p, k, "expected a key (a name), got %s",
			    uistate_kind(k));
		for (i = 0; uistate_keys[i] != NULL && strcmp(uistate_keys[i], k->value) != 0;
		    i++)
			continue;
		/* Unknown: reported at the key, not at its value. */
		if (uistate_keys[i] == NULL)
			return uistate_error(p, k, "unknown key '%s'%s; the keys are version, "
			    "theme, panes, zoom, focus, view, speed", k->value,
			    yml_suggest_list(k->value, uistate_keys, hint, sizeof hint));
		if (seen & (1u << i))
			return uistate_error(p, k, "'%s' is given twice", k->value);
		seen |= 1u << i;
		if (uistate_value(p, uistate_keys[i], map->kids[j + 1], st) != 0)
			return -1;
	}
	return 0;
}

/* Parse the file's text. */
int
uistate_parse(struct uistate *st, const char *text, size_t len, const char *name,
    char **cause)
{
	static const struct yml_limits limits = {
		.max_aliases = -1, .what = "the UI state file"
	};
	struct uistate_parser p = { name, cause };
	struct uistate tmp = *st;
	struct yml_doc doc;
	const struct yml_node *root;
	int rc = 0;

	if (len > UISTATE_MAX_FILE_SIZE) {
		yml_diag(cause, name, 1, 1, "%zu bytes is too big for a UI state file (most %u)",
		    len, UISTATE_MAX_FILE_SIZE);
		return -1;
	}
	if (memchr(text, '\0', len) != NULL) {
		yml_diag(cause, name, 1, 1, "not a text file (it holds NUL bytes)");
		return -1;
	}
	if (yml_load(&doc, name, text, len, &limits, cause) != 0)
		return -1;
	root = doc.root;
	if (root != NULL && root->type == YML_MAP)
		rc = uistate_mapping(&p, root, &tmp);
	else if (root != NULL && !yml_is_null(root)) /* an empty document sets nothing */
		rc = uistate_error(&p, root, "expected 'key: value' lines, got %s",
		    uistate_kind(root));
	yml_doc_release(&doc);
	if (rc != 0)
		return -1;
	/* A zoomed or focused pane that is switched off means none and the text pane. */
	if (tmp.zoom != LAYOUT_NONE && !(tmp.panes & LAYOUT_BIT(tmp.zoom)))
		tmp.zoom = LAYOUT_NONE;
	if (!(tmp.panes & LAYOUT_BIT(tmp.focus)))
		tmp.focus = LAYOUT_TEXT;
	*st = tmp;
	return 0;
}

/* Read a whole file (at most limit bytes + 1, to see that it is too big). */
static int
uistate_read(const char *path, char **text, size_t *len, char **cause)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL) {
		if (errno == ENOENT)
			return 1;
		util_error(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf = xmalloc(UISTATE_MAX_FILE_SIZE + 2);
	n = fread(buf, 1, UISTATE_MAX_FILE_SIZE + 1, f);
	if (ferror(f)) {
		util_error(cause, "%s: %s", path, strerror(errno));
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

/* Load the file. */
int
uistate_load(struct uistate *st, const char *path, char **cause)
{
	char *text;
	size_t len;
	int rc = uistate_read(path, &text, &len, cause);

	if (rc != 0)
		return rc;
	rc = uistate_parse(st, text, len, path, cause);
	free(text);
	return rc;
}

/* Append a YAML double-quoted string to f. */
static void
uistate_quote(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* The file's text. */
char *
uistate_format(const struct uistate *st)
{
	char *buf = NULL;
	size_t size = 0;
	const char *sep = "";
	FILE *f = open_memstream(&buf, &size);

	if (f == NULL)
		app_fatal("out of memory");
	fprintf(f, "# seqmatch's UI state: written by the program on quit and when a theme\n"
	    "# is picked (F2). Settings you write belong in config.yaml, not here.\n");
	fprintf(f, "version: %d\n", UISTATE_VERSION);
	if (st->theme[0] != '\0') {
		fputs("theme: ", f);
		uistate_quote(f, st->theme);
		fputc('\n', f);
	}
	fputs("panes: [", f);
	for (size_t i = 0; i < UISTATE_NPANES; i++)
		if (uistate_panes[i].pane == LAYOUT_TEXT ||
		    (st->panes & LAYOUT_BIT(uistate_panes[i].pane))) {
			fprintf(f, "%s%s", sep, uistate_panes[i].name);
			sep = ", ";
		}
	fputs("]\n", f);
	fprintf(f, "zoom: %s\n", st->zoom == LAYOUT_NONE || uistate_pane_name(st->zoom) == NULL ?
	    "none" : uistate_pane_name(st->zoom));
	fprintf(f, "focus: %s\n", uistate_pane_name(st->focus) != NULL ?
	    uistate_pane_name(st->focus) : "text");
	if (st->view >= 0 && st->view < UISTATE_NVIEWS)
		fprintf(f, "view: %s\n", uistate_views[st->view]);
	if (st->speed >= 0)
		fprintf(f, "speed: %d\n", st->speed);
	if (fclose(f) != 0)
		app_fatal("out of memory");
	return buf;
}

/* Save the state. */
int
uistate_save(const struct uistate *st, const char *path, char **note, char **cause)
{
	struct uistate old;
	char *dir = xstrdup(path), *slash = strrchr(dir, '/'), *text, *bad = NULL, *why = NULL;
	int rc = -1, moved = 0;

	if (note != NULL)
		*note = NULL;
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (app_mkdirs(dir, cause) != 0) {
			free(dir);
			return -1;
		}
	}
	free(dir);
	text = uistate_format(st);
	/*
	 * A file there we cannot read back is the user's to look at: keep it as
	 * .bad: linked, so that path stays whole until the new file replaces it
	 * (renamed, and renamed back on failure, where links cannot be made).
	 */
	uistate_init(&old);
	if (uistate_load(&old, path, &why) < 0) {
		if (asprintf(&bad, "%s.bad", path) < 0)
			app_fatal("out of memory");
		unlink(bad);
		if (link(path, bad) != 0) {
			if (rename(path, bad) != 0) {
				util_error(cause, "cannot keep the unreadable %s as %s: %s", path,
				    bad, strerror(errno));
				goto out;
			}
			moved = 1;
		}
	}
	if (util_write_file_atomic(path, text, strlen(text), 0600, cause) != 0) {
		if (moved)
			rename(bad, path);
		else if (bad != NULL)
			unlink(bad); /* path still holds the file */
		goto out;
	}
	if (bad != NULL && note != NULL && asprintf(note, "kept the unreadable %s as %s (%s)",
	    path, bad, why != NULL ? why : "?") < 0)
		app_fatal("out of memory");
	rc = 0;
out:
	free(why);
	free(bad);
	free(text);
	return rc;
}
