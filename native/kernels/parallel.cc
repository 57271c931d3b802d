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
#include <condition_variable>
#include <mutex>

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

namespace {
// How long the helper spins for the next call after one: long enough for
// calls in a row (a server's requests, a loop) to find it awake, short enough
// that an idle process stops burning a core within a fraction of a millisecond.
constexpr auto kHelperSpin = std::chrono::microseconds(100);

// The parts of a call: the caller takes them from the front, the helper from
// the back, one at a time, until all are claimed (claimed counts both).
struct SplitJob {
    void (*run)(const void*, size_t, size_t);
    const void* body;
    size_t n;
    std::atomic<size_t> claimed{0};
    std::exception_ptr error{};  // the helper's
    std::atomic<bool> done{false};

    // Runs the parts this thread claims, from the front or from the back; stops
    // both threads at the first exception, which goes to `error`.
    void take_parts(bool from_back, std::exception_ptr& error) {
        for (size_t taken = 0; claimed.fetch_add(1) < n; taken++) {
            const size_t part = from_back ? n - 1 - taken : taken;
            try {
                run(body, part, part + 1);
            } catch (...) {
                error = std::current_exception();
                claimed.store(n);
                return;
            }
        }
    }
};

// The helper thread and its one slot. Made on first use and never destroyed:
// a thread still waiting on them at exit must not see them torn down.
struct Helper {
    std::atomic<bool> in_use{false};       // a caller owns the slot
    std::atomic<SplitJob*> slot{nullptr};  // the job waiting for the helper
    std::atomic<bool> asleep{false};
    std::mutex mutex;
    std::condition_variable wake;

    Helper() { std::thread([this] { serve(); }).detach(); }

    void serve() {
        for (;;) {
            // Mostly pauses: the other thread of a core (two vCPUs are often
            // one core's two) keeps its share while this one waits.
            const auto until = std::chrono::steady_clock::now() + kHelperSpin;
            SplitJob* job = nullptr;
            for (unsigned spin = 1; !(job = take()); spin++) {
                pause();
                if (spin % 64 == 0 && std::chrono::steady_clock::now() >= until) break;
            }
            if (!job) {
                std::unique_lock<std::mutex> lock(mutex);
                asleep.store(true);
                wake.wait(lock, [&] { return slot.load() != nullptr; });
                asleep.store(false);
                continue;
            }
            job->take_parts(true, job->error);
            job->done.store(true, std::memory_order_release);  // the caller's job: not touched after this
        }
    }

    SplitJob* take() { return slot.load(std::memory_order_relaxed) ? slot.exchange(nullptr) : nullptr; }

    static void pause() {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        asm volatile("yield");
#endif
    }
};

Helper& helper() {
    static Helper* const h = new Helper();
    return *h;
}
}  // namespace

void split_with_helper(size_t n, void (*run)(const void*, size_t, size_t), const void* body) {
    if (n < 2 || num_threads() < 2 || in_async_call()) return run(body, 0, n);
    Helper& h = helper();
    if (h.in_use.exchange(true)) return run(body, 0, n);
    SplitJob job{run, body, n};
    h.slot.store(&job);
    if (h.asleep.load()) {
        std::lock_guard<std::mutex> lock(h.mutex);
        h.wake.notify_one();
    }
    std::exception_ptr error;
    job.take_parts(false, error);
    SplitJob* mine = &job;
    if (!h.slot.compare_exchange_strong(mine, nullptr)) {  // the helper took the job: wait until it lets go
        while (!job.done.load(std::memory_order_acquire)) Helper::pause();
        if (!error) error = job.error;
    }
    h.in_use.store(false);
    if (error) std::rethrow_exception(error);
}

size_t rows_per_block(size_t floats_per_row) {
    return std::max<size_t>(1, (size_t(64) << 20) / (sizeof(float) * std::max<size_t>(floats_per_row, 1)));
}

}  // namespace nanopq
