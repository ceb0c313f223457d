/* options.c: strict number parsing and the sampler-table options for the subcommands. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "corpus.h"
#include "optim.h"
#include "options.h"
#include "quant.h"
#include "sampler.h"

/* The global --threads (main.c sets it; the UI sizes its pool from it), 0 when not given. */
int options_threads;

/* The option as the user typed it: "--name" whatever form the caller passed. */
static const char *
options_dashes(const char *option)
{
	static char buf[128];

	if (option[0] == '-')
		return option;
	snprintf(buf, sizeof buf, "--%s", option);
	return buf;
}

/* Whether text starts with something strtol/strtod would skip silently. */
static int
options_bad_start(const char *text)
{
	return text[0] == '\0' || isspace((unsigned char)text[0]);
}

/* Whether text is a finite number as a whole (to tell "1.5" from "abc"). */
static int
options_is_real(const char *text)
{
	char *end;
	double v;

	if (options_bad_start(text))
		return 0;
	errno = 0;
	v = strtod(text, &end);
	return *end == '\0' && isfinite(v);
}

/* Print the message for a value that is not an integer. */
static void
options_not_integer(const char *option, const char *text)
{
	if (options_is_real(text))
		app_error("%s: '%s' is not an integer", options_dashes(option), text);
	else
		app_error("%s: '%s' is not a number", options_dashes(option), text);
}

