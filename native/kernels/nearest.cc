#include "kernels/nearest.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <faiss/utils/distances.h>

#include "kernels/cache.h"
#include "kernels/code_sums.h"
#include "kernels/exceptions.h"
#include "kernels/parallel.h"
#include "kernels/simd.h"

namespace nanopq {

namespace {

// Distances are |c'|^2 / 2 - x'.c' (half the squared distance less |x'|^2 / 2,
// which does not change the argmin), with x' and c' centred on the subspace's
// codeword mean: uncentred, that difference loses the distances of data far
// from the origin. A tile of R rows is compared with one panel of 2W
// codewords at a time; the R x 2W dot products stay in vector registers, so
// nothing of size n x Ks is written. BLAS (Faiss's knn_L2sqr), which writes
// and rereads that matrix, measured 3x slower: 128 against 38 ms for the 8
// subspaces of 20,000 x 784 against 256 codewords each (2 cores, AVX-512).
constexpr int kPanelVectors = 2;  // a panel is 2 vectors wide: wider measured no faster

// What the kernel finds for each row: the nearest codeword, its value and,
// when settling near ties, the next smallest value (of another codeword, or
// of a tie).
struct Found {
    int32_t* nearest;
    float* value;
    float* runner_up_value;
    float* norm;  // |x'|^2
};

// Found for R centred rows (R x Ds, contiguous), of which the first `count`
// are wanted.
template <int W, int R, bool Settle>
NANOPQ_INLINE void nearest_in_tile(const float* rows, size_t count, const Panels& p, Found found) {
    typedef typename Simd<W>::F F;
    typedef typename Simd<W>::I I;
    typedef const typename Simd<W>::Unaligned* Load;
    constexpr int V = kPanelVectors, width = V * W;
    F best[R], second[R];
    I best_k[R];
    for (int r = 0; r < R; r++) {
        best[r] = second[r] = F{} + INFINITY;
        best_k[r] = I{};
    }
    I lane;
    for (int l = 0; l < W; l++) lane[l] = l;
    for (size_t q = 0; q < p.count; q++) {
        F dot[R][V];
        for (int r = 0; r < R; r++)
            for (int v = 0; v < V; v++) dot[r][v] = F{};
        const float* c = p.values.data() + q * p.Ds * width;
        for (size_t j = 0; j < p.Ds; j++, c += width) {
            F cj[V];
            for (int v = 0; v < V; v++) cj[v] = *Load(c + v * W);
            for (int r = 0; r < R; r++) {
                const float xj = rows[r * p.Ds + j];  // a scalar operand is broadcast
                for (int v = 0; v < V; v++) dot[r][v] += xj * cj[v];
            }
        }
        for (int v = 0; v < V; v++) {
            const F half_norm = *Load(&p.half_norms[q * width + v * W]);
            const I k = lane + int32_t(q * width + v * W);
            for (int r = 0; r < R; r++) {
                const F d = half_norm - dot[r][v];
                const I closer = d < best[r];
                if (Settle) {
                    const F larger = closer ? best[r] : d;
                    second[r] = larger < second[r] ? larger : second[r];
                }
                best[r] = closer ? d : best[r];
                best_k[r] = closer ? k : best_k[r];
            }
        }
    }
    for (size_t r = 0; r < count; r++) {
        int winner = 0;  // lowest value, then lowest codeword
        for (int l = 1; l < W; l++)
            if (best[r][l] < best[r][winner] || (best[r][l] == best[r][winner] && best_k[r][l] < best_k[r][winner]))
                winner = l;
        found.nearest[r] = best_k[r][winner];
        found.value[r] = best[r][winner];
        if (!Settle) continue;
        float runner_up = INFINITY;
        for (int l = 0; l < W; l++) runner_up = std::min({runner_up, second[r][l], l == winner ? INFINITY : best[r][l]});
        found.runner_up_value[r] = runner_up;
    }
}

template <int W>
NANOPQ_INLINE float squared_norm(const float* v, size_t n) {
    typedef typename Simd<W>::F F;
    F sum = F{};
    size_t j = 0;
    for (; j + W <= n; j += W) {
        const F vj = *reinterpret_cast<const typename Simd<W>::Unaligned*>(v + j);
        sum += vj * vj;
    }
    float total = 0;
    for (int l = 0; l < W; l++) total += sum[l];
    for (; j < n; j++) total += v[j] * v[j];
    return total;
}

// Found for rows [0, n) of one subspace of x (row stride ldx). `scratch` holds R * Ds floats.
template <int W, int R, bool Settle>
NANOPQ_INLINE void nearest_in_rows(const float* x, size_t ldx, size_t n, const Panels& p, float* scratch,
                                   Found found) {
    for (size_t i0 = 0; i0 < n; i0 += R) {
        const size_t count = std::min<size_t>(R, n - i0);
        // The next tile's rows, a row of x apart, are fetched while this tile
        // computes: read when it starts, they stalled it on memory.
        for (size_t r = i0 + R; r < std::min(n, i0 + 2 * R); r++)
            for (size_t j = 0; j < p.Ds + 64 / sizeof(float); j += 64 / sizeof(float))
                __builtin_prefetch(x + r * ldx + std::min(j, p.Ds - 1));
        for (size_t r = 0; r < size_t(R); r++) {  // a short last tile repeats its last row
            const float* in = x + (i0 + std::min(r, count - 1)) * ldx;
            for (size_t j = 0; j < p.Ds; j++) scratch[r * p.Ds + j] = in[j] - p.mean[j];
            if (r < count) found.norm[i0 + r] = squared_norm<W>(scratch + r * p.Ds, p.Ds);
        }
        nearest_in_tile<W, R, Settle>(scratch, count, p, {found.nearest + i0, found.value + i0,
                                                          Settle ? found.runner_up_value + i0 : nullptr, nullptr});
    }
}

// a < b ? a : b and a > b ? a : b (b when not comparable), as x86's minps
// and maxps. GCC compiles the AVX2 form of these to two blends when it has
// the comparison at hand for another use: written out, they stay one
// instruction.
template <int W>
NANOPQ_INLINE typename Simd<W>::F smaller(typename Simd<W>::F a, typename Simd<W>::F b) {
#if defined(__x86_64__)
    if constexpr (W == 8) {
        typename Simd<W>::F r;
        asm("vminps %2, %1, %0" : "=x"(r) : "x"(a), "xm"(b));
        return r;
    }
#endif
    return a < b ? a : b;
}
template <int W>
NANOPQ_INLINE typename Simd<W>::F larger(typename Simd<W>::F a, typename Simd<W>::F b) {
#if defined(__x86_64__)
    if constexpr (W == 8) {
        typename Simd<W>::F r;
        asm("vmaxps %2, %1, %0" : "=x"(r) : "x"(a), "xm"(b));
        return r;
    }
#endif
    return a > b ? a : b;
}

// nearest_in_rows for short sub-vectors: the lanes of a vector are W rows
// (R vectors of them), each codeword's values are broadcast, and each lane
// keeps its own row's best, so nothing is reduced across lanes. With few
// dimensions a codeword, nearest_in_rows' end of tile (comparing W lanes per
// row, twice when settling) costs more than its dot products. Each lane adds
// up x'_j c'_j in the same order, with the same contraction, as
// nearest_in_tile, and takes the same smallest value and codeword (lowest k
// on ties) and runner-up: the two kernels find the same, to the bit.
// `scratch` holds Ds * (R * W + 1) floats.
template <int W, int R, bool Settle, size_t FixedDs>
NANOPQ_INLINE void nearest_in_rows_by_lanes(const float* x, size_t ldx, size_t n, const Panels& p, float* scratch,
                                            Found found) {
    const size_t Ds = FixedDs ? FixedDs : p.Ds;
    typedef typename Simd<W>::F F;
    typedef typename Simd<W>::I I;
    typedef const typename Simd<W>::Unaligned* Load;
    constexpr size_t tile = size_t(R) * W, width = kPanelVectors * W;
    float* columns = scratch;          // Ds x tile: dimension j of the tile's rows
    float* row = scratch + Ds * tile;  // one centred row, for its norm
    for (size_t i0 = 0; i0 < n; i0 += tile) {
        const size_t count = std::min(tile, n - i0);
        // The next tile's rows, a row of x apart, are fetched while this tile
        // computes (as nearest_in_rows does); a short sub-vector spans one
        // or two cache lines.
        for (size_t r = i0 + tile; r < std::min(n, i0 + 2 * tile); r++) {
            __builtin_prefetch(x + r * ldx);
            __builtin_prefetch(x + r * ldx + Ds - 1);
        }
        for (size_t t = 0; t < tile; t++) {  // a short last tile repeats its last row
            const float* in = x + (i0 + std::min(t, count - 1)) * ldx;
            for (size_t j = 0; j < Ds; j++) row[j] = in[j] - p.mean[j];
            if (t < count) found.norm[i0 + t] = squared_norm<W>(row, Ds);
            for (size_t j = 0; j < Ds; j++) columns[j * tile + t] = row[j];
        }
        F best[R], second[R];
        I best_k[R];
        for (int r = 0; r < R; r++) {
            best[r] = second[r] = F{} + INFINITY;
            best_k[r] = I{};
        }
        for (size_t k = 0; k < p.Ks; k++) {
            const float* c = p.values.data() + (k / width) * Ds * width + k % width;
            F dot[R];
            for (int r = 0; r < R; r++) dot[r] = F{};
            for (size_t j = 0; j < Ds; j++) {
                const float cj = c[j * width];
                for (int r = 0; r < R; r++) dot[r] += *Load(columns + j * tile + r * W) * cj;
            }
            const float half_norm = p.half_norms[k];
            const I code = I{} + int32_t(k);
            for (int r = 0; r < R; r++) {
                const F d = half_norm - dot[r];
                // nearest_in_tile's steps as minimum and maximum (d when
                // not comparable), which AVX2 does in one instruction each.
                if (Settle) second[r] = smaller<W>(larger<W>(best[r], d), second[r]);
                best_k[r] = d < best[r] ? code : best_k[r];
                best[r] = smaller<W>(d, best[r]);
            }
        }
        for (size_t t = 0; t < count; t++) {
            found.nearest[i0 + t] = best_k[t / W][t % W];
            found.value[i0 + t] = best[t / W][t % W];
            if (Settle) found.runner_up_value[i0 + t] = second[t / W][t % W];
        }
    }
}

// nearest_in_rows_by_lanes, its loop over dimensions unrolled for the common short sub-vectors.
template <int W, int R, bool Settle>
NANOPQ_INLINE void nearest_in_rows_by_lanes(const float* x, size_t ldx, size_t n, const Panels& p, float* scratch,
                                            Found found) {
    switch (p.Ds) {
        case 4: return nearest_in_rows_by_lanes<W, R, Settle, 4>(x, ldx, n, p, scratch, found);
        case 8: return nearest_in_rows_by_lanes<W, R, Settle, 8>(x, ldx, n, p, scratch, found);
        default: return nearest_in_rows_by_lanes<W, R, Settle, 0>(x, ldx, n, p, scratch, found);
    }
}

// Distance tables of one subspace for R queries, against P panels at a
// time: 2 P R accumulators hide the latency of the fused multiply-adds, and a
// panel read from memory serves R queries. For L2, q[r] is query r's
// sub-vector centred on the codeword mean and the entry of codeword k is
// |q[r] - c'_k|^2 (the differences nanopq computes); for Dot, q[r] is the
// sub-vector as it is and the entry is q[r].c'_k + offset[r], offset[r] =
// q[r].mean. Entry k of query r goes to out[r][k * stride]. Every entry is
// the same sum in the same order whatever R and P, so a table does not depend
// on how many queries were computed with it.
template <int W, int R, int P, bool Dot>
NANOPQ_INLINE void table_tile(const float* const* q, const Panels& p, size_t first, const float* offset, size_t Ks,
                              float* const* out, size_t stride) {
    typedef typename Simd<W>::F F;
    typedef const typename Simd<W>::Unaligned* Load;
    constexpr int V = kPanelVectors, width = V * W;
    F acc[R][P][V];
    for (int r = 0; r < R; r++)
        for (int b = 0; b < P; b++)
            for (int v = 0; v < V; v++) acc[r][b][v] = F{};
    const float* c = p.values.data() + first * p.Ds * width;
    const size_t panel_stride = p.Ds * width;
    for (size_t j = 0; j < p.Ds; j++, c += width) {
        for (int b = 0; b < P; b++)
            for (int v = 0; v < V; v++) {
                const F cj = *Load(c + b * panel_stride + v * W);
                for (int r = 0; r < R; r++) {
                    if (Dot) {
                        acc[r][b][v] += q[r][j] * cj;
                    } else {
                        const F d = cj - q[r][j];
                        acc[r][b][v] += d * d;
                    }
                }
            }
    }
    for (int r = 0; r < R; r++)
        for (int b = 0; b < P; b++)
            for (int v = 0; v < V; v++) {
                const size_t k0 = (first + b) * width + v * W;
                const F entries = acc[r][b][v] + offset[r];
                if (stride == 1 && k0 + W <= Ks) {  // a table's row: one store
                    *(typename Simd<W>::Unaligned*)(out[r] + k0) = entries;
                    continue;
                }
                for (int l = 0; l < W; l++)
                    if (k0 + l < Ks) out[r][(k0 + l) * stride] = entries[l];
            }
}

// The tables of `rows` queries (1 or 4) for one subspace, over its panels
// [first, last).
template <int W, bool Dot>
NANOPQ_INLINE void tables_of(const float* const* q, size_t rows, const Panels& p, size_t first, size_t last,
                             const float* offset, size_t Ks, float* const* out, size_t stride) {
    constexpr int P = 4;
    if (rows == 1) {  // one query: several panels at a time
        for (; first + P <= last; first += P) table_tile<W, 1, P, Dot>(q, p, first, offset, Ks, out, stride);
        for (; first < last; first++) table_tile<W, 1, 1, Dot>(q, p, first, offset, Ks, out, stride);
        return;
    }
    for (; first < last; first++) table_tile<W, 4, 1, Dot>(q, p, first, offset, Ks, out, stride);
}

typedef void (*RowsFn)(const float*, size_t, size_t, const Panels&, float*, Found);
typedef void (*TableFn)(const float* const*, size_t, const Panels&, size_t, size_t, bool, const float*, size_t,
                        float* const*, size_t);

struct Kernel {
    RowsFn run;                 // nearest_in_rows
    RowsFn run_settling;        // nearest_in_rows, with runner-up values
    RowsFn run_lanes;           // nearest_in_rows_by_lanes
    RowsFn run_lanes_settling;  // nearest_in_rows_by_lanes, with runner-up values
    TableFn tables;             // tables_of
    size_t width;               // codewords per panel
    size_t rows;                // rows per tile of nearest_in_rows
    size_t lane_rows;           // rows per tile of nearest_in_rows_by_lanes
};

// Each level's entry points, compiled with its attributes (the kernels are
// inlined into them): rows_<target> (nearest_in_rows, or by lanes) and
// tables_<target> (tables_of).
#define NANOPQ_ENTRIES(target, ...)                                                                               \
    template <int W, int R, int L, bool Settle, bool Lanes>                                                      \
    __VA_ARGS__ void rows_##target(const float* x, size_t ldx, size_t n, const Panels& p, float* scratch,         \
                                   Found found) {                                                                \
        Lanes ? nearest_in_rows_by_lanes<W, L, Settle>(x, ldx, n, p, scratch, found)                             \
              : nearest_in_rows<W, R, Settle>(x, ldx, n, p, scratch, found);                                     \
    }                                                                                                            \
    template <int W>                                                                                             \
    __VA_ARGS__ void tables_##target(const float* const* q, size_t rows, const Panels& p, size_t first,          \
                                     size_t last, bool dot, const float* offset, size_t Ks, float* const* out,   \
                                     size_t stride) {                                                            \
        dot ? tables_of<W, true>(q, rows, p, first, last, offset, Ks, out, stride)                               \
            : tables_of<W, false>(q, rows, p, first, last, offset, Ks, out, stride);                             \
    }

