/*
 * editor.c: the prompt editor without a terminal (see editor.h): a multi-line
 * UTF-8 buffer, history with the kept draft, the history file and $EDITOR.
 *
 * The text is always valid UTF-8 with no control characters but newline and
 * tab: everything that enters (keys, pastes, history, the $EDITOR file) goes
 * through editor_insert, which repairs it, so drawing can never be corrupted.
 *
 * The history file is a header line, then one entry a line, with backslash,
 * newline and tab escaped as \\, \n and \t. It is rewritten whole (temp file,
 * fsync, rename) after each sent prompt.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app.h"
#include "util.h"
#include "editor.h"
#include "ui.h"

#define EDITOR_FILE_HEADER "# seqmatch history 1"
#define EDITOR_FILE_MAX (16 * 1024 * 1024) /* a bigger history file is not read */

/* Start empty. */
void
editor_init(struct editor *e)
{
	memset(e, 0, sizeof *e);
	e->cap = 64;
	e->text = xcalloc(1, e->cap);
}

/* Free everything. */
void
editor_release(struct editor *e)
{
	for (int i = 0; i < e->nhistory; i++)
		free(e->history[i]);
	free(e->history);
	free(e->draft);
	free(e->text);
	memset(e, 0, sizeof *e);
}

/* Bytes of the valid UTF-8 character at s (n left), or 0 if it is not one. */
static size_t
editor_valid(const unsigned char *s, size_t n)
{
	size_t need, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 1;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 2;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 3;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	for (i = 1; i <= need; i++) {
		if (i >= n || s[i] < lo || s[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xbf;
	}
	return need + 1;
}

/* Insert exactly n clean bytes at the cursor (the caller checked them). */
static void
editor_raw_insert(struct editor *e, const char *s, size_t n)
{
	if (e->len + n > EDITOR_MAX_BYTES) {
		e->truncated = 1;
		return;
	}
	if (e->len + n + 1 > e->cap) {
		e->cap = 2 * (e->len + n + 1);
		e->text = xrealloc(e->text, e->cap);
	}
	memmove(e->text + e->cursor + n, e->text + e->cursor, e->len - e->cursor + 1);
	memcpy(e->text + e->cursor, s, n);
	e->len += n;
	e->cursor += n;
}

/* Insert bytes at the cursor, repaired (see editor.h). */
void
editor_insert(struct editor *e, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		if (u[i] == '\r') {
			editor_raw_insert(e, "\n", 1);
			i += i + 1 < n && u[i + 1] == '\n' ? 2 : 1;
			continue;
		}
		if (u[i] < 0x20 || u[i] == 0x7f) {
			if (u[i] == '\n' || u[i] == '\t')
				editor_raw_insert(e, s + i, 1);
			i++;
			continue;
		}
		k = editor_valid(u + i, n - i);
		if (k == 0) {
			editor_raw_insert(e, "\xef\xbf\xbd", 3);
			i++;
			while (i < n && (u[i] & 0xc0) == 0x80) /* the rest of the broken sequence */
				i++;
			continue;
		}
		/* C1 controls (U+0080-U+009F) move terminals too. */
		if (!(k == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0))
			editor_raw_insert(e, s + i, k);
		i += k;
	}
}

/* Replace the text; the cursor goes to the end. */
void
editor_set(struct editor *e, const char *s, size_t n)
{
	e->len = e->cursor = 0;
	e->text[0] = '\0';
	e->truncated = 0;
	editor_insert(e, s, n);
}

/* The start of the character before byte i. */
static size_t
editor_prev(const struct editor *e, size_t i)
{
	if (i == 0)
		return 0;
	i--;
	while (i > 0 && ((unsigned char)e->text[i] & 0xc0) == 0x80)
		i--;
	return i;
}

/* The end of the character at byte i. */
static size_t
editor_next(const struct editor *e, size_t i)
{
	if (i >= e->len)
		return e->len;
	i++;
	while (i < e->len && ((unsigned char)e->text[i] & 0xc0) == 0x80)
		i++;
	return i;
}

/* Delete the bytes [from, to); the cursor goes to from. */
static void
editor_delete(struct editor *e, size_t from, size_t to)
{
	memmove(e->text + from, e->text + to, e->len - to + 1);
	e->len -= to - from;
	e->cursor = from;
}

/* The start of the line holding byte i. */
static size_t
editor_line_start(const struct editor *e, size_t i)
{
	while (i > 0 && e->text[i - 1] != '\n')
		i--;
	return i;
}

/* The end of the line holding byte i (its newline, or the end of the text). */
static size_t
editor_line_end(const struct editor *e, size_t i)
{
	while (i < e->len && e->text[i] != '\n')
		i++;
	return i;
}

/* The line and column (characters) of the cursor. */
void
editor_cursor_pos(const struct editor *e, int *line, int *col)
{
	int l = 0, c = 0;

	for (size_t i = 0; i < e->cursor; i = editor_next(e, i)) {
		if (e->text[i] == '\n') {
			l++;
			c = 0;
		} else
			c++;
	}
	*line = l;
	*col = c;
}

/* Lines in the text. */
int
editor_lines(const struct editor *e)
{
	int n = 1;

	for (size_t i = 0; i < e->len; i++)
		n += e->text[i] == '\n';
	return n;
}

/* Put the cursor at column col (characters) of the line starting at byte start. */
static void
editor_goto_col(struct editor *e, size_t start, int col)
{
	size_t end = editor_line_end(e, start), i = start;

	while (col-- > 0 && i < end)
		i = editor_next(e, i);
	e->cursor = i;
}

/* Show history entry `to` (nhistory: the draft), keeping the draft when leaving it. */
static void
editor_browse(struct editor *e, int dir)
{
	int to = e->hpos + dir;
	const char *s;

	if (to < 0 || to > e->nhistory)
		return;
	if (e->hpos == e->nhistory) {
		free(e->draft);
		e->draft = xstrdup(e->text);
	}
	e->hpos = to;
	s = to == e->nhistory ? (e->draft != NULL ? e->draft : "") : e->history[to];
	editor_set(e, s, strlen(s));
	if (dir > 0) /* coming from below: start on the first line */
		e->cursor = editor_line_end(e, 0);
}

/* Up (dir -1) or Down (+1): a line inside the text, else the history. */
static void
editor_vertical(struct editor *e, int dir)
{
	size_t start = editor_line_start(e, e->cursor), other;
	int line, col;

	editor_cursor_pos(e, &line, &col);
	if (dir < 0) {
		if (start == 0) {
			editor_browse(e, -1);
			return;
		}
		other = editor_line_start(e, start - 1);
	} else {
		size_t end = editor_line_end(e, e->cursor);

		if (end >= e->len) {
			editor_browse(e, +1);
			return;
		}
		other = end + 1;
	}
	editor_goto_col(e, other, col);
}

/* Whether byte c separates words for Ctrl-W. */
static int
editor_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* A key inside a bracketed paste: text goes in literally, nothing else acts. */
static enum editor_result
editor_paste_key(struct editor *e, int key)
{
	char enc[4];
	size_t n;
	int cr = e->paste_cr;

	e->paste_cr = 0;
	if (key == UI_KEY_PASTE_END) {
		e->pasting = 0;
		return EDITOR_CHANGED;
	}
	if (key == UI_KEY_ENTER || key == '\r') {
		editor_raw_insert(e, "\n", 1);
		e->paste_cr = 1;
		return EDITOR_CHANGED;
	}
	if (key == '\n') {
		if (!cr) /* CR LF is one newline */
			editor_raw_insert(e, "\n", 1);
		return EDITOR_CHANGED;
	}
	if (key == '\t') {
		editor_raw_insert(e, "\t", 1);
		return EDITOR_CHANGED;
	}
	if (key < 0x20 || key == 0x7f || (key >= 0x80 && key < 0xa0) || key >= UI_KEY_UP ||
	    (key >= 0xd800 && key < 0xe000))
		return EDITOR_CHANGED; /* dropped */
	n = 0;
	if (key < 0x80)
		enc[n++] = (char)key;
	else if (key < 0x800) {
		enc[n++] = (char)(0xc0 | (key >> 6));
		enc[n++] = (char)(0x80 | (key & 0x3f));
	} else if (key < 0x10000) {
		enc[n++] = (char)(0xe0 | (key >> 12));
		enc[n++] = (char)(0x80 | ((key >> 6) & 0x3f));
		enc[n++] = (char)(0x80 | (key & 0x3f));
	} else {
		enc[n++] = (char)(0xf0 | (key >> 18));
		enc[n++] = (char)(0x80 | ((key >> 12) & 0x3f));
		enc[n++] = (char)(0x80 | ((key >> 6) & 0x3f));
		enc[n++] = (char)(0x80 | (key & 0x3f));
	}
	editor_insert(e, enc, n);
	return EDITOR_CHANGED;
}

/* Handle a key. */
enum editor_result
editor_key(struct editor *e, int key)
{
	size_t i;

	if (key == UI_KEY_PASTE_BEGIN) {
		e->pasting = 1;
		e->paste_cr = 0;
		return EDITOR_CHANGED;
	}
	if (e->pasting)
		return editor_paste_key(e, key);
	if (key == UI_KEY_PASTE_END)
		return EDITOR_CHANGED;
	switch (key) {
	case UI_KEY_ENTER:
		return EDITOR_SUBMIT;
	case UI_CTRL('j'):
		editor_raw_insert(e, "\n", 1);
		return EDITOR_CHANGED;
	case UI_KEY_LEFT:
		e->cursor = editor_prev(e, e->cursor);
		return EDITOR_CHANGED;
	case UI_KEY_RIGHT:
		e->cursor = editor_next(e, e->cursor);
		return EDITOR_CHANGED;
	case UI_KEY_HOME:
	case UI_CTRL('a'):
		e->cursor = editor_line_start(e, e->cursor);
		return EDITOR_CHANGED;
	case UI_KEY_END:
	case UI_CTRL('e'):
		e->cursor = editor_line_end(e, e->cursor);
		return EDITOR_CHANGED;
	case UI_KEY_BACKSPACE:
		if (e->cursor > 0)
			editor_delete(e, editor_prev(e, e->cursor), e->cursor);
		return EDITOR_CHANGED;
	case UI_KEY_DELETE:
	case UI_CTRL('d'):
		if (e->cursor < e->len)
			editor_delete(e, e->cursor, editor_next(e, e->cursor));
		return EDITOR_CHANGED;
	case UI_CTRL('u'): /* to the start of the line */
		editor_delete(e, editor_line_start(e, e->cursor), e->cursor);
		return EDITOR_CHANGED;
	case UI_CTRL('k'): /* to the end of the line; at its end, join the next */
		i = editor_line_end(e, e->cursor);
		if (i == e->cursor && i < e->len)
			i++;
		editor_delete(e, e->cursor, i);
		return EDITOR_CHANGED;
	case UI_CTRL('w'):
		i = e->cursor;
		while (i > 0 && editor_space(e->text[i - 1]))
			i--;
		while (i > 0 && !editor_space(e->text[i - 1]))
			i--;
		editor_delete(e, i, e->cursor);
		return EDITOR_CHANGED;
	case UI_KEY_UP:
		editor_vertical(e, -1);
		return EDITOR_CHANGED;
	case UI_KEY_DOWN:
		editor_vertical(e, +1);
		return EDITOR_CHANGED;
	}
	if (key < 0x20 || key == 0x7f || key >= UI_KEY_UP)
		return EDITOR_IGNORED;
	if (key >= 0x80 && key < 0xa0)
		return EDITOR_CHANGED; /* C1 controls: dropped */
	editor_paste_key(e, key); /* the same encoding */
	return EDITOR_CHANGED;
}

/* Remember a sent prompt and reset browsing to an empty draft. */
void
editor_remember(struct editor *e, const char *s)
{
	free(e->draft);
	e->draft = NULL;
	if (s[0] != '\0' && !(e->nhistory > 0 && strcmp(e->history[e->nhistory - 1], s) == 0)) {
		if (e->nhistory == EDITOR_HISTORY) {
			free(e->history[0]);
			memmove(e->history, e->history + 1,
			    (EDITOR_HISTORY - 1) * sizeof *e->history);
			e->nhistory--;
		}
		if (e->history == NULL)
			e->history = xcalloc(EDITOR_HISTORY, sizeof *e->history);
		e->history[e->nhistory++] = xstrdup(s);
	}
	e->hpos = e->nhistory;
}

/* The history file's path. */
char *
editor_history_path(void)
{
	return app_xdg_path(getenv("XDG_STATE_HOME"), getenv("HOME"), ".local/state",
	    "seqmatch/history");
}

/* Decode one escaped history line in place; its length, or -1 if it is bad. */
static long
editor_unescape(char *s, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return -1;
		if (c != '\\') {
			s[k++] = s[i];
			continue;
		}
		if (++i >= n)
			return -1;
		if (s[i] == 'n')
			s[k++] = '\n';
		else if (s[i] == 't')
			s[k++] = '\t';
		else if (s[i] == '\\')
			s[k++] = '\\';
		else
			return -1;
	}
	for (i = 0; i < k;) { /* valid UTF-8 only */
		size_t c = editor_valid((const unsigned char *)s + i, k - i);

		if (c == 0)
			return -1;
		i += c;
	}
	s[k] = '\0';
	return (long)k;
}

