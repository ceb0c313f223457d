/*
 * cmd-eval.c: `seqmatch eval`: compare models by generating from held-out
 * prompts: MAUVE against held-out continuations with a human ceiling, rule
 * violations counted by an external checker, erase statistics and text
 * statistics, each with its spread over generation seeds.
 *
 * How a run goes (Pillutla et al., "MAUVE", NeurIPS 2021, for the metric):
 *   1. Candidates (cmd-eval-choose.c): documents with at least --prompt-tokens
 *      + 1 tokens; continuations cut at --max-tokens or the document's end,
 *      the generations' own stopping rule.
 *   2. For each generation seed g (--gen-seeds): the candidates are shuffled
 *      with a seed from --seed and g; n prompts and their references P, and
 *      with the human row n other documents whose continuations are scored
 *      like a model's (the ceiling). Every model gets the same prompt texts
 *      and the same sampling seed for prompt i within g; a model with another
 *      tokenizer re-encodes the prompt and reference texts. Each event log
 *      feeds engine/textstats and the erase-correction count below; the net
 *      tokens are decoded to text; the reference is scored teacher-forced.
 *   3. The references, human texts and generations (continuations only, as
 *      the package compares them) are featurized by a frozen model that
 *      should be none of the compared ones; empty texts are dropped; MAUVE
 *      per row with --mauve-seeds k-means seeds (their mean is the value of g,
 *      their sd is reported apart). --check runs the checker
 *      (cmd-eval-check.c) over every row's texts.
 *   4. The report (cmd-eval-report.c) gives per statistic the mean and sd
 *      over generation seeds and, for every model after the first, the paired
 *      difference with the first model and whether it is beyond the spread.
 */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "cmd.h"
#include "checkpoint.h"
#include "cmd-eval.h"
#include "corpus.h"
#include "dist.h"
#include "featurize.h"
#include "generate.h"
#include "gpt.h"
#include "mauve.h"
#include "npy.h"
#include "options.h"
#include "progress.h"
#include "qweights.h"
#include "sampler.h"
#include "textstats.h"
#include "tokenizer.h"
#include "util.h"
#include "weights.h"

enum {
	CMD_EVAL_MODEL = 0x100, CMD_EVAL_CORPUS, CMD_EVAL_SEPARATOR,
	CMD_EVAL_PROMPT_TOKENS, CMD_EVAL_SAMPLES, CMD_EVAL_GEN_SEEDS, CMD_EVAL_NO_HUMAN,
	CMD_EVAL_CHECK, CMD_EVAL_FEATURIZER, CMD_EVAL_MAX_TEXT_TOKENS,
	CMD_EVAL_NUM_BUCKETS, CMD_EVAL_MAUVE_SEEDS, CMD_EVAL_SAVE_FEATURES, CMD_EVAL_JSON,
	CMD_EVAL_WEIGHTS, CMD_EVAL_HELP
};

static const struct option cmd_eval_own[] = {
	{ "model", required_argument, NULL, CMD_EVAL_MODEL },
	{ "corpus", required_argument, NULL, CMD_EVAL_CORPUS },
	{ "separator", required_argument, NULL, CMD_EVAL_SEPARATOR },
	{ "prompt-tokens", required_argument, NULL, CMD_EVAL_PROMPT_TOKENS },
	{ "samples", required_argument, NULL, CMD_EVAL_SAMPLES },
	{ "gen-seeds", required_argument, NULL, CMD_EVAL_GEN_SEEDS },
	{ "no-human", no_argument, NULL, CMD_EVAL_NO_HUMAN },
	{ "check", required_argument, NULL, CMD_EVAL_CHECK },
	{ "featurizer", required_argument, NULL, CMD_EVAL_FEATURIZER },
	{ "max-text-tokens", required_argument, NULL, CMD_EVAL_MAX_TEXT_TOKENS },
	{ "num-buckets", required_argument, NULL, CMD_EVAL_NUM_BUCKETS },
	{ "mauve-seeds", required_argument, NULL, CMD_EVAL_MAUVE_SEEDS },
	{ "save-features", required_argument, NULL, CMD_EVAL_SAVE_FEATURES },
	{ "json", no_argument, NULL, CMD_EVAL_JSON },
	{ "weights", required_argument, NULL, CMD_EVAL_WEIGHTS },
	{ "help", no_argument, NULL, CMD_EVAL_HELP },
	{ NULL, 0, NULL, 0 }
};

