/*
 * theme.c: colour themes: the slot table, the theme file loader, colour
 * degrading and colour depth detection. Self-contained (yml.c, libyaml and
 * libc only): errors come back as messages, never by exiting.
 *
 * How loading works. A file is read whole (refused above
 * THEME_MAX_FILE_SIZE) and parsed by yml.c into a bounded tree (at most
 * THEME_MAX_DEPTH deep, THEME_MAX_ALIASES aliases and THEME_MAX_NODES nodes
 * with aliases expanded: a billion-laughs file is refused after a few events
 * instead of being walked).
 *
 * The tree is then read into a "spec": palette entries and, per slot, fg, bg
 * and attrs, each remembering where it was written. `extends:` loads the base
 * file first (recursively, at most THEME_MAX_EXTENDS deep, cycles detected by
 * real path) into the same spec, then the file's own palette and slots
 * override it field by field. Colour names stay unresolved until the whole
 * chain is read, so a theme that only redefines palette entries recolours
 * every slot of its base that uses them (a few seed colours derive the rest).
 * A palette name may shadow a built-in colour name ("red: '#cc241d'"); within
 * the palette, an entry that refers to its own name gets the built-in one.
 *
 * Every problem is recorded with its file, line and column (libyaml's marks
 * are zero-based: we add 1), reading goes on past semantic errors so that all
 * of them are reported, and the messages are sorted by file (in the order the
 * files were opened) and position. Any problem fails the whole load: the
 * caller's theme is only written when there are none.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "theme.h"
#include "util.h"
#include "yml.h"

#ifndef PKGDATADIR
#define PKGDATADIR "/usr/local/share/seqmatch"
#endif

/* The slot table, generated from THEME_SLOTS. */
static const char *const theme_slot_keys[THEME_NSLOTS] = {
#define THEME_SLOT_KEY(id, key, fg, bg, attrs, mono, help) key,
	THEME_SLOTS(THEME_SLOT_KEY)
#undef THEME_SLOT_KEY
};
static const char *const theme_slot_helps[THEME_NSLOTS] = {
#define THEME_SLOT_HELP(id, key, fg, bg, attrs, mono, help) help,
	THEME_SLOTS(THEME_SLOT_HELP)
#undef THEME_SLOT_HELP
};
static const struct theme_style theme_fallback[THEME_NSLOTS] = {
#define THEME_SLOT_FALLBACK(id, key, fg, bg, attrs, mono, help) { fg, bg, attrs },
	THEME_SLOTS(THEME_SLOT_FALLBACK)
#undef THEME_SLOT_FALLBACK
};
static const unsigned theme_slot_mono[THEME_NSLOTS] = {
#define THEME_SLOT_MONO(id, key, fg, bg, attrs, mono, help) mono,
	THEME_SLOTS(THEME_SLOT_MONO)
#undef THEME_SLOT_MONO
};

/* The 16 colour names, by index. */
static const char *const theme_colour_names[16] = {
	"black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
	"bright-black", "bright-red", "bright-green", "bright-yellow",
	"bright-blue", "bright-magenta", "bright-cyan", "bright-white"
};

/*
 * The 16 colours' reference values for degrading: the classic VGA ones,
 * which most terminal schemes resemble (normal colours saturated and darker,
 * bright ones lighter), so #ff0000 maps to red and #ff5555 to bright-red.
 */
static const uint32_t theme_ansi_rgb[16] = {
	0x000000, 0xaa0000, 0x00aa00, 0xaa5500, 0x0000aa, 0xaa00aa, 0x00aaaa, 0xaaaaaa,
	0x555555, 0xff5555, 0x55ff55, 0xffff55, 0x5555ff, 0xff55ff, 0x55ffff, 0xffffff
};

/* The attribute names, by bit. */
static const char *const theme_attr_names[] = {
	"bold", "dim", "underline", "reverse", "italic"
};
#define THEME_NATTRS (sizeof theme_attr_names / sizeof theme_attr_names[0])

/* The top-level keys of a theme file, and the keys of a slot mapping. */
static const char *const theme_top_keys[] = { "name", "extends", "palette", "slots", NULL };
static const char *const theme_style_keys[] = { "fg", "bg", "attrs", NULL };

/* ---- Messages ---- */

/* One problem. */
struct theme_diag {
	int file;      /* index in theme_ctx.files */
	int line, col; /* 1-based; 0 when the problem has no position */
	int seq;       /* order of discovery, for a stable sort */
	char *msg;
};

/* A colour as written: a literal, or a name resolved at the end. */
struct theme_cspec {
	int set;
	int is_ref;
	struct theme_colour colour;
	char ref[THEME_NAME_MAX];
	int file, line, col;
};

/* One palette entry. */
struct theme_pal {
	char name[THEME_NAME_MAX];
	struct theme_cspec value;
	int state; /* 0 not resolved, 1 resolving, 2 resolved, 3 failed */
	struct theme_colour colour;
};

/* One slot as written. */
struct theme_slot_spec {
	struct theme_cspec fg, bg;
	int attrs_set;
	unsigned attrs;
};

/* A load in progress. */
struct theme_ctx {
	struct theme_diag *diags;
	size_t ndiags, capdiags;
	size_t dropped; /* problems beyond THEME_MAX_ERRORS */
	int seq;
	int oom;

	char **files; /* names used in messages */
	size_t nfiles;

	char *chain[THEME_MAX_EXTENDS + 1]; /* real paths of the files being loaded */
	size_t nchain;

	const char *const *search;

	char name[THEME_NAME_MAX];
	struct theme_pal *pal;
	size_t npal;
	struct theme_slot_spec slots[THEME_NSLOTS];
};

/* strdup that notes failure in ctx. */
static char *
theme_strdup(struct theme_ctx *ctx, const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		ctx->oom = 1;
	return p;
}

/* Record a problem at file:line:col (line 0: no position). */
static void __attribute__((format(printf, 5, 6)))
theme_error(struct theme_ctx *ctx, int file, int line, int col, const char *fmt, ...)
{
	struct theme_diag *d;
	va_list ap;
	char *msg;
	int n;

	if (ctx->ndiags >= THEME_MAX_ERRORS) {
		ctx->dropped++;
		return;
	}
	if (ctx->ndiags == ctx->capdiags) {
		size_t cap = ctx->capdiags ? ctx->capdiags * 2 : 8;
		d = realloc(ctx->diags, cap * sizeof *d);
		if (d == NULL) {
			ctx->oom = 1;
			return;
		}
		ctx->diags = d;
		ctx->capdiags = cap;
	}
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		ctx->oom = 1;
		return;
	}
	/* Names in messages come from the file: keep control bytes off the terminal. */
	for (char *p = msg; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
	d = &ctx->diags[ctx->ndiags++];
	d->file = file;
	d->line = line;
	d->col = col;
	d->seq = ctx->seq++;
	d->msg = msg;
}

