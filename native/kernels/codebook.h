// The shapes the kernels read: a codebook, the sub-vectors compared with it,
// the metric; and decoding, a gather of codewords.
#pragma once

#include <cstddef>

#include "kernels/codes.h"

namespace nanopq {

enum class Metric { L2, Dot };
// Their names, in the enum's order (exported as names.metric: the one list).
inline constexpr const char* kMetricNames[] = {"l2", "dot"};

struct Codebook {
    const float* codewords;
    size_t M, Ks, Ds;
};

// Where the sub-vectors of n rows of M * Ds floats lie: sub-vector m of row i
// at base + i * row_stride + m * subspace_stride. Row-major data has
// row_stride M * Ds and subspace_stride Ds; k-means copies its data subspace
// by subspace (row_stride Ds, subspace_stride n * Ds), so that the rows it
// reads one subspace at a time are contiguous.
struct SubVectors {
    const float* base;
    size_t row_stride, subspace_stride;
    const float* at(size_t i, size_t m) const { return base + i * row_stride + m * subspace_stride; }
    static SubVectors row_major(const float* x, size_t M, size_t Ds) { return {x, M * Ds, Ds}; }
};

// The codewords that codes name, concatenated: (codes.n, M * Ds).
void decode(const Codebook& codebook, Codes codes, float* x);

}  // namespace nanopq
