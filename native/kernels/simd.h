// The vector width the SIMD kernels (nearest.cc, scan.cc, model/rii.cc) use: chosen once,
// here, from what the CPU runs and the NANOPQ_SIMD override.
#pragma once

#include <cstdint>
#include <cstring>

namespace nanopq {

#define NANOPQ_INLINE inline __attribute__((always_inline))

// GCC vector types of W floats, and of W int32 / int8 lanes.
template <int W>
struct Simd {
    typedef float F __attribute__((vector_size(W * sizeof(float))));
    typedef int32_t I __attribute__((vector_size(W * sizeof(int32_t))));
    typedef int8_t B __attribute__((vector_size(W)));
    // What loads read floats as: any alignment, and allowed to alias them.
    typedef float Unaligned __attribute__((vector_size(W * sizeof(float)), aligned(4), may_alias));
};

// Whether any lane of a is below b's: a compare, its lanes narrowed to bytes
// (one instruction with AVX-512) and tested as integers, in whatever vector
// width the caller's target has. (A loop over the lanes compiled to 35.)
template <int Q>
NANOPQ_INLINE bool any_less(typename Simd<Q>::F a, typename Simd<Q>::F b) {
    const typename Simd<Q>::B less = __builtin_convertvector(a < b, typename Simd<Q>::B);
    uint64_t words[(Q + 7) / 8] = {};
    std::memcpy(words, &less, Q);
    uint64_t any = 0;
    for (uint64_t w : words) any |= w;
    return any != 0;
}

enum class SimdLevel { Generic, Avx2, Avx512, Neon };

// The widest level this CPU runs (x86: AVX2 with FMA, AVX-512F; arm64: NEON,
// which every arm64 CPU has), or no wider than NANOPQ_SIMD says ("avx2" or
// "generic"), so that tests reach every kernel on one machine.
SimdLevel simd_level();

// "avx512", "avx2", "neon" or "generic".
const char* simd_name();

}  // namespace nanopq
