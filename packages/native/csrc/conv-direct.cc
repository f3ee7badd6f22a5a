// Direct convolution loops for convs with few im2col columns (e.g. 3x3 on one input channel): no
// im2col matrix, no sgemm packing; each output pixel reads its window straight from x. OpenMP over
// output pixels (forward) or over fixed chunks of pixels whose partial sums are added in chunk order
// (filter gradient), so results do not depend on the thread count.
#include <vector>

#include "conv-geometry.h"
#include "parallel.h"
#include "simd-clones.h"

namespace engram {
namespace {

// Pixels per filter-gradient chunk: fixed, so the summation order never depends on the threads.
constexpr int64_t kFilterChunkRows = 2048;
// Output channels per register block and pixels per filter-gradient block.
constexpr int64_t kLanes = 16;
constexpr int64_t kBlockRows = 64;
// Pixels whose accumulators are updated together (independent dependency chains).
constexpr int64_t kGroup = 4;  // FilterGradRows spells its 4 accumulators out

// kLanes floats as one GCC vector (one zmm, two ymm or four xmm): named vector variables stay in
// registers where arrays of accumulators were spilled to the stack. Unaligned loads and stores.
typedef float Lanes __attribute__((vector_size(kLanes * sizeof(float)), aligned(sizeof(float))));

// Helpers taking or returning Lanes are always inlined into each target clone, so GCC's note that
// the vector ABI differs between targets (-Wpsabi) does not apply to this file.
#pragma GCC diagnostic ignored "-Wpsabi"
__attribute__((always_inline)) inline Lanes Load(const float* p) { return *reinterpret_cast<const Lanes*>(p); }
__attribute__((always_inline)) inline void Store(float* p, Lanes v) { *reinterpret_cast<Lanes*>(p) = v; }

// ENGRAM_CLONES (simd-clones.h): compiled for AVX-512, AVX2 and baseline x86-64, picked at load time.

// Reads pixel windows as kk values (zeros for padding): by precomputed tap offsets when the window
// lies inside x (no per-tap bounds checks), tap by tap otherwise.
struct WindowReader {
  const Geometry& g;
  const float* x;
  int64_t offset[kDirectMaxCols];

  WindowReader(const Geometry& geometry, const float* input) : g(geometry), x(input) {
    for (int64_t ky = 0; ky < g.fh; ++ky) {
      for (int64_t kx = 0; kx < g.fw; ++kx) {
        for (int64_t c = 0; c < g.c; ++c) offset[(ky * g.fw + kx) * g.c + c] = (ky * g.dh * g.w + kx * g.dw) * g.c + c;
      }
    }
  }

