/*
 * corpus.c: plain UTF-8 text corpora split into documents, and held-out splits.
 *
 * How this works. The whole buffer is validated first, line by line, so that
 * the first problem in file order is the one reported, as file:line:col with
 * the byte column (1-based): a NUL byte means a binary file; UTF-8 is checked
 * against the well-formed byte sequences of Unicode 15, table 3-7 (no
 * overlong forms, no surrogates D800..DFFF, nothing above U+10FFFF, no
 * truncated or stray continuation bytes). A UTF-8 byte order mark at the very
 * start is allowed and dropped.
 *
 * Then lines (ending in \n or \r\n; \r\n becomes \n) are grouped into
 * documents. A line is blank when it holds only spaces, tabs, \r, \f or \v.
 * With CORPUS_SEP_BLANK, runs of non-blank lines are documents. With
 * CORPUS_SEP_PERCENT, a line holding "%" (trailing spaces or tabs allowed)
 * ends a document and blank lines inside a document are kept. Either way a
 * document loses its leading and trailing blank lines, its lines are joined
 * with \n and it has no final \n; documents left empty are dropped.
 *
 * Splits hash each document's text with the seed (FNV-1a, then a 64-bit
 * finaliser) into a number u in [0, 1): the document goes to val when
 * u < val_fraction. The decision depends only on the text and the seed, so
 * duplicate documents land on the same side and adding documents does not
 * move the others.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "util.h"

/* A growing list of documents. */
struct corpus_list {
	char **docs;
	size_t *lens;
	size_t n;
	size_t cap;
	size_t bytes;
};

/* A growing byte buffer for the document being built. */
struct corpus_buf {
	char *p;
	size_t len;
	size_t cap;
};

/* Append n bytes to a buffer; -1 on allocation failure. */
static int
corpus_buf_add(struct corpus_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 256;
		char *p;

		while (ncap < b->len + n + 1) {
			if (util_mul(ncap, 2, &ncap) != 0)
				return -1;
		}
		p = realloc(b->p, ncap);
		if (p == NULL)
			return -1;
		b->p = p;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

/* Append a copy of s (n bytes) as a new document; -1 on allocation failure. */
static int
corpus_list_add(struct corpus_list *l, const char *s, size_t n)
{
	char *doc;

	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		char **docs;
		size_t *lens;

		docs = realloc(l->docs, ncap * sizeof *docs);
		if (docs == NULL)
			return -1;
		l->docs = docs;
		lens = realloc(l->lens, ncap * sizeof *lens);
		if (lens == NULL)
			return -1;
		l->lens = lens;
		l->cap = ncap;
	}
	doc = malloc(n + 1);
	if (doc == NULL)
		return -1;
	memcpy(doc, s, n);
	doc[n] = '\0';
	l->docs[l->n] = doc;
	l->lens[l->n] = n;
	l->n++;
	l->bytes += n;
	return 0;
}

/* Free a list's documents and arrays. */
static void
corpus_list_release(struct corpus_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->docs[i]);
	free(l->docs);
	free(l->lens);
	memset(l, 0, sizeof *l);
}

/* Turn a list into a corpus (the list is consumed, even on failure). */
static struct corpus *
corpus_from_list(struct corpus_list *l, uint64_t hash)
{
	struct corpus *c = malloc(sizeof *c);

	if (c == NULL) {
		corpus_list_release(l);
		return NULL;
	}
	c->ndocs = l->n;
	c->docs = l->docs;
	c->lens = l->lens;
	c->hash = hash;
	c->bytes = l->bytes;
	memset(l, 0, sizeof *l);
	return c;
}

/*
 * Length of the well-formed UTF-8 sequence at p (n bytes available), or 0
 * with *why set to what is wrong.
 */
static size_t
corpus_utf8_seq(const unsigned char *p, size_t n, const char **why)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t need;

	if (c < 0x80)
		return 1;
	if (c < 0xc0) {
		*why = "unexpected continuation byte";
		return 0;
	}
	if (c < 0xc2) {
		*why = "overlong encoding";
		return 0;
	}
	if (c < 0xe0)
		need = 2;
	else if (c < 0xf0) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0; /* below is overlong */
		else if (c == 0xed)
			hi = 0x9f; /* above is a UTF-16 surrogate */
	} else if (c < 0xf5) {
		need = 4;
		if (c == 0xf0)
			lo = 0x90; /* below is overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above is beyond U+10FFFF */
	} else {
		*why = "invalid byte (beyond U+10FFFF)";
		return 0;
	}
	for (size_t i = 1; i < need; i++) {
		if (i >= n || p[i] < 0x80 || p[i] > 0xbf) {
			*why = "truncated sequence";
			return 0;
		}
		if (i == 1 && (p[1] < lo || p[1] > hi)) {
			if (c == 0xe0 || c == 0xf0)
				*why = "overlong encoding";
			else if (c == 0xed)
				*why = "UTF-16 surrogate";
			else
				*why = "code point beyond U+10FFFF";
			return 0;
		}
	}
	return need;
}