/* qsort order of problems: file, line, column, discovery. */
static int
theme_diag_cmp(const void *a, const void *b)
{
	const struct theme_diag *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Join the sorted problems into one message, a line each. */
static char *
theme_diag_join(struct theme_ctx *ctx)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	qsort(ctx->diags, ctx->ndiags, sizeof *ctx->diags, theme_diag_cmp);
	f = open_memstream(&out, &len);
	if (f == NULL)
		return NULL;
	for (size_t i = 0; i < ctx->ndiags; i++) {
		const struct theme_diag *d = &ctx->diags[i];
		const char *file = d->file >= 0 && (size_t)d->file < ctx->nfiles &&
		    ctx->files[d->file] != NULL ? ctx->files[d->file] : "(theme)";

		if (i > 0)
			fputc('\n', f);
		if (d->line > 0)
			fprintf(f, "%s:%d:%d: %s", file, d->line, d->col, d->msg);
		else
			fprintf(f, "%s: %s", file, d->msg);
	}
	if (ctx->dropped > 0)
		fprintf(f, "\n(%zu more problems not shown)", ctx->dropped);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* Add a file name for messages; returns its index (or -1 when out of memory). */
static int
theme_add_file(struct theme_ctx *ctx, const char *name)
{
	char **files = realloc(ctx->files, (ctx->nfiles + 1) * sizeof *files);

	if (files == NULL) {
		ctx->oom = 1;
		return -1;
	}
	ctx->files = files;
	files[ctx->nfiles] = theme_strdup(ctx, name);
	return (int)ctx->nfiles++;
}

/* Free everything a load held. */
static void
theme_ctx_release(struct theme_ctx *ctx)
{
	for (size_t i = 0; i < ctx->ndiags; i++)
		free(ctx->diags[i].msg);
	free(ctx->diags);
	for (size_t i = 0; i < ctx->nfiles; i++)
		free(ctx->files[i]);
	free(ctx->files);
	for (size_t i = 0; i < ctx->nchain; i++)
		free(ctx->chain[i]);
	free(ctx->pal);
}

/* ---- Colours ---- */

/* The index of a built-in colour name (case-insensitive; grey/gray = 8), or -1. */
static int
theme_colour_name_index(const char *s)
{
	for (int i = 0; i < 16; i++) {
		if (strcasecmp(s, theme_colour_names[i]) == 0)
			return i;
	}
	if (strcasecmp(s, "grey") == 0 || strcasecmp(s, "gray") == 0)
		return 8;
	return -1;
}

/* Whether s is a valid palette name: letters, digits, '-' and '_', starting with a letter. */
static int
theme_is_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= THEME_NAME_MAX || !isalpha((unsigned char)s[0]))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return 0;
	}
	return 1;
}

/*
 * Parse a literal colour (#rgb, #rrggbb, 0-255, default) or a name into spec.
 * Returns 0, or -1 with a message in buf.
 */
static int
theme_cspec_parse(const char *s, struct theme_cspec *spec, char *buf, size_t size)
{
	size_t n = strlen(s);

	memset(&spec->colour, 0, sizeof spec->colour);
	spec->is_ref = 0;
	spec->ref[0] = '\0';
	if (s[0] == '#') {
		uint32_t v = 0;

		for (size_t i = 1; i < n; i++) {
			if (util_hex_digit((unsigned char)s[i]) < 0) {
				snprintf(buf, size, "bad colour '%.*s': not a hex number (use #rgb "
				    "or #rrggbb)", THEME_NAME_MAX, s);
				return -1;
			}
		}
		if (n == 4) {
			for (size_t i = 1; i < 4; i++)
				v = v << 8 | (uint32_t)util_hex_digit((unsigned char)s[i]) * 0x11u;
		} else if (n == 7) {
			for (size_t i = 1; i < 7; i++)
				v = v << 4 | (uint32_t)util_hex_digit((unsigned char)s[i]);
		} else {
			snprintf(buf, size, "bad colour '%.*s': %zu hex digits (use #rgb or "
			    "#rrggbb)", THEME_NAME_MAX, s, n - 1);
			return -1;
		}
		spec->colour.kind = THEME_COLOUR_RGB;
		spec->colour.value = v;
		return 0;
	}
	if (isdigit((unsigned char)s[0]) || ((s[0] == '-' || s[0] == '+') &&
	    isdigit((unsigned char)s[1]))) {
		char *end;
		long v;

		errno = 0;
		v = strtol(s, &end, 10);
		if (*end != '\0') {
			snprintf(buf, size, "bad colour '%.*s' (a colour number is 0-255)",
			    THEME_NAME_MAX, s);
			return -1;
		}
		if (errno != 0 || v < 0 || v > 255) {
			snprintf(buf, size, "colour number %.*s is out of range (0-255)",
			    THEME_NAME_MAX, s);
			return -1;
		}
		spec->colour.kind = THEME_COLOUR_INDEX;
		spec->colour.value = (uint32_t)v;
		return 0;
	}
	if (strcasecmp(s, "default") == 0) {
		spec->colour.kind = THEME_COLOUR_DEFAULT;
		return 0;
	}
	if (!theme_is_name(s)) {
		snprintf(buf, size, "bad colour '%.*s' (use a name, #rrggbb, #rgb, 0-255 or "
		    "default)", THEME_NAME_MAX, s);
		return -1;
	}
	spec->is_ref = 1;
	snprintf(spec->ref, sizeof spec->ref, "%s", s);
	return 0;
}

/* Parse one colour with no palette. */
int
theme_colour_parse(const char *s, struct theme_colour *c, char **cause)
{
	struct theme_cspec spec;
	char buf[256];
	int i;

	if (cause != NULL)
		*cause = NULL;
	if (s == NULL || s[0] == '\0') {
		if (cause != NULL)
			*cause = strdup("empty colour");
		return -1;
	}
	if (theme_cspec_parse(s, &spec, buf, sizeof buf) < 0) {
		if (cause != NULL)
			*cause = strdup(buf);
		return -1;
	}
	if (!spec.is_ref) {
		*c = spec.colour;
		return 0;
	}
	i = theme_colour_name_index(s);
	if (i < 0) {
		char sug[THEME_NAME_MAX + 32];
		struct yml_suggest sg;

		yml_suggest_init(&sg, s);
		for (int k = 0; k < 16; k++)
			yml_suggest_add(&sg, theme_colour_names[k]);
		yml_suggest_add(&sg, "default");
		yml_suggest_add(&sg, "grey");
		if (cause != NULL && asprintf(cause, "unknown colour '%s'%s", s,
		    yml_suggest_text(&sg, sug, sizeof sug)) < 0)
			*cause = NULL;
		return -1;
	}
	c->kind = THEME_COLOUR_INDEX;
	c->value = (uint32_t)i;
	return 0;
}

/* Write a colour as a theme file would spell it. */
void
theme_colour_format(struct theme_colour c, char *buf, size_t size)
{
	switch (c.kind) {
	case THEME_COLOUR_DEFAULT:
		snprintf(buf, size, "default");
		break;
	case THEME_COLOUR_INDEX:
		if (c.value < 16)
			snprintf(buf, size, "%s", theme_colour_names[c.value]);
		else
			snprintf(buf, size, "%u", (unsigned)c.value);
		break;
	default:
		snprintf(buf, size, "#%06x", (unsigned)(c.value & 0xffffff));
		break;
	}
}

