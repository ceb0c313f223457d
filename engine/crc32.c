/*
 * crc32.c: CRC-32 (IEEE), the checksum of the model and optimizer files
 * (engine/checkpoint.h describes where it is used, engine/crc32.h the CRC).
 *
 * How this works. crc32_update runs the bulk of a buffer through carry-less
 * multiplication (PCLMULQDQ) where the CPU has it, else eight bytes at a time
 * through slice-by-8 tables built once (pthread_once) from the byte table,
 * and the ragged ends a byte at a time. crc32_concat joins the CRCs of two
 * adjacent pieces without reading them again, which lets crc32_pool split a
 * large buffer across the worker pool (engine/pool.h) and engine/checkpoint.c
 * assemble a file's CRC from its sections' CRCs.
 */
#include "config.h"

#include <pthread.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif
#include <stddef.h>
#include <stdint.h>

#include "crc32.h"
#include "pool.h"

/* CRC-32 table for the reflected IEEE polynomial 0xedb88320. */
static const uint32_t crc32_table[256] = {
	0x00000000U, 0x77073096U, 0xee0e612cU, 0x990951baU, 0x076dc419U, 0x706af48fU,
	0xe963a535U, 0x9e6495a3U, 0x0edb8832U, 0x79dcb8a4U, 0xe0d5e91eU, 0x97d2d988U,
	0x09b64c2bU, 0x7eb17cbdU, 0xe7b82d07U, 0x90bf1d91U, 0x1db71064U, 0x6ab020f2U,
	0xf3b97148U, 0x84be41deU, 0x1adad47dU, 0x6ddde4ebU, 0xf4d4b551U, 0x83d385c7U,
	0x136c9856U, 0x646ba8c0U, 0xfd62f97aU, 0x8a65c9ecU, 0x14015c4fU, 0x63066cd9U,
	0xfa0f3d63U, 0x8d080df5U, 0x3b6e20c8U, 0x4c69105eU, 0xd56041e4U, 0xa2677172U,
	0x3c03e4d1U, 0x4b04d447U, 0xd20d85fdU, 0xa50ab56bU, 0x35b5a8faU, 0x42b2986cU,
	0xdbbbc9d6U, 0xacbcf940U, 0x32d86ce3U, 0x45df5c75U, 0xdcd60dcfU, 0xabd13d59U,
	0x26d930acU, 0x51de003aU, 0xc8d75180U, 0xbfd06116U, 0x21b4f4b5U, 0x56b3c423U,
	0xcfba9599U, 0xb8bda50fU, 0x2802b89eU, 0x5f058808U, 0xc60cd9b2U, 0xb10be924U,
	0x2f6f7c87U, 0x58684c11U, 0xc1611dabU, 0xb6662d3dU, 0x76dc4190U, 0x01db7106U,
	0x98d220bcU, 0xefd5102aU, 0x71b18589U, 0x06b6b51fU, 0x9fbfe4a5U, 0xe8b8d433U,
	0x7807c9a2U, 0x0f00f934U, 0x9609a88eU, 0xe10e9818U, 0x7f6a0dbbU, 0x086d3d2dU,
	0x91646c97U, 0xe6635c01U, 0x6b6b51f4U, 0x1c6c6162U, 0x856530d8U, 0xf262004eU,
	0x6c0695edU, 0x1b01a57bU, 0x8208f4c1U, 0xf50fc457U, 0x65b0d9c6U, 0x12b7e950U,
	0x8bbeb8eaU, 0xfcb9887cU, 0x62dd1ddfU, 0x15da2d49U, 0x8cd37cf3U, 0xfbd44c65U,
	0x4db26158U, 0x3ab551ceU, 0xa3bc0074U, 0xd4bb30e2U, 0x4adfa541U, 0x3dd895d7U,
	0xa4d1c46dU, 0xd3d6f4fbU, 0x4369e96aU, 0x346ed9fcU, 0xad678846U, 0xda60b8d0U,
	0x44042d73U, 0x33031de5U, 0xaa0a4c5fU, 0xdd0d7cc9U, 0x5005713cU, 0x270241aaU,
	0xbe0b1010U, 0xc90c2086U, 0x5768b525U, 0x206f85b3U, 0xb966d409U, 0xce61e49fU,
	0x5edef90eU, 0x29d9c998U, 0xb0d09822U, 0xc7d7a8b4U, 0x59b33d17U, 0x2eb40d81U,
	0xb7bd5c3bU, 0xc0ba6cadU, 0xedb88320U, 0x9abfb3b6U, 0x03b6e20cU, 0x74b1d29aU,
	0xead54739U, 0x9dd277afU, 0x04db2615U, 0x73dc1683U, 0xe3630b12U, 0x94643b84U,
	0x0d6d6a3eU, 0x7a6a5aa8U, 0xe40ecf0bU, 0x9309ff9dU, 0x0a00ae27U, 0x7d079eb1U,
	0xf00f9344U, 0x8708a3d2U, 0x1e01f268U, 0x6906c2feU, 0xf762575dU, 0x806567cbU,
	0x196c3671U, 0x6e6b06e7U, 0xfed41b76U, 0x89d32be0U, 0x10da7a5aU, 0x67dd4accU,
	0xf9b9df6fU, 0x8ebeeff9U, 0x17b7be43U, 0x60b08ed5U, 0xd6d6a3e8U, 0xa1d1937eU,
	0x38d8c2c4U, 0x4fdff252U, 0xd1bb67f1U, 0xa6bc5767U, 0x3fb506ddU, 0x48b2364bU,
	0xd80d2bdaU, 0xaf0a1b4cU, 0x36034af6U, 0x41047a60U, 0xdf60efc3U, 0xa867df55U,
	0x316e8eefU, 0x4669be79U, 0xcb61b38cU, 0xbc66831aU, 0x256fd2a0U, 0x5268e236U,
	0xcc0c7795U, 0xbb0b4703U, 0x220216b9U, 0x5505262fU, 0xc5ba3bbeU, 0xb2bd0b28U,
	0x2bb45a92U, 0x5cb36a04U, 0xc2d7ffa7U, 0xb5d0cf31U, 0x2cd99e8bU, 0x5bdeae1dU,
	0x9b64c2b0U, 0xec63f226U, 0x756aa39cU, 0x026d930aU, 0x9c0906a9U, 0xeb0e363fU,
	0x72076785U, 0x05005713U, 0x95bf4a82U, 0xe2b87a14U, 0x7bb12baeU, 0x0cb61b38U,
	0x92d28e9bU, 0xe5d5be0dU, 0x7cdcefb7U, 0x0bdbdf21U, 0x86d3d2d4U, 0xf1d4e242U,
	0x68ddb3f8U, 0x1fda836eU, 0x81be16cdU, 0xf6b9265bU, 0x6fb077e1U, 0x18b74777U,
	0x88085ae6U, 0xff0f6a70U, 0x66063bcaU, 0x11010b5cU, 0x8f659effU, 0xf862ae69U,
	0x616bffd3U, 0x166ccf45U, 0xa00ae278U, 0xd70dd2eeU, 0x4e048354U, 0x3903b3c2U,
	0xa7672661U, 0xd06016f7U, 0x4969474dU, 0x3e6e77dbU, 0xaed16a4aU, 0xd9d65adcU,
	0x40df0b66U, 0x37d83bf0U, 0xa9bcae53U, 0xdebb9ec5U, 0x47b2cf7fU, 0x30b5ffe9U,
	0xbdbdf21cU, 0xcabac28aU, 0x53b39330U, 0x24b4a3a6U, 0xbad03605U, 0xcdd70693U,
	0x54de5729U, 0x23d967bfU, 0xb3667a2eU, 0xc4614ab8U, 0x5d681b02U, 0x2a6f2b94U,
	0xb40bbe37U, 0xc30c8ea1U, 0x5a05df1bU, 0x2d02ef8dU,
};

