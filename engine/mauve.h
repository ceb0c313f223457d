/*
 * mauve.h: MAUVE (Pillutla et al., NeurIPS 2021) as the reference package
 * mauve-text 0.4.0 computes it: L2-normalised features, PCA to an explained
 * variance ratio, k-means, histograms, the divergence curve and its area, the
 * frontier integral, and the smoothed ("star") variants. See docs/mauve.md.
 */
#ifndef SEQMATCH_MAUVE_H
#define SEQMATCH_MAUVE_H

#include <stddef.h>
#include <stdint.h>

struct mauve_options {
	int num_buckets;         /* k; <= 0: max(2, rint(min(n_p, n_q) / 10)) */
	double explained_var;    /* PCA: keep components up to this ratio, in (0, 1); 0.9 */
	int kmeans_max_iter;     /* 500 */
	int kmeans_restarts;     /* 5 */
	uint64_t seed;           /* 25 */
	double scaling;          /* c = 5 */
	int divergence_points;   /* m = 25 */
};

void mauve_options_defaults(struct mauve_options *o);

struct mauve_result {
	double mauve;
	double frontier_integral;
	double mauve_star;
	double frontier_integral_star;
	int num_buckets;
	int pca_dims;            /* components kept */
	double pca_seconds, kmeans_seconds, score_seconds;
	double kmeans_objective;
	/* Histograms (num_buckets each), counts as doubles. */
	double *p_hist, *q_hist;
	/* The curve: divergence_points + 2 points (x, y), end points included. */
	int curve_len;
	double *curve_x, *curve_y;
};

void mauve_result_release(struct mauve_result *r);

/*
 * The score path from counts (histograms of k buckets): mauve,
 * frontier_integral and their smoothed variants, and the curve.
 */
int mauve_from_counts(const double *p_counts, const double *q_counts, int k,
    const struct mauve_options *o, struct mauve_result *r, char **cause);

/*
 * The full pipeline on features: p (n_p, d) reference rows and q (n_q, d)
 * model rows, row-major float32.
 */
int mauve_compute(const float *p, int n_p, const float *q, int n_q, int d,
    const struct mauve_options *o, struct mauve_result *r, char **cause);

/*
 * mauve_compute for nseeds k-means seeds o->seed, o->seed + 1, ... into
 * results[nseeds]; the PCA stage is shared, so its time is in results[0]
 * only (0 in the others): summing the stage times gives the total.
 */
int mauve_compute_seeds(const float *p, int n_p, const float *q, int n_q, int d,
    const struct mauve_options *o, int nseeds, struct mauve_result *results,
    char **cause);

/*
 * Live estimator: PCA basis and centroids fitted once on reference features,
 * then each new model sample is only assigned to its nearest centroid; scores
 * come from running counts. A different estimator from mauve_compute, and
 * labelled as such by its users.
 */
struct mauve_live;
/*
 * Fit on the reference rows p (n_p, d): L2 normalisation, PCA and k-means on
 * p alone. k is o->num_buckets if > 0, else max(2, rint(n_p / 10)).
 */
struct mauve_live *mauve_live_new(const float *p, int n_p, int d,
    const struct mauve_options *o, char **cause);
void mauve_live_free(struct mauve_live *l);
/*
 * Add one model sample's feature (d). A feature with a non-finite value is
 * not counted (check mauve_live_count).
 */
void mauve_live_add(struct mauve_live *l, const float *feature);
/* Scores over the samples added so far (n_q = count). */
int mauve_live_result(const struct mauve_live *l, struct mauve_result *r, char **cause);
int mauve_live_count(const struct mauve_live *l);
void mauve_live_reset(struct mauve_live *l);

/*
 * The default number of clusters: max(2, rint(min(n_p, n_q) / 10)) with
 * Python's round-half-even (25 -> 2, 35 -> 4, 45 -> 4).
 */
int mauve_num_buckets(int n_p, int n_q);

