// The calls on any index (lib/faiss/index-base.ts), sync and async: train,
// add, addWithIds, search, rangeSearch, removeIds, and the quick ones
// (reconstruct, reset, mergeFrom). Each long call is a job struct that the
// sync binding runs on the JavaScript thread and the async one on a worker;
// its arrays are read as checked by lib/core/validate.ts, in the memory read here.
#include <faiss/IndexIVF.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/IDSelector.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "faiss/index.h"
#include "runtime/exports.h"

namespace nanopq {

namespace {

// Throws unless the index can do `op`, naming the call.
void check_can(const AnyIndex& index, Op op, const char* call) {
    if (const char* why = index.cannot(op))
        throw TypeError(std::string("Expected an index that can ") + call + "(); an " + index.kind() + " " + why);
}

IndexObject& trained(IndexObject& o, const char* call) {
    if (!o.index->get().is_trained)
        throw TypeError(std::string("Expected a trained index for ") + call + "(); call train() first");
    return o;
}

// n ids (BigInt64Array), each >= 0: -1 is Faiss's label for "no result".
const int64_t* ids_arg(PinnedArgs& args, size_t i, size_t n) {
    const int64_t* ids = args.array<int64_t>(i, n).data;
    for (size_t j = 0; j < n; j++)
        if (ids[j] < 0) throw RangeError("Expected ids >= 0 for " + arg_name(i));
    return ids;
}

// {nprobe, maxCodes, efSearch, kFactor} (lib/ checks which the kind takes), or undefined.
SearchOptions options_arg(const Napi::CallbackInfo& info, size_t i) {
    SearchOptions options;
    if (info[i].IsUndefined()) return options;
    if (!info[i].IsObject()) throw TypeError("Expected an object of search options for " + arg_name(i));
    auto object = info[i].As<Napi::Object>();
    auto count = [&](const char* name) { return object.Has(name) ? size_value(object.Get(name), name) : size_t(0); };
    options.nprobe = count("nprobe");
    options.max_codes = count("maxCodes");
    options.ef_search = count("efSearch");
    if (object.Has("kFactor")) {
        Napi::Value k_factor = object.Get("kFactor");
        if (!k_factor.IsNumber()) throw TypeError("Expected a number for kFactor");
        options.k_factor = k_factor.As<Napi::Number>().DoubleValue();
        if (!(options.k_factor >= 1 && options.k_factor <= 1e6)) throw RangeError("Expected 1 <= kFactor <= 1e6");
    }
    return options;
}

// The index and rows of x (argument 1, n rows in argument 2) of a job.
struct RowsJob {
    std::shared_ptr<AnyIndex> index;
    const float* x;
    size_t n;