#if defined(__x86_64__) || defined(__i386__)
NANOPQ_ENTRIES(avx512, __attribute__((target("avx512f"))))
NANOPQ_ENTRIES(avx2, __attribute__((target("avx2,fma"))))
#endif
#if defined(__aarch64__)
// arm64 builds with -ffp-contract=off, so that the plain kernels and every
// scalar sum add up as x86-64's (which has no FMA) do, to the bit; the NEON
// kernels fuse multiply-adds, as the AVX2 and AVX-512 ones do, and find what
// they find to the bit.
NANOPQ_ENTRIES(neon, __attribute__((optimize("fp-contract=fast"))))
#endif
NANOPQ_ENTRIES(generic)

// R rows a tile for nearest_in_rows; L vectors of W rows for nearest_in_rows_by_lanes.
#define NANOPQ_KERNEL(target, W, R, L)                                                                           \
    Kernel {                                                                                                     \
        rows_##target<W, R, L, false, false>, rows_##target<W, R, L, true, false>,                               \
            rows_##target<W, R, L, false, true>, rows_##target<W, R, L, true, true>, tables_##target<W>,         \
            kPanelVectors * (W), R, (L) * (W)                                                                    \
    }

// The kernel of the level kernels/simd.h chose.
Kernel choose_kernel() {
    switch (simd_level()) {
#if defined(__x86_64__) || defined(__i386__)
        case SimdLevel::Avx512: return NANOPQ_KERNEL(avx512, 16, 8, 4);  // registers: 16 + 2 + 1 of 32 zmm
        case SimdLevel::Avx2: return NANOPQ_KERNEL(avx2, 8, 4, 4);       // 8 + 2 + 1 of 16 ymm
#endif
#if defined(__aarch64__)
        case SimdLevel::Neon: return NANOPQ_KERNEL(neon, 4, 8, 4);  // registers: 16 + 2 + 1 of 32 q
#endif
        default: return NANOPQ_KERNEL(generic, 4, 4, 2);
    }
}

