/*
 * test-attend: one row's attention over cached slots (engine/attend.c), each
 * instruction set the CPU has (the others forced with attend_set_isa_limit)
 * against the double-precision reference, on head sizes and slot counts that
 * hit every tail: groups of four keys, pairs of values, 16- and 8-wide
 * blocks, chunk boundaries.
 */
#include "config.h"

#include <float.h>
#include <math.h>

#include "attend.h"
#include "cpu.h"
#include "rng.h"
#include "tap.h"
#include "util.h"

static const char *const isa_name[] = { "scalar", "avx2", "avx512" };

/*
 * A cache of n slots in chunks of `chunk`, each chunk's rows followed by a gap
 * of `gap` rows; the gaps and the slots past n hold NaN, so a kernel that
 * reads outside the slots it was given returns NaN.
 */
struct cache {
	float *k, *v;
	struct attend_cache c;
};

static void
cache_init(struct cache *x, struct rng *r, int n, int hs, int chunk, int gap,
    float kscale)
{
	int nch = (n + chunk - 1) / chunk;
	size_t stride = (size_t)(chunk + gap) * hs, total = stride * (size_t)nch;

	x->k = util_alloc(total * sizeof(float));
	x->v = util_alloc(total * sizeof(float));
	for (size_t i = 0; i < total; i++)
		x->k[i] = x->v[i] = NAN;
	for (int t = 0; t < n; t++)
		for (int j = 0; j < hs; j++) {
			size_t at = (size_t)(t / chunk) * stride + (size_t)(t % chunk) * hs + j;

			x->k[at] = kscale * (2 * rng_float(r) - 1);
			x->v[at] = 2 * rng_float(r) - 1;
		}
	x->c = (struct attend_cache){ x->k, x->v, stride, chunk, hs };
}

static void
cache_free(struct cache *x)
{
	util_free(x->k);
	util_free(x->v);
}

static float
max_diff(const float *a, const float *b, int n)
{
	float w = 0;

	for (int i = 0; i < n; i++)
		w = fabsf(a[i] - b[i]) > w || isnan(a[i] - b[i]) ? fabsf(a[i] - b[i]) : w;
	return w;
}

/*
 * Every shape against the reference under one cap. Keys and the query are
 * uniform in [-3, 3], so scores q.k/sqrt(hs) spread over several units and
 * the softmax is neither flat nor one-hot. A score's float rounding grows
 * like sqrt(hs) FLT_EPSILON times its terms; it moves each weight by that
 * relative amount, and the output, a convex combination of values in
 * [-1, 1], by about as much; exp adds a few ulps. Over these shapes every
 * kernel stayed within 1e-6 of the double-precision reference. The bound is
 * 1e-5: a dropped odd value row put the AVX-512 kernel off by up to 0.98,
 * and 1/5 for the 1/6 of exp's polynomial by 1.5e-4 (both tried).
 */
static void
test_shapes(enum attend_isa limit)
{
	static const int hss[] = { 8, 16, 20, 24, 48, 64, 80, 128 };
	static const int ns[] = { 1, 2, 3, 4, 5, 7, 15, 63, 64, 65, 130, 300 };
	static const int chunks[][2] = { { 64, 0 }, { 7, 3 } };
	struct rng r;
	float worst = 0, *q = util_alloc(128 * sizeof(float));
	float *out = util_alloc(128 * sizeof(float)), *ref = util_alloc(128 * sizeof(float));
	float *sc = util_alloc(300 * sizeof(float));
	int cases = 0, bad = 0, used[3] = { 0 };

	rng_init(&r, 1234 + (unsigned)limit);
	attend_set_isa_limit(limit);
	for (size_t a = 0; a < sizeof hss / sizeof hss[0]; a++)
		for (size_t b = 0; b < sizeof ns / sizeof ns[0]; b++)
			for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
				int hs = hss[a], n = ns[b];
				struct cache x;
				float d;

				cache_init(&x, &r, n, hs, chunks[c][0], chunks[c][1], 3);
				for (int j = 0; j < hs; j++)
					q[j] = 3 * (2 * rng_float(&r) - 1);
				attend_row(&x.c, q, n, sc, out);
				attend_ref(&x.c, q, n, ref);
				d = max_diff(out, ref, hs);
				used[attend_isa(hs)]++;
				cases++;
				if (!(d <= 1e-5f)) {
					if (bad++ < 5)
						tap_diag("hs %d, %d slots, chunks of %d: off by %g", hs,
						    n, chunks[c][0], d);
				} else if (d > worst)
					worst = d;
				cache_free(&x);
			}
	attend_set_isa_limit(ATTEND_ISA_AVX512);
	tap_ok(bad == 0, "cap %s: %d shapes within 1e-5 of the reference (worst %.1e; "
	    "kernels used: scalar %d, avx2 %d, avx512 %d)", isa_name[limit], cases, worst,
	    used[0], used[1], used[2]);
	util_free(q);
	util_free(out);
	util_free(ref);
	util_free(sc);
}

