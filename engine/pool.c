/*
 * pool.c: fork-join worker pool.
 *
 * How this works: pool_run publishes a job (function, argument, task count)
 * under a mutex, bumps a generation counter and wakes the workers. Tasks are
 * claimed with an atomic counter by the workers and the caller alike. Every
 * worker takes part in every generation and reports back, so the caller can
 * return (and the job, on its stack, go away) only after all workers let go
 * of it. Only one job runs at a time; a second caller does its tasks inline.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "pool.h"

struct pool_job {
	pool_fn fn;
	void *arg;
	int ntasks;
	atomic_int next;
};

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t pool_busy = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t pool_done = PTHREAD_COND_INITIALIZER;
static struct pool_job *pool_job;
static unsigned long pool_generation;
static int pool_active;     /* workers still holding the current job */
static int pool_nworkers;   /* started */
/* Threads including the caller; 0 = not set. Set once at start (the thread
 * budget) but read by every pool_run on any thread, hence atomic. */
static atomic_int pool_wanted;

/* Claim and run tasks of a job until none is left. */
static void
pool_drain(struct pool_job *job)
{
	int t;

	while ((t = atomic_fetch_add(&job->next, 1)) < job->ntasks)
		job->fn(job->arg, t, job->ntasks);
}

/* Worker: wait for a generation, run its tasks, report. */
static void *
pool_worker(void *arg)
{
	/* The generation when this worker was created: it joins every later one. */
	unsigned long seen = (unsigned long)(uintptr_t)arg;
	struct pool_job *job;

	pthread_mutex_lock(&pool_lock);
	for (;;) {
		while (pool_generation == seen)
			pthread_cond_wait(&pool_work, &pool_lock);
		seen = pool_generation;
		job = pool_job;
		pthread_mutex_unlock(&pool_lock);
		pool_drain(job);
		pthread_mutex_lock(&pool_lock);
		if (--pool_active == 0)
			pthread_cond_signal(&pool_done);
	}
	return NULL;
}

/* Set the number of threads (the caller counts as one). */
void
pool_set_threads(int n)
{
	pthread_mutex_lock(&pool_busy);
	atomic_store(&pool_wanted, n < 1 ? 1 : n);
	pthread_mutex_unlock(&pool_busy);
}

/* Threads used by pool_run. */
int
pool_threads(void)
{
	int wanted = atomic_load(&pool_wanted);

	if (wanted == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		return n < 1 ? 1 : (int)n;
	}
	return wanted;
}

/* Start workers up to the wanted count (pool_busy held). */
static void
pool_start(int workers)
{
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	while (pool_nworkers < workers) {
		pthread_t t;
		pthread_mutex_lock(&pool_lock);
		if (pthread_create(&t, &attr, pool_worker,
		    (void *)(uintptr_t)pool_generation) != 0) {
			pthread_mutex_unlock(&pool_lock);
			break;
		}
		pool_nworkers++;
		pthread_mutex_unlock(&pool_lock);
	}
	pthread_attr_destroy(&attr);
}

/* Run a job across the pool. */
void
pool_run(pool_fn fn, void *arg, int ntasks)
{
	struct pool_job job;
	int threads = pool_threads();

	job.fn = fn;
	job.arg = arg;
	job.ntasks = ntasks;
	atomic_init(&job.next, 0);
	if (threads <= 1 || ntasks <= 1 || pthread_mutex_trylock(&pool_busy) != 0) {
		pool_drain(&job);
		return;
	}
	pool_start(threads - 1);
	if (pool_nworkers == 0) {
		pthread_mutex_unlock(&pool_busy);
		pool_drain(&job);
		return;
	}
	pthread_mutex_lock(&pool_lock);
	pool_job = &job;
	pool_active = pool_nworkers;
	pool_generation++;
	pthread_cond_broadcast(&pool_work);
	pthread_mutex_unlock(&pool_lock);
	pool_drain(&job);
	pthread_mutex_lock(&pool_lock);
	while (pool_active > 0)
		pthread_cond_wait(&pool_done, &pool_lock);
	pool_job = NULL;
	pthread_mutex_unlock(&pool_lock);
	pthread_mutex_unlock(&pool_busy);
}

/* Near-equal split of [0, n). */
void
pool_range(long n, int task, int ntasks, long *start, long *end)
{
	*start = n * task / ntasks;
	*end = n * (task + 1) / ntasks;
}
