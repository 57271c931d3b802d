// Exact search: the k nearest database rows of each query, without codes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nanopq {

// Exact k nearest neighbours of each query among the database rows, by
// squared L2 distance (Faiss's knn_L2sqr, BLAS): (nq, k) ids and distances.
void exact_search(const float* queries, size_t nq, const float* database, size_t nb, size_t d, size_t k,
                  uint32_t* ids, float* dists);

}  // namespace nanopq
