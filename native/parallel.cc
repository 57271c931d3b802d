#include "parallel.h"

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

}  // namespace nanopq
