/*
 * cmd-eval.h: what the files of `seqmatch eval` share: cmd-eval.c (options,
 * loading, generating, featurizing, MAUVE), cmd-eval-choose.c (candidate
 * documents, prompts, references and human texts per generation seed),
 * cmd-eval-check.c (the --check protocol) and cmd-eval-report.c (the table
 * and the JSON object). Private to those files.
 *
 * Results are kept per "row" (the references, the human row, each model) and
 * per generation seed g: every statistic is an array of gen_seeds values, and
 * the report gives their mean, their spread and, for the models after the
 * first, the paired difference with the first model.
 */
#ifndef SEQMATCH_CMD_EVAL_H
#define SEQMATCH_CMD_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "corpus.h"
#include "featurize.h"
#include "generate.h"
#include "gpt.h"
#include "mauve.h"
#include "progress.h"
#include "sampler.h"
#include "textstats.h"
#include "tokenizer.h"

#define CMD_EVAL_MAX_MODELS 16
#define CMD_EVAL_NSCORES 4     /* mauve, frontier_integral and their smoothed forms */
#define CMD_EVAL_NSTOPS 16     /* room for every enum generate_stop value */
#define CMD_EVAL_MAX_KINDS 64  /* distinct violation kinds a checker may report */
#define CMD_EVAL_MAX_GEN_SEEDS 1000

/* Which rows a statistic applies to. */
#define CMD_EVAL_ON_REF 1
#define CMD_EVAL_ON_HUMAN 2
#define CMD_EVAL_ON_MODEL 4
#define CMD_EVAL_ON_TEXT (CMD_EVAL_ON_REF | CMD_EVAL_ON_HUMAN | CMD_EVAL_ON_MODEL)
#define CMD_EVAL_ON_SCORED (CMD_EVAL_ON_HUMAN | CMD_EVAL_ON_MODEL)

/*
 * The statistics with one value per generation seed: X(enum suffix, JSON
 * name, table label, decimals in the table, rows). The four scores
 * come first, in mauve-text's order.
 */
#define CMD_EVAL_METRICS(X) \
	X(MAUVE, "mauve", "mauve", 4, CMD_EVAL_ON_SCORED) \
	X(FRONTIER_INTEGRAL, "frontier_integral", "frontier_integral", 4, \
	    CMD_EVAL_ON_SCORED) \
	X(MAUVE_STAR, "mauve_star", "mauve_star", 4, CMD_EVAL_ON_SCORED) \
	X(FRONTIER_INTEGRAL_STAR, "frontier_integral_star", "frontier_integral_star", \
	    4, CMD_EVAL_ON_SCORED) \
	X(VIOLATIONS, "violations_per_100", "violations /100", 1, CMD_EVAL_ON_SCORED) \
	X(ERASES, "erases", "erases", 1, CMD_EVAL_ON_MODEL) \
	X(CORRECTIONS, "corrections", "  corrections", 1, CMD_EVAL_ON_MODEL) \
	X(RETYPES, "retypes", "  retypes", 1, CMD_EVAL_ON_MODEL) \
	X(UNFOLLOWED, "erases_not_followed", "  not followed", 1, CMD_EVAL_ON_MODEL) \
	X(CORRECTION_SHARE, "correction_share", "correction share", 4, \
	    CMD_EVAL_ON_MODEL) \
	X(BACKSPACE_RATE, "backspace_rate", "backspace_rate", 4, CMD_EVAL_ON_MODEL) \
	X(DISTINCT_1, "distinct_1", "distinct-1", 4, CMD_EVAL_ON_TEXT) \
	X(DISTINCT_2, "distinct_2", "distinct-2", 4, CMD_EVAL_ON_TEXT) \
	X(DISTINCT_3, "distinct_3", "distinct-3", 4, CMD_EVAL_ON_TEXT) \
	X(REPETITION, "repetition_rate", "repetition_rate (4-gram)", 4, \
	    CMD_EVAL_ON_TEXT) \
	X(STOP_END, "stopped_at_end", "ended (eot / doc end)", 1, CMD_EVAL_ON_TEXT) \
	X(STOP_MAX, "stopped_at_max_tokens", "cut at max-tokens", 1, CMD_EVAL_ON_TEXT) \
	X(EMPTY, "empty_texts", "empty texts", 1, CMD_EVAL_ON_SCORED) \
	X(MEAN_LOGPROB, "mean_logprob", "mean_logprob (reference)", 4, \
	    CMD_EVAL_ON_MODEL)

