#include "model/kmeans_init.h"

#include <faiss/utils/distances.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include "model/linalg.h"

namespace nanopq {

std::vector<float> random_rows(const float* x, size_t n, size_t d, size_t k, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t(0));
    std::vector<float> rows(k * d);
    for (size_t c = 0; c < k; c++) {  // the first k steps of a Fisher-Yates shuffle
        std::swap(order[c], order[std::uniform_int_distribution<size_t>(c, n - 1)(rng)]);
        std::memcpy(&rows[c * d], x + order[c] * d, d * sizeof(float));
    }
    return rows;
}

std::vector<float> kmeans_plus_plus(const float* x, size_t n, size_t d, size_t k, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::vector<float> centroids(k * d);
    std::vector<float> nearest(n);  // squared distance of each point to its nearest chosen centroid

    size_t chosen = std::uniform_int_distribution<size_t>(0, n - 1)(rng);
    for (size_t c = 0; c < k; c++) {
        const float* centroid = x + chosen * d;
        std::memcpy(&centroids[c * d], centroid, d * sizeof(float));
#pragma omp parallel for if (n * d > 100000)
        for (int64_t i = 0; i < int64_t(n); i++) {
            float dist = faiss::fvec_L2sqr(x + i * d, centroid, d);
            if (c == 0 || dist < nearest[i]) nearest[i] = dist;
        }
        // Added up in order: the draw is then the same whatever the number of threads.
        const double total = std::accumulate(nearest.begin(), nearest.end(), 0.0);
        if (c + 1 == k) break;
        // Next centroid: a point drawn with probability proportional to `nearest`.
        if (total > 0) {
            double target = std::uniform_real_distribution<double>(0, total)(rng);
            chosen = n - 1;
            for (size_t i = 0; i < n; i++) {
                target -= nearest[i];
                if (target < 0) {
                    chosen = i;
                    break;
                }
            }
        } else {  // every point sits on a centroid already
            chosen = std::uniform_int_distribution<size_t>(0, n - 1)(rng);
        }
    }
    return centroids;
}

namespace {

// Lower-triangular L with L L^T = a (d x d, symmetric positive semi-definite),
// with zero columns where a pivot vanishes (constant or dependent dimensions).
std::vector<double> cholesky(const std::vector<double>& a, size_t d) {
    std::vector<double> l(d * d, 0.0);
    double scale = 0;
    for (size_t i = 0; i < d; i++) scale = std::max(scale, a[i * d + i]);
    const double tiny = 1e-12 * std::max(scale, 1e-30);
    for (size_t j = 0; j < d; j++) {
        double pivot = a[j * d + j];
        for (size_t p = 0; p < j; p++) pivot -= l[j * d + p] * l[j * d + p];
        if (pivot <= tiny) continue;
        double root = std::sqrt(pivot);
        l[j * d + j] = root;
        for (size_t i = j + 1; i < d; i++) {
            double s = a[i * d + j];
            for (size_t p = 0; p < j; p++) s -= l[i * d + p] * l[j * d + p];
            l[i * d + j] = s / root;
        }
    }
    return l;
}

}  // namespace

std::vector<float> gaussian_samples(const float* x, size_t n, size_t d, size_t k, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal;
    std::vector<float> samples(k * d);
    if (k < d + d * d / std::max<size_t>(n, 1)) {
        // Cheaper than a (d, d) covariance when d is large: mean + the centred
        // rows mixed by N(0, 1) weights / sqrt(n - 1) has the same covariance.
        const std::vector<float> mean = column_mean(x, n, d);
        const double scale = 1.0 / std::sqrt(double(std::max<size_t>(n, 2) - 1));
        std::vector<double> sample(d);
        for (size_t c = 0; c < k; c++) {
            sample.assign(mean.begin(), mean.end());
            for (size_t i = 0; i < n; i++) {
                const double w = normal(rng) * scale;
                for (size_t j = 0; j < d; j++) sample[j] += w * (x[i * d + j] - mean[j]);
            }
            for (size_t j = 0; j < d; j++) samples[c * d + j] = float(sample[j]);
        }
        return samples;
    }
    std::vector<float> mean;
    std::vector<double> cov;
    covariance(x, n, d, mean, cov);
    std::vector<double> l = cholesky(cov, d);
    std::vector<double> z(d);
    for (size_t c = 0; c < k; c++) {
        for (double& v : z) v = normal(rng);
        for (size_t i = 0; i < d; i++) {
            double s = mean[i];
            for (size_t p = 0; p <= i; p++) s += l[i * d + p] * z[p];
            samples[c * d + i] = float(s);
        }
    }
    return samples;
}

}  // namespace nanopq
