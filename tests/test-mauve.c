/*
 * test-mauve.c: the MAUVE engine against docs/mauve.md: every reference
 * value of the score path to 1e-12, the curve points, the closed forms, the
 * number of clusters, the two-group case end to end through PCA and k-means;
 * PCA against a hand-computed case and a direct computation; the BLAS distance
 * step against its naive reference; k-means monotonicity, determinism and
 * empty-cluster repair; the live estimator; bad inputs.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mauve.h"
#include "rng.h"
#include "tap.h"
#include "util.h"

#define TOL 1e-12

/* One row of the reference table. */
struct ref_case {
	const char *name;
	int k;
	double p[5], q[5];
	double c;
	int m;
	double mauve, fi, mauve_star, fi_star;
};

static const struct ref_case ref_cases[] = {
	{ "identical", 3, { 1, 1, 2 }, { 1, 1, 2 }, 5, 25,
	  1.000000000000000, 0, 1.000000000000000, 0 },
	{ "disjoint", 4, { 1, 1, 0, 0 }, { 0, 0, 1, 1 }, 5, 25,
	  0.004072096261961, 1.000000000000000, 0.559611460591146, 0.176040783498918 },
	{ "two bins", 2, { 7, 3 }, { 4, 6 }, 5, 25,
	  0.899892029677184, 0.061803622924305, 0.927974491879182, 0.050802824444128 },
	{ "zeros both sides", 5, { 10, 20, 30, 0, 40 }, { 25, 25, 25, 25, 0 }, 5, 25,
	  0.221205438235775, 0.350658991515833, 0.275856052845331, 0.309876627148380 },
	{ "same, c = 1", 5, { 10, 20, 30, 0, 40 }, { 25, 25, 25, 25, 0 }, 1, 25,
	  0.871373358298578, 0.350658991515833, 0.897512801833609, 0.309876627148380 },
	{ "same, m = 100", 5, { 10, 20, 30, 0, 40 }, { 25, 25, 25, 25, 0 }, 5, 100,
	  0.220689650958850, 0.350658991515833, 0.275444787087336, 0.309876627148380 },
	{ "near-identical", 2, { 50, 50 }, { 51, 49 }, 5, 25,
	  0.999999832781722, 0.000066674668192, 0.999999839306008, 0.000065360759240 },
	{ "one-sided", 2, { 2, 0 }, { 1, 1 }, 5, 25,
	  0.278113725367240, 0.306852819440055, 0.827953515966501, 0.086814898125484 },
};

/* Compare one value with a tolerance, printing both on failure. */
static void
check_close(double got, double want, double tol, const char *what, const char *name)
{
	if (!tap_ok(fabs(got - want) <= tol, "%s: %s = %.15f (want %.15f)", name, what,
	    got, want))
		tap_diag("difference %.3g > %.3g", fabs(got - want), tol);
}

/* Whether a message exists and contains a word. */
static int
says(const char *cause, const char *word)
{
	return cause != NULL && strstr(cause, word) != NULL;
}

/* An expected failure: ret != 0 and a message containing word. */
static void
expect_error(int ret, char **cause, const char *word, const char *what)
{
	tap_ok(ret != 0 && says(*cause, word), "%s: error mentions '%s' (%s)", what, word,
	    *cause != NULL ? *cause : "no message");
	free(*cause);
	*cause = NULL;
}

/* The reference table, all four outputs. */
static void
test_reference_table(void)
{
	for (size_t i = 0; i < sizeof ref_cases / sizeof ref_cases[0]; i++) {
		const struct ref_case *rc = &ref_cases[i];
		struct mauve_options o;
		struct mauve_result r;
		char *cause = NULL;

		mauve_options_defaults(&o);
		o.scaling = rc->c;
		o.divergence_points = rc->m;
		if (!tap_ok(mauve_from_counts(rc->p, rc->q, rc->k, &o, &r, &cause) == 0,
		    "%s: mauve_from_counts", rc->name)) {
			tap_diag("%s", cause);
			free(cause);
			continue;
		}
		check_close(r.mauve, rc->mauve, TOL, "mauve", rc->name);
		check_close(r.frontier_integral, rc->fi, TOL, "frontier_integral", rc->name);
		check_close(r.mauve_star, rc->mauve_star, TOL, "mauve_star", rc->name);
		check_close(r.frontier_integral_star, rc->fi_star, TOL,
		    "frontier_integral_star", rc->name);
		tap_ok(r.num_buckets == rc->k && r.curve_len == rc->m + 2,
		    "%s: num_buckets %d, curve_len %d", rc->name, r.num_buckets, r.curve_len);
		mauve_result_release(&r);
	}
}

