#include "kernels/packing.h"

#include <faiss/impl/ProductQuantizer.h>

#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels/parallel.h"

namespace nanopq {

size_t packed_code_size(size_t M, int nbits) { return (M * size_t(nbits) + 7) / 8; }

void pack_codes(Codes codes, int nbits, uint8_t* packed) {
    codes.check_range(size_t(1) << nbits);
    const size_t code_size = packed_code_size(codes.M, nbits);
    std::memset(packed, 0, codes.n * code_size);  // the encoder ORs bits in
    codes.visit([&](const auto* in) {
        for (size_t i = 0; i < codes.n; i++) {
            faiss::PQEncoderGeneric encoder(packed + i * code_size, nbits);
            for (size_t m = 0; m < codes.M; m++) encoder.encode(in[i * codes.M + m]);
        }
    });
}

void unpack_codes(const uint8_t* packed, int nbits, Codes codes) {
    codes.check_capacity(size_t(1) << nbits);
    const size_t code_size = packed_code_size(codes.M, nbits);
    codes.visit([&](auto* out) {
        using Code = std::remove_pointer_t<decltype(out)>;
        for (size_t i = 0; i < codes.n; i++) {
            faiss::PQDecoderGeneric decoder(packed + i * code_size, nbits);
            for (size_t m = 0; m < codes.M; m++) out[i * codes.M + m] = Code(decoder.decode());
        }
    });
}

void compute_codes(const faiss::ProductQuantizer& pq, const float* x, Codes codes) {
    const bool same_layout = (pq.nbits == 8 && codes.width == 1) || (pq.nbits == 16 && codes.width == 2);
    for_row_blocks(codes.n, pq.d * pq.ksub, [&](size_t first, size_t last) {
        const size_t n = last - first;
        if (same_layout)
            return pq.compute_codes(x + first * pq.d, static_cast<uint8_t*>(codes.data) + first * pq.code_size, n);
        std::vector<uint8_t> packed(n * pq.code_size);
        pq.compute_codes(x + first * pq.d, packed.data(), n);
        unpack_codes(packed.data(), int(pq.nbits), codes.rows(first, n));
    }, 1, rows_per_block(pq.M * pq.ksub));
}

}  // namespace nanopq
