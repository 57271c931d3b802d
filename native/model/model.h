// A trained PQ or OPQ as JavaScript holds it (bindings/model_object.cc): the
// codebook, the rotation, and what is derived from them once, when the model
// is made, so that a call does work in proportion to its own input only.
// Immutable once made: async calls share it with the thread they run on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/codebook.h"
#include "kernels/codes.h"
#include "kernels/fast_scan.h"
#include "kernels/nearest.h"

namespace nanopq {

class Model {
public:
    // codewords (M, Ks, Ds); R (D, D) for OPQ (x_rotated = x @ R), empty for PQ.
    Model(size_t M, size_t Ks, size_t Ds, Metric metric, std::vector<float> codewords, std::vector<float> R);
    ~Model();

    const size_t M, Ks, Ds;
    const Metric metric;
    const std::vector<float> codewords;
    const std::vector<float> R;

    size_t D() const { return M * Ds; }
    Codebook codebook() const { return {codewords.data(), M, Ks, Ds}; }
    // Bytes of native memory held, for V8's accounting.
    size_t bytes() const;

    // The nearest codeword of each sub-vector of x (codes.n, D), rotated first for OPQ.
    void encode(const float* x, Codes codes) const;
    // The codewords the codes name, rotated back for OPQ: (codes.n, D).
    void decode(Codes codes, float* x) const;
    // The (M, Ks) distance table of one query (D,), rotated first for OPQ.
    void distance_table(const float* query, float* table) const;
    // Row q of (nq, k) ids and dists: the k best codes for query q, best first
    // (smallest for L2, largest for Dot), ties to the lower id. k <= codes.n.
    void search(const float* queries, size_t nq, Codes codes, size_t k, uint32_t* ids, float* dists) const;
    // The same over codes packed for fast scan (Ks = 16): the same rows.
    void search(const float* queries, size_t nq, PackedCodes codes, size_t k, uint32_t* ids, float* dists) const;
    // y = x @ R, or x @ R^T with `inverse`: (n, D). OPQ only.
    void rotate(const float* x, size_t n, bool inverse, float* y) const;

private:
    void encode_unrotated(const float* x, Codes codes) const;
    // body(block, q0, nb) for queries [q0, q0 + nb) in blocks of at most
    // `rows`, block their rows rotated first for OPQ (the searches' tables read them).
    template <typename Body>
    void each_query_block(const float* queries, size_t nq, size_t rows, Body&& body) const;

    std::vector<Panels> panels_;
    // OPQ: R's columns (its rows, for the inverse) as the D codewords of one
    // subspace, not centred, whose inner-product tables are x @ R: the table
    // kernel gives a row's rotation the same bits alone or in a batch, which
    // BLAS does not (OpenBLAS's AVX2 kernels round a row by where it falls in a call).
    std::vector<Panels> rotation_, inverse_rotation_;
};

}  // namespace nanopq
