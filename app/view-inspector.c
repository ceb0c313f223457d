/*
 * view-inspector.c: the token inspector: for the event at the playback cursor
 * (the last event the text pane has applied), or the one selected in the text
 * pane (ui->log.inspect: a click, or m M on the marks of rewritten text), the
 * token appended or erased with its probability, the entropy of the model's
 * distribution and P(<bksp>) at that step, and the step's most likely
 * actions (generate.h's top[]) as rows: piece, bar, prob.
 * The chosen action's row is marked with '>'. Display only: it never takes
 * the focus.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "theme.h"
#include "tokenizer.h"
#include "ui.h"

#define VIEW_INSPECTOR_PIECE_MAX 16 /* columns of the piece column at most */

/* The inspector keeps no state: init hands back the ui, free does nothing. */
static void *
view_inspector_init(struct ui *ui)
{
	return ui;
}

/* Nothing to free (see view_inspector_init). */
static void
view_inspector_free(void *p)
{
}

/* The bytes of the UTF-8 character at s (n left) if it is complete and valid, else 0. */
static size_t
view_inspector_utf8(const uint8_t *s, size_t n)
{
	size_t want, i;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	want = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (want > n)
		return 0;
	for (i = 1; i < want; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return want;
}

/*
 * A token for display: <|endoftext|> and <bksp> by name, others quoted with
 * newlines, tabs, quotes, other control bytes and bytes that are not whole
 * UTF-8 characters (a BPE piece may split one) escaped.
 */
static void
view_inspector_piece(const struct tokenizer *tok, int id, char *buf, size_t size)
{
	const uint8_t *s;
	size_t n, k = 0, c;

	if (id == tokenizer_eot(tok)) {
		snprintf(buf, size, "%s", TOKENIZER_EOT_TEXT);
		return;
	}
	if (id == tokenizer_bksp(tok)) {
		snprintf(buf, size, "%s", TOKENIZER_BKSP_TEXT);
		return;
	}
	if (id < 0 || id > tokenizer_bksp(tok)) {
		snprintf(buf, size, "#%d", id);
		return;
	}
	s = tokenizer_piece(tok, id, &n);
	buf[k++] = '\'';
	for (size_t j = 0; j < n && k + 6 < size; j++) {
		if (s[j] == '\n' || s[j] == '\t' || s[j] == '\r' || s[j] == '\\' || s[j] == '\'') {
			buf[k++] = '\\';
			buf[k++] = s[j] == '\n' ? 'n' : s[j] == '\t' ? 't' : s[j] == '\r' ? 'r' :
			    (char)s[j];
		} else if (s[j] >= 0x20 && s[j] < 0x7f)
			buf[k++] = (char)s[j];
		else if (s[j] >= 0x80 && (c = view_inspector_utf8(s + j, n - j)) > 0 &&
		    k + c + 6 < size) {
			memcpy(buf + k, s + j, c);
			k += c;
			j += c - 1;
		} else
			k += (size_t)snprintf(buf + k, size - k, "\\x%02x", s[j]);
	}
	buf[k++] = '\'';
	buf[k] = '\0';
}

/* The theme slot of a probability (the same thresholds for every row). */
static int
view_inspector_prob_style(double p)
{
	return p >= 0.5 ? THEME_SLOT_PROB_HIGH : p >= 0.1 ? THEME_SLOT_PROB_MID :
	    THEME_SLOT_PROB_LOW;
}

/* Draw the pane. */
static void
view_inspector_draw(void *p, struct ui *ui, struct grid *g, struct grid_rect r, int focused)
{
	const struct ui_log *log = &ui->log;
	struct grid_rect in = grid_rect_inset(r, 1);
	size_t shown = log->shown < log->n ? log->shown : log->n;
	int clicked = log->inspect >= 0 && (size_t)log->inspect < log->n;
	const struct generate_event *ev;
	char title[96], piece[96], line[192];
	int erase, chosen, pw, bw, row = 0;

	if (clicked) {
		shown = (size_t)log->inspect + 1;
		snprintf(title, sizeof title, "Inspector%s%.1s - selected %zu/%zu",
		    ui->label != NULL ? " " : "", ui->label != NULL ? ui->label : "", shown, log->n);
	} else if (shown > 0)
		snprintf(title, sizeof title, "Inspector%s%.1s - event %zu/%zu",
		    ui->label != NULL ? " " : "", ui->label != NULL ? ui->label : "", shown, log->n);
	else
		snprintf(title, sizeof title, "Inspector");
	grid_box(g, r, focused ? GRID_BOX_HEAVY : GRID_BOX_LIGHT, title,
	    focused ? THEME_SLOT_BORDER_FOCUS : THEME_SLOT_BORDER, THEME_SLOT_TITLE, 0);
	if (grid_rect_empty(in))
		return;
	if (shown == 0 || ui->tok == NULL) {
		grid_put_trunc(g, in, 0, 0, "no token yet: generate, or step with . ,", in.w,
		    THEME_SLOT_DIM, 0);
		return;
	}
	ev = &log->ev[shown - 1];
	erase = ev->type == GENERATE_EVENT_ERASE;
	chosen = erase ? tokenizer_bksp(ui->tok) : ev->token;
	view_inspector_piece(ui->tok, ev->token, piece, sizeof piece);
	/* p: the chosen action's probability after the sampler chain (what was drawn from). */
	snprintf(line, sizeof line, erase ? "erased %s (<bksp> sampled p=%.3f)" :
	    "appended %s sampled p=%.3f", piece, ev->prob);
	grid_put_trunc(g, in, 0, row++, line, in.w, erase ? THEME_SLOT_ERASED :
	    THEME_SLOT_GENERATED, 0);
	if (isnan(ev->entropy)) /* a reopened format-1 session did not record them */
		snprintf(line, sizeof line, "entropy and P(<bksp>) not recorded");
	else if (ui->model_bksp && !isnan(ev->p_bksp))
		snprintf(line, sizeof line, (int)strlen("entropy 0.000 nats  model P(<bksp>) "
		    "0.000") <= in.w ? "entropy %.3f nats  model P(<bksp>) %.3f" :
		    "entropy %.3f  model P(<bksp>) %.3f", ev->entropy, ev->p_bksp);
	else
		snprintf(line, sizeof line, (int)strlen("entropy 0.000 nats  model P(<bksp>) "
		    "n/a") <= in.w ? "entropy %.3f nats  model P(<bksp>) n/a" :
		    "entropy %.3f  model P(<bksp>) n/a", ev->entropy);
	grid_put_trunc(g, in, 0, row++, line, in.w, THEME_SLOT_VALUE, 0);
	if (ev->n_top <= 0) {
		grid_put_trunc(g, in, 0, row, "no top alternatives recorded for this step", in.w,
		    THEME_SLOT_DIM, 0);
		return;
	}
	/* Columns: marker, piece, bar, " 0.625". */
	pw = in.w * 2 / 5 < VIEW_INSPECTOR_PIECE_MAX ? in.w * 2 / 5 : VIEW_INSPECTOR_PIECE_MAX;
	bw = in.w - 1 - pw - 1 - 6;
	for (int k = 0; k < ev->n_top && k < GENERATE_TOP && row < in.h; k++, row++) {
		const struct sampler_top *t = &ev->top[k];
		int mark = t->id == chosen;

		view_inspector_piece(ui->tok, t->id, piece, sizeof piece);
		if (mark)
			grid_put(g, in, 0, row, ">", THEME_SLOT_KEY, 0);
		grid_put_trunc(g, in, 1, row, piece, pw, mark ? THEME_SLOT_TEXT : THEME_SLOT_DIM,
		    mark ? GRID_ATTR_BOLD : 0);
		if (bw > 0)
			grid_hbar(g, in, 1 + pw + 1, row, bw, t->prob, THEME_SLOT_INSPECTOR_BAR,
			    THEME_SLOT_DIM);
		snprintf(line, sizeof line, "%.3f", t->prob);
		grid_put(g, in, in.w - 5, row, line, view_inspector_prob_style(t->prob), 0);
	}
}

/* No keys of its own: focused only so that z can zoom it. */
static int
view_inspector_key(void *p, struct ui *ui, int key)
{
	(void)p;
	(void)ui;
	(void)key;
	return UI_PASS;
}

const struct ui_pane view_inspector_pane = {
	.name = "Inspector",
	.init = view_inspector_init,
	.draw = view_inspector_draw,
	.key = view_inspector_key,
	.free = view_inspector_free,
};
