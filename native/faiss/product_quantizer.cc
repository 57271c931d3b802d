#include "faiss/product_quantizer.h"

#include <faiss/utils/distances.h>

#include <cstring>
#include <vector>

#include "kernels/packing.h"
#include "kernels/parallel.h"
#include "runtime/exports.h"

namespace nanopq {

ThreadedAssignment::ThreadedAssignment(faiss::ProductQuantizer& pq) : pq_(pq), index_(faiss::Index::idx_t(pq.dsub)) {
    pq_.assign_index = &index_;
}

void ThreadedAssignment::Assignment::search(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                                            const faiss::SearchParameters* params) const {
    for_row_blocks(size_t(n), size_t(ntotal) * size_t(d), [&](size_t first, size_t last) {
        faiss::IndexFlatL2::search(idx_t(last - first), x + first * size_t(d), k,
                                   distances + first * size_t(k), labels + first * size_t(k), params);
    }, size_t(faiss::distance_compute_blas_threshold));
}

namespace {

faiss::ProductQuantizer& pq_arg(const Napi::CallbackInfo& info, size_t i, Access access) {
    return *kind_arg<ProductQuantizerObject>(info, i, access, "a ProductQuantizer").pq;
}

// pqNew(d, M, nbits)
Napi::Value PqNew(const Napi::CallbackInfo& info) {
    size_t d = size_arg(info, 0), M = size_arg(info, 1);
    check_dims(d, M);
    auto pq = std::make_shared<faiss::ProductQuantizer>(d, M, nbits_arg(info, 2));
    quiet(*pq);
    return wrap(info.Env(), std::make_unique<ProductQuantizerObject>(pq));
}

// pqInfo(pq) -> {d, M, nbits, dsub, ksub}
Napi::Value PqInfo(const Napi::CallbackInfo& info) {
    auto& pq = pq_arg(info, 0, Access::Read);
    auto out = Napi::Object::New(info.Env());
    out.Set("d", double(pq.d));
    out.Set("M", double(pq.M));
    out.Set("nbits", double(pq.nbits));
    out.Set("dsub", double(pq.dsub));
    out.Set("ksub", double(pq.ksub));
    return out;
}

// pqGetCentroids(pq, out) / pqSetCentroids(pq, centroids): (M, ksub, dsub)
Napi::Value PqGetCentroids(const Napi::CallbackInfo& info) {
    auto& pq = pq_arg(info, 0, Access::Read);
    auto out = array_arg<float>(info, 1, pq.centroids.size());
    std::memcpy(out.data, pq.centroids.data(), out.length * sizeof(float));
    return undefined(info);
}

Napi::Value PqSetCentroids(const Napi::CallbackInfo& info) {
    auto& pq = pq_arg(info, 0, Access::Write);
    auto in = array_arg<float>(info, 1, pq.centroids.size());
    std::memcpy(pq.centroids.data(), in.data, in.length * sizeof(float));
    return undefined(info);
}

// pqTrain(pq, x, n)
Napi::Value PqTrain(const Napi::CallbackInfo& info) {
    auto& pq = pq_arg(info, 0, Access::Write);
    size_t n = size_arg(info, 2);
    if (n < pq.ksub) throw RangeError("Expected at least ksub training vectors");
    const float* x = array_arg<float>(info, 1, checked_mul(n, pq.d)).data;
    const ThreadedAssignment threaded(pq);
    pq.train(n, x);
    return undefined(info);
}

// pqComputeCodes(pq, x, n, codes_out): one integer per sub-quantizer
Napi::Value PqComputeCodes(const Napi::CallbackInfo& info) {
    auto& pq = pq_arg(info, 0, Access::Read);
    size_t n = size_arg(info, 2);
    auto x = array_arg<float>(info, 1, checked_mul(n, pq.d));
    compute_codes(pq, x.data, codes_arg(info, 3, n, pq.M));
    return undefined(info);
}

// pqDecode(pq, codes, n, x_out)
Napi::Value PqDecode(const Napi::CallbackInfo& info) {
    auto& pq = pq_arg(info, 0, Access::Read);
    size_t n = size_arg(info, 2);
    Codes codes = codes_arg(info, 1, n, pq.M);
    auto x = array_arg<float>(info, 3, checked_mul(n, pq.d));
    std::vector<uint8_t> packed(checked_mul(n, pq.code_size));
    pack_codes(codes, int(pq.nbits), packed.data());
    pq.decode(packed.data(), x.data, n);
    return undefined(info);
}

void RegisterProductQuantizer(Napi::Env env, Napi::Object exports) {
    export_function<PqNew>(env, exports, "pqNew");
    export_function<PqInfo>(env, exports, "pqInfo");
    export_function<PqGetCentroids>(env, exports, "pqGetCentroids");
    export_function<PqSetCentroids>(env, exports, "pqSetCentroids");
    export_function<PqTrain>(env, exports, "pqTrain");
    export_function<PqComputeCodes>(env, exports, "pqComputeCodes");
    export_function<PqDecode>(env, exports, "pqDecode");
}

const FaissFunctions registered(RegisterProductQuantizer);

}  // namespace

}  // namespace nanopq
