/*
 * attend.h: one new row's attention over the cached keys and values of one
 * head, the decoding step of causal self-attention (softmax(q K^T / sqrt(HS))
 * V; Vaswani et al. 2017, eq. 1, as GPT-2 uses it).
 *
 * The cache holds its slots in chunks (engine/gpt-kv.c, struct gpt_kv): within a
 * chunk a head's rows are HS floats apart, and a chunk's first row is
 * `stride` floats after the previous chunk's.
 *
 * There are AVX-512 and AVX2 kernels (head sizes a multiple of 16 and 8) and a
 * scalar one; the best the CPU supports is used unless attend_set_isa_limit
 * caps it (the tests force the fallbacks that way). attend_ref is the naive
 * reference, in double precision, that the tests compare against.
 */
#ifndef SEQMATCH_ATTEND_H
#define SEQMATCH_ATTEND_H

#include <stddef.h>

/* Instruction sets, in increasing order; a limit caps the choice. */
enum attend_isa {
	ATTEND_ISA_SCALAR,
	ATTEND_ISA_AVX2,
	ATTEND_ISA_AVX512
};

/* One head's cached rows. */
struct attend_cache {
	const float *k;        /* slot 0's key row */
	const float *v;        /* slot 0's value row */
	size_t stride;         /* floats from a chunk's first row to the next chunk's */
	int chunk;             /* slots per chunk */
	int hs;                /* head size: floats per row */
};

/* Cap the instruction set used (ATTEND_ISA_AVX512: no cap). */
void attend_set_isa_limit(enum attend_isa limit);
/* The instruction set attend_row uses for head size hs, under the cap. */
enum attend_isa attend_isa(int hs);

/*
 * out (hs) = the softmax over slots 0..n-1 of q . k_t / sqrt(hs), applied to
 * the rows v_t. scores (n) is scratch. n >= 1.
 */
void attend_row(const struct attend_cache *c, const float *q, int n, float *scores,
    float *out);
/* The same, naively: scores in double, softmax, weighted sum in double. */
void attend_ref(const struct attend_cache *c, const float *q, int n, float *out);

#endif
