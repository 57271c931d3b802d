// k-means in each subspace: the codebook of a PQ, as Faiss's Clustering runs
// Lloyd's iterations, over every vector as nanopq.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/codebook.h"
#include "model/train_monitor.h"

namespace nanopq {

enum class Init { Points, Random, PlusPlus };
// Their names (nanopq's minit), in the enum's order (exported as names.minit).
inline constexpr const char* kInitNames[] = {"points", "random", "++"};

struct TrainOptions {
    int iter = 20;
    int seed = 123;
    Init init = Init::Points;
    const TrainMonitor* monitor = nullptr;
};

// Throws unless there are enough training vectors for Ks codewords, and few
// enough for Faiss's int counts.
void check_training_size(size_t n, size_t Ks);

// k-means (Lloyd's iterations, as Faiss's Clustering runs them, over every
// vector as nanopq) in each of the M subspaces of x (n, M * Ds); writes the
// (M, Ks, Ds) codewords. With `warm_start`, the codewords it holds on entry
// are the initial centroids (options.init is not used).
void train(const float* x, size_t n, size_t M, size_t Ks, size_t Ds, const TrainOptions& options,
           float* codewords, bool warm_start = false);

// Initial (M, Ks, Ds) codewords for k-means on x (n, M * Ds), per options.init and options.seed.
void initial_codewords(SubVectors x, size_t n, size_t M, size_t Ks, size_t Ds, const TrainOptions& options,
                       float* codewords);

// The k-means update: each codeword (M, Ks, Ds) becomes the mean of its
// sub-vectors, sums (M, Ks, Ds) / counts; an empty one splits the largest cluster.
void centroids_from_sums(const float* sums, const uint32_t* counts, size_t M, size_t Ks, size_t Ds,
                         float* codewords);

}  // namespace nanopq
