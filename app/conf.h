/*
 * conf.h: the user's config file, $XDG_CONFIG_HOME/seqmatch/config.yaml
 * (else ~/.config/seqmatch/config.yaml): read, never written (what the UI
 * changes goes to ui.yaml, uistate.h). Named conf, not config, so that it does
 * not shadow the build's config.h.
 */
#ifndef SEQMATCH_CONF_H
#define SEQMATCH_CONF_H

#include <stddef.h>

#include "sampler.h"

#define CONF_MAX_FILE (64 * 1024) /* bytes of config.yaml */

/* What config.yaml sets; unset fields keep their "unset" values. */
struct conf {
	char *theme;                  /* theme name or file, NULL: unset */
	char *colors;                 /* auto, none, 16, 256 or direct; NULL: unset */
	int mouse;                    /* 0, 1; -1: unset */
	int plot;                     /* an enum grid_plot; -1: unset */
	char *check;                  /* a story checker command (checker.c), NULL: none */
	int weights;                  /* an enum quant_format for generation; -1: unset */
	struct sampler_params params; /* the defaults with decoding: applied */
	int n_decoding;               /* decoding: entries applied */
};

/* Unset everything (params get the defaults). */
void conf_init(struct conf *c);
void conf_release(struct conf *c);
/* $XDG_CONFIG_HOME/seqmatch/config.yaml, else ~/.config/...; malloc'd, NULL without HOME. */
char *conf_path(void);
/*
 * Parse config text (name for messages). 0 with c filled; -1 with
 * "name:line:col: message" in *cause and c left as it was.
 */
int conf_parse(struct conf *c, const char *text, size_t len, const char *name, char **cause);
/* Load path: 0 loaded, 1 no such file (c untouched), -1 bad file (*cause). */
int conf_load(struct conf *c, const char *path, char **cause);

#endif
