// The graph indexes (faiss::IndexHNSW: HNSWFlat, HNSWPQ, HNSWSQ) for
// lib/faiss/index-hnsw.ts: a graph over the vectors of a sequential storage
// index (read-only as a part). A search keeps efSearch candidates.
#include <faiss/IndexHNSW.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "faiss/index.h"
#include "kernels/parallel.h"

namespace nanopq {

namespace {

class HNSWIndex : public AnyIndex {
public:
    HNSWIndex(std::shared_ptr<faiss::Index> index, const char* kind)
        : AnyIndex(std::move(index), kind), storage_(adopt_part(*this, hnsw_index().storage)) {}
    faiss::IndexHNSW& hnsw_index() const { return static_cast<faiss::IndexHNSW&>(get()); }
    faiss::HNSW& hnsw() const { return hnsw_index().hnsw; }

    size_t held_bytes() const override {
        return storage_->held_bytes() + hnsw().neighbors.size() * 4 + hnsw().levels.size() * 4 +
               hnsw().offsets.size() * 8;
    }
    std::shared_ptr<AnyIndex> part(const std::string& name) const override {
        return name == "storage" ? storage_ : nullptr;
    }
    faiss::ProductQuantizer* product_quantizer() const override { return storage_->product_quantizer(); }

    void describe(Napi::Object out) const override {
        out.Set("M", double(hnsw().nb_neighbors(1)));
        out.Set("efSearch", double(hnsw().efSearch));
        out.Set("efConstruction", double(hnsw().efConstruction));
        out.Set("maxLevel", double(hnsw().max_level));
    }
    bool set(const std::string& name, double value) override {
        if (name != "efSearch" && name != "efConstruction") return false;
        if (!(value >= 1 && value <= 1e6 && value == std::floor(value)))
            throw RangeError("Expected 1 <= " + name + " <= 1e6, an integer");
        (name == "efSearch" ? hnsw().efSearch : hnsw().efConstruction) = int(value);
        return true;
    }
    const char* cannot(Op op) const override {
        return op == Op::Reconstruct ? storage_->cannot(op) : AnyIndex::cannot(op);
    }
    size_t row_work(size_t d, bool search) const override {
        return d * size_t(std::max(hnsw().efSearch, hnsw().efConstruction)) * size_t(hnsw().nb_neighbors(0));
    }

    // Faiss 1.7.3 sizes the candidate list by the index's efSearch and k,
    // whatever SearchParametersHNSW says: asking for max(k, efSearch)
    // results sizes it by the efSearch of the call too, and the first k of
    // them are a search with that efSearch (the graph walk does not depend
    // on how many results are kept). Never more than ntotal of them (a list
    // that holds every node keeps all it visits, as a longer one would:
    // efSearch 1e6 allocated and filled a million results a query), for
    // rows_per_block of those rows at a time.
    void search_with(size_t n, const float* x, size_t k, float* distances, int64_t* labels,
                     const SearchOptions& options) const override {
        using idx_t = faiss::Index::idx_t;
        if (options.nprobe || options.max_codes || options.k_factor)
            throw TypeError(std::string("Expected only efSearch as a search option for an ") + kind());
        if (!options.ef_search) return hnsw_index().search(idx_t(n), x, idx_t(k), distances, labels);
        faiss::SearchParametersHNSW params;
        params.efSearch = int(options.ef_search);
        const size_t wide = std::max(k, std::min(options.ef_search, size_t(get().ntotal)));
        if (wide == k) return hnsw_index().search(idx_t(n), x, idx_t(k), distances, labels, &params);
        const size_t rows = rows_per_block(3 * wide), d = size_t(get().d);
        std::vector<float> wide_distances(checked_mul(std::min(n, rows), wide));
        std::vector<int64_t> wide_labels(wide_distances.size());
        for (size_t first = 0; first < n; first += rows) {
            const size_t count = std::min(rows, n - first);
            hnsw_index().search(idx_t(count), x + first * d, idx_t(wide), wide_distances.data(), wide_labels.data(),
                                &params);
            for (size_t i = 0; i < count; i++) {
                std::copy_n(wide_distances.data() + i * wide, k, distances + (first + i) * k);
                std::copy_n(wide_labels.data() + i * wide, k, labels + (first + i) * k);
            }
        }
    }

private:
    std::shared_ptr<AnyIndex> storage_;
};

std::shared_ptr<AnyIndex> make(std::shared_ptr<faiss::Index> index, const char* kind) {
    return std::make_shared<HNSWIndex>(std::move(index), kind);
}

const IndexKind hnsw_flat(typeid(faiss::IndexHNSWFlat), "IndexHNSWFlat", make);
const IndexKind hnsw_pq(typeid(faiss::IndexHNSWPQ), "IndexHNSWPQ", make);
const IndexKind hnsw_sq(typeid(faiss::IndexHNSWSQ), "IndexHNSWSQ", make);

}  // namespace

}  // namespace nanopq
