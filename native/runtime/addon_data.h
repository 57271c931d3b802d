// What the addon keeps per JavaScript environment (the main thread and each
// worker thread has its own), freed with it.
#pragma once

#include <napi.h>

#include "runtime/handles.h"

namespace nanopq {

struct AddonData {
    explicit AddonData(napi_env env) : handles(env) {}
    Handles handles;
};

inline Handles& handles(Napi::Env env) { return env.GetInstanceData<AddonData>()->handles; }

}  // namespace nanopq
