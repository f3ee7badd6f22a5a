// Elementwise kernels for the activation/bias steps around convolutions (memory bound, OpenMP over
// fixed blocks of independent outputs: thread-count independent).
#pragma once
#include <cstdint>

namespace engram {

// out[r, j] = a[r, j] + b[j] (b has cols values; cols == n for a same-shape add with rows == 1).
void BiasAdd(const float* a, const float* b, float* out, int64_t rows, int64_t cols);
// out = max(0, x) as JavaScript's Math.max(0, x) (the tfjs cpu relu): NaN stays NaN, -0 becomes +0.
void Relu(const float* x, float* out, int64_t n);
// out = dy · step(x): dy where x > 0, dy · 0 elsewhere, NaN where x is NaN (tfjs's relu gradient).
void ReluGrad(const float* dy, const float* x, float* out, int64_t n);

}  // namespace engram

namespace engram {

// The binary operations of BinaryBroadcast, as tfjs-backend-wasm computes them in float32.
enum BinaryOp : int { kOpAdd = 0, kOpSub = 1, kOpMul = 2, kOpDiv = 3, kOpSquaredDifference = 4 };

// How an operand of BinaryBroadcast is laid out against the rows x cols output: a full tensor, one
// row repeated for every row (a bias over the last axis), or one value.
enum Broadcast : int { kFull = 0, kRow = 1, kScalar = 2 };

// out[r, j] = op(a at (r, j), b at (r, j)) with a and b laid out as aMode and bMode.
void BinaryBroadcast(int op, const float* a, int aMode, const float* b, int bMode, float* out, int64_t rows,
                     int64_t cols);

}  // namespace engram
