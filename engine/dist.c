/*
 * dist.c: the program's only MPI calls (dist.h), and their single-process
 * stand-ins when built without MPI.
 *
 * How a distributed run works: every rank holds the whole model; a step's
 * global batch is drawn from the same generator on every rank and each rank
 * takes its contiguous share (dist_share); after the backward pass the ranks
 * sum their gradient blocks, each weighted by its share of the batch's loss
 * normalisation, with one in-place MPI_Allreduce over the contiguous block
 * (dist_sum_float), so every rank holds the gradient of the global batch and
 * takes the same AdamW step. Small sums (the loss, a stop flag) ride on their
 * own tiny MPI_Allreduce. Rank 0 alone writes files and prints progress.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_MPI
#include <mpi.h>
#endif
#if defined(HAVE_MPI) && defined(__GLIBC__)
#include <malloc.h>
#endif

#include "dist.h"
#include "util.h"

static int dist_r;       /* rank */
static int dist_n = 1;   /* size */

/* A positive integer from the environment, or 0. */
static int
dist_env_int(const char *name)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return 0;
	n = strtol(v, &end, 10);
	return *end == '\0' && n > 0 && n < INT_MAX ? (int)n : 0;
}

/* Processes the launcher started: Open MPI, MPICH/Hydra, PMIx or Slurm (0: none). */
static int
dist_env_size(void)
{
	int n;

	if ((n = dist_env_int("OMPI_COMM_WORLD_SIZE")) > 0 ||
	    (n = dist_env_int("PMI_SIZE")) > 0 || (n = dist_env_int("PMIX_SIZE")) > 0)
		return n;
	return 0;
}

/* Processes on this machine, from the launcher's environment. */
int
dist_local_size(void)
{
	int n;

	if ((n = dist_env_int("OMPI_COMM_WORLD_LOCAL_SIZE")) > 0 ||
	    (n = dist_env_int("MPI_LOCALNRANKS")) > 0)
		return n;
	return 1;
}

/* The rank's contiguous share of n items. */
void
dist_share(long n, long *lo, long *hi)
{
	*lo = (long)((long long)n * dist_r / dist_n);
	*hi = (long)((long long)n * (dist_r + 1) / dist_n);
}

/* A copy of n ints (the gather of one process). */
static int
dist_copy_ints(const int *mine, size_t n, int **all, size_t *nall, char **cause)
{
	*all = malloc((n > 0 ? n : 1) * sizeof **all);
	if (*all == NULL)
		return util_error(cause, "out of memory gathering %zu ints", n);
	if (n > 0)
		memcpy(*all, mine, n * sizeof **all);
	*nall = n;
	return 0;
}

/* Rank and size. */
int
dist_rank(void)
{
	return dist_r;
}

int
dist_size(void)
{
	return dist_n;
}

#ifdef HAVE_MPI

static int dist_inited;  /* MPI_Init done by dist_init */

/* An MPI error's text into *cause. */
static int
dist_fail(char **cause, const char *what, int rc)
{
	char msg[MPI_MAX_ERROR_STRING];
	int len = 0;

	if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS)
		snprintf(msg, sizeof msg, "error %d", rc);
	return util_error(cause, "%s: %s", what, msg);
}

/* MPI_Init when a launcher started us. */
int
dist_init(int *argc, char ***argv, char **cause)
{
	int provided, rc;

	if (dist_inited || dist_env_size() == 0)
		return 0;
#ifdef __GLIBC__
	/*
	 * A large allreduce makes Open MPI allocate a scratch buffer of the
	 * block's size on every call; glibc serves it from a fresh mapping and
	 * unmaps it after, so every step pays the page faults of half a gigabyte
	 * for GPT-2 124M: 6-8 s per call measured here (tests/bench/mpi-bench.sh)
	 * against 0.3-0.4 s when the heap keeps and reuses the memory.
	 */
	if (dist_env_size() > 1) {
		mallopt(M_MMAP_MAX, 0);
		mallopt(M_TRIM_THRESHOLD, INT_MAX);
	}
#endif
	rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
	if (rc != MPI_SUCCESS)
		return util_error(cause, "MPI_Init_thread failed (error %d)", rc);
	dist_inited = 1;
	/* Errors come back as codes with a message, not as an abort. */
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_rank(MPI_COMM_WORLD, &dist_r);
	MPI_Comm_size(MPI_COMM_WORLD, &dist_n);
	return 0;
}

/* MPI_Finalize. */
void
dist_finalize(void)
{
	if (dist_inited)
		MPI_Finalize();
	dist_inited = 0;
}

