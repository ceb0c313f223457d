/*
 * weights.c: the weight format generate, eval and the UI decode with, and
 * the model loaded for it: --weights first, else the format a `seqmatch
 * quantize` file stores (engine/checkpoint.h, version 4), else config.yaml's
 * weights:, else fp32 (README.md, "Weight formats for generation").
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "checkpoint.h"
#include "conf.h"
#include "gpt.h"
#include "qweights.h"
#include "tokenizer.h"
#include "util.h"
#include "weights.h"

/* Load a model for generation in the format asked: see weights.h. */
int
app_load_generator(const char *path, int flags, int cli, int conf_weights,
    int fill_fp32, struct gpt_model **m, struct tokenizer **tok, struct record *rec,
    struct qweights **qw, int *stored_format, char *how, size_t how_size, char **cause)
{
	struct qweights *stored = NULL;
	enum quant_format want;

	*qw = NULL;
	if (checkpoint_open_weights(path, flags, m, tok, rec, &stored, cause) != 0)
		return -1;
	if (stored_format != NULL)
		*stored_format = stored != NULL ? (int)qweights_format(stored) : -1;
	if (stored != NULL) {
		enum quant_format have = qweights_format(stored);

		if (cli < 0 || cli == (int)have) {
			if (fill_fp32)
				qweights_fill_fp32(stored, *m);
			*qw = stored;
			if (qweights_mapped(stored) > 0)
				snprintf(how, how_size, "%s, stored in the file (matrices mapped from "
				    "it, %.1f MiB; fp32 tensors copied, counted as \"mapped\")",
				    quant_format_name(have), (double)qweights_mapped(stored) / 1048576.0);
			else
				snprintf(how, how_size, "%s, stored in the file (copied from it: %s; "
				    "fp32 tensors counted as \"mapped\")", quant_format_name(have),
				    qweights_copied_why(stored) != NULL ? qweights_copied_why(stored) :
				    "not mapped");
			return 0;
		}
		if (cli == QUANT_FP32)
			qweights_fill_fp32(stored, *m);
		qweights_free(stored);
		if (cli != QUANT_FP32) {
			util_error(cause, "%s holds %s weights (written by 'seqmatch quantize'); "
			    "--weights %s would round them twice: use --weights %s (or fp32, "
			    "dequantized), or quantize the fp32 file it was made from to %s",
			    path, quant_format_name(have), quant_format_name((enum quant_format)cli),
			    quant_format_name(have), quant_format_name((enum quant_format)cli));
			goto fail;
		}
		fprintf(stderr, "seqmatch: %s holds %s weights: generating with them "
		    "dequantized to fp32 (--weights fp32)\n", path, quant_format_name(have));
		want = QUANT_FP32;
		snprintf(how, how_size, "fp32, dequantized from the file's %s",
		    quant_format_name(have));
	} else {
		want = cli >= 0 ? (enum quant_format)cli : conf_weights >= 0 ?
		    (enum quant_format)conf_weights : QUANT_FP32;
		snprintf(how, how_size, want == QUANT_FP32 ? "%s" : "%s, converted at load%s",
		    quant_format_name(want), cli < 0 && conf_weights >= 0 ?
		    " (config.yaml's weights:)" : "");
	}
	if ((*qw = qweights_new(*m, want, cause)) != NULL)
		return 0;
fail:
	gpt_free(*m);
	tokenizer_free(*tok);
	*m = NULL;
	*tok = NULL;
	return -1;
}

/* config.yaml's weights: (-1 if unset). */
int
app_conf_weights(void)
{
	struct conf cfg;
	char *path, *why = NULL;
	int w = -1;

	conf_init(&cfg);
	if ((path = conf_path()) != NULL) {
		if (conf_load(&cfg, path, &why) < 0) {
			char *nl = why != NULL ? strchr(why, '\n') : NULL;

			if (nl != NULL)
				*nl = '\0';
			app_warn("config: %s (its weights: is not used)", why != NULL ? why : path);
		} else
			w = cfg.weights;
	}
	free(why);
	free(path);
	conf_release(&cfg);
	return w;
}
