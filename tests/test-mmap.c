/*
 * test-mmap.c: models read in place from a mapping of their file
 * (checkpoint_load, engine/checkpoint.h): logits bit-identical to a copying
 * load (decoding and the training forward pass); a file replaced by rename,
 * overwritten in place or truncated under a process that has it mapped (the
 * process keeps working, or fails with a message naming the file: never a
 * bare SIGBUS); training on a mapped model takes a private copy and leaves
 * the file alone. A stored bf16 or q8 file (version 4, checkpoint_open_weights):
 * its matrices are read in place from the file's mapping (their bytes lie in
 * the mapping, a page-aligned QMAT) unless a copy is asked for or QMAT is
 * not 4-byte aligned, and every way decodes bit-identically to the matrices
 * converted from the fp32 model; a truncated stored file is refused with a
 * message, and one truncated while mapped stops with the handler's message.
 * Links the program's library for its SIGBUS handler. Also util_alloc's
 * large allocations (engine/util.c): 2 MiB aligned, zeroed, and advised for
 * transparent huge pages where the kernel has them; util_alloc_lazy's the
 * same but resident only once written.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app.h"
#include "checkpoint.h"
#include "crc32.h"
#include "gpt.h"
#include "qweights.h"
#include "rng.h"
#include "tokenizer.h"
#include "util.h"
#include "tap.h"

#define TEST_MSG(c) ((c) != NULL ? (c) : "(no message)")

static char test_dir[4096];
static char test_model[4200], test_err[4200], test_stored[4200], test_other[4200];

/* A tokenizer learned from a small generated text. */
static struct tokenizer *
test_tokenizer(void)
{
	static const char *words[] = {
		"the", "model", "reads", "its", "weights", "in", "place", "from",
		"a", "mapping", "of", "file", "and", "never", "copies", "them"
	};
	char text[8192];
	size_t off = 0;
	struct rng r;
	struct tokenizer *tok = NULL;
	char *cause = NULL;

	rng_init(&r, 7);
	while (off < sizeof text - 32)
		off += (size_t)snprintf(text + off, sizeof text - off, "%s ",
		    words[rng_below(&r, sizeof words / sizeof words[0])]);
	if (tokenizer_train((const uint8_t *)text, off, 290, &tok, &cause) != 0) {
		printf("Bail out! tokenizer_train: %s\n", TEST_MSG(cause));
		exit(1);
	}
	return tok;
}

/* A random model of the tokenizer's vocabulary, saved to path (format version 3). */
static struct gpt_model *
test_model_save(const char *path, struct tokenizer *tok, uint64_t seed)
{
	struct gpt_config cfg = { 32, 0, 0, 2, 4, 64 };
	struct gpt_model *m;
	char *cause = NULL;

	cfg.vocab_size = tokenizer_vocab_size(tok);
	cfg.padded_vocab_size = (cfg.vocab_size / 64 + 1) * 64;
	m = gpt_new(&cfg, &cause);
	if (m == NULL || (gpt_init_random(m, seed), 0) ||
	    checkpoint_save(path, m, tok, NULL, &cause) != 0) {
		printf("Bail out! model: %s\n", TEST_MSG(cause));
		exit(1);
	}
	return m;
}

/*
 * Decode ids (n) with a fresh KV cache, with qw's matrices (NULL: m's fp32
 * ones); logits (n, Vp) of every slot into out.
 */
static int
test_decode_weights(const struct gpt_model *m, const struct qweights *qw, const int *ids,
    int n, float *out)
{
	int Vp = gpt_config(m)->padded_vocab_size;
	struct gpt_kv *kv = gpt_kv_new(m, n, NULL);

	if (kv == NULL || (qw != NULL && gpt_kv_set_weights(kv, qweights_kv(qw), NULL) != 0) ||
	    gpt_kv_append(m, kv, ids, n, NULL) != 0) {
		gpt_kv_free(kv);
		return -1;
	}
	for (int i = 0; i < n; i++)
		gpt_kv_logits(m, kv, i, out + (size_t)i * Vp);
	gpt_kv_free(kv);
	return 0;
}

/* The same with m's fp32 matrices. */
static int
test_decode(const struct gpt_model *m, const int *ids, int n, float *out)
{
	return test_decode_weights(m, NULL, ids, n, out);
}

