// Engram's native kernels: every function works in place on the tfjs wasm heap (an ArrayBuffer),
// addressed by byte offsets, so no tensor data is copied between JS, wasm and native code.
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "activation.h"
#include "blas-loader.h"
#include "conv-kernels.h"
#include "elementwise-kernels.h"
#include "napi-helpers.h"
#include "parallel.h"
#include "pool-kernels.h"

namespace {

using engram::At;
using engram::Fail;
using engram::GetHeap;
using engram::Heap;
using engram::Int;
using engram::kNoTrans;
using engram::Num;
using engram::kRowMajor;
using engram::kTrans;
using engram::kLinear;

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
  // Product i of a batch (each with its own operands and output).
  const auto gemmAt = [&](int64_t i) {
    sgemm(kRowMajor, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.0f, a + i * aStride,
          lda, b + i * bStride, ldb, 0.0f, c + i * m * n, static_cast<int>(n));
  };
  const double macs = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  const bool shared = batch > 1 && bStride == 0 && !transA && aStride == m * k;
  const double perGemm = shared ? macs * static_cast<double>(batch) : macs;
  const bool small = perGemm < engram::kSerialGemmMacs;
  if (k == 0) {
    std::memset(c, 0, static_cast<size_t>(batch * m * n) * sizeof(float));
  } else if (shared) {
    // One shared right-hand matrix: fold the batch into the rows of a single GEMM. Small ones
    // (online steps, small batches) stay on this thread: faster, and no barrier to wait at.
    const engram::SerialBlas serial(small);
    sgemm(kRowMajor, ta, tb, static_cast<int>(batch * m), static_cast<int>(n), static_cast<int>(k), 1.0f, a, lda,
          b, ldb, 0.0f, c, static_cast<int>(n));
  } else if (batch > 1 && small && perGemm * static_cast<double>(batch) >= engram::kSerialGemmMacs) {
    // Many small GEMMs (per-sample products): one per task, each on one thread (OpenBLAS runs
    // single-threaded inside a parallel region); each writes its own output.
#pragma omp parallel for schedule(dynamic, 1) num_threads(engram::Threads())
    for (int64_t i = 0; i < batch; ++i) gemmAt(i);
  } else {
    const engram::SerialBlas serial(small);
    for (int64_t i = 0; i < batch; ++i) gemmAt(i);
  }
  if (bias != nullptr || act != kLinear) {
    engram::EpilogueArgs e;
    e.bias = bias;
    e.biasLen = biasLen;
    e.act = act;
    e.alpha = alpha;
    engram::Epilogue(c, batch * m, n, e);
  }
  return info.Env().Undefined();
}

// Reads the conv geometry (an Int32Array of engram::kGeometryLength) at argument i.
const int32_t* GeometryArg(const Napi::CallbackInfo& info, size_t i) {
  Napi::Int32Array g = info[i].As<Napi::Int32Array>();
  return g.ElementLength() == engram::kGeometryLength ? g.Data() : nullptr;
}

// conv2d(heap, geometry, xOff, filterOff, outOff, biasOff, biasLen, activation, alpha)
Napi::Value Conv2D(const Napi::CallbackInfo& info) {
  if (engram::Sgemm() == nullptr) return Fail(info, "BLAS not loaded");
  const Heap heap = GetHeap(info);
  const int32_t* g = GeometryArg(info, 1);
  if (g == nullptr) return Fail(info, "conv2d: bad geometry");
  const float* x = At(heap, Int(info, 2), engram::InputSize(g));
  const float* f = At(heap, Int(info, 3), engram::FilterSize(g));
  float* out = At(heap, Int(info, 4), engram::OutputSize(g));
  const int64_t biasOff = Int(info, 5), biasLen = Int(info, 6);
  const float* bias = biasOff >= 0 ? At(heap, biasOff, biasLen) : nullptr;
  if (x == nullptr || f == nullptr || out == nullptr || (biasOff >= 0 && bias == nullptr)) {
    return Fail(info, "conv2d: operand outside the wasm heap");
  }
  engram::EpilogueArgs e;
  e.bias = bias;
  e.biasLen = biasLen;
  e.act = static_cast<int>(Int(info, 7));
  e.alpha = static_cast<float>(Num(info, 8));
  engram::Conv2D(g, x, f, out, e);
  return info.Env().Undefined();
}

// conv2dBackpropInput(heap, geometry, dyOff, filterOff, dxOff)
Napi::Value Conv2DBackpropInput(const Napi::CallbackInfo& info) {
  if (engram::Sgemm() == nullptr) return Fail(info, "BLAS not loaded");
  const Heap heap = GetHeap(info);
  const int32_t* g = GeometryArg(info, 1);
  if (g == nullptr) return Fail(info, "conv2dBackpropInput: bad geometry");
  const float* dy = At(heap, Int(info, 2), engram::OutputSize(g));
  const float* f = At(heap, Int(info, 3), engram::FilterSize(g));
  float* dx = At(heap, Int(info, 4), engram::InputSize(g));
  if (dy == nullptr || f == nullptr || dx == nullptr) return Fail(info, "conv2dBackpropInput: operand outside the heap");
  engram::Conv2DBackpropInput(g, dy, f, dx);
  return info.Env().Undefined();
}

