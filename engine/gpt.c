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
 * KV-cached decoding is in engine/gpt-kv.c.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpt-impl.h"
#include "kernels.h"
#include "pool.h"
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

/* Tasks for a loop over n parameters. */
static int
gpt_tasks(size_t n)
{
	int t = pool_threads();

	if (t > 64)
		t = 64;
	return n < 65536 ? 1 : t;
}

/*
 * Zeroing the gradient, split across the pool: one thread's memset of the
 * 124M model's 497 MB took 47 ms of a training step on the 2-vCPU Intel Xeon.
 */
struct gpt_zero_job {
	float *p;
	long n;
};

static void
gpt_zero_task(void *arg, int task, int ntasks)
{
	struct gpt_zero_job *j = arg;
	long first, last;

	pool_range(j->n, task, ntasks, &first, &last);
	memset(j->p + first, 0, (size_t)(last - first) * sizeof *j->p);
}

/* Zero the gradients. */
int
gpt_zero_grad(struct gpt_model *m, char **cause)
{
	struct gpt_zero_job j;

	if (gpt_alloc_grads(m, cause) != 0)
		return -1;
	j.p = m->grads_memory;
	j.n = (long)m->num_params;
	pool_run(gpt_zero_task, &j, gpt_tasks(m->num_params));
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

/*
 * Sum of squares of one range of the gradient, in eight sums: with one, the
 * latency of its chain of additions made this pass take about 80 ms of a 124M
 * training step on the 2-vCPU Intel Xeon, where reading the gradient takes 14.
 */
KERNELS_CLONES static void
gpt_sumsq_task(void *arg, int task, int ntasks)
{
	struct gpt_adam_job *j = arg;
	const float *g = j->grad;
	long first, last, i;
	/* Named sums, not an array: GCC kept an array's sums in memory. */
	double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;

	pool_range(j->n, task, ntasks, &first, &last);
	for (i = first; i + 8 <= last; i += 8) {
		s0 += (double)g[i] * (double)g[i];
		s1 += (double)g[i + 1] * (double)g[i + 1];
		s2 += (double)g[i + 2] * (double)g[i + 2];
		s3 += (double)g[i + 3] * (double)g[i + 3];
		s4 += (double)g[i + 4] * (double)g[i + 4];
		s5 += (double)g[i + 5] * (double)g[i + 5];
		s6 += (double)g[i + 6] * (double)g[i + 6];
		s7 += (double)g[i + 7] * (double)g[i + 7];
	}
	for (; i < last; i++)
		s0 += (double)g[i] * (double)g[i];
	j->partial[task] = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
}

/*
 * AdamW on one range of one tensor. Cloned per CPU: compiled for the baseline
 * alone its divisions and square root ran four lanes at a time, and the 124M
 * update (with the sum of squares, also cloned) took 0.119-0.126 s a step
 * against 0.091-0.102 s cloned, about what reading and writing its 4 GB takes
 * (a one-off driver timing each part of four steps, the two builds in turn
 * twice; 2-vCPU Intel Xeon).
 */
KERNELS_CLONES static void
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
