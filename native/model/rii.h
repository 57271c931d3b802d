// The scans of Rii (lib/models/rii.ts): its queries, by a linear scan of the
// codes or through its posting lists, for many queries on every core; and
// PQk-means' assignment of codes to their nearest coarse centre. The index
// itself (codes, centres, lists) lives in lib's typed arrays; these read it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nanopq {

class Model;

// A Rii as lib holds it: (N, M) uint8 codes, (nlist, M) centres, and list k
// = list_ids[list_start[k] .. list_start[k] + list_size[k]).
struct RiiIndex {
    const uint8_t* codes;
    size_t N;
    const uint8_t* centers;
    size_t nlist;
    const uint32_t* list_ids;
    const uint32_t* list_start;
    const uint32_t* list_size;
    const uint8_t* removed;  // N flags (set: passed over), or null
};

// What a query asks: its topk over the targets (sorted, distinct ids < N;
// null: every id), by a linear scan or through the lists (L candidates).
struct RiiPlan {
    size_t topk, L;
    const uint32_t* targets;
    size_t S;
    bool linear;
};

constexpr uint32_t kNoId = UINT32_MAX;

// Row q of ids and dists (nq, topk): query q's best, best first, ties to the
// lower id; a row of fewer ends in kNoId and +inf (-inf for Dot). The lists
// and targets are checked as they are read (ids < N: a RangeError).
void rii_search(const Model& model, const float* queries, size_t nq, const RiiIndex& index, const RiiPlan& plan,
                uint32_t* ids, float* dists);

// labels[i]: the nearest of K centres (K, M) to code i (n, M) by the
// symmetric distance, sym (M, Ks, Ks) holding the squared distances between
// the codewords of each subspace; ties to the lower centre. Codes < Ks.
void rii_assign(const float* sym, size_t M, size_t Ks, const uint8_t* codes, size_t n, const uint8_t* centers,
                size_t K, uint32_t* labels);

// PQk-means' update: each centre k with members (labels[i] == k, labels <
// K) gets, in subspace m, the codeword b with the least summed squared
// distance to its members' m-th codewords, that is the least
// n |c_b|^2 - 2 c_b . s (s: the sum of the members' codewords), in double,
// ties to the lower b; a centre without members keeps its code. codewords
// (M, Ks, Ds), codes (n, M), centers (K, M) updated in place.
void rii_update_centers(const float* codewords, size_t M, size_t Ks, size_t Ds, const uint8_t* codes, size_t n,
                        const uint32_t* labels, size_t K, uint8_t* centers);

}  // namespace nanopq
