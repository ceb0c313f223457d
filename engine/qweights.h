/*
 * qweights.h: a model's matrices in a generation format (bf16 or 8-bit
 * groups, engine/quant.h), converted from its fp32 parameters or read from a
 * model file's stored form (copied, or used in place from a mapping of the
 * file), and owned by whoever generates. The fp32 parameter block is only
 * read here, never changed (except by qweights_fill_fp32).
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
 * Read the stored form p (len bytes, format f) for m into arrays of the
 * result's own. m's fp32 block matrices are left as they are (decoding with
 * the result does not read them; see qweights_fill_fp32). -1 with a message
 * (path names the file) for a wrong length, a non-finite bf16 value, a q8
 * value of -128 or a q8 scale whose products could overflow. why (a static
 * string, may be NULL) says why the caller copied rather than mapped, for
 * messages (qweights_copied_why).
 */
struct qweights *qweights_load(struct gpt_model *m, enum quant_format f, const uint8_t *p,
    size_t len, const char *why, const char *path, char **cause);
/*
 * Where the stored form must start for qweights_map: the kernels read bf16
 * values as u16 and q8 scales as floats (engine/quant.c), and from a start
 * at a multiple of 4 every array is aligned so: each matrix's stored bytes
 * and a q8 matrix's values (R*Kp, Kp a multiple of QUANT_GROUP) are multiples
 * of 4 bytes, except a bf16 matrix's (R*K*2), which is even.
 */
#define QWEIGHTS_MAP_ALIGN 4
/*
 * qweights_load without a copy: the matrices point into p, which must stay
 * readable and unchanged until release(arg) (may be NULL), which
 * qweights_free calls; on failure release is not called. Every value is
 * checked as qweights_load checks it (so every page of p is read once).
 * Needs a little-endian host and p aligned to QWEIGHTS_MAP_ALIGN (the bytes
 * are then the arrays' values as they are); else -1 with a message.
 */
struct qweights *qweights_map(struct gpt_model *m, enum quant_format f, const uint8_t *p,
    size_t len, void (*release)(void *arg), void *arg, const char *path, char **cause);
/* Bytes of the matrices read in place (qweights_map); 0 when they are the result's own. */
size_t qweights_mapped(const struct qweights *qw);
/* qweights_load's why; NULL for the others. */
const char *qweights_copied_why(const struct qweights *qw);
/*
 * Write qw's block matrices, dequantized, into m's fp32 parameter block (m
 * private, or a stored file's model, whose block is writable anonymous
 * memory: engine/checkpoint.h; qw made for m): what fp32 decoding, features, training and an
 * fp32 save read. wte is left as it is (its fp32 rows are the file's own).
 */
void qweights_fill_fp32(const struct qweights *qw, struct gpt_model *m);

#endif
