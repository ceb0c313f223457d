/*
 * qweights.h: a model's matrices converted to a generation format (bf16 or
 * 8-bit groups, engine/quant.h), built from its fp32 parameters and owned by
 * whoever generates. The fp32 parameter block is only read, never changed.
 */
#ifndef SEQMATCH_QWEIGHTS_H
#define SEQMATCH_QWEIGHTS_H

#include <stddef.h>

#include "quant.h"

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

#endif
