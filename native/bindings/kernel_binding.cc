// Bindings of the kernels JavaScript calls directly (scans, exact search,
// value checks): read arguments, call the plain C++ operation, return.
// Outputs are typed arrays allocated by the caller and filled in place.
#include "bindings/bindings.h"

#include "kernels/cache.h"
#include "kernels/fast_scan.h"
#include "kernels/scan.h"
#include "kernels/simd.h"
#include "kernels/values.h"
#include "model/exact_search.h"
#include "model/linalg.h"
#include "runtime/args.h"
#include "runtime/exports.h"

namespace nanopq {

namespace {

// adist(dtable, M, Ks, codes, n, dists_out)
Napi::Value Adist(const Napi::CallbackInfo& info) {
    size_t M = size_arg(info, 1), Ks = size_arg(info, 2), n = size_arg(info, 4);
    auto dtable = array_arg<float>(info, 0, checked_mul(M, Ks));
    Codes codes = codes_arg(info, 3, n, M);
    codes.check_range(Ks);
    adist(dtable.data, Ks, codes, array_arg<float>(info, 5, n).data);
    return info.Env().Undefined();
}

// topk(dtable, M, Ks, codes, n, k, largestFirst, ids_out, dists_out); k <= n
Napi::Value Topk(const Napi::CallbackInfo& info) {
    size_t M = size_arg(info, 1), Ks = size_arg(info, 2), n = size_arg(info, 4), k = size_arg(info, 5);
    if (k > n) throw RangeError("Expected k <= n");
    auto dtable = array_arg<float>(info, 0, checked_mul(M, Ks));
    Codes codes = codes_arg(info, 3, n, M);
    codes.check_range(Ks);
    bool largest_first = bool_arg(info, 6);
    topk(dtable.data, Ks, codes, k, largest_first, array_arg<uint32_t>(info, 7, k).data,
         array_arg<float>(info, 8, k).data);
    return info.Env().Undefined();
}

// Packed codes (kernels/fast_scan.h) of n codes of M subspaces, Ks = 16.
PackedCodes packed_arg(const Napi::CallbackInfo& info, size_t i, size_t n, size_t M) {
    if (M == 0 || M > kPackedMaxM) throw RangeError("Expected 1 <= M <= " + std::to_string(kPackedMaxM) + " for packed codes");
    return {array_arg<uint8_t>(info, i, packed_bytes(n, M)).data, n, M};
}

// pack4(codes, n, M, packed_out): codes (n, M) uint8, each < 16
Napi::Value Pack4(const Napi::CallbackInfo& info) {
    const size_t n = size_arg(info, 1), M = size_arg(info, 2);
    Codes codes = codes_arg(info, 0, n, M);
    if (codes.width != 1) throw TypeError("Expected uint8 codes for argument 0");
    codes.check_range(16);
    PackedCodes out = packed_arg(info, 3, n, M);
    pack4(static_cast<const uint8_t*>(codes.data), n, M, const_cast<uint8_t*>(out.data));
    return info.Env().Undefined();
}

// unpack4(packed, n, M, codes_out): codes_out (n, M) uint8
Napi::Value Unpack4(const Napi::CallbackInfo& info) {
    const size_t n = size_arg(info, 1), M = size_arg(info, 2);
    unpack4(packed_arg(info, 0, n, M), array_arg<uint8_t>(info, 3, checked_mul(n, M)).data);
    return info.Env().Undefined();
}

// packedAdist(dtable, M, packed, n, dists_out): dtable (M, 16)
Napi::Value PackedAdist(const Napi::CallbackInfo& info) {
    const size_t M = size_arg(info, 1), n = size_arg(info, 3);
    PackedCodes codes = packed_arg(info, 2, n, M);
    packed_adist(array_arg<float>(info, 0, checked_mul(M, 16)).data, codes, array_arg<float>(info, 4, n).data);
    return info.Env().Undefined();
}

// packedTopk(dtable, M, packed, n, k, largestFirst, ids_out, dists_out); k <= n
Napi::Value PackedTopk(const Napi::CallbackInfo& info) {
    const size_t M = size_arg(info, 1), n = size_arg(info, 3), k = size_arg(info, 4);
    if (k > n) throw RangeError("Expected k <= n");
    PackedCodes codes = packed_arg(info, 2, n, M);
    packed_topk(array_arg<float>(info, 0, checked_mul(M, 16)).data, codes, k, bool_arg(info, 5),
                array_arg<uint32_t>(info, 6, k).data, array_arg<float>(info, 7, k).data);
    return info.Env().Undefined();
}

// packedRowsRanked() -> the rows fast scans ranked exactly, so far (for the bench)
Napi::Value PackedRowsRanked(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), double(packed_rows_ranked()));
}

