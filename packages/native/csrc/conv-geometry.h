// NHWC conv geometry shared by the conv kernels. Layout of the Int32Array the JS side passes:
// [batch, inH, inW, inC, outH, outW, outC, fH, fW, strideH, strideW, dilationH, dilationW, padTop, padLeft].
#pragma once
#include <cstdint>

#include "activation.h"

namespace engram {

struct Geometry {
  int64_t b, h, w, c, oh, ow, oc, fh, fw, sh, sw, dh, dw, pt, pl;
  // Output pixels (the GEMM's rows) and the im2col row length (its reduction depth).
  int64_t Rows() const { return b * oh * ow; }
  int64_t Cols() const { return fh * fw * c; }
  bool Pointwise() const { return fh == 1 && fw == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && oh == h && ow == w; }
};

// Walks output pixels in row order without a division per pixel.
struct Pixel {
  int64_t b, oy, ox;
  Pixel(const Geometry& g, int64_t r) : b(r / (g.oh * g.ow)), oy((r / g.ow) % g.oh), ox(r % g.ow) {}
  void Next(const Geometry& g) {
    if (++ox < g.ow) return;
    ox = 0;
    if (++oy < g.oh) return;
    oy = 0;
    ++b;
  }
};

// Calls f(tap, offset) for every window tap of output pixel (b, oy, ox) that lies inside x, where tap is
// ky·fw + kx and offset the float offset of that input pixel's first channel. Padding taps are skipped.
template <typename F>
inline void ForEachTapInside(const Geometry& g, int64_t b, int64_t oy, int64_t ox, F f) {
  for (int64_t ky = 0; ky < g.fh; ++ky) {
    const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
    if (iy < 0 || iy >= g.h) continue;
    for (int64_t kx = 0; kx < g.fw; ++kx) {
      const int64_t ix = ox * g.sw - g.pl + kx * g.dw;
      if (ix < 0 || ix >= g.w) continue;
      f(ky * g.fw + kx, ((b * g.h + iy) * g.w + ix) * g.c);
    }
  }
}

inline Geometry ReadGeometry(const int32_t* g) {
  return Geometry{g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12], g[13], g[14]};
}

// Rows [r0, r1) of x's im2col matrix (row = output pixel, fh*fw*c columns, zeros for padding) into cols.
inline void Im2ColRows(const Geometry& g, const float* x, int64_t r0, int64_t r1, float* cols) {
  const int64_t kk = g.Cols();
  Pixel p(g, r0);
  for (int64_t r = r0; r < r1; ++r, p.Next(g)) {
    const int64_t ox = p.ox, oy = p.oy, b = p.b;
    float* row = cols + (r - r0) * kk;
    for (int64_t ky = 0; ky < g.fh; ++ky) {
      const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
      for (int64_t kx = 0; kx < g.fw; ++kx) {
        const int64_t ix = ox * g.sw - g.pl + kx * g.dw;
        float* __restrict dst = row + (ky * g.fw + kx) * g.c;
        if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) {
          for (int64_t c = 0; c < g.c; ++c) dst[c] = 0.0f;
        } else {
          const float* __restrict src = x + ((b * g.h + iy) * g.w + ix) * g.c;
          for (int64_t c = 0; c < g.c; ++c) dst[c] = src[c];
        }
      }
    }
  }
}

// Below this many im2col columns (fH·fW·inC, e.g. 9 for a 3x3 conv on one channel) sgemm's packing
// dominates: the direct loops of conv-direct.cc are several times faster.
constexpr int64_t kDirectMaxCols = 16;

// Direct (no im2col) forward conv into out (outC per pixel), then the epilogue, for small Cols().
void DirectConvForward(const Geometry& g, const float* x, const float* filter, float* out, const EpilogueArgs& e);
// Direct filter gradient dw[fh, fw, c, oc] = Σ_pixels x-window ⊗ dy, for small Cols().
void DirectConvFilterGrad(const Geometry& g, const float* x, const float* dy, float* dw);

}  // namespace engram