/* The whole of a file (malloc'd), or NULL. */
static uint8_t *
test_slurp(const char *path, size_t *len)
{
	char *buf = NULL, *cause = NULL;

	if (util_read_file(path, 0, &buf, len, &cause) != 0) {
		free(cause);
		return NULL;
	}
	return (uint8_t *)buf;
}

static const int test_ids[12] = { 5, 17, 256, 100, 3, 260, 9, 9, 40, 280, 1, 2 };
#define TEST_N ((int)(sizeof test_ids / sizeof test_ids[0]))

/* Mapped and copied loads give the same logits, bit for bit. */
static void
test_identical(size_t Vp)
{
	struct gpt_model *a = NULL, *b = NULL;
	struct tokenizer *ta = NULL, *tb = NULL;
	float *la = calloc(Vp * TEST_N, sizeof *la), *lb = calloc(Vp * TEST_N, sizeof *lb);
	char *cause = NULL;
	int ok;

	ok = checkpoint_load(test_model, &a, &ta, NULL, &cause) == 0 &&
	    checkpoint_open(test_model, CHECKPOINT_LOAD_COPY, &b, &tb, NULL, &cause) == 0;
	tap_ok(ok && gpt_params_external(a) && !gpt_params_external(b),
	    "load: mapped in place and copied (%s)", TEST_MSG(cause));
	if (!ok)
		goto out;
	ok = test_decode(a, test_ids, TEST_N, la) == 0 &&
	    test_decode(b, test_ids, TEST_N, lb) == 0;
	tap_ok(ok && memcmp(la, lb, Vp * TEST_N * sizeof *la) == 0,
	    "decode: logits of %d slots bit-identical, mapped vs copied (max diff %g)", TEST_N,
	    ok ? tap_maxdiff(la, lb, Vp * TEST_N) : -1.0);
	ok = gpt_forward(a, test_ids, NULL, NULL, 1, TEST_N, &cause) == 0 &&
	    gpt_forward(b, test_ids, NULL, NULL, 1, TEST_N, &cause) == 0;
	tap_ok(ok && memcmp(gpt_logits(a), gpt_logits(b), Vp * TEST_N * sizeof(float)) == 0,
	    "forward: training-pass logits bit-identical, mapped vs copied (%s)",
	    TEST_MSG(cause));
out:
	gpt_free(a);
	gpt_free(b);
	if (ta != NULL)
		tokenizer_free(ta);
	if (tb != NULL)
		tokenizer_free(tb);
	free(la);
	free(lb);
	free(cause);
}

/* A save (rename over the file) does not touch a process's mapping of the old one. */
static void
test_replaced(struct tokenizer *tok, size_t Vp)
{
	struct gpt_model *a = NULL, *other;
	struct tokenizer *ta = NULL;
	float *before = calloc(Vp * TEST_N, sizeof *before);
	float *after = calloc(Vp * TEST_N, sizeof *after);
	char *cause = NULL;
	int ok;

	ok = checkpoint_load(test_model, &a, &ta, NULL, &cause) == 0 &&
	    test_decode(a, test_ids, TEST_N, before) == 0;
	other = test_model_save(test_model, tok, 99); /* atomic: a new file renamed over it */
	ok = ok && test_decode(a, test_ids, TEST_N, after) == 0;
	tap_ok(ok && memcmp(before, after, Vp * TEST_N * sizeof *before) == 0,
	    "replaced by rename while mapped: the old weights stay, logits unchanged (%s)",
	    TEST_MSG(cause));
	gpt_free(other);
	gpt_free(a);
	if (ta != NULL)
		tokenizer_free(ta);
	free(before);
	free(after);
	free(cause);
}

/*
 * In a child with the program's SIGBUS handler: load the model mapped (the
 * fp32 model, or with stored the stored file, its matrices mapped), then
 * damage the file with `how` (1: truncate to one page, 2: overwrite the
 * fp32 parameters in place with zeros), then decode. The child exits 0 when
 * the decode returned.
 */
