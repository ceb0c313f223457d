/* json.h: writing JSON strings and numbers for the commands' --json output. */
#ifndef SEQMATCH_JSON_H
#define SEQMATCH_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Write bytes as a quoted JSON string. Valid UTF-8 passes through; control
 * characters are escaped; each byte of an invalid UTF-8 sequence (a token
 * may hold part of a character) is written as \u00XX of that byte.
 */
void json_string(FILE *f, const void *bytes, size_t len);
/* Length of the valid UTF-8 sequence at p (n bytes left), or 0 if invalid there. */
size_t json_utf8_len(const unsigned char *p, size_t n);
/* Write a whole number as JSON, exactly (64-bit seeds: never through a double). */
void json_int(FILE *f, int64_t v);
/* Write a number as JSON, exactly (17 significant digits; null if not finite). */
void json_number(FILE *f, double v);

#endif
