/*
 * checkpoint.h: the seqmatch model file and the separate optimizer-state file.
 *
 * Model file (little-endian):
 *   "SEQMATCH" magic (8 bytes), u32 version (3), u32 count of config fields (6),
 *   the config fields as u32 (max_seq_len, vocab_size, padded_vocab_size,
 *   num_layers, num_heads, channels), u64 number of parameters,
 *   then sections, each: 4-byte tag, u64 payload length, payload, u32 CRC-32 of payload:
 *     "TOKN" tokenizer (tokenizer_serialize), "RECD" training record
 *     (record_serialize), "ALGN" zero bytes (version 3: as many as put PARM's
 *     payload at a file offset that is a multiple of 4096), "PARM" parameters
 *     as f32, "END." (4 bytes: the CRC-32 of every byte of the file before
 *     END.'s tag, so the header, the tags and the lengths are checked too).
 *   Version 4 (written by `seqmatch quantize` only; fp32 files stay version 3):
 *   the block matrices (qkvw, attprojw, fcw, fcprojw) and a copy of the LM
 *   head in a weight format: "WFMT" (8 bytes: u32 format, 1 = bf16 or 2 = q8,
 *   and u32 group size, 1 for bf16, 32 for q8) after RECD, "QMAT" (the
 *   matrices, layout in engine/qweights.h) after PARM, and PARM holds the
 *   other tensors only (wte included: embeddings stay fp32), in gpt_params
 *   order. Both are covered by their CRCs and by END.'s. ALGN's zeros come
 *   between PARM and QMAT and put QMAT's payload at a multiple of 4096 in
 *   the file, so that its matrices can be used in place from a mapping.
 * Optimizer file: "SEQMOPT1", u32 version (2), u64 number of parameters, u64 step,
 *   u64 run id, then sections "ADAM" (m then v, f32) and "END." with the same
 *   framing and whole-file CRC.
 * Both are written to a temporary file beside PATH, fsynced and renamed
 * (util_write_file_atomic).
 *
 * Details the layout above leaves open (checkpoint.c follows them):
 *   - f32 values are IEEE 754 binary32 bit patterns, little-endian; PARM holds
 *     the GPT_NUM_TENSORS tensors in gpt_params order (wte first), exactly
 *     4 * (number of parameters) bytes; ADAM holds 8 * that.
 *   - CRC-32 is the IEEE 802.3 one (reflected polynomial 0xedb88320, initial
 *     value and final xor 0xffffffff; "123456789" gives 0xcbf43926), computed
 *     by engine/crc32.c.
 *   - Writers emit TOKN, RECD, ALGN, PARM, END. (version 3; version 2
 *     without ALGN) and TOKN, RECD, WFMT, PARM, ALGN, QMAT, END. (version 4)
 *     in that order. The first version 4 files had ALGN before PARM, as in
 *     version 3, and so QMAT at a multiple of 4 only (PARM's payload is
 *     aligned and 4 bytes a value; the frames are 16 bytes): still read, and
 *     used in place, which needs 4 (QWEIGHTS_MAP_ALIGN); the order changed
 *     without a new version since readers never relied on it. Readers accept any
 *     order; TOKN and PARM are required, RECD is optional (an empty record),
 *     a section may appear once, a section of another name is refused (no
 *     writer ever emitted one: a flipped tag must not silently drop the
 *     record), END. must be present and nothing may follow it.
 *   - Version 3 differs from version 2 only by ALGN, so that a reader can
 *     use PARM's payload in place from a mapping of the file (checkpoint_load
 *     does). Version 2 files (no ALGN, PARM anywhere) and version 1 files
 *     (END. empty, no whole-file CRC, no run id in the optimizer file) are
 *     still read, their parameters copied; a version 1 file's header and tags
 *     are not covered by any CRC. ALGN in a version 1 or 2 file is an unknown
 *     section. A version 4 file's QMAT not at a multiple of 4 (no writer
 *     puts it there) is copied rather than used in place.
 *   - A run's pair: the model's record holds "steps" and "run_id" (16 hex
 *     digits, new for every fresh train or fine-tune, kept on --resume), and
 *     the optimizer file the same step and run id; resuming refuses a pair
 *     that disagrees (checkpoint_load_pair).
 */
#ifndef SEQMATCH_CHECKPOINT_H
#define SEQMATCH_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

struct gpt_model;
struct tokenizer;
struct record;
struct qweights;

#define CHECKPOINT_VERSION 4

/* Save an fp32 model (version 3). */
int checkpoint_save(const char *path, struct gpt_model *m, const struct tokenizer *tok,
    const struct record *rec, char **cause);
/*
 * Save with the block matrices and LM head in qw's format (version 4; qw made
 * from m by qweights_new or read by checkpoint_open_weights); qw NULL or fp32:
 * checkpoint_save.
 */
int checkpoint_save_weights(const char *path, struct gpt_model *m,
    const struct tokenizer *tok, const struct record *rec, const struct qweights *qw,
    char **cause);
