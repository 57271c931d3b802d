#include "kernels/fast_scan.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/best.h"
#include "kernels/cache.h"
#include "kernels/exceptions.h"
#include "kernels/parallel.h"
#include "kernels/simd.h"

namespace nanopq {

namespace {

// Rows ranked by the float tables since the addon loaded, for the bench (packed_rows_ranked).
std::atomic<uint64_t> rows_ranked{0};

// The code of row j (0-31) of a block, subspace m.
inline uint8_t nibble(const uint8_t* block, size_t m, size_t j) {
    return uint8_t(block[m / 2 * kPackedBlock + j] >> (m % 2 * 4)) & 15;
}

// code_distance (kernels/scan.cc) of row j of a block: the same sum, in m order.
inline float row_distance(const float* table, const uint8_t* block, size_t M, size_t j) {
    float sum = table[nibble(block, 0, j)];
    for (size_t m = 1; m < M; m++) sum += table[m * 16 + nibble(block, m, j)];
    return sum;
}

// One query's entries, quantized to 8 bits for the kernels: entry k of
// subspace m (its key: the distance, or minus it for largest first) is at
// least low[m] + lut(m, k) / scale, so a row whose 8-bit entries add up to Q
// (saturating at 255: a sum that stops there is less than the true one) has
// a key of at least offset + Q / scale, less `slack` for the rounding of its
// float sum. The scale is set anew whenever the heap's worst key has come down
// so far that half the 8 bits go unused: the threshold is then 254 again.
// A table with an entry that is not finite bounds nothing: every row is a candidate.
class Bounds {
public:
    Bounds(const float* table, size_t M, float sign)
        : M_(M), keys_(M * 16), low_(M), lut_low_(packed_pairs(M) * 32, 0), lut_high_(packed_pairs(M) * 32, 0) {
        double magnitude = 0;
        for (size_t m = 0; m < M; m++) {
            float lo = INFINITY, hi = -INFINITY;
            for (size_t k = 0; k < 16; k++) {
                const float v = sign * table[m * 16 + k];
                if (!std::isfinite(v)) return;  // bounded_ stays false
                keys_[m * 16 + k] = v;
                lo = std::min(lo, v);
                hi = std::max(hi, v);
            }
            low_[m] = lo;
            offset_ += lo;
            magnitude += std::max(std::fabs(double(lo)), std::fabs(double(hi)));
        }
        // A float sum of M terms is within (M - 1) 2^-24 of their magnitudes' sum of the real one: twice that.
        slack_ = magnitude * double(M + 2) * std::ldexp(1.0, -23);
        bounded_ = true;
    }

    // Pair p's entries as byte-shuffle tables: subspace 2 p's (the low
    // nibbles') at lut_low() + 32 p, subspace 2 p + 1's at lut_high() + 32 p,
    // each twice (once a 128-bit lane).
    const uint8_t* lut_low() const { return lut_low_.data(); }
    const uint8_t* lut_high() const { return lut_high_.data(); }

    // The threshold for a heap whose worst key is `worst`: the largest Q
    // that may still enter, 255 for every row, -1 for none. Sets `rescaled`
    // when the entries changed.
    int32_t threshold(float worst, bool& rescaled) {
        if (!bounded_) return 255;
        const double room = double(worst) - offset_ + slack_;
        if (!std::isfinite(room)) return 255;
        if (room < 0) return -1;
        if (room == 0) return 0;
        const double t = std::floor(room * scale_);
        if (t >= 128 && t <= 254) return int32_t(t);
        scale_ = 254 / room;
        quantize();
        rescaled = true;
        return int32_t(std::min(254.0, std::floor(room * scale_)));
    }

private:
    void quantize() {
        for (size_t m = 0; m < M_; m++) {
            uint8_t* out = (m % 2 ? lut_high_.data() : lut_low_.data()) + m / 2 * 32;
            for (size_t k = 0; k < 16; k++) {
                // Rounded down, and a hair lower, so that no rounding of this
                // product makes an entry's bound pass the entry.
                const double q = std::floor((double(keys_[m * 16 + k]) - low_[m]) * scale_ - 1e-9);
                out[k] = out[k + 16] = uint8_t(std::min(255.0, std::max(0.0, q)));
            }
        }
    }

