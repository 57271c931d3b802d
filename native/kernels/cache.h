// The data caches of a core, which size the blocks of work that should stay
// in cache: detected once, or set by NANOPQ_CACHE so that any machine can run
// the plan of a smaller cache (and its results are the same: only the sizes
// of blocks change, never what is computed).
#pragma once

#include <cstddef>
#include <string>

namespace nanopq {

struct CachePlan {
    size_t l1d, l2;      // bytes a core
    std::string source;  // where they came from: "NANOPQ_CACHE", "sysconf", "cpuid", "sysfs" or "default"
};

// NANOPQ_CACHE="l1d,l2" (sizes in bytes, with an optional K or M suffix:
// "32K,512K"), else what the system reports for the first core, else
// 32 KB and 512 KB. Throws a RangeError for a NANOPQ_CACHE it cannot read.
const CachePlan& cache_plan();

// How many items of `item_bytes` bytes fit in `bytes`, rounded down to a
// multiple of `multiple`, within [lowest, highest].
size_t fitting(size_t bytes, size_t item_bytes, size_t multiple, size_t lowest, size_t highest);

}  // namespace nanopq
