/*
 * cmd-eval-row.c: a row of eval's table (a model, or the human ceiling):
 * its per-generation-seed values and the texts of the seed being run. The
 * other cmd-eval files fill rows; this file only keeps them.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cmd-eval.h"

/* Allocate a row's per-generation-seed arrays, all NaN (undefined). */
void
cmd_eval_row_init(struct cmd_eval_row *row, enum cmd_eval_row_kind kind, const char *name,
    int gen_seeds)
{
	memset(row, 0, sizeof *row);
	row->kind = kind;
	row->name = name;
	for (int k = 0; k < CMD_EVAL_NMETRICS + CMD_EVAL_NSCORES; k++) {
		double *v = xmalloc((size_t)gen_seeds * sizeof *v);

		for (int g = 0; g < gen_seeds; g++)
			v[g] = NAN;
		if (k < CMD_EVAL_NMETRICS)
			row->v[k] = v;
		else
			row->ksd[k - CMD_EVAL_NMETRICS] = v;
	}
}

/* Allocate a row's n (empty) texts for the current generation seed. */
void
cmd_eval_row_alloc(struct cmd_eval_row *row, int n)
{
	row->text = xcalloc((size_t)n, sizeof *row->text);
	row->len = xcalloc((size_t)n, sizeof *row->len);
	row->stop = xcalloc((size_t)n, sizeof *row->stop);
}

/* Free a row's current texts and features. */
void
cmd_eval_row_clear(struct cmd_eval_row *row, int n)
{
	if (row->text != NULL)
		for (int i = 0; i < n; i++)
			free(row->text[i]);
	free(row->text);
	free(row->len);
	free(row->stop);
	free(row->q);
	row->text = NULL;
	row->len = NULL;
	row->stop = NULL;
	row->q = NULL;
	row->n_q = 0;
}

/* Free everything a row holds. */
void
cmd_eval_row_release(struct cmd_eval_row *row, int n)
{
	cmd_eval_row_clear(row, n);
	for (int k = 0; k < CMD_EVAL_NMETRICS; k++)
		free(row->v[k]);
	for (int k = 0; k < CMD_EVAL_NSCORES; k++)
		free(row->ksd[k]);
	for (int k = 0; k < CMD_EVAL_MAX_KINDS; k++)
		free(row->kinds[k]);
	free(row->mauve_error);
}

/* Record distinct-n and repetition of generation seed g. */
void
cmd_eval_row_textstats(struct cmd_eval_row *row, int g, const struct textstats *s)
{
	for (int k = 0; k < TEXTSTATS_MAX_N; k++)
		row->v[CMD_EVAL_M_DISTINCT_1 + k][g] = s->distinct[k];
	row->v[CMD_EVAL_M_REPETITION][g] = s->repetition_rate;
}

/* Record how many of generation seed g's texts ended (eot) or were cut at max-tokens. */
void
cmd_eval_row_stops(struct cmd_eval_row *row, int g, int n)
{
	long end = 0, max = 0;

	for (int i = 0; i < n; i++) {
		end += row->stop[i] == GENERATE_STOP_EOT;
		max += row->stop[i] == GENERATE_STOP_MAX_TOKENS;
	}
	row->v[CMD_EVAL_M_STOP_END][g] = (double)end;
	row->v[CMD_EVAL_M_STOP_MAX][g] = (double)max;
}
