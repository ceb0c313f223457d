/*
 * kernels.h: the forward and backward kernels of the GPT-2 transformer.
 *
 * Dimension letters: B batch, T time, C channels, OC output channels, NH heads,
 * HS = C/NH head size, V vocabulary, Vp padded vocabulary, N = B*T rows.
 * Every kernel works on raw row-major float arrays whose shapes are given beside
 * each argument. Backward kernels accumulate (+=) into their gradient outputs,
 * except where a comment says otherwise.
 *
 * Each BLAS-backed kernel (kernels_*) has a naive reference (kernels_ref_*, in
 * kernels-ref.c) with the same contract, used by the tests.
 */
#ifndef SEQMATCH_KERNELS_H
#define SEQMATCH_KERNELS_H

#include <stdint.h>

/*
 * Hot elementwise loops (here and in engine/gpt.c) are compiled several times
 * and the best version for the CPU is picked when the program loads (no
 * -march=native needed).
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define KERNELS_CLONES \
	__attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define KERNELS_CLONES
#endif

/*
 * Attention mask from a parent array. parent (B,T): parent[b][i] is the input
 * position that i extends, or -1 for a root; a valid array has parent[i] < i.
 * mask (B,T,T): mask[b][i][j] = 1 iff j == i or j is an ancestor of i.
 * parent == NULL means the plain causal chain (parent[i] = i-1).
 * Returns -1 (mask untouched past the offending row) if some parent[i] >= i or < -1.
 */
int kernels_mask_build(uint8_t *mask, const int *parent, int B, int T);

/* out (B,T,C) = wte[inp] + wpe[pos]; inp, pos (B,T); wte (Vp,C); wpe (maxT,C). */
void kernels_encoder_forward(float *out, const int *inp, const int *pos,
    const float *wte, const float *wpe, int B, int T, int C);
void kernels_encoder_backward(float *dwte, float *dwpe, const float *dout,
    const int *inp, const int *pos, int B, int T, int C);

/* out (N,C), mean (N), rstd (N) = layernorm(inp (N,C)) * weight (C) + bias (C). */
void kernels_layernorm_forward(float *out, float *mean, float *rstd,
    const float *inp, const float *weight, const float *bias, int N, int C);
void kernels_layernorm_backward(float *dinp, float *dweight, float *dbias,
    const float *dout, const float *inp, const float *weight,
    const float *mean, const float *rstd, int N, int C);

/* out (N,OC) = inp (N,C) @ weight (OC,C)^T + bias (OC); bias may be NULL. */
void kernels_matmul_forward(float *out, const float *inp, const float *weight,
    const float *bias, int N, int C, int OC);
/* dinp (N,C) +=, dweight (OC,C) +=, dbias (OC) += (dbias may be NULL). */
void kernels_matmul_backward(float *dinp, float *dweight, float *dbias,
    const float *dout, const float *inp, const float *weight, int N, int C, int OC);
/* The same with dinp overwritten (=) instead of added to. */
void kernels_matmul_backward_into(float *dinp, float *dweight, float *dbias,
    const float *dout, const float *inp, const float *weight, int N, int C, int OC);

/*
 * Masked multi-head self-attention.
 * qkv (B,T,3C): per row the query, key and value, each (NH,HS).
 * mask (B,T,T) from kernels_mask_build: rows must be lower-triangular (only
 * j <= i is read). att (B,NH,T,T): softmax probabilities
 * (0 where masked), kept for backward. out (B,T,C).
 */
void kernels_attention_forward(float *out, float *att, const float *qkv,
    const uint8_t *mask, int B, int T, int C, int NH);
/*
 * dqkv (B,T,3C) +=; scratch (nscratch,T,T) is work space: with nscratch >=
 * pool_threads() the heads are shared among the pool's threads.
 */
void kernels_attention_backward(float *dqkv, float *scratch, int nscratch,
    const float *dout,
    const float *qkv, const float *att, const uint8_t *mask, int B, int T, int C, int NH);
/* The same with dqkv overwritten (=) instead of added to. */
void kernels_attention_backward_into(float *dqkv, float *scratch, int nscratch,
    const float *dout,
    const float *qkv, const float *att, const uint8_t *mask, int B, int T, int C, int NH);

/* GELU, tanh approximation (GPT-2): out (N) = gelu(inp (N)). */
void kernels_gelu_forward(float *out, const float *inp, int N);
/* dinp (N) += gelu'(inp) * dout; the _into form overwrites dinp. */
void kernels_gelu_backward(float *dinp, const float *inp, const float *dout, int N);
void kernels_gelu_backward_into(float *dinp, const float *inp, const float *dout, int N);

/* out (N) = a + b. */
void kernels_residual_forward(float *out, const float *a, const float *b, int N);
/* da += dout, db += dout. */
void kernels_residual_backward(float *da, float *db, const float *dout, int N);

/*
 * Softmax cross-entropy over the first V of Vp columns.
 * logits (N,Vp); targets (N), a negative target means "no loss here".
 * losses (N) = -log softmax(logits)[target] (0 where no target).
 * dlogits (N,Vp) is OVERWRITTEN with dloss * (softmax - onehot(target)) on rows
 * with a target and with 0 elsewhere (padded columns always 0). dlogits may
 * alias logits. Returns the sum of the losses (double).
 */
double kernels_crossentropy(float *losses, float *dlogits, const float *logits,
    const int *targets, float dloss, int N, int V, int Vp);

/* log(sum(exp(x))) over one row x (n), with max subtraction. */
double kernels_logsumexp(const float *x, int n);
/* d (n) += coef * softmax: coef * exp(x - lse). */
void kernels_add_softmax(float *d, const float *x, int n, double lse, float coef);

/* The tanh used by the GELU kernels (a rational approximation). */
float kernels_fast_tanh(float x);
/* The exp used by the softmax kernels (range reduction and a polynomial). */
float kernels_fast_exp(float x);

/* Naive references with the same contracts (kernels-ref.c). */
void kernels_ref_matmul_forward(float *out, const float *inp, const float *weight,
    const float *bias, int N, int C, int OC);
void kernels_ref_matmul_backward(float *dinp, float *dweight, float *dbias,
    const float *dout, const float *inp, const float *weight, int N, int C, int OC);
void kernels_ref_attention_forward(float *out, float *att, const float *qkv,
    const uint8_t *mask, int B, int T, int C, int NH);
void kernels_ref_attention_backward(float *dqkv, const float *dout,
    const float *qkv, const float *att, const uint8_t *mask, int B, int T, int C, int NH);
void kernels_ref_gelu_forward(float *out, const float *inp, int N);
void kernels_ref_gelu_backward(float *dinp, const float *inp, const float *dout, int N);
void kernels_ref_layernorm_forward(float *out, float *mean, float *rstd,
    const float *inp, const float *weight, const float *bias, int N, int C);
void kernels_ref_layernorm_backward(float *dinp, float *dweight, float *dbias,
    const float *dout, const float *inp, const float *weight,
    const float *mean, const float *rstd, int N, int C);
double kernels_ref_crossentropy(float *losses, float *dlogits, const float *logits,
    const int *targets, float dloss, int N, int V, int Vp);

#endif
