// The addon's own OpenMP loops (im2col, col2im, direct convs, pooling, elementwise) run on
// OpenBLAS's libgomp pool with OpenBLAS's thread count. Every parallel loop writes disjoint outputs
// or reduces per-chunk partial sums in chunk order, with chunk sizes that do not depend on the
// thread count: results are bit-identical for any number of threads.
#pragma once
#include <cstdint>
#include <vector>

#include "blas-loader.h"

namespace engram {

// Threads for the addon's parallel loops: OpenBLAS's count (1 when it is not loaded).
inline int Threads() {
  const int n = LoadBlas().threads;
  return n > 0 ? n : 1;
}

// Below this many floats of work an OpenMP fork costs more than it saves.
constexpr int64_t kParallelMinFloats = 1 << 15;

// A per-thread scratch buffer of at least n floats (libgomp keeps its threads, so it is reused).
inline float* ThreadScratch(size_t n) {
  static thread_local std::vector<float> scratch;
  if (scratch.size() < n) scratch.resize(n);
  return scratch.data();
}

}  // namespace engram
