// Faiss's bit-packed PQ codes (code_size = ceil(M * nbits / 8) bytes a row)
// and ours (kernels/codes.h: one integer per sub-quantizer), one to the other.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/codes.h"

namespace faiss {
struct ProductQuantizer;
}

namespace nanopq {

// Bytes a row of M codes of nbits each takes packed.
size_t packed_code_size(size_t M, int nbits);

// pack_codes throws on a code >= 2**nbits.
void pack_codes(Codes codes, int nbits, uint8_t* packed);
void unpack_codes(const uint8_t* packed, int nbits, Codes codes);

// Faiss's pq.compute_codes of x (codes.n rows) as one integer per
// sub-quantizer, in blocks of rows split between threads (Faiss's BLAS
// products run on one), each packed aside unless Faiss's packing is already
// the layout of `codes` (8 and 16 bits).
void compute_codes(const faiss::ProductQuantizer& pq, const float* x, Codes codes);

}  // namespace nanopq
