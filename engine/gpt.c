/*
 * gpt.c: the GPT-2 model.
 *
 * How this works. The model is GPT-2 (Radford et al. 2019): learned token and
 * position embeddings, L pre-LayerNorm blocks of multi-head causal attention and
 * a GELU MLP, a final LayerNorm and an LM head tied to the token embeddings.
 * As in llm.c, parameters, gradients, AdamW's two moments and the activations
 * each live in one contiguous block carved into named tensors, so zeroing the
 * gradients is one memset, AdamW one loop and saving one write.
 *
 * The training pass takes, per sequence, position ids and a parent array: the
 * attention mask lets input i see j iff j is i or an ancestor of i. With the
 * causal chain this is ordinary GPT-2; with a tree it is the one-pass form of a
 * sequence with backspaces (docs/sequencematch.md section 2).
 *
 * Decoding keeps, per slot of the effective sequence, the keys and values of
 * every layer and the final hidden state; dropping the last slot is free, and
 * the logits of any kept slot are one sgemv of its hidden state with wte.
 * Single-token steps use engine/quant.c's fp32 matrix-vector kernel on the
 * pool of engine/pool.c, the same path as the bf16 and 8-bit formats'
 * (OpenBLAS's sgemm with M=1 is several times slower, and its sgemv's threads
 * keep spin-waiting beside the pool's after their products); prompts go through
 * cblas_sgemm. A cache given bf16 or 8-bit matrices (gpt_kv_set_weights)
 * sends every product to engine/quant.c; nothing else in decoding changes.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attend.h"
#include "gpt-impl.h"
#include "kernels.h"
#include "pool.h"
#include "quant.h"
#include "rng.h"
#include "util.h"

static const char *gpt_tensor_names[GPT_NUM_TENSORS] = {
	"wte", "wpe", "ln1w", "ln1b", "qkvw", "qkvb", "attprojw", "attprojb",
	"ln2w", "ln2b", "fcw", "fcb", "fcprojw", "fcprojb", "lnfw", "lnfb"
};

/* Name of parameter tensor i. */
const char *
gpt_tensor_name(int i)
{
	if (i < 0 || i >= GPT_NUM_TENSORS)
		return "?";
	return gpt_tensor_names[i];
}

/* Whether tensor i is a matrix (gets weight decay). */
int
gpt_tensor_is_matrix(int i)
{
	return i == 0 || i == 1 || i == 4 || i == 6 || i == 10 || i == 12;
}

/* Check every field of a configuration. */
int
gpt_config_check(const struct gpt_config *c, char **cause)
{
	size_t sizes[GPT_NUM_TENSORS];

	if (c->num_layers < 1 || c->num_layers > GPT_MAX_LAYERS)
		return util_error(cause, "num_layers %d is out of range [1, %d]",
		    c->num_layers, GPT_MAX_LAYERS);
	if (c->channels < 1 || c->channels > GPT_MAX_CHANNELS)
		return util_error(cause, "channels %d is out of range [1, %d]",
		    c->channels, GPT_MAX_CHANNELS);
	if (c->num_heads < 1 || c->num_heads > c->channels)
		return util_error(cause, "num_heads %d is out of range [1, %d]",
		    c->num_heads, c->channels);
	if (c->channels % c->num_heads != 0)
		return util_error(cause, "channels %d is not a multiple of num_heads %d",
		    c->channels, c->num_heads);
	if (c->max_seq_len < 1 || c->max_seq_len > GPT_MAX_SEQ_LEN)
		return util_error(cause, "max_seq_len %d is out of range [1, %d]",
		    c->max_seq_len, GPT_MAX_SEQ_LEN);
	if (c->vocab_size < 2 || c->vocab_size > GPT_MAX_VOCAB)
		return util_error(cause, "vocab_size %d is out of range [2, %d]",
		    c->vocab_size, GPT_MAX_VOCAB);
	if (c->padded_vocab_size <= c->vocab_size ||
	    c->padded_vocab_size > GPT_MAX_VOCAB + 64)
		return util_error(cause, "padded_vocab_size %d must be in [%d, %d] "
		    "(one more than vocab_size, for <bksp>)", c->padded_vocab_size,
		    c->vocab_size + 1, GPT_MAX_VOCAB + 64);
	if (gpt_config_sizes(c, sizes) > GPT_MAX_PARAMS)
		return util_error(cause, "the model would have more than %llu parameters",
		    (unsigned long long)GPT_MAX_PARAMS);
	return 0;
}

