/*
 * test-tokenizer.c: TAP tests for the byte-level BPE tokenizer: training on a
 * small English text, hand-checked merges, round trips on random ids and
 * random bytes, agreement with a slow reference encoder written here,
 * determinism, serialisation and rejection of corrupted files.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "tap.h"
#include "tokenizer.h"

static const char test_corpus[] =
    "The history of the printing press is the history of the spread of "
    "ideas. Before the press, a book was copied by hand, and the copy took "
    "months. The scribe sat at the desk in the cold room of the monastery "
    "and wrote the words of the text one by one, and the words were often "
    "wrong, for the scribe was tired and the light was poor.\n"
    "\n"
    "When the press came, the work of the scribe was done by the machine. "
    "The printer set the type, inked the type, and pressed the paper onto "
    "the type. In one day the printer could make more pages than the "
    "scribe could make in a year. The price of the book fell, and the "
    "number of the readers rose. The readers of the town and the readers "
    "of the country read the same words on the same day.\n"
    "\n"
    "There were 1450 presses in the year 1500, and there were more than "
    "twenty million books. The printers were proud of their work; they put "
    "their names at the end of the book, with the date and the place. "
    "Some of these books are still with us, in the libraries of the world, "
    "and we can read them there: the paper is old, but the words are "
    "there, as clear as on the day they were printed.\n"
    "\n"
    "The press changed the way people thought about the text. A text was "
    "no longer a thing that changed each time it was copied; it was the "
    "same in every copy, and the reader in one town could say to the "
    "reader in another town: look at page 12, line 3, and both of them "
    "would see the same words. That is the beginning of the modern idea "
    "of the book, and of the modern idea of the author.\n";

/* Store a little-endian u32 in a test buffer. */
static void
test_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Train on a NUL-terminated string or fail the test run loudly. */
static struct tokenizer *
test_train(const char *text, int vocab_size)
{
	struct tokenizer *tok = NULL;
	char *cause = NULL;

	if (tokenizer_train((const uint8_t *)text, strlen(text), vocab_size,
	    &tok, &cause) != 0) {
		tap_diag("train failed: %s", cause ? cause : "(no message)");
		free(cause);
		return NULL;
	}
	return tok;
}

/* Whether a piece of a token equals a C string. */
static int
test_piece_is(const struct tokenizer *tok, int id, const char *s)
{
	size_t len;
	const uint8_t *p = tokenizer_piece(tok, id, &len);

	return p != NULL && len == strlen(s) && memcmp(p, s, len) == 0;
}

/* Encode then decode; 1 if the bytes come back exactly. */
static int
test_roundtrip(const struct tokenizer *tok, const uint8_t *text, size_t len)
{
	int *ids = NULL;
	size_t n = 0, outlen = 0;
	uint8_t *out = NULL;
	char *cause = NULL;
	int ok;

	if (tokenizer_encode(tok, text, len, &ids, &n, &cause) != 0 ||
	    tokenizer_decode(tok, ids, n, &out, &outlen, &cause) != 0) {
		tap_diag("round trip failed: %s", cause ? cause : "?");
		free(cause);
		free(ids);
		return 0;
	}
	ok = outlen == len && (len == 0 || memcmp(out, text, len) == 0) &&
	    out[outlen] == '\0';
	free(ids);
	free(out);
	return ok;
}

/* ---- A slow reference encoder, written independently of tokenizer.c ---- */

/* The reference's byte classes: 0 letter, 1 digit, 2 space, 3 other. */
static int
ref_class(uint8_t c)
{
	if (c >= 0x80 || (unsigned)((c | 0x20) - 'a') < 26u)
		return 0;
	if ((unsigned)(c - '0') < 10u)
		return 1;
	if (strchr(" \t\n\r\v\f", c) != NULL && c != 0)
		return 2;
	return 3;
}

/*
 * Cut text into chunks: first maximal runs of one class, then move a final
 * ' ' of a whitespace run onto the run after it. Fills starts[] (nchunks+1
 * entries, the last being len); returns the number of chunks.
 */
static size_t
ref_chunks(const uint8_t *text, size_t len, size_t *starts)
{
	size_t nruns = 0;

	for (size_t i = 0; i < len; i++) {
		if (i == 0 || ref_class(text[i]) != ref_class(text[i - 1]))
			starts[nruns++] = i;
	}
	starts[nruns] = len;
	for (size_t r = 0; r + 1 < nruns; r++) {
		size_t last = starts[r + 1] - 1;
		if (ref_class(text[starts[r]]) == 2 && text[last] == ' ') {
			if (last == starts[r]) {
				/* The whole run is one space: merge the runs. */
				memmove(starts + r + 1, starts + r + 2,
				    (nruns - r - 1) * sizeof *starts);
				nruns--;
			} else
				starts[r + 1] = last;
		}
	}
	return nruns;
}

/* The merge table of a tokenizer, read back from its serialised form. */
struct ref_bpe {
	int V;
	int nmerges;
	int *rank; /* (V, V): rank of merge (left, right) or -1 */
	int *left; /* (nmerges) */
	int *right; /* (nmerges) */
};

