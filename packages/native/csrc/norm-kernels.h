// Batch normalisation and axis reductions for the reduced ResNet-18 (issue #32): every loop keeps the
// float32 operation order of tfjs-backend-wasm's kernels and of tfjs's batch-norm gradient, and sums
// each output in the order of its inputs (one thread per output), so results are bit-identical to the
// stock kernels for any thread count.
#pragma once
#include <cstdint>

namespace engram {

// out[r, c] = offset[c] + (x[r, c] - mean[c]) * scale[c] / sqrt(variance[c] + epsilon), as wasm's
// FusedBatchNorm rounds it (the product in float32, the division and addition in double, one rounding);
// x is rows x cols, the four parameters have cols values each.
void BatchNorm(const float* x, const float* mean, const float* variance, const float* offset, const float* scale,
               float epsilon, float* out, int64_t rows, int64_t cols);

// The per-channel parameters of the batch-norm gradient, each of cols values, computed by the caller
// with tfjs ops exactly as tfjs's FusedBatchNorm gradient does.
struct BatchNormGradParams {
  const float* mean;
  const float* scale;
  const float* inv;           // rsqrt(variance + epsilon)
  const float* negInv;        // inv * -1
  const float* minusHalfCube; // inv * inv * inv * -0.5
};

// Outputs of the batch-norm gradient (any may be nullptr: not computed).
struct BatchNormGradOut {
  float* dx;      // rows x cols: (dy * inv) * scale
  float* dMean;   // Σ_r negInv · (dy · scale)
  float* dVar;    // Σ_r (minusHalfCube · (x − mean)) · (dy · scale)
  float* dScale;  // Σ_r dy · ((x − mean) · inv)
  float* dOffset; // Σ_r dy
};

// tfjs's FusedBatchNorm gradient for per-channel (rank-1) parameters in one pass over x and dy; the
// sums run over rows in order, as tfjs's Sum over the leading axes.
void BatchNormGrad(const float* x, const float* dy, const BatchNormGradParams& p, const BatchNormGradOut& out,
                   int64_t rows, int64_t cols);

// out[o, i] = Σ_r x[o, r, i] over r in order (x is outer x reduce x inner), divided by (float)reduce
// when `mean` (wasm's Mean: the float sum, then one division).
void ReduceMiddle(const float* x, float* out, int64_t outer, int64_t reduce, int64_t inner, bool mean);

}  // namespace engram