/* Sizes of the parameter tensors (fields already range-checked: no overflow). */
size_t
gpt_config_sizes(const struct gpt_config *c, size_t sizes[GPT_NUM_TENSORS])
{
	size_t C = (size_t)c->channels, L = (size_t)c->num_layers;
	size_t Vp = (size_t)c->padded_vocab_size, maxT = (size_t)c->max_seq_len;
	size_t total = 0;

	sizes[0] = Vp * C;
	sizes[1] = maxT * C;
	sizes[2] = L * C;
	sizes[3] = L * C;
	sizes[4] = L * 3 * C * C;
	sizes[5] = L * 3 * C;
	sizes[6] = L * C * C;
	sizes[7] = L * C;
	sizes[8] = L * C;
	sizes[9] = L * C;
	sizes[10] = L * 4 * C * C;
	sizes[11] = L * 4 * C;
	sizes[12] = L * C * 4 * C;
	sizes[13] = L * C;
	sizes[14] = C;
	sizes[15] = C;
	for (int i = 0; i < GPT_NUM_TENSORS; i++)
		total += sizes[i];
	return total;
}

/* Point the tensors of p into one block. */
void
gpt_point_params(struct gpt_params *p, float *memory, const size_t *sizes)
{
	float **ptrs[GPT_NUM_TENSORS] = {
		&p->wte, &p->wpe, &p->ln1w, &p->ln1b, &p->qkvw, &p->qkvb,
		&p->attprojw, &p->attprojb, &p->ln2w, &p->ln2b, &p->fcw, &p->fcb,
		&p->fcprojw, &p->fcprojb, &p->lnfw, &p->lnfb
	};
	for (int i = 0; i < GPT_NUM_TENSORS; i++) {
		*ptrs[i] = memory;
		memory += sizes[i];
	}
}

/* A model without parameter memory yet (gpt_new and gpt_new_external finish it). */
static struct gpt_model *
gpt_new_shell(const struct gpt_config *cfg, char **cause)
{
	struct gpt_model *m;

	if (gpt_config_check(cfg, cause) != 0)
		return NULL;
	m = util_alloc(sizeof *m);
	if (m == NULL) {
		util_error(cause, "out of memory");
		return NULL;
	}
	m->config = *cfg;
	m->num_params = gpt_config_sizes(cfg, m->sizes);
	return m;
}

/* A model with zeroed parameters. */
struct gpt_model *
gpt_new(const struct gpt_config *cfg, char **cause)
{
	struct gpt_model *m = gpt_new_shell(cfg, cause);
	size_t bytes;

	if (m == NULL)
		return NULL;
	if (util_mul(m->num_params, sizeof(float), &bytes) != 0 ||
	    (m->params_memory = util_alloc(bytes)) == NULL) {
		util_error(cause, "out of memory for %zu parameters", m->num_params);
		util_free(m);
		return NULL;
	}
	gpt_point_params(&m->params, m->params_memory, m->sizes);
	return m;
}

/* A model reading its parameters in place from memory it does not own. */
struct gpt_model *
gpt_new_external(const struct gpt_config *cfg, const float *params,
    void (*release)(void *arg), void *arg, char **cause)
{
	struct gpt_model *m = gpt_new_shell(cfg, cause);

	if (m == NULL)
		return NULL;
	/*
	 * The pointers stay float * (one struct for both kinds); nothing writes
	 * through them until gpt_make_private replaces the block.
	 */
	m->params_memory = (float *)(uintptr_t)params;
	m->params_external = 1;
	m->params_release = release;
	m->params_arg = arg;
	gpt_point_params(&m->params, m->params_memory, m->sizes);
	return m;
}

