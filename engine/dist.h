/*
 * dist.h: data-parallel runs over MPI. Every MPI call of the program is in
 * dist.c; built without MPI (configure without --with-mpi) the same functions
 * describe a single process (rank 0 of 1) and the collectives do nothing, so
 * callers carry no #ifdefs.
 *
 * A run is distributed when a launcher (mpirun, mpiexec) started the process:
 * dist_init sees its environment and initialises MPI; otherwise the program
 * stays one process and never touches MPI.
 */
#ifndef SEQMATCH_DIST_H
#define SEQMATCH_DIST_H

#include <stddef.h>
#include <stdint.h>

/*
 * Initialise MPI when a launcher started this process (once, from the main
 * thread, before other threads exist). Returns -1 when a launcher started
 * several processes but the program was built without MPI, or MPI fails.
 */
int dist_init(int *argc, char ***argv, char **cause);
/* Finalise MPI (when dist_init initialised it). */
void dist_finalize(void);
/*
 * End every process of the job with this exit status (MPI_Abort): for the
 * program's top level after an error on one rank, while the others may wait
 * in a collective. Returns only when not distributed.
 */
void dist_abort(int status);
/* Whether the program was built with MPI. */
int dist_available(void);
/* This process's rank, and the number of processes (1 when not distributed). */
int dist_rank(void);
int dist_size(void);
/* Processes of the job on this machine, from the launcher's environment (1 if unknown). */
int dist_local_size(void);
/* The MPI library's version string, or "none". */
const char *dist_library(void);

/*
 * The rank's share [*lo, *hi) of n items split in dist_size() contiguous
 * parts that differ by at most one (rank r gets n*r/N .. n*(r+1)/N).
 */
void dist_share(long n, long *lo, long *hi);

/* In-place sum over ranks of n floats (one MPI_Allreduce; no-op alone). */
int dist_sum_float(float *buf, size_t n, char **cause);
/* In-place sum over ranks of n doubles. */
int dist_sum_double(double *buf, int n, char **cause);
/* In-place maximum over ranks of n doubles. */
int dist_max_double(double *buf, int n, char **cause);
/* Whether flag is non-zero on any rank (every rank gets the same answer). */
int dist_any(int flag, char **cause);
/* Rank root's bytes into every rank's buf. */
int dist_bcast(void *buf, size_t bytes, int root, char **cause);
/*
 * Gather rows of `width` floats on rank 0: each rank gives n rows; rank 0
 * gets *out (malloc'd, the ranks' rows in rank order) and *nout; other ranks
 * get NULL and 0.
 */
int dist_gather_rows(const float *rows, size_t n, size_t width, float **out,
    size_t *nout, char **cause);
/*
 * Every rank's n ints, concatenated in rank order, on every rank: *all
 * (malloc'd; free it) of *nall ints.
 */
int dist_allgather_ints(const int *mine, size_t n, int **all, size_t *nall,
    char **cause);
/* Wait for every rank. */
int dist_barrier(char **cause);

#endif
