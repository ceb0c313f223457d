/*
 * cmd-eval-report.c: the report of `seqmatch eval`: a plain table (settings,
 * then one column for the human row and one per model) or one JSON object
 * with every setting and statistic (mauve-text's names for the scores).
 *
 * Every statistic has one value per generation seed. Shown: their mean and
 * sample sd (null below two values); MAUVE's k-means sd (the mean over
 * generation seeds of the sd over k-means seeds) apart, since it is a much
 * smaller spread than the generation seeds' one. For every model after the
 * first: the paired differences with the first model (model minus first, per
 * generation seed), their mean and sd, and "beyond the spread" when all
 * differences have the same sign and |mean| > 2 sd / sqrt(N) (N generation
 * seeds; with N = 1 there is no spread to compare with: always "inside").
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd-eval.h"
#include "generate.h"
#include "json.h"
#include "quant.h"
#include "util.h"

#define CMD_EVAL_METRIC_INFO(id, name, label, prec, on) { name, label, prec, on },
const struct cmd_eval_metric_info cmd_eval_metrics[CMD_EVAL_NMETRICS] = {
	CMD_EVAL_METRICS(CMD_EVAL_METRIC_INFO)
};
#undef CMD_EVAL_METRIC_INFO

/* Outcome of a paired comparison. */
enum cmd_eval_verdict {
	CMD_EVAL_VERDICT_UNDEFINED, /* a value is missing */
	CMD_EVAL_VERDICT_INSIDE,
	CMD_EVAL_VERDICT_BEYOND
};

/* Mean and sample sd of the finite values among n (NaN mean if none; NaN sd below 2). */
static void
cmd_eval_spread(const double *v, int n, double *mean, double *sd)
{
	double sum = 0, ss = 0;
	int k = 0;

	for (int i = 0; i < n; i++)
		if (isfinite(v[i])) {
			sum += v[i];
			k++;
		}
	*mean = k > 0 ? sum / k : NAN;
	for (int i = 0; i < n; i++)
		if (isfinite(v[i]))
			ss += (v[i] - *mean) * (v[i] - *mean);
	*sd = k > 1 ? sqrt(ss / (k - 1)) : NAN;
}

/*
 * Paired differences b - a into d (n), their mean and sd, and the verdict:
 * beyond when n >= 2, every difference has the same (non-zero) sign and
 * |mean| > 2 sd / sqrt(n).
 */
static enum cmd_eval_verdict
cmd_eval_paired(const double *a, const double *b, int n, double *d, double *mean,
    double *sd)
{
	int pos = 0, neg = 0;

	for (int i = 0; i < n; i++) {
		d[i] = b[i] - a[i];
		if (!isfinite(d[i])) {
			*mean = *sd = NAN;
			return CMD_EVAL_VERDICT_UNDEFINED;
		}
		pos += d[i] > 0;
		neg += d[i] < 0;
	}
	cmd_eval_spread(d, n, mean, sd);
	if (n >= 2 && (pos == n || neg == n) && fabs(*mean) > 2 * *sd / sqrt((double)n))
		return CMD_EVAL_VERDICT_BEYOND;
	return CMD_EVAL_VERDICT_INSIDE;
}

/* Violations per 100 of kind k at every generation seed (0 where checked and absent). */
static void
cmd_eval_kind_values(const struct cmd_eval *e, const struct cmd_eval_row *row, int k,
    double *out)
{
	for (int g = 0; g < e->gen_seeds; g++)
		out[g] = row->kinds[k] != NULL ? row->kinds[k][g] :
		    isfinite(row->v[CMD_EVAL_M_VIOLATIONS][g]) ? 0 : NAN;
}

/* Whether metric k applies to a row of this kind. */
static int
cmd_eval_applies(int k, const struct cmd_eval_row *row)
{
	int bit = row->kind == CMD_EVAL_ROW_REF ? CMD_EVAL_ON_REF :
	    row->kind == CMD_EVAL_ROW_HUMAN ? CMD_EVAL_ON_HUMAN : CMD_EVAL_ON_MODEL;

	return (cmd_eval_metrics[k].on & bit) != 0;
}

