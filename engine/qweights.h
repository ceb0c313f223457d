/*
 * qweights.h: a model's matrices converted to a generation format (bf16 or
 * 8-bit groups, engine/quant.h), built from its fp32 parameters and owned by
 * whoever generates. The fp32 parameter block is only read, never changed.
 */
#ifndef SEQMATCH_QWEIGHTS_H
#define SEQMATCH_QWEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#include "quant.h"

struct gpt_config;
struct gpt_model;
struct gpt_kv_weights;
struct qweights;

/*
 * Convert m's block matrices and LM head to format f. For QUANT_FP32 nothing
 * is copied and qweights_kv() is NULL (decoding uses m as it is). m must
 * outlive the result.
 */
struct qweights *qweights_new(const struct gpt_model *m, enum quant_format f,
    char **cause);
void qweights_free(struct qweights *qw);
enum quant_format qweights_format(const struct qweights *qw);
const struct gpt_model *qweights_model(const struct qweights *qw);
/* What gpt_kv_set_weights takes (NULL for fp32). */
const struct gpt_kv_weights *qweights_kv(const struct qweights *qw);
/* Bytes of matrices one decoded token reads (blocks and LM head). */
size_t qweights_bytes(const struct qweights *qw);

/*
 * The stored form, a model file's QMAT section (engine/checkpoint.h, version
 * 4): the 4L+1 matrices in the order above (L qkvw, L attprojw, L fcw, L
 * fcprojw, then the LM head wte), each bf16: R*K u16; q8: R*Kp int8 values
 * (rows padded with zeros to Kp, a multiple of QUANT_GROUP) then R*Kp/G f32
 * scales; all little-endian. The bytes are the ones qweights_new computes, so
 * a stored file decodes exactly as a conversion at load time does.
 */
/* Whether tensor t (gpt_params order) is a block matrix, stored in QMAT only. */
int qweights_tensor_stored(int t);
/* Bytes of the stored form of format f (bf16 or q8) for config c. */
size_t qweights_stored_size(const struct gpt_config *c, enum quant_format f);
/* Write qw (bf16 or q8) in the stored form: qweights_stored_size bytes. */
void qweights_store(const struct qweights *qw, uint8_t *out);
/*
 * Read the stored form p (len bytes, format f) for m. m's fp32 block matrices
 * are left as they are (decoding with the result does not read them; see
 * qweights_fill_fp32). -1 with a message (path names the file) for a wrong
 * length, a non-finite bf16 value, a q8 value of -128 or a q8 scale whose
 * products could overflow.
 */
struct qweights *qweights_load(struct gpt_model *m, enum quant_format f, const uint8_t *p,
    size_t len, const char *path, char **cause);
/*
 * Write qw's block matrices, dequantized, into m's fp32 parameter block (m
 * private, or a stored file's model, whose block is writable anonymous
 * memory: engine/checkpoint.h; qw made for m): what fp32 decoding, features, training and an
 * fp32 save read. wte is left as it is (its fp32 rows are the file's own).
 */
void qweights_fill_fp32(const struct qweights *qw, struct gpt_model *m);

#endif