/* The three curve points of "two bins" and the end points. */
static void
test_curve_points(void)
{
	double p[2] = { 7, 3 }, q[2] = { 4, 6 };
	static const struct { int i; double x, y; } want[] = {
		{ 1, 0.999999999999062, 0.398944642653160 },
		{ 13, 0.797607421875000, 0.789883718049871 },
		{ 25, 0.382813320312734, 0.999999999998929 },
	};
	struct mauve_options o;
	struct mauve_result r;
	char *cause = NULL;

	mauve_options_defaults(&o);
	if (!tap_ok(mauve_from_counts(p, q, 2, &o, &r, &cause) == 0, "two bins curve")) {
		free(cause);
		return;
	}
	for (size_t j = 0; j < sizeof want / sizeof want[0]; j++) {
		char what[32];
		snprintf(what, sizeof what, "point %d x", want[j].i);
		check_close(r.curve_x[want[j].i], want[j].x, TOL, what, "two bins");
		snprintf(what, sizeof what, "point %d y", want[j].i);
		check_close(r.curve_y[want[j].i], want[j].y, TOL, what, "two bins");
	}
	tap_ok(r.curve_x[0] == 1 && r.curve_y[0] == 0 && r.curve_x[26] == 0 &&
	    r.curve_y[26] == 1, "two bins: end points (1, 0) and (0, 1)");
	mauve_result_release(&r);
}

/* Disjoint supports: 1/252 within the discretisation for c = 5, 0.5 for c = 1. */
static void
test_closed_forms(void)
{
	double p[4] = { 1, 1, 0, 0 }, q[4] = { 0, 0, 1, 1 }, exact = 1.0 / 252, prev = 1;
	static const int ms[] = { 25, 100, 2000 };
	struct mauve_options o;
	struct mauve_result r;
	char *cause = NULL;

	mauve_options_defaults(&o);
	for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
		double err, bound = 0.07 / ((double)ms[i] * ms[i]);
		o.divergence_points = ms[i];
		if (mauve_from_counts(p, q, 4, &o, &r, &cause) != 0) {
			tap_ok(0, "disjoint m = %d: %s", ms[i], cause);
			continue;
		}
		/* The trapezoid rule's error on this curve shrinks as 1/m^2. */
		err = fabs(r.mauve - exact);
		tap_ok(err < bound && err < prev, "disjoint, c = 5, m = %d: %.12f vs 1/252 "
		    "(error %.3g < %.3g)", ms[i], r.mauve, err, bound);
		prev = err;
		mauve_result_release(&r);
	}
	o.scaling = 1;
	for (int m = 1; m <= 100; m = m * 3 + 1) {
		o.divergence_points = m;
		if (mauve_from_counts(p, q, 4, &o, &r, &cause) != 0) {
			tap_ok(0, "disjoint c = 1: %s", cause);
			continue;
		}
		check_close(r.mauve, 0.5, TOL, "mauve (c = 1, exactly 0.5)", "disjoint");
		mauve_result_release(&r);
	}
	free(cause);
}