    size_t M_;
    std::vector<float> keys_;
    std::vector<double> low_;
    std::vector<uint8_t> lut_low_, lut_high_;
    double offset_ = 0, slack_ = 0, scale_ = 0;
    bool bounded_ = false;
};

// One query's scan of packed codes, block by block, keeping its k best (the
// k least by key, then id, as best_codes in kernels/scan.cc): a kernel adds
// up each block's quantized entries and passes over the rows that cannot
// enter; the others are ranked by the float table.
class PackedScan {
public:
    PackedScan(const float* table, size_t M, size_t k, bool largest_first)
        : table_(table), M_(M), k_(k), sign_(largest_first ? -1.0f : 1.0f), bounds_(table, M, sign_) {
        heap_.reserve(k);
    }

    // Rows [first, last) of codes (first a multiple of the block size).
    void scan(PackedCodes codes, size_t first, size_t last);

    std::vector<Entry>& heap() { return heap_; }
    const Bounds& bounds() const { return bounds_; }
    size_t pairs() const { return packed_pairs(M_); }
    // The largest 8-bit sum of a row that may enter (255: every row), or -1 for none.
    int32_t threshold() const { return threshold_; }

    // The rows of a block (row base) whose bits are set in mask; true when
    // the bounds' tables changed.
    bool take(const uint8_t* block, uint32_t mask, size_t base) {
        rows_ranked.fetch_add(uint64_t(__builtin_popcount(mask)), std::memory_order_relaxed);
        bool rescaled = false;
        for (; mask; mask &= mask - 1) {
            const size_t j = size_t(__builtin_ctz(mask));
            take(row_distance(table_, block, M_, j), uint32_t(base + j), rescaled);
        }
        return rescaled;
    }

private:
    void take(float d, uint32_t id, bool& rescaled) {
        if (!offer(heap_, k_, entry_of(sign_, d, id))) return;
        if (heap_.size() == k_) threshold_ = bounds_.threshold(heap_.front().key, rescaled);
    }

    const float* table_;
    size_t M_, k_;
    float sign_;
    Bounds bounds_;
    std::vector<Entry> heap_;
    int32_t threshold_ = 255;  // every row until the heap is full
};

// A kernel: scan.take() of the rows of blocks [first, last) (rows; blocks
// of codes from `data`) whose 8-bit sums are within scan.threshold().
typedef void (*ScanFn)(PackedScan& scan, const uint8_t* data, size_t first, size_t last);
// The same for kQueriesAtOnce scans together: each block is read once for all.
constexpr size_t kQueriesAtOnce = 4;
typedef void (*ScanManyFn)(PackedScan* scans, const uint8_t* data, size_t first, size_t last);

// The mask bits of rows [0, count) of a block.
inline uint32_t rows_below(size_t count) { return count >= 32 ? ~uint32_t(0) : (uint32_t(1) << count) - 1; }

void scan_generic(PackedScan& scan, const uint8_t* data, size_t first, size_t last) {
    const size_t pairs = scan.pairs(), bytes = pairs * kPackedBlock;
    for (size_t base = first; base < last && scan.threshold() >= 0; base += kPackedBlock) {
        const uint8_t* block = data + base / kPackedBlock * bytes;
        const uint8_t *low = scan.bounds().lut_low(), *high = scan.bounds().lut_high();
        uint32_t mask = 0;
        for (size_t j = 0; j < kPackedBlock; j++) {
            unsigned sum = 0;
            for (size_t p = 0; p < pairs; p++) {
                const uint8_t byte = block[p * kPackedBlock + j];
                sum += low[p * 32 + (byte & 15)] + high[p * 32 + (byte >> 4)];
            }
            mask |= uint32_t(std::min(sum, 255u) <= unsigned(scan.threshold())) << j;
        }
        mask &= rows_below(last - base);
        if (mask) scan.take(block, mask, base);
    }
}

// Whether any of kQueriesAtOnce scans may still take a row.
inline bool any_live(const PackedScan* scans) {
    for (size_t q = 0; q < kQueriesAtOnce; q++)
        if (scans[q].threshold() >= 0) return true;
    return false;
}

void scan_many_generic(PackedScan* scans, const uint8_t* data, size_t first, size_t last) {
    for (size_t q = 0; q < kQueriesAtOnce; q++) scan_generic(scans[q], data, first, last);
}

#if defined(__x86_64__) || defined(__i386__)
// The x86 kernels: a pair of subspaces' 32 bytes (one row each) looked up
// with byte shuffles, the low nibbles in the first subspace's table and the
// high nibbles in the second's, added with saturation into one byte a row.

// The byte-shuffle tables of pair p (256 bits), or of pairs 2 q and 2 q + 1 (512).
__attribute__((target("avx2"), always_inline)) inline __m256i pair_table(const uint8_t* lut, size_t p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lut + p * 32));
}
__attribute__((target("avx512bw"), always_inline)) inline __m512i quad_table(const uint8_t* lut, size_t q) {
    return _mm512_loadu_si512(lut + q * 64);
}