static int
test_child(int how, int stored, int *status)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		const char *path = stored ? test_stored : test_model;
		struct gpt_model *m = NULL;
		struct tokenizer *t = NULL;
		struct qweights *qw = NULL;
		float *l;
		int fd = open(test_err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(20);
		app_catch_sigbus();
		if (checkpoint_open_weights(path, 0, &m, &t, NULL, stored ? &qw : NULL,
		    NULL) != 0 || !gpt_params_external(m) ||
		    (stored && (qw == NULL || qweights_mapped(qw) == 0)))
			_exit(21);
		l = calloc((size_t)gpt_config(m)->padded_vocab_size * TEST_N, sizeof *l);
		if (how == 1) {
			if (truncate(path, 4096) != 0)
				_exit(22);
		} else {
			size_t bytes = gpt_num_params(m) * sizeof(float);
			uint8_t *zeros = calloc(1, bytes);
			int wfd = open(test_model, O_WRONLY);
			struct stat st;
			off_t at;

			if (wfd < 0 || fstat(wfd, &st) != 0 || zeros == NULL)
				_exit(23);
			/* PARM's payload: before its CRC (4 bytes) and END. (20 bytes). */
			at = st.st_size - 20 - 4 - (off_t)bytes;
			if (pwrite(wfd, zeros, bytes, at) != (ssize_t)bytes)
				_exit(24);
			close(wfd);
			free(zeros);
		}
		_exit(test_decode_weights(m, qw, test_ids, TEST_N, l) == 0 ? 0 : 25);
	}
	if (waitpid(pid, status, 0) != pid)
		return -1;
	return 0;
}

/* Truncated or overwritten under a running process: a message, or it keeps working. */
static void
test_damaged(struct tokenizer *tok)
{
	struct gpt_model *m;
	uint8_t *err;
	size_t len = 0;
	int status = 0, ran;

	m = test_model_save(test_model, tok, 5);
	gpt_free(m);
	ran = test_child(1, 0, &status) == 0;
	tap_ok(ran && WIFEXITED(status) && WEXITSTATUS(status) == APP_EXIT_ERROR,
	    "truncated while mapped: exit status 1, not a SIGBUS (status 0x%x)", status);
	err = test_slurp(test_err, &len);
	tap_ok(err != NULL && strstr((char *)err, test_model) != NULL &&
	    strstr((char *)err, "truncated") != NULL,
	    "truncated while mapped: the message names the file (%.*s)",
	    err != NULL ? (int)len : 0, err != NULL ? (char *)err : "");
	free(err);

	m = test_model_save(test_model, tok, 5);
	gpt_free(m);
	ran = test_child(2, 0, &status) == 0;
	tap_ok(ran && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "overwritten in place while mapped: the process keeps working (status 0x%x)",
	    status);

	/* A SIGBUS outside any mapped model file is not ours: it stays a SIGBUS. */
	{
		pid_t pid = fork();

		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);

			if (fd >= 0)
				dup2(fd, STDERR_FILENO);
			app_catch_sigbus();
			raise(SIGBUS);
			_exit(0);
		}
		ran = pid > 0 && waitpid(pid, &status, 0) == pid;
		tap_ok(ran && WIFSIGNALED(status) &&
		    WTERMSIG(status) == SIGBUS,
		    "another SIGBUS is left alone (status 0x%x)", status);
	}
}

/* The first byte of qw's first matrix (layer 0's qkvw). */
static const void *
test_first_array(const struct qweights *qw)
{
	const struct quant_matrix *q = qweights_kv(qw)->qkvw;

	return q->format == QUANT_BF16 ? (const void *)q->bf16 : (const void *)q->q;
}

/* Save m with its matrices in format f to path (version 4). */
static void
test_stored_save(const char *path, struct gpt_model *m, const struct tokenizer *tok,
    enum quant_format f)
{
	char *cause = NULL;
	struct qweights *qw = qweights_new(m, f, &cause);

	if (qw == NULL || checkpoint_save_weights(path, m, tok, NULL, qw, &cause) != 0) {
		printf("Bail out! stored %s model: %s\n", quant_format_name(f), TEST_MSG(cause));
		exit(1);
	}
	qweights_free(qw);
}

/* Load a stored file (checkpoint_open_weights with flags): *m and *qw; 0 or -1. */
static int
test_stored_open(const char *path, int flags, struct gpt_model **m, struct qweights **qw,
    char **cause)
{
	struct tokenizer *t = NULL;

	*m = NULL;
	*qw = NULL;
	if (checkpoint_open_weights(path, flags, m, &t, NULL, qw, cause) != 0)
		return -1;
	tokenizer_free(t);
	if (*qw == NULL) {
		gpt_free(*m);
		*m = NULL;
		free(*cause);
		*cause = strdup("not a stored file");
		return -1;
	}
	return 0;
}