/* Build the reference table from tokenizer_serialize's bytes. */
static int
ref_load(const struct tokenizer *tok, struct ref_bpe *ref)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	char *cause = NULL;

	if (tokenizer_serialize(tok, &buf, &len, &cause) != 0) {
		free(cause);
		return -1;
	}
	ref->V = tokenizer_vocab_size(tok);
	ref->nmerges = ref->V - 257;
	ref->rank = malloc((size_t)ref->V * (size_t)ref->V * sizeof *ref->rank);
	ref->left = malloc(((size_t)ref->nmerges + 1) * sizeof *ref->left);
	ref->right = malloc(((size_t)ref->nmerges + 1) * sizeof *ref->right);
	if (ref->rank == NULL || ref->left == NULL || ref->right == NULL) {
		free(buf);
		return -1;
	}
	memset(ref->rank, 0xff, (size_t)ref->V * (size_t)ref->V *
	    sizeof *ref->rank);
	for (int r = 0; r < ref->nmerges; r++) {
		const uint8_t *p = buf + 16 + 8 * (size_t)r;
		int l = p[0] | p[1] << 8 | p[2] << 16;
		int rt = p[4] | p[5] << 8 | p[6] << 16;
		ref->rank[l * ref->V + rt] = r;
		ref->left[r] = l;
		ref->right[r] = rt;
	}
	free(buf);
	return 0;
}

/* GPT-2's bpe() on one chunk: merge the lowest-rank pair everywhere, repeat. */
static size_t
ref_bpe_chunk(const struct ref_bpe *ref, const uint8_t *p, size_t n, int *out)
{
	int *sym = malloc(n * sizeof *sym);
	size_t m = n;

	for (size_t i = 0; i < n; i++)
		sym[i] = p[i];
	for (;;) {
		int best = -1, a, b;
		size_t o = 0;

		for (size_t i = 0; i + 1 < m; i++) {
			int r = ref->rank[sym[i] * ref->V + sym[i + 1]];
			if (r >= 0 && (best < 0 || r < best))
				best = r;
		}
		if (best < 0)
			break;
		a = ref->left[best];
		b = ref->right[best];
		for (size_t i = 0; i < m;) {
			if (i + 1 < m && sym[i] == a && sym[i + 1] == b) {
				sym[o++] = 256 + best;
				i += 2;
			} else
				sym[o++] = sym[i++];
		}
		m = o;
	}
	memcpy(out, sym, m * sizeof *sym);
	free(sym);
	return m;
}

/* Encode text with the reference; returns the id count, ids in out (len). */
static size_t
ref_encode(const struct ref_bpe *ref, const uint8_t *text, size_t len,
    int *out)
{
	size_t *starts = malloc((len + 2) * sizeof *starts);
	size_t nchunks = ref_chunks(text, len, starts), n = 0;

	for (size_t c = 0; c < nchunks; c++)
		n += ref_bpe_chunk(ref, text + starts[c],
		    starts[c + 1] - starts[c], out + n);
	free(starts);
	return n;
}

/* Whether the tokenizer and the reference agree on text. */
static int
test_matches_ref(const struct tokenizer *tok, const struct ref_bpe *ref,
    const uint8_t *text, size_t len)
{
	int *ids = NULL, *want = malloc((len + 1) * sizeof *want);
	size_t n = 0, nwant = ref_encode(ref, text, len, want);
	char *cause = NULL;
	int ok;

	if (tokenizer_encode(tok, text, len, &ids, &n, &cause) != 0) {
		tap_diag("encode failed: %s", cause);
		free(cause);
		free(want);
		return 0;
	}
	ok = n == nwant && memcmp(ids, want, n * sizeof *ids) == 0;
	if (!ok)
		tap_diag("encoder gives %zu ids, reference %zu (text of %zu "
		    "bytes)", n, nwant, len);
	free(ids);
	free(want);
	return ok;
}

/* ---- The tests ---- */