// The bits of the rows whose sums (one byte a row) are at most t.
__attribute__((target("avx2"), always_inline)) inline uint32_t within(__m256i sums, int32_t t) {
    const __m256i limit = _mm256_set1_epi8(char(t));
    return uint32_t(_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(sums, limit), sums)));
}

// The rows [0, count) of a block that some query's sums (sums[q], one byte a
// row) put within its threshold: none, and the block is passed over.
__attribute__((target("avx2"), always_inline)) inline uint32_t within_any(const PackedScan* scans, const __m256i* sums,
                                                                          size_t count) {
    uint32_t any = 0;
    for (size_t q = 0; q < kQueriesAtOnce; q++)
        if (scans[q].threshold() >= 0) any |= within(sums[q], scans[q].threshold());
    return any & rows_below(count);
}

// Each query takes the rows [0, count) of a block that its sums put within its threshold.
__attribute__((target("avx2"), always_inline)) inline void take_within(PackedScan* scans, const __m256i* sums,
                                                                       const uint8_t* block, size_t base, size_t count) {
    for (size_t q = 0; q < kQueriesAtOnce; q++) {
        if (scans[q].threshold() < 0) continue;
        const uint32_t mask = within(sums[q], scans[q].threshold()) & rows_below(count);
        if (mask) scans[q].take(block, mask, base);  // the tables are read anew each block
    }
}

// One pair of a block (its 32 bytes at `codes`) looked up in the pair's
// tables and added to sums (saturating).
__attribute__((target("avx2"), always_inline)) inline __m256i add_pair(__m256i sums, const uint8_t* codes, __m256i low,
                                                                      __m256i high) {
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes));
    sums = _mm256_adds_epu8(sums, _mm256_shuffle_epi8(low, _mm256_and_si256(c, low4)));
    return _mm256_adds_epu8(sums, _mm256_shuffle_epi8(high, _mm256_and_si256(_mm256_srli_epi16(c, 4), low4)));
}

// 512-bit sums of two pairs a register to 256: the halves hold the same rows.
__attribute__((target("avx512bw"), always_inline)) inline __m256i narrow(__m512i wide) {
    return _mm256_adds_epu8(_mm512_castsi512_si256(wide), _mm512_extracti64x4_epi64(wide, 1));
}

// Pairs is the number of subspace pairs when known at compile time (the
// tables then stay in registers), else 0.
template <size_t Pairs>
__attribute__((target("avx2"))) void scan_avx2_of(PackedScan& scan, const uint8_t* data, size_t first, size_t last) {
    const size_t pairs = Pairs ? Pairs : scan.pairs(), bytes = pairs * kPackedBlock;
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    __m256i low[Pairs ? Pairs : 1], high[Pairs ? Pairs : 1];
    const auto load_tables = [&]() __attribute__((target("avx2"), always_inline)) {
        for (size_t p = 0; p < Pairs; p++) low[p] = pair_table(scan.bounds().lut_low(), p), high[p] = pair_table(scan.bounds().lut_high(), p);
    };
    load_tables();
    for (size_t base = first; base < last && scan.threshold() >= 0; base += kPackedBlock) {
        const uint8_t* block = data + base / kPackedBlock * bytes;
        __m256i a = _mm256_setzero_si256(), b = _mm256_setzero_si256();
        for (size_t p = 0; p < pairs; p++) {
            const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + p * kPackedBlock));
            const __m256i lo = Pairs ? low[p] : pair_table(scan.bounds().lut_low(), p);
            const __m256i hi = Pairs ? high[p] : pair_table(scan.bounds().lut_high(), p);
            a = _mm256_adds_epu8(a, _mm256_shuffle_epi8(lo, _mm256_and_si256(c, low4)));
            b = _mm256_adds_epu8(b, _mm256_shuffle_epi8(hi, _mm256_and_si256(_mm256_srli_epi16(c, 4), low4)));
        }
        const uint32_t mask = within(_mm256_adds_epu8(a, b), scan.threshold()) & rows_below(last - base);
        if (mask && scan.take(block, mask, base)) load_tables();
    }
}

