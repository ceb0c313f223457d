/*
 * bench.c: this machine's limits, for the roofline shown by `seqmatch bench`:
 * the best sgemm GFLOP/s on a linear-layer shape, and read bandwidth.
 *
 * Bandwidth is a sum over a buffer much larger than the caches, split across
 * threads. The loop keeps eight independent 4-wide vector accumulators (GCC
 * vector extensions, plain SSE on x86-64) so it is limited by memory and not
 * by the latency of one chain of additions; each thread's sum is stored where
 * the caller reads it so the loads cannot be optimised away.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "bench.h"
#include "cpu.h"
#include "rng.h"
#include "util.h"

/* Floats per iteration of the bandwidth loop: 8 accumulators of 4. */
#define BENCH_STRIDE 32

typedef float bench_v4 __attribute__((vector_size(16)));

/* One thread's share of the bandwidth buffer. */
struct bench_share {
	const float *p; /* (n) */
	size_t n;       /* multiple of BENCH_STRIDE */
	float sum;
};

/* Best GFLOP/s of C (M,N) = A (M,K) B (N,K)^T; a negative value on failure. */
double
bench_sgemm_gflops(int M, int N, int K, double seconds)
{
	size_t na, nb, nc, bytes;
	float *a = NULL, *b = NULL, *c = NULL;
	double best = 0, start, flops;
	struct rng rng;

	if (M <= 0 || N <= 0 || K <= 0)
		return -1;
	if (util_mul((size_t)M, (size_t)K, &na) != 0 ||
	    util_mul((size_t)N, (size_t)K, &nb) != 0 ||
	    util_mul((size_t)M, (size_t)N, &nc) != 0)
		return -1;
	if (util_mul(na, sizeof *a, &bytes) == 0)
		a = util_alloc(bytes);
	if (util_mul(nb, sizeof *b, &bytes) == 0)
		b = util_alloc(bytes);
	if (util_mul(nc, sizeof *c, &bytes) == 0)
		c = util_alloc(bytes);
	if (a == NULL || b == NULL || c == NULL) {
		best = -1;
		goto out;
	}

	rng_init(&rng, 1);
	for (size_t i = 0; i < na; i++)
		a[i] = rng_float(&rng) - 0.5f;
	for (size_t i = 0; i < nb; i++)
		b[i] = rng_float(&rng) - 0.5f;

	/* Warm-up: first-touch of C, BLAS thread start-up, buffers. */
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f,
	    a, K, b, K, 0.0f, c, N);

	flops = 2.0 * M * N * K;
	start = util_now();
	do {
		double t0 = util_now(), dt;

		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f,
		    a, K, b, K, 0.0f, c, N);
		dt = util_now() - t0;
		if (dt > 0 && flops / dt / 1e9 > best)
			best = flops / dt / 1e9;
	} while (util_now() - start < seconds);

out:
	util_free(a);
	util_free(b);
	util_free(c);
	return best;
}

/* Load 4 floats (any alignment). */
static inline bench_v4
bench_load(const float *p)
{
	bench_v4 v;

	memcpy(&v, p, sizeof v);
	return v;
}

/* Sum one share with eight independent vector accumulators (kept in registers). */
static void *
bench_sum(void *arg)
{
	struct bench_share *s = arg;
	const float *p = s->p;
	bench_v4 a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
	bench_v4 a4 = { 0 }, a5 = { 0 }, a6 = { 0 }, a7 = { 0 };
	float out = 0;

	for (size_t i = 0; i < s->n; i += BENCH_STRIDE) {
		a0 += bench_load(p + i);
		a1 += bench_load(p + i + 4);
		a2 += bench_load(p + i + 8);
		a3 += bench_load(p + i + 12);
		a4 += bench_load(p + i + 16);
		a5 += bench_load(p + i + 20);
		a6 += bench_load(p + i + 24);
		a7 += bench_load(p + i + 28);
	}
	a0 += a1 + a2 + a3 + a4 + a5 + a6 + a7;
	for (int j = 0; j < 4; j++)
		out += a0[j];
	s->sum = out;
	return NULL;
}

/* Best read bandwidth over `bytes` with cpu_threads() threads; negative on failure. */
double
bench_bandwidth_gbs(size_t bytes, double seconds)
{
	int nt = cpu_threads();
	size_t n, per;
	float *buf;
	struct bench_share *shares;
	pthread_t *tids;
	int *started;
	double best = 0, start;
	volatile float sink = 0;

	if (nt < 1)
		nt = 1;
	n = bytes / sizeof(float);
	per = n / (size_t)nt / BENCH_STRIDE * BENCH_STRIDE;
	if (per == 0)
		return -1;
	n = per * (size_t)nt;

	buf = util_alloc(n * sizeof *buf);
	shares = calloc((size_t)nt, sizeof *shares);
	tids = calloc((size_t)nt, sizeof *tids);
	started = calloc((size_t)nt, sizeof *started);
	if (buf == NULL || shares == NULL || tids == NULL || started == NULL) {
		best = -1;
		goto out;
	}
	/* Non-zero data, and every page touched before timing. */
	for (size_t i = 0; i < n; i++)
		buf[i] = (float)(i & 7) * 0.125f;
	for (int t = 0; t < nt; t++) {
		shares[t].p = buf + (size_t)t * per;
		shares[t].n = per;
	}

	start = util_now();
	do {
		double t0 = util_now(), dt;

		/* Thread 0's share runs here; a thread that fails to start too. */
		for (int t = 1; t < nt; t++)
			started[t] = pthread_create(&tids[t], NULL, bench_sum,
			    &shares[t]) == 0;
		bench_sum(&shares[0]);
		for (int t = 1; t < nt; t++) {
			if (started[t])
				pthread_join(tids[t], NULL);
			else
				bench_sum(&shares[t]);
		}
		dt = util_now() - t0;
		for (int t = 0; t < nt; t++)
			sink += shares[t].sum;
		if (dt > 0 && (double)(n * sizeof *buf) / dt / 1e9 > best)
			best = (double)(n * sizeof *buf) / dt / 1e9;
	} while (util_now() - start < seconds);
	(void)sink;

out:
	util_free(buf);
	free(shares);
	free(tids);
	free(started);
	return best;
}
