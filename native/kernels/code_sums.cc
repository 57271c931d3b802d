#include "kernels/code_sums.h"

#include "kernels/parallel.h"

namespace nanopq {

CodeSums sum_by_code(SubVectors x, Codes codes, size_t Ds, size_t Ks, bool whole_rows) {
    const size_t M = codes.M, D = M * Ds, width = whole_rows ? D : Ds;
    CodeSums out{std::vector<float>(M * Ks * width, 0.0f), std::vector<uint32_t>(M * Ks, 0)};
    // Each thread owns a range of the (m, k) slots and adds up their rows in
    // row order, as Faiss's compute_centroids: one copy of the sums, the same
    // whatever the number of threads (and faster than sums per thread added
    // up after, or columns per thread).
    const size_t slots = M * Ks, threads = size_t(num_threads());
    parallel_for(int64_t(threads), [&](int64_t t) {
        const size_t first = slots * size_t(t) / threads, last = slots * size_t(t + 1) / threads;
        codes.visit([&](const auto* in) {
            for (size_t i = 0; i < codes.n; i++)
                for (size_t m = 0; m < M; m++) {
                    const size_t slot = m * Ks + in[i * M + m];
                    if (slot < first || slot >= last) continue;
                    out.add(slot, x.at(i, whole_rows ? 0 : m), width);
                }
        });
    }, codes.n * D >= 65536);
    return out;
}

}  // namespace nanopq
