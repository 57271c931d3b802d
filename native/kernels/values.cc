#include "kernels/values.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace nanopq {

size_t first_out_of_range(const float* x, size_t n, float limit, float* copy_to) {
    // Blocks of 16 KB: copied, then tested from L1 by a loop without an exit,
    // which vectorises; the block that fails is searched again for its index.
    constexpr size_t kBlock = 4096;
    for (size_t i0 = 0; i0 < n; i0 += kBlock) {
        const size_t nb = std::min(kBlock, n - i0);
        const float* block = x + i0;
        if (copy_to) {
            std::memcpy(copy_to + i0, block, nb * sizeof(float));
            block = copy_to + i0;
        }
        int bad = 0;
        for (size_t i = 0; i < nb; i++) bad |= !(std::fabs(block[i]) <= limit);  // NaN fails the comparison
        if (bad)
            for (size_t i = 0; i < nb; i++)
                if (!(std::fabs(block[i]) <= limit)) return i0 + i;
    }
    return n;
}

}  // namespace nanopq