// Two pairs a 512-bit register (their tables side by side, as stored).
template <size_t Quads>
__attribute__((target("avx512bw"))) void scan_avx512_of(PackedScan& scan, const uint8_t* data, size_t first,
                                                        size_t last) {
    const size_t pairs = scan.pairs(), quads = Quads ? Quads : pairs / 2, bytes = pairs * kPackedBlock;
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    __m512i low[Quads ? Quads : 1], high[Quads ? Quads : 1];
    const auto load_tables = [&]() __attribute__((target("avx512bw"), always_inline)) {
        for (size_t q = 0; q < Quads; q++) low[q] = quad_table(scan.bounds().lut_low(), q), high[q] = quad_table(scan.bounds().lut_high(), q);
    };
    load_tables();
    for (size_t base = first; base < last && scan.threshold() >= 0; base += kPackedBlock) {
        const uint8_t* block = data + base / kPackedBlock * bytes;
        __m512i a = _mm512_setzero_si512(), b = _mm512_setzero_si512();
        for (size_t q = 0; q < quads; q++) {
            const __m512i c = _mm512_loadu_si512(block + q * 64);
            const __m512i lo = Quads ? low[q] : quad_table(scan.bounds().lut_low(), q);
            const __m512i hi = Quads ? high[q] : quad_table(scan.bounds().lut_high(), q);
            a = _mm512_adds_epu8(a, _mm512_shuffle_epi8(lo, _mm512_and_si512(c, low4)));
            b = _mm512_adds_epu8(b, _mm512_shuffle_epi8(hi, _mm512_and_si512(_mm512_srli_epi16(c, 4), low4)));
        }
        __m256i sums = narrow(_mm512_adds_epu8(a, b));
        if (quads * 2 < pairs)  // the last pair
            sums = add_pair(sums, block + quads * 64, pair_table(scan.bounds().lut_low(), quads * 2),
                            pair_table(scan.bounds().lut_high(), quads * 2));
        const uint32_t mask = within(sums, scan.threshold()) & rows_below(last - base);
        if (mask && scan.take(block, mask, base)) load_tables();
    }
}

// kQueriesAtOnce scans over the same blocks: a pair's nibbles are taken
// apart once for all of them (the tables are read from the cache). Half a
// block's subspaces go first: their sums bound the whole ones from below,
// and where no row of any query is within its threshold, the block is done.
__attribute__((target("avx2"))) void scan_many_avx2(PackedScan* scans, const uint8_t* data, size_t first,
                                                    size_t last) {
    constexpr size_t Q = kQueriesAtOnce;
    const size_t pairs = scans[0].pairs(), bytes = pairs * kPackedBlock;
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const uint8_t *low[Q], *high[Q];
    for (size_t q = 0; q < Q; q++) low[q] = scans[q].bounds().lut_low(), high[q] = scans[q].bounds().lut_high();
    for (size_t base = first; base < last && any_live(scans); base += kPackedBlock) {
        const uint8_t* block = data + base / kPackedBlock * bytes;
        __m256i sums[Q];
        for (size_t q = 0; q < Q; q++) sums[q] = _mm256_setzero_si256();
        const auto add_pairs = [&](size_t from, size_t to) __attribute__((target("avx2"), always_inline)) {
            for (size_t p = from; p < to; p++) {
                const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + p * kPackedBlock));
                const __m256i lo = _mm256_and_si256(c, low4), hi = _mm256_and_si256(_mm256_srli_epi16(c, 4), low4);
                for (size_t q = 0; q < Q; q++) {
                    sums[q] = _mm256_adds_epu8(sums[q], _mm256_shuffle_epi8(pair_table(low[q], p), lo));
                    sums[q] = _mm256_adds_epu8(sums[q], _mm256_shuffle_epi8(pair_table(high[q], p), hi));
                }
            }
        };
        const size_t half = pairs / 2;
        add_pairs(0, half);
        if (half > 0 && !within_any(scans, sums, last - base)) continue;
        add_pairs(half, pairs);
        take_within(scans, sums, block, base, last - base);
    }
}