/* k = max(2, rint(n / 10)), half to even. */
static void
test_num_buckets(void)
{
	static const int cases[][3] = {
		{ 25, 100, 2 }, { 35, 35, 4 }, { 45, 45, 4 }, { 55, 60, 6 }, { 1, 1, 2 },
		{ 14, 20, 2 }, { 15, 15, 2 }, { 16, 16, 2 }, { 5000, 5000, 500 },
		{ 5000, 4995, 500 }, { 4985, 5000, 498 }, { 100, 7, 2 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int k = mauve_num_buckets(cases[i][0], cases[i][1]);
		tap_ok(k == cases[i][2], "num_buckets(%d, %d) = %d (want %d)", cases[i][0],
		    cases[i][1], k, cases[i][2]);
	}
}

/* Rows around e_axis plus 0.01 standard normal noise, in R^d. */
static void
fill_group(float *x, int n, int d, int axis, struct rng *rng)
{
	for (int i = 0; i < n; i++)
		for (int j = 0; j < d; j++)
			x[(size_t)i * d + j] = (j == axis ? 1.0f : 0.0f) + 0.01f * rng_normal(rng);
}

/* Two tight groups in R^8, k = 2: the two-bins histograms through the whole pipeline. */
static void
test_end_to_end(void)
{
	enum { D = 8 };
	float p[100 * D], q[100 * D];
	struct mauve_options o;
	struct mauve_result r, r2;
	struct rng rng;
	char *cause = NULL;
	int ok;

	rng_init(&rng, 1234);
	fill_group(p, 70, D, 0, &rng);
	fill_group(p + 70 * D, 30, D, 1, &rng);
	fill_group(q, 40, D, 0, &rng);
	fill_group(q + 40 * D, 60, D, 1, &rng);
	mauve_options_defaults(&o);
	o.num_buckets = 2;
	if (!tap_ok(mauve_compute(p, 100, q, 100, D, &o, &r, &cause) == 0,
	    "two groups: mauve_compute")) {
		tap_diag("%s", cause);
		free(cause);
		return;
	}
	check_close(r.mauve, 0.899892029677184, TOL, "mauve", "two groups");
	check_close(r.frontier_integral, 0.061803622924305, TOL, "frontier_integral",
	    "two groups");
	check_close(r.mauve_star, 0.903229487753413, TOL, "mauve_star", "two groups");
	check_close(r.frontier_integral_star, 0.060548437452024, TOL,
	    "frontier_integral_star", "two groups");
	ok = r.num_buckets == 2 && r.pca_dims >= 1 &&
	    ((r.p_hist[0] == 70 && r.p_hist[1] == 30 && r.q_hist[0] == 40 &&
	    r.q_hist[1] == 60) || (r.p_hist[0] == 30 && r.p_hist[1] == 70 &&
	    r.q_hist[0] == 60 && r.q_hist[1] == 40));
	tap_ok(ok, "two groups: histograms p [%g, %g], q [%g, %g], %d PCA dims",
	    r.p_hist[0], r.p_hist[1], r.q_hist[0], r.q_hist[1], r.pca_dims);
	tap_ok(r.pca_seconds >= 0 && r.kmeans_seconds >= 0 && r.score_seconds >= 0 &&
	    isfinite(r.kmeans_objective) && r.kmeans_objective > 0,
	    "two groups: timings and objective reported");
	/* The default k for 100 rows a side is 10: still a valid run. */
	o.num_buckets = 0;
	if (tap_ok(mauve_compute(p, 100, q, 100, D, &o, &r2, &cause) == 0,
	    "two groups, default k")) {
		double sp = 0, sq = 0;
		for (int j = 0; j < r2.num_buckets; j++) {
			sp += r2.p_hist[j];
			sq += r2.q_hist[j];
		}
		tap_ok(r2.num_buckets == 10 && sp == 100 && sq == 100 && r2.mauve > 0 &&
		    r2.mauve <= 1, "default k = %d, histogram sums %g %g, mauve %.6f",
		    r2.num_buckets, sp, sq, r2.mauve);
		mauve_result_release(&r2);
	}
	mauve_result_release(&r);
	free(cause);
}

/*
 * Fewer rows than columns: the Gram-matrix PCA gives the covariance's
 * eigenvalues, component count and projections (up to each axis's sign).
 */
static void
test_pca_gram(void)
{
	enum { N = 7, D = 30 };
	static float x[N * D];
	float yc[N * D], yg[N * D];
	struct mauve_pca pc, pg;
	char *cause = NULL;
	double worst_e = 0, worst_y = 0;
	uint64_t st = 12345;
	int ok;

	for (int i = 0; i < N * D; i++) {
		st = st * 6364136223846793005ULL + 1442695040888963407ULL;
		/* column j scaled by 1/(j+1): distinct variances */
		x[i] = (float)((double)(st >> 40) / (double)(1ULL << 24) - 0.5) /
		    (float)(i % D + 1);
	}
	ok = mauve_pca_fit_method(&pc, x, N, D, 0.99, MAUVE_PCA_COVARIANCE, &cause) == 0 &&
	    mauve_pca_fit_method(&pg, x, N, D, 0.99, MAUVE_PCA_GRAM, &cause) == 0;
	if (!ok) {
		tap_ok(0, "pca gram: %s", cause);
		free(cause);
		return;
	}
	for (int j = 0; j < pc.dims && j < pg.dims; j++) {
		double e = fabs(pc.eigenvalues[j] - pg.eigenvalues[j]) / pc.eigenvalues[0];

		worst_e = e > worst_e ? e : worst_e;
	}
	tap_ok(pc.dims == pg.dims && pc.dims <= N - 1 && worst_e < 1e-10 &&
	    fabs(pc.total_var - pg.total_var) < 1e-10 * pc.total_var,
	    "pca gram: %d x %d: same components kept (%d, %d), eigenvalues within %.1e",
	    N, D, pc.dims, pg.dims, worst_e);
	mauve_pca_project(&pc, x, N, yc, &cause);
	mauve_pca_project(&pg, x, N, yg, &cause);
	for (int j = 0; j < pc.dims && pc.dims == pg.dims; j++) {
		double sign = 0;

		for (int i = 0; i < N; i++)
			sign += (double)yc[i * pc.dims + j] * yg[i * pc.dims + j];
		for (int i = 0; i < N; i++) {
			double dy = fabs(yc[i * pc.dims + j] - (sign < 0 ? -1 : 1) *
			    yg[i * pc.dims + j]);

			worst_y = dy > worst_y ? dy : worst_y;
		}
	}
	tap_ok(pc.dims == pg.dims && worst_y < 1e-5, "pca gram: projections agree within "
	    "%.1e (up to each axis's sign)", worst_y);
	mauve_pca_release(&pc);
	mauve_pca_release(&pg);
	ok = mauve_pca_fit(&pc, x, 1, D, 0.9, &cause) == 0 && pc.dims == 1 &&
	    pc.total_var == 0;
	tap_ok(ok, "pca gram: one row: no variance, one component, no division by zero");
	if (ok)
		mauve_pca_release(&pc);
	free(cause);
}

/* A hand-computed PCA: axes of lengths 3, 2, 1 give variances 3.6, 1.6, 0.4. */
static void
test_pca_hand(void)
{
	static const float x[6 * 3] = {
		3, 0, 0, -3, 0, 0, 0, 2, 0, 0, -2, 0, 0, 0, 1, 0, 0, -1,
	};
	static const struct { double ev; int dims; } keep[] = {
		{ 0.5, 1 }, { 0.64, 1 }, { 0.65, 2 }, { 0.9, 2 }, { 0.95, 3 },
	};
	struct mauve_pca pca;
	float y[6 * 3];
	char *cause = NULL;

	for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
		if (mauve_pca_fit(&pca, x, 6, 3, keep[i].ev, &cause) != 0) {
			tap_ok(0, "pca hand: %s", cause);
			continue;
		}
		tap_ok(pca.dims == keep[i].dims, "pca hand: explained_var %.2f keeps %d (want %d)",
		    keep[i].ev, pca.dims, keep[i].dims);
		mauve_pca_release(&pca);
	}
	if (mauve_pca_fit(&pca, x, 6, 3, 0.95, &cause) != 0) {
		tap_ok(0, "pca hand: %s", cause);
		free(cause);
		return;
	}
	tap_ok(fabs(pca.eigenvalues[0] - 3.6) < 1e-12 && fabs(pca.eigenvalues[1] - 1.6) <
	    1e-12 && fabs(pca.eigenvalues[2] - 0.4) < 1e-12 && fabs(pca.total_var - 5.6) <
	    1e-12, "pca hand: eigenvalues %.15g %.15g %.15g", pca.eigenvalues[0],
	    pca.eigenvalues[1], pca.eigenvalues[2]);
	mauve_pca_project(&pca, x, 6, y, &cause);
	/* Projections: +-3, +-2, +-1 on axes 0, 1, 2 (up to the sign of each axis). */
	tap_ok(fabsf(fabsf(y[0]) - 3) < 1e-6f && fabsf(y[1]) < 1e-6f && fabsf(y[2]) < 1e-6f &&
	    fabsf(fabsf(y[2 * 3 + 1]) - 2) < 1e-6f && fabsf(fabsf(y[4 * 3 + 2]) - 1) < 1e-6f &&
	    fabsf(y[0] + y[3]) < 1e-6f, "pca hand: projections (%g %g %g) (%g %g %g)",
	    y[0], y[1], y[2], y[6], y[7], y[8]);
	mauve_pca_release(&pca);
	free(cause);
}

