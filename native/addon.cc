// Registers the bindings; each goes through `guard` (runtime/errors.h), which
// turns every C++ exception into a JavaScript one. Loaded once per
// environment: the main thread and every worker thread get their own AddonData.
#include <napi.h>

#include "bindings/bindings.h"
#include "faiss/object.h"
#include "model/linalg.h"
#include "runtime/runtime.h"

namespace nanopq {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
    // A worker terminated while it loads the addon makes these calls fail;
    // a C++ exception escaping module registration would abort the process.
    try {
        keep_blas_on_calling_thread();
        RegisterRuntime(env, exports);
        RegisterModel(env, exports);
        RegisterKernels(env, exports);
        RegisterOPQ(env, exports);
        RegisterRii(env, exports);
        RegisterFaiss(env, exports);
    } catch (const Napi::Error&) {
        // The environment is going away; nothing can use the exports.
    }
    return exports;
}

}  // namespace nanopq

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return nanopq::Init(env, exports); }

NODE_API_MODULE(nanopq, InitAddon)
