#include "faiss/index.h"

#include <faiss/impl/io.h>
#include <faiss/index_io.h>

#include <string>
#include <typeindex>
#include <unordered_map>
#include <vector>

#include "kernels/parallel.h"
#include "kernels/values.h"
#include "runtime/exports.h"

namespace nanopq {

namespace {

std::unordered_map<std::type_index, IndexKind::Make>& kinds() {
    static std::unordered_map<std::type_index, IndexKind::Make> registered;
    return registered;
}

}  // namespace

IndexKind::IndexKind(const std::type_info& type, Make make) { kinds()[std::type_index(type)] = make; }

std::shared_ptr<AnyIndex> adopt(std::shared_ptr<faiss::Index> index) {
    const auto kind = kinds().find(std::type_index(typeid(*index)));
    if (kind != kinds().end()) return kind->second(std::move(index));
    return std::make_shared<AnyIndex>(std::move(index));
}

size_t AnyIndex::row_work(size_t d, bool search) const { return search ? d * size_t(index_->ntotal) : d; }

void AnyIndex::train_whole(faiss::Index& whole, size_t n, const float* x) const {
    whole.train(faiss::Index::idx_t(n), x);
}

void AnyIndex::add_whole(faiss::Index& whole, size_t n, const float* x, size_t, size_t rows) const {
    // Faiss's add changes the index: one block at a time.
    const size_t d = size_t(whole.d);
    for (size_t first = 0; first < n; first += rows)
        whole.add(faiss::Index::idx_t(std::min(rows, n - first)), x + first * d);
}

void AnyIndex::add(size_t n, const float* x) {
    AnyIndex& to = storage();
    to.add_whole(get(), n, x, to.row_work(size_t(get().d), false),
                 rows_per_block(size_t(get().d) + extra_floats_per_row()));
}

void AnyIndex::search(size_t n, const float* x, size_t k, float* distances, int64_t* labels,
                      const faiss::SearchParameters* params) {
    faiss::Index& ix = get();
    const size_t d = size_t(ix.d), rows = rows_per_block(d + extra_floats_per_row() + 2 * k);
    // Rows go to Faiss in blocks split between threads (its BLAS products run
    // on one), smaller where memory requires (Faiss allocates per row).
    for_row_blocks(n, storage().row_work(d, true), [&](size_t first, size_t last) {
        ix.search(faiss::Index::idx_t(last - first), x + first * d, faiss::Index::idx_t(k), distances + first * k,
                  labels + first * k, params);
    }, 1, rows);
}

IndexObject& index_arg(const Napi::CallbackInfo& info, size_t i, Access access) {
    auto& o = kind_arg<IndexObject>(info, i, access, "an IndexPQ or IndexPreTransform");
    o.index->sync();
    return o;
}

namespace {

// The rows of indexTrain(index, x, n), indexAdd(index, x, n) and
// indexSearch(index, x, n, k, distances_out, labels_out: BigInt64Array), and
// their async forms: what the sync bindings run on the JavaScript thread and
// the async ones on a worker (x's values checked by lib/core/validate.ts, in
// the memory read here).
struct IndexJob {
    std::shared_ptr<AnyIndex> index;
    const float* x;
    size_t n;

