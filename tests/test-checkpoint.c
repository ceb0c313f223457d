/*
 * test-checkpoint.c: the training record, corpora and splits, and the model
 * and optimizer files: round trips, and bad files each refused with a message
 * that names the problem (and nothing returned, nothing leaked).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checkpoint.h"
#include "corpus.h"
#include "crc32.h"
#include "gpt.h"
#include "record.h"
#include "rng.h"
#include "tokenizer.h"
#include "util.h"
#include "tap.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif

/*
 * tap_ok with the condition evaluated first, so that a message argument reads
 * the cause the condition's calls just set (argument order is unspecified).
 */
#define TEST_OK(cond, ...) do {				\
	int test_ok_ = (cond);				\
	tap_ok(test_ok_, __VA_ARGS__);			\
} while (0)

/* A message for printing (NULL when a call wrongly succeeded). */
#define TEST_MSG(c) ((c) != NULL ? (c) : "(no message)")

#define TEST_HEADER 48 /* the model file's header, from checkpoint.h */
#define TEST_OPT_HEADER 36 /* the optimizer file's header (version 2) */

static char test_dir[4096];

/* The files the test uses, all inside test_dir. */
enum {
	TEST_MODEL, TEST_MODEL_TMP, TEST_OPT, TEST_OPT_TMP, TEST_BAD, TEST_BAD_OPT,
	TEST_NOREC, TEST_NAN, TEST_CORPUS, TEST_MISSING, TEST_NODIR, TEST_PAIR, TEST_PAIR_OPT,
	TEST_PAIR_PREV, TEST_PAIR_OPT_PREV, TEST_V1, TEST_V2, TEST_NPATHS
};
static const char *test_names[TEST_NPATHS] = {
	"model.bin", "model.bin.tmp", "model.bin.opt", "model.bin.opt.tmp", "bad.bin",
	"bad.opt", "norec.bin", "nan.bin", "corpus.txt", "missing.bin",
	"no/such/dir/model.bin", "pair.bin", "pair.bin.opt", "pair.bin.prev",
	"pair.bin.opt.prev", "v1.bin", "v2.bin"
};
static char test_paths[TEST_NPATHS][4200];

/* The path of one of the test's files. */
static const char *
test_path(int which)
{
	return test_paths[which];
}

/* Write bytes to a file (test set-up; aborts the test run on failure). */
static void
test_write(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || (len > 0 && fwrite(buf, 1, len, f) != len) || fclose(f) != 0) {
		printf("Bail out! cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

/* Read a whole file (test set-up; aborts the test run on failure). */
static uint8_t *
test_read(const char *path, size_t *len)
{
	char *buf, *cause = NULL;

	if (util_read_file(path, 0, &buf, len, &cause) != 0) {
		printf("Bail out! %s\n", TEST_MSG(cause));
		exit(1);
	}
	return (uint8_t *)buf;
}

/* Whether a file exists. */
static int
test_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* The number of entries of dir whose names start with prefix. */
static int
test_count(const char *dir, const char *prefix)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

/* Whether msg starts with prefix and contains what. */
static int
test_msg(const char *msg, const char *prefix, const char *what)
{
	if (msg == NULL)
		return 0;
	if (prefix != NULL && strncmp(msg, prefix, strlen(prefix)) != 0)
		return 0;
	return what == NULL || strstr(msg, what) != NULL;
}

/* Bitwise CRC-32 (IEEE), independent of the table in checkpoint.c. */
static uint32_t
test_crc(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffU;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320U & (0U - (c & 1)));
	}
	return ~c;
}

/* Little-endian helpers for patching files. */
static uint32_t
test_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* Store a little-endian u32. */
static void
test_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Read a little-endian u64. */
static uint64_t
test_get64(const uint8_t *p)
{
	return (uint64_t)test_get32(p) | (uint64_t)test_get32(p + 4) << 32;
}

/* Store a little-endian u64. */
static void
test_put64(uint8_t *p, uint64_t v)
{
	test_put32(p, (uint32_t)v);
	test_put32(p + 4, (uint32_t)(v >> 32));
}

/* Offset of the tag of section `tag` in a file whose sections start at off; 0 if none. */
static size_t
test_find(const uint8_t *buf, size_t len, size_t off, const char *tag)
{
	while (off + 12 <= len) {
		uint64_t plen = test_get64(buf + off + 4);

		if (memcmp(buf + off, tag, 4) == 0)
			return off;
		off += 12 + (size_t)plen + 4;
	}
	return 0;
}

/* Recompute the CRC of the section whose tag is at off. */
static void
test_fix_crc(uint8_t *buf, size_t off)
{
	size_t plen = (size_t)test_get64(buf + off + 4);

	test_put32(buf + off + 12 + plen, test_crc(buf + off + 12, plen));
}

/*
 * After a change of the section at off: its CRC, then version 2's whole-file
 * CRC in END. (sections start at header), so only the change is wrong.
 */
static void
test_fix_crcs(uint8_t *buf, size_t len, size_t header, size_t off)
{
	size_t end = test_find(buf, len, header, "END.");

	test_fix_crc(buf, off);
	if (end != 0 && test_get64(buf + end + 4) == 4) {
		test_put32(buf + end + 12, test_crc(buf, end));
		test_fix_crc(buf, end);
	}
}

/* ---------------------------------------------------------------- record */

/* Whether two records hold the same entries in the same order. */
static int
test_record_equal(const struct record *a, const struct record *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		if (strcmp(a->keys[i], b->keys[i]) != 0 ||
		    strcmp(a->values[i], b->values[i]) != 0)
			return 0;
	}
	return 1;
}

/* A record parse that must fail with `what`, leaving the target unchanged. */
static void
test_record_bad(const char *buf, size_t len, const char *what, const char *desc)
{
	struct record r;
	char *cause = NULL;
	int rc;

	record_init(&r);
	record_set(&r, "keep", "me");
	rc = record_deserialize((const uint8_t *)buf, len, &r, &cause);
	TEST_OK(rc == -1 && test_msg(cause, "record: ", what), "record: %s refused (%s)",
	    desc, cause ? cause : "no message");
	TEST_OK(r.n == 1 && record_get(&r, "keep") != NULL &&
	    strcmp(record_get(&r, "keep"), "me") == 0,
	    "record: %s leaves the record unchanged", desc);
	record_release(&r);
	free(cause);
}

/* Set, get, replace, copy, serialise and parse records. */
static void
test_record(void)
{
	struct record r, c, p;
	uint8_t *buf;
	size_t len;
	char *cause = NULL;

	record_init(&r);
	TEST_OK(record_get(&r, "x") == NULL && r.n == 0, "record: empty record");
	record_set(&r, "lr", "%g", 0.001);
	record_set(&r, "steps", "%d", 100);
	record_set(&r, "corpus", "%s", "data/x.txt");
	record_set(&r, "empty", "%s", "");
	record_set(&r, "lr", "%g", 0.002);
	TEST_OK(r.n == 4 && strcmp(r.keys[0], "lr") == 0 &&
	    strcmp(r.keys[3], "empty") == 0, "record: replacing keeps the order");
	TEST_OK(strcmp(record_get(&r, "lr"), "0.002") == 0 &&
	    strcmp(record_get(&r, "steps"), "100") == 0 &&
	    strcmp(record_get(&r, "empty"), "") == 0, "record: values");

	TEST_OK(record_copy(&c, &r) == 0 && test_record_equal(&c, &r) &&
	    c.keys[0] != r.keys[0], "record: deep copy");

	TEST_OK(record_serialize(&r, &buf, &len, &cause) == 0, "record: serialise");
	TEST_OK(len == 3 + 6 + 6 + 4 + 7 + 11 + 6 + 1 &&
	    memcmp(buf, "lr\0" "0.002\0" "steps\0", 15) == 0,
	    "record: key\\0value\\0 layout (%zu bytes)", len);
	record_init(&p);
	record_set(&p, "old", "entry");
	TEST_OK(record_deserialize(buf, len, &p, &cause) == 0 &&
	    test_record_equal(&p, &r), "record: parse back (old entries replaced)");
	free(buf);
	record_release(&p);

	record_init(&p);
	record_set(&p, "x", "y");
	TEST_OK(record_deserialize((const uint8_t *)"", 0, &p, &cause) == 0 && p.n == 0,
	    "record: an empty buffer is an empty record");
	record_release(&p);

	test_record_bad("abc", 3, "unterminated key", "unterminated key");
	test_record_bad("k\0v", 3, "unterminated value", "unterminated value");
	test_record_bad("k\0", 2, "no value", "key without value");
	test_record_bad("\0v\0", 3, "empty key", "empty key");
	test_record_bad("a\0" "1\0" "b\0" "2\0" "a\0" "3\0", 12, "duplicate key \"a\"",
	    "duplicate key");
	test_record_bad("a\001b\0v\0", 6, "non-printable", "key with a control byte");
	test_record_bad("ok\0v\0caf\xc3\xa9\0v\0", 13, "entry 2: key has non-printable",
	    "key with a non-ASCII byte");

	record_set(&c, "", "x");
	TEST_OK(record_serialize(&c, &buf, &len, &cause) == -1 &&
	    test_msg(cause, "record: ", "empty key"),
	    "record: serialising an empty key is refused (%s)", TEST_MSG(cause));
	free(cause);
	record_release(&c);
	record_release(&r);
}