/* Give back an external parameter block. */
static void
gpt_release_external(struct gpt_model *m)
{
	if (m->params_external && m->params_release != NULL)
		m->params_release(m->params_arg);
	m->params_external = 0;
	m->params_release = NULL;
	m->params_arg = NULL;
}

/* Copy external parameters into the model's own memory. */
int
gpt_make_private(struct gpt_model *m, char **cause)
{
	float *own;

	if (!m->params_external)
		return 0;
	own = util_alloc(m->num_params * sizeof(float));
	if (own == NULL)
		return util_error(cause, "out of memory for a copy of %zu parameters",
		    m->num_params);
	memcpy(own, m->params_memory, m->num_params * sizeof(float));
	gpt_release_external(m);
	m->params_memory = own;
	gpt_point_params(&m->params, m->params_memory, m->sizes);
	return 0;
}

/* Whether the parameters are read in place from external memory. */
int
gpt_params_external(const struct gpt_model *m)
{
	return m->params_external;
}

/* Mapped (external) and private bytes of a model. */
void
gpt_memory(const struct gpt_model *m, size_t *mapped, size_t *private_bytes)
{
	size_t pbytes = m->num_params * sizeof(float), own = 0;

	if (!m->params_external)
		own += pbytes;
	if (m->grads_memory != NULL)
		own += pbytes;
	if (m->m_memory != NULL)
		own += 2 * pbytes;
	own += (m->acts_cap + m->back_cap + 2 * m->logits_cap) * sizeof(float);
	own += m->rows_cap * (sizeof(float) + 2 * sizeof(int)) + m->mask_cap;
	*mapped = m->params_external ? pbytes : 0;
	*private_bytes = own;
}

/* Free the activations and backward scratch. */
static void
gpt_free_acts(struct gpt_model *m)
{
	util_free(m->acts_memory);
	util_free(m->logits);
	util_free(m->dlogits);
	util_free(m->losses);
	util_free(m->back_memory);
	util_free(m->inputs);
	util_free(m->pos);
	util_free(m->mask);
	m->acts_memory = m->logits = m->dlogits = m->back_memory = NULL;
	m->losses = NULL;
	m->inputs = m->pos = NULL;
	m->mask = NULL;
	m->B = m->T = 0;
	m->acts_cap = m->back_cap = m->logits_cap = m->rows_cap = m->mask_cap = 0;
	m->have_forward = 0;
}

/* Free a model. */
void
gpt_free(struct gpt_model *m)
{
	if (m == NULL)
		return;
	gpt_free_acts(m);
	if (m->params_external)
		gpt_release_external(m);
	else
		util_free(m->params_memory);
	util_free(m->grads_memory);
	util_free(m->m_memory);
	util_free(m->v_memory);
	util_free(m);
}

/* GPT-2 initialisation. */
void
gpt_init_random(struct gpt_model *m, uint64_t seed)
{
	struct rng rng;
	float *p = m->params_memory;
	float proj_std = 0.02f / sqrtf(2.0f * (float)m->config.num_layers);

	rng_init(&rng, seed);
	for (int i = 0; i < GPT_NUM_TENSORS; i++) {
		size_t n = m->sizes[i];
		if (i == 2 || i == 8 || i == 14) {          /* LayerNorm weights */
			for (size_t j = 0; j < n; j++)
				p[j] = 1.0f;
		} else if (gpt_tensor_is_matrix(i)) {
			float std = (i == 6 || i == 12) ? proj_std : 0.02f;
			for (size_t j = 0; j < n; j++)
				p[j] = std * rng_normal(&rng);
		} else {
			memset(p, 0, n * sizeof *p);
		}
		p += n;
	}
}

/* Whether <bksp> is a trained action. */
int
gpt_has_bksp(const struct gpt_model *m)
{
	return m->bksp;
}

/* Mark <bksp> as trained (or not). */
void
gpt_set_bksp(struct gpt_model *m, int on)
{
	m->bksp = on ? 1 : 0;
}

/* Initialise the <bksp> row of wte to the mean token row. */
void
gpt_init_bksp(struct gpt_model *m)
{
	int V = m->config.vocab_size, C = m->config.channels;
	float *row = m->params.wte + (size_t)V * C;

	for (int c = 0; c < C; c++) {
		double sum = 0;
		for (int v = 0; v < V; v++)
			sum += m->params.wte[(size_t)v * C + c];
		row[c] = (float)(sum / V);
	}
	m->bksp = 1;
}

