/*
 * cmd-eval-choose.c: the prompts, references and human texts of `seqmatch
 * eval`, one set per generation seed.
 *
 * References are cut by the generations' own stopping rule (a generation
 * stops at <|endoftext|> or at --max-tokens): every document with at least
 * --prompt-tokens + 1 tokens under the first model's tokenizer is a
 * candidate, and its continuation runs from the end of the prompt to
 * --max-tokens tokens or to the document's end, whichever comes first (the
 * documents hold no <|endoftext|>: their end plays its part). Taking only
 * long documents and always cutting at --max-tokens would make MAUVE measure
 * the cut (Pillutla et al. 2021 compare texts of the same length and format).
 *
 * For generation seed g the candidates are shuffled with a seed mixed from
 * --seed and g: the first n are the prompts (their continuations are the
 * references P), the next n, with the human row on, are held-out texts that
 * are scored like a model's generations: their own continuation after their
 * own first --prompt-tokens tokens, cut by the same rule. Too few candidates
 * is an error that says how many samples these settings allow.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cmd-eval.h"
#include "rng.h"
#include "textstats.h"
#include "tokenizer.h"

/* splitmix64 of x: the document shuffles and the sampling seeds. */
static uint64_t
cmd_eval_choose_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Decode ids into a malloc'd text; -1 with *cause. */
static int
cmd_eval_choose_decode(const struct tokenizer *tok, const int *ids, int n, char **text,
    size_t *len, char **cause)
{
	uint8_t *out;

	if (tokenizer_decode(tok, ids, (size_t)n, &out, len, cause) != 0)
		return -1;
	*text = (char *)out;
	return 0;
}

/* Print the "too few documents" error with the number of samples these settings allow. */
static void
cmd_eval_choose_too_few(const struct cmd_eval *e)
{
	int need = e->prompt_tokens + 1;

	if (e->ncand == 0)
		app_error("%s: no document has at least %d tokens (--prompt-tokens %d + 1) "
		    "under the first model's tokenizer; lower --prompt-tokens", e->corpus_path,
		    need, e->prompt_tokens);
	else if (e->human && e->ncand < 2)
		app_error("%s: %zu document has at least %d tokens (--prompt-tokens %d + 1); "
		    "the human row needs 2 per sample; pass --no-human", e->corpus_path,
		    e->ncand, need, e->prompt_tokens);
	else if (e->human)
		app_error("%s: %zu documents have at least %d tokens (--prompt-tokens %d + 1); "
		    "--samples %d with the human row needs 2*%d = %ld; pass --samples %zu or "
		    "fewer (or --no-human)", e->corpus_path, e->ncand, need, e->prompt_tokens,
		    e->n, e->n, 2L * e->n, e->ncand / 2);
	else
		app_error("%s: %zu document%s at least %d tokens (--prompt-tokens %d + 1); "
		    "--samples %d needs %d; pass --samples %zu or fewer", e->corpus_path,
		    e->ncand, e->ncand == 1 ? " has" : "s have", need, e->prompt_tokens, e->n,
		    e->n, e->ncand);
}

/* Tokenize every document and keep the candidates, cut to prompt + max tokens. */
int
cmd_eval_choose_init(struct cmd_eval *e)
{
	const struct tokenizer *tok = e->models[0].tok;
	int keep = e->prompt_tokens + e->max_tokens;
	char *cause = NULL;

	e->cand = xcalloc(e->corpus->ndocs, sizeof *e->cand);
	e->ncand = 0;
	for (size_t doc = 0; doc < e->corpus->ndocs; doc++) {
		struct cmd_eval_doc *c;
		size_t n_ids;
		int *ids;

		if (tokenizer_encode(tok, (const uint8_t *)e->corpus->docs[doc],
		    e->corpus->lens[doc], &ids, &n_ids, &cause) != 0) {
			app_error("%s: document %zu: %s", e->corpus_path, doc + 1, cause);
			free(cause);
			return -1;
		}
		if (n_ids < (size_t)e->prompt_tokens + 1) {
			free(ids);
			continue;
		}
		c = &e->cand[e->ncand++];
		c->doc = doc;
		c->ids = ids;
		c->ended = n_ids <= (size_t)keep;
		c->n_ids = c->ended ? (int)n_ids : keep;
	}
	if (e->ncand < (size_t)e->n * (e->human ? 2 : 1)) {
		cmd_eval_choose_too_few(e);
		return -1;
	}
	return 0;
}

