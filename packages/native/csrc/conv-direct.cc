// Direct convolution loops for convs with few im2col columns (e.g. 3x3 on one input channel): no
// im2col matrix, no sgemm packing; each output pixel reads its window straight from x. OpenMP over
// output pixels (forward) or over fixed chunks of pixels whose partial sums are added in chunk order
// (filter gradient), so results do not depend on the thread count.
#include <vector>

#include "conv-geometry.h"
#include "parallel.h"

namespace engram {
namespace {

// Pixels per filter-gradient chunk: fixed, so the summation order never depends on the threads.
constexpr int64_t kFilterChunkRows = 2048;
// Output channels per register block and pixels per filter-gradient block.
constexpr int64_t kLanes = 16;
constexpr int64_t kBlockRows = 64;

// Compiled for AVX-512, AVX2 and baseline x86-64, picked at load time. No FMA contraction
// (-ffp-contract=off) and per-lane arithmetic only, so every variant gives the same bits.
#define ENGRAM_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

// The window of pixel r as kk values (zeros for padding), into a.
inline void Window(const Geometry& g, const float* x, const Pixel& p, float* a) {
  const int64_t ox = p.ox, oy = p.oy, b = p.b;
  for (int64_t ky = 0; ky < g.fh; ++ky) {
    const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
    for (int64_t kx = 0; kx < g.fw; ++kx) {
      const int64_t ix = ox * g.sw - g.pl + kx * g.dw;
      float* dst = a + (ky * g.fw + kx) * g.c;
      if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) {
        const float* src = x + ((b * g.h + iy) * g.w + ix) * g.c;
        for (int64_t c = 0; c < g.c; ++c) dst[c] = src[c];
      } else {
        for (int64_t c = 0; c < g.c; ++c) dst[c] = 0.0f;
      }
    }
  }
}

// out[r, :] = Σ_k window(r)[k] · filter[k, :] for output pixels r in [r0, r1), k in order.
ENGRAM_CLONES void ForwardRows(const Geometry& g, const float* x, const float* filter, float* out, int64_t r0, int64_t r1) {
  const int64_t oc = g.oc, kk = g.Cols(), full = oc - oc % kLanes;
  float a[kDirectMaxCols];
  Pixel p(g, r0);
  for (int64_t r = r0; r < r1; ++r, p.Next(g)) {
    Window(g, x, p, a);
    float* __restrict o = out + r * oc;
    for (int64_t j0 = 0; j0 < full; j0 += kLanes) {
      float acc[kLanes] = {};
      for (int64_t k = 0; k < kk; ++k) {
        const float* __restrict w = filter + k * oc + j0;
        for (int64_t u = 0; u < kLanes; ++u) acc[u] = acc[u] + a[k] * w[u];
      }
      for (int64_t u = 0; u < kLanes; ++u) o[j0 + u] = acc[u];
    }
    for (int64_t j = full; j < oc; ++j) {
      float acc = 0.0f;
      for (int64_t k = 0; k < kk; ++k) acc = acc + a[k] * filter[k * oc + j];
      o[j] = acc;
    }
  }
}

// partial[k, :] = Σ_{r in [r0, r1)} window(r)[k] · dy[r, :], summed per block of kBlockRows pixels.
ENGRAM_CLONES void FilterGradRows(const Geometry& g, const float* x, const float* dy, float* partial, int64_t r0, int64_t r1) {
  const int64_t oc = g.oc, kk = g.Cols(), full = oc - oc % kLanes;
  float a[kBlockRows][kDirectMaxCols];
  for (int64_t i = 0; i < kk * oc; ++i) partial[i] = 0.0f;
  Pixel px(g, r0);
  for (int64_t rb = r0; rb < r1; rb += kBlockRows) {
    const int64_t n = rb + kBlockRows < r1 ? kBlockRows : r1 - rb;
    for (int64_t i = 0; i < n; ++i, px.Next(g)) Window(g, x, px, a[i]);
    const float* d = dy + rb * oc;
    for (int64_t k = 0; k < kk; ++k) {
      float* __restrict p = partial + k * oc;
      for (int64_t j0 = 0; j0 < full; j0 += kLanes) {
        float acc[kLanes] = {};
        for (int64_t i = 0; i < n; ++i) {
          const float* __restrict dr = d + i * oc + j0;
          for (int64_t u = 0; u < kLanes; ++u) acc[u] = acc[u] + a[i][k] * dr[u];
        }
        for (int64_t u = 0; u < kLanes; ++u) p[j0 + u] = p[j0 + u] + acc[u];
      }
      for (int64_t j = full; j < oc; ++j) {
        float acc = 0.0f;
        for (int64_t i = 0; i < n; ++i) acc = acc + a[i][k] * d[i * oc + j];
        p[j] = p[j] + acc;
      }
    }
  }
}

}  // namespace

void DirectConvForward(const Geometry& g, const float* x, const float* filter, float* out, const EpilogueArgs& e) {
  const int64_t rows = g.Rows(), block = 256;
  const int64_t blocks = (rows + block - 1) / block;
#pragma omp parallel for schedule(dynamic, 4) num_threads(Threads()) if (rows * g.oc >= kParallelMinFloats)
  for (int64_t i = 0; i < blocks; ++i) {
    const int64_t r0 = i * block, r1 = r0 + block < rows ? r0 + block : rows;
    ForwardRows(g, x, filter, out, r0, r1);
    if (e.Active()) Epilogue(out + r0 * g.oc, r1 - r0, g.oc, e);
  }
}

void DirectConvFilterGrad(const Geometry& g, const float* x, const float* dy, float* dw) {
  const int64_t rows = g.Rows(), size = g.Cols() * g.oc;
  const int64_t chunks = (rows + kFilterChunkRows - 1) / kFilterChunkRows;
  static std::vector<float> partials;
  if (partials.size() < static_cast<size_t>(chunks * size)) partials.resize(static_cast<size_t>(chunks * size));
  float* p = partials.data();
#pragma omp parallel for schedule(dynamic, 1) num_threads(Threads()) if (chunks > 1)
  for (int64_t i = 0; i < chunks; ++i) {
    const int64_t r0 = i * kFilterChunkRows, r1 = r0 + kFilterChunkRows < rows ? r0 + kFilterChunkRows : rows;
    FilterGradRows(g, x, dy, p + i * size, r0, r1);
  }
  for (int64_t k = 0; k < size; ++k) dw[k] = p[k];
  for (int64_t i = 1; i < chunks; ++i) {
    const float* __restrict src = p + i * size;
    for (int64_t k = 0; k < size; ++k) dw[k] = dw[k] + src[k];
  }
}

}  // namespace engram