/* The configuration. */
const struct gpt_config *
gpt_config(const struct gpt_model *m)
{
	return &m->config;
}

/* Number of parameters. */
size_t
gpt_num_params(const struct gpt_model *m)
{
	return m->num_params;
}

/* The parameter block. */
float *
gpt_param_memory(struct gpt_model *m)
{
	return m->params_memory;
}

/* The named parameter tensors. */
const struct gpt_params *
gpt_params(const struct gpt_model *m)
{
	return &m->params;
}

/*
 * Activations for (B,T). The blocks keep their capacity: a smaller or
 * equal-sized shape (SequenceMatch batches vary in T) is carved out of the
 * same memory without reallocating.
 */
static int
gpt_alloc_acts(struct gpt_model *m, int B, int T, char **cause)
{
	size_t L = (size_t)m->config.num_layers, C = (size_t)m->config.channels;
	size_t NH = (size_t)m->config.num_heads, Vp = (size_t)m->config.padded_vocab_size;
	size_t N = (size_t)B * (size_t)T, TT = (size_t)T * (size_t)T;
	size_t sizes[GPT_NUM_ACTS], total = 0, btotal = 0, bytes;
	float **ptrs[GPT_NUM_ACTS] = {
		&m->acts.encoded, &m->acts.ln1, &m->acts.ln1_mean, &m->acts.ln1_rstd,
		&m->acts.qkv, &m->acts.atty, &m->acts.att, &m->acts.attproj,
		&m->acts.residual2, &m->acts.ln2, &m->acts.ln2_mean, &m->acts.ln2_rstd,
		&m->acts.fch, &m->acts.fch_gelu, &m->acts.fcproj, &m->acts.residual3,
		&m->acts.lnf, &m->acts.lnf_mean, &m->acts.lnf_rstd
	};
	float **bptrs[7] = {
		&m->back.dresidual, &m->back.dln, &m->back.datty, &m->back.dqkv,
		&m->back.dfch, &m->back.dfch_gelu, &m->back.scratch
	};
	size_t bsizes[7];
	int nscratch = pool_threads();
	float *p;

	if (m->B == B && m->T == T)
		return 0;
	sizes[0] = N * C;
	sizes[1] = L * N * C;
	sizes[2] = L * N;
	sizes[3] = L * N;
	sizes[4] = L * N * 3 * C;
	sizes[5] = L * N * C;
	sizes[6] = L * (size_t)B * NH * TT;
	sizes[7] = L * N * C;
	sizes[8] = L * N * C;
	sizes[9] = L * N * C;
	sizes[10] = L * N;
	sizes[11] = L * N;
	sizes[12] = L * N * 4 * C;
	sizes[13] = L * N * 4 * C;
	sizes[14] = L * N * C;
	sizes[15] = L * N * C;
	sizes[16] = N * C;
	sizes[17] = N;
	sizes[18] = N;
	for (int i = 0; i < GPT_NUM_ACTS; i++)
		total += sizes[i];
	bsizes[0] = bsizes[1] = bsizes[2] = N * C;
	bsizes[3] = N * 3 * C;
	bsizes[4] = bsizes[5] = N * 4 * C;
	bsizes[6] = TT * (size_t)nscratch;
	for (int i = 0; i < 7; i++)
		btotal += bsizes[i];
	if (total > m->acts_cap || btotal > m->back_cap || N * Vp > m->logits_cap ||
	    N > m->rows_cap || (size_t)B * TT > m->mask_cap) {
		gpt_free_acts(m);
		if (util_mul(total, sizeof(float), &bytes) != 0 ||
		    (m->acts_memory = util_alloc(bytes)) == NULL ||
		    (m->back_memory = util_alloc(btotal * sizeof(float))) == NULL ||
		    (m->logits = util_alloc(N * Vp * sizeof(float))) == NULL ||
		    (m->dlogits = util_alloc(N * Vp * sizeof(float))) == NULL ||
		    (m->losses = util_alloc(N * sizeof(float))) == NULL ||
		    (m->inputs = util_alloc(N * sizeof(int))) == NULL ||
		    (m->pos = util_alloc(N * sizeof(int))) == NULL ||
		    (m->mask = util_alloc((size_t)B * TT)) == NULL) {
			gpt_free_acts(m);
			return util_error(cause, "out of memory for activations of B=%d "
			    "T=%d", B, T);
		}
		m->acts_cap = total;
		m->back_cap = btotal;
		m->logits_cap = N * Vp;
		m->rows_cap = N;
		m->mask_cap = (size_t)B * TT;
	}
	p = m->acts_memory;
	for (int i = 0; i < GPT_NUM_ACTS; i++) {
		*ptrs[i] = p;
		p += sizes[i];
	}
	p = m->back_memory;
	for (int i = 0; i < 7; i++) {
		*bptrs[i] = p;
		p += bsizes[i];
	}
	m->nscratch = nscratch;
	m->B = B;
	m->T = T;
	return 0;
}

