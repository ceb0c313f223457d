/*
 * pool.c: fork-join worker pool.
 *
 * How this works: pool_run describes a job (function, argument, task count)
 * in one of two slots, then publishes it by storing a new claim word, which
 * holds the job's generation (high 32 bits) and the next unclaimed task (low
 * 32 bits), and wakes the workers. The caller and the workers claim tasks by
 * compare-and-swap on the claim word, so a task is only ever claimed in the
 * generation it belongs to; every finished task is counted, and the caller
 * returns once all of its job's tasks are done. It does not wait for workers
 * that have not woken up yet: a worker that wakes late finds the tasks
 * claimed (or a newer generation) and goes back to sleep. So when the other
 * cores are busy the caller does the tasks itself instead of waiting for a
 * thread to be scheduled. Only one job runs at a time; a second caller does
 * its tasks inline.
 *
 * After a job started with pool_run_spin a worker first spins for up to
 * POOL_SPIN_NS watching the claim word and only then sleeps on the condition
 * variable; the caller likewise spins for its claimed tasks before it sleeps.
 * Only the generator's matrix-vector products ask for it (engine/quant.c);
 * after the training step's jobs (milliseconds each) the workers sleep at
 * once. Decoding runs its
 * matrix-vector products back to back (engine/gpt-kv.c's gpt_kv_append: four
 * per layer, tens of microseconds apart), and on the 2-vCPU virtual machine
 * the project is measured on, a sleeping thread's wake-up (a futex wake and
 * the halted vCPU's interrupt) cost about as much as a product's share of
 * the work, during which only the caller streamed weights; see README.md
 * (Performance). Once the spin runs out the pool behaves as before, so idle
 * workers cost nothing.
 *
 * A slot is rewritten two generations later. A worker reads a slot after
 * loading the claim word and only runs a task if its compare-and-swap finds
 * the same word, i.e. the generation has not moved on meanwhile, so the slot
 * it read was not being rewritten.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "pool.h"

/* How long a thread spins for the next job, or for claimed tasks, before it sleeps. */
#define POOL_SPIN_NS 100000LL

struct pool_job {
	_Atomic(pool_fn) fn;
	_Atomic(void *) arg;
	atomic_int ntasks;
	atomic_int done;     /* tasks finished */
};

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t pool_busy = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t pool_done = PTHREAD_COND_INITIALIZER;
static _Alignas(64) struct pool_job pool_jobs[2];
/*
 * Generation << 32 | next task index. Not on the jobs' cache line: spinning
 * workers read it while the counters there change.
 */
static _Alignas(64) _Atomic uint64_t pool_claim;
/* Whether the workers spin after the job last published (pool_run_spin). */
static _Atomic int pool_spin;
static int pool_nworkers;   /* started */
/* Threads including the caller; 0 = not set. Set once at start (the thread
 * budget) but read by every pool_run on any thread, hence atomic. */
static atomic_int pool_wanted;

/*
 * Claim and run tasks of the current generation until none is left; returns
 * that generation. (While a caller holds pool_busy no newer one can start.)
 */
static uint32_t
pool_drain(void)
{
	for (;;) {
		uint64_t w = atomic_load(&pool_claim);
		uint32_t g = (uint32_t)(w >> 32), t = (uint32_t)w;
		struct pool_job *job = &pool_jobs[g & 1];
		pool_fn fn = atomic_load(&job->fn);
		void *arg = atomic_load(&job->arg);
		int ntasks = atomic_load(&job->ntasks);

		if ((int)t >= ntasks)
			return g;
		if (!atomic_compare_exchange_weak(&pool_claim, &w, w + 1))
			continue;
		/* Task t of generation g is ours; the slot was read before the swap. */
		fn(arg, (int)t, ntasks);
		if (atomic_fetch_add(&job->done, 1) + 1 == ntasks) {
			pthread_mutex_lock(&pool_lock);
			pthread_cond_broadcast(&pool_done);
			pthread_mutex_unlock(&pool_lock);
		}
	}
}

