/*
 * fuzz-options.c: a fuzz target for the command line's number parsers
 * (app/options.c: options_int, options_long, options_double) and the
 * decoding options' setter (options_sampler_set, through the engine's
 * sampler_set).
 *
 * The input's first byte picks the parser and its range (or the sampler
 * row), the rest up to a NUL is the argument. LLVMFuzzerTestOneInput checks
 * the promises (app/options.h): 0 with a value in the range and nothing
 * printed, or -1 with one message on stderr naming the option and the output
 * left alone; a double is what strtod reads, infinite only when it is an end
 * of the range; the sampler field set is within its row's range. Built with
 * libFuzzer:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DFUZZ_OPTIONS_NO_MAIN -I. -Iapp \
 *       -Iengine tests/fuzz-options.c app/options.c app/log.c app/xmalloc.c app/paths.c \
 *       engine/libseqmatch.a -lopenblas -lm -lpthread -o fuzz-options
 *   ./fuzz-options tests/fuzz-seeds/options
 * Without libFuzzer (make check) main() is the smoke test of tests/fuzz-main.h.
 */
#include "config.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "sampler.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *fuzz_options_err;   /* the messages, caught here instead of stderr */
static FILE *fuzz_options_real;  /* the real stderr */
static long fuzz_options_parsed; /* arguments accepted */

/* Abort with a reason (the fuzzer keeps the input), on the real stderr. */
static void
fuzz_options_fail(const char *what, const char *text)
{
	stderr = fuzz_options_real;
	fprintf(stderr, "fuzz-options: %s: '%s'\n", what, text);
	abort();
}

/* Start catching messages. */
static void
fuzz_options_catch(void)
{
	if (fuzz_options_err == NULL) {
		fuzz_options_real = stderr;
		fuzz_options_err = tmpfile();
		if (fuzz_options_err == NULL)
			abort();
	}
	rewind(fuzz_options_err);
	stderr = fuzz_options_err;
}

/*
 * Stop catching; check that a message was printed exactly when rc is -1,
 * that it is one line naming the option.
 */
static void
fuzz_options_check(int rc, const char *option, const char *text)
{
	static char msg[16384];
	long n;

	fflush(fuzz_options_err);
	n = ftell(fuzz_options_err);
	stderr = fuzz_options_real;
	if (rc != 0 && rc != -1)
		fuzz_options_fail("neither 0 nor -1", text);
	if (rc == 0 && n != 0)
		fuzz_options_fail("accepted with a message", text);
	if (rc == -1) {
		size_t len;

		if (n <= 0)
			fuzz_options_fail("refused without a message", text);
		rewind(fuzz_options_err);
		len = fread(msg, 1, sizeof msg - 1, fuzz_options_err);
		msg[len] = '\0';
		if (strncmp(msg, "seqmatch: --", 12) != 0 || strstr(msg, option) == NULL ||
		    msg[len - 1] != '\n')
			fuzz_options_fail("a message not naming the option", text);
	}
}

