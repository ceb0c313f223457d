/*
 * gpt.h: the GPT-2 model: configuration, parameters, training forward and
 * backward with tree masks and position ids, AdamW, and KV-cached decoding.
 */
#ifndef SEQMATCH_GPT_H
#define SEQMATCH_GPT_H

#include <stddef.h>
#include <stdint.h>

/* Limits that keep sizes sane when reading untrusted files. */
#define GPT_MAX_LAYERS 256
#define GPT_MAX_CHANNELS 16384
#define GPT_MAX_SEQ_LEN 65536
#define GPT_MAX_VOCAB 1048576
#define GPT_MAX_PARAMS (8ULL << 30) /* floats */

struct gpt_config {
	int max_seq_len;       /* T: longest sequence (rows of wpe) */
	int vocab_size;        /* V: real tokens, <|endoftext|> included */
	int padded_vocab_size; /* Vp >= V+1: rows of wte; row V is <bksp> */
	int num_layers;        /* L */
	int num_heads;         /* NH */
	int channels;          /* C, a multiple of NH */
};

/* The parameter tensors, in storage order. */
#define GPT_NUM_TENSORS 16
struct gpt_params {
	float *wte;      /* (Vp, C) token embeddings, tied with the LM head */
	float *wpe;      /* (maxT, C) */
	float *ln1w;     /* (L, C) */
	float *ln1b;     /* (L, C) */
	float *qkvw;     /* (L, 3C, C) */
	float *qkvb;     /* (L, 3C) */
	float *attprojw; /* (L, C, C) */
	float *attprojb; /* (L, C) */
	float *ln2w;     /* (L, C) */
	float *ln2b;     /* (L, C) */
	float *fcw;      /* (L, 4C, C) */
	float *fcb;      /* (L, 4C) */
	float *fcprojw;  /* (L, C, 4C) */
	float *fcprojb;  /* (L, C) */
	float *lnfw;     /* (C) */
	float *lnfb;     /* (C) */
};

/* Check a configuration (ranges, divisibility, total size). */
int gpt_config_check(const struct gpt_config *cfg, char **cause);
/* Sizes (in floats) of the GPT_NUM_TENSORS tensors; returns the total. */
size_t gpt_config_sizes(const struct gpt_config *cfg, size_t sizes[GPT_NUM_TENSORS]);
const char *gpt_tensor_name(int i);
/* Whether tensor i is a matrix (weight decay applies to matrices only). */
int gpt_tensor_is_matrix(int i);

struct gpt_model;

/* A model with zeroed parameters; training state is allocated on first use. */
struct gpt_model *gpt_new(const struct gpt_config *cfg, char **cause);
void gpt_free(struct gpt_model *m);
/*
 * A model whose parameters (gpt_config_sizes' total, in gpt_params order) are
 * read in place from memory it does not own, such as a read-only mapping of a
 * checkpoint: nothing is copied, and the block must stay valid until
 * release(arg) (called by gpt_free, or by gpt_make_private once the model has
 * its own copy; release may be NULL). Such a model must not be written
 * through gpt_param_memory until gpt_make_private.
 */
struct gpt_model *gpt_new_external(const struct gpt_config *cfg, const float *params,
    void (*release)(void *arg), void *arg, char **cause);
/*
 * Give a model with external parameters a writable copy of its own and
 * release the external block (gpt_update and the fine-tuner call it; a no-op
 * for a model that owns its parameters).
 */
int gpt_make_private(struct gpt_model *m, char **cause);
/* Whether the parameters are external (read in place, not writable). */
int gpt_params_external(const struct gpt_model *m);
/*
 * Memory of a model in bytes: *mapped, its external parameter block (0 when
 * it owns them); *private_bytes, what it allocated itself (parameters,
 * gradients, AdamW state, training activations).
 */
void gpt_memory(const struct gpt_model *m, size_t *mapped, size_t *private_bytes);
/*
 * Whether the <bksp> row of wte (row V) is a trained action. A base model
 * trained with MLE has not; fine-tuning adds it (gpt_init_bksp) and the
 * checkpoint's record says so ("actions" = "bksp").
 */
int gpt_has_bksp(const struct gpt_model *m);
void gpt_set_bksp(struct gpt_model *m, int on);
/*
 * Give <bksp> a starting row: the mean of the V token rows, so that its logit
 * starts near the mean logit (a small probability) and moves with the rest.
 * This and gpt_init_random write the parameters: not for a model with
 * external ones (gpt_make_private first).
 */
