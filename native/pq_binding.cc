// Bindings of pq_ops: read arguments, call the plain C++ operation, return.
// Outputs are typed arrays allocated by the caller and filled in place.
#include "pq_binding.h"

#include "args.h"
#include "pq_ops.h"

namespace nanopq {


// train(x, n, M, Ks, Ds, iter, seed, minit, verbose, codewords_out)
Napi::Value Train(const Napi::CallbackInfo& info) {
    size_t n = size_arg(info, 1), M = size_arg(info, 2), Ks = size_arg(info, 3), Ds = size_arg(info, 4);
    if (M == 0 || Ks == 0 || Ds == 0) throw RangeError("Expected M, Ks and Ds > 0");
    auto x = array_arg<float>(info, 0, checked_mul(n, M, Ds));
    TrainOptions options = train_options_arg(info, 5);
    auto codewords = array_arg<float>(info, 9, checked_mul(M, Ks, Ds));
    train(x.data, n, M, Ks, Ds, options, codewords.data);
    return info.Env().Undefined();
}

// encode(codewords, M, Ks, Ds, x, n, codes_out)
Napi::Value Encode(const Napi::CallbackInfo& info) {
    Codebook cb = codebook_arg(info, 0);
    size_t n = size_arg(info, 5);
    auto x = array_arg<float>(info, 4, checked_mul(n, cb.M, cb.Ds));
    encode(cb, x.data, codes_arg(info, 6, n, cb.M));
    return info.Env().Undefined();
}

// decode(codewords, M, Ks, Ds, codes, n, x_out)
Napi::Value Decode(const Napi::CallbackInfo& info) {
    Codebook cb = codebook_arg(info, 0);
    size_t n = size_arg(info, 5);
    Codes codes = codes_arg(info, 4, n, cb.M);
    decode(cb, codes, array_arg<float>(info, 6, checked_mul(n, cb.M, cb.Ds)).data);
    return info.Env().Undefined();
}

// distanceTable(codewords, M, Ks, Ds, query, metric, dtable_out)
Napi::Value DistanceTable(const Napi::CallbackInfo& info) {
    Codebook cb = codebook_arg(info, 0);
    auto query = array_arg<float>(info, 4, checked_mul(cb.M, cb.Ds));
    distance_table(cb, query.data, metric_arg(info, 5), array_arg<float>(info, 6, checked_mul(cb.M, cb.Ks)).data);
    return info.Env().Undefined();
}

// adist(dtable, M, Ks, codes, n, dists_out)
Napi::Value Adist(const Napi::CallbackInfo& info) {
    size_t M = size_arg(info, 1), Ks = size_arg(info, 2), n = size_arg(info, 4);
    auto dtable = array_arg<float>(info, 0, checked_mul(M, Ks));
    adist(dtable.data, Ks, codes_arg(info, 3, n, M), array_arg<float>(info, 5, n).data);
    return info.Env().Undefined();
}

// topk(dtable, M, Ks, codes, n, k, largestFirst, ids_out, dists_out); k <= n
Napi::Value Topk(const Napi::CallbackInfo& info) {
    size_t M = size_arg(info, 1), Ks = size_arg(info, 2), n = size_arg(info, 4), k = size_arg(info, 5);
    if (k > n) throw RangeError("Expected k <= n");
    auto dtable = array_arg<float>(info, 0, checked_mul(M, Ks));
    Codes codes = codes_arg(info, 3, n, M);
    bool largest_first = bool_arg(info, 6);
    topk(dtable.data, Ks, codes, k, largest_first, array_arg<uint32_t>(info, 7, k).data,
         array_arg<float>(info, 8, k).data);
    return info.Env().Undefined();
}

// exactSearch(queries, nq, database, nb, d, k, ids_out: Uint32Array, dists_out); k <= nb
Napi::Value ExactSearch(const Napi::CallbackInfo& info) {
    size_t nq = size_arg(info, 1), nb = size_arg(info, 3), d = size_arg(info, 4), k = size_arg(info, 5);
    if (k > nb) throw RangeError("Expected k <= nb");
    auto queries = array_arg<float>(info, 0, checked_mul(nq, d));
    auto database = array_arg<float>(info, 2, checked_mul(nb, d));
    auto ids = array_arg<uint32_t>(info, 6, checked_mul(nq, k));
    exact_search(queries.data, nq, database.data, nb, d, k, ids.data, array_arg<float>(info, 7, checked_mul(nq, k)).data);
    return info.Env().Undefined();
}

// firstOutOfRange(x, limit): index of the first value that is not finite or exceeds limit in magnitude, or -1.
Napi::Value FirstOutOfRange(const Napi::CallbackInfo& info) {
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
        throw TypeError("Expected a Float32Array for argument 0");
    if (!info[1].IsNumber()) throw TypeError("Expected a number for argument 1");
    auto x = info[0].As<Napi::Float32Array>();
    size_t i = first_out_of_range(x.Data(), x.ElementLength(), info[1].As<Napi::Number>().FloatValue());
    return Napi::Number::New(info.Env(), i == x.ElementLength() ? -1.0 : double(i));
}

}  // namespace nanopq