/* ---------------------------------------------------------------- corpus */

/* Parse a buffer; returns the corpus or NULL with *cause set. */
static struct corpus *
test_corpus(const char *buf, size_t len, enum corpus_sep sep, char **cause)
{
	struct corpus *c = NULL;

	if (corpus_parse("t.txt", buf, len, sep, &c, cause) != 0)
		return NULL;
	return c;
}

/* Whether a corpus holds exactly the documents listed (NULL-terminated). */
static int
test_docs(const struct corpus *c, const char *const *want)
{
	size_t n = 0, bytes = 0;

	if (c == NULL)
		return 0;
	for (; want[n] != NULL; n++) {
		if (n >= c->ndocs || strcmp(c->docs[n], want[n]) != 0 ||
		    c->lens[n] != strlen(want[n])) {
			tap_diag("doc %zu: got \"%s\", want \"%s\"", n,
			    n < c->ndocs ? c->docs[n] : "(none)", want[n]);
			return 0;
		}
		bytes += c->lens[n];
	}
	return n == c->ndocs && bytes == c->bytes;
}

/* A parse that must fail with a message starting with prefix and holding what. */
static void
test_corpus_bad(const char *buf, size_t len, enum corpus_sep sep, const char *prefix,
    const char *what, const char *desc)
{
	char *cause = NULL;
	struct corpus *c = test_corpus(buf, len, sep, &cause);

	TEST_OK(c == NULL && test_msg(cause, prefix, what), "corpus: %s refused (%s)",
	    desc, cause ? cause : "accepted");
	corpus_free(c);
	free(cause);
}

/* A parse that must succeed. */
static void
test_corpus_good(const char *buf, const char *desc)
{
	char *cause = NULL;
	struct corpus *c = test_corpus(buf, strlen(buf), CORPUS_SEP_BLANK, &cause);

	TEST_OK(c != NULL && c->ndocs == 1 && strcmp(c->docs[0], buf) == 0,
	    "corpus: %s accepted (%s)", desc, cause ? cause : "ok");
	corpus_free(c);
	free(cause);
}

/* Separators, line ends, trimming, UTF-8 and NUL checks, hash. */
static void
test_corpus_parse(void)
{
	static const char blank[] = "  \n\nfirst line\nsecond\r\n\n \t\n\nthird\r\n"
	    "%\nfourth\n\n\n";
	static const char *const blank_docs[] = {
		"first line\nsecond", "third\n%\nfourth", NULL
	};
	static const char percent[] = "%\n\n  \nfirst\n\n  \nstill first\n\n%\r\n"
	    "second\r\n% \n%\n\n\n%\nthird";
	static const char *const percent_docs[] = {
		"first\n\n  \nstill first", "second", "third", NULL
	};
	static const char *const one[] = { "only\tone", NULL };
	char *cause = NULL;
	struct corpus *c;
	uint8_t *raw;
	size_t rawlen;
	const char *path;

	c = test_corpus(blank, strlen(blank), CORPUS_SEP_BLANK, &cause);
	TEST_OK(test_docs(c, blank_docs), "corpus: blank-line separation, \\r\\n, trimming");
	TEST_OK(c != NULL && c->hash == util_fnv1a(UTIL_FNV_INIT, blank, strlen(blank)),
	    "corpus: hash is FNV-1a of the raw bytes");
	corpus_free(c);

	c = test_corpus(percent, strlen(percent), CORPUS_SEP_PERCENT, &cause);
	TEST_OK(test_docs(c, percent_docs),
	    "corpus: %% separation keeps inner blank lines, drops empty documents");
	corpus_free(c);

	c = test_corpus("\xef\xbb\xbfonly\tone\r\n", 13, CORPUS_SEP_BLANK, &cause);
	TEST_OK(test_docs(c, one), "corpus: byte order mark dropped, no final newline");
	corpus_free(c);

	/* Valid UTF-8 at the edges of the ranges. */
	test_corpus_good("caf\xc3\xa9 \xc2\x80 \xdf\xbf", "2-byte sequences");
	test_corpus_good("\xe0\xa0\x80 \xe2\x82\xac \xed\x9f\xbf \xee\x80\x80 \xef\xbf\xbf",
	    "3-byte sequences (no surrogates)");
	test_corpus_good("\xf0\x90\x80\x80 \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf",
	    "4-byte sequences up to U+10FFFF");

	/* Invalid UTF-8, with the line and byte column. */
	test_corpus_bad("ok\nfine\nab\xc0\xafz\n", 14, CORPUS_SEP_BLANK, "t.txt:3:3: ",
	    "invalid UTF-8 (overlong", "overlong 2-byte sequence on line 3");
	test_corpus_bad("x\n\n\xe0\x80\xaf", 6, CORPUS_SEP_BLANK, "t.txt:3:1: ",
	    "overlong", "overlong 3-byte sequence");
	test_corpus_bad("\xf0\x80\x80\xaf", 4, CORPUS_SEP_BLANK, "t.txt:1:1: ",
	    "overlong", "overlong 4-byte sequence");
	test_corpus_bad("a\r\nb\r\nc\xed\xa0\x80", 10, CORPUS_SEP_BLANK, "t.txt:3:2: ",
	    "surrogate", "UTF-16 surrogate");
	test_corpus_bad("\xf4\x90\x80\x80", 4, CORPUS_SEP_BLANK, "t.txt:1:1: ",
	    "beyond U+10FFFF", "code point above U+10FFFF");
	test_corpus_bad("ab\xf5\x80\x80\x80", 6, CORPUS_SEP_BLANK, "t.txt:1:3: ",
	    "invalid UTF-8", "byte 0xf5");
	test_corpus_bad("abc\x80", 4, CORPUS_SEP_BLANK, "t.txt:1:4: ",
	    "continuation", "stray continuation byte");
	test_corpus_bad("x\n\xe2\x82", 4, CORPUS_SEP_BLANK, "t.txt:2:1: ",
	    "truncated", "sequence cut by the end of the file");
	test_corpus_bad("x\n\xe2\x82\nmore", 9, CORPUS_SEP_BLANK, "t.txt:2:1: ",
	    "truncated", "sequence cut by the end of the line");
	test_corpus_bad("\xf0\x9f\x98z", 4, CORPUS_SEP_BLANK, "t.txt:1:1: ",
	    "truncated", "4-byte sequence cut short");

	/* NUL bytes: a binary file. */
	test_corpus_bad("first\nab\0c\n", 11, CORPUS_SEP_BLANK, "t.txt:2:3: ", "binary",
	    "NUL byte on line 2");

	/* Nothing to train on. */
	test_corpus_bad("", 0, CORPUS_SEP_BLANK, "t.txt: ", "no documents", "empty buffer");
	test_corpus_bad(" \n\t\r\n\n  ", 8, CORPUS_SEP_BLANK, "t.txt: ", "no documents",
	    "white space only");
	test_corpus_bad("%\n\n%\n  \n%", 9, CORPUS_SEP_PERCENT, "t.txt: ",
	    "no documents", "separators only");

	/* From files. */
	path = test_path(TEST_CORPUS);
	test_write(path, blank, strlen(blank));
	c = NULL;
	TEST_OK(corpus_load(path, CORPUS_SEP_BLANK, &c, &cause) == 0 &&
	    test_docs(c, blank_docs) &&
	    c->hash == util_fnv1a(UTIL_FNV_INIT, blank, strlen(blank)),
	    "corpus: load a file (same documents and hash as the buffer)");
	corpus_free(c);
	raw = test_read(path, &rawlen);
	raw[rawlen - 3] = 'x';
	test_write(path, raw, rawlen);
	c = NULL;
	TEST_OK(corpus_load(path, CORPUS_SEP_BLANK, &c, &cause) == 0 &&
	    c->hash != util_fnv1a(UTIL_FNV_INIT, blank, strlen(blank)) &&
	    c->hash == util_fnv1a(UTIL_FNV_INIT, raw, rawlen),
	    "corpus: the hash changes with one byte");
	corpus_free(c);
	free(raw);

	test_write(path, "", 0);
	c = NULL;
	TEST_OK(corpus_load(path, CORPUS_SEP_BLANK, &c, &cause) == -1 && c == NULL &&
	    test_msg(cause, path, "no documents"), "corpus: empty file refused (%s)",
	    TEST_MSG(cause));
	test_write(path, "a\n\x01\x02\x00z", 6);
	TEST_OK(corpus_load(path, CORPUS_SEP_BLANK, &c, &cause) == -1 && c == NULL &&
	    test_msg(cause, path, ":2:3: binary"), "corpus: binary file refused (%s)",
	    TEST_MSG(cause));
	unlink(path);
	TEST_OK(corpus_load(path, CORPUS_SEP_BLANK, &c, &cause) == -1 && c == NULL &&
	    test_msg(cause, path, NULL), "corpus: missing file refused (%s)", TEST_MSG(cause));
	free(cause);
}

/* Index of doc in c, or -1. */
static long
test_doc_index(const struct corpus *c, const char *doc)
{
	for (size_t i = 0; i < c->ndocs; i++) {
		if (strcmp(c->docs[i], doc) == 0)
			return (long)i;
	}
	return -1;
}

