/*
 * mauve.c: MAUVE between two sets of features, as the reference package
 * mauve-text 0.4.0 computes it, and a live estimator with a frozen quantiser.
 *
 * How this works
 * --------------
 * References: Pillutla et al., "MAUVE: Measuring the Gap Between Neural Text
 * and Human Text using Divergence Frontiers", NeurIPS 2021 (section 3: the
 * divergence curve and its area; section 4: quantisation by k-means on
 * embeddings); Liu et al., "Divergence Frontiers for Generative Models: Sample
 * Complexity, Quantization Effects, and Frontier Integrals", NeurIPS 2021 (the
 * frontier integral, the add-1/2 smoothing of the "star" variants); Pillutla
 * et al., "MAUVE Scores for Generative Models: Theory and Practice", JMLR 2023.
 * The numbered steps are those of docs/mauve.md.
 *
 * Shapes: P (n_p, d) reference rows, Q (n_q, d) model rows, N = n_q + n_p,
 * D the PCA dimensions kept, K the clusters.
 *
 * 1. Quantisation (steps 3-5). Pool X = [Q; P] (N, d), Q first as the package
 *    does, and divide each row by its L2 norm. PCA: mean m, covariance
 *    S = (X - m)^T (X - m) / (N - 1) (d, d) accumulated in double with dsyrk
 *    over blocks of rows, eigenpairs S = V diag(lambda) V^T by LAPACK dsyevd.
 *    With lambda sorted descending, keep the smallest D such that
 *    sum_{j<D} lambda_j / sum lambda >= explained_var (the cumulative sum of
 *    the ratios, as scikit-learn's explained_variance_ratio_ is summed), and
 *    project Y = (X - m) V[:, :D] (N, D) with sgemm.
 *    k-means (Lloyd 1982) on Y: centroids C (K, D) start as K distinct random
 *    rows; each step assigns every row to argmin_j ||y - c_j||^2, computed as
 *    ||y||^2 + ||c_j||^2 - 2 y.c_j with the N x K x D product in one sgemm per
 *    block of rows, then moves each centroid to the mean of its rows (summed
 *    in double). The objective sum ||y - c_label||^2 cannot increase from one
 *    step to the next (each half-step minimises it over labels, then over
 *    centroids). Steps stop when no label changes, so a converged run is the
 *    same whatever max_iter is. A cluster left empty is re-seeded with the row
 *    of the currently largest cluster that is farthest from its centroid (a
 *    split of that cluster, which also lowers the objective), so K clusters
 *    are always used when N >= K. Restarts draw their initial rows from one
 *    generator seeded once, and the run with the lowest objective is kept.
 *
 * 2. Scores (steps 6-10), from counts alone. p_i = cp_i / sum cp and
 *    q_i = cq_i / sum cq over the K clusters (the Q rows are the first n_q
 *    labels). With w_t = linspace(1e-6, 1 - 1e-6, m) (NumPy's formula: start +
 *    t * step, the last one exactly the end) and r = w p + (1 - w) q, the curve
 *    points are (exp(-c KL(q || r)), exp(-c KL(p || r))), KL(a || b) =
 *    sum_{a_i > 0} a_i ln(a_i / b_i), between the end points (1, 0) and (0, 1).
 *    MAUVE is the mean of two trapezoid areas: points sorted by x (ties: y
 *    descending) integrated over x, and sorted by y (ties: x descending)
 *    integrated over y; the tie rule is what gives exactly 1 when p == q. The
 *    frontier integral is 2 sum_i f(p_i, q_i) with f(a, b) = (a + b) / 4 -
 *    a b (ln a - ln b) / (2 (a - b)), and the limits b/4, a/4 when a or b is 0
 *    and 0 when |a - b| <= 1e-8. The star variants repeat this on the counts
 *    plus 1/2 (the Krichevsky-Trofimov estimator).
 *
 * 3. The live estimator fits the same quantiser on P alone, keeps m, V[:, :D],
 *    C and the P counts, and assigns each new model feature to its nearest
 *    centroid (in double, one row at a time, the same routine that recounted P
 *    so that feeding P back gives exactly p == q). Its centroids never see Q,
 *    which makes it a different estimator from the full one.
 *
 * Cost: PCA is N d^2 (dsyrk) + O(d^3) (dsyevd) + N d D (projection); each
 * Lloyd step is 2 N K D flops in sgemm and O(N (K + D)) elsewhere.
 *
 * The PCA is engine/mauve-pca.c's and the k-means engine/mauve-kmeans.c's;
 * here are the scores, the pipeline and the live estimator.
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mauve.h"
#include "util.h"

#define MAUVE_MAX_POINTS 10000000 /* divergence_points limit */

