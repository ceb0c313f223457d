/* json.c: JSON string escaping (lossless for arbitrary bytes) and numbers. */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>

#include "json.h"

/* Length of the valid UTF-8 sequence at p (n bytes left), or 0 if invalid. */
size_t
json_utf8_len(const unsigned char *p, size_t n)
{
	uint32_t cp;
	size_t len;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* Quoted, escaped JSON string. */
void
json_string(FILE *f, const void *bytes, size_t len)
{
	const uint8_t *p = bytes;
	size_t i = 0;

	fputc('"', f);
	while (i < len) {
		size_t k = json_utf8_len(p + i, len - i);
		if (k == 0) {
			fprintf(f, "\\u%04x", p[i]);
			i++;
			continue;
		}
		if (k > 1) {
			fwrite(p + i, 1, k, f);
			i += k;
			continue;
		}
		switch (p[i]) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (p[i] < 0x20 || p[i] == 0x7f)
				fprintf(f, "\\u%04x", p[i]);
			else
				fputc(p[i], f);
		}
		i++;
	}
	fputc('"', f);
}

/* A whole number, every digit (a double keeps only 53 bits of a 64-bit seed). */
void
json_int(FILE *f, int64_t v)
{
	fprintf(f, "%" PRId64, v);
}

/* A number, or null. */
void
json_number(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.17g", v);
	else
		fputs("null", f);
}
