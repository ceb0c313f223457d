/*
 * cmd-eval-report.c: the report of `seqmatch eval`: a plain table (models side
 * by side with the reference) or one JSON object with every setting, score and
 * statistic (mauve-text's field names for the scores).
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd-eval.h"
#include "generate.h"
#include "json.h"
#include "util.h"

/* The four scores, in mauve-text's names and order. */
static const char *const cmd_eval_score_names[CMD_EVAL_NSCORES] = {
	"mauve", "frontier_integral", "mauve_star", "frontier_integral_star"
};

/* Mean, sample standard deviation, min and max of n values. */
static void
cmd_eval_spread(const double *v, int n, double *mean, double *sd, double *lo, double *hi)
{
	double sum = 0, ss = 0;

	*lo = INFINITY;
	*hi = -INFINITY;
	for (int i = 0; i < n; i++) {
		sum += v[i];
		if (v[i] < *lo)
			*lo = v[i];
		if (v[i] > *hi)
			*hi = v[i];
	}
	*mean = n > 0 ? sum / n : NAN;
	for (int i = 0; i < n; i++)
		ss += (v[i] - *mean) * (v[i] - *mean);
	*sd = n > 1 ? sqrt(ss / (n - 1)) : 0;
}

/* The last path component, for narrow table columns. */
static const char *
cmd_eval_base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL && s[1] != '\0' ? s + 1 : path;
}

/* Mean log-probability of a model's references (NaN without tokens). */
static double
cmd_eval_mean_logprob(const struct cmd_eval_model *mod)
{
	return mod->logprob_tokens > 0 ? mod->logprob_sum / (double)mod->logprob_tokens : NAN;
}

/* Tokens per second, NaN when no time was measured. */
static double
cmd_eval_rate(double tokens, double seconds)
{
	return seconds > 0 ? tokens / seconds : NAN;
}

#define CMD_EVAL_LABEL 26
#define CMD_EVAL_COL 18

/* One table row: label, reference cell (NULL: none), then one cell per model. */
static void
cmd_eval_row(const char *label, const char *ref, char cells[][64], int n)
{
	char line[CMD_EVAL_LABEL + (CMD_EVAL_MAX_MODELS + 1) * (CMD_EVAL_COL + 64) + 8];
	int len;

	len = snprintf(line, sizeof line, "%-*s %-*s", CMD_EVAL_LABEL, label,
	    CMD_EVAL_COL - 2, ref != NULL ? ref : "");
	for (int m = 0; m < n && len >= 0 && (size_t)len < sizeof line; m++)
		len += snprintf(line + len, sizeof line - (size_t)len, " %-*s",
		    CMD_EVAL_COL - 1, cells[m]);
	if (len < 0)
		return;
	if ((size_t)len >= sizeof line)
		len = (int)sizeof line - 1;
	while (len > 0 && line[len - 1] == ' ')
		len--;
	printf("%.*s\n", len, line);
}

/* Print items separated by ", " after a heading, wrapped under it at 78 columns. */
struct cmd_eval_wrap {
	int col;    /* current column */
	int indent; /* width of the heading */
	int first;  /* no item on this line yet */
};

/* Start a wrapped list with its heading. */
static void
cmd_eval_wrap_start(struct cmd_eval_wrap *w, const char *heading)
{
	w->indent = w->col = printf("%s ", heading);
	w->first = 1;
}

/* Add one item (printf format). */
static void __attribute__((format(printf, 2, 3)))
cmd_eval_wrap_item(struct cmd_eval_wrap *w, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	if (!w->first && w->col + 2 + len > 78) {
		printf(",\n%*s", w->indent, "");
		w->col = w->indent;
	} else if (!w->first) {
		printf(", ");
		w->col += 2;
	}
	printf("%s", buf);
	w->col += len;
	w->first = 0;
}