/* Whether train and val partition c (every document once, order kept). */
static int
test_partition(const struct corpus *c, const struct corpus *tr, const struct corpus *va)
{
	size_t it = 0, iv = 0;

	if (tr->ndocs + va->ndocs != c->ndocs)
		return 0;
	for (size_t i = 0; i < c->ndocs; i++) {
		if (it < tr->ndocs && strcmp(tr->docs[it], c->docs[i]) == 0)
			it++;
		else if (iv < va->ndocs && strcmp(va->docs[iv], c->docs[i]) == 0)
			iv++;
		else
			return 0;
	}
	return 1;
}

/* Splits: determinism, sizes, edge cases, bad fractions. */
static void
test_corpus_split(void)
{
	char text[20000], *cause = NULL;
	size_t off = 0;
	struct corpus *c, *rev, *tr, *va, *tr2, *va2;
	int same = 1, differ = 0, moved = 0;

	for (int i = 0; i < 200; i++)
		off += (size_t)snprintf(text + off, sizeof text - off,
		    "document %d\nwith two lines\n\n", i);
	c = test_corpus(text, off, CORPUS_SEP_BLANK, &cause);
	TEST_OK(c != NULL && c->ndocs == 200, "split: 200 documents");
	if (c == NULL)
		return;

	TEST_OK(corpus_split(c, 0.1, 7, &tr, &va, &cause) == 0 &&
	    test_partition(c, tr, va), "split: train and val partition the corpus");
	TEST_OK(va->ndocs >= 8 && va->ndocs <= 40, "split: about 10%% held out (%zu of 200)",
	    va->ndocs);
	TEST_OK(corpus_split(c, 0.1, 7, &tr2, &va2, &cause) == 0 &&
	    va2->ndocs == va->ndocs && tr2->hash == tr->hash && va2->hash == va->hash,
	    "split: same seed, same split");
	for (size_t i = 0; same && i < va->ndocs; i++)
		same = strcmp(va->docs[i], va2->docs[i]) == 0;
	TEST_OK(same, "split: same seed, same documents held out");
	corpus_free(tr2);
	corpus_free(va2);

	/* Another seed moves documents; reversing the corpus moves none. */
	TEST_OK(corpus_split(c, 0.1, 8, &tr2, &va2, &cause) == 0, "split: seed 8");
	for (size_t i = 0; i < va2->ndocs; i++)
		differ += test_doc_index(va, va2->docs[i]) < 0;
	TEST_OK(differ > 0, "split: another seed holds out other documents (%d new)",
	    differ);
	corpus_free(tr2);
	corpus_free(va2);
	off = 0;
	for (int i = 199; i >= 0; i--)
		off += (size_t)snprintf(text + off, sizeof text - off,
		    "document %d\nwith two lines\n\n", i);
	rev = test_corpus(text, off, CORPUS_SEP_BLANK, &cause);
	TEST_OK(rev != NULL && corpus_split(rev, 0.1, 7, &tr2, &va2, &cause) == 0,
	    "split: reversed corpus");
	for (size_t i = 0; i < va2->ndocs; i++)
		moved += test_doc_index(va, va2->docs[i]) < 0;
	TEST_OK(va2->ndocs == va->ndocs && moved == 0,
	    "split: a document's side depends on its text, not its position");
	corpus_free(tr2);
	corpus_free(va2);
	corpus_free(rev);
	corpus_free(tr);
	corpus_free(va);

	TEST_OK(corpus_split(c, 0, 7, &tr, &va, &cause) == 0 && tr->ndocs == 200 &&
	    va->ndocs == 0 && va->bytes == 0 && tr->bytes == c->bytes,
	    "split: fraction 0 keeps everything in train, val empty");
	corpus_free(tr);
	corpus_free(va);
	corpus_free(c);

	/* Two documents: each side gets one, whatever the fraction. */
	c = test_corpus("a\n\nb\n", 5, CORPUS_SEP_BLANK, &cause);
	for (int k = 0; k < 3; k++) {
		double f = k == 0 ? 1e-9 : k == 1 ? 0.5 : 0.999999;

		TEST_OK(corpus_split(c, f, 3, &tr, &va, &cause) == 0 && tr->ndocs == 1 &&
		    va->ndocs == 1 && test_partition(c, tr, va),
		    "split: two documents, fraction %g: one each side", f);
		corpus_free(tr);
		corpus_free(va);
	}
	corpus_free(c);
	c = test_corpus("solo\n", 5, CORPUS_SEP_BLANK, &cause);
	TEST_OK(corpus_split(c, 0.5, 3, &tr, &va, &cause) == 0 && tr->ndocs == 1 &&
	    va->ndocs == 0, "split: a single document stays in train");
	corpus_free(tr);
	corpus_free(va);
	tr = va = NULL;
	TEST_OK(corpus_split(c, 1.0, 3, &tr, &va, &cause) == -1 && tr == NULL &&
	    va == NULL && test_msg(cause, NULL, "[0, 1)"),
	    "split: fraction 1 refused (%s)", TEST_MSG(cause));
	TEST_OK(corpus_split(c, -0.1, 3, &tr, &va, &cause) == -1 &&
	    corpus_split(c, NAN, 3, &tr, &va, &cause) == -1,
	    "split: negative and NaN fractions refused");
	corpus_free(c);
	free(cause);
}

/* ------------------------------------------------------------ checkpoint */

/* Everything the checkpoint tests share. */
struct test_fixture {
	struct gpt_model *m;
	struct tokenizer *tok;
	struct record rec;
	uint8_t *file; /* the saved model file */
	size_t len;
	const char *path;
};

/* Train a tokenizer on a short made-up text. */
static struct tokenizer *
test_tokenizer(void)
{
	static const char *words[] = {
		"the", "model", "reads", "a", "corpus", "of", "short", "documents",
		"and", "learns", "to", "match", "sequences", "with", "care", "token",
		"merge", "byte", "pair", "encoding", "checkpoint", "file", "saved",
		"loaded", "again", "every", "field", "checked", "twice", "value"
	};
	char text[16384];
	size_t off = 0;
	struct rng r;
	struct tokenizer *tok = NULL;
	char *cause = NULL;

	rng_init(&r, 1);
	while (off < sizeof text - 32) {
		off += (size_t)snprintf(text + off, sizeof text - off, "%s%s",
		    words[rng_below(&r, sizeof words / sizeof words[0])],
		    rng_below(&r, 10) == 0 ? ".\n" : " ");
	}
	if (tokenizer_train((const uint8_t *)text, off, 300, &tok, &cause) != 0) {
		printf("Bail out! tokenizer_train: %s\n", TEST_MSG(cause));
		exit(1);
	}
	return tok;
}

/* Whether two tokenizers encode a text the same way. */
static int
test_same_encoding(const struct tokenizer *a, const struct tokenizer *b)
{
	static const char s[] = "the model reads a checkpoint file, every field twice!";
	int *ia = NULL, *ib = NULL, same;
	size_t na = 0, nb = 0;
	char *cause = NULL;

	if (tokenizer_encode(a, (const uint8_t *)s, strlen(s), &ia, &na, &cause) != 0 ||
	    tokenizer_encode(b, (const uint8_t *)s, strlen(s), &ib, &nb, &cause) != 0)
		same = 0;
	else
		same = na == nb && na < strlen(s) && memcmp(ia, ib, na * sizeof *ia) == 0;
	free(ia);
	free(ib);
	free(cause);
	return same;
}

/*
 * Load path expecting failure with a message starting with the path and
 * holding what; checks nothing is returned and the record is untouched.
 */
static void
test_load_bad(const char *path, const char *what, const char *desc)
{
	struct gpt_model *m = NULL;
	struct tokenizer *tok = NULL;
	struct record rec;
	char *cause = NULL;
	int rc;

	record_init(&rec);
	record_set(&rec, "sentinel", "1");
	rc = checkpoint_load(path, &m, &tok, &rec, &cause);
	TEST_OK(rc == -1 && m == NULL && tok == NULL && test_msg(cause, path, what) &&
	    rec.n == 1 && record_get(&rec, "sentinel") != NULL,
	    "load: %s refused (%s)", desc, cause ? cause : "accepted");
	if (m != NULL)
		gpt_free(m);
	if (tok != NULL)
		tokenizer_free(tok);
	record_release(&rec);
	free(cause);
}

/* Write buf to a scratch file and expect checkpoint_load to refuse it. */
static void
test_bad_bytes(const uint8_t *buf, size_t len, const char *what, const char *desc)
{
	const char *path = test_path(TEST_BAD);

	test_write(path, buf, len);
	test_load_bad(path, what, desc);
}

/* A copy of the fixture's file with the header's u32 field at off set to v. */
static void
test_bad_field(const struct test_fixture *fx, size_t off, uint32_t v, const char *what,
    const char *desc)
{
	uint8_t *b = malloc(fx->len);

	memcpy(b, fx->file, fx->len);
	test_put32(b + off, v);
	test_bad_bytes(b, fx->len, what, desc);
	free(b);
}

/*
 * The same with the file's CRC made right, as a writer with that config would
 * leave it: the checks behind the CRC must still refuse it.
 */
