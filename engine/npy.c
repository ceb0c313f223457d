/*
 * npy.c: reading and writing NumPy .npy matrices (float32/float64, C order, 2-D).
 *
 * The format (NEP 1): the magic "\x93NUMPY", a major and a minor version byte,
 * the header length (2 bytes little-endian in version 1.0, 4 bytes in 2.0 and
 * 3.0), then the header: a Python dict literal such as
 *
 *	{'descr': '<f4', 'fortran_order': False, 'shape': (5000, 768), }
 *
 * padded with spaces and ending in '\n', then the raw data. The dict is parsed
 * as a small grammar (keys in any order, any spacing, optional trailing comma,
 * shape tuples with or without a trailing comma, Python 2 'L' suffixes), not
 * with string searches, so that a malformed header is an error rather than a
 * misread. The data length follows from the shape and the dtype; it is
 * checked, with overflow checks, against the file size before the matrix is
 * allocated, so a corrupt or hostile header cannot make us allocate more than
 * the file holds. Values are decoded byte by byte as little-endian, which
 * costs nothing on little-endian hosts and stays correct on others.
 */
#include "config.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "npy.h"
#include "util.h"

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_MAX_DIMS 32
#define NPY_CHUNK 65536 /* bytes of float64 data decoded at a time */

/* What the header says. */
struct npy_header {
	size_t data_offset;   /* bytes before the data */
	size_t header_len;    /* the dict's length */
	int elem_size;        /* 4 (float32) or 8 (float64) */
	int have_descr, have_fortran, have_shape;
	int ndim;
	uint64_t shape[NPY_MAX_DIMS];
	size_t data_bytes;    /* shape[0] * shape[1] * elem_size */
};

/* A cursor over the header text. */
struct npy_parser {
	const char *name;
	const char *s;
	size_t len, pos;
	char **cause;
};

/* Decode a little-endian float32. */
static float
npy_le_f32(const unsigned char *b)
{
	uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[3] << 24;
	float f;

	memcpy(&f, &u, sizeof f);
	return f;
}

/* Decode a little-endian float64. */
static double
npy_le_f64(const unsigned char *b)
{
	uint64_t u = 0;
	double v;

	for (int i = 7; i >= 0; i--)
		u = u << 8 | b[i];
	memcpy(&v, &u, sizeof v);
	return v;
}

/* Check the magic and version; find where the header starts and its length. */
static int
npy_preamble(const char *name, const unsigned char *b, size_t avail, size_t file_size,
    struct npy_header *h, char **cause)
{
	size_t start;

