/*
 * gpt-kv.c: KV-cached decoding of the GPT-2 model of engine/gpt.c.
 *
 * How this works. The cache keeps, per slot of the effective sequence, the
 * keys and values of every layer and the final hidden state; dropping the
 * last slot is free (the <bksp> rollback), and the logits of any kept slot
 * are one product of its hidden state with wte. Every product goes to
 * engine/quant.c, in the fp32 weights of the model or the bf16 or 8-bit
 * matrices a cache is given (gpt_kv_set_weights); nothing else in decoding
 * changes. Its kernels run on the pool of engine/pool.c (OpenBLAS's sgemm
 * with M=1 is several times slower, and its sgemv's threads keep
 * spin-waiting beside the pool's after their products); a long prompt's
 * products, or a small model's, go through sgemm_pool (quant_gemm).
 * Each new row's attention over the cached slots is engine/attend.c's.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "attend.h"
#include "gpt-impl.h"
#include "kernels.h"
#include "pool.h"
#include "quant.h"
#include "util.h"

/*
 * A row's KV copy and attention are split over the pool from this many
 * cached floats per layer, or at any length from this width.
 */
#define GPT_KV_SPLIT_FLOATS 65536
#define GPT_KV_SPLIT_WIDTH 768
/* Slots per chunk of the cache (gpt_kv_new). */
#define GPT_KV_CHUNK 64

struct gpt_kv {
	int cap, len;
	int C, L, NH, Vp;
	float *k;       /* (cap / CHUNK, L, NH, CHUNK, HS): gpt_kv_row */
	float *v;       /* the same */
	float *hidden;  /* (cap, C) final LayerNorm output */
	/* Scratch for n rows at a time. */
	int scratch_rows;
	float *x;       /* (n, C) residual stream */
	float *ln;      /* (n, C) */
	float *qkv;     /* (n, 3C) */
	float *atty;    /* (n, C) */
	float *tmp;     /* (n, C) */
	float *fch;     /* (n, 4C) */
	float *scores;  /* (NH, cap) a row of attention scores per head */
	float *mean;    /* (n) */
	float *rstd;    /* (n) */
	/* Other-format matrices (NULL: the model's fp32) and their work space. */
	const struct gpt_kv_weights *w;
	void *qwork;
	size_t qwork_size;
};

/* A KV cache for up to capacity slots (at most max_seq_len). */
struct gpt_kv *
gpt_kv_new(const struct gpt_model *m, int capacity, char **cause)
{
	const struct gpt_config *c = &m->config;
	struct gpt_kv *kv;
	size_t n;

	if (capacity < 1 || capacity > c->max_seq_len) {
		util_error(cause, "KV cache capacity %d is out of range [1, %d]",
		    capacity, c->max_seq_len);
		return NULL;
	}
	kv = util_alloc(sizeof *kv);
	if (kv == NULL) {
		util_error(cause, "out of memory");
		return NULL;
	}
	kv->cap = capacity;
	kv->C = c->channels;
	kv->L = c->num_layers;
	kv->NH = c->num_heads;
	kv->Vp = c->padded_vocab_size;
	/*
	 * Chunks of GPT_KV_CHUNK slots, each holding every layer's and head's
	 * rows of those slots (gpt_kv_row), on huge pages that are not touched
	 * here (util_alloc_lazy): memory is used as slots fill, about 2.4 MB of
	 * keys and as much of values per chunk at 124M, and faulted in 2 MB at a
	 * time. Before, each head's slots of a layer were one row of the whole
	 * context (cap slots) in calloc's 4 KB pages: a token wrote 288 places
	 * 256 KB apart at 124M and every 16th token faulted in 288 pages, at
	 * about 10.7 us a fault on the VM this was measured on; attention (the
	 * copy, the faults and the sums) took 300-400 us of a 2.4-2.8 ms q8
	 * token (timers in a one-off build). The whole context on huge pages,
	 * made resident when created, was as fast but used 75 MB at 1024 slots
	 * from the first token on, past the 1.1x of the weights that README.md's
	 * Model files measures.
	 */
	n = (size_t)(capacity + GPT_KV_CHUNK - 1) / GPT_KV_CHUNK * GPT_KV_CHUNK *
	    (size_t)kv->L * (size_t)kv->C;
	kv->k = util_alloc_lazy(n * sizeof(float));
	kv->v = util_alloc_lazy(n * sizeof(float));
	kv->hidden = calloc((size_t)capacity * (size_t)kv->C, sizeof(float));
	kv->scores = util_alloc((size_t)kv->NH * (size_t)capacity * sizeof(float));
	if (kv->k == NULL || kv->v == NULL || kv->hidden == NULL || kv->scores == NULL) {
		gpt_kv_free(kv);
		util_error(cause, "out of memory for a KV cache of %d slots", capacity);
		return NULL;
	}
	return kv;
}

