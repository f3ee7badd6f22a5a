// Engram's native kernels: every function works in place on the tfjs wasm heap (an ArrayBuffer),
// addressed by byte offsets, so no tensor data is copied between JS, wasm and native code.
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "blas-loader.h"

namespace {

using engram::kNoTrans;
using engram::kRowMajor;
using engram::kTrans;

enum Activation { kLinear = 0, kRelu = 1, kRelu6 = 2, kLeakyRelu = 3, kSigmoid = 4, kElu = 5 };

double Num(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().DoubleValue(); }
int64_t Int(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int64Value(); }

// The wasm heap's bytes, read once per call (the heap's ArrayBuffer is replaced when it grows).
struct Heap {
  uint8_t* data;
  int64_t length;
};

Heap GetHeap(const Napi::CallbackInfo& info) {
  Napi::ArrayBuffer buffer = info[0].As<Napi::ArrayBuffer>();
  return Heap{static_cast<uint8_t*>(buffer.Data()), static_cast<int64_t>(buffer.ByteLength())};
}

// Resolves a float pointer at byte offset `off` holding `count` floats, or nullptr if out of bounds.
float* At(const Heap& heap, int64_t off, int64_t count) {
  if (heap.data == nullptr || off < 0 || count < 0 || off % 4 != 0 || off + count * 4 > heap.length) return nullptr;
  return reinterpret_cast<float*>(heap.data + off);
}

Napi::Value Fail(const Napi::CallbackInfo& info, const char* message) {
  Napi::Error::New(info.Env(), message).ThrowAsJavaScriptException();
  return info.Env().Undefined();
}

Napi::Value Init(const Napi::CallbackInfo& info) {
  const engram::BlasInfo& blas = engram::LoadBlas();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("ok", blas.ok);
  out.Set("reason", blas.reason);
  out.Set("library", blas.library);
  out.Set("config", blas.config);
  out.Set("parallel", blas.parallel);
  out.Set("threads", blas.threads);
  return out;
}

void Epilogue(float* c, int64_t rows, int64_t n, const float* bias, int64_t biasLen, int act, float alpha) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = c + r * n;
    if (bias != nullptr) {
      if (biasLen == 1) {
        const float b0 = bias[0];
        for (int64_t j = 0; j < n; ++j) row[j] = row[j] + b0;
      } else {
#pragma GCC ivdep
        for (int64_t j = 0; j < n; ++j) row[j] = row[j] + bias[j];
      }
    }
    switch (act) {
      case kRelu:
        for (int64_t j = 0; j < n; ++j) row[j] = row[j] < 0.0f ? 0.0f : row[j];
        break;
      case kRelu6:
        for (int64_t j = 0; j < n; ++j) row[j] = row[j] < 0.0f ? 0.0f : (row[j] > 6.0f ? 6.0f : row[j]);
        break;
      case kLeakyRelu:
        for (int64_t j = 0; j < n; ++j) row[j] = row[j] < 0.0f ? alpha * row[j] : row[j];
        break;
      case kSigmoid:
        for (int64_t j = 0; j < n; ++j) row[j] = 1.0f / (1.0f + std::exp(-row[j]));
        break;
      case kElu:
        for (int64_t j = 0; j < n; ++j) row[j] = row[j] < 0.0f ? std::expm1(row[j]) : row[j];
        break;
      default:
        break;
    }
  }
}

// matmul(heap, aOff, bOff, cOff, batch, aBatchStride, bBatchStride, m, n, k, transA, transB,
//        biasOff, biasLen, activation, alpha). Strides are in floats; 0 broadcasts one matrix.
Napi::Value MatMul(const Napi::CallbackInfo& info) {
  engram::SgemmFn sgemm = engram::Sgemm();
  if (sgemm == nullptr) return Fail(info, "BLAS not loaded");
  const Heap heap = GetHeap(info);
  const int64_t batch = Int(info, 4), aStride = Int(info, 5), bStride = Int(info, 6);
  const int64_t m = Int(info, 7), n = Int(info, 8), k = Int(info, 9);
  const bool transA = info[10].As<Napi::Boolean>().Value(), transB = info[11].As<Napi::Boolean>().Value();
  const int64_t biasOff = Int(info, 12), biasLen = Int(info, 13);
  const int act = static_cast<int>(Int(info, 14));
  const float alpha = static_cast<float>(Num(info, 15));
  const float* a = At(heap, Int(info, 1), aStride * (batch - 1) + m * k);
  const float* b = At(heap, Int(info, 2), bStride * (batch - 1) + k * n);
  float* c = At(heap, Int(info, 3), batch * m * n);
  const float* bias = biasOff >= 0 ? At(heap, biasOff, biasLen) : nullptr;
  if (a == nullptr || b == nullptr || c == nullptr || (biasOff >= 0 && bias == nullptr)) {
    return Fail(info, "matmul: operand outside the wasm heap");
  }
  const int lda = static_cast<int>(transA ? m : k), ldb = static_cast<int>(transB ? k : n);
  const int ta = transA ? kTrans : kNoTrans, tb = transB ? kTrans : kNoTrans;
  if (k == 0) {
    std::memset(c, 0, static_cast<size_t>(batch * m * n) * sizeof(float));
  } else if (batch > 1 && bStride == 0 && !transA && aStride == m * k) {
    // One shared right-hand matrix: fold the batch into the rows of a single GEMM.
    sgemm(kRowMajor, ta, tb, static_cast<int>(batch * m), static_cast<int>(n), static_cast<int>(k), 1.0f, a, lda,
          b, ldb, 0.0f, c, static_cast<int>(n));
  } else {
    for (int64_t i = 0; i < batch; ++i) {
      sgemm(kRowMajor, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.0f, a + i * aStride,
            lda, b + i * bStride, ldb, 0.0f, c + i * m * n, static_cast<int>(n));
    }
  }
  if (bias != nullptr || act != kLinear) Epilogue(c, batch * m, n, bias, biasLen, act, alpha);
  return info.Env().Undefined();
}

