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
 * It is read with libyaml's event parser so that every problem has a
 * position; anything wrong (not YAML, a wrong type, an unknown key or pane, an
 * alias, a newer version) rejects the whole file with "file:line:col:
 * message" and the caller keeps the defaults: nothing is half-applied. A bad
 * file is not overwritten blindly either: the next save keeps it as
 * ui.yaml.bad first.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "app.h"
#include "util.h"
#include "layout.h"
#include "uistate.h"

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

/* Edit distance of two short words (longer ones count as far apart). */
static int
uistate_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int row[33];

	if (la > 32 || lb > 32)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int diag = row[0];

		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/* " (did you mean 'x'?)" for the closest of words when it is close, else "". */
static const char *
uistate_suggest(const char *word, const char *const *words, char *buf, size_t size)
{
	const char *best = NULL;
	int bd = 3;

	for (size_t i = 0; words[i] != NULL; i++) {
		int d = uistate_distance(word, words[i]);

		if (d < bd) {
			bd = d;
			best = words[i];
		}
	}
	buf[0] = '\0';
	if (best != NULL)
		snprintf(buf, size, " (did you mean '%s'?)", best);
	return buf;
}

/* The parser's state: libyaml, the file name, the first error. */
struct uistate_parser {
	yaml_parser_t yp;
	const char *name;
	char **cause;
	int failed;
};

/* Record an error at a libyaml mark (zero-based; messages are one-based). */
static void __attribute__((format(printf, 3, 4)))
uistate_error(struct uistate_parser *p, yaml_mark_t m, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (p->failed)
		return;
	p->failed = 1;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		app_fatal("out of memory");
	va_end(ap);
	util_error(p->cause, "%s:%zu:%zu: %s", p->name, m.line + 1, m.column + 1, msg);
	free(msg);
}

/* The next event; 0, or -1 with the error recorded (libyaml's own, or an alias). */
static int
uistate_next(struct uistate_parser *p, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&p->yp, ev)) {
		uistate_error(p, p->yp.problem_mark, "not valid YAML: %s",
		    p->yp.problem != NULL ? p->yp.problem : "parse error");
		return -1;
	}
	if (ev->type == YAML_ALIAS_EVENT) {
		uistate_error(p, ev->start_mark, "aliases (*%s) are not allowed in the UI state file",
		    (const char *)ev->data.alias.anchor);
		yaml_event_delete(ev);
		return -1;
	}
	return 0;
}

/* A scalar event's text. */
static const char *
uistate_text(const yaml_event_t *ev)
{
	return (const char *)ev->data.scalar.value;
}

/* Whether a scalar is YAML's null (~, null, or nothing), unquoted. */
static int
uistate_is_null(const yaml_event_t *ev)
{
	const char *v = uistate_text(ev);

	return ev->data.scalar.plain_implicit && (v[0] == '\0' || strcmp(v, "~") == 0 ||
	    strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0);
}

/* What a value event is, for "expected X, got Y" messages. */
static const char *
uistate_kind(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SCALAR_EVENT:
		return uistate_is_null(ev) ? "nothing" : "a single value";
	default:
		return "something else";
	}
}

/* A whole number in [0, UISTATE_INT_MAX]; -1 if ev is not one. */
static int
uistate_int(const yaml_event_t *ev)
{
	const char *v = uistate_text(ev);
	char *end;
	long n;

	if (ev->type != YAML_SCALAR_EVENT || v[0] < '0' || v[0] > '9')
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n > UISTATE_INT_MAX)
		return -1;
	return (int)n;
}

