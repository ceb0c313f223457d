/*
 * test-npy.c: the .npy reader and writer. Files are written byte by byte in a
 * temporary directory (versions 1.0, 2.0 and 3.0, float32 and float64, header
 * dicts with keys in any order, other quotes and spacing); every malformed or
 * unsupported file must be refused with a message naming the file and saying
 * what is wrong, through both the file and the in-memory reader.
 */
#include "config.h"

#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "npy.h"
#include "rng.h"
#include "tap.h"
#include "util.h"

static char tmpdir[PATH_MAX];

/* A path inside the temporary directory. */
static const char *
tmp_path(const char *name)
{
	static char buf[PATH_MAX + 64];

	snprintf(buf, sizeof buf, "%s/%s", tmpdir, name);
	return buf;
}

/*
 * Build a .npy file in memory: magic, version major.0, the header length
 * (hlen_override if >= 0, else the header's), the header text padded with
 * spaces to a multiple of 64 plus '\n' (unless raw), then data_len bytes.
 */
static unsigned char *
build(int major, const char *dict, int raw, long hlen_override, const void *data,
    size_t data_len, size_t *out_len)
{
	size_t pre = major == 1 ? 10 : 12, dl = strlen(dict), hlen = dl;
	unsigned char *b;

	if (!raw) {
		hlen = dl + 1;
		hlen += (64 - (pre + hlen) % 64) % 64;
	}
	b = malloc(pre + hlen + data_len + 1);
	memcpy(b, "\x93NUMPY", 6);
	b[6] = (unsigned char)major;
	b[7] = 0;
	{
		size_t h = hlen_override >= 0 ? (size_t)hlen_override : hlen;
		b[8] = (unsigned char)h;
		b[9] = (unsigned char)(h >> 8);
		if (major != 1) {
			b[10] = (unsigned char)(h >> 16);
			b[11] = (unsigned char)(h >> 24);
		}
	}
	memset(b + pre, ' ', hlen);
	memcpy(b + pre, dict, dl);
	if (!raw)
		b[pre + hlen - 1] = '\n';
	if (data_len)
		memcpy(b + pre + hlen, data, data_len);
	*out_len = pre + hlen + data_len;
	return b;
}

/* Write bytes to a file in the temporary directory. */
static const char *
put(const char *name, const unsigned char *b, size_t len)
{
	const char *path = tmp_path(name);
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(b, 1, len, f) != len) {
		tap_diag("cannot write %s", path);
		exit(1);
	}
	fclose(f);
	return path;
}

/* Little-endian float32 bytes of v into b. */
static void
le32(unsigned char *b, float v)
{
	uint32_t u;

	memcpy(&u, &v, 4);
	for (int i = 0; i < 4; i++)
		b[i] = (unsigned char)(u >> (8 * i));
}

/* Little-endian float64 bytes of v into b. */
static void
le64(unsigned char *b, double v)
{
	uint64_t u;

	memcpy(&u, &v, 8);
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(u >> (8 * i));
}

/* A file that must load: shape and values checked, through the file and memory readers. */
static void
expect_ok(const char *name, int major, const char *dict, int raw, int esize, int n, int d)
{
	unsigned char data[8 * 64], *b;
	size_t len;
	float *x = NULL, *y = NULL;
	int rn, rd, ok = 1, mn, md;
	char *cause = NULL;
	const char *path;

	for (int i = 0; i < n * d; i++) {
		double v = (i - 3) / 3.0;
		if (esize == 4)
			le32(data + 4 * i, (float)v);
		else
			le64(data + 8 * i, v);
	}
	b = build(major, dict, raw, -1, data, (size_t)(n * d * esize), &len);
	path = put(name, b, len);
	if (npy_read(path, &x, &rn, &rd, &cause) != 0) {
		tap_ok(0, "%s: %s", name, cause);
		free(cause);
		free(b);
		return;
	}
	if (npy_read_mem(b, len, name, &y, &mn, &md, &cause) != 0) {
		tap_ok(0, "%s (memory): %s", name, cause);
		free(cause);
		free(b);
		util_free(x);
		return;
	}
	ok = rn == n && rd == d && mn == n && md == d;
	for (int i = 0; ok && i < n * d; i++)
		ok = x[i] == (float)((i - 3) / 3.0) && y[i] == x[i];
	tap_ok(ok, "%s: version %d.0 -> (%d, %d), values exact", name, major, rn, rd);
	util_free(x);
	util_free(y);
	free(b);
}

