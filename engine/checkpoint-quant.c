/*
 * checkpoint-quant.c: a version 4 file's stored weights: its WFMT section
 * (the weight format) and the model built around PARM's other tensors.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "checkpoint-impl.h"
#include "checkpoint.h"
#include "gpt.h"
#include "qweights.h"
#include "util.h"

/* A stored file's fp32 parameter block: anonymous memory, unmapped on release. */
struct checkpoint_anon {
	void *p;
	size_t len;
};

/* Release a block of checkpoint_new_stored (a gpt_new_external release). */
static void
checkpoint_anon_release(void *arg)
{
	struct checkpoint_anon *a = arg;

	munmap(a->p, a->len);
	free(a);
}

/*
 * The model of a version 4 file: every tensor but the block matrices from
 * PARM (payload p), checked finite. The block is anonymous memory whose
 * pages stay untouched, and so cost no memory, until something writes them
 * (qweights_fill_fp32): decoding in the stored format never reads them.
 */
struct gpt_model *
checkpoint_new_stored(const char *path, const struct gpt_config *cfg, size_t n,
    const size_t sizes[GPT_NUM_TENSORS], const uint8_t *p, char **cause)
{
	struct checkpoint_anon *a = malloc(sizeof *a);
	struct gpt_model *m;
	char *msg = NULL;
	float *t;

	if (a == NULL) {
		util_error(cause, "%s: out of memory", path);
		return NULL;
	}
	a->len = n * sizeof(float);
	a->p = mmap(NULL, a->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a->p == MAP_FAILED) {
		util_error(cause, "%s: out of memory for %zu parameters", path, n);
		free(a);
		return NULL;
	}
	t = a->p;
	for (int i = 0; i < GPT_NUM_TENSORS; t += sizes[i], i++) {
		char what[64];

		if (qweights_tensor_stored(i))
			continue;
		if (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
			memcpy(t, p, sizes[i] * 4);
		else
			for (size_t j = 0; j < sizes[i]; j++)
				t[j] = checkpoint_get_f32(p + 4 * j);
		p += sizes[i] * 4;
		snprintf(what, sizeof what, "parameter %s", gpt_tensor_name(i));
		if (checkpoint_check_finite(path, what, t, sizes[i], NULL, cause) != 0) {
			checkpoint_anon_release(a);
			return NULL;
		}
	}
	if ((m = gpt_new_external(cfg, a->p, checkpoint_anon_release, a, &msg)) == NULL) {
		util_error(cause, "%s: %s", path, msg != NULL ? msg : "cannot create the model");
		free(msg);
		checkpoint_anon_release(a);
	}
	return m;
}

/* Version 4's WFMT (and QMAT, required with it): the stored weight format. */
int
checkpoint_read_format(const char *path, const struct checkpoint_section *sfmt,
    const struct checkpoint_section *sqmat, enum quant_format *f, char **cause)
{
	uint32_t code, group;

	if (!sfmt->found || !sqmat->found)
		return util_error(cause, "%s: missing section %s (a version 4 file stores "
		    "its matrices in a weight format)", path, sfmt->found ? "QMAT" : "WFMT");
	if (sfmt->len != CHECKPOINT_WFMT_LEN)
		return util_error(cause, "%s: corrupt: section WFMT has %llu bytes, "
		    "expected %d", path, (unsigned long long)sfmt->len, CHECKPOINT_WFMT_LEN);
	code = checkpoint_get_u32(sfmt->p);
	group = checkpoint_get_u32(sfmt->p + 4);
	if (code == 1 && group == 1)
		*f = QUANT_BF16;
	else if (code == 2 && group == QUANT_GROUP)
		*f = QUANT_Q8;
	else
		return util_error(cause, "%s: unsupported weight format %u with groups of %u "
		    "(this build reads 1 = bf16 and 2 = q8 in groups of %d)", path,
		    (unsigned)code, (unsigned)group, QUANT_GROUP);
	return 0;
}
