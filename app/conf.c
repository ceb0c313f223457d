/*
 * conf.c: the config file (config.yaml), read through yml.c (bounded tree,
 * "file:line:col: message", "did you mean") and applied all or nothing.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "app.h"
#include "conf.h"
#include "grid.h"
#include "sampler.h"
#include "util.h"
#include "yml.h"

/* The keys of the file, for messages and suggestions. */
static const char *const conf_keys[] = { "theme", "colors", "colours", "mouse", "plot",
	"check", "weights", "decoding", NULL };

/* The config's path. */
char *
conf_path(void)
{
	return app_xdg_path(getenv("XDG_CONFIG_HOME"), getenv("HOME"), ".config",
	    "seqmatch/config.yaml");
}

/* Unset everything. */
void
conf_init(struct conf *c)
{
	memset(c, 0, sizeof *c);
	c->mouse = -1;
	c->plot = -1;
	c->weights = -1;
	sampler_defaults(&c->params);
}

/* Free the strings. */
void
conf_release(struct conf *c)
{
	free(c->theme);
	free(c->colors);
	free(c->check);
	c->theme = c->colors = c->check = NULL;
}

/* Parse a YAML boolean; -1 if it is not one. */
static int
conf_bool(const char *s)
{
	static const char *yes[] = { "true", "yes", "on", "1" }, *no[] = { "false", "no",
	    "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* A scalar's text, null included ("theme:" is the empty name), or NULL. */
static const char *
conf_text(const struct yml_node *n)
{
	n = yml_deref(n);
	return n != NULL && n->type == YML_SCALAR ? n->value : NULL;
}

/* A suggestion among the sampler's parameter names. */
static const char *
conf_suggest_param(const char *word, char *buf, size_t size)
{
	struct yml_suggest s;

	yml_suggest_init(&s, word);
	for (size_t i = 0; i < sampler_table_len; i++)
		yml_suggest_add(&s, sampler_table[i].name);
	return yml_suggest_text(&s, buf, size);
}

/* Apply the decoding: mapping to t; -1 with *cause. */
static int
conf_decoding(struct conf *t, const struct yml_node *at, const char *name, char **cause)
{
	const struct yml_node *map = yml_deref(at);
	char sug[96];

	if (map->type != YML_MAP)
		return yml_diag(cause, name, at->line, at->col, "decoding must be a mapping of "
		    "parameter: value");
	for (size_t i = 0; i + 1 < map->nkids; i += 2) {
		const struct yml_node *k = map->kids[i], *v = map->kids[i + 1];
		const char *key = conf_text(k), *val = conf_text(v);
		const struct sampler_param *row;
		char *why = NULL;

		if (key == NULL)
			return yml_diag(cause, name, k->line, k->col, "decoding: a key must be a "
			    "parameter name");
		if ((row = sampler_find(key)) == NULL)
			return yml_diag(cause, name, k->line, k->col, "decoding: unknown "
			    "parameter '%s'%s", key, conf_suggest_param(key, sug, sizeof sug));
		if (val == NULL || sampler_set(&t->params, row, val, &why) != 0) {
			yml_diag(cause, name, v->line, v->col, "decoding: %s", why != NULL ? why :
			    "must be a number");
			free(why);
			return -1;
		}
		t->n_decoding++;
	}
	return 0;
}

/* The index of val in names (NULL-terminated), or -1 with the message. */
static int
conf_choice(const char *val, const char *const *names, const struct yml_node *v,
    const char *name, const char *what, char **cause)
{
	char sug[96];

	for (int i = 0; names[i] != NULL; i++) {
		if (strcmp(val, names[i]) == 0)
			return i;
	}
	yml_diag(cause, name, v->line, v->col, "%s, not '%s'%s", what, val,
	    yml_suggest_list(val, names, sug, sizeof sug));
	return -1;
}

/* Apply the root mapping to t; -1 with *cause. */
static int
conf_root(struct conf *t, const struct yml_node *root, const char *name, char **cause)
{
	static const char *const depths[] = { "auto", "none", "16", "256", "direct", NULL };
	static const char *const plots[] = { "braille", "block", "ascii", NULL };
	static const int plot_modes[] = { GRID_PLOT_BRAILLE, GRID_PLOT_BLOCK, GRID_PLOT_ASCII };
	static const char *const formats[] = { "fp32", "bf16", "q8", NULL };
	const struct yml_node *map = yml_deref(root);
	char sug[96];

	if (map->type != YML_MAP)
		return yml_diag(cause, name, root->line, root->col, "the config must be a "
		    "mapping (theme, colors, mouse, plot, check, weights, decoding)");
	for (size_t j = 0; j + 1 < map->nkids; j += 2) {
		const struct yml_node *k = map->kids[j], *v = map->kids[j + 1];
		const char *key = conf_text(k), *val = conf_text(v);
		int i;

		if (key == NULL)
			return yml_diag(cause, name, k->line, k->col, "a key must be a name");
		if (strcmp(key, "decoding") != 0 && val == NULL)
			return yml_diag(cause, name, v->line, v->col, "%s must be a single value",
			    key);
		if (strcmp(key, "theme") == 0) {
			free(t->theme);
			t->theme = xstrdup(val);
		} else if (strcmp(key, "colors") == 0 || strcmp(key, "colours") == 0) {
			if (conf_choice(val, depths, v, name, "colors must be auto, none, 16, 256 "
			    "or direct", cause) < 0)
				return -1;
			free(t->colors);
			t->colors = xstrdup(val);
		} else if (strcmp(key, "mouse") == 0) {
			if ((t->mouse = conf_bool(val)) < 0)
				return yml_diag(cause, name, v->line, v->col, "mouse must be "
				    "true or false, not '%s'", val);
		} else if (strcmp(key, "plot") == 0) {
			if ((i = conf_choice(val, plots, v, name, "plot must be braille, block or "
			    "ascii", cause)) < 0)
				return -1;
			t->plot = plot_modes[i];
		} else if (strcmp(key, "check") == 0) {
			if (val[0] == '\0')
				return yml_diag(cause, name, v->line, v->col, "check must be a "
				    "command");
			free(t->check);
			t->check = xstrdup(val);
		} else if (strcmp(key, "weights") == 0) {
			/* The names and order of enum quant_format (engine/quant.h). */
			if ((t->weights = conf_choice(val, formats, v, name, "weights must be "
			    "fp32, bf16 or q8", cause)) < 0)
				return -1;
		} else if (strcmp(key, "decoding") == 0) {
			if (conf_decoding(t, v, name, cause) != 0)
				return -1;
		} else
			return yml_diag(cause, name, k->line, k->col, "unknown key '%s'%s (theme, "
			    "colors, mouse, plot, check, weights, decoding)", key, yml_suggest_list(key,
			    conf_keys, sug, sizeof sug));
	}
	return 0;
}

/* Parse config text into c (all or nothing). */
int
conf_parse(struct conf *c, const char *text, size_t len, const char *name, char **cause)
{
	static const struct yml_limits limits = { .what = "the config" };
	struct conf t;
	struct yml_doc doc;
	int rc = 0;

	if (len > CONF_MAX_FILE)
		return yml_diag(cause, name, 1, 1, "the config is larger than %d bytes",
		    CONF_MAX_FILE);
	if (yml_load(&doc, name, text, len, &limits, cause) != 0)
		return -1;
	conf_init(&t);
	t.params = c->params;
	if (doc.root != NULL && !yml_is_null(doc.root))
		rc = conf_root(&t, doc.root, name, cause);
	yml_doc_release(&doc);
	if (rc != 0) {
		conf_release(&t);
		return -1;
	}
	conf_release(c);
	*c = t;
	return 0;
}

/* Load the config file at path. */
int
conf_load(struct conf *c, const char *path, char **cause)
{
	char *buf = NULL, *why = NULL;
	size_t len;
	struct stat st;
	int rc;

	if (stat(path, &st) != 0 && errno == ENOENT)
		return 1;
	if (util_read_file(path, CONF_MAX_FILE + 1, &buf, &len, &why) != 0) {
		util_error(cause, "%s", why != NULL ? why : path);
		free(why);
		return -1;
	}
	rc = conf_parse(c, buf, len, path, cause);
	free(buf);
	return rc;
}