/* MPI_Abort the whole job. */
void
dist_abort(int status)
{
	if (dist_inited && dist_n > 1)
		MPI_Abort(MPI_COMM_WORLD, status);
}

int
dist_available(void)
{
	return 1;
}

/* The library's version string. */
const char *
dist_library(void)
{
	static char v[MPI_MAX_LIBRARY_VERSION_STRING];
	int len = 0;
	char *nl;

	if (v[0] == '\0' && MPI_Get_library_version(v, &len) != MPI_SUCCESS)
		snprintf(v, sizeof v, "MPI");
	if ((nl = strpbrk(v, ",\n")) != NULL)
		*nl = '\0';
	return v;
}

/* In-place reduction of n items of a type, in INT_MAX chunks (one call below that). */
static int
dist_reduce(void *buf, size_t n, size_t elem, MPI_Datatype type, MPI_Op op,
    char **cause)
{
	char *p = buf;
	int rc;

	if (dist_n == 1)
		return 0;
	while (n > 0) {
		int k = n > INT_MAX ? INT_MAX : (int)n;

		rc = MPI_Allreduce(MPI_IN_PLACE, p, k, type, op, MPI_COMM_WORLD);
		if (rc != MPI_SUCCESS)
			return dist_fail(cause, "MPI_Allreduce", rc);
		p += (size_t)k * elem;
		n -= (size_t)k;
	}
	return 0;
}

int
dist_sum_float(float *buf, size_t n, char **cause)
{
	return dist_reduce(buf, n, sizeof *buf, MPI_FLOAT, MPI_SUM, cause);
}

int
dist_sum_double(double *buf, int n, char **cause)
{
	return dist_reduce(buf, (size_t)n, sizeof *buf, MPI_DOUBLE, MPI_SUM, cause);
}

int
dist_max_double(double *buf, int n, char **cause)
{
	return dist_reduce(buf, (size_t)n, sizeof *buf, MPI_DOUBLE, MPI_MAX, cause);
}

/* Broadcast bytes from root, in INT_MAX chunks. */
int
dist_bcast(void *buf, size_t bytes, int root, char **cause)
{
	char *p = buf;
	int rc;

	if (dist_n == 1)
		return 0;
	while (bytes > 0) {
		int k = bytes > INT_MAX ? INT_MAX : (int)bytes;

		rc = MPI_Bcast(p, k, MPI_BYTE, root, MPI_COMM_WORLD);
		if (rc != MPI_SUCCESS)
			return dist_fail(cause, "MPI_Bcast", rc);
		p += k;
		bytes -= (size_t)k;
	}
	return 0;
}

/*
 * The layout of a gather of n items of `width` values from this rank: every
 * rank's count (one MPI_Allgather), as the receive counts and displacements
 * in values that MPI_Gatherv and MPI_Allgatherv take (ints, so at most
 * INT_MAX values in all), and the total number of items.
 */
static int
dist_gather_layout(size_t n, size_t width, int **rcounts, int **displs,
    size_t *total, char **cause)
{
	long long mine = (long long)n, *counts;
	int rc;

	*total = 0;
	counts = malloc((size_t)dist_n * sizeof *counts);
	*rcounts = malloc((size_t)dist_n * sizeof **rcounts);
	*displs = malloc((size_t)dist_n * sizeof **displs);
	if (counts == NULL || *rcounts == NULL || *displs == NULL) {
		util_error(cause, "out of memory");
		goto fail;
	}
	rc = MPI_Allgather(&mine, 1, MPI_LONG_LONG, counts, 1, MPI_LONG_LONG,
	    MPI_COMM_WORLD);
	if (rc != MPI_SUCCESS) {
		dist_fail(cause, "MPI_Allgather", rc);
		goto fail;
	}
	for (int r = 0; r < dist_n; r++) {
		if ((unsigned long long)(*total + (size_t)counts[r]) * width > INT_MAX) {
			util_error(cause, "too much to gather (%zu items of %zu values)",
			    *total + (size_t)counts[r], width);
			goto fail;
		}
		(*displs)[r] = (int)(*total * width);
		(*rcounts)[r] = (int)((size_t)counts[r] * width);
		*total += (size_t)counts[r];
	}
	free(counts);
	return 0;
fail:
	free(counts);
	free(*rcounts);
	free(*displs);
	*rcounts = *displs = NULL;
	return -1;
}