static void
test_bad_field_crc(const struct test_fixture *fx, size_t off, uint32_t v, const char *what,
    const char *desc)
{
	uint8_t *b = malloc(fx->len);

	memcpy(b, fx->file, fx->len);
	test_put32(b + off, v);
	test_fix_crcs(b, fx->len, TEST_HEADER, test_find(b, fx->len, TEST_HEADER, "END."));
	test_bad_bytes(b, fx->len, what, desc);
	free(b);
}

/*
 * Load path in a child whose address space is limited to 1 GiB, so that a
 * large allocation would fail (skipped under AddressSanitizer, which needs
 * the address space). Returns 1 when the child saw the load refused.
 */
static int
test_load_limited(const char *path)
{
#ifdef TEST_ASAN
	return 1;
#else
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		struct rlimit rl;
		struct gpt_model *m = NULL;
		struct tokenizer *tok = NULL;
		char *cause = NULL;
		unsigned long pages = 0;
		FILE *f = fopen("/proc/self/statm", "r");

		/* 1 GiB more than what is mapped now (BLAS reserves a lot). */
		if (f == NULL || fscanf(f, "%lu", &pages) != 1)
			_exit(2);
		fclose(f);
		rl.rlim_cur = rl.rlim_max = (rlim_t)pages *
		    (rlim_t)sysconf(_SC_PAGESIZE) + (1UL << 30);
		if (setrlimit(RLIMIT_AS, &rl) != 0)
			_exit(3);
		_exit(checkpoint_load(path, &m, &tok, NULL, &cause) == -1 &&
		    cause != NULL && strstr(cause, "out of memory") == NULL ? 0 : 1);
	}
	if (waitpid(pid, &status, 0) != pid)
		return 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
#endif
}

/* Build, save and load back a small model. */
static void
test_roundtrip(struct test_fixture *fx)
{
	struct gpt_config cfg = { 0 };
	struct gpt_model *m2 = NULL;
	struct tokenizer *tok2 = NULL;
	struct record rec2;
	char *cause = NULL;
	const struct gpt_config *c2;
	int V;

	fx->tok = test_tokenizer();
	V = tokenizer_vocab_size(fx->tok);
	TEST_OK(V > 256 + 20 && V <= 300, "fixture: tokenizer with V = %d", V);
	cfg.max_seq_len = 16;
	cfg.vocab_size = V;
	cfg.padded_vocab_size = (V / 64 + 1) * 64;
	cfg.num_layers = 2;
	cfg.num_heads = 4;
	cfg.channels = 32;
	fx->m = gpt_new(&cfg, &cause);
	if (fx->m == NULL) {
		printf("Bail out! gpt_new: %s\n", TEST_MSG(cause));
		exit(1);
	}
	gpt_init_random(fx->m, 42);
	record_init(&fx->rec);
	record_set(&fx->rec, "corpus", "%s", "data/tiny.txt");
	record_set(&fx->rec, "corpus_hash", "%016llx", 0x0123456789abcdefULL);
	record_set(&fx->rec, "steps", "%d", 250);
	record_set(&fx->rec, "val_loss", "%.6f", 2.345678);

	fx->path = test_path(TEST_MODEL);
	TEST_OK(checkpoint_save(fx->path, fx->m, fx->tok, &fx->rec, &cause) == 0,
	    "save: %s", fx->path);
	TEST_OK(test_count(test_dir, "model.bin.tmp") == 0, "save: no temporary file left");
	fx->file = test_read(fx->path, &fx->len);
	TEST_OK(fx->len > TEST_HEADER + 4 * gpt_num_params(fx->m) &&
	    memcmp(fx->file, "SEQMATCH", 8) == 0 && test_get32(fx->file + 8) == 3 &&
	    test_get32(fx->file + 12) == 6 &&
	    test_get32(fx->file + 20) == (uint32_t)V &&
	    test_get64(fx->file + 40) == gpt_num_params(fx->m) &&
	    memcmp(fx->file + TEST_HEADER, "TOKN", 4) == 0,
	    "save: header as documented (%zu bytes, %zu parameters)", fx->len,
	    gpt_num_params(fx->m));

	record_init(&rec2);
	record_set(&rec2, "stale", "entry");
	TEST_OK(checkpoint_load(fx->path, &m2, &tok2, &rec2, &cause) == 0,
	    "load: %s (%s)", fx->path, cause ? cause : "ok");
	if (m2 == NULL) {
		printf("Bail out! cannot load the saved model\n");
		exit(1);
	}
	c2 = gpt_config(m2);
	TEST_OK(c2->max_seq_len == cfg.max_seq_len && c2->vocab_size == cfg.vocab_size &&
	    c2->padded_vocab_size == cfg.padded_vocab_size &&
	    c2->num_layers == cfg.num_layers && c2->num_heads == cfg.num_heads &&
	    c2->channels == cfg.channels, "load: same config");
	TEST_OK(gpt_num_params(m2) == gpt_num_params(fx->m) &&
	    memcmp(gpt_param_memory(m2), gpt_param_memory(fx->m),
	    gpt_num_params(fx->m) * sizeof(float)) == 0,
	    "load: parameters bit-identical");
	TEST_OK(tokenizer_vocab_size(tok2) == V && test_same_encoding(fx->tok, tok2),
	    "load: the tokenizer encodes identically");
	TEST_OK(test_record_equal(&rec2, &fx->rec), "load: same record (stale entry gone)");
	gpt_free(m2);
	tokenizer_free(tok2);
	record_release(&rec2);

	/* rec NULL on load; no record on save. */
	m2 = NULL;
	tok2 = NULL;
	TEST_OK(checkpoint_load(fx->path, &m2, &tok2, NULL, &cause) == 0 && m2 != NULL,
	    "load: without a record");
	gpt_free(m2);
	tokenizer_free(tok2);
	TEST_OK(checkpoint_save(test_path(TEST_NOREC), fx->m, fx->tok, NULL,
	    &cause) == 0, "save: without a record");
	record_init(&rec2);
	record_set(&rec2, "x", "y");
	TEST_OK(checkpoint_load(test_path(TEST_NOREC), &m2, &tok2, &rec2,
	    &cause) == 0 && rec2.n == 0, "load: no record saved, empty record loaded");
	gpt_free(m2);
	tokenizer_free(tok2);
	record_release(&rec2);
	unlink(test_path(TEST_NOREC));
	free(cause);
}

/*
 * util_write_file_atomic: a new file with the mode asked for, the old content
 * replaced, no temporary file left, and failures (a missing directory, a
 * read-only one, a temporary name too long) that keep the old file.
 */
static void
test_atomic_write(void)
{
	char dir[4200], path[4300], longp[4700], name[256], *cause = NULL, *buf;
	struct stat st;
	size_t len;

	snprintf(dir, sizeof dir, "%s/atomic", test_dir);
	snprintf(path, sizeof path, "%s/f.txt", dir);
	if (mkdir(dir, 0700) != 0) {
		printf("Bail out! mkdir %s: %s\n", dir, strerror(errno));
		exit(1);
	}
	TEST_OK(util_write_file_atomic(path, "one\n", 4, 0600, &cause) == 0 &&
	    stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "atomic write: a new file with the mode asked for (%s)", cause ? cause : "");
	TEST_OK(util_write_file_atomic(path, "second\n", 7, 0600, &cause) == 0 &&
	    util_read_file(path, 0, &buf, &len, &cause) == 0 && len == 7 &&
	    memcmp(buf, "second\n", 7) == 0, "atomic write: replaces the old content");
	free(buf);
	TEST_OK(test_count(dir, "") == 3, "atomic write: no temporary file left (%d entries "
	    "with . and ..)", test_count(dir, ""));

	snprintf(longp, sizeof longp, "%s/none/f.txt", dir);
	TEST_OK(util_write_file_atomic(longp, "x", 1, 0644, &cause) == -1 &&
	    test_msg(cause, longp, "No such file"), "atomic write: into a missing directory "
	    "fails with the reason (%s)", TEST_MSG(cause));

	if (geteuid() != 0) {
		chmod(dir, 0500);
		TEST_OK(util_write_file_atomic(path, "third\n", 6, 0600, &cause) == -1 &&
		    test_msg(cause, path, "Permission denied"), "atomic write: into a read-only "
		    "directory fails with the reason (%s)", TEST_MSG(cause));
		chmod(dir, 0700);
		TEST_OK(util_read_file(path, 0, &buf, &len, &cause) == 0 && len == 7 &&
		    memcmp(buf, "second\n", 7) == 0 && test_count(dir, "") == 3,
		    "atomic write: and the old file is intact, nothing left beside it");
		free(buf);
	} else {
		printf("ok %d - # SKIP root ignores a read-only directory\n", ++tap_count);
		printf("ok %d - # SKIP root ignores a read-only directory\n", ++tap_count);
	}

	memset(name, 'a', 250);
	name[250] = '\0';
	snprintf(longp, sizeof longp, "%s/%s", dir, name);
	test_write(longp, "old", 3);
	TEST_OK(util_write_file_atomic(longp, "new", 3, 0644, &cause) == -1 && cause != NULL &&
	    util_read_file(longp, 0, &buf, &len, NULL) == 0 && len == 3 &&
	    memcmp(buf, "old", 3) == 0 && test_count(dir, "") == 4,
	    "atomic write: a temporary name too long fails and keeps the old file (%s)",
	    TEST_MSG(cause));
	free(buf);
	unlink(longp);
	unlink(path);
	rmdir(dir);
	free(cause);
}