/* Training on English: sizes, special ids, common words become tokens. */
static void
test_train_english(void)
{
	int sizes[] = { 300, 400 };

	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		struct tokenizer *tok = test_train(test_corpus, sizes[k]);
		int V, *ids = NULL, all_single = 1;
		size_t n = 0, nbytes = 0, len;
		uint8_t *out = NULL;
		char *cause = NULL;

		if (!tap_ok(tok != NULL, "train to %d tokens", sizes[k]))
			continue;
		V = tokenizer_vocab_size(tok);
		tap_diag("asked %d tokens, got %d", sizes[k], V);
		tap_ok(V <= sizes[k] && V > 290, "vocab size %d is at most %d "
		    "and well above 257", V, sizes[k]);
		if (sizes[k] == 300)
			tap_ok(V == 300, "a 1.5 KB text has enough pairs for 300 "
			    "tokens (got %d)", V);
		tap_ok(tokenizer_eot(tok) == V - 1, "eot is V-1");
		tap_ok(tokenizer_bksp(tok) == V, "bksp is V");
		tap_ok(test_piece_is(tok, V - 1, "<|endoftext|>"),
		    "eot piece is <|endoftext|>");
		tap_ok(test_piece_is(tok, V, "<bksp>"), "bksp piece is <bksp>");
		tap_ok(tokenizer_piece(tok, V + 1, &len) == NULL && len == 0 &&
		    tokenizer_piece(tok, -1, &len) == NULL,
		    "piece of an out-of-range id is NULL");
		for (int id = 0; id < 256; id++) {
			const uint8_t *p = tokenizer_piece(tok, id, &len);
			if (p == NULL || len != 1 || p[0] != id)
				all_single = 0;
		}
		tap_ok(all_single, "ids 0..255 are the single bytes");

		if (tokenizer_encode(tok, (const uint8_t *)" the", 4, &ids, &n,
		    &cause) == 0) {
			tap_ok(n == 1 && test_piece_is(tok, ids[0], " the"),
			    "\" the\" is a single token (%zu ids)", n);
			free(ids);
		} else
			tap_ok(0, "encode \" the\": %s", cause);
		if (tokenizer_encode(tok, (const uint8_t *)" of", 3, &ids, &n,
		    &cause) == 0) {
			tap_ok(n == 1, "\" of\" is a single token");
			free(ids);
		} else
			tap_ok(0, "encode \" of\": %s", cause);

		/* Compression: the training text needs far fewer ids than bytes. */
		if (tokenizer_encode(tok, (const uint8_t *)test_corpus,
		    strlen(test_corpus), &ids, &n, &cause) == 0) {
			tap_ok(n < strlen(test_corpus) * 2 / 3, "corpus of %zu "
			    "bytes encodes to %zu ids", strlen(test_corpus), n);
			free(ids);
		} else
			tap_ok(0, "encode corpus: %s", cause);

		/* The EOT text is plain text to the encoder. */
		if (tokenizer_encode(tok, (const uint8_t *)"a<|endoftext|>b", 15,
		    &ids, &n, &cause) == 0) {
			int has_eot = 0;
			for (size_t i = 0; i < n; i++)
				has_eot |= ids[i] == V - 1;
			tap_ok(!has_eot && n > 3, "<|endoftext|> text is not "
			    "special (%zu ids)", n);
			free(ids);
		} else
			tap_ok(0, "encode eot text: %s", cause);
		tap_ok(test_roundtrip(tok, (const uint8_t *)"a<|endoftext|>b",
		    15), "<|endoftext|> text round-trips");

		/* EOT and <bksp> decode to nothing. */
		{
			int special[] = { 't', V - 1, V, 'o' };
			if (tokenizer_decode(tok, special, 4, &out, &nbytes,
			    &cause) == 0) {
				tap_ok(nbytes == 2 && memcmp(out, "to", 3) == 0,
				    "eot and bksp decode to no bytes");
				free(out);
			} else
				tap_ok(0, "decode specials: %s", cause);
		}
		{
			int bad[] = { 'a', V + 1 }, neg[] = { -1 }, rc;
			out = NULL;
			rc = tokenizer_decode(tok, bad, 2, &out, &nbytes, &cause);
			tap_ok(rc == -1 && cause != NULL && strstr(cause,
			    "range") != NULL && out == NULL,
			    "decode rejects id V+1: %s", cause ? cause : "");
			free(cause);
			cause = NULL;
			rc = tokenizer_decode(tok, neg, 1, &out, &nbytes, &cause);
			tap_ok(rc == -1 && cause != NULL && *cause != '\0',
			    "decode rejects id -1: %s", cause ? cause : "");
			free(cause);
		}
		tokenizer_free(tok);
	}
}

/* Every learned token is a single chunk: merges never cross boundaries. */
static void
test_no_cross_chunk(void)
{
	struct tokenizer *tok = test_train(test_corpus, 1000);
	size_t starts[4096];
	int bad = -1;

	if (!tap_ok(tok != NULL, "train to 1000 (runs out of pairs)"))
		return;
	tap_ok(tokenizer_vocab_size(tok) < 1000, "stops when no pair occurs "
	    "twice (V=%d)", tokenizer_vocab_size(tok));
	for (int id = 256; id < tokenizer_vocab_size(tok) - 1; id++) {
		size_t len;
		const uint8_t *p = tokenizer_piece(tok, id, &len);
		if (len > 4000 || ref_chunks(p, len, starts) != 1)
			bad = id;
	}
	tap_ok(bad < 0, "every token is one pre-tokenizer chunk (bad id %d)",
	    bad);
	tokenizer_free(tok);
}