/* A file that must fail with a message naming it and containing word (file and memory). */
static void
expect_fail_bytes(const char *name, const unsigned char *b, size_t len, const char *word)
{
	float *x = (float *)1;
	int n = -1, d = -1, r1, r2, ok;
	char *c1 = NULL, *c2 = NULL;
	const char *path = put(name, b, len);

	r1 = npy_read(path, &x, &n, &d, &c1);
	ok = r1 != 0 && x == NULL && n == 0 && d == 0;
	r2 = npy_read_mem(b, len, name, &x, &n, &d, &c2);
	ok = ok && r2 != 0 && x == NULL;
	ok = ok && c1 != NULL && c2 != NULL && strstr(c1, word) != NULL &&
	    strstr(c2, word) != NULL && strstr(c1, path) != NULL && strstr(c2, name) != NULL;
	tap_ok(ok, "%s refused, says '%s': %s", name, word, c1 != NULL ? c1 : "(no message)");
	if (!ok && c2 != NULL)
		tap_diag("memory reader: %s", c2);
	free(c1);
	free(c2);
}

/* Build then expect failure. */
static void
expect_fail(const char *name, int major, const char *dict, size_t data_len, const char *word)
{
	unsigned char *data = calloc(1, data_len + 1), *b;
	size_t len;

	b = build(major, dict, 0, -1, data, data_len, &len);
	expect_fail_bytes(name, b, len, word);
	free(b);
	free(data);
}

/* Files that load. */
static void
test_good(void)
{
	expect_ok("v1-f4.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }",
	    0, 4, 3, 4);
	expect_ok("v1-f8.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 2), }",
	    0, 8, 4, 2);
	expect_ok("v2-order.npy", 2, "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f8'}",
	    0, 8, 2, 3);
	expect_ok("v3-quotes.npy", 3,
	    "{ \"fortran_order\" :False ,\"descr\":\"<f4\",  'shape' : ( 5 , 1 , ) , }", 0, 4,
	    5, 1);
	expect_ok("v1-long.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L)}",
	    0, 4, 2, 3);
	expect_ok("v1-unpadded.npy", 1, "{'descr':'<f4','fortran_order':False,'shape':(1,7)}",
	    1, 4, 1, 7);
	expect_ok("v1-tabs.npy", 1, "{\t'descr': '<f8',\n'fortran_order': False,\t'shape': "
	    "(6, 6),\n}", 0, 8, 6, 6);
}

