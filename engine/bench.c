/*
 * bench.c: this machine's limits, for the roofline shown by `seqmatch bench`:
 * the best sgemm GFLOP/s on a linear-layer shape, and read bandwidth; and the
 * timed greedy decoding loop that `seqmatch bench` and tests/bench/decode-bench
 * share, in rounds each scored against the bandwidth measured beside it.
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

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define BENCH_X86 1
#endif

#include "bench.h"
#include "cpu.h"
#include "gpt.h"
#include "qweights.h"
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

/* The first index of the largest of x[0..n) (finite values), one element at a time. */
static int
bench_argmax_scalar(const float *x, int n)
{
	int best = 0;

	for (int v = 1; v < n; v++)
		if (x[v] > x[best])
			best = v;
	return best;
}

#ifdef BENCH_X86
/*
 * The same index with AVX2: the maximum over eight lanes in four registers,
 * then the first element equal to it. The scalar loop took about 0.22 ms of a
 * 124M q8 token (50257 logits), time the bandwidth bound does not count.
 */
__attribute__((target("avx2"))) static int
bench_argmax_avx2(const float *x, int n)
{
	__m256 m0 = _mm256_set1_ps(x[0]), m1 = m0, m2 = m0, m3 = m0, v;
	float lanes[8], mx;
	int i = 0;

	for (; i + 32 <= n; i += 32) {
		m0 = _mm256_max_ps(m0, _mm256_loadu_ps(x + i));
		m1 = _mm256_max_ps(m1, _mm256_loadu_ps(x + i + 8));
		m2 = _mm256_max_ps(m2, _mm256_loadu_ps(x + i + 16));
		m3 = _mm256_max_ps(m3, _mm256_loadu_ps(x + i + 24));
	}
	_mm256_storeu_ps(lanes, _mm256_max_ps(_mm256_max_ps(m0, m1), _mm256_max_ps(m2, m3)));
	mx = lanes[0];
	for (int k = 1; k < 8; k++)
		if (lanes[k] > mx)
			mx = lanes[k];
	for (; i < n; i++)
		if (x[i] > mx)
			mx = x[i];
	v = _mm256_set1_ps(mx);
	for (i = 0; i + 8 <= n; i += 8) {
		int hit = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + i), v, _CMP_EQ_OQ));
		if (hit != 0)
			return i + __builtin_ctz((unsigned)hit);
	}
	for (; i < n; i++)
		if (x[i] == mx)
			return i;
	return 0;
}
#endif

/* The first index of the largest of x[0..n) (n >= 1, finite values). */
int
bench_argmax(const float *x, int n)
{
#ifdef BENCH_X86
	if (cpu_has_avx2_fma())
		return bench_argmax_avx2(x, n);
#endif
	return bench_argmax_scalar(x, n);
}

/* Greedy decoding of `tokens` tokens after token 0 with weights qw: seconds taken. */
int
bench_greedy(const struct gpt_model *m, const struct qweights *qw, int tokens,
    double *sec, char **cause)
{
	const struct gpt_config *c = gpt_config(m);
	float *logits = util_alloc((size_t)c->padded_vocab_size * sizeof *logits);
	struct gpt_kv *kv = NULL;
	int tok = 0, ret = -1;
	double t0;

	if (logits == NULL) {
		util_error(cause, "out of memory");
		goto out;
	}
	if ((kv = gpt_kv_new(m, c->max_seq_len, cause)) == NULL ||
	    gpt_kv_set_weights(kv, qweights_kv(qw), cause) != 0 ||
	    gpt_kv_append(m, kv, &tok, 1, cause) != 0)
		goto out;
	t0 = util_now();
	for (int i = 0; i < tokens; i++) {
		gpt_kv_logits(m, kv, gpt_kv_len(kv) - 1, logits);
		tok = bench_argmax(logits, c->vocab_size);
		if (gpt_kv_append(m, kv, &tok, 1, cause) != 0)
			goto out;
	}
	*sec = util_now() - t0;
	ret = 0;
out:
	gpt_kv_free(kv);
	util_free(logits);
	return ret;
}

/* Rounds of generation, each against the bandwidth measured on either side of it. */
int
bench_generate_rounds(const struct gpt_model *m, struct qweights *const *qw, int nf,
    int per, int rounds, size_t bw_bytes, double bw_seconds, double *rate, double *frac,
    double *lim, char **cause)
{
	double before = bench_bandwidth_gbs(bw_bytes, bw_seconds), after;

	if (before <= 0)
		return util_error(cause, "out of memory for the bandwidth buffer");
	for (int r = 0; r < rounds; r++) {
		for (int f = 0; f < nf; f++) {
			double sec;
			if (qw[f] == NULL) {
				rate[f * rounds + r] = 0;
				continue;
			}
			if (bench_greedy(m, qw[f], per, &sec, cause) != 0)
				return -1;
			rate[f * rounds + r] = sec > 0 ? per / sec : 0;
		}
		after = bench_bandwidth_gbs(bw_bytes, bw_seconds);
		if (after <= 0)
			return util_error(cause, "out of memory for the bandwidth buffer");
		lim[r] = after > before ? after : before;
		for (int f = 0; f < nf; f++)
			frac[f * rounds + r] = qw[f] == NULL ? 0 : rate[f * rounds + r] *
			    (double)qweights_bytes(qw[f]) / 1e9 / lim[r];
		before = after;
	}
	return 0;
}
