/*
 * decode-bench.c: GPT-2 124M-shaped generation (random weights) per weight
 * format, as `seqmatch bench --generate-only` times it (app/cmd-bench.c:
 * engine/bench.c's greedy decoding, rounds that alternate the formats, the
 * median round), without the rest of that
 * command, so that a change to the kernels or the pool can be tried in a
 * few seconds, each round against the read bandwidth measured on either
 * side of it (engine/bench.c's bench_generate_rounds, the bound's denominator):
 *
 *   tests/bench/decode-bench [TOKENS [ROUNDS [FORMATS [DEPTH]]]]
 *
 * (defaults 64 tokens, 5 rounds, "fp32,bf16,q8", depth 0: each round's
 * tokens follow DEPTH tokens of context, as `seqmatch bench --depth`).
 * Prints per format the median tokens/s and the median and range of the
 * rounds' fractions of their bounds (the weights' bytes; with a depth, also
 * the median with the cache's bytes added). With one format, `perf record` profiles that format's decoding
 * beside the bandwidth measurements (bench_sum, and the filling of their
 * one buffer, under their own symbols). Built on demand: make
 * tests/bench/decode-bench.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cpu.h"
#include "gpt.h"
#include "pool.h"
#include "quant.h"
#include "qweights.h"
#include "util.h"

#define DB_MAX_ROUNDS 32

int
main(int argc, char **argv)
{
	struct gpt_config cfg = { 1024, 50257, 50304, 12, 12, 768 };
	int tokens = argc > 1 ? atoi(argv[1]) : 64;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	const char *formats = argc > 3 ? argv[3] : "fp32,bf16,q8";
	int depth = argc > 4 ? atoi(argv[4]) : 0;
	int run[QUANT_NUM_FORMATS];
	struct qweights *qw[QUANT_NUM_FORMATS];
	double rate[QUANT_NUM_FORMATS * DB_MAX_ROUNDS], frac[QUANT_NUM_FORMATS * DB_MAX_ROUNDS];
	double frac_kv[QUANT_NUM_FORMATS * DB_MAX_ROUNDS];
	double lim[DB_MAX_ROUNDS], med[QUANT_NUM_FORMATS] = { 0 };
	struct bench_gen g = { 0, 0, 0, (size_t)512 << 20, 0.5 };
	struct bench_gen_result res = { rate, frac, frac_kv, lim, NULL, NULL, NULL };
	double bw, bw_min, bw_max, rmin, rmax, fmed, fmin, fmax;
	struct gpt_model *m;
	char *cause = NULL;
	int per;

	if (rounds < 1 || rounds > DB_MAX_ROUNDS || tokens < rounds || depth < 0) {
		fprintf(stderr, "usage: decode-bench [TOKENS [ROUNDS <= %d [FORMATS "
		    "[DEPTH]]]]\n", DB_MAX_ROUNDS);
		return 2;
	}
	per = tokens / rounds;
	g = (struct bench_gen){ depth, per, rounds, (size_t)512 << 20, 0.5 };
	/* As app/main.c does: the pool's thread count set once (not read per product). */
	cpu_set_threads(1); /* as the program runs: BLAS inside the pool (engine/sgemm.c) */
	pool_set_threads(cpu_count());
	for (int f = 0; f < QUANT_NUM_FORMATS; f++) {
		const char *name = quant_format_name((enum quant_format)f), *p = formats;
		size_t n = strlen(name);

		/* name as an item of the comma-separated list */
		run[f] = 0;
		while ((p = strstr(p, name)) != NULL) {
			if ((p == formats || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
				run[f] = 1;
			p += n;
		}
	}
	if ((m = gpt_new(&cfg, &cause)) == NULL) {
		fprintf(stderr, "decode-bench: %s\n", cause);
		return 1;
	}
	gpt_init_random(m, 42);
	for (int f = 0; f < QUANT_NUM_FORMATS; f++)
		if ((qw[f] = qweights_new(m, (enum quant_format)f, &cause)) == NULL) {
			fprintf(stderr, "decode-bench: %s\n", cause);
			return 1;
		}
	for (int f = 0; f < QUANT_NUM_FORMATS; f++)
		if (!run[f]) {
			qweights_free(qw[f]);
			qw[f] = NULL;
		}
	if (bench_generate_rounds(m, qw, QUANT_NUM_FORMATS, &g, &res, &cause) != 0) {
		fprintf(stderr, "decode-bench: %s\n", cause);
		return 1;
	}
	bw = bench_median(lim, rounds, &bw_min, &bw_max);
	printf("rounds' bandwidth %.1f GB/s (%.1f-%.1f); pool threads %d; kernels bf16 %s, "
	    "q8 %s\n", bw, bw_min, bw_max, pool_threads(),
	    quant_kernel_name(QUANT_BF16), quant_kernel_name(QUANT_Q8));
	for (int f = 0; f < QUANT_NUM_FORMATS; f++) {
		if (!run[f])
			continue;
		/* fp32 (f = 0) first: the others' ratio uses its median. */
		med[f] = bench_median(rate + f * rounds, rounds, &rmin, &rmax);
		fmed = bench_median(frac + f * rounds, rounds, &fmin, &fmax);
		printf("%-4s %7.1f tokens/s (min %.1f, max %.1f) = %.2fx fp32, %.0f%% of bound "
		    "(rounds %.0f-%.0f%%)", quant_format_name((enum quant_format)f),
		    med[f], rmin, rmax, run[QUANT_FP32] ? med[f] / med[QUANT_FP32] : 0,
		    100 * fmed, 100 * fmin, 100 * fmax);
		if (depth > 0)
			printf(", %.0f%% with the cache's %.1f MB a token", 100 *
			    bench_median(frac_kv + f * rounds, rounds, NULL, NULL),
			    bench_kv_bytes(&cfg, depth, per) / 1e6);
		printf("\n");
	}
	for (int f = 0; f < QUANT_NUM_FORMATS; f++)
		qweights_free(qw[f]);
	gpt_free(m);
	return 0;
}
