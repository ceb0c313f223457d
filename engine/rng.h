/* rng.h: small deterministic random number generator (xoshiro256** seeded by splitmix64). */
#ifndef SEQMATCH_RNG_H
#define SEQMATCH_RNG_H

#include <stdint.h>

struct rng {
	uint64_t s[4];
};

void rng_init(struct rng *r, uint64_t seed);
uint64_t rng_u64(struct rng *r);
/* Uniform in [0, 1). */
float rng_float(struct rng *r);
double rng_double(struct rng *r);
/* Uniform integer in [0, n). */
uint64_t rng_below(struct rng *r, uint64_t n);
/* Standard normal. */
float rng_normal(struct rng *r);

#endif
