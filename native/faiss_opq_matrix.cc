// faiss::OPQMatrix, and the linear transforms an index file may hold, for
// JavaScript (lib/faiss.ts OPQMatrix).
#include <cstring>

#include "faiss_object.h"

namespace nanopq {

namespace {

// opqNew(d, M)
Napi::Value OpqNew(const Napi::CallbackInfo& info) {
    size_t d = size_arg(info, 0), M = size_arg(info, 1);
    check_dims(d, M);
    if (d > 16384) throw RangeError("Expected d <= 16384 for an OPQMatrix");  // lib/faiss.ts MAX_OPQ_DIMENSION
    auto opq = std::make_shared<faiss::OPQMatrix>(int(d), int(M));
    auto pq = std::make_shared<faiss::ProductQuantizer>(d, M, 8);  // OPQMatrix's own default
    quiet(*pq);
    opq->pq = pq.get();
    return wrap(info.Env(), {nullptr, opq, nullptr, pq});
}

// transformInfo(t) -> {dIn, dOut, isTrained, haveBias, isOrthonormal}
Napi::Value TransformInfo(const Napi::CallbackInfo& info) {
    auto& t = transform_arg(info, 0, Access::Read);
    auto out = Napi::Object::New(info.Env());
    out.Set("dIn", double(t.d_in));
    out.Set("dOut", double(t.d_out));
    out.Set("isTrained", t.is_trained);
    out.Set("haveBias", t.have_bias);
    out.Set("isOrthonormal", t.is_orthonormal);
    return out;
}

// transformGetA(t, out) / transformSetA(t, A): (d_out, d_in), y = A x
Napi::Value TransformGetA(const Napi::CallbackInfo& info) {
    auto& t = transform_arg(info, 0, Access::Read);
    auto out = array_arg<float>(info, 1, checked_mul(t.d_out, t.d_in));
    if (t.A.size() != out.length) throw TypeError("Expected a trained OPQMatrix");
    std::memcpy(out.data, t.A.data(), out.length * sizeof(float));
    return undefined(info);
}

Napi::Value TransformSetA(const Napi::CallbackInfo& info) {
    auto& t = transform_arg(info, 0, Access::Write);
    auto in = array_arg<float>(info, 1, checked_mul(t.d_out, t.d_in));
    t.A.assign(in.data, in.data + in.length);
    t.b.clear();
    t.have_bias = false;
    t.is_trained = true;
    t.set_is_orthonormal();
    account(info.Env(), object_arg(info, 0));
    return undefined(info);
}

// transformTrain(t, x, n)
Napi::Value TransformTrain(const Napi::CallbackInfo& info) {
    auto& t = transform_arg(info, 0, Access::Write);
    if (!dynamic_cast<faiss::OPQMatrix*>(&t))
        throw TypeError("Expected an OPQMatrix to train; a linear transform read from a file is trained already");
    size_t n = size_arg(info, 2);
    t.train(n, array_arg<float>(info, 1, checked_mul(n, t.d_in)).data);
    account(info.Env(), object_arg(info, 0));
    return undefined(info);
}

// transformApply(t, x, n, y_out) / transformReverse(t, y, n, x_out)
Napi::Value TransformApply(const Napi::CallbackInfo& info) {
    auto& t = transform_arg(info, 0, Access::Read);
    if (!t.is_trained) throw TypeError("Expected a trained OPQMatrix");
    size_t n = size_arg(info, 2);
    auto x = array_arg<float>(info, 1, checked_mul(n, t.d_in));
    t.apply_noalloc(n, x.data, array_arg<float>(info, 3, checked_mul(n, t.d_out)).data);
    return undefined(info);
}

Napi::Value TransformReverse(const Napi::CallbackInfo& info) {
    auto& t = transform_arg(info, 0, Access::Read);
    if (!t.is_trained) throw TypeError("Expected a trained OPQMatrix");
    if (!t.is_orthonormal) throw TypeError("Expected an orthonormal transform for reverseTransform");
    size_t n = size_arg(info, 2);
    auto y = array_arg<float>(info, 1, checked_mul(n, t.d_out));
    t.reverse_transform(n, y.data, array_arg<float>(info, 3, checked_mul(n, t.d_in)).data);
    return undefined(info);
}

}  // namespace

void RegisterOPQMatrix(Napi::Env env, Napi::Object exports) {
    export_function<OpqNew>(env, exports, "opqNew");
    export_function<TransformInfo>(env, exports, "transformInfo");
    export_function<TransformGetA>(env, exports, "transformGetA");
    export_function<TransformSetA>(env, exports, "transformSetA");
    export_function<TransformTrain>(env, exports, "transformTrain");
    export_function<TransformApply>(env, exports, "transformApply");
    export_function<TransformReverse>(env, exports, "transformReverse");
}

}  // namespace nanopq