/* The package's defaults (docs/mauve.md). */
void
mauve_options_defaults(struct mauve_options *o)
{
	o->num_buckets = 0;
	o->explained_var = 0.9;
	o->kmeans_max_iter = 500;
	o->kmeans_restarts = 5;
	o->seed = 25;
	o->scaling = 5.0;
	o->divergence_points = 25;
}

/* Range checks of the options. */
int
mauve_options_check(const struct mauve_options *o, char **cause)
{
	if (!(o->explained_var > 0 && o->explained_var < 1))
		return util_error(cause, "mauve: explained_var must be in (0, 1), got %g",
		    o->explained_var);
	if (o->kmeans_max_iter < 1)
		return util_error(cause, "mauve: kmeans_max_iter must be >= 1, got %d",
		    o->kmeans_max_iter);
	if (o->kmeans_restarts < 1)
		return util_error(cause, "mauve: kmeans_restarts must be >= 1, got %d",
		    o->kmeans_restarts);
	if (!(isfinite(o->scaling) && o->scaling > 0))
		return util_error(cause, "mauve: scaling must be a finite number > 0, got %g",
		    o->scaling);
	if (o->divergence_points < 1 || o->divergence_points > MAUVE_MAX_POINTS)
		return util_error(cause, "mauve: divergence_points must be in [1, %d], got %d",
		    MAUVE_MAX_POINTS, o->divergence_points);
	return 0;
}

/* k = max(2, rint(min(n_p, n_q) / 10)), half to even as Python's round(). */
int
mauve_num_buckets(int n_p, int n_q)
{
	int n = n_p < n_q ? n_p : n_q;
	double k = nearbyint((double)n / 10.0);

	return k < 2 ? 2 : (int)k;
}

/* Free what a result holds. */
void
mauve_result_release(struct mauve_result *r)
{
	if (r == NULL)
		return;
	free(r->p_hist);
	free(r->q_hist);
	free(r->curve_x);
	free(r->curve_y);
	r->p_hist = r->q_hist = r->curve_x = r->curve_y = NULL;
	r->curve_len = 0;
}

/* ---------------------------------------------------------------- scores */

/* A curve point, for sorting. */
struct mauve_point {
	double x, y;
};

/* x ascending, ties y descending. */
static int
mauve_cmp_x(const void *a, const void *b)
{
	const struct mauve_point *p = a, *q = b;

	if (p->x != q->x)
		return p->x < q->x ? -1 : 1;
	if (p->y != q->y)
		return p->y > q->y ? -1 : 1;
	return 0;
}

/* y ascending, ties x descending. */
static int
mauve_cmp_y(const void *a, const void *b)
{
	const struct mauve_point *p = a, *q = b;

	if (p->y != q->y)
		return p->y < q->y ? -1 : 1;
	if (p->x != q->x)
		return p->x > q->x ? -1 : 1;
	return 0;
}

/* KL(a || b) in nats over a_i > 0 (b_i > 0 wherever a_i > 0 here). */
static double
mauve_kl(const double *a, const double *b, int k)
{
	double s = 0;

	for (int i = 0; i < k; i++)
		if (a[i] > 0)
			s += a[i] * log(a[i] / b[i]);
	return s;
}

/*
 * The divergence curve (m + 2 points into x, y: (1, 0), the m mixtures, (0, 1))
 * and MAUVE, its symmetrised trapezoid area. r: scratch (k).
 */
