/*
 * cmd-eval-check.c: `seqmatch eval --check CMD`: count rule violations with an
 * external checker, once per generation seed and row (a model or the human
 * row).
 *
 * The protocol: eval writes one JSON line per text to a temporary file,
 *   {"id": i, "prompt": "...", "text": "...", "stop": "eot"}
 * (text = the continuation after erases, prompt excluded; stop = the
 * generation's stop reason, and for held-out text "eot" when it reached its
 * document's end, else "max_tokens"), runs `/bin/sh -c CMD` with that file on
 * stdin and its stdout into another temporary file, and reads back exactly
 * one line per input, in order:
 *   {"id": i, "violations": [{"kind": "hero", "where": "..."}, ...]}
 * Other keys are allowed and ignored; a violation needs a string "kind". A
 * non-zero exit status, another number of lines, or a line that is not such
 * an object (the parser below is strict JSON) fails the run.
 *
 * Counted per row and generation seed: the share of texts with at least one
 * violation, and per kind the share of texts with at least one of that kind,
 * both per 100 texts. CMD sees SEQMATCH_CHECK_ROW ("human" or the model's
 * number) and SEQMATCH_CHECK_GEN_SEED (1, 2, ...) in its environment.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app.h"
#include "cmd-eval.h"
#include "json.h"
#include "util.h"

/* A cursor over one output line. */
struct cmd_eval_check_jp {
	const char *s, *p, *end;
	const char *err;    /* what was expected, when parsing failed */
	int depth;
};

/* Skip JSON whitespace. */
static void
cmd_eval_check_jp_ws(struct cmd_eval_check_jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r'))
		j->p++;
}

/* Consume character c after whitespace; 0, or -1 with err. */
static int
cmd_eval_check_jp_char(struct cmd_eval_check_jp *j, char c, const char *err)
{
	cmd_eval_check_jp_ws(j);
	if (j->p < j->end && *j->p == c) {
		j->p++;
		return 0;
	}
	j->err = err;
	return -1;
}

/* Four hex digits of a \u escape into *cp; -1 if not hex. */
static int
cmd_eval_check_jp_u4(struct cmd_eval_check_jp *j, unsigned *cp)
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
cmd_eval_check_jp_utf8(char *buf, unsigned cp)
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
cmd_eval_check_jp_string(struct cmd_eval_check_jp *j, char **out)
{
	char *buf;
	size_t n = 0;

	if (cmd_eval_check_jp_char(j, '"', "a string") != 0)
		return -1;
	/* Unescaping never makes a string longer than its source. */
	buf = xmalloc((size_t)(j->end - j->p) + 1);
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

			if (cmd_eval_check_jp_u4(j, &cp) != 0) {
				j->err = "four hex digits after \\u";
				goto fail;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u') {
					j->err = "a low surrogate after a high one";
					goto fail;
				}
				j->p += 2;
				if (cmd_eval_check_jp_u4(j, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff) {
					j->err = "a low surrogate after a high one";
					goto fail;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				j->err = "no lone low surrogate";
				goto fail;
			}
			/* \uXXXX takes 6 source bytes (12 for a pair): room enough. */
			n += cmd_eval_check_jp_utf8(buf + n, cp);
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
cmd_eval_check_jp_number(struct cmd_eval_check_jp *j, double *v, int *is_int)
{
	const char *start;
	char tmp[64];

	cmd_eval_check_jp_ws(j);
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
cmd_eval_check_jp_skip(struct cmd_eval_check_jp *j)
{
	static const char *const words[] = { "true", "false", "null" };
	double v;
	int is_int, r = -1;

	cmd_eval_check_jp_ws(j);
	if (j->p >= j->end) {
		j->err = "a value";
		return -1;
	}
	if (*j->p == '"')
		return cmd_eval_check_jp_string(j, NULL);
	if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
		return cmd_eval_check_jp_number(j, &v, &is_int);
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
		cmd_eval_check_jp_ws(j);
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			r = 0;
		} else
			do {
				if (cmd_eval_check_jp_skip(j) != 0)
					goto out;
				cmd_eval_check_jp_ws(j);
			} while (j->p < j->end && *j->p == ',' && j->p++);
		if (r != 0)
			r = cmd_eval_check_jp_char(j, ']', "',' or ']'");
	} else {
		cmd_eval_check_jp_ws(j);
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			r = 0;
		} else
			do {
				if (cmd_eval_check_jp_string(j, NULL) != 0 ||
				    cmd_eval_check_jp_char(j, ':', "':'") != 0 ||
				    cmd_eval_check_jp_skip(j) != 0)
					goto out;
				cmd_eval_check_jp_ws(j);
			} while (j->p < j->end && *j->p == ',' && j->p++);
		if (r != 0)
			r = cmd_eval_check_jp_char(j, '}', "',' or '}'");
	}
out:
	j->depth--;
	return r;
}