/* The last path component, for narrow table columns. */
static const char *
cmd_eval_base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL && s[1] != '\0' ? s + 1 : path;
}

/* Tokens per second, NaN when no time was measured. */
static double
cmd_eval_rate(double tokens, double seconds)
{
	return seconds > 0 ? tokens / seconds : NAN;
}

#define CMD_EVAL_LABEL 26
#define CMD_EVAL_COL 19
#define CMD_EVAL_CELL 64

/* The table's columns: the human row (when on), then the models. */
struct cmd_eval_cols {
	const struct cmd_eval_row *row[CMD_EVAL_MAX_MODELS + 1];
	int model[CMD_EVAL_MAX_MODELS + 1]; /* model index, -1 for the human row */
	int n;
};

/* One table line: a label, then one cell per column. */
static void
cmd_eval_line(const char *label, char cells[][CMD_EVAL_CELL], int n)
{
	char line[CMD_EVAL_LABEL + (CMD_EVAL_MAX_MODELS + 1) *
	    (CMD_EVAL_COL + CMD_EVAL_CELL) + 8];
	int len;

	len = snprintf(line, sizeof line, "%-*s", CMD_EVAL_LABEL, label);
	for (int c = 0; c < n && len >= 0 && (size_t)len < sizeof line; c++)
		len += snprintf(line + len, sizeof line - (size_t)len, " %-*s",
		    CMD_EVAL_COL - 1, cells[c]);
	if (len < 0)
		return;
	if ((size_t)len >= sizeof line)
		len = (int)sizeof line - 1;
	while (len > 0 && line[len - 1] == ' ')
		len--;
	printf("%.*s\n", len, line);
}

/* A cell "mean +/- sd" (the mean alone for one value), prec decimals, sign: show "+". */
static void
cmd_eval_cell(char *cell, int prec, int sign, const double *v, int n)
{
	double mean, sd;
	int len;

	cmd_eval_spread(v, n, &mean, &sd);
	if (!isfinite(mean)) {
		snprintf(cell, CMD_EVAL_CELL, "-");
		return;
	}
	len = snprintf(cell, CMD_EVAL_CELL, sign ? "%+.*f" : "%.*f", prec, mean);
	if (n > 1 && isfinite(sd) && len > 0 && len < CMD_EVAL_CELL)
		snprintf(cell + len, (size_t)(CMD_EVAL_CELL - len), " +/- %.*f", prec, sd);
}

/* One table line for metric k: every column it applies to. */
static void
cmd_eval_metric_line(const struct cmd_eval *e, const struct cmd_eval_cols *cols, int k,
    const char *label)
{
	char cells[CMD_EVAL_MAX_MODELS + 1][CMD_EVAL_CELL];

	for (int c = 0; c < cols->n; c++) {
		const struct cmd_eval_row *row = cols->row[c];

		if (!cmd_eval_applies(k, row)) {
			cells[c][0] = '\0';
			continue;
		}
		cmd_eval_cell(cells[c], cmd_eval_metrics[k].prec, 0, row->v[k], e->gen_seeds);
		/* A seed whose MAUVE failed is left out of the mean: say so. */
		if (k < CMD_EVAL_NSCORES && row->mauve_error != NULL)
			snprintf(cells[c], CMD_EVAL_CELL, "%s", strcmp(cells[c], "-") == 0 ?
			    "failed" : "(some failed)");
	}
	cmd_eval_line(label != NULL ? label : cmd_eval_metrics[k].label, cells, cols->n);
}