/* Check the options (ranges of docs/mauve.md); -1 with a message naming the option. */
int mauve_options_check(const struct mauve_options *o, char **cause);

/*
 * The steps of the pipeline, exposed for the tests and for other estimators.
 * Shapes: x (n, d) row-major; centroids (k, d); labels (n).
 */

/* Divide each row of x (n, d) by its L2 norm (computed in double); zero rows stay zero. */
void mauve_l2_normalise(float *x, int n, int d);

/* A fitted PCA. */
struct mauve_pca {
	int d;                   /* input width */
	int dims;                /* components kept */
	double *mean;            /* (d) */
	double *eigenvalues;     /* (d) variances along the axes, descending */
	double total_var;        /* their sum (clamped at 0 each) */
	float *basis;            /* (d, dims): column j is the j-th principal axis */
};

/*
 * Exact PCA of x (n, d): centre, then in double with LAPACK dsyevd the
 * covariance (d, d), or when n < d the Gram matrix of the centred rows
 * (n, n), which has the same nonzero eigenvalues and gives the same axes;
 * keep the smallest number of leading components whose cumulative
 * explained-variance ratio is >= explained_var (in (0, 1)), at most the rank.
 */
int mauve_pca_fit(struct mauve_pca *pca, const float *x, int n, int d,
    double explained_var, char **cause);
/* The same with the way forced (MAUVE_PCA_AUTO: as mauve_pca_fit). */
enum mauve_pca_method { MAUVE_PCA_AUTO, MAUVE_PCA_COVARIANCE, MAUVE_PCA_GRAM };
int mauve_pca_fit_method(struct mauve_pca *pca, const float *x, int n, int d,
    double explained_var, enum mauve_pca_method method, char **cause);
/* y (n, dims) = (x - mean) basis. */
int mauve_pca_project(const struct mauve_pca *pca, const float *x, int n, float *y,
    char **cause);
void mauve_pca_release(struct mauve_pca *pca);

/*
 * Nearest centroid of each row through BLAS (||x||^2 + ||c||^2 - 2 x.c, the
 * lowest index on ties); dist2 (n, may be NULL) receives the squared distances.
 */
int mauve_assign(const float *x, int n, int d, const float *centroids, int k,
    int *labels, float *dist2, char **cause);
/* The naive reference of mauve_assign: direct differences, in double. */
void mauve_assign_ref(const float *x, int n, int d, const float *centroids, int k,
    int *labels, double *dist2);

/* Initial centroids: k distinct random rows of x, drawn with a generator seeded by seed. */
int mauve_kmeans_init(const float *x, int n, int d, int k, uint64_t seed,
    float *centroids, char **cause);

/*
 * One Lloyd step: assign each row to its nearest centroid, re-seed every empty
 * cluster with the row of the largest cluster farthest from its centroid,
 * move each centroid to the mean of its rows. labels hold the previous
 * assignment on entry (-1: none); *changed (may be NULL) receives the number
 * of rows whose cluster changed; *objective (may be NULL) the sum of squared
 * distances of the rows to their new centroids, computed in double.
 */
int mauve_kmeans_step(const float *x, int n, int d, int k, float *centroids, int *labels,
    int *changed, double *objective, char **cause);

/* The objective: sum of squared distances of rows to their centroids, in double. */
double mauve_kmeans_objective(const float *x, int n, int d, const float *centroids,
    const int *labels);

/*
 * k-means: for each of restarts runs (initial rows drawn from one generator
 * seeded by seed), Lloyd steps until no row changes cluster or max_iter steps;
 * the run with the lowest objective is kept in centroids (k, d) and labels (n).
 * *objective and *iterations (may be NULL) describe the kept run.
 */
int mauve_kmeans(const float *x, int n, int d, int k, int max_iter, int restarts,
    uint64_t seed, float *centroids, int *labels, double *objective, int *iterations,
    char **cause);

#endif
