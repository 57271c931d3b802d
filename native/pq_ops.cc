#include "pq_ops.h"

#include <faiss/Clustering.h>
#include <faiss/impl/ProductQuantizer.h>
#include <faiss/utils/distances.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
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

// log2(Ks) when Ks is a power of two that Faiss's ProductQuantizer handles
// with its fast encoders (at most 16 bits), else 0.
int faiss_nbits(size_t Ks) {
    for (int nbits = 1; nbits <= 16; nbits++)
        if (Ks == (size_t(1) << nbits)) return nbits;
    return 0;
}

faiss::ClusteringParameters clustering_parameters(const TrainOptions& options) {
    faiss::ClusteringParameters cp;
    cp.niter = options.iter;
    cp.seed = options.seed;
    cp.verbose = options.verbose;
    if (!options.verbose) silence_clustering_warning(cp);
    return cp;
}

// Subspace m of x (n, M * Ds), made contiguous: (n, Ds).
void copy_subspace(const float* x, size_t n, size_t M, size_t Ds, size_t m, float* out) {
    for (size_t i = 0; i < n; i++) std::memcpy(out + i * Ds, x + (i * M + m) * Ds, Ds * sizeof(float));
}

// Faiss's BLAS searches return -1 where a distance overflowed.
void check_labels(const int64_t* labels, size_t count) {
    for (size_t i = 0; i < count; i++)
        if (labels[i] < 0) throw RangeError("Expected vectors whose squared distances fit in float32");
}

// k-means iterations from the codewords on entry: assignment, then update.
void lloyd(const float* x, size_t n, size_t M, size_t Ks, size_t Ds, const TrainOptions& options, float* codewords) {
    const int width = code_width(Ks);
    std::vector<uint8_t> code_bytes(n * M * size_t(width));
    const Codes codes{code_bytes.data(), n, M, width};
    std::vector<float> distances(options.verbose ? n : 0);
    for (int it = 0; it < options.iter; it++) {
        nearest_codewords({codewords, M, Ks, Ds}, x, codes, false, options.verbose ? distances.data() : nullptr);
        if (options.verbose)
            std::printf("k-means iteration %d / %d: objective %g\n", it + 1, options.iter,
                        std::accumulate(distances.begin(), distances.end(), 0.0));
        const CodeSums sums = sum_by_code(x, codes, Ds, Ks, false);
        centroids_from_sums(sums.sums.data(), sums.counts.data(), M, Ks, Ds, codewords);
    }
}

void train_centered(const float* x, size_t n, size_t M, size_t Ks, size_t Ds, const TrainOptions& options,
                    float* codewords, bool warm_start) {
    const int nbits = faiss_nbits(Ks);
    if (!warm_start && nbits && options.init == Init::Points) {
        faiss::ProductQuantizer pq(M * Ds, M, nbits);
        pq.cp = clustering_parameters(options);
        pq.verbose = options.verbose;
        pq.train(n, x);
        std::memcpy(codewords, pq.centroids.data(), M * Ks * Ds * sizeof(float));
        return;
    }
    // Any other Ks or initialisation, or a warm start: Lloyd's iterations as
    // Faiss's Clustering runs them, with our faster assignment.
    if (!warm_start) initial_codewords(x, n, M, Ks, Ds, options, codewords);
    lloyd(x, n, M, Ks, Ds, options, codewords);
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
    // k-means runs on centred data: Faiss's searches compute |x|^2 + |c|^2 - 2 x.c,
    // which loses the distances of data far from the origin, and both Faiss's
    // and our centroid updates add up the vectors in float32.
    const size_t D = M * Ds;
    const std::vector<float> mean = column_mean(x, n, D);
    const std::vector<float> xc = centered(x, n, D, mean);
    auto shift_codewords = [&](float sign) {
        for (size_t m = 0; m < M; m++)
            for (size_t k = 0; k < Ks; k++)
                for (size_t j = 0; j < Ds; j++) codewords[(m * Ks + k) * Ds + j] += sign * mean[m * Ds + j];
    };
    if (warm_start) shift_codewords(-1);
    train_centered(xc.data(), n, M, Ks, Ds, options, codewords, warm_start);
    shift_codewords(+1);
}

void initial_codewords(const float* x, size_t n, size_t M, size_t Ks, size_t Ds, const TrainOptions& options,
                       float* codewords) {
    std::vector<float> slice(n * Ds), centroids;
    for (size_t m = 0; m < M; m++) {
        copy_subspace(x, n, M, Ds, m, slice.data());
        const unsigned seed = unsigned(options.seed) * 1000003u + unsigned(m);
        switch (options.init) {
            case Init::Points: centroids = random_rows(slice.data(), n, Ds, Ks, seed); break;
            case Init::PlusPlus: centroids = kmeans_plus_plus(slice.data(), n, Ds, Ks, seed); break;
            case Init::Random: centroids = gaussian_samples(slice.data(), n, Ds, Ks, seed); break;
        }
        std::copy(centroids.begin(), centroids.end(), codewords + m * Ks * Ds);
    }
}