/* Print the plain table. */
void
cmd_eval_print_table(const struct cmd_eval *e)
{
	char cells[CMD_EVAL_MAX_MODELS][64], ref[64];
	struct cmd_eval_wrap w;
	int nm = e->nmodels;

	printf("eval: %d prompts from %s (%d prompt + %d continuation tokens), seed %llu\n\n",
	    e->n, e->corpus_path, e->prompt_tokens, e->max_tokens,
	    (unsigned long long)e->seed);
	for (int m = 0; m < nm; m++)
		snprintf(cells[m], sizeof cells[m], "model %d", m + 1);
	cmd_eval_row("", "reference", cells, nm);
	for (int m = 0; m < nm; m++)
		snprintf(cells[m], sizeof cells[m], "%.17s", cmd_eval_base(e->models[m].path));
	cmd_eval_row("model", "", cells, nm);

	if (e->mauve_seeds > 1)
		printf("MAUVE (full estimator; mean +/- std over %d k-means seeds)\n",
		    e->mauve_seeds);
	else
		printf("MAUVE (full estimator; one k-means seed)\n");
	for (int k = 0; k < CMD_EVAL_NSCORES; k++) {
		char label[64];

		snprintf(label, sizeof label, "  %s", cmd_eval_score_names[k]);
		for (int m = 0; m < nm; m++) {
			const struct cmd_eval_model *mod = &e->models[m];
			double mean, sd, lo, hi;

			if (!mod->mauve_ok) {
				snprintf(cells[m], sizeof cells[m], "failed");
				continue;
			}
			cmd_eval_spread(mod->scores[k], e->mauve_seeds, &mean, &sd, &lo, &hi);
			if (e->mauve_seeds > 1)
				snprintf(cells[m], sizeof cells[m], "%.4f +/- %.4f", mean, sd);
			else
				snprintf(cells[m], sizeof cells[m], "%.4f", mean);
		}
		cmd_eval_row(label, NULL, cells, nm);
	}
	for (int m = 0; m < nm; m++)
		snprintf(cells[m], sizeof cells[m], "%d", e->models[m].num_buckets);
	cmd_eval_row("  num_buckets", NULL, cells, nm);
	for (int m = 0; m < nm; m++)
		snprintf(cells[m], sizeof cells[m], "%d / %d", e->n_p, e->models[m].n_q);
	cmd_eval_row("  n_p / n_q", NULL, cells, nm);

	printf("text\n");
	for (int k = 0; k < TEXTSTATS_MAX_N; k++) {
		char label[64];

		snprintf(label, sizeof label, "  distinct-%d", k + 1);
		snprintf(ref, sizeof ref, "%.4f", e->ref_stats.distinct[k]);
		for (int m = 0; m < nm; m++)
			snprintf(cells[m], sizeof cells[m], "%.4f",
			    e->models[m].stats.distinct[k]);
		cmd_eval_row(label, ref, cells, nm);
	}
	snprintf(ref, sizeof ref, "%.4f", e->ref_stats.repetition_rate);
	for (int m = 0; m < nm; m++)
		snprintf(cells[m], sizeof cells[m], "%.4f", e->models[m].stats.repetition_rate);
	cmd_eval_row("  repetition_rate (4-gram)", ref, cells, nm);
	for (int m = 0; m < nm; m++)
		snprintf(cells[m], sizeof cells[m], "%.4f", cmd_eval_mean_logprob(&e->models[m]));
	cmd_eval_row("  mean_logprob (reference)", NULL, cells, nm);
	for (int m = 0; m < nm; m++)
		snprintf(cells[m], sizeof cells[m], "%ld / %ld", e->models[m].stats.appends,
		    e->models[m].stats.net_tokens);
	cmd_eval_row("  gross / net tokens", NULL, cells, nm);
	printf("backspace\n");
	for (int m = 0; m < nm; m++)
		snprintf(cells[m], sizeof cells[m], "%.4f", e->models[m].stats.backspace_rate);
	cmd_eval_row("  backspace_rate", NULL, cells, nm);
	for (int m = 0; m < nm; m++)
		snprintf(cells[m], sizeof cells[m], "%.4f (%ld/%ld)",
		    e->models[m].stats.re_emission_rate, e->models[m].stats.re_emissions,
		    e->models[m].stats.erases);
	cmd_eval_row("  re_emission_rate", NULL, cells, nm);
	for (int m = 0; m < nm; m++)
		snprintf(cells[m], sizeof cells[m], "%ld",
		    e->models[m].stats.longest_backspace_run);
	cmd_eval_row("  longest_backspace_run", NULL, cells, nm);
	printf("speed\n");
	for (int m = 0; m < nm; m++)
		snprintf(cells[m], sizeof cells[m], "%.1f", cmd_eval_rate(
		    (double)e->models[m].gen_tokens, e->models[m].gen_seconds));
	cmd_eval_row("  generate tokens/s", NULL, cells, nm);
	for (int m = 0; m < nm; m++)
		snprintf(cells[m], sizeof cells[m], "%.1f", cmd_eval_rate(
		    (double)e->models[m].prefill_tokens, e->models[m].prefill_seconds));
	cmd_eval_row("  prefill tokens/s", NULL, cells, nm);

	printf("\n");
	cmd_eval_wrap_start(&w, "settings:");
	cmd_eval_wrap_item(&w, "featurizer %s (C=%d)", e->featurizer_path, e->d);
	cmd_eval_wrap_item(&w, "features of the continuation text only");
	cmd_eval_wrap_item(&w, "first %d tokens", featurize_max_tokens(e->feat));
	if (e->num_buckets > 0)
		cmd_eval_wrap_item(&w, "k %d", e->num_buckets);
	else
		cmd_eval_wrap_item(&w, "k auto");
	cmd_eval_wrap_item(&w, "c %g", e->mopt.scaling);
	cmd_eval_wrap_item(&w, "PCA variance %g", e->mopt.explained_var);
	if (e->mauve_seeds > 1)
		cmd_eval_wrap_item(&w, "k-means seeds %llu..%llu",
		    (unsigned long long)e->mopt.seed,
		    (unsigned long long)(e->mopt.seed + (uint64_t)e->mauve_seeds - 1));
	else
		cmd_eval_wrap_item(&w, "k-means seed %llu", (unsigned long long)e->mopt.seed);
	cmd_eval_wrap_item(&w, "%d restarts", e->mopt.kmeans_restarts);
	cmd_eval_wrap_item(&w, "up to %d iterations", e->mopt.kmeans_max_iter);
	cmd_eval_wrap_item(&w, "%d curve points", e->mopt.divergence_points);
	printf("\n");
	cmd_eval_wrap_start(&w, "decoding:");
	for (size_t i = 0; i < sampler_table_len; i++) {
		const struct sampler_param *row = &sampler_table[i];

		if (strcmp(row->name, "seed") == 0 || strcmp(row->name, "max_tokens") == 0)
			continue;
		if (row->type == SAMPLER_DOUBLE)
			cmd_eval_wrap_item(&w, "%s %g", row->name, sampler_get(&e->params, row));
		else
			cmd_eval_wrap_item(&w, "%s %.0f", row->name, sampler_get(&e->params, row));
	}
	printf("\n");
	printf("MAUVE compares settings, not absolute values: keep the featurizer,\n"
	    "lengths, k, c and n identical; below a few hundred samples it is noisy.\n");
}

