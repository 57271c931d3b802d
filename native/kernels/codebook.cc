#include "kernels/codebook.h"

#include <cstring>

namespace nanopq {

void decode(const Codebook& cb, Codes codes, float* x) {
    codes.check_range(cb.Ks);
    // A gather of codewords: what ProductQuantizer::decode does, without
    // packing the codes into its layout or copying the codebook into it.
    codes.visit([&](const auto* in) {
        for (size_t i = 0; i < codes.n; i++)
            for (size_t m = 0; m < cb.M; m++)
                std::memcpy(x + (i * cb.M + m) * cb.Ds,
                            cb.codewords + (m * cb.Ks + in[i * cb.M + m]) * cb.Ds, cb.Ds * sizeof(float));
    });
}

}  // namespace nanopq
