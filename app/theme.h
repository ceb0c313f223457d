/*
 * theme.h: colour themes for the curses UI, without curses: the semantic
 * colour slots, theme files (YAML), and degrading colours to what the
 * terminal can show. The UI turns a resolved, degraded theme into colour
 * pairs; nothing here touches the terminal.
 */
#ifndef SEQMATCH_THEME_H
#define SEQMATCH_THEME_H

#include <stddef.h>
#include <stdint.h>

/* Attributes of a slot (bit mask). */
#define THEME_ATTR_BOLD 0x01u
#define THEME_ATTR_DIM 0x02u
#define THEME_ATTR_UNDERLINE 0x04u
#define THEME_ATTR_REVERSE 0x08u
#define THEME_ATTR_ITALIC 0x10u

/* Limits on theme files (the loader refuses anything bigger). */
#define THEME_MAX_FILE_SIZE (256u * 1024u) /* bytes */
#define THEME_MAX_DEPTH 16                 /* YAML nesting */
#define THEME_MAX_ALIASES 64               /* alias (*x) uses per file */
#define THEME_MAX_NODES 20000              /* YAML nodes, aliases expanded */
#define THEME_MAX_EXTENDS 8                /* length of an extends: chain */
#define THEME_MAX_PALETTE 256              /* palette entries */
#define THEME_MAX_ERRORS 100               /* messages kept per load */
#define THEME_NAME_MAX 64                  /* theme and palette names */

/* Built-in fallback values used in the slot table below. */
#define THEME_FB_DEFAULT { THEME_COLOUR_DEFAULT, 0 }
#define THEME_FB_INDEX(n) { THEME_COLOUR_INDEX, (n) }

/*
 * The semantic slots, listed once: X(ID, key, fg, bg, attrs, mono, help).
 * key is the name in theme files; fg/bg/attrs the built-in fallback theme
 * (the 16 ANSI colours, so it follows the terminal's own scheme); mono the
 * attributes a slot gets without colour when its theme gives it none, so the
 * cursor and selection stay visible under NO_COLOR. New slots go at the end:
 * the golden screens (tests/golden) record slots by number.
 */
