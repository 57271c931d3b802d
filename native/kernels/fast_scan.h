// 4-bit codes (Ks = 16) packed for fast scan: a query's distance table,
// quantized to 8 bits a subspace, is looked up from registers with byte
// shuffles, 32 codes at a time, and bounds each code's distance; the codes
// whose bound can still beat the k-th best are ranked by the float table. The
// results are those of topk/adist over the unpacked codes, to the bit, on
// every kernel (André et al., "Cache locality is not enough", VLDB 2015, and
// Faiss's IndexPQFastScan, which keep the quantized distances).
//
// The layout (docs/format.md): blocks of 32 rows, each of ceil(M / 2) pairs
// of subspaces (an odd M's last pair has a second subspace of codes 0). In
// block b, pair p, byte j (0-31) holds row 32 b + j's code of subspace 2 p in
// its low 4 bits and of subspace 2 p + 1 in its high 4 bits, at
// (b * pairs + p) * 32 + j. Rows past n are 0.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nanopq {

constexpr size_t kPackedBlock = 32;  // rows a block
// The most subspaces the scans take.
constexpr size_t kPackedMaxM = 256;

// Pairs of subspaces a block holds.
inline size_t packed_pairs(size_t M) { return (M + 1) / 2; }
// Bytes of n packed codes of M subspaces.
inline size_t packed_bytes(size_t n, size_t M) {
    return (n + kPackedBlock - 1) / kPackedBlock * kPackedBlock * packed_pairs(M);
}

// Packed codes as the scans read them: n codes of M subspaces.
struct PackedCodes {
    const uint8_t* data;
    size_t n, M;
};

// codes (n, M), each < 16, into out (packed_bytes(n, M) bytes), and back.
void pack4(const uint8_t* codes, size_t n, size_t M, uint8_t* out);
void unpack4(PackedCodes packed, uint8_t* codes);

// adist and topk (kernels/scan.h) over packed codes, for a table (M, 16):
// the same distances, ids and order.
void packed_adist(const float* table, PackedCodes codes, float* dists);
void packed_topk(const float* table, PackedCodes codes, size_t k, bool largest_first, uint32_t* ids, float* dists);

// packed_topk of each of nq tables (nq, M, 16), query q's results at
// ids + q * k and dists + q * k, on every core.
void packed_search(const float* tables, size_t nq, PackedCodes codes, size_t k, bool largest_first, uint32_t* ids,
                   float* dists);

// How many rows the scans have ranked by the float tables (their bounds did
// not rule them out), since the addon loaded: the bench divides by the queries.
uint64_t packed_rows_ranked();

// The kernel the CPU runs ("avx512bw", "avx2" or "generic"), for tests and the bench.
const char* packed_kernel_name();

}  // namespace nanopq