/* Small texts whose merges can be worked out by hand. */
static void
test_hand_checked(void)
{
	struct tokenizer *tok;

	/* "abababab" and " cdcd": (a,b)=4, then (ab,ab)=3, then (c,d)=2. */
	tok = test_train("abababab cdcd", 1000);
	if (tap_ok(tok != NULL, "train on abababab cdcd")) {
		tap_ok(tokenizer_vocab_size(tok) == 260, "3 merges + 257 = 260 "
		    "(got %d)", tokenizer_vocab_size(tok));
		tap_ok(test_piece_is(tok, 256, "ab") &&
		    test_piece_is(tok, 257, "abab") &&
		    test_piece_is(tok, 258, "cd"), "merges are ab, abab, cd");
		tokenizer_free(tok);
	}

	/* All pairs tie at 2: the smallest (left, right) wins each time. */
	tok = test_train("abcd abcd", 1000);
	if (tap_ok(tok != NULL, "train on abcd abcd")) {
		tap_ok(tokenizer_vocab_size(tok) == 260 &&
		    test_piece_is(tok, 256, "ab") &&
		    test_piece_is(tok, 257, "cd") &&
		    test_piece_is(tok, 258, "abcd"), "ties go to the smallest "
		    "pair: ab, cd, abcd");
		tokenizer_free(tok);
	}

	/* A run of one byte: (a,a) counted with overlaps, then doubling. */
	tok = test_train("aaaaaaaa", 1000);
	if (tap_ok(tok != NULL, "train on aaaaaaaa")) {
		tap_ok(tokenizer_vocab_size(tok) == 259 &&
		    test_piece_is(tok, 256, "aa") &&
		    test_piece_is(tok, 257, "aaaa"), "aaaaaaaa gives aa, aaaa "
		    "(V=%d)", tokenizer_vocab_size(tok));
		tokenizer_free(tok);
	}

	/* The vocabulary limit stops training exactly. */
	tok = test_train("abababab cdcd", 258);
	if (tap_ok(tok != NULL, "train to 258")) {
		tap_ok(tokenizer_vocab_size(tok) == 258 &&
		    test_piece_is(tok, 256, "ab"), "vocab 258 keeps only the "
		    "first merge");
		tokenizer_free(tok);
	}

	/* Empty text: bytes and EOT only. */
	tok = test_train("", 300);
	if (tap_ok(tok != NULL, "train on empty text")) {
		tap_ok(tokenizer_vocab_size(tok) == 257 &&
		    tokenizer_eot(tok) == 256 && tokenizer_bksp(tok) == 257,
		    "empty text gives 257 tokens");
		tap_ok(test_roundtrip(tok, (const uint8_t *)"x\0y", 3),
		    "byte-only tokenizer round-trips NULs");
		tokenizer_free(tok);
	}
}

/* Random bytes and random id sequences round-trip. */
static void
test_round_trips(void)
{
	struct tokenizer *tok = test_train(test_corpus, 400);
	struct rng rng;
	uint8_t buf[2048];
	int ids[512], fails = 0, idfails = 0;
	static const char alphabet[] = "the abc\n  \t1234.,;'!e\xc3\xa9\xff";
	const char *utf8 = "caf\xc3\xa9 na\xc3\xafve \xe6\x97\xa5\xe6\x9c\xac "
	    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x98\x80\xf0\x9f\x8e\x89"
	    " the end\n";

	if (!tap_ok(tok != NULL, "train for round trips"))
		return;
	rng_init(&rng, 1234);
	for (int k = 0; k < 1000; k++) {
		size_t len = (size_t)rng_below(&rng, k < 900 ? 64 : 2048);
		int mode = (int)rng_below(&rng, 3);

		for (size_t i = 0; i < len; i++) {
			if (mode == 0) /* any byte */
				buf[i] = (uint8_t)rng_below(&rng, 256);
			else if (mode == 1) /* text-like, with NULs and high bytes */
				buf[i] = (uint8_t)alphabet[rng_below(&rng,
				    sizeof alphabet)];
			else /* NULs, 0x80+ and spaces */
				buf[i] = (uint8_t)"\0\x80\xfe \n"[rng_below(&rng,
				    5)];
		}
		if (!test_roundtrip(tok, buf, len))
			fails++;
	}
	tap_ok(fails == 0, "1000 random byte strings round-trip exactly "
	    "(%d failures)", fails);
	tap_ok(test_roundtrip(tok, (const uint8_t *)utf8, strlen(utf8)),
	    "UTF-8 text (accents, CJK, emoji) round-trips");
	tap_ok(test_roundtrip(tok, (const uint8_t *)"", 0), "empty text "
	    "round-trips");

	/* Random ids: decode, re-encode, decode again gives the same bytes. */
	for (int k = 0; k < 300; k++) {
		size_t n = (size_t)rng_below(&rng, 512), len1, len2, n2;
		uint8_t *b1 = NULL, *b2 = NULL;
		int *ids2 = NULL;
		char *cause = NULL;

		for (size_t i = 0; i < n; i++)
			ids[i] = (int)rng_below(&rng,
			    (uint64_t)tokenizer_bksp(tok) + 1);
		if (tokenizer_decode(tok, ids, n, &b1, &len1, &cause) != 0 ||
		    tokenizer_encode(tok, b1, len1, &ids2, &n2, &cause) != 0 ||
		    tokenizer_decode(tok, ids2, n2, &b2, &len2, &cause) != 0 ||
		    len1 != len2 || memcmp(b1, b2, len1) != 0)
			idfails++;
		for (size_t i = 0; ids2 != NULL && i < n2; i++) {
			if (ids2[i] >= tokenizer_eot(tok))
				idfails++; /* encode never makes EOT or bksp */
		}
		free(cause);
		free(b1);
		free(b2);
		free(ids2);
	}
	tap_ok(idfails == 0, "300 random id sequences: decode, encode, "
	    "decode is stable (%d failures)", idfails);
	tokenizer_free(tok);
}