/*
 * A stored file read mapped and copied: where the matrices are, and logits
 * bit-identical to the matrices converted from the fp32 model m.
 */
static void
test_stored_format(struct gpt_model *m, const struct tokenizer *tok, enum quant_format f)
{
	const char *name = quant_format_name(f);
	size_t Vp = (size_t)gpt_config(m)->padded_vocab_size, nl = Vp * TEST_N;
	float *lref = calloc(nl, sizeof *lref), *la = calloc(nl, sizeof *la);
	float *lb = calloc(nl, sizeof *lb);
	struct qweights *qref = qweights_new(m, f, NULL), *qa = NULL, *qb = NULL;
	struct gpt_model *a = NULL, *b = NULL;
	const char *where;
	char *cause = NULL;
	int ok;

	test_stored_save(test_stored, m, tok, f);
	ok = qref != NULL && test_decode_weights(m, qref, test_ids, TEST_N, lref) == 0 &&
	    test_stored_open(test_stored, 0, &a, &qa, &cause) == 0;
	where = ok ? checkpoint_mapped_path(test_first_array(qa)) : NULL;
	tap_ok(ok && qweights_mapped(qa) == qweights_stored_size(gpt_config(a), f) &&
	    where != NULL && strcmp(where, test_stored) == 0,
	    "%s: a stored file's matrices are read in place from its mapping (%zu bytes "
	    "mapped, in %s; %s)", name, ok ? qweights_mapped(qa) : 0,
	    where != NULL ? where : "no mapped file", TEST_MSG(cause));
	tap_ok(ok && (uintptr_t)test_first_array(qa) % 4096 == 0,
	    "%s: the writer puts QMAT at a page boundary of the file", name);
	ok = ok && test_decode_weights(a, qa, test_ids, TEST_N, la) == 0;
	tap_ok(ok && memcmp(la, lref, nl * sizeof *la) == 0,
	    "%s: mapped matrices decode bit-identically to a conversion at load "
	    "(max diff %g)", name, ok ? tap_maxdiff(la, lref, nl) : -1.0);

	ok = test_stored_open(test_stored, CHECKPOINT_LOAD_COPY, &b, &qb, &cause) == 0;
	tap_ok(ok && qweights_mapped(qb) == 0 && qweights_copied_why(qb) != NULL &&
	    checkpoint_mapped_path(test_first_array(qb)) == NULL,
	    "%s: CHECKPOINT_LOAD_COPY copies them (%s)", name,
	    ok && qweights_copied_why(qb) != NULL ? qweights_copied_why(qb) : TEST_MSG(cause));
	ok = ok && test_decode_weights(b, qb, test_ids, TEST_N, lb) == 0;
	tap_ok(ok && memcmp(lb, lref, nl * sizeof *lb) == 0,
	    "%s: copied matrices decode bit-identically too", name);
	/* qweights_free gives the mapping back: the path is no longer known. */
	if (qa != NULL) {
		const void *first = test_first_array(qa);

		qweights_free(qa);
		tap_ok(checkpoint_mapped_path(first) == NULL,
		    "%s: qweights_free unmaps the file", name);
	}
	qweights_free(qb);
	qweights_free(qref);
	gpt_free(a);
	gpt_free(b);
	free(lref);
	free(la);
	free(lb);
	free(cause);
}

/*
 * Write the model file b (len bytes) to out with its sections re-framed:
 * ALGN's payload longer by extra zero bytes, the byte at QMAT's payload
 * offset poke set to value (poke < 0: none), every CRC recomputed, so that
 * only the change is wrong (if anything).
 */
