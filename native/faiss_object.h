// What every wrapped Faiss object shares: the handle JavaScript holds (see
// handles.h; the object holds shared pointers, so that `index.pq` and
// `chain[i]` keep their parent alive), its locks against changes while async
// calls read it, the native memory it tells V8 of, and argument readers.
// One file each binds the ProductQuantizer, the OPQMatrix and the indexes.
#pragma once

#include <napi.h>

#include <faiss/IndexFlat.h>
#include <faiss/IndexPQ.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/VectorTransform.h>
#include <faiss/utils/distances.h>

#include <memory>
#include <string>
#include <vector>

#include "addon_data.h"
#include "args.h"
#include "handles.h"
#include "parallel.h"
#include "pq_ops.h"

namespace nanopq {

// Async calls running on a Faiss object: several reads, or one write. Only
// the JavaScript thread that owns the object starts or ends them.
struct Busy {
    int readers = 0;
    bool writer = false;
};
using Locks = std::vector<std::shared_ptr<Busy>>;

struct FaissObject : Owned {
    FaissObject(std::shared_ptr<faiss::ProductQuantizer> pq, std::shared_ptr<faiss::LinearTransform> transform,
                std::shared_ptr<faiss::Index> index, std::shared_ptr<faiss::ProductQuantizer> quiet_pq,
                Locks locks = {})
        : pq(std::move(pq)), transform(std::move(transform)), index(std::move(index)),
          quiet_pq(std::move(quiet_pq)), locks(std::move(locks)) {}

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
    bool disposed = false;
};

enum class Access { Read, Write };

// Throws unless an access may start now: a write while nothing runs, a read
// while no write does. (Faiss's objects are not safe to change while read.)
inline void check_access(const FaissObject& o, Access access) {
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
        for (auto& busy : locks_) {
            if (access_ == Access::Write)
                busy->writer = true;
            else
                busy->readers++;
        }
    }
    Hold(Hold&& other) noexcept : locks_(std::move(other.locks_)), access_(other.access_) { other.locks_.clear(); }
    Hold(const Hold&) = delete;
    ~Hold() {
        for (auto& busy : locks_) {
            if (access_ == Access::Write)
                busy->writer = false;
            else
                busy->readers--;
        }
    }

private:
    Locks locks_;
    Access access_;
};

inline const napi_type_tag kFaissObjectTag = {0x6e616e6f70712d66ULL, 0x616973732d6f626aULL};

inline faiss::IndexPQ* as_index_pq(faiss::Index& index) { return dynamic_cast<faiss::IndexPQ*>(&index); }
inline faiss::IndexPreTransform* as_pre_transform(faiss::Index& index) {
    return dynamic_cast<faiss::IndexPreTransform*>(&index);
}

// The IndexPQ of an IndexPQ or of an IndexPreTransform over one (argument 0).
inline faiss::IndexPQ& inner_index_pq(faiss::Index& index) {
    auto* pre = as_pre_transform(index);
    auto* pq = as_index_pq(pre ? *pre->index : index);
    if (!pq) throw TypeError("Expected an IndexPQ or an IndexPreTransform over an IndexPQ for argument 0");
    return *pq;
}

// While one lives, the k-means of `pq`'s training assigns points to
// centroids on every thread. Faiss's assignment is one BLAS product, which
// runs on one thread (keep_blas_on_calling_thread), so this index, Faiss's
// assign_index, splits it by rows.
class ThreadedAssignment {
public:
    explicit ThreadedAssignment(faiss::ProductQuantizer& pq)
        : pq_(pq), index_(faiss::Index::idx_t(pq.dsub)) {
        pq_.assign_index = &index_;
    }
    ~ThreadedAssignment() { pq_.assign_index = nullptr; }
    ThreadedAssignment(const ThreadedAssignment&) = delete;
    ThreadedAssignment& operator=(const ThreadedAssignment&) = delete;

private:
    struct Assignment : faiss::IndexFlatL2 {
        using faiss::IndexFlatL2::IndexFlatL2;
        void search(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                    const faiss::SearchParameters* params) const override {
            for_row_blocks(size_t(n), size_t(ntotal) * size_t(d), [&](size_t first, size_t last) {
                faiss::IndexFlatL2::search(idx_t(last - first), x + first * size_t(d), k,
                                           distances + first * size_t(k), labels + first * size_t(k), params);
            }, size_t(faiss::distance_compute_blas_threshold));
        }
    };
    faiss::ProductQuantizer& pq_;
    Assignment index_;
};

