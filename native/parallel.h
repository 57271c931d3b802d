// How many threads the addon's parallel work uses, and an OpenMP loop whose
// body may throw.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>

namespace nanopq {

// The number of threads set by setNumThreads(); at first OMP_NUM_THREADS, else
// the number of cores. One value for the whole process, every JavaScript
// thread and worker included.
int num_threads();
void set_num_threads(int n);

// Makes Faiss's and our OpenMP regions on the calling thread use
// num_threads(): OpenMP keeps that count per thread, and async work runs on
// libuv's threads, not on the one that called setNumThreads().
void use_num_threads();

// body(i) for i in [0, n), on num_threads() threads when `parallel` (else on
// the calling thread, with no parallel region: a small call should not wake a
// team of threads). An exception cannot leave an OpenMP region (the runtime
// calls std::terminate), so the first one is kept and rethrown after the loop.
template <typename Body>
void parallel_for(int64_t n, Body&& body, bool parallel = true) {
    if (!parallel || n < 2) {
        for (int64_t i = 0; i < n; i++) body(i);
        return;
    }
    std::exception_ptr error;
#pragma omp parallel for num_threads(num_threads())
    for (int64_t i = 0; i < n; i++) {
        try {
            body(i);
        } catch (...) {
#pragma omp critical(nanopq_parallel_for)
            if (!error) error = std::current_exception();
        }
    }
    if (error) std::rethrow_exception(error);
}

// body(first, last) for blocks of consecutive rows that cover [0, n), of
// sizes that differ by one at most: one block a thread of num_threads() when
// `parallel`, but none of fewer than min_rows rows (Faiss's distances change
// method below a number of rows), and more blocks when the threads' blocks
// together would pass max_rows (which bounds the memory a call uses).
template <typename Body>
void for_row_blocks(size_t n, size_t max_rows, Body&& body, bool parallel = true, size_t min_rows = 1) {
    if (n == 0) return;
    const size_t threads = parallel ? size_t(num_threads()) : 1;
    const size_t rows_at_once = std::max<size_t>(1, max_rows / threads);
    const size_t blocks = std::max({size_t(1), std::min(threads, n / std::max<size_t>(min_rows, 1)),
                                    n / rows_at_once + (n % rows_at_once != 0)});
    parallel_for(int64_t(blocks), [&](int64_t block) {
        body(n * size_t(block) / blocks, n * size_t(block + 1) / blocks);
    }, threads > 1);
}

}  // namespace nanopq
