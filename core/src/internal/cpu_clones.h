// prnanomaly core internals: function multi-versioning for the hand-vectorised
// CPU loops of the ops (cpu/ kernels).
//
// PRN_CPU_CLONES before a function makes GCC compile it three times, for
// x86-64-v4 (AVX-512), x86-64-v3 (AVX2, FMA) and the baseline, and pick one
// when the library loads, from the CPU it runs on (an ifunc): the library still
// runs on any x86-64 and nothing is configured at build time. The loops it marks
// hold their partial sums in a fixed number of lanes and the project compiles
// with -std=c++20, where GCC does not contract a * b + c into an FMA
// (-ffp-contract=off), so every version computes bit-identical results.
// Other compilers and architectures: the baseline only.
//
// The marked function should hold its loops itself: a lambda or a helper that
// is not inlined is compiled for the baseline.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__)
#define PRN_CPU_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define PRN_CPU_CLONES
#endif