/* Rows from every rank onto rank 0, in rank order. */
int
dist_gather_rows(const float *rows, size_t n, size_t width, float **out,
    size_t *nout, char **cause)
{
	int *rcounts, *displs, rc, ret = -1;
	size_t total;
	float *all = NULL;

	*out = NULL;
	*nout = 0;
	if (dist_n == 1) {
		if (n > 0) {
			all = malloc(n * width * sizeof *all);
			if (all == NULL)
				return util_error(cause, "out of memory gathering %zu rows", n);
			memcpy(all, rows, n * width * sizeof *all);
		}
		*out = all;
		*nout = n;
		return 0;
	}
	if (dist_gather_layout(n, width, &rcounts, &displs, &total, cause) != 0)
		return -1;
	if (dist_r == 0 && total > 0 && (all = malloc(total * width * sizeof *all)) == NULL) {
		util_error(cause, "out of memory gathering %zu rows", total);
		goto out;
	}
	rc = MPI_Gatherv(rows, (int)(n * width), MPI_FLOAT, all, rcounts, displs,
	    MPI_FLOAT, 0, MPI_COMM_WORLD);
	if (rc != MPI_SUCCESS) {
		dist_fail(cause, "MPI_Gatherv", rc);
		goto out;
	}
	if (dist_r == 0) {
		*out = all;
		*nout = total;
		all = NULL;
	}
	ret = 0;
out:
	free(all);
	free(rcounts);
	free(displs);
	return ret;
}

/* Every rank's ints on every rank, in rank order. */
int
dist_allgather_ints(const int *mine, size_t n, int **all, size_t *nall, char **cause)
{
	int *rcounts, *displs, rc, ret = -1;
	size_t total;

	*all = NULL;
	*nall = 0;
	if (dist_n == 1)
		return dist_copy_ints(mine, n, all, nall, cause);
	if (dist_gather_layout(n, 1, &rcounts, &displs, &total, cause) != 0)
		return -1;
	*all = malloc((total > 0 ? total : 1) * sizeof **all);
	if (*all == NULL) {
		util_error(cause, "out of memory gathering %zu ints", total);
		goto out;
	}
	rc = MPI_Allgatherv(mine, (int)n, MPI_INT, *all, rcounts, displs, MPI_INT,
	    MPI_COMM_WORLD);
	if (rc != MPI_SUCCESS) {
		free(*all);
		*all = NULL;
		dist_fail(cause, "MPI_Allgatherv", rc);
		goto out;
	}
	*nall = total;
	ret = 0;
out:
	free(rcounts);
	free(displs);
	return ret;
}

/* MPI_Barrier. */
int
dist_barrier(char **cause)
{
	int rc;

	if (dist_n == 1)
		return 0;
	rc = MPI_Barrier(MPI_COMM_WORLD);
	return rc == MPI_SUCCESS ? 0 : dist_fail(cause, "MPI_Barrier", rc);
}

#else /* !HAVE_MPI: one process */

/* Refuse to run as several unconnected copies under a launcher. */
int
dist_init(int *argc, char ***argv, char **cause)
{
	if (dist_env_size() > 1)
		return util_error(cause, "started as %d processes by an MPI launcher, but "
		    "this seqmatch was built without MPI (configure --with-mpi)",
		    dist_env_size());
	return 0;
}

void
dist_finalize(void)
{
}

void
dist_abort(int status)
{
}

int
dist_available(void)
{
	return 0;
}

const char *
dist_library(void)
{
	return "none";
}

int
dist_sum_float(float *buf, size_t n, char **cause)
{
	return 0;
}

int
dist_sum_double(double *buf, int n, char **cause)
{
	return 0;
}

int
dist_max_double(double *buf, int n, char **cause)
{
	return 0;
}

int
dist_bcast(void *buf, size_t bytes, int root, char **cause)
{
	return 0;
}

/* A copy of the rows. */
int
dist_gather_rows(const float *rows, size_t n, size_t width, float **out,
    size_t *nout, char **cause)
{
	*out = NULL;
	*nout = n;
	if (n == 0)
		return 0;
	*out = malloc(n * width * sizeof **out);
	if (*out == NULL)
		return util_error(cause, "out of memory gathering %zu rows", n);
	memcpy(*out, rows, n * width * sizeof **out);
	return 0;
}

int
dist_allgather_ints(const int *mine, size_t n, int **all, size_t *nall, char **cause)
{
	return dist_copy_ints(mine, n, all, nall, cause);
}

int
dist_barrier(char **cause)
{
	return 0;
}

#endif

/* Whether any rank has flag set. */
int
dist_any(int flag, char **cause)
{
	double v = flag != 0;

	if (dist_max_double(&v, 1, cause) != 0)
		return -1;
	return v != 0;
}
