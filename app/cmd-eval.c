/*
 * cmd-eval.c: `seqmatch eval`: generate from held-out prompts with one or more
 * models, then MAUVE against the held-out continuations and text statistics.
 *
 * How a run goes:
 *   1. Prompts. The documents of the corpus are shuffled with the seed and
 *      taken in that order while they have at least prompt + continuation
 *      tokens under the first model's tokenizer, until --samples are found;
 *      the chosen ones are then put back in corpus order. Prompt = the first
 *      --prompt-tokens tokens, reference = the next --max-tokens tokens, so
 *      references are exactly as long as a generation that runs to the end.
 *   2. Generation. Every model gets the same prompt texts and the same seed
 *      for sample i (mixed from --seed and i); a model with another tokenizer
 *      re-encodes the prompt and reference texts. The event log of each
 *      generation feeds engine/textstats; the net tokens are decoded to text.
 *      The reference continuation is also scored teacher-forced (mean
 *      log-probability per token over the model's real tokens).
 *   3. MAUVE. The reference continuations and the generations, as text
 *      without the prompt (the package compares continuations), are
 *      featurized by a frozen model; empty generations are dropped; then
 *      mauve_compute once per k-means seed (25, 26, ...): mean and spread.
 */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "checkpoint.h"
#include "cmd-eval.h"
#include "corpus.h"
#include "featurize.h"
#include "generate.h"
#include "gpt.h"
#include "mauve.h"
#include "npy.h"
#include "options.h"
#include "progress.h"
#include "rng.h"
#include "sampler.h"
#include "textstats.h"
#include "tokenizer.h"
#include "util.h"

enum {
	CMD_EVAL_MODEL = 0x100, CMD_EVAL_CORPUS, CMD_EVAL_SEPARATOR,
	CMD_EVAL_PROMPT_TOKENS, CMD_EVAL_SAMPLES, CMD_EVAL_FEATURIZER,
	CMD_EVAL_MAX_TEXT_TOKENS, CMD_EVAL_NUM_BUCKETS, CMD_EVAL_MAUVE_SEEDS,
	CMD_EVAL_SAVE_FEATURES, CMD_EVAL_JSON, CMD_EVAL_HELP
};

static const struct option cmd_eval_own[] = {
	{ "model", required_argument, NULL, CMD_EVAL_MODEL },
	{ "corpus", required_argument, NULL, CMD_EVAL_CORPUS },
	{ "separator", required_argument, NULL, CMD_EVAL_SEPARATOR },
	{ "prompt-tokens", required_argument, NULL, CMD_EVAL_PROMPT_TOKENS },
	{ "samples", required_argument, NULL, CMD_EVAL_SAMPLES },
	{ "featurizer", required_argument, NULL, CMD_EVAL_FEATURIZER },
	{ "max-text-tokens", required_argument, NULL, CMD_EVAL_MAX_TEXT_TOKENS },
	{ "num-buckets", required_argument, NULL, CMD_EVAL_NUM_BUCKETS },
	{ "mauve-seeds", required_argument, NULL, CMD_EVAL_MAUVE_SEEDS },
	{ "save-features", required_argument, NULL, CMD_EVAL_SAVE_FEATURES },
	{ "json", no_argument, NULL, CMD_EVAL_JSON },
	{ "help", no_argument, NULL, CMD_EVAL_HELP },
	{ NULL, 0, NULL, 0 }
};

