#include "faiss_binding.h"

#include <faiss/IndexPQ.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/VectorTransform.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "args.h"
#include "pq_ops.h"
#include "worker.h"

namespace nanopq {

namespace {

// Async calls running on a Faiss object: several reads, or one write. Only
// the JavaScript thread that owns the object starts or ends them.
struct Busy {
    int readers = 0;
    bool writer = false;
};
using Locks = std::vector<std::shared_ptr<Busy>>;

struct FaissObject {
    std::shared_ptr<faiss::ProductQuantizer> pq;
    std::shared_ptr<faiss::LinearTransform> transform;  // an OPQMatrix, or a LinearTransform read from a file
    std::shared_ptr<faiss::Index> index;                 // an IndexPQ or an IndexPreTransform
    std::shared_ptr<faiss::ProductQuantizer> quiet_pq;   // what an OPQMatrix trains with (see quiet())
    // Its own and those of every object it shares Faiss's with: an index's pq,
    // the parts of an IndexPreTransform, the objects it was made of.
    Locks locks;
    // A handle made with an object of its own (not a part of another's) tells
    // V8 how much native memory that holds, so that garbage collection keeps
    // up with a loop that makes many.
    bool owns_memory = false;
    int64_t accounted = 0;
    bool disposed = false;
};

enum class Access { Read, Write };

// Throws unless an access may start now: a write while nothing runs, a read
// while no write does. (Faiss's objects are not safe to change while read.)
void check_access(const FaissObject& o, Access access) {
    for (const auto& busy : o.locks)
        if (busy->writer || (access == Access::Write && busy->readers > 0))
            throw Error("Expected no async call changing this Faiss object" +
                        std::string(access == Access::Write ? " or reading it" : "") +
                        " to be running; wait for it to settle first");
}

// An access held for as long as an async job lives (it is released when the
// job is destroyed, on the JavaScript thread, after the promise settles).
class Hold {
public:
    Hold(const FaissObject& o, Access access) : locks_(o.locks), access_(access) {
        check_access(o, access);
        for (auto& busy : locks_) access_ == Access::Write ? void(busy->writer = true) : void(busy->readers++);
    }
    Hold(Hold&& other) noexcept : locks_(std::move(other.locks_)), access_(other.access_) { other.locks_.clear(); }
    Hold(const Hold&) = delete;
    ~Hold() {
        for (auto& busy : locks_) access_ == Access::Write ? void(busy->writer = false) : void(busy->readers--);
    }

private:
    Locks locks_;
    Access access_;
};

const napi_type_tag kFaissObjectTag = {0x6e616e6f70712d66ULL, 0x616973732d6f626aULL};

faiss::IndexPQ* as_index_pq(faiss::Index& index) { return dynamic_cast<faiss::IndexPQ*>(&index); }
faiss::IndexPreTransform* as_pre_transform(faiss::Index& index) {
    return dynamic_cast<faiss::IndexPreTransform*>(&index);
}

// The bytes of the arrays a Faiss object holds: centroids, codes, matrices.
size_t native_bytes(const FaissObject& o) {
    size_t floats = 0, bytes = 0;
    auto transform_floats = [](const faiss::VectorTransform* t) {
        auto* lt = dynamic_cast<const faiss::LinearTransform*>(t);
        return lt ? lt->A.size() + lt->b.size() : 0;
    };
    if (o.pq) floats += o.pq->centroids.size();
    if (o.quiet_pq) floats += o.quiet_pq->centroids.size();
    if (o.transform) floats += transform_floats(o.transform.get());
    faiss::Index* index = o.index.get();
    if (auto* pre = index ? as_pre_transform(*index) : nullptr) {
        for (auto* t : pre->chain) floats += transform_floats(t);
        index = pre->index;
    }
    if (auto* pq = index ? as_index_pq(*index) : nullptr) {
        floats += pq->pq.centroids.size();
        bytes += pq->codes.size();
    }
    return sizeof(FaissObject) + floats * sizeof(float) + bytes;
}

// Tells V8 of the change in what the object holds (after training, adding, disposing).
void account(Napi::Env env, FaissObject& o) {
    if (!o.owns_memory) return;
    const int64_t bytes = o.disposed ? 0 : int64_t(native_bytes(o));
    Napi::MemoryManagement::AdjustExternalMemory(env, bytes - o.accounted);
    o.accounted = bytes;
}

// A handle to a new Faiss object, with a lock of its own besides those it
// shares; `owns_memory` unless it is a part of another object.
Napi::Value wrap(Napi::Env env, FaissObject object, bool owns_memory = true) {
    object.locks.push_back(std::make_shared<Busy>());
    object.owns_memory = owns_memory;
    auto* o = new FaissObject(std::move(object));
    auto handle = Napi::External<FaissObject>::New(env, o, [](Napi::Env env, FaissObject* o) {
        if (o->accounted) Napi::MemoryManagement::AdjustExternalMemory(env, -o->accounted);
        delete o;
    });
    handle.TypeTag(&kFaissObjectTag);
    account(env, *o);
    return handle;
}

FaissObject& handle_arg(const Napi::CallbackInfo& info, size_t i) {
    if (!info[i].IsExternal() || !info[i].As<Napi::External<FaissObject>>().CheckTypeTag(&kFaissObjectTag))
        throw TypeError("Expected a Faiss object handle for " + arg_name(i));
    return *info[i].As<Napi::External<FaissObject>>().Data();
}

// The object of a handle, unless it was disposed of.
FaissObject& object_arg(const Napi::CallbackInfo& info, size_t i) {
    FaissObject& o = handle_arg(info, i);
    if (o.disposed) throw Error("Expected a Faiss object that is not disposed of");
    return o;
}

faiss::ProductQuantizer& pq_arg(const Napi::CallbackInfo& info, size_t i, Access access) {
    FaissObject& o = object_arg(info, i);
    check_access(o, access);
    if (!o.pq) throw TypeError("Expected a ProductQuantizer for " + arg_name(i));
    return *o.pq;
}

faiss::LinearTransform& transform_arg(const Napi::CallbackInfo& info, size_t i, Access access) {
    FaissObject& o = object_arg(info, i);
    check_access(o, access);
    if (!o.transform) throw TypeError("Expected an OPQMatrix for " + arg_name(i));
    return *o.transform;
}

faiss::Index& index_arg(const Napi::CallbackInfo& info, size_t i, Access access) {
    FaissObject& o = object_arg(info, i);
    check_access(o, access);
    if (!o.index) throw TypeError("Expected an IndexPQ or IndexPreTransform for " + arg_name(i));
    return *o.index;
}

void quiet(faiss::ProductQuantizer& pq) { silence_clustering_warning(pq.cp); }

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

Napi::Value undefined(const Napi::CallbackInfo& info) { return info.Env().Undefined(); }

// --- ProductQuantizer ---

// pqNew(d, M, nbits)
Napi::Value PqNew(const Napi::CallbackInfo& info) {
    size_t d = size_arg(info, 0), M = size_arg(info, 1);
    check_dims(d, M);
    auto pq = std::make_shared<faiss::ProductQuantizer>(d, M, nbits_arg(info, 2));
    quiet(*pq);
    return wrap(info.Env(), {pq, nullptr, nullptr, nullptr});
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
    pq.train(n, array_arg<float>(info, 1, checked_mul(n, pq.d)).data);
    return undefined(info);
}

// pqComputeCodes(pq, x, n, codes_out): one integer per sub-quantizer
Napi::Value PqComputeCodes(const Napi::CallbackInfo& info) {
    auto& pq = pq_arg(info, 0, Access::Read);
    size_t n = size_arg(info, 2);
    auto x = array_arg<float>(info, 1, checked_mul(n, pq.d));
    Codes codes = codes_arg(info, 3, n, pq.M);
    const size_t rows = rows_per_block(pq.M * pq.ksub);
    std::vector<uint8_t> packed(checked_mul(std::min(n, rows), pq.code_size));
    for (size_t i0 = 0; i0 < n; i0 += rows) {
        const size_t nb = std::min(rows, n - i0);
        pq.compute_codes(x.data + i0 * pq.d, packed.data(), nb);
        unpack_codes(packed.data(), int(pq.nbits), codes.rows(i0, nb));
    }
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

// --- OPQMatrix / LinearTransform ---

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

// --- IndexPQ / IndexPreTransform ---

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
            if (auto* pre = as_pre_transform(ix)) check_transformed(*pre);
            return ix.train(faiss::Index::idx_t(n), x);
        }
        const size_t rows = rows_per_block(floats_per_row(ix) + 2 * k);
        for (size_t i0 = 0; i0 < n; i0 += rows) {
            const auto nb = faiss::Index::idx_t(std::min(rows, n - i0));
            if (kind == Add)
                ix.add(nb, x + i0 * d);
            else
                ix.search(nb, x + i0 * d, faiss::Index::idx_t(k), distances + i0 * k, labels + i0 * k);
        }
    }
    Napi::Value result(Napi::Env env) { return env.Undefined(); }