const Kernel& kernel() {
    static const Kernel chosen = choose_kernel();
    return chosen;
}

// Below this many rows, encoding computes a distance table per row (exact
// differences, every codeword once) instead of the tiled kernel, whose tiles
// of `rows` rows would mostly repeat a row.
constexpr size_t kTableRows = 16;

// What the kernels found for one row in one subspace, before settling.
struct Candidate {
    int32_t nearest;
    float distance;  // |x' - c'|^2, or not finite when it overflowed
    float half_gap;  // half the distance from the runner-up to the nearest
    float norm;      // |x'|^2
};

// One subspace of one row, centred: (Ds,).
float centred_sub_vector(const float* in, const Panels& p, float* out) {
    float norm = 0;
    for (size_t j = 0; j < p.Ds; j++) {
        out[j] = in[j] - p.mean[j];
        norm += out[j] * out[j];
    }
    return norm;
}

// A query's sub-vector as the table kernel reads it into `out`: centred for
// L2, as it is for Dot. Returns what the table adds to each entry: x . mean
// for Dot (the codewords are centred), 0 for L2.
float query_sub_vector(const float* in, const Panels& p, Metric metric, float* out) {
    if (metric == Metric::L2) {
        centred_sub_vector(in, p, out);
        return 0;
    }
    std::copy(in, in + p.Ds, out);
    float offset = 0;
    for (size_t j = 0; j < p.Ds; j++) offset += in[j] * p.mean[j];
    return offset;
}