/* PCA of random correlated data against a direct covariance and power iteration. */
static void
test_pca_direct(void)
{
	enum { N = 400, D = 6 };
	float x[N * D], *y;
	double mean[D] = { 0 }, cov[D][D] = { { 0 } }, v[D], lam = 0, maxres = 0, maxorth = 0;
	double maxvar = 0, cum = 0, prev_cum = 0;
	struct mauve_pca pca;
	struct rng rng;
	char *cause = NULL;

	rng_init(&rng, 99);
	for (int i = 0; i < N; i++) {
		float a = rng_normal(&rng), b = rng_normal(&rng);
		for (int j = 0; j < D; j++)
			x[i * D + j] = (float)(3.0 * a * (j + 1) / D + 1.0 * b * (j % 2 ? 1 : -1) +
			    0.3 * rng_normal(&rng) + 0.5 * j);
	}
	for (int i = 0; i < N; i++)
		for (int j = 0; j < D; j++)
			mean[j] += x[i * D + j] / (double)N;
	for (int i = 0; i < N; i++)
		for (int a = 0; a < D; a++)
			for (int b = 0; b < D; b++)
				cov[a][b] += (x[i * D + a] - mean[a]) * (x[i * D + b] - mean[b]) /
				    (N - 1);
	/* Power iteration for the top eigenpair. */
	for (int j = 0; j < D; j++)
		v[j] = 1;
	for (int it = 0; it < 500; it++) {
		double w[D] = { 0 }, s = 0;
		for (int a = 0; a < D; a++)
			for (int b = 0; b < D; b++)
				w[a] += cov[a][b] * v[b];
		for (int a = 0; a < D; a++)
			s += w[a] * w[a];
		s = sqrt(s);
		lam = s;
		for (int a = 0; a < D; a++)
			v[a] = w[a] / s;
	}
	if (mauve_pca_fit(&pca, x, N, D, 0.999, &cause) != 0) {
		tap_ok(0, "pca direct: %s", cause);
		free(cause);
		return;
	}
	tap_ok(fabs(pca.eigenvalues[0] - lam) < 1e-9 * lam,
	    "pca direct: top eigenvalue %.12g vs power iteration %.12g", pca.eigenvalues[0], lam);
	{
		double dot = 0;
		for (int a = 0; a < D; a++)
			dot += pca.basis[a * pca.dims] * v[a];
		tap_ok(fabs(fabs(dot) - 1) < 1e-6, "pca direct: top axis matches power iteration "
		    "(|cos| = %.9f)", fabs(dot));
	}
	/* cov v_j = lambda_j v_j, orthonormal axes, projected variance = lambda_j. */
	y = malloc(sizeof(float) * N * (size_t)pca.dims);
	mauve_pca_project(&pca, x, N, y, &cause);
	for (int j = 0; j < pca.dims; j++) {
		double var = 0, ym = 0;
		for (int a = 0; a < D; a++) {
			double cv = 0;
			for (int b = 0; b < D; b++)
				cv += cov[a][b] * pca.basis[b * pca.dims + j];
			cv -= pca.eigenvalues[j] * pca.basis[a * pca.dims + j];
			if (fabs(cv) > maxres)
				maxres = fabs(cv);
		}
		for (int t = 0; t < pca.dims; t++) {
			double dot = 0;
			for (int a = 0; a < D; a++)
				dot += (double)pca.basis[a * pca.dims + j] * pca.basis[a * pca.dims + t];
			if (fabs(dot - (j == t)) > maxorth)
				maxorth = fabs(dot - (j == t));
		}
		for (int i = 0; i < N; i++)
			ym += y[i * pca.dims + j] / (double)N;
		for (int i = 0; i < N; i++)
			var += (y[i * pca.dims + j] - ym) * (y[i * pca.dims + j] - ym) / (N - 1);
		if (fabs(var - pca.eigenvalues[j]) / pca.eigenvalues[0] > maxvar)
			maxvar = fabs(var - pca.eigenvalues[j]) / pca.eigenvalues[0];
		if (fabs(ym) > maxvar)
			maxvar = fabs(ym);
	}
	tap_ok(maxres < 1e-5 * lam, "pca direct: max |cov v - lambda v| = %.3g", maxres);
	tap_ok(maxorth < 1e-6, "pca direct: axes orthonormal (max error %.3g)", maxorth);
	tap_ok(maxvar < 1e-5, "pca direct: projected variances = eigenvalues, centred (max "
	    "relative error %.3g)", maxvar);
	/* dims: the smallest count whose cumulative ratio reaches 0.999. */
	for (int j = 0; j < pca.dims; j++) {
		prev_cum = cum;
		cum += pca.eigenvalues[j] / pca.total_var;
	}
	tap_ok(cum >= 0.999 && prev_cum < 0.999 && pca.dims >= 2,
	    "pca direct: %d dims, cumulative ratio %.6f (before the last %.6f)", pca.dims, cum,
	    prev_cum);
	free(y);
	mauve_pca_release(&pca);
	free(cause);
}

