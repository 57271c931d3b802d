// Dense linear algebra over row-major float32 matrices, by BLAS/LAPACK.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace nanopq {

// C (rows, cols) = A (rows, inner) @ B (inner, cols); with transpose_b, B is
// (cols, inner) and read as B^T; with transpose_a, A is (inner, rows), read as A^T.
void matmul(const float* A, size_t rows, size_t inner, const float* B, size_t cols, float* C,
            bool transpose_b = false, bool transpose_a = false);

// The mean of the n rows of x (n, d).
std::vector<float> column_mean(const float* x, size_t n, size_t d);

// x (n, d) minus `mean` (d,) from every row.
std::vector<float> centered(const float* x, size_t n, size_t d, const std::vector<float>& mean);

// Mean (d,) and covariance (d, d), with n - 1 in the denominator as np.cov.
void covariance(const float* x, size_t n, size_t d, std::vector<float>& mean, std::vector<double>& cov);

// Eigenvalues (ascending) and eigenvectors (column j of the row-major (d, d)
// `vectors` goes with value j) of a symmetric matrix.
void symmetric_eigen(const std::vector<double>& a, size_t d, std::vector<double>& values,
                     std::vector<double>& vectors);

// The orthonormal R (d, d) that maximises trace(R^T A): U V^T for A = U S V^T,
// the solution of the orthogonal Procrustes problem min ||X R - Y|| with A = X^T Y.
void procrustes(const float* A, size_t d, float* R);

// max |R^T R - I| over the entries, for R (d, d).
float orthonormality_error(const float* R, size_t d);

// OpenBLAS's thread pool and fork() do not mix: OpenBLAS stops its pool in
// a pthread_atfork handler before every fork (Node forks for every child
// process, from any thread), so a BLAS call running on another thread at
// that moment waits for ever, and two threads forking at once deadlock in
// that handler. This makes OpenBLAS (when it is the BLAS Faiss linked) run
// every call on the calling thread, for the whole process, and makes forks
// wait for one another. The addon splits rows between its own threads where
// that matters (for_row_blocks). Also what keeps OPQ's R the same at any
// thread count: OpenBLAS's threads split products and LAPACK's SVD in ways
// that change the last bits. Called once per load; only the first call acts.
void keep_blas_on_calling_thread();

// The kernels OpenBLAS chose for this CPU ("Haswell", "SkylakeX", ...), or ""
// for another BLAS.
std::string blas_kernels();

// y (n, d) = x @ R, a product per block of for_row_blocks: the same result
// whatever the number of threads.
void matmul_rows(const float* x, size_t n, size_t d, const float* R, float* y);

}  // namespace nanopq
