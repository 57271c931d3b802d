// faiss::IndexRefineFlat for lib/faiss/index-refine.ts: a base index finds
// k * kFactor candidates, which the full vectors (an IndexFlat) re-rank.
// Both are read-only parts: they hold the same vectors.
#include <faiss/IndexFlat.h>
#include <faiss/IndexRefine.h>
#include <faiss/utils/Heap.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "faiss/index.h"
#include "kernels/parallel.h"

namespace nanopq {

namespace {

class RefineIndex : public AnyIndex {
public:
    RefineIndex(std::shared_ptr<faiss::Index> index, const char* kind)
        : AnyIndex(std::move(index), kind),
          base_(adopt_part(*this, refine().base_index)),
          full_(adopt_part(*this, refine().refine_index)) {}
    faiss::IndexRefine& refine() const { return static_cast<faiss::IndexRefine&>(get()); }

    size_t held_bytes() const override { return base_->held_bytes() + full_->held_bytes(); }
    std::shared_ptr<AnyIndex> part(const std::string& name) const override {
        return name == "index" ? base_ : name == "refineIndex" ? full_ : nullptr;
    }
    faiss::ProductQuantizer* product_quantizer() const override { return base_->product_quantizer(); }
    void describe(Napi::Object out) const override { out.Set("kFactor", double(refine().k_factor)); }
    bool set(const std::string& name, double value) override {
        if (name != "kFactor") return false;
        if (!(value >= 1 && value <= 1e6)) throw RangeError("Expected 1 <= kFactor <= 1e6");
        refine().k_factor = float(value);
        return true;
    }
    const char* cannot(Op op) const override {
        return op == Op::Reconstruct ? full_->cannot(op) : AnyIndex::cannot(op);
    }
    size_t extra_floats_per_row() const override { return base_->extra_floats_per_row(); }

    // As Faiss's own search (the same functions, in the same order), with the
    // options of the call: kFactor here, the others for the base index. Faiss
    // allocates and fills k * kFactor base results a query, whatever the base
    // holds (a kFactor of 1e6 took minutes and gigabytes, or the OOM killer):
    // the base is asked for no more than it holds (the rest would be label -1,
    // which the refinement skips), for rows_per_block of those rows at a time.
    void search_with(size_t n, const float* x, size_t k, float* distances, int64_t* labels,
                     const SearchOptions& options) const override {
        using idx_t = faiss::Index::idx_t;
        const float k_factor = options.k_factor ? float(options.k_factor) : refine().k_factor;
        const size_t wanted = size_t(idx_t(idx_t(k) * k_factor));
        const size_t k_base = std::max(k, std::min(wanted, size_t(base_->get().ntotal)));
        const size_t rows = rows_per_block(3 * k_base);
        if (!options.any() && k_base == wanted && n <= rows)
            return refine().search(idx_t(n), x, idx_t(k), distances, labels);
        SearchOptions base_options = options;
        base_options.k_factor = 0;
        const size_t d = size_t(get().d);
        std::vector<float> base_distances(checked_mul(std::min(n, rows), k_base));
        std::vector<idx_t> base_labels(base_distances.size());
        for (size_t first = 0; first < n; first += rows) {
            const size_t count = std::min(rows, n - first);
            refine_rows(count, x + first * d, k, distances + first * k, labels + first * k, k_base, base_options,
                        base_distances.data(), base_labels.data());
        }
    }

private:
    void refine_rows(size_t n, const float* x, size_t k, float* distances, int64_t* labels, size_t k_base,
                     const SearchOptions& base_options, float* base_distances,
                     faiss::Index::idx_t* base_labels) const {
        using idx_t = faiss::Index::idx_t;
        base_->search_with(n, x, k_base, base_distances, base_labels, base_options);
        static_cast<const faiss::IndexFlat&>(full_->get())
            .compute_distance_subset(idx_t(n), x, idx_t(k_base), base_distances, base_labels);
        const bool l2 = get().metric_type == faiss::METRIC_L2;
        for (size_t i = 0; i < n; i++) {
            float* d = distances + i * k;
            idx_t* l = labels + i * k;
            const float* bd = base_distances + i * k_base;
            const idx_t* bl = base_labels + i * k_base;
            if (l2) keep_best<faiss::CMax<float, idx_t>>(k, d, l, k_base, bd, bl);
            else keep_best<faiss::CMin<float, idx_t>>(k, d, l, k_base, bd, bl);
        }
    }

    template <class C>
    static void keep_best(size_t k, float* d, faiss::Index::idx_t* l, size_t k_base, const float* bd,
                          const faiss::Index::idx_t* bl) {
        faiss::heap_heapify<C>(k, d, l, bd, bl, k);
        if (k_base != k) faiss::heap_addn<C>(k, d, l, bd + k, bl + k, k_base - k);
        faiss::heap_reorder<C>(k, d, l);
    }

    std::shared_ptr<AnyIndex> base_, full_;
};

// index_factory's ",RFlat" makes an IndexRefine over an IndexFlat, which
// Faiss's files hold as an IndexRefineFlat: both are this kind.
std::shared_ptr<AnyIndex> make(std::shared_ptr<faiss::Index> index, const char* kind) {
    if (!dynamic_cast<const faiss::IndexFlat*>(static_cast<faiss::IndexRefine&>(*index).refine_index))
        throw TypeError("Expected an IndexRefine over an IndexFlat (RFlat), the kind this library wraps");
    return std::make_shared<RefineIndex>(std::move(index), kind);
}

const IndexKind refine_flat(typeid(faiss::IndexRefineFlat), "IndexRefineFlat", make);
const IndexKind refine(typeid(faiss::IndexRefine), "IndexRefineFlat", make);

}  // namespace

}  // namespace nanopq