// exactSearch(queries, nq, database, nb, d, k, ids_out: Uint32Array, dists_out); k <= nb
Napi::Value ExactSearch(const Napi::CallbackInfo& info) {
    size_t nq = size_arg(info, 1), nb = size_arg(info, 3), d = size_arg(info, 4), k = size_arg(info, 5);
    if (k > nb) throw RangeError("Expected k <= nb");
    if (d == 0) throw RangeError("Expected vectors of at least one dimension");
    auto queries = array_arg<float>(info, 0, checked_mul(nq, d));
    auto database = array_arg<float>(info, 2, checked_mul(nb, d));
    auto ids = array_arg<uint32_t>(info, 6, checked_mul(nq, k));
    exact_search(queries.data, nq, database.data, nb, d, k, ids.data, array_arg<float>(info, 7, checked_mul(nq, k)).data);
    return info.Env().Undefined();
}

// firstOutOfRange(x, limit, copyTo?): index of the first value that is not
// finite or exceeds limit in magnitude, or -1; with copyTo (a Float32Array of
// x's length), x copied there as it is checked.
Napi::Value FirstOutOfRange(const Napi::CallbackInfo& info) {
    const TypedArrayInfo x = typed_array_info(info, 0);
    if (x.type != napi_float32_array) throw TypeError("Expected a Float32Array for argument 0");
    if (!info[1].IsNumber()) throw TypeError("Expected a number for argument 1");
    float* copy_to = info[2].IsUndefined() ? nullptr : array_arg<float>(info, 2, x.length).data;
    size_t i = first_out_of_range(static_cast<float*>(x.data), x.length, info[1].As<Napi::Number>().FloatValue(), copy_to);
    return Napi::Number::New(info.Env(), i == x.length ? -1.0 : double(i));
}

// cachePlan(): { l1d, l2, source }, the cache sizes that size blocks of work
// (kernels/cache.h); a RangeError when NANOPQ_CACHE cannot be read.
Napi::Value CachePlanOf(const Napi::CallbackInfo& info) {
    const CachePlan& plan = cache_plan();
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("l1d", Napi::Number::New(info.Env(), double(plan.l1d)));
    out.Set("l2", Napi::Number::New(info.Env(), double(plan.l2)));
    out.Set("source", Napi::String::New(info.Env(), plan.source));
    return out;
}

}  // namespace

void RegisterKernels(Napi::Env env, Napi::Object exports) {
    export_function<Adist>(env, exports, "adist");
    export_function<Topk>(env, exports, "topk");
    export_function<ExactSearch>(env, exports, "exactSearch");
    export_function<Pack4>(env, exports, "pack4");
    export_function<Unpack4>(env, exports, "unpack4");
    export_function<PackedAdist>(env, exports, "packedAdist");
    export_function<PackedTopk>(env, exports, "packedTopk");
    export_function<PackedRowsRanked>(env, exports, "packedRowsRanked");
    export_function<FirstOutOfRange>(env, exports, "firstOutOfRange");
    export_function<CachePlanOf>(env, exports, "cachePlan");
    exports.Set("simd", Napi::String::New(env, simd_name()));
    exports.Set("packedKernel", Napi::String::New(env, packed_kernel_name()));
    exports.Set("blasKernels", Napi::String::New(env, blas_kernels()));
    export_limit(env, exports, "maxAbsValue", double(kMaxAbsValue));
}

}  // namespace nanopq