void gpt_init_bksp(struct gpt_model *m);
/* GPT-2 initialisation: N(0, 0.02), residual projections / sqrt(2L), LN 1 and 0. */
void gpt_init_random(struct gpt_model *m, uint64_t seed);
const struct gpt_config *gpt_config(const struct gpt_model *m);
size_t gpt_num_params(const struct gpt_model *m);
/* The parameter block; writable only when !gpt_params_external(m). */
float *gpt_param_memory(struct gpt_model *m);
const struct gpt_params *gpt_params(const struct gpt_model *m);

/*
 * Training forward pass on a (B,T) batch.
 * inputs (B,T) token ids in [0, Vp); pos (B,T) position ids in [0, maxT), or NULL
 * for 0..T-1; parent (B,T) tree of each sequence (see kernels_mask_build), or
 * NULL for the causal chain. Activations are (re)allocated when B*T grows.
 * Afterwards gpt_logits() holds (B,T,Vp).
 */
int gpt_forward(struct gpt_model *m, const int *inputs, const int *pos,
    const int *parent, int B, int T, char **cause);
float *gpt_logits(struct gpt_model *m);
/* Gradient of the loss with respect to the logits (B,T,Vp), filled by the loss. */
float *gpt_dlogits(struct gpt_model *m);
/*
 * Mean cross-entropy over positions with targets[i] >= 0 (B,T); fills dlogits.
 * Returns the mean loss (0 and zero dlogits if no target).
 */
float gpt_loss_ce(struct gpt_model *m, const int *targets);
/* Zero the parameter gradients (allocating them on first use). */
int gpt_zero_grad(struct gpt_model *m, char **cause);
/* Backward from gpt_dlogits(); accumulates into the parameter gradients. */
int gpt_backward(struct gpt_model *m, char **cause);
float *gpt_grad_memory(struct gpt_model *m);

struct gpt_adamw {
	float lr;
	float beta1;
	float beta2;
	float eps;
	float weight_decay; /* matrices only */
	float grad_clip;    /* clip the global norm to this; <= 0: no clipping */
};
/*
 * One AdamW step (t is the 1-based step count for bias correction).
 * *grad_norm gets the global gradient norm before clipping. Returns 1 and
 * changes nothing if the gradient is not finite, 0 after an update.
 */
int gpt_update(struct gpt_model *m, const struct gpt_adamw *opt, long t,
    float *grad_norm, char **cause);
/* AdamW first and second moments (NULL before the first update). */
float *gpt_adam_m(struct gpt_model *m);
float *gpt_adam_v(struct gpt_model *m);
/* Allocate (zeroed) AdamW state, e.g. before loading it from a file. */
int gpt_alloc_adam(struct gpt_model *m, char **cause);

/*
 * KV-cached decoding of one sequence. Slot i holds the keys and values of the
 * token at effective position i (its position id is i) and the final hidden
 * state (after the last LayerNorm). Truncating drops slots at no cost; the
 * logits of the last slot come from its cached hidden state.
 */
struct gpt_kv;
struct gpt_kv *gpt_kv_new(const struct gpt_model *m, int capacity, char **cause);
void gpt_kv_free(struct gpt_kv *kv);
int gpt_kv_len(const struct gpt_kv *kv);
int gpt_kv_capacity(const struct gpt_kv *kv);
void gpt_kv_truncate(struct gpt_kv *kv, int n);
/* Run tokens (n) through the model at slots len..len+n-1. */
int gpt_kv_append(const struct gpt_model *m, struct gpt_kv *kv, const int *tokens,
    int n, char **cause);
/* logits (Vp) of the state after slot `slot` (0 <= slot < len). */
void gpt_kv_logits(const struct gpt_model *m, const struct gpt_kv *kv, int slot,
    float *logits);
/*
 * Decode with the block matrices and the LM head in another format (see
 * engine/quant.h; engine/qweights.c builds these from a model's fp32
 * parameters). Embeddings, biases and LayerNorms stay fp32. w (NULL: back to
 * the model's fp32 matrices) must outlive its use by this cache; the cache's
 * slots are kept, so a caller switching weights truncates it first.
 */
struct quant_matrix;
struct gpt_kv_weights {
	const struct quant_matrix *qkvw;     /* L matrices (3C, C) */
	const struct quant_matrix *attprojw; /* L matrices (C, C) */
	const struct quant_matrix *fcw;      /* L matrices (4C, C) */
	const struct quant_matrix *fcprojw;  /* L matrices (C, 4C) */
	const struct quant_matrix *wte;      /* (Vp, C) LM head */
};
int gpt_kv_set_weights(struct gpt_kv *kv, const struct gpt_kv_weights *w,
    char **cause);
/* Final hidden state (C) at a slot (for features). */
const float *gpt_kv_hidden(const struct gpt_kv *kv, int slot);

#endif
