#include "opq_ops.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <vector>

#include "linalg.h"
#include "parallel.h"

namespace nanopq {

namespace {

// A = x^T decode(codes) (D, D) without decoding: block m of A's columns is
// S_m^T C_m, where row k of S_m (Ks, D) sums the x that subspace m assigns
// to codeword k, and C_m (Ks, Ds) holds subspace m's codewords.
void cross_covariance(const float* x, const Codebook& cb, Codes codes, float* A) {
    const size_t D = cb.M * cb.Ds;
    parallel_for(int64_t(cb.M), [&](int64_t m) {
        std::vector<float> sums(cb.Ks * D, 0.0f);
        codes.visit([&](const auto* in) {
            for (size_t i = 0; i < codes.n; i++) {
                float* s = &sums[size_t(in[i * cb.M + m]) * D];
                const float* xi = x + i * D;
                for (size_t j = 0; j < D; j++) s[j] += xi[j];
            }
        });
        // t (Ds, D) = C_m^T S_m is the transpose of the block S_m^T C_m.
        std::vector<float> t(cb.Ds * D), cm_t(cb.Ds * cb.Ks);
        const float* cm = cb.codewords + m * cb.Ks * cb.Ds;
        for (size_t k = 0; k < cb.Ks; k++)
            for (size_t j = 0; j < cb.Ds; j++) cm_t[j * cb.Ks + k] = cm[k * cb.Ds + j];
        matmul(cm_t.data(), cb.Ds, cb.Ks, sums.data(), D, t.data());
        for (size_t r = 0; r < D; r++)
            for (size_t j = 0; j < cb.Ds; j++) A[r * D + m * cb.Ds + j] = t[j * D + r];
    });
}

void update_codewords(const float* x, Codes codes, size_t Ds, size_t Ks, float* codewords) {
    const size_t M = codes.M, D = M * Ds;
    parallel_for(int64_t(M), [&](int64_t m) {
        std::vector<double> sums(Ks * Ds, 0.0);
        std::vector<size_t> counts(Ks, 0);
        codes.visit([&](const auto* in) {
            for (size_t i = 0; i < codes.n; i++) {
                const size_t k = in[i * M + m];
                counts[k]++;
                for (size_t j = 0; j < Ds; j++) sums[k * Ds + j] += x[i * D + m * Ds + j];
            }
        });
        for (size_t k = 0; k < Ks; k++)
            if (counts[k])
                for (size_t j = 0; j < Ds; j++)
                    codewords[(m * Ks + k) * Ds + j] = float(sums[k * Ds + j] / double(counts[k]));
    });
}

double squared_error(const float* x, const float* y, size_t count) {
    double e = 0;
    for (size_t i = 0; i < count; i++) e += double(x[i] - y[i]) * double(x[i] - y[i]);
    return e;
}

}  // namespace

void rotate(const float* x, size_t n, size_t D, const float* R, bool inverse, float* y) {
    matmul(x, n, D, R, D, y, inverse);
}

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
    const size_t D = M * Ds;
    if (options.parametric_init) {
        eigenvalue_allocation(x, n, D, M, R);
    } else {
        std::fill(R, R + D * D, 0.0f);
        for (size_t i = 0; i < D; i++) R[i * D + i] = 1.0f;
    }
    std::vector<float> rotated(n * D);
    rotate(x, n, D, R, false, rotated.data());
    if (options.rotation_iter > 1) {
        std::vector<float> A(D * D);
        const int width = code_width(Ks);
        std::vector<uint8_t> code_bytes(n * M * size_t(width));
        Codes codes{code_bytes.data(), n, M, width};
        const Codebook cb{codewords, M, Ks, Ds};
        TrainOptions one_pass = options.pq;
        one_pass.iter = 1;
        one_pass.verbose = false;
        train(rotated.data(), n, M, Ks, Ds, one_pass, codewords);
        for (int it = 0; it + 1 < options.rotation_iter; it++) {
            encode(cb, rotated.data(), codes);
            if (options.pq.verbose) {
                std::vector<float> decoded(n * D);
                decode(cb, codes, decoded.data());
                std::printf("OPQ rotation training: %d / %d, reconstruction error %g\n", it, options.rotation_iter,
                            std::sqrt(squared_error(rotated.data(), decoded.data(), n * D)));
            }
            cross_covariance(x, cb, codes, A.data());
            procrustes(A.data(), D, R);
            rotate(x, n, D, R, false, rotated.data());
            // The k-means update in the new rotation: each codeword becomes the
            // mean of the rotated vectors its code holds (unused ones stay).
            update_codewords(rotated.data(), codes, Ds, Ks, codewords);
        }
    }
    if (options.pq.verbose) std::printf("OPQ final PQ training: %d iterations\n", options.pq.iter);
    train(rotated.data(), n, M, Ks, Ds, options.pq, codewords, options.rotation_iter > 1);
}

void encode_rotated(const Codebook& cb, const float* R, const float* x, Codes codes) {
    const size_t D = cb.M * cb.Ds, rows = rows_per_block(D);
    std::vector<float> rotated(std::min(codes.n, rows) * D);
    for (size_t i0 = 0; i0 < codes.n; i0 += rows) {
        const size_t nb = std::min(rows, codes.n - i0);
        rotate(x + i0 * D, nb, D, R, false, rotated.data());
        encode(cb, rotated.data(), codes.rows(i0, nb));
    }
}

void decode_rotated(const Codebook& cb, const float* R, Codes codes, float* x) {
    const size_t D = cb.M * cb.Ds, rows = rows_per_block(D);
    std::vector<float> decoded(std::min(codes.n, rows) * D);
    for (size_t i0 = 0; i0 < codes.n; i0 += rows) {  // decode() checks each block's codes
        const size_t nb = std::min(rows, codes.n - i0);
        decode(cb, codes.rows(i0, nb), decoded.data());
        rotate(decoded.data(), nb, D, R, true, x + i0 * D);
    }
}

}  // namespace nanopq
