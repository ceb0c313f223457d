/*
 * checker.c: an external story checker, the protocol `seqmatch eval --check
 * CMD` and the UI's before/after (ui-ab.c) share. The caller's texts go to a
 * temporary file as one JSON line each,
 *   {"id": i, "prompt": "...", "text": "...", "stop": "eot"}
 * (text = the continuation after erases, prompt excluded; stop = the stop
 * reason), `/bin/sh -c CMD` runs with that file on stdin and its stdout into
 * another temporary file, and exactly one line per input comes back, in
 * order:
 *   {"id": i, "violations": [{"kind": "hero", "where": "..."}, ...]}
 * Other keys are allowed and ignored; a violation needs a string "kind". A
 * non-zero exit status, another number of lines, or a line that is not such
 * an object (the parser below is strict JSON) is an error.
 *
 * Thread-safe: no global state, no exit, no message printed; the
 * environment for CMD is built before fork, so a worker thread may run it.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checker.h"
#include "json.h"
#include "util.h"

extern char **environ;

/* A cursor over one output line. */
struct checker_jp {
	const char *s, *p, *end;
	const char *err;    /* what was expected, when parsing failed */
	int depth;
};

/* Skip JSON whitespace. */
static void
checker_jp_ws(struct checker_jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r'))
		j->p++;
}

/* Consume character c after whitespace; 0, or -1 with err. */
static int
checker_jp_char(struct checker_jp *j, char c, const char *err)
{
	checker_jp_ws(j);
	if (j->p < j->end && *j->p == c) {
		j->p++;
		return 0;
	}
	j->err = err;
	return -1;
}

/* Four hex digits of a \u escape into *cp; -1 if not hex. */
static int
checker_jp_u4(struct checker_jp *j, unsigned *cp)
{
	*cp = 0;
	for (int k = 0; k < 4; k++) {
		int h = j->p < j->end ? util_hex_digit(*j->p) : -1;

		if (h < 0)
			return -1;
		*cp = *cp * 16 + (unsigned)h;
		j->p++;
	}
	return 0;
}