/* Free the per-call scratch. */
static void
gpt_kv_free_scratch(struct gpt_kv *kv)
{
	util_free(kv->x);
	util_free(kv->ln);
	util_free(kv->qkv);
	util_free(kv->atty);
	util_free(kv->tmp);
	util_free(kv->fch);
	util_free(kv->mean);
	util_free(kv->rstd);
	kv->x = kv->ln = kv->qkv = kv->atty = kv->tmp = kv->fch = NULL;
	kv->mean = kv->rstd = NULL;
	kv->scratch_rows = 0;
}

/* Make room for n rows of scratch. */
static int
gpt_kv_scratch(struct gpt_kv *kv, int n)
{
	size_t C = (size_t)kv->C, r = (size_t)n;

	if (kv->scratch_rows >= n)
		return 0;
	gpt_kv_free_scratch(kv);
	kv->x = util_alloc(r * C * sizeof(float));
	kv->ln = util_alloc(r * C * sizeof(float));
	kv->qkv = util_alloc(r * 3 * C * sizeof(float));
	kv->atty = util_alloc(r * C * sizeof(float));
	kv->tmp = util_alloc(r * C * sizeof(float));
	kv->fch = util_alloc(r * 4 * C * sizeof(float));
	kv->mean = util_alloc(r * sizeof(float));
	kv->rstd = util_alloc(r * sizeof(float));
	if (kv->x == NULL || kv->ln == NULL || kv->qkv == NULL || kv->atty == NULL ||
	    kv->tmp == NULL || kv->fch == NULL || kv->mean == NULL || kv->rstd == NULL) {
		gpt_kv_free_scratch(kv);
		return -1;
	}
	kv->scratch_rows = n;
	return 0;
}

/* Free a KV cache. */
void
gpt_kv_free(struct gpt_kv *kv)
{
	if (kv == NULL)
		return;
	gpt_kv_free_scratch(kv);
	util_free(kv->qwork);
	util_free(kv->k);
	util_free(kv->v);
	free(kv->hidden);
	util_free(kv->scores);
	util_free(kv);
}

/* Slots in use. */
int
gpt_kv_len(const struct gpt_kv *kv)
{
	return kv->len;
}

/* Slots available. */
int
gpt_kv_capacity(const struct gpt_kv *kv)
{
	return kv->cap;
}

/* Drop slots past n (rollback). */
void
gpt_kv_truncate(struct gpt_kv *kv, int n)
{
	if (n < 0)
		n = 0;
	if (n < kv->len)
		kv->len = n;
}

static int gpt_kv_qwork(struct gpt_kv *kv, int n);

/* Use other-format matrices for decoding (NULL: fp32). */
int
gpt_kv_set_weights(struct gpt_kv *kv, const struct gpt_kv_weights *w, char **cause)
{
	kv->w = w;
	if (gpt_kv_qwork(kv, kv->scratch_rows) != 0) {
		kv->w = NULL;
		return util_error(cause, "out of memory for the decoding work space");
	}
	return 0;
}

/* Make the work space of other-format products fit n rows of up to 4C inputs. */
static int
gpt_kv_qwork(struct gpt_kv *kv, int n)
{
	size_t need;

	if (kv->w == NULL)
		return 0;
	need = quant_work_size(kv->w->wte->format, 4 * kv->C, n < 1 ? 1 : n);
	if (need <= kv->qwork_size)
		return 0;
	util_free(kv->qwork);
	kv->qwork_size = 0;
	if ((kv->qwork = util_alloc(need)) == NULL)
		return -1;
	kv->qwork_size = need;
	return 0;
}