#define THEME_SLOTS(X) \
	X(TEXT, "text", THEME_FB_DEFAULT, THEME_FB_DEFAULT, 0, 0, \
	    "ordinary text") \
	X(DIM, "dim", THEME_FB_INDEX(8), THEME_FB_DEFAULT, 0, THEME_ATTR_DIM, \
	    "less important text") \
	X(PROMPT, "prompt", THEME_FB_DEFAULT, THEME_FB_DEFAULT, THEME_ATTR_BOLD, \
	    THEME_ATTR_BOLD, "the prompt the user typed") \
	X(GENERATED, "generated", THEME_FB_INDEX(6), THEME_FB_DEFAULT, 0, 0, \
	    "text the model wrote") \
	X(ERASED, "erased", THEME_FB_INDEX(15), THEME_FB_INDEX(1), THEME_ATTR_BOLD, \
	    THEME_ATTR_REVERSE, "the flash on a token a <bksp> erases") \
	X(GHOST, "ghost", THEME_FB_INDEX(8), THEME_FB_DEFAULT, THEME_ATTR_DIM, \
	    THEME_ATTR_DIM, "erased tokens kept on screen (struck through)") \
	X(CURSOR, "cursor", THEME_FB_DEFAULT, THEME_FB_DEFAULT, THEME_ATTR_REVERSE, \
	    THEME_ATTR_REVERSE, "the cursor in the text") \
	X(SELECTION, "selection", THEME_FB_INDEX(0), THEME_FB_INDEX(6), 0, \
	    THEME_ATTR_REVERSE, "the selected row or token") \
	X(BORDER, "border", THEME_FB_INDEX(8), THEME_FB_DEFAULT, 0, 0, \
	    "pane borders") \
	X(BORDER_FOCUS, "border_focus", THEME_FB_INDEX(6), THEME_FB_DEFAULT, \
	    THEME_ATTR_BOLD, THEME_ATTR_BOLD, "the border of the focused pane") \
	X(TITLE, "title", THEME_FB_DEFAULT, THEME_FB_DEFAULT, THEME_ATTR_BOLD, \
	    THEME_ATTR_BOLD, "pane titles") \
	X(STATUS, "status", THEME_FB_INDEX(15), THEME_FB_INDEX(4), 0, \
	    THEME_ATTR_REVERSE, "the status line") \
	X(HINT, "hint", THEME_FB_INDEX(8), THEME_FB_DEFAULT, 0, THEME_ATTR_DIM, \
	    "the key-hint line") \
	X(KEY, "key", THEME_FB_INDEX(3), THEME_FB_DEFAULT, THEME_ATTR_BOLD, \
	    THEME_ATTR_BOLD, "key names in the hint line and help") \
	X(VALUE, "value", THEME_FB_DEFAULT, THEME_FB_DEFAULT, 0, 0, \
	    "parameter values") \
	X(VALUE_CHANGED, "value_changed", THEME_FB_INDEX(3), THEME_FB_DEFAULT, \
	    THEME_ATTR_BOLD, THEME_ATTR_BOLD, "a value that differs from its default") \
	X(DEFAULT_VALUE, "default_value", THEME_FB_INDEX(8), THEME_FB_DEFAULT, 0, \
	    THEME_ATTR_DIM, "the default shown next to a value") \
	X(WARNING, "warning", THEME_FB_INDEX(3), THEME_FB_DEFAULT, THEME_ATTR_BOLD, \
	    THEME_ATTR_BOLD, "warnings") \
	X(ERROR, "error", THEME_FB_INDEX(1), THEME_FB_DEFAULT, THEME_ATTR_BOLD, \
	    THEME_ATTR_BOLD | THEME_ATTR_UNDERLINE, "errors") \
	X(GOOD, "good", THEME_FB_INDEX(2), THEME_FB_DEFAULT, 0, 0, \
	    "good news: done, saved, improved") \
	X(PROB_HIGH, "prob_high", THEME_FB_INDEX(2), THEME_FB_DEFAULT, 0, 0, \
	    "a token the model was sure of") \
	X(PROB_MID, "prob_mid", THEME_FB_INDEX(3), THEME_FB_DEFAULT, 0, 0, \
	    "a token of middling probability") \
	X(PROB_LOW, "prob_low", THEME_FB_INDEX(1), THEME_FB_DEFAULT, 0, \
	    THEME_ATTR_UNDERLINE, "an unlikely token") \
	X(BKSP_MARKER, "bksp_marker", THEME_FB_INDEX(1), THEME_FB_DEFAULT, \
	    THEME_ATTR_BOLD, THEME_ATTR_BOLD | THEME_ATTR_REVERSE, \
	    "the <bksp> marker") \
	X(SPARKLINE, "sparkline", THEME_FB_INDEX(6), THEME_FB_DEFAULT, 0, 0, \
	    "sparklines (loss, tokens/s)") \
	X(PLOT, "plot", THEME_FB_INDEX(5), THEME_FB_DEFAULT, 0, 0, \
	    "curves in plots (the MAUVE divergence curve)") \
	X(PLOT_AXIS, "plot_axis", THEME_FB_INDEX(8), THEME_FB_DEFAULT, 0, 0, \
	    "plot axes and labels") \
	X(INSPECTOR_BAR, "inspector_bar", THEME_FB_INDEX(4), THEME_FB_DEFAULT, 0, 0, \
	    "probability bars in the token inspector") \
	X(LIVE_LABEL, "live_label", THEME_FB_INDEX(3), THEME_FB_DEFAULT, \
	    THEME_ATTR_BOLD, THEME_ATTR_BOLD, "the 'live' label on running estimates") \
	X(BACKGROUND, "background", THEME_FB_DEFAULT, THEME_FB_DEFAULT, 0, 0, \
	    "the screen background") \
	X(MARK, "mark", THEME_FB_INDEX(3), THEME_FB_DEFAULT, THEME_ATTR_UNDERLINE, \
	    THEME_ATTR_UNDERLINE, "text written over erased text, and its retype count")

/* Slot identifiers: THEME_SLOT_TEXT, ... */
enum theme_slot {
#define THEME_SLOT_ENUM(id, key, fg, bg, attrs, mono, help) THEME_SLOT_##id,
	THEME_SLOTS(THEME_SLOT_ENUM)
#undef THEME_SLOT_ENUM
	THEME_NSLOTS
};

/* What a colour is. */
enum theme_colour_kind {
	THEME_COLOUR_DEFAULT, /* the terminal's own foreground or background */
	THEME_COLOUR_INDEX,   /* 0-15 the ANSI colours, 16-255 the xterm palette */
	THEME_COLOUR_RGB      /* value = 0xrrggbb */
};

/* A resolved colour. */
struct theme_colour {
	enum theme_colour_kind kind;
	uint32_t value;
};

/* How one slot is drawn. */
struct theme_style {
	struct theme_colour fg;
	struct theme_colour bg;
	unsigned attrs; /* THEME_ATTR_* */
};

/* A resolved theme: a plain value, so a failed load leaves the caller's alone. */
struct theme {
	char name[THEME_NAME_MAX];
	struct theme_style slots[THEME_NSLOTS];
};

/* Colour depth of a terminal, poorest first. */
enum theme_depth {
	THEME_DEPTH_NONE,  /* attributes only */
	THEME_DEPTH_16,    /* the 16 ANSI colours */
	THEME_DEPTH_256,   /* the xterm 256-colour palette */
	THEME_DEPTH_DIRECT /* 24-bit RGB */
};
#define THEME_DEPTH_AUTO (-1) /* theme_depth_detect: no explicit --colors */

/* Fill t with the built-in fallback theme (named "builtin"). */
void theme_init_default(struct theme *t);
/* The key of a slot in theme files ("border_focus"), or NULL if out of range. */
const char *theme_slot_name(enum theme_slot slot);
/* A one-line description of a slot. */
const char *theme_slot_help(enum theme_slot slot);
/* The slot with this key, or -1. */
int theme_slot_find(const char *name);

