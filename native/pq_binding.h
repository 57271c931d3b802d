#pragma once

#include <napi.h>

namespace nanopq {

Napi::Value Adist(const Napi::CallbackInfo& info);
Napi::Value Topk(const Napi::CallbackInfo& info);
Napi::Value ExactSearch(const Napi::CallbackInfo& info);
Napi::Value FirstOutOfRange(const Napi::CallbackInfo& info);
Napi::Value SetNumThreads(const Napi::CallbackInfo& info);
Napi::Value GetNumThreads(const Napi::CallbackInfo& info);

}  // namespace nanopq
