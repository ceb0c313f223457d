/*
 * quant.h: weight formats for generation (fp32, bf16, 8-bit groups) and their
 * matrix-vector kernels.
 *
 * Dimension letters: R rows (output channels) and K columns (input channels)
 * of a row-major weight matrix W (R,K); n input rows; G = QUANT_GROUP.
 *
 * - fp32: W as it is (borrowed, not copied); input rows through the kernels
 *   below (the pool's threads, as the other formats), or several of them
 *   through sgemm_pool (engine/sgemm.c) from 80 rows or when W is small
 *   (engine/quant.c, quant_gemm).
 * - bf16: the top 16 bits of each fp32 weight, rounded to nearest even;
 *   from 80 input rows widened to fp32 a panel of rows at a time for
 *   sgemm_pool.
 * - q8: per row, groups of G consecutive weights share one float scale d =
 *   max|w| / 127 and hold q = round(w / d) in [-127, 127] (the layout of
 *   llama.cpp's Q8_0, with scales and bytes in separate arrays). Rows are
 *   padded with zeros to Kp = K rounded up to G. The input vector is quantized
 *   the same way per group, so a product is sum over groups of
 *   dw * dx * (integer dot product of 32 bytes).
 *
 * Each format has AVX-512 kernels (vpdpbusd for q8; for bf16 a widening FMA
 * kernel and one with vdpbf16ps, see quant_set_bf16_dot), an AVX2 kernel and a
 * scalar one; the best one the CPU supports is used unless
 * quant_set_isa_limit caps it (the tests force the fallbacks that way). The
 * naive references (quant-ref.c) share the contracts and are what the tests
 * compare against.
 */
#ifndef SEQMATCH_QUANT_H
#define SEQMATCH_QUANT_H

#include <stddef.h>
#include <stdint.h>

#define QUANT_GROUP 32

enum quant_format {
	QUANT_FP32,
	QUANT_BF16,
	QUANT_Q8
};
#define QUANT_NUM_FORMATS 3

/* Instruction sets, in increasing order; a limit caps the choice. */
enum quant_isa {
	QUANT_ISA_SCALAR,
	QUANT_ISA_AVX2,
	QUANT_ISA_AVX512
};

/* "fp32", "bf16", "q8". */
const char *quant_format_name(enum quant_format f);
/* Parse a format name; -1 with a message naming the accepted values. */
int quant_format_parse(const char *s, enum quant_format *f, char **cause);
/* Bytes per weight in storage (scales included), for K columns. */
double quant_format_bytes_per_weight(enum quant_format f, int K);

/* A weight matrix W (R,K) in one format. */
struct quant_matrix {
	enum quant_format format;
	int rows;              /* R */
	int cols;              /* K */
	int stride;            /* stored elements per row: K, or Kp for q8 */
	const float *f32;      /* fp32: (R,K), borrowed */
	uint16_t *bf16;        /* bf16: (R,K) */
	int8_t *q;             /* q8: (R,Kp) */
	float *scale;          /* q8: (R,Kp/G) */
	void *own;             /* what quant_matrix_init allocated, else NULL */
};

/* Convert W (R,K) into format f (fp32 borrows w). -1 with a message if out of memory. */
int quant_matrix_init(struct quant_matrix *qm, enum quant_format f, const float *w,
    int R, int K, char **cause);
/* Free what quant_matrix_init allocated (nothing for a placed matrix). */
void quant_matrix_release(struct quant_matrix *qm);
/*
 * Bytes of memory W (R,K) takes in format f as quant_matrix_place lays it
 * out (the arrays each start on a 64-byte boundary); 0 for fp32.
 */
size_t quant_matrix_size(enum quant_format f, int R, int K);
/*
 * Shape qm as W (R,K) in format f (bf16 or q8) with its arrays in mem
 * (quant_matrix_size bytes, 64-byte aligned, owned by the caller); w, if not
 * NULL, is converted into them.
 */
void quant_matrix_place(struct quant_matrix *qm, enum quant_format f, const float *w,
    int R, int K, void *mem);
/* Bytes a product reads from the matrix (weights and scales). */
size_t quant_matrix_bytes(const struct quant_matrix *qm);
/* One weight, converted back to float (for tests and references). */
float quant_matrix_get(const struct quant_matrix *qm, int r, int k);

/* bf16 from fp32, rounding to nearest even (NaN stays NaN); and back (exact). */
uint16_t quant_bf16_from_f32(float x);
float quant_bf16_to_f32(uint16_t h);
/*
 * Quantize x (n) into q (round_up(n, G)) and scale (round_up(n, G) / G):
 * per group d = max|x| / 127 (0 for an all-zero group), q = round(x / d)
 * (halves away from zero), padding with zeros. |x - d q| <= d / 2 for every element.
 */
void quant_q8_quantize(int8_t *q, float *scale, const float *x, int n);
/* x (n) = d q, the inverse up to rounding. */
void quant_q8_dequantize(float *x, const int8_t *q, const float *scale, int n);

/* Bytes of work space quant_matmul needs for n rows of K inputs. */
size_t quant_work_size(enum quant_format f, int K, int n);
/*
 * out (n,R) = inp (n,K) @ W (R,K)^T + bias (R); bias may be NULL. work holds
 * quant_work_size(W's format, K, n) bytes, aligned to 64. Rows of W are shared
 * among the threads of engine/pool.c. For q8 the inputs are quantized per
 * group first (above).
 */
void quant_matmul(float *out, const float *inp, const struct quant_matrix *w,
    const float *bias, int n, void *work);

/* Cap the instruction set used (QUANT_ISA_AVX512: no cap). */
void quant_set_isa_limit(enum quant_isa limit);
/*
 * bf16 at the AVX-512 level: 1 uses vdpbf16ps (AVX512_BF16, inputs split
 * into two bf16 halves), 0 (the default) widens the weights to fp32 and uses
 * FMA (AVX-512F/BW). On the EPYC this was written on, vdpbf16ps streaming
 * weights from memory ran at a third of the widening kernel's speed, though
 * faster from cache; README.md (Performance) has the numbers.
 */
void quant_set_bf16_dot(int on);
/* The instruction set format f's kernel uses now. */
enum quant_isa quant_isa(enum quant_format f);
/*
 * A name for the kernel format f uses now for one input row ("avx512-vnni",
 * "avx512-bf16", "avx512", "avx2", "scalar").
 */
const char *quant_kernel_name(enum quant_format f);

/*
 * Naive references (quant-ref.c): the same contract as quant_matmul on one
 * thread, summing in double: bf16 products are bf16(w) * x; q8 products use
 * the dequantized weights and the dequantized quantized inputs.
 */
void quant_ref_matmul(float *out, const float *inp, const struct quant_matrix *w,
    const float *bias, int n);

#endif