/* Write an attribute mask. */
void
theme_attrs_format(unsigned attrs, char *buf, size_t size)
{
	size_t used = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < THEME_NATTRS; i++) {
		int n;

		if (!(attrs & (1u << i)))
			continue;
		n = snprintf(buf + used, size - used, "%s%s", used ? "," : "",
		    theme_attr_names[i]);
		if (n < 0 || (size_t)n >= size - used)
			return;
		used += (size_t)n;
	}
	if (used == 0)
		snprintf(buf, size, "none");
}

/* The RGB of a palette index. */
uint32_t
theme_index_rgb(unsigned index)
{
	static const unsigned levels[6] = { 0, 95, 135, 175, 215, 255 };

	if (index < 16)
		return theme_ansi_rgb[index];
	if (index < 232) {
		unsigned i = index - 16;

		return (uint32_t)(levels[i / 36] << 16 | levels[i / 6 % 6] << 8 | levels[i % 6]);
	}
	if (index < 256) {
		unsigned g = 8 + 10 * (index - 232);

		return (uint32_t)(g << 16 | g << 8 | g);
	}
	return 0;
}

/*
 * A perceptual-ish distance between two colours: the "redmean" weighted
 * Euclidean distance (Riemersma, "Colour metric", compuphase.com), which
 * weighs green most and red or blue by how red the pair is.
 */
static long
theme_rgb_distance(uint32_t a, uint32_t b)
{
	long r1 = a >> 16 & 0xff, g1 = a >> 8 & 0xff, b1 = a & 0xff;
	long r2 = b >> 16 & 0xff, g2 = b >> 8 & 0xff, b2 = b & 0xff;
	long rmean = (r1 + r2) / 2, dr = r1 - r2, dg = g1 - g2, db = b1 - b2;

	return ((512 + rmean) * dr * dr >> 8) + 4 * dg * dg + ((767 - rmean) * db * db >> 8);
}

/* The nearest palette index in [from, to) to an RGB value (ties: lowest). */
static unsigned
theme_nearest(uint32_t rgb, unsigned from, unsigned to)
{
	unsigned best = from;
	long bestd = LONG_MAX;

	for (unsigned i = from; i < to; i++) {
		long d = theme_rgb_distance(rgb, theme_index_rgb(i));

		if (d < bestd) {
			bestd = d;
			best = i;
		}
	}
	return best;
}

/* Map a colour to a depth. */
struct theme_colour
theme_colour_degrade(struct theme_colour c, enum theme_depth depth)
{
	struct theme_colour out = c;

	if (c.kind == THEME_COLOUR_DEFAULT)
		return c;
	if (c.kind == THEME_COLOUR_INDEX && c.value > 255)
		c.value = 255;
	switch (depth) {
	case THEME_DEPTH_NONE:
		out.kind = THEME_COLOUR_DEFAULT;
		out.value = 0;
		break;
	case THEME_DEPTH_16:
		if (c.kind == THEME_COLOUR_INDEX && c.value < 16)
			break;
		out.kind = THEME_COLOUR_INDEX;
		out.value = theme_nearest(c.kind == THEME_COLOUR_RGB ? c.value :
		    theme_index_rgb(c.value), 0, 16);
		break;
	case THEME_DEPTH_256:
		if (c.kind == THEME_COLOUR_INDEX)
			break;
		out.kind = THEME_COLOUR_INDEX;
		out.value = theme_nearest(c.value & 0xffffff, 16, 256);
		break;
	default:
		if (c.kind == THEME_COLOUR_INDEX && c.value >= 16) {
			out.kind = THEME_COLOUR_RGB;
			out.value = theme_index_rgb(c.value);
		}
		break;
	}
	return out;
}

/* Degrade a whole theme. */
void
theme_degrade(const struct theme *in, enum theme_depth depth, struct theme *out)
{
	if (out != in)
		*out = *in;
	for (int i = 0; i < THEME_NSLOTS; i++) {
		struct theme_style *s = &out->slots[i];
		int coloured = s->fg.kind != THEME_COLOUR_DEFAULT ||
		    s->bg.kind != THEME_COLOUR_DEFAULT;

		s->fg = theme_colour_degrade(s->fg, depth);
		s->bg = theme_colour_degrade(s->bg, depth);
		if (depth == THEME_DEPTH_NONE && (s->attrs == 0 || coloured))
			s->attrs |= theme_slot_mono[i];
	}
}

/* Replace italic by the slot's mono attributes (terminals without italics). */
void
theme_drop_italic(struct theme *t)
{
	for (int i = 0; i < THEME_NSLOTS; i++) {
		struct theme_style *s = &t->slots[i];

		if (s->attrs & THEME_ATTR_ITALIC)
			s->attrs = (s->attrs & ~THEME_ATTR_ITALIC) | theme_slot_mono[i];
	}
}

/* Whether s ends with suffix. */
static int
theme_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The colour depth to use. */
enum theme_depth
theme_depth_detect(const char *term, const char *colorterm, const char *no_color,
    int ncolors, int forced)
{
	if (forced >= THEME_DEPTH_NONE && forced <= THEME_DEPTH_DIRECT)
		return (enum theme_depth)forced;
	if (term == NULL || term[0] == '\0' || strcmp(term, "dumb") == 0)
		return THEME_DEPTH_NONE;
	if (no_color != NULL && no_color[0] != '\0')
		return THEME_DEPTH_NONE;
	if (colorterm != NULL && (strcasecmp(colorterm, "truecolor") == 0 ||
	    strcasecmp(colorterm, "24bit") == 0))
		return THEME_DEPTH_DIRECT;
	if (theme_ends_with(term, "-direct"))
		return THEME_DEPTH_DIRECT;
	if (ncolors >= 0x1000000)
		return THEME_DEPTH_DIRECT;
	if (ncolors >= 256)
		return THEME_DEPTH_256;
	if (ncolors >= 8)
		return THEME_DEPTH_16;
	if (ncolors >= 0)
		return THEME_DEPTH_NONE;
	return strstr(term, "256color") != NULL ? THEME_DEPTH_256 : THEME_DEPTH_16;
}

/* Parse a --colors value. */
int
theme_depth_parse(const char *s)
{
	if (s == NULL)
		return -2;
	if (strcasecmp(s, "auto") == 0)
		return THEME_DEPTH_AUTO;
	if (strcasecmp(s, "none") == 0 || strcmp(s, "0") == 0 || strcmp(s, "2") == 0 ||
	    strcasecmp(s, "mono") == 0)
		return THEME_DEPTH_NONE;
	if (strcmp(s, "8") == 0 || strcmp(s, "16") == 0)
		return THEME_DEPTH_16;
	if (strcmp(s, "256") == 0)
		return THEME_DEPTH_256;
	if (strcasecmp(s, "direct") == 0 || strcasecmp(s, "truecolor") == 0 ||
	    strcasecmp(s, "24bit") == 0)
		return THEME_DEPTH_DIRECT;
	return -2;
}

/* The name of a depth. */
const char *
theme_depth_name(enum theme_depth depth)
{
	switch (depth) {
	case THEME_DEPTH_NONE:
		return "none";
	case THEME_DEPTH_16:
		return "16";
	case THEME_DEPTH_256:
		return "256";
	default:
		return "direct";
	}
}

/* ---- Slots ---- */

/* Fill t with the built-in theme. */
void
theme_init_default(struct theme *t)
{
	memset(t, 0, sizeof *t);
	snprintf(t->name, sizeof t->name, "builtin");
	memcpy(t->slots, theme_fallback, sizeof t->slots);
}

