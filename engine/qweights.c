/*
 * qweights.c: a model's block matrices (qkvw, attprojw, fcw, fcprojw per
 * layer) and its LM head (wte) in a generation format, for gpt_kv_set_weights.
 * Embedding lookups, biases and LayerNorms keep reading the fp32 parameters.
 */
#include "config.h"

#include <string.h>

#include "gpt.h"
#include "qweights.h"
#include "util.h"

struct qweights {
	const struct gpt_model *model;
	enum quant_format format;
	int L;
	struct quant_matrix *mats;  /* L qkvw, L attprojw, L fcw, L fcprojw, then wte */
	struct gpt_kv_weights kv;
	size_t bytes;
};

/* Convert a model's matrices. */
struct qweights *
qweights_new(const struct gpt_model *m, enum quant_format f, char **cause)
{
	const struct gpt_config *c = gpt_config(m);
	const struct gpt_params *p = gpt_params(m);
	struct qweights *qw;
	long C = c->channels, L = c->num_layers;
	int nm = 4 * (int)L + 1;

	if ((qw = util_alloc(sizeof *qw)) == NULL) {
		util_error(cause, "out of memory");
		return NULL;
	}
	memset(qw, 0, sizeof *qw);
	qw->model = m;
	qw->format = f;
	qw->L = (int)L;
	if (f == QUANT_FP32) {
		qw->bytes = (size_t)(L * 12 * C * C + c->padded_vocab_size * C) * sizeof(float);
		return qw;
	}
	if ((qw->mats = util_alloc((size_t)nm * sizeof *qw->mats)) == NULL) {
		util_free(qw);
		util_error(cause, "out of memory");
		return NULL;
	}
	memset(qw->mats, 0, (size_t)nm * sizeof *qw->mats);
	for (long l = 0; l < L; l++) {
		struct quant_matrix *q = qw->mats + l;
		if (quant_matrix_init(&q[0], f, p->qkvw + l * 3 * C * C, 3 * (int)C,
		    (int)C, cause) != 0 ||
		    quant_matrix_init(&q[L], f, p->attprojw + l * C * C, (int)C, (int)C,
		    cause) != 0 ||
		    quant_matrix_init(&q[2 * L], f, p->fcw + l * 4 * C * C, 4 * (int)C,
		    (int)C, cause) != 0 ||
		    quant_matrix_init(&q[3 * L], f, p->fcprojw + l * 4 * C * C, (int)C,
		    4 * (int)C, cause) != 0) {
			qweights_free(qw);
			return NULL;
		}
	}
	if (quant_matrix_init(&qw->mats[4 * L], f, p->wte, c->padded_vocab_size, (int)C,
	    cause) != 0) {
		qweights_free(qw);
		return NULL;
	}
	for (int i = 0; i < nm; i++)
		qw->bytes += quant_matrix_bytes(&qw->mats[i]);
	qw->kv.qkvw = qw->mats;
	qw->kv.attprojw = qw->mats + L;
	qw->kv.fcw = qw->mats + 2 * L;
	qw->kv.fcprojw = qw->mats + 3 * L;
	qw->kv.wte = qw->mats + 4 * L;
	return qw;
}

/* Free the converted matrices. */
void
qweights_free(struct qweights *qw)
{
	if (qw == NULL)
		return;
	for (int i = 0; qw->mats != NULL && i < 4 * qw->L + 1; i++)
		quant_matrix_release(&qw->mats[i]);
	util_free(qw->mats);
	util_free(qw);
}

/* The format. */
enum quant_format
qweights_format(const struct qweights *qw)
{
	return qw->format;
}

/* The model the matrices came from. */
const struct gpt_model *
qweights_model(const struct qweights *qw)
{
	return qw->model;
}

/* The decoding view, NULL for fp32. */
const struct gpt_kv_weights *
qweights_kv(const struct qweights *qw)
{
	return qw->format == QUANT_FP32 ? NULL : &qw->kv;
}

/* Matrix bytes per decoded token. */
size_t
qweights_bytes(const struct qweights *qw)
{
	return qw->bytes;
}
