/*
 * view-branches.h: the text pane's timeline view, drawn as a branch view
 * (branches.h): one row per rewritten text position with its attempts and
 * the kept text around it, a loop flagged with the knob that stops it.
 */
#ifndef SEQMATCH_VIEW_BRANCHES_H
#define SEQMATCH_VIEW_BRANCHES_H

#include <stddef.h>

#include "grid.h"

struct ui;

/*
 * Draw the branch view of the first `shown` events of ui->log into r (the
 * text area, no border): a summary row (or the loop flag), then the rows,
 * the latest position at the bottom. *scroll (rows up from the end) is
 * clamped to what there is.
 */
void view_branches_draw(struct ui *ui, struct grid *g, struct grid_rect r, size_t shown,
    int *scroll);
/*
 * The event shown by row y of r (relative to r) as view_branches_draw drew
 * it with the same arguments: the APPEND of the position's last attempt; -1
 * for the summary row or below the rows.
 */
long view_branches_hit(struct ui *ui, struct grid_rect r, size_t shown, int scroll, int y);

#endif
