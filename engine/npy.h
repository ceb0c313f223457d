/*
 * npy.h: NumPy .npy matrices: read a float32 or float64 (n, d) C-order array
 * as float32 rows, write float32 (n, d). The format is NumPy's NEP 1
 * ("A Simple File Format for NumPy Arrays"), versions 1.0, 2.0 and 3.0.
 * Every message names the file: "P.npy: unsupported dtype '<i8' (...)".
 */
#ifndef SEQMATCH_NPY_H
#define SEQMATCH_NPY_H

#include <stddef.h>

/* Header dictionaries longer than this are refused (NumPy's own limit is 10000). */
#define NPY_MAX_HEADER (1 << 20)

/*
 * Read path as an (n, d) matrix of float32 rows (*data: util_alloc'd, free
 * with util_free). The data length is checked against the file size before
 * anything is allocated. -1 with a message naming the file on error.
 */
int npy_read(const char *path, float **data, int *n, int *d, char **cause);

/* The same from a buffer holding a whole file; name is used in messages. */
int npy_read_mem(const void *buf, size_t len, const char *name, float **data, int *n,
    int *d, char **cause);

/* Write data (n, d) float32 as a version 1.0 .npy file, atomically. */
int npy_write(const char *path, const float *data, int n, int d, char **cause);

#endif
