/*
 * test-ui-panes.c: golden screens of the real panes. A hand-made struct ui
 * (a small trained tokenizer, an event log with appends and erasures, a live
 * MAUVE state whose curve is the frontier of two known histograms, the
 * default decoding parameters) is drawn by each pane through its public API
 * (init, key, tick, draw, free in app/ui.h) into grids of two sizes, in UTF-8
 * and ASCII glyphs. Each screen's text (grid_dump) and styles
 * (grid_dump_styles) are compared with tests/golden/pane-*.txt. Time is
 * ui->now, set by hand, so playback is deterministic.
 *
 * Golden files live in $SRCDIR/tests/golden ("." when run by hand from the top
 * of the tree); SEQMATCH_REGEN_GOLDEN=1 rewrites them, and without it a missing
 * file fails. After changing a pane on purpose:
 *   SEQMATCH_REGEN_GOLDEN=1 make check TESTS=tests/test-ui-panes
 * and read the diff of tests/golden/pane-*.txt before committing it.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app.h"
#include "generate.h"
#include "grid.h"
#include "mauve.h"
#include "sampler.h"
#include "tap.h"
#include "tokenizer.h"
#include "ui.h"

#define LOG_MAX 64

/* ---- golden files ---- */

/* The golden file's path for a name ("" gives the directory). */
static void
golden_path(char *buf, size_t size, const char *name)
{
	const char *src = getenv("SRCDIR");

	snprintf(buf, size, "%s/tests/golden/%s", src != NULL && *src ? src : ".", name);
}