/* A pane name for zoom or focus (zoom also takes none); -2 when bad (error recorded). */
static int
uistate_pane_value(struct uistate_parser *p, const yaml_event_t *ev, const char *key,
    int none_ok)
{
	static const char *const names[] = { "none", "text", "decode", "inspect", "stats",
		"finetune", NULL };
	char hint[64];
	int pane;

	if (ev->type != YAML_SCALAR_EVENT || uistate_is_null(ev)) {
		uistate_error(p, ev->start_mark, "%s: expected a pane name (text, decode, inspect, "
		    "stats, finetune%s), got %s", key, none_ok ? " or none" : "", uistate_kind(ev));
		return -2;
	}
	if (none_ok && strcmp(uistate_text(ev), "none") == 0)
		return LAYOUT_NONE;
	pane = uistate_pane_find(uistate_text(ev));
	if (pane < 0) {
		uistate_error(p, ev->start_mark, "%s: unknown pane '%s'%s; the panes are text, "
		    "decode, inspect, stats, finetune%s", key, uistate_text(ev),
		    uistate_suggest(uistate_text(ev), none_ok ? names : names + 1, hint,
		    sizeof hint), none_ok ? " (or none)" : "");
		return -2;
	}
	return pane;
}

/* The value of panes: a list of pane names. 0, or -1 (error recorded). */
static int
uistate_panes_value(struct uistate_parser *p, yaml_event_t *ev, unsigned *panes)
{
	static const char *const names[] = { "text", "decode", "inspect", "stats", "finetune",
		NULL };
	yaml_event_t item;
	unsigned bits = LAYOUT_BIT(LAYOUT_TEXT); /* the text pane is always on */
	char hint[64];

	if (ev->type != YAML_SEQUENCE_START_EVENT) {
		uistate_error(p, ev->start_mark, "panes: expected a list of pane names such as "
		    "[text, decode], got %s", uistate_kind(ev));
		return -1;
	}
	for (;;) {
		int pane;

		if (uistate_next(p, &item) != 0)
			return -1;
		if (item.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&item);
			break;
		}
		if (item.type != YAML_SCALAR_EVENT || uistate_is_null(&item)) {
			uistate_error(p, item.start_mark, "panes: expected a pane name, got %s",
			    uistate_kind(&item));
			yaml_event_delete(&item);
			return -1;
		}
		pane = uistate_pane_find(uistate_text(&item));
		if (pane < 0) {
			uistate_error(p, item.start_mark, "panes: unknown pane '%s'%s; the panes are "
			    "text, decode, inspect, stats, finetune", uistate_text(&item),
			    uistate_suggest(uistate_text(&item), names, hint, sizeof hint));
			yaml_event_delete(&item);
			return -1;
		}
		bits |= LAYOUT_BIT(pane);
		yaml_event_delete(&item);
	}
	*panes = bits;
	return 0;
}

/* One key's value into st. 0, or -1 (error recorded). */
static int
uistate_value(struct uistate_parser *p, const char *key, yaml_event_t *ev,
    struct uistate *st)
{
	char hint[64];
	int v;