/* Atomic saves: failures leave the previous file; refused models write nothing. */
static void
test_save_failures(struct test_fixture *fx)
{
	const char *bad = test_path(TEST_NODIR);
	char *cause = NULL;
	uint8_t *now;
	size_t len;
	float *p, saved;

	TEST_OK(checkpoint_save(bad, fx->m, fx->tok, &fx->rec, &cause) == -1 &&
	    test_msg(cause, bad, NULL), "save: into a missing directory fails (%s)",
	    TEST_MSG(cause));

	/*
	 * A write that fails (root too): a path whose temporary name is longer
	 * than a file name may be. The failure is reported, the old file stays.
	 */
	{
		char longp[4700], name[256];

		memset(name, 'm', 250);
		name[250] = '\0';
		snprintf(longp, sizeof longp, "%s/%s", test_dir, name);
		test_write(longp, fx->file, fx->len);
		p = gpt_param_memory(fx->m);
		saved = p[0];
		p[0] += 1.0f;
		TEST_OK(checkpoint_save(longp, fx->m, fx->tok, &fx->rec, &cause) == -1 &&
		    test_msg(cause, longp, NULL), "save: failing write reported (%s)",
		    TEST_MSG(cause));
		p[0] = saved;
		now = test_read(longp, &len);
		TEST_OK(len == fx->len && memcmp(now, fx->file, len) == 0 &&
		    test_count(test_dir, "mmmm") == 1,
		    "save: a failed save leaves the previous file intact and no temporary file");
		free(now);
		unlink(longp);
	}

	/* A model that could not be loaded back is not saved. */
	saved = p[5];
	p[5] = NAN;
	TEST_OK(checkpoint_save(test_path(TEST_NAN), fx->m, fx->tok, NULL,
	    &cause) == -1 && test_msg(cause, test_path(TEST_NAN), "wte[5] is NaN") &&
	    !test_exists(test_path(TEST_NAN)),
	    "save: NaN parameter refused, nothing written (%s)", TEST_MSG(cause));
	p[5] = saved;

	/* Saving over an existing file replaces it. */
	TEST_OK(checkpoint_save(fx->path, fx->m, fx->tok, &fx->rec, &cause) == 0 &&
	    test_count(test_dir, "model.bin.tmp") == 0, "save: over an existing file");
	now = test_read(fx->path, &len);
	TEST_OK(len == fx->len && memcmp(now, fx->file, len) == 0,
	    "save: deterministic bytes");
	free(now);
	free(cause);
}

/* Every way a model file can be wrong. */
static void
test_bad_files(struct test_fixture *fx)
{
	const char *path = test_path(TEST_BAD);
	size_t parm, tokn, recd, end, plen, lens[128], nlens = 0;
	uint8_t *b = malloc(fx->len + 64);
	int all_trunc = 1;
	char *cause = NULL;
	size_t sizes[GPT_NUM_TENSORS];

	test_load_bad(test_path(TEST_MISSING), "No such file", "missing file");
	test_bad_bytes(fx->file, 0, "empty file", "empty file");
	test_bad_bytes((const uint8_t *)"hello, world\n", 13, "bad magic",
	    "a text file");

	/* Truncations: every length through the header, then samples. */
	for (size_t n = 1; n <= TEST_HEADER + 16; n++)
		lens[nlens++] = n;
	for (size_t k = 1; k < 56; k++)
		lens[nlens++] = fx->len * k / 56 - k;
	lens[nlens - 1] = fx->len - 1;
	for (size_t i = 0; i < nlens; i++) {
		struct gpt_model *m = NULL;
		struct tokenizer *tok = NULL;
		int rc;

		if (lens[i] >= fx->len)
			continue;
		test_write(path, fx->file, lens[i]);
		rc = checkpoint_load(path, &m, &tok, NULL, &cause);
		if (rc != -1 || m != NULL || tok != NULL ||
		    !test_msg(cause, path, ": truncated: ")) {
			tap_diag("length %zu: %s", lens[i], rc == 0 ? "accepted" : TEST_MSG(cause));
			all_trunc = 0;
		}
		gpt_free(m);
		if (tok != NULL)
			tokenizer_free(tok);
	}
	TEST_OK(all_trunc, "load: %zu truncated files refused as truncated", nlens);
	test_write(path, fx->file, TEST_HEADER - 1);
	test_load_bad(path, "truncated: header needs 48 bytes, 47 in file",
	    "header cut short");

	memcpy(b, fx->file, fx->len);
	b[3] ^= 0x20;
	test_bad_bytes(b, fx->len, "not a seqmatch model file (bad magic)", "wrong magic");
	test_bad_field(fx, 8, 5, "unsupported version 5 (this build reads versions 1 to 4)",
	    "future version");
	test_bad_field(fx, 12, 7, "config fields", "wrong config field count");
	test_bad_field(fx, 28, 0x7fffffff, "num_layers", "num_layers = 2^31-1");
	test_bad_field(fx, 36, 0, "channels", "channels = 0");
	test_bad_field(fx, 32, 5, "num_heads", "5 heads for 32 channels");
	test_bad_field(fx, 16, 0xffffffffU, "max_seq_len", "max_seq_len = 2^32-1");
	test_bad_field(fx, 20, 0x80000000U, "out of range", "vocab_size = 2^31");
	test_bad_field(fx, 24, (uint32_t)gpt_config(fx->m)->vocab_size, "padded_vocab_size",
	    "padded_vocab_size = vocab_size");
	test_bad_field_crc(fx, 20, (uint32_t)gpt_config(fx->m)->vocab_size - 1,
	    "the tokenizer has", "vocab_size disagrees with the tokenizer");

	/* The header's parameter count. */
	memcpy(b, fx->file, fx->len);
	test_put64(b + 40, gpt_num_params(fx->m) + 1);
	test_bad_bytes(b, fx->len, "parameters", "wrong parameter count");

	/* A large but legal config: refused from the file length, not by allocating. */
	memcpy(b, fx->file, fx->len);
	test_put32(b + 28, 32);   /* L */
	test_put32(b + 36, 4096); /* C */
	test_put32(b + 32, 32);   /* NH */
	{
		struct gpt_config big = *gpt_config(fx->m);

		big.num_layers = 32;
		big.channels = 4096;
		big.num_heads = 32;
		test_put64(b + 40, gpt_config_sizes(&big, sizes));
	}
	test_fix_crcs(b, fx->len, TEST_HEADER, test_find(b, fx->len, TEST_HEADER, "END."));
	test_bad_bytes(b, fx->len, "PARM", "a 6.4G-parameter config in a small file");
	TEST_OK(test_load_limited(path), "load: ... refused with 1 GiB of address space to spare");
	test_bad_field(fx, 28, 0x7fffffff, "num_layers", "num_layers = 2^31-1 (again)");
	TEST_OK(test_load_limited(path), "load: ... refused with 1 GiB of address space to spare");

	/* Section damage. */
	tokn = test_find(fx->file, fx->len, TEST_HEADER, "TOKN");
	recd = test_find(fx->file, fx->len, TEST_HEADER, "RECD");
	parm = test_find(fx->file, fx->len, TEST_HEADER, "PARM");
	end = test_find(fx->file, fx->len, TEST_HEADER, "END.");
	TEST_OK(tokn == TEST_HEADER && recd > tokn && parm > recd && end > parm &&
	    end + 20 == fx->len && test_get64(fx->file + end + 4) == 4 &&
	    test_get32(fx->file + end + 12) == test_crc(fx->file, end),
	    "file: sections TOKN RECD PARM END. in order, END. holding the file's CRC");
	plen = (size_t)test_get64(fx->file + parm + 4);
	TEST_OK(plen == 4 * gpt_num_params(fx->m) &&
	    test_get32(fx->file + parm + 12 + plen) ==
	    crc32_update(0, fx->file + parm + 12, plen) &&
	    test_crc(fx->file + parm + 12, plen) ==
	    crc32_update(0, fx->file + parm + 12, plen),
	    "file: PARM holds 4 bytes per parameter and its CRC-32");

	memcpy(b, fx->file, fx->len);
	b[parm + 12 + plen / 2] ^= 0x01;
	test_bad_bytes(b, fx->len, "corrupt: CRC mismatch in section PARM",
	    "one flipped bit in PARM");
	memcpy(b, fx->file, fx->len);
	b[tokn + 20] ^= 0x40;
	test_bad_bytes(b, fx->len, "CRC mismatch in section TOKN", "flipped byte in TOKN");
	memcpy(b, fx->file, fx->len);
	b[end + 12] ^= 0x01;
	test_bad_bytes(b, fx->len, "CRC mismatch in section END.", "damaged END. CRC");

	memcpy(b, fx->file, fx->len);
	test_put32(b + parm + 12 + 12 * 4, 0x7fc00000U);
	test_fix_crcs(b, fx->len, TEST_HEADER, parm);
	test_bad_bytes(b, fx->len, "parameter wte[12] is NaN", "NaN with a good CRC");
	gpt_config_sizes(gpt_config(fx->m), sizes);
	memcpy(b, fx->file, fx->len);
	test_put32(b + parm + 12 + 4 * (sizes[0] + 3), 0xff800000U);
	test_fix_crcs(b, fx->len, TEST_HEADER, parm);
	test_bad_bytes(b, fx->len, "parameter wpe[3] is -Inf", "-Inf in wpe");

	memcpy(b, fx->file, fx->len);
	test_put64(b + parm + 4, 1ULL << 62);
	test_bad_bytes(b, fx->len, "truncated: section PARM needs", "absurd PARM length");
	memcpy(b, fx->file, fx->len);
	test_put64(b + parm + 4, plen + 24);
	test_bad_bytes(b, fx->len, "truncated: section PARM needs", "PARM length too long");
	memcpy(b, fx->file, fx->len);
	test_put64(b + parm + 4, plen - 8);
	test_fix_crcs(b, fx->len, TEST_HEADER, parm);
	/* the rest no longer frames: whatever comes, it must be refused */
	test_bad_bytes(b, fx->len, NULL, "PARM length too short");

	memcpy(b, fx->file, fx->len);
	memcpy(b + parm, "PARX", 4);
	test_bad_bytes(b, fx->len, "unknown section PARX", "a damaged PARM tag");
	memcpy(b, fx->file, fx->len);
	memcpy(b + recd, "RECE", 4);
	test_bad_bytes(b, fx->len, "unknown section RECE",
	    "a damaged RECD tag (the record and the <bksp> marking are not dropped)");
	/* A header field changed to another valid value: only the file's CRC sees it. */
	test_bad_field(fx, 32, 8, "the file's CRC does not match", "num_heads 4 -> 8");
	/* Without PARM, with END.'s CRC made right: missing. */
	memcpy(b, fx->file, fx->len);
	memcpy(b + tokn, "END.", 4);
	test_bad_bytes(b, fx->len, "section END. has", "END. too early");
	test_bad_bytes(fx->file, end, "truncated: no END. section", "no END. section");
	memcpy(b, fx->file, fx->len);
	memcpy(b + fx->len, "junk", 4);
	test_bad_bytes(b, fx->len + 4, "after the END.", "bytes after END.");

	/* A RECD section that is well framed but does not parse. */
	memcpy(b, fx->file, fx->len);
	b[recd + 12] = '\0';
	test_fix_crcs(b, fx->len, TEST_HEADER, recd);
	test_bad_bytes(b, fx->len, "section RECD: record: entry 1: empty key",
	    "bad record with a good CRC");
	/* A TOKN section that is well framed but does not parse. */
	memcpy(b, fx->file, fx->len);
	b[tokn + 12] ^= 0xff;
	test_fix_crcs(b, fx->len, TEST_HEADER, tokn);
	test_bad_bytes(b, fx->len, "section TOKN: ", "bad tokenizer with a good CRC");

	/* An unknown section is refused, and so is a duplicate RECD. */
	{
		uint8_t *u = malloc(2 * fx->len + 64);
		size_t rl = parm - recd;
		static const uint8_t extra[] = "future data";

		memcpy(u, fx->file, end);
		memcpy(u + end, "XTRA", 4);
		test_put64(u + end + 4, sizeof extra);
		memcpy(u + end + 12, extra, sizeof extra);
		test_put32(u + end + 12 + sizeof extra, test_crc(extra, sizeof extra));
		memcpy(u + end + 16 + sizeof extra, fx->file + end, 20);
		test_put32(u + end + 16 + sizeof extra + 12, test_crc(u, end + 16 + sizeof extra));
		test_fix_crc(u, end + 16 + sizeof extra);
		test_write(path, u, fx->len + 16 + sizeof extra);
		free(cause);
		cause = NULL;
		{
			struct gpt_model *m = NULL;
			struct tokenizer *tok = NULL;

			TEST_OK(checkpoint_load(path, &m, &tok, NULL, &cause) == -1 &&
			    test_msg(cause, path, "unknown section XTRA"),
			    "load: an unknown section is refused (%s)", TEST_MSG(cause));
			gpt_free(m);
			if (tok != NULL)
				tokenizer_free(tok);
		}
		memcpy(u, fx->file, end);
		memcpy(u + end, fx->file + recd, rl);
		memcpy(u + end + rl, fx->file + end, 20);
		free(b);
		b = u;
		test_bad_bytes(b, fx->len + rl, "duplicate section RECD",
		    "a duplicate RECD section");
	}
	free(b);
	free(cause);
}

