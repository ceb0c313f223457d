/*
 * cmd-mauve.c: `seqmatch mauve P.npy Q.npy`: MAUVE between two feature
 * matrices given as NumPy files (P the reference/human features, Q the model
 * features), with every setting echoed next to the scores, the spread over
 * several k-means seeds on request, and --json for the histograms, the
 * divergence curve and the stage timings. See docs/mauve.md.
 */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cmd.h"
#include "json.h"
#include "mauve.h"
#include "npy.h"
#include "options.h"
#include "util.h"

#define CMD_MAUVE_NSCORES 4
#define CMD_MAUVE_MAX_SEEDS 1000

/* The four scores, in mauve-text's names. */
static const char *const cmd_mauve_names[CMD_MAUVE_NSCORES] = {
	"mauve", "frontier_integral", "mauve_star", "frontier_integral_star"
};

/* Mean, sample standard deviation, min and max of one score over the seeds. */
struct cmd_mauve_stat {
	double mean, sd, min, max;
};

/* Usage. */
static void
cmd_mauve_usage(FILE *f)
{
	fprintf(f,
"usage: seqmatch mauve P.npy Q.npy [--num-buckets K] [--explained-var F]\n"
"         [--kmeans-iters N] [--kmeans-restarts N] [--seed N] [--scaling C]\n"
"         [--divergence-points M] [--seeds N] [--json]\n"
"\n"
"MAUVE (Pillutla et al. 2021, as mauve-text 0.4.0 computes it) between reference\n"
"features P (human texts) and model features Q: each an (n, d) float32 or float64\n"
"C-order .npy matrix, the same d on both sides. Rows are L2-normalised, reduced by\n"
"PCA, clustered by k-means; the scores compare the two cluster histograms.\n"
"  --num-buckets K        clusters (default max(2, round(min(n_p, n_q) / 10)))\n"
"  --explained-var F      PCA variance kept, strictly between 0 and 1 (default 0.9)\n"
"  --kmeans-iters N       Lloyd iterations at most (default 500)\n"
"  --kmeans-restarts N    k-means runs, the best kept (default 5)\n"
"  --seed N               k-means seed (default 25)\n"
"  --scaling C            divergence curve scaling c > 0 (default 5)\n"
"  --divergence-points M  mixture weights on the curve (default 25)\n"
"  --seeds N              repeat with N k-means seeds (seed, seed+1, ...) and report\n"
"                         the mean, sample standard deviation, min and max\n"
"  --json                 one JSON object: scores, settings, histograms, curve, timings\n"
"MAUVE is for relative comparisons under identical settings; it is optimistic and\n"
"noisy with few samples (the authors use 5000 per side).\n");
}

/* Parse a double that must lie strictly inside (lo, hi). */
static int
cmd_mauve_open_range(const char *option, const char *text, double lo, double hi,
    double *out)
{
	if (options_double(option, text, lo, hi, out) != 0)
		return -1;
	if (*out <= lo || *out >= hi) {
		app_error("--%s: %s must be strictly between %g and %g", option, text, lo, hi);
		return -1;
	}
	return 0;
}

/* Statistics of one score over the runs. */
static struct cmd_mauve_stat
cmd_mauve_stat(const struct mauve_result *res, int nseeds, int which)
{
	struct cmd_mauve_stat st = { 0, 0, INFINITY, -INFINITY };
	double v;

	for (int s = 0; s < nseeds; s++) {
		const struct mauve_result *r = &res[s];
		v = which == 0 ? r->mauve : which == 1 ? r->frontier_integral :
		    which == 2 ? r->mauve_star : r->frontier_integral_star;
		st.mean += v / nseeds;
		if (v < st.min)
			st.min = v;
		if (v > st.max)
			st.max = v;
	}
	for (int s = 0; s < nseeds && nseeds > 1; s++) {
		const struct mauve_result *r = &res[s];
		v = which == 0 ? r->mauve : which == 1 ? r->frontier_integral :
		    which == 2 ? r->mauve_star : r->frontier_integral_star;
		st.sd += (v - st.mean) * (v - st.mean) / (nseeds - 1);
	}
	st.sd = st.min == st.max ? 0 : sqrt(st.sd);
	if (st.min == st.max)
		st.mean = st.min; /* not an ulp off when every run agrees */
	return st;
}

/* A JSON array of k doubles. */
static void
cmd_mauve_json_array(FILE *f, const double *v, int k)
{
	fputc('[', f);
	for (int i = 0; i < k; i++) {
		if (i)
			fputs(", ", f);
		json_number(f, v[i]);
	}
	fputc(']', f);
}