/* Nanoseconds on the monotonic clock. */
static long long
pool_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A spin-wait hint (lets the other hardware thread run, saves power). */
static inline void
pool_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Spin until the generation is no longer `seen` (1) or POOL_SPIN_NS pass (0). */
static int
pool_spin_gen(uint32_t seen)
{
	long long t0 = 0;

	for (unsigned i = 0;; i++) {
		if ((uint32_t)(atomic_load_explicit(&pool_claim,
		    memory_order_acquire) >> 32) != seen)
			return 1;
		pool_pause();
		/* Read the clock now and then: it costs more than a pause. */
		if ((i & 63) == 0) {
			long long now = pool_now_ns();
			if (t0 == 0)
				t0 = now;
			else if (now - t0 > POOL_SPIN_NS)
				return 0;
		}
	}
}

/* Worker: wait for a new generation, run what is left of it, repeat. */
static void *
pool_worker(void *arg)
{
	uint32_t seen = (uint32_t)(uintptr_t)arg;

	for (;;) {
		if (atomic_load(&pool_spin) && pool_spin_gen(seen)) {
			seen = pool_drain();
			continue;
		}
		pthread_mutex_lock(&pool_lock);
		while ((uint32_t)(atomic_load(&pool_claim) >> 32) == seen)
			pthread_cond_wait(&pool_work, &pool_lock);
		pthread_mutex_unlock(&pool_lock);
		seen = pool_drain();
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
		uint32_t gen = (uint32_t)(atomic_load(&pool_claim) >> 32);

		if (pthread_create(&t, &attr, pool_worker, (void *)(uintptr_t)gen) != 0)
			break;
		pool_nworkers++;
	}
	pthread_attr_destroy(&attr);
}

/* Run tasks inline. */
static void
pool_inline(pool_fn fn, void *arg, int ntasks)
{
	for (int t = 0; t < ntasks; t++)
		fn(arg, t, ntasks);
}

/* Run a job across the pool; spin: pool_run_spin. */
static void
pool_job_run(pool_fn fn, void *arg, int ntasks, int spin)
{
	int threads = pool_threads();
	uint32_t gen;
	struct pool_job *job;

	if (threads <= 1 || ntasks <= 1 || pthread_mutex_trylock(&pool_busy) != 0) {
		pool_inline(fn, arg, ntasks);
		return;
	}
	pool_start(threads - 1);
	if (pool_nworkers == 0) {
		pthread_mutex_unlock(&pool_busy);
		pool_inline(fn, arg, ntasks);
		return;
	}
	/* Describe the job in the slot of the next generation, then publish it. */
	gen = (uint32_t)(atomic_load(&pool_claim) >> 32) + 1;
	job = &pool_jobs[gen & 1];
	atomic_store(&job->fn, fn);
	atomic_store(&job->arg, arg);
	atomic_store(&job->ntasks, ntasks);
	atomic_store(&job->done, 0);
	atomic_store(&pool_spin, spin);
	pthread_mutex_lock(&pool_lock);
	atomic_store(&pool_claim, (uint64_t)gen << 32);
	pthread_cond_broadcast(&pool_work);
	pthread_mutex_unlock(&pool_lock);
	pool_drain();
	/* Tasks other threads claimed may still run: wait for them to finish. */
	if (spin && atomic_load(&job->done) < ntasks) {
		long long t0 = pool_now_ns();
		for (unsigned i = 1; atomic_load(&job->done) < ntasks; i++) {
			pool_pause();
			if ((i & 63) == 0 && pool_now_ns() - t0 > POOL_SPIN_NS)
				break;
		}
	}
	if (atomic_load(&job->done) < ntasks) {
		pthread_mutex_lock(&pool_lock);
		while (atomic_load(&job->done) < ntasks)
			pthread_cond_wait(&pool_done, &pool_lock);
		pthread_mutex_unlock(&pool_lock);
	}
	pthread_mutex_unlock(&pool_busy);
}

/* Run a job across the pool. */
void
pool_run(pool_fn fn, void *arg, int ntasks)
{
	pool_job_run(fn, arg, ntasks, 0);
}

/* The same, the workers then spinning for the next job a while. */
void
pool_run_spin(pool_fn fn, void *arg, int ntasks)
{
	pool_job_run(fn, arg, ntasks, 1);
}

/* Near-equal split of [0, n). */
void
pool_range(long n, int task, int ntasks, long *start, long *end)
{
	*start = n * task / ntasks;
	*end = n * (task + 1) / ntasks;
}
