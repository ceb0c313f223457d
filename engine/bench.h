/* bench.h: measurements of this machine's limits: sgemm GFLOP/s and memory bandwidth. */
#ifndef SEQMATCH_BENCH_H
#define SEQMATCH_BENCH_H

/*
 * Best GFLOP/s of cblas_sgemm over repetitions on an (M,K) x (K,N) product in
 * row-major NoTrans/Trans form (the forward shape of a linear layer), running
 * for about `seconds`.
 */
double bench_sgemm_gflops(int M, int N, int K, double seconds);
/*
 * Best read bandwidth in GB/s (1e9 bytes/s) streaming a buffer of `bytes`
 * with the BLAS thread count's worth of threads, for about `seconds`.
 */
double bench_bandwidth_gbs(size_t bytes, double seconds);

#endif
