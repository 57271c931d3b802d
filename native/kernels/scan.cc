#include "kernels/scan.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/best.h"
#include "kernels/parallel.h"
#include "kernels/simd.h"

namespace nanopq {

namespace {

// The distance of one code: sum over m of table[m][c[m]], in m order. M and
// Ks are template arguments for the common cases, so that the sum unrolls
// and the table offsets are constants; 0 means "read the argument".
template <int FixedM, int FixedKs = 0, typename Code>
NANOPQ_INLINE float code_distance(const float* table, size_t Ks_, const Code* c, size_t M_) {
    const size_t M = FixedM ? size_t(FixedM) : M_, Ks = FixedKs ? size_t(FixedKs) : Ks_;
    float sum = table[c[0]];
    for (size_t m = 1; m < M; m++) sum += table[m * Ks + c[m]];
    return sum;
}

// Calls f(i, distance) for every code, in order.
template <int FixedM, int FixedKs = 0, typename Code, typename F>
inline void each_distance(const float* table, size_t Ks, const Code* codes, size_t n, size_t M_, F&& f) {
    const size_t M = FixedM ? size_t(FixedM) : M_;
    for (size_t i = 0; i < n; i++) f(i, code_distance<FixedM, FixedKs>(table, Ks, codes + i * M, M));
}

// each_distance with M, and Ks = 256 (every byte a code), as constants for
// the common code lengths: constant table offsets measured 15% faster.
template <int FixedKs, typename Code, typename F>
void each_distance_of(const float* table, size_t Ks, const Code* in, size_t n, size_t M, F&& f) {
    switch (M) {
        case 4: return each_distance<4, FixedKs>(table, Ks, in, n, 4, f);
        case 8: return each_distance<8, FixedKs>(table, Ks, in, n, 8, f);
        case 16: return each_distance<16, FixedKs>(table, Ks, in, n, 16, f);
        default: return each_distance<0, FixedKs>(table, Ks, in, n, M, f);
    }
}

template <typename F>
void visit_distances(const float* table, size_t Ks, Codes codes, F&& f) {
    codes.visit([&](const auto* in) {
        if (Ks == 256) return each_distance_of<256>(table, Ks, in, codes.n, codes.M, f);
        each_distance_of<0>(table, Ks, in, codes.n, codes.M, f);
    });
}

// topk_many over Q = W V lanes, V vectors of W floats (AVX2 scans 32 queries
// in four 8-float vectors: GCC's own splitting of wider vectors measured 3x
// slower), FixedM as in each_distance. Each lane's sum is added up in m order,
// as each_distance adds, so the distances are the same.
template <int W, int V, int FixedM, typename Code>
NANOPQ_INLINE void scan_many(const float* tables, size_t queries, size_t Ks, const Code* codes, size_t n,
                             size_t M_, size_t k, float sign, std::vector<Entry>* heaps) {
    typedef typename Simd<W>::F F;
    typedef const typename Simd<W>::Unaligned* Load;
    constexpr size_t Q = size_t(W) * V;
    const size_t M = FixedM ? size_t(FixedM) : M_;
    // Per lane, the key a code must beat: the worst kept once the heap is
    // full; lanes without a query never take a code.
    F worst[V];
    for (int v = 0; v < V; v++) worst[v] = F{} - INFINITY;
    for (size_t i = 0; i < n; i++) {
        const Code* c = codes + i * M;
        F sum[V], key[V];
        const float* first = tables + size_t(c[0]) * Q;
        for (int v = 0; v < V; v++) sum[v] = *Load(first + v * W);
        for (size_t m = 1; m < M; m++) {
            const float* entry = tables + (m * Ks + c[m]) * Q;
            for (int v = 0; v < V; v++) sum[v] += *Load(entry + v * W);
        }
        bool any = false;
        for (int v = 0; v < V; v++) {
            key[v] = sum[v] * sign;
            any |= any_less<W>(key[v], worst[v]);
        }
        if (i < k) {
            for (size_t q = 0; q < queries; q++) {
                const float kq = key[q / W][q % W];
                push(heaps[q], {std::isnan(kq) ? INFINITY : kq, sum[q / W][q % W], uint32_t(i)});
            }
            if (i + 1 == k)
                for (size_t q = 0; q < queries; q++) worst[q / W][q % W] = heaps[q].front().key;
            continue;
        }
        if (!any) continue;
        for (size_t q = 0; q < queries; q++) {
            const float kq = key[q / W][q % W];
            if (!(kq < worst[q / W][q % W])) continue;
            replace_worst(heaps[q], {kq, sum[q / W][q % W], uint32_t(i)});
            worst[q / W][q % W] = heaps[q].front().key;
        }
    }
}

template <int W, int V, typename Code>
NANOPQ_INLINE void scan_many_of(const float* tables, size_t queries, size_t Ks, Codes codes, size_t k, float sign,
                                std::vector<Entry>* heaps) {
    const Code* in = static_cast<const Code*>(codes.data);
    switch (codes.M) {
        case 4: return scan_many<W, V, 4>(tables, queries, Ks, in, codes.n, 4, k, sign, heaps);
        case 8: return scan_many<W, V, 8>(tables, queries, Ks, in, codes.n, 8, k, sign, heaps);
        case 16: return scan_many<W, V, 16>(tables, queries, Ks, in, codes.n, 16, k, sign, heaps);
        default: return scan_many<W, V, 0>(tables, queries, Ks, in, codes.n, codes.M, k, sign, heaps);
    }
}

// No lambdas (Codes::visit) on this path: a lambda is a function of its own,
// compiled for the default target, not inlined into the caller's.
template <int W, int V>
NANOPQ_INLINE void topk_many_lanes(const float* tables, size_t queries, size_t Ks, Codes codes, size_t k,
                                   bool largest_first, uint32_t* ids, float* dists) {
    std::vector<std::vector<Entry>> heaps(queries);
    for (auto& heap : heaps) heap.reserve(k);
    const float sign = largest_first ? -1.0f : 1.0f;
    switch (codes.width) {
        case 1: scan_many_of<W, V, uint8_t>(tables, queries, Ks, codes, k, sign, heaps.data()); break;
        case 2: scan_many_of<W, V, uint16_t>(tables, queries, Ks, codes, k, sign, heaps.data()); break;
        default: scan_many_of<W, V, uint32_t>(tables, queries, Ks, codes, k, sign, heaps.data()); break;
    }
    for (size_t q = 0; q < queries; q++) write_sorted(heaps[q], ids + q * k, dists + q * k);
}

typedef void (*TopkManyFn)(const float*, size_t, size_t, Codes, size_t, bool, uint32_t*, float*);

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx512f"))) void topk_many_avx512(const float* t, size_t q, size_t Ks, Codes c, size_t k,
                                                         bool largest, uint32_t* ids, float* dists) {
    topk_many_lanes<16, 1>(t, q, Ks, c, k, largest, ids, dists);
}
__attribute__((target("avx2"))) void topk_many_avx2(const float* t, size_t q, size_t Ks, Codes c, size_t k,
                                                    bool largest, uint32_t* ids, float* dists) {
    topk_many_lanes<8, 4>(t, q, Ks, c, k, largest, ids, dists);
}
#endif
#if defined(__aarch64__)
void topk_many_neon(const float* t, size_t q, size_t Ks, Codes c, size_t k, bool largest, uint32_t* ids, float* dists) {
    topk_many_lanes<4, 4>(t, q, Ks, c, k, largest, ids, dists);
}
#endif
void topk_many_generic(const float* t, size_t q, size_t Ks, Codes c, size_t k, bool largest, uint32_t* ids,
                       float* dists) {
    topk_many_lanes<4, 2>(t, q, Ks, c, k, largest, ids, dists);
}

// The kernel of the level kernels/simd.h chose, as the codeword kernels.
struct ManyKernel {
    TopkManyFn run;
    size_t lanes;
};

const ManyKernel& many_kernel() {
    static const ManyKernel chosen = [] {
        switch (simd_level()) {
#if defined(__x86_64__) || defined(__i386__)
            case SimdLevel::Avx512: return ManyKernel{topk_many_avx512, 16};
            case SimdLevel::Avx2: return ManyKernel{topk_many_avx2, 32};
#endif
#if defined(__aarch64__)
            case SimdLevel::Neon: return ManyKernel{topk_many_neon, 16};
#endif
            default: return ManyKernel{topk_many_generic, 8};
        }
    }();
    return chosen;
}

}  // namespace

