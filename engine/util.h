/* util.h: error strings, checked allocation and size arithmetic for the engine. */
#ifndef SEQMATCH_UTIL_H
#define SEQMATCH_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Set *cause (if cause is not NULL) to a newly allocated message; always returns -1. */
int util_error(char **cause, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* a*b into *out; returns -1 on size_t overflow. */
int util_mul(size_t a, size_t b, size_t *out);
/* a+b into *out; returns -1 on size_t overflow. */
int util_add(size_t a, size_t b, size_t *out);

/* 64-byte aligned allocation of n bytes, zeroed; NULL on failure or overflow. */
void *util_alloc(size_t n);
/* The same, not zeroed and not touched: pages are used as they are first written. */
void *util_alloc_lazy(size_t n);
void util_free(void *p);

/*
 * Allocation-failure injection, for tests: after util_fail_alloc(n) (n >= 1)
 * the nth allocation by the engine from then on returns NULL (or -1), once
 * (0 turns it off); util_fail_alloc_hit() says whether it has happened. The
 * engine's malloc, calloc, realloc, strdup, asprintf and vasprintf calls go
 * through the util_ versions (the macros below, on when the engine is built:
 * Makefile.am defines UTIL_ALLOC_HOOKS for it), and so does util_alloc. Not
 * covered: libc's and OpenBLAS's own allocations (fopen, pthread_create), and
 * the messages util_error formats (an error must be able to say what it is).
 */
void util_fail_alloc(long n);
int util_fail_alloc_hit(void);
void *util_malloc(size_t n);
void *util_calloc(size_t n, size_t size);
void *util_realloc(void *p, size_t n);
char *util_strdup(const char *s);
int util_asprintf(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int util_vasprintf(char **out, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
#ifdef UTIL_ALLOC_HOOKS
/* Declared before the macros rename the calls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define malloc(n) util_malloc(n)
#define calloc(n, size) util_calloc(n, size)
#define realloc(p, n) util_realloc(p, n)
#define strdup(s) util_strdup(s)
#define asprintf(...) util_asprintf(__VA_ARGS__)
#define vasprintf(out, fmt, ap) util_vasprintf(out, fmt, ap)
#endif

/* Monotonic time in seconds. */
double util_now(void);
/* The value of a hexadecimal digit, or -1. */
int util_hex_digit(int c);
/* A random 64-bit id, never 0 (names a training run). */
uint64_t util_random_id(void);

/* 64-bit FNV-1a hash of a buffer, continuing from h (start with UTIL_FNV_INIT). */
#define UTIL_FNV_INIT 0xcbf29ce484222325ULL
uint64_t util_fnv1a(uint64_t h, const void *buf, size_t n);

/*
 * Read a whole file into a NUL-terminated buffer (limit: max bytes; 0 = none
 * for a regular file, UTIL_STREAM_MAX for a pipe or device). A directory is
 * refused as one.
 */
#define UTIL_STREAM_MAX ((size_t)1 << 30)
int util_read_file(const char *path, size_t max, char **buf, size_t *len, char **cause);

/*
 * Write buf to path atomically: a new file of that mode (umask applied) with a
 * unique name in path's directory, fsync, rename over path, fsync of the
 * directory. On any error (-1 with *cause) the temporary file is gone and no
 * descriptor is left open; path holds what it held before, unless only the
 * last step failed (the new content is there but may not survive a crash).
 */
int util_write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode,
    char **cause);

/* Diagnostics go through a callback the program installs (the engine never prints). */
enum util_log_level { UTIL_LOG_DEBUG, UTIL_LOG_INFO, UTIL_LOG_WARN, UTIL_LOG_ERROR };
typedef void (*util_log_fn)(enum util_log_level level, const char *msg, void *arg);
void util_log_set(util_log_fn fn, void *arg);
void util_log(enum util_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