/* Load the history file. */
int
editor_history_load(struct editor *e, const char *path, char **cause)
{
	FILE *f = fopen(path, "rb");
	char *buf, *line, *nl;
	size_t n;
	int more;
	long len, lineno = 1, bad = 0, first_bad = 0;
	struct editor tmp;

	if (f == NULL) {
		if (errno == ENOENT)
			return 1;
		util_error(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf = xmalloc(EDITOR_FILE_MAX + 1);
	n = fread(buf, 1, EDITOR_FILE_MAX + 1, f);
	if (ferror(f) || n > EDITOR_FILE_MAX) {
		util_error(cause, "%s: %s", path, ferror(f) ? "cannot read it" :
		    "larger than 16 MiB, not loaded");
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	buf[n] = '\0';
	if (memchr(buf, '\0', n) != NULL || strncmp(buf, EDITOR_FILE_HEADER "\n",
	    sizeof EDITOR_FILE_HEADER) != 0) {
		util_error(cause, "%s:1: not a seqmatch history file, not loaded", path);
		free(buf);
		return -1;
	}
	editor_init(&tmp);
	line = buf + sizeof EDITOR_FILE_HEADER;
	while (*line != '\0') {
		lineno++;
		nl = strchr(line, '\n');
		if (nl == NULL)
			nl = line + strlen(line);
		more = *nl == '\n'; /* unescaping ends the line with a NUL */
		len = editor_unescape(line, (size_t)(nl - line));
		if (len < 0 || len > EDITOR_MAX_BYTES) {
			if (bad++ == 0)
				first_bad = lineno;
		} else if (len > 0) {
			editor_set(&tmp, line, (size_t)len);
			editor_remember(&tmp, tmp.text);
		}
		line = more ? nl + 1 : nl;
	}
	free(buf);
	for (int i = 0; i < tmp.nhistory; i++)
		editor_remember(e, tmp.history[i]);
	editor_release(&tmp);
	if (bad > 0) {
		util_error(cause, "%s:%ld: a bad entry (%ld skipped)", path, first_bad, bad);
		return -1;
	}
	return 0;
}

/* Save the history atomically. */
int
editor_history_save(const struct editor *e, const char *path, char **cause)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/'), *buf = NULL;
	size_t size = 0;
	FILE *f;
	int rc = 0;

	if (slash != NULL && slash != dir) {
		*slash = '\0';
		rc = app_mkdirs(dir, cause);
	}
	free(dir);
	if (rc != 0)
		return -1;
	if ((f = open_memstream(&buf, &size)) == NULL)
		app_fatal("out of memory");
	fprintf(f, "%s\n", EDITOR_FILE_HEADER);
	for (int i = 0; i < e->nhistory; i++) {
		for (const char *s = e->history[i]; *s != '\0'; s++) {
			if (*s == '\n')
				fputs("\\n", f);
			else if (*s == '\t')
				fputs("\\t", f);
			else if (*s == '\\')
				fputs("\\\\", f);
			else
				fputc(*s, f);
		}
		fputc('\n', f);
	}
	if (fclose(f) != 0)
		app_fatal("out of memory");
	/* Private (0600): the prompts are the user's. */
	rc = util_write_file_atomic(path, buf, size, 0600, cause);
	free(buf);
	return rc;
}

/* Run the editor command on path; its wait status, or -1 with errno. */
static int
editor_spawn(const char *cmd, const char *path)
{
	struct sigaction ign, old_int, old_quit;
	char *script;
	pid_t pid;
	int status;

	/* The command may hold arguments ("code -w"): the shell splits it, the path stays whole. */
	if (asprintf(&script, "%s \"$1\"", cmd) < 0)
		app_fatal("out of memory");
	pid = fork();
	if (pid < 0) {
		free(script);
		return -1;
	}
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		execl("/bin/sh", "sh", "-c", script, "sh", path, (char *)NULL);
		_exit(127);
	}
	free(script);
	/* Ctrl-C belongs to the editor while it runs. */
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			status = -1;
			break;
		}
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	return status;
}