// A sub-vector's distance table (differences of centred values) into `table`;
// returns |x'|^2. `centred` holds Ds floats.
float table_of(const float* in, const Panels& p, size_t Ks, float* centred, float* table) {
    const float norm = centred_sub_vector(in, p, centred);
    const float no_offset = 0;
    kernel().tables(&centred, 1, p, 0, p.count, false, &no_offset, Ks, &table, 1);
    return norm;
}

// How far above the smallest entry d of a distance table another entry may be
// and still come first by exact differences: the table's float32 sums and
// Faiss's each err by at most about (Ds + 2) eps d, and the centring adds
// 2 eps sqrt(d) (|x'| + |c'|), c' the largest; four such errors. This window
// is far narrower than the tiled kernel's, whose dot products err in
// proportion to (|x'| + |c'|)^2.
float tie_window(float d, float norm, const Panels& p) {
    const float eps = std::numeric_limits<float>::epsilon();
    const float reach = std::sqrt(norm) + std::sqrt(p.largest_norm);
    return 4 * eps * (float(p.Ds + 2) * d + 2 * std::sqrt(d) * reach);
}

// The nearest codeword by exact differences, as nanopq's and Faiss's encoders
// compute them (faiss::fvec_L2sqr, ties to the lower k), for a row whose
// distances may be in the wrong order: a distance table, then exact
// differences for the entries within tie_window() of its smallest only.
// `scratch` is resized to Ks + Ds.
int32_t exact_nearest(const float* in, const float* codewords, const Panels& p, size_t Ks, float& distance,
                      std::vector<float>& scratch) {
    scratch.resize(Ks + p.Ds);
    float* table = scratch.data();
    const float norm = table_of(in, p, Ks, table + Ks, table);
    const float d = *std::min_element(table, table + Ks);
    const float limit = d + tie_window(d, norm, p);
    int32_t nearest = -1;
    distance = INFINITY;
    for (size_t k = 0; k < Ks; k++) {
        if (!(table[k] <= limit)) continue;
        const float e = faiss::fvec_L2sqr(in, codewords + k * p.Ds, p.Ds);
        if (e < distance) distance = e, nearest = int32_t(k);
    }
    return nearest;
}

