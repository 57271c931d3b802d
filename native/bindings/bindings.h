#pragma once

#include <napi.h>

#include <memory>

namespace nanopq {

class Model;

// The model of the handle in argument i (model_object.cc), unless it was disposed of.
const std::shared_ptr<const Model>& model_arg(const Napi::CallbackInfo& info, size_t i = 0);

// model_object.cc: the model handle and its functions (modelNew, modelEncode, ..., train, trainAsync).
void RegisterModel(Napi::Env env, Napi::Object exports);
// kernel_binding.cc: adist, topk, exactSearch, firstOutOfRange, simd, limits.maxAbsValue.
void RegisterKernels(Napi::Env env, Napi::Object exports);
// opq_binding.cc: orthonormalityError.
void RegisterOPQ(Napi::Env env, Napi::Object exports);
void RegisterRii(Napi::Env env, Napi::Object exports);

}  // namespace nanopq
