// How many threads the addon's parallel work uses, an OpenMP loop whose body
// may throw, and rows cut into blocks (for threads, and for memory).
#pragma once

#include <algorithm>
#include <cstddef>
#include <atomic>
#include <cstdint>
#include <exception>

#include <omp.h>

namespace nanopq {

// The number of threads set by setNumThreads(); at first OMP_NUM_THREADS, else
// the number of cores. One value for the whole process, every JavaScript
// thread and worker included.
int num_threads();
void set_num_threads(int n);

// The threads a parallel region started on the calling thread may keep
// busy: num_threads(), or on a thread running an async call (AsyncCall), its
// share of them while other async calls run, at least one. Async calls that
// each took every core would run core-count threads a call, each team's
// threads waiting on the others' to reach a barrier.
int fair_share();
// Whether the calling thread runs an async call; the share of one; a pause
// (a fraction of a millisecond) of a thread beyond it.
bool in_async_call();
int async_share();
void wait_for_share();

// Makes Faiss's and our OpenMP regions on the calling thread use
// fair_share(): OpenMP keeps that count per thread, and async work runs on
// libuv's threads, not on the one that called setNumThreads().
void use_num_threads();

// Marks the calling thread as running an async call while it lives; the
// async calls running share the cores (fair_share).
class AsyncCall {
public:
    AsyncCall();
    ~AsyncCall();
    AsyncCall(const AsyncCall&) = delete;
    AsyncCall& operator=(const AsyncCall&) = delete;
};

// Lowers the calling thread, and the OpenMP threads of its parallel regions,
// to a background priority (nice +10 on Linux, where each thread has its own;
// nothing elsewhere): for the threads that run async calls (libuv's pool), so
// that the threads running JavaScript, whose event loops must answer in
// milliseconds, are not kept waiting for a core by the work they started. A
// thread lowered stays lowered: raising it back needs CAP_SYS_NICE. JavaScript
// threads never call this, and the OpenMP threads of their regions are theirs
// alone (an OpenMP runtime keeps a pool of threads per thread that starts regions).
void run_in_background();

// body(i) for i in [0, n), on num_threads() threads when `parallel` (else on
// the calling thread, with no parallel region: a small call should not wake a
// team of threads). Threads take the next i as they finish one. In an async
// call, the threads beyond its fair share wait (polling) while other async
// calls run, and take work again when they end: the calls running share the
// cores, and one left alone gets them all back. An exception cannot leave an
// OpenMP region (the runtime calls std::terminate), so the first one is kept
// and rethrown after the loop.
template <typename Body>
void parallel_for(int64_t n, Body&& body, bool parallel = true) {
    if (!parallel || n < 2) {
        for (int64_t i = 0; i < n; i++) body(i);
        return;
    }
    std::exception_ptr error;
    std::atomic<int64_t> next{0};
    const bool shared = in_async_call();  // asked here: the team's other threads are not this one
#pragma omp parallel num_threads(int(std::min<int64_t>(num_threads(), n)))
    {
        const int me = omp_get_thread_num();  // thread 0 is always within a share
        for (;;) {
            if (shared && me >= async_share()) {
                if (next.load(std::memory_order_relaxed) >= n) break;
                wait_for_share();
                continue;
            }
            const int64_t i = next.fetch_add(1);
            if (i >= n) break;
            try {
                body(i);
            } catch (...) {
#pragma omp critical(nanopq_parallel_for)
                if (!error) error = std::current_exception();
            }
        }
    }
    if (error) std::rethrow_exception(error);
}

// body(i, i + 1) for each i in [0, n), the calling thread taking them from
// the front and the small-call helper from the back until they meet: one
// thread kept for calls of microseconds (one query's distance table, one
// vector's codes) that read more than a core's L2 holds. An OpenMP team would
// sleep between such calls (the addon loads OpenMP passive: busy threads
// starved the BLAS ones) and take tens of microseconds to wake. The helper
// spins for a short while after each call, so calls in a row find it awake,
// and each thread reads about the same half of a codebook every call, which
// stays in its core's L2. The caller takes every part itself when the helper
// is busy with another caller's or asleep, when num_threads() is 1, and in
// async calls (their threads share the cores already). The first exception
// stops both and is rethrown.
void split_with_helper(size_t n, void (*run)(const void* body, size_t first, size_t last), const void* body);
template <typename Body>
void with_helper(size_t n, const Body& body) {
    split_with_helper(n, [](const void* b, size_t first, size_t last) { (*static_cast<const Body*>(b))(first, last); },
                      &body);
}

// The most blocks for_row_blocks cuts rows into: a number that 1, 2, 3, 4
// and 6 threads share evenly.
constexpr size_t kRowBlocks = 12;
// The least work (multiply-adds) of a block: below it, the cost of a call
// (Faiss allocates and touches buffers in each) outweighs a thread's share.
constexpr size_t kBlockWork = size_t(1) << 23;

// body(first, last) for blocks of consecutive rows that cover [0, n), of
// sizes that differ by one at most, on num_threads() threads when there are
// several. The blocks depend on the work only, never on the number of
// threads, so a BLAS product per block gives the same bits whatever that
// number: OpenBLAS rounds a row differently by where it falls in a call (its
// AVX2 kernels work on panels of 12 rows, with other kernels for the rest)
// and by the call's size (one under 100^3 multiply-adds takes a kernel of
// its own on AVX-512). As many blocks as the work of the rows (row_work
// each) allows, up to kRowBlocks, none of fewer than min_rows rows (Faiss's
// distances change method below a number of rows); more when a block would
// pass max_rows / kRowBlocks rows (which bounds the memory the blocks being
// worked on use, for up to kRowBlocks threads; min_rows then may not hold).
template <typename Body>
void for_row_blocks(size_t n, size_t row_work, Body&& body, size_t min_rows = 1, size_t max_rows = SIZE_MAX) {
    if (n == 0) return;
    const size_t least = std::max({min_rows, kBlockWork / std::max<size_t>(row_work, 1), size_t(1)});
    const size_t rows_at_most = std::max<size_t>(1, max_rows / kRowBlocks);
    const size_t blocks = std::max({size_t(1), std::min(kRowBlocks, n / least),
                                    n / rows_at_most + (n % rows_at_most != 0)});
    parallel_for(int64_t(blocks), [&](int64_t block) {
        body(n * size_t(block) / blocks, n * size_t(block + 1) / blocks);
    });
}

// How many rows to hand Faiss at once, so that what it allocates per row
// (distance tables, copies) stays near 64 MiB.
size_t rows_per_block(size_t floats_per_row);

}  // namespace nanopq
