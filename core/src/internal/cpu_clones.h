// prnanomaly core internals: function multi-versioning for the hand-vectorised
// CPU loops of the ops (cpu/ kernels).
//
// PRN_CPU_CLONES before a function makes GCC compile it three times, for
// x86-64-v4 (AVX-512), x86-64-v3 (AVX2, FMA) and the baseline, and pick one
// when the library loads, from the CPU it runs on (an ifunc): the library still
// runs on any x86-64 and nothing is configured at build time. One machine
// always runs the same version, so a kernel whose summation order is fixed
// gives the same bits for any thread count there; between machines with
// different vector units the last bits may differ (the AVX2 and AVX-512
// versions contract a * b + c into one FMA). Other compilers and
// architectures: the baseline only.
//
// The marked function should hold its loops itself: a lambda or a helper that
// is not inlined is compiled for the baseline.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__)
#define PRN_CPU_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define PRN_CPU_CLONES
#endif