/* A slot's key. */
const char *
theme_slot_name(enum theme_slot slot)
{
	if ((int)slot < 0 || slot >= THEME_NSLOTS)
		return NULL;
	return theme_slot_keys[slot];
}

/* A slot's description. */
const char *
theme_slot_help(enum theme_slot slot)
{
	if ((int)slot < 0 || slot >= THEME_NSLOTS)
		return NULL;
	return theme_slot_helps[slot];
}

/* The slot with this key, or -1. */
int
theme_slot_find(const char *name)
{
	for (int i = 0; i < THEME_NSLOTS; i++) {
		if (strcmp(theme_slot_keys[i], name) == 0)
			return i;
	}
	return -1;
}

/* ---- Reading a theme file into the spec ---- */

/* Suggestion among the slot keys. */
static const char *
theme_suggest_slot(const char *word, char *buf, size_t size)
{
	struct yml_suggest s;

	yml_suggest_init(&s, word);
	for (int i = 0; i < THEME_NSLOTS; i++)
		yml_suggest_add(&s, theme_slot_keys[i]);
	return yml_suggest_text(&s, buf, size);
}

/*
 * A hint for an empty value or one ending in "on": in YAML an unquoted '#'
 * after a space starts a comment, so `fg: #ff0000` is an empty value.
 */
static const char *
theme_hash_hint(const struct yml_node *n)
{
	const struct yml_node *d = yml_deref(n);

	if (d == NULL || d->type != YML_SCALAR || !d->plain)
		return "";
	if (d->len == 0 || (d->len >= 2 && strcasecmp(d->value + d->len - 2, "on") == 0))
		return " (quote colours that start with '#': \"#ff0000\"; unquoted, '#' "
		    "starts a comment)";
	return "";
}

/* Read a colour scalar s written at line:col into spec. */
static void
theme_read_colour_text(struct theme_ctx *ctx, int file, int line, int col, const char *s,
    struct theme_cspec *spec)
{
	char buf[256];

	if (theme_cspec_parse(s, spec, buf, sizeof buf) < 0) {
		theme_error(ctx, file, line, col, "%s", buf);
		return;
	}
	spec->set = 1;
	spec->file = file;
	spec->line = line;
	spec->col = col;
}

/* Read a colour node into spec. */
static void
theme_read_colour(struct theme_ctx *ctx, int file, const struct yml_node *n,
    struct theme_cspec *spec)
{
	const char *s = yml_scalar(n);

	if (s == NULL) {
		theme_error(ctx, file, n->line, n->col, "expected a colour (a name, #rrggbb, "
		    "0-255 or default), found %s%s", yml_what(n), theme_hash_hint(n));
		return;
	}
	theme_read_colour_text(ctx, file, n->line, n->col, s, spec);
}

/* Read attrs: a list of names, or one string of names separated by spaces or commas. */
static void
theme_read_attrs(struct theme_ctx *ctx, int file, const struct yml_node *n,
    struct theme_slot_spec *slot)
{
	const struct yml_node *d = yml_deref(n);
	unsigned attrs = 0;
	int bad = 0;

	if (d->type == YML_MAP) {
		theme_error(ctx, file, n->line, n->col, "expected a list of attributes (bold, "
		    "dim, underline, reverse, italic), found a mapping");
		return;
	}
	for (size_t k = 0; k < (d->type == YML_SEQ ? d->nkids : 1); k++) {
		const struct yml_node *item = d->type == YML_SEQ ? d->kids[k] : d;
		const struct yml_node *di = yml_deref(item);
		const char *s, *p;

		if (d->type == YML_SCALAR && d->plain && d->len == 0)
			break; /* "attrs:" with nothing: no attributes */
		if (di->type != YML_SCALAR || (s = yml_scalar(item)) == NULL) {
			theme_error(ctx, file, item->line, item->col,
			    "expected an attribute name, found %s", yml_what(item));
			bad = 1;
			continue;
		}
		for (p = s; *p != '\0';) {
			char word[THEME_NAME_MAX], sug[THEME_NAME_MAX + 32];
			size_t len = strcspn(p, " \t,"), i;
			int off = (int)(p - s) + (di->quoted ? 1 : 0);

			if (len == 0) {
				p++;
				continue;
			}
			snprintf(word, sizeof word, "%.*s", (int)(len < sizeof word - 1 ? len :
			    sizeof word - 1), p);
			for (i = 0; i < THEME_NATTRS; i++) {
				if (strcasecmp(word, theme_attr_names[i]) == 0)
					break;
			}
			if (i < THEME_NATTRS) {
				attrs |= 1u << i;
			} else if (strcasecmp(word, "none") != 0) {
				const char *names[THEME_NATTRS + 1];

				for (size_t j = 0; j < THEME_NATTRS; j++)
					names[j] = theme_attr_names[j];
				names[THEME_NATTRS] = NULL;
				if (yml_suggest_list(word, names, sug, sizeof sug)[0] == '\0')
					snprintf(sug, sizeof sug, " (use bold, dim, underline, "
					    "reverse or italic)");
				theme_error(ctx, file, item->line, item->col + (di->plain ||
				    di->quoted ? off : 0), "unknown attribute '%s'%s", word, sug);
				bad = 1;
			}
			p += len;
		}
	}
	if (!bad) {
		slot->attrs_set = 1;
		slot->attrs = attrs;
	}
}

/*
 * Read a slot's short form: "FG" or "FG on BG" (or "on BG"). The background
 * slot only paints the screen behind the panes, so its one colour ("background:
 * black") is a background: read as a foreground it would change nothing and
 * leave the terminal's own background showing between the panes.
 */
static void
theme_read_slot_string(struct theme_ctx *ctx, int file, const struct yml_node *n,
    const char *s, int which, struct theme_slot_spec *slot)
{
	const struct yml_node *d = yml_deref(n);
	char words[4][THEME_NAME_MAX * 2];
	int offs[4], nw = 0, base = d->quoted ? 1 : 0, exact = d->plain || d->quoted;
	struct theme_cspec fg, bg;

	for (const char *p = s; *p != '\0';) {
		size_t len;

		if (isspace((unsigned char)*p)) {
			p++;
			continue;
		}
		len = strcspn(p, " \t\r\n");
		if (nw == 4) {
			nw++;
			break;
		}
		offs[nw] = (int)(p - s);
		snprintf(words[nw], sizeof words[nw], "%.*s", (int)(len < sizeof words[nw] - 1 ?
		    len : sizeof words[nw] - 1), p);
		nw++;
		p += len;
	}
	memset(&fg, 0, sizeof fg);
	memset(&bg, 0, sizeof bg);
	if (nw == 1 && strcasecmp(words[0], "on") != 0) {
		theme_read_colour_text(ctx, file, n->line, n->col, words[0],
		    which == THEME_SLOT_BACKGROUND ? &bg : &fg);
	} else if (nw == 3 && strcasecmp(words[1], "on") == 0) {
		theme_read_colour_text(ctx, file, n->line, n->col + (exact ? base + offs[0] : 0),
		    words[0], &fg);
		theme_read_colour_text(ctx, file, n->line, n->col + (exact ? base + offs[2] : 0),
		    words[2], &bg);
	} else if (nw == 2 && strcasecmp(words[0], "on") == 0) {
		theme_read_colour_text(ctx, file, n->line, n->col + (exact ? base + offs[1] : 0),
		    words[1], &bg);
	} else {
		theme_error(ctx, file, n->line, n->col, "expected \"FG\" or \"FG on BG\", "
		    "found '%.*s'%s", THEME_NAME_MAX, s, theme_hash_hint(n));
		return;
	}
	if (fg.set)
		slot->fg = fg;
	if (bg.set)
		slot->bg = bg;
}

