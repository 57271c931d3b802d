#include "faiss/object.h"

#include "runtime/addon_data.h"
#include "runtime/exports.h"

namespace nanopq {

namespace {

const napi_type_tag kFaissObjectTag = {0x6e616e6f70712d66ULL, 0x616973732d6f626aULL};

std::vector<FaissFunctions::Register>& registered() {
    static std::vector<FaissFunctions::Register> functions;
    return functions;
}

// faissDispose(handle): frees the object's Faiss parts now (async calls and
// parts of it still referenced keep theirs alive); later calls throw.
Napi::Value Dispose(const Napi::CallbackInfo& info) {
    FaissObject& o = handle_arg(info, 0);
    o.release();
    o.disposed = true;
    account(info.Env(), o);
    return undefined(info);
}

}  // namespace

void FaissObject::check_access(Access access) const {
    for (const auto& busy : locks)
        if (busy->writer || (access == Access::Write && busy->readers > 0))
            throw Error("Expected no async call changing this Faiss object" +
                        std::string(access == Access::Write ? " or reading it" : "") +
                        " to be running; wait for it to settle first");
}

Hold::Hold(const FaissObject& o, Access access) : locks_(o.locks), access_(access) {
    o.check_access(access);
    for (auto& busy : locks_) {
        if (access_ == Access::Write)
            busy->writer = true;
        else
            busy->readers++;
    }
}

Hold::~Hold() {
    for (auto& busy : locks_) {
        if (access_ == Access::Write)
            busy->writer = false;
        else
            busy->readers--;
    }
}

void account(Napi::Env env, FaissObject& o) {
    if (o.owns_memory) handles(env).account(o, o.disposed ? 0 : int64_t(sizeof(o) + o.held_bytes()));
}

Napi::Value wrap(Napi::Env env, std::unique_ptr<FaissObject> object, bool owns_memory) {
    object->locks.push_back(std::make_shared<Busy>());
    object->owns_memory = owns_memory;
    FaissObject& o = *object;
    Napi::Value handle = handles(env).make(env, std::move(object), kFaissObjectTag);
    account(env, o);
    return handle;
}

FaissObject& handle_arg(const Napi::CallbackInfo& info, size_t i) {
    auto* o = Handles::get<FaissObject>(info[i], kFaissObjectTag);
    if (!o) throw TypeError("Expected a Faiss object handle for " + arg_name(i));
    return *o;
}

FaissObject& object_arg(const Napi::CallbackInfo& info, size_t i) {
    FaissObject& o = handle_arg(info, i);
    if (o.disposed) throw Error("Expected a Faiss object that is not disposed of");
    return o;
}

int nbits_arg(const Napi::CallbackInfo& info, size_t i) {
    size_t nbits = size_arg(info, i);
    if (nbits < 1 || nbits > 16) throw RangeError("Expected 1 <= nbits <= 16");
    return int(nbits);
}

void check_dims(size_t d, size_t M) {
    if (d < 1 || M < 1 || d % M != 0 || d > size_t(INT32_MAX))
        throw RangeError("Expected d divisible by M, both positive");
}

faiss::MetricType metric_arg_faiss(const Napi::CallbackInfo& info, size_t i) {
    return metric_arg(info, i) == Metric::L2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
}

FaissFunctions::FaissFunctions(Register functions) { registered().push_back(functions); }

void RegisterFaiss(Napi::Env env, Napi::Object exports) {
    for (FaissFunctions::Register functions : registered()) functions(env, exports);
    export_function<Dispose>(env, exports, "faissDispose");
}

}  // namespace nanopq