/* Random data with clusters: n rows (n, d) around g centres. */
static void
fill_blobs(float *x, int n, int d, int g, double noise, struct rng *rng)
{
	float centres[64 * 64];

	for (int c = 0; c < g * d; c++)
		centres[c] = rng_normal(rng);
	for (int i = 0; i < n; i++) {
		int c = (int)rng_below(rng, (uint64_t)g);
		for (int j = 0; j < d; j++)
			x[(size_t)i * d + j] = centres[c * d + j] + (float)noise * rng_normal(rng);
	}
}

/* The BLAS distance step against the naive loops. */
static void
test_assign(void)
{
	enum { N = 700, D = 33, K = 17 };
	static float x[N * D], c[K * D], dist[N];
	static double dref[N];
	static int lab[N], lref[N];
	struct rng rng;
	char *cause = NULL;
	double maxd = 0;
	int bad = 0;

	rng_init(&rng, 5);
	fill_blobs(x, N, D, 8, 0.5, &rng);
	for (int i = 0; i < K * D; i++)
		c[i] = rng_normal(&rng);
	if (mauve_assign(x, N, D, c, K, lab, dist, &cause) != 0) {
		tap_ok(0, "assign: %s", cause);
		free(cause);
		return;
	}
	mauve_assign_ref(x, N, D, c, K, lref, dref);
	for (int i = 0; i < N; i++) {
		double dl = 0;
		if (fabs(dist[i] - dref[i]) > maxd)
			maxd = fabs(dist[i] - dref[i]);
		/* A different label is fine only for a near tie. */
		for (int t = 0; t < D; t++) {
			double diff = (double)x[i * D + t] - c[lab[i] * D + t];
			dl += diff * diff;
		}
		if (lab[i] != lref[i] && dl - dref[i] > 1e-4 * (1 + dref[i]))
			bad++;
	}
	tap_ok(bad == 0 && maxd < 1e-3, "assign: BLAS vs naive: %d wrong labels, max "
	    "distance difference %.3g", bad, maxd);
}