/* Print "name": value lines of JSON with an indent. */
static void
cmd_eval_jnum(const char *indent, const char *name, double v, int comma)
{
	printf("%s\"%s\": ", indent, name);
	json_number(stdout, v);
	printf("%s\n", comma ? "," : "");
}

/* The same for an integer. */
static void
cmd_eval_jint(const char *indent, const char *name, long v, int comma)
{
	printf("%s\"%s\": %ld%s\n", indent, name, v, comma ? "," : "");
}

/* The same for a string. */
static void
cmd_eval_jstr(const char *indent, const char *name, const char *s, int comma)
{
	printf("%s\"%s\": ", indent, name);
	json_string(stdout, s, strlen(s));
	printf("%s\n", comma ? "," : "");
}

/* The text statistics fields shared by the reference and the models. */
static void
cmd_eval_json_text(const char *in, const struct textstats *s)
{
	for (int k = 0; k < TEXTSTATS_MAX_N; k++) {
		char name[32];

		snprintf(name, sizeof name, "distinct_%d", k + 1);
		cmd_eval_jnum(in, name, s->distinct[k], 1);
	}
	cmd_eval_jnum(in, "repetition_rate", s->repetition_rate, 1);
	cmd_eval_jint(in, "repetition_texts", s->repetition_sequences, 1);
}

