/* bench.h: measurements of this machine's limits: sgemm GFLOP/s and memory bandwidth. */
#ifndef SEQMATCH_BENCH_H
#define SEQMATCH_BENCH_H

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
 * with pool_threads() threads, for about `seconds`.
 */
double bench_bandwidth_gbs(size_t bytes, double seconds);

/* The median of v[0..n) (n >= 1; sorts v in place); *min, *max if not NULL. */
double bench_median(double *v, int n, double *min, double *max);

struct gpt_model;
struct qweights;
/* The first index of the largest of x[0..n) (n >= 1, finite values). */
int bench_argmax(const float *x, int n);
/*
 * Greedy decoding of `tokens` tokens after token 0, through the KV cache with
 * weights qw, from an empty context: *sec gets the seconds the tokens took
 * (not the cache's set-up). -1 with a message on failure.
 */
int bench_greedy(const struct gpt_model *m, const struct qweights *qw, int tokens,
    double *sec, char **cause);

/*
 * Generation against a bound measured beside it: `rounds` rounds, each
 * decoding `per` tokens (bench_greedy) with every qw[f] (f < nf; a NULL
 * qw[f] is skipped) in turn, and the read bandwidth measured (over
 * `bw_bytes` for `bw_seconds`) before the first round and after every round.
 * Round r's limit lim[r] is the larger of the two figures on either side of
 * it, so a round is never scored against a slower minute than the one
 * measured around it. rate[f * rounds + r] gets format f's tokens/s in round
 * r and frac[f * rounds + r] the fraction of its bound, tokens/s x
 * qweights_bytes / lim[r]. -1 with a message on failure.
 */
int bench_generate_rounds(const struct gpt_model *m, struct qweights *const *qw, int nf,
    int per, int rounds, size_t bw_bytes, double bw_seconds, double *rate, double *frac,
    double *lim, char **cause);

#endif