/* Print usage. */
static void
cmd_eval_usage(FILE *f)
{
	fprintf(f,
"usage: seqmatch eval --model MODEL [--model MODEL2 ...] --corpus HELDOUT\n"
"                     [--featurizer MODEL] [--check CMD] [options] [--json]\n"
"\n"
"Compare models on continuations of held-out prompts: MAUVE (the full estimator\n"
"of mauve-text) against the documents' own continuations, next to a human row\n"
"(held-out text against other held-out text: the ceiling); rule violations\n"
"counted by --check; erases and the share that are corrections; backspace rate,\n"
"distinct-1/2/3, repetition, the mean log-probability of the reference and\n"
"tokens/s. Every statistic is given as mean +/- sd over generation seeds, and\n"
"every model after the first gets its paired difference with the first model,\n"
"\"beyond the spread\" when all per-seed differences share a sign and\n"
"|mean| > 2 sd / sqrt(gen seeds), else \"inside the spread\".\n"
"\n"
"  --model, -m MODEL        a model to evaluate (repeat for up to %d)\n"
"  --corpus FILE            held-out documents; candidates are those with at\n"
"                           least prompt + 1 tokens (first model's tokenizer)\n"
"  --separator blank|percent  documents split by blank lines (default) or by\n"
"                           lines holding a single %%\n"
"  --samples N              prompts per generation seed (default 200); needs N\n"
"                           candidates, 2N with the human row\n"
"  --prompt-tokens N        prompt length in tokens (default 32)\n"
"  --max-tokens N           continuation length: generations stop there or at\n"
"                           <|endoftext|>, references there or at the\n"
"                           document's end (default 64)\n"
"  --gen-seeds N            generation seeds (default 3): each shuffles the\n"
"                           documents anew (prompts, references, human texts)\n"
"                           and has its own sampling seeds\n"
"  --seed N                 the base of every shuffle and sampling seed\n"
"                           (default: random, printed)\n"
"  --no-human               no human row (then N candidates suffice)\n"
"  --check CMD              run `/bin/sh -c CMD` once per generation seed and\n"
"                           row: stdin one JSON line per text {\"id\": i,\n"
"                           \"prompt\", \"text\" (after erases, no prompt),\n"
"                           \"stop\": eot|max_tokens|context_full|cancelled|\n"
"                           max_actions (held-out text: eot at the document's\n"
"                           end)}; stdout one line per input, in order:\n"
"                           {\"id\": i, \"violations\": [{\"kind\": K, \"where\": W},\n"
"                           ...]}.\n"
"                           A failing checker or bad output is an error.\n"
"                           CMD sees SEQMATCH_CHECK_ROW (human, or the model's\n"
"                           number 1, 2, ...) and SEQMATCH_CHECK_GEN_SEED (1, ...)\n"
"\n"
"MAUVE (relative comparisons only: keep every setting below identical, and use\n"
"1000 samples or more for claims; few samples give optimistic, noisy scores):\n"
"  --featurizer MODEL       frozen model for the features, best one that none of\n"
"                           the compared models is (default: featurizer.bin in\n"
"                           the program's data directory); features are the\n"
"                           final hidden state at the last token of the\n"
"                           continuation text alone\n"
"  --max-text-tokens N      truncate texts to N tokens before featurizing\n"
"                           (default 1024, capped at the featurizer's context)\n"
"  --num-buckets K          k-means clusters (default: max(2, n/10))\n"
"  --mauve-seeds N          k-means seeds 25, 26, ... per generation seed: their\n"
"                           mean is the seed's score, their sd is shown apart\n"
"                           (default 5)\n"
"  --save-features PREFIX   write PREFIX-p.npy (references), PREFIX-h.npy (human\n"
"                           row) and PREFIX-q.npy (PREFIX-q-1.npy, -2, ... with\n"
"                           several models) for mauve-text's compute_mauve; with\n"
"                           several generation seeds PREFIX-g1-p.npy, ... per seed\n"
"  --weights FORMAT         fp32, bf16 or q8: the compared models generate and\n"
"                           score with their matrices in this format, converted\n"
"                           at load time (default: a `seqmatch quantize` file's\n"
"                           own format, else config.yaml's weights:, else fp32;\n"
"                           the featurizer stays fp32)\n"
"  --json                   one JSON object (below)\n"
"\n"
"JSON: the settings (corpus, documents, candidates, samples, gen_seeds, check,\n"
"prompt_tokens, max_tokens, seed, decoding, featurizer,\n"
"featurizer_is_compared_model, the MAUVE options); \"reference\", \"human\" (null\n"
"with --no-human) and \"models\" [...] objects. For each statistic S of a row: S\n"
"(mean over generation seeds), S_gen_sd (their sd) and S_per_gen_seed [...]; S\n"
"is one of mauve, frontier_integral, mauve_star, frontier_integral_star (each\n"
"also with S_kmeans_sd, the mean over generation seeds of the k-means sd),\n"
"violations_per_100 (null without --check), erases, corrections, retypes,\n"
"erases_not_followed, correction_share (corrections / (corrections + retypes):\n"
"an erase is a correction when the next token typed at its position differs, a\n"
"retype when it is the same), backspace_rate, distinct_1..3, repetition_rate,\n"
"stopped_at_end (eot, or the document's end), stopped_at_max_tokens,\n"
"empty_texts, mean_logprob (counts are per generation seed).\n"
"\"violations_by_kind\": {K: {\"per_100\", \"gen_sd\", \"per_gen_seed\"}}. Models after\n"
"the first have \"vs_first\": {S: {\"mean\", \"sd\", \"per_gen_seed\", \"verdict\":\n"
"\"beyond\"|\"inside\"}} (model minus first; \"undefined\" and nulls where a value is\n"
"missing). Means and sds leave out null values (a failed MAUVE, a correction\n"
"share without erases).\n"
"\n"
"A MAUVE failure (too few samples for the clusters) is a warning and null\n"
"scores. Exit status: 0; 1 on a bad file, too few documents, a missing\n"
"featurizer, a failed checker or run; 2 on bad usage.\n"
"\n"
"Under mpirun (seqmatch built --with-mpi) each process generates, scores and\n"
"featurizes its share of the prompts; rank 0 computes MAUVE and reports.\n"
"\n"
"Decoding (--max-tokens and --seed as above):\n", CMD_EVAL_MAX_MODELS);
	options_sampler_help(f);
}

