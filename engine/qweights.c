/*
 * qweights.c: a model's block matrices (qkvw, attprojw, fcw, fcprojw per
 * layer) and its LM head (wte) in a generation format, for gpt_kv_set_weights:
 * converted from the fp32 parameters, or a model file's stored form, copied
 * or used in place. Embedding lookups, biases and LayerNorms keep reading the
 * fp32 parameters.
 */
#include "config.h"

#include <float.h>
#include <math.h>
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
	/* The matrices' arrays, one allocation laid out in the order a token reads them. */
	void *arena;
	size_t bytes;
	/* qweights_map: the matrices point into memory that release(arg) gives back. */
	size_t mapped;
	void (*release)(void *arg);
	void *release_arg;
	const char *copied_why;     /* qweights_load's reason, for messages */
};

static void qweights_shape(const struct gpt_config *c, int i, int *R, int *K);

/* The fp32 weights of matrix i of 4L+1 (qweights order). */
static const float *
qweights_source(const struct gpt_params *p, const struct gpt_config *c, int i)
{
	long C = c->channels, L = c->num_layers, l = i % L;

	switch (i < 4 * L ? i / L : 4) {
	case 0: return p->qkvw + l * 3 * C * C;
	case 1: return p->attprojw + l * C * C;
	case 2: return p->fcw + l * 4 * C * C;
	case 3: return p->fcprojw + l * 4 * C * C;
	default: return p->wte;
	}
}

/*
 * Give every matrix of mats (qweights order: kind-major) its arrays in one
 * arena laid out in the order decoding reads them, layer by layer (qkvw,
 * attprojw, fcw, fcprojw) and then the LM head, converting p's fp32 weights
 * into them if p is not NULL. Whole q8 tokens of the 124M model ran at a
 * median 0.68-0.76 of their bandwidth bound so, against 0.66-0.70 from an
 * allocation per array as before (a one-off driver alternating the two in one
 * process, on the 2-vCPU AMD EPYC). -1 with a message if out of memory.
 */
static int
qweights_place(struct qweights *qw, const struct gpt_config *c, const struct gpt_params *p,
    char **cause)
{
	int L = qw->L, nm = 4 * L + 1;
	size_t total = 0, at = 0;

	for (int i = 0; i < nm; i++) {
		int R, K;
		qweights_shape(c, i, &R, &K);
		total += quant_matrix_size(qw->format, R, K);
	}
	if ((qw->arena = util_alloc(total)) == NULL)
		return util_error(cause, "out of memory for %zu bytes of %s matrices", total,
		    quant_format_name(qw->format));
	for (int t = 0; t < nm; t++) {
		/* The t-th matrix a token reads is mats[i]. */
		int i = t == nm - 1 ? 4 * L : (t % 4) * L + t / 4, R, K;
		qweights_shape(c, i, &R, &K);
		quant_matrix_place(&qw->mats[i], qw->format,
		    p != NULL ? qweights_source(p, c, i) : NULL, R, K, (char *)qw->arena + at);
		at += quant_matrix_size(qw->format, R, K);
	}
	return 0;
}

/* The per-kind views the generator reads, into mats (the layout above). */
static void
qweights_point(struct qweights *qw, long L)
{
	qw->kv.qkvw = qw->mats;
	qw->kv.attprojw = qw->mats + L;
	qw->kv.fcw = qw->mats + 2 * L;
	qw->kv.fcprojw = qw->mats + 3 * L;
	qw->kv.wte = qw->mats + 4 * L;
}

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
	if (qweights_place(qw, c, p, cause) != 0) {
		qweights_free(qw);
		return NULL;
	}
	for (int i = 0; i < nm; i++)
		qw->bytes += quant_matrix_bytes(&qw->mats[i]);
	qweights_point(qw, L);
	return qw;
}