/* Lloyd steps never increase the objective. */
static void
test_kmeans_monotone(void)
{
	enum { N = 600, D = 5, K = 24 };
	static float x[N * D], c[K * D];
	static int lab[N];
	double prev = INFINITY, obj, worst = 0;
	int changed = 1, steps = 0, ok = 1;
	struct rng rng;
	char *cause = NULL;

	rng_init(&rng, 77);
	fill_blobs(x, N, D, 6, 1.0, &rng);
	mauve_kmeans_init(x, N, D, K, 3, c, &cause);
	for (int i = 0; i < N; i++)
		lab[i] = -1;
	while (changed > 0 && steps < 200) {
		if (mauve_kmeans_step(x, N, D, K, c, lab, &changed, &obj, &cause) != 0) {
			ok = 0;
			break;
		}
		if (obj - prev > worst)
			worst = obj - prev;
		if (obj > prev * (1 + 1e-7))
			ok = 0;
		prev = obj;
		steps++;
	}
	tap_ok(ok && changed == 0 && steps > 2, "kmeans: objective never increases over %d "
	    "steps (largest increase %.3g), converged to %.6f", steps, worst, prev);
	free(cause);
}

/* Same seed, same result; other seeds explore other starts; the kept run is the best. */
static void
test_kmeans_determinism(void)
{
	enum { N = 500, D = 4, K = 12 };
	static float x[N * D], c1[K * D], c2[K * D];
	static int l1[N], l2[N];
	double o1, o2, objs[6], best = INFINITY, multi;
	int distinct = 0;
	struct rng rng;
	char *cause = NULL;

	rng_init(&rng, 11);
	for (int i = 0; i < N * D; i++)
		x[i] = rng_float(&rng);
	mauve_kmeans(x, N, D, K, 500, 3, 42, c1, l1, &o1, NULL, &cause);
	mauve_kmeans(x, N, D, K, 500, 3, 42, c2, l2, &o2, NULL, &cause);
	tap_ok(o1 == o2 && memcmp(l1, l2, sizeof l1) == 0 && memcmp(c1, c2, sizeof c1) == 0,
	    "kmeans: same seed gives the same labels, centroids and objective (%.9f)", o1);
	for (int s = 0; s < 6; s++) {
		mauve_kmeans(x, N, D, K, 500, 1, (uint64_t)s, c2, l2, &objs[s], NULL, &cause);
		if (objs[s] < best)
			best = objs[s];
		for (int t = 0; t < s; t++)
			if (objs[t] == objs[s])
				goto same;
		distinct++;
same:		;
	}
	tap_ok(distinct > 1, "kmeans: different seeds reach %d different optima", distinct);
	mauve_kmeans(x, N, D, K, 500, 6, 7, c2, l2, &multi, NULL, &cause);
	tap_ok(multi <= objs[0] + 1e-12 || multi <= best * 1.05,
	    "kmeans: 6 restarts give %.6f (single runs: best %.6f)", multi, best);
	free(cause);
}

