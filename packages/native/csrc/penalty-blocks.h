// The optimizer updates' loop, split into blocks (and, for large variables, chunks run by the chunk
// pool), with quadratic penalties (EWC / SI / MAS) fused in: the penalty gradient
// gradScale · F · (θ − θ*) is added to the loss gradient block by block, right before the update
// reads it, and Σ F·(θ − θ*)² is accumulated on the way, so one pass over memory does everything.
#pragma once
#include <napi.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "chunk-pool.h"
#include "napi-helpers.h"
#include "parallel.h"
#include "update-loops.h"

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

// Calls update(start, length, gradient) over [0, n) in blocks, in parallel over chunks of blocks (the
// chunk pool) when n is large (g may be null when there are terms: a zero loss gradient). Without
// terms `gradient` points into g; with terms it points to a block buffer holding
// g + Σₖ gradScaleₖ·Fₖ·(θ − θ*ₖ), computed from θ before `update` changes it. Returns
// Σₖ valueScaleₖ · Σᵢ Fₖᵢ (θᵢ − θ*ₖᵢ)²: 8 double lanes per term and chunk, added in chunk order, with
// chunk and block sizes that do not depend on the thread count or on which thread ran a chunk.
template <typename Update>
double ForEachPenalizedBlock(const float* g, const float* theta, const std::vector<PenaltyTerm>& terms, int64_t n,
                             Update update) {
  constexpr int64_t kBlock = 2048;         // floats per buffer; a multiple of 8
  constexpr int64_t kChunk = 8 * kBlock;   // floats per chunk of the pool (chunk-pool.h)
  // Floats of work below which the loop stays on the calling thread: the update counts once, each
  // penalty term three times. A plain update stays serial up to 512k floats: with OpenMP (which the
  // updates used until the chunk pool) one-sample online steps of a 784×400 layer had a p99 of
  // 4.6–5.3 ms with its Adam parallel and 3.3–3.9 ms without (2 cores). A penalty term reads θ* and
  // F, which the matmuls have pushed out of cache by the time the update runs: with it the update is
  // bound by memory, and two threads fetch more. The pool's helper joins when it is awake and the
  // calling thread never waits for it to wake: in the paired EWC bench (MLP 784-400-400-10, blocks of
  // 5 steps) Adam took +200–340 µs per step with EWC as an OpenMP region of sleeping threads and
  // +50–60 µs in the pool, and EWC on ÷ off rose from 0.90 to 0.96 (means of 6 and 10 runs).
  constexpr int64_t kMinParallel = 1 << 19;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  const size_t count = terms.size();
  const bool parallel = n * static_cast<int64_t>(1 + 3 * count) >= kMinParallel;
  std::vector<double> lanes(static_cast<size_t>(chunks) * count * 8, 0.0);
  auto chunk = [&](int64_t c) {
    const int64_t end = std::min(n, (c + 1) * kChunk);
    if (count == 0) {
      update(c * kChunk, end - c * kChunk, g + c * kChunk);
      return;
    }
    alignas(64) float buffer[kBlock];
    for (int64_t start = c * kChunk; start < end; start += kBlock) {
      const int64_t length = std::min(kBlock, end - start);
      if (g != nullptr) std::copy(g + start, g + start + length, buffer);
      else std::fill(buffer, buffer + length, 0.0f);
      for (size_t k = 0; k < count; ++k) {
        double* lane = lanes.data() + (static_cast<size_t>(c) * count + k) * 8;
        PenaltyRange(buffer, theta + start, terms[k].anchor + start, terms[k].fisher + start, terms[k].gradScale, lane, length);
      }
      update(start, length, buffer);
    }
  };
  // Chunks run on the calling thread and the update pool's helpers (chunk-pool.h), which the
  // calling thread never waits to wake up.
  RunChunks(chunks, parallel ? Threads() - 1 : 0, [](void* context, int64_t c) { (*static_cast<decltype(chunk)*>(context))(c); }, &chunk);
  double value = 0.0;
  for (size_t k = 0; k < count; ++k) {
    double sum = 0.0;
    for (int64_t c = 0; c < chunks; ++c) {
      for (int l = 0; l < 8; ++l) sum += lanes[(static_cast<size_t>(c) * count + k) * 8 + l];
    }
    value += terms[k].valueScale * sum;
  }
  return value;
}

}  // namespace engram