    IndexJob(IndexObject& o, PinnedArgs& args) : index(o.index), n(size_arg(args.info, 2)) {
        x = args.array<float>(1, checked_mul(n, size_t(index->get().d))).data;
    }
    Napi::Value result(Napi::Env env) { return env.Undefined(); }
};

// The index of `call` (add or search), unless it is not trained.
IndexObject& trained(IndexObject& o, const char* call) {
    if (!o.index->get().is_trained)
        throw TypeError(std::string("Expected a trained index for ") + call + "(); call train() first");
    return o;
}

struct TrainJob : IndexJob {
    static constexpr Access access = Access::Write;
    TrainJob(IndexObject& o, PinnedArgs& args) : IndexJob(o, args) {}
    void run() {
        index->train(n, x);
    }
};

struct AddJob : IndexJob {
    static constexpr Access access = Access::Write;
    AddJob(IndexObject& o, PinnedArgs& args) : IndexJob(trained(o, "add"), args) {}
    void run() {
        index->add(n, x);
    }
};

// The search parameters travel with the job: nothing is written into the
// index, which other searches may be reading.
struct SearchJob : IndexJob {
    static constexpr Access access = Access::Read;
    size_t k;
    float* distances;
    int64_t* labels;
    SearchJob(IndexObject& o, PinnedArgs& args) : IndexJob(trained(o, "search"), args) {
        // lib/faiss.ts clamps k to ntotal: Faiss would fill n x k results whatever ntotal is.
        k = size_arg(args.info, 3);
        const faiss::Index& ix = index->get();
        if (k < 1 || k > size_t(ix.ntotal))
            throw RangeError("Expected 1 <= k <= ntotal = " + std::to_string(ix.ntotal));
        distances = args.array<float>(4, checked_mul(n, k)).data;
        labels = args.array<int64_t>(5, checked_mul(n, k)).data;
    }
    void run() {
        index->search(n, x, k, distances, labels, nullptr);
    }
};

template <class Job>
Napi::Value IndexRun(const Napi::CallbackInfo& info) {
    PinnedArgs args(info, 0);
    IndexObject& o = index_arg(info, 0, Job::access);
    Job(o, args).run();
    account(info.Env(), o);
    return undefined(info);
}

// indexTrainAsync / indexAddAsync / indexSearchAsync: the same arguments, a Promise<undefined>.
template <class Job>
Napi::Value IndexRunAsync(const Napi::CallbackInfo& info) {
    PinnedArgs args(info, 0);
    IndexObject& o = index_arg(info, 0, Job::access);
    return start_job(info.Env(), o, Job::access, Job(o, args), args.pinned);
}

// indexInfo(index) -> {d, ntotal, isTrained, metric}
Napi::Value IndexInfo(const Napi::CallbackInfo& info) {
    const faiss::Index& index = index_arg(info, 0, Access::Read).index->get();
    auto out = Napi::Object::New(info.Env());
    out.Set("d", double(index.d));
    out.Set("ntotal", double(index.ntotal));
    out.Set("isTrained", index.is_trained);
    out.Set("metric", index.metric_type == faiss::METRIC_L2 ? "l2" : "dot");
    return out;
}

// readIndex(bytes): bytes validated by the TypeScript layer (lib/faiss-format.ts) first
Napi::Value ReadIndex(const Napi::CallbackInfo& info) {
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
        throw TypeError("Expected a Uint8Array for argument 0");
    auto bytes = info[0].As<Napi::Uint8Array>();
    faiss::VectorIOReader reader;
    reader.data.assign(bytes.Data(), bytes.Data() + bytes.ElementLength());
    std::shared_ptr<AnyIndex> index = adopt(std::shared_ptr<faiss::Index>(faiss::read_index(&reader)));
    index->after_read();
    return wrap(info.Env(), std::make_unique<IndexObject>(index));
}

// writeIndex(index) -> Buffer, as faiss.write_index writes a file
Napi::Value WriteIndex(const Napi::CallbackInfo& info) {
    const faiss::Index& index = index_arg(info, 0, Access::Read).index->get();
    faiss::VectorIOWriter writer;
    faiss::write_index(&index, &writer);
    return Napi::Buffer<uint8_t>::Copy(info.Env(), writer.data.data(), writer.data.size());
}

void RegisterIndex(Napi::Env env, Napi::Object exports) {
    export_function<IndexInfo>(env, exports, "indexInfo");
    export_function<IndexRun<TrainJob>>(env, exports, "indexTrain");
    export_function<IndexRun<AddJob>>(env, exports, "indexAdd");
    export_function<IndexRun<SearchJob>>(env, exports, "indexSearch");
    export_function<IndexRunAsync<TrainJob>>(env, exports, "indexTrainAsync");
    export_function<IndexRunAsync<AddJob>>(env, exports, "indexAddAsync");
    export_function<IndexRunAsync<SearchJob>>(env, exports, "indexSearchAsync");
    export_function<ReadIndex>(env, exports, "readIndex");
    export_function<WriteIndex>(env, exports, "writeIndex");
}

const FaissFunctions registered(RegisterIndex);

}  // namespace

}  // namespace nanopq