/* Optimizer state: round trip, and refusals. */
static void
test_optim(struct test_fixture *fx)
{
	const char *path = test_path(TEST_OPT), *bad = test_path(TEST_BAD_OPT);
	size_t n = gpt_num_params(fx->m), len;
	struct gpt_model *m2 = NULL, *small;
	struct tokenizer *tok2 = NULL;
	struct gpt_config cfg;
	float *am, *av;
	uint8_t *file, *b;
	char *cause = NULL;
	long step = -5;
	uint64_t run = 0;
	struct rng r;
	int ok;

	TEST_OK(gpt_alloc_adam(fx->m, &cause) == 0, "optim: allocate AdamW state");
	am = gpt_adam_m(fx->m);
	av = gpt_adam_v(fx->m);
	rng_init(&r, 9);
	for (size_t i = 0; i < n; i++) {
		am[i] = rng_normal(&r) * 0.01f;
		av[i] = rng_float(&r) * 1e-4f;
	}
	TEST_OK(checkpoint_save_optim(path, fx->m, 1234, 0xabcdef0123456789ULL, &cause) == 0 &&
	    !test_exists(test_path(TEST_OPT_TMP)), "optim: save");
	TEST_OK(checkpoint_load(fx->path, &m2, &tok2, NULL, &cause) == 0 &&
	    gpt_adam_m(m2) == NULL, "optim: a freshly loaded model has no AdamW state");
	TEST_OK(checkpoint_load_optim(path, m2, &step, &run, &cause) == 0 && step == 1234 &&
	    run == 0xabcdef0123456789ULL &&
	    gpt_adam_m(m2) != NULL && gpt_adam_v(m2) != NULL &&
	    memcmp(gpt_adam_m(m2), am, n * sizeof(float)) == 0 &&
	    memcmp(gpt_adam_v(m2), av, n * sizeof(float)) == 0,
	    "optim: m, v, step and run id round trip (%s)", cause ? cause : "ok");
	TEST_OK(checkpoint_save_optim(bad, fx->m, -1, 0, &cause) == -1 &&
	    test_msg(cause, bad, "negative step"), "optim: negative step not saved");

	file = test_read(path, &len);
	TEST_OK(len == TEST_OPT_HEADER + 16 + 8 * n + 20 && memcmp(file, "SEQMOPT1", 8) == 0 &&
	    test_get32(file + 8) == 2 && test_get64(file + 12) == n &&
	    test_get64(file + 20) == 1234 && test_get64(file + 28) == 0xabcdef0123456789ULL &&
	    memcmp(file + TEST_OPT_HEADER, "ADAM", 4) == 0, "optim: layout as documented");
	b = malloc(len + 16);

	/* Refusals leave the model and step alone. */
	cfg = *gpt_config(fx->m);
	cfg.num_layers = 1;
	small = gpt_new(&cfg, &cause);
	step = 7;
	TEST_OK(small != NULL && checkpoint_load_optim(path, small, &step, NULL, &cause) == -1 &&
	    test_msg(cause, path, "parameters") && step == 7 &&
	    gpt_adam_m(small) == NULL,
	    "optim: state for another parameter count refused (%s)", TEST_MSG(cause));
	gpt_free(small);
	ok = checkpoint_load_optim(fx->path, m2, &step, NULL, &cause) == -1 &&
	    test_msg(cause, fx->path, "bad magic");
	TEST_OK(ok, "optim: a model file is not an optimizer file (%s)", TEST_MSG(cause));
	TEST_OK(checkpoint_load_optim(test_path(TEST_MISSING), m2, &step, NULL, &cause) == -1 &&
	    test_msg(cause, test_path(TEST_MISSING), NULL), "optim: missing file");

	ok = 1;
	for (size_t cut = 1; cut < len; cut += cut < 64 ? 1 : len / 13) {
		test_write(bad, file, cut);
		if (checkpoint_load_optim(bad, m2, &step, NULL, &cause) != -1 ||
		    !test_msg(cause, bad, "truncated")) {
			tap_diag("length %zu: %s", cut, TEST_MSG(cause));
			ok = 0;
		}
	}
	TEST_OK(ok && step == 7, "optim: truncated files refused");

	memcpy(b, file, len);
	test_put32(b + 8, 9);
	test_write(bad, b, len);
	TEST_OK(checkpoint_load_optim(bad, m2, &step, NULL, &cause) == -1 &&
	    test_msg(cause, bad, "unsupported version 9"), "optim: future version (%s)",
	    TEST_MSG(cause));
	memcpy(b, file, len);
	test_put64(b + 20, UINT64_MAX);
	test_write(bad, b, len);
	TEST_OK(checkpoint_load_optim(bad, m2, &step, NULL, &cause) == -1 &&
	    test_msg(cause, bad, "step"), "optim: step -1 refused (%s)", TEST_MSG(cause));
	memcpy(b, file, len);
	b[TEST_OPT_HEADER + 12 + 100] ^= 0x10;
	test_write(bad, b, len);
	TEST_OK(checkpoint_load_optim(bad, m2, &step, NULL, &cause) == -1 &&
	    test_msg(cause, bad, "CRC mismatch in section ADAM"), "optim: CRC (%s)",
	    TEST_MSG(cause));
	memcpy(b, file, len);
	test_put32(b + TEST_OPT_HEADER + 12 + 4 * (n + 2), 0x7fc00000U);
	test_fix_crcs(b, len, TEST_OPT_HEADER, TEST_OPT_HEADER);
	test_write(bad, b, len);
	TEST_OK(checkpoint_load_optim(bad, m2, &step, NULL, &cause) == -1 &&
	    test_msg(cause, bad, "v[2] is NaN") && step == 7 &&
	    memcmp(gpt_adam_v(m2), av, n * sizeof(float)) == 0,
	    "optim: NaN in v refused, state unchanged (%s)", TEST_MSG(cause));
	memcpy(b, file, len);
	memcpy(b + TEST_OPT_HEADER, "ADAX", 4);
	test_write(bad, b, len);
	TEST_OK(checkpoint_load_optim(bad, m2, &step, NULL, &cause) == -1 &&
	    test_msg(cause, bad, "unknown section ADAX"), "optim: no ADAM (%s)", TEST_MSG(cause));
	memcpy(b, file, len);
	test_put64(b + 28, 42);
	test_write(bad, b, len);
	TEST_OK(checkpoint_load_optim(bad, m2, &step, NULL, &cause) == -1 &&
	    test_msg(cause, bad, "the file's CRC does not match"),
	    "optim: a changed run id is caught by the file's CRC (%s)", TEST_MSG(cause));

	unlink(bad);
	unlink(path);
	free(b);
	free(file);
	gpt_free(m2);
	tokenizer_free(tok2);
	free(cause);
}

