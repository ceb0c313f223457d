/*
 * bench.c: this machine's limits, for the roofline shown by `seqmatch bench`:
 * the best sgemm GFLOP/s on a linear-layer shape, and read bandwidth; and the
 * timed greedy decoding loop that `seqmatch bench` and tests/bench/decode-bench
 * share, in rounds each scored against the bandwidth measured beside it.
 *
 * Bandwidth is a sum over a buffer much larger than the caches, split across
 * threads, the best pass of two forms: a loop of eight independent 4-wide
 * vector accumulators (GCC vector extensions, plain SSE on x86-64), limited
 * by memory and not by the latency of one chain of additions, and a loop
 * that also prefetches ahead (BENCH_AHEAD); each thread's sum is stored where
 * the caller reads it so the loads cannot be optimised away.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
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
#include "pool.h"
#include "qweights.h"
#include "rng.h"
#include "sgemm.h"
#include "util.h"

/* Floats per iteration of the bandwidth loop: 8 accumulators of 4. */
#define BENCH_STRIDE 32

typedef float bench_v4 __attribute__((vector_size(16)));

/*
 * Bytes ahead that the second form of the bandwidth loop prefetches. On the
 * 2-vCPU Intel Xeon (AVX-512, AMX) the plain loop read 32.5-33.4 GB/s with
 * two threads, a loop of 64-byte loads that prefetches 38.0-39.2 (512 and
 * 2048 MB; 512-2048 bytes ahead all within 2 GB/s of each other, 4096 no
 * better than none; prefetching with 16- or 32-byte loads gained about half
 * as much): the hardware prefetcher alone left a sixth of the bandwidth
 * unused, so a bound measured with the plain loop alone flattered the kernels.
 */
#define BENCH_AHEAD 1024

/* Bytes a bandwidth pass reads at least (a smaller buffer is read again). */
#define BENCH_PASS_BYTES ((size_t)64 << 20)
/* The smallest buffer of a format's own size (bench_generate_rounds). */
#define BENCH_OWN_MIN ((size_t)64 << 10)

/* The forms of the bandwidth loop. */
enum bench_form {
	BENCH_PLAIN,      /* bench_sum's vectors, no prefetch */
	BENCH_AHEAD_V4,   /* the same, prefetching BENCH_AHEAD bytes ahead */
	BENCH_AHEAD_512   /* AVX-512 loads, prefetching (x86 with AVX-512F) */
};

/* One thread's share of the bandwidth buffer. */
struct bench_share {
	const float *p;      /* (n) */
	size_t n;            /* multiple of BENCH_STRIDE */
	enum bench_form form;
	int reps;            /* passes over p per measurement */
	float sum;
};

/* Best GFLOP/s of c = a b^T over `seconds`: sgemm_pool, or (blas) cblas_sgemm. */
static double
bench_sgemm_best(const float *a, const float *b, float *c, int M, int N, int K,
    double seconds, int blas)
{
	double best = 0, start, flops = 2.0 * M * N * K;

	start = util_now();
	do {
		double t0 = util_now(), dt;

		if (blas)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f,
			    a, K, b, K, 0.0f, c, N);
		else
			sgemm_pool(0, 1, M, N, K, 1.0f, a, K, b, K, 0.0f, c, N);
		dt = util_now() - t0;
		if (dt > 0 && flops / dt / 1e9 > best)
			best = flops / dt / 1e9;
	} while (util_now() - start < seconds);
	return best;
}

/* Best GFLOP/s of C (M,N) = A (M,K) B (N,K)^T; a negative value on failure. */
double
bench_sgemm_gflops(int M, int N, int K, double seconds, double *pool, double *blas)
{
	size_t na, nb, nc, bytes;
	float *a = NULL, *b = NULL, *c = NULL;
	double best = -1;
	int threads = pool_threads();
	struct rng rng;

	if (pool != NULL)
		*pool = 0;
	if (blas != NULL)
		*blas = 0;
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
	if (a == NULL || b == NULL || c == NULL)
		goto out;

	rng_init(&rng, 1);
	for (size_t i = 0; i < na; i++)
		a[i] = rng_float(&rng) - 0.5f;
	for (size_t i = 0; i < nb; i++)
		b[i] = rng_float(&rng) - 0.5f;

	/* Warm-up: first-touch of C, thread start-up, buffers. */
	sgemm_pool(0, 1, M, N, K, 1.0f, a, K, b, K, 0.0f, c, N);
	if (cpu_threads() == 1 && threads > 1) {
		/*
		 * OpenBLAS's own threads first: they spin for a while after their
		 * last call, and the pool's half outlasts that.
		 */
		double g;

		cpu_set_threads(threads);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f,
		    a, K, b, K, 0.0f, c, N);
		g = bench_sgemm_best(a, b, c, M, N, K, seconds / 2, 1);
		cpu_set_threads(1);
		best = bench_sgemm_best(a, b, c, M, N, K, seconds / 2, 0);
		if (pool != NULL)
			*pool = best;
		if (blas != NULL)
			*blas = g;
		if (g > best)
			best = g;
	} else {
		best = bench_sgemm_best(a, b, c, M, N, K, seconds, 0);
		if (pool != NULL)
			*pool = best;
	}

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

