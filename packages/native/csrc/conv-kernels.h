// im2col + sgemm convolutions (NHWC, filter [fH, fW, inC, outC]); geometry layout in conv-kernels.cc.
#pragma once
#include <cstdint>

namespace engram {

constexpr int kGeometryLength = 15;

void Conv2D(const int32_t* geometry, const float* x, const float* filter, float* out);
void Conv2DBackpropInput(const int32_t* geometry, const float* dy, const float* filter, float* dx);
void Conv2DBackpropFilter(const int32_t* geometry, const float* x, const float* dy, float* dw);
// Max-pool gradient (inC == outC): dy goes to the first maximum of each window of x.
void MaxPoolGrad(const int32_t* geometry, const float* x, const float* dy, float* dx);

int64_t InputSize(const int32_t* geometry);
int64_t OutputSize(const int32_t* geometry);
int64_t FilterSize(const int32_t* geometry);

}  // namespace engram
