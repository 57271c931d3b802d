#include "kernels/parallel.h"

#include <omp.h>

#include <algorithm>
#include <atomic>

namespace nanopq {

namespace {
// omp_get_max_threads() on the thread that loads the addon honours OMP_NUM_THREADS.
std::atomic<int> threads{std::max(1, omp_get_max_threads())};
}  // namespace

int num_threads() { return threads.load(std::memory_order_relaxed); }

void set_num_threads(int n) {
    threads.store(std::max(1, n), std::memory_order_relaxed);
    use_num_threads();
}

void use_num_threads() { omp_set_num_threads(num_threads()); }

size_t rows_per_block(size_t floats_per_row) {
    return std::max<size_t>(1, (size_t(64) << 20) / (sizeof(float) * std::max<size_t>(floats_per_row, 1)));
}

}  // namespace nanopq
