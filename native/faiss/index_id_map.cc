// faiss::IndexIDMap and IndexIDMap2 for lib/faiss/index-id-map.ts: the ids
// given to addWithIds, over an index (read-only as a part) that numbers its
// vectors in order. IDMap2 also maps ids back, for reconstruct.
#include <faiss/IndexFlatCodes.h>
#include <faiss/IndexFastScan.h>
#include <faiss/IndexIDMap.h>

#include <string>

#include "faiss/index.h"
#include "runtime/exports.h"

namespace nanopq {

namespace {

class IDMapIndex : public AnyIndex {
public:
    IDMapIndex(std::shared_ptr<faiss::Index> index, const char* kind)
        : AnyIndex(std::move(index), kind), inner_(adopt_part(*this, id_map().index)) {}
    faiss::IndexIDMap& id_map() const { return static_cast<faiss::IndexIDMap&>(get()); }
    faiss::IndexIDMap2* id_map2() const { return dynamic_cast<faiss::IndexIDMap2*>(&get()); }

    size_t held_bytes() const override {
        return inner_->held_bytes() + id_map().id_map.size() * 8 + (id_map2() ? id_map2()->rev_map.size() * 32 : 0);
    }
    std::shared_ptr<AnyIndex> part(const std::string& name) const override {
        return name == "index" ? inner_ : nullptr;
    }
    size_t extra_floats_per_row() const override { return inner_->extra_floats_per_row(); }

    // Whether the index's labels are its rows in the order added, moved down by a
    // removal and after the other's by a merge (flat codes, fast scan), as the id map assumes.
    bool numbers_in_order() const {
        return dynamic_cast<const faiss::IndexFlatCodes*>(&inner_->get()) ||
               dynamic_cast<const faiss::IndexFastScan*>(&inner_->get());
    }

    const char* cannot(Op op) const override {
        switch (op) {
            case Op::AddWithIds: return nullptr;
            case Op::RemoveIds:
                return numbers_in_order() ? nullptr : "over an index that does not number its vectors in order cannot remove";
            case Op::Reconstruct: return id_map2() ? nullptr : "cannot reconstruct; an IndexIDMap2 can";
            case Op::RangeSearch: return inner_->cannot(op);
            // Faiss merges the indexes without shifting the other's row numbers,
            // which only an index that numbers its vectors in order shifts itself.
            case Op::MergeFrom:
                return numbers_in_order() ? inner_->cannot(op)
                                          : "over an index that does not number its vectors in order cannot merge";
        }
        return nullptr;
    }
    void check_reconstruct(int64_t first, size_t n) const override {
        for (size_t i = 0; i < n; i++)
            if (!id_map2()->rev_map.count(first + int64_t(i)))
                throw RangeError("Expected ids the index holds, got " + std::to_string(first + int64_t(i)));
    }

    void search_with(size_t n, const float* x, size_t k, float* distances, int64_t* labels,
                     const SearchOptions& options) const override {
        // As Faiss's IndexIDMap::search, through the index's own search_with
        // (which bounds what a refine index asks of its base).
        inner_->search_with(n, x, k, distances, labels, options);
        const auto& ids = id_map().id_map;
        for (size_t i = 0; i < n * k; i++)
            if (labels[i] >= 0) labels[i] = ids[size_t(labels[i])];
    }

private:
    std::shared_ptr<AnyIndex> inner_;
};

std::shared_ptr<AnyIndex> make(std::shared_ptr<faiss::Index> index, const char* kind) {
    return std::make_shared<IDMapIndex>(std::move(index), kind);
}

const IndexKind id_map(typeid(faiss::IndexIDMap), "IndexIDMap", make);
const IndexKind id_map2(typeid(faiss::IndexIDMap2), "IndexIDMap2", make);

// indexIdMap(index) -> a copy of an IDMap's ids, in the order of its index's vectors
Napi::Value IndexIdMap(const Napi::CallbackInfo& info) {
    auto* index = dynamic_cast<IDMapIndex*>(index_arg(info, 0, Access::Read).index.get());
    if (!index) throw TypeError("Expected an IndexIDMap for argument 0");
    const auto& ids = index->id_map().id_map;
    auto out = Napi::BigInt64Array::New(info.Env(), ids.size());
    std::copy(ids.begin(), ids.end(), out.Data());
    return out;
}

void RegisterIndexIDMap(Napi::Env env, Napi::Object exports) { export_function<IndexIdMap>(env, exports, "indexIdMap"); }

const FaissFunctions registered(RegisterIndexIDMap);

}  // namespace

}  // namespace nanopq
