/*
 * cmd-eval.h: what `seqmatch eval` (cmd-eval.c: choosing prompts, generating,
 * featurizing, MAUVE) shares with its report (cmd-eval-report.c: the table and
 * the JSON object). Private to those two files.
 */
#ifndef SEQMATCH_CMD_EVAL_H
#define SEQMATCH_CMD_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "corpus.h"
#include "featurize.h"
#include "gpt.h"
#include "mauve.h"
#include "progress.h"
#include "sampler.h"
#include "textstats.h"
#include "tokenizer.h"

#define CMD_EVAL_MAX_MODELS 16
#define CMD_EVAL_NSCORES 4
#define CMD_EVAL_NSTOPS 16 /* room for every enum generate_stop value */

/* One prompt and its reference continuation. */
struct cmd_eval_sample {
	size_t doc;         /* document index in the corpus */
	int *ids;           /* (prompt + continuation) ids, first model's tokenizer */
	char *prompt_text;  /* decoded prompt */
	size_t prompt_len;
	char *ref_text;     /* decoded reference continuation */
	size_t ref_len;
	uint64_t seed;      /* generation seed of this sample */
};

/* One model under evaluation. */
struct cmd_eval_model {
	const char *path;
	struct gpt_model *model;
	struct tokenizer *tok;
	int same_tok;              /* tokenizer identical to the first model's */
	uint64_t params_hash;      /* FNV-1a of the parameters */
	char **gen_text;           /* (n) decoded net generations */
	size_t *gen_len;
	struct textstats stats;
	double logprob_sum;        /* reference log-probabilities, natural log */
	long logprob_tokens;
	long gen_tokens;           /* tokens appended (n_generated of the stops) */
	double gen_seconds, prefill_seconds;
	long prefill_tokens;
	long stops[CMD_EVAL_NSTOPS]; /* by enum generate_stop */
	float *q;                  /* (n_q, d) features of the generations */
	int n_q;
	int mauve_ok;
	char *mauve_error;
	double *scores[CMD_EVAL_NSCORES]; /* (mauve_seeds) */
	int num_buckets, pca_dims;
	double mauve_seconds;
};

/* Everything a run holds. */
struct cmd_eval {
	/* Settings. */
	const char *model_paths[CMD_EVAL_MAX_MODELS];
	int nmodels;
	const char *corpus_path;
	enum corpus_sep sep;
	int prompt_tokens, max_tokens, samples_requested;
	const char *featurizer_path;
	int max_text_tokens;        /* as requested (0: default) */
	int num_buckets;            /* 0: auto */
	int mauve_seeds;
	const char *save_prefix;
	int json;
	struct sampler_params params;
	uint64_t seed;
	struct mauve_options mopt;
	/* Data. */
	struct corpus *corpus;
	struct cmd_eval_sample *samples;
	int n;
	struct cmd_eval_model models[CMD_EVAL_MAX_MODELS];
	struct gpt_model *feat_model;
	struct tokenizer *feat_tok;
	int feat_owned;             /* feat_model is not one of the models */
	struct featurizer *feat;
	int d;
	float *p;                   /* (n_p, d) reference features */
	int n_p;
	int ref_truncated;          /* texts cut by --max-text-tokens */
	struct textstats ref_stats;
	struct progress bar;
	long done;                  /* progress steps: generations, then features */
	double tokens;              /* tokens sampled so far, for the progress rate */
	double start, seconds;
};

/* Print the plain table (cmd-eval-report.c). */
void cmd_eval_print_table(const struct cmd_eval *e);
/* Print the JSON object: settings, reference statistics, one object per model. */
void cmd_eval_print_json(const struct cmd_eval *e);

#endif
