// Dense linear algebra over row-major float32 matrices, by BLAS/LAPACK.
#pragma once

#include <cstddef>
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

// While one lives, OpenBLAS (when it is the BLAS Faiss linked) runs on the
// calling thread only: its threads split products and LAPACK's SVD in ways
// that change the last bits of the result, so that OPQ's R would depend on
// the thread count. Process-wide, as OpenBLAS's own setting is.
class SingleThreadedBlas {
public:
    SingleThreadedBlas();
    ~SingleThreadedBlas();
    SingleThreadedBlas(const SingleThreadedBlas&) = delete;
    SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

private:
    int previous_;
};

// y (n, d) = x @ R by blocks of rows, one block a thread, each product on one
// thread: the same result whatever the number of threads.
void matmul_rows(const float* x, size_t n, size_t d, const float* R, float* y);

}  // namespace nanopq