/* Slice-by-8: crc32_slice[k][b] is crc32_table[b] advanced over k more zero bytes. */
static uint32_t crc32_slice[8][256];
static pthread_once_t crc32_once = PTHREAD_ONCE_INIT;
static int crc32_has_clmul; /* the CPU has PCLMULQDQ and SSE4.1 */

/* Fill the slice-by-8 tables from the byte table. */
static void
crc32_init(void)
{
	for (int b = 0; b < 256; b++) {
		uint32_t c = crc32_table[b];

		crc32_slice[0][b] = c;
		for (int k = 1; k < 8; k++) {
			c = crc32_table[c & 0xff] ^ (c >> 8);
			crc32_slice[k][b] = c;
		}
	}
#ifdef __x86_64__
	__builtin_cpu_init();
	crc32_has_clmul = __builtin_cpu_supports("pclmul") &&
	    __builtin_cpu_supports("sse4.1");
#endif
}

#if defined(__x86_64__) && defined(__GNUC__)
#define CRC32_HAVE_CLMUL 1
/*
 * The raw CRC register (no inversions) after n bytes (n >= 64, a multiple
 * of 16) with carry-less multiplication: the 128-bit folding of Intel's
 * "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ" (Gopal et
 * al., 2009) for the reflected IEEE polynomial. Four 128-bit lanes are folded
 * over 64 bytes at a time (multiplying by x^(512+64) and x^512 mod P, the
 * constants k1, k2), then into one (k3, k4, by x^(128+64) and x^128), then
 * 128 bits are reduced to 64 (k5) and to 32 by Barrett reduction (P and
 * mu = x^64 / P). The constants are the paper's, each x^k mod P
 * bit-reflected and shifted left by one.
 */
