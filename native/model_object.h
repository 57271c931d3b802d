// The handle behind a JavaScript PQ or OPQ (lib/quantizer.ts, lib/native.ts):
// it holds a shared, immutable Model, so async calls keep using the model they
// started with even if it is disposed of or refitted meanwhile. Its functions
// (modelEncode, modelSearch, ...) take the handle first; training makes one.
#pragma once

#include <napi.h>

#include <memory>

#include "handles.h"
#include "model.h"

namespace nanopq {

struct ModelHandle : Owned {
    std::shared_ptr<const Model> model;  // null once disposed of
};

void RegisterModel(Napi::Env env, Napi::Object exports);

}  // namespace nanopq
