// faiss::ProductQuantizer for JavaScript (lib/faiss.ts ProductQuantizer): a
// quantizer of its own (pqNew), or the one inside an IndexPQ (indexGetPQ).
#pragma once

#include <faiss/IndexFlat.h>
#include <faiss/impl/ProductQuantizer.h>

#include <memory>

#include "faiss/object.h"

namespace nanopq {

class ProductQuantizerObject : public FaissObject {
public:
    ProductQuantizerObject(std::shared_ptr<faiss::ProductQuantizer> pq, Locks shared = {})
        : FaissObject(std::move(shared)), pq(std::move(pq)) {}
    std::shared_ptr<faiss::ProductQuantizer> pq;

    size_t held_bytes() const override { return pq ? pq->centroids.size() * sizeof(float) : 0; }
    void release() override { pq.reset(); }
};

// Faiss's k-means prints "WARNING clustering N points to K centroids" whatever
// its verbose flag; that check is the only use of min_points_per_centroid.
inline void quiet(faiss::ProductQuantizer& pq) { pq.cp.min_points_per_centroid = 0; }

// While one lives, the k-means of `pq`'s training assigns points to
// centroids on every thread. Faiss's assignment is one BLAS product, which
// runs on one thread (keep_blas_on_calling_thread), so this index, Faiss's
// assign_index, splits it by rows.
class ThreadedAssignment {
public:
    explicit ThreadedAssignment(faiss::ProductQuantizer& pq);
    ~ThreadedAssignment() { pq_.assign_index = nullptr; }
    ThreadedAssignment(const ThreadedAssignment&) = delete;
    ThreadedAssignment& operator=(const ThreadedAssignment&) = delete;

private:
    struct Assignment : faiss::IndexFlatL2 {
        using faiss::IndexFlatL2::IndexFlatL2;
        void search(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                    const faiss::SearchParameters* params) const override;
    };
    faiss::ProductQuantizer& pq_;
    Assignment index_;
};

}  // namespace nanopq