__attribute__((target("pclmul,sse4.1")))
static uint32_t
crc32_clmul(uint32_t crc, const uint8_t *p, size_t n)
{
	const __m128i k1k2 = _mm_set_epi64x(0x01c6e41596LL, 0x0154442bd4LL);
	const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009eLL, 0x01751997d0LL);
	const __m128i k5 = _mm_set_epi64x(0, 0x0163cd6124LL);
	const __m128i pmu = _mm_set_epi64x(0x01f7011641LL, 0x01db710641LL);
	const __m128i mask32 = _mm_setr_epi32(~0, 0, ~0, 0);
	__m128i x1, x2, x3, x4, t1, t2, t3, t4;

	x1 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)p),
	    _mm_cvtsi32_si128((int)crc));
	x2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
	x3 = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
	x4 = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));
	p += 64;
	n -= 64;
	while (n >= 64) {
		t1 = _mm_clmulepi64_si128(x1, k1k2, 0x00);
		t2 = _mm_clmulepi64_si128(x2, k1k2, 0x00);
		t3 = _mm_clmulepi64_si128(x3, k1k2, 0x00);
		t4 = _mm_clmulepi64_si128(x4, k1k2, 0x00);
		x1 = _mm_clmulepi64_si128(x1, k1k2, 0x11);
		x2 = _mm_clmulepi64_si128(x2, k1k2, 0x11);
		x3 = _mm_clmulepi64_si128(x3, k1k2, 0x11);
		x4 = _mm_clmulepi64_si128(x4, k1k2, 0x11);
		x1 = _mm_xor_si128(_mm_xor_si128(x1, t1),
		    _mm_loadu_si128((const __m128i *)(const void *)p));
		x2 = _mm_xor_si128(_mm_xor_si128(x2, t2),
		    _mm_loadu_si128((const __m128i *)(const void *)(p + 16)));
		x3 = _mm_xor_si128(_mm_xor_si128(x3, t3),
		    _mm_loadu_si128((const __m128i *)(const void *)(p + 32)));
		x4 = _mm_xor_si128(_mm_xor_si128(x4, t4),
		    _mm_loadu_si128((const __m128i *)(const void *)(p + 48)));
		p += 64;
		n -= 64;
	}
	/* Four lanes into one. */
	t1 = _mm_clmulepi64_si128(x1, k3k4, 0x00);
	x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k3k4, 0x11), t1), x2);
	t1 = _mm_clmulepi64_si128(x1, k3k4, 0x00);
	x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k3k4, 0x11), t1), x3);
	t1 = _mm_clmulepi64_si128(x1, k3k4, 0x00);
	x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k3k4, 0x11), t1), x4);
	while (n >= 16) {
		t1 = _mm_clmulepi64_si128(x1, k3k4, 0x00);
		x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k3k4, 0x11), t1),
		    _mm_loadu_si128((const __m128i *)(const void *)p));
		p += 16;
		n -= 16;
	}
	/* 128 bits to 64. */
	t1 = _mm_clmulepi64_si128(x1, k3k4, 0x10);
	x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), t1);
	t1 = _mm_srli_si128(x1, 4);
	x1 = _mm_and_si128(x1, mask32);
	x1 = _mm_xor_si128(_mm_clmulepi64_si128(x1, k5, 0x00), t1);
	/* Barrett reduction to 32 bits. */
	t1 = _mm_and_si128(x1, mask32);
	t1 = _mm_clmulepi64_si128(t1, pmu, 0x10);
	t1 = _mm_and_si128(t1, mask32);
	t1 = _mm_clmulepi64_si128(t1, pmu, 0x00);
	x1 = _mm_xor_si128(x1, t1);
	return (uint32_t)_mm_extract_epi32(x1, 1);
}
#endif

