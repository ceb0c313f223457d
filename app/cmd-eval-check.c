/*
 * cmd-eval-check.c: `seqmatch eval --check CMD`: count rule violations with an
 * external checker (its protocol is in checker.c), once per generation seed
 * and row (a model or the human row).
 *
 * Counted per row and generation seed: the share of texts with at least one
 * violation, and per kind the share of texts with at least one of that kind,
 * both per 100 texts. CMD sees SEQMATCH_CHECK_ROW ("human" or the model's
 * number) and SEQMATCH_CHECK_GEN_SEED (1, 2, ...) in its environment.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "checker.h"
#include "cmd-eval.h"

/* The index of violation kind name in e->kinds, adding it; -1 when there are too many. */
static int
cmd_eval_check_kind(struct cmd_eval *e, const char *name)
{
	for (int k = 0; k < e->nkinds; k++)
		if (strcmp(e->kinds[k], name) == 0)
			return k;
	if (e->nkinds == CMD_EVAL_MAX_KINDS)
		return -1;
	e->kinds[e->nkinds] = xstrdup(name);
	return e->nkinds++;
}

/* What the checker's callback fills: which kinds each text has. */
struct cmd_eval_check_seen {
	struct cmd_eval *e;
	unsigned char (*seen)[CMD_EVAL_MAX_KINDS]; /* (e->n) */
};

/* A violation of text i: mark its kind. */
static int
cmd_eval_check_note(int i, const char *kind, void *arg)
{
	struct cmd_eval_check_seen *s = arg;
	int k = cmd_eval_check_kind(s->e, kind);

	if (k < 0)
		return -1;
	s->seen[i][k] = 1;
	return 0;
}

/* Run the checker over one row's texts of generation seed g and count violations. */
int
cmd_eval_check_row(struct cmd_eval *e, struct cmd_eval_row *row,
    const struct cmd_eval_sample *prompts, int g)
{
	struct checker_text *t = xcalloc((size_t)e->n, sizeof *t);
	struct cmd_eval_check_seen s = { e, xcalloc((size_t)e->n, sizeof *s.seen) };
	long any = 0, count[CMD_EVAL_MAX_KINDS] = { 0 };
	char where[300], row_env[64], seed_env[64], *cause = NULL;
	const char *env[] = { row_env, seed_env, NULL };
	int ret = -1;

	snprintf(where, sizeof where, "generation seed %d, %s", g + 1, row->name);
	for (int i = 0; i < e->n; i++) {
		t[i].prompt = prompts[i].prompt_text;
		t[i].prompt_len = prompts[i].prompt_len;
		t[i].text = row->text[i];
		t[i].len = row->len[i];
		t[i].stop = generate_stop_name(row->stop[i]);
	}
	/* The checker may tell rows apart (e.g. to keep their texts). */
	if (row->kind == CMD_EVAL_ROW_MODEL)
		snprintf(row_env, sizeof row_env, "SEQMATCH_CHECK_ROW=%d", row->index);
	else
		snprintf(row_env, sizeof row_env, "SEQMATCH_CHECK_ROW=human");
	snprintf(seed_env, sizeof seed_env, "SEQMATCH_CHECK_GEN_SEED=%d", g + 1);
	if (checker_run(e->check_cmd, t, e->n, env, cmd_eval_check_note, &s, &cause) != 0) {
		app_error("--check '%s' (%s): %s", e->check_cmd, where, cause != NULL ? cause :
		    "failed");
		goto out;
	}
	for (int i = 0; i < e->n; i++) {
		int hit = 0;

		for (int k = 0; k < e->nkinds; k++) {
			count[k] += s.seen[i][k];
			hit |= s.seen[i][k];
		}
		any += hit;
	}
	row->v[CMD_EVAL_M_VIOLATIONS][g] = 100.0 * (double)any / e->n;
	for (int k = 0; k < e->nkinds; k++) {
		if (count[k] == 0)
			continue;
		if (row->kinds[k] == NULL)
			row->kinds[k] = xcalloc((size_t)e->gen_seeds, sizeof(double));
		row->kinds[k][g] = 100.0 * (double)count[k] / e->n;
	}
	ret = 0;
out:
	free(t);
	free(s.seen);
	free(cause);
	return ret;
}