/* More clusters than distinct points: every cluster non-empty, nothing NaN. */
static void
test_kmeans_empty(void)
{
	enum { N = 20, D = 3, K = 8 };
	float x[N * D], c[K * D];
	int lab[N], counts[K] = { 0 }, ok = 1, changed;
	double obj;
	char *cause = NULL;

	for (int i = 0; i < N; i++)
		for (int j = 0; j < D; j++)
			x[i * D + j] = (float)((i % 5) == j) * (float)(1 + i % 5);
	if (mauve_kmeans(x, N, D, K, 100, 2, 1, c, lab, &obj, NULL, &cause) != 0) {
		tap_ok(0, "kmeans empty: %s", cause);
		free(cause);
		return;
	}
	for (int i = 0; i < N; i++)
		counts[lab[i]]++;
	for (int j = 0; j < K; j++)
		if (counts[j] == 0)
			ok = 0;
	for (int i = 0; i < K * D; i++)
		if (!isfinite(c[i]))
			ok = 0;
	tap_ok(ok && isfinite(obj), "kmeans: k = 8 > 5 distinct points: no empty cluster, no "
	    "NaN (objective %g)", obj);
	/* A centroid far from everything: the step must re-seed it. */
	for (int i = 0; i < K * D; i++)
		c[i] = (float)(i % D == 0) * (float)(i / D);
	c[(K - 1) * D] = 1000;
	for (int i = 0; i < N; i++)
		lab[i] = -1;
	mauve_kmeans_step(x, N, D, K, c, lab, &changed, &obj, &cause);
	memset(counts, 0, sizeof counts);
	for (int i = 0; i < N; i++)
		counts[lab[i]]++;
	tap_ok(counts[K - 1] > 0 && c[(K - 1) * D] < 10, "kmeans step: a stranded centroid "
	    "gets a row (%d) and moves to it", counts[K - 1]);
	free(cause);
}

/* The live estimator: P fed back as Q gives exactly 1. */
static void
test_live(void)
{
	enum { N = 300, D = 16 };
	static float p[N * D], q[N * D];
	struct mauve_options o;
	struct mauve_result r;
	struct mauve_live *l;
	struct rng rng;
	char *cause = NULL;
	float nan_row[D];

	rng_init(&rng, 8);
	fill_blobs(p, N, D, 5, 0.3, &rng);
	fill_blobs(q, N, D, 5, 0.3, &rng);
	mauve_options_defaults(&o);
	l = mauve_live_new(p, N, D, &o, &cause);
	if (!tap_ok(l != NULL, "live: fitted on P")) {
		tap_diag("%s", cause);
		free(cause);
		return;
	}
	expect_error(mauve_live_result(l, &r, &cause), &cause, "no model samples",
	    "live: no samples yet is an error");
	for (int i = 0; i < N; i++)
		mauve_live_add(l, p + i * D);
	for (int j = 0; j < D; j++)
		nan_row[j] = j == 3 ? NAN : 1;
	mauve_live_add(l, nan_row);
	tap_ok(mauve_live_count(l) == N, "live: %d samples counted (the NaN row skipped)",
	    mauve_live_count(l));
	if (mauve_live_result(l, &r, &cause) == 0) {
		/* p == q exactly; w p + (1 - w) p may differ from p in the last bit. */
		tap_ok(fabs(r.mauve - 1) < TOL && fabs(r.mauve_star - 1) < TOL &&
		    r.frontier_integral == 0 && r.num_buckets == 30 &&
		    memcmp(r.p_hist, r.q_hist, 30 * sizeof *r.p_hist) == 0,
		    "live: P as Q gives identical histograms, mauve %.17g, frontier %.3g, k %d",
		    r.mauve, r.frontier_integral, r.num_buckets);
		mauve_result_release(&r);
	} else
		tap_ok(0, "live result: %s", cause);
	mauve_live_reset(l);
	tap_ok(mauve_live_count(l) == 0, "live: reset");
	for (int i = 0; i < N; i++)
		mauve_live_add(l, q + i * D);
	if (mauve_live_result(l, &r, &cause) == 0) {
		tap_ok(r.mauve < 0.9 && r.mauve > 0, "live: other blobs as Q give mauve %.6f",
		    r.mauve);
		mauve_result_release(&r);
	} else
		tap_ok(0, "live result: %s", cause);
	mauve_live_free(l);
	o.num_buckets = N + 1;
	l = mauve_live_new(p, N, D, &o, &cause);
	expect_error(l != NULL ? 0 : -1, &cause, "clusters", "live: k > n_p refused");
	free(cause);
}

