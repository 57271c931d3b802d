// Registers the bindings; each goes through `guarded`, which turns every C++
// exception into a JavaScript one.
#include <napi.h>

#include "errors.h"
#include "faiss_binding.h"
#include "opq_binding.h"
#include "pq_binding.h"

namespace nanopq {

template <Napi::Value (*Binding)(const Napi::CallbackInfo&)>
void add(Napi::Env env, Napi::Object exports, const char* name) {
    exports.Set(name, Napi::Function::New(env, guarded<Binding>, name));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
    add<Train>(env, exports, "train");
    add<Encode>(env, exports, "encode");
    add<Decode>(env, exports, "decode");
    add<DistanceTable>(env, exports, "distanceTable");
    add<Adist>(env, exports, "adist");
    add<Topk>(env, exports, "topk");
    add<ExactSearch>(env, exports, "exactSearch");
    add<TrainOpq>(env, exports, "trainOpq");
    add<Rotate>(env, exports, "rotate");
    add<EncodeRotated>(env, exports, "encodeRotated");
    add<DecodeRotated>(env, exports, "decodeRotated");
    add<FirstOutOfRange>(env, exports, "firstOutOfRange");
    RegisterFaiss(env, exports);
    return exports;
}

}  // namespace nanopq

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return nanopq::Init(env, exports); }

NODE_API_MODULE(nanopq, InitAddon)