/* Read one slot's value (which: the slot, for the background's special case). */
static void
theme_read_slot(struct theme_ctx *ctx, int file, const struct yml_node *n, int which_slot,
    struct theme_slot_spec *slot)
{
	const struct yml_node *d = yml_deref(n);
	const struct yml_node *seen[3] = { NULL, NULL, NULL };
	struct theme_slot_spec tmp = *slot;
	const char *s;

	if (d->type == YML_SCALAR) {
		if ((s = yml_scalar(n)) == NULL) {
			theme_error(ctx, file, n->line, n->col, "expected a colour or a mapping "
			    "with fg, bg and attrs, found %s%s", yml_what(n),
			    theme_hash_hint(n));
			return;
		}
		theme_read_slot_string(ctx, file, n, s, which_slot, slot);
		return;
	}
	if (d->type != YML_MAP) {
		theme_error(ctx, file, n->line, n->col, "expected a mapping with fg, bg and "
		    "attrs (or a string \"FG on BG\"), found %s", yml_what(n));
		return;
	}
	for (size_t i = 0; i + 1 < d->nkids; i += 2) {
		const struct yml_node *key = d->kids[i], *val = d->kids[i + 1];
		const char *k = yml_scalar(key);
		char sug[THEME_NAME_MAX + 32];
		int which;

		if (k == NULL) {
			theme_error(ctx, file, key->line, key->col,
			    "expected fg, bg or attrs, found %s", yml_what(key));
			continue;
		}
		for (which = 0; theme_style_keys[which] != NULL; which++) {
			if (strcmp(k, theme_style_keys[which]) == 0)
				break;
		}
		if (theme_style_keys[which] == NULL) {
			if (yml_suggest_list(k, theme_style_keys, sug, sizeof sug)[0] == '\0')
				snprintf(sug, sizeof sug, " (use fg, bg or attrs)");
			theme_error(ctx, file, key->line, key->col, "unknown key '%.*s' in a "
			    "slot%s", THEME_NAME_MAX, k, sug);
			continue;
		}
		if (seen[which] != NULL) {
			theme_error(ctx, file, key->line, key->col, "duplicate key '%s' (first at "
			    "line %d)", k, seen[which]->line);
			continue;
		}
		seen[which] = key;
		if (which == 0)
			theme_read_colour(ctx, file, val, &tmp.fg);
		else if (which == 1)
			theme_read_colour(ctx, file, val, &tmp.bg);
		else
			theme_read_attrs(ctx, file, val, &tmp);
	}
	/* An fg alone on the background slot paints nothing: the mistake that leaves holes. */
	if (which_slot == THEME_SLOT_BACKGROUND && seen[0] != NULL && seen[1] == NULL)
		theme_error(ctx, file, seen[0]->line, seen[0]->col, "slot 'background' is the "
		    "screen behind the panes: an fg alone changes nothing; give it a bg "
		    "('background: COLOUR' or '{ bg: COLOUR }')");
	*slot = tmp;
}

/* Read the slots mapping. */
static void
theme_read_slots(struct theme_ctx *ctx, int file, const struct yml_node *n)
{
	const struct yml_node *d = yml_deref(n);
	const struct yml_node *seen[THEME_NSLOTS];

	if (d->type != YML_MAP) {
		theme_error(ctx, file, n->line, n->col, "'slots' must be a mapping of slot "
		    "names to colours, found %s", yml_what(n));
		return;
	}
	memset(seen, 0, sizeof seen);
	for (size_t i = 0; i + 1 < d->nkids; i += 2) {
		const struct yml_node *key = d->kids[i], *val = d->kids[i + 1];
		const char *k = yml_scalar(key);
		char sug[THEME_NAME_MAX + 32];
		int slot;

		if (k == NULL) {
			theme_error(ctx, file, key->line, key->col,
			    "expected a slot name, found %s", yml_what(key));
			continue;
		}
		slot = theme_slot_find(k);
		if (slot < 0) {
			theme_error(ctx, file, key->line, key->col, "unknown slot '%.*s'%s",
			    THEME_NAME_MAX, k, theme_suggest_slot(k, sug, sizeof sug));
			continue;
		}
		if (seen[slot] != NULL) {
			theme_error(ctx, file, key->line, key->col, "duplicate slot '%s' (first "
			    "at line %d)", k, seen[slot]->line);
			continue;
		}
		seen[slot] = key;
		theme_read_slot(ctx, file, val, slot, &ctx->slots[slot]);
	}
}

/* The palette entry called name, or NULL. */
static struct theme_pal *
theme_pal_find(struct theme_ctx *ctx, const char *name)
{
	for (size_t i = 0; i < ctx->npal; i++) {
		if (strcmp(ctx->pal[i].name, name) == 0)
			return &ctx->pal[i];
	}
	return NULL;
}

/* Read the palette mapping (entries override the base theme's). */
static void
theme_read_palette(struct theme_ctx *ctx, int file, const struct yml_node *n)
{
	const struct yml_node *d = yml_deref(n);
	size_t first = ctx->npal; /* entries of this file start here */

	if (d->type != YML_MAP) {
		theme_error(ctx, file, n->line, n->col, "'palette' must be a mapping of names "
		    "to colours, found %s", yml_what(n));
		return;
	}
	for (size_t i = 0; i + 1 < d->nkids; i += 2) {
		const struct yml_node *key = d->kids[i], *val = d->kids[i + 1];
		const char *k = yml_scalar(key);
		struct theme_cspec spec;
		struct theme_pal *p;

		if (k == NULL || !theme_is_name(k) || strcasecmp(k, "default") == 0 ||
		    strcasecmp(k, "on") == 0) {
			theme_error(ctx, file, key->line, key->col, "bad palette name%s%.*s%s: use "
			    "letters, digits, '-' and '_', starting with a letter (not 'default' "
			    "or 'on')", k ? " '" : "", THEME_NAME_MAX, k ? k : "", k ? "'" : "");
			continue;
		}
		memset(&spec, 0, sizeof spec);
		theme_read_colour(ctx, file, val, &spec);
		p = theme_pal_find(ctx, k);
		if (p != NULL && (size_t)(p - ctx->pal) >= first) {
			theme_error(ctx, file, key->line, key->col, "duplicate palette entry '%s' "
			    "(first at line %d)", k, p->value.line);
			continue;
		}
		if (!spec.set)
			continue;
		if (p == NULL) {
			if (ctx->npal >= THEME_MAX_PALETTE) {
				theme_error(ctx, file, key->line, key->col, "more than %d palette "
				    "entries", THEME_MAX_PALETTE);
				return;
			}
			p = realloc(ctx->pal, (ctx->npal + 1) * sizeof *p);
			if (p == NULL) {
				ctx->oom = 1;
				return;
			}
			ctx->pal = p;
			p = &ctx->pal[ctx->npal++];
			memset(p, 0, sizeof *p);
			snprintf(p->name, sizeof p->name, "%s", k);
		} else if ((size_t)(p - ctx->pal) < first) {
			/* Overriding the base's entry: move it into this file's range. */
			struct theme_pal tmp = *p;

			memmove(p, p + 1, (size_t)(ctx->pal + ctx->npal - p - 1) * sizeof *p);
			first--;
			p = &ctx->pal[ctx->npal - 1];
			*p = tmp;
		}
		p->value = spec;
	}
}