/* Whether two tokenizers are the same (identical serialisations). */
static int
cmd_eval_same_tokenizer(const struct tokenizer *a, const struct tokenizer *b)
{
	uint8_t *ba = NULL, *bb = NULL;
	size_t la = 0, lb = 0;
	int same;

	if (tokenizer_serialize(a, &ba, &la, NULL) != 0 ||
	    tokenizer_serialize(b, &bb, &lb, NULL) != 0)
		same = 0;
	else
		same = la == lb && memcmp(ba, bb, la) == 0;
	free(ba);
	free(bb);
	return same;
}

/*
 * Featurize a row's n texts into row->q (empty texts dropped); -1 on error.
 * Under mpirun each rank featurizes its share and rank 0 gathers the rows,
 * in order (the other ranks keep none).
 */
static int
cmd_eval_featurize(struct cmd_eval *e, struct cmd_eval_row *row)
{
	char *cause = NULL;
	int r, t;
	long lo, hi;
	size_t nall;
	float *all;
	double trunc;

	row->q = xmalloc((size_t)(e->n > 0 ? e->n : 1) * (size_t)e->d * sizeof *row->q);
	row->n_q = 0;
	dist_share(e->n, &lo, &hi);
	for (int i = (int)lo; i < hi && !app_interrupted; i++) {
		r = featurize_text(e->feat, (const uint8_t *)row->text[i], row->len[i],
		    row->q + (size_t)row->n_q * e->d, NULL, &t, &cause);
		if (r < 0) {
			app_error("featurizer: %s, text %d: %s", row->name, i + 1, cause);
			free(cause);
			return -1;
		}
		if (r == 0) {
			row->n_q++;
			row->truncated += t;
		}
		e->done++;
		progress_update(&e->bar, e->done, NAN, e->tokens);
	}
	if (dist_size() == 1)
		return 0;
	trunc = (double)row->truncated;
	if (dist_gather_rows(row->q, (size_t)row->n_q, (size_t)e->d, &all, &nall,
	    &cause) != 0 || dist_sum_double(&trunc, 1, &cause) != 0) {
		app_error("featurizer: %s: %s", row->name, cause);
		free(cause);
		return -1;
	}
	free(row->q);
	row->q = all != NULL ? all : xmalloc(sizeof *row->q);
	row->n_q = (int)nall;
	row->truncated = (long)trunc;
	e->done += e->n - (hi - lo);
	return 0;
}