/* Properties that hold exactly, for every kernel the CPU has. */
static void
test_exact(enum attend_isa limit)
{
	struct rng r;
	struct cache x;
	int hs = 64, n = 70;
	float q[64], out[64], sc[70];
	int ok;

	rng_init(&r, 99);
	attend_set_isa_limit(limit);
	cache_init(&x, &r, n, hs, 64, 0, 1);
	for (int j = 0; j < hs; j++)
		q[j] = 2 * rng_float(&r) - 1;

	/* One slot: its weight is exp(0) / 1 = 1, so out is its value row. */
	attend_row(&x.c, q, 1, sc, out);
	tap_ok(memcmp(out, x.v, sizeof out) == 0, "cap %s: one slot gives its value row "
	    "exactly", isa_name[limit]);

	/*
	 * Slot 67 (chunk 1, row 3) gets a key along q scoring |q|^2 * 125 / 8,
	 * hundreds above the others: their weights vanish.
	 */
	for (int j = 0; j < hs; j++)
		x.k[x.c.stride + 3 * hs + j] = q[j] * 1000 / 8;
	attend_row(&x.c, q, n, sc, out);
	ok = 1;
	for (int j = 0; j < hs; j++)
		ok &= fabsf(out[j] - x.v[x.c.stride + 3 * hs + j]) <= 1e-6f;
	tap_ok(ok, "cap %s: a dominant score picks its slot's value row", isa_name[limit]);

	/* NaN in the query gives NaN, not a number that hides it. */
	q[5] = NAN;
	attend_row(&x.c, q, n, sc, out);
	ok = 1;
	for (int j = 0; j < hs; j++)
		ok &= isnan(out[j]);
	tap_ok(ok, "cap %s: a NaN query gives a NaN row", isa_name[limit]);
	attend_set_isa_limit(ATTEND_ISA_AVX512);
	cache_free(&x);
}

/* The cap and the head size choose the kernel. */
static void
test_choice(void)
{
	int has512 = cpu_has_avx512(), has2 = cpu_has_avx2_fma();

	attend_set_isa_limit(ATTEND_ISA_AVX512);
	tap_ok(attend_isa(64) == (has512 ? ATTEND_ISA_AVX512 : has2 ? ATTEND_ISA_AVX2 :
	    ATTEND_ISA_SCALAR), "uncapped, hs 64 uses the best kernel the CPU has (%s)",
	    isa_name[attend_isa(64)]);
	tap_ok(attend_isa(24) == (has2 ? ATTEND_ISA_AVX2 : ATTEND_ISA_SCALAR),
	    "hs 24 (not a multiple of 16) falls back to avx2 or scalar");
	tap_ok(attend_isa(20) == ATTEND_ISA_SCALAR, "hs 20 falls back to scalar");
	attend_set_isa_limit(ATTEND_ISA_AVX2);
	tap_ok(attend_isa(64) != ATTEND_ISA_AVX512, "the avx2 cap forces a non-AVX-512 kernel");
	attend_set_isa_limit(ATTEND_ISA_SCALAR);
	tap_ok(attend_isa(64) == ATTEND_ISA_SCALAR, "the scalar cap forces the scalar kernel");
	attend_set_isa_limit(ATTEND_ISA_AVX512);
}

int
main(void)
{
	test_choice();
	for (int l = ATTEND_ISA_SCALAR; l <= ATTEND_ISA_AVX512; l++) {
		test_shapes((enum attend_isa)l);
		test_exact((enum attend_isa)l);
	}
	return tap_done();
}
