/*
 * pretok.c: GPT-2's pre-tokenizer through PCRE2.
 *
 * How this works. GPT-2 (Radford et al. 2019, section 2.2, and its published
 * encoder) cuts text with the pattern
 *
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 *
 * taking every successive leftmost match, and runs BPE on each match alone.
 * \p{L} and \p{N} are Unicode's letter and number categories and \s is
 * Unicode white space, so the pattern is compiled with PCRE2_UTF and
 * PCRE2_UCP (without UCP, PCRE2's \s would be ASCII only). Every character is
 * a letter, a number, a space or none of those, so the matches cover the
 * text with no gap.
 *
 * GPT-2's encoder works on Unicode strings and says nothing about bytes that
 * are not UTF-8. Ours takes any bytes: each byte that is not part of a valid
 * UTF-8 sequence (RFC 3629: no overlong forms, no surrogates, nothing above
 * U+10FFFF) is one character of the "other" class, the class U+FFFD (the
 * replacement character a decoder would put there) belongs to. It is matched
 * as '!' in a copy of the text (same length, so the offsets carry over):
 * the pattern treats every character outside letters, numbers, spaces and
 * the apostrophe alike, so any such stand-in gives the same cuts.
 */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "pretok.h"
#include "util.h"

static const char pretok_gpt2_pattern[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+"
    "|\\s+(?!\\S)|\\s+";

struct pretok {
	pcre2_code *code;
	int jit; /* pcre2_jit_compile succeeded */
};

/* Compile GPT-2's pattern. */
struct pretok *
pretok_new_gpt2(char **cause)
{
	struct pretok *p;
	int err;
	PCRE2_SIZE off;

	p = calloc(1, sizeof *p);
	if (p == NULL) {
		util_error(cause, "pre-tokenizer: out of memory");
		return NULL;
	}
	p->code = pcre2_compile((PCRE2_SPTR)pretok_gpt2_pattern,
	    PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK,
	    &err, &off, NULL);
	if (p->code == NULL) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(err, msg, sizeof msg);
		util_error(cause, "pre-tokenizer: PCRE2 cannot compile GPT-2's "
		    "pattern at offset %zu: %s", (size_t)off, (const char *)msg);
		free(p);
		return NULL;
	}
	/* JIT is only faster; without it (no JIT on this CPU) we interpret. */
	p->jit = pcre2_jit_compile(p->code, PCRE2_JIT_COMPLETE) == 0;
	return p;
}

/* Free a pre-tokenizer. */
void
pretok_free(struct pretok *p)
{
	if (p == NULL)
		return;
	pcre2_code_free(p->code);
	free(p);
}

/* Length of the valid UTF-8 sequence at s (n > 0 bytes left), 0 if none. */
static size_t
pretok_utf8_len(const uint8_t *s, size_t n)
{
	uint8_t c = s[0];
	size_t len;
	uint8_t lo = 0x80, hi = 0xbf; /* range of the second byte */

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0; /* no overlong forms */
		else if (c == 0xed)
			hi = 0x9f; /* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f; /* nothing above U+10FFFF */
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return len;
}

/* Cut text into GPT-2's chunks; see pretok.h. */
int
pretok_split(const struct pretok *p, const uint8_t *text, size_t len,
    size_t **endsp, size_t *np, char **cause)
{
	pcre2_match_data *md = NULL;
	const uint8_t *subject = text;
	uint8_t *copy = NULL;
	size_t *ends = NULL, n = 0, pos = 0;

	*endsp = NULL;
	*np = 0;
	/* Invalid bytes become '!' in a copy (see the essay above). */
	for (size_t i = 0; i < len;) {
		size_t l = pretok_utf8_len(text + i, len - i);

		if (l > 0) {
			i += l;
			continue;
		}
		if (copy == NULL) {
			copy = malloc(len);
			if (copy == NULL)
				goto oom;
			memcpy(copy, text, len);
			subject = copy;
		}
		copy[i++] = '!';
	}
	/* Every chunk holds at least one byte. */
	ends = malloc((len + 1) * sizeof *ends);
	md = pcre2_match_data_create_from_pattern(p->code, NULL);
	if (ends == NULL || md == NULL)
		goto oom;
	while (pos < len) {
		int rc = pcre2_match(p->code, (PCRE2_SPTR)subject, len, pos,
		    PCRE2_NO_UTF_CHECK, md, NULL);
		PCRE2_SIZE *ov;

		if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
			rc = pcre2_match(p->code, (PCRE2_SPTR)subject, len, pos,
			    PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md, NULL);
		if (rc < 0) {
			PCRE2_UCHAR msg[256];

			pcre2_get_error_message(rc, msg, sizeof msg);
			util_error(cause, "pre-tokenizer: PCRE2 failed at byte %zu: "
			    "%s", pos, (const char *)msg);
			goto fail;
		}
		ov = pcre2_get_ovector_pointer(md);
		/* The pattern covers every character; guard against gaps anyway. */
		if (ov[0] > pos)
			ends[n++] = ov[0];
		if (ov[1] <= ov[0]) {
			util_error(cause, "pre-tokenizer: empty match at byte %zu",
			    (size_t)ov[0]);
			goto fail;
		}
		ends[n++] = ov[1];
		pos = ov[1];
	}
	pcre2_match_data_free(md);
	free(copy);
	*endsp = ends;
	*np = n;
	return 0;

oom:
	util_error(cause, "pre-tokenizer: out of memory");
fail:
	pcre2_match_data_free(md);
	free(copy);
	free(ends);
	return -1;
}