// conv2dBackpropFilter(heap, geometry, xOff, dyOff, dwOff)
Napi::Value Conv2DBackpropFilter(const Napi::CallbackInfo& info) {
  if (engram::Sgemm() == nullptr) return Fail(info, "BLAS not loaded");
  const Heap heap = GetHeap(info);
  const int32_t* g = GeometryArg(info, 1);
  if (g == nullptr) return Fail(info, "conv2dBackpropFilter: bad geometry");
  const float* x = At(heap, Int(info, 2), engram::InputSize(g));
  const float* dy = At(heap, Int(info, 3), engram::OutputSize(g));
  float* dw = At(heap, Int(info, 4), engram::FilterSize(g));
  if (x == nullptr || dy == nullptr || dw == nullptr) return Fail(info, "conv2dBackpropFilter: operand outside the heap");
  engram::Conv2DBackpropFilter(g, x, dy, dw);
  return info.Env().Undefined();
}

// maxPoolGrad(heap, geometry, xOff, dyOff, dxOff)
Napi::Value MaxPoolGrad(const Napi::CallbackInfo& info) {
  const Heap heap = GetHeap(info);
  const int32_t* g = GeometryArg(info, 1);
  if (g == nullptr || g[3] != g[6]) return Fail(info, "maxPoolGrad: bad geometry");
  const float* x = At(heap, Int(info, 2), engram::InputSize(g));
  const float* dy = At(heap, Int(info, 3), engram::OutputSize(g));
  float* dx = At(heap, Int(info, 4), engram::InputSize(g));
  if (x == nullptr || dy == nullptr || dx == nullptr) return Fail(info, "maxPoolGrad: operand outside the heap");
  engram::MaxPoolGrad(g, x, dy, dx);
  return info.Env().Undefined();
}

// maxPool(heap, geometry, xOff, outOff)
Napi::Value MaxPool(const Napi::CallbackInfo& info) {
  const Heap heap = GetHeap(info);
  const int32_t* g = GeometryArg(info, 1);
  if (g == nullptr || g[3] != g[6]) return Fail(info, "maxPool: bad geometry");
  const float* x = At(heap, Int(info, 2), engram::InputSize(g));
  float* out = At(heap, Int(info, 3), engram::OutputSize(g));
  if (x == nullptr || out == nullptr) return Fail(info, "maxPool: operand outside the heap");
  engram::MaxPool(g, x, out);
  return info.Env().Undefined();
}

// biasAdd(heap, aOff, bOff, outOff, rows, cols): out[r, j] = a[r, j] + b[j] (rows == 1: same shape).
Napi::Value BiasAdd(const Napi::CallbackInfo& info) {
  const Heap heap = GetHeap(info);
  const int64_t rows = Int(info, 4), cols = Int(info, 5);
  const float* a = At(heap, Int(info, 1), rows * cols);
  const float* b = At(heap, Int(info, 2), cols);
  float* out = At(heap, Int(info, 3), rows * cols);
  if (a == nullptr || b == nullptr || out == nullptr) return Fail(info, "biasAdd: operand outside the heap");
  engram::BiasAdd(a, b, out, rows, cols);
  return info.Env().Undefined();
}

// reluGrad(heap, dyOff, xOff, outOff, n): out = dy · step(x).
Napi::Value ReluGrad(const Napi::CallbackInfo& info) {
  const Heap heap = GetHeap(info);
  const int64_t n = Int(info, 4);
  const float* dy = At(heap, Int(info, 1), n);
  const float* x = At(heap, Int(info, 2), n);
  float* out = At(heap, Int(info, 3), n);
  if (dy == nullptr || x == nullptr || out == nullptr) return Fail(info, "reluGrad: operand outside the heap");
  engram::ReluGrad(dy, x, out, n);
  return info.Env().Undefined();
}

// relu(heap, xOff, outOff, n): out = max(0, x) (NaN stays NaN).
Napi::Value Relu(const Napi::CallbackInfo& info) {
  const Heap heap = GetHeap(info);
  const int64_t n = Int(info, 3);
  const float* x = At(heap, Int(info, 1), n);
  float* out = At(heap, Int(info, 2), n);
  if (x == nullptr || out == nullptr) return Fail(info, "relu: operand outside the heap");
  engram::Relu(x, out, n);
  return info.Env().Undefined();
}

Napi::Object Register(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init));
  exports.Set("matmul", Napi::Function::New(env, MatMul));
  engram::RegisterOptimizers(env, exports);
  engram::RegisterGru(env, exports);
  engram::RegisterNormKernels(env, exports);
  engram::RegisterMemoryKernels(env, exports);
  exports.Set("maxPool", Napi::Function::New(env, MaxPool));
  exports.Set("biasAdd", Napi::Function::New(env, BiasAdd));
  exports.Set("reluGrad", Napi::Function::New(env, ReluGrad));
  exports.Set("relu", Napi::Function::New(env, Relu));
  exports.Set("maxPoolGrad", Napi::Function::New(env, MaxPoolGrad));
  exports.Set("conv2d", Napi::Function::New(env, Conv2D));
  exports.Set("conv2dBackpropInput", Napi::Function::New(env, Conv2DBackpropInput));
  exports.Set("conv2dBackpropFilter", Napi::Function::New(env, Conv2DBackpropFilter));
  return exports;
}

}  // namespace

NODE_API_MODULE(engram_native, Register)
