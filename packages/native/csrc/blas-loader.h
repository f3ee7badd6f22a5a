// Runtime loader for OpenBLAS's cblas_sgemm: nothing is linked at build time.
#pragma once
#include <string>

namespace engram {

enum CblasOrder { kRowMajor = 101 };
enum CblasTranspose { kNoTrans = 111, kTrans = 112 };

// The CBLAS prototype, declared here so no -dev package (cblas.h) is needed.
using SgemmFn = void (*)(int order, int transA, int transB, int m, int n, int k, float alpha,
                         const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc);

struct BlasInfo {
  bool ok = false;
  std::string reason;   // why loading failed (when !ok)
  std::string library;  // the soname or path that was opened
  std::string config;   // openblas_get_config()
  std::string parallel; // sequential | pthreads | openmp
  int threads = 0;      // openblas_get_num_threads()
};

// Opens the BLAS once (later calls return the cached result).
const BlasInfo& LoadBlas();

// The loaded cblas_sgemm, or nullptr when LoadBlas() failed.
SgemmFn Sgemm();

}  // namespace engram
