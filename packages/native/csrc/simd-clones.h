// Function multiversioning for the element-wise kernels: a function marked ENGRAM_CLONES is compiled
// for AVX-512, AVX2 and baseline x86-64, and the loader picks the best one the CPU has. With no FMA
// contraction (-ffp-contract=off) and per-lane IEEE arithmetic only (add, mul, div, sqrt are correctly
// rounded in every instruction set), every variant gives the same bits.
// Other architectures (aarch64) build one generic variant.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#define ENGRAM_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ENGRAM_CLONES
#endif
