/*
 * pool.h: a small fork-join pool, the program's one set of threads: for the
 * training step's loops (attention per head, softmax, GELU, AdamW), its
 * matrix products (bands of rows, each a single-threaded OpenBLAS call:
 * engine/sgemm.c) and the matrix-vector products of generation
 * (engine/quant.c). Workers sleep on a condition variable between jobs,
 * except after pool_run_spin's jobs (the generator's products).
 * A job started while another thread's job runs is done inline by its caller.
 */
#ifndef SEQMATCH_POOL_H
#define SEQMATCH_POOL_H

/* Run task `task` of `ntasks`. */
typedef void (*pool_fn)(void *arg, int task, int ntasks);

/* Threads used by pool_run, the caller included (default: the number of cores). */
void pool_set_threads(int n);
int pool_threads(void);
/* Run tasks 0..ntasks-1 on the pool and the calling thread; returns when all are done. */
void pool_run(pool_fn fn, void *arg, int ntasks);
/*
 * pool_run for jobs that come back to back (the generator's matrix-vector
 * products): afterwards the workers spin for the next job for up to 100 us
 * before they sleep, and the caller spins for its tasks. Not for the training
 * step's jobs: they take milliseconds, beside which a wake-up is cheap.
 */
void pool_run_spin(pool_fn fn, void *arg, int ntasks);
/* Split [0, n) into ntasks near-equal ranges: the range of `task`. */
void pool_range(long n, int task, int ntasks, long *start, long *end);

#endif