/* The paired-difference lines of metric k (kind >= 0: of that violation kind), then verdicts. */
static void
cmd_eval_diff_lines(const struct cmd_eval *e, const struct cmd_eval_cols *cols,
    const char *label, int k, int kind)
{
	char cells[CMD_EVAL_MAX_MODELS + 1][CMD_EVAL_CELL];
	char verdicts[CMD_EVAL_MAX_MODELS + 1][CMD_EVAL_CELL];
	double a[CMD_EVAL_MAX_GEN_SEEDS], b[CMD_EVAL_MAX_GEN_SEEDS];
	double d[CMD_EVAL_MAX_GEN_SEEDS], mean, sd;
	const struct cmd_eval_row *first = &e->models[0].row;
	enum cmd_eval_verdict v;
	for (int c = 0; c < cols->n; c++) {
		cells[c][0] = verdicts[c][0] = '\0';
		if (cols->model[c] < 1)
			continue;
		for (int g = 0; g < e->gen_seeds; g++) {
			a[g] = first->v[k][g];
			b[g] = cols->row[c]->v[k][g];
		}
		if (kind >= 0) {
			cmd_eval_kind_values(e, first, kind, a);
			cmd_eval_kind_values(e, cols->row[c], kind, b);
		}
		v = cmd_eval_paired(a, b, e->gen_seeds, d, &mean, &sd);
		if (v == CMD_EVAL_VERDICT_UNDEFINED) {
			snprintf(cells[c], CMD_EVAL_CELL, "-");
			continue;
		}
		cmd_eval_cell(cells[c], cmd_eval_metrics[k].prec, 1, d, e->gen_seeds);
		snprintf(verdicts[c], CMD_EVAL_CELL, "%s the spread",
		    v == CMD_EVAL_VERDICT_BEYOND ? "beyond" : "inside");
	}
	cmd_eval_line(label, cells, cols->n);
	for (int c = 0; c < cols->n; c++)
		if (verdicts[c][0] != '\0') {
			cmd_eval_line("", verdicts, cols->n);
			break;
		}
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
	char buf[512];
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

/* The settings and decoding lines. */
static void
cmd_eval_print_settings(const struct cmd_eval *e)
{
	struct cmd_eval_wrap w;
	double cut, cut_sd, end, end_sd;

	printf("eval: %s, seed %llu\n", e->corpus_path, (unsigned long long)e->seed);
	cmd_eval_wrap_start(&w, "settings:");
	cmd_eval_wrap_item(&w, "n %d per side", e->n);
	cmd_eval_wrap_item(&w, "%d generation seed%s", e->gen_seeds, e->gen_seeds > 1 ? "s" : "");
	cmd_eval_wrap_item(&w, "%d k-means seed%s (%llu..%llu)", e->mauve_seeds,
	    e->mauve_seeds > 1 ? "s" : "", (unsigned long long)e->mopt.seed,
	    (unsigned long long)(e->mopt.seed + (uint64_t)e->mauve_seeds - 1));
	if (e->num_buckets > 0)
		cmd_eval_wrap_item(&w, "k %d", e->num_buckets);
	else
		cmd_eval_wrap_item(&w, "k auto (max(2, n/10))");
	cmd_eval_wrap_item(&w, "c %g", e->mopt.scaling);
	cmd_eval_wrap_item(&w, "PCA variance %g", e->mopt.explained_var);
	cmd_eval_wrap_item(&w, "%d prompt + up to %d continuation tokens", e->prompt_tokens,
	    e->max_tokens);
	cmd_eval_wrap_item(&w, "human row %s", e->human ? "on" : "off");
	cmd_eval_wrap_item(&w, "featurizer %s%s", e->featurizer_path,
	    e->feat_is_model ? " (a compared model!)" : "");
	cmd_eval_wrap_item(&w, "C=%d, first %d tokens of the continuation", e->d,
	    featurize_max_tokens(e->feat));
	if (e->check_cmd != NULL)
		cmd_eval_wrap_item(&w, "check '%s'", e->check_cmd);
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
	cmd_eval_spread(e->ref.v[CMD_EVAL_M_STOP_MAX], e->gen_seeds, &cut, &cut_sd);
	cmd_eval_spread(e->ref.v[CMD_EVAL_M_STOP_END], e->gen_seeds, &end, &end_sd);
	cmd_eval_wrap_start(&w, "references:");
	cmd_eval_wrap_item(&w, "%zu candidate documents (>= %d tokens)", e->ncand,
	    e->prompt_tokens + 1);
	cmd_eval_wrap_item(&w, "per generation seed %.1f cut at max-tokens", cut);
	cmd_eval_wrap_item(&w, "%.1f ending at the document's end", end);
	printf("\n\n");
}

/* Print the plain table. */
void
cmd_eval_print_table(const struct cmd_eval *e)
{
	char cells[CMD_EVAL_MAX_MODELS + 1][CMD_EVAL_CELL], label[CMD_EVAL_CELL];
	struct cmd_eval_cols cols;
	double kv[CMD_EVAL_MAX_GEN_SEEDS];

	cols.n = 0;
	if (e->human) {
		cols.row[cols.n] = &e->hum;
		cols.model[cols.n++] = -1;
	}
	for (int m = 0; m < e->nmodels; m++) {
		cols.row[cols.n] = &e->models[m].row;
		cols.model[cols.n++] = m;
	}
	cmd_eval_print_settings(e);
	for (int c = 0; c < cols.n; c++)
		if (cols.model[c] < 0)
			snprintf(cells[c], CMD_EVAL_CELL, "human");
		else
			snprintf(cells[c], CMD_EVAL_CELL, "model %d", cols.model[c] + 1);
	cmd_eval_line("", cells, cols.n);
	for (int c = 0; c < cols.n; c++)
		snprintf(cells[c], CMD_EVAL_CELL, "%.18s", cols.model[c] < 0 ? "(held-out)" :
		    cmd_eval_base(e->models[cols.model[c]].path));
	cmd_eval_line("model", cells, cols.n);

	if (e->gen_seeds > 1)
		printf("MAUVE (full estimator; mean +/- sd over %d generation seeds)\n",
		    e->gen_seeds);
	else
		printf("MAUVE (full estimator; one generation seed: no spread)\n");
	for (int k = 0; k < CMD_EVAL_NSCORES; k++) {
		snprintf(label, sizeof label, "  %s", cmd_eval_metrics[k].label);
		cmd_eval_metric_line(e, &cols, k, label);
		if (k != 0)
			continue;
		for (int c = 0; c < cols.n; c++) {
			double mean, sd;

			cmd_eval_spread(cols.row[c]->ksd[0], e->gen_seeds, &mean, &sd);
			snprintf(cells[c], CMD_EVAL_CELL, isfinite(mean) ? "%.4f" : "-", mean);
		}
		snprintf(label, sizeof label, "    k-means sd (%d seeds)", e->mauve_seeds);
		cmd_eval_line(label, cells, cols.n);
	}
	for (int c = 0; c < cols.n; c++)
		snprintf(cells[c], CMD_EVAL_CELL, "%d", cols.row[c]->num_buckets);
	cmd_eval_line("  num_buckets", cells, cols.n);
	if (e->check_cmd != NULL) {
		printf("violations (texts with at least one, per 100; --check)\n");
		cmd_eval_metric_line(e, &cols, CMD_EVAL_M_VIOLATIONS, "  any kind");
		for (int k = 0; k < e->nkinds; k++) {
			for (int c = 0; c < cols.n; c++) {
				cmd_eval_kind_values(e, cols.row[c], k, kv);
				cmd_eval_cell(cells[c], 1, 0, kv, e->gen_seeds);
			}
			snprintf(label, sizeof label, "  %.24s", e->kinds[k]);
			cmd_eval_line(label, cells, cols.n);
		}
	}
	printf("erases (per generation seed)\n");
	for (int k = CMD_EVAL_M_ERASES; k <= CMD_EVAL_M_BACKSPACE_RATE; k++) {
		snprintf(label, sizeof label, "  %s", cmd_eval_metrics[k].label);
		cmd_eval_metric_line(e, &cols, k, label);
	}
	printf("text\n");
	for (int k = CMD_EVAL_M_DISTINCT_1; k <= CMD_EVAL_M_MEAN_LOGPROB; k++) {
		snprintf(label, sizeof label, "  %s", cmd_eval_metrics[k].label);
		cmd_eval_metric_line(e, &cols, k, label);
	}
	printf("speed\n");
	for (int c = 0; c < cols.n; c++) {
		const struct cmd_eval_model *mod = &e->models[cols.model[c] < 0 ? 0 :
		    cols.model[c]];

		cells[c][0] = '\0';
		if (cols.model[c] >= 0)
			snprintf(cells[c], CMD_EVAL_CELL, "%.1f",
			    cmd_eval_rate((double)mod->gen_tokens, mod->gen_seconds));
	}
	cmd_eval_line("  generate tokens/s", cells, cols.n);

	if (e->nmodels > 1) {
		printf("paired difference with model 1 (per generation seed, model minus "
		    "model 1;\nmean +/- sd; beyond the spread: same sign at every seed and "
		    "|mean| > 2 sd/sqrt(%d))\n", e->gen_seeds);
		static const int diffs[] = { CMD_EVAL_M_MAUVE, CMD_EVAL_M_FRONTIER_INTEGRAL,
		    CMD_EVAL_M_VIOLATIONS, CMD_EVAL_M_CORRECTION_SHARE,
		    CMD_EVAL_M_BACKSPACE_RATE };

		for (size_t i = 0; i < sizeof diffs / sizeof diffs[0]; i++) {
			if (diffs[i] == CMD_EVAL_M_VIOLATIONS && e->check_cmd == NULL)
				continue;
			snprintf(label, sizeof label, "  %s", cmd_eval_metrics[diffs[i]].label);
			cmd_eval_diff_lines(e, &cols, label, diffs[i], -1);
		}
	}
	printf("\nMAUVE compares settings, not absolute values: keep the featurizer,\n"
	    "lengths, k, c and n identical; the human column is the ceiling; use 1000\n"
	    "samples or more and several generation seeds for claims.\n");
}

/* Print a "name": value line of JSON with an indent. */
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

/* The same for a string (NULL: null). */
static void
cmd_eval_jstr(const char *indent, const char *name, const char *s, int comma)
{
	printf("%s\"%s\": ", indent, name);
	if (s != NULL)
		json_string(stdout, s, strlen(s));
	else
		printf("null");
	printf("%s\n", comma ? "," : "");
}

/* A JSON array of n numbers. */
static void
cmd_eval_jarray(const double *v, int n)
{
	printf("[");
	for (int i = 0; i < n; i++) {
		printf("%s", i ? ", " : "");
		json_number(stdout, v[i]);
	}
	printf("]");
}

/* A statistic's fields: name (mean), name_gen_sd and name_per_gen_seed. */
static void
cmd_eval_json_stat(const struct cmd_eval *e, const char *in, const char *name,
    const double *v)
{
	double mean, sd;

	cmd_eval_spread(v, e->gen_seeds, &mean, &sd);
	printf("%s\"%s\": ", in, name);
	json_number(stdout, mean);
	printf(",\n%s\"%s_gen_sd\": ", in, name);
	json_number(stdout, sd);
	printf(",\n%s\"%s_per_gen_seed\": ", in, name);
	cmd_eval_jarray(v, e->gen_seeds);
	printf(",\n");
}

/* Every statistic that applies to a row, and its violations by kind. */
static void
cmd_eval_json_metrics(const struct cmd_eval *e, const char *in,
    const struct cmd_eval_row *row)
{
	double kv[CMD_EVAL_MAX_GEN_SEEDS], mean, sd;
	char name[64];

	for (int k = 0; k < CMD_EVAL_NMETRICS; k++) {
		if (!cmd_eval_applies(k, row))
			continue;
		cmd_eval_json_stat(e, in, cmd_eval_metrics[k].name, row->v[k]);
		if (k < CMD_EVAL_NSCORES) {
			snprintf(name, sizeof name, "%s_kmeans_sd", cmd_eval_metrics[k].name);
			cmd_eval_spread(row->ksd[k], e->gen_seeds, &mean, &sd);
			cmd_eval_jnum(in, name, mean, 1);
		}
	}
	if (row->kind == CMD_EVAL_ROW_REF)
		return;
	printf("%s\"violations_by_kind\": {", in);
	for (int k = 0; k < e->nkinds; k++) {
		cmd_eval_kind_values(e, row, k, kv);
		cmd_eval_spread(kv, e->gen_seeds, &mean, &sd);
		printf("%s\n%s  ", k ? "," : "", in);
		json_string(stdout, e->kinds[k], strlen(e->kinds[k]));
		printf(": {\"per_100\": ");
		json_number(stdout, mean);
		printf(", \"gen_sd\": ");
		json_number(stdout, sd);
		printf(", \"per_gen_seed\": ");
		cmd_eval_jarray(kv, e->gen_seeds);
		printf("}");
	}
	if (e->nkinds > 0)
		printf("\n%s", in);
	printf("},\n");
}

/* One paired comparison as a JSON object (no newline). */
static void
cmd_eval_json_pair(const struct cmd_eval *e, const double *a, const double *b)
{
	static const char *const names[] = { "undefined", "inside", "beyond" };
	double d[CMD_EVAL_MAX_GEN_SEEDS], mean, sd;
	enum cmd_eval_verdict v = cmd_eval_paired(a, b, e->gen_seeds, d, &mean, &sd);

	printf("{\"mean\": ");
	json_number(stdout, mean);
	printf(", \"sd\": ");
	json_number(stdout, sd);
	printf(", \"per_gen_seed\": ");
	if (v == CMD_EVAL_VERDICT_UNDEFINED)
		printf("null");
	else
		cmd_eval_jarray(d, e->gen_seeds);
	printf(", \"verdict\": \"%s\"}", names[v]);
}

/* A model's "vs_first" object: paired differences with the first model. */
static void
cmd_eval_json_vs_first(const struct cmd_eval *e, const char *in,
    const struct cmd_eval_row *row)
{
	const struct cmd_eval_row *first = &e->models[0].row;
	double ka[CMD_EVAL_MAX_GEN_SEEDS], kb[CMD_EVAL_MAX_GEN_SEEDS];

	printf("%s\"vs_first\": {\n", in);
	for (int k = 0; k < CMD_EVAL_NMETRICS; k++) {
		if (!cmd_eval_applies(k, row))
			continue;
		printf("%s  \"%s\": ", in, cmd_eval_metrics[k].name);
		cmd_eval_json_pair(e, first->v[k], row->v[k]);
		printf(",\n");
	}
	printf("%s  \"violations_by_kind\": {", in);
	for (int k = 0; k < e->nkinds; k++) {
		cmd_eval_kind_values(e, first, k, ka);
		cmd_eval_kind_values(e, row, k, kb);
		printf("%s\n%s    ", k ? "," : "", in);
		json_string(stdout, e->kinds[k], strlen(e->kinds[k]));
		printf(": ");
		cmd_eval_json_pair(e, ka, kb);
	}
	if (e->nkinds > 0)
		printf("\n%s  ", in);
	printf("}\n%s},\n", in);
}

/* One model's JSON object. */
static void
cmd_eval_json_model(const struct cmd_eval *e, int m)
{
	const struct cmd_eval_model *mod = &e->models[m];
	const char *in = "      ";
	char hash[32];

	printf("    {\n");
	cmd_eval_jint(in, "index", m + 1, 1);
	cmd_eval_jstr(in, "model", mod->path, 1);
	snprintf(hash, sizeof hash, "%016llx", (unsigned long long)mod->params_hash);
	cmd_eval_jstr(in, "params_hash", hash, 1);
	printf("%s\"same_tokenizer_as_first\": %s,\n", in, mod->same_tok ? "true" : "false");
	cmd_eval_jstr(in, "estimator", "full", 1);
	cmd_eval_json_metrics(e, in, &mod->row);
	if (m > 0)
		cmd_eval_json_vs_first(e, in, &mod->row);
	cmd_eval_jstr(in, "mauve_error", mod->row.mauve_error, 1);
	cmd_eval_jint(in, "num_buckets", mod->row.num_buckets, 1);
	cmd_eval_jint(in, "pca_dims", mod->row.pca_dims, 1);
	cmd_eval_jint(in, "truncated_texts", mod->row.truncated, 1);
	cmd_eval_jint(in, "gross_tokens", mod->appends, 1);
	cmd_eval_jint(in, "net_tokens", mod->net_tokens, 1);
	cmd_eval_jint(in, "re_emissions", mod->re_emissions, 1);
	cmd_eval_jint(in, "longest_backspace_run", mod->longest_backspace_run, 1);
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
	cmd_eval_jnum(in, "mauve_seconds", mod->row.mauve_seconds, 0);
	printf("    }%s\n", m + 1 < e->nmodels ? "," : "");
}

/* The settings fields of the JSON object. */
static void
cmd_eval_json_settings(const struct cmd_eval *e, const char *in)
{
	char hash[32];

	cmd_eval_jstr(in, "command", "eval", 1);
	cmd_eval_jstr(in, "version", PACKAGE_VERSION, 1);
	cmd_eval_jstr(in, "corpus", e->corpus_path, 1);
	snprintf(hash, sizeof hash, "%016llx", (unsigned long long)e->corpus->hash);
	cmd_eval_jstr(in, "corpus_hash", hash, 1);
	cmd_eval_jstr(in, "separator", e->sep == CORPUS_SEP_BLANK ? "blank" : "percent", 1);
	cmd_eval_jint(in, "documents", (long)e->corpus->ndocs, 1);
	cmd_eval_jint(in, "candidates", (long)e->ncand, 1);
	cmd_eval_jint(in, "samples", e->n, 1);
	cmd_eval_jint(in, "gen_seeds", e->gen_seeds, 1);
	cmd_eval_jstr(in, "check", e->check_cmd, 1);
	cmd_eval_jint(in, "prompt_tokens", e->prompt_tokens, 1);
	cmd_eval_jint(in, "max_tokens", e->max_tokens, 1);
	cmd_eval_jstr(in, "weights", e->weights_mixed ? "mixed" :
	    quant_format_name((enum quant_format)e->weights), 1);
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
	printf("%s\"featurizer_is_compared_model\": %s,\n", in,
	    e->feat_is_model ? "true" : "false");
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
}

/* Print the JSON object: settings, references, the human row, one object per model. */
void
cmd_eval_print_json(const struct cmd_eval *e)
{
	const char *in = "  ";

	printf("{\n");
	cmd_eval_json_settings(e, in);
	printf("%s\"reference\": {\n", in);
	cmd_eval_jint("    ", "texts", e->n, 1);
	cmd_eval_jint("    ", "truncated_texts", e->ref.truncated, 1);
	cmd_eval_json_metrics(e, "    ", &e->ref);
	cmd_eval_jint("    ", "tokens_at_most", e->max_tokens, 0);
	printf("%s},\n", in);
	if (e->human) {
		printf("%s\"human\": {\n", in);
		cmd_eval_jstr("    ", "model", "human", 1);
		cmd_eval_json_metrics(e, "    ", &e->hum);
		cmd_eval_jstr("    ", "mauve_error", e->hum.mauve_error, 1);
		cmd_eval_jint("    ", "num_buckets", e->hum.num_buckets, 1);
		cmd_eval_jint("    ", "truncated_texts", e->hum.truncated, 0);
		printf("%s},\n", in);
	} else
		printf("%s\"human\": null,\n", in);
	printf("%s\"models\": [\n", in);
	for (int m = 0; m < e->nmodels; m++)
		cmd_eval_json_model(e, m);
	printf("%s],\n", in);
	cmd_eval_jnum(in, "seconds", e->seconds, 0);
	printf("}\n");
}