/* Score k (mauve-text's order: mauve, frontier_integral, and their star forms) of r. */
static double
cmd_eval_score(const struct mauve_result *r, int k)
{
	return k == 0 ? r->mauve : k == 1 ? r->frontier_integral : k == 2 ? r->mauve_star :
	    r->frontier_integral_star;
}

/* Step 3 for one row and generation seed g: MAUVE against the references. */
static void
cmd_eval_mauve(struct cmd_eval *e, struct cmd_eval_row *row, int g)
{
	struct mauve_result *r = xcalloc((size_t)e->mauve_seeds, sizeof *r);
	char *cause = NULL;
	int ok = 0;

	row->v[CMD_EVAL_M_EMPTY][g] = (double)(e->n - row->n_q);
	if (row->n_q < 1 || e->ref.n_q < 1)
		util_error(&cause, "no %s text has a feature", e->ref.n_q < 1 ? "reference" :
		    "scored");
	else if (mauve_compute_seeds(e->ref.q, e->ref.n_q, row->q, row->n_q, e->d, &e->mopt,
	    e->mauve_seeds, r, &cause) == 0)
		ok = 1;
	if (!ok) {
		app_warn("%s: generation seed %d: MAUVE: %s", row->name, g + 1,
		    cause != NULL ? cause : "failed");
		if (row->mauve_error == NULL)
			row->mauve_error = cause != NULL ? cause : xstrdup("MAUVE failed");
		else
			free(cause);
		free(r);
		return;
	}
	for (int k = 0; k < CMD_EVAL_NSCORES; k++) {
		double sum = 0, ss = 0, mean;

		for (int s = 0; s < e->mauve_seeds; s++)
			sum += cmd_eval_score(&r[s], k);
		mean = sum / e->mauve_seeds;
		for (int s = 0; s < e->mauve_seeds; s++)
			ss += (cmd_eval_score(&r[s], k) - mean) * (cmd_eval_score(&r[s], k) - mean);
		row->v[CMD_EVAL_M_MAUVE + k][g] = mean;
		row->ksd[k][g] = e->mauve_seeds > 1 ? sqrt(ss / (e->mauve_seeds - 1)) : 0;
	}
	for (int s = 0; s < e->mauve_seeds; s++) {
		row->mauve_seconds += r[s].pca_seconds + r[s].kmeans_seconds +
		    r[s].score_seconds;
		mauve_result_release(&r[s]);
	}
	row->num_buckets = r[0].num_buckets;
	row->pca_dims = r[0].pca_dims;
	free(r);
}