/* The fast encoder agrees with the slow reference, short and long chunks. */
static void
test_reference(void)
{
	struct tokenizer *tok = test_train(test_corpus, 400);
	struct ref_bpe ref;
	struct rng rng;
	uint8_t *buf = malloc(200000);
	int fails = 0;
	size_t clen = strlen(test_corpus);

	if (!tap_ok(tok != NULL && ref_load(tok, &ref) == 0, "reference "
	    "loads the merges"))
		return;
	rng_init(&rng, 99);
	for (int k = 0; k < 400; k++) {
		size_t len = (size_t)rng_below(&rng, k < 300 ? 80 : 600);
		/* Long words from few letters reach the long-chunk encoder. */
		const char *alpha = k % 2 ? "theaor" : "the of, 1\n \xc3\xa9";
		size_t na = strlen(alpha);
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)alpha[rng_below(&rng, na)];
		if (!test_matches_ref(tok, &ref, buf, len))
			fails++;
	}
	tap_ok(fails == 0, "400 random texts encode as the reference does "
	    "(%d differ)", fails);
	tap_ok(test_matches_ref(tok, &ref, (const uint8_t *)test_corpus,
	    clen), "the corpus encodes as the reference does");

	/* A long input goes through the per-call cache. */
	for (size_t i = 0; i < 60; i++)
		memcpy(buf + i * clen, test_corpus, clen);
	tap_ok(test_matches_ref(tok, &ref, buf, 60 * clen), "the corpus 60 "
	    "times (cached path) encodes as the reference does");
	/* Many distinct short words make cache slots collide. */
	{
		size_t len = 0;
		while (len < 150000) {
			size_t wl = 1 + (size_t)rng_below(&rng, 7);
			for (size_t i = 0; i < wl; i++)
				buf[len++] = (uint8_t)"theaorsn"[rng_below(&rng,
				    8)];
			buf[len++] = (uint8_t)" .\n,"[rng_below(&rng, 4)];
		}
		tap_ok(test_matches_ref(tok, &ref, buf, len), "150 KB of "
		    "random short words encode as the reference does");
	}
	memset(buf, 'e', 5000);
	tap_ok(test_matches_ref(tok, &ref, buf, 5000), "a 5000-byte word "
	    "encodes as the reference does");
	free(ref.rank);
	free(ref.left);
	free(ref.right);
	free(buf);
	tokenizer_free(tok);
}

/*
 * Naive BPE training for small texts: recount every pair of every word after
 * each merge. Writes up to maxm merges (left, right) to out; returns the count.
 */
static int
ref_train(const uint8_t *text, size_t len, int maxm, int *out)
{
	size_t *starts = malloc((len + 2) * sizeof *starts);
	size_t nchunks = ref_chunks(text, len, starts), nw = 0;
	int **w = calloc(nchunks + 1, sizeof *w), nm = 0;
	size_t *wl = calloc(nchunks + 1, sizeof *wl);
	long *freq = calloc(nchunks + 1, sizeof *freq);
	int V = 256 + maxm;
	long *count = malloc((size_t)V * (size_t)V * sizeof *count);

	for (size_t c = 0; c < nchunks; c++) {
		size_t cl = starts[c + 1] - starts[c], k;
		for (k = 0; k < nw; k++) {
			int same = wl[k] == cl;
			for (size_t i = 0; same && i < cl; i++)
				same = w[k][i] == text[starts[c] + i];
			if (same)
				break;
		}
		if (k == nw) {
			w[nw] = malloc(cl * sizeof **w);
			for (size_t i = 0; i < cl; i++)
				w[nw][i] = text[starts[c] + i];
			wl[nw++] = cl;
		}
		freq[k]++;
	}
	while (nm < maxm) {
		long best = 0;
		int bl = 0, br = 0, c = 256 + nm;

		memset(count, 0, (size_t)V * (size_t)V * sizeof *count);
		for (size_t k = 0; k < nw; k++) {
			for (size_t i = 0; i + 1 < wl[k]; i++)
				count[w[k][i] * V + w[k][i + 1]] += freq[k];
		}
		for (int l = 0; l < c; l++) { /* first maximum: smallest pair */
			for (int r = 0; r < c; r++) {
				if (count[l * V + r] > best) {
					best = count[l * V + r];
					bl = l;
					br = r;
				}
			}
		}
		if (best < 2)
			break;
		out[2 * nm] = bl;
		out[2 * nm + 1] = br;
		nm++;
		for (size_t k = 0; k < nw; k++) {
			size_t o = 0;
			for (size_t i = 0; i < wl[k];) {
				if (i + 1 < wl[k] && w[k][i] == bl &&
				    w[k][i + 1] == br) {
					w[k][o++] = c;
					i += 2;
				} else
					w[k][o++] = w[k][i++];
			}
			wl[k] = o;
		}
	}
	for (size_t k = 0; k < nw; k++)
		free(w[k]);
	free(w);
	free(wl);
	free(freq);
	free(count);
	free(starts);
	return nm;
}

/* Whether tokenizer_train learns exactly the merges of the naive trainer. */
static int
test_train_matches_ref(const uint8_t *text, size_t len, int maxm)
{
	int *want = malloc((size_t)(2 * maxm + 2) * sizeof *want);
	int nm = ref_train(text, len, maxm, want), ok;
	struct tokenizer *tok = NULL;
	uint8_t *buf = NULL;
	size_t blen = 0;
	char *cause = NULL;

	ok = tokenizer_train(text, len, 257 + maxm, &tok, &cause) == 0 &&
	    tokenizer_serialize(tok, &buf, &blen, &cause) == 0 &&
	    blen == 16 + 8 * (size_t)nm;
	for (int r = 0; ok && r < nm; r++) {
		const uint8_t *p = buf + 16 + 8 * (size_t)r;
		ok = (p[0] | p[1] << 8 | p[2] << 16) == want[2 * r] &&
		    (p[4] | p[5] << 8 | p[6] << 16) == want[2 * r + 1];
	}
	if (!ok)
		tap_diag("trainer differs from the naive one (%d naive merges, "
		    "%zu bytes serialised)", nm, blen);
	free(cause);
	free(buf);
	free(want);
	tokenizer_free(tok);
	return ok;
}

