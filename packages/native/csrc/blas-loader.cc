// dlopen()s an OpenBLAS at run time: $ENGRAM_BLAS_LIB alone when set, else libopenblas.so.0, then
// libblas.so.3 but only when it is OpenBLAS (Debian's reference BLAS is slower than wasm: refused).
#include "blas-loader.h"

#include <dlfcn.h>
#include <omp.h>
#include <cstdlib>
#include <vector>

namespace engram {
namespace {

using GetConfigFn = char* (*)();
using GetIntFn = int (*)();
using SetIntFn = void (*)(int);

BlasInfo g_info;
SgemmFn g_sgemm = nullptr;
SetIntFn g_setThreads = nullptr;
bool g_tried = false;

std::string TryOpen(const char* name) {
  void* handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    return std::string(name) + ": " + (err != nullptr ? err : "dlopen failed");
  }
  auto getConfig = reinterpret_cast<GetConfigFn>(dlsym(handle, "openblas_get_config"));
  if (getConfig == nullptr) {
    dlclose(handle);
    return std::string(name) + " is not OpenBLAS (reference BLAS refused)";
  }
  auto sgemm = reinterpret_cast<SgemmFn>(dlsym(handle, "cblas_sgemm"));
  if (sgemm == nullptr) {
    dlclose(handle);
    return std::string(name) + " has no cblas_sgemm";
  }
  auto getThreads = reinterpret_cast<GetIntFn>(dlsym(handle, "openblas_get_num_threads"));
  auto getParallel = reinterpret_cast<GetIntFn>(dlsym(handle, "openblas_get_parallel"));
  g_sgemm = sgemm;
  g_setThreads = reinterpret_cast<SetIntFn>(dlsym(handle, "openblas_set_num_threads"));
  g_info.ok = true;
  g_info.library = name;
  const char* config = getConfig();
  g_info.config = config != nullptr ? config : "";
  g_info.threads = getThreads != nullptr ? getThreads() : 1;
  const int parallel = getParallel != nullptr ? getParallel() : -1;
  g_info.parallel = parallel == 0 ? "sequential" : parallel == 1 ? "pthreads" : parallel == 2 ? "openmp" : "unknown";
  return "";
}

}  // namespace

const BlasInfo& LoadBlas() {
  if (g_tried) return g_info;
  g_tried = true;
  // libgomp reads its settings when OpenBLAS pulls it in. Its default (spin ~300k iterations before
  // sleeping) collapses throughput ~10x when the cores are shared with other processes; sleeping
  // waiters keep it fast there. Only applied when the user set neither variable.
  if (std::getenv("OMP_WAIT_POLICY") == nullptr && std::getenv("GOMP_SPINCOUNT") == nullptr) {
    setenv("OMP_WAIT_POLICY", "passive", 0);
  }
  std::vector<std::string> candidates;
  const char* custom = std::getenv("ENGRAM_BLAS_LIB");
  if (custom != nullptr && custom[0] != '\0') {
    candidates.emplace_back(custom);
  } else {
    candidates.emplace_back("libopenblas.so.0");
    candidates.emplace_back("libblas.so.3");
  }
  std::string reasons;
  for (const auto& name : candidates) {
    std::string why = TryOpen(name.c_str());
    if (why.empty()) return g_info;
    if (!reasons.empty()) reasons += "; ";
    reasons += why;
  }
  g_info.reason = reasons;
  return g_info;
}

SgemmFn Sgemm() { return g_sgemm; }

SerialBlas::SerialBlas(bool serial) {
  if (!serial || !g_info.ok || g_info.threads <= 1) return;
  if (g_info.parallel == "openmp") {
    restore_ = omp_get_max_threads();
    omp_set_num_threads(1);
  } else if (g_info.parallel == "pthreads" && g_setThreads != nullptr) {
    restore_ = g_info.threads;
    g_setThreads(1);
  }
}

SerialBlas::~SerialBlas() {
  if (restore_ == 0) return;
  if (g_info.parallel == "openmp") omp_set_num_threads(restore_);
  else g_setThreads(restore_);
}

}  // namespace engram
