// What training reports between iterations, and how it is stopped: the
// progress and the AbortSignal of fitAsync, and verbose output, all of which
// JavaScript prints or forwards (no printf here, which would bypass process.stdout).
#pragma once

#include <cstdint>
#include <functional>

#include "kernels/exceptions.h"

namespace nanopq {

struct TrainStep {
    const char* phase;  // "kmeans" or "rotation"
    int iteration, of;  // 1-based
    double objective;   // the sum of squared distances to the nearest codeword, or NaN when not computed
};

struct TrainMonitor {
    std::function<void(const TrainStep&)> report;  // may be empty
    const int32_t* stop = nullptr;                 // nonzero (set by another thread): stop
    bool objective = false;                        // compute TrainStep::objective (verbose; costs a little)

    // Throws Aborted when asked to stop, else reports the step.
    void step(const TrainStep& s) const {
        if (stop && __atomic_load_n(stop, __ATOMIC_ACQUIRE)) throw Aborted();
        if (report) report(s);
    }
};

}  // namespace nanopq
