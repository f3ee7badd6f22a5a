// Fused optimizer updates, in place on the wasm heap, in tfjs's float32 operation order
// (compiled with -ffp-contract=off), so results are bit-identical to the stock tfjs optimizers.
#include <cmath>
#include <vector>

#include "napi-helpers.h"
#include "penalty-blocks.h"

namespace engram {
namespace {

// Every update below takes an optional last argument: quadratic penalty terms (penalty-blocks.h) whose
// gradient is added to g on the fly; the call then returns the penalties' value (0 without terms).

// adam(heap, pOff, mOff, vOff, gOff, n, beta1, 1-beta1, beta2, 1-beta2, 1-accBeta1, 1-accBeta2, eps, -lr[, terms])
// Same float32 operation order as tfjs's AdamOptimizer, so results match it bit for bit.
Napi::Value Adam(const Napi::CallbackInfo& info) {
  const Heap heap = GetHeap(info);
  const int64_t n = Int(info, 5);
  float* p = At(heap, Int(info, 1), n);
  float* m = At(heap, Int(info, 2), n);
  float* v = At(heap, Int(info, 3), n);
  const float* g = At(heap, Int(info, 4), n);
  std::vector<PenaltyTerm> terms;
  if (p == nullptr || m == nullptr || v == nullptr || g == nullptr || !ReadPenaltyTerms(info, 14, heap, n, &terms)) {
    return Fail(info, "adam: operand outside the heap");
  }
  const AdamConstants c{static_cast<float>(Num(info, 6)),  static_cast<float>(Num(info, 7)),  static_cast<float>(Num(info, 8)),
                        static_cast<float>(Num(info, 9)),  static_cast<float>(Num(info, 10)), static_cast<float>(Num(info, 11)),
                        static_cast<float>(Num(info, 12)), static_cast<float>(Num(info, 13))};
  const double value = ForEachPenalizedBlock(g, p, terms, n, [=, &c](int64_t s, int64_t len, const float* gs) {
    AdamRange(p + s, m + s, v + s, gs, len, c);
  });
  return Napi::Number::New(info.Env(), value);
}

// sgd(heap, pOff, gOff, n, -lr[, terms]): p = (-lr * g) + p, as tfjs's SGDOptimizer.
Napi::Value Sgd(const Napi::CallbackInfo& info) {
  const Heap heap = GetHeap(info);
  const int64_t n = Int(info, 3);
  float* p = At(heap, Int(info, 1), n);
  const float* g = At(heap, Int(info, 2), n);
  std::vector<PenaltyTerm> terms;
  if (p == nullptr || g == nullptr || !ReadPenaltyTerms(info, 5, heap, n, &terms)) return Fail(info, "sgd: operand outside the heap");
  const float c = static_cast<float>(Num(info, 4));
  const double value = ForEachPenalizedBlock(g, p, terms, n, [=](int64_t s, int64_t len, const float* gs) {
    float* __restrict pb = p + s;
    const float* __restrict gb = gs;
#pragma GCC ivdep
    for (int64_t i = 0; i < len; ++i) pb[i] = c * gb[i] + pb[i];
  });
  return Napi::Number::New(info.Env(), value);
}

// momentum(heap, pOff, accOff, gOff, n, -lr, momentum, nesterov[, terms]), as tfjs's MomentumOptimizer.
Napi::Value Momentum(const Napi::CallbackInfo& info) {
  const Heap heap = GetHeap(info);
  const int64_t n = Int(info, 4);
  float* p = At(heap, Int(info, 1), n);
  float* acc = At(heap, Int(info, 2), n);
  const float* g = At(heap, Int(info, 3), n);
  std::vector<PenaltyTerm> terms;
  if (p == nullptr || acc == nullptr || g == nullptr || !ReadPenaltyTerms(info, 8, heap, n, &terms)) {
    return Fail(info, "momentum: operand outside the heap");
  }
  const float c = static_cast<float>(Num(info, 5)), mom = static_cast<float>(Num(info, 6));
  const bool nesterov = info[7].As<Napi::Boolean>().Value();
  const double value = ForEachPenalizedBlock(g, p, terms, n, [=](int64_t s, int64_t len, const float* gs) {
    float* __restrict pb = p + s;
    float* __restrict ab = acc + s;
    const float* __restrict gb = gs;
#pragma GCC ivdep
    for (int64_t i = 0; i < len; ++i) {
      const float a = mom * ab[i] + gb[i];
      ab[i] = a;
      pb[i] = nesterov ? c * (gb[i] + a * mom) + pb[i] : c * a + pb[i];
    }
  });
  return Napi::Number::New(info.Env(), value);
}

// rmsprop(heap, pOff, msOff, momOff, mgOff (-1: not centered), gOff, n, decay, 1-decay, momentum, lr, eps[, terms])
Napi::Value RmsProp(const Napi::CallbackInfo& info) {
  const Heap heap = GetHeap(info);
  const int64_t n = Int(info, 6);
  float* p = At(heap, Int(info, 1), n);
  float* ms = At(heap, Int(info, 2), n);
  float* mom = At(heap, Int(info, 3), n);
  const bool centered = Int(info, 4) >= 0;
  float* mg = centered ? At(heap, Int(info, 4), n) : nullptr;
  const float* g = At(heap, Int(info, 5), n);
  std::vector<PenaltyTerm> terms;
  if (p == nullptr || ms == nullptr || mom == nullptr || g == nullptr || (centered && mg == nullptr) ||
      !ReadPenaltyTerms(info, 12, heap, n, &terms)) {
    return Fail(info, "rmsprop: operand outside the heap");
  }
  const float decay = static_cast<float>(Num(info, 7)), omd = static_cast<float>(Num(info, 8));
  const float momentum = static_cast<float>(Num(info, 9)), lr = static_cast<float>(Num(info, 10));
  const float eps = static_cast<float>(Num(info, 11));
  const double value = ForEachPenalizedBlock(g, p, terms, n, [=](int64_t s, int64_t len, const float* gs) {
    float* __restrict pb = p + s;
    float* __restrict msb = ms + s;
    float* __restrict mob = mom + s;
    const float* __restrict gb = gs;
    if (centered) {
      float* __restrict mgb = mg + s;
#pragma GCC ivdep
      for (int64_t i = 0; i < len; ++i) {
        const float gi = gb[i];
        const float msi = msb[i] * decay + (gi * gi) * omd;
        const float mgi = mgb[i] * decay + gi * omd;
        const float mi = mob[i] * momentum + (gi * lr) / std::sqrt(msi - (mgi * mgi + eps));
        msb[i] = msi;
        mgb[i] = mgi;
        mob[i] = mi;
        pb[i] = pb[i] - mi;
      }
    } else {
#pragma GCC ivdep
      for (int64_t i = 0; i < len; ++i) {
        const float gi = gb[i];
        const float msi = msb[i] * decay + (gi * gi) * omd;
        const float mi = mob[i] * momentum + (gi * lr) / std::sqrt(msi + eps);
        msb[i] = msi;
        mob[i] = mi;
        pb[i] = pb[i] - mi;
      }
    }
  });
  return Napi::Number::New(info.Env(), value);
}

// ewcPenaltyGrad(heap, thetaOff, anchorOff, fisherOff, outOff, n, gradScale) -> sum F * (theta - anchor)^2,
// and out = gradScale * F * (theta - anchor), in one pass over the operands: the penalty loop of the
// fused optimizer updates (penalty-blocks.h), deterministic for any thread count.
Napi::Value EwcPenaltyGrad(const Napi::CallbackInfo& info) {
  const Heap heap = GetHeap(info);
  const int64_t n = Int(info, 5);
  const float* theta = At(heap, Int(info, 1), n);
  const float* anchor = At(heap, Int(info, 2), n);
  const float* fisher = At(heap, Int(info, 3), n);
  float* out = At(heap, Int(info, 4), n);
  if (theta == nullptr || anchor == nullptr || fisher == nullptr || out == nullptr) {
    return Fail(info, "ewcPenaltyGrad: operand outside the heap");
  }
  // The optimizers' penalty loop on a zero loss gradient, its block copied out; value scale 1: Σ F·d².
  const std::vector<PenaltyTerm> terms{PenaltyTerm{anchor, fisher, static_cast<float>(Num(info, 6)), 1.0}};
  const double sum = ForEachPenalizedBlock(nullptr, theta, terms, n, [=](int64_t s, int64_t len, const float* gs) {
    std::copy(gs, gs + len, out + s);
  });
  return Napi::Number::New(info.Env(), sum);
}

}  // namespace

void RegisterOptimizers(Napi::Env env, Napi::Object exports) {
  exports.Set("adam", Napi::Function::New(env, Adam));
  exports.Set("sgd", Napi::Function::New(env, Sgd));
  exports.Set("momentum", Napi::Function::New(env, Momentum));
  exports.Set("rmsprop", Napi::Function::New(env, RmsProp));
  exports.Set("ewcPenaltyGrad", Napi::Function::New(env, EwcPenaltyGrad));
}

}  // namespace engram
