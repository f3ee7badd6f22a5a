#include "elementwise-kernels.h"

#include "parallel.h"

namespace engram {
namespace {

// Floats per OpenMP task.
constexpr int64_t kBlock = 1 << 14;
// A pass over fewer floats (e.g. a dense layer's 128x400 activations) takes tens of microseconds,
// about what waking the sleeping OpenMP worker costs: only larger passes are split.
constexpr int64_t kMinParallel = 1 << 18;

void AddRange(const float* __restrict a, const float* __restrict b, float* __restrict out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

void ReluGradRange(const float* __restrict dy, const float* __restrict x, float* __restrict out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    // step(x) exactly as tfjs: NaN stays NaN, 1 above zero, else 0; then the same multiply.
    const float v = x[i];
    const float s = v > 0.0f ? 1.0f : (v != v ? v : 0.0f);
    out[i] = dy[i] * s;
  }
}

void ReluRange(const float* __restrict x, float* __restrict out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    out[i] = v > 0.0f ? v : (v != v ? v : 0.0f);
  }
}

}  // namespace

void BiasAdd(const float* a, const float* b, float* out, int64_t rows, int64_t cols) {
  if (rows == 1) {
    // Same-shape add: blocks of the flat arrays.
    const int64_t blocks = (cols + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) num_threads(Threads()) if (cols >= kMinParallel)
    for (int64_t i = 0; i < blocks; ++i) {
      const int64_t i0 = i * kBlock, n = i0 + kBlock < cols ? kBlock : cols - i0;
      AddRange(a + i0, b + i0, out + i0, n);
    }
    return;
  }
  const int64_t rowsPerBlock = cols >= kBlock ? 1 : kBlock / cols;
  const int64_t blocks = (rows + rowsPerBlock - 1) / rowsPerBlock;
#pragma omp parallel for schedule(static) num_threads(Threads()) if (rows * cols >= kMinParallel)
  for (int64_t i = 0; i < blocks; ++i) {
    const int64_t r0 = i * rowsPerBlock, r1 = r0 + rowsPerBlock < rows ? r0 + rowsPerBlock : rows;
    for (int64_t r = r0; r < r1; ++r) AddRange(a + r * cols, b, out + r * cols, cols);
  }
}

void ReluGrad(const float* dy, const float* x, float* out, int64_t n) {
  const int64_t blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) num_threads(Threads()) if (n >= kMinParallel)
  for (int64_t i = 0; i < blocks; ++i) {
    const int64_t i0 = i * kBlock, len = i0 + kBlock < n ? kBlock : n - i0;
    ReluGradRange(dy + i0, x + i0, out + i0, len);
  }
}

void Relu(const float* x, float* out, int64_t n) {
  const int64_t blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) num_threads(Threads()) if (n >= kMinParallel)
  for (int64_t i = 0; i < blocks; ++i) {
    const int64_t i0 = i * kBlock, len = i0 + kBlock < n ? kBlock : n - i0;
    ReluRange(x + i0, out + i0, len);
  }
}

}  // namespace engram

namespace engram {
namespace {

struct AddOp {
  static float Apply(float a, float b) { return a + b; }
};
struct SubOp {
  static float Apply(float a, float b) { return a - b; }
};
struct MulOp {
  static float Apply(float a, float b) { return a * b; }
};
struct DivOp {
  static float Apply(float a, float b) { return a / b; }
};
struct SquaredDifferenceOp {
  // wasm: XNNPACK's subtract, then its square of the rounded difference.
  static float Apply(float a, float b) {
    const float d = a - b;
    return d * d;
  }
};

// len outputs; a scalar operand is read once (kScalarA / kScalarB), others at every index.
template <class Op, bool kScalarA, bool kScalarB>
void BinaryRange(const float* __restrict a, const float* __restrict b, float* __restrict out, int64_t len) {
  const float a0 = a[0], b0 = b[0];
  for (int64_t k = 0; k < len; ++k) out[k] = Op::Apply(kScalarA ? a0 : a[k], kScalarB ? b0 : b[k]);
}

using RangeFn = void (*)(const float*, const float*, float*, int64_t);

template <class Op>
RangeFn PickRange(bool scalarA, bool scalarB) {
  if (scalarA) return scalarB ? BinaryRange<Op, true, true> : BinaryRange<Op, true, false>;
  return scalarB ? BinaryRange<Op, false, true> : BinaryRange<Op, false, false>;
}

RangeFn RangeFor(int op, bool scalarA, bool scalarB) {
  switch (op) {
    case kOpAdd:
      return PickRange<AddOp>(scalarA, scalarB);
    case kOpSub:
      return PickRange<SubOp>(scalarA, scalarB);
    case kOpMul:
      return PickRange<MulOp>(scalarA, scalarB);
    case kOpDiv:
      return PickRange<DivOp>(scalarA, scalarB);
    default:
      return PickRange<SquaredDifferenceOp>(scalarA, scalarB);
  }
}

// Where operand `p` laid out as `mode` holds output (r, j).
inline const float* OperandAt(const float* p, int mode, int64_t r, int64_t j, int64_t cols) {
  if (mode == kScalar) return p;
  return mode == kRow ? p + j : p + r * cols + j;
}

}  // namespace

void BinaryBroadcast(int op, const float* a, int aMode, const float* b, int bMode, float* out, int64_t rows,
                     int64_t cols) {
  const RangeFn range = RangeFor(op, aMode == kScalar, bMode == kScalar);
  const int64_t n = rows * cols;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) num_threads(Threads()) if (n >= kMinParallel)
  for (int64_t blk = 0; blk < blocks; ++blk) {
    const int64_t end = blk * kBlock + kBlock < n ? blk * kBlock + kBlock : n;
    for (int64_t i = blk * kBlock; i < end;) {
      const int64_t r = i / cols, j = i % cols;
      const int64_t len = cols - j < end - i ? cols - j : end - i;
      range(OperandAt(a, aMode, r, j, cols), OperandAt(b, bMode, r, j, cols), out + i, len);
      i += len;
    }
  }
}

}  // namespace engram