/* Free the converted matrices. */
void
qweights_free(struct qweights *qw)
{
	if (qw == NULL)
		return;
	/* Mapped matrices are the mapping's bytes; the others are the arena's. */
	util_free(qw->arena);
	if (qw->release != NULL)
		qw->release(qw->release_arg);
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

/* Bytes of the matrices read in place from a mapping. */
size_t
qweights_mapped(const struct qweights *qw)
{
	return qw->mapped;
}

/* Why a stored form was copied rather than mapped. */
const char *
qweights_copied_why(const struct qweights *qw)
{
	return qw->copied_why;
}

/* The four block matrices (qkvw, attprojw, fcw, fcprojw) are stored in QMAT only. */
int
qweights_tensor_stored(int t)
{
	const char *name = gpt_tensor_name(t);

	return strcmp(name, "qkvw") == 0 || strcmp(name, "attprojw") == 0 ||
	    strcmp(name, "fcw") == 0 || strcmp(name, "fcprojw") == 0;
}

/* Rows and columns of stored matrix i of 4L+1 (qweights order). */
static void
qweights_shape(const struct gpt_config *c, int i, int *R, int *K)
{
	int L = c->num_layers, C = c->channels;

	switch (i < 4 * L ? i / L : 4) {
	case 0: *R = 3 * C; *K = C; break;
	case 1: *R = C; *K = C; break;
	case 2: *R = 4 * C; *K = C; break;
	case 3: *R = C; *K = 4 * C; break;
	default: *R = c->padded_vocab_size; *K = C; break;
	}
}

/* Stored bytes of one R x K matrix in format f. */
static size_t
qweights_matrix_size(enum quant_format f, int R, int K)
{
	size_t Kp = ((size_t)K + QUANT_GROUP - 1) / QUANT_GROUP * QUANT_GROUP;

	if (f == QUANT_BF16)
		return (size_t)R * (size_t)K * 2;
	if (f == QUANT_Q8)
		return (size_t)R * Kp + (size_t)R * (Kp / QUANT_GROUP) * 4;
	return (size_t)R * (size_t)K * 4;
}

/* Size of the stored form. */
size_t
qweights_stored_size(const struct gpt_config *c, enum quant_format f)
{
	size_t total = 0;

	for (int i = 0; i < 4 * c->num_layers + 1; i++) {
		int R, K;

		qweights_shape(c, i, &R, &K);
		total += qweights_matrix_size(f, R, K);
	}
	return total;
}

/* Write the stored form. */
void
qweights_store(const struct qweights *qw, uint8_t *out)
{
	for (int i = 0; i < 4 * qw->L + 1; i++) {
		const struct quant_matrix *qm = &qw->mats[i];
		size_t RK = (size_t)qm->rows * (size_t)qm->stride;

		if (qm->format == QUANT_BF16) {
			for (size_t j = 0; j < RK; j++) {
				*out++ = (uint8_t)qm->bf16[j];
				*out++ = (uint8_t)(qm->bf16[j] >> 8);
			}
			continue;
		}
		memcpy(out, qm->q, RK);
		out += RK;
		for (size_t j = 0; j < RK / QUANT_GROUP; j++) {
			uint32_t u;

			memcpy(&u, &qm->scale[j], 4);
			for (int b = 0; b < 4; b++)
				*out++ = (uint8_t)(u >> (8 * b));
		}
	}
}

/* Stored matrix i's tensor of 4L+1, for messages. */
static const char *
qweights_matrix_name(int i, int L)
{
	static const char *names[] = { "qkvw", "attprojw", "fcw", "fcprojw", "wte (LM head)" };

	return names[i < 4 * L ? i / L : 4];
}

/*
 * Check matrix qm's values: what the kernels rely on (engine/quant.c: q8's
 * sign trick needs -127..127, and 127 d must stay finite: the weights it
 * gives are fp32's) and that bf16 values are finite (saves refuse
 * non-finite weights).
 */
static int
qweights_check_matrix(const struct quant_matrix *qm, const char *path, int index, int L,
    char **cause)
{
	size_t RK = (size_t)qm->rows * (size_t)qm->stride;

	if (qm->format == QUANT_BF16) {
		for (size_t j = 0; j < RK; j++) {
			if ((qm->bf16[j] & 0x7f80) == 0x7f80)
				return util_error(cause, "%s: corrupt: bf16 matrix %d (%s) holds "
				    "a non-finite value at %zu", path, index,
				    qweights_matrix_name(index, L), j);
		}
		return 0;
	}
	for (size_t j = 0; j < RK; j++) {
		if (qm->q[j] == -128)
			return util_error(cause, "%s: corrupt: q8 matrix %d (%s) holds -128 "
			    "(the format's values are -127 to 127)", path, index,
			    qweights_matrix_name(index, L));
	}
	for (size_t j = 0; j < RK / QUANT_GROUP; j++) {
		if (!isfinite(qm->scale[j]) || fabsf(qm->scale[j]) > FLT_MAX / 127)
			return util_error(cause, "%s: corrupt: q8 matrix %d (%s) has a "
			    "non-finite or too large scale at group %zu", path, index,
			    qweights_matrix_name(index, L), j);
	}
	return 0;
}

/*
 * Matrix qm (R x K, format f) from stored bytes p, then checked: in place
 * (the arrays point into p; qweights_map has checked the host and the
 * alignment) or decoded into the arrays qweights_place gave it.
 */
static int
qweights_read_matrix(struct quant_matrix *qm, enum quant_format f, int R, int K,
    const uint8_t *p, int in_place, const char *path, int index, int L, char **cause)
{
	int stride = f == QUANT_Q8 ? (K + QUANT_GROUP - 1) / QUANT_GROUP * QUANT_GROUP : K;
	size_t RK = (size_t)R * (size_t)stride;

	if (in_place) {
		memset(qm, 0, sizeof *qm);
		qm->format = f;
		qm->rows = R;
		qm->cols = K;
		qm->stride = stride;
		/* The pointers stay non-const (one struct for both kinds); nothing writes them. */
		if (f == QUANT_BF16)
			qm->bf16 = (uint16_t *)(uintptr_t)p;
		else {
			qm->q = (int8_t *)(uintptr_t)p;
			qm->scale = (float *)(uintptr_t)(p + RK);
		}
	} else if (f == QUANT_BF16) {
		for (size_t j = 0; j < RK; j++)
			qm->bf16[j] = (uint16_t)(p[2 * j] | p[2 * j + 1] << 8);
	} else {
		memcpy(qm->q, p, RK);
		p += RK;
		for (size_t j = 0; j < RK / QUANT_GROUP; j++) {
			uint32_t u = (uint32_t)p[4 * j] | (uint32_t)p[4 * j + 1] << 8 |
			    (uint32_t)p[4 * j + 2] << 16 | (uint32_t)p[4 * j + 3] << 24;

			memcpy(&qm->scale[j], &u, 4);
		}
	}
	return qweights_check_matrix(qm, path, index, L, cause);
}

/* Dequantize matrix qm into dst (R x K fp32). */
static void
qweights_dequantize(const struct quant_matrix *qm, float *dst)
{
	size_t RK = (size_t)qm->rows * (size_t)qm->cols;

	if (qm->format == QUANT_BF16) {
		for (size_t j = 0; j < RK; j++)
			dst[j] = quant_bf16_to_f32(qm->bf16[j]);
		return;
	}
	for (long r = 0; r < qm->rows; r++)
		quant_q8_dequantize(dst + r * (long)qm->cols, qm->q + r * (long)qm->stride,
		    qm->scale + r * (long)(qm->stride / QUANT_GROUP), qm->cols);
}

/* The block matrices, dequantized, into m's fp32 parameters. */
void
qweights_fill_fp32(const struct qweights *qw, struct gpt_model *m)
{
	const struct gpt_params *prm = gpt_params(m);
	long C = gpt_config(m)->channels, L = qw->L;

	if (qw->format == QUANT_FP32)
		return;
	for (long l = 0; l < L; l++) {
		qweights_dequantize(&qw->mats[l], prm->qkvw + l * 3 * C * C);
		qweights_dequantize(&qw->mats[L + l], prm->attprojw + l * C * C);
		qweights_dequantize(&qw->mats[2 * L + l], prm->fcw + l * 4 * C * C);
		qweights_dequantize(&qw->mats[3 * L + l], prm->fcprojw + l * 4 * C * C);
	}
}

/*
 * The stored form p (len bytes) as matrices: in place (qweights_map) or
 * copied (qweights_load).
 */
static struct qweights *
qweights_read(struct gpt_model *m, enum quant_format f, const uint8_t *p, size_t len,
    int in_place, const char *path, char **cause)
{
	const struct gpt_config *c = gpt_config(m);
	struct qweights *qw;
	long L = c->num_layers;
	int nm = 4 * (int)L + 1;

	if (f != QUANT_BF16 && f != QUANT_Q8) {
		util_error(cause, "%s: no stored form for %s weights", path,
		    quant_format_name(f));
		return NULL;
	}
	if (len != qweights_stored_size(c, f)) {
		util_error(cause, "%s: corrupt: section QMAT has %zu bytes, expected %zu "
		    "(%s)", path, len, qweights_stored_size(c, f), quant_format_name(f));
		return NULL;
	}
	if ((qw = util_alloc(sizeof *qw)) == NULL ||
	    (memset(qw, 0, sizeof *qw), qw->mats = util_alloc((size_t)nm *
	    sizeof *qw->mats)) == NULL) {
		util_free(qw);
		util_error(cause, "out of memory");
		return NULL;
	}
	memset(qw->mats, 0, (size_t)nm * sizeof *qw->mats);
	qw->model = m;
	qw->format = f;
	qw->L = (int)L;
	qw->mapped = in_place ? len : 0;
	if (!in_place && qweights_place(qw, c, NULL, cause) != 0) {
		qweights_free(qw);
		return NULL;
	}
	for (int i = 0; i < nm; i++) {
		int R, K;

		qweights_shape(c, i, &R, &K);
		if (qweights_read_matrix(&qw->mats[i], f, R, K, p, in_place, path, i, (int)L,
		    cause) != 0) {
			qweights_free(qw);
			return NULL;
		}
		p += qweights_matrix_size(f, R, K);
		qw->bytes += quant_matrix_bytes(&qw->mats[i]);
	}
	qweights_point(qw, L);
	return qw;
}

/* Read the stored form into the matrices' own memory. */
struct qweights *
qweights_load(struct gpt_model *m, enum quant_format f, const uint8_t *p, size_t len,
    const char *why, const char *path, char **cause)
{
	struct qweights *qw = qweights_read(m, f, p, len, 0, path, cause);

	if (qw != NULL)
		qw->copied_why = why;
	return qw;
}

/* Use the stored form in place. */
struct qweights *
qweights_map(struct gpt_model *m, enum quant_format f, const uint8_t *p, size_t len,
    void (*release)(void *arg), void *arg, const char *path, char **cause)
{
	struct qweights *qw;

	/* The file's values are little-endian: only such a host reads them as they are. */
	if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__) {
		util_error(cause, "%s: stored matrices cannot be read in place on a "
		    "big-endian host", path);
		return NULL;
	}
	if ((uintptr_t)p % QWEIGHTS_MAP_ALIGN != 0) {
		util_error(cause, "%s: section QMAT is not aligned to %d bytes", path,
		    QWEIGHTS_MAP_ALIGN);
		return NULL;
	}
	if ((qw = qweights_read(m, f, p, len, 1, path, cause)) != NULL) {
		qw->release = release;
		qw->release_arg = arg;
	}
	return qw;
}