/* Training forward pass. */
int
gpt_forward(struct gpt_model *m, const int *inputs, const int *pos,
    const int *parent, int B, int T, char **cause)
{
	const struct gpt_config *c = &m->config;
	int C = c->channels, L = c->num_layers, NH = c->num_heads;
	int Vp = c->padded_vocab_size;
	size_t N = (size_t)B * (size_t)T;
	struct gpt_params *p = &m->params;
	struct gpt_acts *a = &m->acts;
	float *residual;

	if (B < 1 || T < 1 || (size_t)B * (size_t)T > (size_t)1 << 30)
		return util_error(cause, "bad batch shape B=%d T=%d", B, T);
	for (size_t i = 0; i < N; i++) {
		if (inputs[i] < 0 || inputs[i] >= Vp)
			return util_error(cause, "token id %d at %zu is out of range [0, %d)",
			    inputs[i], i, Vp);
		if (pos != NULL && (pos[i] < 0 || pos[i] >= c->max_seq_len))
			return util_error(cause, "position id %d at %zu is out of range "
			    "[0, %d)", pos[i], i, c->max_seq_len);
	}
	if (pos == NULL && T > c->max_seq_len)
		return util_error(cause, "sequence length %d exceeds max_seq_len %d",
		    T, c->max_seq_len);
	if (gpt_alloc_acts(m, B, T, cause) != 0)
		return -1;
	m->have_forward = 0;
	if (kernels_mask_build(m->mask, parent, B, T) != 0)
		return util_error(cause, "invalid parent array (each parent must be -1 "
		    "or an earlier position)");
	memcpy(m->inputs, inputs, N * sizeof(int));
	if (pos != NULL)
		memcpy(m->pos, pos, N * sizeof(int));
	else
		for (size_t i = 0; i < N; i++)
			m->pos[i] = (int)(i % (size_t)T);

	kernels_encoder_forward(a->encoded, m->inputs, m->pos, p->wte, p->wpe, B, T, C);
	for (int l = 0; l < L; l++) {
		size_t lc = (size_t)l * C, ln = (size_t)l * N;
		residual = l == 0 ? a->encoded : a->residual3 + (size_t)(l - 1) * N * C;
		float *ln1 = a->ln1 + ln * C, *qkv = a->qkv + ln * 3 * C;
		float *atty = a->atty + ln * C;
		float *att = a->att + (size_t)l * B * NH * T * T;
		float *attproj = a->attproj + ln * C, *residual2 = a->residual2 + ln * C;
		float *ln2 = a->ln2 + ln * C, *fch = a->fch + ln * 4 * C;
		float *fch_gelu = a->fch_gelu + ln * 4 * C, *fcproj = a->fcproj + ln * C;
		float *residual3 = a->residual3 + ln * C;

		kernels_layernorm_forward(ln1, a->ln1_mean + ln, a->ln1_rstd + ln, residual,
		    p->ln1w + lc, p->ln1b + lc, (int)N, C);
		kernels_matmul_forward(qkv, ln1, p->qkvw + lc * 3 * C, p->qkvb + lc * 3,
		    (int)N, C, 3 * C);
		kernels_attention_forward(atty, att, qkv, m->mask, B, T, C, NH);
		kernels_matmul_forward(attproj, atty, p->attprojw + lc * C,
		    p->attprojb + lc, (int)N, C, C);
		kernels_residual_forward(residual2, residual, attproj, (int)(N * C));
		kernels_layernorm_forward(ln2, a->ln2_mean + ln, a->ln2_rstd + ln,
		    residual2, p->ln2w + lc, p->ln2b + lc, (int)N, C);
		kernels_matmul_forward(fch, ln2, p->fcw + lc * 4 * C, p->fcb + lc * 4,
		    (int)N, C, 4 * C);
		kernels_gelu_forward(fch_gelu, fch, (int)(N * 4 * C));
		kernels_matmul_forward(fcproj, fch_gelu, p->fcprojw + lc * 4 * C,
		    p->fcprojb + lc, (int)N, 4 * C, C);
		kernels_residual_forward(residual3, residual2, fcproj, (int)(N * C));
	}
	residual = a->residual3 + (size_t)(L - 1) * N * C;
	kernels_layernorm_forward(a->lnf, a->lnf_mean, a->lnf_rstd, residual, p->lnfw,
	    p->lnfb, (int)N, C);
	kernels_matmul_forward(m->logits, a->lnf, p->wte, NULL, (int)N, C, Vp);
	m->have_forward = 1;
	return 0;
}

