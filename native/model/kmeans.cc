#include "model/kmeans.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <queue>
#include <string>
#include <vector>

#include "kernels/code_sums.h"
#include "kernels/nearest.h"
#include "model/kmeans_init.h"
#include "model/linalg.h"

namespace nanopq {

namespace {

// Subspace m of n rows, made contiguous: (n, Ds).
void copy_subspace(SubVectors x, size_t n, size_t Ds, size_t m, float* out) {
    for (size_t i = 0; i < n; i++) std::memcpy(out + i * Ds, x.at(i, m), Ds * sizeof(float));
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

}  // namespace nanopq
