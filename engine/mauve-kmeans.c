/*
 * mauve-kmeans.c: MAUVE's k-means (engine/mauve.c, "How this works", step 1):
 * Lloyd's steps with the distances from one sgemm per block of rows, empty
 * clusters re-seeded by splitting the largest, restarts from one generator,
 * the run with the lowest objective kept.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mauve.h"
#include "rng.h"
#include "sgemm.h"
#include "util.h"

#define MAUVE_KM_BLOCK 4096 /* rows per block of the distance products */

/* Working memory of k-means, sized once per run. */
struct mauve_km_work {
	float *cnorm;     /* (K) ||c_j||^2 */
	float *gram;      /* (MAUVE_KM_BLOCK, K) y.c_j for one block of rows */
	float *dist;      /* (N) squared distance of each row to its centroid */
	double *sums;     /* (K, D) */
	int *counts;      /* (K) */
	int *perm;        /* (N) for drawing distinct rows */
	int *labels;      /* (N) the current run's labels */
	float *cent;      /* (K, D) the current run's centroids */
};

/* Squared norm of a float vector, accumulated in float (as the BLAS terms are). */
static float
mauve_sqnorm(const float *v, int d)
{
	float s = 0;

	for (int j = 0; j < d; j++)
		s += v[j] * v[j];
	return s;
}

/* Naive nearest centroids in double. */
void
mauve_assign_ref(const float *x, int n, int d, const float *c, int k, int *labels,
    double *dist2)
{
	for (size_t i = 0; i < (size_t)n; i++) {
		const float *row = x + i * (size_t)d;
		double best = INFINITY;
		int bj = 0;
		for (int j = 0; j < k; j++) {
			const float *cj = c + (size_t)j * (size_t)d;
			double s = 0;
			for (int t = 0; t < d; t++) {
				double diff = (double)row[t] - cj[t];
				s += diff * diff;
			}
			if (s < best) {
				best = s;
				bj = j;
			}
		}
		labels[i] = bj;
		if (dist2 != NULL)
			dist2[i] = best;
	}
}

/*
 * The BLAS distance step into labels and dist (n), with xnorm (n) the rows'
 * squared norms, cnorm (k) and gram (MAUVE_KM_BLOCK, k) scratch.
 */
static void
mauve_assign_blas(const float *x, int n, int d, const float *c, int k, const float *xnorm,
    float *cnorm, float *gram, int *labels, float *dist)
{
	for (int j = 0; j < k; j++)
		cnorm[j] = mauve_sqnorm(c + (size_t)j * (size_t)d, d);
	for (int i0 = 0; i0 < n; i0 += MAUVE_KM_BLOCK) {
		int bn = n - i0 < MAUVE_KM_BLOCK ? n - i0 : MAUVE_KM_BLOCK;
		sgemm_pool(0, 1, bn, k, d, 1.0f, x + (size_t)i0 * (size_t)d, d, c, d, 0.0f,
		    gram, k);
		for (int i = 0; i < bn; i++) {
			const float *g = gram + (size_t)i * (size_t)k;
			float best = cnorm[0] - 2 * g[0], dd;
			int bj = 0;
			for (int j = 1; j < k; j++) {
				float v = cnorm[j] - 2 * g[j];
				if (v < best) {
					best = v;
					bj = j;
				}
			}
			labels[i0 + i] = bj;
			dd = xnorm[i0 + i] + best;
			dist[i0 + i] = dd > 0 ? dd : 0;
		}
	}
}

/* Nearest centroids through BLAS (allocating its scratch). */
int
mauve_assign(const float *x, int n, int d, const float *c, int k, int *labels,
    float *dist2, char **cause)
{
	float *xnorm = malloc((size_t)n * sizeof *xnorm);
	float *cnorm = malloc((size_t)k * sizeof *cnorm);
	float *gram = malloc((size_t)MAUVE_KM_BLOCK * (size_t)k * sizeof *gram);
	float *dist = dist2 != NULL ? dist2 : malloc((size_t)n * sizeof *dist);

	if (xnorm == NULL || cnorm == NULL || gram == NULL || dist == NULL) {
		free(xnorm);
		free(cnorm);
		free(gram);
		if (dist != dist2)
			free(dist);
		return util_error(cause, "mauve: out of memory in the distance step");
	}
	for (size_t i = 0; i < (size_t)n; i++)
		xnorm[i] = mauve_sqnorm(x + i * (size_t)d, d);
	mauve_assign_blas(x, n, d, c, k, xnorm, cnorm, gram, labels, dist);
	free(xnorm);
	free(cnorm);
	free(gram);
	if (dist != dist2)
		free(dist);
	return 0;
}

