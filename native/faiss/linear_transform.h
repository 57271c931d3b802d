// faiss::OPQMatrix, and the transforms of an IndexPreTransform's chain, for
// JavaScript (lib/faiss/opq-matrix.ts, lib/faiss/normalization-transform.ts).
#pragma once

#include <faiss/VectorTransform.h>
#include <faiss/impl/ProductQuantizer.h>

#include <memory>
#include <string>
#include <vector>

#include "faiss/object.h"

namespace nanopq {

// The largest d of an OPQMatrix (exported as limits.maxOpqDimension, lib/faiss/opq-matrix.ts's MAX_OPQ_DIMENSION).
constexpr size_t kMaxOpqDimension = 16384;

class LinearTransformObject : public FaissObject {
public:
    LinearTransformObject(std::shared_ptr<faiss::VectorTransform> transform,
                          std::shared_ptr<faiss::ProductQuantizer> quiet_pq = nullptr, Locks shared = {})
        : FaissObject(std::move(shared)), transform(std::move(transform)), quiet_pq(std::move(quiet_pq)) {}
    // An OPQMatrix, or a transform of an index's chain: a LinearTransform
    // (OPQ, PCA, a rotation) or another kind (NormalizationTransform).
    std::shared_ptr<faiss::VectorTransform> transform;
    std::shared_ptr<faiss::ProductQuantizer> quiet_pq;  // what an OPQMatrix trains with (see quiet())

    size_t held_bytes() const override;
    void release() override {
        transform.reset();
        quiet_pq.reset();
    }
};

// The transform as index_factory names it (OPQ8_32, PCAR16, L2norm, RR64), or LT<d_out> for another linear one.
std::string factory_name(const faiss::VectorTransform& t);

// The floats of A and b, for any VectorTransform (0 unless linear).
size_t transform_floats(const faiss::VectorTransform* t);

// Faiss's k-means asserts, aborting the process, on distances that overflow:
// where it trains on vectors a trained transform gives (x through each of
// `chain`, as Faiss applies them; a file's transform or an assigned A may be
// any matrix), they are checked first as our own inputs are, and one beyond
// kMaxAbsValue is a RangeError with `message`.
void check_transformed(const std::vector<faiss::VectorTransform*>& chain, const float* x, size_t n,
                       const char* message);

}  // namespace nanopq
