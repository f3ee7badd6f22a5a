// NHWC convolutions (filter [fH, fW, inC, outC]) on the wasm heap: direct loops for few im2col
// columns, else im2col + cblas_sgemm in row chunks that stay in cache, one chunk per OpenMP task.
// Geometry layout: conv-geometry.h.
#pragma once
#include <cstdint>

#include "activation.h"

namespace engram {

constexpr int kGeometryLength = 15;

// out = act(conv(x, filter) + bias) as `e` says.
void Conv2D(const int32_t* geometry, const float* x, const float* filter, float* out, const EpilogueArgs& e);
void Conv2DBackpropInput(const int32_t* geometry, const float* dy, const float* filter, float* dx);
void Conv2DBackpropFilter(const int32_t* geometry, const float* x, const float* dy, float* dw);

int64_t InputSize(const int32_t* geometry);
int64_t OutputSize(const int32_t* geometry);
int64_t FilterSize(const int32_t* geometry);

}  // namespace engram