/*
 * Load a model file. Every field is checked (magic, version, config ranges,
 * sizes against the file length before any large allocation, CRCs, parameters
 * finite). rec may be NULL; otherwise it must be initialised and is filled.
 * A record with "actions" = "bksp" marks the model's <bksp> row as trained
 * (gpt_has_bksp).
 *
 * The file is mapped read-only (mmap, MAP_PRIVATE). A version 3 file's
 * parameters are used in place (gpt_new_external: no copy, the pages are
 * the page cache's, shared by every process that maps the file), and the
 * mapping lasts as long as the model or until gpt_make_private. Older files,
 * pipes and devices are copied. If the file is truncated while mapped, a read
 * of a page past its new end raises SIGBUS: the program's handler can name
 * the file with checkpoint_mapped_path. A file replaced by rename (as
 * checkpoint_save does) leaves the mapping on the old file, unchanged.
 */
int checkpoint_load(const char *path, struct gpt_model **m, struct tokenizer **tok,
    struct record *rec, char **cause);
/* Flags of checkpoint_open. */
#define CHECKPOINT_LOAD_COPY 1 /* read the whole file and copy the parameters */
#define CHECKPOINT_LOAD_LAZY 2 /* leave PARM's pages unread: no CRC of PARM or of the
                                  whole file, no finiteness check of the parameters */
/*
 * checkpoint_load with flags (0: checkpoint_load). checkpoint_load and
 * checkpoint_open refuse a version 4 file (matrices stored in bf16 or q8)
 * with a message naming the file, its format and how to get fp32 weights.
 */
int checkpoint_open(const char *path, int flags, struct gpt_model **m,
    struct tokenizer **tok, struct record *rec, char **cause);
/*
 * checkpoint_open for the generators: a version 4 file is accepted, and *qw
 * gets its stored matrices (engine/qweights.h), ready for gpt_kv_set_weights
 * without conversion. Mapped (flags without CHECKPOINT_LOAD_COPY, a regular
 * file), the matrices are used in place from the read-only mapping
 * (qweights_map: no copy, the page cache's pages, shared by every process
 * that maps the file; the mapping lasts until qweights_free); else, or if
 * QMAT is not aligned as the kernels read it (QWEIGHTS_MAP_ALIGN) or the
 * host is big-endian, they are copied (qweights_copied_why says why).
 * CHECKPOINT_LOAD_LAZY does not apply: every CRC and every stored value is
 * checked. The model's other tensors (wte included) are copied from the
 * file; its fp32 block matrices are zero until qweights_fill_fp32 (decoding
 * with *qw never reads them). Its parameter block is anonymous writable
 * memory given to gpt_new_external (so gpt_memory counts it as mapped),
 * whose untouched pages cost nothing: qweights_fill_fp32 may write it. *qw
 * is NULL for an fp32 file.
 */
int checkpoint_open_weights(const char *path, int flags, struct gpt_model **m,
    struct tokenizer **tok, struct record *rec, struct qweights **qw, char **cause);
/*
 * Only the tokenizer of a model file: the header, the section framing and
 * TOKN (with its CRC) are read; the other payloads are not (so neither is
 * the whole-file CRC checked).
 */
int checkpoint_load_tokenizer(const char *path, struct tokenizer **tok, char **cause);
/*
 * The path of the mapped model file that holds addr, or NULL. Safe in a
 * signal handler (a SIGBUS's si_addr). The first 64 mappings alive at once
 * are known; beyond that a mapping works but is not named here.
 */
const char *checkpoint_mapped_path(const void *addr);
/* The same from a whole file's bytes in memory (path is used in messages only). */
int checkpoint_load_mem(const char *path, const void *data, size_t len,
    struct gpt_model **m, struct tokenizer **tok, struct record *rec, char **cause);
/* checkpoint_load_mem accepting a version 4 file, as checkpoint_open_weights. */
int checkpoint_load_mem_weights(const char *path, const void *data, size_t len,
    struct gpt_model **m, struct tokenizer **tok, struct record *rec,
    struct qweights **qw, char **cause);
/* Optimizer state (AdamW m and v, the step count and the run id) for resuming. */
int checkpoint_save_optim(const char *path, struct gpt_model *m, long step, uint64_t run_id,
    char **cause);
int checkpoint_load_optim(const char *path, struct gpt_model *m, long *step, uint64_t *run_id,
    char **cause);
/* The same from a whole file's bytes in memory (path is used in messages only). */
int checkpoint_load_optim_mem(const char *path, const void *data, size_t len,
    struct gpt_model *m, long *step, uint64_t *run_id, char **cause);

/* The run id of a record ("run_id", hex), 0 if it has none. */
uint64_t checkpoint_run_id(const struct record *rec);
/*
 * A run's latest checkpoint: PATH (the model with rec, which should hold
 * "steps" and "run_id") and PATH.opt (the optimizer state at step, with the
 * record's run id). The pair already on disk is kept as hard links PATH.prev
 * and PATH.opt.prev until both new files are written, so a kill at any moment
 * leaves a pair that belongs together.
 */
int checkpoint_save_pair(const char *path, struct gpt_model *m, const struct tokenizer *tok,
    const struct record *rec, long step, char **cause);
/*
 * Load PATH and PATH.opt into a new model (*m, *tok, rec, *step) if their
 * step and run id agree; else the kept pair PATH.prev and PATH.opt.prev, which
 * is renamed back to PATH and PATH.opt (*from_kept = 1). -1 with the first
 * pair's problem in *cause when neither loads.
 */
int checkpoint_load_pair(const char *path, struct gpt_model **m, struct tokenizer **tok,
    struct record *rec, long *step, int *from_kept, char **cause);

#endif
