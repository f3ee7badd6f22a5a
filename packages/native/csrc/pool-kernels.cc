// Max pooling (NHWC), OpenMP over output rows or images (disjoint writes: thread-count independent).
// A 2x2 stride-2 unpadded pool, the common case, has a fast gradient path: its windows tile the
// input, so every dx element is written exactly once (no zero fill, no scatter).
#include "pool-kernels.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "conv-geometry.h"
#include "parallel.h"

namespace engram {
namespace {

bool Tiled2x2(const Geometry& g) {
  return g.fh == 2 && g.fw == 2 && g.sh == 2 && g.sw == 2 && g.dh == 1 && g.dw == 1 && g.pt == 0 && g.pl == 0 &&
         2 * g.oh <= g.h && 2 * g.ow <= g.w;
}

// One 2x2 window per channel: a = top-left pixel's c channels (top-right follows), bq = the row below.
void Grad2x2Pixel(const float* __restrict a, const float* __restrict bq, const float* __restrict gr,
                  float* __restrict da, float* __restrict db, int64_t c) {
  for (int64_t k = 0; k < c; ++k) {
    // Row-order scan with strict '>': the first maximum wins (tfjs cpu's rule).
    const float v0 = a[k], v1 = a[c + k], v2 = bq[k], v3 = bq[c + k];
    // The scan as branch-free masks (s_i: tap i beats the best so far) so the loop vectorises.
    const float b0 = -INFINITY;
    const int32_t s0 = -static_cast<int32_t>(v0 > b0);
    const float b1 = v0 > b0 ? v0 : b0;
    const int32_t s1 = -static_cast<int32_t>(v1 > b1);
    const float b2 = v1 > b1 ? v1 : b1;
    const int32_t s2 = -static_cast<int32_t>(v2 > b2);
    const float b3 = v2 > b2 ? v2 : b2;
    const int32_t t3 = -static_cast<int32_t>(v3 > b3);
    const int32_t t2 = s2 & ~t3;
    const int32_t t1 = s1 & ~s2 & ~t3;
    const int32_t t0 = s0 & ~s1 & ~s2 & ~t3;
    // dx = dy where the tap won, else +0: as bits (gradient & mask), which vectorises.
    int32_t gv;
    std::memcpy(&gv, gr + k, sizeof gv);
    const int32_t o0 = gv & t0, o1 = gv & t1, o2 = gv & t2, o3 = gv & t3;
    std::memcpy(da + k, &o0, sizeof o0);
    std::memcpy(da + c + k, &o1, sizeof o1);
    std::memcpy(db + k, &o2, sizeof o2);
    std::memcpy(db + c + k, &o3, sizeof o3);
  }
}

// One output row (image b, row oy) of the 2x2/2 gradient, plus the input columns no window covers.
void Grad2x2Row(const Geometry& g, const float* x, const float* dy, float* dx, int64_t b, int64_t oy) {
  const int64_t c = g.c, rowLen = g.w * c;
  const float* x0 = x + (b * g.h + 2 * oy) * rowLen;
  const float* x1 = x0 + rowLen;
  float* d0 = dx + (b * g.h + 2 * oy) * rowLen;
  float* d1 = d0 + rowLen;
  const float* gy = dy + (b * g.oh + oy) * g.ow * c;
  for (int64_t ox = 0; ox < g.ow; ++ox) {
    Grad2x2Pixel(x0 + 2 * ox * c, x1 + 2 * ox * c, gy + ox * c, d0 + 2 * ox * c, d1 + 2 * ox * c, c);
  }
  const size_t tail = static_cast<size_t>((g.w - 2 * g.ow) * c) * sizeof(float);
  if (tail > 0) {
    std::memset(d0 + 2 * g.ow * c, 0, tail);
    std::memset(d1 + 2 * g.ow * c, 0, tail);
  }
}

// The general gradient for image b: scan each window in row order, add dy at the first maximum.
void GradImage(const Geometry& g, const float* x, const float* dy, float* dx, int64_t b) {
  std::memset(dx + b * g.h * g.w * g.c, 0, static_cast<size_t>(g.h * g.w * g.c) * sizeof(float));
  std::vector<float> best(static_cast<size_t>(g.c));
  std::vector<int32_t> tapOf(static_cast<size_t>(g.c));
  std::vector<int64_t> tapBase(static_cast<size_t>(g.fh * g.fw));
  float* __restrict bestP = best.data();
  int32_t* __restrict tapP = tapOf.data();
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    for (int64_t ox = 0; ox < g.ow; ++ox) {
      for (int64_t c = 0; c < g.c; ++c) {
        bestP[c] = -INFINITY;
        tapP[c] = -1;
      }
      ForEachTapInside(g, b, oy, ox, [&](int64_t t, int64_t offset) {
        const int32_t tap = static_cast<int32_t>(t);
        tapBase[static_cast<size_t>(tap)] = offset;
        const float* __restrict xp = x + offset;
        // Branch-free (random data would mispredict every compare) and vectorisable.
#pragma GCC ivdep
        for (int64_t c = 0; c < g.c; ++c) {
          const float v = xp[c], current = bestP[c];
          const int32_t take = -static_cast<int32_t>(v > current);
          bestP[c] = v > current ? v : current;
          tapP[c] = (tapP[c] & ~take) | (tap & take);
        }
      });
      const float* grad = dy + ((b * g.oh + oy) * g.ow + ox) * g.c;
      for (int64_t c = 0; c < g.c; ++c) {
        const int32_t tap = tapP[c];
        if (tap < 0) continue;
        float& target = dx[tapBase[static_cast<size_t>(tap)] + c];
        target = target + grad[c];
      }
    }
  }
}

}  // namespace