static void theme_load_path(struct theme_ctx *ctx, const char *path, int pfile, int pline,
    int pcol);

/* Whether an extends/load target is a path rather than a name. */
static int
theme_is_path(const char *s)
{
	return strchr(s, '/') != NULL || theme_ends_with(s, ".yaml") ||
	    theme_ends_with(s, ".yml");
}

/* Follow `extends: target` written in file (called filename) at line:col. */
static void
theme_read_extends(struct theme_ctx *ctx, int file, const char *filename,
    const struct yml_node *n)
{
	const char *target = yml_scalar(n);
	char path[PATH_MAX];

	if (target == NULL) {
		theme_error(ctx, file, n->line, n->col, "'extends' must be a theme name or a "
		    "path, found %s", yml_what(n));
		return;
	}
	if (theme_is_path(target)) {
		const char *slash = strrchr(filename, '/');

		if (target[0] == '/' || slash == NULL)
			snprintf(path, sizeof path, "%s", target);
		else if (snprintf(path, sizeof path, "%.*s/%s", (int)(slash - filename), filename,
		    target) >= (int)sizeof path) {
			theme_error(ctx, file, n->line, n->col, "path too long");
			return;
		}
	} else if (theme_find(target, ctx->search, path, sizeof path) < 0) {
		theme_error(ctx, file, n->line, n->col, "theme '%.*s' not found in the theme "
		    "search path", THEME_NAME_MAX, target);
		return;
	}
	theme_load_path(ctx, path, file, n->line, n->col);
}

/* Read a parsed file's top level into the spec. */
static void
theme_read_tree(struct theme_ctx *ctx, int file, const char *filename,
    const struct yml_node *root)
{
	const struct yml_node *d = yml_deref(root);
	const struct yml_node *vals[4] = { NULL, NULL, NULL, NULL };
	const struct yml_node *keys[4] = { NULL, NULL, NULL, NULL };

	if (d == NULL || (d->type == YML_SCALAR && yml_scalar(d) == NULL)) {
		theme_error(ctx, file, root ? root->line : 1, root ? root->col : 1, "empty theme: "
		    "expected a mapping with name, extends, palette and slots");
		return;
	}
	if (d->type != YML_MAP) {
		theme_error(ctx, file, root->line, root->col, "expected a mapping with name, "
		    "extends, palette and slots at the top level, found %s", yml_what(d));
		return;
	}
	for (size_t i = 0; i + 1 < d->nkids; i += 2) {
		const struct yml_node *key = d->kids[i];
		const char *k = yml_scalar(key);
		char sug[THEME_NAME_MAX + 32];
		int which;

		if (k == NULL) {
			theme_error(ctx, file, key->line, key->col, "expected name, extends, "
			    "palette or slots, found %s", yml_what(key));
			continue;
		}
		for (which = 0; theme_top_keys[which] != NULL; which++) {
			if (strcmp(k, theme_top_keys[which]) == 0)
				break;
		}
		if (theme_top_keys[which] == NULL) {
			const char *s = yml_suggest_list(k, theme_top_keys, sug, sizeof sug);

			if (s[0] == '\0' && theme_slot_find(k) >= 0)
				s = " (slots go under 'slots:')";
			theme_error(ctx, file, key->line, key->col, "unknown key '%.*s'%s",
			    THEME_NAME_MAX, k, s);
			continue;
		}
		if (keys[which] != NULL) {
			theme_error(ctx, file, key->line, key->col, "duplicate key '%s' (first at "
			    "line %d)", k, keys[which]->line);
			continue;
		}
		keys[which] = key;
		vals[which] = d->kids[i + 1];
	}
	/* The base first, so that this file overrides it. */
	if (vals[1] != NULL)
		theme_read_extends(ctx, file, filename, vals[1]);
	if (vals[0] != NULL) {
		const char *name = yml_scalar(vals[0]);

		if (name == NULL || strlen(name) >= THEME_NAME_MAX) {
			theme_error(ctx, file, vals[0]->line, vals[0]->col, "'name' must be a "
			    "string of at most %d bytes", THEME_NAME_MAX - 1);
		} else {
			snprintf(ctx->name, sizeof ctx->name, "%s", name);
			for (char *p = ctx->name; *p != '\0'; p++) {
				if ((unsigned char)*p < 0x20 || *p == 0x7f)
					*p = '?';
			}
		}
	}
	if (vals[2] != NULL)
		theme_read_palette(ctx, file, vals[2]);
	if (vals[3] != NULL)
		theme_read_slots(ctx, file, vals[3]);
}

/* Read one theme text (file index already added) into the spec. */
static void
theme_load_text(struct theme_ctx *ctx, int file, const char *filename, const void *buf,
    size_t len)
{
	static const struct yml_limits limits = {
		THEME_MAX_DEPTH, THEME_MAX_ALIASES, THEME_MAX_NODES, "a theme file"
	};
	struct yml_doc doc;
	struct yml_error err;

	if (len > THEME_MAX_FILE_SIZE) {
		theme_error(ctx, file, 1, 1, "file too large (%zu bytes; the limit is %u)", len,
		    THEME_MAX_FILE_SIZE);
		return;
	}
	if (yml_parse(&doc, buf, len, &limits, &err) == 0)
		theme_read_tree(ctx, file, filename, doc.root);
	else if (err.oom)
		ctx->oom = 1;
	else
		theme_error(ctx, file, err.line, err.col, "%s", err.msg);
	yml_doc_release(&doc);
}

/*
 * Read a whole regular file (at most THEME_MAX_FILE_SIZE + 1 bytes: enough to
 * tell it is too big). Returns 0, or -1 with errno set (EFBIG: too big,
 * EINVAL: not a regular file).
 */
