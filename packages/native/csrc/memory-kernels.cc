// Kernels that only move or read memory: the gradient of Sum/Mean over a block of consecutive axes (dy
// broadcast back over the reduced axes, divided by the count for Mean), Slice (zero padding's
// gradient), UnsortedSegmentSum (an embedding's gradient), and the finiteness probe of a live run's
// poisoned-batch check.
#include <cstring>

#include "napi-helpers.h"
#include "parallel.h"

namespace engram {
namespace {

// Output floats per OpenMP task, and the smallest output split over threads.
constexpr int64_t kBlock = 1 << 14;
constexpr int64_t kMinParallel = 1 << 18;

// Rows [r0, r1) of the (outer · reduce) x inner output: row k repeats dy's row k / reduce, each value
// divided by `divisor` when `divide` (Mean: tfjs's `(dy · 1) / count`, x · 1 being x exactly).
void BroadcastRowRange(const float* __restrict dy, float* __restrict out, int64_t r0, int64_t r1, int64_t reduce,
                       int64_t inner, bool divide, float divisor) {
  for (int64_t k = r0; k < r1; ++k) {
    const float* src = dy + (k / reduce) * inner;
    float* dst = out + k * inner;
    if (!divide) {
      std::memcpy(dst, src, static_cast<size_t>(inner) * sizeof(float));
      continue;
    }
    for (int64_t j = 0; j < inner; ++j) dst[j] = src[j] / divisor;
  }
}

void BroadcastRows(const float* dy, float* out, int64_t outer, int64_t reduce, int64_t inner, bool divide,
                   float divisor) {
  const int64_t rows = outer * reduce;
  const int64_t rowsPerBlock = inner >= kBlock ? 1 : kBlock / inner;
  const int64_t blocks = (rows + rowsPerBlock - 1) / rowsPerBlock;
#pragma omp parallel for schedule(static) num_threads(Threads()) if (rows * inner >= kMinParallel)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t r0 = b * rowsPerBlock, r1 = r0 + rowsPerBlock < rows ? r0 + rowsPerBlock : rows;
    BroadcastRowRange(dy, out, r0, r1, reduce, inner, divide, divisor);
  }
}

// The largest rank Slice handles natively.
constexpr int kMaxSliceRank = 8;

// out = x[begin : begin + size] of a rank-`rank` x: the trailing axes taken whole are merged into one
// contiguous run per row, and rows (every index of the axes before them) are copied with memcpy.
void Slice(const float* x, float* out, int rank, const int32_t* shape, const int32_t* begin, const int32_t* size) {
  int64_t strides[kMaxSliceRank];
  int64_t stride = 1;
  for (int d = rank - 1; d >= 0; --d) {
    strides[d] = stride;
    stride *= shape[d];
  }
  // Axis k: the last one not taken whole (axes after it are full), so a row of out is contiguous in x.
  int k = rank - 1;
  while (k > 0 && size[k] == shape[k]) --k;
  const int64_t run = static_cast<int64_t>(size[k]) * strides[k];
  int64_t rows = 1;
  for (int d = 0; d < k; ++d) rows *= size[d];
  const int64_t base = static_cast<int64_t>(begin[k]) * strides[k];
  const int64_t rowsPerBlock = run >= kBlock ? 1 : kBlock / (run > 0 ? run : 1);
  const int64_t blocks = (rows + rowsPerBlock - 1) / rowsPerBlock;
#pragma omp parallel for schedule(static) num_threads(Threads()) if (rows * run >= kMinParallel)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t r0 = b * rowsPerBlock, r1 = r0 + rowsPerBlock < rows ? r0 + rowsPerBlock : rows;
    for (int64_t r = r0; r < r1; ++r) {
      int64_t rest = r, src = base;
      for (int d = k - 1; d >= 0; --d) {
        src += (begin[d] + rest % size[d]) * strides[d];
        rest /= size[d];
      }
      std::memcpy(out + r * run, x + src, static_cast<size_t>(run) * sizeof(float));
    }
  }
}

// out[s, :] = Σ x[r, :] over the rows r with ids[r] == s, added in order of r (ids outside
// [0, segments) dropped): core's wasm kernel's order, so the same bits (its float64 add of two float32
// values rounded to float32 is the float32 add).
void SegmentSum(const float* x, const int32_t* ids, float* out, int64_t rows, int64_t inner, int64_t segments) {
  std::memset(out, 0, static_cast<size_t>(segments * inner) * sizeof(float));
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t s = ids[r];
    if (s < 0 || s >= segments) continue;
    const float* __restrict src = x + r * inner;
    float* __restrict dst = out + static_cast<int64_t>(s) * inner;
    for (int64_t k = 0; k < inner; ++k) dst[k] += src[k];
  }
}

// True when none of the n floats is NaN or ±Infinity (exponent bits all set), in blocks that stop at
// the first block holding one. Integer compares: no float exception, vectorised.
bool Finite(const float* x, int64_t n) {
  const uint32_t* bits = reinterpret_cast<const uint32_t*>(x);
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t i1 = i0 + kBlock < n ? i0 + kBlock : n;
    uint32_t bad = 0;
    for (int64_t i = i0; i < i1; ++i) bad |= static_cast<uint32_t>((bits[i] & 0x7f800000u) == 0x7f800000u);
    if (bad != 0) return false;
  }
  return true;
}

