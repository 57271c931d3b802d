// The nearest codeword of each sub-vector: the assignment step of k-means and
// of encoding, by a kernel that keeps distances in registers.
#pragma once

#include <cstddef>

#include "codes.h"
#include "pq_ops.h"

namespace nanopq {

// codes[i][m] = argmin_k |x[i, m-th sub-vector] - codeword(m, k)|^2 for x
// (codes.n, M * Ds), up to float32 rounding. With settle_near_ties (encoding),
// a row whose nearest codewords are that close is decided by exact
// differences, as nanopq and Faiss's encoders compute them, ties to the lower
// k; without (k-means), near ties may go either way.
// When `distances` is given, it receives the sum over subspaces of those
// squared distances, per row: (codes.n,).
// Throws a RangeError when a distance does not fit in float32.
void nearest_codewords(const Codebook& codebook, const float* x, Codes codes, bool settle_near_ties,
                       float* distances = nullptr);

// The kernel in use: "avx512", "avx2" or "generic".
const char* nearest_kernel_name();

}  // namespace nanopq
