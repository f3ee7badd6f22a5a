// Convolutions (NHWC) as im2col + cblas_sgemm, in place on the wasm heap.
// Geometry (Int32Array): [batch, inH, inW, inC, outH, outW, outC, fH, fW, strideH, strideW,
//                         dilationH, dilationW, padTop, padLeft].
#include "conv-kernels.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "blas-loader.h"

namespace engram {
namespace {

struct Geometry {
  int64_t b, h, w, c, oh, ow, oc, fh, fw, sh, sw, dh, dw, pt, pl;
  int64_t Rows() const { return b * oh * ow; }
  int64_t Cols() const { return fh * fw * c; }
  bool Pointwise() const { return fh == 1 && fw == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && oh == h && ow == w; }
};

Geometry ReadGeometry(const int32_t* g) {
  return Geometry{g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12], g[13], g[14]};
}

std::vector<float>& Scratch(size_t n) {
  static std::vector<float> scratch;
  if (scratch.size() < n) scratch.resize(n);
  return scratch;
}

void Im2Col(const Geometry& g, const float* x, float* cols) {
  const int64_t kk = g.Cols();
  for (int64_t b = 0; b < g.b; ++b) {
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        float* row = cols + ((b * g.oh + oy) * g.ow + ox) * kk;
        for (int64_t ky = 0; ky < g.fh; ++ky) {
          const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
          for (int64_t kx = 0; kx < g.fw; ++kx) {
            const int64_t ix = ox * g.sw - g.pl + kx * g.dw;
            float* dst = row + (ky * g.fw + kx) * g.c;
            if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) {
              for (int64_t c = 0; c < g.c; ++c) dst[c] = 0.0f;
            } else {
              const float* src = x + ((b * g.h + iy) * g.w + ix) * g.c;
              for (int64_t c = 0; c < g.c; ++c) dst[c] = src[c];
            }
          }
        }
      }
    }
  }
}

void Col2Im(const Geometry& g, const float* cols, float* dx) {
  std::memset(dx, 0, static_cast<size_t>(g.b * g.h * g.w * g.c) * sizeof(float));
  const int64_t kk = g.Cols();
  for (int64_t b = 0; b < g.b; ++b) {
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        const float* row = cols + ((b * g.oh + oy) * g.ow + ox) * kk;
        for (int64_t ky = 0; ky < g.fh; ++ky) {
          const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
          if (iy < 0 || iy >= g.h) continue;
          for (int64_t kx = 0; kx < g.fw; ++kx) {
            const int64_t ix = ox * g.sw - g.pl + kx * g.dw;
            if (ix < 0 || ix >= g.w) continue;
            float* dst = dx + ((b * g.h + iy) * g.w + ix) * g.c;
            const float* src = row + (ky * g.fw + kx) * g.c;
            for (int64_t c = 0; c < g.c; ++c) dst[c] = dst[c] + src[c];
          }
        }
      }
    }
  }
}

// Below this many columns (fH·fW·inC, e.g. 9 for a 3x3 conv on one channel) sgemm's packing
// overhead dominates: a direct loop over the output channels is ~3x faster.
constexpr int64_t kDirectMaxCols = 16;

void DirectForward(const Geometry& g, const float* cols, const float* filter, float* out) {
  const int64_t kk = g.Cols(), oc = g.oc;
  for (int64_t r = 0; r < g.Rows(); ++r) {
    float* __restrict o = out + r * oc;
    const float* row = cols + r * kk;
    for (int64_t j = 0; j < oc; ++j) o[j] = 0.0f;
    for (int64_t k = 0; k < kk; ++k) {
      const float a = row[k];
      const float* __restrict w = filter + k * oc;
      for (int64_t j = 0; j < oc; ++j) o[j] = o[j] + a * w[j];
    }
  }
}

void DirectFilterGrad(const Geometry& g, const float* cols, const float* dy, float* dw) {
  const int64_t kk = g.Cols(), oc = g.oc;
  for (int64_t i = 0; i < kk * oc; ++i) dw[i] = 0.0f;
  for (int64_t r = 0; r < g.Rows(); ++r) {
    const float* row = cols + r * kk;
    const float* __restrict d = dy + r * oc;
    for (int64_t k = 0; k < kk; ++k) {
      const float a = row[k];
      float* __restrict w = dw + k * oc;
      for (int64_t j = 0; j < oc; ++j) w[j] = w[j] + a * d[j];
    }
  }
}

// The im2col matrix of x (rows = output pixels, cols = fh*fw*ic); x itself for a 1x1 stride-1 conv.
const float* Columns(const Geometry& g, const float* x) {
  if (g.Pointwise()) return x;
  float* buf = Scratch(static_cast<size_t>(g.Rows() * g.Cols())).data();
  Im2Col(g, x, buf);
  return buf;
}

}  // namespace

