#pragma once

#include <napi.h>

namespace nanopq {

// Makes the environment's AddonData and registers the runtime's own
// functions: sweep, handleCount, setNumThreads, getNumThreads.
void RegisterRuntime(Napi::Env env, Napi::Object exports);

}  // namespace nanopq