/* A number parser with range r on text. */
static void
fuzz_options_number(unsigned which, const char *text)
{
	static const long lranges[][2] = {
		{ 1, 1000000000 }, { LONG_MIN, LONG_MAX }, { 0, 0 }, { -5, 5 }, { 0, 4096 },
	};
	static const double dranges[][2] = {
		{ -INFINITY, 100 }, { 0, INFINITY }, { 0, 1 }, { -DBL_MAX, DBL_MAX }, { 1e-300, 1e300 },
	};
	unsigned r = (which / 3) % 5;
	int rc, iv = -12345;
	long lv = -12345;
	double dv = -12345, check;

	fuzz_options_catch();
	switch (which % 3) {
	case 0: {
		long lo = lranges[r][0] < INT_MIN ? INT_MIN : lranges[r][0];
		long hi = lranges[r][1] > INT_MAX ? INT_MAX : lranges[r][1];

		rc = options_int("--count", text, (int)lo, (int)hi, &iv);
		fuzz_options_check(rc, "--count", text);
		if (rc == 0 && (iv < lo || iv > hi || iv != strtol(text, NULL, 10)))
			fuzz_options_fail("an int out of range or not the text's", text);
		if (rc != 0 && iv != -12345)
			fuzz_options_fail("a refusal that set the int", text);
		break;
	}
	case 1:
		rc = options_long("steps", text, lranges[r][0], lranges[r][1], &lv);
		fuzz_options_check(rc, "--steps", text);
		if (rc == 0 && (lv < lranges[r][0] || lv > lranges[r][1] ||
		    lv != strtol(text, NULL, 10)))
			fuzz_options_fail("a long out of range or not the text's", text);
		if (rc != 0 && lv != -12345)
			fuzz_options_fail("a refusal that set the long", text);
		break;
	default:
		rc = options_double("--bias", text, dranges[r][0], dranges[r][1], &dv);
		fuzz_options_check(rc, "--bias", text);
		check = strtod(text, NULL);
		if (rc == 0 && (dv < dranges[r][0] || dv > dranges[r][1] || isnan(dv) ||
		    (isinf(dv) && dv != dranges[r][0] && dv != dranges[r][1]) ||
		    memcmp(&dv, &check, sizeof dv) != 0))
			fuzz_options_fail("a double out of range or not the text's", text);
		if (rc != 0 && dv != -12345)
			fuzz_options_fail("a refusal that set the double", text);
		break;
	}
	if (rc == 0)
		fuzz_options_parsed++;
}

/* A sampler row on text. */
static void
fuzz_options_sampler(unsigned which, const char *text)
{
	const struct sampler_param *row = &sampler_table[which % sampler_table_len];
	struct sampler_params p, before;
	const char *field;
	double v;
	int rc;

	sampler_defaults(&p);
	before = p;
	fuzz_options_catch();
	rc = options_sampler_set(&p, row, text);
	fuzz_options_check(rc, row->option, text);
	if (rc != 0) {
		if (memcmp(&p, &before, sizeof p) != 0)
			fuzz_options_fail("a refusal that changed the parameters", text);
		return;
	}
	fuzz_options_parsed++;
	field = (const char *)&p + row->offset;
	switch (row->type) {
	case SAMPLER_DOUBLE:
		v = *(const double *)field;
		break;
	case SAMPLER_INT:
		v = *(const int *)field;
		break;
	default:
		v = (double)*(const int64_t *)field;
		break;
	}
	if (isnan(v) || v < row->min || v > row->max || (isinf(v) && v != row->min))
		fuzz_options_fail("a sampler value out of its row's range", text);
}

/* One input: a selector byte, then the argument. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[512];
	size_t n;

	if (size == 0)
		return 0;
	n = size - 1 < sizeof text - 1 ? size - 1 : sizeof text - 1;
	memcpy(text, data + 1, n);
	text[n] = '\0';
	if (data[0] & 0x80)
		fuzz_options_sampler(data[0] & 0x7f, text);
	else
		fuzz_options_number(data[0], text);
	return 0;
}

#ifndef FUZZ_OPTIONS_NO_MAIN

#define FUZZ_MAIN_NAME "options"
#define FUZZ_MAIN_RUNS 20000
#define FUZZ_MAIN_MAX_LEN 512
#define FUZZ_MAIN_REPORT fuzz_options_report

/* How many arguments were accepted. */
static int
fuzz_options_report(void)
{
	printf("# %ld arguments accepted\n", fuzz_options_parsed);
	return fuzz_options_parsed > 0 ? 0 : -1;
}

/* Numbers and their corners. */
static const char *const fuzz_main_snippets[] = {
	"0", "1", "-", "+", ".", "e", "E", "x", "0x", "inf", "-inf", "INF", "infinity", "nan",
	"NaN(1)", " ", "\t", "9223372036854775807", "9223372036854775808", "2147483648",
	"-2147483649", "1e308", "1e309", "4.9e-324", "1e-400", "0x1p3", "00", "5", "1.5", "100",
	"-0", "\xc2\xa0", "\x80", "\xff",
};

#include "fuzz-main.h"

#endif
