#include "model/rii.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "kernels/exceptions.h"
#include "kernels/parallel.h"
#include "kernels/scan.h"
#include "kernels/simd.h"
#include "model/model.h"

namespace nanopq {

namespace {

// ---------------------------------------------------------------- search --

// Throws unless the targets are ascending, distinct ids < N.
void check_targets(const RiiPlan& plan, size_t N) {
    for (size_t s = 0; s < plan.S; s++) {
        if (plan.targets[s] >= N || (s > 0 && plan.targets[s] <= plan.targets[s - 1]))
            throw RangeError("Expected targets in ascending order, distinct and < N = " + std::to_string(N) +
                             ", got " + std::to_string(plan.targets[s]) + " at targets[" + std::to_string(s) + "]");
    }
}

// One query through the posting lists (Python rii's Algorithm 2): the lists
// of the centres nearest to the query, nearest first, give up to L candidates
// among the targets; after w = round(L nlist / S) + 3 lists, once topk are
// found, it stops. Returns how many of the candidates' best it wrote.
size_t query_lists(const float* table, size_t Ks, size_t M, bool largest_first, const RiiIndex& ix,
                   const RiiPlan& plan, const std::vector<uint64_t>& is_target, uint32_t* ids, float* dists) {
    const size_t nlist = ix.nlist;
    std::vector<float> keys(nlist);
    adist(table, Ks, Codes{const_cast<uint8_t*>(ix.centers), nlist, M, 1}, keys.data());
    for (float& key : keys) key = std::isnan(key) ? INFINITY : largest_first ? -key : key;
    // The lists in order of their centre (ties to the lower list), sorted a
    // piece at a time: a query usually visits few of them.
    std::vector<uint32_t> order(nlist);
    std::iota(order.begin(), order.end(), 0u);
    const auto before = [&](uint32_t a, uint32_t b) { return keys[a] < keys[b] || (keys[a] == keys[b] && a < b); };
    const size_t S = plan.targets ? plan.S : ix.N;
    const size_t w = std::min(nlist, size_t(std::floor(double(plan.L) * double(nlist) / double(S) + 0.5)) + 3);
    std::vector<uint32_t> candidates(plan.L);
    size_t found = 0, sorted = 0;
    for (size_t i = 0; i < nlist && found < plan.L; i++) {
        if (i == sorted) {
            sorted = std::min(nlist, std::max({2 * sorted, w, size_t(16)}));
            std::partial_sort(order.begin() + i, order.begin() + sorted, order.end(), before);
        }
        const uint32_t* list = ix.list_ids + ix.list_start[order[i]];
        for (size_t j = 0, size = ix.list_size[order[i]]; j < size && found < plan.L; j++) {
            const uint32_t id = list[j];
            if (id >= ix.N) throw RangeError("Expected ids < N in the posting lists, got " + std::to_string(id));
            if (ix.removed && ix.removed[id]) continue;
            if (plan.targets && !(is_target[id >> 6] >> (id & 63) & 1)) continue;
            candidates[found++] = id;
        }
        if (i + 1 >= w && found >= plan.topk) break;
    }
    return topk_rows(table, Ks, Codes{const_cast<uint8_t*>(ix.codes), ix.N, M, 1}, candidates.data(), found,
                     nullptr, plan.topk, largest_first, ids, dists);
}

// --------------------------------------------------------------- assign --

// Codes an assignment works on at once: their best distances stay in cache
// while each block of centres' table is read for all of them.
constexpr size_t kAssignChunk = 16384;

// rii_assign over a chunk of codes, W centres at a time: the table of a block
// holds, for subspace m and codeword a, the W centres' symmetric distances
// (m, a, lane), so one vector load gives a code's m-th term for W centres.
// A code's sum is added in m order, as a distance table's adist adds.
template <int W>
NANOPQ_INLINE void assign_chunk(const float* sym, size_t M, size_t Ks, const uint8_t* codes, size_t n,
                                const uint8_t* centers, size_t K, uint32_t* labels) {
    typedef typename Simd<W>::F F;
    typedef const typename Simd<W>::Unaligned* Load;
    std::vector<float> table(M * Ks * W), best(n, INFINITY);
    std::fill(labels, labels + n, 0u);
    for (size_t k0 = 0; k0 < K; k0 += W) {
        const size_t lanes = std::min<size_t>(W, K - k0);
        for (size_t m = 0; m < M; m++) {
            for (size_t l = 0; l < size_t(W); l++) {
                // sym is symmetric: centre c's row for codeword a is sym[m][c_m][a].
                const float* row = l < lanes ? sym + (m * Ks + centers[(k0 + l) * M + m]) * Ks : nullptr;
                for (size_t a = 0; a < Ks; a++) table[(m * Ks + a) * W + l] = row ? row[a] : INFINITY;
            }
        }
        for (size_t i = 0; i < n; i++) {
            const uint8_t* c = codes + i * M;
            F sum = *Load(&table[size_t(c[0]) * W]);
            for (size_t m = 1; m < M; m++) sum += *Load(&table[(m * Ks + c[m]) * W]);
            if (!any_less<W>(sum, F{} + best[i])) continue;
            for (size_t l = 0; l < lanes; l++) {
                if (sum[l] < best[i]) {
                    best[i] = sum[l];
                    labels[i] = uint32_t(k0 + l);
                }
            }
        }
    }
}

typedef void (*AssignFn)(const float*, size_t, size_t, const uint8_t*, size_t, const uint8_t*, size_t, uint32_t*);

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx512f"))) void assign_avx512(const float* sym, size_t M, size_t Ks, const uint8_t* codes,
                                                      size_t n, const uint8_t* centers, size_t K, uint32_t* labels) {
    assign_chunk<16>(sym, M, Ks, codes, n, centers, K, labels);
}
__attribute__((target("avx2"))) void assign_avx2(const float* sym, size_t M, size_t Ks, const uint8_t* codes,
                                                 size_t n, const uint8_t* centers, size_t K, uint32_t* labels) {
    assign_chunk<8>(sym, M, Ks, codes, n, centers, K, labels);
}
#endif
void assign_generic(const float* sym, size_t M, size_t Ks, const uint8_t* codes, size_t n, const uint8_t* centers,
                    size_t K, uint32_t* labels) {
    assign_chunk<4>(sym, M, Ks, codes, n, centers, K, labels);
}

AssignFn assign_kernel() {
    switch (simd_level()) {
#if defined(__x86_64__) || defined(__i386__)
        case SimdLevel::Avx512: return assign_avx512;
        case SimdLevel::Avx2: return assign_avx2;
#endif
        default: return assign_generic;  // on arm64, NEON too: 4 floats a vector, and only adds
    }
}

}  // namespace

