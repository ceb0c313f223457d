/*
 * mauve-pca.c: MAUVE's PCA (engine/mauve.c, "How this works", step 1): rows
 * L2-normalised, the covariance accumulated in double with dsyrk over blocks
 * of rows, its eigenpairs by LAPACK's dsyevd, the dimensions kept for the
 * explained variance, and the projection with sgemm.
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "mauve.h"
#include "sgemm.h"
#include "util.h"

/* LAPACK's symmetric eigensolver (Fortran; trailing hidden string lengths). */
extern void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a,
    const int *lda, double *w, double *work, const int *lwork, int *iwork,
    const int *liwork, int *info, size_t jobz_len, size_t uplo_len);

#define MAUVE_PCA_BLOCK 4096 /* rows per block of the covariance and the projection */

/* L2-normalise rows. */
void
mauve_l2_normalise(float *x, int n, int d)
{
	for (size_t i = 0; i < (size_t)n; i++) {
		float *row = x + i * (size_t)d;
		double s = 0;
		for (int j = 0; j < d; j++)
			s += (double)row[j] * row[j];
		if (s > 0) {
			double inv = 1.0 / sqrt(s);
			for (int j = 0; j < d; j++)
				row[j] = (float)(row[j] * inv);
		}
	}
}

/* Free a PCA. */
void
mauve_pca_release(struct mauve_pca *pca)
{
	if (pca == NULL)
		return;
	free(pca->mean);
	free(pca->eigenvalues);
	util_free(pca->basis);
	memset(pca, 0, sizeof *pca);
}

/*
 * Eigenpairs of the symmetric m x m matrix a (row-major, either triangle;
 * overwritten by the eigenvectors: the one of w[j] is row j), w ascending.
 */
static int
mauve_eig(double *a, int m, double *w, char **cause)
{
	double *work = NULL, wq;
	int *iwork = NULL, lwork = -1, liwork = -1, iwq, info = 0;

	dsyevd_("V", "L", &m, a, &m, w, &wq, &lwork, &iwq, &liwork, &info, 1, 1);
	if (info != 0)
		return util_error(cause, "mauve: LAPACK dsyevd workspace query failed (info %d)",
		    info);
	lwork = (int)wq;
	liwork = iwq;
	work = malloc((size_t)lwork * sizeof *work);
	iwork = malloc((size_t)liwork * sizeof *iwork);
	if (work == NULL || iwork == NULL) {
		free(work);
		free(iwork);
		return util_error(cause, "mauve: out of memory in PCA (eigen workspace)");
	}
	dsyevd_("V", "L", &m, a, &m, w, work, &lwork, iwork, &liwork, &info, 1, 1);
	free(work);
	free(iwork);
	if (info != 0)
		return util_error(cause, "mauve: LAPACK dsyevd failed (info %d)", info);
	return 0;
}

/* The components to keep: the fewest leading ones reaching explained_var, at most rank. */
static int
mauve_pca_dims(const struct mauve_pca *pca, int m, double explained_var)
{
	double cum = 0;
	int rank = 0;

	for (int j = 0; j < m; j++)
		rank += pca->eigenvalues[j] > 0;
	if (!(pca->total_var > 0))
		return 1;
	for (int j = 0; j < m; j++) {
		cum += pca->eigenvalues[j] / pca->total_var;
		if (cum >= explained_var)
			return j + 1 < rank ? j + 1 : rank;
	}
	return rank > 0 ? rank : 1;
}

/*
 * Fit the PCA: mean, then the eigenpairs of the covariance (d x d) when there
 * are at least as many rows as columns, else of the Gram matrix of the
 * centred rows (n x n), whose nonzero eigenvalues are the covariance's and
 * whose eigenvectors u give the covariance's as B^T u / sqrt((n-1) lambda)
 * (the same components at a cost in n^3 instead of d^3: 2 rows of width 4000
 * took 78 s the other way). method forces one way (for the tests).
 */
