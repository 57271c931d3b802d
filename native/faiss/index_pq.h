// faiss::IndexPQ for JavaScript (lib/faiss.ts IndexPQ): its ProductQuantizer,
// its codes as Faiss packs them, codes added as they are.
#pragma once

#include <faiss/IndexPQ.h>

#include "faiss/index_flat.h"

namespace nanopq {

class PQIndex : public FlatCodesIndex {
public:
    using FlatCodesIndex::FlatCodesIndex;
    faiss::IndexPQ& pq() const { return static_cast<faiss::IndexPQ&>(get()); }

    size_t held_bytes() const override;
    void after_read() override;
    faiss::ProductQuantizer* product_quantizer() const override { return &pq().pq; }
    // A distance table of M * ksub.
    size_t extra_floats_per_row() const override { return pq().pq.M * pq().pq.ksub; }
    // Its distance tables, and a search's scan of the codes.
    size_t row_work(size_t d, bool search) const override;
    void train_whole(faiss::Index& whole, size_t n, const float* x) const override;
    // Encodes the rows in blocks split between threads, then appends the codes, as Faiss's add does.
    void add_whole(faiss::Index& whole, size_t n, const float* x, size_t row_work, size_t rows) const override;
};

}  // namespace nanopq
