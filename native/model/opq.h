// Optimized product quantization (Ge et al., TPAMI 2014) as plain C++, with
// nanopq's semantics: x is rotated by an orthonormal R (x_rotated = x @ R)
// and the rotated vectors are product-quantized.
#pragma once

#include <cstddef>

#include "model/kmeans.h"

namespace nanopq {

struct OpqTrainOptions {
    TrainOptions pq;        // the final PQ training: pq.iter is nanopq's pq_iter
    int rotation_iter = 10;
    bool parametric_init = false;
};

// rotation_iter alternations of (PQ training with 1 k-means iteration,
// Procrustes update of R); the last trains the PQ with pq.iter iterations
// and keeps R. Writes R (D, D) and the (M, Ks, Ds) codewords.
//
// Unlike nanopq, which restarts k-means from a random initialisation in every
// alternation, each one-iteration PQ training continues from the codebook of
// the one before (carried into the new rotation), and so does the final
// training: every step is then a step of one descent on ||x R - decode(codes)||.
void train_opq(const float* x, size_t n, size_t M, size_t Ks, size_t Ds, const OpqTrainOptions& options,
               float* R, float* codewords);

// The eigenvalue-allocation rotation of Ge et al. (the parametric solution for Gaussian data).
void eigenvalue_allocation(const float* x, size_t n, size_t D, size_t M, float* R);


}  // namespace nanopq
