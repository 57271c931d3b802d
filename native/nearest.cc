#include "nearest.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <faiss/utils/distances.h>

#include "parallel.h"

namespace nanopq {

namespace {

// Distances are |c'|^2 / 2 - x'.c' (half the squared distance less |x'|^2 / 2,
// which does not change the argmin), with x' and c' centred on the subspace's
// codeword mean: uncentred, that difference loses the distances of data far
// from the origin. A tile of R rows is compared with one panel of 2W
// codewords at a time; the R x 2W dot products stay in vector registers, so
// nothing of size n x Ks is written. BLAS (Faiss's knn_L2sqr), which writes
// and rereads that matrix, measured 3x slower: 128 against 38 ms for the 8
// subspaces of 20,000 x 784 against 256 codewords each (2 cores, AVX-512).
#define NANOPQ_INLINE inline __attribute__((always_inline))

template <int W>
struct Simd {
    typedef float F __attribute__((vector_size(W * sizeof(float))));
    typedef int32_t I __attribute__((vector_size(W * sizeof(int32_t))));
    // What loads read floats as: any alignment, and allowed to alias them.
    typedef float Unaligned __attribute__((vector_size(W * sizeof(float)), aligned(4), may_alias));
};

// One subspace's codewords for the kernel: centred, and in panels of `width`
// codewords, each stored dimension by dimension (Ds rows of `width` floats),
// so that a panel is read contiguously. Padding codewords have an infinite
// half norm and are never nearest.
struct Panels {
    size_t Ds, width, count;
    std::vector<float> mean, values, half_norms;
    float largest_norm = 0;  // max |c'|^2