/* One model's JSON object. */
static void
cmd_eval_json_model(const struct cmd_eval *e, int m)
{
	const struct cmd_eval_model *mod = &e->models[m];
	const char *in = "      ";
	char hash[32];
	double mean, sd, lo, hi;

	printf("    {\n");
	cmd_eval_jint(in, "index", m + 1, 1);
	cmd_eval_jstr(in, "model", mod->path, 1);
	snprintf(hash, sizeof hash, "%016llx", (unsigned long long)mod->params_hash);
	cmd_eval_jstr(in, "params_hash", hash, 1);
	printf("%s\"same_tokenizer_as_first\": %s,\n", in, mod->same_tok ? "true" : "false");
	cmd_eval_jstr(in, "estimator", "full", 1);
	for (int k = 0; k < CMD_EVAL_NSCORES; k++) {
		char name[64];

		if (mod->mauve_ok)
			cmd_eval_spread(mod->scores[k], e->mauve_seeds, &mean, &sd, &lo, &hi);
		else
			mean = sd = lo = hi = NAN;
		cmd_eval_jnum(in, cmd_eval_score_names[k], mean, 1);
		snprintf(name, sizeof name, "%s_std", cmd_eval_score_names[k]);
		cmd_eval_jnum(in, name, sd, 1);
		snprintf(name, sizeof name, "%s_min", cmd_eval_score_names[k]);
		cmd_eval_jnum(in, name, lo, 1);
		snprintf(name, sizeof name, "%s_max", cmd_eval_score_names[k]);
		cmd_eval_jnum(in, name, hi, 1);
		snprintf(name, sizeof name, "%s_per_seed", cmd_eval_score_names[k]);
		printf("%s\"%s\": [", in, name);
		for (int s = 0; mod->mauve_ok && s < e->mauve_seeds; s++) {
			printf("%s", s ? ", " : "");
			json_number(stdout, mod->scores[k][s]);
		}
		printf("],\n");
	}
	if (!mod->mauve_ok)
		cmd_eval_jstr(in, "mauve_error", mod->mauve_error, 1);
	cmd_eval_jint(in, "num_buckets", mod->mauve_ok ? mod->num_buckets : 0, 1);
	cmd_eval_jint(in, "pca_dims", mod->mauve_ok ? mod->pca_dims : 0, 1);
	cmd_eval_jint(in, "n_p", e->n_p, 1);
	cmd_eval_jint(in, "n_q", mod->n_q, 1);
	cmd_eval_jint(in, "empty_generations", e->n - mod->n_q, 1);
	cmd_eval_json_text(in, &mod->stats);
	cmd_eval_jnum(in, "mean_logprob", cmd_eval_mean_logprob(mod), 1);
	cmd_eval_jnum(in, "perplexity", exp(-cmd_eval_mean_logprob(mod)), 1);
	cmd_eval_jint(in, "reference_tokens", mod->logprob_tokens, 1);
	cmd_eval_jint(in, "gross_tokens", mod->stats.appends, 1);
	cmd_eval_jint(in, "net_tokens", mod->stats.net_tokens, 1);
	cmd_eval_jint(in, "actions", mod->stats.actions, 1);
	cmd_eval_jint(in, "erase_events", mod->stats.erases, 1);
	cmd_eval_jnum(in, "backspace_rate", mod->stats.backspace_rate, 1);
	cmd_eval_jint(in, "re_emissions", mod->stats.re_emissions, 1);
	cmd_eval_jnum(in, "re_emission_rate", mod->stats.re_emission_rate, 1);
	cmd_eval_jint(in, "longest_backspace_run", mod->stats.longest_backspace_run, 1);
	printf("%s\"stops\": {", in);
	for (int r = 0; r < CMD_EVAL_NSTOPS; r++) {
		const char *name = generate_stop_name((enum generate_stop)r);

		if (strcmp(name, "?") == 0)
			break;
		printf("%s\"%s\": %ld", r ? ", " : "", name, mod->stops[r]);
	}
	printf("},\n");
	cmd_eval_jnum(in, "generate_tokens_per_s",
	    cmd_eval_rate((double)mod->gen_tokens, mod->gen_seconds), 1);
	cmd_eval_jnum(in, "prefill_tokens_per_s",
	    cmd_eval_rate((double)mod->prefill_tokens, mod->prefill_seconds), 1);
	cmd_eval_jnum(in, "generate_seconds", mod->gen_seconds, 1);
	cmd_eval_jnum(in, "mauve_seconds", mod->mauve_seconds, 0);
	printf("    }%s\n", m + 1 < e->nmodels ? "," : "");
}