// The codeword for a candidate: as found, or, when the distances may be in
// the wrong order, by exact_nearest(); when the kernel's arithmetic may have
// overflowed, by exact differences to every codeword. With r = |x'| + |c'|
// (c' the largest), a kernel value is off by at most about (Ds + 1) u r^2 / 2,
// u = eps / 2 (Ds rounded products summed, then a difference, on values
// centred with an error of u each), and so is half an exact squared
// difference in float32: two values closer than (Ds + 3) eps r^2 may be in
// either order. Rows where the kernel's arithmetic may have overflowed (r^2
// bounds what it adds up) are rescanned too.
int32_t settle(const Candidate& found, const float* in, const float* codewords, const Panels& p, size_t Ks,
               bool settle_near_ties, float& distance, std::vector<float>& exact) {
    const float tie_width = std::numeric_limits<float>::epsilon() * float(p.Ds + 3);
    const float reach = std::sqrt(found.norm) + std::sqrt(p.largest_norm), scale = reach * reach;
    const bool overflow_free = std::isfinite(found.distance) && scale < 1e37f;
    distance = found.distance;
    if (overflow_free && !(settle_near_ties && found.half_gap <= tie_width * scale)) return found.nearest;
    if (overflow_free) return exact_nearest(in, codewords, p, Ks, distance, exact);
    exact.resize(Ks);
    faiss::fvec_L2sqr_ny(exact.data(), in, codewords, p.Ds, Ks);
    const int32_t nearest = int32_t(std::min_element(exact.begin(), exact.end()) - exact.begin());
    distance = exact[size_t(nearest)];
    if (!(distance < INFINITY)) throw RangeError("Expected vectors whose squared distances fit in float32");
    return nearest;
}