/*
 * out (n,OC) = inp (n,C) @ w (OC,C)^T + b: the other-format matrix qw when the
 * cache has one, else the model's fp32 w (engine/quant.c either way).
 */
static void
gpt_linear(const struct gpt_kv *kv, const struct quant_matrix *qw, float *out,
    const float *inp, const float *w, const float *b, int n, int C, int OC)
{
	struct quant_matrix fm = { .format = QUANT_FP32, .rows = OC, .cols = C, .stride = C,
	    .f32 = w };

	quant_matmul(out, inp, kv->w != NULL ? qw : &fm, b, n, kv->qwork);
}

/* Slot t of head h of layer l in cache array a (kv->k or kv->v). */
static inline float *
gpt_kv_row(const struct gpt_kv *kv, float *a, int l, int h, int t)
{
	size_t HS = (size_t)(kv->C / kv->NH);

	return a + ((((size_t)(t / GPT_KV_CHUNK) * (size_t)kv->L + (size_t)l) *
	    (size_t)kv->NH + (size_t)h) * GPT_KV_CHUNK + (size_t)(t % GPT_KV_CHUNK)) * HS;
}

/* One new row's attention over slots 0..s of one layer, for a pool task's heads. */
struct gpt_attend_job {
	struct gpt_kv *kv;
	int l;              /* the layer */
	const float *qkv;   /* (3C) the row's queries, keys and values */
	float *out;         /* (C) */
	int s;
};

/*
 * Pool task: heads [h0, h1) of a row, one head at a time: the row's key and
 * value into slot s, then its attention over slots 0..s (engine/attend.c).
 * Each head streams its keys and values a chunk of slots (16 KB at 124M) at
 * a time.
 */
static void
gpt_attend_task(void *arg, int task, int ntasks)
{
	const struct gpt_attend_job *j = arg;
	const struct gpt_kv *kv = j->kv;
	int C = kv->C, NH = kv->NH, HS = C / NH, s = j->s, l = j->l;
	long h0, h1;

	pool_range(NH, task, ntasks, &h0, &h1);
	for (int h = (int)h0; h < h1; h++) {
		const float *q = j->qkv + h * HS;
		struct attend_cache c = { gpt_kv_row(kv, kv->k, l, h, 0),
		    gpt_kv_row(kv, kv->v, l, h, 0),
		    (size_t)kv->L * (size_t)NH * GPT_KV_CHUNK * (size_t)HS, GPT_KV_CHUNK, HS };

		memcpy(gpt_kv_row(kv, kv->k, l, h, s), q + C, (size_t)HS * sizeof(float));
		memcpy(gpt_kv_row(kv, kv->v, l, h, s), q + 2 * C, (size_t)HS * sizeof(float));
		attend_row(&c, q, s + 1, kv->scores + (size_t)h * kv->cap, j->out + h * HS);
	}
}

/*
 * Causal attention of n new rows (slots s0..s0+n-1) over the cache of layer l,
 * each row's keys and values first copied into it. A row's heads are split
 * over the pool over a long context (at 500 slots attention took about a
 * quarter of a q8 token on one thread, `perf record` of
 * tests/bench/decode-bench, with the scalar loop that engine/attend.c's
 * vector kernels have since made 2-3.7x faster per head), and at any length
 * from GPT_KV_SPLIT_WIDTH: the
 * products of such a width are split over the pool too (engine/quant.c), so
 * its worker spins between them and a hand-off costs about a microsecond.
 * The copy, done on the caller before, was about 4% of a q8 token at 124M
 * (with the head-major cache of then: 24 writes 256 KB apart per layer);
 * split this way whole tokens ran 1.02-1.03x as fast (a one-off driver
 * alternating the two in one process). Each head is one task's either way,
 * so the numbers are the same.
 */
static void
gpt_kv_attend(struct gpt_kv *kv, int l, int s0, int n)
{
	int C = kv->C;
	struct gpt_attend_job j = { kv, l, NULL, NULL, 0 };

	for (int r = 0; r < n; r++) {
		int ntasks = 1;

		j.s = s0 + r;
		j.qkv = kv->qkv + (size_t)r * 3 * C;
		j.out = kv->atty + (size_t)r * C;
		if (((long)(j.s + 1) * C >= GPT_KV_SPLIT_FLOATS || C >= GPT_KV_SPLIT_WIDTH) &&
		    pool_threads() > 1)
			ntasks = pool_threads() < kv->NH ? pool_threads() : kv->NH;
		pool_run_spin(gpt_attend_task, &j, ntasks);
	}
}

