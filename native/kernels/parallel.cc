#include "kernels/parallel.h"

#include <omp.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <atomic>
#include <cerrno>

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