static int
test_reframe(const uint8_t *b, size_t len, size_t extra, long poke, uint8_t value,
    const char *out)
{
	size_t off = 48, o = 48; /* CHECKPOINT_HEADER (engine/checkpoint-impl.h) */
	uint8_t *w = calloc(1, len + extra);
	char *cause = NULL;
	int rc;

	if (w == NULL)
		return -1;
	memcpy(w, b, off);
	for (;;) {
		uint64_t plen = 0, nlen;
		uint32_t crc;

		for (int i = 0; i < 8; i++)
			plen |= (uint64_t)b[off + 4 + i] << (8 * i);
		nlen = plen + (memcmp(b + off, "ALGN", 4) == 0 ? extra : 0);
		memcpy(w + o, b + off, 4);
		for (int i = 0; i < 8; i++)
			w[o + 4 + i] = (uint8_t)(nlen >> (8 * i));
		memcpy(w + o + 12, b + off + 12, (size_t)plen);
		if (memcmp(b + off, "QMAT", 4) == 0 && poke >= 0)
			w[o + 12 + (size_t)poke] = value;
		if (memcmp(b + off, "END.", 4) == 0) {
			crc = crc32_update(0, w, o);
			for (int i = 0; i < 4; i++)
				w[o + 12 + i] = (uint8_t)(crc >> (8 * i));
		}
		crc = crc32_update(0, w + o + 12, (size_t)nlen);
		for (int i = 0; i < 4; i++)
			w[o + 12 + nlen + i] = (uint8_t)(crc >> (8 * i));
		if (memcmp(b + off, "END.", 4) == 0)
			break;
		off += 12 + (size_t)plen + 4;
		o += 12 + (size_t)nlen + 4;
	}
	rc = util_write_file_atomic(out, w, len + extra, 0644, &cause);
	free(w);
	free(cause);
	return rc;
}

/*
 * A stored q8 file whose QMAT is not 4-byte aligned (ALGN 2 bytes longer) is
 * copied, with the reason, and decodes as the mapped one; a q8 value of -128
 * in a mapped QMAT (CRCs intact) is refused; a truncated stored file is
 * refused with a message naming it, mapped or copied.
 */
static void
test_stored_damaged(struct gpt_model *m, const struct tokenizer *tok)
{
	size_t Vp = (size_t)gpt_config(m)->padded_vocab_size, nl = Vp * TEST_N, len = 0;
	float *la = calloc(nl, sizeof *la), *lb = calloc(nl, sizeof *lb);
	struct gpt_model *a = NULL, *b = NULL;
	struct qweights *qa = NULL, *qb = NULL;
	uint8_t *bytes;
	char *cause = NULL;
	int ok;

	test_stored_save(test_stored, m, tok, QUANT_Q8);
	bytes = test_slurp(test_stored, &len);
	ok = bytes != NULL && test_reframe(bytes, len, 2, -1, 0, test_other) == 0 &&
	    test_stored_open(test_other, 0, &b, &qb, &cause) == 0;
	tap_ok(ok && qweights_mapped(qb) == 0 && qweights_copied_why(qb) != NULL &&
	    strstr(qweights_copied_why(qb), "aligned") != NULL,
	    "q8: QMAT at 2 bytes past a multiple of 4 is copied, not mapped (%s)",
	    ok && qweights_copied_why(qb) != NULL ? qweights_copied_why(qb) : TEST_MSG(cause));
	ok = ok && test_stored_open(test_stored, 0, &a, &qa, &cause) == 0 &&
	    test_decode_weights(a, qa, test_ids, TEST_N, la) == 0 &&
	    test_decode_weights(b, qb, test_ids, TEST_N, lb) == 0;
	tap_ok(ok && memcmp(la, lb, nl * sizeof *la) == 0,
	    "q8: ... and decodes as the mapped file does");

	qweights_free(qb);
	gpt_free(b);
	free(cause);
	cause = NULL;
	ok = bytes != NULL && test_reframe(bytes, len, 0, 5, 0x80, test_other) == 0 &&
	    test_stored_open(test_other, 0, &b, &qb, &cause) != 0;
	tap_ok(ok && strstr(cause, test_other) != NULL && strstr(cause, "holds -128") != NULL,
	    "q8: a mapped QMAT holding -128 (CRCs right) is refused (%s)", TEST_MSG(cause));

	for (int flags = 0; flags <= CHECKPOINT_LOAD_COPY; flags += CHECKPOINT_LOAD_COPY) {
		size_t cuts[] = { 30, 4096, len / 2, len - 1 };

		for (size_t i = 0; bytes != NULL && i < sizeof cuts / sizeof cuts[0]; i++) {
			char *c = NULL;
			struct gpt_model *t = NULL;
			struct qweights *qt = NULL;

			ok = util_write_file_atomic(test_other, bytes, cuts[i], 0644, &c) == 0 &&
			    test_stored_open(test_other, flags, &t, &qt, &c) != 0 &&
			    c != NULL && strstr(c, test_other) != NULL &&
			    strstr(c, "truncated") != NULL;
			tap_ok(ok, "q8, %s: cut to %zu of %zu bytes, refused (%s)",
			    flags ? "copied" : "mapped", cuts[i], len, TEST_MSG(c));
			qweights_free(qt);
			gpt_free(t);
			free(c);
		}
	}
	qweights_free(qa);
	qweights_free(qb);
	gpt_free(a);
	gpt_free(b);
	unlink(test_other);
	free(bytes);
	free(la);
	free(lb);
	free(cause);
}

