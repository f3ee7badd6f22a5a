#include "update-loops.h"

#include <cmath>

#include "simd-clones.h"

namespace engram {

ENGRAM_CLONES void AdamRange(float* __restrict p, float* __restrict m, float* __restrict v, const float* __restrict g,
                             int64_t len, const AdamConstants& c) {
  const float b1 = c.b1, omb1 = c.omb1, b2 = c.b2, omb2 = c.omb2;
  const float omAcc1 = c.omAcc1, omAcc2 = c.omAcc2, eps = c.eps, negLr = c.negLr;
#pragma GCC ivdep
  for (int64_t i = 0; i < len; ++i) {
    const float gi = g[i];
    const float mi = m[i] * b1 + gi * omb1;
    const float vi = v[i] * b2 + (gi * gi) * omb2;
    m[i] = mi;
    v[i] = vi;
    const float mHat = mi / omAcc1, vHat = vi / omAcc2;
    p[i] = (mHat / (std::sqrt(vHat) + eps)) * negLr + p[i];
  }
}

ENGRAM_CLONES void PenaltyRange(float* __restrict buffer, const float* __restrict theta, const float* __restrict anchor,
                                const float* __restrict fisher, float scale, double* __restrict lane, int64_t len) {
  double acc[8];
  for (int l = 0; l < 8; ++l) acc[l] = lane[l];
  int64_t i = 0;
  for (; i + 8 <= len; i += 8) {
    for (int l = 0; l < 8; ++l) {
      const float d = theta[i + l] - anchor[i + l];
      const float fd = fisher[i + l] * d;
      buffer[i + l] = buffer[i + l] + scale * fd;
      acc[l] += static_cast<double>(fd * d);
    }
  }
  for (; i < len; ++i) {
    const float d = theta[i] - anchor[i];
    const float fd = fisher[i] * d;
    buffer[i] = buffer[i] + scale * fd;
    acc[0] += static_cast<double>(fd * d);
  }
  for (int l = 0; l < 8; ++l) lane[l] = acc[l];
}

}  // namespace engram
