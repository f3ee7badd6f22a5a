// Batch normalisation in training as two fused kernels (issue #32): the forward pass computes the
// batch statistics and normalises; the backward pass gives dx and the scale and offset gradients.
// Channels last: x is rows x cols (cols = channels). Sums run in double over fixed row chunks whose
// partial sums are combined in chunk order, so results do not depend on the thread count.
#pragma once
#include <cstdint>

namespace engram {

// Outputs of the forward pass: y (rows x cols), and per channel (cols values each) the batch mean, the
// biased variance Σ(x − mean)² / rows and invStd = 1 / sqrt(variance + epsilon).
struct BatchNormTrainingOut {
  float* y;
  float* mean;
  float* variance;
  float* invStd;
};

// y = (x − mean) · invStd · scale + offset with the statistics of x's rows. The variance is two-pass
// per chunk (deviations from the chunk mean, in cache) and combined exactly about the batch mean; x is
// read twice from memory. rows and cols must be positive.
void BatchNormTraining(const float* x, const float* scale, const float* offset, double epsilon,
                       const BatchNormTrainingOut& out, int64_t rows, int64_t cols);

// Outputs of the backward pass: dx (rows x cols), dScale and dOffset (cols values each).
struct BatchNormTrainingGradOut {
  float* dx;
  float* dScale;
  float* dOffset;
};

// With xhat = (x − mean) · invStd: dOffset = Σ dy, dScale = Σ dy · xhat and
// dx = scale · invStd / rows · (rows · dy − dOffset − xhat · dScale); x and dy are read twice.
void BatchNormTrainingGrad(const float* dy, const float* x, const float* scale, const float* mean,
                           const float* invStd, const BatchNormTrainingGradOut& out, int64_t rows, int64_t cols);

}  // namespace engram
