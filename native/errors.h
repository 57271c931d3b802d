// Errors at the JavaScript boundary.
//
// The operations in this directory are plain C++ and report bad input by
// throwing nanopq::TypeError / nanopq::RangeError. `guarded` is the one place
// where any C++ exception (ours, Faiss's, the standard library's) becomes a
// JavaScript exception: every binding is registered through it, so nothing
// can escape into V8 and abort the process.
#pragma once

#include <napi.h>

#include <stdexcept>

namespace nanopq {

struct TypeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct RangeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The JavaScript error for the exception being handled (call inside a catch).
Napi::Error current_exception_to_js(Napi::Env env);

template <Napi::Value (*Binding)(const Napi::CallbackInfo&)>
Napi::Value guarded(const Napi::CallbackInfo& info) {
    try {
        return Binding(info);
    } catch (const Napi::Error&) {
        throw;
    } catch (...) {
        throw current_exception_to_js(info.Env());
    }
}

// Sets exports[name] to Binding, behind `guarded`.
template <Napi::Value (*Binding)(const Napi::CallbackInfo&)>
void export_function(Napi::Env env, Napi::Object exports, const char* name) {
    exports.Set(name, Napi::Function::New(env, guarded<Binding>, name));
}

}  // namespace nanopq