// colSum(heap, xOff, outOff, rows, cols): out[j] = sum_i x[i, j], summed in row order.
Napi::Value ColSum(const Napi::CallbackInfo& info) {
  const Heap heap = GetHeap(info);
  const int64_t rows = Int(info, 3), cols = Int(info, 4);
  const float* x = At(heap, Int(info, 1), rows * cols);
  float* out = At(heap, Int(info, 2), cols);
  if (x == nullptr || out == nullptr) return Fail(info, "colSum: operand outside the wasm heap");
  for (int64_t j = 0; j < cols; ++j) out[j] = 0.0f;
  for (int64_t i = 0; i < rows; ++i) {
    const float* row = x + i * cols;
#pragma GCC ivdep
    for (int64_t j = 0; j < cols; ++j) out[j] = out[j] + row[j];
  }
  return info.Env().Undefined();
}

// adam(heap, pOff, mOff, vOff, gOff, n, beta1, 1-beta1, beta2, 1-beta2, 1-accBeta1, 1-accBeta2, eps, -lr)
// Same float32 operation order as tfjs's AdamOptimizer, so results match it bit for bit.
Napi::Value Adam(const Napi::CallbackInfo& info) {
  const Heap heap = GetHeap(info);
  const int64_t n = Int(info, 5);
  float* __restrict p = At(heap, Int(info, 1), n);
  float* __restrict m = At(heap, Int(info, 2), n);
  float* __restrict v = At(heap, Int(info, 3), n);
  const float* __restrict g = At(heap, Int(info, 4), n);
  if (p == nullptr || m == nullptr || v == nullptr || g == nullptr) return Fail(info, "adam: operand outside the heap");
  const float b1 = static_cast<float>(Num(info, 6)), omb1 = static_cast<float>(Num(info, 7));
  const float b2 = static_cast<float>(Num(info, 8)), omb2 = static_cast<float>(Num(info, 9));
  const float omAcc1 = static_cast<float>(Num(info, 10)), omAcc2 = static_cast<float>(Num(info, 11));
  const float eps = static_cast<float>(Num(info, 12)), negLr = static_cast<float>(Num(info, 13));
#pragma GCC ivdep
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i];
    const float mi = m[i] * b1 + gi * omb1;
    const float vi = v[i] * b2 + (gi * gi) * omb2;
    m[i] = mi;
    v[i] = vi;
    const float mHat = mi / omAcc1, vHat = vi / omAcc2;
    p[i] = (mHat / (std::sqrt(vHat) + eps)) * negLr + p[i];
  }
  return info.Env().Undefined();
}

// sgd(heap, pOff, gOff, n, -lr): p = (-lr * g) + p, as tfjs's SGDOptimizer.
Napi::Value Sgd(const Napi::CallbackInfo& info) {
  const Heap heap = GetHeap(info);
  const int64_t n = Int(info, 3);
  float* __restrict p = At(heap, Int(info, 1), n);
  const float* __restrict g = At(heap, Int(info, 2), n);
  if (p == nullptr || g == nullptr) return Fail(info, "sgd: operand outside the heap");
  const float c = static_cast<float>(Num(info, 4));
#pragma GCC ivdep
  for (int64_t i = 0; i < n; ++i) p[i] = c * g[i] + p[i];
  return info.Env().Undefined();
}

// momentum(heap, pOff, accOff, gOff, n, -lr, momentum, nesterov), as tfjs's MomentumOptimizer.
Napi::Value Momentum(const Napi::CallbackInfo& info) {
  const Heap heap = GetHeap(info);
  const int64_t n = Int(info, 4);
  float* __restrict p = At(heap, Int(info, 1), n);
  float* __restrict acc = At(heap, Int(info, 2), n);
  const float* __restrict g = At(heap, Int(info, 3), n);
  if (p == nullptr || acc == nullptr || g == nullptr) return Fail(info, "momentum: operand outside the heap");
  const float c = static_cast<float>(Num(info, 5)), mom = static_cast<float>(Num(info, 6));
  const bool nesterov = info[7].As<Napi::Boolean>().Value();
#pragma GCC ivdep
  for (int64_t i = 0; i < n; ++i) {
    const float a = mom * acc[i] + g[i];
    acc[i] = a;
    p[i] = nesterov ? c * (g[i] + a * mom) + p[i] : c * a + p[i];
  }
  return info.Env().Undefined();
}

Napi::Object Register(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init));
  exports.Set("matmul", Napi::Function::New(env, MatMul));
  exports.Set("colSum", Napi::Function::New(env, ColSum));
  exports.Set("adam", Napi::Function::New(env, Adam));
  exports.Set("sgd", Napi::Function::New(env, Sgd));
  exports.Set("momentum", Napi::Function::New(env, Momentum));
  return exports;
}

}  // namespace

NODE_API_MODULE(engram_native, Register)