/* Write one feature matrix PREFIX[-gG]-what.npy; -1 (message printed) on error. */
static int
cmd_eval_save_one(const struct cmd_eval *e, int g, const char *what, const float *x, int n)
{
	char *path, *cause = NULL;
	int r;

	if (e->gen_seeds > 1)
		r = asprintf(&path, "%s-g%d-%s.npy", e->save_prefix, g + 1, what);
	else
		r = asprintf(&path, "%s-%s.npy", e->save_prefix, what);
	if (r < 0)
		app_fatal("out of memory");
	if (npy_write(path, x, n, e->d, &cause) != 0) {
		app_error("%s: %s", path, cause);
		free(cause);
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

/* Write generation seed g's features as .npy files. */
static int
cmd_eval_save(const struct cmd_eval *e, int g)
{
	char what[16];

	if (cmd_eval_save_one(e, g, "p", e->ref.q, e->ref.n_q) != 0 ||
	    (e->human && cmd_eval_save_one(e, g, "h", e->hum.q, e->hum.n_q) != 0))
		return -1;
	for (int m = 0; m < e->nmodels; m++) {
		if (e->nmodels == 1)
			snprintf(what, sizeof what, "q");
		else
			snprintf(what, sizeof what, "q-%d", m + 1);
		if (cmd_eval_save_one(e, g, what, e->models[m].row.q,
		    e->models[m].row.n_q) != 0)
			return -1;
	}
	return 0;
}

/* Free everything a run holds. */
static void
cmd_eval_free(struct cmd_eval *e)
{
	cmd_eval_choose_clear(e);
	cmd_eval_choose_free(e);
	cmd_eval_row_release(&e->ref, e->n);
	cmd_eval_row_release(&e->hum, e->n);
	for (int m = 0; m < e->nmodels; m++) {
		struct cmd_eval_model *mod = &e->models[m];

		cmd_eval_row_release(&mod->row, e->n);
		tokenizer_free(mod->tok);
		qweights_free(mod->qw);
		gpt_free(mod->model);
	}
	for (int k = 0; k < e->nkinds; k++)
		free(e->kinds[k]);
	featurize_free(e->feat);
	if (e->feat_owned) {
		tokenizer_free(e->feat_tok);
		gpt_free(e->feat_model);
	}
	free(e->feat_path_owned);
	corpus_free(e->corpus);
}

/* Parse one option of eval's own; -1 on a usage error, 1 for --help. */
static int
cmd_eval_option(struct cmd_eval *e, int opt)
{
	int sepv;

	switch (opt) {
	case 'm':
	case CMD_EVAL_MODEL:
		if (e->nmodels == CMD_EVAL_MAX_MODELS) {
			app_error("eval: at most %d --model values", CMD_EVAL_MAX_MODELS);
			return -1;
		}
		e->model_paths[e->nmodels++] = optarg;
		return 0;
	case CMD_EVAL_CORPUS:
		e->corpus_path = optarg;
		return 0;
	case CMD_EVAL_SEPARATOR:
		if (options_separator(optarg, &sepv) != 0)
			return -1;
		e->sep = (enum corpus_sep)sepv;
		return 0;
	case CMD_EVAL_PROMPT_TOKENS:
		return options_int("prompt-tokens", optarg, 1, GPT_MAX_SEQ_LEN,
		    &e->prompt_tokens);
	case CMD_EVAL_SAMPLES:
		return options_int("samples", optarg, 1, 10000000, &e->n);
	case CMD_EVAL_GEN_SEEDS:
		return options_int("gen-seeds", optarg, 1, CMD_EVAL_MAX_GEN_SEEDS,
		    &e->gen_seeds);
	case CMD_EVAL_NO_HUMAN:
		e->human = 0;
		return 0;
	case CMD_EVAL_CHECK:
		if (optarg[0] == '\0') {
			app_error("--check: the command is empty");
			return -1;
		}
		e->check_cmd = optarg;
		return 0;
	case CMD_EVAL_FEATURIZER:
		e->featurizer_path = optarg;
		return 0;
	case CMD_EVAL_MAX_TEXT_TOKENS:
		return options_int("max-text-tokens", optarg, 1, GPT_MAX_SEQ_LEN,
		    &e->max_text_tokens);
	case CMD_EVAL_NUM_BUCKETS:
		return options_int("num-buckets", optarg, 2, 10000000, &e->num_buckets);
	case CMD_EVAL_MAUVE_SEEDS:
		return options_int("mauve-seeds", optarg, 1, 1000, &e->mauve_seeds);
	case CMD_EVAL_SAVE_FEATURES:
		if (optarg[0] == '\0') {
			app_error("--save-features: the prefix is empty");
			return -1;
		}
		e->save_prefix = optarg;
		return 0;
	case CMD_EVAL_JSON:
		e->json = 1;
		return 0;
	case CMD_EVAL_WEIGHTS:
		return options_weights("weights", optarg, &e->weights);
	case 'h':
	case CMD_EVAL_HELP:
		cmd_eval_usage(stdout);
		return 1;
	default:
		cmd_eval_usage(stderr);
		return -1;
	}
}

/* Parse the command line into e; returns -1 (usage error) or 0, 1 for --help. */
static int
cmd_eval_parse(struct cmd_eval *e, int argc, char **argv)
{
	struct option *longopts = options_sampler_longopts(cmd_eval_own);
	int opt, ret = -1;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "hm:", longopts, NULL)) != -1) {
		const struct sampler_param *row = options_sampler_row(opt);

		if (row != NULL) {
			/* The continuation length has its own default and range here. */
			if (strcmp(row->name, "max_tokens") == 0) {
				if (options_int("max-tokens", optarg, 1, GPT_MAX_SEQ_LEN,
				    &e->max_tokens) != 0)
					goto out;
			} else if (options_sampler_set(&e->params, row, optarg) != 0)
				goto out;
			continue;
		}
		if ((ret = cmd_eval_option(e, opt)) != 0)
			goto out;
		ret = -1;
	}
	if (optind < argc) {
		app_error("eval: unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (e->corpus_path == NULL) {
		app_error("eval: --corpus FILE is required (held-out documents)");
		goto out;
	}
	if (e->nmodels == 0) {
		if ((e->model_paths[0] = app_default_model()) == NULL) {
			app_error("eval: no model given and none found; pass --model MODEL");
			goto out;
		}
		e->nmodels = 1;
	}
	ret = 0;
out:
	free(longopts);
	return ret;
}

