/*
 * test-finetune.c: SequenceMatch fine-tuning end to end, on a planted
 * mistake: in the corpus 'b' never follows 'a'; a briefly trained base model
 * still writes "ab". After a short fine-tune (BC warm-up, then SequenceMatch)
 * the model puts more probability on <bksp> right after "ab" than after
 * allowed pairs, erases "ab" in its generations, and its final texts hold
 * fewer "ab" than the base model's (fixed seeds).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finetune.h"
#include "generate.h"
#include "gpt.h"
#include "record.h"
#include "rng.h"
#include "sampler.h"
#include "tap.h"
#include "tokenizer.h"
#include "train.h"

/* The corpus: 400 documents of 40 letters; after 'a' only a, c or d. */
static char *
make_corpus(size_t *len)
{
	struct rng rng;
	char *s = malloc(400 * 42 + 1), *p = s;

	rng_init(&rng, 1);
	for (int d = 0; d < 400; d++) {
		char c = (char)('a' + rng_below(&rng, 4));
		for (int k = 0; k < 40; k++) {
			*p++ = c;
			if (c == 'a')
				c = "acd"[rng_below(&rng, 3)];
			else
				c = (char)('a' + rng_below(&rng, 4));
		}
		*p++ = '\n';
		*p++ = '\n';
	}
	*p = '\0';
	*len = (size_t)(p - s);
	return s;
}

/* Probability of <bksp> after a text (model with <bksp>). */
static double
p_bksp_after(const struct gpt_model *m, const struct tokenizer *tok, const char *text)
{
	const struct gpt_config *c = gpt_config(m);
	struct gpt_kv *kv = gpt_kv_new(m, c->max_seq_len, NULL);
	float *l = malloc((size_t)c->padded_vocab_size * sizeof *l);
	int *ids;
	size_t n;
	double mx, sum = 0, p;

	tokenizer_encode(tok, (const uint8_t *)text, strlen(text), &ids, &n, NULL);
	gpt_kv_append(m, kv, ids, (int)n, NULL);
	gpt_kv_logits(m, kv, (int)n - 1, l);
	mx = l[0];
	for (int i = 0; i <= c->vocab_size; i++)
		mx = l[i] > mx ? l[i] : mx;
	for (int i = 0; i <= c->vocab_size; i++)
		sum += exp(l[i] - mx);
	p = exp(l[c->vocab_size] - mx) / sum;
	free(ids);
	free(l);
	gpt_kv_free(kv);
	return p;
}

struct text_acc {
	char buf[512];
	int len;
	int removed;	/* "ab" erased: the 'b' after an 'a' */
	const struct tokenizer *tok;
};

/* Keep the effective text of a generation. */
static int
text_cb(const struct generate_event *ev, void *arg)
{
	struct text_acc *a = arg;
	if (ev->type == GENERATE_EVENT_APPEND && a->len < 500) {
		size_t n;
		const uint8_t *p = tokenizer_piece(a->tok, ev->token, &n);
		if (n == 1)
			a->buf[a->len++] = (char)p[0];
	} else if (ev->type == GENERATE_EVENT_ERASE && a->len > 0) {
		if (a->len >= 2 && a->buf[a->len - 1] == 'b' && a->buf[a->len - 2] == 'a')
			a->removed++;
		a->len--;
	}
	return 0;
}

/* "ab" per 100 letters of final text over 40 seeded generations; *removed: erased "ab". */
static double
forbidden_rate(const struct gpt_model *m, const struct tokenizer *tok, int *removed)
{
	struct sampler_params sp;
	int prompt[2] = { 'c', 'a' }, ab = 0, letters = 0;

	sampler_defaults(&sp);
	sp.max_tokens = 40;
	*removed = 0;
	for (int s = 1; s <= 40; s++) {
		struct text_acc a;
		memset(&a, 0, sizeof a);
		a.tok = tok;
		a.buf[a.len++] = 'a';
		sp.seed = s;
		generate_run(m, tok, &sp, prompt, 2, text_cb, &a, NULL, NULL);
		for (int i = 1; i < a.len; i++)
			ab += a.buf[i - 1] == 'a' && a.buf[i] == 'b';
		*removed += a.removed;
		letters += a.len - 1;
	}
	return letters > 0 ? 100.0 * ab / letters : 0;
}

/* Copy a model's weights into a new model. */
static struct gpt_model *
clone_model(struct gpt_model *m)
{
	struct gpt_model *c = gpt_new(gpt_config(m), NULL);
	memcpy(gpt_param_memory(c), gpt_param_memory(m), gpt_num_params(m) * sizeof(float));
	gpt_set_bksp(c, gpt_has_bksp(m));
	return c;
}

