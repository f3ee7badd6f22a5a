// Quadratic penalties (EWC / SI / MAS) fused into the optimizer updates: the penalty gradient
// gradScale · F · (θ − θ*) is added to the loss gradient block by block, right before the update
// reads it, and Σ F·(θ − θ*)² is accumulated on the way, so one pass over memory does everything.
#pragma once
#include <napi.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "napi-helpers.h"

namespace engram {

// One term F · (θ − θ*)² over a whole parameter; value = valueScale · Σ, gradient = gradScale · F · (θ − θ*).
struct PenaltyTerm {
  const float* anchor;
  const float* fisher;
  float gradScale;
  double valueScale;
};

// Reads the optional trailing penalty argument: a Float64Array of [anchorOff, fisherOff, gradScale]
// triples (byte offsets into the heap). Returns false (with a JS exception) when an operand is out of
// bounds; an absent or undefined argument means no terms.
inline bool ReadPenaltyTerms(const Napi::CallbackInfo& info, size_t index, const Heap& heap, int64_t n,
                             std::vector<PenaltyTerm>* terms) {
  if (info.Length() <= index || !info[index].IsTypedArray()) return true;
  Napi::Float64Array spec = info[index].As<Napi::Float64Array>();
  if (spec.ElementLength() % 3 != 0) return false;
  for (size_t t = 0; t + 2 < spec.ElementLength(); t += 3) {
    const float* anchor = At(heap, static_cast<int64_t>(spec[t]), n);
    const float* fisher = At(heap, static_cast<int64_t>(spec[t + 1]), n);
    if (anchor == nullptr || fisher == nullptr) return false;
    const double gradScale = spec[t + 2];
    terms->push_back(PenaltyTerm{anchor, fisher, static_cast<float>(gradScale), gradScale / 2});
  }
  return true;
}

// Calls update(start, length, gradient) over [0, n) in blocks. Without terms `gradient` points into g;
// with terms it points to a block buffer holding g + Σₖ gradScaleₖ·Fₖ·(θ − θ*ₖ), computed from θ before
// `update` changes it. Returns Σₖ valueScaleₖ · Σᵢ Fₖᵢ (θᵢ − θ*ₖᵢ)², summed in 8 double lanes per term in
// a fixed order, so the value is deterministic.
template <typename Update>
double ForEachPenalizedBlock(const float* g, const float* theta, const std::vector<PenaltyTerm>& terms, int64_t n,
                             Update update) {
  if (terms.empty()) {
    update(0, n, g);
    return 0.0;
  }
  constexpr int64_t kBlock = 2048;  // a multiple of 8: only the last block has a remainder
  alignas(64) float buffer[kBlock];
  std::vector<double> lanes(terms.size() * 8, 0.0);
  for (int64_t start = 0; start < n; start += kBlock) {
    const int64_t length = std::min(kBlock, n - start);
    std::copy(g + start, g + start + length, buffer);
    const float* __restrict th = theta + start;
    for (size_t k = 0; k < terms.size(); ++k) {
      const float* __restrict a = terms[k].anchor + start;
      const float* __restrict f = terms[k].fisher + start;
      const float scale = terms[k].gradScale;
      double* lane = lanes.data() + k * 8;
      int64_t i = 0;
      for (; i + 8 <= length; i += 8) {
        for (int l = 0; l < 8; ++l) {
          const float d = th[i + l] - a[i + l];
          const float fd = f[i + l] * d;
          buffer[i + l] = buffer[i + l] + scale * fd;
          lane[l] += static_cast<double>(fd * d);
        }
      }
      for (; i < length; ++i) {
        const float d = th[i] - a[i];
        const float fd = f[i] * d;
        buffer[i] = buffer[i] + scale * fd;
        lane[0] += static_cast<double>(fd * d);
      }
    }
    update(start, length, buffer);
  }
  double value = 0.0;
  for (size_t k = 0; k < terms.size(); ++k) {
    double sum = 0.0;
    for (int l = 0; l < 8; ++l) sum += lanes[k * 8 + l];
    value += terms[k].valueScale * sum;
  }
  return value;
}

}  // namespace engram
