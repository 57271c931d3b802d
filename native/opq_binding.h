#pragma once

#include <napi.h>

namespace nanopq {

Napi::Value TrainOpq(const Napi::CallbackInfo& info);
Napi::Value Rotate(const Napi::CallbackInfo& info);
Napi::Value EncodeRotated(const Napi::CallbackInfo& info);
Napi::Value DecodeRotated(const Napi::CallbackInfo& info);
Napi::Value OrthonormalityError(const Napi::CallbackInfo& info);

}  // namespace nanopq
