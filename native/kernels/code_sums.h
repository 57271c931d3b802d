// The sums of k-means' update: for each subspace and codeword, how many rows
// the codes assign to it and the sum of their sub-vectors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/codebook.h"
#include "kernels/codes.h"

namespace nanopq {

// For each subspace m and codeword k of the codes of x (codes.n, M * Ds): how
// many rows are assigned to it, and the sum of their m-th sub-vectors (width
// Ds) or, with whole_rows, of the rows themselves (width D).
struct CodeSums {
    std::vector<float> sums;       // (M, Ks, width); float, as Faiss's k-means sums
    std::vector<uint32_t> counts;  // (M, Ks)

    // Adds a row of `width` floats to a slot: the one summation of
    // sum_by_code and assign_and_sum, whose sums agree to the bit.
    void add(size_t slot, const float* row, size_t width) {
        float* sum = &sums[slot * width];
        counts[slot]++;
        for (size_t j = 0; j < width; j++) sum[j] += row[j];
    }
};
CodeSums sum_by_code(SubVectors x, Codes codes, size_t Ds, size_t Ks, bool whole_rows);  // whole_rows: x row-major

}  // namespace nanopq
