// What the addon keeps per JavaScript environment (the main thread and each
// worker thread has its own), freed with it.
#pragma once

#include <napi.h>

#include "handles.h"

namespace nanopq {

struct AddonData {
    Handles* handles;  // freed by itself at the environment's exit
};

inline Handles& handles(Napi::Env env) { return *env.GetInstanceData<AddonData>()->handles; }

}  // namespace nanopq
