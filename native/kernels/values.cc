#include "kernels/values.h"

#include <cmath>

namespace nanopq {

size_t first_out_of_range(const float* x, size_t n, float limit) {
    for (size_t i = 0; i < n; i++)
        if (!(std::fabs(x[i]) <= limit)) return i;  // NaN fails the comparison
    return n;
}

}  // namespace nanopq