  void Read(const Pixel& p, float* a) const {
    const int64_t iy0 = p.oy * g.sh - g.pt, ix0 = p.ox * g.sw - g.pl;
    if (iy0 >= 0 && ix0 >= 0 && iy0 + (g.fh - 1) * g.dh < g.h && ix0 + (g.fw - 1) * g.dw < g.w) {
      const float* base = x + ((p.b * g.h + iy0) * g.w + ix0) * g.c;
      for (int64_t k = 0; k < g.Cols(); ++k) a[k] = base[offset[k]];
      return;
    }
    for (int64_t ky = 0; ky < g.fh; ++ky) {
      const int64_t iy = iy0 + ky * g.dh;
      for (int64_t kx = 0; kx < g.fw; ++kx) {
        const int64_t ix = ix0 + kx * g.dw;
        float* dst = a + (ky * g.fw + kx) * g.c;
        if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) {
          const float* src = x + ((p.b * g.h + iy) * g.w + ix) * g.c;
          for (int64_t c = 0; c < g.c; ++c) dst[c] = src[c];
        } else {
          for (int64_t c = 0; c < g.c; ++c) dst[c] = 0.0f;
        }
      }
    }
  }
};

// out[r + q, :] = Σ_k a[q][k] · filter[k, :] for q < Q, k in order; Q rows at once are Q independent
// accumulator chains that hide the add latency (Q is a constant so the accumulators stay in registers).
template <int64_t Q>
__attribute__((always_inline)) inline void ForwardGroup(const float (*a)[kDirectMaxCols], const float* filter, int64_t kk, int64_t oc, float* out) {
  const int64_t full = oc - oc % kLanes;
  for (int64_t j0 = 0; j0 < full; j0 += kLanes) {
    Lanes acc[Q] = {};
    for (int64_t k = 0; k < kk; ++k) {
      const Lanes w = Load(filter + k * oc + j0);
      for (int64_t q = 0; q < Q; ++q) acc[q] = acc[q] + a[q][k] * w;
    }
    for (int64_t q = 0; q < Q; ++q) Store(out + q * oc + j0, acc[q]);
  }
  for (int64_t q = 0; q < Q; ++q) {
    for (int64_t j = full; j < oc; ++j) {
      float acc = 0.0f;
      for (int64_t k = 0; k < kk; ++k) acc = acc + a[q][k] * filter[k * oc + j];
      out[q * oc + j] = acc;
    }
  }
}

// out[r, :] = Σ_k window(r)[k] · filter[k, :] for output pixels r in [r0, r1).
ENGRAM_CLONES void ForwardRows(const Geometry& g, const float* x, const float* filter, float* out, int64_t r0, int64_t r1) {
  const int64_t oc = g.oc, kk = g.Cols();
  float a[kGroup][kDirectMaxCols];
  const WindowReader window(g, x);
  Pixel p(g, r0);
  int64_t r = r0;
  for (; r + kGroup <= r1; r += kGroup) {
    for (int64_t q = 0; q < kGroup; ++q, p.Next(g)) window.Read(p, a[q]);
    ForwardGroup<kGroup>(a, filter, kk, oc, out + r * oc);
  }
  for (; r < r1; ++r, p.Next(g)) {
    window.Read(p, a[0]);
    ForwardGroup<1>(a, filter, kk, oc, out + r * oc);
  }
}

// partial[k, :] = Σ_{r in [r0, r1)} window(r)[k] · dy[r, :]: per block of kBlockRows pixels, kGroup
// interleaved partial sums (independent chains), added in a fixed order.
ENGRAM_CLONES void FilterGradRows(const Geometry& g, const float* x, const float* dy, float* partial, int64_t r0, int64_t r1) {
  const int64_t oc = g.oc, kk = g.Cols(), full = oc - oc % kLanes;
  float a[kBlockRows][kDirectMaxCols];
  const WindowReader window(g, x);
  for (int64_t i = 0; i < kk * oc; ++i) partial[i] = 0.0f;
  Pixel px(g, r0);
  for (int64_t rb = r0; rb < r1; rb += kBlockRows) {
    const int64_t n = rb + kBlockRows < r1 ? kBlockRows : r1 - rb, grouped = n - n % kGroup;
    for (int64_t i = 0; i < n; ++i, px.Next(g)) window.Read(px, a[i]);
    const float* d = dy + rb * oc;
    for (int64_t k = 0; k < kk; ++k) {
      float* __restrict p = partial + k * oc;
      for (int64_t j0 = 0; j0 < full; j0 += kLanes) {
        Lanes acc0 = {}, acc1 = {}, acc2 = {}, acc3 = {};
        for (int64_t i = 0; i < grouped; i += kGroup) {
          const float* dr = d + i * oc + j0;
          acc0 = acc0 + a[i][k] * Load(dr);
          acc1 = acc1 + a[i + 1][k] * Load(dr + oc);
          acc2 = acc2 + a[i + 2][k] * Load(dr + 2 * oc);
          acc3 = acc3 + a[i + 3][k] * Load(dr + 3 * oc);
        }
        for (int64_t i = grouped; i < n; ++i) acc0 = acc0 + a[i][k] * Load(d + i * oc + j0);
        Store(p + j0, Load(p + j0) + ((acc0 + acc1) + (acc2 + acc3)));
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
