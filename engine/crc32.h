/*
 * crc32.h: CRC-32, the IEEE 802.3 one (reflected polynomial 0xedb88320,
 * initial value and final xor 0xffffffff; "123456789" gives 0xcbf43926), as
 * the model and optimizer files use it (engine/checkpoint.h). Thread-safe:
 * the tables are built once, on first use.
 */
#ifndef SEQMATCH_CRC32_H
#define SEQMATCH_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32 of n bytes, continuing from crc (start with 0). */
uint32_t crc32_update(uint32_t crc, const void *buf, size_t n);
/* The CRC-32 of A then B from A's and B's CRCs and B's length. */
uint32_t crc32_concat(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);
/*
 * crc32_update(0, p, n), the same value computed in parts on the worker pool
 * (engine/pool.h) when it has at least 2 threads and n is at least 4 MiB.
 */
uint32_t crc32_pool(const uint8_t *p, size_t n);

#endif