/* Training agrees with the naive trainer on English and on repetitive text. */
static void
test_train_reference(void)
{
	struct rng rng;
	uint8_t text[3000];
	int fails = 0;

	tap_ok(test_train_matches_ref((const uint8_t *)test_corpus,
	    strlen(test_corpus), 150), "the corpus: same 150 merges as the "
	    "naive trainer");
	rng_init(&rng, 5);
	for (int k = 0; k < 60; k++) {
		/* Runs of one letter make overlapping pairs like (aa, aa). */
		size_t len = 0, target = 200 + (size_t)rng_below(&rng, 2500);
		while (len < target) {
			uint8_t ch = (uint8_t)"aab b\n.1"[rng_below(&rng, 8)];
			size_t run = 1 + (size_t)rng_below(&rng, k % 2 ? 12 : 3);
			for (size_t i = 0; i < run && len < target; i++)
				text[len++] = ch;
		}
		if (!test_train_matches_ref(text, len, 40))
			fails++;
	}
	tap_ok(fails == 0, "60 repetitive random texts: same merges as the "
	    "naive trainer (%d differ)", fails);
}

/*
 * A hand-made tokenizer with a merge for every pair of bytes from a small set
 * shows where the chunks end: inside a chunk every two bytes become one id.
 */
static void
test_chunk_rules(void)
{
	static const uint8_t set[] = { 'a', 'Z', '7', '.', ' ', '\n', '\t', 0,
	    0xc3 };
	size_t ns = sizeof set, len = 16 + 8 * ns * ns, fails = 0;
	uint8_t *buf = malloc(len), text[200];
	struct tokenizer *tok = NULL;
	struct ref_bpe ref;
	struct rng rng;
	char *cause = NULL;
	int *ids = NULL, rank[256][256];
	size_t n = 0;

	memcpy(buf, "SMTK", 4);
	test_put_u32(buf + 4, 1);
	test_put_u32(buf + 8, (uint32_t)(256 + ns * ns + 1));
	test_put_u32(buf + 12, (uint32_t)(ns * ns));
	for (size_t i = 0; i < ns; i++) {
		for (size_t j = 0; j < ns; j++) {
			size_t r = i * ns + j;
			test_put_u32(buf + 16 + 8 * r, set[i]);
			test_put_u32(buf + 20 + 8 * r, set[j]);
			rank[set[i]][set[j]] = 256 + (int)r;
		}
	}
	if (!tap_ok(tokenizer_deserialize(buf, len, &tok, &cause) == 0,
	    "load an all-pairs tokenizer: %s", cause ? cause : "ok")) {
		free(cause);
		free(buf);
		return;
	}
	/* "a  a\n a7..": a | " " | " a" | "\n" | " a" | "7" | ".." */
	{
		int want[] = { 'a', ' ', rank[' ']['a'], '\n', rank[' ']['a'],
		    '7', rank['.']['.'] };
		tap_ok(tokenizer_encode(tok, (const uint8_t *)"a  a\n a7..", 10,
		    &ids, &n, &cause) == 0 && n == 7 && memcmp(ids, want,
		    sizeof want) == 0, "chunks of \"a  a\\n a7..\" are a, \" \", "
		    "\" a\", \\n, \" a\", 7, ..");
		free(ids);
	}
	/* NUL is a symbol, 0xc3 a letter, a tab does not attach. */
	{
		int want[] = { rank[0][0], rank['Z'][0xc3], '\t', rank[' ']['.'] };
		tap_ok(tokenizer_encode(tok, (const uint8_t *)"\0\0Z\xc3\t .",
		    7, &ids, &n, &cause) == 0 && n == 4 && memcmp(ids, want,
		    sizeof want) == 0, "NUL is a symbol, 0xc3 a letter, a tab "
		    "does not join the next word");
		free(ids);
	}
	if (ref_load(tok, &ref) == 0) {
		rng_init(&rng, 7);
		for (int k = 0; k < 2000; k++) {
			size_t tl = (size_t)rng_below(&rng, sizeof text);
			for (size_t i = 0; i < tl; i++)
				text[i] = set[rng_below(&rng, ns)];
			if (!test_matches_ref(tok, &ref, text, tl))
				fails++;
		}
		tap_ok(fails == 0, "2000 random texts: chunk boundaries match "
		    "the reference pre-tokenizer (%zu differ)", fails);
		free(ref.rank);
		free(ref.left);
		free(ref.right);
	} else
		tap_ok(0, "reference loads the all-pairs merges");
	tokenizer_free(tok);
	free(cause);
	free(buf);
}