/* Stored files: mapped, copied, damaged, truncated while mapped. */
static void
test_stored_all(struct tokenizer *tok)
{
	struct gpt_model *m = test_model_save(test_model, tok, 11);
	int status = 0, ran;
	uint8_t *err;
	size_t len = 0;

	test_stored_format(m, tok, QUANT_BF16);
	test_stored_format(m, tok, QUANT_Q8);
	test_stored_damaged(m, tok);

	test_stored_save(test_stored, m, tok, QUANT_Q8);
	ran = test_child(1, 1, &status) == 0;
	tap_ok(ran && WIFEXITED(status) && WEXITSTATUS(status) == APP_EXIT_ERROR,
	    "q8: truncated while its matrices are mapped: exit status 1, not a SIGBUS "
	    "(status 0x%x)", status);
	err = test_slurp(test_err, &len);
	tap_ok(err != NULL && strstr((char *)err, test_stored) != NULL &&
	    strstr((char *)err, "truncated") != NULL,
	    "q8: ... the message names the file (%.*s)",
	    err != NULL ? (int)len : 0, err != NULL ? (char *)err : "");
	free(err);
	unlink(test_stored);
	gpt_free(m);
}

/* Training a mapped model: the update takes a private copy; the file is not written. */
static void
test_train(void)
{
	struct gpt_model *m = NULL;
	struct tokenizer *t = NULL;
	struct gpt_adamw o = { 1e-3f, 0.9f, 0.95f, 1e-8f, 0.0f, 1.0f };
	uint8_t *before, *after;
	size_t blen = 0, alen = 0, mapped, priv;
	char *cause = NULL;
	int targets[TEST_N], ok;

	for (int i = 0; i < TEST_N; i++)
		targets[i] = test_ids[(i + 1) % TEST_N];
	before = test_slurp(test_model, &blen);
	ok = checkpoint_load(test_model, &m, &t, NULL, &cause) == 0 && gpt_params_external(m) &&
	    gpt_forward(m, test_ids, NULL, NULL, 1, TEST_N, &cause) == 0 &&
	    (gpt_loss_ce(m, targets), gpt_zero_grad(m, &cause) == 0) &&
	    gpt_backward(m, &cause) == 0 && gpt_update(m, &o, 1, NULL, &cause) == 0;
	tap_ok(ok && !gpt_params_external(m), "train: an update of a mapped model works on a "
	    "private copy (%s)", TEST_MSG(cause));
	if (m != NULL) {
		gpt_memory(m, &mapped, &priv);
		tap_ok(mapped == 0 && priv >= 4 * 4 * gpt_num_params(m),
		    "train: memory %zu mapped, %zu private (parameters, gradients, AdamW)",
		    mapped, priv);
	} else
		tap_ok(0, "train: memory");
	after = test_slurp(test_model, &alen);
	tap_ok(before != NULL && after != NULL && blen == alen && memcmp(before, after, blen) == 0,
	    "train: the file is unchanged");
	gpt_free(m);
	if (t != NULL)
		tokenizer_free(t);
	free(before);
	free(after);
	free(cause);
}

/*
 * The VmFlags of /proc/self/smaps' mapping that holds p: whether it carries
 * "hg" (madvise MADV_HUGEPAGE); -1 if the mapping is not found.
 */
static int
test_hg_flag(const void *p)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0, found = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
		else if (in && strncmp(line, "VmFlags:", 8) == 0) {
			found = strstr(line, " hg") != NULL;
			break;
		}
	}
	fclose(f);
	return found;
}

/* That `what` (at p) was advised for huge pages; a skip without THP. */
static void
test_hg_ok(const void *p, const char *what)
{
	if (access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) != 0)
		tap_ok(1, "%s advised for huge pages # SKIP this kernel has no transparent "
		    "huge pages", what);
	else
		tap_ok(p != NULL && test_hg_flag(p) == 1, "%s advised for huge pages "
		    "(VmFlags hg in /proc/self/smaps)", what);
}