void rii_search(const Model& model, const float* queries, size_t nq, const RiiIndex& ix, const RiiPlan& plan,
                uint32_t* ids, float* dists) {
    const size_t M = model.M, Ks = model.Ks, D = model.D(), topk = plan.topk;
    if (Ks > 256) throw RangeError("Expected Ks <= 256 for a Rii");
    if (plan.targets) check_targets(plan, ix.N);
    const size_t S = plan.targets ? plan.S : ix.N;
    if (topk < 1 || topk > S || plan.L < topk || plan.L > ix.N)
        throw RangeError("Expected 1 <= topk <= the number of targets and topk <= L <= N");
    if (!plan.linear && ix.nlist == 0) throw RangeError("Expected posting lists for a query through them");
    const bool dot = model.metric == Metric::Dot;
    // Every id over every code, none passed over: the batched scan of search.
    if (plan.linear && !plan.targets && !ix.removed)
        return model.search(queries, nq, Codes{const_cast<uint8_t*>(ix.codes), ix.N, M, 1}, topk, ids, dists);
    std::vector<uint64_t> is_target;
    if (plan.targets && !plan.linear) {
        is_target.assign(ix.N / 64 + 1, 0);
        for (size_t s = 0; s < plan.S; s++) is_target[plan.targets[s] >> 6] |= uint64_t(1) << (plan.targets[s] & 63);
    }
    parallel_for(int64_t(nq), [&](int64_t q) {
        // Padded so that any byte code reads inside the table, whatever Ks. Kept
        // by the thread: one query's other work costs about as much as an allocation.
        thread_local std::vector<float> table;
        table.resize((M - 1) * Ks + 256);
        model.distance_table(queries + size_t(q) * D, table.data());
        uint32_t* row_ids = ids + size_t(q) * topk;
        float* row_dists = dists + size_t(q) * topk;
        const size_t found =
            plan.linear ? topk_rows(table.data(), Ks, Codes{const_cast<uint8_t*>(ix.codes), ix.N, M, 1},
                                    plan.targets, S, ix.removed, topk, dot, row_ids, row_dists)
                        : query_lists(table.data(), Ks, M, dot, ix, plan, is_target, row_ids, row_dists);
        std::fill(row_ids + found, row_ids + topk, kNoId);
        std::fill(row_dists + found, row_dists + topk, dot ? -INFINITY : INFINITY);
    }, nq > 1);
}