__attribute__((target("avx512bw"))) void scan_many_avx512(PackedScan* scans, const uint8_t* data, size_t first,
                                                          size_t last) {
    constexpr size_t Q = kQueriesAtOnce;
    const size_t pairs = scans[0].pairs(), quads = pairs / 2, bytes = pairs * kPackedBlock;
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    const uint8_t *low[Q], *high[Q];
    for (size_t q = 0; q < Q; q++) low[q] = scans[q].bounds().lut_low(), high[q] = scans[q].bounds().lut_high();
    for (size_t base = first; base < last && any_live(scans); base += kPackedBlock) {
        const uint8_t* block = data + base / kPackedBlock * bytes;
        __m512i wide[Q];
        for (size_t q = 0; q < Q; q++) wide[q] = _mm512_setzero_si512();
        const auto add_quads = [&](size_t from, size_t to) __attribute__((target("avx512bw"), always_inline)) {
            for (size_t r = from; r < to; r++) {
                const __m512i c = _mm512_loadu_si512(block + r * 64);
                const __m512i lo = _mm512_and_si512(c, low4), hi = _mm512_and_si512(_mm512_srli_epi16(c, 4), low4);
                for (size_t q = 0; q < Q; q++) {
                    wide[q] = _mm512_adds_epu8(wide[q], _mm512_shuffle_epi8(quad_table(low[q], r), lo));
                    wide[q] = _mm512_adds_epu8(wide[q], _mm512_shuffle_epi8(quad_table(high[q], r), hi));
                }
            }
        };
        __m256i sums[Q];
        const size_t half = quads / 2;  // as scan_many_avx2
        add_quads(0, half);
        if (half > 0) {
            for (size_t q = 0; q < Q; q++) sums[q] = narrow(wide[q]);
            if (!within_any(scans, sums, last - base)) continue;
        }
        add_quads(half, quads);
        for (size_t q = 0; q < Q; q++) sums[q] = narrow(wide[q]);
        if (quads * 2 < pairs)  // the last pair
            for (size_t q = 0; q < Q; q++)
                sums[q] = add_pair(sums[q], block + quads * 64, pair_table(low[q], quads * 2), pair_table(high[q], quads * 2));
        take_within(scans, sums, block, base, last - base);
    }
}

void scan_avx2(PackedScan& scan, const uint8_t* data, size_t first, size_t last) {
    switch (scan.pairs()) {  // the common code lengths, as the plain scans
        case 4: return scan_avx2_of<4>(scan, data, first, last);
        case 8: return scan_avx2_of<8>(scan, data, first, last);
        case 16: return scan_avx2_of<16>(scan, data, first, last);
        default: return scan_avx2_of<0>(scan, data, first, last);
    }
}

void scan_avx512(PackedScan& scan, const uint8_t* data, size_t first, size_t last) {
    switch (scan.pairs()) {
        case 4: return scan_avx512_of<2>(scan, data, first, last);
        case 8: return scan_avx512_of<4>(scan, data, first, last);
        case 16: return scan_avx512_of<8>(scan, data, first, last);
        case 32: return scan_avx512_of<16>(scan, data, first, last);
        default: return scan_avx512_of<0>(scan, data, first, last);
    }
}
#endif

#if defined(__aarch64__)
// The arm64 kernels, as the x86 ones with 128-bit table lookups: a block's 32
// rows are two registers of 16 bytes (rows 0-15 and 16-31), and a pair's
// tables are the first 16 bytes of its 32 (the x86 ones hold them twice).
typedef uint8x16x2_t BlockSums;

// One pair of a block (its 32 bytes at `codes`) looked up in the pair's tables
// and added to sums (saturating).
NANOPQ_INLINE void add_pair(BlockSums& sums, const uint8_t* codes, const uint8_t* low, const uint8_t* high) {
    const uint8x16_t lo = vld1q_u8(low), hi = vld1q_u8(high), low4 = vdupq_n_u8(15);
    for (int h = 0; h < 2; h++) {
        const uint8x16_t c = vld1q_u8(codes + 16 * h);
        sums.val[h] = vqaddq_u8(sums.val[h], vqtbl1q_u8(lo, vandq_u8(c, low4)));
        sums.val[h] = vqaddq_u8(sums.val[h], vqtbl1q_u8(hi, vshrq_n_u8(c, 4)));
    }
}