#define CMD_EVAL_METRIC_ENUM(id, name, label, prec, on) CMD_EVAL_M_##id,
enum cmd_eval_metric {
	CMD_EVAL_METRICS(CMD_EVAL_METRIC_ENUM)
	CMD_EVAL_NMETRICS
};
#undef CMD_EVAL_METRIC_ENUM

/* One row of the metric table (cmd-eval-report.c). */
struct cmd_eval_metric_info {
	const char *name, *label;
	int prec, on;
};
extern const struct cmd_eval_metric_info cmd_eval_metrics[CMD_EVAL_NMETRICS];

/* A candidate document: at least --prompt-tokens + 1 tokens. */
struct cmd_eval_doc {
	size_t doc;         /* index in the corpus */
	int *ids;           /* first model's tokenizer: its first min(length, prompt + max) */
	int n_ids;
	int ended;          /* the document ends within prompt + max tokens */
};

/*
 * One prompt of a generation seed. Its document's continuation is the
 * reference (e->ref.text[i]) or, for the human row's documents, the human
 * text (e->hum.text[i]).
 */
struct cmd_eval_sample {
	const struct cmd_eval_doc *doc;
	char *prompt_text;  /* decoded prompt */
	size_t prompt_len;
	uint64_t seed;      /* sampling seed of this prompt (models) */
};

enum cmd_eval_row_kind {
	CMD_EVAL_ROW_REF,   /* the references (P) */
	CMD_EVAL_ROW_HUMAN, /* other held-out continuations, scored like a model */
	CMD_EVAL_ROW_MODEL
};

/* Texts and per-generation-seed results of the references, the human row or a model. */
struct cmd_eval_row {
	enum cmd_eval_row_kind kind;
	const char *name;               /* "reference", "human" or the model's path */
	int index;                      /* the model's number (1, 2, ...); 0 for the others */
	/* The current generation seed: n texts (continuations, prompt excluded). */
	char **text;
	size_t *len;
	enum generate_stop *stop;       /* eot: the document's end for human texts */
	float *q;                       /* (n_q, d) features of the non-empty texts */
	int n_q;
	/* One value per generation seed (NaN: undefined there). */
	double *v[CMD_EVAL_NMETRICS];   /* (gen_seeds) */
	double *ksd[CMD_EVAL_NSCORES];  /* (gen_seeds) sd over the k-means seeds */
	double *kinds[CMD_EVAL_MAX_KINDS]; /* (gen_seeds) per 100, for e->kinds[k] */
	/* Over all generation seeds. */
	char *mauve_error;              /* the first MAUVE failure, or NULL */
	int num_buckets, pca_dims;      /* of the last MAUVE computed */
	long truncated;                 /* texts cut by --max-text-tokens */
	double mauve_seconds;
};

/* One model under evaluation. */
struct cmd_eval_model {
	const char *path;
	struct gpt_model *model;
	struct qweights *qw;       /* model's matrices in the --weights format */
	struct tokenizer *tok;
	int same_tok;              /* tokenizer identical to the first model's */
	uint64_t params_hash;      /* FNV-1a of the parameters */
	struct cmd_eval_row row;
	/* Totals over all generation seeds. */
	long appends, net_tokens, re_emissions, longest_backspace_run;
	long gen_tokens;           /* tokens appended (n_generated of the stops) */
	double gen_seconds, prefill_seconds;
	long prefill_tokens;
	long stops[CMD_EVAL_NSTOPS]; /* by enum generate_stop */
};