/* The --json output. */
static void
cmd_mauve_print_json(const char *ppath, const char *qpath, int n_p, int n_q, int d,
    const struct mauve_options *o, int k_given, int nseeds,
    const struct mauve_result *res)
{
	const struct mauve_result *r0 = &res[0];
	double t_pca = 0, t_km = 0, t_sc = 0;

	printf("{\"p\": ");
	json_string(stdout, ppath, strlen(ppath));
	printf(", \"q\": ");
	json_string(stdout, qpath, strlen(qpath));
	printf(", \"n_p\": %d, \"n_q\": %d, \"d\": %d", n_p, n_q, d);
	for (int w = 0; w < CMD_MAUVE_NSCORES; w++) {
		struct cmd_mauve_stat st = cmd_mauve_stat(res, nseeds, w);
		printf(", \"%s\": ", cmd_mauve_names[w]);
		json_number(stdout, st.mean);
	}
	printf(", \"num_buckets\": %d, \"pca_dims\": %d", r0->num_buckets, r0->pca_dims);
	printf(", \"settings\": {\"num_buckets\": %d, \"num_buckets_default\": %s, "
	    "\"explained_var\": ", r0->num_buckets, k_given ? "false" : "true");
	json_number(stdout, o->explained_var);
	printf(", \"kmeans_iters\": %d, \"kmeans_restarts\": %d, \"seed\": %llu, "
	    "\"scaling\": ", o->kmeans_max_iter, o->kmeans_restarts,
	    (unsigned long long)o->seed);
	json_number(stdout, o->scaling);
	printf(", \"divergence_points\": %d, \"seeds\": %d}", o->divergence_points, nseeds);
	if (nseeds > 1) {
		printf(", \"spread\": {");
		for (int w = 0; w < CMD_MAUVE_NSCORES; w++) {
			struct cmd_mauve_stat st = cmd_mauve_stat(res, nseeds, w);
			printf("%s\"%s\": {\"mean\": ", w ? ", " : "", cmd_mauve_names[w]);
			json_number(stdout, st.mean);
			printf(", \"sd\": ");
			json_number(stdout, st.sd);
			printf(", \"min\": ");
			json_number(stdout, st.min);
			printf(", \"max\": ");
			json_number(stdout, st.max);
			printf("}");
		}
		printf("}, \"runs\": [");
		for (int s = 0; s < nseeds; s++) {
			printf("%s{\"seed\": %llu, \"mauve\": ", s ? ", " : "",
			    (unsigned long long)(o->seed + (uint64_t)s));
			json_number(stdout, res[s].mauve);
			printf(", \"frontier_integral\": ");
			json_number(stdout, res[s].frontier_integral);
			printf(", \"mauve_star\": ");
			json_number(stdout, res[s].mauve_star);
			printf(", \"frontier_integral_star\": ");
			json_number(stdout, res[s].frontier_integral_star);
			printf(", \"kmeans_objective\": ");
			json_number(stdout, res[s].kmeans_objective);
			printf("}");
		}
		printf("]");
	}
	printf(", \"kmeans_objective\": ");
	json_number(stdout, r0->kmeans_objective);
	printf(", \"histogram_seed\": %llu, \"p_hist\": ", (unsigned long long)o->seed);
	cmd_mauve_json_array(stdout, r0->p_hist, r0->num_buckets);
	printf(", \"q_hist\": ");
	cmd_mauve_json_array(stdout, r0->q_hist, r0->num_buckets);
	printf(", \"divergence_curve\": [");
	for (int i = 0; i < r0->curve_len; i++) {
		printf("%s[", i ? ", " : "");
		json_number(stdout, r0->curve_x[i]);
		printf(", ");
		json_number(stdout, r0->curve_y[i]);
		printf("]");
	}
	for (int s = 0; s < nseeds; s++) {
		t_pca += res[s].pca_seconds;
		t_km += res[s].kmeans_seconds;
		t_sc += res[s].score_seconds;
	}
	printf("], \"timings\": {\"pca\": ");
	json_number(stdout, t_pca);
	printf(", \"kmeans\": ");
	json_number(stdout, t_km);
	printf(", \"scores\": ");
	json_number(stdout, t_sc);
	printf("}}\n");
}

/* The text output. */
static void
cmd_mauve_print_text(const char *ppath, const char *qpath, int n_p, int n_q, int d,
    const struct mauve_options *o, int k_given, int nseeds,
    const struct mauve_result *res)
{
	const struct mauve_result *r0 = &res[0];
	double t_pca = 0, t_km = 0, t_sc = 0;

	for (int w = 0; w < CMD_MAUVE_NSCORES; w++) {
		struct cmd_mauve_stat st = cmd_mauve_stat(res, nseeds, w);
		if (nseeds == 1)
			printf("%-23s %.9f\n", cmd_mauve_names[w], st.mean);
		else
			printf("%-23s %.9f  sd %.6f  min %.6f  max %.6f\n", cmd_mauve_names[w],
			    st.mean, st.sd, st.min, st.max);
	}
	printf("%-23s %d%s\n", "num_buckets", r0->num_buckets,
	    k_given ? "" : " (default: max(2, round(min(n_p, n_q) / 10)))");
	printf("data: P %s (n_p %d), Q %s (n_q %d), d %d, PCA dims kept %d\n", ppath, n_p,
	    qpath, n_q, d, r0->pca_dims);
	printf("settings: explained_var %g, kmeans_iters %d, kmeans_restarts %d, seed %llu",
	    o->explained_var, o->kmeans_max_iter, o->kmeans_restarts,
	    (unsigned long long)o->seed);
	if (nseeds > 1)
		printf(" (%d seeds: %llu to %llu)", nseeds, (unsigned long long)o->seed,
		    (unsigned long long)(o->seed + (uint64_t)nseeds - 1));
	printf(", scaling %g, divergence_points %d\n", o->scaling, o->divergence_points);
	for (int s = 0; s < nseeds; s++) {
		t_pca += res[s].pca_seconds;
		t_km += res[s].kmeans_seconds;
		t_sc += res[s].score_seconds;
	}
	printf("time: pca %.3f s, kmeans %.3f s, scores %.3f s\n", t_pca, t_km, t_sc);
	if (n_p < 500 || n_q < 500)
		printf("note: with fewer than a few hundred samples per side MAUVE is "
		    "optimistic and noisy\n");
}