/* Bad inputs give messages. */
static void
test_bad_inputs(void)
{
	float x[4 * 2] = { 1, 2, 3, 4, 5, 6, 7, 8 }, bad[4 * 2];
	double pc[2] = { 1, 2 }, neg[2] = { -1, 2 }, zero[2] = { 0, 0 };
	int labels[4];
	struct mauve_options o;
	struct mauve_result r;
	char *cause = NULL;

	mauve_options_defaults(&o);
	expect_error(mauve_compute(x, 0, x, 4, 2, &o, &r, &cause), &cause, "at least one",
	    "bad: n_p = 0");
	expect_error(mauve_compute(x, 4, x, 4, 0, &o, &r, &cause), &cause, "width",
	    "bad: d = 0");
	o.num_buckets = 9;
	expect_error(mauve_compute(x, 4, x, 4, 2, &o, &r, &cause), &cause, "clusters",
	    "bad: k > n");
	o.num_buckets = 2;
	o.explained_var = 1;
	expect_error(mauve_compute(x, 4, x, 4, 2, &o, &r, &cause), &cause, "explained_var",
	    "bad: explained_var 1");
	o.explained_var = 0;
	expect_error(mauve_compute(x, 4, x, 4, 2, &o, &r, &cause), &cause, "explained_var",
	    "bad: explained_var 0");
	o.explained_var = NAN;
	expect_error(mauve_compute(x, 4, x, 4, 2, &o, &r, &cause), &cause, "explained_var",
	    "bad: explained_var NaN");
	mauve_options_defaults(&o);
	o.scaling = 0;
	expect_error(mauve_from_counts(pc, pc, 2, &o, &r, &cause), &cause, "scaling",
	    "bad: scaling 0");
	mauve_options_defaults(&o);
	o.divergence_points = 0;
	expect_error(mauve_from_counts(pc, pc, 2, &o, &r, &cause), &cause, "divergence_points",
	    "bad: divergence_points 0");
	mauve_options_defaults(&o);
	o.kmeans_restarts = 0;
	expect_error(mauve_compute(x, 4, x, 4, 2, &o, &r, &cause), &cause, "restarts",
	    "bad: restarts 0");
	mauve_options_defaults(&o);
	expect_error(mauve_from_counts(neg, pc, 2, &o, &r, &cause), &cause, "count",
	    "bad: negative count");
	expect_error(mauve_from_counts(pc, zero, 2, &o, &r, &cause), &cause, "zero",
	    "bad: all-zero counts");
	expect_error(mauve_from_counts(pc, pc, 0, &o, &r, &cause), &cause, "buckets",
	    "bad: k = 0");
	memcpy(bad, x, sizeof x);
	bad[5] = INFINITY;
	o.num_buckets = 2;
	expect_error(mauve_compute(x, 4, bad, 4, 2, &o, &r, &cause), &cause, "Q row 2, column 1 is not finite",
	    "bad: infinite feature");
	expect_error(mauve_kmeans(x, 4, 2, 5, 10, 1, 1, bad, labels, NULL, NULL, &cause), &cause,
	    "k <= n", "bad: k-means k > n");
	free(cause);
}

/* Zero rows stay zero, others get unit norm. */
static void
test_normalise(void)
{
	float x[3 * 2] = { 3, 4, 0, 0, -1e-30f, 0 };

	mauve_l2_normalise(x, 3, 2);
	tap_ok(fabsf(x[0] - 0.6f) < 1e-7f && fabsf(x[1] - 0.8f) < 1e-7f && x[2] == 0 &&
	    x[3] == 0 && x[4] == -1.0f && x[5] == 0, "l2 normalise: (0.6, 0.8), zero row "
	    "stays zero, tiny row scaled to -1");
}

int
main(void)
{
	test_reference_table();
	test_curve_points();
	test_closed_forms();
	test_num_buckets();
	test_normalise();
	test_end_to_end();
	test_pca_hand();
	test_pca_gram();
	test_pca_direct();
	test_assign();
	test_kmeans_monotone();
	test_kmeans_determinism();
	test_kmeans_empty();
	test_live();
	test_bad_inputs();
	return tap_done();
}
