#pragma once

#include <napi.h>

namespace nanopq {

Napi::Value Train(const Napi::CallbackInfo& info);
Napi::Value Encode(const Napi::CallbackInfo& info);
Napi::Value Decode(const Napi::CallbackInfo& info);
Napi::Value DistanceTable(const Napi::CallbackInfo& info);
Napi::Value Adist(const Napi::CallbackInfo& info);
Napi::Value Topk(const Napi::CallbackInfo& info);
Napi::Value ExactSearch(const Napi::CallbackInfo& info);
Napi::Value FirstOutOfRange(const Napi::CallbackInfo& info);

}  // namespace nanopq