/* Print the JSON object: settings, reference statistics, one object per model. */
void
cmd_eval_print_json(const struct cmd_eval *e)
{
	const char *in = "  ";
	char hash[32];

	printf("{\n");
	cmd_eval_jstr(in, "command", "eval", 1);
	cmd_eval_jstr(in, "version", PACKAGE_VERSION, 1);
	cmd_eval_jstr(in, "corpus", e->corpus_path, 1);
	snprintf(hash, sizeof hash, "%016llx", (unsigned long long)e->corpus->hash);
	cmd_eval_jstr(in, "corpus_hash", hash, 1);
	cmd_eval_jstr(in, "separator", e->sep == CORPUS_SEP_BLANK ? "blank" : "percent", 1);
	cmd_eval_jint(in, "documents", (long)e->corpus->ndocs, 1);
	cmd_eval_jint(in, "samples", e->n, 1);
	cmd_eval_jint(in, "samples_requested", e->samples_requested, 1);
	cmd_eval_jint(in, "prompt_tokens", e->prompt_tokens, 1);
	cmd_eval_jint(in, "max_tokens", e->max_tokens, 1);
	printf("%s\"seed\": %llu,\n", in, (unsigned long long)e->seed);
	printf("%s\"decoding\": {", in);
	for (size_t i = 0; i < sampler_table_len; i++) {
		const struct sampler_param *row = &sampler_table[i];
		double v = sampler_get(&e->params, row);

		printf("%s\"%s\": ", i ? ", " : "", row->name);
		if (strcmp(row->name, "max_tokens") == 0)
			printf("%d", e->max_tokens);
		else if (strcmp(row->name, "seed") == 0)
			printf("%llu", (unsigned long long)e->seed);
		else if (row->type == SAMPLER_DOUBLE)
			json_number(stdout, v);
		else
			printf("%.0f", v);
	}
	printf("},\n");
	cmd_eval_jstr(in, "featurizer", e->featurizer_path, 1);
	cmd_eval_jstr(in, "features_of", "continuation text (prompt excluded)", 1);
	cmd_eval_jint(in, "max_text_tokens", featurize_max_tokens(e->feat), 1);
	cmd_eval_jint(in, "feature_dim", e->d, 1);
	if (e->num_buckets > 0)
		cmd_eval_jint(in, "num_buckets_option", e->num_buckets, 1);
	else
		cmd_eval_jstr(in, "num_buckets_option", "auto", 1);
	cmd_eval_jnum(in, "scaling", e->mopt.scaling, 1);
	cmd_eval_jnum(in, "explained_variance", e->mopt.explained_var, 1);
	cmd_eval_jint(in, "kmeans_restarts", e->mopt.kmeans_restarts, 1);
	cmd_eval_jint(in, "kmeans_max_iter", e->mopt.kmeans_max_iter, 1);
	cmd_eval_jint(in, "divergence_points", e->mopt.divergence_points, 1);
	printf("%s\"mauve_seeds\": [", in);
	for (int s = 0; s < e->mauve_seeds; s++)
		printf("%s%llu", s ? ", " : "", (unsigned long long)(e->mopt.seed + (uint64_t)s));
	printf("],\n");
	printf("%s\"reference\": {\n", in);
	cmd_eval_jint("    ", "texts", e->n, 1);
	cmd_eval_jint("    ", "features", e->n_p, 1);
	cmd_eval_jint("    ", "truncated_texts", e->ref_truncated, 1);
	cmd_eval_json_text("    ", &e->ref_stats);
	cmd_eval_jint("    ", "tokens", (long)e->n * e->max_tokens, 0);
	printf("%s},\n", in);
	printf("%s\"models\": [\n", in);
	for (int m = 0; m < e->nmodels; m++)
		cmd_eval_json_model(e, m);
	printf("%s],\n", in);
	cmd_eval_jnum(in, "seconds", e->seconds, 0);
	printf("}\n");
}

