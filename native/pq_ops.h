// Product quantization as plain C++ over raw pointers: no N-API here, so the
// same functions can serve the synchronous bindings and, later, async workers.
// Vectors are row-major float32; a codebook is (M, Ks, Ds) row-major.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "codes.h"

namespace faiss {
struct ClusteringParameters;
}

namespace nanopq {

// How many rows to hand Faiss at once, so that what it allocates per row
// (distance tables, copies) stays near 64 MiB.
size_t rows_per_block(size_t floats_per_row);

// Faiss's k-means prints "WARNING clustering N points to K centroids" whatever
// its verbose flag; that check is the only use of min_points_per_centroid.
void silence_clustering_warning(faiss::ClusteringParameters& cp);

enum class Metric { L2, Dot };
enum class Init { Points, Random, PlusPlus };

struct Codebook {
    const float* codewords;
    size_t M, Ks, Ds;
};

struct TrainOptions {
    int iter = 20;
    int seed = 123;
    Init init = Init::Points;
    bool verbose = false;
};

// Throws unless there are enough training vectors for Ks codewords, and few
// enough for Faiss's int counts.
void check_training_size(size_t n, size_t Ks);

// k-means in each of the M subspaces of x (n, M * Ds); writes the (M, Ks, Ds)
// codewords. With `warm_start`, the codewords it holds on entry are the
// initial centroids (options.init is not used).
void train(const float* x, size_t n, size_t M, size_t Ks, size_t Ds, const TrainOptions& options,
           float* codewords, bool warm_start = false);

// Initial (M, Ks, Ds) codewords for k-means on x (n, M * Ds), per options.init and options.seed.
void initial_codewords(const float* x, size_t n, size_t M, size_t Ks, size_t Ds, const TrainOptions& options,
                       float* codewords);

// The nearest codeword of each sub-vector of x (codes.n, M * Ds), into codes.
void encode(const Codebook& codebook, const float* x, Codes codes);

// For each subspace m and codeword k of the codes of x (codes.n, M * Ds): how
// many rows are assigned to it, and the sum of their m-th sub-vectors (width
// Ds) or, with whole_rows, of the rows themselves (width D).
struct CodeSums {
    std::vector<float> sums;       // (M, Ks, width); float, as Faiss's k-means sums
    std::vector<uint32_t> counts;  // (M, Ks)
};
CodeSums sum_by_code(const float* x, Codes codes, size_t Ds, size_t Ks, bool whole_rows);

// The k-means update: each codeword (M, Ks, Ds) becomes the mean of its
// sub-vectors, sums (M, Ks, Ds) / counts; an empty one splits the largest cluster.
void centroids_from_sums(const float* sums, const uint32_t* counts, size_t M, size_t Ks, size_t Ds,
                         float* codewords);

// The codewords that codes name, concatenated: (codes.n, M * Ds).
void decode(const Codebook& codebook, Codes codes, float* x);

// dtable[m][k]: squared L2 distance (or inner product) of query's m-th sub-vector to codeword k.
void distance_table(const Codebook& codebook, const float* query, Metric metric, float* dtable);

// Asymmetric distances of one query (its (M, Ks) dtable) to each code: (codes.n,).
void adist(const float* dtable, size_t Ks, Codes codes, float* dists);

// The k codes nearest to the query (smallest distance, or largest when
// largest_first), best first; ties go to the lower id.
void topk(const float* dtable, size_t Ks, Codes codes, size_t k, bool largest_first, uint32_t* ids,
          float* dists);

// Exact k nearest neighbours of each query among the database rows, by
// squared L2 distance (Faiss's knn_L2sqr, BLAS): (nq, k) ids and distances.
void exact_search(const float* queries, size_t nq, const float* database, size_t nb, size_t d, size_t k,
                  uint32_t* ids, float* dists);

// Faiss's bit-packed codes (code_size = ceil(M * nbits / 8) bytes a row) to
// and from one integer per sub-quantizer. pack_codes throws on a code >= 2**nbits.
void pack_codes(Codes codes, int nbits, uint8_t* packed);
void unpack_codes(const uint8_t* packed, int nbits, Codes codes);
size_t packed_code_size(size_t M, int nbits);

// Index of the first value of x that is not finite or exceeds `limit` in
// magnitude, or n when there is none.
size_t first_out_of_range(const float* x, size_t n, float limit);

}  // namespace nanopq