void rii_assign(const float* sym, size_t M, size_t Ks, const uint8_t* codes, size_t n, const uint8_t* centers,
                size_t K, uint32_t* labels) {
    if (Ks > 256 || K == 0) throw RangeError("Expected Ks <= 256 and at least one centre");
    const AssignFn kernel = assign_kernel();
    const size_t chunks = (n + kAssignChunk - 1) / kAssignChunk;
    parallel_for(int64_t(chunks), [&](int64_t chunk) {
        const size_t first = size_t(chunk) * kAssignChunk, count = std::min(kAssignChunk, n - first);
        kernel(sym, M, Ks, codes + first * M, count, centers, K, labels + first);
    }, n * K * M >= (size_t(1) << 20));
}

void rii_update_centers(const float* codewords, size_t M, size_t Ks, size_t Ds, const uint8_t* codes, size_t n,
                        const uint32_t* labels, size_t K, uint8_t* centers) {
    std::vector<double> norms(M * Ks);
    for (size_t i = 0; i < M * Ks; i++) {
        double s = 0;
        for (size_t d = 0; d < Ds; d++) s += double(codewords[i * Ds + d]) * codewords[i * Ds + d];
        norms[i] = s;
    }
    // The members of each centre, by a counting sort of the labels.
    std::vector<size_t> start(K + 1, 0);
    for (size_t i = 0; i < n; i++) {
        if (labels[i] >= K) throw RangeError("Expected labels < K = " + std::to_string(K));
        start[labels[i] + 1]++;
    }
    for (size_t k = 0; k < K; k++) start[k + 1] += start[k];
    std::vector<uint32_t> members(n);
    std::vector<size_t> fill(start.begin(), start.end() - 1);
    for (size_t i = 0; i < n; i++) members[fill[labels[i]]++] = uint32_t(i);
    parallel_for(int64_t(K), [&](int64_t k) {
        const size_t first = start[size_t(k)], count = start[size_t(k) + 1] - first;
        if (count == 0) return;
        std::vector<double> sum(Ds);
        for (size_t m = 0; m < M; m++) {
            std::fill(sum.begin(), sum.end(), 0.0);
            for (size_t j = first; j < first + count; j++) {
                const float* c = codewords + (m * Ks + codes[size_t(members[j]) * M + m]) * Ds;
                for (size_t d = 0; d < Ds; d++) sum[d] += c[d];
            }
            size_t best = 0;
            double best_score = INFINITY;
            for (size_t b = 0; b < Ks; b++) {
                const float* c = codewords + (m * Ks + b) * Ds;
                double dot = 0;
                for (size_t d = 0; d < Ds; d++) dot += c[d] * sum[d];
                const double score = double(count) * norms[m * Ks + b] - 2 * dot;
                if (score < best_score) {
                    best_score = score;
                    best = b;
                }
            }
            centers[size_t(k) * M + m] = uint8_t(best);
        }
    }, n * M * Ds + K * M * Ks * Ds >= (size_t(1) << 20));
}

}  // namespace nanopq
