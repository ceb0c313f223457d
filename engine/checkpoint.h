/*
 * checkpoint.h: the seqmatch model file and the separate optimizer-state file.
 *
 * Model file (little-endian):
 *   "SEQMATCH" magic (8 bytes), u32 version (1), u32 count of config fields (6),
 *   the config fields as u32 (max_seq_len, vocab_size, padded_vocab_size,
 *   num_layers, num_heads, channels), u64 number of parameters,
 *   then sections, each: 4-byte tag, u64 payload length, payload, u32 CRC-32 of payload:
 *     "TOKN" tokenizer (tokenizer_serialize), "RECD" training record
 *     (record_serialize), "PARM" parameters as f32, "END." (empty).
 * Optimizer file: "SEQMOPT1", u32 version, u64 number of parameters, u64 step,
 *   then sections "ADAM" (m then v, f32) and "END." with the same framing.
 * Both are written to a temporary file beside PATH, fsynced and renamed
 * (util_write_file_atomic).
 *
 * Details the layout above leaves open (checkpoint.c follows them):
 *   - f32 values are IEEE 754 binary32 bit patterns, little-endian; PARM holds
 *     the GPT_NUM_TENSORS tensors in gpt_params order (wte first), exactly
 *     4 * (number of parameters) bytes; ADAM holds 8 * that.
 *   - CRC-32 is the IEEE 802.3 one (reflected polynomial 0xedb88320, initial
 *     value and final xor 0xffffffff; "123456789" gives 0xcbf43926), over the
 *     payload only.
 *   - Writers emit TOKN, RECD, PARM, END. in that order. Readers accept any
 *     order; TOKN and PARM are required, RECD is optional (an empty record),
 *     a known section may appear once, unknown sections are skipped (their CRC
 *     is still checked), END. has an empty payload, must be present, and
 *     nothing may follow it. The optimizer file requires ADAM.
 *   - The optimizer file's version is 1 and its step is at most 2^63-1.
 */
#ifndef SEQMATCH_CHECKPOINT_H
#define SEQMATCH_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

struct gpt_model;
struct tokenizer;
struct record;

#define CHECKPOINT_VERSION 1

int checkpoint_save(const char *path, struct gpt_model *m, const struct tokenizer *tok,
    const struct record *rec, char **cause);
/*
 * Load a model file. Every field is checked (magic, version, config ranges,
 * sizes against the file length before any large allocation, CRCs, parameters
 * finite). rec may be NULL; otherwise it must be initialised and is filled.
 * A record with "actions" = "bksp" marks the model's <bksp> row as trained
 * (gpt_has_bksp).
 */
int checkpoint_load(const char *path, struct gpt_model **m, struct tokenizer **tok,
    struct record *rec, char **cause);
/* Optimizer state (AdamW m and v, and the step count) for resuming. */
int checkpoint_save_optim(const char *path, struct gpt_model *m, long step, char **cause);
int checkpoint_load_optim(const char *path, struct gpt_model *m, long *step, char **cause);

/* CRC-32 (IEEE) of n bytes, continuing from crc (start with 0). */
uint32_t checkpoint_crc32(uint32_t crc, const void *buf, size_t n);

#endif
