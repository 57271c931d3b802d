// The values a vector may hold: finite, and small enough that squared
// distances fit in float32.
#pragma once

#include <cstddef>

#include "kernels/exceptions.h"

namespace nanopq {

// The largest magnitude a vector component may have (exported to JavaScript
// as limits.maxAbsValue, lib/core/validate.ts's MAX_ABS_VALUE): squared distances of
// larger ones overflow float32. Compared in float32, as 1e15f: the same test
// for float32 values.
constexpr double kMaxAbsValue = 1e15;

// Index of the first value of x that is not finite or exceeds `limit` in
// magnitude, or n when there is none. With copy_to, x is copied there as it
// is checked, in one pass, and the copy is what is checked: an async call's
// private copy of its input (lib/core/async.ts).
size_t first_out_of_range(const float* x, size_t n, float limit, float* copy_to = nullptr);

}  // namespace nanopq