/* Print usage. */
static void
cmd_eval_usage(FILE *f)
{
	fprintf(f,
"usage: seqmatch eval --model MODEL [--model MODEL2 ...] --corpus HELDOUT\n"
"                     [options] [decoding options] [--json]\n"
"\n"
"Generate continuations of prompts taken from held-out documents and compare\n"
"them with the documents' own continuations: MAUVE (the full estimator of\n"
"mauve-text: PCA and k-means on all features), distinct-1/2/3, repetition,\n"
"backspace and re-emission rates, the mean log-probability of the reference\n"
"under the model, and tokens/s. With several --model values every model sees\n"
"the same prompts and seeds and the results are printed side by side.\n"
"\n"
"  --model, -m MODEL        a model to evaluate (repeat for up to %d)\n"
"  --corpus FILE            held-out documents (every document is a candidate)\n"
"  --separator blank|percent  documents split by blank lines (default) or by\n"
"                           lines holding a single %%\n"
"  --samples N              number of prompts (default 200); documents need at\n"
"                           least prompt + continuation tokens\n"
"  --prompt-tokens N        prompt length in tokens (default 32)\n"
"  --max-tokens N           continuation length: generations stop there and\n"
"                           references are cut to it (default 64)\n"
"  --seed N                 chooses the documents and the per-sample seeds\n"
"                           (default: random, printed)\n"
"\n"
"MAUVE (relative comparisons only: keep every setting below identical, and use\n"
"a few hundred samples or more; few samples give optimistic, noisy scores):\n"
"  --featurizer MODEL       frozen model for the features (default: the first\n"
"                           --model); features are the final hidden state at\n"
"                           the last token of the continuation text alone\n"
"  --max-text-tokens N      truncate texts to N tokens before featurizing\n"
"                           (default 1024, capped at the featurizer's context)\n"
"  --num-buckets K          k-means clusters (default: max(2, n/10))\n"
"  --mauve-seeds N          k-means seeds 25, 26, ...: mean and spread (default 5)\n"
"  --save-features PREFIX   write PREFIX-p.npy (references) and PREFIX-q.npy\n"
"                           (PREFIX-q-1.npy, -2, ... with several models) for\n"
"                           mauve-text's compute_mauve(p_features=, q_features=)\n"
"  --json                   one JSON object with every setting and result\n"
"\n"
"A MAUVE failure (too few samples for the clusters) is a warning and null\n"
"scores. Exit status: 0, 1 on a bad file or a failed run, 2 on bad usage.\n"
"\n"
"Decoding (--max-tokens and --seed as above):\n", CMD_EVAL_MAX_MODELS);
	options_sampler_help(f);
}

/* A generation's event log, filled by the callback. */
struct cmd_eval_log {
	struct generate_event *ev;
	int n, cap;
};

/* Event callback: keep every event. */
static int
cmd_eval_collect(const struct generate_event *ev, void *arg)
{
	struct cmd_eval_log *log = arg;

	if (log->n == log->cap) {
		log->cap = log->cap ? log->cap * 2 : 256;
		log->ev = xrealloc(log->ev, (size_t)log->cap * sizeof *log->ev);
	}
	log->ev[log->n++] = *ev;
	return app_interrupted ? 1 : 0;
}

/* splitmix64 of x: the per-sample seeds and the document shuffle. */
static uint64_t
cmd_eval_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Order of chosen samples: by document index. */
static int
cmd_eval_sample_cmp(const void *a, const void *b)
{
	const struct cmd_eval_sample *x = a, *y = b;

	return x->doc < y->doc ? -1 : x->doc > y->doc;
}

/* Decode ids into a malloc'd text. */
static int
cmd_eval_decode(const struct tokenizer *tok, const int *ids, int n, char **text,
    size_t *len, char **cause)
{
	uint8_t *out;

	if (tokenizer_decode(tok, ids, (size_t)n, &out, len, cause) != 0)
		return -1;
	*text = (char *)out;
	return 0;
}

