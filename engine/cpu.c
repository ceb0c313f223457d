/*
 * cpu.c: CPU features (cpuid plus the OS's XCR0), the OpenBLAS core in use,
 * a BLAS self-check against naive loops, and the BLAS thread count.
 *
 * A feature counts only when both the CPU reports it and the OS saves the
 * registers it needs on a context switch (XCR0 via xgetbv, Intel SDM vol. 1
 * section 13.3): YMM state for AVX2, opmask and ZMM state for AVX-512.
 */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cblas.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define CPU_X86 1
#endif

#include "cpu.h"
#include "rng.h"
#include "util.h"

/* XCR0: SSE and AVX (YMM upper halves) state. */
#define CPU_XCR0_YMM 0x06u
/* XCR0: opmask, ZMM0-15 upper halves and ZMM16-31 state. */
#define CPU_XCR0_ZMM 0xe0u

/* Feature bits this file looks at. */
struct cpu_features {
	int avx2, fma, avx512f, avx512dq, avx512bw, avx512vl;
	int avx512vnni, avx512bf16; /* the dot-product instructions of engine/quant.c */
};

#ifdef CPU_X86
/* Read XCR0 (only valid when CPUID reports OSXSAVE). */
static unsigned long long
cpu_xgetbv0(void)
{
	unsigned int lo, hi;

	__asm__ volatile ("xgetbv" : "=a" (lo), "=d" (hi) : "c" (0));
	return ((unsigned long long)hi << 32) | lo;
}
#endif

/*
 * Query the features (cpu_features keeps the first answer). Each CPUID in a
 * virtual machine is a trip to the hypervisor: bench_argmax asked for every
 * token it timed, and those queries had 0.6% of the samples of `perf record`
 * of q8 decoding (tests/bench/decode-bench, 2-vCPU Intel Xeon).
 */
static void
cpu_features_query(struct cpu_features *f)
{
	memset(f, 0, sizeof *f);
#ifdef CPU_X86
	unsigned int eax, ebx, ecx, edx, max;
	unsigned long long xcr0;
	int ymm, zmm;

	max = __get_cpuid_max(0, NULL);
	if (max < 1 || !__get_cpuid(1, &eax, &ebx, &ecx, &edx))
		return;
	if (!(ecx & bit_OSXSAVE) || !(ecx & bit_AVX))
		return;
	xcr0 = cpu_xgetbv0();
	ymm = (xcr0 & CPU_XCR0_YMM) == CPU_XCR0_YMM;
	zmm = ymm && (xcr0 & CPU_XCR0_ZMM) == CPU_XCR0_ZMM;
	if (!ymm)
		return;
	f->fma = (ecx & bit_FMA) != 0;

	if (max < 7 || !__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
		return;
	f->avx2 = (ebx & (1u << 5)) != 0;
	if (!zmm)
		return;
	f->avx512f = (ebx & (1u << 16)) != 0;
	f->avx512dq = (ebx & (1u << 17)) != 0;
	f->avx512bw = (ebx & (1u << 30)) != 0;
	f->avx512vl = (ebx & (1u << 31)) != 0;
	f->avx512vnni = (ecx & (1u << 11)) != 0;
	/* Leaf 7 subleaf 1, EAX bit 5: AVX512_BF16 (Intel SDM vol. 2, CPUID). */
	if (eax >= 1 && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx))
		f->avx512bf16 = (eax & (1u << 5)) != 0;
#endif
}

static struct cpu_features cpu_feat;
static pthread_once_t cpu_feat_once = PTHREAD_ONCE_INIT;

/* Fill cpu_feat (once). */
static void
cpu_features_init(void)
{
	cpu_features_query(&cpu_feat);
}

/* The features, queried on the first call only. */
static void
cpu_features(struct cpu_features *f)
{
	pthread_once(&cpu_feat_once, cpu_features_init);
	*f = cpu_feat;
}

/* AVX2, usable (CPU and OS). */
int
cpu_has_avx2(void)
{
	struct cpu_features f;

	cpu_features(&f);
	return f.avx2;
}

/* AVX-512 Foundation, usable (CPU and OS). */
int
cpu_has_avx512(void)
{
	struct cpu_features f;

	cpu_features(&f);
	return f.avx512f;
}

/* AVX-512 with byte/word instructions and VNNI (vpdpbusd), usable. */
int
cpu_has_avx512_vnni(void)
{
	struct cpu_features f;

	cpu_features(&f);
	return f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni;
}

/* AVX-512 with byte/word instructions and BF16 (vdpbf16ps), usable. */
int
cpu_has_avx512_bf16(void)
{
	struct cpu_features f;

	cpu_features(&f);
	return f.avx512f && f.avx512bw && f.avx512vl && f.avx512bf16;
}

/* AVX-512 Foundation and byte/word instructions, usable. */
int
cpu_has_avx512_bw(void)
{
	struct cpu_features f;

	cpu_features(&f);
	return f.avx512f && f.avx512bw && f.avx512vl;
}

/* AVX2 with FMA, usable. */
int
cpu_has_avx2_fma(void)
{
	struct cpu_features f;

	cpu_features(&f);
	return f.avx2 && f.fma;
}

/* The core OpenBLAS picked (or was told to use through OPENBLAS_CORETYPE). */
const char *
cpu_blas_core(void)
{
	return openblas_get_corename();
}

