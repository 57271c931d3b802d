#include "linalg.h"

#include <pthread.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "blas.h"
#include "parallel.h"

namespace nanopq {

namespace {

int blas_int(size_t v) {
    if (v > 0x7fffffff) throw std::length_error("matrix dimension exceeds BLAS's int range");
    return int(v);
}

void check_info(int info, const char* routine) {
    if (info != 0) throw std::runtime_error(std::string(routine) + " failed (info " + std::to_string(info) + ")");
}

}  // namespace

void matmul(const float* A, size_t rows, size_t inner, const float* B, size_t cols, float* C, bool transpose_b,
            bool transpose_a) {
    if (rows == 0 || cols == 0) return;
    if (inner == 0) {
        std::fill(C, C + rows * cols, 0.0f);
        return;
    }
    // Row-major C = A B is column-major C^T = B^T A^T: BLAS sees our arrays transposed.
    const int m = blas_int(cols), n = blas_int(rows), k = blas_int(inner);
    const float one = 1, zero = 0;
    const int ldb = transpose_b ? k : m, lda = transpose_a ? n : k;
    sgemm_(transpose_b ? "T" : "N", transpose_a ? "T" : "N", &m, &n, &k, &one, B, &ldb, A, &lda, &zero, C, &m);
}

std::vector<float> column_mean(const float* x, size_t n, size_t d) {
    std::vector<double> sum(d, 0.0);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) sum[j] += x[i * d + j];
    std::vector<float> mean(d);
    for (size_t j = 0; j < d; j++) mean[j] = float(sum[j] / double(std::max<size_t>(n, 1)));
    return mean;
}

std::vector<float> centered(const float* x, size_t n, size_t d, const std::vector<float>& mean) {
    std::vector<float> out(n * d);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) out[i * d + j] = x[i * d + j] - mean[j];
    return out;
}

void covariance(const float* x, size_t n, size_t d, std::vector<float>& mean, std::vector<double>& cov) {
    mean = column_mean(x, n, d);
    const std::vector<float> xc = centered(x, n, d, mean);
    // xc^T xc: (d, n) @ (n, d), with the (n, d) array read as its own transpose.
    std::vector<float> gram(d * d);
    const int di = blas_int(d), ni = blas_int(n);
    const float one = 1, zero = 0;
    sgemm_("N", "T", &di, &di, &ni, &one, xc.data(), &di, xc.data(), &di, &zero, gram.data(), &di);
    cov.resize(d * d);
    const double denominator = double(std::max<size_t>(n, 2) - 1);
    for (size_t i = 0; i < d * d; i++) cov[i] = gram[i] / denominator;
}

void symmetric_eigen(const std::vector<double>& a, size_t d, std::vector<double>& values,
                     std::vector<double>& vectors) {
    // LAPACK's column-major result is the transpose of what we want; a is symmetric.
    std::vector<double> work_matrix(a);
    values.resize(d);
    const int n = blas_int(d);
    int lwork = -1, info = 0;
    double size = 0;
    dsyev_("V", "U", &n, work_matrix.data(), &n, values.data(), &size, &lwork, &info);
    check_info(info, "dsyev");
    lwork = int(size);
    std::vector<double> work(std::max(lwork, 1));
    dsyev_("V", "U", &n, work_matrix.data(), &n, values.data(), work.data(), &lwork, &info);
    check_info(info, "dsyev");
    vectors.resize(d * d);
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) vectors[i * d + j] = work_matrix[j * d + i];
}

void procrustes(const float* A, size_t d, float* R) {
    // Read as column-major, our row-major A is A^T = V S U^T: LAPACK returns
    // U' = V and VT' = U^T, and the column-major product U' VT' = V U^T read
    // back row-major is its transpose, U V^T = R.
    std::vector<float> a(A, A + d * d), s(d), u(d * d), vt(d * d);
    std::vector<int> iwork(8 * d);
    const int n = blas_int(d);
    int lwork = -1, info = 0;
    float size = 0;
    sgesdd_("A", &n, &n, a.data(), &n, s.data(), u.data(), &n, vt.data(), &n, &size, &lwork, iwork.data(), &info);
    check_info(info, "sgesdd");
    lwork = int(size);
    std::vector<float> work(std::max(lwork, 1));
    sgesdd_("A", &n, &n, a.data(), &n, s.data(), u.data(), &n, vt.data(), &n, work.data(), &lwork, iwork.data(),
            &info);
    check_info(info, "sgesdd");
    const float one = 1, zero = 0;
    sgemm_("N", "N", &n, &n, &n, &one, u.data(), &n, vt.data(), &n, &zero, R, &n);
}

float orthonormality_error(const float* R, size_t d) {
    std::vector<float> gram(d * d);
    matmul(R, d, d, R, d, gram.data(), true);  // R R^T: for a square R, I exactly when R^T R is
    float worst = 0;
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) worst = std::max(worst, std::fabs(gram[i * d + j] - (i == j ? 1.0f : 0.0f)));
    return worst;
}

}  // namespace nanopq

// OpenBLAS's thread control, declared weak: it resolves to an OpenBLAS linked
// in, shared or static (the prebuilt addon holds one whose symbols are hidden,
// which dlsym cannot see), and is null for another BLAS (reference BLAS, MKL),
// which is left as it is.
extern "C" void openblas_set_num_threads(int) __attribute__((weak));

namespace nanopq {

namespace {
pthread_mutex_t forking = PTHREAD_MUTEX_INITIALIZER;
void lock_forking() { pthread_mutex_lock(&forking); }
void unlock_forking() { pthread_mutex_unlock(&forking); }
}  // namespace

void keep_blas_on_calling_thread() {
    static const bool done = [] {  // once per process (a static's initialisation)
        if (!openblas_set_num_threads) return false;
        openblas_set_num_threads(1);
        // OpenBLAS registers its handler when it loads, before this: prepare
        // handlers run in the reverse order, so this lock is taken first.
        pthread_atfork(lock_forking, unlock_forking, unlock_forking);
        return true;
    }();
    (void)done;
}

void matmul_rows(const float* x, size_t n, size_t d, const float* R, float* y, bool transpose_R) {
    for_row_blocks(n, SIZE_MAX, [&](size_t first, size_t last) {
        matmul(x + first * d, last - first, d, R, d, y + first * d, transpose_R);
    }, n * d >= 65536);
}

}  // namespace nanopq
