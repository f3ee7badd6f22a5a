#include "norm-kernels.h"

#include <cmath>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "parallel.h"

namespace engram {
namespace {

// Rows per task of the elementwise batch-norm pass, and the smallest pass worth splitting (as
// elementwise-kernels.cc: waking the sleeping worker costs about a 256k-float pass).
constexpr int64_t kBlockFloats = 1 << 14;
constexpr int64_t kMinParallel = 1 << 18;

// [begin, end) of part `part` of `parts` near-equal parts of n.
inline void Split(int64_t n, int parts, int part, int64_t* begin, int64_t* end) {
  *begin = n * part / parts;
  *end = n * (part + 1) / parts;
}

// Threads for a pass over `work` floats: 1 below the threshold.
inline int ThreadsFor(int64_t work) { return work >= kMinParallel ? Threads() : 1; }

}  // namespace

void BatchNorm(const float* x, const float* mean, const float* variance, const float* offset, const float* scale,
               float epsilon, float* out, int64_t rows, int64_t cols) {
  std::vector<float> factor(static_cast<size_t>(cols));
  for (int64_t c = 0; c < cols; ++c) factor[c] = std::sqrt(variance[c] + epsilon);
  const float* nf = factor.data();
  const int64_t rowsPerBlock = cols >= kBlockFloats ? 1 : kBlockFloats / cols;
  const int64_t blocks = (rows + rowsPerBlock - 1) / rowsPerBlock;
#pragma omp parallel for schedule(static) num_threads(ThreadsFor(rows * cols))
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t r0 = b * rowsPerBlock, r1 = r0 + rowsPerBlock < rows ? r0 + rowsPerBlock : rows;
    for (int64_t r = r0; r < r1; ++r) {
      const float* __restrict xr = x + r * cols;
      float* __restrict o = out + r * cols;
      // The stock kernel's float32 (x − mean) · scale, then the division and the offset add in double,
      // rounded once (measured against tfjs-backend-wasm 4.22: identical on every tested value).
      for (int64_t c = 0; c < cols; ++c) {
        const float p = (xr[c] - mean[c]) * scale[c];
        o[c] = static_cast<float>(static_cast<double>(offset[c]) + static_cast<double>(p) / static_cast<double>(nf[c]));
      }
    }
  }
}

void BatchNormGrad(const float* x, const float* dy, const BatchNormGradParams& p, const BatchNormGradOut& out,
                   int64_t rows, int64_t cols) {
  // Each thread owns a range of channels for every row: a channel's sums run over the rows in order,
  // whichever thread and split, so the result does not depend on the thread count.
  const int threads = ThreadsFor(rows * cols) < cols ? ThreadsFor(rows * cols) : static_cast<int>(cols);
#pragma omp parallel num_threads(threads)
  {
#ifdef _OPENMP
    const int part = omp_get_thread_num(), parts = omp_get_num_threads();
#else
    const int part = 0, parts = 1;
#endif
    int64_t c0 = 0, c1 = 0;
    Split(cols, parts, part, &c0, &c1);
    const int64_t w = c1 - c0;
    std::vector<float> acc(static_cast<size_t>(4 * w), 0.0f);
    float* __restrict sMean = acc.data();
    float* __restrict sVar = sMean + w;
    float* __restrict sScale = sVar + w;
    float* __restrict sOffset = sScale + w;
    const float* mean = p.mean + c0;
    const float* scale = p.scale + c0;
    const float* inv = p.inv + c0;
    const float* negInv = p.negInv + c0;
    const float* mhc = p.minusHalfCube + c0;
    for (int64_t r = 0; r < rows && w > 0; ++r) {
      const float* __restrict xr = x + r * cols + c0;
      const float* __restrict dr = dy + r * cols + c0;
      if (out.dx != nullptr) {
        float* __restrict o = out.dx + r * cols + c0;
        for (int64_t c = 0; c < w; ++c) o[c] = dr[c] * inv[c] * scale[c];
      }
      for (int64_t c = 0; c < w; ++c) {
        const float d = dr[c];
        const float dyScale = d * scale[c];
        const float xmm = xr[c] - mean[c];
        sMean[c] = sMean[c] + negInv[c] * dyScale;
        sVar[c] = sVar[c] + mhc[c] * xmm * dyScale;
        sScale[c] = sScale[c] + d * (xmm * inv[c]);
        sOffset[c] = sOffset[c] + d;
      }
    }
    for (int64_t c = 0; c < w; ++c) {
      if (out.dMean != nullptr) out.dMean[c0 + c] = sMean[c];
      if (out.dVar != nullptr) out.dVar[c0 + c] = sVar[c];
      if (out.dScale != nullptr) out.dScale[c0 + c] = sScale[c];
      if (out.dOffset != nullptr) out.dOffset[c0 + c] = sOffset[c];
    }
  }
}

void ReduceMiddle(const float* x, float* out, int64_t outer, int64_t reduce, int64_t inner, bool mean) {
  const float divisor = static_cast<float>(reduce);
  const int threads = ThreadsFor(outer * reduce * inner);
  if (inner == 1) {
    // Contiguous rows (e.g. a whole tensor to one number): one running sum in a register per output, in
    // the same order as below, so the same bits; the general loop's load and store of dst per element
    // made a 313,600-float sum take 1.25 ms instead of ≈ 0.4.
#pragma omp parallel for schedule(static) num_threads(outer >= threads ? threads : 1)
    for (int64_t o = 0; o < outer; ++o) {
      const float* __restrict src = x + o * reduce;
      float s = 0.0f;
      for (int64_t r = 0; r < reduce; ++r) s = s + src[r];
      out[o] = mean ? s / divisor : s;
    }
    return;
  }
  // Tasks: (outer index, part of the inner columns); every output is summed by one task, in order.
  const int parts = outer >= threads ? 1 : (threads < inner ? threads : static_cast<int>(inner > 0 ? inner : 1));
  const int64_t tasks = outer * parts;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t o = t / parts;
    int64_t i0 = 0, i1 = 0;
    Split(inner, parts, static_cast<int>(t % parts), &i0, &i1);
    float* __restrict dst = out + o * inner;
    const float* src = x + o * reduce * inner;
    for (int64_t i = i0; i < i1; ++i) dst[i] = 0.0f;
    for (int64_t r = 0; r < reduce; ++r) {
      const float* __restrict row = src + r * inner;
      for (int64_t i = i0; i < i1; ++i) dst[i] = dst[i] + row[i];
    }
    if (mean)
      for (int64_t i = i0; i < i1; ++i) dst[i] = dst[i] / divisor;
  }
}

}  // namespace engram
