/*
 * fuzz-npy.c: a fuzz target for the .npy reader (npy_read_mem, which
 * npy_read runs on the file's bytes).
 *
 * LLVMFuzzerTestOneInput checks the reader's promises: a matrix or a
 * message naming the file, never both, never neither; a matrix has n, d >= 1
 * (or n * d = 0 with no data read) and written out with npy_write and read
 * back gives the same bits. Built with libFuzzer:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DFUZZ_NPY_NO_MAIN -I. -Iengine \
 *       tests/fuzz-npy.c engine/libseqmatch.a -lopenblas -lm -lpthread -o fuzz-npy
 *   ./fuzz-npy tests/fuzz-seeds/npy
 * Without libFuzzer (make check) main() is the smoke test of tests/fuzz-main.h.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "npy.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_npy_tmp[4096]; /* a temporary file for the round trip */
static long fuzz_npy_loaded; /* inputs that loaded */

/* Abort with a reason (the fuzzer keeps the input). */
static void
fuzz_npy_fail(const char *what, const char *cause)
{
	fprintf(stderr, "fuzz-npy: %s%s%s\n", what, cause != NULL ? ": " : "",
	    cause != NULL ? cause : "");
	abort();
}

/* Remove the round trip's file at exit. */
static void
fuzz_npy_cleanup(void)
{
	if (fuzz_npy_tmp[0] != '\0')
		unlink(fuzz_npy_tmp);
}

/* Write the matrix out and read it back: the same shape and bits. */
static void
fuzz_npy_round_trip(const float *x, int n, int d)
{
	float *y = NULL;
	int n2, d2;
	char *cause = NULL;

	if (fuzz_npy_tmp[0] == '\0') {
		const char *t = getenv("TMPDIR");
		int fd;

		snprintf(fuzz_npy_tmp, sizeof fuzz_npy_tmp, "%s/fuzz-npy.XXXXXX",
		    t != NULL && t[0] != '\0' ? t : "/tmp");
		fd = mkstemp(fuzz_npy_tmp);
		if (fd < 0)
			fuzz_npy_fail("cannot make a temporary file", NULL);
		close(fd);
		atexit(fuzz_npy_cleanup);
	}
	if (npy_write(fuzz_npy_tmp, x, n, d, &cause) != 0)
		fuzz_npy_fail("npy_write failed", cause);
	if (npy_read(fuzz_npy_tmp, &y, &n2, &d2, &cause) != 0)
		fuzz_npy_fail("what npy_write wrote does not read back", cause);
	if (n2 != n || d2 != d)
		fuzz_npy_fail("the round trip changed the shape", NULL);
	if ((size_t)n * (size_t)d > 0 && memcmp(x, y, (size_t)n * (size_t)d * sizeof *x) != 0)
		fuzz_npy_fail("the round trip changed the values", NULL);
	util_free(y);
}

/* Read one input; abort if the reader breaks its contract. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	float *x = (float *)(uintptr_t)1;
	int n = -7, d = -7;
	char *cause = NULL;
	int rc;

	rc = npy_read_mem(data, size, "fuzz.npy", &x, &n, &d, &cause);
	if (rc == 0) {
		if (cause != NULL)
			fuzz_npy_fail("a matrix and a message", cause);
		if (n < 0 || d < 0 || ((size_t)n * (size_t)d > 0 && x == NULL))
			fuzz_npy_fail("a bad shape or no data", NULL);
		fuzz_npy_loaded++;
		/* Writing needs a real file: only for small matrices, so runs stay fast. */
		if ((size_t)n * (size_t)d <= 4096)
			fuzz_npy_round_trip(x, n, d);
		util_free(x);
	} else {
		if (rc != -1 || cause == NULL || strncmp(cause, "fuzz.npy", 8) != 0)
			fuzz_npy_fail("a failure without a message naming the file", cause);
		if (x != NULL)
			fuzz_npy_fail("a failure that left *data set", cause);
		free(cause);
	}
	return 0;
}

#ifndef FUZZ_NPY_NO_MAIN

#define FUZZ_MAIN_NAME "npy"
#define FUZZ_MAIN_RUNS 3000
#define FUZZ_MAIN_MAX_LEN 8192
#define FUZZ_MAIN_REPORT fuzz_npy_report

/* How many inputs loaded (the seeds at least). */
static int
fuzz_npy_report(void)
{
	printf("# %ld matrices loaded\n", fuzz_npy_loaded);
	return fuzz_npy_loaded > 0 ? 0 : -1;
}

/* Pieces of headers: magic, versions, dictionary keys and values. */
static const char *const fuzz_main_snippets[] = {
	"\x93NUMPY", "\x01", "\x02", "\x03", "", "{'descr': '<f4', ", "'fortran_order': False, ",
	"'shape': (2, 3), }", "'descr': '<f8'", "'descr': '>f4'", "'descr': '|u1'",
	"'fortran_order': True", "(", ")", ",", "'", "\"", ":", "{", "}", " ", "\n",
	"(0, 4)", "(4294967296, 1)", "(3,)", "()", "(1, 2, 3)", "-1", "9999999999999999999",
	"'shape'", "'descr'", "\x7f\x80\x00\x00", "\x00\x00\xc0\x7f", "L", "\\",
};

#include "fuzz-main.h"

#endif