#ifdef BENCH_X86
/* The sum of p[0..n) in 64-byte loads, prefetching BENCH_AHEAD bytes ahead. */
__attribute__((target("avx512f"))) static float
bench_sum_ahead_512(const float *p, size_t n)
{
	__m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();

	for (size_t i = 0; i < n; i += BENCH_STRIDE) {
		/* Past the end this only names addresses: prefetches never fault. */
		const char *ahead = (const char *)((uintptr_t)(p + i) + BENCH_AHEAD);

		_mm_prefetch(ahead, _MM_HINT_T0);
		_mm_prefetch(ahead + 64, _MM_HINT_T0);
		a0 = _mm512_add_ps(a0, _mm512_loadu_ps(p + i));
		a1 = _mm512_add_ps(a1, _mm512_loadu_ps(p + i + 16));
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}
#endif

/*
 * The sum of p[0..n) with eight independent vector accumulators (kept in
 * registers), prefetching BENCH_AHEAD bytes ahead if `ahead` (a constant where
 * inlined, so the plain loop has no test in it; BENCH_STRIDE floats are two
 * 64-byte lines).
 */
static inline __attribute__((always_inline)) float
bench_sum_v4(const float *p, size_t n, int ahead)
{
	bench_v4 a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
	bench_v4 a4 = { 0 }, a5 = { 0 }, a6 = { 0 }, a7 = { 0 };
	float out = 0;

	for (size_t i = 0; i < n; i += BENCH_STRIDE) {
		if (ahead) {
			/* Past the end this only names addresses: prefetches never fault. */
			const char *pa = (const char *)((uintptr_t)(p + i) + BENCH_AHEAD);

			__builtin_prefetch(pa, 0, 3);
			__builtin_prefetch(pa + 64, 0, 3);
		}
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
	return out;
}

/* Sum one share in its form, reps times (a thread's body). */
static void *
bench_sum(void *arg)
{
	struct bench_share *s = arg;

	s->sum = 0;
	for (int r = 0; r < s->reps; r++)
		switch (s->form) {
		case BENCH_PLAIN:
			s->sum += bench_sum_v4(s->p, s->n, 0);
			break;
		case BENCH_AHEAD_V4:
			s->sum += bench_sum_v4(s->p, s->n, 1);
			break;
		case BENCH_AHEAD_512:
#ifdef BENCH_X86
			s->sum += bench_sum_ahead_512(s->p, s->n);
#else
			s->sum += bench_sum_v4(s->p, s->n, 1);
#endif
			break;
		}
	return NULL;
}

/* A filled buffer and its shares for repeated bandwidth measurements. */
struct bench_bw {
	float *buf;
	size_t n;                   /* floats, per * nt */
	int nt;
	struct bench_share *shares; /* (nt) */
	pthread_t *tids;            /* (nt) */
	int *started;               /* (nt) */
};

/* Free what bench_bw_init allocated (and forget it: freeing twice is harmless). */
static void
bench_bw_free(struct bench_bw *b)
{
	util_free(b->buf);
	free(b->shares);
	free(b->tids);
	free(b->started);
	memset(b, 0, sizeof *b);
}

/* Fill b: about `bytes` split over pool_threads() threads; -1 if out of memory. */
static int
bench_bw_init(struct bench_bw *b, size_t bytes)
{
	size_t per;

	memset(b, 0, sizeof *b);
	b->nt = pool_threads();
	per = bytes / sizeof(float) / (size_t)b->nt / BENCH_STRIDE * BENCH_STRIDE;
	if (per == 0)
		return -1;
	b->n = per * (size_t)b->nt;
	b->buf = util_alloc(b->n * sizeof *b->buf);
	b->shares = calloc((size_t)b->nt, sizeof *b->shares);
	b->tids = calloc((size_t)b->nt, sizeof *b->tids);
	b->started = calloc((size_t)b->nt, sizeof *b->started);
	if (b->buf == NULL || b->shares == NULL || b->tids == NULL || b->started == NULL) {
		bench_bw_free(b);
		return -1;
	}
	/* Non-zero data, and every page touched before timing. */
	for (size_t i = 0; i < b->n; i++)
		b->buf[i] = (float)(i & 7) * 0.125f;
	/* A small buffer is read several times a pass, or starting the threads is what is timed. */
	for (int t = 0; t < b->nt; t++) {
		b->shares[t].p = b->buf + (size_t)t * per;
		b->shares[t].n = per;
		b->shares[t].reps = (int)(BENCH_PASS_BYTES / (b->n * sizeof *b->buf)) + 1;
	}
	return 0;
}

/*
 * Best read bandwidth over b's buffer for about `seconds`, in GB/s: passes
 * alternate between the plain loop and the prefetching one (BENCH_AHEAD; with
 * AVX-512 loads where the CPU has them), so the bound is whichever reads
 * faster on this machine.
 */
static double
bench_bw_measure(struct bench_bw *b, double seconds)
{
	double best = 0, start = util_now();
	volatile float sink = 0;
	enum bench_form ahead = BENCH_AHEAD_V4;
	int pass = 0;

#ifdef BENCH_X86
	if (cpu_has_avx512())
		ahead = BENCH_AHEAD_512;
#endif
	do {
		double t0 = util_now(), dt, bytes;

		for (int t = 0; t < b->nt; t++)
			b->shares[t].form = pass % 2 == 0 ? BENCH_PLAIN : ahead;
		pass++;

		/* Thread 0's share runs here; a thread that fails to start too. */
		for (int t = 1; t < b->nt; t++)
			b->started[t] = pthread_create(&b->tids[t], NULL, bench_sum,
			    &b->shares[t]) == 0;
		bench_sum(&b->shares[0]);
		for (int t = 1; t < b->nt; t++) {
			if (b->started[t])
				pthread_join(b->tids[t], NULL);
			else
				bench_sum(&b->shares[t]);
		}
		dt = util_now() - t0;
		for (int t = 0; t < b->nt; t++)
			sink += b->shares[t].sum;
		bytes = (double)(b->n * sizeof *b->buf) * b->shares[0].reps;
		if (dt > 0 && bytes / dt / 1e9 > best)
			best = bytes / dt / 1e9;
	} while (util_now() - start < seconds || pass < 2);
	(void)sink;
	return best;
}

/* Best read bandwidth over `bytes` with pool_threads() threads; negative on failure. */
double
bench_bandwidth_gbs(size_t bytes, double seconds)
{
	struct bench_bw b;
	double best;

	if (bench_bw_init(&b, bytes) != 0)
		return -1;
	best = bench_bw_measure(&b, seconds);
	bench_bw_free(&b);
	return best;
}

/* qsort comparison of doubles. */
static int
bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of v[0..n) (n >= 1; sorts v in place); *min, *max if not NULL. */
double
bench_median(double *v, int n, double *min, double *max)
{
	qsort(v, (size_t)n, sizeof *v, bench_cmp);
	if (min != NULL)
		*min = v[0];
	if (max != NULL)
		*max = v[n - 1];
	return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
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

/*
 * Greedy decoding of `tokens` tokens after token 0 and `depth` context tokens
 * (fixed pseudo-random ids, prefilled in one append) with weights qw.
 */
int
bench_greedy(const struct gpt_model *m, const struct qweights *qw, int depth, int tokens,
    double *sec, double *prefill_sec, char **cause)
{
	const struct gpt_config *c = gpt_config(m);
	float *logits = util_alloc((size_t)c->padded_vocab_size * sizeof *logits);
	int *ctx = malloc((size_t)(depth > 0 ? depth : 1) * sizeof *ctx);
	struct gpt_kv *kv = NULL;
	int tok = 0, ret = -1;
	double t0;

	if (logits == NULL || ctx == NULL) {
		util_error(cause, "out of memory");
		goto out;
	}
	if (depth < 0 || tokens < 0 || 1 + depth + tokens > c->max_seq_len) {
		util_error(cause, "a context of %d and %d tokens do not fit %d positions",
		    depth, tokens, c->max_seq_len);
		goto out;
	}
	for (int i = 0; i < depth; i++)
		ctx[i] = (int)((uint32_t)(i + 1) * 2654435761u % (uint32_t)c->vocab_size);
	if ((kv = gpt_kv_new(m, c->max_seq_len, cause)) == NULL ||
	    gpt_kv_set_weights(kv, qweights_kv(qw), cause) != 0 ||
	    gpt_kv_append(m, kv, &tok, 1, cause) != 0)
		goto out;
	t0 = util_now();
	if (gpt_kv_append(m, kv, ctx, depth, cause) != 0)
		goto out;
	if (prefill_sec != NULL)
		*prefill_sec = util_now() - t0;
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
	free(ctx);
	return ret;
}

/*
 * Token i of bench_greedy's timed ones goes into slot 1 + depth + i and
 * attends over 2 + depth + i slots, each a key and a value row of C floats
 * per layer.
 */
double
bench_kv_bytes(const struct gpt_config *c, int depth, int tokens)
{
	double slots = 2 + depth + (tokens - 1) / 2.0;

	return tokens < 1 ? 0 : 2.0 * c->num_layers * c->channels * sizeof(float) * slots;
}

/*
 * Rounds of generation, each against the bandwidth measured on either side of
 * it; one buffer serves every measurement, filled once (filling 512 MB took
 * about 0.4 s of page faults per measurement when each made its own), and
 * with r->own one more per format, of its weights' size.
 */
int
bench_generate_rounds(const struct gpt_model *m, struct qweights *const *qw, int nf,
    const struct bench_gen *g, struct bench_gen_result *r, char **cause)
{
	struct bench_bw bw, *own = NULL;
	double before, after, kv = bench_kv_bytes(gpt_config(m), g->depth, g->per);
	int ret = -1, R = g->rounds;

	if (bench_bw_init(&bw, g->bw_bytes) != 0)
		return util_error(cause, "out of memory for the bandwidth buffer");
	if (r->own != NULL) {
		if ((own = calloc((size_t)nf, sizeof *own)) == NULL)
			goto oom;
		for (int f = 0; f < nf; f++) {
			size_t ob = qw[f] == NULL ? 0 : qweights_bytes(qw[f]);

			/* A tiny model's weights still get a buffer every thread can share. */
			if (qw[f] != NULL && bench_bw_init(&own[f], ob > BENCH_OWN_MIN ? ob :
			    BENCH_OWN_MIN) != 0)
				goto oom;
		}
	}
	before = bench_bw_measure(&bw, g->bw_seconds);
	for (int i = 0; i < R; i++) {
		for (int f = 0; f < nf; f++) {
			double sec, pre = 0;
			if (qw[f] == NULL) {
				r->rate[f * R + i] = 0;
				if (r->prefill != NULL)
					r->prefill[f * R + i] = 0;
				if (own != NULL)
					r->own[f * R + i] = r->frac_own[f * R + i] = 0;
				continue;
			}
			if (bench_greedy(m, qw[f], g->depth, g->per, &sec, &pre, cause) != 0)
				goto out;
			r->rate[f * R + i] = sec > 0 ? g->per / sec : 0;
			if (r->prefill != NULL)
				r->prefill[f * R + i] = pre > 0 ? g->depth / pre : 0;
			if (own != NULL) {
				double w = (double)qweights_bytes(qw[f]);

				r->own[f * R + i] = bench_bw_measure(&own[f], g->bw_seconds);
				r->frac_own[f * R + i] = r->rate[f * R + i] * w / 1e9 /
				    r->own[f * R + i];
			}
		}
		after = bench_bw_measure(&bw, g->bw_seconds);
		r->lim[i] = after > before ? after : before;
		for (int f = 0; f < nf; f++) {
			double w = qw[f] == NULL ? 0 : (double)qweights_bytes(qw[f]);

			r->frac[f * R + i] = r->rate[f * R + i] * w / 1e9 / r->lim[i];
			r->frac_kv[f * R + i] = qw[f] == NULL ? 0 :
			    r->rate[f * R + i] * (w + kv) / 1e9 / r->lim[i];
		}
		before = after;
	}
	ret = 0;
	goto out;
oom:
	util_error(cause, "out of memory for the bandwidth buffers");
out:
	for (int f = 0; own != NULL && f < nf; f++)
		bench_bw_free(&own[f]);
	free(own);
	bench_bw_free(&bw);
	return ret;
}