    Panels(const float* codewords, size_t Ks, size_t Ds, size_t width)
        : Ds(Ds), width(width), count((Ks + width - 1) / width), mean(Ds, 0.0f),
          values(count * Ds * width, 0.0f), half_norms(count * width, INFINITY) {
        std::vector<double> sum(Ds, 0.0);
        for (size_t k = 0; k < Ks; k++)
            for (size_t j = 0; j < Ds; j++) sum[j] += codewords[k * Ds + j];
        for (size_t j = 0; j < Ds; j++) mean[j] = float(sum[j] / double(Ks));
        for (size_t k = 0; k < Ks; k++) {
            float* panel = values.data() + (k / width) * Ds * width + k % width;
            float norm = 0;
            for (size_t j = 0; j < Ds; j++) {
                const float c = codewords[k * Ds + j] - mean[j];
                panel[j * width] = c;
                norm += c * c;
            }
            half_norms[k] = norm / 2;
            largest_norm = std::max(largest_norm, norm);
        }
    }
};

// What the kernel finds for each row: the nearest codeword and its value
// and, when settling near ties, the runner-up (the next smallest value, of
// another codeword or of a tie) and its codeword.
struct Found {
    int32_t* nearest;
    float* value;
    int32_t* runner_up;
    float* runner_up_value;
};

// Found for R centred rows (R x Ds, contiguous), into found[0, R).
template <int W, int R, bool Settle>
NANOPQ_INLINE void nearest_in_tile(const float* rows, const Panels& p, Found found) {
    typedef typename Simd<W>::F F;
    typedef typename Simd<W>::I I;
    typedef const typename Simd<W>::Unaligned* Load;
    constexpr int V = 2, width = V * W;  // vectors per panel: wider measured no faster
    F best[R], second[R];
    I best_k[R], second_k[R];
    for (int r = 0; r < R; r++) {
        best[r] = second[r] = F{} + INFINITY;
        best_k[r] = second_k[r] = I{};
    }
    I lane;
    for (int l = 0; l < W; l++) lane[l] = l;
    for (size_t q = 0; q < p.count; q++) {
        F dot[R][V];
        for (int r = 0; r < R; r++)
            for (int v = 0; v < V; v++) dot[r][v] = F{};
        const float* c = p.values.data() + q * p.Ds * width;
        for (size_t j = 0; j < p.Ds; j++, c += width) {
            F cj[V];
            for (int v = 0; v < V; v++) cj[v] = *Load(c + v * W);
            for (int r = 0; r < R; r++) {
                const float xj = rows[r * p.Ds + j];  // a scalar operand is broadcast
                for (int v = 0; v < V; v++) dot[r][v] += xj * cj[v];
            }
        }
        for (int v = 0; v < V; v++) {
            const F half_norm = *Load(&p.half_norms[q * width + v * W]);
            const I k = lane + int32_t(q * width + v * W);
            for (int r = 0; r < R; r++) {
                const F d = half_norm - dot[r][v];
                const I closer = d < best[r];
                if (Settle) {
                    const I second_closer = d < second[r];
                    second[r] = closer ? best[r] : second_closer ? d : second[r];
                    second_k[r] = closer ? best_k[r] : second_closer ? k : second_k[r];
                }
                best[r] = closer ? d : best[r];
                best_k[r] = closer ? k : best_k[r];
            }
        }
    }
    // Lowest value, then lowest codeword, over the lanes.
    auto better = [](float d, int32_t k, float than_d, int32_t than_k) { return d < than_d || (d == than_d && k < than_k); };
    for (int r = 0; r < R; r++) {
        int winner = 0;
        for (int l = 1; l < W; l++)
            if (better(best[r][l], best_k[r][l], best[r][winner], best_k[r][winner])) winner = l;
        found.nearest[r] = best_k[r][winner];
        found.value[r] = best[r][winner];
        if (!Settle) continue;
        float runner_up_value = INFINITY;
        int32_t runner_up = 0;
        for (int l = 0; l < W; l++) {
            if (better(second[r][l], second_k[r][l], runner_up_value, runner_up)) {
                runner_up_value = second[r][l];
                runner_up = second_k[r][l];
            }
            if (l != winner && better(best[r][l], best_k[r][l], runner_up_value, runner_up)) {
                runner_up_value = best[r][l];
                runner_up = best_k[r][l];
            }
        }
        found.runner_up[r] = runner_up;
        found.runner_up_value[r] = runner_up_value;
    }
}

// Rows [0, n) of one subspace of x (row stride ldx). `scratch` holds R * Ds floats.
template <int W, int R, bool Settle>
NANOPQ_INLINE void nearest_in_rows(const float* x, size_t ldx, size_t n, const Panels& p, float* scratch,
                                   Found found) {
    int32_t nearest[R], runner_up[R];
    float value[R], runner_up_value[R];
    for (size_t i0 = 0; i0 < n; i0 += R) {
        const size_t rows = std::min<size_t>(R, n - i0);
        for (size_t r = 0; r < size_t(R); r++) {  // a short last tile repeats its last row
            const float* in = x + (i0 + std::min(r, rows - 1)) * ldx;
            for (size_t j = 0; j < p.Ds; j++) scratch[r * p.Ds + j] = in[j] - p.mean[j];
        }
        nearest_in_tile<W, R, Settle>(scratch, p, {nearest, value, runner_up, runner_up_value});
        std::copy(nearest, nearest + rows, found.nearest + i0);
        std::copy(value, value + rows, found.value + i0);
        if (!Settle) continue;
        std::copy(runner_up, runner_up + rows, found.runner_up + i0);
        std::copy(runner_up_value, runner_up_value + rows, found.runner_up_value + i0);
    }
}

using RowsKernel = void (*)(const float*, size_t, size_t, const Panels&, float*, Found);

struct Kernel {
    const char* name;
    RowsKernel run, run_settling;
    size_t width;  // codewords per panel: 2W
    size_t rows;   // R
};

#if defined(__x86_64__) || defined(__i386__)
template <bool Settle>
__attribute__((target("avx512f"))) void rows_avx512(const float* x, size_t ldx, size_t n, const Panels& p,
                                                    float* scratch, Found found) {
    nearest_in_rows<16, 8, Settle>(x, ldx, n, p, scratch, found);
}
template <bool Settle>
__attribute__((target("avx2,fma"))) void rows_avx2(const float* x, size_t ldx, size_t n, const Panels& p,
                                                   float* scratch, Found found) {
    nearest_in_rows<8, 4, Settle>(x, ldx, n, p, scratch, found);
}
#endif
template <bool Settle>
void rows_generic(const float* x, size_t ldx, size_t n, const Panels& p, float* scratch, Found found) {
    nearest_in_rows<4, 4, Settle>(x, ldx, n, p, scratch, found);
}

// The widest kernel this CPU runs (registers: 16 + 2 + 1 of 32 zmm, 8 + 2 + 1
// of 16 ymm), or no wider than NANOPQ_SIMD says ("avx2" or "generic"), so that
// tests reach every kernel on one machine.
Kernel choose_kernel() {
    const char* limit = std::getenv("NANOPQ_SIMD");
    const std::string at_most = limit ? limit : "";
#if defined(__x86_64__) || defined(__i386__)
    if (at_most != "avx2" && at_most != "generic" && __builtin_cpu_supports("avx512f"))
        return {"avx512", rows_avx512<false>, rows_avx512<true>, 32, 8};
    if (at_most != "generic" && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return {"avx2", rows_avx2<false>, rows_avx2<true>, 16, 4};
#endif
    return {"generic", rows_generic<false>, rows_generic<true>, 8, 4};
}

const Kernel& kernel() {
    static const Kernel chosen = choose_kernel();
    return chosen;
}

}  // namespace

void nearest_codewords(const Codebook& cb, const float* x, Codes codes, bool settle_near_ties, float* distances) {
    codes.check_capacity(cb.Ks);
    if (cb.Ks > size_t(INT32_MAX)) throw RangeError("Expected Ks < 2**31");
    const Kernel& kernel = nanopq::kernel();
    const size_t D = cb.M * cb.Ds, block = 256, blocks = (codes.n + block - 1) / block;
    // A value of the kernel is off by at most Ds eps (|c'|^2 / 2 + |x'| |c'|)
    // (sums of Ds rounded products): a runner-up within twice that may be the
    // nearest, and exact differences decide between the two, as nanopq's
    // encoder computes them.
    const float eps = std::numeric_limits<float>::epsilon() * float(cb.Ds);
    if (distances) std::fill(distances, distances + codes.n, 0.0f);
    for (size_t m = 0; m < cb.M; m++) {
        const float* codewords = cb.codewords + m * cb.Ks * cb.Ds;
        const Panels panels(codewords, cb.Ks, cb.Ds, kernel.width);
        const float largest = std::sqrt(panels.largest_norm);
        parallel_for(int64_t(blocks), [&](int64_t b) {
            const size_t i0 = size_t(b) * block, n = std::min(block, codes.n - i0);
            std::vector<float> scratch(kernel.rows * cb.Ds), value(n), runner_up_value(n);
            std::vector<int32_t> nearest(n), runner_up(n);
            (settle_near_ties ? kernel.run_settling : kernel.run)(
                x + i0 * D + m * cb.Ds, D, n, panels, scratch.data(),
                {nearest.data(), value.data(), runner_up.data(), runner_up_value.data()});
            for (size_t i = 0; i < n; i++) {
                if (!(value[i] < INFINITY)) throw RangeError("Expected vectors whose squared distances fit in float32");
                if (!settle_near_ties && !distances) continue;
                const float* in = x + (i0 + i) * D + m * cb.Ds;
                float norm = 0;  // |x'|^2
                for (size_t j = 0; j < cb.Ds; j++) norm += (in[j] - panels.mean[j]) * (in[j] - panels.mean[j]);
                if (distances) distances[i0 + i] += 2 * value[i] + norm;  // |x' - c'|^2
                if (settle_near_ties &&
                    runner_up_value[i] - value[i] <= eps * largest * (largest + 2 * std::sqrt(norm))) {
                    const float nearest_distance = faiss::fvec_L2sqr(in, codewords + nearest[i] * cb.Ds, cb.Ds),
                                runner_up_distance = faiss::fvec_L2sqr(in, codewords + runner_up[i] * cb.Ds, cb.Ds);
                    if (runner_up_distance < nearest_distance ||
                        (runner_up_distance == nearest_distance && runner_up[i] < nearest[i]))
                        nearest[i] = runner_up[i];
                }
            }
            codes.visit([&](auto* out) {
                using Code = std::remove_pointer_t<decltype(out)>;
                for (size_t i = 0; i < n; i++) out[(i0 + i) * cb.M + m] = Code(nearest[i]);
            });
        });
    }
}

const char* nearest_kernel_name() { return kernel().name; }

}  // namespace nanopq
