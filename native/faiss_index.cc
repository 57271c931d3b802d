// faiss::IndexPQ and faiss::IndexPreTransform for JavaScript (lib/faiss.ts):
// train, add and search, sync and async; their parts; index files.
#include <faiss/impl/io.h>
#include <faiss/index_io.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "faiss_object.h"
#include "worker.h"

namespace nanopq {

namespace {

// What Faiss allocates per row in add/search on this index, in floats: a
// distance table of M * ksub, the transformed copies of an IndexPreTransform.
size_t floats_per_row(faiss::Index& index) {
    size_t floats = size_t(index.d);
    faiss::Index* inner = &index;
    if (auto* pre = as_pre_transform(index)) {
        for (auto* t : pre->chain) floats += size_t(t->d_out);
        inner = pre->index;
    }
    if (auto* pq = as_index_pq(*inner)) floats += pq->pq.M * pq->pq.ksub;
    return floats;
}

// indexPQNew(d, M, nbits, metric)
Napi::Value IndexPQNew(const Napi::CallbackInfo& info) {
    size_t d = size_arg(info, 0), M = size_arg(info, 1);
    check_dims(d, M);
    auto index = std::make_shared<faiss::IndexPQ>(int(d), M, nbits_arg(info, 2), metric_arg_faiss(info, 3));
    quiet(index->pq);
    return wrap(info.Env(), {nullptr, nullptr, index, nullptr});
}

// indexPreTransformNew(transform, index): shares both, as Faiss's own_fields = false
Napi::Value IndexPreTransformNew(const Napi::CallbackInfo& info) {
    FaissObject& t = object_arg(info, 0);
    FaissObject& i = object_arg(info, 1);
    if (!t.transform) throw TypeError("Expected an OPQMatrix for argument 0");
    if (!i.index || !as_index_pq(*i.index)) throw TypeError("Expected an IndexPQ for argument 1");
    if (size_t(t.transform->d_out) != size_t(i.index->d))
        throw RangeError("Expected the transform's output dimension to be the index's d");
    auto transform = t.transform;
    auto inner = i.index;
    auto quiet_pq = t.quiet_pq;
    std::shared_ptr<faiss::Index> pre(new faiss::IndexPreTransform(transform.get(), inner.get()),
                                      [transform, inner, quiet_pq](faiss::Index* p) { delete p; });
    Locks locks = t.locks;
    locks.insert(locks.end(), i.locks.begin(), i.locks.end());
    return wrap(info.Env(), {nullptr, nullptr, pre, nullptr, locks});
}

// indexInfo(index) -> {d, ntotal, isTrained, metric}
Napi::Value IndexInfo(const Napi::CallbackInfo& info) {
    auto& index = index_arg(info, 0, Access::Read);
    auto out = Napi::Object::New(info.Env());
    out.Set("d", double(index.d));
    out.Set("ntotal", double(index.ntotal));
    out.Set("isTrained", index.is_trained);
    out.Set("metric", index.metric_type == faiss::METRIC_L2 ? "l2" : "dot");
    return out;
}

// indexSetTrained(index, trained): after centroids were set by hand, as Python's `index.is_trained = True`
Napi::Value IndexSetTrained(const Napi::CallbackInfo& info) {
    auto& index = index_arg(info, 0, Access::Write);
    if (!as_index_pq(index)) throw TypeError("Expected an IndexPQ for argument 0");
    index.is_trained = bool_arg(info, 1);
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

// Training, adding or searching an index: what the sync bindings do on the
// JavaScript thread and the async ones on a worker (with the values of x
// checked there, off the event loop). Faiss gets rows in blocks, as it
// allocates per row.
struct IndexJob {
    enum Kind { Train, Add, Search } kind;
    std::shared_ptr<faiss::Index> index;
    faiss::IndexPQ* pq;  // index's, or the one inside it
    const float* x;
    size_t n, k = 0;
    float* distances = nullptr;
    int64_t* labels = nullptr;
    bool check_x = false;

    void run() {
        faiss::Index& ix = *index;
        const size_t d = size_t(ix.d);
        if (check_x) check_values(x, n * d, kMaxAbsValue);
        if (kind == Train) {
            // Faiss trains a transform still to train (an OPQMatrix) from a
            // random rotation, so only a chain trained throughout may blow x up.
            auto* pre = as_pre_transform(ix);
            if (pre && std::all_of(pre->chain.begin(), pre->chain.end(), [](auto* t) { return t->is_trained; }))
                check_transformed(pre->chain, x, n,
                                  "Expected vectors that the index's transforms keep within magnitude 1e15 for train()");
            const ThreadedAssignment threaded(pq->pq);
            return ix.train(faiss::Index::idx_t(n), x);
        }
        // Rows go to Faiss in blocks split between threads (its BLAS products
        // run on one), smaller where memory requires (Faiss allocates per row).
        // add() encodes them so, then appends the codes, as Faiss's add does.
        const size_t code_size = pq->pq.code_size, first_code = pq->codes.size(),
                     rows = rows_per_block(floats_per_row(ix) + 2 * k);
        if (kind == Add) pq->codes.resize(first_code + checked_mul(n, code_size));
        try {
            // The work of a row: its distance tables, and a search's scan of the codes.
            const size_t row_work = d * pq->pq.ksub + (kind == Add ? 0 : size_t(ix.ntotal) * pq->pq.M);
            for_row_blocks(n, row_work, [&](size_t first, size_t last) {
                const auto nb = faiss::Index::idx_t(last - first);
                if (kind == Add)
                    ix.sa_encode(nb, x + first * d, pq->codes.data() + first_code + first * code_size);
                else
                    ix.search(nb, x + first * d, faiss::Index::idx_t(k), distances + first * k, labels + first * k);
            }, 1, rows);
        } catch (...) {
            if (kind == Add) pq->codes.resize(first_code);
            throw;
        }
        // An IndexPreTransform's count follows its index's (see index_arg).
        if (kind == Add) pq->ntotal += faiss::Index::idx_t(n);
    }
    Napi::Value result(Napi::Env env) { return env.Undefined(); }
};

// The job of indexTrain(index, x, n), indexAdd(index, x, n) or
// indexSearch(index, x, n, k, distances_out, labels_out: BigInt64Array).
IndexJob index_job(const Napi::CallbackInfo& info, IndexJob::Kind kind) {
    faiss::Index& index = index_arg(info, 0, kind == IndexJob::Search ? Access::Read : Access::Write);
    if (kind != IndexJob::Train && !index.is_trained)
        throw TypeError(std::string("Expected a trained index for ") + (kind == IndexJob::Add ? "add" : "search") +
                        "(); call train() first");
    IndexJob job{kind, object_arg(info, 0).index, &inner_index_pq(index), nullptr, size_arg(info, 2)};
    job.x = array_arg<float>(info, 1, checked_mul(job.n, size_t(index.d))).data;
    if (kind == IndexJob::Search) {
        // lib/faiss.ts clamps k to ntotal: Faiss would fill n x k results whatever ntotal is.
        job.k = size_arg(info, 3);
        if (job.k < 1 || job.k > size_t(index.ntotal))
            throw RangeError("Expected 1 <= k <= ntotal = " + std::to_string(index.ntotal));
        job.distances = array_arg<float>(info, 4, checked_mul(job.n, job.k)).data;
        job.labels = array_arg<int64_t>(info, 5, checked_mul(job.n, job.k)).data;
    }
    return job;
}

// Holds its access to the index until the job is done; the index's handle
// is kept alive by the worker.
struct HeldIndexJob {
    IndexJob job;
    Hold hold;
    FaissObject* object;
    void run() { job.run(); }
    Napi::Value result(Napi::Env env) {
        account(env, *object);
        return env.Undefined();
    }
};

template <IndexJob::Kind kind>
Napi::Value IndexRun(const Napi::CallbackInfo& info) {
    index_job(info, kind).run();
    account(info.Env(), object_arg(info, 0));
    return undefined(info);
}

// indexTrainAsync / indexAddAsync / indexSearchAsync: the same arguments, a Promise<undefined>.
template <IndexJob::Kind kind>
Napi::Value IndexRunAsync(const Napi::CallbackInfo& info) {
    IndexJob job = index_job(info, kind);
    job.check_x = true;
    FaissObject& object = object_arg(info, 0);
    Hold hold(object, kind == IndexJob::Search ? Access::Read : Access::Write);
    HeldIndexJob held{job, std::move(hold), &object};
    if (kind == IndexJob::Search)
        return Worker<HeldIndexJob>::start(info.Env(), std::move(held), {info[0], info[1], info[4], info[5]});
    return Worker<HeldIndexJob>::start(info.Env(), std::move(held), {info[0], info[1]});
}

// indexCodes(index, out): the IndexPQ's codes as Faiss packs them, (ntotal, code_size)
Napi::Value IndexCodes(const Napi::CallbackInfo& info) {
    auto* pq = as_index_pq(index_arg(info, 0, Access::Read));
    if (!pq) throw TypeError("Expected an IndexPQ for argument 0");
    auto out = array_arg<uint8_t>(info, 1, pq->codes.size());
    std::copy(pq->codes.begin(), pq->codes.end(), out.data);  // not memcpy: an empty array's data may be null
    return undefined(info);
}

// indexAddCodes(index, codes, n): appends n rows of codes (one integer per
// sub-quantizer, (n, M)) to an IndexPQ, or to the IndexPQ inside an
// IndexPreTransform, as Faiss would store them after add(): codes read from a
// file go in as they are, where encoding their vectors again may differ in
// the last bit of a tie.
Napi::Value IndexAddCodes(const Napi::CallbackInfo& info) {
    FaissObject& o = object_arg(info, 0);
    faiss::Index& index = index_arg(info, 0, Access::Write);
    faiss::IndexPQ& pq = inner_index_pq(index);
    if (!index.is_trained) throw TypeError("Expected a trained index for addCodes(); call train() first");
    const size_t n = size_arg(info, 2);
    Codes codes = codes_arg(info, 1, n, pq.pq.M);
    if (n == 0) return undefined(info);
    // Packed aside first: a code out of range throws before the index changes.
    std::vector<uint8_t> packed(checked_mul(n, pq.pq.code_size));
    pack_codes(codes, int(pq.pq.nbits), packed.data());
    pq.codes.insert(pq.codes.end(), packed.begin(), packed.end());
    pq.ntotal += faiss::Index::idx_t(n);  // an IndexPreTransform's count follows (see index_arg)
    account(info.Env(), o);
    return undefined(info);
}

// indexPQ(index) -> the IndexPQ's ProductQuantizer, sharing the index
Napi::Value IndexGetPQ(const Napi::CallbackInfo& info) {
    FaissObject& o = object_arg(info, 0);
    auto* index = o.index ? as_index_pq(*o.index) : nullptr;
    if (!index) throw TypeError("Expected an IndexPQ for argument 0");
    return wrap(info.Env(), {std::shared_ptr<faiss::ProductQuantizer>(o.index, &index->pq), nullptr, nullptr, nullptr, o.locks}, false);
}

// preTransformParts(index) -> {chain: [transform...], index}, sharing the pre-transform
Napi::Value PreTransformParts(const Napi::CallbackInfo& info) {
    FaissObject& o = object_arg(info, 0);
    auto* pre = o.index ? as_pre_transform(*o.index) : nullptr;
    if (!pre) throw TypeError("Expected an IndexPreTransform for argument 0");
    auto chain = Napi::Array::New(info.Env(), pre->chain.size());
    for (size_t i = 0; i < pre->chain.size(); i++) {
        auto* lt = dynamic_cast<faiss::LinearTransform*>(pre->chain[i]);
        if (!lt) throw TypeError("Expected an IndexPreTransform whose transforms are linear");
        chain.Set(uint32_t(i), wrap(info.Env(), {nullptr, std::shared_ptr<faiss::LinearTransform>(o.index, lt),
                                                 nullptr, nullptr, o.locks}, false));
    }
    auto out = Napi::Object::New(info.Env());
    out.Set("chain", chain);
    out.Set("index", wrap(info.Env(), {nullptr, nullptr, std::shared_ptr<faiss::Index>(o.index, pre->index), nullptr,
                                       o.locks}, false));
    return out;
}

// readIndex(bytes): bytes validated by the TypeScript layer (lib/faiss-format.ts) first
Napi::Value ReadIndex(const Napi::CallbackInfo& info) {
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
        throw TypeError("Expected a Uint8Array for argument 0");
    auto bytes = info[0].As<Napi::Uint8Array>();
    faiss::VectorIOReader reader;
    reader.data.assign(bytes.Data(), bytes.Data() + bytes.ElementLength());
    std::shared_ptr<faiss::Index> index(faiss::read_index(&reader));
    if (auto* pq = as_index_pq(*index)) quiet(pq->pq);
    if (auto* pre = as_pre_transform(*index)) {
        if (auto* inner = as_index_pq(*pre->index)) quiet(inner->pq);
        // Faiss 1.7.3 computes is_orthonormal before it has read d_in and
        // d_out, which makes every transform it reads "orthonormal".
        for (auto* t : pre->chain)
            if (auto* lt = dynamic_cast<faiss::LinearTransform*>(t))
                if (lt->A.size() >= size_t(lt->d_in) * size_t(lt->d_out)) lt->set_is_orthonormal();
    }
    return wrap(info.Env(), {nullptr, nullptr, index, nullptr});
}

// writeIndex(index) -> Buffer, as faiss.write_index writes a file
Napi::Value WriteIndex(const Napi::CallbackInfo& info) {
    auto& index = index_arg(info, 0, Access::Read);
    faiss::VectorIOWriter writer;
    faiss::write_index(&index, &writer);
    return Napi::Buffer<uint8_t>::Copy(info.Env(), writer.data.data(), writer.data.size());
}

// dispose(handle): frees the object's Faiss parts now (async calls and parts
// of it still referenced keep theirs alive); later calls throw.
Napi::Value Dispose(const Napi::CallbackInfo& info) {
    FaissObject& o = handle_arg(info, 0);
    o.pq.reset();
    o.transform.reset();
    o.index.reset();
    o.quiet_pq.reset();
    o.disposed = true;
    account(info.Env(), o);
    return undefined(info);
}

}  // namespace

void RegisterIndex(Napi::Env env, Napi::Object exports) {
    export_function<IndexPQNew>(env, exports, "indexPQNew");
    export_function<IndexPreTransformNew>(env, exports, "indexPreTransformNew");
    export_function<IndexInfo>(env, exports, "indexInfo");
    export_function<IndexSetTrained>(env, exports, "indexSetTrained");
    export_function<UnpackCodes>(env, exports, "unpackCodes");
    export_function<IndexRun<IndexJob::Train>>(env, exports, "indexTrain");
    export_function<IndexRun<IndexJob::Add>>(env, exports, "indexAdd");
    export_function<IndexRun<IndexJob::Search>>(env, exports, "indexSearch");
    export_function<IndexRunAsync<IndexJob::Train>>(env, exports, "indexTrainAsync");
    export_function<IndexRunAsync<IndexJob::Add>>(env, exports, "indexAddAsync");
    export_function<IndexRunAsync<IndexJob::Search>>(env, exports, "indexSearchAsync");
    export_function<IndexCodes>(env, exports, "indexCodes");
    export_function<IndexAddCodes>(env, exports, "indexAddCodes");
    export_function<IndexGetPQ>(env, exports, "indexGetPQ");
    export_function<PreTransformParts>(env, exports, "preTransformParts");
    export_function<ReadIndex>(env, exports, "readIndex");
    export_function<WriteIndex>(env, exports, "writeIndex");
    export_function<Dispose>(env, exports, "faissDispose");
}

}  // namespace nanopq