/* The index of violation kind name in e->kinds, adding it; -1 when there are too many. */
static int
cmd_eval_check_kind(struct cmd_eval *e, const char *name)
{
	for (int k = 0; k < e->nkinds; k++)
		if (strcmp(e->kinds[k], name) == 0)
			return k;
	if (e->nkinds == CMD_EVAL_MAX_KINDS)
		return -1;
	e->kinds[e->nkinds] = xstrdup(name);
	return e->nkinds++;
}

/* One violation object: its "kind" marks seen[kind]. */
static int
cmd_eval_check_violation(struct cmd_eval *e, struct cmd_eval_check_jp *j,
    unsigned char *seen)
{
	char *key, *kind = NULL;
	int k;

	if (cmd_eval_check_jp_char(j, '{', "a violation object '{'") != 0)
		return -1;
	cmd_eval_check_jp_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->err = "a violation with a \"kind\"";
		return -1;
	}
	do {
		if (cmd_eval_check_jp_string(j, &key) != 0)
			goto fail;
		if (cmd_eval_check_jp_char(j, ':', "':'") != 0) {
			free(key);
			goto fail;
		}
		if (strcmp(key, "kind") == 0) {
			free(kind);
			kind = NULL;
			if (cmd_eval_check_jp_string(j, &kind) != 0) {
				j->err = "a string \"kind\"";
				free(key);
				goto fail;
			}
		} else if (cmd_eval_check_jp_skip(j) != 0) {
			free(key);
			goto fail;
		}
		free(key);
		cmd_eval_check_jp_ws(j);
	} while (j->p < j->end && *j->p == ',' && j->p++);
	if (cmd_eval_check_jp_char(j, '}', "',' or '}'") != 0)
		goto fail;
	if (kind == NULL) {
		j->err = "a violation with a \"kind\"";
		return -1;
	}
	if ((k = cmd_eval_check_kind(e, kind)) < 0) {
		j->err = "at most 64 distinct violation kinds";
		goto fail;
	}
	seen[k] = 1;
	free(kind);
	return 0;
fail:
	free(kind);
	return -1;
}