// The bits of the rows whose sums (one byte a row) are at most t: each row's
// compare (all ones or none) keeps its bit in its byte's weight, and the eight
// bytes of each half-register add up to one byte of the mask.
NANOPQ_INLINE uint32_t within(const BlockSums& sums, int32_t t) {
    static const uint8_t weights[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t bits = vld1q_u8(weights), limit = vdupq_n_u8(uint8_t(t));
    uint32_t mask = 0;
    for (int h = 0; h < 2; h++) {
        const uint8x16_t in = vandq_u8(vcleq_u8(sums.val[h], limit), bits);
        mask |= uint32_t(vaddv_u8(vget_low_u8(in))) << (16 * h);
        mask |= uint32_t(vaddv_u8(vget_high_u8(in))) << (16 * h + 8);
    }
    return mask;
}

// The sums of pairs [from, to) of a block, added to sums.
NANOPQ_INLINE void add_pairs(BlockSums& sums, const PackedScan& scan, const uint8_t* block, size_t from, size_t to) {
    for (size_t p = from; p < to; p++)
        add_pair(sums, block + p * kPackedBlock, scan.bounds().lut_low() + p * 32, scan.bounds().lut_high() + p * 32);
}

void scan_neon(PackedScan& scan, const uint8_t* data, size_t first, size_t last) {
    const size_t pairs = scan.pairs(), bytes = pairs * kPackedBlock;
    for (size_t base = first; base < last && scan.threshold() >= 0; base += kPackedBlock) {
        const uint8_t* block = data + base / kPackedBlock * bytes;
        BlockSums sums = {{vdupq_n_u8(0), vdupq_n_u8(0)}};
        add_pairs(sums, scan, block, 0, pairs);
        const uint32_t mask = within(sums, scan.threshold()) & rows_below(last - base);
        if (mask) scan.take(block, mask, base);
    }
}

// As scan_many_avx2: half the pairs first, and a block no query can take from is passed over.
void scan_many_neon(PackedScan* scans, const uint8_t* data, size_t first, size_t last) {
    constexpr size_t Q = kQueriesAtOnce;
    const size_t pairs = scans[0].pairs(), bytes = pairs * kPackedBlock, half = pairs / 2;
    for (size_t base = first; base < last && any_live(scans); base += kPackedBlock) {
        const uint8_t* block = data + base / kPackedBlock * bytes;
        const size_t count = last - base;
        BlockSums sums[Q];
        uint32_t any = 0;
        for (size_t q = 0; q < Q; q++) {
            sums[q] = {{vdupq_n_u8(0), vdupq_n_u8(0)}};
            add_pairs(sums[q], scans[q], block, 0, half);
            if (scans[q].threshold() >= 0) any |= within(sums[q], scans[q].threshold());
        }
        if (half > 0 && !(any & rows_below(count))) continue;
        for (size_t q = 0; q < Q; q++) {
            if (scans[q].threshold() < 0) continue;
            add_pairs(sums[q], scans[q], block, half, pairs);
            const uint32_t mask = within(sums[q], scans[q].threshold()) & rows_below(count);
            if (mask) scans[q].take(block, mask, base);
        }
    }
}
#endif

struct Kernel {
    ScanFn scan;
    ScanManyFn scan_many;
    const char* name;
};

Kernel choose_kernel() {
#if defined(__x86_64__) || defined(__i386__)
    switch (simd_level()) {
        case SimdLevel::Avx512:
            if (__builtin_cpu_supports("avx512bw")) return {scan_avx512, scan_many_avx512, "avx512bw"};
            return {scan_avx2, scan_many_avx2, "avx2"};
        case SimdLevel::Avx2: return {scan_avx2, scan_many_avx2, "avx2"};
        default: break;
    }
#elif defined(__aarch64__)
    if (simd_level() == SimdLevel::Neon) return {scan_neon, scan_many_neon, "neon"};
#endif
    return {scan_generic, scan_many_generic, "generic"};
}

const Kernel& kernel() {
    static const Kernel chosen = choose_kernel();
    return chosen;
}

void PackedScan::scan(PackedCodes codes, size_t first, size_t last) { kernel().scan(*this, codes.data, first, last); }

// A query's scan over many codes is cut into parts of this many rows (a
// multiple of the block), the same whatever the number of threads.
constexpr size_t kScanPart = size_t(1) << 16;
// Below this many subspace lookups a query's scan stays on its thread.
constexpr size_t kParallelLookups = size_t(1) << 22;

}  // namespace

const char* packed_kernel_name() { return kernel().name; }

