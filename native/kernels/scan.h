// Scans of PQ codes against distance tables: the asymmetric distances of one
// query to every code, and the k best of them. One loop serves adist, topk and
// search, so their distances agree to the bit.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/codes.h"

namespace nanopq {

// dists[i] = sum over m of table[m][codes[i][m]], in m order, for a table (M, Ks).
// The codes must be < Ks (Codes::check_range).
void adist(const float* table, size_t Ks, Codes codes, float* dists);

// The k codes with the smallest distance (the largest with largest_first),
// best first; ties and NaN distances (which rank last) go to the lower id.
// k <= codes.n. The codes must be < Ks.
void topk(const float* table, size_t Ks, Codes codes, size_t k, bool largest_first, uint32_t* ids, float* dists);


// topk over some rows of codes: those of `rows` (distinct, in any order, n
// of them), or with rows null every row [0, n); rows whose flag in `skip`
// (one byte a row of codes, or null) is set are passed over. Ids are the
// rows' own, and the distances and order those of topk over the same rows
// (ties to the lower id). Returns how many were
// found, min(k, rows taken). One-byte codes; rows must be < codes.n and the codes < Ks.
size_t topk_rows(const float* table, size_t Ks, Codes codes, const uint32_t* rows, size_t n, const uint8_t* skip,
                 size_t k, bool largest_first, uint32_t* ids, float* dists);

// How many queries topk_many scans at once, at the level kernels/simd.h
// chose: 16 with AVX-512 (one vector), 32 with AVX2 (four 8-float vectors),
// else 8 (two 4-float vectors).
size_t scan_lanes();

// topk for up to scan_lanes() queries at once: tables (M, Ks, lanes) holds
// query q's table entry [m][k] at (m * Ks + k) * lanes + q, so that one vector
// load gives a code's m-th entry for every query. Query q's results go to
// ids[q * k ...] and dists[q * k ...]; the same as topk of its own table, to the bit.
void topk_many(const float* tables, size_t queries, size_t Ks, Codes codes, size_t k, bool largest_first,
               uint32_t* ids, float* dists);

}  // namespace nanopq