/*
 * CRC-32 (IEEE): with carry-less multiplication where the CPU has it (about
 * 10 GB/s: a 124M model's 498 MB in a twentieth of a second), else eight
 * bytes at a time (slice-by-8: each input byte's effect on the register
 * after the remaining bytes of the group comes from its own table, about
 * 1 GB/s); the ragged ends one byte at a time.
 */
uint32_t
crc32_update(uint32_t crc, const void *buf, size_t n)
{
	const uint32_t (*t)[256] = crc32_slice;
	const uint8_t *p = buf;

	pthread_once(&crc32_once, crc32_init);
	crc = ~crc;
#ifdef CRC32_HAVE_CLMUL
	if (n >= 256 && crc32_has_clmul) {
		size_t m = n & ~(size_t)15;

		crc = crc32_clmul(crc, p, m);
		p += m;
		n -= m;
	}
#endif
	while (n > 0 && ((uintptr_t)p & 7) != 0) {
		crc = crc32_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
		n--;
	}
	for (; n >= 8; n -= 8, p += 8) {
		uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
		    (uint32_t)p[7] << 24;

		crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^
		    t[4][lo >> 24] ^ t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^
		    t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
	}
	while (n-- > 0)
		crc = crc32_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/*
 * a(x) * b(x) modulo the CRC polynomial, both in the reflected bit order the
 * CRC register uses (bit 31 is the coefficient of x^0).
 */
static uint32_t
crc32_mulmod(uint32_t a, uint32_t b)
{
	uint32_t prod = 0;

	for (uint32_t bit = 1U << 31; bit != 0; bit >>= 1) {
		if (a & bit)
			prod ^= b;
		b = (b & 1) ? (b >> 1) ^ 0xedb88320U : b >> 1; /* b *= x */
	}
	return prod;
}

/*
 * CRC-32 of A followed by B from crc_a, crc_b and B's length. The CRC is
 * linear over GF(2) and the initial and final inversions cancel, so
 * crc(AB) = crc(A) * x^(8 len_b) mod P xor crc(B); x^(8 len_b) comes from
 * squaring x^8 once per bit of len_b.
 */
uint32_t
crc32_concat(uint32_t crc_a, uint32_t crc_b, uint64_t len_b)
{
	uint32_t power = 1U << 23, shift = 1U << 31; /* x^8 and x^0 */

	for (; len_b != 0; len_b >>= 1) {
		if (len_b & 1)
			shift = crc32_mulmod(shift, power);
		power = crc32_mulmod(power, power);
	}
	return crc32_mulmod(crc_a, shift) ^ crc_b;
}

/* A CRC of a large buffer in parallel: each task's part, combined in order. */
#define CRC32_TASKS 16
struct crc32_job {
	const uint8_t *p;
	size_t n;
	uint32_t crc[CRC32_TASKS];
	size_t len[CRC32_TASKS];
};

/* One task's part of a crc32_job. */
static void
crc32_task(void *arg, int task, int ntasks)
{
	struct crc32_job *j = arg;
	long first, last;

	pool_range((long)j->n, task, ntasks, &first, &last);
	j->crc[task] = crc32_update(0, j->p + first, (size_t)(last - first));
	j->len[task] = (size_t)(last - first);
}

/*
 * CRC-32 of n bytes on the worker pool (a 124M model's PARM is 498 MB):
 * the parts' CRCs are joined with crc32_concat.
 */
uint32_t
crc32_pool(const uint8_t *p, size_t n)
{
	struct crc32_job j;
	int ntasks = pool_threads();
	uint32_t crc;

	if (ntasks > CRC32_TASKS)
		ntasks = CRC32_TASKS;
	if (ntasks < 2 || n < ((size_t)1 << 22))
		return crc32_update(0, p, n);
	j.p = p;
	j.n = n;
	pool_run(crc32_task, &j, ntasks);
	crc = j.crc[0];
	for (int i = 1; i < ntasks; i++)
		crc = crc32_concat(crc, j.crc[i], j.len[i]);
	return crc;
}