void encode(const Codebook& cb, const float* x, Codes codes) {
    codes.check_capacity(cb.Ks);
    const size_t D = cb.M * cb.Ds;
    const int nbits = faiss_nbits(cb.Ks);
    // Faiss's ProductQuantizer computes exact differences for Ds < 16, as
    // nanopq (scipy's vq) does; for larger Ds it builds (n, M, Ks) tables by
    // BLAS, which measured 1.6-3x slower than Faiss's knn_L2sqr (Debian's
    // libfaiss 1.7.3, 60,000 vectors, Ds 16 to 98), itself slower than ours.
    if (nbits && cb.Ds < 16) {
        faiss::ProductQuantizer pq(D, cb.M, nbits);
        std::memcpy(pq.centroids.data(), cb.codewords, cb.M * cb.Ks * cb.Ds * sizeof(float));
        // Faiss's bit-packed codes are our layout as they stand for 8 and 16 bits.
        const bool same_layout = (nbits == 8 && codes.width == 1) || (nbits == 16 && codes.width == 2);
        const size_t rows = rows_per_block(cb.M);
        std::vector<uint8_t> packed(same_layout ? 0 : rows * pq.code_size);
        for (size_t i0 = 0; i0 < codes.n; i0 += rows) {
            const size_t nb = std::min(rows, codes.n - i0);
            if (same_layout) {
                pq.compute_codes(x + i0 * D, static_cast<uint8_t*>(codes.data) + i0 * pq.code_size, nb);
                continue;
            }
            pq.compute_codes(x + i0 * D, packed.data(), nb);
            unpack_codes(packed.data(), nbits, codes.rows(i0, nb));
        }
        return;
    }
    nearest_codewords(cb, x, codes, true);
}

CodeSums sum_by_code(const float* x, Codes codes, size_t Ds, size_t Ks, bool whole_rows) {
    const size_t M = codes.M, D = M * Ds, width = whole_rows ? D : Ds;
    CodeSums out{std::vector<float>(M * Ks * width, 0.0f), std::vector<uint32_t>(M * Ks, 0)};
    // Each thread owns a range of the (m, k) slots and adds up their rows in
    // row order, as Faiss's compute_centroids: one copy of the sums, the same
    // whatever the number of threads (and faster than sums per thread added
    // up after, or columns per thread).
    const size_t slots = M * Ks, threads = size_t(std::max(1, omp_get_max_threads()));
    parallel_for(int64_t(threads), [&](int64_t t) {
        const size_t first = slots * size_t(t) / threads, last = slots * size_t(t + 1) / threads;
        codes.visit([&](const auto* in) {
            for (size_t i = 0; i < codes.n; i++)
                for (size_t m = 0; m < M; m++) {
                    const size_t slot = m * Ks + in[i * M + m];
                    if (slot < first || slot >= last) continue;
                    const float* row = x + i * D + (whole_rows ? 0 : m * Ds);
                    float* sum = &out.sums[slot * width];
                    out.counts[slot]++;
                    for (size_t j = 0; j < width; j++) sum[j] += row[j];
                }
        });
    });
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

void distance_table(const Codebook& cb, const float* query, Metric metric, float* dtable) {
    // Faiss's ProductQuantizer::compute_distance_table / compute_inner_prod_table
    // run these kernels subspace by subspace; called directly, they need no copy
    // of the codebook and work for any Ks.
    for (size_t m = 0; m < cb.M; m++) {
        const float* codewords = cb.codewords + m * cb.Ks * cb.Ds;
        if (metric == Metric::L2)
            faiss::fvec_L2sqr_ny(dtable + m * cb.Ks, query + m * cb.Ds, codewords, cb.Ds, cb.Ks);
        else
            faiss::fvec_inner_products_ny(dtable + m * cb.Ks, query + m * cb.Ds, codewords, cb.Ds, cb.Ks);
    }
}

void adist(const float* dtable, size_t Ks, Codes codes, float* dists) {
    codes.check_range(Ks);
    codes.visit([&](const auto* in) {
        for (size_t i = 0; i < codes.n; i++) {
            float sum = 0;
            for (size_t m = 0; m < codes.M; m++) sum += dtable[m * Ks + in[i * codes.M + m]];
            dists[i] = sum;
        }
    });
}

void topk(const float* dtable, size_t Ks, Codes codes, size_t k, bool largest_first, uint32_t* ids,
          float* dists) {
    std::vector<float> all(codes.n);
    adist(dtable, Ks, codes, all.data());
    // NaN ranks last, so the order stays strict and weak whatever the table holds.
    auto key = [&](uint32_t i) {
        float d = all[i];
        return std::isnan(d) ? INFINITY : (largest_first ? -d : d);
    };
    std::vector<uint32_t> order(codes.n);
    std::iota(order.begin(), order.end(), 0u);
    k = std::min(k, codes.n);
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](uint32_t a, uint32_t b) {
        float ka = key(a), kb = key(b);
        return ka < kb || (ka == kb && a < b);
    });
    for (size_t j = 0; j < k; j++) {
        ids[j] = order[j];
        dists[j] = all[order[j]];
    }
}

void exact_search(const float* queries, size_t nq, const float* database, size_t nb, size_t d, size_t k,
                  uint32_t* ids, float* dists) {
    if (nb > UINT32_MAX) throw RangeError("Expected at most 2**32 - 1 database vectors");
    // Centred on the database mean, for the precision of Faiss's BLAS distances.
    const std::vector<float> mean = column_mean(database, nb, d);
    const std::vector<float> db = centered(database, nb, d, mean), q = centered(queries, nq, d, mean);
    std::vector<int64_t> labels(nq * k);
    faiss::knn_L2sqr(q.data(), db.data(), d, nq, nb, k, dists, labels.data());
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

size_t first_out_of_range(const float* x, size_t n, float limit) {
    for (size_t i = 0; i < n; i++)
        if (!(std::fabs(x[i]) <= limit)) return i;  // NaN fails the comparison
    return n;
}

}  // namespace nanopq
