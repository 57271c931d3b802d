// Registers the bindings; each goes through `guarded`, which turns every C++
// exception into a JavaScript one.
#include <napi.h>

#include "errors.h"
#include "faiss_binding.h"
#include "nearest.h"
#include "opq_binding.h"
#include "pq_binding.h"

namespace nanopq {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
    export_function<Train>(env, exports, "train");
    export_function<Encode>(env, exports, "encode");
    export_function<Decode>(env, exports, "decode");
    export_function<DistanceTable>(env, exports, "distanceTable");
    export_function<Adist>(env, exports, "adist");
    export_function<Topk>(env, exports, "topk");
    export_function<ExactSearch>(env, exports, "exactSearch");
    export_function<TrainOpq>(env, exports, "trainOpq");
    export_function<Rotate>(env, exports, "rotate");
    export_function<EncodeRotated>(env, exports, "encodeRotated");
    export_function<DecodeRotated>(env, exports, "decodeRotated");
    export_function<OrthonormalityError>(env, exports, "orthonormalityError");
    export_function<FirstOutOfRange>(env, exports, "firstOutOfRange");
    RegisterFaiss(env, exports);
    exports.Set("simd", Napi::String::New(env, nearest_kernel_name()));
    return exports;
}

}  // namespace nanopq

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return nanopq::Init(env, exports); }

NODE_API_MODULE(nanopq, InitAddon)
