#include "batch-norm-training.h"

#include <cmath>
#include <vector>

#include "parallel.h"
#include "simd-clones.h"

namespace engram {
namespace {

// Rows per chunk: about this many floats (a chunk stays in cache between its two passes), at least
// kMinChunkRows rows (so the per-chunk partial sums, 3 doubles per channel, stay below x's size).
// The partition depends only on the shape, never on the thread count.
constexpr int64_t kChunkFloats = 1 << 13;
constexpr int64_t kMinChunkRows = 16;
// Below this many floats a pass runs on the calling thread (waking the sleeping worker costs about
// a 256k-float pass, as in elementwise-kernels.cc).
constexpr int64_t kMinParallel = 1 << 18;

struct Chunking {
  int64_t rowsPer;
  int64_t count;
};

Chunking ChunksOf(int64_t rows, int64_t cols) {
  int64_t per = kChunkFloats / cols;
  if (per < kMinChunkRows) per = kMinChunkRows;
  return Chunking{per, (rows + per - 1) / per};
}

int ThreadsFor(int64_t work, int64_t chunks) {
  if (work < kMinParallel || chunks < 2) return 1;
  const int t = Threads();
  return chunks < t ? static_cast<int>(chunks) : t;
}

// A per-thread scratch of at least n doubles (libgomp keeps its threads, so it is reused).
double* DoubleScratch(size_t n) {
  static thread_local std::vector<double> scratch;
  if (scratch.size() < n) scratch.resize(n);
  return scratch.data();
}

// Moments of one chunk of n rows about its own mean m = s / n: s = Σ x, d = Σ (x − m) (rounding's
// residue, kept so the combination is exact) and q = Σ (x − m)²; the second pass reads the chunk
// from cache. ENGRAM_CLONES (simd-clones.h): lanes run over channels, each sum in row order, so every
// variant gives the same bits.
ENGRAM_CLONES void ChunkMoments(const float* x, int64_t n, int64_t cols, double* __restrict s, double* __restrict d,
                  double* __restrict q) {
  for (int64_t c = 0; c < cols; ++c) s[c] = 0.0;
  for (int64_t r = 0; r < n; ++r) {
    const float* __restrict xr = x + r * cols;
    for (int64_t c = 0; c < cols; ++c) s[c] += static_cast<double>(xr[c]);
  }
  double* __restrict m = DoubleScratch(static_cast<size_t>(cols));
  for (int64_t c = 0; c < cols; ++c) {
    m[c] = s[c] / static_cast<double>(n);
    d[c] = 0.0;
    q[c] = 0.0;
  }
  for (int64_t r = 0; r < n; ++r) {
    const float* __restrict xr = x + r * cols;
    for (int64_t c = 0; c < cols; ++c) {
      const double v = static_cast<double>(xr[c]) - m[c];
      d[c] += v;
      q[c] += v * v;
    }
  }
}

// Σ dy (g) and Σ dy · (x − mean) (h) over one chunk of n rows.
ENGRAM_CLONES void ChunkGradSums(const float* dy, const float* x, const double* __restrict mean, int64_t n, int64_t cols,
                   double* __restrict g, double* __restrict h) {
  for (int64_t c = 0; c < cols; ++c) g[c] = h[c] = 0.0;
  for (int64_t r = 0; r < n; ++r) {
    const float* __restrict dr = dy + r * cols;
    const float* __restrict xr = x + r * cols;
    for (int64_t c = 0; c < cols; ++c) {
      const double d = static_cast<double>(dr[c]);
      g[c] += d;
      h[c] += d * (static_cast<double>(xr[c]) - mean[c]);
    }
  }
}

// y = (x − mean) · a + b over rows [r0, r1), rounded once to float.
ENGRAM_CLONES void NormaliseRows(const float* x, const double* __restrict mean, const double* __restrict a,
                                 const double* __restrict b, float* y, int64_t r0, int64_t r1, int64_t cols) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* __restrict xr = x + r * cols;
    float* __restrict yr = y + r * cols;
    for (int64_t c = 0; c < cols; ++c)
      yr[c] = static_cast<float>((static_cast<double>(xr[c]) - mean[c]) * a[c] + b[c]);
  }
}

// dx = A · dy + B · (x − mean) + C over rows [r0, r1) (coef: mean, A, B, C, cols each), rounded once.
ENGRAM_CLONES void GradRows(const float* dy, const float* x, const double* coef, float* dx, int64_t r0, int64_t r1,
                            int64_t cols) {
  const double* __restrict m = coef;
  const double* __restrict ca = coef + cols;
  const double* __restrict cb = coef + 2 * cols;
  const double* __restrict cc = coef + 3 * cols;
  for (int64_t r = r0; r < r1; ++r) {
    const float* __restrict dr = dy + r * cols;
    const float* __restrict xr = x + r * cols;
    float* __restrict o = dx + r * cols;
    for (int64_t c = 0; c < cols; ++c)
      o[c] = static_cast<float>(ca[c] * static_cast<double>(dr[c]) + cb[c] * (static_cast<double>(xr[c]) - m[c]) + cc[c]);
  }
}

}  // namespace