int
main(void)
{
	size_t len;
	char *text = make_corpus(&len), *docs[1], *cause = NULL;
	size_t lens[1];
	struct tokenizer *tok;
	struct gpt_model *base, *m;
	struct train_data d;
	struct gpt_config cfg = { 64, 0, 0, 2, 4, 32 };
	struct train_run tr;
	struct finetune_options o;
	struct finetune *ft;
	struct record rec;
	double base_rate, sm_rate, p_ab, p_ok;
	int base_removed, sm_removed;
	char dir[] = "/tmp/seqmatch-test-ft.XXXXXX", path[300];

	if (mkdtemp(dir) == NULL)
		return 99;
	snprintf(path, sizeof path, "%s/base.bin", dir);
	docs[0] = text;
	lens[0] = len;
	tokenizer_train((const uint8_t *)text, len, 262, &tok, &cause);
	train_data_build(tok, docs, lens, 1, &d, &cause);
	cfg.vocab_size = tokenizer_vocab_size(tok);
	cfg.padded_vocab_size = (cfg.vocab_size + 1 + 63) / 64 * 64;
	base = gpt_new(&cfg, &cause);
	gpt_init_random(base, 5);

	/* A base model trained briefly: it has not learnt the rule yet. */
	record_init(&rec);
	memset(&tr, 0, sizeof tr);
	train_options_defaults(&tr.opt);
	tr.opt.batch_size = 8;
	tr.opt.seq_len = 48;
	tr.opt.steps = 25;
	tr.opt.lr = 3e-3f;
	tr.opt.warmup = 5;
	tr.opt.eval_every = 0;
	tr.opt.seed = 3;
	tr.model = base;
	tr.tok = tok;
	tr.train = &d;
	tr.rec = &rec;
	tr.out_path = path;
	tap_ok(train_run(&tr, &cause) == 25, "base model trained 25 steps");
	base_rate = forbidden_rate(base, tok, &base_removed);

	/* SequenceMatch fine-tune of a copy. */
	m = clone_model(base);
	finetune_options_defaults(&o);
	o.steps = 600;
	o.bc_warmup = 450;
	o.p_noise = 0.25;
	o.unigram_noise = 1;
	o.lr = 4e-3f;
	o.prompt_tokens = 4;
	o.window = 16;
	o.batch_size = 16;
	o.eval_every = 0;
	o.seed = 9;
	ft = finetune_new(m, tok, &d, NULL, &o, NULL, NULL, NULL, 0, &cause);
	tap_ok(ft != NULL, "fine-tune created: %s", ft ? "ok" : cause);
	tap_ok(finetune_run(ft, NULL, NULL, NULL, &cause) == 0, "600 steps: 450 of BC "
	    "warm-up, then SequenceMatch");
	{
		struct snapshot *s = finetune_snapshot(ft);
		sm_rate = forbidden_rate(s->model, tok, &sm_removed);
		p_ab = (p_bksp_after(s->model, tok, "cdab") + p_bksp_after(s->model, tok,
		    "dcab") + p_bksp_after(s->model, tok, "bbab")) / 3;
		p_ok = (p_bksp_after(s->model, tok, "cdac") + p_bksp_after(s->model, tok,
		    "dcad") + p_bksp_after(s->model, tok, "bbaa") + p_bksp_after(s->model,
		    tok, "cdcb")) / 4;
		snapshot_unref(s);
	}
	tap_diag("\"ab\" per 100 letters: base %.2f, SequenceMatch %.2f; P(<bksp>) after "
	    "\"ab\" %.3f, after allowed pairs %.3f", base_rate, sm_rate, p_ab, p_ok);
	tap_ok(base_rate > 0.2, "the base model makes the planted mistake (%.2f per 100)",
	    base_rate);
	tap_ok(sm_rate < base_rate / 2, "after SequenceMatch the final texts hold fewer "
	    "\"ab\" (%.2f vs %.2f per 100)", sm_rate, base_rate);
	tap_ok(p_ab > 1.5 * p_ok && p_ab > p_ok + 0.1, "P(<bksp>) right after \"ab\" "
	    "(%.3f) is well above that after allowed pairs (%.3f)", p_ab, p_ok);
	tap_ok(sm_removed > base_removed, "the fine-tuned model erases \"ab\" as it "
	    "writes (%d times in 40 generations; the base model %d)", sm_removed,
	    base_removed);
	finetune_free(ft);
	gpt_free(base);
	tokenizer_free(tok);
	train_data_release(&d);
	record_release(&rec);
	free(text);
	free(cause);
	remove(path);
	{
		char opt[320];
		snprintf(opt, sizeof opt, "%s.opt", path);
		remove(opt);
	}
	rmdir(dir);
	return tap_done();
}