/* Same text, same merges, same bytes. */
static void
test_determinism(void)
{
	struct tokenizer *a = test_train(test_corpus, 400);
	struct tokenizer *b = test_train(test_corpus, 400);
	uint8_t *ba = NULL, *bb = NULL;
	size_t la = 0, lb = 0;
	char *cause = NULL;

	if (!tap_ok(a != NULL && b != NULL, "train twice"))
		return;
	if (tokenizer_serialize(a, &ba, &la, &cause) != 0 ||
	    tokenizer_serialize(b, &bb, &lb, &cause) != 0)
		tap_diag("serialise failed: %s", cause);
	tap_ok(ba != NULL && bb != NULL && la == lb && la > 16 &&
	    memcmp(ba, bb, la) == 0, "two trainings serialise identically "
	    "(%zu bytes)", la);
	free(cause);
	free(ba);
	free(bb);
	tokenizer_free(a);
	tokenizer_free(b);
}

/* Deserialise buf; 1 if it was rejected with a message holding word. */
static int
test_rejects(const uint8_t *buf, size_t len, const char *word,
    const char *what)
{
	static char sentinel;
	struct tokenizer *tok = (struct tokenizer *)(void *)&sentinel; /* must become NULL */
	char *cause = NULL;
	int ok;

	ok = tokenizer_deserialize(buf, len, &tok, &cause) == -1 &&
	    tok == NULL && cause != NULL && *cause != '\0' &&
	    (word == NULL || strstr(cause, word) != NULL);
	if (what != NULL)
		tap_ok(ok, "rejects %s: %s", what, cause ? cause : "(none)");
	if (ok == 0 && tok != NULL && tok != (struct tokenizer *)(void *)&sentinel)
		tokenizer_free(tok);
	free(cause);
	return ok;
}