/*
 * The default featurizer: featurizer.bin in the program's data directory
 * (data/ of an uninstalled build, as app/paths.c finds it), else in the
 * installed data directory. malloc'd; NULL (and *tried set) if neither exists.
 */
static char *
cmd_eval_default_featurizer(char *tried, size_t size)
{
	char *dir = app_data_dir(), *path = NULL;

	snprintf(tried, size, "featurizer.bin");
	if (dir != NULL) {
		if (asprintf(&path, "%s/data/featurizer.bin", dir) < 0)
			app_fatal("out of memory");
		free(dir);
		snprintf(tried, size, "%s", path);
		if (access(path, R_OK) == 0)
			return path;
		free(path);
	}
#ifdef PKGDATADIR
	if (asprintf(&path, "%s/featurizer.bin", PKGDATADIR) < 0)
		app_fatal("out of memory");
	if (access(path, R_OK) == 0)
		return path;
	free(path);
#endif
	return NULL;
}

/* Load the featurizer and warn when it has a compared model's weights. */
static int
cmd_eval_load_featurizer(struct cmd_eval *e)
{
	char *cause = NULL, tried[4096];
	uint64_t hash;

	if (e->featurizer_path == NULL) {
		if ((e->feat_path_owned = cmd_eval_default_featurizer(tried,
		    sizeof tried)) == NULL) {
			app_error("eval: no featurizer: %s does not exist; pass --featurizer "
			    "MODEL (a model that none of the compared models is, e.g. one "
			    "trained on other text)", tried);
			return APP_EXIT_ERROR;
		}
		e->featurizer_path = e->feat_path_owned;
	}
	for (int m = 0; m < e->nmodels && e->feat_model == NULL; m++)
		if (strcmp(e->featurizer_path, e->models[m].path) == 0) {
			e->feat_model = e->models[m].model;
			e->feat_tok = e->models[m].tok;
		}
	if (e->feat_model == NULL) {
		if (checkpoint_load(e->featurizer_path, &e->feat_model, &e->feat_tok, NULL,
		    &cause) != 0) {
			app_error("featurizer: %s", cause);
			free(cause);
			return APP_EXIT_ERROR;
		}
		e->feat_owned = 1;
	}
	hash = util_fnv1a(UTIL_FNV_INIT, gpt_param_memory(e->feat_model),
	    gpt_num_params(e->feat_model) * sizeof(float));
	for (int m = 0; m < e->nmodels && !e->feat_is_model; m++)
		if (hash == e->models[m].params_hash) {
			e->feat_is_model = 1;
			app_warn("the featurizer %s has the weights of compared model %s: its "
			    "features may favour that model; pass --featurizer with a model "
			    "none of the compared models is", e->featurizer_path,
			    e->models[m].path);
		}
	if ((e->feat = featurize_new(e->feat_model, e->feat_tok, e->max_text_tokens,
	    &cause)) == NULL) {
		app_error("featurizer %s: %s", e->featurizer_path, cause);
		free(cause);
		return APP_EXIT_ERROR;
	}
	e->d = featurize_dim(e->feat);
	return APP_EXIT_OK;
}

