#include "faiss/index.h"

#include <cxxabi.h>
#include <faiss/impl/io.h>
#include <faiss/index_factory.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexIVFPQFastScan.h>
#include <faiss/IndexPQFastScan.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/IndexRefine.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/index_io.h>

#include <cstdlib>
#include <string>
#include <typeindex>
#include <unordered_map>
#include <utility>

#include "faiss/linear_transform.h"
#include "kernels/parallel.h"
#include "runtime/exports.h"

namespace nanopq {

namespace {

struct Registered {
    const char* kind;
    IndexKind::Make make;
};

std::unordered_map<std::type_index, Registered>& kinds() {
    static std::unordered_map<std::type_index, Registered> registered;
    return registered;
}

// Faiss's name of a type ("faiss::IndexLSH").
std::string type_name(const std::type_info& type) {
    int status = 0;
    char* name = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
    std::string out = status == 0 && name ? name : type.name();
    std::free(name);
    return out;
}

std::string pq_name(const faiss::ProductQuantizer& pq, const char* suffix = "") {
    return "PQ" + std::to_string(pq.M) + (pq.nbits == 8 && !*suffix ? "" : "x" + std::to_string(pq.nbits)) + suffix;
}

std::string sq_name(const faiss::ScalarQuantizer& sq) {
    static const char* const names[] = {"SQ8", "SQ4", "SQ8_uniform", "SQ4_uniform", "SQfp16", "SQ8_direct", "SQ6"};
    return sq.qtype < sizeof(names) / sizeof(*names) ? names[sq.qtype] : "SQ";
}

// The index as a description index_factory builds it from ("OPQ16_64,IVF256,PQ16"): what `nanopq info` shows.
std::string factory_description(const faiss::Index& index) {
    using namespace faiss;
    if (auto* t = dynamic_cast<const IndexPreTransform*>(&index)) {
        std::string out;
        for (auto* step : t->chain) out += factory_name(*step) + ",";
        return out + factory_description(*t->index);
    }
    if (auto* m = dynamic_cast<const IndexIDMap2*>(&index)) return "IDMap2," + factory_description(*m->index);
    if (auto* m = dynamic_cast<const IndexIDMap*>(&index)) return "IDMap," + factory_description(*m->index);
    if (auto* r = dynamic_cast<const IndexRefine*>(&index)) return factory_description(*r->base_index) + ",RFlat";
    if (auto* h = dynamic_cast<const IndexHNSW*>(&index)) {
        const std::string M = "HNSW" + std::to_string(h->hnsw.nb_neighbors(1));
        return dynamic_cast<const IndexFlat*>(h->storage) ? M : M + "," + factory_description(*h->storage);
    }
    if (auto* ivf = dynamic_cast<const IndexIVF*>(&index)) {
        const std::string lists = "IVF" + std::to_string(ivf->nlist) + ",";
        if (auto* fs = dynamic_cast<const IndexIVFPQFastScan*>(&index)) return lists + pq_name(fs->pq, "fs");
        if (auto* pq = dynamic_cast<const IndexIVFPQ*>(&index)) return lists + pq_name(pq->pq);
        if (auto* sq = dynamic_cast<const IndexIVFScalarQuantizer*>(&index)) return lists + sq_name(sq->sq);
        return lists + "Flat";
    }
    if (auto* fs = dynamic_cast<const IndexPQFastScan*>(&index)) return pq_name(fs->pq, "fs");
    if (auto* pq = dynamic_cast<const IndexPQ*>(&index)) return pq_name(pq->pq);
    if (auto* sq = dynamic_cast<const IndexScalarQuantizer*>(&index)) return sq_name(sq->sq);
    if (dynamic_cast<const IndexFlat*>(&index)) return "Flat";
    return type_name(typeid(index));
}

}  // namespace

IndexKind::IndexKind(const std::type_info& type, const char* kind, Make make) {
    kinds()[std::type_index(type)] = {kind, make};
}

std::shared_ptr<AnyIndex> adopt(std::shared_ptr<faiss::Index> index) {
    const auto found = kinds().find(std::type_index(typeid(*index)));
    if (found == kinds().end())
        throw TypeError("Expected an index of a kind this library wraps, got a " + type_name(typeid(*index)));
    const Registered& kind = found->second;
    auto adopted = kind.make ? kind.make(std::move(index), kind.kind)
                             : std::make_shared<AnyIndex>(std::move(index), kind.kind);
    adopted->after_read();
    return adopted;
}

std::shared_ptr<AnyIndex> adopt_part(const AnyIndex& whole, faiss::Index* part) {
    return adopt(std::shared_ptr<faiss::Index>(whole.shared(), part));
}

Napi::Value wrap_part(Napi::Env env, const FaissObject& whole, std::shared_ptr<AnyIndex> part, bool read_only) {
    return wrap(env, std::make_unique<IndexObject>(std::move(part), whole.locks, read_only), false);
}

const char* AnyIndex::cannot(Op op) const {
    switch (op) {
        case Op::AddWithIds: return "has no ids of its own; wrap it in an IDMap (indexFactory(d, 'IDMap,...'))";
        case Op::RemoveIds: return "cannot remove vectors in Faiss 1.7.3";
        case Op::Reconstruct: return "cannot reconstruct vectors";
        case Op::RangeSearch: return "has no range search in Faiss 1.7.3";
        case Op::MergeFrom: return "cannot merge in Faiss 1.7.3";
    }
    return nullptr;
}

void AnyIndex::check_reconstruct(int64_t first, size_t n) const {
    if (first < 0 || uint64_t(first) + n > uint64_t(index_->ntotal))
        throw RangeError("Expected ids in [0, ntotal = " + std::to_string(index_->ntotal) + "), got " +
                         std::to_string(first) + (n > 1 ? " to " + std::to_string(first + int64_t(n) - 1) : ""));
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

void AnyIndex::search_with(size_t n, const float* x, size_t k, float* distances, int64_t* labels,
                           const SearchOptions& options) const {
    if (options.any()) throw TypeError(std::string("Expected no search options for an ") + kind_);
    get().search(faiss::Index::idx_t(n), x, faiss::Index::idx_t(k), distances, labels, nullptr);
}

void AnyIndex::add(size_t n, const float* x) {
    AnyIndex& to = storage();
    to.add_whole(get(), n, x, to.row_work(size_t(get().d), false),
                 rows_per_block(size_t(get().d) + extra_floats_per_row()));
}

void AnyIndex::search(size_t n, const float* x, size_t k, float* distances, int64_t* labels,
                      const SearchOptions& options) {
    const size_t d = size_t(get().d), rows = rows_per_block(d + extra_floats_per_row() + 2 * k);
    // Rows go to Faiss in blocks split between threads (its BLAS products run
    // on one), smaller where memory requires (Faiss allocates per row).
    for_row_blocks(n, storage().row_work(d, true), [&](size_t first, size_t last) {
        search_with(last - first, x + first * d, k, distances + first * k, labels + first * k, options);
    }, 1, rows);
}

IndexObject& index_arg(const Napi::CallbackInfo& info, size_t i, Access access) {
    auto& o = kind_arg<IndexObject>(info, i, access, "a Faiss index");
    if (access == Access::Write && o.read_only)
        throw TypeError(std::string("Expected an index to change, got a part of another (") + o.index->kind() +
                        "), which changes only with the whole index");
    o.index->sync();
    return o;
}

namespace {

// indexInfo(index) -> {kind, d, ntotal, isTrained, metric, readOnly, ...the kind's settings}
Napi::Value IndexInfo(const Napi::CallbackInfo& info) {
    const IndexObject& o = index_arg(info, 0, Access::Read);
    const faiss::Index& index = o.index->get();
    auto out = Napi::Object::New(info.Env());
    out.Set("kind", o.index->kind());
    out.Set("d", double(index.d));
    out.Set("ntotal", double(index.ntotal));
    out.Set("isTrained", index.is_trained);
    out.Set("metric", index.metric_type == faiss::METRIC_L2 ? "l2" : "dot");
    out.Set("readOnly", o.read_only);
    out.Set("bytes", double(o.index->held_bytes()));
    out.Set("description", factory_description(index));
    o.index->describe(out);
    return out;
}

// indexSet(index, name, value): one of the kind's settings (nprobe, efSearch, ...)
Napi::Value IndexSet(const Napi::CallbackInfo& info) {
    IndexObject& o = index_arg(info, 0, Access::Write);
    if (!info[1].IsString()) throw TypeError("Expected a setting's name for argument 1");
    if (!info[2].IsNumber()) throw TypeError("Expected a number for argument 2");
    const std::string name = info[1].As<Napi::String>().Utf8Value();
    if (!o.index->set(name, info[2].As<Napi::Number>().DoubleValue()))
        throw TypeError(std::string("Expected a setting of an ") + o.index->kind() + ", got " + name);
    return undefined(info);
}

// indexPart(index, name) -> the handle of a part (quantizer, index, refineIndex, storage), or undefined
Napi::Value IndexPart(const Napi::CallbackInfo& info) {
    const IndexObject& o = index_arg(info, 0, Access::Read);
    if (!info[1].IsString()) throw TypeError("Expected a part's name for argument 1");
    const std::string name = info[1].As<Napi::String>().Utf8Value();
    std::shared_ptr<AnyIndex> part = o.index->part(name);
    if (!part) return info.Env().Undefined();
    // The index an IndexPreTransform wraps may be added to (its count follows, sync()).
    const bool writable = name == "index" && std::string(o.index->kind()) == "IndexPreTransform" && !o.read_only;
    return wrap_part(info.Env(), o, std::move(part), !writable);
}

// indexCannot(index, op) -> why the index cannot do op (a name of Op), or null
Napi::Value IndexCannot(const Napi::CallbackInfo& info) {
    const IndexObject& o = index_arg(info, 0, Access::Read);
    static const char* const names[] = {"addWithIds", "removeIds", "reconstruct", "rangeSearch", "mergeFrom"};
    const Op op = enum_value<Op>(info[1], names, "op");
    const char* why = o.index->cannot(op);
    return why ? Napi::Value(Napi::String::New(info.Env(), why)) : info.Env().Null();
}

// The index as index_factory, a file or the parts of an index gave it, to JavaScript.
Napi::Value wrap_index(Napi::Env env, std::shared_ptr<faiss::Index> index) {
    return wrap(env, std::make_unique<IndexObject>(adopt(std::move(index))));
}

// indexFactory(d, description, metric): Faiss's index_factory; what it throws is passed on
Napi::Value IndexFactory(const Napi::CallbackInfo& info) {
    const size_t d = size_arg(info, 0);
    if (d < 1 || d > size_t(INT32_MAX)) throw RangeError("Expected 1 <= d <= 2**31 - 1");
    if (!info[1].IsString()) throw TypeError("Expected a string for argument 1");
    const std::string description = info[1].As<Napi::String>().Utf8Value();
    return wrap_index(info.Env(), std::shared_ptr<faiss::Index>(
                                      faiss::index_factory(int(d), description.c_str(), metric_arg_faiss(info, 2))));
}

// readIndex(bytes): bytes validated by lib/io/faiss-index.ts first
Napi::Value ReadIndex(const Napi::CallbackInfo& info) {
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
        throw TypeError("Expected a Uint8Array for argument 0");
    auto bytes = info[0].As<Napi::Uint8Array>();
    faiss::VectorIOReader reader;
    reader.data.assign(bytes.Data(), bytes.Data() + bytes.ElementLength());
    return wrap_index(info.Env(), std::shared_ptr<faiss::Index>(faiss::read_index(&reader)));
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
    export_function<IndexSet>(env, exports, "indexSet");
    export_function<IndexPart>(env, exports, "indexPart");
    export_function<IndexCannot>(env, exports, "indexCannot");
    export_function<IndexFactory>(env, exports, "indexFactory");
    export_function<ReadIndex>(env, exports, "readIndex");
    export_function<WriteIndex>(env, exports, "writeIndex");
}

const FaissFunctions registered(RegisterIndex);

}  // namespace

}  // namespace nanopq
