// Bindings of OPQ's linear algebra; R is a (D, D) Float32Array, x_rotated = x @ R.
#include "bindings/bindings.h"

#include "model/linalg.h"
#include "runtime/args.h"
#include "runtime/exports.h"

namespace nanopq {

namespace {

// orthonormalityError(R, D) -> max |R^T R - I|
Napi::Value OrthonormalityError(const Napi::CallbackInfo& info) {
    size_t D = size_arg(info, 1);
    auto R = array_arg<float>(info, 0, checked_mul(D, D));
    return Napi::Number::New(info.Env(), orthonormality_error(R.data, D));
}

}  // namespace

void RegisterOPQ(Napi::Env env, Napi::Object exports) {
    export_function<OrthonormalityError>(env, exports, "orthonormalityError");
}

}  // namespace nanopq