/* Logits of the last forward pass. */
float *
gpt_logits(struct gpt_model *m)
{
	return m->logits;
}

/* Gradient buffer for the logits. */
float *
gpt_dlogits(struct gpt_model *m)
{
	return m->dlogits;
}

/* Mean cross-entropy over the first V columns; fills dlogits. */
float
gpt_loss_ce(struct gpt_model *m, const int *targets)
{
	size_t N = (size_t)m->B * (size_t)m->T;
	int V = m->config.vocab_size, Vp = m->config.padded_vocab_size;
	size_t count = 0;
	double sum;

	for (size_t i = 0; i < N; i++)
		if (targets[i] >= 0)
			count++;
	if (count == 0) {
		memset(m->dlogits, 0, N * (size_t)Vp * sizeof(float));
		return 0.0f;
	}
	sum = kernels_crossentropy(m->losses, m->dlogits, m->logits, targets,
	    1.0f / (float)count, (int)N, V, Vp);
	return (float)(sum / (double)count);
}

/* Allocate the gradient block. */
static int
gpt_alloc_grads(struct gpt_model *m, char **cause)
{
	if (m->grads_memory != NULL)
		return 0;
	m->grads_memory = util_alloc(m->num_params * sizeof(float));
	if (m->grads_memory == NULL)
		return util_error(cause, "out of memory for gradients");
	gpt_point_params(&m->grads, m->grads_memory, m->sizes);
	return 0;
}

/* Zero the gradients. */
int
gpt_zero_grad(struct gpt_model *m, char **cause)
{
	if (gpt_alloc_grads(m, cause) != 0)
		return -1;
	memset(m->grads_memory, 0, m->num_params * sizeof(float));
	return 0;
}

/* The gradient block (NULL before gpt_zero_grad). */
float *
gpt_grad_memory(struct gpt_model *m)
{
	return m->grads_memory;
}