/* `seqmatch mauve`. */
int
cmd_mauve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "num-buckets", required_argument, NULL, 'k' },
		{ "explained-var", required_argument, NULL, 'e' },
		{ "kmeans-iters", required_argument, NULL, 'i' },
		{ "kmeans-restarts", required_argument, NULL, 'r' },
		{ "seed", required_argument, NULL, 's' },
		{ "scaling", required_argument, NULL, 'c' },
		{ "divergence-points", required_argument, NULL, 'm' },
		{ "seeds", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct mauve_options o;
	struct mauve_result *res = NULL;
	float *p = NULL, *q = NULL;
	int n_p, n_q, d_p, d_q, json = 0, nseeds = 1, opt, status = APP_EXIT_ERROR;
	long seed;
	char *cause = NULL;

	mauve_options_defaults(&o);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			if (options_int("num-buckets", optarg, 1, INT_MAX, &o.num_buckets) != 0)
				return APP_EXIT_USAGE;
			break;
		case 'e':
			if (cmd_mauve_open_range("explained-var", optarg, 0, 1,
			    &o.explained_var) != 0)
				return APP_EXIT_USAGE;
			break;
		case 'i':
			if (options_int("kmeans-iters", optarg, 1, 1000000,
			    &o.kmeans_max_iter) != 0)
				return APP_EXIT_USAGE;
			break;
		case 'r':
			if (options_int("kmeans-restarts", optarg, 1, 1000,
			    &o.kmeans_restarts) != 0)
				return APP_EXIT_USAGE;
			break;
		case 's':
			if (options_long("seed", optarg, 0, LONG_MAX, &seed) != 0)
				return APP_EXIT_USAGE;
			o.seed = (uint64_t)seed;
			break;
		case 'c':
			if (cmd_mauve_open_range("scaling", optarg, 0, 1e6, &o.scaling) != 0)
				return APP_EXIT_USAGE;
			break;
		case 'm':
			if (options_int("divergence-points", optarg, 1, 10000000,
			    &o.divergence_points) != 0)
				return APP_EXIT_USAGE;
			break;
		case 'S':
			if (options_int("seeds", optarg, 1, CMD_MAUVE_MAX_SEEDS, &nseeds) != 0)
				return APP_EXIT_USAGE;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			cmd_mauve_usage(stdout);
			return APP_EXIT_OK;
		default:
			cmd_mauve_usage(stderr);
			return APP_EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		if (argc - optind < 2)
			app_error("mauve: need two feature files, P.npy (reference) and Q.npy "
			    "(model)");
		else
			app_error("mauve: unexpected argument '%s'", argv[optind + 2]);
		cmd_mauve_usage(stderr);
		return APP_EXIT_USAGE;
	}
	if (npy_read(argv[optind], &p, &n_p, &d_p, &cause) != 0 ||
	    npy_read(argv[optind + 1], &q, &n_q, &d_q, &cause) != 0) {
		app_error("mauve: %s", cause);
		goto out;
	}
	if (d_p != d_q) {
		app_error("mauve: %s has %d columns but %s has %d: both feature matrices must "
		    "come from the same featurizer", argv[optind], d_p, argv[optind + 1], d_q);
		goto out;
	}
	res = xcalloc((size_t)nseeds, sizeof *res);
	if (mauve_compute_seeds(p, n_p, q, n_q, d_p, &o, nseeds, res, &cause) != 0) {
		app_error("%s", cause);
		goto out;
	}
	if (json)
		cmd_mauve_print_json(argv[optind], argv[optind + 1], n_p, n_q, d_p, &o,
		    o.num_buckets > 0, nseeds, res);
	else
		cmd_mauve_print_text(argv[optind], argv[optind + 1], n_p, n_q, d_p, &o,
		    o.num_buckets > 0, nseeds, res);
	status = APP_EXIT_OK;
out:
	if (res != NULL)
		for (int s = 0; s < nseeds; s++)
			mauve_result_release(&res[s]);
	free(res);
	util_free(p);
	util_free(q);
	free(cause);
	return status;
}