/* util_alloc from 8 MiB on: 2 MiB aligned, zeroed, advised for huge pages. */
static void
test_alloc_huge(void)
{
	size_t n = (size_t)20 << 20;
	unsigned char *p = util_alloc(n), *q = util_alloc(1000);
	size_t nonzero = 0;

	tap_ok(p != NULL && (uintptr_t)p % ((size_t)2 << 20) == 0,
	    "util_alloc of 20 MiB is 2 MiB aligned");
	tap_ok(q != NULL && (uintptr_t)q % 64 == 0, "util_alloc of 1000 bytes is 64-byte "
	    "aligned");
	for (size_t i = 0; p != NULL && i < n; i++)
		nonzero += p[i] != 0;
	tap_ok(p != NULL && nonzero == 0, "util_alloc of 20 MiB is zeroed");
	test_hg_ok(p, "util_alloc of 20 MiB");
	util_free(p);
	util_free(q);
}

/*
 * util_alloc_lazy: 2 MiB aligned and advised for huge pages like util_alloc,
 * but not made resident (mincore; 64 MiB, past glibc's largest mmap
 * threshold, so the memory is a fresh mapping): what gpt_kv_new relies on for
 * a KV cache that uses memory as slots fill. A sanitizer's allocator may
 * write the first bytes itself, hence "at most 2 MiB"; util_alloc's memset
 * would make all of it resident.
 */
static void
test_alloc_lazy(void)
{
	size_t n = (size_t)64 << 20, page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char *p = util_alloc_lazy(n), *vec = malloc(n / page);
	size_t resident = 0, after = 0;

	tap_ok(p != NULL && (uintptr_t)p % ((size_t)2 << 20) == 0,
	    "util_alloc_lazy of 64 MiB is 2 MiB aligned");
	if (p != NULL && vec != NULL && mincore(p, n, vec) == 0)
		for (size_t i = 0; i < n / page; i++)
			resident += vec[i] & 1;
	else
		resident = (size_t)-1;
	/* At most one huge page's worth: ASan fills an allocation's first 4 KB. */
	tap_ok(resident <= ((size_t)2 << 20) / page, "util_alloc_lazy of 64 MiB: at most "
	    "2 MiB resident before a write (%zu of %zu pages)", resident, n / page);
	if (p != NULL) {
		p[0] = 1;
		p[n - 1] = 1;
	}
	if (p != NULL && vec != NULL && mincore(p, n, vec) == 0)
		for (size_t i = 0; i < n / page; i++)
			after += vec[i] & 1;
	tap_ok(after >= 2 && after <= 2 * ((size_t)2 << 20) / page,
	    "... and two writes make at most two huge pages' worth resident (%zu pages)",
	    after);
	test_hg_ok(p, "util_alloc_lazy of 64 MiB");
	free(vec);
	util_free(p);
}

/* Run the groups in a fresh temporary directory. */
int
main(void)
{
	const char *base = getenv("TMPDIR");
	struct tokenizer *tok;
	struct gpt_model *m;
	size_t Vp;

	snprintf(test_dir, sizeof test_dir, "%s/test-mmap.XXXXXX",
	    base != NULL && *base != '\0' ? base : "/tmp");
	if (mkdtemp(test_dir) == NULL) {
		printf("Bail out! mkdtemp %s: %s\n", test_dir, strerror(errno));
		return 1;
	}
	snprintf(test_model, sizeof test_model, "%s/model.bin", test_dir);
	snprintf(test_err, sizeof test_err, "%s/stderr.txt", test_dir);
	snprintf(test_stored, sizeof test_stored, "%s/stored.bin", test_dir);
	snprintf(test_other, sizeof test_other, "%s/other.bin", test_dir);
	tok = test_tokenizer();
	m = test_model_save(test_model, tok, 42);
	Vp = (size_t)gpt_config(m)->padded_vocab_size;
	gpt_free(m);

	test_alloc_huge();
	test_alloc_lazy();
	test_identical(Vp);
	test_replaced(tok, Vp);
	test_train();
	test_damaged(tok);
	test_stored_all(tok);

	tokenizer_free(tok);
	unlink(test_model);
	unlink(test_err);
	if (rmdir(test_dir) != 0)
		tap_diag("cannot remove %s: %s", test_dir, strerror(errno));
	return tap_done();
}
