// The nearest codeword of each sub-vector: the assignment step of k-means and
// of encoding, by a kernel that keeps distances in registers.
#pragma once

#include <cstddef>

#include "codes.h"
#include "pq_ops.h"

namespace nanopq {

// codes[i][m] = argmin_k |x[i, m-th sub-vector] - codeword(m, k)|^2 (ties to the
// lower k) for x (codes.n, M * Ds), up to float32 rounding; with
// settle_near_ties, codewords whose distances are that close are compared by
// exact differences (as nanopq and Faiss's encoders), else (k-means) not.
// When `distances` is given, it receives the sum over subspaces of those
// squared distances, per row: (codes.n,).
// Throws a RangeError when a distance does not fit in float32.
void nearest_codewords(const Codebook& codebook, const float* x, Codes codes, bool settle_near_ties,
                       float* distances = nullptr);

// The kernel in use: "avx512", "avx2" or "generic".
const char* nearest_kernel_name();

}  // namespace nanopq
