#include "model/linalg.h"

#include <pthread.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "kernels/parallel.h"
#include "model/blas.h"

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
    sgemm_(transpose_b ? "T" : "N", transpose_a ? "T" : "N", &m, &n, &k, &one, B, &ldb, A, &lda, &zero, C, &m, kOne,
           kOne);
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
    sgemm_("N", "T", &di, &di, &ni, &one, xc.data(), &di, xc.data(), &di, &zero, gram.data(), &di, kOne, kOne);
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
    dsyev_("V", "U", &n, work_matrix.data(), &n, values.data(), &size, &lwork, &info, kOne, kOne);
    check_info(info, "dsyev");
    lwork = int(size);
    std::vector<double> work(std::max(lwork, 1));
    dsyev_("V", "U", &n, work_matrix.data(), &n, values.data(), work.data(), &lwork, &info, kOne, kOne);
    check_info(info, "dsyev");
    vectors.resize(d * d);
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) vectors[i * d + j] = work_matrix[j * d + i];
}

void procrustes(const float* A, size_t d, float* R) {
    // LAPACK's sgesdd in its steps, so that the last two, independent of each
    // other, run on two threads; the same bits as sgesdd, whose workspace
    // (its steps' results depend on its size) each step gets. Read as
    // column-major, our row-major A is A^T = V S U^T: the left singular
    // vectors LAPACK finds are our V, the right ones our U^T.
    const int n = blas_int(d);
    std::vector<float> a(A, A + d * d), s(d), e(d), tauq(d), taup(d), u(d * d), vt(d * d);
    // sgesdd's scaling of a matrix whose largest entry is outside
    // [sqrt(min) / eps, eps / sqrt(min)]; the rotation does not depend on it.
    float largest = 0;
    for (float v : a) {
        if (!std::isfinite(v)) throw std::runtime_error("procrustes: the matrix holds NaN or infinity");
        largest = std::max(largest, std::fabs(v));
    }
    const float small = std::sqrt(std::numeric_limits<float>::min()) / std::numeric_limits<float>::epsilon();
    if (largest > 0 && (largest < small || largest > 1 / small)) {
        const float factor = (largest < small ? small : 1 / small) / largest;
        for (float& v : a) v *= factor;
    }
    // The reflectors (in `reflectors`, as sgebrd leaves them) of each side,
    // applied to the bidiagonal's singular vectors.
    auto reflect = [&](bool left, float* reflectors, float* work, int lwork, int& info) {
        sormbr_(left ? "Q" : "P", left ? "L" : "R", left ? "N" : "T", &n, &n, &n, reflectors, &n,
                left ? tauq.data() : taup.data(), left ? u.data() : vt.data(), &n, work, &lwork, &info, kOne, kOne,
                kOne);
    };
    int info = 0, query = -1;
    float sizes[3] = {0, 0, 0};
    sgebrd_(&n, &n, a.data(), &n, s.data(), e.data(), tauq.data(), taup.data(), &sizes[0], &query, &info);
    reflect(true, a.data(), &sizes[1], query, info);
    reflect(false, a.data(), &sizes[2], query, info);
    const size_t space = std::max({3 * d * d + 4 * d, size_t(sizes[0]), size_t(sizes[1]), size_t(sizes[2])});
    const int lwork = blas_int(space);
    // The other side's, no less than the most sormqr/sormlq use (64 d + 65 * 64,
    // for blocks of at most 64): the same blocks, so the same bits.
    const size_t other_space = std::min(space, 64 * d + 65 * 64);
    const int other_lwork = blas_int(other_space);
    std::vector<float> work(space), other(other_space);
    std::vector<int> iwork(8 * d);
    sgebrd_(&n, &n, a.data(), &n, s.data(), e.data(), tauq.data(), taup.data(), work.data(), &lwork, &info);
    check_info(info, "sgebrd");
    sbdsdc_("U", "I", &n, s.data(), e.data(), u.data(), &n, vt.data(), &n, nullptr, nullptr, work.data(),
            iwork.data(), &info, kOne, kOne);
    check_info(info, "sbdsdc");
    // The two sides at once, each with its own copy of the reflectors: LAPACK's
    // sormbr writes to them and restores them (up to 3.12.0, on the diagonal).
    std::vector<float> copy(a);
    parallel_for(2, [&](int64_t side) {
        int status = 0;
        if (side == 0) reflect(true, a.data(), work.data(), lwork, status);
        else reflect(false, copy.data(), other.data(), other_lwork, status);
        check_info(status, "sormbr");
    }, d >= 64);
    // Column-major, LAPACK's U' VT' = V U^T, which read back row-major is its
    // transpose U V^T = R: row-major, vt's rows times u.
    matmul_rows(vt.data(), d, d, u.data(), R);
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
extern "C" char* openblas_get_corename(void) __attribute__((weak));

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

std::string blas_kernels() {
    const char* name = openblas_get_corename ? openblas_get_corename() : nullptr;
    return name ? name : "";
}

void matmul_rows(const float* x, size_t n, size_t d, const float* R, float* y) {
    for_row_blocks(n, d * d, [&](size_t first, size_t last) {
        matmul(x + first * d, last - first, d, R, d, y + first * d);
    });
}

}  // namespace nanopq
