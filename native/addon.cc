// Registers the bindings; each goes through `guard`, which turns every C++
// exception into a JavaScript one. Loaded once per environment: the main
// thread and every worker thread get their own AddonData.
#include <napi.h>

#include "addon_data.h"
#include "errors.h"
#include "faiss_object.h"
#include "linalg.h"
#include "model_object.h"
#include "nearest.h"
#include "opq_binding.h"
#include "pq_binding.h"

namespace nanopq {

// sweep(): frees the objects of handles that were garbage-collected.
static Napi::Value Sweep(const Napi::CallbackInfo& info) {
    handles(info.Env()).sweep();
    return info.Env().Undefined();
}

// handleCount(): handles not yet swept (for tests).
static Napi::Value HandleCount(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), double(handles(info.Env()).size()));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
    // A worker terminated while it loads the addon makes these calls fail;
    // a C++ exception escaping module registration would abort the process.
    try {
        keep_blas_on_calling_thread();
        env.SetInstanceData(new AddonData(env));
        RegisterModel(env, exports);
        export_function<Sweep>(env, exports, "sweep");
        export_function<HandleCount>(env, exports, "handleCount");
        export_function<Adist>(env, exports, "adist");
        export_function<Topk>(env, exports, "topk");
        export_function<ExactSearch>(env, exports, "exactSearch");
        export_function<OrthonormalityError>(env, exports, "orthonormalityError");
        export_function<FirstOutOfRange>(env, exports, "firstOutOfRange");
        export_function<SetNumThreads>(env, exports, "setNumThreads");
        export_function<GetNumThreads>(env, exports, "getNumThreads");
        RegisterProductQuantizer(env, exports);
        RegisterOPQMatrix(env, exports);
        RegisterIndex(env, exports);
        exports.Set("simd", Napi::String::New(env, nearest_kernel_name()));
    } catch (const Napi::Error&) {
        // The environment is going away; nothing can use the exports.
    }
    return exports;
}

}  // namespace nanopq

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return nanopq::Init(env, exports); }

NODE_API_MODULE(nanopq, InitAddon)