    RowsJob(IndexObject& o, PinnedArgs& args) : index(o.index), n(size_arg(args.info, 2)) {
        x = args.array<float>(1, checked_mul(n, size_t(index->get().d))).data;
    }
    Napi::Value result(Napi::Env env) { return env.Undefined(); }
};

// indexTrain(index, x, n)
struct TrainJob : RowsJob {
    static constexpr Access access = Access::Write;
    // Faiss trains on at least one vector: a ScalarQuantizer's ranges start
    // from the first (x[0] of no rows was a segfault), and k-means refuses fewer.
    TrainJob(IndexObject& o, PinnedArgs& args) : RowsJob(o, args) {
        if (n == 0) throw RangeError("Expected at least one training vector in x, got 0 rows");
    }
    void run() { index->train(n, x); }
};

// indexAdd(index, x, n)
struct AddJob : RowsJob {
    static constexpr Access access = Access::Write;
    AddJob(IndexObject& o, PinnedArgs& args) : RowsJob(trained(o, "add"), args) {}
    void run() { index->add(n, x); }
};

// indexAddWithIds(index, x, n, ids)
struct AddWithIdsJob : RowsJob {
    static constexpr Access access = Access::Write;
    const int64_t* ids;
    AddWithIdsJob(IndexObject& o, PinnedArgs& args) : RowsJob(trained(o, "addWithIds"), args) {
        check_can(*index, Op::AddWithIds, "addWithIds");
        ids = ids_arg(args, 3, n);
    }
    void run() {
        // In blocks, as Faiss allocates per row (coarse assignments, codes).
        faiss::Index& ix = index->get();
        const size_t d = size_t(ix.d), rows = rows_per_block(d + index->extra_floats_per_row());
        for (size_t first = 0; first < n; first += rows)
            ix.add_with_ids(faiss::Index::idx_t(std::min(rows, n - first)), x + first * d, ids + first);
    }
};

// indexSearch(index, x, n, k, distances_out, labels_out: BigInt64Array, options)
struct SearchJob : RowsJob {
    static constexpr Access access = Access::Read;
    size_t k;
    float* distances;
    int64_t* labels;
    SearchOptions options;
    SearchJob(IndexObject& o, PinnedArgs& args) : RowsJob(trained(o, "search"), args) {
        // lib/faiss clamps k to ntotal: Faiss would fill n x k results whatever ntotal is.
        k = size_arg(args.info, 3);
        const faiss::Index& ix = index->get();
        if (k < 1 || k > size_t(ix.ntotal))
            throw RangeError("Expected 1 <= k <= ntotal = " + std::to_string(ix.ntotal));
        distances = args.array<float>(4, checked_mul(n, k)).data;
        labels = args.array<int64_t>(5, checked_mul(n, k)).data;
        options = options_arg(args.info, 6);
    }
    void run() { index->search(n, x, k, distances, labels, options); }
};

// indexRangeSearch(index, x, n, radius) -> {lims: Float64Array (n + 1), distances, labels}
//
// Queries go to Faiss a block at a time, a block of at most kMaxRangeResults
// / ntotal rows, so that no block can find more than kMaxRangeResults (a
// radius that takes in everything would otherwise grow Faiss's result lists,
// inside its OpenMP loop, until the allocation fails: std::terminate); more
// than that in all is a RangeError.
constexpr size_t kMaxRangeResults = size_t(1) << 26;  // 768 MB of labels and distances

struct RangeSearchJob : RowsJob {
    static constexpr Access access = Access::Read;
    float radius;
    std::vector<double> lims;
    std::vector<float> distances;
    std::vector<int64_t> labels;
    RangeSearchJob(IndexObject& o, PinnedArgs& args) : RowsJob(trained(o, "rangeSearch"), args) {
        check_can(*index, Op::RangeSearch, "rangeSearch");
        if (!args.info[3].IsNumber()) throw TypeError("Expected a number for argument 3");
        radius = args.info[3].As<Napi::Number>().FloatValue();
    }
    void run() {
        const faiss::Index& searched = index->get();
        const size_t rows = std::max<size_t>(1, kMaxRangeResults / std::max<size_t>(1, size_t(searched.ntotal)));
        lims.assign(1, 0);
        for (size_t first = 0; first < n; first += rows) {
            const size_t count = std::min(rows, n - first);
            faiss::RangeSearchResult found{faiss::Index::idx_t(count)};
            searched.range_search(faiss::Index::idx_t(count), x + first * searched.d, radius, &found);
            const size_t total = found.lims[count];
            if (distances.size() + total > kMaxRangeResults)
                throw RangeError("Expected a radius that finds at most " + std::to_string(kMaxRangeResults) +
                                 " results in all, got more in the first " + std::to_string(first + count) + " queries");
            for (size_t i = 1; i <= count; i++) lims.push_back(double(distances.size() + found.lims[i]));
            distances.insert(distances.end(), found.distances, found.distances + total);
            labels.insert(labels.end(), found.labels, found.labels + total);
        }
    }
    Napi::Value result(Napi::Env env) {
        auto out = Napi::Object::New(env);
        out.Set("lims", typed_copy<Napi::Float64Array>(env, lims));
        out.Set("distances", typed_copy<Napi::Float32Array>(env, distances));
        out.Set("labels", typed_copy<Napi::BigInt64Array>(env, labels));
        return out;
    }
    template <class Array, class T>
    static Array typed_copy(Napi::Env env, const std::vector<T>& values) {
        auto out = Array::New(env, values.size());
        if (!values.empty()) std::memcpy(out.Data(), values.data(), values.size() * sizeof(T));
        return out;
    }
};

// indexRemoveIds(index, ids, n) -> the number removed
struct RemoveIdsJob {
    static constexpr Access access = Access::Write;
    std::shared_ptr<AnyIndex> index;
    std::vector<int64_t> ids;
    size_t removed = 0;
    RemoveIdsJob(IndexObject& o, PinnedArgs& args) : index(o.index) {
        check_can(*index, Op::RemoveIds, "removeIds");
        const size_t n = size_arg(args.info, 2);
        const int64_t* from = ids_arg(args, 1, n);
        ids.assign(from, from + n);
    }
    void run() {
        // Faiss removes from an IVF's hash-table direct map id by id, and takes
        // only an IDSelectorArray for it; elsewhere a batch tests membership faster.
        if (hashtable_ivf(index->get())) {
            const faiss::IDSelectorArray selected(ids.size(), ids.data());
            removed = index->get().remove_ids(selected);
        } else {
            const faiss::IDSelectorBatch selected(ids.size(), ids.data());
            removed = index->get().remove_ids(selected);
        }
    }
    static bool hashtable_ivf(const faiss::Index& index) {
        if (auto* pre = dynamic_cast<const faiss::IndexPreTransform*>(&index)) return hashtable_ivf(*pre->index);
        auto* ivf = dynamic_cast<const faiss::IndexIVF*>(&index);
        return ivf && ivf->direct_map.type == faiss::DirectMap::Hashtable;
    }
    Napi::Value result(Napi::Env env) { return Napi::Number::New(env, double(removed)); }
};

template <class Job>
Napi::Value IndexRun(const Napi::CallbackInfo& info) {
    PinnedArgs args(info, 0);
    IndexObject& o = index_arg(info, 0, Job::access);
    Job job(o, args);
    job.run();
    account(info.Env(), o);
    return job.result(info.Env());
}

// The async twin of IndexRun<Job>: the same arguments, a Promise of its result.
template <class Job>
Napi::Value IndexRunAsync(const Napi::CallbackInfo& info) {
    PinnedArgs args(info, 0);
    IndexObject& o = index_arg(info, 0, Job::access);
    return start_job(info.Env(), o, Job::access, Job(o, args), args.pinned);
}

// indexReconstruct(index, first, n, out): the vectors of ids first .. first + n - 1
Napi::Value IndexReconstruct(const Napi::CallbackInfo& info) {
    const AnyIndex& index = *index_arg(info, 0, Access::Read).index;
    check_can(index, Op::Reconstruct, "reconstruct");
    const size_t first = size_arg(info, 1), n = size_arg(info, 2), d = size_t(index.get().d);
    index.check_reconstruct(int64_t(first), n);
    float* out = array_arg<float>(info, 3, checked_mul(n, d)).data;
    for (size_t i = 0; i < n; i++) index.get().reconstruct(faiss::Index::idx_t(first + i), out + i * d);
    return undefined(info);
}

// indexReset(index): removes every vector (a trained index stays trained)
Napi::Value IndexReset(const Napi::CallbackInfo& info) {
    IndexObject& o = index_arg(info, 0, Access::Write);
    o.index->get().reset();
    account(info.Env(), o);
    return undefined(info);
}

// indexMergeFrom(index, other, addId): moves other's vectors into index (other is left empty)
Napi::Value IndexMergeFrom(const Napi::CallbackInfo& info) {
    IndexObject& o = index_arg(info, 0, Access::Write);
    IndexObject& other = index_arg(info, 1, Access::Write);
    check_can(*o.index, Op::MergeFrom, "mergeFrom");
    // Two IndexPreTransforms over one index merge that index into itself
    // (Faiss then reads the lists it is growing: a use after free).
    if (&o.index->get() == &other.index->get() || &o.index->storage().get() == &other.index->storage().get())
        throw TypeError("Expected another index for argument 1, got the same (or one over the same index)");
    if (std::string(o.index->kind()) != other.index->kind())
        throw TypeError(std::string("Expected an ") + o.index->kind() + " for argument 1, got an " + other.index->kind());
    // An untrained IVF's quantizer holds no centroids, which Faiss's merge compares by reconstructing nlist of them.
    if (!o.index->get().is_trained || !other.index->get().is_trained)
        throw TypeError("Expected trained indexes for mergeFrom(); call train() first");
    o.index->get().merge_from(other.index->get(), faiss::Index::idx_t(size_arg(info, 2)));
    account(info.Env(), o);
    account(info.Env(), other);
    return undefined(info);
}

void RegisterIndexCalls(Napi::Env env, Napi::Object exports) {
    export_function<IndexRun<TrainJob>>(env, exports, "indexTrain");
    export_function<IndexRun<AddJob>>(env, exports, "indexAdd");
    export_function<IndexRun<AddWithIdsJob>>(env, exports, "indexAddWithIds");
    export_function<IndexRun<SearchJob>>(env, exports, "indexSearch");
    export_function<IndexRun<RangeSearchJob>>(env, exports, "indexRangeSearch");
    export_function<IndexRun<RemoveIdsJob>>(env, exports, "indexRemoveIds");
    export_function<IndexRunAsync<TrainJob>>(env, exports, "indexTrainAsync");
    export_function<IndexRunAsync<AddJob>>(env, exports, "indexAddAsync");
    export_function<IndexRunAsync<AddWithIdsJob>>(env, exports, "indexAddWithIdsAsync");
    export_function<IndexRunAsync<SearchJob>>(env, exports, "indexSearchAsync");
    export_function<IndexRunAsync<RangeSearchJob>>(env, exports, "indexRangeSearchAsync");
    export_function<IndexRunAsync<RemoveIdsJob>>(env, exports, "indexRemoveIdsAsync");
    export_function<IndexReconstruct>(env, exports, "indexReconstruct");
    export_function<IndexReset>(env, exports, "indexReset");
    export_function<IndexMergeFrom>(env, exports, "indexMergeFrom");
}

const FaissFunctions registered(RegisterIndexCalls);

}  // namespace

}  // namespace nanopq