void store_code(Codes codes, size_t i, size_t m, int32_t k) {
    codes.visit([&](auto* out) { out[i * codes.M + m] = std::remove_pointer_t<decltype(out)>(k); });
}

// distances[i] = the sum over subspaces of row i's, in subspace order (whatever the threads).
void add_up_subspaces(const std::vector<float>& per_subspace, size_t n, size_t M, float* distances) {
    for (size_t i = 0; i < n; i++) {
        float total = 0;
        for (size_t m = 0; m < M; m++) total += per_subspace[m * n + i];
        distances[i] = total;
    }
}

// body(first, last) over the subspaces [0, M) of a call on a few rows: shared
// with the helper thread (with_helper) when the codebook is more than half a
// core's L2, each thread from its own end, so that each reads about the same
// half call after call, and it stays in that core's L2.
// Returns whether it was shared.
template <typename Body>
bool on_codebook(const Codebook& cb, const Body& body) {
    const bool shared = cb.M * cb.Ks * cb.Ds * sizeof(float) > cache_plan().l2 / 2;
    shared ? with_helper(cb.M, body) : body(0, cb.M);
    return shared;
}

// nearest_codewords for a few rows: a distance table per row and subspace and
// its smallest entry, settled as exact_nearest() does when another entry is
// within tie_window() of it.
void nearest_by_tables(const Codebook& cb, const std::vector<Panels>& panels, SubVectors x, Codes codes,
                       bool settle_near_ties, float* distances) {
    std::vector<float> per_subspace(distances ? cb.M * codes.n : 0);
    on_codebook(cb, [&](size_t first, size_t last) {
        std::vector<float> centred(cb.Ds), table(cb.Ks), exact;
        for (size_t m = first; m < last; m++) {
            const Panels& p = panels[m];
            for (size_t i = 0; i < codes.n; i++) {
                const float* in = x.at(i, m);
                const float norm = table_of(in, p, cb.Ks, centred.data(), table.data());
                const size_t best = size_t(std::min_element(table.begin(), table.end()) - table.begin());
                const float d = table[best];
                const float limit = d + tie_window(d, norm, p);
                size_t close = 0;
                if (settle_near_ties)
                    for (float e : table) close += e <= limit;
                // settle() rescans on overflow, or when asked to by a zero gap.
                const Candidate found{int32_t(best), d, close > 1 ? 0.0f : INFINITY, norm};
                float distance;
                store_code(codes, i, m, settle(found, in, cb.codewords + m * cb.Ks * cb.Ds, p, cb.Ks, settle_near_ties,
                                               distance, exact));
                if (distances) per_subspace[m * codes.n + i] = distance;
            }
        }
    });
    if (distances) add_up_subspaces(per_subspace, codes.n, cb.M, distances);
}

}  // namespace

Panels::Panels(const float* codewords, size_t Ks, size_t Ds, bool centred)
    : Ks(Ks), Ds(Ds), width(kernel().width), count((Ks + width - 1) / width), mean(Ds, 0.0f),
      values(count * Ds * width, 0.0f), half_norms(count * width, INFINITY) {
    std::vector<double> sum(Ds, 0.0);
    for (size_t k = 0; k < Ks && centred; k++)
        for (size_t j = 0; j < Ds; j++) sum[j] += codewords[k * Ds + j];
    for (size_t j = 0; j < Ds; j++) mean[j] = float(sum[j] / double(Ks));
    for (size_t k = 0; k < Ks; k++) {
        float* panel = values.data() + (k / width) * Ds * width + k % width;
        float norm = 0;
        for (size_t j = 0; j < Ds; j++) {
            const float c = codewords[k * Ds + j] - mean[j];
            panel[j * width] = c;
            norm += c * c;
        }
        half_norms[k] = norm / 2;
        largest_norm = std::max(largest_norm, norm);
    }
}

std::vector<Panels> make_panels(const Codebook& cb) {
    if (cb.Ks > size_t(INT32_MAX)) throw RangeError("Expected Ks < 2**31");
    std::vector<Panels> panels;
    panels.reserve(cb.M);
    for (size_t m = 0; m < cb.M; m++) panels.emplace_back(cb.codewords + m * cb.Ks * cb.Ds, cb.Ks, cb.Ds);
    return panels;
}

void nearest_codewords(const Codebook& cb, const float* x, Codes codes, bool settle_near_ties, float* distances) {
    nearest_codewords(cb, make_panels(cb), x, codes, settle_near_ties, distances);
}