static double
mauve_curve(const double *p, const double *q, int k, double c, int m, double *r,
    double *x, double *y, struct mauve_point *pts)
{
	double start = 1e-6, stop = 1 - 1e-6, step, a1 = 0, a2 = 0;
	int len = m + 2;

	step = m > 1 ? (stop - start) / (double)(m - 1) : 0;
	x[0] = 1;
	y[0] = 0;
	for (int t = 0; t < m; t++) {
		double w = (t == m - 1 && m > 1) ? stop : start + (double)t * step;
		for (int i = 0; i < k; i++)
			r[i] = w * p[i] + (1 - w) * q[i];
		x[t + 1] = exp(-c * mauve_kl(q, r, k));
		y[t + 1] = exp(-c * mauve_kl(p, r, k));
	}
	x[len - 1] = 0;
	y[len - 1] = 1;

	for (int i = 0; i < len; i++)
		pts[i] = (struct mauve_point){ x[i], y[i] };
	qsort(pts, (size_t)len, sizeof *pts, mauve_cmp_x);
	for (int i = 0; i + 1 < len; i++)
		a1 += (pts[i + 1].x - pts[i].x) * (pts[i + 1].y + pts[i].y) / 2.0;
	qsort(pts, (size_t)len, sizeof *pts, mauve_cmp_y);
	for (int i = 0; i + 1 < len; i++)
		a2 += (pts[i + 1].y - pts[i].y) * (pts[i + 1].x + pts[i].x) / 2.0;
	return 0.5 * (a1 + a2);
}

/* The frontier integral of two distributions over k bins. */
static double
mauve_frontier(const double *p, const double *q, int k)
{
	double total = 0;

	for (int i = 0; i < k; i++) {
		double a = p[i], b = q[i];
		if (a == 0 && b == 0)
			continue;
		if (a == 0)
			total += b / 4;
		else if (b == 0)
			total += a / 4;
		else if (fabs(a - b) > 1e-8)
			total += 0.25 * (a + b) - 0.5 * (a * b * (log(a) - log(b)) / (a - b));
	}
	return 2 * total;
}

/* counts + add, normalised to sum 1, into out. */
static void
mauve_normalise_counts(const double *counts, int k, double add, double *out)
{
	double s = 0;

	for (int i = 0; i < k; i++) {
		out[i] = counts[i] + add;
		s += out[i];
	}
	for (int i = 0; i < k; i++)
		out[i] /= s;
}

/* Check counts: finite, >= 0, not all zero. */
static int
mauve_check_counts(const double *c, int k, const char *which, char **cause)
{
	double s = 0;

	for (int i = 0; i < k; i++) {
		if (!isfinite(c[i]) || c[i] < 0)
			return util_error(cause, "mauve: %s count %d is %g (need a finite "
			    "number >= 0)", which, i, c[i]);
		s += c[i];
	}
	if (!(s > 0))
		return util_error(cause, "mauve: the %s counts are all zero", which);
	return 0;
}

/* Scores and curve from two histograms of counts. */
int
mauve_from_counts(const double *p_counts, const double *q_counts, int k,
    const struct mauve_options *o, struct mauve_result *r, char **cause)
{
	double *buf;
	struct mauve_point *pts;
	int m, len;

	memset(r, 0, sizeof *r);
	if (k < 1)
		return util_error(cause, "mauve: the number of buckets must be >= 1, got %d", k);
	if (mauve_options_check(o, cause) != 0 ||
	    mauve_check_counts(p_counts, k, "p", cause) != 0 ||
	    mauve_check_counts(q_counts, k, "q", cause) != 0)
		return -1;
	m = o->divergence_points;
	len = m + 2;
	buf = malloc(3 * (size_t)k * sizeof *buf);
	pts = malloc((size_t)len * sizeof *pts);
	r->p_hist = malloc((size_t)k * sizeof *r->p_hist);
	r->q_hist = malloc((size_t)k * sizeof *r->q_hist);
	r->curve_x = malloc((size_t)len * sizeof *r->curve_x);
	r->curve_y = malloc((size_t)len * sizeof *r->curve_y);
	if (buf == NULL || pts == NULL || r->p_hist == NULL || r->q_hist == NULL ||
	    r->curve_x == NULL || r->curve_y == NULL) {
		free(buf);
		free(pts);
		mauve_result_release(r);
		return util_error(cause, "mauve: out of memory");
	}
	memcpy(r->p_hist, p_counts, (size_t)k * sizeof *p_counts);
	memcpy(r->q_hist, q_counts, (size_t)k * sizeof *q_counts);
	r->num_buckets = k;
	r->curve_len = len;
	{
		double *p = buf, *q = buf + k, *scratch = buf + 2 * (size_t)k;
		double *sx = malloc((size_t)len * sizeof *sx), *sy;

		sy = malloc((size_t)len * sizeof *sy);
		if (sx == NULL || sy == NULL) {
			free(sx);
			free(sy);
			free(buf);
			free(pts);
			mauve_result_release(r);
			return util_error(cause, "mauve: out of memory");
		}
		mauve_normalise_counts(p_counts, k, 0, p);
		mauve_normalise_counts(q_counts, k, 0, q);
		r->mauve = mauve_curve(p, q, k, o->scaling, m, scratch, r->curve_x,
		    r->curve_y, pts);
		r->frontier_integral = mauve_frontier(p, q, k);
		mauve_normalise_counts(p_counts, k, 0.5, p);
		mauve_normalise_counts(q_counts, k, 0.5, q);
		r->mauve_star = mauve_curve(p, q, k, o->scaling, m, scratch, sx, sy, pts);
		r->frontier_integral_star = mauve_frontier(p, q, k);
		free(sx);
		free(sy);
	}
	free(buf);
	free(pts);
	return 0;
}