/* One output line: {"id": want, "violations": [...]}; marks seen[kind]. */
static int
cmd_eval_check_line(struct cmd_eval *e, struct cmd_eval_check_jp *j, int want,
    unsigned char *seen)
{
	int have_id = 0, have_v = 0, is_int;
	char *key;
	double id;

	if (cmd_eval_check_jp_char(j, '{', "'{'") != 0)
		return -1;
	do {
		if (cmd_eval_check_jp_string(j, &key) != 0)
			return -1;
		if (cmd_eval_check_jp_char(j, ':', "':'") != 0) {
			free(key);
			return -1;
		}
		if (strcmp(key, "id") == 0) {
			free(key);
			if (cmd_eval_check_jp_number(j, &id, &is_int) != 0 || !is_int || id != want) {
				j->err = "the id of this line (ids in input order)";
				return -1;
			}
			have_id = 1;
		} else if (strcmp(key, "violations") == 0) {
			free(key);
			if (cmd_eval_check_jp_char(j, '[', "a violations array '['") != 0)
				return -1;
			cmd_eval_check_jp_ws(j);
			if (j->p < j->end && *j->p == ']')
				j->p++;
			else {
				do {
					if (cmd_eval_check_violation(e, j, seen) != 0)
						return -1;
					cmd_eval_check_jp_ws(j);
				} while (j->p < j->end && *j->p == ',' && j->p++);
				if (cmd_eval_check_jp_char(j, ']', "',' or ']'") != 0)
					return -1;
			}
			have_v = 1;
		} else {
			free(key);
			if (cmd_eval_check_jp_skip(j) != 0)
				return -1;
		}
		cmd_eval_check_jp_ws(j);
	} while (j->p < j->end && *j->p == ',' && j->p++);
	if (cmd_eval_check_jp_char(j, '}', "',' or '}'") != 0)
		return -1;
	cmd_eval_check_jp_ws(j);
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

/* Write the row's texts as JSON lines; -1 with *cause. */
static int
cmd_eval_check_write(const struct cmd_eval *e, const struct cmd_eval_row *row,
    const struct cmd_eval_sample *prompts, FILE *f)
{
	for (int i = 0; i < e->n; i++) {
		const char *stop = generate_stop_name(row->stop[i]);

		fprintf(f, "{\"id\": %d, \"prompt\": ", i);
		json_string(f, prompts[i].prompt_text, prompts[i].prompt_len);
		fputs(", \"text\": ", f);
		json_string(f, row->text[i], row->len[i]);
		fputs(", \"stop\": ", f);
		json_string(f, stop, strlen(stop));
		fputs("}\n", f);
	}
	return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}

/* Run CMD with stdin from fd in and stdout to fd out; its wait status, or -1. */
static int
cmd_eval_check_spawn(const char *cmd, int in, int out)
{
	pid_t pid;
	int status;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		if (dup2(in, 0) < 0 || dup2(out, 1) < 0)
			_exit(127);
		close(in);
		close(out);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

/* Parse the checker's output (len bytes) into counts for row at generation seed g. */
static int
cmd_eval_check_read(struct cmd_eval *e, struct cmd_eval_row *row, int g,
    const char *buf, size_t len, const char *where)
{
	long any = 0, count[CMD_EVAL_MAX_KINDS] = { 0 };
	unsigned char seen[CMD_EVAL_MAX_KINDS];
	const char *p = buf, *end = buf + len;
	int line = 0, extra = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct cmd_eval_check_jp j;

		j.s = j.p = p;
		j.end = nl != NULL ? nl : end;
		j.err = NULL;
		j.depth = 0;
		if (line == e->n) {
			extra = 1;
			break;
		}
		memset(seen, 0, sizeof seen);
		if (cmd_eval_check_line(e, &j, line, seen) != 0) {
			app_error("--check '%s' (%s): output line %d, column %d: expected %s: "
			    "%.*s", e->check_cmd, where, line + 1, (int)(j.p - j.s) + 1, j.err,
			    (int)(j.end - j.s > 80 ? 80 : j.end - j.s), j.s);
			return -1;
		}
		for (int k = 0; k < e->nkinds; k++)
			count[k] += seen[k];
		for (int k = 0; k < e->nkinds; k++)
			if (seen[k]) {
				any++;
				break;
			}
		line++;
		p = nl != NULL ? nl + 1 : end;
	}
	if (line != e->n || extra) {
		app_error("--check '%s' (%s): printed %s%d lines for %d texts (one line per "
		    "input line, in order)", e->check_cmd, where, extra ? "more than " : "",
		    line, e->n);
		return -1;
	}
	row->v[CMD_EVAL_M_VIOLATIONS][g] = 100.0 * (double)any / e->n;
	for (int k = 0; k < e->nkinds; k++) {
		if (count[k] == 0)
			continue;
		if (row->kinds[k] == NULL)
			row->kinds[k] = xcalloc((size_t)e->gen_seeds, sizeof(double));
		row->kinds[k][g] = 100.0 * (double)count[k] / e->n;
	}
	return 0;
}

/* Run the checker over one row's texts of generation seed g and count violations. */
int
cmd_eval_check_row(struct cmd_eval *e, struct cmd_eval_row *row,
    const struct cmd_eval_sample *prompts, int g)
{
	const char *dir = getenv("TMPDIR");
	char *in_path = NULL, *out_path = NULL, *buf = NULL, *cause = NULL, where[300], num[32];
	int in = -1, out = -1, status, ret = -1;
	FILE *f = NULL;
	size_t len;

	snprintf(where, sizeof where, "generation seed %d, %s", g + 1, row->name);
	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	if (asprintf(&in_path, "%s/seqmatch-check-XXXXXX", dir) < 0 ||
	    asprintf(&out_path, "%s/seqmatch-check-XXXXXX", dir) < 0)
		app_fatal("out of memory");
	if ((in = mkstemp(in_path)) < 0 || (out = mkstemp(out_path)) < 0) {
		app_error("--check: cannot create a file in %s: %s", dir, strerror(errno));
		goto out;
	}
	if ((f = fdopen(dup(in), "w")) == NULL ||
	    cmd_eval_check_write(e, row, prompts, f) != 0 || lseek(in, 0, SEEK_SET) != 0) {
		app_error("--check: cannot write %s: %s", in_path, strerror(errno));
		goto out;
	}
	/* The checker may tell rows apart (e.g. to keep their texts). */
	snprintf(num, sizeof num, "%d", row->index);
	setenv("SEQMATCH_CHECK_ROW", row->kind == CMD_EVAL_ROW_MODEL ? num : "human", 1);
	snprintf(num, sizeof num, "%d", g + 1);
	setenv("SEQMATCH_CHECK_GEN_SEED", num, 1);
	status = cmd_eval_check_spawn(e->check_cmd, in, out);
	unsetenv("SEQMATCH_CHECK_ROW");
	unsetenv("SEQMATCH_CHECK_GEN_SEED");
	if (status == -1) {
		app_error("--check '%s': cannot run /bin/sh: %s", e->check_cmd, strerror(errno));
		goto out;
	}
	if (WIFSIGNALED(status)) {
		app_error("--check '%s' (%s): killed by signal %d", e->check_cmd, where,
		    WTERMSIG(status));
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		app_error("--check '%s' (%s): exited with status %d", e->check_cmd, where,
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		goto out;
	}
	if (util_read_file(out_path, 0, &buf, &len, &cause) != 0) {
		app_error("--check '%s': %s", e->check_cmd, cause);
		goto out;
	}
	ret = cmd_eval_check_read(e, row, g, buf, len, where);
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
	free(in_path);
	free(out_path);
	free(buf);
	free(cause);
	return ret;
}
