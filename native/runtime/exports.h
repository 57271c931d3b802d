// What the addon exports: functions behind `guard`, the limits native code
// holds JavaScript to (exports.limits), and the names an option may take
// (exports.names), each set by the file that owns it.
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

// Sets exports.names[option] to the array of names.
template <size_t N>
void export_names(Napi::Env env, Napi::Object exports, const char* option, const char* const (&names)[N]) {
    if (!exports.Has("names")) exports.Set("names", Napi::Object::New(env));
    auto array = Napi::Array::New(env, N);
    for (size_t i = 0; i < N; i++) array.Set(uint32_t(i), names[i]);
    exports.Get("names").As<Napi::Object>().Set(option, array);
}

}  // namespace nanopq
