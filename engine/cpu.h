/*
 * cpu.h: what this CPU supports and which OpenBLAS kernels are in use.
 *
 * Debian 12's OpenBLAS 0.3.21 does not recognise recent Intel CPUs and falls
 * back to generic kernels; the program re-executes itself with
 * OPENBLAS_CORETYPE set (see app/main.c) using these helpers.
 */
#ifndef SEQMATCH_CPU_H
#define SEQMATCH_CPU_H

int cpu_has_avx2(void);
int cpu_has_avx512(void);
int cpu_has_avx2_fma(void);
/* AVX-512 F, BW and VL, usable. */
int cpu_has_avx512_bw(void);
/* AVX-512 F/BW/VL plus VNNI (vpdpbusd) or BF16 (vdpbf16ps). */
int cpu_has_avx512_vnni(void);
int cpu_has_avx512_bf16(void);
/* The OpenBLAS core name in use ("SkylakeX", "Prescott", ...). */
const char *cpu_blas_core(void);
/* Whether a core name is one of OpenBLAS's generic fallbacks on x86-64. */
int cpu_core_is_generic(const char *name);
/* The best OPENBLAS_CORETYPE for this CPU, or NULL when none is better than generic. */
const char *cpu_best_coretype(void);
/* Compare a small sgemm against a naive product; -1 with a message on mismatch. */
int cpu_blas_selfcheck(char **cause);
/* BLAS thread count. */
void cpu_set_threads(int n);
int cpu_threads(void);
int cpu_count(void);

#endif
