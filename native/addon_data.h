// What the addon keeps per JavaScript environment (the main thread and each
// worker thread has its own), freed with it.
#pragma once

#include <napi.h>

namespace nanopq {

struct AddonData {
    Napi::FunctionReference model_constructor;
};

inline AddonData& addon_data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace nanopq
