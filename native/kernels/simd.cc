#include "kernels/simd.h"

#include <cstdlib>
#include <string>

namespace nanopq {

namespace {

SimdLevel choose_level() {
    const char* limit = std::getenv("NANOPQ_SIMD");
    const std::string at_most = limit ? limit : "";
#if defined(__x86_64__) || defined(__i386__)
    if (at_most != "avx2" && at_most != "generic" && __builtin_cpu_supports("avx512f")) return SimdLevel::Avx512;
    if (at_most != "generic" && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return SimdLevel::Avx2;
#elif defined(__aarch64__)
    if (at_most != "generic") return SimdLevel::Neon;
#endif
    return SimdLevel::Generic;
}

}  // namespace

SimdLevel simd_level() {
    static const SimdLevel chosen = choose_level();
    return chosen;
}

const char* simd_name() {
    switch (simd_level()) {
        case SimdLevel::Avx512: return "avx512";
        case SimdLevel::Avx2: return "avx2";
        case SimdLevel::Neon: return "neon";
        default: return "generic";
    }
}

}  // namespace nanopq