/*
 * The fixture's file as an older version: without ALGN, version `version`,
 * END. as that version has it (version 1: empty; 2: the file's CRC). Returns
 * the length of the file in b (at least fx->len bytes).
 */
static size_t
test_old_file(const struct test_fixture *fx, uint32_t version, uint8_t *b)
{
	size_t algn = test_find(fx->file, fx->len, TEST_HEADER, "ALGN");
	size_t parm = test_find(fx->file, fx->len, TEST_HEADER, "PARM");
	size_t end = test_find(fx->file, fx->len, TEST_HEADER, "END."), n;

	memcpy(b, fx->file, algn);
	memcpy(b + algn, fx->file + parm, end - parm);
	n = algn + end - parm;
	test_put32(b + 8, version);
	memcpy(b + n, "END.", 4);
	if (version == 1) {
		test_put64(b + n + 4, 0);
		test_put32(b + n + 12, test_crc(b, 0));
		return n + 16;
	}
	test_put64(b + n + 4, 4);
	test_put32(b + n + 12, test_crc(b, n));
	test_put32(b + n + 16, test_crc(b + n + 12, 4));
	return n + 20;
}

/*
 * Version 1 (END. empty, no file CRC) and version 2 (no ALGN) files, made
 * from the fixture's: still read, their parameters copied; an unknown
 * section in them is refused too, ALGN included.
 */
static void
test_version1(struct test_fixture *fx)
{
	const char *path = test_path(TEST_V1);
	uint8_t *b = malloc(fx->len + 64);
	struct gpt_model *m = NULL;
	struct tokenizer *tok = NULL;
	struct record rec;
	char *cause = NULL;
	size_t len;
	int ok;

	record_init(&rec);
	len = test_old_file(fx, 1, b);
	test_write(path, b, len);
	ok = checkpoint_load(path, &m, &tok, &rec, &cause) == 0 &&
	    memcmp(gpt_param_memory(m), gpt_param_memory(fx->m), 4 * gpt_num_params(m)) == 0 &&
	    test_record_equal(&rec, &fx->rec) && !gpt_params_external(m);
	TEST_OK(ok, "version 1: a file of the old layout still loads, record and all, "
	    "copied (%s)", cause != NULL ? cause : "ok");
	gpt_free(m);
	if (tok != NULL)
		tokenizer_free(tok);
	m = NULL;
	tok = NULL;
	memcpy(b + test_find(b, len, TEST_HEADER, "RECD"), "RECE", 4);
	test_write(path, b, len);
	TEST_OK(checkpoint_load(path, &m, &tok, NULL, &cause) == -1 &&
	    test_msg(cause, path, "unknown section RECE"),
	    "version 1: a damaged RECD tag is refused, not skipped (%s)", TEST_MSG(cause));

	path = test_path(TEST_V2);
	len = test_old_file(fx, 2, b);
	test_write(path, b, len);
	ok = checkpoint_load(path, &m, &tok, &rec, &cause) == 0 &&
	    memcmp(gpt_param_memory(m), gpt_param_memory(fx->m), 4 * gpt_num_params(m)) == 0 &&
	    test_record_equal(&rec, &fx->rec) && !gpt_params_external(m);
	TEST_OK(ok, "version 2: a file without ALGN still loads, record and all, copied (%s)",
	    cause != NULL ? cause : "ok");
	gpt_free(m);
	if (tok != NULL)
		tokenizer_free(tok);
	m = NULL;
	tok = NULL;
	/* ALGN is version 3's: in a version 2 file it is an unknown section. */
	memcpy(b, fx->file, fx->len);
	test_put32(b + 8, 2);
	test_fix_crcs(b, fx->len, TEST_HEADER, TEST_HEADER);
	test_write(path, b, fx->len);
	TEST_OK(checkpoint_load(path, &m, &tok, NULL, &cause) == -1 &&
	    test_msg(cause, path, "unknown section ALGN"),
	    "version 2: ALGN is refused as unknown (%s)", TEST_MSG(cause));
	record_release(&rec);
	free(cause);
	free(b);
}

/*
 * Version 3 in place: PARM's payload on a 4096-byte boundary, the model's
 * parameters read from the mapping (and equal to a copying load's), a
 * private copy on demand; the tokenizer alone without reading PARM.
 */
static void
test_mapped(struct test_fixture *fx)
{
	const char *path = fx->path, *bad = test_path(TEST_BAD);
	size_t parm = test_find(fx->file, fx->len, TEST_HEADER, "PARM");
	size_t algn = test_find(fx->file, fx->len, TEST_HEADER, "ALGN");
	size_t n = gpt_num_params(fx->m), mapped, priv;
	struct gpt_model *m = NULL, *c = NULL;
	struct tokenizer *tok = NULL, *tok2 = NULL;
	char *cause = NULL;
	uint8_t *b = malloc(fx->len);
	int ok;

	TEST_OK(algn != 0 && algn + 12 + test_get64(fx->file + algn + 4) + 4 == parm &&
	    (parm + 12) % 4096 == 0,
	    "version 3: ALGN just before PARM, PARM's payload at %zu, a multiple of 4096",
	    parm + 12);
	ok = checkpoint_load(path, &m, &tok, NULL, &cause) == 0;
	TEST_OK(ok && gpt_params_external(m) &&
	    checkpoint_mapped_path(gpt_param_memory(m) + n / 2) != NULL &&
	    strcmp(checkpoint_mapped_path(gpt_param_memory(m) + n / 2), path) == 0 &&
	    checkpoint_mapped_path(&n) == NULL,
	    "mapped: parameters read in place, the mapping names the file (%s)",
	    TEST_MSG(cause));
	if (!ok) {
		free(b);
		return;
	}
	gpt_memory(m, &mapped, &priv);
	TEST_OK(mapped == 4 * n && priv == 0, "mapped: memory %zu mapped, %zu private",
	    mapped, priv);
	TEST_OK(checkpoint_open(path, CHECKPOINT_LOAD_COPY, &c, &tok2, NULL, &cause) == 0 &&
	    !gpt_params_external(c) &&
	    memcmp(gpt_param_memory(c), gpt_param_memory(m), 4 * n) == 0 &&
	    memcmp(gpt_param_memory(c), gpt_param_memory(fx->m), 4 * n) == 0,
	    "copy: CHECKPOINT_LOAD_COPY gives its own block, bit-identical (%s)",
	    TEST_MSG(cause));
	gpt_free(c);
	tokenizer_free(tok2);
	c = NULL;
	tok2 = NULL;
	TEST_OK(gpt_make_private(m, &cause) == 0 && !gpt_params_external(m) &&
	    checkpoint_mapped_path(gpt_param_memory(m)) == NULL &&
	    memcmp(gpt_param_memory(m), gpt_param_memory(fx->m), 4 * n) == 0,
	    "private: gpt_make_private copies and unmaps (%s)", TEST_MSG(cause));
	gpt_param_memory(m)[0] += 1.0f; /* writable now */
	gpt_memory(m, &mapped, &priv);
	TEST_OK(mapped == 0 && priv == 4 * n, "private: memory %zu mapped, %zu private",
	    mapped, priv);
	gpt_free(m);
	tokenizer_free(tok);
	m = NULL;
	tok = NULL;

	/* A flipped bit in PARM: the full load refuses it, lazy and tokenizer-only do not read it. */
	memcpy(b, fx->file, fx->len);
	b[parm + 12 + 4 * (n / 2)] ^= 0x01;
	test_write(bad, b, fx->len);
	TEST_OK(checkpoint_load(bad, &m, &tok, NULL, &cause) == -1 &&
	    test_msg(cause, bad, "CRC mismatch in section PARM"),
	    "mapped: a flipped bit in PARM is caught at load (%s)", TEST_MSG(cause));
	TEST_OK(checkpoint_open(bad, CHECKPOINT_LOAD_LAZY, &m, &tok, NULL, &cause) == 0 &&
	    gpt_params_external(m),
	    "lazy: PARM's CRC is left to --verify (%s)", TEST_MSG(cause));
	gpt_free(m);
	tokenizer_free(tok);
	m = NULL;
	tok = NULL;
	ok = checkpoint_load_tokenizer(bad, &tok, &cause) == 0 &&
	    tokenizer_vocab_size(tok) == tokenizer_vocab_size(fx->tok);
	TEST_OK(ok, "tokenizer only: PARM is not read (%s)", TEST_MSG(cause));
	if (tok != NULL)
		tokenizer_free(tok);
	tok = NULL;
	memcpy(b, fx->file, fx->len);
	b[TEST_HEADER + 12 + 3] ^= 0x01;
	test_write(bad, b, fx->len);
	TEST_OK(checkpoint_load_tokenizer(bad, &tok, &cause) == -1 &&
	    test_msg(cause, bad, "CRC mismatch in section TOKN"),
	    "tokenizer only: TOKN's CRC is checked (%s)", TEST_MSG(cause));
	TEST_OK(checkpoint_load_tokenizer(test_path(TEST_MISSING), &tok, &cause) == -1 &&
	    test_msg(cause, test_path(TEST_MISSING), "No such file"),
	    "tokenizer only: a missing file is named (%s)", TEST_MSG(cause));
	unlink(bad);
	free(cause);
	free(b);
}