/*
 * Whether name is a pre-AVX core of OpenBLAS's DYNAMIC_ARCH list. 0.3.21
 * reports "Prescott" for Intel CPUs it does not know (OpenBLAS issue 4267),
 * whatever they support; the others are old cores it can also land on.
 */
int
cpu_core_is_generic(const char *name)
{
	static const char *const generic[] = {
		"Unknown", "Generic", "Katmai", "Coppermine", "Northwood",
		"Prescott", "Banias", "Atom", "Core2", "Penryn", "Dunnington",
		"Nehalem", "Athlon", "Opteron", "Opteron(SSE3)", "Barcelona",
		"Nano", "Bobcat",
	};

	if (name == NULL)
		return 0;
	for (size_t i = 0; i < sizeof generic / sizeof generic[0]; i++)
		if (strcasecmp(name, generic[i]) == 0)
			return 1;
	return 0;
}

/* The best OPENBLAS_CORETYPE for this CPU and OS, or NULL. */
const char *
cpu_best_coretype(void)
{
	struct cpu_features f;

	cpu_features(&f);
	/* OpenBLAS's SkylakeX kernels use BW, DQ and VL instructions too. */
	if (f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl)
		return "SkylakeX";
	if (f.avx2 && f.fma)
		return "Haswell";
	return NULL;
}

/* Largest |got - ref| / scale over n entries; *at gets its index. */
static double
cpu_maxrel(const float *got, const double *ref, const double *scale, size_t n,
    size_t *at)
{
	double worst = 0;

	*at = 0;
	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)got[i] - ref[i]) / (scale[i] > 0 ? scale[i] : 1);
		if (!(d <= worst)) {
			worst = isnan(d) ? INFINITY : d;
			*at = i;
		}
	}
	return worst;
}

/*
 * sgemm (M,K) x (N,K)^T in row-major NoTrans/Trans and sgemv (M,K) x (K) against
 * double loops. The error of each entry is relative to sum |a||b|, the scale
 * of its rounding error.
 */
int
cpu_blas_selfcheck(char **cause)
{
	enum { M = 67, N = 45, K = 53 };
	float *a, *b, *c, *x, *y;
	double *ref, *scale, worst;
	struct rng rng;
	size_t at;
	int rc = -1;

	a = malloc(sizeof(float) * M * K);
	b = malloc(sizeof(float) * N * K);
	c = malloc(sizeof(float) * M * N);
	x = malloc(sizeof(float) * K);
	y = malloc(sizeof(float) * M);
	ref = malloc(sizeof(double) * M * N);
	scale = malloc(sizeof(double) * M * N);
	if (a == NULL || b == NULL || c == NULL || x == NULL || y == NULL ||
	    ref == NULL || scale == NULL) {
		util_error(cause, "BLAS self-check: out of memory");
		goto out;
	}

	rng_init(&rng, 12345);
	for (int i = 0; i < M * K; i++)
		a[i] = rng_float(&rng) * 2 - 1;
	for (int i = 0; i < N * K; i++)
		b[i] = rng_float(&rng) * 2 - 1;
	for (int i = 0; i < K; i++)
		x[i] = rng_float(&rng) * 2 - 1;

	/* C (M,N) = A (M,K) B (N,K)^T */
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f,
	    a, K, b, K, 0.0f, c, N);
	for (int i = 0; i < M; i++) {
		for (int j = 0; j < N; j++) {
			double s = 0, sa = 0;
			for (int k = 0; k < K; k++) {
				s += (double)a[i * K + k] * b[j * K + k];
				sa += fabs((double)a[i * K + k] * b[j * K + k]);
			}
			ref[i * N + j] = s;
			scale[i * N + j] = sa;
		}
	}
	worst = cpu_maxrel(c, ref, scale, (size_t)M * N, &at);
	if (!(worst <= 1e-4)) {
		util_error(cause, "BLAS self-check (core %s): sgemm %dx%dx%d differs "
		    "from the naive product by %g (relative) at (%zu, %zu)",
		    cpu_blas_core(), M, N, K, worst, at / N, at % N);
		goto out;
	}

	/* y (M) = A (M,K) x (K) */
	cblas_sgemv(CblasRowMajor, CblasNoTrans, M, K, 1.0f, a, K, x, 1, 0.0f, y, 1);
	for (int i = 0; i < M; i++) {
		double s = 0, sa = 0;
		for (int k = 0; k < K; k++) {
			s += (double)a[i * K + k] * x[k];
			sa += fabs((double)a[i * K + k] * x[k]);
		}
		ref[i] = s;
		scale[i] = sa;
	}
	worst = cpu_maxrel(y, ref, scale, M, &at);
	if (!(worst <= 1e-4)) {
		util_error(cause, "BLAS self-check (core %s): sgemv %dx%d differs "
		    "from the naive product by %g (relative) at %zu",
		    cpu_blas_core(), M, K, worst, at);
		goto out;
	}
	rc = 0;

out:
	free(a);
	free(b);
	free(c);
	free(x);
	free(y);
	free(ref);
	free(scale);
	return rc;
}

/* Set the BLAS thread count (at least 1). */
void
cpu_set_threads(int n)
{
	openblas_set_num_threads(n < 1 ? 1 : n);
}

/* The BLAS thread count. */
int
cpu_threads(void)
{
	return openblas_get_num_threads();
}

/* Online processors (at least 1). */
int
cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : (int)n;
}