static int
theme_read_file(const char *path, char **buf, size_t *len)
{
	struct stat st;
	size_t cap = THEME_MAX_FILE_SIZE + 1, n = 0;
	char *p;
	int fd, e;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		goto fail;
	}
	if (st.st_size > (off_t)THEME_MAX_FILE_SIZE) {
		*len = (size_t)st.st_size;
		errno = EFBIG;
		goto fail;
	}
	p = malloc(cap);
	if (p == NULL)
		goto fail;
	while (n < cap) {
		ssize_t r = read(fd, p + n, cap - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = errno;
			free(p);
			errno = e;
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*buf = p;
	*len = n;
	return 0;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/*
 * Load a file of the chain: check the chain (cycles, length), read it, parse
 * it. pfile/pline/pcol: where it was named (pfile -1 for the top file).
 */
static void
theme_load_path(struct theme_ctx *ctx, const char *path, int pfile, int pline, int pcol)
{
	char *real, *buf = NULL;
	size_t len = 0;
	int file;

	real = realpath(path, NULL);
	if (real == NULL) {
		if (errno == ENOMEM)
			ctx->oom = 1;
		else if (pfile >= 0)
			theme_error(ctx, pfile, pline, pcol, "cannot open '%s': %s", path,
			    strerror(errno));
		else
			theme_error(ctx, theme_add_file(ctx, path), 0, 0, "%s", strerror(errno));
		return;
	}
	for (size_t i = 0; i < ctx->nchain; i++) {
		if (strcmp(ctx->chain[i], real) == 0) {
			theme_error(ctx, pfile, pline, pcol, "extends cycle: '%s' is already being "
			    "loaded (a theme cannot extend itself, directly or not)", path);
			free(real);
			return;
		}
	}
	if (ctx->nchain > THEME_MAX_EXTENDS) {
		theme_error(ctx, pfile, pline, pcol, "extends chain longer than %d themes",
		    THEME_MAX_EXTENDS);
		free(real);
		return;
	}
	if (theme_read_file(path, &buf, &len) < 0) {
		int e = errno;

		free(real);
		if (e == ENOMEM) {
			ctx->oom = 1;
			return;
		}
		file = pfile >= 0 ? pfile : theme_add_file(ctx, path);
		if (pfile >= 0 && e == EFBIG)
			theme_error(ctx, pfile, pline, pcol, "cannot load '%s': file too large "
			    "(%zu bytes; the limit is %u)", path, len, THEME_MAX_FILE_SIZE);
		else if (pfile >= 0)
			theme_error(ctx, pfile, pline, pcol, "cannot load '%s': %s", path,
			    e == EINVAL ? "not a regular file" : strerror(e));
		else if (e == EFBIG)
			theme_error(ctx, file, 1, 1, "file too large (%zu bytes; the limit is %u)",
			    len, THEME_MAX_FILE_SIZE);
		else
			theme_error(ctx, file, 0, 0, "%s", e == EINVAL ? "not a regular file" :
			    strerror(e));
		return;
	}
	ctx->chain[ctx->nchain++] = real;
	file = theme_add_file(ctx, path);
	if (file >= 0) {
		size_t before = ctx->ndiags + ctx->dropped;

		theme_load_text(ctx, file, path, buf, len);
		if (pfile >= 0 && ctx->ndiags + ctx->dropped > before)
			theme_error(ctx, pfile, pline, pcol, "the theme '%s' extended here has "
			    "errors", path);
	}
	free(buf);
	free(ctx->chain[--ctx->nchain]);
	ctx->chain[ctx->nchain] = NULL;
}

/* ---- Resolving names ---- */

/* A suggestion for an unknown colour: the closest palette or built-in name. */
static const char *
theme_suggest_colour(struct theme_ctx *ctx, const char *word, char *buf, size_t size)
{
	struct yml_suggest s;

	yml_suggest_init(&s, word);
	for (size_t i = 0; i < ctx->npal; i++)
		yml_suggest_add(&s, ctx->pal[i].name);
	for (int i = 0; i < 16; i++)
		yml_suggest_add(&s, theme_colour_names[i]);
	yml_suggest_add(&s, "grey");
	yml_suggest_add(&s, "default");
	return yml_suggest_text(&s, buf, size);
}

/* Resolve a colour spec to a colour; returns -1 if it cannot (reported unless it was already). */
static int
theme_resolve(struct theme_ctx *ctx, const struct theme_cspec *spec, struct theme_colour *out)
{
	struct theme_pal *p;
	char sug[THEME_NAME_MAX + 32];
	int i, rc;

	if (!spec->is_ref) {
		*out = spec->colour;
		return 0;
	}
	p = theme_pal_find(ctx, spec->ref);
	if (p != NULL && p->state != 1) {
		if (p->state == 2) {
			*out = p->colour;
			return 0;
		}
		if (p->state == 3)
			return -1;
		p->state = 1;
		rc = theme_resolve(ctx, &p->value, &p->colour);
		p->state = rc == 0 ? 2 : 3;
		*out = p->colour;
		return rc;
	}
	i = theme_colour_name_index(spec->ref);
	if (i >= 0) {
		out->kind = THEME_COLOUR_INDEX;
		out->value = (uint32_t)i;
		return 0;
	}
	if (p != NULL)
		theme_error(ctx, spec->file, spec->line, spec->col, "palette entry '%s' refers "
		    "back to itself", spec->ref);
	else
		theme_error(ctx, spec->file, spec->line, spec->col, "unknown colour '%s'%s",
		    spec->ref, theme_suggest_colour(ctx, spec->ref, sug, sizeof sug));
	return -1;
}

/* Resolve the whole spec into t (only written when everything resolves). */
static void
theme_resolve_all(struct theme_ctx *ctx, struct theme *t)
{
	struct theme out;

	/* Every palette entry, used or not, so that each bad one is reported once. */
	for (size_t i = 0; i < ctx->npal; i++) {
		struct theme_colour unused;
		struct theme_cspec ref;

		memset(&ref, 0, sizeof ref);
		ref.is_ref = 1;
		snprintf(ref.ref, sizeof ref.ref, "%s", ctx->pal[i].name);
		ref.file = ctx->pal[i].value.file;
		ref.line = ctx->pal[i].value.line;
		ref.col = ctx->pal[i].value.col;
		(void)theme_resolve(ctx, &ref, &unused);
	}
	theme_init_default(&out);
	for (int i = 0; i < THEME_NSLOTS; i++) {
		const struct theme_slot_spec *s = &ctx->slots[i];

		if (s->fg.set)
			(void)theme_resolve(ctx, &s->fg, &out.slots[i].fg);
		if (s->bg.set)
			(void)theme_resolve(ctx, &s->bg, &out.slots[i].bg);
		if (s->attrs_set)
			out.slots[i].attrs = s->attrs;
	}
	if (ctx->name[0] != '\0')
		snprintf(out.name, sizeof out.name, "%s", ctx->name);
	if (ctx->ndiags == 0 && ctx->dropped == 0)
		*t = out;
}

/* The name of a theme file without directory and .yaml. */
static void
theme_basename(const char *path, char *buf, size_t size)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t n = strlen(base);

	if (theme_ends_with(base, ".yaml"))
		n -= 5;
	else if (theme_ends_with(base, ".yml"))
		n -= 4;
	snprintf(buf, size, "%.*s", (int)(n < size ? n : size - 1), base);
}

/* Finish a load: resolve, or hand back the problems. */
static int
theme_finish(struct theme_ctx *ctx, struct theme *t, const char *filename, char **cause)
{
	struct theme out;
	int rc = -1;

	if (cause != NULL)
		*cause = NULL;
	/* Resolve even after errors: unknown colour names are problems too. */
	if (!ctx->oom) {
		theme_init_default(&out);
		theme_resolve_all(ctx, &out);
		if (ctx->name[0] == '\0' && filename != NULL)
			theme_basename(filename, out.name, sizeof out.name);
	}
	if (ctx->oom) {
		if (cause != NULL)
			*cause = strdup("out of memory");
	} else if (ctx->ndiags > 0 || ctx->dropped > 0) {
		if (cause != NULL)
			*cause = theme_diag_join(ctx);
	} else {
		*t = out;
		rc = 0;
	}
	theme_ctx_release(ctx);
	return rc;
}

/* Load a theme file. */
int
theme_load_file(struct theme *t, const char *path, const char *const *search, char **cause)
{
	struct theme_ctx ctx;

	memset(&ctx, 0, sizeof ctx);
	ctx.search = search;
	theme_load_path(&ctx, path, -1, 0, 0);
	return theme_finish(&ctx, t, path, cause);
}

/* Load a theme from memory. */
int
theme_load_buffer(struct theme *t, const void *buf, size_t len, const char *filename,
    const char *const *search, char **cause)
{
	struct theme_ctx ctx;
	int file;

	memset(&ctx, 0, sizeof ctx);
	ctx.search = search;
	if (filename == NULL)
		filename = "(theme)";
	/* A real file of that name joins the chain, so extending it is a cycle. */
	ctx.chain[0] = realpath(filename, NULL);
	if (ctx.chain[0] != NULL)
		ctx.nchain = 1;
	file = theme_add_file(&ctx, filename);
	if (file >= 0)
		theme_load_text(&ctx, file, filename, buf, len);
	return theme_finish(&ctx, t, filename, cause);
}

/* Problems of a loaded theme that are not errors in its file. */
int
theme_lint(const struct theme *t, char *buf, size_t size)
{
	const struct theme_style *text = &t->slots[THEME_SLOT_TEXT];
	const struct theme_style *back = &t->slots[THEME_SLOT_BACKGROUND];
	char colour[32];

	/* Panes fill with text's bg, the rest of the screen with background's. */
	if (back->bg.kind == THEME_COLOUR_DEFAULT && text->bg.kind != THEME_COLOUR_DEFAULT) {
		theme_colour_format(text->bg, colour, sizeof colour);
		snprintf(buf, size, "slot 'text' has bg %s but slot 'background' has the "
		    "terminal's own: the screen shows holes between the panes (set "
		    "'background: %s')", colour, colour);
		return 1;
	}
	if (size > 0)
		buf[0] = '\0';
	return 0;
}

/* Find NAME.yaml in the search path. */
int
theme_find(const char *name, const char *const *search, char *buf, size_t size)
{
	struct stat st;

	if (name == NULL || name[0] == '\0' || name[0] == '.' || strchr(name, '/') != NULL ||
	    search == NULL)
		return -1;
	for (size_t i = 0; search[i] != NULL; i++) {
		int n = snprintf(buf, size, "%s/%s.yaml", search[i], name);

		if (n < 0 || (size_t)n >= size)
			continue;
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, R_OK) == 0)
			return 0;
	}
	return -1;
}

