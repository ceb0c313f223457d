/*
 * options.h: command-line helpers the subcommands share with getopt_long.
 *
 * Numbers are parsed strictly (the whole argument, no silent truncation, NaN
 * and infinities refused) and range-checked; on error a message such as
 *   seqmatch: --steps: 'abc' is not a number
 *   seqmatch: --steps: 0 is out of range [1, 1000000000]
 * is printed on stderr and -1 returned: the caller exits with APP_EXIT_USAGE.
 * The option name may be given with or without its leading dashes.
 *
 * The decoding options of `generate` come from the engine's sampler table
 * (engine/sampler.h): options_sampler_longopts() appends one getopt entry per
 * row (and per alias) to a command's own options, options_sampler_row() maps
 * getopt's return value back to the row, and options_sampler_help() prints
 * the table as help lines.
 */
#ifndef SEQMATCH_OPTIONS_H
#define SEQMATCH_OPTIONS_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

struct sampler_params;
struct sampler_param;
struct optim_options;

/* An integer in [min, max] into *out; -1 with a message on error. */
int options_long(const char *option, const char *text, long min, long max, long *out);
/* The same for int. */
int options_int(const char *option, const char *text, int min, int max, int *out);
/* A weight format for generation (fp32, bf16, q8) into *out, an enum quant_format. */
int options_weights(const char *option, const char *text, int *out);

/* The global option --threads, 0 when not given (set by main.c before the command). */
extern int options_threads;
/* A finite number in [min, max] into *out; -1 with a message on error. */
int options_double(const char *option, const char *text, double min, double max,
    double *out);

/*
 * getopt_long return values at or above this are sampler rows:
 * OPTIONS_SAMPLER_BASE + row index in sampler_table.
 */
#define OPTIONS_SAMPLER_BASE 0x1000

/*
 * A new (xmalloc'd) option array: the entries of own (terminated by a zero
 * entry) followed by one entry for each sampler row's option and alias
 * (required argument, val OPTIONS_SAMPLER_BASE + row), then the terminator.
 * Free it with free().
 */
struct option *options_sampler_longopts(const struct option *own);
/* The sampler row for a getopt_long return value, or NULL if it is not one. */
const struct sampler_param *options_sampler_row(int val);
/*
 * Check and set one sampler parameter from its option's text (through
 * sampler_set); -1 with a message naming the option on error.
 */
int options_sampler_set(struct sampler_params *p, const struct sampler_param *row,
    const char *text);
/* Print the sampler table as help lines: option, alias, default, range, help. */
void options_sampler_help(FILE *f);

/* The default best-checkpoint path: "x.bin" -> "x-best.bin", else "x.best" (xmalloc'd). */
char *options_best_path(const char *out);

/*
 * --separator: "blank" or "percent" ("%") into *sep (an enum corpus_sep);
 * -1 with a message on anything else.
 */
int options_separator(const char *text, int *sep);

/*
 * The optimiser's options, which train and finetune share: their getopt
 * entries (OPTIONS_OPTIM_LONGOPTS(base) inside a command's table gives them
 * the values base .. base + OPTIONS_OPTIM_N - 1) and where each goes: the
 * AdamW settings and schedule into the command's struct optim_options
 * (engine/optim.h), the run's length, validation, saving and seed into the
 * command's own fields.
 */
#define OPTIONS_OPTIM_N 13
#define OPTIONS_OPTIM_LONGOPTS(base) \
	{ "steps", required_argument, NULL, (base) + 0 }, \
	{ "lr", required_argument, NULL, (base) + 1 }, \
	{ "min-lr-frac", required_argument, NULL, (base) + 2 }, \
	{ "warmup", required_argument, NULL, (base) + 3 }, \
	{ "weight-decay", required_argument, NULL, (base) + 4 }, \
	{ "beta1", required_argument, NULL, (base) + 5 }, \
	{ "beta2", required_argument, NULL, (base) + 6 }, \
	{ "eps", required_argument, NULL, (base) + 7 }, \
	{ "grad-clip", required_argument, NULL, (base) + 8 }, \
	{ "eval-every", required_argument, NULL, (base) + 9 }, \
	{ "eval-batches", required_argument, NULL, (base) + 10 }, \
	{ "save-every", required_argument, NULL, (base) + 11 }, \
	{ "seed", required_argument, NULL, (base) + 12 }
struct options_optim {
	struct optim_options *optim;
	long *steps, *eval_every, *save_every;
	int *eval_batches;
	uint64_t *seed;
};
/* Option i (0 .. OPTIONS_OPTIM_N - 1, in OPTIONS_OPTIM_LONGOPTS's order) from text; -1 after a message. */
int options_optim_set(const struct options_optim *o, int i, const char *text);

#endif
