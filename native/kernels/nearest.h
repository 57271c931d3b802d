// The codeword kernels: the nearest codeword of each sub-vector (the
// assignment step of k-means and of encoding), and the distance table of a
// query, both over codewords laid out in panels that vector registers read.
#pragma once

#include <cstddef>
#include <vector>

#include "kernels/code_sums.h"
#include "kernels/codebook.h"
#include "kernels/codes.h"

namespace nanopq {

// One subspace's codewords for the kernels: centred on their mean (unless
// not `centred`: a mean of zeros), in panels of `width` codewords (the width
// of the kernel in use), each stored dimension by dimension (Ds rows of
// `width` floats) so that a panel is read contiguously. Padding codewords
// have an infinite half norm and are never nearest.
struct Panels {
    size_t Ks, Ds, width, count;
    std::vector<float> mean, values, half_norms;
    float largest_norm = 0;  // max |c'|^2

    Panels(const float* codewords, size_t Ks, size_t Ds, bool centred = true);
};

// The panels of every subspace of a codebook.
std::vector<Panels> make_panels(const Codebook& codebook);

// codes[i][m] = argmin_k |x[i, m-th sub-vector] - codeword(m, k)|^2 for x
// (codes.n, M * Ds), up to float32 rounding. With settle_near_ties (encoding),
// a row whose nearest codewords are that close is decided by exact
// differences, as nanopq and Faiss's encoders compute them, ties to the lower
// k; without (k-means), near ties may go either way.
// When `distances` is given, it receives the sum over subspaces of those
// squared distances, per row: (codes.n,).
// Throws a RangeError when a distance does not fit in float32.
void nearest_codewords(const Codebook& codebook, const std::vector<Panels>& panels, const float* x, Codes codes,
                       bool settle_near_ties, float* distances = nullptr);
// The same, building the panels first (k-means: the codewords change every iteration).
void nearest_codewords(const Codebook& codebook, const float* x, Codes codes, bool settle_near_ties,
                       float* distances = nullptr);

// k-means' assignment and the sums of its update in one pass over x: the
// codes of nearest_codewords(codebook, x, codes, false, distances) and what
// sum_by_code(x, codes, Ds, Ks, false) returns, to the bit (x laid out as
// SubVectors says), with each block of rows added up while it is in cache.
CodeSums assign_and_sum(const Codebook& codebook, SubVectors x, Codes codes, float* distances = nullptr);

// The distance tables (M, Ks) of nq queries (nq, M * Ds): the squared L2
// distance of each sub-vector to each codeword of its subspace (by
// differences, as nanopq), or for Dot their inner product. Entry (q, m, k)
// goes to out[q * q_stride + (m * Ks + k) * k_stride]. A query's table is the
// same, to the bit, whatever nq. Reads the codebook's shape and the panels.
void distance_tables(const Codebook& codebook, const std::vector<Panels>& panels, const float* queries, size_t nq,
                     Metric metric, float* out, size_t q_stride, size_t k_stride);

}  // namespace nanopq