/* Everything a run holds. */
struct cmd_eval {
	/* Settings. */
	const char *model_paths[CMD_EVAL_MAX_MODELS];
	int nmodels;
	const char *corpus_path;
	enum corpus_sep sep;
	int prompt_tokens, max_tokens, n;
	int gen_seeds;
	int human;                  /* the human row is on (not --no-human) */
	const char *check_cmd;      /* --check, or NULL */
	const char *featurizer_path;
	int max_text_tokens;        /* as requested (0: default) */
	int num_buckets;            /* 0: auto */
	int mauve_seeds;
	const char *save_prefix;
	int json;
	int weights;                /* an enum quant_format (--weights, -1: not given;
	                               after loading, model 1's format) */
	int weights_mixed;          /* the models decode in different formats */
	struct sampler_params params;
	uint64_t seed;
	struct mauve_options mopt;
	/* Data. */
	struct corpus *corpus;
	struct cmd_eval_doc *cand;  /* candidate documents, in corpus order */
	size_t ncand;
	struct cmd_eval_sample *samples; /* (n) prompts of the current generation seed */
	struct cmd_eval_sample *others;  /* (n) the human row's documents (when on) */
	struct cmd_eval_row ref, hum;
	struct cmd_eval_model models[CMD_EVAL_MAX_MODELS];
	char *kinds[CMD_EVAL_MAX_KINDS];  /* violation kinds, in order of first sight */
	int nkinds;
	struct gpt_model *feat_model;
	struct tokenizer *feat_tok;
	char *feat_path_owned;      /* the default featurizer's path (malloc'd) */
	int feat_owned;             /* feat_model is not one of the models */
	int feat_is_model;          /* the featurizer has a compared model's weights */
	struct featurizer *feat;
	int d;
	struct progress bar;
	long done;                  /* progress steps: generations and features */
	double tokens;              /* tokens sampled so far, for the progress rate */
	double start, seconds;
};

/* Keep the candidate documents; -1 (message printed) if too few (cmd-eval-choose.c). */
int cmd_eval_choose_init(struct cmd_eval *e);
/* Choose generation seed g's prompts, references and human texts; -1 on error. */
int cmd_eval_choose_seed(struct cmd_eval *e, int g);
/* Free the current generation seed's samples and row texts. */
void cmd_eval_choose_clear(struct cmd_eval *e);
/* Free the candidates. */
void cmd_eval_choose_free(struct cmd_eval *e);

/* Erase outcomes, summed over event logs (cmd-eval-erases.c). */
struct cmd_eval_erases {
	long erases, corrections, retypes, unfollowed;
};
/* Add the erase outcomes of one event log (n events); -1 when out of memory. */
int cmd_eval_erases_add(struct cmd_eval_erases *c, const struct generate_event *ev, int n);

/* Generation seed g's texts and statistics of one model (cmd-eval-generate.c). */
int cmd_eval_generate(struct cmd_eval *e, struct cmd_eval_model *mod, int g);

/* --check over a row's texts of generation seed g; -1 (message printed) (cmd-eval-check.c). */
int cmd_eval_check_row(struct cmd_eval *e, struct cmd_eval_row *row,
    const struct cmd_eval_sample *prompts, int g);

/* Allocate a row's per-generation-seed arrays (all NaN) (cmd-eval-row.c). */
void cmd_eval_row_init(struct cmd_eval_row *row, enum cmd_eval_row_kind kind,
    const char *name, int gen_seeds);
/* Free a row's current texts and features. */
void cmd_eval_row_clear(struct cmd_eval_row *row, int n);
/* Free everything a row holds. */
void cmd_eval_row_release(struct cmd_eval_row *row, int n);
/* Allocate a row's n texts (empty) for the current generation seed. */
void cmd_eval_row_alloc(struct cmd_eval_row *row, int n);
/* Record distinct-n and repetition of generation seed g from finished statistics. */
void cmd_eval_row_textstats(struct cmd_eval_row *row, int g, const struct textstats *s);
/* Record the stop counts of generation seed g from row->stop. */
void cmd_eval_row_stops(struct cmd_eval_row *row, int g, int n);

/* Print the plain table (cmd-eval-report.c). */
void cmd_eval_print_table(const struct cmd_eval *e);
/* Print the JSON object: settings, references, the human row, one object per model. */
void cmd_eval_print_json(const struct cmd_eval *e);

#endif
