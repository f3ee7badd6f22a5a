// Inner loops of the fused optimizer updates (optimizer-kernels.cc, penalty-blocks.h), one block at a
// time, compiled per instruction set (simd-clones.h). Operation order is tfjs's, in float32.
#pragma once
#include <cstdint>

namespace engram {

// Adam's constants for one step: beta1, 1-beta1, beta2, 1-beta2, 1-beta1^t, 1-beta2^t, epsilon, -lr.
struct AdamConstants {
  float b1, omb1, b2, omb2, omAcc1, omAcc2, eps, negLr;
};

// Adam on [0, len): m, v and p updated in place from the gradient g, as tfjs's AdamOptimizer.
void AdamRange(float* p, float* m, float* v, const float* g, int64_t len, const AdamConstants& c);

// One quadratic term on [0, len): buffer += scale · F · (θ − θ*), and lane[i mod 8] += F · (θ − θ*)²
// in double, element by element in index order (the tail after the last full 8 goes to lane[0]).
void PenaltyRange(float* buffer, const float* theta, const float* anchor, const float* fisher, float scale, double* lane,
                  int64_t len);

}  // namespace engram
