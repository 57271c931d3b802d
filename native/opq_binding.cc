// Bindings of opq_ops; R is a (D, D) Float32Array, x_rotated = x @ R.
#include "opq_binding.h"

#include "args.h"
#include "linalg.h"
#include "opq_ops.h"

namespace nanopq {

// trainOpq(x, n, M, Ks, Ds, pqIter, seed, minit, verbose, rotationIter, parametricInit, R_out, codewords_out)
Napi::Value TrainOpq(const Napi::CallbackInfo& info) {
    size_t n = size_arg(info, 1), M = size_arg(info, 2), Ks = size_arg(info, 3), Ds = size_arg(info, 4);
    if (M == 0 || Ks == 0 || Ds == 0) throw RangeError("Expected M, Ks and Ds > 0");
    auto x = array_arg<float>(info, 0, checked_mul(n, M, Ds));
    OpqTrainOptions options;
    options.pq = train_options_arg(info, 5);
    size_t rotation_iter = size_arg(info, 9);
    if (rotation_iter < 1 || rotation_iter > 100000) throw RangeError("Expected 1 <= rotationIter <= 100000");
    options.rotation_iter = int(rotation_iter);
    options.parametric_init = bool_arg(info, 10);
    const size_t D = checked_mul(M, Ds);
    auto R = array_arg<float>(info, 11, checked_mul(D, D));
    train_opq(x.data, n, M, Ks, Ds, options, R.data, array_arg<float>(info, 12, checked_mul(M, Ks, Ds)).data);
    return info.Env().Undefined();
}

// rotate(x, n, D, R, inverse, y_out)
Napi::Value Rotate(const Napi::CallbackInfo& info) {
    size_t n = size_arg(info, 1), D = size_arg(info, 2);
    auto x = array_arg<float>(info, 0, checked_mul(n, D));
    auto R = array_arg<float>(info, 3, checked_mul(D, D));
    rotate(x.data, n, D, R.data, bool_arg(info, 4), array_arg<float>(info, 5, checked_mul(n, D)).data);
    return info.Env().Undefined();
}

// encodeRotated(codewords, M, Ks, Ds, R, x, n, codes_out)
Napi::Value EncodeRotated(const Napi::CallbackInfo& info) {
    Codebook cb = codebook_arg(info, 0);
    const size_t D = cb.M * cb.Ds, n = size_arg(info, 6);
    auto R = array_arg<float>(info, 4, checked_mul(D, D));
    auto x = array_arg<float>(info, 5, checked_mul(n, D));
    encode_rotated(cb, R.data, x.data, codes_arg(info, 7, n, cb.M));
    return info.Env().Undefined();
}

// decodeRotated(codewords, M, Ks, Ds, R, codes, n, x_out)
Napi::Value DecodeRotated(const Napi::CallbackInfo& info) {
    Codebook cb = codebook_arg(info, 0);
    const size_t D = cb.M * cb.Ds, n = size_arg(info, 6);
    auto R = array_arg<float>(info, 4, checked_mul(D, D));
    Codes codes = codes_arg(info, 5, n, cb.M);
    decode_rotated(cb, R.data, codes, array_arg<float>(info, 7, checked_mul(n, D)).data);
    return info.Env().Undefined();
}

// orthonormalityError(R, D) -> max |R^T R - I|
Napi::Value OrthonormalityError(const Napi::CallbackInfo& info) {
    size_t D = size_arg(info, 1);
    auto R = array_arg<float>(info, 0, checked_mul(D, D));
    return Napi::Number::New(info.Env(), orthonormality_error(R.data, D));
}

}  // namespace nanopq