/* Exact objective. */
double
mauve_kmeans_objective(const float *x, int n, int d, const float *c, const int *labels)
{
	double total = 0;

	for (size_t i = 0; i < (size_t)n; i++) {
		const float *row = x + i * (size_t)d, *cj = c + (size_t)labels[i] * (size_t)d;
		double s = 0;
		for (int t = 0; t < d; t++) {
			double diff = (double)row[t] - cj[t];
			s += diff * diff;
		}
		total += s;
	}
	return total;
}

/* Draw k distinct rows (partial Fisher-Yates over perm (n)) as centroids. */
static void
mauve_kmeans_draw(const float *x, int n, int d, int k, struct rng *rng, int *perm,
    float *c)
{
	for (int i = 0; i < n; i++)
		perm[i] = i;
	for (int j = 0; j < k; j++) {
		int t = j + (int)rng_below(rng, (uint64_t)(n - j)), tmp = perm[j];
		perm[j] = perm[t];
		perm[t] = tmp;
		memcpy(c + (size_t)j * (size_t)d, x + (size_t)perm[j] * (size_t)d,
		    (size_t)d * sizeof *c);
	}
}

/* Check the k-means arguments. */
static int
mauve_kmeans_check(int n, int d, int k, char **cause)
{
	if (n < 1 || d < 1)
		return util_error(cause, "mauve: k-means needs n >= 1 rows and d >= 1 columns, "
		    "got %d x %d", n, d);
	if (k < 1 || k > n)
		return util_error(cause, "mauve: k-means needs 1 <= k <= n, got k = %d for "
		    "n = %d rows", k, n);
	return 0;
}

/* Public initialisation with its own generator. */
int
mauve_kmeans_init(const float *x, int n, int d, int k, uint64_t seed, float *centroids,
    char **cause)
{
	struct rng rng;
	int *perm;

	if (mauve_kmeans_check(n, d, k, cause) != 0)
		return -1;
	perm = malloc((size_t)n * sizeof *perm);
	if (perm == NULL)
		return util_error(cause, "mauve: out of memory");
	rng_init(&rng, seed);
	mauve_kmeans_draw(x, n, d, k, &rng, perm, centroids);
	free(perm);
	return 0;
}

/* Free k-means scratch. */
static void
mauve_km_work_free(struct mauve_km_work *w)
{
	free(w->cnorm);
	free(w->gram);
	free(w->dist);
	free(w->sums);
	free(w->counts);
	free(w->perm);
	free(w->labels);
	util_free(w->cent);
	memset(w, 0, sizeof *w);
}

/* Allocate k-means scratch. */
static int
mauve_km_work_alloc(struct mauve_km_work *w, int n, int d, int k, char **cause)
{
	memset(w, 0, sizeof *w);
	w->cnorm = malloc((size_t)k * sizeof *w->cnorm);
	w->gram = malloc((size_t)MAUVE_KM_BLOCK * (size_t)k * sizeof *w->gram);
	w->dist = malloc((size_t)n * sizeof *w->dist);
	w->sums = malloc((size_t)k * (size_t)d * sizeof *w->sums);
	w->counts = malloc((size_t)k * sizeof *w->counts);
	w->perm = malloc((size_t)n * sizeof *w->perm);
	w->labels = malloc((size_t)n * sizeof *w->labels);
	w->cent = util_alloc((size_t)k * (size_t)d * sizeof *w->cent);
	if (w->cnorm == NULL || w->gram == NULL || w->dist == NULL || w->sums == NULL ||
	    w->counts == NULL || w->perm == NULL || w->labels == NULL || w->cent == NULL) {
		mauve_km_work_free(w);
		return util_error(cause, "mauve: out of memory in k-means (n = %d, d = %d, "
		    "k = %d)", n, d, k);
	}
	return 0;
}

/*
 * Re-seed empty clusters: each takes the row of the largest cluster (lowest
 * index on ties) that is farthest from that cluster's centroid. Needs n >= k.
 */
static void
mauve_kmeans_repair(int n, int k, int *labels, int *counts, float *dist)
{
	for (int e = 0; e < k; e++) {
		int big = 0, far = -1;
		if (counts[e] != 0)
			continue;
		for (int j = 1; j < k; j++)
			if (counts[j] > counts[big])
				big = j;
		if (counts[big] < 2)
			return; /* n < k: cannot happen after the checks */
		for (int i = 0; i < n; i++)
			if (labels[i] == big && (far < 0 || dist[i] > dist[far]))
				far = i;
		labels[far] = e;
		dist[far] = 0;
		counts[big]--;
		counts[e] = 1;
	}
}

/*
 * One Lloyd step with scratch w: assign (BLAS), repair, recentre. labels: on
 * entry the previous ones. Returns the number of changed labels.
 */