void BatchNormTraining(const float* x, const float* scale, const float* offset, double epsilon,
                       const BatchNormTrainingOut& out, int64_t rows, int64_t cols) {
  const Chunking chunks = ChunksOf(rows, cols);
  const int threads = ThreadsFor(rows * cols, chunks.count);
  std::vector<double> partial(static_cast<size_t>(3 * chunks.count * cols));
  double* parts = partial.data();
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t k = 0; k < chunks.count; ++k) {
    const int64_t r0 = k * chunks.rowsPer, n = r0 + chunks.rowsPer < rows ? chunks.rowsPer : rows - r0;
    double* p = parts + 3 * k * cols;
    ChunkMoments(x + r0 * cols, n, cols, p, p + cols, p + 2 * cols);
  }
  // Chunk order: the batch mean, then Σ (x − mean)² = Σ_k q_k + 2 δ_k d_k + n_k δ_k², δ_k = m_k − mean.
  std::vector<double> stats(static_cast<size_t>(3 * cols), 0.0);
  double* mean = stats.data();
  double* a = mean + cols;  // invStd · scale
  double* b = a + cols;     // offset
  for (int64_t k = 0; k < chunks.count; ++k)
    for (int64_t c = 0; c < cols; ++c) mean[c] += parts[3 * k * cols + c];
  for (int64_t c = 0; c < cols; ++c) mean[c] /= static_cast<double>(rows);
  for (int64_t c = 0; c < cols; ++c) {
    double m2 = 0.0;
    for (int64_t k = 0; k < chunks.count; ++k) {
      const double* p = parts + 3 * k * cols;
      const double n = static_cast<double>(k + 1 < chunks.count ? chunks.rowsPer : rows - k * chunks.rowsPer);
      const double delta = p[c] / n - mean[c];
      m2 += p[2 * cols + c] + 2.0 * delta * p[cols + c] + n * delta * delta;
    }
    const double variance = m2 > 0.0 ? m2 / static_cast<double>(rows) : 0.0;
    const double invStd = 1.0 / std::sqrt(variance + epsilon);
    out.mean[c] = static_cast<float>(mean[c]);
    out.variance[c] = static_cast<float>(variance);
    out.invStd[c] = static_cast<float>(invStd);
    a[c] = invStd * static_cast<double>(scale[c]);
    b[c] = static_cast<double>(offset[c]);
  }
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t k = 0; k < chunks.count; ++k) {
    const int64_t r0 = k * chunks.rowsPer, r1 = r0 + chunks.rowsPer < rows ? r0 + chunks.rowsPer : rows;
    NormaliseRows(x, mean, a, b, out.y, r0, r1, cols);
  }
}

void BatchNormTrainingGrad(const float* dy, const float* x, const float* scale, const float* mean,
                           const float* invStd, const BatchNormTrainingGradOut& out, int64_t rows, int64_t cols) {
  const Chunking chunks = ChunksOf(rows, cols);
  const int threads = ThreadsFor(rows * cols, chunks.count);
  // Per channel: the mean in double, then the dx coefficients A (of dy), B (of x − mean), C.
  std::vector<double> coef(static_cast<size_t>(4 * cols));
  double* m = coef.data();
  double* ca = m + cols;
  double* cb = ca + cols;
  double* cc = cb + cols;
  for (int64_t c = 0; c < cols; ++c) m[c] = static_cast<double>(mean[c]);
  std::vector<double> partial(static_cast<size_t>(2 * chunks.count * cols));
  double* parts = partial.data();
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t k = 0; k < chunks.count; ++k) {
    const int64_t r0 = k * chunks.rowsPer, n = r0 + chunks.rowsPer < rows ? chunks.rowsPer : rows - r0;
    double* p = parts + 2 * k * cols;
    ChunkGradSums(dy + r0 * cols, x + r0 * cols, m, n, cols, p, p + cols);
  }
  const double count = static_cast<double>(rows);
  for (int64_t c = 0; c < cols; ++c) {
    double g = 0.0, h = 0.0;
    for (int64_t k = 0; k < chunks.count; ++k) {
      g += parts[2 * k * cols + c];
      h += parts[2 * k * cols + cols + c];
    }
    const double inv = static_cast<double>(invStd[c]);
    const double dOffset = g, dScale = h * inv;
    out.dOffset[c] = static_cast<float>(dOffset);
    out.dScale[c] = static_cast<float>(dScale);
    // dx = k (N dy − dOffset − (x − mean) inv dScale), k = scale inv / N.
    const double kc = static_cast<double>(scale[c]) * inv / count;
    ca[c] = kc * count;
    cb[c] = -kc * inv * dScale;
    cc[c] = -kc * dOffset;
  }
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t k = 0; k < chunks.count; ++k) {
    const int64_t r0 = k * chunks.rowsPer, r1 = r0 + chunks.rowsPer < rows ? r0 + chunks.rowsPer : rows;
    GradRows(dy, x, coef.data(), out.dx, r0, r1, cols);
  }
}

}  // namespace engram
