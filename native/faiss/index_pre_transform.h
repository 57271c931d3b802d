// faiss::IndexPreTransform for JavaScript (lib/faiss.ts IndexPreTransform):
// vectors go through a chain of transforms to the index it wraps, which
// stores them; its parts (`chain`, `index`) are handles sharing it.
#pragma once

#include <faiss/IndexPreTransform.h>

#include <faiss/impl/ProductQuantizer.h>

#include <memory>
#include <vector>

#include "faiss/index.h"

namespace nanopq {

class PreTransformIndex : public AnyIndex {
public:
    PreTransformIndex(std::shared_ptr<faiss::Index> index, const char* kind);
    faiss::IndexPreTransform& pre() const { return static_cast<faiss::IndexPreTransform&>(get()); }

    size_t held_bytes() const override;
    void after_read() override;
    // Its count is its index's: what is added through that index (`pt.index`,
    // or the IndexPQ it was made of) changes only the index's, so the count
    // follows here, once no async call runs on it (its locks are the index's
    // too, so none adds to the index). Only when they differ: an async search
    // may be reading it.
    void sync() override;
    AnyIndex& storage() override { return inner_->storage(); }
    std::shared_ptr<AnyIndex> part(const std::string& name) const override {
        return name == "index" ? inner_ : nullptr;
    }
    const char* cannot(Op op) const override;
    void check_reconstruct(int64_t first, size_t n) const override { inner_->check_reconstruct(first, n); }
    // The chain applied here, then the index's search with the options.
    void search_with(size_t n, const float* x, size_t k, float* distances, int64_t* labels,
                     const SearchOptions& options) const override;
    // The transformed copies, and what its index allocates.
    size_t extra_floats_per_row() const override;
    size_t row_work(size_t d, bool search) const override { return inner_->row_work(d, search); }
    // Faiss trains a transform still to train (an OPQMatrix) from a random
    // rotation, so only a chain trained throughout may blow x up.
    void train(size_t n, const float* x) override;

private:
    std::shared_ptr<AnyIndex> inner_;  // the index it wraps, sharing this one
    // What the OPQMatrix of a chain index_factory made trains with (see after_read).
    std::vector<std::shared_ptr<faiss::ProductQuantizer>> quiet_pqs_;
};

}  // namespace nanopq