/* Load the models and the featurizer, and check that the lengths fit. */
static int
cmd_eval_load(struct cmd_eval *e)
{
	char *cause = NULL, how[160];
	int need = e->prompt_tokens + e->max_tokens;
	int cli = e->weights, conf = cli < 0 ? app_conf_weights() : -1;

	for (int m = 0; m < e->nmodels; m++) {
		struct cmd_eval_model *mod = &e->models[m];
		const struct gpt_config *cfg;
		int f;

		mod->path = e->model_paths[m];
		/* Filled: the report's params_hash is the fp32 parameters'. */
		if (app_load_generator(mod->path, 0, cli, conf, 1, &mod->model, &mod->tok, NULL,
		    &mod->qw, NULL, how, sizeof how, &cause) != 0) {
			app_error("%s", cause);
			free(cause);
			return APP_EXIT_ERROR;
		}
		/* The report's weights: the format every model decodes with. */
		f = (int)qweights_format(mod->qw);
		if (m == 0)
			e->weights = f;
		else if (f != e->weights) {
			app_warn("eval: %s decodes with %s weights, %s with %s: the "
			    "comparison mixes formats", e->models[0].path,
			    quant_format_name((enum quant_format)e->weights), mod->path,
			    quant_format_name((enum quant_format)f));
			e->weights_mixed = 1;
		}
		cfg = gpt_config(mod->model);
		if (need > cfg->max_seq_len) {
			app_error("eval: --prompt-tokens %d + --max-tokens %d = %d tokens do not "
			    "fit the context of %s (%d)", e->prompt_tokens, e->max_tokens, need,
			    mod->path, cfg->max_seq_len);
			return APP_EXIT_USAGE;
		}
		mod->same_tok = m == 0 || cmd_eval_same_tokenizer(e->models[0].tok, mod->tok);
		mod->params_hash = util_fnv1a(UTIL_FNV_INIT, gpt_param_memory(mod->model),
		    gpt_num_params(mod->model) * sizeof(float));
		cmd_eval_row_init(&mod->row, CMD_EVAL_ROW_MODEL, mod->path, e->gen_seeds);
		mod->row.index = m + 1;
	}
	return cmd_eval_load_featurizer(e);
}