/* ---------------------------------------------------------------- pipeline */

/* The first non-finite value of a matrix, as a message. */
static int
mauve_check_finite(const float *x, int n, int d, const char *which, char **cause)
{
	for (size_t i = 0; i < (size_t)n * (size_t)d; i++)
		if (!isfinite(x[i]))
			return util_error(cause, "mauve: %s row %zu, column %zu is not finite",
			    which, i / (size_t)d, i % (size_t)d);
	return 0;
}

/*
 * The PCA stage: normalise x (n, d) in place, fit *pca, project into *y
 * (n, pca->dims, util_alloc'd).
 */
static int
mauve_reduce(float *x, int n, int d, double explained_var, struct mauve_pca *pca, float **y,
    char **cause)
{
	size_t ny;

	*y = NULL;
	mauve_l2_normalise(x, n, d);
	if (mauve_pca_fit(pca, x, n, d, explained_var, cause) != 0)
		return -1;
	if (util_mul((size_t)n, (size_t)pca->dims, &ny) != 0 ||
	    (*y = util_alloc(ny * sizeof **y)) == NULL) {
		mauve_pca_release(pca);
		return util_error(cause, "mauve: out of memory (%d x %d projection)", n,
		    pca->dims);
	}
	if (mauve_pca_project(pca, x, n, *y, cause) != 0) {
		util_free(*y);
		*y = NULL;
		mauve_pca_release(pca);
		return -1;
	}
	return 0;
}