	if (avail < NPY_MAGIC_LEN || memcmp(b, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
		return util_error(cause, "%s: not a .npy file (bad magic; expected "
		    "\\x93NUMPY)", name);
	if (avail < 8)
		return util_error(cause, "%s: truncated header (%zu bytes)", name, file_size);
	if (b[6] == 1 && b[7] == 0)
		start = 10;
	else if ((b[6] == 2 || b[6] == 3) && b[7] == 0)
		start = 12;
	else
		return util_error(cause, "%s: unsupported .npy version %u.%u (need 1.0, 2.0 "
		    "or 3.0)", name, b[6], b[7]);
	if (avail < start)
		return util_error(cause, "%s: truncated header (%zu bytes)", name, file_size);
	if (start == 10)
		h->header_len = (size_t)b[8] | (size_t)b[9] << 8;
	else
		h->header_len = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 |
		    (size_t)b[11] << 24;
	if (h->header_len > file_size - start)
		return util_error(cause, "%s: header length %zu goes beyond the end of the "
		    "file (%zu bytes)", name, h->header_len, file_size);
	if (h->header_len > NPY_MAX_HEADER)
		return util_error(cause, "%s: header too long (%zu bytes, at most %d)", name,
		    h->header_len, NPY_MAX_HEADER);
	h->data_offset = start + h->header_len;
	return 0;
}

/* Report a malformed header at the cursor. */
static int
npy_malformed(struct npy_parser *p, const char *what)
{
	return util_error(p->cause, "%s: malformed header: %s at offset %zu of the header "
	    "dict", p->name, what, p->pos);
}

/* Skip spaces, tabs and newlines. */
static void
npy_skip_space(struct npy_parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
	    p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

/* The next character, or -1 at the end. */
static int
npy_peek(struct npy_parser *p)
{
	return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

/* Consume c (after spaces) or fail with a message. */
static int
npy_expect(struct npy_parser *p, char c, const char *what)
{
	npy_skip_space(p);
	if (npy_peek(p) != (unsigned char)c)
		return npy_malformed(p, what);
	p->pos++;
	return 0;
}

/* A quoted string literal (single or double quotes, no escapes) into buf. */
static int
npy_string(struct npy_parser *p, char *buf, size_t size)
{
	int q;
	size_t n = 0;

	npy_skip_space(p);
	q = npy_peek(p);
	if (q != '\'' && q != '"')
		return npy_malformed(p, "expected a quoted string");
	p->pos++;
	while (p->pos < p->len && p->s[p->pos] != q) {
		unsigned char c = (unsigned char)p->s[p->pos];
		if (c == '\\' || c == '\n' || c < 0x20)
			return npy_malformed(p, "unexpected character in a string");
		if (n + 1 >= size)
			return npy_malformed(p, "string too long");
		buf[n++] = (char)c;
		p->pos++;
	}
	if (p->pos >= p->len)
		return npy_malformed(p, "unterminated string");
	p->pos++;
	buf[n] = '\0';
	return 0;
}

/* Whether the identifier word is next (and not followed by more letters); consume it. */
static int
npy_word(struct npy_parser *p, const char *word)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return 0;
	if (p->pos + n < p->len) {
		char c = p->s[p->pos + n];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_')
			return 0;
	}
	p->pos += n;
	return 1;
}

/* The 'descr' value: only little-endian float32 and float64. */
static int
npy_descr(struct npy_parser *p, struct npy_header *h)
{
	char descr[64];

	npy_skip_space(p);
	if (npy_peek(p) == '[')
		return util_error(p->cause, "%s: unsupported dtype: a structured array "
		    "(need float32 or float64)", p->name);
	if (npy_string(p, descr, sizeof descr) != 0)
		return -1;
	if (strcmp(descr, "<f4") == 0)
		h->elem_size = 4;
	else if (strcmp(descr, "<f8") == 0)
		h->elem_size = 8;
	else
		return util_error(p->cause, "%s: unsupported dtype '%s' (need float32 or "
		    "float64: '<f4' or '<f8')", p->name, descr);
	return 0;
}

/* The 'fortran_order' value: True or False (True is refused). */
static int
npy_fortran(struct npy_parser *p)
{
	npy_skip_space(p);
	if (npy_word(p, "False"))
		return 0;
	if (npy_word(p, "True"))
		return util_error(p->cause, "%s: fortran_order is True: Fortran (column-major) "
		    "order is not supported; save a C-order array (np.ascontiguousarray)",
		    p->name);
	return npy_malformed(p, "fortran_order must be True or False");
}

/* The 'shape' value: a tuple of non-negative integers. */
static int
npy_shape(struct npy_parser *p, struct npy_header *h)
{
	if (npy_expect(p, '(', "expected '(' to start the shape") != 0)
		return -1;
	h->ndim = 0;
	for (;;) {
		uint64_t v = 0;
		int digits = 0;

		npy_skip_space(p);
		if (npy_peek(p) == ')') {
			p->pos++;
			break;
		}
		while (npy_peek(p) >= '0' && npy_peek(p) <= '9') {
			unsigned dig = (unsigned)(npy_peek(p) - '0');
			if (v > (UINT64_MAX - dig) / 10)
				return util_error(p->cause, "%s: absurd shape: a dimension does "
				    "not fit in 64 bits", p->name);
			v = v * 10 + dig;
			digits++;
			p->pos++;
		}
		if (digits == 0)
			return npy_malformed(p, "expected a non-negative integer in the shape");
		if (npy_peek(p) == 'L')
			p->pos++;
		if (h->ndim == NPY_MAX_DIMS)
			return npy_malformed(p, "too many dimensions in the shape");
		h->shape[h->ndim++] = v;
		npy_skip_space(p);
		if (npy_peek(p) == ',') {
			p->pos++;
			continue;
		}
		if (npy_peek(p) == ')') {
			p->pos++;
			break;
		}
		return npy_malformed(p, "expected ',' or ')' in the shape");
	}
	return 0;
}

/* Parse the header dict. */
static int
npy_dict(const char *name, const char *s, size_t len, struct npy_header *h, char **cause)
{
	struct npy_parser p = { name, s, len, 0, cause };
	char key[64];

	if (npy_expect(&p, '{', "expected '{'") != 0)
		return -1;
	for (;;) {
		npy_skip_space(&p);
		if (npy_peek(&p) == '}') {
			p.pos++;
			break;
		}
		if (npy_string(&p, key, sizeof key) != 0)
			return -1;
		if (npy_expect(&p, ':', "expected ':' after a key") != 0)
			return -1;
		if (strcmp(key, "descr") == 0) {
			if (h->have_descr++)
				return npy_malformed(&p, "duplicate key 'descr'");
			if (npy_descr(&p, h) != 0)
				return -1;
		} else if (strcmp(key, "fortran_order") == 0) {
			if (h->have_fortran++)
				return npy_malformed(&p, "duplicate key 'fortran_order'");
			if (npy_fortran(&p) != 0)
				return -1;
		} else if (strcmp(key, "shape") == 0) {
			if (h->have_shape++)
				return npy_malformed(&p, "duplicate key 'shape'");
			if (npy_shape(&p, h) != 0)
				return -1;
		} else {
			return util_error(cause, "%s: malformed header: unknown key '%s'", name,
			    key);
		}
		npy_skip_space(&p);
		if (npy_peek(&p) == ',') {
			p.pos++;
			continue;
		}
		if (npy_peek(&p) == '}') {
			p.pos++;
			break;
		}
		return npy_malformed(&p, "expected ',' or '}' after a value");
	}
	npy_skip_space(&p);
	while (p.pos < p.len && p.s[p.pos] == '\0')
		p.pos++;
	if (p.pos != p.len)
		return npy_malformed(&p, "unexpected text after the dict");
	if (!h->have_descr || !h->have_fortran || !h->have_shape)
		return util_error(cause, "%s: malformed header: missing key '%s'", name,
		    !h->have_descr ? "descr" : !h->have_fortran ? "fortran_order" : "shape");
	return 0;
}

/* Check the shape against the file size (no allocation before this passes). */
static int
npy_sizes(const char *name, struct npy_header *h, size_t file_size, char **cause)
{
	uint64_t n, d, bytes;
	size_t have = file_size - h->data_offset;

	if (h->ndim != 2)
		return util_error(cause, "%s: the array has %d dimension%s; need a 2-D (n, d) "
		    "matrix", name, h->ndim, h->ndim == 1 ? "" : "s");
	n = h->shape[0];
	d = h->shape[1];
	if (n == 0 || d == 0)
		return util_error(cause, "%s: empty matrix, shape (%" PRIu64 ", %" PRIu64 ")",
		    name, n, d);
	if (__builtin_mul_overflow(n, d, &bytes) ||
	    __builtin_mul_overflow(bytes, (uint64_t)h->elem_size, &bytes) ||
	    bytes > SIZE_MAX)
		return util_error(cause, "%s: absurd shape (%" PRIu64 ", %" PRIu64 "): the "
		    "data size overflows", name, n, d);
	if (bytes > have)
		return util_error(cause, "%s: truncated: expected %" PRIu64 " bytes of data, "
		    "found %zu", name, bytes, have);
	if (bytes < have)
		return util_error(cause, "%s: %zu bytes of unexpected trailing data after the "
		    "(%" PRIu64 ", %" PRIu64 ") matrix", name, have - (size_t)bytes, n, d);
	if (n > INT_MAX || d > INT_MAX)
		return util_error(cause, "%s: shape (%" PRIu64 ", %" PRIu64 ") too large "
		    "(at most %d rows and columns)", name, n, d, INT_MAX);
	h->data_bytes = (size_t)bytes;
	return 0;
}

/* Decode count elements of the data at src into dst (float32), from element offset first. */
static int
npy_decode(const char *name, const struct npy_header *h, const unsigned char *src,
    size_t count, size_t first, float *dst, char **cause)
{
	if (h->elem_size == 4) {
		for (size_t i = 0; i < count; i++)
			dst[i] = npy_le_f32(src + 4 * i);
		return 0;
	}
	for (size_t i = 0; i < count; i++) {
		double v = npy_le_f64(src + 8 * i);
		if (isfinite(v) && fabs(v) > FLT_MAX) {
			size_t at = first + i, cols = (size_t)h->shape[1];
			return util_error(cause, "%s: value %g at row %zu, column %zu does not "
			    "fit in float32", name, v, at / cols, at % cols);
		}
		dst[i] = (float)v;
	}
	return 0;
}

/* Parse a whole file held in memory. */
int
npy_read_mem(const void *buf, size_t len, const char *name, float **data, int *n, int *d,
    char **cause)
{
	const unsigned char *b = buf;
	struct npy_header h;
	size_t count;
	float *out;

	*data = NULL;
	*n = *d = 0;
	memset(&h, 0, sizeof h);
	if (npy_preamble(name, b, len < 12 ? len : 12, len, &h, cause) != 0)
		return -1;
	if (npy_dict(name, (const char *)b + (h.data_offset - h.header_len), h.header_len,
	    &h, cause) != 0)
		return -1;
	if (npy_sizes(name, &h, len, cause) != 0)
		return -1;
	count = h.data_bytes / (size_t)h.elem_size;
	out = util_alloc(count * sizeof *out);
	if (out == NULL)
		return util_error(cause, "%s: out of memory (%zu bytes)", name,
		    count * sizeof *out);
	if (npy_decode(name, &h, b + h.data_offset, count, 0, out, cause) != 0) {
		util_free(out);
		return -1;
	}
	*data = out;
	*n = (int)h.shape[0];
	*d = (int)h.shape[1];
	return 0;
}

/* Read exactly len bytes; -1 with a "truncated" message if the file is shorter. */
static int
npy_fread(FILE *f, const char *name, void *buf, size_t len, char **cause)
{
	size_t got = fread(buf, 1, len, f);

	if (got == len)
		return 0;
	if (ferror(f))
		return util_error(cause, "%s: read error: %s", name, strerror(errno));
	return util_error(cause, "%s: truncated while reading (the file shrank?)", name);
}

/* Read a .npy file from disk. */
int
npy_read(const char *path, float **data, int *n, int *d, char **cause)
{
	struct npy_header h;
	struct stat st;
	unsigned char pre[12];
	char *text = NULL;
	float *out = NULL;
	unsigned char *chunk = NULL;
	size_t file_size, avail, count;
	FILE *f;

	*data = NULL;
	*n = *d = 0;
	memset(&h, 0, sizeof h);
	f = fopen(path, "rb");
	if (f == NULL)
		return util_error(cause, "%s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) != 0) {
		util_error(cause, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		util_error(cause, "%s: is a directory", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		/* A pipe or a device: no size to check against, so read it all. */
		char *buf;
		size_t len;
		int ret;

		fclose(f);
		if (util_read_file(path, 0, &buf, &len, cause) != 0)
			return -1;
		ret = npy_read_mem(buf, len, path, data, n, d, cause);
		free(buf);
		return ret;
	}
	file_size = (size_t)st.st_size;
	avail = file_size < sizeof pre ? file_size : sizeof pre;
	if (npy_fread(f, path, pre, avail, cause) != 0 ||
	    npy_preamble(path, pre, avail, file_size, &h, cause) != 0)
		goto fail;
	text = malloc(h.header_len + 1);
	if (text == NULL) {
		util_error(cause, "%s: out of memory", path);
		goto fail;
	}
	if (fseek(f, (long)(h.data_offset - h.header_len), SEEK_SET) != 0) {
		util_error(cause, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (npy_fread(f, path, text, h.header_len, cause) != 0 ||
	    npy_dict(path, text, h.header_len, &h, cause) != 0 ||
	    npy_sizes(path, &h, file_size, cause) != 0)
		goto fail;
	count = h.data_bytes / (size_t)h.elem_size;
	out = util_alloc(count * sizeof *out);
	if (out == NULL) {
		util_error(cause, "%s: out of memory (%zu bytes)", path, count * sizeof *out);
		goto fail;
	}
	if (h.elem_size == 4) {
		if (npy_fread(f, path, out, h.data_bytes, cause) != 0 ||
		    npy_decode(path, &h, (const unsigned char *)out, count, 0, out, cause) != 0)
			goto fail;
	} else {
		size_t per = NPY_CHUNK / 8;

		chunk = malloc(NPY_CHUNK);
		if (chunk == NULL) {
			util_error(cause, "%s: out of memory", path);
			goto fail;
		}
		for (size_t at = 0; at < count; at += per) {
			size_t m = count - at < per ? count - at : per;
			if (npy_fread(f, path, chunk, m * 8, cause) != 0 ||
			    npy_decode(path, &h, chunk, m, at, out + at, cause) != 0)
				goto fail;
		}
	}
	free(chunk);
	free(text);
	fclose(f);
	*data = out;
	*n = (int)h.shape[0];
	*d = (int)h.shape[1];
	return 0;
fail:
	free(chunk);
	free(text);
	util_free(out);
	fclose(f);
	return -1;
}

/* Write a float32 (n, d) matrix as a version 1.0 file. */
int
npy_write(const char *path, const float *data, int n, int d, char **cause)
{
	char dict[128];
	unsigned char *buf;
	size_t hlen, total, count, bytes;
	int len, ret;

	if (n < 1 || d < 1)
		return util_error(cause, "%s: cannot write an empty matrix (%d x %d)", path,
		    n, d);
	len = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, "
	    "'shape': (%d, %d), }", n, d);
	/* Pad with spaces and a final newline so that the data start is 64-aligned. */
	hlen = (size_t)len + 1;
	hlen += (64 - (10 + hlen) % 64) % 64;
	if (util_mul((size_t)n, (size_t)d, &count) != 0 ||
	    util_mul(count, 4, &bytes) != 0 || util_add(bytes, 10 + hlen, &total) != 0)
		return util_error(cause, "%s: matrix too large (%d x %d)", path, n, d);
	buf = malloc(total);
	if (buf == NULL)
		return util_error(cause, "%s: out of memory (%zu bytes)", path, total);
	memcpy(buf, NPY_MAGIC, NPY_MAGIC_LEN);
	buf[6] = 1;
	buf[7] = 0;
	buf[8] = (unsigned char)(hlen & 0xff);
	buf[9] = (unsigned char)(hlen >> 8);
	memset(buf + 10, ' ', hlen);
	memcpy(buf + 10, dict, (size_t)len);
	buf[10 + hlen - 1] = '\n';
	for (size_t i = 0; i < count; i++) {
		uint32_t u;
		unsigned char *o = buf + 10 + hlen + 4 * i;
		memcpy(&u, &data[i], sizeof u);
		o[0] = (unsigned char)u;
		o[1] = (unsigned char)(u >> 8);
		o[2] = (unsigned char)(u >> 16);
		o[3] = (unsigned char)(u >> 24);
	}
	ret = util_write_file_atomic(path, buf, total, 0644, cause);
	free(buf);
	return ret;
}
