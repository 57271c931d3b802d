#include "pq_ops.h"

#include <faiss/Clustering.h>
#include <faiss/impl/ProductQuantizer.h>
#include <faiss/utils/distances.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <queue>
#include <vector>

#include "kmeans_init.h"
#include "linalg.h"
#include "nearest.h"
#include "parallel.h"

namespace nanopq {

namespace {

// Subspace m of n rows, made contiguous: (n, Ds).
void copy_subspace(SubVectors x, size_t n, size_t Ds, size_t m, float* out) {
    for (size_t i = 0; i < n; i++) std::memcpy(out + i * Ds, x.at(i, m), Ds * sizeof(float));
}

// Faiss's BLAS searches return -1 where a distance overflowed.
void check_labels(const int64_t* labels, size_t count) {
    for (size_t i = 0; i < count; i++)
        if (labels[i] < 0) throw RangeError("Expected vectors whose squared distances fit in float32");
}

// k-means iterations from the codewords on entry: assignment, then update.
void lloyd(SubVectors x, size_t n, size_t M, size_t Ks, size_t Ds, const TrainOptions& options, float* codewords) {
    const int width = code_width(Ks);
    std::vector<uint8_t> code_bytes(n * M * size_t(width));
    const Codes codes{code_bytes.data(), n, M, width};
    const TrainMonitor* monitor = options.monitor;
    const bool objective = monitor && monitor->objective;
    std::vector<float> distances(objective ? n : 0);
    for (int it = 0; it < options.iter; it++) {
        const CodeSums sums = assign_and_sum({codewords, M, Ks, Ds}, x, codes, objective ? distances.data() : nullptr);
        centroids_from_sums(sums.sums.data(), sums.counts.data(), M, Ks, Ds, codewords);
        if (monitor)
            monitor->step({"kmeans", it + 1, options.iter,
                           objective ? std::accumulate(distances.begin(), distances.end(), 0.0) : NAN});
    }
}

}  // namespace

void check_training_size(size_t n, size_t Ks) {
    if (Ks > n)
        throw RangeError("Expected more training vectors than Ks = " + std::to_string(Ks) + ", got " +
                         std::to_string(n));
    if (n > size_t(INT32_MAX)) throw RangeError("Expected at most 2**31 - 1 training vectors");  // Faiss counts in int
}

void train(const float* x, size_t n, size_t M, size_t Ks, size_t Ds, const TrainOptions& options,
           float* codewords, bool warm_start) {
    check_training_size(n, Ks);
    // k-means runs on centred data: the centroid updates add up the vectors in
    // float32, which loses data far from the origin.
    const size_t D = M * Ds;
    const std::vector<float> mean = column_mean(x, n, D);
    std::vector<float> centred(n * D);  // subspace by subspace (see SubVectors)
    for (size_t i = 0; i < n; i++)
        for (size_t m = 0; m < M; m++)
            for (size_t j = 0; j < Ds; j++) centred[(m * n + i) * Ds + j] = x[i * D + m * Ds + j] - mean[m * Ds + j];
    const SubVectors xc{centred.data(), Ds, n * Ds};
    auto shift_codewords = [&](float sign) {
        for (size_t m = 0; m < M; m++)
            for (size_t k = 0; k < Ks; k++)
                for (size_t j = 0; j < Ds; j++) codewords[(m * Ks + k) * Ds + j] += sign * mean[m * Ds + j];
    };
    if (warm_start) shift_codewords(-1);
    else initial_codewords(xc, n, M, Ks, Ds, options, codewords);
    lloyd(xc, n, M, Ks, Ds, options, codewords);
    shift_codewords(+1);
}

void initial_codewords(SubVectors x, size_t n, size_t M, size_t Ks, size_t Ds, const TrainOptions& options,
                       float* codewords) {
    std::vector<float> slice(n * Ds), centroids;
    for (size_t m = 0; m < M; m++) {
        copy_subspace(x, n, Ds, m, slice.data());
        const unsigned seed = unsigned(options.seed) * 1000003u + unsigned(m);
        switch (options.init) {
            case Init::Points: centroids = random_rows(slice.data(), n, Ds, Ks, seed); break;
            case Init::PlusPlus: centroids = kmeans_plus_plus(slice.data(), n, Ds, Ks, seed); break;
            case Init::Random: centroids = gaussian_samples(slice.data(), n, Ds, Ks, seed); break;
        }
        std::copy(centroids.begin(), centroids.end(), codewords + m * Ks * Ds);
    }
}

CodeSums sum_by_code(SubVectors x, Codes codes, size_t Ds, size_t Ks, bool whole_rows) {
    const size_t M = codes.M, D = M * Ds, width = whole_rows ? D : Ds;
    CodeSums out{std::vector<float>(M * Ks * width, 0.0f), std::vector<uint32_t>(M * Ks, 0)};
    // Each thread owns a range of the (m, k) slots and adds up their rows in
    // row order, as Faiss's compute_centroids: one copy of the sums, the same
    // whatever the number of threads (and faster than sums per thread added
    // up after, or columns per thread).
    const size_t slots = M * Ks, threads = size_t(num_threads());
    parallel_for(int64_t(threads), [&](int64_t t) {
        const size_t first = slots * size_t(t) / threads, last = slots * size_t(t + 1) / threads;
        codes.visit([&](const auto* in) {
            for (size_t i = 0; i < codes.n; i++)
                for (size_t m = 0; m < M; m++) {
                    const size_t slot = m * Ks + in[i * M + m];
                    if (slot < first || slot >= last) continue;
                    out.add(slot, x.at(i, whole_rows ? 0 : m), width);
                }
        });
    }, codes.n * D >= 65536);
    return out;
}

void centroids_from_sums(const float* sums, const uint32_t* counts, size_t M, size_t Ks, size_t Ds,
                         float* codewords) {
    for (size_t m = 0; m < M; m++) {
        float* cm = codewords + m * Ks * Ds;
        const float* sm = sums + m * Ks * Ds;
        std::vector<uint32_t> count(counts + m * Ks, counts + (m + 1) * Ks);
        std::vector<double> mean(Ds, 0.0);  // of all the sub-vectors
        double total = 0;
        for (size_t k = 0; k < Ks; k++) {
            if (!count[k]) continue;
            total += count[k];
            for (size_t j = 0; j < Ds; j++) {
                mean[j] += sm[k * Ds + j];
                cm[k * Ds + j] = sm[k * Ds + j] / float(count[k]);
            }
        }
        // An empty cluster takes half of the largest (Faiss's Clustering draws
        // one, weighted by size): a copy of its centroid, the two pushed apart
        // by a relative 1/1024 of their offset from the mean (Faiss scales the
        // coordinates, which for data far from the origin moves them far).
        for (double& v : mean) v /= std::max(total, 1.0);
        auto smaller = [&](size_t a, size_t b) { return count[a] < count[b] || (count[a] == count[b] && a > b); };
        std::priority_queue<size_t, std::vector<size_t>, decltype(smaller)> largest(smaller);
        for (size_t k = 0; k < Ks; k++)
            if (count[k]) largest.push(k);
        for (size_t k = 0; k < Ks && !largest.empty(); k++) {
            if (count[k]) continue;
            const size_t split = largest.top();
            if (count[split] < 2) break;
            largest.pop();
            for (size_t j = 0; j < Ds; j++) {
                const double offset = cm[split * Ds + j] - mean[j], push = (j % 2 ? -1.0 : 1.0) / 1024;
                cm[k * Ds + j] = float(mean[j] + offset * (1 + push));
                cm[split * Ds + j] = float(mean[j] + offset * (1 - push));
            }
            count[k] = count[split] / 2;
            count[split] -= count[k];
            largest.push(split);
            largest.push(k);
        }
    }
}

void decode(const Codebook& cb, Codes codes, float* x) {
    codes.check_range(cb.Ks);
    // A gather of codewords: what ProductQuantizer::decode does, without
    // packing the codes into its layout or copying the codebook into it.
    codes.visit([&](const auto* in) {
        for (size_t i = 0; i < codes.n; i++)
            for (size_t m = 0; m < cb.M; m++)
                std::memcpy(x + (i * cb.M + m) * cb.Ds,
                            cb.codewords + (m * cb.Ks + in[i * cb.M + m]) * cb.Ds, cb.Ds * sizeof(float));
    });
}

void exact_search(const float* queries, size_t nq, const float* database, size_t nb, size_t d, size_t k,
                  uint32_t* ids, float* dists) {
    if (nb > UINT32_MAX) throw RangeError("Expected at most 2**32 - 1 database vectors");
    // Centred on the database mean, for the precision of Faiss's BLAS distances.
    const std::vector<float> mean = column_mean(database, nb, d);
    const std::vector<float> db = centered(database, nb, d, mean), q = centered(queries, nq, d, mean);
    std::vector<int64_t> labels(nq * k);
    std::vector<float> db_norms(nb);  // once, not once a block as knn_L2sqr would
    faiss::fvec_norms_L2sqr(db_norms.data(), db.data(), d, nb);
    for_row_blocks(nq, nb * d, [&](size_t first, size_t last) {
        faiss::knn_L2sqr(q.data() + first * d, db.data(), d, last - first, nb, k, dists + first * k,
                         labels.data() + first * k, db_norms.data());
    }, size_t(faiss::distance_compute_blas_threshold));
    check_labels(labels.data(), labels.size());
    std::copy(labels.begin(), labels.end(), ids);
}

size_t rows_per_block(size_t floats_per_row) {
    return std::max<size_t>(1, (size_t(64) << 20) / (sizeof(float) * std::max<size_t>(floats_per_row, 1)));
}

void silence_clustering_warning(faiss::ClusteringParameters& cp) { cp.min_points_per_centroid = 0; }

size_t packed_code_size(size_t M, int nbits) { return (M * size_t(nbits) + 7) / 8; }

void pack_codes(Codes codes, int nbits, uint8_t* packed) {
    codes.check_range(size_t(1) << nbits);
    const size_t code_size = packed_code_size(codes.M, nbits);
    std::memset(packed, 0, codes.n * code_size);  // the encoder ORs bits in
    codes.visit([&](const auto* in) {
        for (size_t i = 0; i < codes.n; i++) {
            faiss::PQEncoderGeneric encoder(packed + i * code_size, nbits);
            for (size_t m = 0; m < codes.M; m++) encoder.encode(in[i * codes.M + m]);
        }
    });
}

void unpack_codes(const uint8_t* packed, int nbits, Codes codes) {
    codes.check_capacity(size_t(1) << nbits);
    const size_t code_size = packed_code_size(codes.M, nbits);
    codes.visit([&](auto* out) {
        using Code = std::remove_pointer_t<decltype(out)>;
        for (size_t i = 0; i < codes.n; i++) {
            faiss::PQDecoderGeneric decoder(packed + i * code_size, nbits);
            for (size_t m = 0; m < codes.M; m++) out[i * codes.M + m] = Code(decoder.decode());
        }
    });
}

void compute_codes(const faiss::ProductQuantizer& pq, const float* x, Codes codes) {
    const bool same_layout = (pq.nbits == 8 && codes.width == 1) || (pq.nbits == 16 && codes.width == 2);
    for_row_blocks(codes.n, pq.d * pq.ksub, [&](size_t first, size_t last) {
        const size_t n = last - first;
        if (same_layout)
            return pq.compute_codes(x + first * pq.d, static_cast<uint8_t*>(codes.data) + first * pq.code_size, n);
        std::vector<uint8_t> packed(n * pq.code_size);
        pq.compute_codes(x + first * pq.d, packed.data(), n);
        unpack_codes(packed.data(), int(pq.nbits), codes.rows(first, n));
    }, 1, rows_per_block(pq.M * pq.ksub));
}

size_t first_out_of_range(const float* x, size_t n, float limit) {
    for (size_t i = 0; i < n; i++)
        if (!(std::fabs(x[i]) <= limit)) return i;  // NaN fails the comparison
    return n;
}

void check_values(const float* x, size_t n, float limit) {
    const size_t i = first_out_of_range(x, n, limit);
    if (i < n) throw OutOfRange{i};
}

}  // namespace nanopq
