/*
 * allreduce-bench.c: the time of the gradient allreduce that a data-parallel
 * step makes (engine/dist.c's dist_sum_float: one in-place MPI_Allreduce of
 * float32), for a block of GPT-2 124M's size by default, and the latency of a
 * one-float allreduce. Run under mpirun; rank 0 prints one JSON line:
 *
 *   mpirun -np 2 tests/bench/allreduce-bench [FLOATS [REPEATS]]
 *
 * algbw is bytes / time; busbw is 2(N-1)/N * bytes / time, the bandwidth
 * each rank's link carries in a ring allreduce (as nccl-tests reports it).
 * Built on demand: make tests/bench/allreduce-bench (configure --with-mpi).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "dist.h"
#include "util.h"

/* Sort doubles (for the median). */
static int
bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Time the allreduces; print the medians on rank 0. */
int
main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 124439808;
	int reps = argc > 2 ? atoi(argv[2]) : 5, lat_reps = 2000, N;
	double *t, lat, med, bytes;
	char *cause = NULL;
	float *x, one = 1;

	if (dist_init(&argc, &argv, &cause) != 0) {
		fprintf(stderr, "allreduce-bench: %s\n", cause);
		return 1;
	}
	N = dist_size();
	if (n == 0 || reps < 1 || (x = malloc(n * sizeof *x)) == NULL ||
	    (t = malloc((size_t)reps * sizeof *t)) == NULL) {
		fprintf(stderr, "allreduce-bench: bad arguments or out of memory\n");
		dist_abort(1);
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		x[i] = (float)(i % 1000) * 1e-3f;
	/* One warm-up call (first-touch, connection set-up), then the timed ones. */
	if (dist_sum_float(x, n, &cause) != 0)
		goto fail;
	for (int r = 0; r < reps; r++) {
		double t0;

		if (dist_barrier(&cause) != 0)
			goto fail;
		t0 = util_now();
		if (dist_sum_float(x, n, &cause) != 0)
			goto fail;
		t[r] = util_now() - t0;
	}
	if (dist_barrier(&cause) != 0)
		goto fail;
	lat = util_now();
	for (int r = 0; r < lat_reps; r++)
		if (dist_sum_float(&one, 1, &cause) != 0)
			goto fail;
	lat = (util_now() - lat) / lat_reps;
	/* Every rank's time is the same collective; rank 0's is reported. */
	qsort(t, (size_t)reps, sizeof *t, bench_cmp);
	med = t[reps / 2];
	bytes = (double)n * sizeof(float);
	if (dist_rank() == 0)
		printf("{\"ranks\": %d, \"floats\": %zu, \"bytes\": %.0f, \"repeats\": %d, "
		    "\"seconds_median\": %.6f, \"seconds_min\": %.6f, \"seconds_max\": %.6f, "
		    "\"algbw_GBps\": %.3f, \"busbw_GBps\": %.3f, \"latency_us\": %.2f, "
		    "\"mpi\": \"%s\"}\n", N, n, bytes, reps, med, t[0], t[reps - 1],
		    med > 0 ? bytes / med / 1e9 : 0,
		    med > 0 ? 2.0 * (N - 1) / N * bytes / med / 1e9 : 0, lat * 1e6,
		    dist_library());
	free(x);
	free(t);
	dist_finalize();
	return 0;
fail:
	fprintf(stderr, "allreduce-bench: %s\n", cause);
	dist_abort(1);
	return 1;
}