void Conv2D(const int32_t* geometry, const float* x, const float* filter, float* out) {
  const Geometry g = ReadGeometry(geometry);
  const float* cols = Columns(g, x);
  if (g.Cols() <= kDirectMaxCols) {
    DirectForward(g, cols, filter, out);
    return;
  }
  Sgemm()(kRowMajor, kNoTrans, kNoTrans, static_cast<int>(g.Rows()), static_cast<int>(g.oc), static_cast<int>(g.Cols()),
          1.0f, cols, static_cast<int>(g.Cols()), filter, static_cast<int>(g.oc), 0.0f, out, static_cast<int>(g.oc));
}

void Conv2DBackpropInput(const int32_t* geometry, const float* dy, const float* filter, float* dx) {
  const Geometry g = ReadGeometry(geometry);
  float* dcols = g.Pointwise() ? dx : Scratch(static_cast<size_t>(g.Rows() * g.Cols())).data();
  Sgemm()(kRowMajor, kNoTrans, kTrans, static_cast<int>(g.Rows()), static_cast<int>(g.Cols()), static_cast<int>(g.oc),
          1.0f, dy, static_cast<int>(g.oc), filter, static_cast<int>(g.oc), 0.0f, dcols, static_cast<int>(g.Cols()));
  if (!g.Pointwise()) Col2Im(g, dcols, dx);
}

void Conv2DBackpropFilter(const int32_t* geometry, const float* x, const float* dy, float* dw) {
  const Geometry g = ReadGeometry(geometry);
  const float* cols = Columns(g, x);
  if (g.Cols() <= kDirectMaxCols) {
    DirectFilterGrad(g, cols, dy, dw);
    return;
  }
  Sgemm()(kRowMajor, kTrans, kNoTrans, static_cast<int>(g.Cols()), static_cast<int>(g.oc), static_cast<int>(g.Rows()),
          1.0f, cols, static_cast<int>(g.Cols()), dy, static_cast<int>(g.oc), 0.0f, dw, static_cast<int>(g.oc));
}

void MaxPoolGrad(const int32_t* geometry, const float* x, const float* dy, float* dx) {
  const Geometry g = ReadGeometry(geometry);
  std::memset(dx, 0, static_cast<size_t>(g.b * g.h * g.w * g.c) * sizeof(float));
  std::vector<float> best(static_cast<size_t>(g.c));
  std::vector<int32_t> tapOf(static_cast<size_t>(g.c));  // winning tap (ky * fw + kx) per channel
  std::vector<int64_t> tapBase(static_cast<size_t>(g.fh * g.fw));  // x/dx offset of each tap in this window
  float* __restrict bestP = best.data();
  int32_t* __restrict tapP = tapOf.data();
  for (int64_t b = 0; b < g.b; ++b) {
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        for (int64_t c = 0; c < g.c; ++c) {
          bestP[c] = -INFINITY;
          tapP[c] = -1;
        }
        // Scan the window in row order; a strictly greater value wins, so the first maximum is kept (as tfjs).
        for (int64_t ky = 0; ky < g.fh; ++ky) {
          const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
          if (iy < 0 || iy >= g.h) continue;
          for (int64_t kx = 0; kx < g.fw; ++kx) {
            const int64_t ix = ox * g.sw - g.pl + kx * g.dw;
            if (ix < 0 || ix >= g.w) continue;
            const int32_t tap = static_cast<int32_t>(ky * g.fw + kx);
            tapBase[static_cast<size_t>(tap)] = ((b * g.h + iy) * g.w + ix) * g.c;
            const float* __restrict xp = x + tapBase[static_cast<size_t>(tap)];
            // Branch-free (random data would mispredict every compare) and vectorisable.
#pragma GCC ivdep
            for (int64_t c = 0; c < g.c; ++c) {
              const float v = xp[c], current = bestP[c];
              const int32_t take = -static_cast<int32_t>(v > current);
              bestP[c] = v > current ? v : current;
              tapP[c] = (tapP[c] & ~take) | (tap & take);
            }
          }
        }
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
}

int64_t InputSize(const int32_t* g) { return static_cast<int64_t>(g[0]) * g[1] * g[2] * g[3]; }
int64_t OutputSize(const int32_t* g) { return static_cast<int64_t>(g[0]) * g[4] * g[5] * g[6]; }
int64_t FilterSize(const int32_t* g) { return static_cast<int64_t>(g[7]) * g[8] * g[3] * g[6]; }

}  // namespace engram