int
mauve_pca_fit_method(struct mauve_pca *pca, const float *x, int n, int d,
    double explained_var, enum mauve_pca_method method, char **cause)
{
	double *a = NULL, *b = NULL, *w = NULL, *u = NULL, *v = NULL, denom;
	int gram, m, dims;
	size_t mm, nd;

	memset(pca, 0, sizeof *pca);
	if (n < 1 || d < 1)
		return util_error(cause, "mauve: PCA needs n >= 1 and d >= 1, got %d x %d", n, d);
	if (!(explained_var > 0 && explained_var < 1))
		return util_error(cause, "mauve: explained_var must be in (0, 1), got %g",
		    explained_var);
	gram = method == MAUVE_PCA_GRAM || (method == MAUVE_PCA_AUTO && n < d);
	m = gram ? n : d;
	if (util_mul((size_t)m, (size_t)m, &mm) != 0 || mm > (size_t)INT_MAX ||
	    util_mul((size_t)n, (size_t)d, &nd) != 0)
		return util_error(cause, "mauve: PCA of %d x %d needs a %d x %d eigenproblem; "
		    "at most %d rows or columns fit (LAPACK's int sizes): use fewer samples "
		    "or a narrower featurizer", n, d, m, m, 46340);
	denom = n > 1 ? (double)(n - 1) : 1.0;
	pca->d = d;
	pca->mean = calloc((size_t)d, sizeof *pca->mean);
	pca->eigenvalues = calloc((size_t)d, sizeof *pca->eigenvalues);
	a = calloc(mm, sizeof *a);
	w = malloc((size_t)m * sizeof *w);
	b = malloc((gram ? nd : (size_t)MAUVE_PCA_BLOCK * (size_t)d) * sizeof *b);
	if (pca->mean == NULL || pca->eigenvalues == NULL || a == NULL || w == NULL || b == NULL)
		goto oom;

	for (size_t i = 0; i < (size_t)n; i++)
		for (int j = 0; j < d; j++)
			pca->mean[j] += x[i * (size_t)d + j];
	for (int j = 0; j < d; j++)
		pca->mean[j] /= n;
	if (gram) {
		/* a = B B^T / (n - 1) with B the centred rows (n, d). */
		for (size_t i = 0; i < (size_t)n; i++)
			for (int j = 0; j < d; j++)
				b[i * (size_t)d + j] = x[i * (size_t)d + j] - pca->mean[j];
		cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n, d, 1.0 / denom, b, d,
		    0.0, a, n);
	} else {
		/* a (row-major upper = column-major lower) += blk^T blk, block by block. */
		for (int i0 = 0; i0 < n; i0 += MAUVE_PCA_BLOCK) {
			int bn = n - i0 < MAUVE_PCA_BLOCK ? n - i0 : MAUVE_PCA_BLOCK;

			for (size_t i = 0; i < (size_t)bn; i++)
				for (int j = 0; j < d; j++)
					b[i * (size_t)d + j] = x[((size_t)i0 + i) * (size_t)d + j] -
					    pca->mean[j];
			cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, bn, 1.0 / denom, b,
			    d, i0 == 0 ? 0.0 : 1.0, a, d);
		}
	}
	if (mauve_eig(a, m, w, cause) != 0)
		goto fail;
	/* Descending; the covariance's other d - m eigenvalues (Gram) are 0. */
	pca->total_var = 0;
	for (int j = 0; j < m; j++) {
		double e = w[m - 1 - j];

		pca->eigenvalues[j] = e > 0 ? e : 0;
		pca->total_var += pca->eigenvalues[j];
	}
	dims = mauve_pca_dims(pca, m, explained_var);
	pca->dims = dims;
	pca->basis = util_alloc((size_t)d * (size_t)dims * sizeof *pca->basis);
	if (pca->basis == NULL)
		goto oom;
	if (!gram) {
		for (int j = 0; j < dims; j++) {
			const double *e = a + (size_t)(m - 1 - j) * (size_t)m;

			for (int i = 0; i < d; i++)
				pca->basis[(size_t)i * (size_t)dims + j] = (float)e[i];
		}
	} else {
		/* v (d, dims) = B^T U, column j scaled by 1 / sqrt((n-1) lambda_j). */
		u = malloc((size_t)n * (size_t)dims * sizeof *u);
		v = malloc((size_t)d * (size_t)dims * sizeof *v);
		if (u == NULL || v == NULL)
			goto oom;
		for (int i = 0; i < n; i++)
			for (int j = 0; j < dims; j++)
				u[(size_t)i * (size_t)dims + j] = a[(size_t)(m - 1 - j) * (size_t)m + i];
		cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d, dims, n, 1.0, b, d, u,
		    dims, 0.0, v, dims);
		for (int j = 0; j < dims; j++) {
			double lam = pca->eigenvalues[j];
			double s = lam > 0 ? 1.0 / sqrt(denom * lam) : 0;

			for (int i = 0; i < d; i++)
				pca->basis[(size_t)i * (size_t)dims + j] = lam > 0 ?
				    (float)(v[(size_t)i * (size_t)dims + j] * s) : (float)(i == j);
		}
	}
	free(a);
	free(b);
	free(w);
	free(u);
	free(v);
	return 0;
oom:
	util_error(cause, "mauve: out of memory in PCA (%d x %d)", n, d);
fail:
	free(a);
	free(b);
	free(w);
	free(u);
	free(v);
	mauve_pca_release(pca);
	return -1;
}

/* Fit the PCA the cheaper way (mauve_pca_fit_method). */
int
mauve_pca_fit(struct mauve_pca *pca, const float *x, int n, int d, double explained_var,
    char **cause)
{
	return mauve_pca_fit_method(pca, x, n, d, explained_var, MAUVE_PCA_AUTO, cause);
}

/* Project rows onto the kept components, block by block. */
int
mauve_pca_project(const struct mauve_pca *pca, const float *x, int n, float *y,
    char **cause)
{
	int d = pca->d, D = pca->dims;
	float *blk = util_alloc((size_t)MAUVE_PCA_BLOCK * (size_t)d * sizeof *blk);

	if (blk == NULL)
		return util_error(cause, "mauve: out of memory in PCA projection");
	for (int i0 = 0; i0 < n; i0 += MAUVE_PCA_BLOCK) {
		int bn = n - i0 < MAUVE_PCA_BLOCK ? n - i0 : MAUVE_PCA_BLOCK;
		for (size_t i = 0; i < (size_t)bn; i++)
			for (int j = 0; j < d; j++)
				blk[i * (size_t)d + j] = (float)(x[((size_t)i0 + i) *
				    (size_t)d + j] - pca->mean[j]);
		sgemm_pool(0, 0, bn, D, d, 1.0f, blk, d, pca->basis, D, 0.0f,
		    y + (size_t)i0 * (size_t)D, D);
	}
	util_free(blk);
	return 0;
}
