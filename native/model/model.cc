#include "model/model.h"

#include <algorithm>
#include <string>

#include "kernels/codebook.h"
#include "kernels/exceptions.h"
#include "kernels/parallel.h"
#include "kernels/scan.h"

namespace nanopq {

namespace {

// Below this much work (codes times subspaces, or values), a call stays on
// the calling thread: waking a team of threads costs more than it saves.
constexpr size_t kParallelWork = size_t(1) << 16;

}  // namespace

Model::Model(size_t M, size_t Ks, size_t Ds, Metric metric, std::vector<float> codewords_, std::vector<float> R_)
    : M(M), Ks(Ks), Ds(Ds), metric(metric), codewords(std::move(codewords_)), R(std::move(R_)) {
    if (M == 0 || Ks == 0 || Ds == 0 || codewords.size() != M * Ks * Ds)
        throw RangeError("Expected a codebook of M * Ks * Ds > 0 values");
    if (!R.empty() && R.size() != D() * D()) throw RangeError("Expected R of D * D values");
    panels_ = make_panels(codebook());
    if (!R.empty()) {
        std::vector<float> columns(D() * D());  // R^T
        for (size_t i = 0; i < D(); i++)
            for (size_t j = 0; j < D(); j++) columns[j * D() + i] = R[i * D() + j];
        rotation_.emplace_back(columns.data(), D(), D(), false);
        inverse_rotation_.emplace_back(R.data(), D(), D(), false);
    }
}

Model::~Model() = default;

size_t Model::bytes() const {
    size_t floats = codewords.size() + R.size();
    for (const auto* panels : {&panels_, &rotation_, &inverse_rotation_})
        for (const Panels& p : *panels) floats += p.mean.size() + p.values.size() + p.half_norms.size();
    return sizeof(Model) + floats * sizeof(float);
}

void Model::encode(const float* x, Codes codes) const {
    codes.check_capacity(Ks);
    if (R.empty()) return encode_unrotated(x, codes);
    // Rotated by blocks of rows, so that no (n, D) temporary is made.
    const size_t rows = rows_per_block(D());
    std::vector<float> rotated(std::min(codes.n, rows) * D());
    for (size_t i0 = 0; i0 < codes.n; i0 += rows) {
        const size_t nb = std::min(rows, codes.n - i0);
        rotate(x + i0 * D(), nb, false, rotated.data());
        encode_unrotated(rotated.data(), codes.rows(i0, nb));
    }
}

// Near ties are settled by exact differences, as nanopq (scipy's vq) and
// Faiss's encoder compute them, at every Ds.
void Model::encode_unrotated(const float* x, Codes codes) const {
    nearest_codewords(codebook(), panels_, x, codes, true);
}

void Model::decode(Codes codes, float* x) const {
    if (R.empty()) return nanopq::decode(codebook(), codes, x);
    const size_t rows = rows_per_block(D());
    std::vector<float> decoded(std::min(codes.n, rows) * D());
    for (size_t i0 = 0; i0 < codes.n; i0 += rows) {  // decode() checks each block's codes
        const size_t nb = std::min(rows, codes.n - i0);
        nanopq::decode(codebook(), codes.rows(i0, nb), decoded.data());
        rotate(decoded.data(), nb, true, x + i0 * D());
    }
}

void Model::distance_table(const float* query, float* table) const {
    if (R.empty()) return distance_tables(codebook(), panels_, query, 1, metric, table, 0, 1);
    std::vector<float> rotated(D());
    rotate(query, 1, false, rotated.data());
    distance_tables(codebook(), panels_, rotated.data(), 1, metric, table, 0, 1);
}

template <typename Body>
void Model::each_query_block(const float* queries, size_t nq, size_t rows, Body&& body) const {
    std::vector<float> rotated(R.empty() ? 0 : std::min(nq, rows) * D());
    for (size_t q0 = 0; q0 < nq; q0 += rows) {
        const size_t nb = std::min(rows, nq - q0);
        const float* block = queries + q0 * D();
        if (!R.empty()) {
            rotate(block, nb, false, rotated.data());
            block = rotated.data();
        }
        body(block, q0, nb);
    }
}

void Model::search(const float* queries, size_t nq, Codes codes, size_t k, uint32_t* ids, float* dists) const {
    if (k > codes.n) throw RangeError("Expected k <= the number of codes");
    if (codes.n > UINT32_MAX) throw RangeError("Expected at most 2**32 - 1 codes");
    codes.check_range(Ks);  // once, not per query
    // Queries are rotated (OPQ) a block at a time. Then each
    // thread takes a group of as many queries as a vector has lanes: their
    // tables, interleaved, and one scan of the codes for all of them (one
    // query alone: its table and a scalar scan).
    // (Not for codebooks whose interleaved tables would outgrow the caches:
    // beyond 1M entries, 4 MiB a thread, each query is scanned alone.)
    const size_t lanes = nq > 1 && M * Ks * scan_lanes() <= (size_t(1) << 20) ? scan_lanes() : 1;
    const size_t rows = R.empty() ? std::max<size_t>(nq, 1) : std::max(lanes, rows_per_block(D()) / lanes * lanes);
    const bool parallel = nq * codes.n * M >= kParallelWork;
    const bool largest_first = metric == Metric::Dot;
    each_query_block(queries, nq, rows, [&](const float* block, size_t q0, size_t nb) {
        const size_t groups = (nb + lanes - 1) / lanes;
        parallel_for(int64_t(groups), [&](int64_t g) {
            const size_t first = size_t(g) * lanes, count = std::min(lanes, nb - first);
            // Interleaved: entry (m, k) of query q at (m * Ks + k) * lanes + q.
            std::vector<float> tables(M * Ks * lanes, 0.0f);
            distance_tables(codebook(), panels_, block + first * D(), count, metric, tables.data(), 1, lanes);
            uint32_t* const group_ids = ids + (q0 + first) * k;
            float* const group_dists = dists + (q0 + first) * k;
            if (lanes == 1) return topk(tables.data(), Ks, codes, k, largest_first, group_ids, group_dists);
            topk_many(tables.data(), count, Ks, codes, k, largest_first, group_ids, group_dists);
        }, parallel);
    });
}

void Model::search(const float* queries, size_t nq, PackedCodes codes, size_t k, uint32_t* ids, float* dists) const {
    if (Ks != 16) throw TypeError("Expected a model with Ks = 16 for packed codes");
    if (codes.M != M || M > kPackedMaxM)
        throw RangeError("Expected packed codes of M = " + std::to_string(M) + " <= " + std::to_string(kPackedMaxM) + " subspaces");
    if (k > codes.n) throw RangeError("Expected k <= the number of codes");
    // The tables of a block of queries (rotated first for OPQ), then their scans.
    constexpr size_t kQueries = 4096, kTableGroup = 16;
    const size_t rows = std::min(nq, kQueries), table_size = M * Ks;
    std::vector<float> tables(rows * table_size);
    each_query_block(queries, nq, rows, [&](const float* block, size_t q0, size_t nb) {
        parallel_for(int64_t((nb + kTableGroup - 1) / kTableGroup), [&](int64_t g) {
            const size_t first = size_t(g) * kTableGroup, count = std::min(kTableGroup, nb - first);
            distance_tables(codebook(), panels_, block + first * D(), count, metric, tables.data() + first * table_size,
                            table_size, 1);
        }, nb > kTableGroup);
        packed_search(tables.data(), nb, codes, k, metric == Metric::Dot, ids + q0 * k, dists + q0 * k);
    });
}

void Model::rotate(const float* x, size_t n, bool inverse, float* y) const {
    if (R.empty()) throw TypeError("Expected an OPQ model to rotate");
    const Codebook columns{nullptr, 1, D(), D()};  // the shape of rotation_'s codebook
    for_row_blocks(n, D() * D(), [&](size_t first, size_t last) {
        distance_tables(columns, inverse ? inverse_rotation_ : rotation_, x + first * D(), last - first, Metric::Dot,
                        y + first * D(), D(), 1);
    });
}

}  // namespace nanopq
