{
  "targets": [
    {
      "target_name": "engram_native",
      "sources": ["csrc/engram-native.cc", "csrc/blas-loader.cc", "csrc/conv-kernels.cc",
                  "csrc/conv-direct.cc", "csrc/pool-kernels.cc", "csrc/activation.cc",
                  "csrc/elementwise-kernels.cc", "csrc/optimizer-kernels.cc", "csrc/update-loops.cc",
                  "csrc/chunk-pool.cc", "csrc/norm-kernels.cc", "csrc/norm-napi.cc", "csrc/gru-kernels.cc",
                  "csrc/memory-kernels.cc", "csrc/batch-norm-training.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-O3", "-fno-math-errno", "-ffp-contract=off", "-fno-exceptions", "-std=c++17", "-fopenmp"],
      "cflags": ["-O3", "-fno-math-errno", "-ffp-contract=off", "-fopenmp"],
      "ldflags": ["-fopenmp"],
      "libraries": []
    }
  ]
}
