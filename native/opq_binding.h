#pragma once

#include <napi.h>

namespace nanopq {

Napi::Value OrthonormalityError(const Napi::CallbackInfo& info);

}  // namespace nanopq