	if (strcmp(key, "panes") == 0)
		return uistate_panes_value(p, ev, &st->panes);
	if (ev->type != YAML_SCALAR_EVENT) {
		uistate_error(p, ev->start_mark, "%s: expected a single value, got %s", key,
		    uistate_kind(ev));
		return -1;
	}
	if (strcmp(key, "version") == 0) {
		v = uistate_int(ev);
		if (v > UISTATE_VERSION) {
			uistate_error(p, ev->start_mark, "version %d was written by a newer "
			    "seqmatch (this one reads version %d)", v, UISTATE_VERSION);
			return -1;
		}
		if (v != UISTATE_VERSION) {
			uistate_error(p, ev->start_mark, "version: expected %d, got '%s'",
			    UISTATE_VERSION, uistate_text(ev));
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "theme") == 0) {
		const char *t = uistate_text(ev);

		if (uistate_is_null(ev)) {
			st->theme[0] = '\0';
			return 0;
		}
		if (strlen(t) >= sizeof st->theme) {
			uistate_error(p, ev->start_mark, "theme: a name or path of %zu bytes is too "
			    "long (most %zu)", strlen(t), sizeof st->theme - 1);
			return -1;
		}
		for (const char *c = t; *c != '\0'; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f) {
				uistate_error(p, ev->start_mark, "theme: control characters are not "
				    "allowed in a theme name");
				return -1;
			}
		memcpy(st->theme, t, strlen(t) + 1);
		return 0;
	}
	if (strcmp(key, "zoom") == 0 || strcmp(key, "focus") == 0) {
		int zoom = strcmp(key, "zoom") == 0;

		v = uistate_pane_value(p, ev, key, zoom);
		if (v == -2)
			return -1;
		*(zoom ? &st->zoom : &st->focus) = v;
		return 0;
	}
	if (strcmp(key, "view") == 0) {
		for (v = 0; v < UISTATE_NVIEWS; v++)
			if (strcmp(uistate_text(ev), uistate_views[v]) == 0)
				break;
		if (v == UISTATE_NVIEWS) {
			uistate_error(p, ev->start_mark, "view: expected clean, trail or timeline, "
			    "got '%s'%s", uistate_text(ev), uistate_suggest(uistate_text(ev),
			    uistate_views, hint, sizeof hint));
			return -1;
		}
		st->view = v;
		return 0;
	}
	if (strcmp(key, "speed") == 0) {
		v = uistate_int(ev);
		if (v < 0) {
			uistate_error(p, ev->start_mark, "%s: expected a whole number from 0 to %d, "
			    "got '%s'", key, UISTATE_INT_MAX, uistate_text(ev));
			return -1;
		}
		*(strcmp(key, "view") == 0 ? &st->view : &st->speed) = v;
		return 0;
	}
	uistate_error(p, ev->start_mark, "unknown key '%s'%s; the keys are version, theme, "
	    "panes, zoom, focus, view, speed", key,
	    uistate_suggest(key, uistate_keys, hint, sizeof hint));
	return -1;
}

/* The top-level mapping's keys and values into st. 0, or -1 (error recorded). */
static int
uistate_mapping(struct uistate_parser *p, struct uistate *st)
{
	yaml_event_t k, v;
	unsigned seen = 0;

	for (;;) {
		char key[32];
		int i, rc;

		if (uistate_next(p, &k) != 0)
			return -1;
		if (k.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&k);
			return 0;
		}
		if (k.type != YAML_SCALAR_EVENT) {
			uistate_error(p, k.start_mark, "expected a key (a name), got %s",
			    uistate_kind(&k));
			yaml_event_delete(&k);
			return -1;
		}
		snprintf(key, sizeof key, "%s", uistate_text(&k));
		for (i = 0; uistate_keys[i] != NULL && strcmp(uistate_keys[i], key) != 0; i++)
			continue;
		if (uistate_keys[i] != NULL && (seen & (1u << i))) {
			uistate_error(p, k.start_mark, "'%s' is given twice", key);
			yaml_event_delete(&k);
			return -1;
		}
		if (uistate_keys[i] != NULL)
			seen |= 1u << i;
		if (uistate_keys[i] == NULL) {
			/* Unknown: reported at the key, not at its value. */
			uistate_value(p, uistate_text(&k), &k, st);
			yaml_event_delete(&k);
			return -1;
		}
		yaml_event_delete(&k);
		if (uistate_next(p, &v) != 0)
			return -1;
		rc = uistate_value(p, key, &v, st);
		yaml_event_delete(&v);
		if (rc != 0)
			return -1;
	}
}