// The bytes of the arrays a Faiss object holds: centroids, codes, matrices.
inline size_t native_bytes(const FaissObject& o) {
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
inline void account(Napi::Env env, FaissObject& o) {
    if (o.owns_memory) handles(env).account(o, o.disposed ? 0 : int64_t(native_bytes(o)));
}

// A handle to a new Faiss object, with a lock of its own besides those it
// shares; `owns_memory` unless it is a part of another object.
inline Napi::Value wrap(Napi::Env env, FaissObject object, bool owns_memory = true) {
    object.locks.push_back(std::make_shared<Busy>());
    object.owns_memory = owns_memory;
    auto owned = std::make_unique<FaissObject>(std::move(object));
    FaissObject& o = *owned;
    Napi::Value handle = handles(env).make(env, std::move(owned), kFaissObjectTag);
    account(env, o);
    return handle;
}

inline FaissObject& handle_arg(const Napi::CallbackInfo& info, size_t i) {
    auto* o = Handles::get<FaissObject>(info[i], kFaissObjectTag);
    if (!o) throw TypeError("Expected a Faiss object handle for " + arg_name(i));
    return *o;
}

// The object of a handle, unless it was disposed of.
inline FaissObject& object_arg(const Napi::CallbackInfo& info, size_t i) {
    FaissObject& o = handle_arg(info, i);
    if (o.disposed) throw Error("Expected a Faiss object that is not disposed of");
    return o;
}

inline faiss::ProductQuantizer& pq_arg(const Napi::CallbackInfo& info, size_t i, Access access) {
    FaissObject& o = object_arg(info, i);
    check_access(o, access);
    if (!o.pq) throw TypeError("Expected a ProductQuantizer for " + arg_name(i));
    return *o.pq;
}

inline faiss::LinearTransform& transform_arg(const Napi::CallbackInfo& info, size_t i, Access access) {
    FaissObject& o = object_arg(info, i);
    check_access(o, access);
    if (!o.transform) throw TypeError("Expected an OPQMatrix for " + arg_name(i));
    return *o.transform;
}

// Every call on an index reaches it here. An IndexPreTransform's count is its
// index's: what is added through that index (`pt.index`, or the IndexPQ it was
// made of) changes only the index's, so the count follows here, once no async
// call runs on it (its locks are the index's too, so none adds to the index).
// Only when they differ: an async search may be reading it.
inline faiss::Index& index_arg(const Napi::CallbackInfo& info, size_t i, Access access) {
    FaissObject& o = object_arg(info, i);
    check_access(o, access);
    if (!o.index) throw TypeError("Expected an IndexPQ or IndexPreTransform for " + arg_name(i));
    if (auto* pre = as_pre_transform(*o.index))
        if (pre->ntotal != pre->index->ntotal) pre->ntotal = pre->index->ntotal;
    return *o.index;
}

inline void quiet(faiss::ProductQuantizer& pq) { silence_clustering_warning(pq.cp); }

// Faiss's k-means asserts, aborting the process, on distances that overflow:
// where it trains on vectors a trained transform gives (x through each of
// `chain`, as Faiss applies them; a file's transform or an assigned A may be
// any matrix), they are checked first as our own inputs are, and one beyond
// kMaxAbsValue is a RangeError with `message`.
void check_transformed(const std::vector<faiss::VectorTransform*>& chain, const float* x, size_t n,
                       const char* message);

inline int nbits_arg(const Napi::CallbackInfo& info, size_t i) {
    size_t nbits = size_arg(info, i);
    if (nbits < 1 || nbits > 16) throw RangeError("Expected 1 <= nbits <= 16");
    return int(nbits);
}

inline void check_dims(size_t d, size_t M) {
    if (d < 1 || M < 1 || d % M != 0 || d > size_t(INT32_MAX))
        throw RangeError("Expected d divisible by M, both positive");
}

inline faiss::MetricType metric_arg_faiss(const Napi::CallbackInfo& info, size_t i) {
    return metric_arg(info, i) == Metric::L2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
}

inline Napi::Value undefined(const Napi::CallbackInfo& info) { return info.Env().Undefined(); }

void RegisterProductQuantizer(Napi::Env env, Napi::Object exports);
void RegisterOPQMatrix(Napi::Env env, Napi::Object exports);
void RegisterIndex(Napi::Env env, Napi::Object exports);

}  // namespace nanopq