/* Append code point cp as UTF-8 to buf (room for 4 more bytes is the caller's). */
static size_t
checker_jp_utf8(char *buf, unsigned cp)
{
	if (cp < 0x80) {
		buf[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		buf[0] = (char)(0xc0 | (cp >> 6));
		buf[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		buf[0] = (char)(0xe0 | (cp >> 12));
		buf[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		buf[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	buf[0] = (char)(0xf0 | (cp >> 18));
	buf[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	buf[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	buf[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A string into *out (malloc'd, NUL-terminated; out may be NULL to skip it). */
static int
checker_jp_string(struct checker_jp *j, char **out)
{
	char *buf;
	size_t n = 0;

	if (checker_jp_char(j, '"', "a string") != 0)
		return -1;
	/* Unescaping never makes a string longer than its source. */
	if ((buf = malloc((size_t)(j->end - j->p) + 1)) == NULL) {
		j->err = "memory for a string";
		return -1;
	}
	for (;;) {
		unsigned char c;
		size_t k;

		if (j->p >= j->end) {
			j->err = "a closing '\"'";
			goto fail;
		}
		c = (unsigned char)*j->p;
		if (c == '"') {
			j->p++;
			break;
		}
		if (c < 0x20) {
			j->err = "no control character in a string";
			goto fail;
		}
		if (c != '\\') {
			if ((k = json_utf8_len((const unsigned char *)j->p,
			    (size_t)(j->end - j->p))) == 0) {
				j->err = "valid UTF-8";
				goto fail;
			}
			memcpy(buf + n, j->p, k);
			n += k;
			j->p += k;
			continue;
		}
		if (++j->p >= j->end) {
			j->err = "an escape";
			goto fail;
		}
		c = (unsigned char)*j->p++;
		switch (c) {
		case '"': case '\\': case '/': buf[n++] = (char)c; break;
		case 'b': buf[n++] = '\b'; break;
		case 'f': buf[n++] = '\f'; break;
		case 'n': buf[n++] = '\n'; break;
		case 'r': buf[n++] = '\r'; break;
		case 't': buf[n++] = '\t'; break;
		case 'u': {
			unsigned cp, lo;

			if (checker_jp_u4(j, &cp) != 0) {
				j->err = "four hex digits after \\u";
				goto fail;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u') {
					j->err = "a low surrogate after a high one";
					goto fail;
				}
				j->p += 2;
				if (checker_jp_u4(j, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff) {
					j->err = "a low surrogate after a high one";
					goto fail;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				j->err = "no lone low surrogate";
				goto fail;
			}
			/* \uXXXX takes 6 source bytes (12 for a pair): room enough. */
			n += checker_jp_utf8(buf + n, cp);
			break;
		}
		default:
			j->err = "a valid escape";
			goto fail;
		}
	}
	buf[n] = '\0';
	if (out != NULL)
		*out = buf;
	else
		free(buf);
	return 0;
fail:
	free(buf);
	return -1;
}

/* A number (JSON grammar) into *v; *is_int when it has no fraction or exponent. */
static int
checker_jp_number(struct checker_jp *j, double *v, int *is_int)
{
	const char *start;
	char tmp[64];

	checker_jp_ws(j);
	start = j->p;
	*is_int = 1;
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (j->p < j->end && *j->p >= '1' && *j->p <= '9')
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	else
		goto bad;
	if (j->p < j->end && *j->p == '.') {
		*is_int = 0;
		if (++j->p >= j->end || *j->p < '0' || *j->p > '9')
			goto bad;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		*is_int = 0;
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			goto bad;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if ((size_t)(j->p - start) >= sizeof tmp)
		goto bad;
	memcpy(tmp, start, (size_t)(j->p - start));
	tmp[j->p - start] = '\0';
	*v = strtod(tmp, NULL);
	return 0;
bad:
	j->err = "a number";
	return -1;
}

/* Skip any JSON value (nesting limited to 64). */
static int
checker_jp_skip(struct checker_jp *j)
{
	static const char *const words[] = { "true", "false", "null" };
	double v;
	int is_int, r = -1;

	checker_jp_ws(j);
	if (j->p >= j->end) {
		j->err = "a value";
		return -1;
	}
	if (*j->p == '"')
		return checker_jp_string(j, NULL);
	if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
		return checker_jp_number(j, &v, &is_int);
	for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
		size_t len = strlen(words[w]);

		if ((size_t)(j->end - j->p) >= len && memcmp(j->p, words[w], len) == 0) {
			j->p += len;
			return 0;
		}
	}
	if (*j->p != '{' && *j->p != '[') {
		j->err = "a value";
		return -1;
	}
	if (++j->depth > 64) {
		j->err = "less nesting";
		return -1;
	}
	if (*j->p++ == '[') {
		checker_jp_ws(j);
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			r = 0;
		} else
			do {
				if (checker_jp_skip(j) != 0)
					goto out;
				checker_jp_ws(j);
			} while (j->p < j->end && *j->p == ',' && j->p++);
		if (r != 0)
			r = checker_jp_char(j, ']', "',' or ']'");
	} else {
		checker_jp_ws(j);
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			r = 0;
		} else
			do {
				if (checker_jp_string(j, NULL) != 0 ||
				    checker_jp_char(j, ':', "':'") != 0 ||
				    checker_jp_skip(j) != 0)
					goto out;
				checker_jp_ws(j);
			} while (j->p < j->end && *j->p == ',' && j->p++);
		if (r != 0)
			r = checker_jp_char(j, '}', "',' or '}'");
	}
out:
	j->depth--;
	return r;
}

/* One violation object: its "kind" goes to fn. */
static int
checker_violation(struct checker_jp *j, int i, checker_fn fn, void *arg)
{
	char *key, *kind = NULL;

	if (checker_jp_char(j, '{', "a violation object '{'") != 0)
		return -1;
	checker_jp_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->err = "a violation with a \"kind\"";
		return -1;
	}
	do {
		if (checker_jp_string(j, &key) != 0)
			goto fail;
		if (checker_jp_char(j, ':', "':'") != 0) {
			free(key);
			goto fail;
		}
		if (strcmp(key, "kind") == 0) {
			free(kind);
			kind = NULL;
			if (checker_jp_string(j, &kind) != 0) {
				j->err = "a string \"kind\"";
				free(key);
				goto fail;
			}
		} else if (checker_jp_skip(j) != 0) {
			free(key);
			goto fail;
		}
		free(key);
		checker_jp_ws(j);
	} while (j->p < j->end && *j->p == ',' && j->p++);
	if (checker_jp_char(j, '}', "',' or '}'") != 0)
		goto fail;
	if (kind == NULL) {
		j->err = "a violation with a \"kind\"";
		return -1;
	}
	if (fn(i, kind, arg) != 0) {
		j->err = "at most 64 distinct violation kinds";
		goto fail;
	}
	free(kind);
	return 0;
fail:
	free(kind);
	return -1;
}

/* One output line: {"id": want, "violations": [...]}. */
static int
checker_line(struct checker_jp *j, int want, checker_fn fn, void *arg)
{
	int have_id = 0, have_v = 0, is_int;
	char *key;
	double id;

	if (checker_jp_char(j, '{', "'{'") != 0)
		return -1;
	do {
		if (checker_jp_string(j, &key) != 0)
			return -1;
		if (checker_jp_char(j, ':', "':'") != 0) {
			free(key);
			return -1;
		}
		if (strcmp(key, "id") == 0) {
			free(key);
			if (checker_jp_number(j, &id, &is_int) != 0 || !is_int || id != want) {
				j->err = "the id of this line (ids in input order)";
				return -1;
			}
			have_id = 1;
		} else if (strcmp(key, "violations") == 0) {
			free(key);
			if (checker_jp_char(j, '[', "a violations array '['") != 0)
				return -1;
			checker_jp_ws(j);
			if (j->p < j->end && *j->p == ']')
				j->p++;
			else {
				do {
					if (checker_violation(j, want, fn, arg) != 0)
						return -1;
					checker_jp_ws(j);
				} while (j->p < j->end && *j->p == ',' && j->p++);
				if (checker_jp_char(j, ']', "',' or ']'") != 0)
					return -1;
			}
			have_v = 1;
		} else {
			free(key);
			if (checker_jp_skip(j) != 0)
				return -1;
		}
		checker_jp_ws(j);
	} while (j->p < j->end && *j->p == ',' && j->p++);
	if (checker_jp_char(j, '}', "',' or '}'") != 0)
		return -1;
	checker_jp_ws(j);
	if (j->p != j->end) {
		j->err = "the end of the line after the object";
		return -1;
	}
	if (!have_id || !have_v) {
		j->err = !have_id ? "an \"id\"" : "a \"violations\" array";
		return -1;
	}
	return 0;
}

/* Write the texts as JSON lines. */
static int
checker_write(const struct checker_text *t, int n, FILE *f)
{
	for (int i = 0; i < n; i++) {
		fprintf(f, "{\"id\": %d, \"prompt\": ", i);
		json_string(f, t[i].prompt, t[i].prompt_len);
		fputs(", \"text\": ", f);
		json_string(f, t[i].text, t[i].len);
		fputs(", \"stop\": ", f);
		json_string(f, t[i].stop, strlen(t[i].stop));
		fputs("}\n", f);
	}
	return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}

/*
 * The environment for CMD: ours with the caller's NAME=value entries in
 * place of ours of the same names (malloc'd array; the strings are borrowed).
 */
static char **
checker_env(const char *const *extra)
{
	size_t n = 0, m = 0, k = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	while (extra != NULL && extra[m] != NULL)
		m++;
	if ((env = malloc((n + m + 1) * sizeof *env)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int replaced = 0;

		for (size_t e = 0; e < m && !replaced; e++) {
			const char *eq = strchr(extra[e], '=');
			size_t len = eq != NULL ? (size_t)(eq - extra[e]) + 1 : 0;

			replaced = len > 0 && strncmp(environ[i], extra[e], len) == 0;
		}
		if (!replaced)
			env[k++] = environ[i];
	}
	for (size_t e = 0; e < m; e++)
		env[k++] = (char *)(uintptr_t)extra[e];
	env[k] = NULL;
	return env;
}

/* Run CMD with stdin from fd in and stdout to fd out; its wait status, or -1. */
static int
checker_spawn(const char *cmd, int in, int out, char **env)
{
	pid_t pid;
	int status;

	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) { /* only async-signal-safe calls until exec */
		if (dup2(in, 0) < 0 || dup2(out, 1) < 0)
			_exit(127);
		close(in);
		close(out);
		execle("/bin/sh", "sh", "-c", cmd, (char *)NULL, env);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

/* Parse the output (len bytes): one line per text, violations to fn. */
static int
checker_read(const char *buf, size_t len, int n, checker_fn fn, void *arg, char **cause)
{
	const char *p = buf, *end = buf + len;
	int line = 0, extra = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct checker_jp j;

		j.s = j.p = p;
		j.end = nl != NULL ? nl : end;
		j.err = NULL;
		j.depth = 0;
		if (line == n) {
			extra = 1;
			break;
		}
		if (checker_line(&j, line, fn, arg) != 0)
			return util_error(cause, "output line %d, column %d: expected %s: %.*s",
			    line + 1, (int)(j.p - j.s) + 1, j.err,
			    (int)(j.end - j.s > 80 ? 80 : j.end - j.s), j.s);
		line++;
		p = nl != NULL ? nl + 1 : end;
	}
	if (line != n || extra)
		return util_error(cause, "printed %s%d lines for %d texts (one line per input "
		    "line, in order)", extra ? "more than " : "", line, n);
	return 0;
}

/* Run the checker over n texts (checker.h). */
int
checker_run(const char *cmd, const struct checker_text *t, int n, const char *const *env,
    checker_fn fn, void *arg, char **cause)
{
	const char *dir = getenv("TMPDIR");
	char *in_path = NULL, *out_path = NULL, *buf = NULL, **envp = NULL;
	int in = -1, out = -1, status, ret = -1;
	FILE *f = NULL;
	size_t len;

	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	if (asprintf(&in_path, "%s/seqmatch-check-XXXXXX", dir) < 0 ||
	    asprintf(&out_path, "%s/seqmatch-check-XXXXXX", dir) < 0) {
		util_error(cause, "out of memory");
		goto out;
	}
	if ((in = mkstemp(in_path)) < 0 || (out = mkstemp(out_path)) < 0) {
		util_error(cause, "cannot create a file in %s: %s", dir, strerror(errno));
		goto out;
	}
	if ((f = fdopen(dup(in), "w")) == NULL || checker_write(t, n, f) != 0 ||
	    lseek(in, 0, SEEK_SET) != 0) {
		util_error(cause, "cannot write %s: %s", in_path, strerror(errno));
		goto out;
	}
	if ((envp = checker_env(env)) == NULL) {
		util_error(cause, "out of memory");
		goto out;
	}
	fflush(stdout);
	fflush(stderr);
	status = checker_spawn(cmd, in, out, envp);
	if (status == -1) {
		util_error(cause, "cannot run /bin/sh: %s", strerror(errno));
		goto out;
	}
	if (WIFSIGNALED(status)) {
		util_error(cause, "killed by signal %d", WTERMSIG(status));
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		util_error(cause, "exited with status %d", WIFEXITED(status) ?
		    WEXITSTATUS(status) : -1);
		goto out;
	}
	if (util_read_file(out_path, 0, &buf, &len, cause) != 0)
		goto out;
	ret = checker_read(buf, len, n, fn, arg, cause);
out:
	if (f != NULL)
		fclose(f);
	if (in >= 0) {
		close(in);
		unlink(in_path);
	}
	if (out >= 0) {
		close(out);
		unlink(out_path);
	}
	free(envp);
	free(in_path);
	free(out_path);
	free(buf);
	return ret;
}