/* Parse the file's text. */
int
uistate_parse(struct uistate *st, const char *text, size_t len, const char *name,
    char **cause)
{
	struct uistate_parser p;
	struct uistate tmp = *st;
	yaml_event_t ev;
	int rc = -1, docs = 0;

	memset(&p, 0, sizeof p);
	p.name = name;
	p.cause = cause;
	if (len > UISTATE_MAX_FILE_SIZE) {
		util_error(cause, "%s:1:1: %zu bytes is too big for a UI state file (most %u)",
		    name, len, UISTATE_MAX_FILE_SIZE);
		return -1;
	}
	if (memchr(text, '\0', len) != NULL) {
		util_error(cause, "%s:1:1: not a text file (it holds NUL bytes)", name);
		return -1;
	}
	if (!yaml_parser_initialize(&p.yp))
		app_fatal("out of memory");
	yaml_parser_set_input_string(&p.yp, (const unsigned char *)text, len);
	for (;;) {
		if (uistate_next(&p, &ev) != 0)
			break;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			rc = 0;
			break;
		}
		if (ev.type == YAML_STREAM_START_EVENT || ev.type == YAML_DOCUMENT_END_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		if (ev.type == YAML_DOCUMENT_START_EVENT) {
			if (++docs > 1) {
				uistate_error(&p, ev.start_mark, "only one YAML document is allowed");
				yaml_event_delete(&ev);
				break;
			}
			yaml_event_delete(&ev);
			continue;
		}
		if (ev.type == YAML_SCALAR_EVENT && uistate_is_null(&ev)) {
			yaml_event_delete(&ev); /* an empty document: nothing set */
			continue;
		}
		if (ev.type != YAML_MAPPING_START_EVENT) {
			uistate_error(&p, ev.start_mark, "expected 'key: value' lines, got %s",
			    uistate_kind(&ev));
			yaml_event_delete(&ev);
			break;
		}
		yaml_event_delete(&ev);
		if (uistate_mapping(&p, &tmp) != 0)
			break;
	}
	yaml_parser_delete(&p.yp);
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

/* Write buf to a new temporary file next to path and fsync it; its name in *tmp. */
static int
uistate_write_tmp(const char *path, const char *buf, size_t len, char **tmp, char **cause)
{
	size_t done = 0;
	int fd;

	if (asprintf(tmp, "%s.XXXXXX", path) < 0)
		app_fatal("out of memory");
	fd = mkstemp(*tmp);
	if (fd < 0) {
		util_error(cause, "cannot write %s: %s", *tmp, strerror(errno));
		free(*tmp);
		*tmp = NULL;
		return -1;
	}
	while (done < len) {
		ssize_t w = write(fd, buf + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			util_error(cause, "cannot write %s: %s", *tmp, strerror(errno));
			close(fd);
			goto fail;
		}
		done += (size_t)w;
	}
	if (fsync(fd) != 0) {
		util_error(cause, "cannot write %s: %s", *tmp, strerror(errno));
		close(fd);
		goto fail;
	}
	if (close(fd) != 0) {
		util_error(cause, "cannot write %s: %s", *tmp, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	unlink(*tmp);
	free(*tmp);
	*tmp = NULL;
	return -1;
}

/* Save the state. */
int
uistate_save(const struct uistate *st, const char *path, char **note, char **cause)
{
	struct uistate old;
	char *dir = xstrdup(path), *slash = strrchr(dir, '/'), *text, *tmp = NULL, *bad = NULL;
	char *why = NULL;
	int rc = -1, fd;

	if (note != NULL)
		*note = NULL;
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (app_mkdirs(dir, cause) != 0) {
			free(dir);
			return -1;
		}
	} else
		snprintf(dir, strlen(path) + 1, "%s", slash == dir ? "/" : ".");
	text = uistate_format(st);
	if (uistate_write_tmp(path, text, strlen(text), &tmp, cause) != 0)
		goto out;
	/* A file there we cannot read back is the user's to look at: keep it as .bad. */
	uistate_init(&old);
	if (uistate_load(&old, path, &why) < 0) {
		if (asprintf(&bad, "%s.bad", path) < 0)
			app_fatal("out of memory");
		if (rename(path, bad) != 0) {
			util_error(cause, "cannot keep the unreadable %s as %s: %s", path, bad,
			    strerror(errno));
			unlink(tmp);
			goto out;
		}
		if (note != NULL && asprintf(note, "kept the unreadable %s as %s (%s)", path, bad,
		    why != NULL ? why : "?") < 0)
			app_fatal("out of memory");
	}
	if (rename(tmp, path) != 0) {
		util_error(cause, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	/* Make the rename itself durable. */
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0) {
		fsync(fd);
		close(fd);
	}
	rc = 0;
out:
	free(why);
	free(bad);
	free(tmp);
	free(text);
	free(dir);
	return rc;
}
