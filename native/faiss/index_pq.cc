#include "faiss/index_pq.h"

#include <faiss/IndexPQFastScan.h>
#include <faiss/impl/pq4_fast_scan.h>

#include <algorithm>
#include <vector>

#include "faiss/product_quantizer.h"
#include "kernels/packing.h"
#include "kernels/parallel.h"
#include "runtime/exports.h"

namespace nanopq {

size_t PQIndex::held_bytes() const { return pq().pq.centroids.size() * sizeof(float) + pq().codes.size(); }

void PQIndex::after_read() { quiet(pq().pq); }

size_t PQIndex::row_work(size_t d, bool search) const {
    return d * pq().pq.ksub + (search ? size_t(pq().ntotal) * pq().pq.M : 0);
}

void PQIndex::train_whole(faiss::Index& whole, size_t n, const float* x) const {
    const ThreadedAssignment threaded(pq().pq);
    whole.train(faiss::Index::idx_t(n), x);
}

void PQIndex::add_whole(faiss::Index& whole, size_t n, const float* x, size_t row_work, size_t rows) const {
    faiss::IndexPQ& index = pq();
    const size_t d = size_t(whole.d), code_size = index.pq.code_size, first_code = index.codes.size();
    index.codes.resize(first_code + checked_mul(n, code_size));
    try {
        for_row_blocks(n, row_work, [&](size_t first, size_t last) {
            whole.sa_encode(faiss::Index::idx_t(last - first), x + first * d,
                            index.codes.data() + first_code + first * code_size);
        }, 1, rows);
    } catch (...) {
        index.codes.resize(first_code);
        throw;
    }
    // An IndexPreTransform's count follows its index's (its sync()).
    index.ntotal += faiss::Index::idx_t(n);
}

namespace {

const IndexKind kind(typeid(faiss::IndexPQ), "IndexPQ",
                     [](std::shared_ptr<faiss::Index> index, const char* kind) -> std::shared_ptr<AnyIndex> {
                         return std::make_shared<PQIndex>(std::move(index), kind);
                     });

// `index` as an IndexPQ (argument 0), or a TypeError with `expected`.
PQIndex& pq_index(AnyIndex* index, const char* expected) {
    auto* pq = dynamic_cast<PQIndex*>(index);
    if (!pq) throw TypeError(std::string("Expected ") + expected + " for argument 0");
    return *pq;
}

// indexPQNew(d, M, nbits, metric)
Napi::Value IndexPQNew(const Napi::CallbackInfo& info) {
    size_t d = size_arg(info, 0), M = size_arg(info, 1);
    check_dims(d, M);
    auto index = std::make_shared<faiss::IndexPQ>(int(d), M, nbits_arg(info, 2), metric_arg_faiss(info, 3));
    return wrap(info.Env(), std::make_unique<IndexObject>(adopt(index)));
}

// indexSetTrained(index, trained): after centroids were set by hand, as Python's `index.is_trained = True`
Napi::Value IndexSetTrained(const Napi::CallbackInfo& info) {
    PQIndex& index = pq_index(index_arg(info, 0, Access::Write).index.get(), "an IndexPQ");
    index.pq().is_trained = bool_arg(info, 1);
    return undefined(info);
}

// indexCodes(index, out): the IndexPQ's codes as Faiss packs them, (ntotal, code_size)
Napi::Value IndexCodes(const Napi::CallbackInfo& info) {
    const faiss::IndexPQ& pq = pq_index(index_arg(info, 0, Access::Read).index.get(), "an IndexPQ").pq();
    auto out = array_arg<uint8_t>(info, 1, pq.codes.size());
    std::copy(pq.codes.begin(), pq.codes.end(), out.data);  // not memcpy: an empty array's data may be null
    return undefined(info);
}

// indexAddCodes(index, codes, n): appends n rows of codes (one integer per
// sub-quantizer, (n, M)) to an IndexPQ, or to the IndexPQ inside an
// IndexPreTransform, as Faiss would store them after add(): codes read from a
// file go in as they are, where encoding their vectors again may differ in
// the last bit of a tie.
Napi::Value IndexAddCodes(const Napi::CallbackInfo& info) {
    IndexObject& o = index_arg(info, 0, Access::Write);
    faiss::IndexPQ& pq =
        pq_index(&o.index->storage(), "an IndexPQ or an IndexPreTransform over an IndexPQ").pq();
    if (!o.index->get().is_trained) throw TypeError("Expected a trained index for addCodes(); call train() first");
    const size_t n = size_arg(info, 2);
    Codes codes = codes_arg(info, 1, n, pq.pq.M);
    if (n == 0) return undefined(info);
    // Packed aside first: a code out of range throws before the index changes.
    std::vector<uint8_t> packed(checked_mul(n, pq.pq.code_size));
    pack_codes(codes, int(pq.pq.nbits), packed.data());
    pq.codes.insert(pq.codes.end(), packed.begin(), packed.end());
    pq.ntotal += faiss::Index::idx_t(n);  // an IndexPreTransform's count follows (its sync())
    account(info.Env(), o);
    return undefined(info);
}

// indexGetPQ(index) -> the ProductQuantizer of the index's codes (IndexPQ,
// IVFPQ, the fast-scan kinds), sharing the index, or undefined
Napi::Value IndexGetPQ(const Napi::CallbackInfo& info) {
    FaissObject& o = object_arg(info, 0);
    auto* index = dynamic_cast<IndexObject*>(&o);
    if (!index) throw TypeError("Expected a Faiss index for argument 0");
    faiss::ProductQuantizer* pq = index->index->product_quantizer();
    if (!pq) return info.Env().Undefined();
    return wrap(info.Env(),
                std::make_unique<ProductQuantizerObject>(
                    std::shared_ptr<faiss::ProductQuantizer>(index->index->shared(), pq), o.locks),
                false);
}

// indexPQFastScanFrom(indexPQ) -> an IndexPQFastScan of the IndexPQ's
// quantizer (4-bit codes) and codes, in Faiss's blocks of 32
Napi::Value IndexPQFastScanFrom(const Napi::CallbackInfo& info) {
    const faiss::IndexPQ& pq = pq_index(index_arg(info, 0, Access::Read).index.get(), "an IndexPQ").pq();
    if (pq.pq.nbits != 4) throw TypeError("Expected an IndexPQ of 4-bit codes for an IndexPQFastScan");
    if (!pq.is_trained) throw TypeError("Expected a trained IndexPQ for an IndexPQFastScan");
    return wrap(info.Env(), std::make_unique<IndexObject>(adopt(std::make_shared<faiss::IndexPQFastScan>(pq, 32))));
}

// fastScanCodes(index, codes_out): an IndexPQFastScan's codes, one byte per
// sub-quantizer, (ntotal, M)
Napi::Value FastScanCodes(const Napi::CallbackInfo& info) {
    const auto* fs = dynamic_cast<const faiss::IndexPQFastScan*>(&index_arg(info, 0, Access::Read).index->get());
    if (!fs) throw TypeError("Expected an IndexPQFastScan for argument 0");
    const size_t n = size_t(fs->ntotal), M = fs->pq.M;
    auto out = array_arg<uint8_t>(info, 1, checked_mul(n, M));
    // Blocks of bbs rows (ntotal2 of them, ntotal rounded up) of M2 (M rounded up to even) 4-bit codes: checked
    // when the file was read; checked again here, as pq4_get_packed_element trusts them.
    if (fs->bbs <= 0 || fs->bbs % 32 || fs->M2 < M || fs->ntotal2 < n || fs->codes.size() < fs->ntotal2 * fs->M2 / 2)
        throw RangeError("Expected an IndexPQFastScan whose blocks hold its codes");
    for (size_t i = 0; i < n; i++)
        for (size_t m = 0; m < M; m++)
            out.data[i * M + m] = faiss::pq4_get_packed_element(fs->codes.get(), size_t(fs->bbs), fs->M2, i, m);
    return undefined(info);
}

// unpackCodes(packed, n, M, nbits, codes_out): Faiss's bit-packed codes, one integer per sub-quantizer
Napi::Value UnpackCodes(const Napi::CallbackInfo& info) {
    size_t n = size_arg(info, 1), M = size_arg(info, 2);
    if (M < 1) throw RangeError("Expected M >= 1");
    int nbits = nbits_arg(info, 3);
    auto packed = array_arg<uint8_t>(info, 0, checked_mul(n, packed_code_size(M, nbits)));
    unpack_codes(packed.data, nbits, codes_arg(info, 4, n, M));
    return undefined(info);
}

void RegisterIndexPQ(Napi::Env env, Napi::Object exports) {
    export_function<IndexPQNew>(env, exports, "indexPQNew");
    export_function<IndexSetTrained>(env, exports, "indexSetTrained");
    export_function<IndexCodes>(env, exports, "indexCodes");
    export_function<IndexAddCodes>(env, exports, "indexAddCodes");
    export_function<IndexGetPQ>(env, exports, "indexGetPQ");
    export_function<UnpackCodes>(env, exports, "unpackCodes");
    export_function<IndexPQFastScanFrom>(env, exports, "indexPQFastScanFrom");
    export_function<FastScanCodes>(env, exports, "fastScanCodes");
}

const FaissFunctions registered(RegisterIndexPQ);

}  // namespace

}  // namespace nanopq
