#pragma once

#include <napi.h>

namespace nanopq {

// model_object.cc: the model handle and its functions (modelNew, modelEncode, ..., train, trainAsync).
void RegisterModel(Napi::Env env, Napi::Object exports);
// kernel_binding.cc: adist, topk, exactSearch, firstOutOfRange, simd, limits.maxAbsValue.
void RegisterKernels(Napi::Env env, Napi::Object exports);
// opq_binding.cc: orthonormalityError.
void RegisterOPQ(Napi::Env env, Napi::Object exports);

}  // namespace nanopq
