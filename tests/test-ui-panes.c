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
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "finetune.h"
#include "generate.h"
#include "gpt.h"
#include "grid.h"
#include "mauve.h"
#include "qweights.h"
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

	/* The live estimate: the frontier of p = [7, 3] and q = [4, 6] (tests/test-mauve.c, "two bins"). */
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
 * (focused or not) into each of the nsizes sizes in every glyph set, and
 * check each screen against pane-NAME-STATE-WxH-GLYPHS.txt. ui is restored
 * afterwards.
 */
static void
screen_sized(struct fixture *f, const struct ui_pane *pane, const char *name,
    const char *state, const struct step *script, int nsteps, int focused,
    const int (*wh)[2], size_t nsizes)
{
	struct ui saved = f->ui;

	for (size_t s = 0; s < nsizes; s++) {
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
			if (grid_init(&g, wh[s][0], wh[s][1], f->ui.glyphs) != 0)
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

/* screen_sized in the sizes every pane is drawn in. */
static void
screen(struct fixture *f, const struct ui_pane *pane, const char *name, const char *state,
    const struct step *script, int nsteps, int focused)
{
	screen_sized(f, pane, name, state, script, nsteps, focused, sizes,
	    sizeof sizes / sizeof sizes[0]);
}

/* Whether a pane drawn at w x h shows a truncation mark (… or ~) anywhere inside its box. */
static int
truncated(struct fixture *f, const struct ui_pane *pane, int w, int h, int ascii)
{
	struct grid g;
	void *p;
	char *text;
	int cut;

	f->ui.glyphs = ascii ? GRID_GLYPHS_ASCII : GRID_GLYPHS_UTF8;
	p = pane->init(&f->ui);
	if (grid_init(&g, w, h, f->ui.glyphs) != 0)
		app_fatal("grid_init");
	pane->draw(p, &f->ui, &g, grid_rect_make(0, 0, w, h), 0);
	pane->free(p);
	if ((text = grid_dump(&g)) == NULL)
		app_fatal("out of memory");
	cut = strstr(text, ascii ? "~" : "\xe2\x80\xa6") != NULL;
	if (cut)
		tap_diag("%s", text);
	free(text);
	grid_release(&g);
	return cut;
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

/* Draw a pane once, at w x h in UTF-8, after keys (0-terminated); the screen's text (malloc'd). */
static char *
draw_once(struct fixture *f, const struct ui_pane *pane, int w, int h, const int *keys,
    int focused)
{
	struct grid g;
	char *text;
	void *p = pane->init(&f->ui);

	for (int i = 0; keys != NULL && keys[i] != 0; i++)
		pane->key(p, &f->ui, keys[i]);
	if (grid_init(&g, w, h, GRID_GLYPHS_UTF8) != 0)
		app_fatal("grid_init");
	pane->draw(p, &f->ui, &g, grid_rect_make(0, 0, w, h), focused);
	pane->free(p);
	if ((text = grid_dump(&g)) == NULL)
		app_fatal("out of memory");
	grid_release(&g);
	return text;
}

/*
 * The decoding pane: the defaults, one value changed, a bad value typed; at
 * the size it gets at 80x24 (28x12) the headers, the backtracking group, the
 * scroll note and names that differ; tall, every knob of the table.
 */
static void
test_params(struct fixture *f)
{
	static const struct step changed[] = {{UI_KEY_DOWN, 0}, {UI_KEY_RIGHT, 0}};
	static const struct step bad[] = {{UI_KEY_ENTER, 0}, {UI_CTRL('u'), 0}, {'a', 0},
		{'b', 0}, {'c', 0}, {UI_KEY_ENTER, 0}};
	static const int bad_keys[] = {UI_KEY_ENTER, UI_CTRL('u'), 'a', 'b', 'c', UI_KEY_ENTER,
		0};
	static const int bad_then_fix[] = {UI_KEY_ENTER, UI_CTRL('u'), 'a', 'b', 'c',
		UI_KEY_ENTER, UI_KEY_BACKSPACE, UI_KEY_BACKSPACE, UI_KEY_BACKSPACE, '2',
		UI_KEY_ENTER, 0};
	static const char *const small_want[] = {"knob", "value", "default",
		"backtracking", "bksp_bias", "bksp_in_row", "bksp_total", "no_retype",
		"list scrolls"};
	struct ui saved = f->ui;
	char *text, *line;
	int ok;

	screen(f, &view_params_pane, "params", "defaults", NULL, 0, 1);
	screen(f, &view_params_pane, "params", "changed", changed, 2, 1);
	screen(f, &view_params_pane, "params", "bad-value", bad, 6, 1);
	f->ui = saved;

	/* A bad value: the notice names the knob once, the field keeps the text. */
	f->ui.message[0] = '\0';
	text = draw_once(f, &view_params_pane, 60, 20, bad_keys, 1);
	tap_ok(strcmp(f->ui.message, "backspace_bias: 'abc' is not a number (fix it, or Esc)")
	    == 0 && f->ui.message_error, "params: a bad value's notice names the knob once (%s)",
	    f->ui.message);
	tap_ok(strstr(text, "[abc]") != NULL && f->ui.params.backspace_bias == 0,
	    "params: the typed text stays in the field to be corrected, the value unchanged");
	free(text);
	text = draw_once(f, &view_params_pane, 60, 20, bad_then_fix, 1);
	tap_ok(strstr(text, "[") == NULL && f->ui.params.backspace_bias == 2,
	    "params: corrected and Enter, it is set (bias %g)", f->ui.params.backspace_bias);
	free(text);
	f->ui = saved;

	/* 28x12: the decoding pane at 80x24. */
	text = draw_once(f, &view_params_pane, 28, 12, NULL, 1);
	ok = 1;
	for (size_t i = 0; i < sizeof small_want / sizeof small_want[0]; i++)
		if (strstr(text, small_want[i]) == NULL) {
			tap_diag("28x12: no '%s'", small_want[i]);
			ok = 0;
		}
	/* No name cut short: an ellipsis only in the footer's long lines. */
	line = text;
	for (int y = 0; y < 8 && line != NULL; y++, line = strchr(line + 1, '\n'))
		if (strncmp(line + (y > 0), "\xe2\x94", 2) == 0 && strstr(line, "\xe2\x80\xa6") !=
		    NULL && strchr(line, '\n') > strstr(line, "\xe2\x80\xa6")) {
			tap_diag("28x12: row %d is cut", y);
			ok = 0;
		}
	tap_ok(ok, "params 28x12: headers, the backtracking group and the scroll note show");
	if (!ok)
		tap_diag("%s", text);
	free(text);

	/* Tall: every knob of the engine's table (the pane's order lists them all). */
	text = draw_once(f, &view_params_pane, 100, 30, NULL, 1);
	ok = 1;
	for (size_t i = 0; i < sampler_table_len; i++)
		if (strstr(text, sampler_table[i].name) == NULL) {
			tap_diag("100x30: no %s", sampler_table[i].name);
			ok = 0;
		}
	tap_ok(ok, "params 100x30: every knob of sampler_table is listed");
	tap_ok(strstr(text, "meaning") != NULL && (strstr(text, sampler_table[0].help) != NULL ||
	    strstr(text, sampler_table[0].brief) != NULL),
	    "params 100x30: a meaning column");
	free(text);
	f->ui = saved;
}

/* The before/after counts: corrections, retypes and loops from a hand-made log. */
static void
test_ab_count(void)
{
	/* slot 5: a, erase a, b (a correction); slot 6: c erased and retyped three times. */
	static const struct { int type, token, slot; } log[] = {
		{GENERATE_EVENT_APPEND, 10, 5}, {GENERATE_EVENT_ERASE, 10, 5},
		{GENERATE_EVENT_APPEND, 11, 5}, {GENERATE_EVENT_APPEND, 12, 6},
		{GENERATE_EVENT_ERASE, 12, 6}, {GENERATE_EVENT_APPEND, 12, 6},
		{GENERATE_EVENT_ERASE, 12, 6}, {GENERATE_EVENT_APPEND, 12, 6},
		{GENERATE_EVENT_ERASE, 12, 6}, {GENERATE_EVENT_APPEND, 12, 6},
		{GENERATE_EVENT_STOP, 0, 0},
	};
	struct generate_event ev[sizeof log / sizeof log[0]];
	int n = (int)(sizeof log / sizeof log[0]), loop = -1;
	long corr = 0, ret = 0;

	memset(ev, 0, sizeof ev);
	for (int i = 0; i < n; i++) {
		ev[i].type = (enum generate_event_type)log[i].type;
		ev[i].token = log[i].token;
		ev[i].slot = log[i].slot;
		ev[i].reason = GENERATE_STOP_EOT;
	}
	ui_ab_count(ev, n, &corr, &ret, &loop);
	tap_ok(corr == 1 && ret == 3 && loop == 1, "ab: 1 correction, 3 retypes, a loop "
	    "(got %ld, %ld, %d)", corr, ret, loop);
	corr = ret = 0;
	ui_ab_count(ev, 6, &corr, &ret, &loop);
	tap_ok(corr == 1 && ret == 1 && loop == 0, "ab: one retype is not a loop (got %ld, %ld, "
	    "%d)", corr, ret, loop);
	corr = ret = 0;
	ev[2].type = GENERATE_EVENT_STOP;
	ev[2].reason = GENERATE_STOP_MAX_ACTIONS;
	ui_ab_count(ev, 3, &corr, &ret, &loop);
	tap_ok(corr == 1 && ret == 0 && loop == 1, "ab: the action cap is a loop; an erase never "
	    "retyped is a correction (got %ld, %ld, %d)", corr, ret, loop);
}

/* The fine-tune's tokens/s: steps alternating 2816 and 20770 settle, no jumping. */
static void
test_ft_smooth(void)
{
	double avg = 0, lo = 1e300, hi = 0;

	for (long i = 0; i < 200; i++) {
		avg = ui_ft_smooth(avg, i % 2 ? 20770 : 2816, i);
		if (i == 0 && avg != 2816)
			break;
		if (i >= 100) {
			lo = avg < lo ? avg : lo;
			hi = avg > hi ? avg : hi;
		}
	}
	tap_ok(lo > 9000 && hi < 14000 && (hi - lo) / lo < 0.25, "ft: tokens/s smoothed "
	    "(%.0f..%.0f after 100 steps)", lo, hi);
	tap_ok(ui_ft_smooth(500, NAN, 3) == 500 && ui_ft_smooth(NAN, 7, 3) == 7,
	    "ft: a NaN rate is skipped");
}

/* The stats pane: before a run (room for the curve), the whole run, part of it, no curve. */
static void
test_stats(struct fixture *f)
{
	static const int narrow[][2] = {{28, 12}};
	struct ui saved = f->ui;

	f->ui.have_run = 0;
	screen(f, &view_stats_pane, "stats", "norun", NULL, 0, 0);
	f->ui = saved;
	f->ui.have_run = 1;
	screen(f, &view_stats_pane, "stats", "done", NULL, 0, 0);
	/* 80x24 gives the stats pane 28x10 (26 columns inside): no number is cut there. */
	f->ui.mauve.k = 20;
	screen_sized(f, &view_stats_pane, "stats", "done", NULL, 0, 0, narrow, 1);
	tap_ok(!truncated(f, &view_stats_pane, 28, 12, 0) && !truncated(f, &view_stats_pane,
	    28, 12, 1), "stats at 28 columns (80x24): nothing cut (no ... mark)");
	f->ui.mauve.k = saved.mauve.k;
	f->ui.log.shown = f->first_bksp;
	screen(f, &view_stats_pane, "stats", "at-bksp", NULL, 0, 0);
	f->ui.mauve.curve_len = 0;
	f->ui.mauve.n = 0;
	f->ui.have_run = 0;
	screen(f, &view_stats_pane, "stats", "nocurve", NULL, 0, 0);
	f->ui = saved;
	/* The before/after table (b) over the numbers. */
	f->ui.have_run = 1;
	f->ui.ab.state = UI_AB_DONE;
	f->ui.ab.seed = 42;
	f->ui.ab.n_seeds = 3;
	snprintf(f->ui.ab.change, sizeof f->ui.ab.change, "backspace_bias 0 -> 4");
	f->ui.ab.before = (struct ui_ab_col){3, 180, 0, 0, 0, 0, 0.912, 0, 0};
	f->ui.ab.after = (struct ui_ab_col){3, 205, 50, 13, 37, 1, 0.571, 0, 0};
	screen(f, &view_stats_pane, "stats", "ab", NULL, 0, 0);
	f->ui.ab.state = UI_AB_RUNNING;
	f->ui.ab.after = (struct ui_ab_col){2, 150, 40, 10, 30, 1, -1, 0, 0};
	screen(f, &view_stats_pane, "stats", "ab-running", NULL, 0, 0);
	/* With a story checker configured: the runs it flagged, before and after. */
	f->ui.ab.state = UI_AB_DONE;
	f->ui.ab.has_check = 1;
	f->ui.ab.before = (struct ui_ab_col){3, 180, 0, 0, 0, 0, 0.912, 3, 2};
	f->ui.ab.after = (struct ui_ab_col){3, 205, 50, 13, 37, 1, 0.571, 3, 0};
	screen(f, &view_stats_pane, "stats", "ab-check", NULL, 0, 0);
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

	/* Paused after 30 steps: V(s0) labelled, tokens/s the average, val loss from its start. */
	f->ui.ft.started = 1;
	f->ui.ft.state = FINETUNE_PAUSED;
	f->ui.ft.steps_done = 30;
	f->ui.ft.run.steps = 300;
	f->ui.ft.version = 3;
	f->ui.ft.have = 1;
	f->ui.ft.last.step = 30;
	f->ui.ft.last.sm.loss = 1.25;
	f->ui.ft.last.sm.bc = 2.5;
	f->ui.ft.last.sm.v0 = -0.125;
	f->ui.ft.last.tokens_per_s = 20770; /* this step's own rate: not shown */
	f->ui.ft.tokens_per_s = 9000;
	f->ui.ft.last.has_val = 1;
	f->ui.ft.last.val_loss = 2.25f;
	f->ui.ft.last.best_val_loss = 2.125f;
	f->ui.ft.have_val0 = 1;
	f->ui.ft.val0 = 2.75f;
	f->ui.ft.n_hist = 4;
	f->ui.ft.hist[0] = 1.5;
	f->ui.ft.hist[1] = 1.4;
	f->ui.ft.hist[2] = 1.3;
	f->ui.ft.hist[3] = 1.25;
	screen(f, &view_finetune_pane, "finetune", "paused", NULL, 0, 0);
	{
		char *text = draw_once(f, &view_finetune_pane, 60, 20, NULL, 0);

		tap_ok(strstr(text, "9000 tok/s avg") != NULL && strstr(text, "20770") == NULL,
		    "finetune: tokens/s is the smoothed one");
		tap_ok(strstr(text, "V(s0) -0.125 (start-state value)") != NULL &&
		    strstr(text, "val loss 2.2500 (from 2.7500, best 2.1250)") != NULL,
		    "finetune: V(s0) labelled, val loss with its first value");
		if (strstr(text, "(from 2.7500") == NULL)
			tap_diag("%s", text);
		free(text);
	}
	ui_ft_free(job);
	f->ui = saved;
}

/* A job for a model whose -ft names are taken picks the next free one (no overwrite). */
static void
test_finetune_path(struct fixture *f)
{
	char dir[] = "/tmp/seqmatch-test-panes.XXXXXX", model[300], taken[3][320];
	const char *suffix[3] = { "-ft.bin", "-ft-2.bin.opt", "-ft-3.bin" };
	struct ui_ft *job;
	struct ui_ft_info info;
	FILE *fp;

	if (mkdtemp(dir) == NULL) {
		tap_ok(0, "finetune: mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(model, sizeof model, "%s/m.bin", dir);
	for (int i = 0; i < 3; i++) {
		snprintf(taken[i], sizeof taken[i], "%s/m%s", dir, suffix[i]);
		if ((fp = fopen(taken[i], "w")) != NULL)
			fclose(fp);
	}
	memset(&info, 0, sizeof info);
	job = ui_ft_new(NULL, f->tok, NULL, model, -1);
	ui_ft_get(job, &info);
	tap_ok(info.out_path != NULL && strlen(info.out_path) > strlen(dir) &&
	    strcmp(info.out_path + strlen(dir), "/m-ft-4.bin") == 0, "finetune: with m-ft.bin, "
	    "m-ft-2.bin.opt and m-ft-3.bin there, a run saves to m-ft-4.bin (%s)",
	    info.out_path != NULL ? info.out_path : "NULL");
	ui_ft_free(job);
	for (int i = 0; i < 3; i++)
		remove(taken[i]);
	rmdir(dir);
}

/* A model loaded from a `seqmatch quantize` file: starting a fine-tune is refused, saying why. */
static void
test_finetune_stored(struct fixture *f)
{
	struct ui_ft *job = ui_ft_new(NULL, f->tok, NULL, "small-q8.bin", -1);
	struct finetune_options o;
	struct ui_ft_info info;

	finetune_options_recipe(&o);
	ui_ft_set_stored(job, QUANT_Q8);
	ui_ft_act(job, UI_FT_START, &o);
	memset(&info, 0, sizeof info);
	ui_ft_get(job, &info);
	if (!tap_ok(!info.started && !info.live && info.note_error &&
	    strstr(info.note, "small-q8.bin holds q8 weights") != NULL &&
	    strstr(info.note, "seqmatch quantize --weights fp32") != NULL,
	    "finetune: a q8 file's fine-tune is refused, naming the file, the format and "
	    "the way back to fp32"))
		tap_diag("note: %s", info.note);
	ui_ft_free(job);
}

/* A model of the fixture's vocabulary with seeded random weights. */
static struct gpt_model *
gen_model(const struct tokenizer *tok, uint64_t seed)
{
	struct gpt_config c = { 32, tokenizer_vocab_size(tok), 320, 1, 2, 32 };
	struct gpt_model *m = gpt_new(&c, NULL);
	float *p;

	if (m == NULL)
		return NULL;
	p = gpt_param_memory(m);
	for (size_t i = 0; i < gpt_num_params(m); i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		p[i] = (float)((double)(seed >> 40) / (double)(1ULL << 24) - 0.5) * 0.5f;
	}
	return m;
}

/* Run a UI generation worker to its end; its tokens and model probabilities into out. */
static int
gen_run(struct gpt_model *m, struct snapshot *snap, const struct qweights *qw,
    const struct tokenizer *tok, double *out, int cap)
{
	struct sampler_params p;
	int fds[2], ids[3] = { 5, 9, 12 }, finished = 0, n = 0;
	char *cause = NULL, buf[256];
	struct ui_gen *g;

	sampler_defaults(&p);
	p.top_k = 1;
	p.max_tokens = 12;
	p.seed = 1;
	if (pipe(fds) != 0)
		return -1;
	g = ui_gen_start(m, snap, tok, &p, ids, 3, qw, fds[1], &cause);
	if (g == NULL) {
		tap_diag("ui_gen_start: %s", cause);
		free(cause);
		return -1;
	}
	while (!finished) {
		size_t k;
		struct generate_event *ev;

		/* The worker writes a byte with its news: wait for it. */
		if (read(fds[0], buf, sizeof buf) <= 0)
			break;
		ev = ui_gen_take(g, &k, &finished);
		for (size_t i = 0; i < k; i++) {
			if (ev[i].type == GENERATE_EVENT_STOP || n + 2 > cap)
				continue;
			out[n++] = ev[i].token;
			out[n++] = ev[i].model_prob;
		}
		free(ev);
	}
	if (ui_gen_finish(g, &cause) != 0) {
		tap_diag("ui_gen: %s", cause != NULL ? cause : "?");
		n = -1;
	}
	free(cause);
	close(fds[0]);
	close(fds[1]);
	return n;
}

/* What gen_direct collects. */
struct gen_direct_arg {
	double *out;
	int n, cap;
};

/* gen_direct's callback: tokens and model probabilities. */
static int
gen_direct_event(const struct generate_event *ev, void *arg)
{
	struct gen_direct_arg *a = arg;

	if (ev->type != GENERATE_EVENT_STOP && a->n + 2 <= a->cap) {
		a->out[a->n++] = ev->token;
		a->out[a->n++] = ev->model_prob;
	}
	return 0;
}

/* The same run through the engine alone, the matrices converted here. */
static int
gen_direct(const struct gpt_model *m, enum quant_format f, const struct tokenizer *tok,
    double *out, int cap)
{
	struct gen_direct_arg a = { out, 0, cap };
	struct sampler_params p;
	int ids[3] = { 5, 9, 12 };
	struct qweights *qw = qweights_new(m, f, NULL);
	char *cause = NULL;
	int rc;

	sampler_defaults(&p);
	p.top_k = 1;
	p.max_tokens = 12;
	p.seed = 1;
	rc = generate_run_weights(m, qw, tok, &p, ids, 3, gen_direct_event, NULL, &a, NULL,
	    &cause);
	qweights_free(qw);
	free(cause);
	return rc == 0 ? a.n : -1;
}

/*
 * The UI's generator in a weight format: on the loaded model it decodes with
 * the matrices it is handed (converted once, at load); on a fine-tune
 * snapshot it converts the snapshot once, keeps the result with it, and a
 * second generation on the same snapshot reuses it. Both decode exactly as
 * the engine does with matrices converted on the spot.
 */
static void
test_gen_weights(struct fixture *f)
{
	struct gpt_model *base = gen_model(f->tok, 1);
	struct snapshot *snap = calloc(1, sizeof *snap);
	struct qweights *qw = NULL;
	const struct qweights *first;
	double a[64], b[64];
	int na, nb;

	if (base == NULL || snap == NULL || (snap->model = gen_model(f->tok, 2)) == NULL ||
	    (qw = qweights_new(base, QUANT_Q8, NULL)) == NULL) {
		tap_ok(0, "gen: fixture");
		goto out;
	}
	snap->refs = 1;
	snap->version = 1;
	pthread_mutex_init(&snap->qlock, NULL);

	na = gen_run(base, NULL, qw, f->tok, a, 64);
	nb = gen_direct(base, QUANT_Q8, f->tok, b, 64);
	tap_ok(na > 0 && na == nb && memcmp(a, b, (size_t)na * sizeof *a) == 0,
	    "gen: q8 on the loaded model: the tokens and probabilities of the engine's q8 "
	    "(%d values)", na);
	tap_ok(snap->qw[QUANT_Q8] == NULL, "gen: a snapshot no generation read is not converted");
	na = gen_run(base, snap, qw, f->tok, a, 64);
	first = snap->qw[QUANT_Q8];
	nb = gen_direct(snap->model, QUANT_Q8, f->tok, b, 64);
	tap_ok(first != NULL && na > 0 && na == nb && memcmp(a, b, (size_t)na * sizeof *a) == 0,
	    "gen: q8 on a snapshot: its own weights, converted, as the engine decodes them");
	na = gen_run(base, snap, qw, f->tok, b, 64);
	tap_ok(snap->qw[QUANT_Q8] == first && na == nb && memcmp(a, b, (size_t)na * sizeof *a) == 0,
	    "gen: a second generation on the snapshot reuses its conversion (same matrices, "
	    "same run)");
	tap_ok(snap->qw[QUANT_BF16] == NULL && snap->qw[QUANT_FP32] == NULL,
	    "gen: only the format asked for is made");
out:
	qweights_free(qw);
	gpt_free(base);
	if (snap != NULL && snap->refs > 0)
		snapshot_unref(snap); /* the last reference: its conversions go too */
	else if (snap != NULL) {
		gpt_free(snap->model);
		free(snap);
	}
}

/*
 * The loss sparkline keeps the run's scale: losses of 2 in a run that went
 * from 1 to 5 draw low (the third of eight levels), not as a flat middle line
 * rescaled to the values on screen.
 */
static void
test_finetune_sparkline(struct fixture *f)
{
	const struct ui_pane *pane = &view_finetune_pane;
	struct ui saved = f->ui;
	struct grid g;
	char *text;
	void *p;

	f->ui.glyphs = GRID_GLYPHS_UTF8;
	memset(&f->ui.ft, 0, sizeof f->ui.ft);
	f->ui.ft.started = f->ui.ft.live = f->ui.ft.have = 1;
	f->ui.ft.state = FINETUNE_RUNNING;
	finetune_options_defaults(&f->ui.ft.run);
	f->ui.ft.last.step = f->ui.ft.steps_done = 200;
	f->ui.ft.n_hist = 200;
	for (int i = 0; i < 200; i++) /* 5 at the start, long scrolled off */
		f->ui.ft.hist[i] = i == 0 ? 5 : i < 10 ? 1 : 2;
	f->ui.ft.hist_lo = 1;
	f->ui.ft.hist_hi = 5;
	f->ui.ft.out_path = "model-ft.bin";
	p = pane->init(&f->ui);
	if (grid_init(&g, 60, 20, f->ui.glyphs) != 0)
		app_fatal("grid_init");
	pane->draw(p, &f->ui, &g, grid_rect_make(0, 0, g.width, g.height), 0);
	pane->free(p);
	text = grid_dump(&g);
	tap_ok(text != NULL && strstr(text, "loss \u2583\u2583\u2583\u2583\u2583") != NULL,
	    "finetune: the sparkline keeps the run's scale (2 in 1..5 is the third level)");
	if (text != NULL && strstr(text, "loss \u2583") == NULL)
		tap_diag("%s", text);
	free(text);
	grid_release(&g);
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
	test_ab_count();
	test_ft_smooth();
	test_stats(&f);
	test_inspector(&f);
	test_finetune(&f);
	test_finetune_path(&f);
	test_finetune_stored(&f);
	test_gen_weights(&f);
	test_finetune_sparkline(&f);
	test_loop(&f);
	tokenizer_free(f.tok);
	return tap_done();
}