/* The full estimator, once per seed (o->seed + i), sharing the PCA stage. */
int
mauve_compute_seeds(const float *p, int n_p, const float *q, int n_q, int d,
    const struct mauve_options *o, int nseeds, struct mauve_result *results, char **cause)
{
	struct mauve_pca pca;
	float *x, *y = NULL, *c = NULL;
	int *labels = NULL, n, k, s;
	double *counts = NULL, t_pca, t0;
	size_t nx;

	for (s = 0; s < nseeds; s++)
		memset(&results[s], 0, sizeof results[s]);
	if (nseeds < 1)
		return util_error(cause, "mauve: need at least one seed, got %d", nseeds);
	if (n_p < 1 || n_q < 1)
		return util_error(cause, "mauve: need at least one row on each side, got "
		    "n_p = %d, n_q = %d", n_p, n_q);
	if (d < 1)
		return util_error(cause, "mauve: feature width d must be >= 1, got %d", d);
	if (n_p > INT_MAX - n_q)
		return util_error(cause, "mauve: too many rows (%d + %d)", n_p, n_q);
	if (mauve_options_check(o, cause) != 0)
		return -1;
	n = n_p + n_q;
	k = o->num_buckets > 0 ? o->num_buckets : mauve_num_buckets(n_p, n_q);
	if (k > n)
		return util_error(cause, "mauve: %d clusters for %d rows (k must be <= n_p + "
		    "n_q)", k, n);
	if (mauve_check_finite(p, n_p, d, "P", cause) != 0 ||
	    mauve_check_finite(q, n_q, d, "Q", cause) != 0)
		return -1;
	if (util_mul((size_t)n, (size_t)d, &nx) != 0 ||
	    (x = util_alloc(nx * sizeof *x)) == NULL)
		return util_error(cause, "mauve: out of memory (%d x %d features)", n, d);

	/* Q first, then P, as the package pools them. */
	t0 = util_now();
	memcpy(x, q, (size_t)n_q * (size_t)d * sizeof *x);
	memcpy(x + (size_t)n_q * (size_t)d, p, (size_t)n_p * (size_t)d * sizeof *x);
	s = mauve_reduce(x, n, d, o->explained_var, &pca, &y, cause);
	util_free(x);
	if (s != 0)
		return -1;
	t_pca = util_now() - t0;
	util_log(UTIL_LOG_DEBUG, "mauve: PCA of %d x %d rows keeps %d dimensions (%.3f s)", n,
	    d, pca.dims, t_pca);

	labels = malloc((size_t)n * sizeof *labels);
	counts = malloc(2 * (size_t)k * sizeof *counts);
	c = util_alloc((size_t)k * (size_t)pca.dims * sizeof *c);
	if (labels == NULL || counts == NULL || c == NULL) {
		util_error(cause, "mauve: out of memory");
		goto fail;
	}
	for (s = 0; s < nseeds; s++) {
		struct mauve_result *r = &results[s];
		double objective, t_km;

		t0 = util_now();
		if (mauve_kmeans(y, n, pca.dims, k, o->kmeans_max_iter, o->kmeans_restarts,
		    o->seed + (uint64_t)s, c, labels, &objective, NULL, cause) != 0)
			goto fail;
		t_km = util_now() - t0;
		t0 = util_now();
		memset(counts, 0, 2 * (size_t)k * sizeof *counts);
		for (int i = 0; i < n; i++)
			counts[(i < n_q ? k : 0) + labels[i]] += 1;
		if (mauve_from_counts(counts, counts + k, k, o, r, cause) != 0)
			goto fail;
		r->pca_dims = pca.dims;
		r->kmeans_objective = objective;
		r->pca_seconds = s == 0 ? t_pca : 0;
		r->kmeans_seconds = t_km;
		r->score_seconds = util_now() - t0;
	}
	mauve_pca_release(&pca);
	util_free(y);
	util_free(c);
	free(labels);
	free(counts);
	return 0;
fail:
	for (s = 0; s < nseeds; s++)
		mauve_result_release(&results[s]);
	mauve_pca_release(&pca);
	util_free(y);
	util_free(c);
	free(labels);
	free(counts);
	return -1;
}

/* The full estimator. */
int
mauve_compute(const float *p, int n_p, const float *q, int n_q, int d,
    const struct mauve_options *o, struct mauve_result *r, char **cause)
{
	return mauve_compute_seeds(p, n_p, q, n_q, d, o, 1, r, cause);
}

/* ---------------------------------------------------------------- live */

struct mauve_live {
	struct mauve_options opt;
	int d, k, n_p, n_q;
	struct mauve_pca pca;
	float *centroids;   /* (k, dims) */
	double objective;
	double *p_counts;   /* (k) */
	double *q_counts;   /* (k) */
	double *z;          /* (dims) scratch: the projected feature */
	float *u;           /* (d) scratch: the normalised feature */
};

/* Nearest centroid of one raw feature: normalise, project, compare, in double. */
static int
mauve_live_assign(struct mauve_live *l, const float *f)
{
	const struct mauve_pca *pca = &l->pca;
	int d = l->d, D = pca->dims, best_j = 0;
	double s = 0, best = INFINITY;

	for (int i = 0; i < d; i++)
		s += (double)f[i] * f[i];
	if (!isfinite(s))
		return -1;
	for (int i = 0; i < d; i++)
		l->u[i] = s > 0 ? (float)(f[i] * (1.0 / sqrt(s))) : f[i];
	for (int j = 0; j < D; j++)
		l->z[j] = 0;
	for (int i = 0; i < d; i++) {
		double v = (double)l->u[i] - pca->mean[i];
		const float *b = pca->basis + (size_t)i * (size_t)D;
		for (int j = 0; j < D; j++)
			l->z[j] += v * b[j];
	}
	for (int c = 0; c < l->k; c++) {
		const float *cc = l->centroids + (size_t)c * (size_t)D;
		double dist = 0;
		for (int j = 0; j < D; j++) {
			double diff = l->z[j] - cc[j];
			dist += diff * diff;
		}
		if (dist < best) {
			best = dist;
			best_j = c;
		}
	}
	return best_j;
}