void MaxPool(const int32_t* geometry, const float* x, float* out) {
  const Geometry g = ReadGeometry(geometry);
  const int64_t rows = g.b * g.oh;
#pragma omp parallel for schedule(static) num_threads(Threads()) if (rows * g.ow * g.c >= kParallelMinFloats)
  for (int64_t row = 0; row < rows; ++row) {
    const int64_t b = row / g.oh, oy = row % g.oh;
    for (int64_t ox = 0; ox < g.ow; ++ox) {
      float* __restrict o = out + (row * g.ow + ox) * g.c;
      for (int64_t c = 0; c < g.c; ++c) o[c] = -INFINITY;
      ForEachTapInside(g, b, oy, ox, [&](int64_t, int64_t offset) {
        const float* __restrict xp = x + offset;
        for (int64_t c = 0; c < g.c; ++c) o[c] = xp[c] > o[c] ? xp[c] : o[c];
      });
    }
  }
}

void MaxPoolGrad(const int32_t* geometry, const float* x, const float* dy, float* dx) {
  const Geometry g = ReadGeometry(geometry);
  const bool parallel = g.b * g.h * g.w * g.c >= kParallelMinFloats;
  if (Tiled2x2(g)) {
    const int64_t rows = g.b * g.oh, rowLen = g.w * g.c;
#pragma omp parallel for schedule(static) num_threads(Threads()) if (parallel)
    for (int64_t row = 0; row < rows; ++row) Grad2x2Row(g, x, dy, dx, row / g.oh, row % g.oh);
    // Input rows below the last window get no gradient.
    const int64_t uncovered = g.h - 2 * g.oh;
    for (int64_t b = 0; uncovered > 0 && b < g.b; ++b) {
      std::memset(dx + (b * g.h + 2 * g.oh) * rowLen, 0, static_cast<size_t>(uncovered * rowLen) * sizeof(float));
    }
    return;
  }
#pragma omp parallel for schedule(static) num_threads(Threads()) if (parallel && g.b > 1)
  for (int64_t b = 0; b < g.b; ++b) GradImage(g, x, dy, dx, b);
}

}  // namespace engram
