// Shared helpers for the N-API functions: argument reading and bounds-checked wasm-heap pointers.
#pragma once
#include <napi.h>

#include <cstdint>

namespace engram {

inline double Num(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().DoubleValue(); }
inline int64_t Int(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int64Value(); }

// The wasm heap's bytes, read once per call (the heap's ArrayBuffer is replaced when it grows).
struct Heap {
  uint8_t* data;
  int64_t length;
};

inline Heap GetHeap(const Napi::CallbackInfo& info) {
  Napi::ArrayBuffer buffer = info[0].As<Napi::ArrayBuffer>();
  return Heap{static_cast<uint8_t*>(buffer.Data()), static_cast<int64_t>(buffer.ByteLength())};
}

// Resolves a float pointer at byte offset `off` holding `count` floats, or nullptr if out of bounds.
inline float* At(const Heap& heap, int64_t off, int64_t count) {
  if (heap.data == nullptr || off < 0 || count < 0 || off % 4 != 0 || off + count * 4 > heap.length) return nullptr;
  return reinterpret_cast<float*>(heap.data + off);
}

inline Napi::Value Fail(const Napi::CallbackInfo& info, const char* message) {
  // A wrongly typed argument may already have left an exception pending; throwing again would abort.
  if (!info.Env().IsExceptionPending()) Napi::Error::New(info.Env(), message).ThrowAsJavaScriptException();
  return info.Env().Undefined();
}

// Registers adam, sgd, momentum, rmsprop and the EWC penalty kernels (optimizer-kernels.cc).
void RegisterOptimizers(Napi::Env env, Napi::Object exports);

// Registers gruForward and gruBackward, a whole reset-after GRU sequence per call (gru-kernels.cc).
void RegisterGru(Napi::Env env, Napi::Object exports);
// Registers batchNorm, batchNormGrad, batchNormTraining, batchNormTrainingGrad, reduceMiddle and binary
// (norm-napi.cc).
void RegisterNormKernels(Napi::Env env, Napi::Object exports);
// Registers broadcastRows (the Sum/Mean gradient), slice, segmentSum and allFinite (memory-kernels.cc).
void RegisterMemoryKernels(Napi::Env env, Napi::Object exports);

}  // namespace engram
