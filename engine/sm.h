/*
 * sm.h: the SequenceMatch objective (docs/sequencematch.md): action
 * sequences with <bksp> turned into one tree-masked forward pass (section 2),
 * noise augmentation of data (section 4), and the chi-squared mixture loss with
 * its gradient on the logits, plus behaviour cloning (section 3).
 */
#ifndef SEQMATCH_SM_H
#define SEQMATCH_SM_H

#include <stddef.h>
#include <stdint.h>

struct rng;

/* One trajectory: a prompt, then actions (token ids, <bksp>, <|endoftext|>). */
struct sm_traj {
	int *prompt;
	int n_prompt;
	int *actions;    /* (n_actions) */
	int *credit;     /* (n_actions) credited action y[t]; NULL: the actions */
	int n_actions;
	int is_data;     /* 1: data (noise-augmented), 0: the model's own sample */
	int terminal;    /* the last action is <|endoftext|> and ends the episode */
};

void sm_traj_release(struct sm_traj *t);
/* Deep copy. */
int sm_traj_copy(struct sm_traj *dst, const struct sm_traj *src, char **cause);
/*
 * A trajectory as ints (to send between processes): its sizes and flags, the
 * prompt, the actions and the credits. sm_traj_flat_len ints; sm_traj_flatten
 * writes them at p and returns the end; sm_traj_unflatten reads the one at
 * *at of n ints into t (allocated) and moves *at past it.
 */
size_t sm_traj_flat_len(const struct sm_traj *t);
int *sm_traj_flatten(const struct sm_traj *t, int *p);
int sm_traj_unflatten(const int *flat, size_t n, size_t *at, struct sm_traj *t,
    char **cause);

/*
 * Section 2: inputs of one trajectory. ids, pos, parent (n_inputs); sp
 * (n_actions + 1): the input position whose output is the state before
 * action t (sp[0]) and after it (sp[t+1]). A <bksp> at the prompt's floor
 * changes nothing.
 */
struct sm_layout {
	int n_inputs;
	int *ids, *pos, *parent;
	int *sp;
};

int sm_layout_build(const struct sm_traj *t, int bksp, struct sm_layout *out,
    char **cause);
void sm_layout_release(struct sm_layout *l);

/* Tunables of the objective (all recorded in checkpoints). */
struct sm_params {
	double gamma;       /* discount (0.998 in the paper; 0.99 for short windows) */
	double c;           /* weight of the quadratic term */
	double beta;        /* share of model trajectories in the mixture (1/2) */
	double v_term;      /* value of the terminal state (0) */
	double bc_weight;   /* weight of the BC term */
	double sm_weight;   /* weight of the SequenceMatch term */
};

void sm_params_defaults(struct sm_params *p);

/* Loss terms of one batch, for logging. */
struct sm_stats {
	double loss;          /* total (weighted) */
	double data_reward;   /* sum of -e*r terms */
	double quadratic;     /* sum of q*r^2 terms */
	double value;         /* sum of lam*(V(s) - gamma V(s')) terms */
	double bc;            /* BC cross-entropy (mean per data step) */
	double v0;            /* mean V(s0) */
	double mean_reward;   /* mean r over steps */
	double bksp_p_clean;  /* mean P(<bksp>) at data states credited a token */
	double bksp_p_noisy;  /* mean P(<bksp>) at data states credited <bksp> */
	long n_clean, n_noisy; /* the states of those two means */
	long steps;
};

/*
 * A packed batch: B rows of T inputs, each row one trajectory (padding rows
 * and positions carry no loss).
 */
struct sm_batch {
	int B, T;
	int *ids, *pos, *parent;       /* (B,T) */
	struct sm_layout *layouts;     /* (B) */
	const struct sm_traj **trajs;  /* (B) */
	/*
	 * The loss's normalisers: data and model trajectories, and data actions
	 * (BC's; 0: count this batch's). sm_batch_build sets the first two from
	 * the batch; a rank holding a share of a distributed batch sets all
	 * three to the global batch's, so that the ranks' gradients add up to
	 * the global batch's.
	 */
	int n_data, n_model;
	long data_steps;
};

/* Pack trajectories (n) into a batch of T = the longest layout (<= max_T). */
int sm_batch_build(const struct sm_traj *const *trajs, int n, int bksp, int max_T,
    struct sm_batch *b, char **cause);
void sm_batch_release(struct sm_batch *b);

/*
 * The loss of section 3 and its gradient. logits (B,T,Vp); the actions are
 * the first A = V+1 columns (tokens, <|endoftext|> and <bksp> = column V).
 * dlogits (B,T,Vp) is OVERWRITTEN. Returns 0, or -1 on bad input.
 * <bksp> is not an action in states at the prompt's floor (masked out).
 */
int sm_loss(const struct sm_batch *b, const float *logits, float *dlogits, int V,
    int Vp, int bksp, const struct sm_params *p, struct sm_stats *st, char **cause);

/* Longest noise burst (bursts are geometric with a small mean; this bounds depth). */
#define SM_MAX_BURST 8

/*
 * Section 4: noise augmentation of a data continuation. At each position,
 * with probability p_noise, a burst of noise tokens (length geometric with
 * mean burst_mean) is typed and then erased; the step that typed the first
 * noise token is credited with the intended data token, the rest of the burst
 * with <bksp>. noise_cdf (V) is the unigram CDF to draw noise from, or NULL
 * for uniform over ordinary tokens (eot excluded). proposal (n_cont), when
 * not NULL, gives the first token of a burst at each position: a token the
 * model itself proposed there instead of the data token (-1: no noise at
 * that position; -2: a burst as without proposals); the rest of a burst
 * still comes from noise_cdf.
 */
/* A noise token: uniform over the V - 1 ordinary tokens (cdf NULL), or from a unigram CDF. */
int sm_noise_token(const double *cdf, int V, int eot, struct rng *rng);

int sm_augment(const int *prompt, int n_prompt, const int *cont, int n_cont,
    int terminal, double p_noise, double burst_mean, const double *noise_cdf,
    const int *proposal, int V, int eot, int bksp, struct rng *rng,
    struct sm_traj *out, char **cause);

#endif