size_t scan_lanes() { return many_kernel().lanes; }

void topk_many(const float* tables, size_t queries, size_t Ks, Codes codes, size_t k, bool largest_first,
               uint32_t* ids, float* dists) {
    if (k == 0 || queries == 0) return;
    many_kernel().run(tables, queries, Ks, codes, k, largest_first, ids, dists);
}

namespace {

// One query's scan of many codes is cut into blocks of this many codes, the
// same whatever the number of threads, so that its results are too.
constexpr size_t kScanBlock = size_t(1) << 16;
// Below this many table lookups a scan stays on the calling thread (waking a
// team costs more than it saves).
constexpr size_t kParallelLookups = size_t(1) << 21;

// Blocks of codes to scan on several threads, or 1.
size_t scan_blocks(Codes codes) {
    const size_t blocks = (codes.n + kScanBlock - 1) / kScanBlock;
    return codes.n * codes.M >= kParallelLookups ? blocks : 1;
}

// The k best of codes (k <= codes.n) as a heap, the worst on top, their ids
// counted from first_id. Codes come in id order, so a later code with the key
// of the worst loses the tie: only a strictly smaller key enters (a NaN never
// does once the heap is full). The first k codes fill it; the others (a loop
// with one compare) enter only when they beat the worst.
std::vector<Entry> best_codes(const float* table, size_t Ks, Codes codes, size_t first_id, size_t k, float sign) {
    std::vector<Entry> heap;
    heap.reserve(k);
    visit_distances(table, Ks, codes.rows(0, k), [&](size_t i, float d) { push(heap, entry_of(sign, d, uint32_t(first_id + i))); });
    float worst = heap.front().key;
    visit_distances(table, Ks, codes.rows(k, codes.n - k), [&](size_t i, float d) {
        const float key = sign * d;
        if (!(key < worst)) return;
        replace_worst(heap, {key, d, uint32_t(first_id + k + i)});
        worst = heap.front().key;
    });
    return heap;
}

}  // namespace