static int
mauve_kmeans_lloyd(const float *x, int n, int d, int k, const float *xnorm, float *c,
    int *labels, struct mauve_km_work *w)
{
	int *fresh = w->perm, changed = 0;

	mauve_assign_blas(x, n, d, c, k, xnorm, w->cnorm, w->gram, fresh, w->dist);
	memset(w->counts, 0, (size_t)k * sizeof *w->counts);
	for (int i = 0; i < n; i++)
		w->counts[fresh[i]]++;
	mauve_kmeans_repair(n, k, fresh, w->counts, w->dist);
	for (int i = 0; i < n; i++) {
		changed += fresh[i] != labels[i];
		labels[i] = fresh[i];
	}
	memset(w->sums, 0, (size_t)k * (size_t)d * sizeof *w->sums);
	for (size_t i = 0; i < (size_t)n; i++) {
		const float *row = x + i * (size_t)d;
		double *s = w->sums + (size_t)labels[i] * (size_t)d;
		for (int t = 0; t < d; t++)
			s[t] += row[t];
	}
	for (int j = 0; j < k; j++) {
		const double *s = w->sums + (size_t)j * (size_t)d;
		float *cj = c + (size_t)j * (size_t)d;
		if (w->counts[j] == 0)
			continue;
		for (int t = 0; t < d; t++)
			cj[t] = (float)(s[t] / w->counts[j]);
	}
	return changed;
}

/* Squared norms of the rows, (n). */
static float *
mauve_row_norms(const float *x, int n, int d)
{
	float *xnorm = malloc((size_t)n * sizeof *xnorm);

	if (xnorm != NULL)
		for (size_t i = 0; i < (size_t)n; i++)
			xnorm[i] = mauve_sqnorm(x + i * (size_t)d, d);
	return xnorm;
}

/* Public single Lloyd step. */
int
mauve_kmeans_step(const float *x, int n, int d, int k, float *centroids, int *labels,
    int *changed, double *objective, char **cause)
{
	struct mauve_km_work w;
	float *xnorm;
	int ch;

	if (mauve_kmeans_check(n, d, k, cause) != 0 ||
	    mauve_km_work_alloc(&w, n, d, k, cause) != 0)
		return -1;
	xnorm = mauve_row_norms(x, n, d);
	if (xnorm == NULL) {
		mauve_km_work_free(&w);
		return util_error(cause, "mauve: out of memory");
	}
	ch = mauve_kmeans_lloyd(x, n, d, k, xnorm, centroids, labels, &w);
	if (changed != NULL)
		*changed = ch;
	if (objective != NULL)
		*objective = mauve_kmeans_objective(x, n, d, centroids, labels);
	free(xnorm);
	mauve_km_work_free(&w);
	return 0;
}

/* k-means with restarts; the best run into centroids and labels. */
int
mauve_kmeans(const float *x, int n, int d, int k, int max_iter, int restarts,
    uint64_t seed, float *centroids, int *labels, double *objective, int *iterations,
    char **cause)
{
	struct mauve_km_work w;
	struct rng rng;
	float *xnorm;
	double best = INFINITY;
	int best_iter = 0;

	if (mauve_kmeans_check(n, d, k, cause) != 0)
		return -1;
	if (max_iter < 1 || restarts < 1)
		return util_error(cause, "mauve: k-means needs max_iter >= 1 and restarts >= 1");
	if (mauve_km_work_alloc(&w, n, d, k, cause) != 0)
		return -1;
	xnorm = mauve_row_norms(x, n, d);
	if (xnorm == NULL) {
		mauve_km_work_free(&w);
		return util_error(cause, "mauve: out of memory");
	}
	rng_init(&rng, seed);
	for (int r = 0; r < restarts; r++) {
		double obj;
		int it;

		mauve_kmeans_draw(x, n, d, k, &rng, w.perm, w.cent);
		for (int i = 0; i < n; i++)
			w.labels[i] = -1;
		for (it = 1; it <= max_iter; it++)
			if (mauve_kmeans_lloyd(x, n, d, k, xnorm, w.cent, w.labels, &w) == 0)
				break;
		if (it > max_iter)
			it = max_iter;
		obj = mauve_kmeans_objective(x, n, d, w.cent, w.labels);
		util_log(UTIL_LOG_DEBUG, "mauve: k-means run %d of %d: %d Lloyd steps, "
		    "objective %.9g", r + 1, restarts, it, obj);
		if (obj < best || r == 0) {
			best = obj;
			best_iter = it;
			memcpy(centroids, w.cent, (size_t)k * (size_t)d * sizeof *centroids);
			memcpy(labels, w.labels, (size_t)n * sizeof *labels);
		}
	}
	if (objective != NULL)
		*objective = best;
	if (iterations != NULL)
		*iterations = best_iter;
	free(xnorm);
	mauve_km_work_free(&w);
	return 0;
}
