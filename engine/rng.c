/* rng.c: xoshiro256** seeded with splitmix64 (reproducible across platforms). */
#include "config.h"

#include <math.h>

#include "rng.h"

/* One splitmix64 step. */
static uint64_t
rng_splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Seed the state. */
void
rng_init(struct rng *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = rng_splitmix(&x);
}

/* Rotate left. */
static uint64_t
rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* Next 64 random bits. */
uint64_t
rng_u64(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rng_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rng_rotl(s[3], 45);
	return result;
}

/* Uniform float in [0, 1) from 24 bits. */
float
rng_float(struct rng *r)
{
	return (float)(rng_u64(r) >> 40) * (1.0f / 16777216.0f);
}

/* Uniform double in [0, 1) from 53 bits. */
double
rng_double(struct rng *r)
{
	return (double)(rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform integer below n (Lemire's multiply-shift, rejection for exactness). */
uint64_t
rng_below(struct rng *r, uint64_t n)
{
	if (n <= 1)
		return 0;
	uint64_t threshold = -n % n;
	for (;;) {
		__uint128_t m = (__uint128_t)rng_u64(r) * n;
		if ((uint64_t)m >= threshold)
			return (uint64_t)(m >> 64);
	}
}

/* Standard normal by Box-Muller. */
float
rng_normal(struct rng *r)
{
	double u1 = rng_double(r), u2 = rng_double(r);
	if (u1 < 1e-300)
		u1 = 1e-300;
	return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}
