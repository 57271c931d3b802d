#include "kernels/parallel.h"

#include <omp.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <cerrno>

namespace nanopq {

namespace {
// omp_get_max_threads() on the thread that loads the addon honours OMP_NUM_THREADS.
std::atomic<int> threads{std::max(1, omp_get_max_threads())};
std::atomic<int> async_calls{0};
thread_local bool async_call_here = false;
}  // namespace

bool in_async_call() { return async_call_here; }

int async_share() { return std::max(1, num_threads() / std::max(1, async_calls.load(std::memory_order_relaxed))); }

void wait_for_share() { std::this_thread::sleep_for(std::chrono::microseconds(200)); }

int fair_share() { return async_call_here ? async_share() : num_threads(); }

AsyncCall::AsyncCall() {
    async_call_here = true;
    async_calls.fetch_add(1, std::memory_order_relaxed);
}

AsyncCall::~AsyncCall() {
    async_calls.fetch_sub(1, std::memory_order_relaxed);
    async_call_here = false;
}

int num_threads() { return threads.load(std::memory_order_relaxed); }

void set_num_threads(int n) {
    threads.store(std::max(1, n), std::memory_order_relaxed);
    use_num_threads();
}

void use_num_threads() { omp_set_num_threads(fair_share()); }

namespace {
constexpr int kBackgroundNice = 10;

void lower_this_thread() {
#ifdef __linux__
    thread_local bool lowered = false;
    if (lowered) return;
    lowered = true;
    const auto tid = id_t(syscall(SYS_gettid));
    errno = 0;
    const int nice = getpriority(PRIO_PROCESS, tid);
    if (errno == 0 && nice < kBackgroundNice) setpriority(PRIO_PROCESS, tid, kBackgroundNice);
#endif
}
}  // namespace

void run_in_background() {
    lower_this_thread();
    // The team this thread's regions use: lowered once for each size it grows to.
    thread_local int team_lowered = 1;
    const int team = num_threads();
    if (team <= team_lowered) return;
    team_lowered = team;
#pragma omp parallel num_threads(team)
    lower_this_thread();
}

size_t rows_per_block(size_t floats_per_row) {
    return std::max<size_t>(1, (size_t(64) << 20) / (sizeof(float) * std::max<size_t>(floats_per_row, 1)));
}

}  // namespace nanopq
