// PQ codes as they cross the boundary: an (n, M) row-major matrix of
// uint8, uint16 or uint32, chosen by nanopq's rule from Ks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "kernels/exceptions.h"

namespace nanopq {

// The fewest bytes (1, 2 or 4) that hold a code below Ks: the width of the
// codes training keeps for itself. Codes that cross the boundary come with
// their own width (their typed array's); the public dtype is chosen by lib
// alone (codeDtypeFor, nanopq's rule, which the integer sizes make the same).
inline int code_width(size_t Ks) { return Ks <= 256 ? 1 : Ks <= 65536 ? 2 : 4; }

struct Codes {
    void* data;
    size_t n, M;
    int width;  // bytes per code: 1, 2 or 4

    // Rows [i0, i0 + count) of these codes.
    Codes rows(size_t i0, size_t count) const {
        return {static_cast<uint8_t*>(data) + i0 * M * width, count, M, width};
    }

    // Calls f with the codes as a typed pointer (uint8_t*, uint16_t* or uint32_t*).
    template <typename F>
    void visit(F&& f) const {
        switch (width) {
            case 1: f(static_cast<uint8_t*>(data)); break;
            case 2: f(static_cast<uint16_t*>(data)); break;
            case 4: f(static_cast<uint32_t*>(data)); break;
            default: throw TypeError("Expected uint8, uint16 or uint32 codes, got " + std::to_string(width) + "-byte codes");
        }
    }

    // Throws a RangeError naming the first code >= Ks.
    void check_range(size_t Ks) const {
        if (Ks >= (uint64_t(1) << (8 * width))) return;  // every value fits
        visit([&](auto* codes) {
            for (size_t i = 0; i < n * M; i++) {
                if (codes[i] >= Ks)
                    throw RangeError("Expected codes < Ks = " + std::to_string(Ks) + ", got " +
                                     std::to_string(codes[i]) + " at codes[" + std::to_string(i / M) +
                                     "][" + std::to_string(i % M) + "]");
            }
        });
    }

    // Throws unless every code in [0, Ks) can be stored.
    void check_capacity(size_t Ks) const {
        if (Ks > (uint64_t(1) << (8 * width)))
            throw TypeError("Expected codes wide enough for Ks = " + std::to_string(Ks) + ", got " +
                            std::to_string(width) + "-byte codes");
    }
};

}  // namespace nanopq
