// Initial centroids for k-means, as scipy.cluster.vq.kmeans2's `minit` options.
#pragma once

#include <cstddef>
#include <vector>

namespace nanopq {

// minit='points': k distinct rows of x, drawn at random.
std::vector<float> random_rows(const float* x, size_t n, size_t d, size_t k, unsigned seed);

// minit='++': k-means++ seeding (Arthur & Vassilvitskii 2007).
std::vector<float> kmeans_plus_plus(const float* x, size_t n, size_t d, size_t k, unsigned seed);

// minit='random': k samples of a Gaussian with the data's mean and covariance.
std::vector<float> gaussian_samples(const float* x, size_t n, size_t d, size_t k, unsigned seed);

}  // namespace nanopq
