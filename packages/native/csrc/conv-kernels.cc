// Convolutions as im2col + cblas_sgemm, chunked: each OpenMP task builds the im2col rows of one chunk
// of output pixels in a per-thread buffer that stays in L2 and runs a single-threaded sgemm on it
// (OpenBLAS runs one thread inside a parallel region), instead of materialising the whole im2col
// matrix (18 MB for the bench CNN's second conv) and streaming it through memory twice.
#include "conv-kernels.h"

#include <cstring>
#include <vector>

#include "blas-loader.h"
#include "conv-geometry.h"
#include "parallel.h"

namespace engram {
namespace {

// Output pixels per chunk: 512 rows x 288 columns is 590 KB, inside a core's L2.
constexpr int64_t kChunkRows = 512;

int64_t Chunks(int64_t rows, int64_t per) { return (rows + per - 1) / per; }

// dx[window of pixel r] += dcols[r] for pixels r in [r0, r1) (dcols holds those rows only).
void Col2ImRows(const Geometry& g, const float* dcols, int64_t r0, int64_t r1, float* dx) {
  const int64_t kk = g.Cols();
  Pixel p(g, r0);
  for (int64_t r = r0; r < r1; ++r, p.Next(g)) {
    const float* row = dcols + (r - r0) * kk;
    ForEachTapInside(g, p.b, p.oy, p.ox, [&](int64_t tap, int64_t offset) {
      float* __restrict dst = dx + offset;
      const float* __restrict src = row + tap * g.c;
      for (int64_t c = 0; c < g.c; ++c) dst[c] = dst[c] + src[c];
    });
  }
}

int I(int64_t v) { return static_cast<int>(v); }

}  // namespace

void Conv2D(const int32_t* geometry, const float* x, const float* filter, float* out, const EpilogueArgs& e) {
  const Geometry g = ReadGeometry(geometry);
  const int64_t rows = g.Rows(), kk = g.Cols(), oc = g.oc;
  if (kk <= kDirectMaxCols) {
    DirectConvForward(g, x, filter, out, e);
    return;
  }
  if (g.Pointwise()) {
    Sgemm()(kRowMajor, kNoTrans, kNoTrans, I(rows), I(oc), I(kk), 1.0f, x, I(kk), filter, I(oc), 0.0f, out, I(oc));
    if (e.Active()) Epilogue(out, rows, oc, e);
    return;
  }
  const int64_t chunks = Chunks(rows, kChunkRows);
#pragma omp parallel for schedule(dynamic, 1) num_threads(Threads()) if (chunks > 1)
  for (int64_t i = 0; i < chunks; ++i) {
    const int64_t r0 = i * kChunkRows, r1 = r0 + kChunkRows < rows ? r0 + kChunkRows : rows;
    float* cols = ThreadScratch(static_cast<size_t>(kChunkRows * kk));
    Im2ColRows(g, x, r0, r1, cols);
    Sgemm()(kRowMajor, kNoTrans, kNoTrans, I(r1 - r0), I(oc), I(kk), 1.0f, cols, I(kk), filter, I(oc), 0.0f,
            out + r0 * oc, I(oc));
    if (e.Active()) Epilogue(out + r0 * oc, r1 - r0, oc, e);
  }
}

void Conv2DBackpropInput(const int32_t* geometry, const float* dy, const float* filter, float* dx) {
  const Geometry g = ReadGeometry(geometry);
  const int64_t kk = g.Cols(), oc = g.oc;
  if (g.Pointwise()) {
    Sgemm()(kRowMajor, kNoTrans, kTrans, I(g.Rows()), I(kk), I(oc), 1.0f, dy, I(oc), filter, I(oc), 0.0f, dx, I(kk));
    return;
  }
  // Chunks of whole images: col2im of one image only touches that image's dx, so chunks never overlap.
  const int64_t perImage = g.oh * g.ow, imageSize = g.h * g.w * g.c;
  const int64_t images = perImage >= kChunkRows ? 1 : kChunkRows / perImage;
  const int64_t chunks = Chunks(g.b, images);
#pragma omp parallel for schedule(dynamic, 1) num_threads(Threads()) if (chunks > 1)
  for (int64_t i = 0; i < chunks; ++i) {
    const int64_t b0 = i * images, b1 = b0 + images < g.b ? b0 + images : g.b;
    const int64_t r0 = b0 * perImage, r1 = b1 * perImage;
    float* dcols = ThreadScratch(static_cast<size_t>(images * perImage * kk));
    Sgemm()(kRowMajor, kNoTrans, kTrans, I(r1 - r0), I(kk), I(oc), 1.0f, dy + r0 * oc, I(oc), filter, I(oc), 0.0f,
            dcols, I(kk));
    std::memset(dx + b0 * imageSize, 0, static_cast<size_t>((b1 - b0) * imageSize) * sizeof(float));
    Col2ImRows(g, dcols, r0, r1, dx);
  }
}

void Conv2DBackpropFilter(const int32_t* geometry, const float* x, const float* dy, float* dw) {
  const Geometry g = ReadGeometry(geometry);
  const int64_t rows = g.Rows(), kk = g.Cols(), oc = g.oc, size = kk * oc;
  if (kk <= kDirectMaxCols) {
    DirectConvFilterGrad(g, x, dy, dw);
    return;
  }
  if (g.Pointwise()) {
    Sgemm()(kRowMajor, kTrans, kNoTrans, I(kk), I(oc), I(rows), 1.0f, x, I(kk), dy, I(oc), 0.0f, dw, I(oc));
    return;
  }
  // Each chunk's colsᵀ·dy goes to its own partial; partials are then added in chunk order.
  const int64_t chunks = Chunks(rows, kChunkRows);
  static std::vector<float> partials;
  if (partials.size() < static_cast<size_t>(chunks * size)) partials.resize(static_cast<size_t>(chunks * size));
  float* p = partials.data();
#pragma omp parallel num_threads(Threads()) if (chunks > 1)
  {
#pragma omp for schedule(dynamic, 1)
    for (int64_t i = 0; i < chunks; ++i) {
      const int64_t r0 = i * kChunkRows, r1 = r0 + kChunkRows < rows ? r0 + kChunkRows : rows;
      float* cols = ThreadScratch(static_cast<size_t>(kChunkRows * kk));
      Im2ColRows(g, x, r0, r1, cols);
      Sgemm()(kRowMajor, kTrans, kNoTrans, I(kk), I(oc), I(r1 - r0), 1.0f, cols, I(kk), dy + r0 * oc, I(oc), 0.0f,
              p + i * size, I(oc));
    }
    // Blocks of dw, each element summed over the chunks in chunk order.
#pragma omp for schedule(static)
    for (int64_t k0 = 0; k0 < size; k0 += 1024) {
      const int64_t k1 = k0 + 1024 < size ? k0 + 1024 : size;
      for (int64_t k = k0; k < k1; ++k) dw[k] = p[k];
      for (int64_t i = 1; i < chunks; ++i) {
        const float* __restrict src = p + i * size;
        for (int64_t k = k0; k < k1; ++k) dw[k] = dw[k] + src[k];
      }
    }
  }
}

int64_t InputSize(const int32_t* g) { return static_cast<int64_t>(g[0]) * g[1] * g[2] * g[3]; }
int64_t OutputSize(const int32_t* g) { return static_cast<int64_t>(g[0]) * g[4] * g[5] * g[6]; }
int64_t FilterSize(const int32_t* g) { return static_cast<int64_t>(g[7]) * g[8] * g[3] * g[6]; }

}  // namespace engram