/* One generation seed: choose, generate, featurize, MAUVE, check, save. */
static int
cmd_eval_seed(struct cmd_eval *e, int g)
{
	if (cmd_eval_choose_seed(e, g) != 0)
		return -1;
	for (int m = 0; m < e->nmodels && !app_interrupted; m++)
		if (cmd_eval_generate(e, &e->models[m], g) != 0)
			return -1;
	if (cmd_eval_featurize(e, &e->ref) != 0 ||
	    (e->human && cmd_eval_featurize(e, &e->hum) != 0))
		return -1;
	for (int m = 0; m < e->nmodels && !app_interrupted; m++)
		if (cmd_eval_featurize(e, &e->models[m].row) != 0)
			return -1;
	if (app_interrupted)
		return 0;
	/* Under mpirun rank 0 alone holds the features, scores and reports. */
	if (dist_rank() != 0) {
		cmd_eval_choose_clear(e);
		return 0;
	}
	if (e->human)
		cmd_eval_mauve(e, &e->hum, g);
	for (int m = 0; m < e->nmodels; m++)
		cmd_eval_mauve(e, &e->models[m].row, g);
	if (e->check_cmd != NULL) {
		if (e->human && cmd_eval_check_row(e, &e->hum, e->others, g) != 0)
			return -1;
		for (int m = 0; m < e->nmodels; m++)
			if (cmd_eval_check_row(e, &e->models[m].row, e->samples, g) != 0)
				return -1;
	}
	if (e->save_prefix != NULL && cmd_eval_save(e, g) != 0)
		return -1;
	cmd_eval_choose_clear(e);
	return 0;
}

/* `seqmatch eval`. */
int
cmd_eval(int argc, char **argv)
{
	struct cmd_eval *e = xcalloc(1, sizeof *e);
	char *cause = NULL;
	int status = APP_EXIT_ERROR, r;

	e->sep = CORPUS_SEP_BLANK;
	e->prompt_tokens = 32;
	e->max_tokens = 64;
	e->n = 200;
	e->gen_seeds = 3;
	e->human = 1;
	e->weights = -1;
	e->mauve_seeds = 5;
	sampler_defaults(&e->params);
	mauve_options_defaults(&e->mopt);
	if ((r = cmd_eval_parse(e, argc, argv)) != 0) {
		free(e);
		return r > 0 ? APP_EXIT_OK : APP_EXIT_USAGE;
	}
	e->mopt.num_buckets = e->num_buckets;
	e->start = util_now();
	e->seed = generate_pick_seed(e->params.seed);
	/* Under mpirun every rank draws rank 0's prompts and seeds. */
	if (dist_bcast(&e->seed, sizeof e->seed, 0, &cause) != 0) {
		app_error("eval: %s", cause);
		goto out;
	}
	e->params.seed = (int64_t)e->seed;
	e->params.max_tokens = e->max_tokens;
	cmd_eval_row_init(&e->ref, CMD_EVAL_ROW_REF, "reference", e->gen_seeds);
	cmd_eval_row_init(&e->hum, CMD_EVAL_ROW_HUMAN, "human", e->gen_seeds);

	if ((status = cmd_eval_load(e)) != APP_EXIT_OK)
		goto out;
	status = APP_EXIT_ERROR;
	if (corpus_load(e->corpus_path, e->sep, &e->corpus, &cause) != 0) {
		app_error("%s", cause);
		goto out;
	}
	if (cmd_eval_choose_init(e) != 0)
		goto out;
	if (!e->json && dist_rank() == 0)
		fprintf(stderr, "seqmatch: eval: %d prompts x %d generation seed%s, %d model%s%s, "
		    "seed %llu\n", e->n, e->gen_seeds, e->gen_seeds > 1 ? "s" : "",
		    e->nmodels, e->nmodels > 1 ? "s" : "", e->human ? " and the human row" : "",
		    (unsigned long long)e->seed);

	app_catch_signals();
	if (dist_rank() != 0)
		progress_set_quiet(1);
	progress_init(&e->bar, 0, (long)e->gen_seeds * e->n *
	    (1 + e->human + 2 * e->nmodels));
	for (int g = 0; g < e->gen_seeds && !app_interrupted; g++)
		if (cmd_eval_seed(e, g) != 0) {
			progress_finish(&e->bar);
			goto out;
		}
	progress_finish(&e->bar);
	if (app_interrupted) {
		app_error("eval: interrupted");
		status = APP_EXIT_INTERRUPTED;
		goto out;
	}
	e->seconds = util_now() - e->start;
	if (dist_rank() != 0)
		; /* rank 0 reports */
	else if (e->json)
		cmd_eval_print_json(e);
	else
		cmd_eval_print_table(e);
	status = APP_EXIT_OK;
out:
	free(cause);
	cmd_eval_free(e);
	free(e);
	return status;
}