/* Parse a whole signed 64-bit integer; -1 with a message on error. */
static int
options_ll(const char *option, const char *text, long long min, long long max,
    long long *out)
{
	char *end;
	long long v;

	if (options_bad_start(text)) {
		options_not_integer(option, text);
		return -1;
	}
	errno = 0;
	v = strtoll(text, &end, 10);
	if (*end != '\0') {
		options_not_integer(option, text);
		return -1;
	}
	if (errno == ERANGE || v < min || v > max) {
		app_error("%s: %s is out of range [%lld, %lld]", options_dashes(option), text,
		    min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* An integer in [min, max]. */
int
options_long(const char *option, const char *text, long min, long max, long *out)
{
	long long v;

	if (options_ll(option, text, min, max, &v) != 0)
		return -1;
	*out = (long)v;
	return 0;
}

/* An int in [min, max]. */
int
options_int(const char *option, const char *text, int min, int max, int *out)
{
	long long v;

	if (options_ll(option, text, min, max, &v) != 0)
		return -1;
	*out = (int)v;
	return 0;
}

/* A weight format name (engine/quant.h). */
int
options_weights(const char *option, const char *text, int *out)
{
	enum quant_format f;
	char *why = NULL;

	if (quant_format_parse(text, &f, &why) != 0) {
		app_error("%s: %s", options_dashes(option), why);
		free(why);
		return -1;
	}
	*out = (int)f;
	return 0;
}

/* Print a bound as an integer or as a real. */
static void
options_number(char *buf, size_t size, double v, int integer)
{
	if (integer && v >= 9223372036854775807.0)
		snprintf(buf, size, "%lld", (long long)INT64_MAX);
	else if (integer)
		snprintf(buf, size, "%.0f", v);
	else
		snprintf(buf, size, "%g", v);
}

/* Print "[min, max]" into buf; a min of -inf is a value the row accepts ("-inf"). */
static void
options_range(char *buf, size_t size, double min, double max, int integer)
{
	char lo[64], hi[64];

	if (isinf(min))
		snprintf(lo, sizeof lo, "[-inf");
	else {
		lo[0] = '[';
		options_number(lo + 1, sizeof lo - 1, min, integer);
	}
	if (isinf(max))
		snprintf(hi, sizeof hi, "inf)");
	else {
		options_number(hi, sizeof hi - 1, max, integer);
		strcat(hi, "]");
	}
	snprintf(buf, size, "%s, %s", lo, hi);
}

/* A number in [min, max]: finite, or an infinite end of the range itself
 * (--backspace-bias -inf turns backspacing off). */
int
options_double(const char *option, const char *text, double min, double max, double *out)
{
	char *end, range[160];
	double v;

	if (options_bad_start(text)) {
		app_error("%s: '%s' is not a number", options_dashes(option), text);
		return -1;
	}
	errno = 0;
	v = strtod(text, &end);
	if (*end != '\0') {
		app_error("%s: '%s' is not a number", options_dashes(option), text);
		return -1;
	}
	if (isnan(v)) {
		app_error("%s: '%s' is not a number (NaN is not allowed)",
		    options_dashes(option), text);
		return -1;
	}
	if ((isinf(v) && v != min && v != max) || v < min || v > max) {
		options_range(range, sizeof range, min, max, 0);
		app_error("%s: %s is out of range %s", options_dashes(option), text, range);
		return -1;
	}
	*out = v;
	return 0;
}

/* The option array for a command's own options plus the sampler table. */
struct option *
options_sampler_longopts(const struct option *own)
{
	struct option *opts;
	size_t nown = 0, n = 0;

	while (own != NULL && own[nown].name != NULL)
		nown++;
	opts = xcalloc(nown + 2 * sampler_table_len + 1, sizeof *opts);
	for (size_t i = 0; i < nown; i++)
		opts[n++] = own[i];
	for (size_t i = 0; i < sampler_table_len; i++) {
		const struct sampler_param *row = &sampler_table[i];
		int val = OPTIONS_SAMPLER_BASE + (int)i;

		opts[n++] = (struct option){ row->option, required_argument, NULL, val };
		if (row->alias != NULL)
			opts[n++] = (struct option){ row->alias, required_argument, NULL, val };
	}
	/* xcalloc left the terminator zeroed. */
	return opts;
}

/* Map a getopt_long return value to its sampler row. */
const struct sampler_param *
options_sampler_row(int val)
{
	if (val < OPTIONS_SAMPLER_BASE || (size_t)(val - OPTIONS_SAMPLER_BASE) >= sampler_table_len)
		return NULL;
	return &sampler_table[val - OPTIONS_SAMPLER_BASE];
}

/* Check the text against the row's type and range, then set it with sampler_set. */
int
options_sampler_set(struct sampler_params *p, const struct sampler_param *row,
    const char *text)
{
	char *cause = NULL;
	double d;
	long long ll;

	/* Our own checks first, so every command reports numbers the same way. */
	switch (row->type) {
	case SAMPLER_DOUBLE:
		if (options_double(row->option, text, row->min, row->max, &d) != 0)
			return -1;
		break;
	case SAMPLER_INT:
	case SAMPLER_INT64: {
		long long lo = row->type == SAMPLER_INT ? INT_MIN : INT64_MIN;
		long long hi = row->type == SAMPLER_INT ? INT_MAX : INT64_MAX;

		/* Clamp the table's (double) bounds to the type before converting. */
		if (row->min > (double)lo)
			lo = (long long)row->min;
		if (row->max < (double)hi)
			hi = (long long)row->max;
		if (options_ll(row->option, text, lo, hi, &ll) != 0)
			return -1;
		break;
	}
	}
	if (sampler_set(p, row, text, &cause) != 0) {
		app_error("%s: %s", options_dashes(row->option),
		    cause != NULL ? cause : "invalid value");
		free(cause);
		return -1;
	}
	return 0;
}

/* Format one value of a row (its type decides integer or real). */
static void
options_value(char *buf, size_t size, const struct sampler_param *row, double v)
{
	if (row->type == SAMPLER_DOUBLE)
		snprintf(buf, size, "%g", v);
	else
		snprintf(buf, size, "%.0f", v);
}

/* Print the sampler table as help lines. */
void
options_sampler_help(FILE *f)
{
	for (size_t i = 0; i < sampler_table_len; i++) {
		const struct sampler_param *row = &sampler_table[i];
		const char *arg = row->type == SAMPLER_DOUBLE ? "X" : "N";
		char name[96], def[64], range[160];
		int integer = row->type != SAMPLER_DOUBLE;

		if (row->alias != NULL)
			snprintf(name, sizeof name, "--%s, --%s %s", row->option, row->alias, arg);
		else
			snprintf(name, sizeof name, "--%s %s", row->option, arg);
		options_value(def, sizeof def, row, row->def);
		options_range(range, sizeof range, row->min, row->max, integer);
		fprintf(f, "  %-28s %s\n", name, row->help != NULL ? row->help : "");
		fprintf(f, "  %-28s default %s, range %s", "", def, range);
		if (row->disabled != NULL && row->disabled[0] != '\0')
			fprintf(f, "; off: %s", row->disabled);
		fputc('\n', f);
	}
}

/* The default best-checkpoint path next to the latest one. */
char *
options_best_path(const char *out)
{
	size_t n = strlen(out);
	char *s;

	if (n > 4 && strcmp(out + n - 4, ".bin") == 0) {
		if (asprintf(&s, "%.*s-best.bin", (int)(n - 4), out) < 0)
			app_fatal("out of memory");
	} else if (asprintf(&s, "%s.best", out) < 0)
		app_fatal("out of memory");
	return s;
}

/* Parse --separator: blank lines or lines holding a single %. */
int
options_separator(const char *text, int *sep)
{
	if (strcmp(text, "blank") == 0)
		*sep = CORPUS_SEP_BLANK;
	else if (strcmp(text, "percent") == 0 || strcmp(text, "%") == 0)
		*sep = CORPUS_SEP_PERCENT;
	else {
		app_error("--separator: '%s' is not blank or percent", text);
		return -1;
	}
	return 0;
}

/* One optimiser option: its range, and where it goes. */
static int
options_optim_float(const char *name, const char *text, double min, double max, float *out)
{
	double v;

	if (options_double(name, text, min, max, &v) != 0)
		return -1;
	*out = (float)v;
	return 0;
}

/* Set optimiser option i (OPTIONS_OPTIM_LONGOPTS's order) from text; -1 after a message. */
int
options_optim_set(const struct options_optim *o, int i, const char *text)
{
	long v;

	switch (i) {
	case 0: return options_long("steps", text, 1, 1000000000L, o->steps);
	case 1: return options_optim_float("lr", text, 0, 10, &o->optim->lr);
	case 2: return options_optim_float("min-lr-frac", text, 0, 1, &o->optim->min_lr_frac);
	case 3: return options_long("warmup", text, 0, 1000000000L, &o->optim->warmup);
	case 4: return options_optim_float("weight-decay", text, 0, 10,
	    &o->optim->weight_decay);
	case 5: return options_optim_float("beta1", text, 0, 0.999999, &o->optim->beta1);
	case 6: return options_optim_float("beta2", text, 0, 0.999999, &o->optim->beta2);
	case 7: return options_optim_float("eps", text, 1e-30, 1, &o->optim->eps);
	case 8: return options_optim_float("grad-clip", text, 0, 1e9, &o->optim->grad_clip);
	case 9: return options_long("eval-every", text, 0, 1000000000L, o->eval_every);
	case 10: return options_int("eval-batches", text, 1, 100000, o->eval_batches);
	case 11: return options_long("save-every", text, 0, 1000000000L, o->save_every);
	case 12:
		if (options_long("seed", text, 0, 0x7fffffffffffffffL, &v) != 0)
			return -1;
		*o->seed = (uint64_t)v;
		return 0;
	}
	return -1;
}