/* Cut sample i from candidate c: its prompt text, and its continuation into row. */
static int
cmd_eval_choose_cut(struct cmd_eval *e, struct cmd_eval_sample *s,
    const struct cmd_eval_doc *c, struct cmd_eval_row *row, int i, struct textstats *ts)
{
	const struct tokenizer *tok = e->models[0].tok;
	const int *cont = c->ids + e->prompt_tokens;
	int ncont = c->n_ids - e->prompt_tokens;
	char *cause = NULL;

	s->doc = c;
	if (cmd_eval_choose_decode(tok, c->ids, e->prompt_tokens, &s->prompt_text,
	    &s->prompt_len, &cause) != 0 || cmd_eval_choose_decode(tok, cont, ncont,
	    &row->text[i], &row->len[i], &cause) != 0 ||
	    textstats_add_ids(ts, cont, ncont, &cause) != 0) {
		app_error("%s: document %zu: %s", e->corpus_path, c->doc + 1, cause);
		free(cause);
		return -1;
	}
	row->stop[i] = c->ended ? GENERATE_STOP_EOT : GENERATE_STOP_MAX_TOKENS;
	return 0;
}

/* Choose generation seed g's prompts (and the human row's documents) and cut them. */
int
cmd_eval_choose_seed(struct cmd_eval *e, int g)
{
	size_t *order = xmalloc(e->ncand * sizeof *order);
	struct textstats ref, hum;
	struct rng rng;
	int ret = -1;

	for (size_t i = 0; i < e->ncand; i++)
		order[i] = i;
	rng_init(&rng, cmd_eval_choose_mix(e->seed ^ 0x65766c2d646f6373ULL ^
	    cmd_eval_choose_mix((uint64_t)g)));
	for (size_t i = e->ncand; i > 1; i--) {
		size_t j = (size_t)rng_below(&rng, i), t = order[i - 1];

		order[i - 1] = order[j];
		order[j] = t;
	}
	e->samples = xcalloc((size_t)e->n, sizeof *e->samples);
	cmd_eval_row_alloc(&e->ref, e->n);
	textstats_init(&ref);
	textstats_init(&hum);
	if (e->human) {
		e->others = xcalloc((size_t)e->n, sizeof *e->others);
		cmd_eval_row_alloc(&e->hum, e->n);
	}
	for (int i = 0; i < e->n; i++) {
		struct cmd_eval_sample *s = &e->samples[i];

		if (cmd_eval_choose_cut(e, s, &e->cand[order[i]], &e->ref, i, &ref) != 0)
			goto out;
		s->seed = cmd_eval_choose_mix(cmd_eval_choose_mix(e->seed + (uint64_t)g *
		    0x9e3779b97f4a7c15ULL) + (uint64_t)i * 0xd1b54a32d192ed03ULL) &
		    0x7fffffffffffffffULL;
		if (e->human && cmd_eval_choose_cut(e, &e->others[i],
		    &e->cand[order[(size_t)e->n + (size_t)i]], &e->hum, i, &hum) != 0)
			goto out;
	}
	textstats_finish(&ref);
	cmd_eval_row_textstats(&e->ref, g, &ref);
	cmd_eval_row_stops(&e->ref, g, e->n);
	if (e->human) {
		textstats_finish(&hum);
		cmd_eval_row_textstats(&e->hum, g, &hum);
		cmd_eval_row_stops(&e->hum, g, e->n);
		e->hum.v[CMD_EVAL_M_EMPTY][g] = 0;
	}
	ret = 0;
out:
	textstats_release(&ref);
	textstats_release(&hum);
	free(order);
	return ret;
}

/* Free one array of samples. */
static void
cmd_eval_choose_free_samples(struct cmd_eval_sample *s, int n)
{
	if (s == NULL)
		return;
	for (int i = 0; i < n; i++)
		free(s[i].prompt_text);
	free(s);
}

/* Free the current generation seed's samples and every row's texts. */
void
cmd_eval_choose_clear(struct cmd_eval *e)
{
	cmd_eval_choose_free_samples(e->samples, e->n);
	cmd_eval_choose_free_samples(e->others, e->n);
	e->samples = e->others = NULL;
	cmd_eval_row_clear(&e->ref, e->n);
	cmd_eval_row_clear(&e->hum, e->n);
	for (int m = 0; m < e->nmodels; m++)
		cmd_eval_row_clear(&e->models[m].row, e->n);
}

/* Free the candidates. */
void
cmd_eval_choose_free(struct cmd_eval *e)
{
	for (size_t i = 0; i < e->ncand; i++)
		free(e->cand[i].ids);
	free(e->cand);
	e->cand = NULL;
	e->ncand = 0;
}