/* Step 1: choose the documents and cut prompts and references. */
static int
cmd_eval_choose(struct cmd_eval *e)
{
	const struct tokenizer *tok = e->models[0].tok;
	size_t nd = e->corpus->ndocs, *order;
	int need = e->prompt_tokens + e->max_tokens;
	struct rng rng;
	char *cause = NULL;

	order = xmalloc(nd * sizeof *order);
	for (size_t i = 0; i < nd; i++)
		order[i] = i;
	rng_init(&rng, cmd_eval_mix(e->seed ^ 0x65766c2d646f6373ULL));
	for (size_t i = nd; i > 1; i--) {
		size_t j = (size_t)rng_below(&rng, i), t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
	e->samples = xcalloc((size_t)e->samples_requested, sizeof *e->samples);
	e->n = 0;
	for (size_t k = 0; k < nd && e->n < e->samples_requested; k++) {
		size_t doc = order[k], n_ids;
		int *ids;
		struct cmd_eval_sample *s;

		if (tokenizer_encode(tok, (const uint8_t *)e->corpus->docs[doc],
		    e->corpus->lens[doc], &ids, &n_ids, &cause) != 0) {
			app_error("%s: document %zu: %s", e->corpus_path, doc + 1, cause);
			free(cause);
			free(order);
			return -1;
		}
		if (n_ids < (size_t)need) {
			free(ids);
			continue;
		}
		s = &e->samples[e->n++];
		s->doc = doc;
		s->ids = ids;
	}
	free(order);
	if (e->n == 0) {
		app_error("%s: no document has %d tokens (--prompt-tokens %d + --max-tokens "
		    "%d) under the model's tokenizer", e->corpus_path, need,
		    e->prompt_tokens, e->max_tokens);
		return -1;
	}
	if (e->n < e->samples_requested)
		app_warn("%s: only %d documents have %d tokens or more; using %d samples "
		    "instead of %d", e->corpus_path, e->n, need, e->n, e->samples_requested);
	qsort(e->samples, (size_t)e->n, sizeof *e->samples, cmd_eval_sample_cmp);
	textstats_init(&e->ref_stats);
	for (int i = 0; i < e->n; i++) {
		struct cmd_eval_sample *s = &e->samples[i];

		s->seed = cmd_eval_mix(e->seed + (uint64_t)i * 0xd1b54a32d192ed03ULL) &
		    0x7fffffffffffffffULL;
		if (cmd_eval_decode(tok, s->ids, e->prompt_tokens, &s->prompt_text,
		    &s->prompt_len, &cause) != 0 || cmd_eval_decode(tok,
		    s->ids + e->prompt_tokens, e->max_tokens, &s->ref_text, &s->ref_len,
		    &cause) != 0 || textstats_add_ids(&e->ref_stats,
		    s->ids + e->prompt_tokens, e->max_tokens, &cause) != 0) {
			app_error("%s: %s", e->corpus_path, cause);
			free(cause);
			return -1;
		}
	}
	textstats_finish(&e->ref_stats);
	return 0;
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

/* Mean-able log-probability of ref (nr) after prompt (np), teacher-forced. */
static int
cmd_eval_logprob(struct cmd_eval_model *mod, struct gpt_kv *kv, const int *prompt,
    int np, const int *ref, int nr, float *logits, char **cause)
{
	int V = gpt_config(mod->model)->vocab_size;
	int *seq = xmalloc((size_t)(np + nr) * sizeof *seq);

	memcpy(seq, prompt, (size_t)np * sizeof *seq);
	memcpy(seq + np, ref, (size_t)nr * sizeof *seq);
	gpt_kv_truncate(kv, 0);
	if (gpt_kv_append(mod->model, kv, seq, np + nr, cause) != 0) {
		free(seq);
		return -1;
	}
	free(seq);
	for (int j = 0; j < nr; j++) {
		double maxv = -INFINITY, sum = 0;

		/* log-softmax over the V real tokens (<bksp> and padding excluded). */
		gpt_kv_logits(mod->model, kv, np - 1 + j, logits);
		for (int v = 0; v < V; v++)
			if (logits[v] > maxv)
				maxv = logits[v];
		for (int v = 0; v < V; v++)
			sum += exp((double)logits[v] - maxv);
		mod->logprob_sum += (double)logits[ref[j]] - maxv - log(sum);
		mod->logprob_tokens++;
	}
	return 0;
}

/* Step 2 for one model: generate, collect statistics, score the references. */
static int
cmd_eval_generate(struct cmd_eval *e, struct cmd_eval_model *mod)
{
	const struct gpt_config *cfg = gpt_config(mod->model);
	struct cmd_eval_log log = { NULL, 0, 0 };
	struct sampler_params params = e->params;
	struct gpt_kv *kv;
	float *logits;
	char *cause = NULL;
	int ret = -1;

	if ((kv = gpt_kv_new(mod->model, cfg->max_seq_len, &cause)) == NULL) {
		app_error("%s: %s", mod->path, cause);
		free(cause);
		return -1;
	}
	logits = xmalloc((size_t)cfg->padded_vocab_size * sizeof *logits);
	mod->gen_text = xcalloc((size_t)e->n, sizeof *mod->gen_text);
	mod->gen_len = xcalloc((size_t)e->n, sizeof *mod->gen_len);
	textstats_init(&mod->stats);
	params.max_tokens = e->max_tokens;
	for (int i = 0; i < e->n && !app_interrupted; i++) {
		struct cmd_eval_sample *s = &e->samples[i];
		int *prompt = s->ids, *ref = s->ids + e->prompt_tokens, *own = NULL;
		int *ownref = NULL, np = e->prompt_tokens, nr = e->max_tokens, *ids, nids;
		size_t n1, n2;

		if (!mod->same_tok) {
			if (tokenizer_encode(mod->tok, (const uint8_t *)s->prompt_text,
			    s->prompt_len, &own, &n1, &cause) != 0 ||
			    tokenizer_encode(mod->tok, (const uint8_t *)s->ref_text,
			    s->ref_len, &ownref, &n2, &cause) != 0)
				goto fail;
			if (n1 < 1 || n1 + n2 > (size_t)cfg->max_seq_len) {
				util_error(&cause, "sample %d: the prompt and reference take "
				    "%zu + %zu tokens under this model's tokenizer; the "
				    "context holds %d", i + 1, n1, n2, cfg->max_seq_len);
				goto fail;
			}
			prompt = own;
			ref = ownref;
			np = (int)n1;
			nr = (int)n2;
		}
		params.seed = (int64_t)s->seed;
		log.n = 0;
		if (generate_run(mod->model, mod->tok, &params, prompt, np,
		    cmd_eval_collect, &log, NULL, &cause) != 0)
			goto fail;
		if (app_interrupted)
			goto interrupted;
		if (log.n > 0 && log.ev[log.n - 1].type == GENERATE_EVENT_STOP) {
			const struct generate_event *stop = &log.ev[log.n - 1];

			mod->gen_tokens += stop->n_generated;
			e->tokens += stop->n_generated;
			mod->gen_seconds += stop->generate_seconds;
			mod->prefill_seconds += stop->prefill_seconds;
			mod->prefill_tokens += np;
			if ((int)stop->reason >= 0 && (int)stop->reason < CMD_EVAL_NSTOPS)
				mod->stops[stop->reason]++;
		}
		if (textstats_add_events(&mod->stats, log.ev, log.n, np, &cause) != 0 ||
		    textstats_replay(log.ev, log.n, np, &ids, &nids, &cause) != 0)
			goto fail;
		if (textstats_add_ids(&mod->stats, ids, nids, &cause) != 0 ||
		    cmd_eval_decode(mod->tok, ids, nids, &mod->gen_text[i],
		    &mod->gen_len[i], &cause) != 0) {
			free(ids);
			goto fail;
		}
		free(ids);
		if (cmd_eval_logprob(mod, kv, prompt, np, ref, nr, logits, &cause) != 0)
			goto fail;
		free(own);
		free(ownref);
		e->done++;
		progress_update(&e->bar, e->done, NAN, e->tokens);
		continue;
fail:
		app_error("%s: sample %d (document %zu): %s", mod->path, i + 1, s->doc + 1,
		    cause != NULL ? cause : "failed");
		free(own);
		free(ownref);
		goto out;
interrupted:
		free(own);
		free(ownref);
		break;
	}
	textstats_finish(&mod->stats);
	ret = 0;
out:
	free(cause);
	free(log.ev);
	free(logits);
	gpt_kv_free(kv);
	return ret;
}

/* Featurize n texts into rows (n, d); empty texts are dropped; returns the rows kept. */
static int
cmd_eval_featurize(struct cmd_eval *e, char *const *texts, const size_t *lens, int n,
    float **rows, int *truncated)
{
	char *cause = NULL;
	int kept = 0, r, t;

	*rows = xmalloc((size_t)(n > 0 ? n : 1) * (size_t)e->d * sizeof **rows);
	*truncated = 0;
	for (int i = 0; i < n && !app_interrupted; i++) {
		r = featurize_text(e->feat, (const uint8_t *)texts[i], lens[i],
		    *rows + (size_t)kept * e->d, NULL, &t, &cause);
		if (r < 0) {
			app_error("featurizer: text %d: %s", i + 1, cause);
			free(cause);
			return -1;
		}
		if (r == 0) {
			kept++;
			*truncated += t;
		}
		e->done++;
		progress_update(&e->bar, e->done, NAN, e->tokens);
	}
	return kept;
}

/* Step 3 for one model: MAUVE over the k-means seeds (the PCA is shared). */
static void
cmd_eval_mauve(struct cmd_eval *e, struct cmd_eval_model *mod)
{
	struct mauve_result *r = xcalloc((size_t)e->mauve_seeds, sizeof *r);
	char *cause = NULL;

	for (int k = 0; k < CMD_EVAL_NSCORES; k++)
		mod->scores[k] = xcalloc((size_t)e->mauve_seeds, sizeof(double));
	if (mod->n_q < 1 || e->n_p < 1)
		util_error(&cause, "no %s text has a feature", e->n_p < 1 ? "reference" :
		    "generated");
	else if (mauve_compute_seeds(e->p, e->n_p, mod->q, mod->n_q, e->d, &e->mopt,
	    e->mauve_seeds, r, &cause) == 0)
		mod->mauve_ok = 1;
	if (!mod->mauve_ok) {
		mod->mauve_error = cause != NULL ? cause : xstrdup("MAUVE failed");
		app_warn("%s: MAUVE: %s", mod->path, mod->mauve_error);
		free(r);
		return;
	}
	for (int s = 0; s < e->mauve_seeds; s++) {
		mod->scores[0][s] = r[s].mauve;
		mod->scores[1][s] = r[s].frontier_integral;
		mod->scores[2][s] = r[s].mauve_star;
		mod->scores[3][s] = r[s].frontier_integral_star;
		mod->mauve_seconds += r[s].pca_seconds + r[s].kmeans_seconds +
		    r[s].score_seconds;
		mauve_result_release(&r[s]);
	}
	mod->num_buckets = r[0].num_buckets;
	mod->pca_dims = r[0].pca_dims;
	free(r);
}

/* Write the features as .npy files. */
static int
cmd_eval_save(struct cmd_eval *e)
{
	size_t len = strlen(e->save_prefix) + 32;
	char *path = xmalloc(len), *cause = NULL;

	snprintf(path, len, "%s-p.npy", e->save_prefix);
	if (npy_write(path, e->p, e->n_p, e->d, &cause) != 0)
		goto fail;
	for (int m = 0; m < e->nmodels; m++) {
		if (e->nmodels == 1)
			snprintf(path, len, "%s-q.npy", e->save_prefix);
		else
			snprintf(path, len, "%s-q-%d.npy", e->save_prefix, m + 1);
		if (npy_write(path, e->models[m].q, e->models[m].n_q, e->d, &cause) != 0)
			goto fail;
	}
	free(path);
	return 0;
fail:
	app_error("%s: %s", path, cause);
	free(cause);
	free(path);
	return -1;
}

/* Free everything a run holds. */
static void
cmd_eval_free(struct cmd_eval *e)
{
	for (int i = 0; i < e->n; i++) {
		free(e->samples[i].ids);
		free(e->samples[i].prompt_text);
		free(e->samples[i].ref_text);
	}
	free(e->samples);
	for (int m = 0; m < e->nmodels; m++) {
		struct cmd_eval_model *mod = &e->models[m];

		if (mod->gen_text != NULL)
			for (int i = 0; i < e->n; i++)
				free(mod->gen_text[i]);
		free(mod->gen_text);
		free(mod->gen_len);
		textstats_release(&mod->stats);
		free(mod->q);
		free(mod->mauve_error);
		for (int k = 0; k < CMD_EVAL_NSCORES; k++)
			free(mod->scores[k]);
		tokenizer_free(mod->tok);
		gpt_free(mod->model);
	}
	textstats_release(&e->ref_stats);
	featurize_free(e->feat);
	if (e->feat_owned) {
		tokenizer_free(e->feat_tok);
		gpt_free(e->feat_model);
	}
	free(e->p);
	corpus_free(e->corpus);
}

/* Parse the command line into e; returns -1 (usage error) or 0, 1 for --help. */
static int
cmd_eval_parse(struct cmd_eval *e, int argc, char **argv)
{
	struct option *longopts = options_sampler_longopts(cmd_eval_own);
	int opt, sepv, ret = -1;

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
		switch (opt) {
		case 'm':
		case CMD_EVAL_MODEL:
			if (e->nmodels == CMD_EVAL_MAX_MODELS) {
				app_error("eval: at most %d --model values", CMD_EVAL_MAX_MODELS);
				goto out;
			}
			e->model_paths[e->nmodels++] = optarg;
			break;
		case CMD_EVAL_CORPUS:
			e->corpus_path = optarg;
			break;
		case CMD_EVAL_SEPARATOR:
			if (options_separator(optarg, &sepv) != 0)
				goto out;
			e->sep = (enum corpus_sep)sepv;
			break;
		case CMD_EVAL_PROMPT_TOKENS:
			if (options_int("prompt-tokens", optarg, 1, GPT_MAX_SEQ_LEN,
			    &e->prompt_tokens) != 0)
				goto out;
			break;
		case CMD_EVAL_SAMPLES:
			if (options_int("samples", optarg, 1, 10000000,
			    &e->samples_requested) != 0)
				goto out;
			break;
		case CMD_EVAL_FEATURIZER:
			e->featurizer_path = optarg;
			break;
		case CMD_EVAL_MAX_TEXT_TOKENS:
			if (options_int("max-text-tokens", optarg, 1, GPT_MAX_SEQ_LEN,
			    &e->max_text_tokens) != 0)
				goto out;
			break;
		case CMD_EVAL_NUM_BUCKETS:
			if (options_int("num-buckets", optarg, 2, 10000000,
			    &e->num_buckets) != 0)
				goto out;
			break;
		case CMD_EVAL_MAUVE_SEEDS:
			if (options_int("mauve-seeds", optarg, 1, 1000, &e->mauve_seeds) != 0)
				goto out;
			break;
		case CMD_EVAL_SAVE_FEATURES:
			if (optarg[0] == '\0') {
				app_error("--save-features: the prefix is empty");
				goto out;
			}
			e->save_prefix = optarg;
			break;
		case CMD_EVAL_JSON:
			e->json = 1;
			break;
		case 'h':
		case CMD_EVAL_HELP:
			cmd_eval_usage(stdout);
			ret = 1;
			goto out;
		default:
			cmd_eval_usage(stderr);
			goto out;
		}
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

/* Load the models and the featurizer, and check that the lengths fit. */
static int
cmd_eval_load(struct cmd_eval *e)
{
	char *cause = NULL;
	int need = e->prompt_tokens + e->max_tokens;

	for (int m = 0; m < e->nmodels; m++) {
		struct cmd_eval_model *mod = &e->models[m];
		const struct gpt_config *cfg;

		mod->path = e->model_paths[m];
		if (checkpoint_load(mod->path, &mod->model, &mod->tok, NULL, &cause) != 0) {
			app_error("%s", cause);
			free(cause);
			return APP_EXIT_ERROR;
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
	}
	if (e->featurizer_path == NULL)
		e->featurizer_path = e->models[0].path;
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
	if ((e->feat = featurize_new(e->feat_model, e->feat_tok, e->max_text_tokens,
	    &cause)) == NULL) {
		app_error("featurizer %s: %s", e->featurizer_path, cause);
		free(cause);
		return APP_EXIT_ERROR;
	}
	e->d = featurize_dim(e->feat);
	return APP_EXIT_OK;
}

/* `seqmatch eval`. */
int
cmd_eval(int argc, char **argv)
{
	struct cmd_eval *e = xcalloc(1, sizeof *e);
	char *cause = NULL;
	int status = APP_EXIT_ERROR, r, trunc;

	e->sep = CORPUS_SEP_BLANK;
	e->prompt_tokens = 32;
	e->max_tokens = 64;
	e->samples_requested = 200;
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
	e->params.seed = (int64_t)e->seed;
	e->params.max_tokens = e->max_tokens;

	if ((status = cmd_eval_load(e)) != APP_EXIT_OK)
		goto out;
	status = APP_EXIT_ERROR;
	if (corpus_load(e->corpus_path, e->sep, &e->corpus, &cause) != 0) {
		app_error("%s", cause);
		goto out;
	}
	if (cmd_eval_choose(e) != 0)
		goto out;
	if (!e->json)
		fprintf(stderr, "seqmatch: eval: %d prompts, %d model%s, seed %llu\n", e->n,
		    e->nmodels, e->nmodels > 1 ? "s" : "", (unsigned long long)e->seed);

	app_catch_signals();
	progress_init(&e->bar, 0, (long)e->n * (2 * e->nmodels + 1));
	for (int m = 0; m < e->nmodels && !app_interrupted; m++)
		if (cmd_eval_generate(e, &e->models[m]) != 0) {
			progress_finish(&e->bar);
			goto out;
		}
	{
		char **texts = xmalloc((size_t)e->n * sizeof *texts);
		size_t *lens = xmalloc((size_t)e->n * sizeof *lens);

		for (int i = 0; i < e->n; i++) {
			texts[i] = e->samples[i].ref_text;
			lens[i] = e->samples[i].ref_len;
		}
		e->n_p = app_interrupted ? 0 :
		    cmd_eval_featurize(e, texts, lens, e->n, &e->p, &e->ref_truncated);
		free(texts);
		free(lens);
	}
	for (int m = 0; m < e->nmodels && e->n_p >= 0 && !app_interrupted; m++) {
		struct cmd_eval_model *mod = &e->models[m];

		if ((mod->n_q = cmd_eval_featurize(e, mod->gen_text, mod->gen_len, e->n,
		    &mod->q, &trunc)) < 0) {
			progress_finish(&e->bar);
			goto out;
		}
	}
	progress_finish(&e->bar);
	if (e->n_p < 0)
		goto out;
	if (app_interrupted) {
		app_error("eval: interrupted");
		status = APP_EXIT_INTERRUPTED;
		goto out;
	}
	for (int m = 0; m < e->nmodels; m++)
		cmd_eval_mauve(e, &e->models[m]);
	if (e->save_prefix != NULL && cmd_eval_save(e) != 0)
		goto out;
	e->seconds = util_now() - e->start;
	if (e->json)
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
