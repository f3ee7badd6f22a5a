// NHWC max pooling and its gradient on the wasm heap (conv geometry layout with inC == outC).
#pragma once
#include <cstdint>

namespace engram {

// out = max over each window of x (padding excluded; NaN never wins, as in the tfjs cpu backend).
void MaxPool(const int32_t* geometry, const float* x, float* out);
// Max-pool gradient: each window's dy goes to the first maximum of that window of x.
void MaxPoolGrad(const int32_t* geometry, const float* x, const float* dy, float* dx);

}  // namespace engram