// broadcastRows(heap, dyOff, outOff, outer, reduce, inner, divisor): out[o, r, i] = dy[o, i], divided
// by divisor when it is not 0.
Napi::Value BroadcastRowsFn(const Napi::CallbackInfo& info) {
  const Heap heap = GetHeap(info);
  const int64_t outer = Int(info, 3), reduce = Int(info, 4), inner = Int(info, 5);
  const double divisor = Num(info, 6);
  if (outer <= 0 || reduce <= 0 || inner <= 0) return Fail(info, "broadcastRows: bad arguments");
  const float* dy = At(heap, Int(info, 1), outer * inner);
  float* out = At(heap, Int(info, 2), outer * reduce * inner);
  if (dy == nullptr || out == nullptr) return Fail(info, "broadcastRows: operand outside the heap");
  BroadcastRows(dy, out, outer, reduce, inner, divisor != 0.0, static_cast<float>(divisor));
  return info.Env().Undefined();
}

// slice(heap, geometry, xOff, outOff): geometry is an Int32Array [rank, shape..., begin..., size...].
Napi::Value SliceFn(const Napi::CallbackInfo& info) {
  const Heap heap = GetHeap(info);
  if (info.Length() < 4 || !info[1].IsTypedArray()) return Fail(info, "slice: bad geometry");
  Napi::TypedArray typed = info[1].As<Napi::TypedArray>();
  if (typed.TypedArrayType() != napi_int32_array) return Fail(info, "slice: bad geometry");
  Napi::Int32Array g = typed.As<Napi::Int32Array>();
  const int rank = g.ElementLength() > 0 ? g[0] : 0;
  if (rank < 1 || rank > kMaxSliceRank || g.ElementLength() != static_cast<size_t>(1 + 3 * rank)) {
    return Fail(info, "slice: bad geometry");
  }
  const int32_t* shape = g.Data() + 1;
  const int32_t* begin = shape + rank;
  const int32_t* size = begin + rank;
  int64_t inCount = 1, outCount = 1;
  for (int d = 0; d < rank; ++d) {
    if (shape[d] < 1 || size[d] < 1 || begin[d] < 0 || begin[d] + size[d] > shape[d]) {
      return Fail(info, "slice: bad geometry");
    }
    inCount *= shape[d];
    outCount *= size[d];
  }
  const float* x = At(heap, Int(info, 2), inCount);
  float* out = At(heap, Int(info, 3), outCount);
  if (x == nullptr || out == nullptr) return Fail(info, "slice: operand outside the heap");
  Slice(x, out, rank, shape, begin, size);
  return info.Env().Undefined();
}

// segmentSum(heap, xOff, idsOff, outOff, rows, inner, segments): float32 x [rows, inner], int32 ids
// [rows], out [segments, inner].
Napi::Value SegmentSumFn(const Napi::CallbackInfo& info) {
  const Heap heap = GetHeap(info);
  const int64_t rows = Int(info, 4), inner = Int(info, 5), segments = Int(info, 6);
  if (rows <= 0 || inner <= 0 || segments <= 0) return Fail(info, "segmentSum: bad arguments");
  const float* x = At(heap, Int(info, 1), rows * inner);
  const int32_t* ids = reinterpret_cast<const int32_t*>(At(heap, Int(info, 2), rows));
  float* out = At(heap, Int(info, 3), segments * inner);
  if (x == nullptr || ids == nullptr || out == nullptr) return Fail(info, "segmentSum: operand outside the heap");
  SegmentSum(x, ids, out, rows, inner, segments);
  return info.Env().Undefined();
}

// allFinite(heap, spans): spans is a Float64Array of (byte offset, float count) pairs; true when no
// float in any span is NaN or ±Infinity.
Napi::Value AllFiniteFn(const Napi::CallbackInfo& info) {
  const Heap heap = GetHeap(info);
  if (info.Length() < 2 || !info[1].IsTypedArray()) return Fail(info, "allFinite: spans must be a Float64Array");
  Napi::TypedArray typed = info[1].As<Napi::TypedArray>();
  if (typed.TypedArrayType() != napi_float64_array) return Fail(info, "allFinite: spans must be a Float64Array");
  Napi::Float64Array spans = typed.As<Napi::Float64Array>();
  const size_t pairs = spans.ElementLength() / 2;
  for (size_t p = 0; p < pairs; ++p) {
    const int64_t n = static_cast<int64_t>(spans[2 * p + 1]);
    const float* x = At(heap, static_cast<int64_t>(spans[2 * p]), n);
    if (x == nullptr) return Fail(info, "allFinite: span outside the heap");
    if (!Finite(x, n)) return Napi::Boolean::New(info.Env(), false);
  }
  return Napi::Boolean::New(info.Env(), true);
}

}  // namespace

void RegisterMemoryKernels(Napi::Env env, Napi::Object exports) {
  exports.Set("broadcastRows", Napi::Function::New(env, BroadcastRowsFn));
  exports.Set("allFinite", Napi::Function::New(env, AllFiniteFn));
  exports.Set("slice", Napi::Function::New(env, SliceFn));
  exports.Set("segmentSum", Napi::Function::New(env, SegmentSumFn));
}

}  // namespace engram
