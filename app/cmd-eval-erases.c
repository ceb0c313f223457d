/*
 * cmd-eval-erases.c: what became of each erase of a generation (`seqmatch
 * eval`'s correction share). An erase of token t at slot s is
 *   - a correction when the next token appended at slot s is not t,
 *   - a retype when it is t again,
 *   - not followed when the generation ends before anything is typed at s.
 * Other erases may come between the erase and the next append at its slot
 * (erase, erase, type, type), unlike engine/textstats' re-emission, which
 * only looks at the very next action. Free of app/ dependencies so that
 * tests/test-eval.c can check it on hand-made logs.
 */
#include "config.h"

#include <stdlib.h>

#include "cmd-eval.h"
#include "generate.h"

/* Add the erase outcomes of one event log (n events) to c; -1 when out of memory. */
int
cmd_eval_erases_add(struct cmd_eval_erases *c, const struct generate_event *ev, int n)
{
	int *pending, max_slot = 0; /* pending[s]: token erased at s awaiting an append, or -1 */

	for (int i = 0; i < n; i++)
		if (ev[i].type != GENERATE_EVENT_STOP && ev[i].slot > max_slot)
			max_slot = ev[i].slot;
	if ((pending = malloc((size_t)(max_slot + 1) * sizeof *pending)) == NULL)
		return -1;
	for (int s = 0; s <= max_slot; s++)
		pending[s] = -1;
	for (int i = 0; i < n; i++) {
		int s = ev[i].slot;

		if (ev[i].type == GENERATE_EVENT_STOP || s < 0)
			continue;
		if (ev[i].type == GENERATE_EVENT_ERASE) {
			pending[s] = ev[i].token;
			c->erases++;
		} else if (pending[s] >= 0) {
			if (pending[s] == ev[i].token)
				c->retypes++;
			else
				c->corrections++;
			pending[s] = -1;
		}
	}
	for (int s = 0; s <= max_slot; s++)
		c->unfollowed += pending[s] >= 0;
	free(pending);
	return 0;
}