/* Check the whole buffer for NUL bytes and invalid UTF-8, in file order. */
static int
corpus_validate(const char *name, const unsigned char *p, size_t len, char **cause)
{
	size_t line = 1, line_start = 0, i = 0;

	while (i < len) {
		const char *why = NULL;
		size_t k;

		if (p[i] == '\0')
			return util_error(cause, "%s:%zu:%zu: binary file (NUL byte)", name,
			    line, i - line_start + 1);
		if (p[i] == '\n') {
			line++;
			line_start = ++i;
			continue;
		}
		k = corpus_utf8_seq(p + i, len - i, &why);
		if (k == 0)
			return util_error(cause, "%s:%zu:%zu: invalid UTF-8 (%s, byte 0x%02x)",
			    name, line, i - line_start + 1, why, p[i]);
		i += k;
	}
	return 0;
}

/* Whether a line (without its end) holds only white space. */
static int
corpus_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strchr(" \t\r\f\v", s[i]) == NULL || s[i] == '\0')
			return 0;
	}
	return 1;
}

/* Whether a line (without its end) is a "%" separator. */
static int
corpus_percent(const char *s, size_t n)
{
	if (n == 0 || s[0] != '%')
		return 0;
	for (size_t i = 1; i < n; i++) {
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	}
	return 1;
}

/* Move the document being built (minus trailing blank lines) into the list. */
static int
corpus_flush(struct corpus_list *l, struct corpus_buf *cur, size_t *content_end)
{
	int rc = 0;

	if (*content_end > 0)
		rc = corpus_list_add(l, cur->p, *content_end);
	cur->len = 0;
	*content_end = 0;
	return rc;
}

/* Parse a buffer into documents. */
int
corpus_parse(const char *name, const char *buf, size_t len, enum corpus_sep sep,
    struct corpus **out, char **cause)
{
	struct corpus_list l = { 0 };
	struct corpus_buf cur = { 0 };
	size_t off = 0, content_end = 0;
	uint64_t hash;

	*out = NULL;
	if (sep != CORPUS_SEP_BLANK && sep != CORPUS_SEP_PERCENT)
		return util_error(cause, "%s: unknown document separator %d", name,
		    (int)sep);
	if (len == 0)
		return util_error(cause, "%s: no documents (empty file)", name);
	if (corpus_validate(name, (const unsigned char *)buf, len, cause) != 0)
		return -1;
	hash = util_fnv1a(UTIL_FNV_INIT, buf, len);
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		off = 3;

	while (off < len) {
		const char *s = buf + off, *nl;
		size_t n, next;

		nl = memchr(s, '\n', len - off);
		n = nl != NULL ? (size_t)(nl - s) : len - off;
		next = off + n + (nl != NULL);
		if (n > 0 && s[n - 1] == '\r')
			n--; /* \r\n, or a final \r */
		off = next;

		if (sep == CORPUS_SEP_PERCENT && corpus_percent(s, n)) {
			if (corpus_flush(&l, &cur, &content_end) != 0)
				goto nomem;
			continue;
		}
		if (corpus_blank(s, n)) {
			if (sep == CORPUS_SEP_BLANK) {
				if (corpus_flush(&l, &cur, &content_end) != 0)
					goto nomem;
			} else if (content_end > 0) {
				/* Kept only if a non-blank line follows. */
				if (corpus_buf_add(&cur, "\n", 1) != 0 ||
				    corpus_buf_add(&cur, s, n) != 0)
					goto nomem;
			}
			continue;
		}
		if (content_end > 0 && corpus_buf_add(&cur, "\n", 1) != 0)
			goto nomem;
		if (corpus_buf_add(&cur, s, n) != 0)
			goto nomem;
		content_end = cur.len;
	}
	if (corpus_flush(&l, &cur, &content_end) != 0)
		goto nomem;
	free(cur.p);
	if (l.n == 0) {
		corpus_list_release(&l);
		return util_error(cause, "%s: no documents (only blank lines%s)", name,
		    sep == CORPUS_SEP_PERCENT ? " and % separators" : "");
	}
	*out = corpus_from_list(&l, hash);
	if (*out == NULL)
		return util_error(cause, "%s: out of memory", name);
	return 0;

nomem:
	free(cur.p);
	corpus_list_release(&l);
	return util_error(cause, "%s: out of memory", name);
}