/* Load a theme by name or path. */
int
theme_load(struct theme *t, const char *name_or_path, const char *const *search,
    char **cause)
{
	char path[PATH_MAX];

	if (cause != NULL)
		*cause = NULL;
	if (name_or_path == NULL || name_or_path[0] == '\0') {
		if (cause != NULL)
			*cause = strdup("empty theme name");
		return -1;
	}
	if (theme_is_path(name_or_path))
		return theme_load_file(t, name_or_path, search, cause);
	if (theme_find(name_or_path, search, path, sizeof path) < 0) {
		if (cause != NULL && asprintf(cause, "theme '%s' not found in the theme search "
		    "path", name_or_path) < 0)
			*cause = NULL;
		return -1;
	}
	return theme_load_file(t, path, search, cause);
}

/* ---- Search path ---- */

/* The default search path. */
char **
theme_search_path_new(const char *xdg_config_home, const char *home, const char *srcdir)
{
	char **path = calloc(4, sizeof *path);
	size_t n = 0;
	int bad = 0;

	if (path == NULL)
		return NULL;
	/* XDG: a relative $XDG_CONFIG_HOME is invalid and ignored. */
	if (xdg_config_home != NULL && xdg_config_home[0] == '/')
		bad |= asprintf(&path[n++], "%s/seqmatch/themes", xdg_config_home) < 0;
	else if (home != NULL && home[0] != '\0')
		bad |= asprintf(&path[n++], "%s/.config/seqmatch/themes", home) < 0;
	if (!bad)
		bad |= (path[n++] = strdup(PKGDATADIR "/themes")) == NULL;
	if (!bad && srcdir != NULL && srcdir[0] != '\0')
		bad |= asprintf(&path[n++], "%s/themes", srcdir) < 0;
	if (bad) {
		path[n - 1] = NULL; /* asprintf leaves it undefined on failure */
		theme_search_path_free(path);
		return NULL;
	}
	return path;
}

/* Free a search path. */
void
theme_search_path_free(char **path)
{
	if (path == NULL)
		return;
	for (size_t i = 0; path[i] != NULL; i++)
		free(path[i]);
	free(path);
}

/* ---- Listing ---- */

/* qsort order of entries: by name. */
static int
theme_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct theme_entry *)a)->name, ((const struct theme_entry *)b)->name);
}

/* Whether a directory entry is a theme file: NAME.yaml, NAME not starting with a dot. */
static int
theme_is_theme_file(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && name[0] != '.' && strcmp(name + n - 5, ".yaml") == 0;
}

/* The themes in the search path. */
int
theme_list_new(const char *const *search, struct theme_entry **out, size_t *n)
{
	struct theme_entry *list = NULL, *grown;
	size_t count = 0, kept = 0;
	char path[PATH_MAX];

	*out = NULL;
	*n = 0;
	for (size_t d = 0; search != NULL && search[d] != NULL; d++) {
		DIR *dir = opendir(search[d]);
		struct dirent *e;

		if (dir == NULL)
			continue;
		while ((e = readdir(dir)) != NULL) {
			if (!theme_is_theme_file(e->d_name))
				continue;
			grown = realloc(list, (count + 1) * sizeof *list);
			if (grown == NULL)
				break;
			list = grown;
			list[count].path = NULL;
			list[count].dir = d;
			if ((list[count].name = strdup(e->d_name)) == NULL)
				break;
			list[count].name[strlen(list[count].name) - 5] = '\0'; /* drop .yaml */
			count++;
		}
		closedir(dir);
		if (e != NULL) {
			theme_list_free(list, count);
			return -1;
		}
	}
	if (count > 0)
		qsort(list, count, sizeof *list, theme_entry_cmp);
	/* One entry per name: the file theme_find picks (the first directory's). */
	for (size_t i = 0; i < count; i++) {
		if ((kept > 0 && strcmp(list[i].name, list[kept - 1].name) == 0) ||
		    theme_find(list[i].name, search, path, sizeof path) < 0) {
			free(list[i].name);
			continue;
		}
		list[kept] = list[i];
		if ((list[kept].path = strdup(path)) == NULL) {
			for (size_t j = i + 1; j < count; j++)
				free(list[j].name);
			theme_list_free(list, kept + 1);
			return -1;
		}
		for (size_t d = 0; search[d] != NULL; d++)
			if (strncmp(path, search[d], strlen(search[d])) == 0 &&
			    path[strlen(search[d])] == '/') {
				list[kept].dir = d;
				break;
			}
		kept++;
	}
	*out = list;
	*n = kept;
	return 0;
}

/* Free a theme list. */
void
theme_list_free(struct theme_entry *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i].name);
		free(list[i].path);
	}
	free(list);
}
