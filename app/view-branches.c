/*
 * view-branches.c: the text pane's timeline view as a branch view. Row 0
 * sums up (positions rewritten, erases) or, when the log loops, flags the
 * loop in the error style with the knob that stops it (branches.c finds it).
 * Below, one row per position that was rewritten, up to the playback
 * position, the latest at the bottom:
 *
 *   slot 7: ' cat' x -> ' dog' x -> ' small'  ...there was a small model
 *
 * erased attempts dim with an x (a run of the same token collapsed into
 * "x23 erased/retyped"), the kept one in the generated style, then the kept
 * text around the position with the kept token marked. The loop's row is in
 * the error style and names the knob.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "branches.h"
#include "theme.h"
#include "tokenizer.h"
#include "ui.h"
#include "view-branches.h"

#define VIEW_BRANCHES_CONTEXT_BYTES 256 /* kept text gathered each side of a position */
#define VIEW_BRANCHES_MIN_CONTEXT 8     /* fewer cells left: no context */

/* The listed (rewritten) slots' indices into b->slots; returns how many. */
static int
view_branches_rows(const struct branches *b, int **rows)
{
	int n = 0;

	*rows = xmalloc(((size_t)b->n_slots + 1) * sizeof **rows);
	for (int i = 0; i < b->n_slots; i++)
		if (branches_slot_rewritten(&b->slots[i]))
			(*rows)[n++] = i;
	return n;
}

/* The first listed row shown in h body rows with scroll; clamps *scroll. */
static int
view_branches_first(int nrows, int h, int *scroll)
{
	int top = nrows > h ? nrows - h : 0;

	if (*scroll > top)
		*scroll = top;
	if (*scroll < 0)
		*scroll = 0;
	return top - *scroll;
}

/* Append token id's bytes, newlines and tabs as spaces, to buf (size cap) at *n. */
static void
view_branches_piece(const struct tokenizer *tok, int id, char *buf, size_t cap, size_t *n)
{
	size_t len;
	const uint8_t *s = tokenizer_piece(tok, id, &len);

	for (size_t j = 0; j < len && *n < cap; j++)
		buf[(*n)++] = s[j] == '\n' || s[j] == '\t' ? ' ' : (char)s[j];
}

/* Bytes of the UTF-8 sequence starting with lead byte c (1 for an invalid lead). */
static size_t
view_branches_seqlen(unsigned char c)
{
	return c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 1;
}

/* n, less a character cut at the end of buf (it waits for the rest, as in the text view). */
static size_t
view_branches_whole(const char *buf, size_t n)
{
	for (size_t k = 1; k <= 3 && k <= n; k++) {
		unsigned char c = (unsigned char)buf[n - k];

		if ((c & 0xc0) == 0x80)
			continue;
		return view_branches_seqlen(c) > k ? n - k : n;
	}
	return n;
}

/*
 * The kept text left of position idx (the prompt and the live tokens before
 * it): its last bytes that fit in w cells, after "..." when cut. Draws at
 * (col, row); returns the column after it.
 */
static int
view_branches_left(struct grid *g, struct grid_rect r, int col, int row, const struct ui *ui,
    const struct branches *b, int idx, int w)
{
	char buf[VIEW_BRANCHES_CONTEXT_BYTES];
	const char *dots = ui->glyphs == GRID_GLYPHS_ASCII ? "..." : "\xe2\x80\xa6";
	int dw = ui->glyphs == GRID_GLYPHS_ASCII ? 3 : 1;
	size_t n = 0, start = 0;
	int end = idx < b->n_live ? idx : b->n_live, k = end, cut = 0;

	/* Gather backwards: whole tokens until enough bytes, then the prompt's tail. */
	while (k > 0) {
		size_t len;

		tokenizer_piece(ui->tok, b->live[k - 1], &len);
		if (n + len > sizeof buf / 2) /* the other half for the prompt's tail */
			break;
		n += len;
		k--;
	}
	n = 0;
	if (k == 0 && ui->log.prompt != NULL) {
		size_t plen = strlen(ui->log.prompt), room = sizeof buf / 2;
		const char *p = ui->log.prompt + (plen > room ? plen - room : 0);

		cut = plen > room;
		for (; *p != '\0'; p++)
			buf[n++] = *p == '\n' || *p == '\t' ? ' ' : *p;
	} else if (k > 0)
		cut = 1;
	for (int j = k; j < end; j++)
		view_branches_piece(ui->tok, b->live[j], buf, sizeof buf, &n);
	n = view_branches_whole(buf, n);
	/* Drop characters from the left until the rest (and the dots) fit. */
	while (start < n && ((unsigned char)buf[start] & 0xc0) == 0x80)
		start++;
	while (start < n && grid_text_width(buf + start, n - start, ui->glyphs) +
	    (cut ? dw : 0) > w) {
		start += view_branches_seqlen((unsigned char)buf[start]);
		while (start < n && ((unsigned char)buf[start] & 0xc0) == 0x80)
			start++;
		cut = 1;
	}
	if (start >= n && !cut)
		return col;
	if (cut)
		col = grid_put(g, r, col, row, dots, THEME_SLOT_DIM, 0);
	return grid_putn(g, r, col, row, buf + start, n - start, THEME_SLOT_DIM, 0);
}