/*
 * Load a theme file into *t. search is a NULL-terminated list of directories
 * where `extends: NAME` looks for NAME.yaml (may be NULL). On failure returns
 * -1, leaves *t untouched and sets *cause to every problem found, one
 * "file:line:col: message" per line, sorted by file then position (free it).
 */
int theme_load_file(struct theme *t, const char *path, const char *const *search,
    char **cause);
/* The same, from memory; filename is used in messages and for relative extends. */
int theme_load_buffer(struct theme *t, const void *buf, size_t len,
    const char *filename, const char *const *search, char **cause);
/* Load a theme by name (NAME.yaml in the search path) or by path (has a '/' or ends in .yaml). */
int theme_load(struct theme *t, const char *name_or_path, const char *const *search,
    char **cause);
/*
 * Check a loaded theme for what loads but looks wrong (`theme check` reports
 * it): a text background over the terminal's own screen background, which
 * leaves holes between the panes. 1 with the problem in buf, or 0.
 */
int theme_lint(const struct theme *t, char *buf, size_t size);
/*
 * Find NAME.yaml in the search path: the first readable one is copied to buf.
 * Returns 0, or -1 if there is none (or it does not fit).
 */
int theme_find(const char *name, const char *const *search, char *buf, size_t size);

/*
 * The default search path: $XDG_CONFIG_HOME/seqmatch/themes (else
 * $HOME/.config/seqmatch/themes), PKGDATADIR/themes, and srcdir/themes when
 * srcdir is not NULL (the source tree, for an uninstalled build). Arguments
 * are the environment values (NULL or empty when unset). Returns a
 * NULL-terminated list to free with theme_search_path_free, or NULL when out
 * of memory.
 */
char **theme_search_path_new(const char *xdg_config_home, const char *home,
    const char *srcdir);
/* Free a list from theme_search_path_new. */
void theme_search_path_free(char **path);

/* A theme found in the search path. */
struct theme_entry {
	char *name;  /* NAME of NAME.yaml */
	char *path;  /* the file: the first NAME.yaml in the search path */
	size_t dir;  /* the index in the search path of its directory */
};
/*
 * Every NAME.yaml (not starting with '.') in the search path, sorted by name,
 * one entry per name (the one theme_find picks). *out gets the array (free
 * with theme_list_free) and *n its length. 0, or -1 when out of memory.
 */
int theme_list_new(const char *const *search, struct theme_entry **out, size_t *n);
/* Free a list from theme_list_new. */
void theme_list_free(struct theme_entry *list, size_t n);

/* Parse one colour value with no palette (names, #rgb, #rrggbb, 0-255, default). */
int theme_colour_parse(const char *s, struct theme_colour *c, char **cause);
/* Write a colour as a theme file would spell it ("default", "red", "196", "#ff8700"). */
void theme_colour_format(struct theme_colour c, char *buf, size_t size);
/* Write an attribute mask as "bold,underline" ("none" when empty). */
void theme_attrs_format(unsigned attrs, char *buf, size_t size);
/* The RGB value of a palette index (0-255) as xterm draws it. */
uint32_t theme_index_rgb(unsigned index);

/*
 * Map a colour to what a terminal of this depth can show: direct keeps RGB
 * (and 16-255 become RGB); 256 maps RGB to the nearest cube colour or grey
 * (16-255); 16 maps to the nearest of the 16 ANSI colours; none gives
 * default. default stays default and 0-15 are kept at every depth but none.
 */
struct theme_colour theme_colour_degrade(struct theme_colour c, enum theme_depth depth);
/*
 * Degrade a whole theme. At depth none each slot with no attributes gets its
 * mono ones, and so does (added to its own) a slot whose colours set it apart
 * (a non-default foreground or background): without colour the erase flash
 * must not look like the bold prompt.
 */
void theme_degrade(const struct theme *in, enum theme_depth depth, struct theme *out);
/*
 * For a terminal that cannot show italics (no sitm capability): each slot
 * with italic gets its mono attributes added instead, so ghosts keep one.
 */
void theme_drop_italic(struct theme *t);

/*
 * The colour depth to use, from the environment values (NULL when unset):
 * forced (a THEME_DEPTH_* from --colors, or THEME_DEPTH_AUTO) wins; then
 * TERM dumb or unset, or NO_COLOR set and non-empty, mean none; COLORTERM
 * truecolor or 24bit, or TERM ending in -direct, mean direct; else ncolors
 * (the terminfo colors capability, -1 when unknown) decides: >= 2^24 direct,
 * >= 256 256, >= 8 16 (the UI folds 8-15 onto 0-7 when it has only 8), else
 * none; unknown guesses from TERM ("256color" in it means 256, else 16).
 */
enum theme_depth theme_depth_detect(const char *term, const char *colorterm,
    const char *no_color, int ncolors, int forced);
/* Parse a --colors value: none, 16, 256, direct (or truecolor, 24bit), auto (THEME_DEPTH_AUTO); -2 if bad. */
int theme_depth_parse(const char *s);
/* The name of a depth ("none", "16", "256", "direct"). */
const char *theme_depth_name(enum theme_depth depth);

#endif
