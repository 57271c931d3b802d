// Bindings of opq_ops; R is a (D, D) Float32Array, x_rotated = x @ R.
#include "opq_binding.h"

#include "args.h"
#include "linalg.h"

namespace nanopq {

// orthonormalityError(R, D) -> max |R^T R - I|
Napi::Value OrthonormalityError(const Napi::CallbackInfo& info) {
    size_t D = size_arg(info, 1);
    auto R = array_arg<float>(info, 0, checked_mul(D, D));
    return Napi::Number::New(info.Env(), orthonormality_error(R.data, D));
}

}  // namespace nanopq
