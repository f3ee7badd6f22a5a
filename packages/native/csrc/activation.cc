#include "activation.h"

#include <cmath>

namespace engram {

void Epilogue(float* c, int64_t rows, int64_t n, const EpilogueArgs& e) {
  const float* bias = e.bias;
  for (int64_t r = 0; r < rows; ++r) {
    float* __restrict row = c + r * n;
    if (bias != nullptr) {
      if (e.biasLen == 1) {
        const float b0 = bias[0];
        for (int64_t j = 0; j < n; ++j) row[j] = row[j] + b0;
      } else {
#pragma GCC ivdep
        for (int64_t j = 0; j < n; ++j) row[j] = row[j] + bias[j];
      }
    }
    switch (e.act) {
      case kRelu:
        for (int64_t j = 0; j < n; ++j) row[j] = row[j] < 0.0f ? 0.0f : row[j];
        break;
      case kRelu6:
        for (int64_t j = 0; j < n; ++j) row[j] = row[j] < 0.0f ? 0.0f : (row[j] > 6.0f ? 6.0f : row[j]);
        break;
      case kLeakyRelu:
        for (int64_t j = 0; j < n; ++j) row[j] = row[j] < 0.0f ? e.alpha * row[j] : row[j];
        break;
      case kSigmoid:
        for (int64_t j = 0; j < n; ++j) row[j] = 1.0f / (1.0f + std::exp(-row[j]));
        break;
      case kElu:
        for (int64_t j = 0; j < n; ++j) row[j] = row[j] < 0.0f ? std::expm1(row[j]) : row[j];
        break;
      default:
        break;
    }
  }
}

}  // namespace engram