/* Files that must be refused, each with a telling word. */
static void
test_bad(void)
{
	static const char good[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";
	unsigned char *b, junk[64];
	size_t len;

	memset(junk, 'x', sizeof junk);
	expect_fail_bytes("magic.npy", junk, sizeof junk, "bad magic");
	expect_fail_bytes("short.npy", (const unsigned char *)"\x93NUM", 4, "bad magic");
	expect_fail_bytes("empty.npy", junk, 0, "bad magic");
	expect_fail_bytes("preamble.npy", (const unsigned char *)"\x93NUMPY\x01\x00\x10", 9,
	    "truncated header");
	b = build(1, good, 0, -1, junk, 48, &len);
	b[6] = 4;
	expect_fail_bytes("version4.npy", b, len, "version 4.0");
	b[6] = 1;
	b[7] = 1;
	expect_fail_bytes("version11.npy", b, len, "version 1.1");
	free(b);

	expect_fail("i4.npy", 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (3, 4), }",
	    48, "unsupported dtype '<i4' (need float32 or float64");
	expect_fail("i8.npy", 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3, 4), }",
	    96, "unsupported dtype '<i8'");
	expect_fail("bigendian.npy", 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (3, "
	    "4), }", 48, "unsupported dtype '>f4'");
	expect_fail("f2.npy", 1, "{'descr': '<f2', 'fortran_order': False, 'shape': (3, 4), }",
	    24, "unsupported dtype '<f2'");
	expect_fail("pipe-f4.npy", 1, "{'descr': '|f4', 'fortran_order': False, 'shape': (3, "
	    "4), }", 48, "unsupported dtype '|f4'");
	expect_fail("object.npy", 1, "{'descr': '|O', 'fortran_order': False, 'shape': (3, 4), }",
	    96, "unsupported dtype '|O'");
	expect_fail("structured.npy", 1, "{'descr': [('a', '<f4')], 'fortran_order': False, "
	    "'shape': (3, 4), }", 48, "structured");
	expect_fail("fortran.npy", 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (3, 4), }",
	    48, "fortran_order is True");
	expect_fail("1d.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (12,), }",
	    48, "1 dimension;");
	expect_fail("3d.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 3), }",
	    48, "3 dimensions");
	expect_fail("0d.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }",
	    4, "0 dimensions");
	expect_fail("zero-rows.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, "
	    "4), }", 0, "empty matrix");
	expect_fail("truncated.npy", 1, good, 40, "truncated: expected 48 bytes of data, "
	    "found 40");
	expect_fail("nodata.npy", 2, good, 0, "truncated: expected 48 bytes of data, found 0");
	expect_fail("trailing.npy", 1, good, 52, "trailing");
	expect_fail("absurd.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': "
	    "(1099511627776, 1099511627776), }", 48, "absurd shape");
	expect_fail("absurd2.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': "
	    "(4611686018427387904, 2), }", 48, "absurd shape");
	expect_fail("huge-dim.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': "
	    "(99999999999999999999999, 2), }", 48, "absurd shape");
	expect_fail("big.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': "
	    "(1099511627776, 1048576), }", 48, "truncated: expected 4611686018427387904 bytes");
	expect_fail("int-range.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': "
	    "(3000000000, 1), }", 48, "truncated");

	b = build(1, good, 0, 5000, junk, 48, &len);
	expect_fail_bytes("hlen.npy", b, len, "beyond the end of the file");
	free(b);
	b = build(2, good, 0, 0x7fffffffL, junk, 48, &len);
	expect_fail_bytes("hlen2.npy", b, len, "beyond the end of the file");
	free(b);

	expect_fail("no-brace.npy", 1, "'descr': '<f4', 'fortran_order': False, 'shape': (3, 4)",
	    48, "malformed header: expected '{'");
	expect_fail("no-close.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4)",
	    48, "malformed header");
	expect_fail("no-colon.npy", 1, "{'descr' '<f4', 'fortran_order': False, 'shape': (3, 4)}",
	    48, "expected ':'");
	expect_fail("missing.npy", 1, "{'descr': '<f4', 'fortran_order': False}", 48,
	    "missing key 'shape'");
	expect_fail("unknown.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), "
	    "'extra': 1}", 48, "unknown key 'extra'");
	expect_fail("dup.npy", 1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
	    "'shape': (3, 4)}", 48, "duplicate key 'descr'");
	expect_fail("bad-int.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, x)}",
	    48, "malformed header");
	expect_fail("neg-dim.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, -4)}",
	    48, "malformed header");
	expect_fail("bool.npy", 1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (3, 4)}", 48,
	    "fortran_order must be True or False");
	expect_fail("falsey.npy", 1, "{'descr': '<f4', 'fortran_order': Falsey, 'shape': (3, 4)}",
	    48, "fortran_order must be True or False");
	expect_fail("unterminated.npy", 1, "{'descr': '<f4", 48, "malformed header");
	expect_fail("quote.npy", 1, "{'descr': '<f4, 'fortran_order': False}", 48,
	    "unsupported dtype '<f4, '");
	expect_fail("after.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4)} x",
	    48, "unexpected text after the dict");
	expect_fail("no-comma.npy", 1, "{'descr': '<f4' 'fortran_order': False, 'shape': (3, 4)}",
	    48, "expected ',' or '}'");

	/* A float64 value beyond float32's range. */
	{
		unsigned char data[16];
		le64(data, 1.0);
		le64(data + 8, 1e300);
		b = build(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", 0, -1,
		    data, 16, &len);
		expect_fail_bytes("range.npy", b, len, "does not fit in float32");
		free(b);
	}
}

