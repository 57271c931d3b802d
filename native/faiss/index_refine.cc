// faiss::IndexRefineFlat for lib/faiss/index-refine.ts: a base index finds
// k * kFactor candidates, which the full vectors (an IndexFlat) re-rank.
// Both are read-only parts: they hold the same vectors.
#include <faiss/IndexFlat.h>
#include <faiss/IndexRefine.h>
#include <faiss/utils/Heap.h>

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
    // options of the call: kFactor here, the others for the base index.
    void search_with(size_t n, const float* x, size_t k, float* distances, int64_t* labels,
                     const SearchOptions& options) const override {
        using idx_t = faiss::Index::idx_t;
        if (!options.any()) return refine().search(idx_t(n), x, idx_t(k), distances, labels);
        const float k_factor = options.k_factor ? float(options.k_factor) : refine().k_factor;
        const size_t k_base = size_t(idx_t(idx_t(k) * k_factor));
        SearchOptions base_options = options;
        base_options.k_factor = 0;
        std::vector<float> base_distances(checked_mul(n, k_base));
        std::vector<idx_t> base_labels(n * k_base);
        base_->search_with(n, x, k_base, base_distances.data(), base_labels.data(), base_options);
        static_cast<const faiss::IndexFlat&>(full_->get())
            .compute_distance_subset(idx_t(n), x, idx_t(k_base), base_distances.data(), base_labels.data());
        const bool l2 = get().metric_type == faiss::METRIC_L2;
        for (size_t i = 0; i < n; i++) {
            float* d = distances + i * k;
            idx_t* l = labels + i * k;
            const float* bd = base_distances.data() + i * k_base;
            const idx_t* bl = base_labels.data() + i * k_base;
            if (l2) keep_best<faiss::CMax<float, idx_t>>(k, d, l, k_base, bd, bl);
            else keep_best<faiss::CMin<float, idx_t>>(k, d, l, k_base, bd, bl);
        }
    }

private:
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
