/* bench.h: measurements of this machine's limits: sgemm GFLOP/s and memory bandwidth. */
#ifndef SEQMATCH_BENCH_H
#define SEQMATCH_BENCH_H

#include <stddef.h>

/*
 * Best GFLOP/s over repetitions of an (M,K) x (K,N) product in row-major
 * NoTrans/Trans form (the forward shape of a linear layer), running for about
 * `seconds`. With OpenBLAS on one thread and a pool of several (the program's
 * setting), half the time goes to sgemm_pool and half to OpenBLAS on its own
 * threads, and the better is returned: the peak is the faster of the two
 * ways. *pool and *blas (if not NULL) get each way's rate (0: not measured).
 * The second half changes OpenBLAS's thread count: call this only while no
 * other thread can be inside BLAS.
 */
double bench_sgemm_gflops(int M, int N, int K, double seconds, double *pool,
    double *blas);
/*
 * Best read bandwidth in GB/s (1e9 bytes/s) streaming a buffer of `bytes`
 * with pool_threads() threads, for about `seconds`: the better of a plain
 * summing loop and one that also prefetches ahead (engine/bench.c).
 */
double bench_bandwidth_gbs(size_t bytes, double seconds);

/* The median of v[0..n) (n >= 1; sorts v in place); *min, *max if not NULL. */
double bench_median(double *v, int n, double *min, double *max);

struct gpt_config;
struct gpt_model;
struct qweights;
/* The first index of the largest of x[0..n) (n >= 1, finite values). */
int bench_argmax(const float *x, int n);
/*
 * Greedy decoding of `tokens` tokens through the KV cache with weights qw,
 * after token 0 and `depth` tokens of context (fixed pseudo-random ids,
 * prefilled in one append; as llama-bench's --n-depth): *sec gets the
 * seconds the `tokens` took (not the cache's set-up or the prefill), and
 * *prefill_sec (if not NULL) those of the prefill. -1 with a message on
 * failure, or when 1 + depth + tokens exceed the context.
 */
int bench_greedy(const struct gpt_model *m, const struct qweights *qw, int depth,
    int tokens, double *sec, double *prefill_sec, char **cause);
/*
 * The mean bytes of cached keys and values (fp32 whatever the weights' format)
 * that bench_greedy's timed tokens read, per token: attention reads every
 * cached slot's rows once per layer. The weights' bytes are
 * qweights_bytes.
 */
double bench_kv_bytes(const struct gpt_config *c, int depth, int tokens);

/* A generation measurement: rounds of `per` greedy tokens after `depth`. */
struct bench_gen {
	int depth, per, rounds;
	size_t bw_bytes;    /* the bandwidth buffer */
	double bw_seconds;  /* each bandwidth measurement */
};

/* Per format f and round r, at [f * rounds + r] (lim: per round). */
struct bench_gen_result {
	double *rate;       /* tokens/s */
	double *frac;       /* of the bound for the weights' bytes */
	double *frac_kv;    /* of the bound for the weights' and the cache's bytes */
	double *lim;        /* the round's bandwidth, GB/s */
	double *prefill;    /* the context's prefill, tokens/s (0 at depth 0); may be NULL */
	/* May be NULL: a read of a buffer of the format's own bytes after its round, GB/s, */
	double *own;
	double *frac_own;   /* and the round's fraction of that */
};

/*
 * Generation against a bound measured beside it: g->rounds rounds, each
 * decoding g->per tokens after g->depth (bench_greedy) with every qw[f]
 * (f < nf; a NULL qw[f] is skipped, its figures 0) in turn, and the read
 * bandwidth measured before the first round and after every round. Round
 * r's limit lim[r] is the larger of the two figures on either side of it, so
 * a round is never scored against a slower minute than the one measured
 * around it. frac is tokens/s x qweights_bytes / lim, the bound the targets
 * are judged by; frac_kv adds bench_kv_bytes to the bytes. With own, each
 * format's round is also scored against a read of a buffer of its own
 * weights' size, measured just after it: on a machine whose cache holds a
 * good part of a small format's weights that read is faster than memory's,
 * and a fraction of the memory bound can pass 100%. -1 with a message on
 * failure.
 */
int bench_generate_rounds(const struct gpt_model *m, struct qweights *const *qw, int nf,
    const struct bench_gen *g, struct bench_gen_result *r, char **cause);

#endif
