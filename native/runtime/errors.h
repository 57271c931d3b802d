// Errors at the JavaScript boundary.
//
// The layers below (kernels/, model/) are plain C++ and report bad input by
// throwing the exceptions of kernels/exceptions.h. `guard` is the one place
// where any C++ exception (ours, Faiss's, the standard library's) becomes a
// JavaScript exception: every binding and method runs inside it, and every
// async job's exception goes through current_exception_to_js, so nothing can
// escape into V8 and abort the process.
#pragma once

#include <napi.h>

#include "kernels/exceptions.h"
#include "kernels/parallel.h"

namespace nanopq {

// The JavaScript error for the exception being handled (call inside a catch).
// Aborted training gives an Error named "AbortError".
Napi::Error current_exception_to_js(Napi::Env env);

// body() at the boundary: C++ exceptions become JavaScript ones, and the
// thread count set by setNumThreads() holds on this thread.
template <typename Body>
Napi::Value guard(Napi::Env env, Body&& body) {
    try {
        use_num_threads();
        return body();
    } catch (const Napi::Error&) {
        throw;
    } catch (...) {
        throw current_exception_to_js(env);
    }
}

template <Napi::Value (*Binding)(const Napi::CallbackInfo&)>
Napi::Value guarded(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&] { return Binding(info); });
}

}  // namespace nanopq
