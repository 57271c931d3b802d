// What the addon exports: functions behind `guard`, and the limits native
// code holds JavaScript to (exports.limits), each set by the file that owns it.
#pragma once

#include <napi.h>

#include "runtime/errors.h"

namespace nanopq {

// Sets exports[name] to Binding, behind `guard`.
template <Napi::Value (*Binding)(const Napi::CallbackInfo&)>
void export_function(Napi::Env env, Napi::Object exports, const char* name) {
    exports.Set(name, Napi::Function::New(env, guarded<Binding>, name));
}

// Sets exports.limits[name] to value.
inline void export_limit(Napi::Env env, Napi::Object exports, const char* name, double value) {
    if (!exports.Has("limits")) exports.Set("limits", Napi::Object::New(env));
    exports.Get("limits").As<Napi::Object>().Set(name, Napi::Number::New(env, value));
}

}  // namespace nanopq