/* Fit the frozen quantiser on the reference rows. */
struct mauve_live *
mauve_live_new(const float *p, int n_p, int d, const struct mauve_options *o, char **cause)
{
	struct mauve_live *l;
	float *x, *y = NULL;
	int *labels, j, ret;

	if (n_p < 1 || d < 1) {
		util_error(cause, "mauve: the live estimator needs n_p >= 1 reference rows and "
		    "d >= 1, got %d x %d", n_p, d);
		return NULL;
	}
	if (mauve_options_check(o, cause) != 0 || mauve_check_finite(p, n_p, d, "P",
	    cause) != 0)
		return NULL;
	l = calloc(1, sizeof *l);
	if (l == NULL) {
		util_error(cause, "mauve: out of memory");
		return NULL;
	}
	l->opt = *o;
	l->d = d;
	l->n_p = n_p;
	l->k = o->num_buckets > 0 ? o->num_buckets : mauve_num_buckets(n_p, n_p);
	if (l->k > n_p) {
		util_error(cause, "mauve: %d clusters for %d reference rows (k must be <= n_p)",
		    l->k, n_p);
		free(l);
		return NULL;
	}
	x = util_alloc((size_t)n_p * (size_t)d * sizeof *x);
	labels = malloc((size_t)n_p * sizeof *labels);
	if (x == NULL || labels == NULL) {
		util_free(x);
		free(labels);
		free(l);
		util_error(cause, "mauve: out of memory");
		return NULL;
	}
	memcpy(x, p, (size_t)n_p * (size_t)d * sizeof *x);
	ret = mauve_reduce(x, n_p, d, o->explained_var, &l->pca, &y, cause);
	util_free(x);
	if (ret == 0) {
		l->centroids = util_alloc((size_t)l->k * (size_t)l->pca.dims *
		    sizeof *l->centroids);
		if (l->centroids == NULL)
			ret = util_error(cause, "mauve: out of memory");
	}
	if (ret == 0)
		ret = mauve_kmeans(y, n_p, l->pca.dims, l->k, o->kmeans_max_iter,
		    o->kmeans_restarts, o->seed, l->centroids, labels, &l->objective, NULL,
		    cause);
	util_free(y);
	free(labels);
	if (ret != 0) {
		mauve_live_free(l);
		return NULL;
	}
	l->p_counts = calloc((size_t)l->k, sizeof *l->p_counts);
	l->q_counts = calloc((size_t)l->k, sizeof *l->q_counts);
	l->z = malloc((size_t)l->pca.dims * sizeof *l->z);
	l->u = malloc((size_t)d * sizeof *l->u);
	if (l->p_counts == NULL || l->q_counts == NULL || l->z == NULL || l->u == NULL) {
		mauve_live_free(l);
		util_error(cause, "mauve: out of memory");
		return NULL;
	}
	/* Recount P with the routine add() uses, so that P fed back gives p == q. */
	for (size_t i = 0; i < (size_t)n_p; i++)
		if ((j = mauve_live_assign(l, p + i * (size_t)d)) >= 0)
			l->p_counts[j] += 1;
	return l;
}

/* Free the live estimator. */
void
mauve_live_free(struct mauve_live *l)
{
	if (l == NULL)
		return;
	mauve_pca_release(&l->pca);
	util_free(l->centroids);
	free(l->p_counts);
	free(l->q_counts);
	free(l->z);
	free(l->u);
	free(l);
}

/* Assign one model feature and count it. */
void
mauve_live_add(struct mauve_live *l, const float *feature)
{
	int j = mauve_live_assign(l, feature);

	if (j < 0)
		return;
	l->q_counts[j] += 1;
	l->n_q++;
}

/* Scores from the reference counts and the running model counts. */
int
mauve_live_result(const struct mauve_live *l, struct mauve_result *r, char **cause)
{
	if (l->n_q == 0) {
		memset(r, 0, sizeof *r);
		return util_error(cause, "mauve: live estimate: no model samples added yet");
	}
	if (mauve_from_counts(l->p_counts, l->q_counts, l->k, &l->opt, r, cause) != 0)
		return -1;
	r->pca_dims = l->pca.dims;
	r->kmeans_objective = l->objective;
	return 0;
}

/* Model samples counted so far. */
int
mauve_live_count(const struct mauve_live *l)
{
	return l->n_q;
}

/* Forget the model samples. */
void
mauve_live_reset(struct mauve_live *l)
{
	memset(l->q_counts, 0, (size_t)l->k * sizeof *l->q_counts);
	l->n_q = 0;
}