/* Run n tokens through the model into slots len..len+n-1. */
int
gpt_kv_append(const struct gpt_model *m, struct gpt_kv *kv, const int *tokens, int n,
    char **cause)
{
	const struct gpt_params *p = &m->params;
	int C = kv->C, L = kv->L, s0 = kv->len;
	size_t NC;

	if (n < 0 || n > kv->cap - kv->len)
		return util_error(cause, "context full: %d + %d tokens exceed %d slots",
		    kv->len, n, kv->cap);
	if (n == 0)
		return 0;
	for (int i = 0; i < n; i++)
		if (tokens[i] < 0 || tokens[i] >= kv->Vp)
			return util_error(cause, "token id %d is out of range [0, %d)",
			    tokens[i], kv->Vp);
	if (gpt_kv_scratch(kv, n) != 0 || gpt_kv_qwork(kv, n) != 0)
		return util_error(cause, "out of memory for %d tokens", n);
	NC = (size_t)n * C;
	for (int i = 0; i < n; i++) {
		const float *te = p->wte + (size_t)tokens[i] * C;
		const float *pe = p->wpe + (size_t)(s0 + i) * C;
		for (int j = 0; j < C; j++)
			kv->x[(size_t)i * C + j] = te[j] + pe[j];
	}
	for (int l = 0; l < L; l++) {
		size_t lc = (size_t)l * C;
		kernels_layernorm_forward(kv->ln, kv->mean, kv->rstd, kv->x, p->ln1w + lc,
		    p->ln1b + lc, n, C);
		gpt_linear(kv, kv->w != NULL ? &kv->w->qkvw[l] : NULL, kv->qkv, kv->ln,
		    p->qkvw + lc * 3 * C, p->qkvb + lc * 3, n, C, 3 * C);
		gpt_kv_attend(kv, l, s0, n);
		gpt_linear(kv, kv->w != NULL ? &kv->w->attprojw[l] : NULL, kv->tmp, kv->atty,
		    p->attprojw + lc * C, p->attprojb + lc, n, C, C);
		for (size_t i = 0; i < NC; i++)
			kv->x[i] += kv->tmp[i];
		kernels_layernorm_forward(kv->ln, kv->mean, kv->rstd, kv->x, p->ln2w + lc,
		    p->ln2b + lc, n, C);
		gpt_linear(kv, kv->w != NULL ? &kv->w->fcw[l] : NULL, kv->fch, kv->ln,
		    p->fcw + lc * 4 * C, p->fcb + lc * 4, n, C, 4 * C);
		kernels_gelu_forward(kv->fch, kv->fch, n * 4 * C);
		gpt_linear(kv, kv->w != NULL ? &kv->w->fcprojw[l] : NULL, kv->tmp, kv->fch,
		    p->fcprojw + lc * 4 * C, p->fcprojb + lc, n, 4 * C, C);
		for (size_t i = 0; i < NC; i++)
			kv->x[i] += kv->tmp[i];
	}
	kernels_layernorm_forward(kv->hidden + (size_t)s0 * C, kv->mean, kv->rstd, kv->x,
	    p->lnfw, p->lnfb, n, C);
	kv->len += n;
	return 0;
}

/* Logits (Vp) of the state after a slot, from its cached hidden state. */
void
gpt_kv_logits(const struct gpt_model *m, const struct gpt_kv *kv, int slot,
    float *logits)
{
	if (kv->w != NULL) {
		quant_matmul(logits, kv->hidden + (size_t)slot * kv->C, kv->w->wte, NULL, 1,
		    kv->qwork);
		return;
	}
	struct quant_matrix fm = { .format = QUANT_FP32, .rows = kv->Vp, .cols = kv->C,
	    .stride = kv->C, .f32 = m->params.wte };

	quant_matmul(logits, kv->hidden + (size_t)slot * kv->C, &fm, NULL, 1, NULL);
}

/* Cached final hidden state of a slot. */
const float *
gpt_kv_hidden(const struct gpt_kv *kv, int slot)
{
	return kv->hidden + (size_t)slot * kv->C;
}