/* Serialisation round trip and every kind of corruption. */
static void
test_serialisation(void)
{
	struct tokenizer *tok = test_train(test_corpus, 300), *back = NULL;
	uint8_t *buf = NULL, *buf2 = NULL, *bad;
	size_t len = 0, len2 = 0, truncfails = 0;
	char *cause = NULL;
	const char *texts[] = { test_corpus, "the cat, the dog; 42 times\n",
	    "\xff\xfe\0 <|endoftext|>" };

	if (!tap_ok(tok != NULL && tokenizer_serialize(tok, &buf, &len,
	    &cause) == 0, "serialise"))
		return;
	tap_ok(len == 16 + 8 * (size_t)(300 - 257) && memcmp(buf, "SMTK",
	    4) == 0 && buf[4] == 1 && buf[8] == (300 & 0xff) && buf[9] == 1,
	    "layout: SMTK, version 1, V=300, %zu bytes", len);
	if (!tap_ok(tokenizer_deserialize(buf, len, &back, &cause) == 0,
	    "deserialise: %s", cause ? cause : "ok"))
		return;
	tap_ok(tokenizer_vocab_size(back) == 300, "same vocab size");
	for (size_t k = 0; k < 3; k++) {
		size_t tl = k == 2 ? 18 : strlen(texts[k]), n1, n2;
		int *i1 = NULL, *i2 = NULL;

		tap_ok(tokenizer_encode(tok, (const uint8_t *)texts[k], tl, &i1,
		    &n1, &cause) == 0 && tokenizer_encode(back,
		    (const uint8_t *)texts[k], tl, &i2, &n2, &cause) == 0 &&
		    n1 == n2 && memcmp(i1, i2, n1 * sizeof *i1) == 0,
		    "loaded tokenizer encodes text %zu identically", k);
		free(i1);
		free(i2);
	}
	tap_ok(tokenizer_serialize(back, &buf2, &len2, &cause) == 0 &&
	    len2 == len && memcmp(buf, buf2, len) == 0, "serialise(deserialise"
	    "(x)) == x");
	free(buf2);
	tokenizer_free(back);

	for (size_t cut = 0; cut < len; cut++) {
		if (!test_rejects(buf, cut, NULL, NULL)) {
			tap_diag("truncation to %zu bytes accepted", cut);
			truncfails++;
		}
	}
	tap_ok(truncfails == 0, "every truncation (0..%zu bytes) is rejected",
	    len - 1);
	test_rejects(buf, 7, "truncated", "a 7-byte buffer");
	test_rejects(buf, len - 3, "truncated", "a cut-off merge table");

	bad = malloc(len + 8 * 64);
	memcpy(bad, buf, len);
	bad[len] = 0;
	test_rejects(bad, len + 1, "after", "a trailing byte");
	bad[0] = 'X';
	test_rejects(bad, len, "magic", "a wrong magic");
	memcpy(bad, buf, len);
	test_put_u32(bad + 4, 3);
	test_rejects(bad, len, "version", "version 3");
	/* Version 2 adds a kind and the byte of ids 0..255 (a permutation). */
	memcpy(bad, buf, len);
	test_put_u32(bad + 4, 2);
	test_rejects(bad, len, "truncated", "version 2 without its kind and byte order");
	test_put_u32(bad + len, 7);
	for (int i = 0; i < 256; i++)
		bad[len + 4 + i] = (uint8_t)(255 - i);
	test_rejects(bad, len + 260, "unknown kind 7", "version 2 of an unknown kind");
	test_put_u32(bad + len, 1);
	bad[len + 4 + 9] = bad[len + 4 + 10];
	test_rejects(bad, len + 260, "both the byte", "version 2 with a byte twice");
	test_put_u32(bad + len, 0);
	for (int i = 0; i < 256; i++)
		bad[len + 4 + i] = (uint8_t)i;
	test_rejects(bad, len + 260, "that is version 1",
	    "version 2 of our own kind in byte order (one form per tokenizer)");
	test_put_u32(bad + len, 1);
	for (int i = 0; i < 256; i++)
		bad[len + 4 + i] = (uint8_t)(255 - i);
	bad[len + 4 + 9] = 255 - 9;
	{
		struct tokenizer *t2 = NULL;
		uint8_t *re = NULL;
		size_t relen = 0;
		char *c2 = NULL;
		int ok = tokenizer_deserialize(bad, len + 260, &t2, &c2) == 0 &&
		    tokenizer_kind(t2) == TOKENIZER_KIND_GPT2 &&
		    tokenizer_piece(t2, 0, NULL)[0] == 255 &&
		    tokenizer_serialize(t2, &re, &relen, &c2) == 0 &&
		    relen == len + 260 && memcmp(re, bad, relen) == 0;

		tap_ok(ok, "version 2 (GPT-2 kind, reversed bytes) loads and "
		    "serialises back the same (%s)", c2 != NULL ? c2 : "ok");
		free(re);
		free(c2);
		tokenizer_free(t2);
	}
	memcpy(bad, buf, len);
	test_put_u32(bad + 8, 301);
	test_rejects(bad, len, "vocabulary size", "V that does not match the "
	    "merges");
	memcpy(bad, buf, len);
	test_put_u32(bad + 12, 0xffffffffu);
	test_put_u32(bad + 8, 0xffffffffu);
	test_rejects(bad, len, "truncated", "a huge merge count");
	memcpy(bad, buf, len);
	test_put_u32(bad + 12, 42);
	test_put_u32(bad + 8, 299);
	test_rejects(bad, len, NULL, "a merge count that disagrees with the "
	    "length");
	memcpy(bad, buf, len);
	test_put_u32(bad + 16 + 8 * 17, 900);
	test_rejects(bad, len, "merge 17 refers to id 900 which is not "
	    "defined yet", "a merge that refers to a later id");
	memcpy(bad, buf, len);
	test_put_u32(bad + 20 + 8 * 5, 256 + 5);
	test_rejects(bad, len, "not defined", "a merge that refers to itself");
	memcpy(bad, buf, len);
	test_put_u32(bad + 16 + 8 * 3, 0xffffffffu);
	test_rejects(bad, len, "not defined", "a merge id of 2^32-1");
	memcpy(bad, buf, len);
	memcpy(bad + 16 + 8 * 9, bad + 16 + 8 * 2, 8);
	test_rejects(bad, len, "repeats", "a repeated merge");

	/* Doubling merges (x, x) would need gigabytes of token bytes. */
	memcpy(bad, "SMTK", 4);
	test_put_u32(bad + 4, 1);
	test_put_u32(bad + 8, 256 + 40 + 1);
	test_put_u32(bad + 12, 40);
	test_put_u32(bad + 16, 'a');
	test_put_u32(bad + 20, 'a');
	for (uint32_t r = 1; r < 40; r++) {
		test_put_u32(bad + 16 + 8 * r, 255 + r);
		test_put_u32(bad + 20 + 8 * r, 255 + r);
	}
	test_rejects(bad, 16 + 8 * 40, "longer", "merges whose tokens would "
	    "be gigabytes long");
	back = NULL;
	tap_ok(tokenizer_deserialize(bad, 16 + 8 * 20, &back, &cause) == -1,
	    "the same with 20 merges but a 40-merge header is rejected");
	test_put_u32(bad + 8, 256 + 20 + 1);
	test_put_u32(bad + 12, 20);
	tap_ok(tokenizer_deserialize(bad, 16 + 8 * 20, &back, &cause) == 0 &&
	    test_piece_is(back, 256, "aa") && test_roundtrip(back,
	    (const uint8_t *)"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 35),
	    "20 doubling merges (a 2 MB token) load and work");
	tokenizer_free(back);
	free(bad);
	free(buf);
	tokenizer_free(tok);
	free(cause);
}

/* Vocabulary sizes outside 257..TOKENIZER_MAX_VOCAB are rejected. */
static void
test_vocab_range(void)
{
	int bad[] = { 256, 0, -5, TOKENIZER_MAX_VOCAB + 1 };

	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		struct tokenizer *tok = (struct tokenizer *)bad;
		char *cause = NULL, num[32];
		int rc;

		snprintf(num, sizeof num, "%d", bad[k]);
		rc = tokenizer_train((const uint8_t *)"abab", 4, bad[k], &tok,
		    &cause);
		tap_ok(rc == -1 && tok == NULL && cause != NULL &&
		    strstr(cause, num) != NULL && strstr(cause, "257") != NULL,
		    "vocab size %d rejected: %s", bad[k], cause ? cause : "");
		free(cause);
	}
	{
		struct tokenizer *tok = NULL;
		char *cause = NULL;
		tap_ok(tokenizer_train((const uint8_t *)"abab", 4, 257, &tok,
		    &cause) == 0 && tokenizer_vocab_size(tok) == 257,
		    "vocab size 257 (no merges) is allowed");
		tokenizer_free(tok);
	}
}

/* Run every test. */
int
main(void)
{
	test_train_english();
	test_no_cross_chunk();
	test_hand_checked();
	test_round_trips();
	test_reference();
	test_chunk_rules();
	test_train_reference();
	test_determinism();
	test_serialisation();
	test_vocab_range();
	return tap_done();
}