    // Faiss's k-means aborts the process on distances that overflow, so the
    // vectors that trained transforms (a file's LinearTransform may hold any
    // matrix) hand to it are checked first, as our own inputs are.
    void check_transformed(const faiss::IndexPreTransform& pre) const {
        for (auto* t : pre.chain)
            if (!t->is_trained) return;  // an OPQMatrix still to train: orthonormal
        const size_t rows = rows_per_block(floats_per_row(*index));
        for (size_t i0 = 0; i0 < n; i0 += rows) {
            const size_t nb = std::min(rows, n - i0);
            const float* y = pre.apply_chain(faiss::Index::idx_t(nb), x + i0 * size_t(pre.d));
            const std::unique_ptr<const float[]> owned(y == x + i0 * size_t(pre.d) ? nullptr : y);
            if (first_out_of_range(y, nb * size_t(pre.index->d), kMaxAbsValue) < nb * size_t(pre.index->d))
                throw RangeError("Expected vectors that the index's transforms keep within magnitude 1e15 for train()");
        }
    }
};

// The job of indexTrain(index, x, n), indexAdd(index, x, n) or
// indexSearch(index, x, n, k, distances_out, labels_out: BigInt64Array).
IndexJob index_job(const Napi::CallbackInfo& info, IndexJob::Kind kind) {
    FaissObject& o = object_arg(info, 0);
    if (!o.index) throw TypeError("Expected an IndexPQ or IndexPreTransform for argument 0");
    check_access(o, kind == IndexJob::Search ? Access::Read : Access::Write);
    faiss::Index& index = *o.index;
    if (kind != IndexJob::Train && !index.is_trained)
        throw TypeError(std::string("Expected a trained index for ") + (kind == IndexJob::Add ? "add" : "search") +
                        "(); call train() first");
    IndexJob job{kind, o.index, nullptr, size_arg(info, 2)};
    job.x = array_arg<float>(info, 1, checked_mul(job.n, size_t(index.d))).data;
    if (kind == IndexJob::Search) {
        job.k = size_arg(info, 3);
        if (job.k < 1) throw RangeError("Expected k >= 1");
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

void RegisterFaiss(Napi::Env env, Napi::Object exports) {
    export_function<PqNew>(env, exports, "pqNew");
    export_function<PqInfo>(env, exports, "pqInfo");
    export_function<PqGetCentroids>(env, exports, "pqGetCentroids");
    export_function<PqSetCentroids>(env, exports, "pqSetCentroids");
    export_function<PqTrain>(env, exports, "pqTrain");
    export_function<PqComputeCodes>(env, exports, "pqComputeCodes");
    export_function<PqDecode>(env, exports, "pqDecode");
    export_function<OpqNew>(env, exports, "opqNew");
    export_function<TransformInfo>(env, exports, "transformInfo");
    export_function<TransformGetA>(env, exports, "transformGetA");
    export_function<TransformSetA>(env, exports, "transformSetA");
    export_function<TransformTrain>(env, exports, "transformTrain");
    export_function<TransformApply>(env, exports, "transformApply");
    export_function<TransformReverse>(env, exports, "transformReverse");
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
    export_function<IndexGetPQ>(env, exports, "indexGetPQ");
    export_function<PreTransformParts>(env, exports, "preTransformParts");
    export_function<ReadIndex>(env, exports, "readIndex");
    export_function<WriteIndex>(env, exports, "writeIndex");
    export_function<Dispose>(env, exports, "faissDispose");
}

}  // namespace nanopq
