/* gpt-impl.h: the model struct, shared inside the engine (gpt.c, gpt-kv.c, trainers). */
#ifndef SEQMATCH_GPT_IMPL_H
#define SEQMATCH_GPT_IMPL_H

#include <stdint.h>

#include "gpt.h"

/* Activations of a training forward pass for one (B,T) shape. */
#define GPT_NUM_ACTS 19
struct gpt_acts {
	float *encoded;   /* (B,T,C) */
	float *ln1;       /* (L,B,T,C) */
	float *ln1_mean;  /* (L,B,T) */
	float *ln1_rstd;  /* (L,B,T) */
	float *qkv;       /* (L,B,T,3C) */
	float *atty;      /* (L,B,T,C) */
	float *att;       /* (L,B,NH,T,T) */
	float *attproj;   /* (L,B,T,C) */
	float *residual2; /* (L,B,T,C) */
	float *ln2;       /* (L,B,T,C) */
	float *ln2_mean;  /* (L,B,T) */
	float *ln2_rstd;  /* (L,B,T) */
	float *fch;       /* (L,B,T,4C) */
	float *fch_gelu;  /* (L,B,T,4C) */
	float *fcproj;    /* (L,B,T,C) */
	float *residual3; /* (L,B,T,C) */
	float *lnf;       /* (B,T,C) */
	float *lnf_mean;  /* (B,T) */
	float *lnf_rstd;  /* (B,T) */
};

/* Scratch for the backward pass, reused layer by layer. */
struct gpt_back {
	float *dresidual; /* (B,T,C) */
	float *dln;       /* (B,T,C) */
	float *datty;     /* (B,T,C) */
	float *dqkv;      /* (B,T,3C) */
	float *dfch;      /* (B,T,4C) */
	float *dfch_gelu; /* (B,T,4C) */
	float *scratch;   /* (nscratch,T,T) */
};

struct gpt_model {
	struct gpt_config config;
	int bksp;                 /* the <bksp> row (V) is a trained action */
	size_t sizes[GPT_NUM_TENSORS];
	size_t num_params;
	float *params_memory;
	/*
	 * External parameters (gpt_new_external): params_memory points into
	 * memory the model does not own and must not write (a read-only mapping
	 * of a checkpoint); params_release(params_arg) gives it back.
	 */
	int params_external;
	void (*params_release)(void *arg);
	void *params_arg;
	struct gpt_params params;
	float *grads_memory;      /* NULL until needed */
	struct gpt_params grads;
	float *m_memory;          /* AdamW, NULL until needed */
	float *v_memory;

	/* Training activations for the current (B,T). */
	int B, T;
	int nscratch;             /* T x T attention scratch blocks */
	float *acts_memory;
	struct gpt_acts acts;
	float *logits;            /* (B,T,Vp) */
	float *dlogits;           /* (B,T,Vp) */
	float *losses;            /* (B,T) per-position loss of gpt_loss_ce */
	float *back_memory;
	struct gpt_back back;
	int *inputs;              /* (B,T) copies of the last forward's inputs */
	int *pos;                 /* (B,T) */
	uint8_t *mask;            /* (B,T,T) */
	int have_forward;
	/* Capacities (elements) of the blocks above, kept across smaller shapes. */
	size_t acts_cap, back_cap, logits_cap, rows_cap, mask_cap;
};

/* Carve a block into the tensors of a gpt_params (pointer array order). */
void gpt_point_params(struct gpt_params *p, float *memory, const size_t *sizes);

#endif
