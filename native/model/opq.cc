#include "model/opq.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "kernels/code_sums.h"
#include "kernels/nearest.h"
#include "kernels/parallel.h"
#include "model/linalg.h"

namespace nanopq {

namespace {

// A = x^T decode(codes) (D, D) without decoding: block m of A's columns is
// S_m^T C_m, where row k of S_m (Ks, D) sums the x that subspace m assigns
// to codeword k, and C_m (Ks, Ds) holds subspace m's codewords.
void cross_covariance(const std::vector<float>& S, const Codebook& cb, float* A) {
    const size_t D = cb.M * cb.Ds;
    parallel_for(int64_t(cb.M), [&](int64_t m) {
        std::vector<float> block(D * cb.Ds);
        matmul(&S[m * cb.Ks * D], D, cb.Ks, cb.codewords + m * cb.Ks * cb.Ds, cb.Ds, block.data(), false, true);
        for (size_t r = 0; r < D; r++)
            std::copy_n(&block[r * cb.Ds], cb.Ds, A + r * D + m * cb.Ds);
    }, D * D >= 65536);
}

// The sums (M, Ks, Ds) of the rotated sub-vectors from those of x: the
// rows of S_m (Ks, D) times the m-th block of R's columns.
std::vector<float> rotated_sums(const std::vector<float>& S, const float* R, size_t M, size_t Ks, size_t Ds) {
    const size_t D = M * Ds;
    std::vector<float> sums(M * Ks * Ds);
    parallel_for(int64_t(M), [&](int64_t m) {
        std::vector<float> block_of_R(D * Ds);
        for (size_t r = 0; r < D; r++) std::copy_n(R + r * D + m * Ds, Ds, &block_of_R[r * Ds]);
        matmul(&S[m * Ks * D], Ks, D, block_of_R.data(), Ds, &sums[m * Ks * Ds]);
    }, D * D >= 65536);
    return sums;
}

double squared_error(const float* x, const float* y, size_t count) {
    double e = 0;
    for (size_t i = 0; i < count; i++) e += double(x[i] - y[i]) * double(x[i] - y[i]);
    return e;
}

}  // namespace

void eigenvalue_allocation(const float* x, size_t n, size_t D, size_t M, float* R) {
    std::vector<float> mean;
    std::vector<double> cov, values, vectors;
    covariance(x, n, D, mean, cov);
    symmetric_eigen(cov, D, values, vectors);
    // Eigen-directions by decreasing |eigenvalue|, dealt out greedily so that
    // each subspace gets Ds of them with a balanced product of variances.
    std::vector<size_t> order(D);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return std::abs(values[a]) > std::abs(values[b]); });
    std::vector<double> log_values(D);
    for (size_t d = 0; d < D; d++) log_values[d] = std::log(std::max(values[order[d]], 0.0) + 1e-10);
    const double lowest = *std::min_element(log_values.begin(), log_values.end());
    double total = 0;
    for (double& v : log_values) total += (v = v - lowest + 1);
    const size_t Ds = D / M;
    const double full = 1e10 + total;
    std::vector<std::vector<size_t>> dims(M);
    std::vector<double> sums(M, 0.0);
    size_t current = 0;
    for (size_t d = 0; d < D; d++) {
        dims[current].push_back(order[d]);
        sums[current] += log_values[d];
        if (dims[current].size() == Ds) sums[current] = full;
        current = size_t(std::min_element(sums.begin(), sums.end()) - sums.begin());
    }
    // Column c of R is the eigenvector of the c-th allocated direction.
    size_t c = 0;
    for (const auto& subspace : dims)
        for (size_t e : subspace) {
            for (size_t r = 0; r < D; r++) R[r * D + c] = float(vectors[r * D + e]);
            c++;
        }
}

void train_opq(const float* x, size_t n, size_t M, size_t Ks, size_t Ds, const OpqTrainOptions& options,
               float* R, float* codewords) {
    check_training_size(n, Ks);
    const size_t D = M * Ds;
    std::vector<float> rotated;  // x @ R
    if (options.parametric_init) {
        eigenvalue_allocation(x, n, D, M, R);
        rotated.resize(n * D);
        matmul_rows(x, n, D, R, rotated.data());
    } else {
        std::fill(R, R + D * D, 0.0f);
        for (size_t i = 0; i < D; i++) R[i * D + i] = 1.0f;
        rotated.assign(x, x + n * D);
    }
    const TrainMonitor* monitor = options.pq.monitor;
    const bool objective = monitor && monitor->objective;
    if (options.rotation_iter > 1) {
        std::vector<float> A(D * D), decoded(objective || M * Ks > n ? n * D : 0);
        const int width = code_width(Ks);
        std::vector<uint8_t> code_bytes(n * M * size_t(width));
        Codes codes{code_bytes.data(), n, M, width};
        const Codebook cb{codewords, M, Ks, Ds};
        TrainOptions one_pass = options.pq;
        one_pass.iter = 1;
        one_pass.monitor = nullptr;
        // Our k-means from the first pass on, whatever Ks: Faiss's ProductQuantizer
        // measured 0.2 s for this pass on Fashion-MNIST, ours 0.1 s.
        initial_codewords(SubVectors::row_major(rotated.data(), M, Ds), n, M, Ks, Ds, options.pq, codewords);
        train(rotated.data(), n, M, Ks, Ds, one_pass, codewords, true);
        for (int it = 0; it + 1 < options.rotation_iter; it++) {
            nearest_codewords(cb, rotated.data(), codes, false);
            if (monitor) {
                if (objective) decode(cb, codes, decoded.data());
                monitor->step({"rotation", it + 1, options.rotation_iter - 1,
                               objective ? squared_error(rotated.data(), decoded.data(), n * D) : NAN});
            }
            // A Procrustes step, then the k-means update in the new rotation
            // (each codeword becomes the mean of the rotated vectors its code
            // holds), from per-code sums of x when there are fewer of them (M Ks)
            // than rows, else from the decoded rows and the rotated ones.
            const bool from_code_sums = M * Ks <= n;
            CodeSums x_sums;
            if (from_code_sums) {
                x_sums = sum_by_code(SubVectors::row_major(x, M, Ds), codes, Ds, Ks, true);
                cross_covariance(x_sums.sums, cb, A.data());
            } else {
                decode(cb, codes, decoded.data());
                matmul(x, D, n, decoded.data(), D, A.data(), false, true);
            }
            procrustes(A.data(), D, R);
            matmul_rows(x, n, D, R, rotated.data());
            const CodeSums sums = from_code_sums
                                      ? CodeSums{rotated_sums(x_sums.sums, R, M, Ks, Ds), std::move(x_sums.counts)}
                                      : sum_by_code(SubVectors::row_major(rotated.data(), M, Ds), codes, Ds, Ks, false);
            centroids_from_sums(sums.sums.data(), sums.counts.data(), M, Ks, Ds, codewords);
        }
    }
    train(rotated.data(), n, M, Ks, Ds, options.pq, codewords, options.rotation_iter > 1);
}

}  // namespace nanopq