/* Read and parse a corpus file. */
int
corpus_load(const char *path, enum corpus_sep sep, struct corpus **out,
    char **cause)
{
	char *buf;
	size_t len;
	int rc;

	*out = NULL;
	if (util_read_file(path, 0, &buf, &len, cause) != 0)
		return -1;
	rc = corpus_parse(path, buf, len, sep, out, cause);
	free(buf);
	return rc;
}

/* Free a corpus (NULL is fine). */
void
corpus_free(struct corpus *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->ndocs; i++)
		free(c->docs[i]);
	free(c->docs);
	free(c->lens);
	free(c);
}

/* A number in [0, 1) from a document's text and the seed. */
static double
corpus_split_u(const char *doc, size_t len, uint64_t seed)
{
	unsigned char s[8];
	uint64_t h;

	for (int i = 0; i < 8; i++)
		s[i] = (unsigned char)(seed >> (8 * i));
	h = util_fnv1a(UTIL_FNV_INIT, s, sizeof s);
	h = util_fnv1a(h, doc, len);
	/* FNV's high bits mix poorly: finish with the murmur3 64-bit finaliser. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

/* Hash of a split's documents (each followed by a NUL). */
static uint64_t
corpus_docs_hash(const struct corpus_list *l)
{
	uint64_t h = UTIL_FNV_INIT;

	for (size_t i = 0; i < l->n; i++)
		h = util_fnv1a(h, l->docs[i], l->lens[i] + 1);
	return h;
}

/*
 * Deterministic held-out split (see the top of the file). With two or more
 * documents and val_fraction > 0, the document with the lowest u moves to val
 * if val would be empty, and the one with the highest to train if train
 * would be. A single document always goes to train. The hash of each half is
 * that of its documents, each followed by a NUL.
 */
int
corpus_split(const struct corpus *c, double val_fraction, uint64_t seed,
    struct corpus **train, struct corpus **val, char **cause)
{
	struct corpus_list lt = { 0 }, lv = { 0 };
	unsigned char *to_val = NULL;
	size_t nval = 0, lo = 0, hi = 0;
	double ulo = 2, uhi = -1;

	*train = NULL;
	*val = NULL;
	if (!(val_fraction >= 0 && val_fraction < 1))
		return util_error(cause, "validation fraction %g is not in [0, 1)",
		    val_fraction);
	if (c->ndocs == 0)
		return util_error(cause, "cannot split an empty corpus");
	to_val = calloc(c->ndocs, 1);
	if (to_val == NULL)
		return util_error(cause, "out of memory");
	if (val_fraction > 0 && c->ndocs >= 2) {
		for (size_t i = 0; i < c->ndocs; i++) {
			double u = corpus_split_u(c->docs[i], c->lens[i], seed);

			to_val[i] = u < val_fraction;
			nval += to_val[i];
			if (u < ulo) {
				ulo = u;
				lo = i;
			}
			if (u > uhi) {
				uhi = u;
				hi = i;
			}
		}
		if (nval == 0)
			to_val[lo] = 1;
		else if (nval == c->ndocs)
			to_val[hi] = 0;
	}
	for (size_t i = 0; i < c->ndocs; i++) {
		struct corpus_list *l = to_val[i] ? &lv : &lt;

		if (corpus_list_add(l, c->docs[i], c->lens[i]) != 0)
			goto nomem;
	}
	free(to_val);
	to_val = NULL;
	*train = corpus_from_list(&lt, corpus_docs_hash(&lt));
	if (*train == NULL)
		goto nomem;
	*val = corpus_from_list(&lv, corpus_docs_hash(&lv));
	if (*val == NULL) {
		corpus_free(*train);
		*train = NULL;
		goto nomem;
	}
	return 0;

nomem:
	free(to_val);
	corpus_list_release(&lt);
	corpus_list_release(&lv);
	return util_error(cause, "out of memory");
}
