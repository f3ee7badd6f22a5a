// A whole reset-after GRU sequence (PyTorch's nn.GRU) forward and backward in one call each: per
// step one sgemm (h·R forward, dhr·Rᵀ backward) and one pass of gate math over [batch, units];
// the recurrent kernel's gradient is one sgemm over all steps at the end. Layouts [batch, steps, ·]
// as core's gru-sequence.ts defines them; a step's rows are strided views (lda = steps · width).
#include <cmath>
#include <cstring>
#include <memory>

#include "blas-loader.h"
#include "napi-helpers.h"
#include "simd-clones.h"

namespace engram {
namespace gru {

constexpr int kSigmoid = 0;  // gate 0: 1 / (1 + e^-x); 1: hard sigmoid clip(0.2·x + 0.5, 0, 1)

// e^x without branches or calls, so the row loops below vectorise: Cephes' expf (range reduction by
// ln 2 in two parts, degree-6 polynomial, 2^n from the exponent bits); within 2 ulp of expf, clamped to
// the normal range (|x| ≤ 87.3).
inline float Exp(float x) {
  x = x < -87.3f ? -87.3f : (x > 87.3f ? 87.3f : x);
  const float magic = 12582912.0f;  // 1.5 · 2^23: adding and subtracting it rounds to an integer
  const float n = (x * 1.44269504088896341f + magic) - magic;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

inline float Sigmoid(float x) { return 1.0f / (1.0f + Exp(-x)); }

// tanh(x) = 1 − 2 / (e^{2x} + 1): absolute error ~1e-7 (relative error grows only where |tanh| < 1e-7).
inline float Tanh(float x) { return 1.0f - 2.0f / (Exp(2.0f * x) + 1.0f); }

inline float Gate(int gate, float x) {
  if (gate == kSigmoid) return Sigmoid(x);
  const float y = 0.2f * x + 0.5f;
  return y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
}

// The gate's derivative from its output y (hard sigmoid: 0.2 where not clipped).
inline float GateDerivative(int gate, float y) {
  if (gate == kSigmoid) return y * (1.0f - y);
  return y > 0.0f && y < 1.0f ? 0.2f : 0.0f;
}

// One batch row of one forward step: x = xw row [3H], h = h·R row [3H] (before the recurrent bias),
// previous = h_{t-1} row [H]; writes the new state and the cache rows.
ENGRAM_CLONES void ForwardRow(const float* __restrict x, const float* __restrict h, const float* __restrict rb,
                              const float* __restrict previous, float* __restrict state, float* __restrict zr,
                              float* __restrict n, float* __restrict hn, int64_t H, int gate) {
  for (int64_t j = 0; j < H; ++j) {
    const float hz = h[j] + rb[j], hrr = h[H + j] + rb[H + j], hh = h[2 * H + j] + rb[2 * H + j];
    const float z = Gate(gate, x[j] + hz), rr = Gate(gate, x[H + j] + hrr);
    const float c = Tanh(x[2 * H + j] + rr * hh);
    state[j] = z * previous[j] + (1.0f - z) * c;
    zr[j] = z;
    zr[H + j] = rr;
    n[j] = c;
    hn[j] = hh;
  }
}

// One batch row of one backward step: reads dh (the state's gradient) and the cache rows, writes the
// pre-activation gradients dx [3H] (for xw) and dr [3H] (for h·R + rb), and leaves dh ⊙ z in dh.
ENGRAM_CLONES void BackwardRow(float* __restrict dh, const float* __restrict zr, const float* __restrict n,
                               const float* __restrict hn, const float* __restrict previous, float* __restrict dx,
                               float* __restrict dr, int64_t H, int gate) {
  for (int64_t j = 0; j < H; ++j) {
    const float z = zr[j], rr = zr[H + j], c = n[j], hh = hn[j];
    const float dhv = dh[j];
    const float dan = dhv * (1.0f - z) * (1.0f - c * c);
    const float dz = dhv * (previous[j] - c) * GateDerivative(gate, z);
    const float drr = dan * hh * GateDerivative(gate, rr);
    dx[j] = dz;
    dx[H + j] = drr;
    dx[2 * H + j] = dan;
    dr[j] = dz;
    dr[H + j] = drr;
    dr[2 * H + j] = dan * rr;
    dh[j] = dhv * z;
  }
}

}  // namespace gru

namespace {

using gru::BackwardRow;
using gru::ForwardRow;

struct Dims {
  int64_t batch, steps, units;
};

// One GEMM C = A·op(B) (+ C when beta is 1), on this thread when it is small.
void Gemm(SgemmFn sgemm, bool transA, bool transB, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  const SerialBlas serial(static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) < kSerialGemmMacs);
  sgemm(kRowMajor, transA ? kTrans : kNoTrans, transB ? kTrans : kNoTrans, static_cast<int>(m), static_cast<int>(n),
        static_cast<int>(k), 1.0f, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

struct Cache {
  float* states;  // [B, T, H]
  float* zr;      // [B, T, 2H]
  float* n;       // [B, T, H]
  float* hn;      // [B, T, H]
};

void Forward(SgemmFn sgemm, const Dims& d, int gate, const float* xw, const float* r, const float* rb, const Cache& c) {
  const int64_t B = d.batch, T = d.steps, H = d.units, G = 3 * H;
  std::unique_ptr<float[]> hr(new float[B * G]);
  std::unique_ptr<float[]> zeros(new float[H]());
  for (int64_t t = 0; t < T; ++t) {
    if (t == 0) {
      std::memset(hr.get(), 0, static_cast<size_t>(B * G) * sizeof(float));
    } else {
      Gemm(sgemm, false, false, B, G, H, c.states + (t - 1) * H, T * H, r, G, 0.0f, hr.get(), G);
    }
    for (int64_t b = 0; b < B; ++b) {
      const int64_t row = b * T + t;
      const float* previous = t > 0 ? c.states + (row - 1) * H : zeros.get();
      ForwardRow(xw + row * G, hr.get() + b * G, rb, previous, c.states + row * H, c.zr + row * 2 * H, c.n + row * H,
                 c.hn + row * H, H, gate);
    }
  }
}

struct Grads {
  float* dxw;  // [B, T, 3H]
  float* dr;   // [H, 3H]
  float* drb;  // [3H]
};

void Backward(SgemmFn sgemm, const Dims& d, int gate, const float* dy, bool sequences, const float* r, const Cache& c,
              const Grads& g) {
  const int64_t B = d.batch, T = d.steps, H = d.units, G = 3 * H;
  std::unique_ptr<float[]> dh(new float[B * H]);
  std::unique_ptr<float[]> dhr(new float[B * T * G]);
  std::unique_ptr<float[]> previous(new float[B * T * H]);
  std::memset(dh.get(), 0, static_cast<size_t>(B * H) * sizeof(float));
  for (int64_t t = T - 1; t >= 0; --t) {
    for (int64_t b = 0; b < B; ++b) {
      const int64_t row = b * T + t;
      float* dhb = dh.get() + b * H;
      if (sequences) {
        for (int64_t j = 0; j < H; ++j) dhb[j] += dy[row * H + j];
      } else if (t == T - 1) {
        std::memcpy(dhb, dy + b * H, static_cast<size_t>(H) * sizeof(float));
      }
      float* hp = previous.get() + row * H;
      if (t > 0) std::memcpy(hp, c.states + (row - 1) * H, static_cast<size_t>(H) * sizeof(float));
      else std::memset(hp, 0, static_cast<size_t>(H) * sizeof(float));
      BackwardRow(dhb, c.zr + row * 2 * H, c.n + row * H, c.hn + row * H, hp, g.dxw + row * G, dhr.get() + row * G, H,
                  gate);
    }
    // dh_{t-1} = dh ⊙ z + dhr_t · Rᵀ
    if (t > 0) Gemm(sgemm, false, true, B, H, G, dhr.get() + t * G, T * G, r, G, 1.0f, dh.get(), H);
  }
  Gemm(sgemm, true, false, H, G, B * T, previous.get(), H, dhr.get(), G, 0.0f, g.dr, G);
  for (int64_t j = 0; j < G; ++j) g.drb[j] = 0.0f;
  for (int64_t i = 0; i < B * T; ++i) {
    const float* row = dhr.get() + i * G;
    for (int64_t j = 0; j < G; ++j) g.drb[j] += row[j];
  }
}

bool ReadDims(const Napi::CallbackInfo& info, size_t i, Dims* d) {
  *d = Dims{Int(info, i), Int(info, i + 1), Int(info, i + 2)};
  return d->batch > 0 && d->steps > 0 && d->units > 0;
}

// gruForward(heap, xwOff, rOff, rbOff, statesOff, zrOff, nOff, hnOff, batch, steps, units, gate)
Napi::Value GruForward(const Napi::CallbackInfo& info) {
  SgemmFn sgemm = Sgemm();
  if (sgemm == nullptr) return Fail(info, "BLAS not loaded");
  const Heap heap = GetHeap(info);
  Dims d{};
  if (!ReadDims(info, 8, &d)) return Fail(info, "gruForward: empty sequence");
  const int64_t bt = d.batch * d.steps, h = d.units;
  const float* xw = At(heap, Int(info, 1), bt * 3 * h);
  const float* r = At(heap, Int(info, 2), h * 3 * h);
  const float* rb = At(heap, Int(info, 3), 3 * h);
  const Cache c{At(heap, Int(info, 4), bt * h), At(heap, Int(info, 5), bt * 2 * h), At(heap, Int(info, 6), bt * h),
                At(heap, Int(info, 7), bt * h)};
  if (xw == nullptr || r == nullptr || rb == nullptr || c.states == nullptr || c.zr == nullptr || c.n == nullptr ||
      c.hn == nullptr) {
    return Fail(info, "gruForward: operand outside the heap");
  }
  Forward(sgemm, d, static_cast<int>(Int(info, 11)), xw, r, rb, c);
  return info.Env().Undefined();
}

// gruBackward(heap, dyOff, sequences, rOff, statesOff, zrOff, nOff, hnOff, dxwOff, drOff, drbOff,
//             batch, steps, units, gate)
Napi::Value GruBackward(const Napi::CallbackInfo& info) {
  SgemmFn sgemm = Sgemm();
  if (sgemm == nullptr) return Fail(info, "BLAS not loaded");
  const Heap heap = GetHeap(info);
  Dims d{};
  if (!ReadDims(info, 11, &d)) return Fail(info, "gruBackward: empty sequence");
  const int64_t bt = d.batch * d.steps, h = d.units;
  const bool sequences = info[2].As<Napi::Boolean>().Value();
  const float* dy = At(heap, Int(info, 1), sequences ? bt * h : d.batch * h);
  const float* r = At(heap, Int(info, 3), h * 3 * h);
  const Cache c{At(heap, Int(info, 4), bt * h), At(heap, Int(info, 5), bt * 2 * h), At(heap, Int(info, 6), bt * h),
                At(heap, Int(info, 7), bt * h)};
  const Grads g{At(heap, Int(info, 8), bt * 3 * h), At(heap, Int(info, 9), h * 3 * h), At(heap, Int(info, 10), 3 * h)};
  if (dy == nullptr || r == nullptr || c.states == nullptr || c.zr == nullptr || c.n == nullptr || c.hn == nullptr ||
      g.dxw == nullptr || g.dr == nullptr || g.drb == nullptr) {
    return Fail(info, "gruBackward: operand outside the heap");
  }
  Backward(sgemm, d, static_cast<int>(Int(info, 14)), dy, sequences, r, c, g);
  return info.Env().Undefined();
}

}  // namespace

void RegisterGru(Napi::Env env, Napi::Object exports) {
  exports.Set("gruForward", Napi::Function::New(env, GruForward));
  exports.Set("gruBackward", Napi::Function::New(env, GruBackward));
}

}  // namespace engram
