/*
 * llmc.h: llm.c's model and tokenizer files (gpt2_124M.bin, gpt2_tokenizer.bin).
 *
 * Model file: 256 little-endian int32 header entries: magic 20240326, version
 * (3: float32 with a padded vocabulary; 1: float32 without), max_seq_len,
 * vocab_size, num_layers, num_heads, channels, padded_vocab_size (version 3
 * only), the rest zero; then the 16 tensors as float32 in llm.c's order
 * (wte with padded_vocab_size rows, wpe, ln1w, ... lnfb: struct gpt_params'
 * order).
 * Tokenizer file: 256 int32: magic 20240328, version (2: vocab_size and the
 * <|endoftext|> id follow; 1: vocab_size only), the rest zero; then per token
 * one length byte (1..255) and that many bytes.
 *
 * An imported model keeps the file's padded rows; <bksp> is row vocab_size,
 * the first padded row (50257 for GPT-2), so a fine-tuned model exports into
 * a file llm.c still loads. A file without padding (version 1) gets one row
 * for <bksp>, dropped again on export while <bksp> is untrained.
 */
#ifndef SEQMATCH_LLMC_H
#define SEQMATCH_LLMC_H

#include <stddef.h>

struct gpt_model;
struct tokenizer;
struct record;

#define LLMC_MODEL_MAGIC 20240326
#define LLMC_TOKENIZER_MAGIC 20240328
#define LLMC_HEADER_INTS 256

/*
 * Read llm.c's two files into a model (every tensor in place), a GPT-2
 * tokenizer (merges recovered from the vocabulary order) and record entries
 * (rec, initialised by the caller: "source" and what export needs to write
 * the same files back). Messages name the file and what is wrong.
 */
int llmc_import(const char *model_path, const char *tok_path, struct gpt_model **m,
    struct tokenizer **tok, struct record *rec, char **cause);
/* The same from the files' bytes in memory (the paths are used in messages). */
int llmc_import_mem(const char *model_path, const void *mdata, size_t mlen,
    const char *tok_path, const void *tdata, size_t tlen, struct gpt_model **m,
    struct tokenizer **tok, struct record *rec, char **cause);
/* Only a tokenizer file's bytes (*version gets its version, 1 or 2). */
int llmc_import_tokenizer_mem(const char *path, const void *data, size_t len,
    struct tokenizer **tok, int *version, char **cause);
/*
 * Write a model and its tokenizer as llm.c's files (atomically, each), in the
 * versions rec says the import came from (model 3 and tokenizer 2 otherwise).
 */
int llmc_export(const char *model_path, const char *tok_path, struct gpt_model *m,
    const struct tokenizer *tok, const struct record *rec, char **cause);

#endif
