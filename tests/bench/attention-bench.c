/*
 * attention-bench.c: one layer's masked attention, forward and backward, at
 * the 124M training step's shape (B = 8, T = 256, C = 768, 12 heads of 64),
 * through engine/headmm.c's kernels and through BLAS, alternating the two in
 * one process so that both see the same minutes of a shared machine:
 *
 *   tests/bench/attention-bench [ROUNDS [B T C NH]]
 *
 * (default 9 rounds; the first is a warm-up and not counted). Prints per path
 * the median milliseconds of the forward pass and of the backward pass, and
 * the rate in GFLOP/s as the training step counts attention: each of the six
 * products as a full T x T x HS, though headmm skips the masked half. Uses all
 * cores, as seqmatch does by default. Built on demand: make
 * tests/bench/attention-bench.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "cpu.h"
#include "headmm.h"
#include "kernels.h"
#include "pool.h"
#include "rng.h"
#include "util.h"

#define AB_MAX_ROUNDS 64

/* n floats uniform in [-0.5, 0.5), or exit. */
static float *
ab_floats(size_t n, struct rng *r)
{
	float *p = malloc(n * sizeof *p);

	if (p == NULL) {
		fprintf(stderr, "attention-bench: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++)
		p[i] = rng_float(r) - 0.5f;
	return p;
}

int
main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 9;
	int B = argc > 5 ? atoi(argv[2]) : 8, T = argc > 5 ? atoi(argv[3]) : 256;
	int C = argc > 5 ? atoi(argv[4]) : 768, NH = argc > 5 ? atoi(argv[5]) : 12;
	double fwd[2][AB_MAX_ROUNDS], bwd[2][AB_MAX_ROUNDS], flop;
	size_t nqkv, nout, natt;
	float *qkv, *dout, *out, *att, *dqkv, *scratch;
	uint8_t *mask;
	struct rng r;

	if (rounds < 2 || rounds > AB_MAX_ROUNDS || B < 1 || T < 1 || NH < 1 || C < NH ||
	    C % NH != 0) {
		fprintf(stderr, "usage: attention-bench [ROUNDS (2-%d) [B T C NH]]\n",
		    AB_MAX_ROUNDS);
		return 2;
	}
	cpu_set_threads(1); /* as the program runs: BLAS inside the pool (engine/sgemm.c) */
	pool_set_threads(cpu_count());
	rng_init(&r, 5);
	nqkv = (size_t)B * T * 3 * C;
	nout = (size_t)B * T * C;
	natt = (size_t)B * NH * T * T;
	qkv = ab_floats(nqkv, &r);
	dout = ab_floats(nout, &r);
	out = ab_floats(nout, &r);
	att = ab_floats(natt, &r);
	dqkv = ab_floats(nqkv, &r);
	scratch = ab_floats(2 * (size_t)T * T, &r);
	mask = malloc((size_t)B * T * T);
	if (mask == NULL || kernels_mask_build(mask, NULL, B, T) != 0) {
		fprintf(stderr, "attention-bench: out of memory\n");
		return 1;
	}
	for (int k = 0; k < rounds; k++)
		for (int e = 0; e < 2; e++) {
			/* Alternate which path goes first. */
			int on = k % 2 == 0 ? e : 1 - e;
			double t0, t1, t2;

			headmm_set_enabled(on);
			t0 = util_now();
			kernels_attention_forward(out, att, qkv, mask, B, T, C, NH);
			t1 = util_now();
			kernels_attention_backward_into(dqkv, scratch, 2, dout, qkv, att, mask,
			    B, T, C, NH);
			t2 = util_now();
			fwd[on][k] = t1 - t0;
			bwd[on][k] = t2 - t1;
		}
	flop = 2.0 * B * NH * (double)T * T * (C / NH);
	printf("attention B=%d T=%d C=%d NH=%d, %d threads, %d rounds after a warm-up; "
	    "headmm %s here\n", B, T, C, NH, pool_threads(), rounds - 1,
	    headmm_usable(C / NH) ? "usable" : "not usable (both rows are BLAS)");
	for (int on = 1; on >= 0; on--) {
		double f = bench_median(fwd[on] + 1, rounds - 1, NULL, NULL);
		double b = bench_median(bwd[on] + 1, rounds - 1, NULL, NULL);
		printf("%-6s forward %6.1f ms (%5.1f GFLOP/s)  backward %6.1f ms (%5.1f GFLOP/s)\n",
		    on ? "headmm" : "BLAS", 1e3 * f, 2 * flop / f / 1e9, 1e3 * b,
		    4 * flop / b / 1e9);
	}
	headmm_set_enabled(1);
	free(qkv); free(dout); free(out); free(att); free(dqkv); free(scratch); free(mask);
	return 0;
}
