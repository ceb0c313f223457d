/*
 * featurize.c: MAUVE features from a frozen model's final hidden state.
 *
 * Each text is prefilled in one call into a KV cache that is emptied (not
 * freed) between texts; the cache keeps the post-LayerNorm hidden state of
 * every slot, so the feature is a copy of the last slot's.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "featurize.h"
#include "gpt.h"
#include "tokenizer.h"
#include "util.h"

struct featurizer {
	const struct gpt_model *model;
	const struct tokenizer *tok;
	int max_tokens;
	int C;
	struct gpt_kv *kv; /* capacity max_tokens */
};

/* A featurizer over a model and its tokenizer. */
struct featurizer *
featurize_new(const struct gpt_model *m, const struct tokenizer *tok, int max_tokens,
    char **cause)
{
	const struct gpt_config *cfg = gpt_config(m);
	struct featurizer *f;

	if (tokenizer_vocab_size(tok) != cfg->vocab_size) {
		util_error(cause, "tokenizer has %d tokens but the model %d",
		    tokenizer_vocab_size(tok), cfg->vocab_size);
		return NULL;
	}
	if (max_tokens <= 0)
		max_tokens = FEATURIZE_DEFAULT_MAX_TOKENS;
	if (max_tokens > cfg->max_seq_len)
		max_tokens = cfg->max_seq_len;
	if ((f = calloc(1, sizeof *f)) == NULL) {
		util_error(cause, "out of memory");
		return NULL;
	}
	f->model = m;
	f->tok = tok;
	f->max_tokens = max_tokens;
	f->C = cfg->channels;
	if ((f->kv = gpt_kv_new(m, max_tokens, cause)) == NULL) {
		free(f);
		return NULL;
	}
	return f;
}

/* Free a featurizer (not its model or tokenizer). */
void
featurize_free(struct featurizer *f)
{
	if (f == NULL)
		return;
	gpt_kv_free(f->kv);
	free(f);
}

/* Feature width. */
int
featurize_dim(const struct featurizer *f)
{
	return f->C;
}

/* Effective truncation length. */
int
featurize_max_tokens(const struct featurizer *f)
{
	return f->max_tokens;
}

/* Feature of token ids: the hidden state at the last of the first max_tokens. */
int
featurize_ids(struct featurizer *f, const int *ids, int n, float *out, char **cause)
{
	if (n <= 0)
		return FEATURIZE_EMPTY;
	if (n > f->max_tokens)
		n = f->max_tokens;
	gpt_kv_truncate(f->kv, 0);
	if (gpt_kv_append(f->model, f->kv, ids, n, cause) != 0)
		return -1;
	memcpy(out, gpt_kv_hidden(f->kv, n - 1), (size_t)f->C * sizeof *out);
	return 0;
}

/* Feature of a text: tokenize, truncate, run. */
int
featurize_text(struct featurizer *f, const uint8_t *text, size_t len, float *out,
    int *n_tokens, int *truncated, char **cause)
{
	int *ids = NULL, ret;
	size_t n = 0;

	if (n_tokens != NULL)
		*n_tokens = 0;
	if (truncated != NULL)
		*truncated = 0;
	if (len == 0)
		return FEATURIZE_EMPTY;
	if (tokenizer_encode(f->tok, text, len, &ids, &n, cause) != 0)
		return -1;
	if (n == 0) {
		free(ids);
		return FEATURIZE_EMPTY;
	}
	if (truncated != NULL)
		*truncated = n > (size_t)f->max_tokens;
	if (n > (size_t)f->max_tokens)
		n = (size_t)f->max_tokens;
	ret = featurize_ids(f, ids, (int)n, out, cause);
	free(ids);
	if (ret == 0 && n_tokens != NULL)
		*n_tokens = (int)n;
	return ret;
}