void adist(const float* table, size_t Ks, Codes codes, float* dists) {
    const size_t blocks = scan_blocks(codes);
    parallel_for(int64_t(blocks), [&](int64_t b) {
        const size_t first = size_t(b) * kScanBlock, n = blocks == 1 ? codes.n : std::min(kScanBlock, codes.n - first);
        visit_distances(table, Ks, codes.rows(first, n), [&](size_t i, float d) { dists[first + i] = d; });
    });
}

void topk(const float* table, size_t Ks, Codes codes, size_t k, bool largest_first, uint32_t* ids, float* dists) {
    if (k == 0) return;
    const float sign = largest_first ? -1.0f : 1.0f;
    const size_t blocks = k <= kScanBlock / 16 ? scan_blocks(codes) : 1;
    if (blocks == 1) {
        std::vector<Entry> heap = best_codes(table, Ks, codes, 0, k, sign);
        return write_sorted(heap, ids, dists);
    }
    merge_best(blocks, k, [&](size_t b) {
        const size_t first = b * kScanBlock, n = std::min(kScanBlock, codes.n - first);
        return best_codes(table, Ks, codes.rows(first, n), first, std::min(k, n), sign);
    }, ids, dists);
}

namespace {

// topk_rows with M and Ks as in code_distance. Rows in any order: a row
// enters a full heap when it beats the worst by key, then by id.
template <int FixedM, int FixedKs>
size_t topk_rows_of(const float* table, size_t Ks, const uint8_t* codes, size_t M, const uint32_t* rows, size_t n,
                    const uint8_t* skip, size_t k, float sign, uint32_t* ids, float* dists) {
    // Rows far apart miss the caches: each code is fetched this many rows ahead.
    constexpr size_t kAhead = 8;
    std::vector<Entry> heap;
    heap.reserve(k);
    for (size_t j = 0; j < n; j++) {
        if (rows && j + kAhead < n) __builtin_prefetch(codes + size_t(rows[j + kAhead]) * M);
        const uint32_t row = rows ? rows[j] : uint32_t(j);
        if (skip && skip[row]) continue;
        offer(heap, k, entry_of(sign, code_distance<FixedM, FixedKs>(table, Ks, codes + size_t(row) * M, M), row));
    }
    write_sorted(heap, ids, dists);
    return heap.size();
}

template <int FixedKs>
size_t topk_rows_m(const float* table, size_t Ks, const uint8_t* codes, size_t M, const uint32_t* rows, size_t n,
                   const uint8_t* skip, size_t k, float sign, uint32_t* ids, float* dists) {
    switch (M) {
        case 8: return topk_rows_of<8, FixedKs>(table, Ks, codes, M, rows, n, skip, k, sign, ids, dists);
        case 16: return topk_rows_of<16, FixedKs>(table, Ks, codes, M, rows, n, skip, k, sign, ids, dists);
        case 32: return topk_rows_of<32, FixedKs>(table, Ks, codes, M, rows, n, skip, k, sign, ids, dists);
        default: return topk_rows_of<0, FixedKs>(table, Ks, codes, M, rows, n, skip, k, sign, ids, dists);
    }
}

}  // namespace

size_t topk_rows(const float* table, size_t Ks, Codes codes, const uint32_t* rows, size_t n, const uint8_t* skip,
                 size_t k, bool largest_first, uint32_t* ids, float* dists) {
    if (k == 0) return 0;
    if (codes.width != 1) throw TypeError("Expected one-byte codes for topk_rows");
    const auto* c = static_cast<const uint8_t*>(codes.data);
    const float sign = largest_first ? -1.0f : 1.0f;
    if (Ks == 256) return topk_rows_m<256>(table, Ks, c, codes.M, rows, n, skip, k, sign, ids, dists);
    return topk_rows_m<0>(table, Ks, c, codes.M, rows, n, skip, k, sign, ids, dists);
}

}  // namespace nanopq