/* The kept text right of position idx, in at most w cells; returns the column after it. */
static int
view_branches_right(struct grid *g, struct grid_rect r, int col, int row, const struct ui *ui,
    const struct branches *b, int idx, int w)
{
	char buf[VIEW_BRANCHES_CONTEXT_BYTES + 1];
	size_t n = 0;

	for (int j = idx + 1; j < b->n_live && n < VIEW_BRANCHES_CONTEXT_BYTES; j++)
		view_branches_piece(ui->tok, b->live[j], buf, VIEW_BRANCHES_CONTEXT_BYTES, &n);
	n = view_branches_whole(buf, n);
	buf[n] = '\0';
	if (n == 0 || w <= 0)
		return col;
	return col + grid_put_trunc(g, r, col, row, buf, w, THEME_SLOT_DIM, 0);
}

/* Draw the row of slot i at row y. */
static void
view_branches_row(struct grid *g, struct grid_rect r, int y, const struct ui *ui,
    const struct branches *b, int i)
{
	const struct branches_slot *s = &b->slots[i];
	int loop = b->loop.found && b->loop.retypes >= BRANCHES_LOOP_RETYPES &&
	    s->slot == b->loop.slot;
	int idx = s->slot - b->n_prompt, col, room, kw = 0;
	char head[32], text[160];
	const char *knob = branches_knob_name(b->loop.knob);

	snprintf(head, sizeof head, "slot %d: ", s->slot);
	col = grid_put(g, r, 0, y, head, loop ? THEME_SLOT_ERROR : THEME_SLOT_DIM, 0);
	for (int k = 0; k < s->n; k++) {
		const struct branches_group *gr = &b->groups[s->first + k];

		if (k > 0)
			col = grid_put(g, r, col, y, " -> ", THEME_SLOT_DIM, 0);
		branches_group_text(gr, ui->tok, text, sizeof text);
		col = grid_put(g, r, col, y, text, loop ? THEME_SLOT_ERROR : gr->erased ?
		    THEME_SLOT_GHOST : THEME_SLOT_GENERATED, 0);
	}
	if (loop) {
		snprintf(text, sizeof text, "  loop: %s", knob != NULL ? knob : "backspace_bias");
		col = grid_put(g, r, col, y, text, THEME_SLOT_ERROR, 0);
	}
	/* The kept text around the position, its kept token marked. */
	room = r.w - col - 2;
	if (room < VIEW_BRANCHES_MIN_CONTEXT)
		return;
	col += 2;
	if (idx < b->n_live) {
		size_t n = 0;

		view_branches_piece(ui->tok, b->live[idx], text, sizeof text - 1, &n);
		text[n] = '\0';
		kw = grid_text_width(text, n, ui->glyphs);
	} else
		snprintf(text, sizeof text, "_");
	if (kw == 0)
		kw = 1;
	col = view_branches_left(g, r, col, y, ui, b, idx, (room - kw) / 2);
	col = grid_put(g, r, col, y, text, THEME_SLOT_GENERATED, GRID_ATTR_UNDERLINE);
	view_branches_right(g, r, col, y, ui, b, idx, r.w - col);
}

/* Draw the branch view. */
void
view_branches_draw(struct ui *ui, struct grid *g, struct grid_rect r, size_t shown,
    int *scroll)
{
	struct branches b;
	int *rows, nrows, first;
	char line[256];

	if (r.h <= 0 || r.w <= 0)
		return;
	branches_init(&b);
	branches_build(&b, &ui->log, shown, &ui->params);
	nrows = view_branches_rows(&b, &rows);
	first = view_branches_first(nrows, r.h - 1, scroll);
	if (branches_flag(&b, &ui->params, line, sizeof line))
		grid_put_trunc(g, r, 0, 0, line, r.w, THEME_SLOT_ERROR, 0);
	else if (nrows == 0)
		grid_put_trunc(g, r, 0, 0, "no position rewritten yet: each row will show a "
		    "position's attempts", r.w, THEME_SLOT_DIM, 0);
	else {
		snprintf(line, sizeof line, "%d position%s rewritten, %d erase%s (x: erased)",
		    nrows, nrows == 1 ? "" : "s", b.erases, b.erases == 1 ? "" : "s");
		grid_put_trunc(g, r, 0, 0, line, r.w, THEME_SLOT_DIM, 0);
	}
	for (int y = 1; y < r.h && first + y - 1 < nrows; y++)
		view_branches_row(g, r, y, ui, &b, rows[first + y - 1]);
	free(rows);
	branches_release(&b);
}

/* The event of row y. */
long
view_branches_hit(struct ui *ui, struct grid_rect r, size_t shown, int scroll, int y)
{
	struct branches b;
	int *rows, nrows, first;
	long ev = -1;

	if (y < 1 || y >= r.h)
		return -1;
	branches_init(&b);
	branches_build(&b, &ui->log, shown, &ui->params);
	nrows = view_branches_rows(&b, &rows);
	first = view_branches_first(nrows, r.h - 1, &scroll);
	if (first + y - 1 < nrows) {
		const struct branches_slot *s = &b.slots[rows[first + y - 1]];

		ev = (long)b.groups[s->first + s->n - 1].ev;
	}
	free(rows);
	branches_release(&b);
	return ev;
}