namespace {

// Below this many dimensions a sub-vector, nearest_in_rows_by_lanes finds
// codewords faster than nearest_in_rows (768-d vectors, M = 48, 96, 192).
constexpr size_t kLaneDs = 16;

// nearest_codewords for rows [i0, i0 + n) in subspace m, with the tiled kernel;
// each row's squared distance goes to per_subspace[m * codes.n + i], when given.
void nearest_in_block(const Codebook& cb, const Panels& p, SubVectors x, Codes codes, bool settle_near_ties,
                      size_t m, size_t i0, size_t n, float* per_subspace) {
    const Kernel& kernel = nanopq::kernel();
    const bool lanes = cb.Ds < kLaneDs;
    std::vector<float> scratch(cb.Ds * (lanes ? kernel.lane_rows + 1 : kernel.rows)), value(n),
        runner_up_value(n), norm(n), exact;
    std::vector<int32_t> nearest(n);
    (lanes ? (settle_near_ties ? kernel.run_lanes_settling : kernel.run_lanes)
           : (settle_near_ties ? kernel.run_settling : kernel.run))(
        x.at(i0, m), x.row_stride, n, p, scratch.data(),
        {nearest.data(), value.data(), runner_up_value.data(), norm.data()});
    for (size_t i = 0; i < n; i++) {
        const Candidate found{nearest[i], 2 * value[i] + norm[i],
                              settle_near_ties ? runner_up_value[i] - value[i] : INFINITY, norm[i]};
        float distance;
        nearest[i] = settle(found, x.at(i0 + i, m), cb.codewords + m * cb.Ks * cb.Ds, p, cb.Ks,
                            settle_near_ties, distance, exact);
        if (per_subspace) per_subspace[m * codes.n + i0 + i] = distance;
    }
    codes.visit([&](auto* out) {
        using Code = std::remove_pointer_t<decltype(out)>;
        for (size_t i = 0; i < n; i++) out[(i0 + i) * cb.M + m] = Code(nearest[i]);
    });
}

constexpr size_t kBlockRows = 256;

// Subspaces that one task takes in turn over the same rows: as many as share
// a cache line of a row (64 bytes), so that a line fetched for the first is
// read from L1 by the others instead of again from memory for each (768-d
// vectors with M = 192 read each line 4 times, and stalled on it).
size_t subspaces_a_group(size_t Ds) { return std::max<size_t>(1, 64 / sizeof(float) / Ds); }

// nearest_codewords over sub-vectors laid out as `x` says.
void nearest_in(const Codebook& cb, const std::vector<Panels>& panels, SubVectors x, Codes codes,
                bool settle_near_ties, float* distances) {
    codes.check_capacity(cb.Ks);
    if (codes.n < kTableRows) return nearest_by_tables(cb, panels, x, codes, settle_near_ties, distances);
    const size_t blocks = (codes.n + kBlockRows - 1) / kBlockRows, group = subspaces_a_group(cb.Ds);
    std::vector<float> per_subspace(distances ? cb.M * codes.n : 0);
    // One parallel region over every (group of subspaces, block of rows).
    parallel_for(int64_t((cb.M + group - 1) / group * blocks), [&](int64_t task) {
        const size_t m0 = size_t(task) / blocks * group, i0 = (size_t(task) % blocks) * kBlockRows;
        for (size_t m = m0; m < std::min(cb.M, m0 + group); m++)
            nearest_in_block(cb, panels[m], x, codes, settle_near_ties, m, i0, std::min(kBlockRows, codes.n - i0),
                             distances ? per_subspace.data() : nullptr);
    }, codes.n * cb.M * cb.Ds >= 65536);
    if (distances) add_up_subspaces(per_subspace, codes.n, cb.M, distances);
}

}  // namespace

void nearest_codewords(const Codebook& cb, const std::vector<Panels>& panels, const float* x, Codes codes,
                       bool settle_near_ties, float* distances) {
    nearest_in(cb, panels, SubVectors::row_major(x, cb.M, cb.Ds), codes, settle_near_ties, distances);
}