uint64_t packed_rows_ranked() { return rows_ranked.load(std::memory_order_relaxed); }

void pack4(const uint8_t* codes, size_t n, size_t M, uint8_t* out) {
    const size_t bytes = packed_pairs(M) * kPackedBlock;
    std::memset(out, 0, packed_bytes(n, M));
    for (size_t i = 0; i < n; i++) {
        uint8_t* block = out + i / kPackedBlock * bytes;
        for (size_t m = 0; m < M; m++)
            block[m / 2 * kPackedBlock + i % kPackedBlock] |= uint8_t(codes[i * M + m] << (m % 2 * 4));
    }
}

void unpack4(PackedCodes packed, uint8_t* codes) {
    const size_t bytes = packed_pairs(packed.M) * kPackedBlock;
    for (size_t i = 0; i < packed.n; i++) {
        const uint8_t* block = packed.data + i / kPackedBlock * bytes;
        for (size_t m = 0; m < packed.M; m++) codes[i * packed.M + m] = nibble(block, m, i % kPackedBlock);
    }
}

void packed_adist(const float* table, PackedCodes codes, float* dists) {
    const size_t parts = (codes.n + kScanPart - 1) / kScanPart, bytes = packed_pairs(codes.M) * kPackedBlock;
    parallel_for(int64_t(parts), [&](int64_t p) {
        const size_t first = size_t(p) * kScanPart, last = std::min(codes.n, first + kScanPart);
        for (size_t i = first; i < last; i++)
            dists[i] = row_distance(table, codes.data + i / kPackedBlock * bytes, codes.M, i % kPackedBlock);
    }, codes.n * codes.M >= kParallelLookups);
}

void packed_topk(const float* table, PackedCodes codes, size_t k, bool largest_first, uint32_t* ids, float* dists) {
    if (k == 0) return;
    if (k > codes.n) throw RangeError("Expected k <= the number of codes");
    const size_t parts = (codes.n + kScanPart - 1) / kScanPart;
    if (parts == 1 || k > kScanPart / 16 || codes.n * codes.M < kParallelLookups) {
        PackedScan scan(table, codes.M, k, largest_first);
        scan.scan(codes, 0, codes.n);
        return write_sorted(scan.heap(), ids, dists);
    }
    merge_best(parts, k, [&](size_t p) {
        const size_t first = p * kScanPart, last = std::min(codes.n, first + kScanPart);
        PackedScan scan(table, codes.M, std::min(k, last - first), largest_first);
        scan.scan(codes, first, last);
        return std::move(scan.heap());
    }, ids, dists);
}

void packed_search(const float* tables, size_t nq, PackedCodes codes, size_t k, bool largest_first, uint32_t* ids,
                   float* dists) {
    if (nq == 1 || k == 0) return packed_topk(tables, codes, k, largest_first, ids, dists);
    if (k > codes.n) throw RangeError("Expected k <= the number of codes");
    // Groups of queries scan the codes a chunk at a time: a chunk read from
    // memory serves the group from the cache, a quarter of a core's L2 (with
    // M = 32, 128 KB of codes and 8,192 rows for a 512 KB L2).
    constexpr size_t kGroup = 16;
    const size_t kChunk = fitting(cache_plan().l2 / 4, (codes.M + 1) / 2, 32, 1024, 65536);
    const size_t groups = (nq + kGroup - 1) / kGroup, table_size = codes.M * 16;
    parallel_for(int64_t(groups), [&](int64_t g) {
        const size_t q0 = size_t(g) * kGroup, count = std::min(kGroup, nq - q0);
        std::vector<PackedScan> scans;
        scans.reserve(count);
        for (size_t q = 0; q < count; q++) scans.emplace_back(tables + (q0 + q) * table_size, codes.M, k, largest_first);
        for (size_t first = 0; first < codes.n; first += kChunk) {
            const size_t last = std::min(codes.n, first + kChunk);
            size_t q = 0;
            for (; q + kQueriesAtOnce <= count; q += kQueriesAtOnce) kernel().scan_many(&scans[q], codes.data, first, last);
            for (; q < count; q++) scans[q].scan(codes, first, last);
        }
        for (size_t q = 0; q < count; q++) write_sorted(scans[q].heap(), ids + (q0 + q) * k, dists + (q0 + q) * k);
    }, nq * codes.n * codes.M >= kParallelLookups);
}

}  // namespace nanopq
