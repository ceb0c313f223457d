/*
 * featurize.h: text features for MAUVE from a frozen model, as mauve-text
 * computes them: the text is tokenized, truncated to its first max_tokens
 * tokens, run through the model, and the feature is the final hidden state
 * after the last LayerNorm (C floats) at the last real token. Nothing is
 * prepended (no <|endoftext|>). A text with no tokens has no feature: it is
 * reported as FEATURIZE_EMPTY and the caller drops it (the package drops empty
 * texts too). See docs/mauve.md, step 1.
 */
#ifndef SEQMATCH_FEATURIZE_H
#define SEQMATCH_FEATURIZE_H

#include <stddef.h>
#include <stdint.h>

struct gpt_model;
struct tokenizer;

#define FEATURIZE_DEFAULT_MAX_TOKENS 1024
#define FEATURIZE_EMPTY 1 /* returned for a text with no tokens */

struct featurizer;

/*
 * A featurizer over a model and its tokenizer (both borrowed, not modified,
 * and they must outlive it). max_tokens <= 0 means the default (1024); it is
 * capped at the model's context. One KV cache is reused across texts.
 */
struct featurizer *featurize_new(const struct gpt_model *m, const struct tokenizer *tok,
    int max_tokens, char **cause);
void featurize_free(struct featurizer *f);
/* Feature width: the model's channels C. */
int featurize_dim(const struct featurizer *f);
/* The effective maximum number of tokens per text (after the cap). */
int featurize_max_tokens(const struct featurizer *f);

/*
 * The feature (C floats into out) of a text of len bytes. Returns 0, or
 * FEATURIZE_EMPTY (out untouched) when the text has no tokens, or -1 with a
 * message. *n_tokens (may be NULL) gets the number of tokens used, after
 * truncation; *truncated (may be NULL) is set when the text was longer.
 */
int featurize_text(struct featurizer *f, const uint8_t *text, size_t len, float *out,
    int *n_tokens, int *truncated, char **cause);
/* The same for token ids (n of them; ids past max_tokens are ignored). */
int featurize_ids(struct featurizer *f, const int *ids, int n, float *out,
    char **cause);

#endif