/* Missing files and directories. */
static void
test_paths(void)
{
	float *x;
	int n, d;
	char *cause = NULL;

	int r;

	r = npy_read(tmp_path("nonexistent.npy"), &x, &n, &d, &cause);
	tap_ok(r != 0 && strstr(cause, "nonexistent.npy") != NULL &&
	    strstr(cause, "No such file") != NULL, "missing file: %s", cause);
	r = npy_read(tmpdir, &x, &n, &d, &cause);
	tap_ok(r != 0 && strstr(cause, "directory") != NULL, "directory: %s", cause);
	free(cause);
}

/* Write, read back, compare bits; the header is 64-aligned version 1.0. */
static void
test_roundtrip(void)
{
	enum { N = 37, D = 13 };
	static float x[N * D];
	float *y = NULL;
	int n, d, ok;
	char *cause = NULL, *buf = NULL;
	size_t len;
	struct rng rng;
	const char *path;

	rng_init(&rng, 3);
	for (int i = 0; i < N * D; i++)
		x[i] = rng_normal(&rng) * 1e3f;
	x[5] = -0.0f;
	x[6] = 1e-40f; /* subnormal */
	path = tmp_path("written.npy");
	if (!tap_ok(npy_write(path, x, N, D, &cause) == 0, "write %s", path)) {
		tap_diag("%s", cause);
		free(cause);
		return;
	}
	ok = npy_read(path, &y, &n, &d, &cause) == 0 && n == N && d == D &&
	    memcmp(x, y, sizeof x) == 0;
	tap_ok(ok, "round trip (%d x %d): identical bits", n, d);
	util_free(y);
	if (util_read_file(path, 0, &buf, &len, &cause) == 0) {
		size_t hlen = (size_t)(unsigned char)buf[8] | (size_t)(unsigned char)buf[9] << 8;
		tap_ok(memcmp(buf, "\x93NUMPY\x01\x00", 8) == 0 && (10 + hlen) % 64 == 0 &&
		    buf[10 + hlen - 1] == '\n' && len == 10 + hlen + sizeof x &&
		    strstr(buf + 10, "'descr': '<f4'") != NULL &&
		    strstr(buf + 10, "'shape': (37, 13)") != NULL,
		    "written header: version 1.0, 64-aligned, '<f4', shape (37, 13)");
		free(buf);
	}
	{ /* the writer's temporary files are named written.npy.tmp-... */
		DIR *dir = opendir(tmpdir);
		struct dirent *de;
		int left = 0;

		while (dir != NULL && (de = readdir(dir)) != NULL)
			left += strncmp(de->d_name, "written.npy.", 12) == 0;
		if (dir != NULL)
			closedir(dir);
		tap_ok(dir != NULL && left == 0, "no temporary file left behind (%d)", left);
	}
	ok = npy_write(path, x, 0, D, &cause) != 0 && strstr(cause, "empty") != NULL;
	tap_ok(ok, "writing an empty matrix is refused: %s", cause);
	ok = npy_write(tmp_path("nodir/x.npy"), x, N, D, &cause) != 0 &&
	    strstr(cause, "nodir") != NULL;
	tap_ok(ok, "writing into a missing directory fails: %s", cause);
	free(cause);
}

/* Remove the temporary directory and its files. */
static void
cleanup(void)
{
	char cmd[PATH_MAX + 16];

	if (tmpdir[0] == '\0')
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmpdir);
}

int
main(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof tmpdir, "%s/test-npy.XXXXXX", base && *base ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! cannot create a temporary directory\n");
		return 1;
	}
	test_good();
	test_bad();
	test_paths();
	test_roundtrip();
	cleanup();
	return tap_done();
}
