// Product quantization as plain C++ over raw pointers: no N-API here, so the
// same functions can serve the synchronous bindings and, later, async workers.
// Vectors are row-major float32; a codebook is (M, Ks, Ds) row-major.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <vector>

#include "codes.h"

namespace faiss {
struct ClusteringParameters;
struct ProductQuantizer;
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

// What training reports between iterations, and how it is stopped: the
// progress and the AbortSignal of fitAsync, and verbose output, all of which
// JavaScript prints or forwards (no printf here, which would bypass process.stdout).
struct TrainStep {
    const char* phase;  // "kmeans" or "rotation"
    int iteration, of;  // 1-based
    double objective;   // the sum of squared distances to the nearest codeword, or NaN when not computed
};
struct Aborted : std::runtime_error {
    Aborted() : std::runtime_error("The operation was aborted") {}
};
struct TrainMonitor {
    std::function<void(const TrainStep&)> report;  // may be empty
    const int32_t* stop = nullptr;                 // nonzero (set by another thread): stop
    bool objective = false;                        // compute TrainStep::objective (verbose; costs a little)

    // Throws Aborted when asked to stop, else reports the step.
    void step(const TrainStep& s) const {
        if (stop && __atomic_load_n(stop, __ATOMIC_ACQUIRE)) throw Aborted();
        if (report) report(s);
    }
};

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

// The k-means update: each codeword (M, Ks, Ds) becomes the mean of its
// sub-vectors, sums (M, Ks, Ds) / counts; an empty one splits the largest cluster.
void centroids_from_sums(const float* sums, const uint32_t* counts, size_t M, size_t Ks, size_t Ds,
                         float* codewords);

// The codewords that codes name, concatenated: (codes.n, M * Ds).
void decode(const Codebook& codebook, Codes codes, float* x);

// Exact k nearest neighbours of each query among the database rows, by
// squared L2 distance (Faiss's knn_L2sqr, BLAS): (nq, k) ids and distances.
void exact_search(const float* queries, size_t nq, const float* database, size_t nb, size_t d, size_t k,
                  uint32_t* ids, float* dists);

// Faiss's bit-packed codes (code_size = ceil(M * nbits / 8) bytes a row) to
// and from one integer per sub-quantizer. pack_codes throws on a code >= 2**nbits.
void pack_codes(Codes codes, int nbits, uint8_t* packed);
void unpack_codes(const uint8_t* packed, int nbits, Codes codes);

// Faiss's pq.compute_codes of x (codes.n rows) as one integer per
// sub-quantizer, in blocks of rows split between threads (Faiss's BLAS
// products run on one), each packed aside unless Faiss's packing is already
// the layout of `codes` (8 and 16 bits).
void compute_codes(const faiss::ProductQuantizer& pq, const float* x, Codes codes);
size_t packed_code_size(size_t M, int nbits);

// Index of the first value of x that is not finite or exceeds `limit` in
// magnitude, or n when there is none.
size_t first_out_of_range(const float* x, size_t n, float limit);

// The largest magnitude a vector component may have (lib/arrays.ts
// MAX_ABS_VALUE): squared distances of larger ones overflow float32.
constexpr float kMaxAbsValue = 1e15f;

// Thrown by check_values: JavaScript words the message, as for its own checks.
struct OutOfRange {
    size_t index;
};
// Throws OutOfRange for the first value of x that first_out_of_range finds.
void check_values(const float* x, size_t n, float limit);

}  // namespace nanopq
