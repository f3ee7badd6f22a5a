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

// Below this many multiply-adds one GEMM runs on the calling thread alone. Measured on 2 cores
// (OpenBLAS 0.3.21, openmp): 1×400×784 takes 56 µs on one thread and 66 µs on two, 8×400×784
// 69 vs 117 µs, 32×400×784 191 vs 135 µs. Worse than the mean, a parallel GEMM waits at its barrier
// for the second thread, which any other runnable thread (V8's compiler or GC helpers) can delay by a
// scheduler slice (milliseconds): one-sample online steps had a 7–8 ms p99 from this alone.
constexpr double kSerialGemmMacs = 4.0 * 1024 * 1024;

// While alive, OpenBLAS calls from this thread use one thread (the openmp build reads the caller's
// omp_get_max_threads(); the pthreads build is set and restored). A no-op when `serial` is false.
class SerialBlas {
 public:
  explicit SerialBlas(bool serial);
  ~SerialBlas();
  SerialBlas(const SerialBlas&) = delete;
  SerialBlas& operator=(const SerialBlas&) = delete;

 private:
  int restore_ = 0;  // the thread count to restore, 0 when nothing was changed
};

}  // namespace engram
