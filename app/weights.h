/* weights.h: the weight format generation uses, and the model loaded for it (weights.c). */
#ifndef SEQMATCH_WEIGHTS_H
#define SEQMATCH_WEIGHTS_H

#include <stddef.h>

struct gpt_model;
struct tokenizer;
struct record;
struct qweights;
/*
 * Load a model for generation (generate, eval, ui) and its matrices in the
 * format to decode with: --weights (cli, -1 if not given) first; else the
 * format a `seqmatch quantize` file stores; else config.yaml's weights:
 * (conf_weights, -1 if unset); else fp32. A stored file is used as it is when
 * the format agrees, dequantized for fp32 (a note on stderr), and refused
 * for the other format (it would be rounded twice). A stored file's model
 * has its fp32 block matrices filled (dequantized) only for fp32 decoding or
 * when fill_fp32 asks (for what reads them besides decoding: features, the
 * parameters' hash); decoding in the stored format never reads them.
 * *stored (may be NULL)
 * gets the file's stored format, -1 for an fp32 file. *how gets a few words
 * for messages ("q8, stored in the file (matrices mapped from it, ...)", or
 * "(copied from it: WHY ...)", "bf16, converted at load").
 */
int app_load_generator(const char *path, int flags, int cli, int conf_weights,
    int fill_fp32, struct gpt_model **m, struct tokenizer **tok, struct record *rec,
    struct qweights **qw, int *stored, char *how, size_t how_size, char **cause);
/* config.yaml's weights: as an enum quant_format, -1 if unset or unreadable (a warning). */
int app_conf_weights(void);

#endif