/* Backward pass from dlogits into the parameter gradients. */
int
gpt_backward(struct gpt_model *m, char **cause)
{
	const struct gpt_config *c = &m->config;
	int B = m->B, T = m->T, C = c->channels, L = c->num_layers, NH = c->num_heads;
	int Vp = c->padded_vocab_size;
	size_t N = (size_t)B * (size_t)T;
	struct gpt_params *p = &m->params, *g = &m->grads;
	struct gpt_acts *a = &m->acts;
	struct gpt_back *bk = &m->back;
	float *dres = bk->dresidual;

	if (!m->have_forward)
		return util_error(cause, "backward without a forward pass");
	if (gpt_alloc_grads(m, cause) != 0)
		return -1;

	/*
	 * LM head and final LayerNorm. The _into kernels overwrite the input
	 * gradient they produce, so only dres, which LayerNorm adds to, is zeroed.
	 */
	kernels_matmul_backward_into(bk->dln, g->wte, NULL, m->dlogits, a->lnf, p->wte,
	    (int)N, C, Vp);
	memset(dres, 0, N * C * sizeof(float));
	kernels_layernorm_backward(dres, g->lnfw, g->lnfb, bk->dln,
	    a->residual3 + (size_t)(L - 1) * N * C, p->lnfw, a->lnf_mean, a->lnf_rstd,
	    (int)N, C);

	for (int l = L - 1; l >= 0; l--) {
		size_t lc = (size_t)l * C, ln = (size_t)l * N;
		float *residual = l == 0 ? a->encoded : a->residual3 + (size_t)(l - 1) * N * C;

		/* residual3 = residual2 + fcproj: dres is the gradient of both. */
		kernels_matmul_backward_into(bk->dfch_gelu, g->fcprojw + lc * 4 * C,
		    g->fcprojb + lc, dres, a->fch_gelu + ln * 4 * C,
		    p->fcprojw + lc * 4 * C, (int)N, 4 * C, C);
		kernels_gelu_backward_into(bk->dfch, a->fch + ln * 4 * C, bk->dfch_gelu,
		    (int)(N * 4 * C));
		kernels_matmul_backward_into(bk->dln, g->fcw + lc * 4 * C, g->fcb + lc * 4,
		    bk->dfch, a->ln2 + ln * C, p->fcw + lc * 4 * C, (int)N, C, 4 * C);
		kernels_layernorm_backward(dres, g->ln2w + lc, g->ln2b + lc, bk->dln,
		    a->residual2 + ln * C, p->ln2w + lc, a->ln2_mean + ln,
		    a->ln2_rstd + ln, (int)N, C);

		/* residual2 = residual + attproj. */
		kernels_matmul_backward_into(bk->datty, g->attprojw + lc * C, g->attprojb + lc,
		    dres, a->atty + ln * C, p->attprojw + lc * C, (int)N, C, C);
		kernels_attention_backward_into(bk->dqkv, bk->scratch, m->nscratch, bk->datty,
		    a->qkv + ln * 3 * C, a->att + (size_t)l * B * NH * T * T, m->mask,
		    B, T, C, NH);
		kernels_matmul_backward_into(bk->dln, g->qkvw + lc * 3 * C, g->qkvb + lc * 3,
		    bk->dqkv, a->ln1 + ln * C, p->qkvw + lc * 3 * C, (int)N, C, 3 * C);
		kernels_layernorm_backward(dres, g->ln1w + lc, g->ln1b + lc, bk->dln,
		    residual, p->ln1w + lc, a->ln1_mean + ln, a->ln1_rstd + ln, (int)N, C);
	}
	kernels_encoder_backward(g->wte, g->wpe, dres, m->inputs, m->pos, B, T, C);
	return 0;
}

/* Allocate AdamW's moments. */
int
gpt_alloc_adam(struct gpt_model *m, char **cause)
{
	if (m->m_memory != NULL)
		return 0;
	m->m_memory = util_alloc(m->num_params * sizeof(float));
	m->v_memory = util_alloc(m->num_params * sizeof(float));
	if (m->m_memory == NULL || m->v_memory == NULL) {
		util_free(m->m_memory);
		util_free(m->v_memory);
		m->m_memory = m->v_memory = NULL;
		return util_error(cause, "out of memory for optimizer state");
	}
	return 0;
}

/* AdamW's first moment. */
float *
gpt_adam_m(struct gpt_model *m)
{
	return m->m_memory;
}

/* AdamW's second moment. */
float *
gpt_adam_v(struct gpt_model *m)
{
	return m->v_memory;
}

/* A parallel AdamW job: one tensor at a time, split in ranges. */
struct gpt_adam_job {
	float *param, *grad, *m, *v;
	long n;
	float lr, beta1, beta2, eps, wd, scale, bc1, bc2;
	double partial[64]; /* sums of squares per task */
};