/* The editor command's program name, short, for messages ("/usr/bin/vim -f" -> "vim"). */
static void
editor_name(const char *cmd, char *buf, size_t size)
{
	size_t n = strcspn(cmd, " \t");
	const char *s = cmd;

	for (size_t i = 0; i < n; i++)
		if (cmd[i] == '/')
			s = cmd + i + 1;
	n -= (size_t)(s - cmd);
	snprintf(buf, size, "%.*s", (int)n, s);
}

/* Edit text in the user's editor. */
int
editor_external(const char *text, char **out, int *truncated, char **cause)
{
	const char *dir = getenv("TMPDIR"), *cmd = getenv("VISUAL");
	char *path, *buf = NULL;
	size_t len = strlen(text), n;
	int fd, status, rc = -1;
	FILE *f;

	*out = NULL;
	*truncated = 0;
	if (cmd == NULL || cmd[0] == '\0')
		cmd = getenv("EDITOR");
	if (cmd == NULL || cmd[0] == '\0')
		cmd = "vi";
	if (dir == NULL || dir[0] != '/')
		dir = "/tmp";
	if (asprintf(&path, "%s/seqmatch-prompt.XXXXXX", dir) < 0)
		app_fatal("out of memory");
	if ((fd = mkstemp(path)) < 0) {
		util_error(cause, "cannot create a temp file in %s: %s", dir, strerror(errno));
		free(path);
		return -1;
	}
	if (write(fd, text, len) != (ssize_t)len || close(fd) != 0) {
		util_error(cause, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	status = editor_spawn(cmd, path);
	if (status == -1) {
		util_error(cause, "cannot run the editor '%s': %s", cmd, strerror(errno));
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char name[32];

		editor_name(cmd, name, sizeof name);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
			util_error(cause, "editor %s not found", name);
		else if (WIFEXITED(status))
			util_error(cause, "editor %s failed (exit status %d)", name,
			    WEXITSTATUS(status));
		else
			util_error(cause, "editor %s killed by signal %d", name,
			    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		goto out;
	}
	if ((f = fopen(path, "rb")) == NULL) {
		util_error(cause, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	buf = xmalloc(EDITOR_MAX_BYTES + 2);
	n = fread(buf, 1, EDITOR_MAX_BYTES + 1, f);
	if (ferror(f)) {
		util_error(cause, "cannot read %s", path);
		fclose(f);
		free(buf);
		goto out;
	}
	fclose(f);
	if (n > EDITOR_MAX_BYTES) {
		*truncated = 1;
		n = EDITOR_MAX_BYTES;
		while (n > 0 && ((unsigned char)buf[n] & 0xc0) == 0x80) /* a whole character */
			n--;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) /* editors end with one */
		n--;
	buf[n] = '\0';
	*out = buf;
	rc = 0;
out:
	unlink(path);
	free(path);
	return rc;
}

/* A key in a one-line value field: 1 Enter, -1 Esc, 0 typed, deleted or ignored. */
int
editor_field_key(char *buf, size_t size, int key)
{
	size_t n = strlen(buf);

	switch (key) {
	case UI_KEY_ENTER:
		return 1;
	case UI_KEY_ESC:
		return -1;
	case UI_KEY_BACKSPACE:
		if (n > 0)
			buf[n - 1] = '\0';
		return 0;
	case UI_CTRL('u'):
		buf[0] = '\0';
		return 0;
	}
	if (key > 0x20 && key < 0x7f && n + 1 < size) {
		buf[n] = (char)key;
		buf[n + 1] = '\0';
	}
	return 0;
}
