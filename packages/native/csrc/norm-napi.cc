// N-API entry points of the kernels added for the reduced ResNet-18 (issue #32): batch norm and its
// gradient, batch norm in training (statistics + normalisation) and its gradient, reductions over a
// block of axes, broadcasting binary operations.
#include "batch-norm-training.h"
#include "elementwise-kernels.h"
#include "napi-helpers.h"
#include "norm-kernels.h"

namespace engram {
namespace {

// An optional float operand at argument i: nullptr for offset -1, `*bad` set when out of bounds.
float* Optional(const Napi::CallbackInfo& info, const Heap& heap, size_t i, int64_t count, bool* bad) {
  const int64_t off = Int(info, i);
  if (off < 0) return nullptr;
  float* p = At(heap, off, count);
  if (p == nullptr) *bad = true;
  return p;
}

// batchNorm(heap, xOff, meanOff, varianceOff, offsetOff, scaleOff, epsilon, outOff, rows, cols)
Napi::Value BatchNormFn(const Napi::CallbackInfo& info) {
  const Heap heap = GetHeap(info);
  const int64_t rows = Int(info, 8), cols = Int(info, 9);
  const float* x = At(heap, Int(info, 1), rows * cols);
  const float* mean = At(heap, Int(info, 2), cols);
  const float* variance = At(heap, Int(info, 3), cols);
  const float* offset = At(heap, Int(info, 4), cols);
  const float* scale = At(heap, Int(info, 5), cols);
  float* out = At(heap, Int(info, 7), rows * cols);
  if (x == nullptr || mean == nullptr || variance == nullptr || offset == nullptr || scale == nullptr ||
      out == nullptr) {
    return Fail(info, "batchNorm: operand outside the heap");
  }
  BatchNorm(x, mean, variance, offset, scale, static_cast<float>(Num(info, 6)), out, rows, cols);
  return info.Env().Undefined();
}

// batchNormGrad(heap, xOff, dyOff, meanOff, scaleOff, invOff, negInvOff, minusHalfCubeOff,
//               dxOff, dMeanOff, dVarianceOff, dScaleOff, dOffsetOff, rows, cols); output offsets -1: skipped.
Napi::Value BatchNormGradFn(const Napi::CallbackInfo& info) {
  const Heap heap = GetHeap(info);
  const int64_t rows = Int(info, 13), cols = Int(info, 14);
  const float* x = At(heap, Int(info, 1), rows * cols);
  const float* dy = At(heap, Int(info, 2), rows * cols);
  BatchNormGradParams p{At(heap, Int(info, 3), cols), At(heap, Int(info, 4), cols), At(heap, Int(info, 5), cols),
                        At(heap, Int(info, 6), cols), At(heap, Int(info, 7), cols)};
  bool bad = x == nullptr || dy == nullptr || p.mean == nullptr || p.scale == nullptr || p.inv == nullptr ||
             p.negInv == nullptr || p.minusHalfCube == nullptr;
  BatchNormGradOut out{Optional(info, heap, 8, rows * cols, &bad), Optional(info, heap, 9, cols, &bad),
                       Optional(info, heap, 10, cols, &bad), Optional(info, heap, 11, cols, &bad),
                       Optional(info, heap, 12, cols, &bad)};
  if (bad) return Fail(info, "batchNormGrad: operand outside the heap");
  BatchNormGrad(x, dy, p, out, rows, cols);
  return info.Env().Undefined();
}

// batchNormTraining(heap, xOff, scaleOff, offsetOff, epsilon, yOff, meanOff, varianceOff, invStdOff, rows, cols)
Napi::Value BatchNormTrainingFn(const Napi::CallbackInfo& info) {
  const Heap heap = GetHeap(info);
  const int64_t rows = Int(info, 9), cols = Int(info, 10);
  if (rows <= 0 || cols <= 0) return Fail(info, "batchNormTraining: rows and cols must be positive");
  const float* x = At(heap, Int(info, 1), rows * cols);
  const float* scale = At(heap, Int(info, 2), cols);
  const float* offset = At(heap, Int(info, 3), cols);
  BatchNormTrainingOut out{At(heap, Int(info, 5), rows * cols), At(heap, Int(info, 6), cols),
                           At(heap, Int(info, 7), cols), At(heap, Int(info, 8), cols)};
  if (x == nullptr || scale == nullptr || offset == nullptr || out.y == nullptr || out.mean == nullptr ||
      out.variance == nullptr || out.invStd == nullptr) {
    return Fail(info, "batchNormTraining: operand outside the heap");
  }
  BatchNormTraining(x, scale, offset, Num(info, 4), out, rows, cols);
  return info.Env().Undefined();
}

// batchNormTrainingGrad(heap, dyOff, xOff, scaleOff, meanOff, invStdOff, dxOff, dScaleOff, dOffsetOff, rows, cols)
Napi::Value BatchNormTrainingGradFn(const Napi::CallbackInfo& info) {
  const Heap heap = GetHeap(info);
  const int64_t rows = Int(info, 9), cols = Int(info, 10);
  if (rows <= 0 || cols <= 0) return Fail(info, "batchNormTrainingGrad: rows and cols must be positive");
  const float* dy = At(heap, Int(info, 1), rows * cols);
  const float* x = At(heap, Int(info, 2), rows * cols);
  const float* scale = At(heap, Int(info, 3), cols);
  const float* mean = At(heap, Int(info, 4), cols);
  const float* invStd = At(heap, Int(info, 5), cols);
  BatchNormTrainingGradOut out{At(heap, Int(info, 6), rows * cols), At(heap, Int(info, 7), cols),
                               At(heap, Int(info, 8), cols)};
  if (dy == nullptr || x == nullptr || scale == nullptr || mean == nullptr || invStd == nullptr ||
      out.dx == nullptr || out.dScale == nullptr || out.dOffset == nullptr) {
    return Fail(info, "batchNormTrainingGrad: operand outside the heap");
  }
  BatchNormTrainingGrad(dy, x, scale, mean, invStd, out, rows, cols);
  return info.Env().Undefined();
}

// reduceMiddle(heap, xOff, outOff, outer, reduce, inner, mean)
Napi::Value ReduceMiddleFn(const Napi::CallbackInfo& info) {
  const Heap heap = GetHeap(info);
  const int64_t outer = Int(info, 3), reduce = Int(info, 4), inner = Int(info, 5);
  const float* x = At(heap, Int(info, 1), outer * reduce * inner);
  float* out = At(heap, Int(info, 2), outer * inner);
  if (x == nullptr || out == nullptr) return Fail(info, "reduceMiddle: operand outside the heap");
  ReduceMiddle(x, out, outer, reduce, inner, info[6].As<Napi::Boolean>().Value());
  return info.Env().Undefined();
}

// Floats an operand laid out as `mode` occupies for a rows x cols output.
int64_t OperandSize(int64_t mode, int64_t rows, int64_t cols) {
  return mode == kScalar ? 1 : mode == kRow ? cols : rows * cols;
}

// binary(heap, op, aOff, aMode, bOff, bMode, outOff, rows, cols)
Napi::Value BinaryFn(const Napi::CallbackInfo& info) {
  const Heap heap = GetHeap(info);
  const int64_t op = Int(info, 1), aMode = Int(info, 3), bMode = Int(info, 5);
  const int64_t rows = Int(info, 7), cols = Int(info, 8);
  if (op < kOpAdd || op > kOpSquaredDifference || aMode < kFull || aMode > kScalar || bMode < kFull ||
      bMode > kScalar || rows <= 0 || cols <= 0) {
    return Fail(info, "binary: bad arguments");
  }
  const float* a = At(heap, Int(info, 2), OperandSize(aMode, rows, cols));
  const float* b = At(heap, Int(info, 4), OperandSize(bMode, rows, cols));
  float* out = At(heap, Int(info, 6), rows * cols);
  if (a == nullptr || b == nullptr || out == nullptr) return Fail(info, "binary: operand outside the heap");
  BinaryBroadcast(static_cast<int>(op), a, static_cast<int>(aMode), b, static_cast<int>(bMode), out, rows, cols);
  return info.Env().Undefined();
}

}  // namespace

void RegisterNormKernels(Napi::Env env, Napi::Object exports) {
  exports.Set("batchNorm", Napi::Function::New(env, BatchNormFn));
  exports.Set("batchNormGrad", Napi::Function::New(env, BatchNormGradFn));
  exports.Set("batchNormTraining", Napi::Function::New(env, BatchNormTrainingFn));
  exports.Set("batchNormTrainingGrad", Napi::Function::New(env, BatchNormTrainingGradFn));
  exports.Set("reduceMiddle", Napi::Function::New(env, ReduceMiddleFn));
  exports.Set("binary", Napi::Function::New(env, BinaryFn));
}

}  // namespace engram
