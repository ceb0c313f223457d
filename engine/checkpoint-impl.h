/*
 * checkpoint-impl.h: the file formats' constants and the helpers shared inside
 * the engine by checkpoint.c (loading), checkpoint-format.c (the section walk
 * and checks), checkpoint-write.c (saving), checkpoint-map.c (mapped files),
 * checkpoint-quant.c (a version 4 file's stored weights) and
 * checkpoint-pair.c (a run's latest pair).
 */
#ifndef SEQMATCH_CHECKPOINT_IMPL_H
#define SEQMATCH_CHECKPOINT_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gpt.h"
#include "quant.h"

#define CHECKPOINT_MAGIC "SEQMATCH"
#define CHECKPOINT_OPT_MAGIC "SEQMOPT1"
#define CHECKPOINT_OPT_VERSION 2
#define CHECKPOINT_NFIELDS 6
/* magic, version, field count, fields, parameter count */
#define CHECKPOINT_HEADER (8 + 4 + 4 + 4 * CHECKPOINT_NFIELDS + 8)
/* magic, version, parameter count, step; version 2 adds the run id */
#define CHECKPOINT_OPT_HEADER_V1 (8 + 4 + 8 + 8)
#define CHECKPOINT_OPT_HEADER (CHECKPOINT_OPT_HEADER_V1 + 8)
/* Version 2's END. payload: the CRC-32 of every byte before END.'s tag. */
#define CHECKPOINT_END_LEN 4
/* tag, payload length (before) and CRC (after) */
#define CHECKPOINT_FRAME (4 + 8 + 4)
/* Version 3: PARM's payload starts at a multiple of this in the file; version 4: QMAT's. */
#define CHECKPOINT_ALIGN 4096
/* Version 4's WFMT payload: u32 format code, u32 group size. */
#define CHECKPOINT_WFMT_LEN 8

/* Little-endian u32 at p. */
static inline uint32_t
checkpoint_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* Little-endian u64 at p. */
static inline uint64_t
checkpoint_get_u64(const uint8_t *p)
{
	return (uint64_t)checkpoint_get_u32(p) | (uint64_t)checkpoint_get_u32(p + 4) << 32;
}

/* Little-endian f32 at p. */
static inline float
checkpoint_get_f32(const uint8_t *p)
{
	uint32_t u = checkpoint_get_u32(p);
	float f;

	memcpy(&f, &u, sizeof f);
	return f;
}

/* What the section walk looks for. */
struct checkpoint_section {
	const char *tag;
	int required;
	const uint8_t *p; /* payload, set when found */
	uint64_t len;
	int found;
	uint32_t min_version; /* refused as unknown in older files (0: any) */
	int lazy;         /* leave its CRC (and so the file's) unchecked */
};


/* A read-only private mapping of a whole checkpoint file. */
struct checkpoint_map {
	void *base;
	size_t len;
	int slot; /* in checkpoint_maps, -1 if the table was full */
};


/* checkpoint-format.c */
int checkpoint_check_finite(const char *path, const char *what, const float *x,
    size_t n, const size_t *sizes, char **cause);
int checkpoint_walk(const char *path, const uint8_t *buf, size_t len, size_t off,
    uint32_t version, struct checkpoint_section *secs, int nsecs, char **cause);
int checkpoint_check_head(const char *path, const uint8_t *buf, size_t len,
    const char *magic, const char *what, size_t header, uint32_t version,
    uint32_t *found_out, char **cause);

/* checkpoint-map.c */
struct checkpoint_map *checkpoint_map_file(const char *path, int fd, size_t len, int populate,
    char **cause);
void checkpoint_unmap(void *arg);
int checkpoint_open_file(const char *path, int *fd, size_t *len, char **cause);

/* checkpoint-quant.c */
struct gpt_model *checkpoint_new_stored(const char *path, const struct gpt_config *cfg, size_t n,
    const size_t sizes[GPT_NUM_TENSORS], const uint8_t *p, char **cause);
int checkpoint_read_format(const char *path, const struct checkpoint_section *sfmt,
    const struct checkpoint_section *sqmat, enum quant_format *f, char **cause);

#endif
