// The runtime's own functions: the handle registry's sweep and count, and the
// thread count of parallel work.
#include "runtime/runtime.h"

#include "kernels/parallel.h"
#include "runtime/addon_data.h"
#include "runtime/args.h"
#include "runtime/exports.h"

namespace nanopq {

namespace {

// sweep(): frees the objects of handles that were garbage-collected.
Napi::Value Sweep(const Napi::CallbackInfo& info) {
    handles(info.Env()).sweep();
    return info.Env().Undefined();
}

// handleCount(): handles not yet swept (for tests).
Napi::Value HandleCount(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), double(handles(info.Env()).size()));
}

// setNumThreads(n) / getNumThreads()
Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
    const size_t n = size_arg(info, 0);
    if (n < 1 || n > 4096) throw RangeError("Expected 1 <= n <= 4096");
    set_num_threads(int(n));
    return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), num_threads()); }

}  // namespace

void RegisterRuntime(Napi::Env env, Napi::Object exports) {
    env.SetInstanceData(new AddonData(env));
    export_function<Sweep>(env, exports, "sweep");
    export_function<HandleCount>(env, exports, "handleCount");
    export_function<SetNumThreads>(env, exports, "setNumThreads");
    export_function<GetNumThreads>(env, exports, "getNumThreads");
}

}  // namespace nanopq
