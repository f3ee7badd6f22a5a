// The bias + activation epilogue shared by the matmul and conv kernels (applied to rows in place).
#pragma once
#include <cstdint>

namespace engram {

enum Activation { kLinear = 0, kRelu = 1, kRelu6 = 2, kLeakyRelu = 3, kSigmoid = 4, kElu = 5 };

// What to apply after a GEMM: out[r, j] = act(out[r, j] + bias[j or 0]).
struct EpilogueArgs {
  const float* bias = nullptr;  // nullptr: no bias
  int64_t biasLen = 0;          // 1 (broadcast scalar) or the row length
  int act = kLinear;
  float alpha = 0.2f;           // leaky-relu slope
  bool Active() const { return bias != nullptr || act != kLinear; }
};

// Applies `e` to `rows` rows of length n starting at c.
void Epilogue(float* c, int64_t rows, int64_t n, const EpilogueArgs& e);

}  // namespace engram