/* Sum of squares of one range of the gradient. */
static void
gpt_sumsq_task(void *arg, int task, int ntasks)
{
	struct gpt_adam_job *j = arg;
	long first, last;
	double s = 0;

	pool_range(j->n, task, ntasks, &first, &last);
	for (long i = first; i < last; i++)
		s += (double)j->grad[i] * (double)j->grad[i];
	j->partial[task] = s;
}

/* AdamW on one range of one tensor. */
static void
gpt_adam_task(void *arg, int task, int ntasks)
{
	struct gpt_adam_job *j = arg;
	long first, last;

	pool_range(j->n, task, ntasks, &first, &last);
	for (long i = first; i < last; i++) {
		float gr = j->grad[i] * j->scale;
		float mi = j->beta1 * j->m[i] + (1.0f - j->beta1) * gr;
		float vi = j->beta2 * j->v[i] + (1.0f - j->beta2) * gr * gr;
		float mhat = mi / j->bc1, vhat = vi / j->bc2;
		j->m[i] = mi;
		j->v[i] = vi;
		j->param[i] -= j->lr * (mhat / (sqrtf(vhat) + j->eps) + j->wd * j->param[i]);
	}
}

/* Tasks for a loop over n parameters. */
static int
gpt_tasks(size_t n)
{
	int t = pool_threads();

	if (t > 64)
		t = 64;
	return n < 65536 ? 1 : t;
}

/* One AdamW step with global-norm clipping; skipped if the gradient is not finite. */
int
gpt_update(struct gpt_model *m, const struct gpt_adamw *o, long t, float *grad_norm,
    char **cause)
{
	struct gpt_adam_job j;
	double sumsq = 0;
	float norm;
	size_t off = 0;
	int ntasks = gpt_tasks(m->num_params);

	if (m->grads_memory == NULL)
		return util_error(cause, "update without gradients");
	if (gpt_make_private(m, cause) != 0 || gpt_alloc_adam(m, cause) != 0)
		return -1;
	memset(&j, 0, sizeof j);
	j.grad = m->grads_memory;
	j.n = (long)m->num_params;
	pool_run(gpt_sumsq_task, &j, ntasks);
	for (int i = 0; i < ntasks; i++)
		sumsq += j.partial[i];
	norm = (float)sqrt(sumsq);
	if (grad_norm != NULL)
		*grad_norm = norm;
	if (!isfinite(sumsq) || !isfinite(norm))
		return 1;
	j.scale = 1.0f;
	if (o->grad_clip > 0 && norm > o->grad_clip)
		j.scale = o->grad_clip / norm;
	j.bc1 = 1.0f - powf(o->beta1, (float)t);
	j.bc2 = 1.0f - powf(o->beta2, (float)t);
	j.lr = o->lr;
	j.beta1 = o->beta1;
	j.beta2 = o->beta2;
	j.eps = o->eps;
	for (int k = 0; k < GPT_NUM_TENSORS; k++) {
		j.param = m->params_memory + off;
		j.grad = m->grads_memory + off;
		j.m = m->m_memory + off;
		j.v = m->v_memory + off;
		j.n = (long)m->sizes[k];
		j.wd = gpt_tensor_is_matrix(k) ? o->weight_decay : 0.0f;
		pool_run(gpt_adam_task, &j, gpt_tasks(m->sizes[k]));
		off += m->sizes[k];
	}
	return 0;
}

/* ---- KV-cached decoding ---- */

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
 * cache has one, else sgemv for one row and sgemm otherwise.
 */
static void
gpt_linear(const struct gpt_kv *kv, const struct quant_matrix *qw, float *out,
    const float *inp, const float *w, const float *b, int n, int C, int OC)
{
	if (kv->w != NULL) {
		quant_matmul(out, inp, qw, b, n, kv->qwork);
		return;
	}
	if (n == 1) {
		struct quant_matrix fm = { .format = QUANT_FP32, .rows = OC, .cols = C,
		    .stride = C, .f32 = w };

		quant_matmul(out, inp, &fm, b, 1, NULL);
	} else
		kernels_matmul_forward(out, inp, w, b, n, C, OC);
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
 * tests/bench/decode-bench), and at any length from GPT_KV_SPLIT_WIDTH: the
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