CodeSums assign_and_sum(const Codebook& cb, SubVectors x, Codes codes, float* distances) {
    const size_t M = cb.M, Ks = cb.Ks, Ds = cb.Ds, n = codes.n;
    const std::vector<Panels> panels = make_panels(cb);
    // A thread a group of subspaces: with fewer groups than twice the
    // threads, or few rows, the two passes share the work out better.
    if (M / subspaces_a_group(Ds) < 2 * size_t(num_threads()) || n < kTableRows) {
        nearest_in(cb, panels, x, codes, false, distances);
        return sum_by_code(x, codes, Ds, Ks, false);
    }
    codes.check_capacity(Ks);
    CodeSums out{std::vector<float>(M * Ks * Ds, 0.0f), std::vector<uint32_t>(M * Ks, 0)};
    std::vector<float> per_subspace(distances ? M * n : 0);
    const size_t group = subspaces_a_group(Ds);
    parallel_for(int64_t((M + group - 1) / group), [&](int64_t task) {
        const size_t m0 = size_t(task) * group;
        for (size_t i0 = 0; i0 < n; i0 += kBlockRows) {
            const size_t rows = std::min(kBlockRows, n - i0);
            for (size_t m = m0; m < std::min(M, m0 + group); m++) {
                nearest_in_block(cb, panels[m], x, codes, false, m, i0, rows,
                                 distances ? per_subspace.data() : nullptr);
                // The block's sub-vectors, still in cache, added up in row
                // order (as sum_by_code, to the bit).
                codes.visit([&](const auto* in) {
                    for (size_t i = i0; i < i0 + rows; i++) out.add(m * Ks + in[i * M + m], x.at(i, m), Ds);
                });
            }
        }
    });
    if (distances) add_up_subspaces(per_subspace, n, M, distances);
    return out;
}

void distance_tables(const Codebook& cb, const std::vector<Panels>& panels, const float* queries, size_t nq,
                     Metric metric, float* out, size_t q_stride, size_t k_stride) {
    constexpr size_t kRows = 4, kMostBlock = 256;  // queries a tile (tables_of); the most a block
    const size_t D = cb.M * cb.Ds, Ds = cb.Ds;
    if (nq == 1) {  // one query: a subspace at a time, all of its panels
        std::vector<float> sub_vectors(D);
        const bool shared = on_codebook(cb, [&](size_t first, size_t last) {
            for (size_t m = first; m < last; m++) {
                float *sub_vector = &sub_vectors[m * Ds], *table = out + m * cb.Ks * k_stride;
                const float offset = query_sub_vector(queries + m * Ds, panels[m], metric, sub_vector);
                kernel().tables(&sub_vector, 1, panels[m], 0, panels[m].count, metric == Metric::Dot, &offset, cb.Ks,
                                &table, k_stride);
            }
        });
        // The table's lines the helper wrote, fetched all at once: a scan
        // would then miss on them one lookup at a time (2-3 us for 8 KB).
        const size_t floats = (cb.M * cb.Ks - 1) * k_stride + 1;
        if (shared)
            for (size_t i = 0; i < floats; i += 64 / sizeof(float)) __builtin_prefetch(out + i);
        return;
    }
    // A block of queries at a time, subspace by subspace; in a subspace, a
    // run of panels that fits in half the L1 serves every query of the block
    // before the next run is read, and the block's sub-vectors fill a quarter
    // of it. The codebook is read from L2 or beyond once a block instead of
    // once every 4 queries: a 784 x 256 one is 800 KB, more than a Zen 3
    // core's 512 KB L2.
    const size_t l1d = cache_plan().l1d;
    const size_t block = fitting(l1d / 4, Ds * sizeof(float), kRows, kRows, kMostBlock);
    std::vector<float> sub_vectors(block * Ds), spare(nq % kRows ? cb.Ks * k_stride : 0);
    float offsets[kMostBlock];
    for (size_t b0 = 0; b0 < nq; b0 += block) {
        const size_t rows = std::min(block, nq - b0);
        for (size_t m = 0; m < cb.M; m++) {
            const Panels& p = panels[m];
            for (size_t r = 0; r < rows; r++)
                offsets[r] = query_sub_vector(queries + (b0 + r) * D + m * Ds, p, metric, &sub_vectors[r * Ds]);
            const size_t run = fitting(l1d / 2, Ds * p.width * sizeof(float), 1, 1, p.count);
            for (size_t first = 0; first < p.count; first += run) {
                for (size_t q0 = 0; q0 < rows; q0 += kRows) {
                    const size_t count = std::min(kRows, rows - q0);
                    const float* group[kRows];
                    float offset[kRows], *tables[kRows];
                    for (size_t r = 0; r < kRows; r++) {  // a short group repeats its last query into `spare`
                        const size_t q = q0 + std::min(r, count - 1);
                        group[r] = &sub_vectors[q * Ds];
                        offset[r] = offsets[q];
                        tables[r] = r < count ? out + (b0 + q) * q_stride + m * cb.Ks * k_stride : spare.data();
                    }
                    kernel().tables(group, kRows, p, first, std::min(p.count, first + run),
                                    metric == Metric::Dot, offset, cb.Ks, tables, k_stride);
                }
            }
        }
    }
}

}  // namespace nanopq