/* A model's record at a step of a run. */
static void
test_pair_record(struct record *rec, long step, const char *run)
{
	record_set(rec, "steps", "%ld", step);
	record_set(rec, "run_id", "%s", run);
}

/*
 * A run's pair: saved and loaded together; a model and an optimizer file of
 * different steps or runs refused; a save cut between its two files leaves
 * the kept pair, which loading puts back.
 */
static void
test_pair(struct test_fixture *fx)
{
	const char *path = test_path(TEST_PAIR), *opt = test_path(TEST_PAIR_OPT);
	struct gpt_model *m = NULL;
	struct tokenizer *tok = NULL;
	struct record rec, got;
	char *cause = NULL;
	long step = -1;
	int kept = -1, ok;
	uint8_t *opt5;
	size_t opt5_len;

	record_init(&rec);
	record_init(&got);
	record_copy(&rec, &fx->rec);
	test_pair_record(&rec, 5, "00000000000000aa");
	TEST_OK(checkpoint_save_pair(path, fx->m, fx->tok, &rec, 5, &cause) == 0 &&
	    checkpoint_load_pair(path, &m, &tok, &got, &step, &kept, &cause) == 0 &&
	    step == 5 && kept == 0 && checkpoint_run_id(&got) == 0xaa &&
	    !test_exists(test_path(TEST_PAIR_PREV)) && !test_exists(test_path(TEST_PAIR_OPT_PREV)),
	    "pair: saved and loaded at step 5, nothing kept after a whole save (%s)",
	    cause != NULL ? cause : "ok");
	gpt_free(m);
	tokenizer_free(tok);
	m = NULL;
	tok = NULL;
	opt5 = test_read(opt, &opt5_len);

	/* The reproduction: the .opt of step 5 beside the model of step 10. */
	test_pair_record(&rec, 10, "00000000000000aa");
	checkpoint_save_pair(path, fx->m, fx->tok, &rec, 10, &cause);
	test_write(opt, opt5, opt5_len);
	ok = checkpoint_load_pair(path, &m, &tok, &got, &step, &kept, &cause) == -1 &&
	    test_msg(cause, path, "are not from the same save") && m == NULL;
	TEST_OK(ok, "pair: model at step 10 with the .opt of step 5 refused (%s)",
	    TEST_MSG(cause));

	/* Same step, another run. */
	checkpoint_save_pair(path, fx->m, fx->tok, &rec, 10, &cause);
	checkpoint_save_optim(opt, fx->m, 10, 0xbb, &cause);
	ok = checkpoint_load_pair(path, &m, &tok, &got, &step, &kept, &cause) == -1 &&
	    test_msg(cause, path, "run 00000000000000bb");
	TEST_OK(ok, "pair: the .opt of another run at the same step refused (%s)",
	    TEST_MSG(cause));

	/* A save cut between its files: the model of step 11 written, its .opt not. */
	checkpoint_save_pair(path, fx->m, fx->tok, &rec, 10, &cause);
	TEST_OK(link(path, test_path(TEST_PAIR_PREV)) == 0 &&
	    link(opt, test_path(TEST_PAIR_OPT_PREV)) == 0, "pair: keep step 10 as a save would");
	test_pair_record(&rec, 11, "00000000000000aa");
	checkpoint_save(path, fx->m, fx->tok, &rec, &cause);
	ok = checkpoint_load_pair(path, &m, &tok, &got, &step, &kept, &cause) == 0 &&
	    step == 10 && kept == 1 && strcmp(record_get(&got, "steps"), "10") == 0 &&
	    !test_exists(test_path(TEST_PAIR_PREV));
	TEST_OK(ok, "pair: after a save cut short the kept pair of step 10 loads (%s)",
	    cause != NULL ? cause : "ok");
	gpt_free(m);
	tokenizer_free(tok);
	m = NULL;
	tok = NULL;
	TEST_OK(checkpoint_load_pair(path, &m, &tok, &got, &step, &kept, &cause) == 0 &&
	    step == 10 && kept == 0, "pair: and it is the latest pair again (%s)",
	    cause != NULL ? cause : "ok");
	gpt_free(m);
	tokenizer_free(tok);
	free(opt5);
	record_release(&rec);
	record_release(&got);
	free(cause);
}

/* CRC-32 against the standard check value and the bitwise form. */
static void
test_crc32(void)
{
	uint8_t buf[1000];
	struct rng r;
	uint32_t c;
	int cuts, good;

	TEST_OK(crc32_update(0, "123456789", 9) == 0xcbf43926U,
	    "crc32: check value 0xcbf43926");
	TEST_OK(crc32_update(0, "", 0) == 0, "crc32: empty input");
	rng_init(&r, 3);
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)rng_u64(&r);
	c = crc32_update(0, buf, 300);
	c = crc32_update(c, buf + 300, sizeof buf - 300);
	TEST_OK(c == test_crc(buf, sizeof buf) &&
	    crc32_update(0, buf, sizeof buf) == c,
	    "crc32: table form equals bitwise form, incremental equals one-shot");
	/* Every length and alignment through each path (bytes, slices, carry-less folds). */
	cuts = good = 0;
	for (size_t at = 0; at < 8; at += 3)
		for (size_t n = 0; n + at <= sizeof buf; n += 37, cuts++)
			good += crc32_update(0, buf + at, n) == test_crc(buf + at, n);
	TEST_OK(good == cuts, "crc32: %d of %d lengths and offsets equal the bitwise form",
	    good, cuts);
	cuts = good = 0;
	for (size_t cut = 0; cut <= sizeof buf; cut += 97, cuts++) {
		uint32_t a = crc32_update(0, buf, cut);
		uint32_t z = crc32_update(0, buf + cut, sizeof buf - cut);

		good += crc32_concat(a, z, sizeof buf - cut) == c;
	}
	TEST_OK(good == cuts, "crc32: combine(crc(A), crc(B), |B|) = crc(AB) at %d of %d cuts",
	    good, cuts);
	TEST_OK(crc32_concat(crc32_update(0, buf + 1, 999), 0, 0) ==
	    crc32_update(0, buf + 1, 999), "crc32: combine with an empty B");
}

/* Remove the temporary directory (only files this test creates). */
static void
test_cleanup(void)
{
	for (int i = 0; i < TEST_NPATHS; i++)
		unlink(test_path(i));
	if (rmdir(test_dir) != 0)
		tap_diag("cannot remove %s: %s", test_dir, strerror(errno));
}

/* Run every group of tests inside a fresh temporary directory. */
int
main(void)
{
	struct test_fixture fx;
	const char *base = getenv("TMPDIR");

	snprintf(test_dir, sizeof test_dir, "%s/test-checkpoint.XXXXXX",
	    base != NULL && *base != '\0' ? base : "/tmp");
	if (mkdtemp(test_dir) == NULL) {
		printf("Bail out! mkdtemp %s: %s\n", test_dir, strerror(errno));
		return 1;
	}
	for (int i = 0; i < TEST_NPATHS; i++)
		snprintf(test_paths[i], sizeof test_paths[i], "%s/%s", test_dir,
		    test_names[i]);

	test_record();
	test_corpus_parse();
	test_corpus_split();
	test_crc32();
	test_roundtrip(&fx);
	test_atomic_write();
	test_save_failures(&fx);
	test_bad_files(&fx);
	test_optim(&fx);
	test_version1(&fx);
	test_mapped(&fx);
	test_pair(&fx);

	gpt_free(fx.m);
	tokenizer_free(fx.tok);
	record_release(&fx.rec);
	free(fx.file);
	test_cleanup();
	return tap_done();
}