/* A whole file, NUL-terminated (NULL if it cannot be read). */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (f == NULL)
		return NULL;
	do {
		if (cap - n < 4096) {
			cap = 2 * cap + 4096;
			buf = xrealloc(buf, cap + 1);
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	if (ferror(f)) {
		free(buf);
		buf = NULL;
	} else
		buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Write text to path through path.tmp; returns 0 on success. */
static int
golden_write(const char *path, const char *text)
{
	char tmp[4200];
	FILE *f;

	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if ((f = fopen(tmp, "wb")) == NULL)
		return -1;
	if (fputs(text, f) == EOF) {
		fclose(f);
		return -1;
	}
	return fclose(f) != 0 || rename(tmp, path) != 0 ? -1 : 0;
}

/* Show the first line where want and got differ, with a line of context each side. */
static void
golden_diff(const char *path, const char *want, const char *got)
{
	const char *a = want, *b = got, *ea, *eb;
	int line = 1;

	while (*a != '\0' && *b != '\0') {
		ea = strchr(a, '\n');
		eb = strchr(b, '\n');
		ea = ea != NULL ? ea : a + strlen(a);
		eb = eb != NULL ? eb : b + strlen(b);
		if (ea - a != eb - b || memcmp(a, b, (size_t)(ea - a)) != 0)
			break;
		a = *ea != '\0' ? ea + 1 : ea;
		b = *eb != '\0' ? eb + 1 : eb;
		line++;
	}
	ea = strchr(a, '\n');
	eb = strchr(b, '\n');
	tap_diag("%s differs at line %d (SEQMATCH_REGEN_GOLDEN=1 rewrites it)", path, line);
	tap_diag("-%.*s", (int)(ea != NULL ? ea - a : (long)strlen(a)), a);
	tap_diag("+%.*s", (int)(eb != NULL ? eb - b : (long)strlen(b)), b);
	tap_diag("whole screen:\n%s", got);
}

/* Compare text with the golden file name, or rewrite it under SEQMATCH_REGEN_GOLDEN=1. */
static void
golden_check(const char *name, const char *got)
{
	const char *regen = getenv("SEQMATCH_REGEN_GOLDEN");
	char path[4096], dir[4096];
	char *want;

	golden_path(path, sizeof path, name);
	if (regen != NULL && strcmp(regen, "1") == 0) {
		golden_path(dir, sizeof dir, "");
		if (mkdir(dir, 0777) != 0 && errno != EEXIST)
			tap_ok(0, "golden %s: cannot create %s", name, dir);
		else if (golden_write(path, got) != 0)
			tap_ok(0, "golden %s: cannot write %s", name, path);
		else
			tap_ok(1, "golden %s: regenerated", name);
		return;
	}
	if ((want = slurp(path)) == NULL) {
		tap_ok(0, "golden %s: missing %s (run with SEQMATCH_REGEN_GOLDEN=1 to create it)",
		    name, path);
		return;
	}
	if (!tap_ok(strcmp(want, got) == 0, "golden %s", name))
		golden_diff(path, want, got);
	free(want);
}

/* ---- the hand-made state ---- */

/* Everything a screen is drawn from. */
struct fixture {
	struct tokenizer *tok;
	struct generate_event ev[LOG_MAX];
	int live[LOG_MAX]; /* the live tokens' ids, prompt excluded */
	int n_live;
	size_t first_bksp; /* events up to and including the first <bksp> */
	struct ui ui;
};

/* Add one event to the log: its slot follows from the live tokens. */
static struct generate_event *
fixture_event(struct fixture *f, enum generate_event_type type, int token, float prob)
{
	struct ui_log *log = &f->ui.log;
	struct generate_event *ev;

	if (log->n >= LOG_MAX)
		app_fatal("fixture: log full");
	ev = &log->ev[log->n++];
	memset(ev, 0, sizeof *ev);
	ev->type = type;
	ev->token = token;
	ev->prob = prob;
	ev->model_prob = prob;
	ev->seconds = 0.05 * (double)log->n;
	ev->slot = log->n_prompt + (type == GENERATE_EVENT_APPEND ? f->n_live : f->n_live - 1);
	ev->entropy = 0.25f * (float)(log->n % 7);
	ev->p_bksp = type == GENERATE_EVENT_ERASE ? prob : 0.02f;
	if (type == GENERATE_EVENT_ERASE && f->first_bksp == 0)
		f->first_bksp = log->n;
	return ev;
}

/* Append the tokens of text, each with a few alternatives (the chosen one first); returns how many. */
static int
fixture_append(struct fixture *f, const char *text)
{
	int *ids = NULL;
	size_t n = 0;
	char *cause = NULL;

	if (tokenizer_encode(f->tok, (const uint8_t *)text, strlen(text), &ids, &n, &cause) != 0)
		app_fatal("fixture: %s", cause);
	for (size_t i = 0; i < n; i++) {
		struct generate_event *ev = fixture_event(f, GENERATE_EVENT_APPEND, ids[i], 0.5f);

		ev->n_top = 3;
		ev->top[0].id = ids[i];
		ev->top[0].prob = 0.5f;
		ev->top[1].id = tokenizer_bksp(f->tok);
		ev->top[1].prob = 0.02f;
		ev->top[2].id = tokenizer_eot(f->tok);
		ev->top[2].prob = 0.01f;
		f->ui.log.stop.n_generated++;
		f->live[f->n_live++] = ids[i];
	}
	free(ids);
	return (int)n;
}

/* Erase the last k live tokens, one <bksp> each (<bksp> the likeliest action). */
static void
fixture_erase(struct fixture *f, int k)
{
	for (int i = 0; i < k && f->n_live > 0; i++) {
		struct generate_event *ev = fixture_event(f, GENERATE_EVENT_ERASE,
		    f->live[f->n_live - 1], 0.3f);

		ev->n_top = 2;
		ev->top[0].id = tokenizer_bksp(f->tok);
		ev->top[0].prob = 0.3f;
		ev->top[1].id = f->live[0];
		ev->top[1].prob = 0.25f;
		f->n_live--;
		f->ui.log.stop.n_erased++;
	}
}

/* Build the fixture: a finished run of appends and erasures, a live MAUVE curve. */
static int
fixture_init(struct fixture *f)
{
	static const char corpus[] =
	    "Once upon a time there was a small model that wrote, erased and wrote again.\n"
	    "It liked the naive cafe on the corner, and the caf\xc3\xa9 liked it back.\n"
	    "Once upon a time there was a cat who sat on the mat.\n";
	static const double p_counts[] = {7, 3}, q_counts[] = {4, 6};
	struct mauve_options o;
	struct mauve_result res;
	int *ids = NULL;
	size_t n = 0;
	char *cause = NULL;

	memset(f, 0, sizeof *f);
	if (tokenizer_train((const uint8_t *)corpus, strlen(corpus), 300, &f->tok, &cause) != 0 ||
	    tokenizer_encode(f->tok, (const uint8_t *)"Once upon a time", 16, &ids, &n,
	    &cause) != 0) {
		tap_ok(0, "fixture: %s", cause);
		free(cause);
		return -1;
	}
	free(ids);
	f->ui.tok = f->tok;
	f->ui.model_name = "model.bin";
	f->ui.model_path = "model.bin";
	f->ui.model_bksp = 1;
	sampler_defaults(&f->ui.params);
	f->ui.now = 64.0;
	f->ui.log.prompt = "Once upon a time";
	f->ui.log.n_prompt = (int)n;
	f->ui.log.ev = f->ev;
	f->ui.log.cap = LOG_MAX;
	f->ui.log.seed = 42;
	f->ui.log.serial = 1;
	f->ui.log.inspect = -1;

	/* " there was a", then " cat" and " dog" each written and erased, then the rest. */
	fixture_append(f, " there was a");
	fixture_erase(f, fixture_append(f, " cat"));
	fixture_erase(f, fixture_append(f, " dog"));
	fixture_append(f, " small model that wrote, erased and wrote again in the caf\xc3\xa9.");
	f->ui.log.done = 1;
	f->ui.log.reason = GENERATE_STOP_EOT;
	f->ui.log.stop.type = GENERATE_EVENT_STOP;
	f->ui.log.stop.prefill_seconds = 0.25;
	f->ui.log.stop.generate_seconds = 2.0;
	f->ui.log.shown = f->ui.log.n;

	/* The live estimate: the frontier of p = [7, 3] and q = [4, 6] (MAUVE.md "two bins"). */
	mauve_options_defaults(&o);
	if (mauve_from_counts(p_counts, q_counts, 2, &o, &res, &cause) != 0) {
		tap_ok(0, "fixture: mauve: %s", cause);
		free(cause);
		return -1;
	}
	f->ui.mauve.state = UI_MAUVE_READY;
	snprintf(f->ui.mauve.ref, sizeof f->ui.mauve.ref, "heldout.txt");
	f->ui.mauve.n_ref = 200;
	f->ui.mauve.max_tokens = 48;
	f->ui.mauve.k = 2;
	f->ui.mauve.n = 10;
	f->ui.mauve.mauve = res.mauve;
	f->ui.mauve.mauve_star = res.mauve_star;
	f->ui.mauve.curve_len = res.curve_len < UI_MAUVE_CURVE_MAX ? res.curve_len :
	    UI_MAUVE_CURVE_MAX;
	memcpy(f->ui.mauve.curve_x, res.curve_x, (size_t)f->ui.mauve.curve_len * sizeof(double));
	memcpy(f->ui.mauve.curve_y, res.curve_y, (size_t)f->ui.mauve.curve_len * sizeof(double));
	mauve_result_release(&res);
	return 0;
}

/* ---- drawing a screen ---- */

/* A scripted step before the draw: a key, or a tick at a time (key 0). */
struct step {
	int key;
	double now;
};

/* The sizes and glyph sets every screen is drawn in. */
static const int sizes[][2] = {{60, 20}, {40, 12}};

/*
 * Run one pane's script (keys and ticks, in order) on a fresh pane, draw it
 * (focused or not) into every size and glyph set, and check each screen
 * against pane-NAME-STATE-WxH-GLYPHS.txt. ui is restored afterwards.
 */
static void
screen(struct fixture *f, const struct ui_pane *pane, const char *name, const char *state,
    const struct step *script, int nsteps, int focused)
{
	struct ui saved = f->ui;

	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		for (int ascii = 0; ascii <= 1; ascii++) {
			struct grid g;
			char file[160], *text, *styles, *both;
			void *p;
			size_t len;

			f->ui = saved;
			f->ui.glyphs = ascii ? GRID_GLYPHS_ASCII : GRID_GLYPHS_UTF8;
			f->ui.plot = ascii ? GRID_PLOT_ASCII : GRID_PLOT_BRAILLE;
			p = pane->init(&f->ui);
			for (int i = 0; i < nsteps; i++) {
				double wait = -1;

				if (script[i].key != 0 && pane->key != NULL)
					pane->key(p, &f->ui, script[i].key);
				else if (script[i].key == 0 && pane->tick != NULL) {
					f->ui.now = script[i].now;
					pane->tick(p, &f->ui, &wait);
				}
			}
			if (grid_init(&g, sizes[s][0], sizes[s][1], f->ui.glyphs) != 0)
				app_fatal("grid_init");
			pane->draw(p, &f->ui, &g, grid_rect_make(0, 0, g.width, g.height), focused);
			pane->free(p);
			text = grid_dump(&g);
			styles = grid_dump_styles(&g);
			if (text == NULL || styles == NULL)
				app_fatal("out of memory");
			len = strlen(text) + strlen(styles) + 32;
			both = xmalloc(len);
			snprintf(both, len, "%s--- styles ---\n%s", text, styles);
			snprintf(file, sizeof file, "pane-%s-%s-%dx%d-%s.txt", name, state, g.width,
			    g.height, ascii ? "ascii" : "utf8");
			golden_check(file, both);
			free(both);
			free(styles);
			free(text);
			grid_release(&g);
		}
	}
	f->ui = saved;
}

/* ---- the screens ---- */

/* The text pane: the editor, each view at the end, paused on a <bksp>, mid-playback. */
static void
test_text(struct fixture *f)
{
	static const struct step typed[] = {{'h', 0}, {'i', 0}, {UI_KEY_LEFT, 0}};
	/* Esc leaves the editor for playback; End shows every event, paused. */
	static const struct step clean[] = {{UI_KEY_ESC, 0}, {UI_KEY_END, 0}};
	static const struct step trail[] = {{UI_KEY_ESC, 0}, {UI_KEY_END, 0}, {'v', 0}};
	static const struct step timeline[] = {{UI_KEY_ESC, 0}, {UI_KEY_END, 0}, {'v', 0},
		{'v', 0}};
	/* From the start, n jumps to just after the first <bksp>: the erased token flagged. */
	static const struct step bksp[] = {{UI_KEY_ESC, 0}, {UI_KEY_HOME, 0}, {'n', 0}};
	static const struct step bksp_trail[] = {{UI_KEY_ESC, 0}, {UI_KEY_HOME, 0}, {'n', 0},
		{'v', 0}};
	/*
	 * r replays from ui->now = 64 at 40 events/s: by 64.0875 (3.5 periods) three
	 * events are shown; half a period after the first <bksp> it flashes.
	 */
	static const struct step playing[] = {{UI_KEY_ESC, 0}, {'r', 0}, {0, 64.0875}};
	struct step flashing[] = {{UI_KEY_ESC, 0}, {'r', 0},
		{0, 64.0 + ((double)f->first_bksp + 0.5) / 40}};
	struct ui saved = f->ui;

	f->ui.have_run = 0;
	f->ui.log.n = 0;
	f->ui.log.shown = 0;
	screen(f, &view_text_pane, "text", "empty", NULL, 0, 1);
	screen(f, &view_text_pane, "text", "typed", typed, 3, 1);
	f->ui = saved;
	f->ui.have_run = 1;
	screen(f, &view_text_pane, "text", "clean", clean, 2, 1);
	screen(f, &view_text_pane, "text", "trail", trail, 3, 1);
	screen(f, &view_text_pane, "text", "timeline", timeline, 4, 0);
	screen(f, &view_text_pane, "text", "bksp", bksp, 3, 1);
	screen(f, &view_text_pane, "text", "bksp-trail", bksp_trail, 4, 1);
	screen(f, &view_text_pane, "text", "playing", playing, 3, 1);
	screen(f, &view_text_pane, "text", "flashing", flashing, 3, 1);
	f->ui = saved;
}

/* The decoding pane: the defaults, then one value changed. */
static void
test_params(struct fixture *f)
{
	static const struct step changed[] = {{UI_KEY_DOWN, 0}, {UI_KEY_RIGHT, 0}};

	screen(f, &view_params_pane, "params", "defaults", NULL, 0, 1);
	screen(f, &view_params_pane, "params", "changed", changed, 2, 1);
}

/* The stats pane: before a run (room for the curve), the whole run, part of it, no curve. */
static void
test_stats(struct fixture *f)
{
	struct ui saved = f->ui;

	f->ui.have_run = 0;
	screen(f, &view_stats_pane, "stats", "norun", NULL, 0, 0);
	f->ui = saved;
	f->ui.have_run = 1;
	screen(f, &view_stats_pane, "stats", "done", NULL, 0, 0);
	f->ui.log.shown = f->first_bksp;
	screen(f, &view_stats_pane, "stats", "at-bksp", NULL, 0, 0);
	f->ui.mauve.curve_len = 0;
	f->ui.mauve.n = 0;
	f->ui.have_run = 0;
	screen(f, &view_stats_pane, "stats", "nocurve", NULL, 0, 0);
	f->ui = saved;
}

/* The inspector: at the last event (an append) and at the first <bksp>. */
static void
test_inspector(struct fixture *f)
{
	struct ui saved = f->ui;

	f->ui.have_run = 1;
	screen(f, &view_inspector_pane, "inspector", "append", NULL, 0, 0);
	f->ui.log.shown = f->first_bksp;
	screen(f, &view_inspector_pane, "inspector", "bksp", NULL, 0, 0);
	f->ui = saved;
}

/*
 * The fine-tune pane, idle: a real job (ui-ft.c) that is never started, so no
 * thread and no corpus lookup; the pane draws the loop's copy of its state.
 */
static void
test_finetune(struct fixture *f)
{
	struct ui_ft *job = ui_ft_new(NULL, f->tok, NULL, f->ui.model_path, -1);
	struct ui saved = f->ui;

	ui_ft_get(job, &f->ui.ft);
	tap_ok(!f->ui.ft.started && !f->ui.ft.live && f->ui.ft.out_path != NULL &&
	    strcmp(f->ui.ft.out_path, "model-ft.bin") == 0, "finetune: a new job is idle and "
	    "saves next to the model (%s)", f->ui.ft.out_path ? f->ui.ft.out_path : "NULL");
	screen(f, &view_finetune_pane, "finetune", "idle", NULL, 0, 0);
	screen(f, &view_finetune_pane, "finetune", "idle-focused", NULL, 0, 1);
	ui_ft_free(job);
	f->ui = saved;
}

/*
 * A loop (the temperature 0, backspace_bias 3 run, shorter): ' wrote'
 * typed and erased 12 times until the action cap. The branch view flags it
 * with forbid_retype, and so does the stats pane. Rewrites the fixture's log:
 * run it last.
 */
static void
test_loop(struct fixture *f)
{
	static const struct step timeline[] = {{UI_KEY_ESC, 0}, {UI_KEY_END, 0}, {'v', 0},
		{'v', 0}};

	f->ui.log.n = 0;
	f->n_live = 0;
	f->first_bksp = 0;
	memset(&f->ui.log.stop, 0, sizeof f->ui.log.stop);
	fixture_append(f, " there was a");
	for (int i = 0; i < 12; i++)
		fixture_erase(f, fixture_append(f, " wrote"));
	f->ui.log.done = 1;
	f->ui.log.reason = GENERATE_STOP_MAX_ACTIONS;
	f->ui.log.stop.type = GENERATE_EVENT_STOP;
	f->ui.log.stop.generate_seconds = 1.0;
	f->ui.log.shown = f->ui.log.n;
	f->ui.have_run = 1;
	f->ui.params.temperature = 0;
	f->ui.params.backspace_bias = 3;
	screen(f, &view_text_pane, "text", "timeline-loop", timeline, 4, 0);
	screen(f, &view_stats_pane, "stats", "loop", NULL, 0, 0);
}

int
main(void)
{
	static struct fixture f;

	if (fixture_init(&f) != 0)
		return tap_done();
	/* The playback script needs a <bksp> after more than three appends. */
	tap_ok(f.first_bksp > 4 && f.first_bksp < f.ui.log.n, "fixture: first <bksp> is event %zu",
	    f.first_bksp);
	test_text(&f);
	test_params(&f);
	test_stats(&f);
	test_inspector(&f);
	test_finetune(&f);
	test_loop(&f);
	tokenizer_free(f.tok);
	return tap_done();
}
