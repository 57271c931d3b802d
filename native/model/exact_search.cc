#include "model/exact_search.h"

#include <faiss/utils/distances.h>

#include <algorithm>
#include <vector>

#include "kernels/exceptions.h"
#include "kernels/parallel.h"
#include "model/linalg.h"

namespace nanopq {

namespace {

// Faiss's BLAS searches return -1 where a distance overflowed.
void check_labels(const int64_t* labels, size_t count) {
    for (size_t i = 0; i < count; i++)
        if (labels[i] < 0) throw RangeError("Expected vectors whose squared distances fit in float32");
}

}  // namespace

void exact_search(const float* queries, size_t nq, const float* database, size_t nb, size_t d, size_t k,
                  uint32_t* ids, float* dists) {
    if (nb > UINT32_MAX) throw RangeError("Expected at most 2**32 - 1 database vectors");
    // Centred on the database mean, for the precision of Faiss's BLAS distances.
    const std::vector<float> mean = column_mean(database, nb, d);
    const std::vector<float> db = centered(database, nb, d, mean), q = centered(queries, nq, d, mean);
    std::vector<int64_t> labels(nq * k);
    std::vector<float> db_norms(nb);  // once, not once a block as knn_L2sqr would
    faiss::fvec_norms_L2sqr(db_norms.data(), db.data(), d, nb);
    for_row_blocks(nq, nb * d, [&](size_t first, size_t last) {
        faiss::knn_L2sqr(q.data() + first * d, db.data(), d, last - first, nb, k, dists + first * k,
                         labels.data() + first * k, db_norms.data());
    }, size_t(faiss::distance_compute_blas_threshold));
    check_labels(labels.data(), labels.size());
    std::copy(labels.begin(), labels.end(), ids);
}

}  // namespace nanopq
