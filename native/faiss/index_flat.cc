#include "faiss/index_flat.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexPQFastScan.h>
#include <faiss/IndexScalarQuantizer.h>

namespace nanopq {

const char* FlatCodesIndex::cannot(Op op) const {
    // Faiss 1.7.3 has range search over full vectors only.
    if (op == Op::RangeSearch) return dynamic_cast<const faiss::IndexFlat*>(&get()) ? nullptr : AnyIndex::cannot(op);
    return op == Op::AddWithIds ? AnyIndex::cannot(op) : nullptr;
}

void FlatCodesIndex::describe(Napi::Object out) const { out.Set("codeSize", double(flat().code_size)); }

namespace {

// The names of ScalarQuantizer::QuantizerType, in its order.
const char* const kScalarTypes[] = {"8bit", "4bit", "8bit_uniform", "4bit_uniform", "fp16", "8bit_direct", "6bit"};

class ScalarQuantizerIndex : public FlatCodesIndex {
public:
    using FlatCodesIndex::FlatCodesIndex;
    void describe(Napi::Object out) const override {
        FlatCodesIndex::describe(out);
        const auto type = size_t(static_cast<faiss::IndexScalarQuantizer&>(get()).sq.qtype);
        out.Set("qtype", type < std::size(kScalarTypes) ? kScalarTypes[type] : "other");
    }
    size_t held_bytes() const override {
        return FlatCodesIndex::held_bytes() + static_cast<faiss::IndexScalarQuantizer&>(get()).sq.trained.size() * 4;
    }
};

// IndexPQFastScan: PQ codes of 4 bits, packed in blocks of bbs vectors for SIMD scans.
class PQFastScanIndex : public AnyIndex {
public:
    using AnyIndex::AnyIndex;
    faiss::IndexPQFastScan& fs() const { return static_cast<faiss::IndexPQFastScan&>(get()); }
    size_t held_bytes() const override { return fs().codes.size() + fs().pq.centroids.size() * 4; }
    faiss::ProductQuantizer* product_quantizer() const override { return &fs().pq; }
    void after_read() override { fs().pq.cp.min_points_per_centroid = 0; }
    const char* cannot(Op op) const override {
        return op == Op::AddWithIds || op == Op::RangeSearch ? AnyIndex::cannot(op) : nullptr;
    }
    void describe(Napi::Object out) const override { out.Set("bbs", double(fs().bbs)); }
};

template <class Kind>
std::shared_ptr<AnyIndex> make(std::shared_ptr<faiss::Index> index, const char* kind) {
    return std::make_shared<Kind>(std::move(index), kind);
}

const IndexKind flat(typeid(faiss::IndexFlat), "IndexFlat", make<FlatCodesIndex>);
const IndexKind flat_l2(typeid(faiss::IndexFlatL2), "IndexFlat", make<FlatCodesIndex>);
const IndexKind flat_ip(typeid(faiss::IndexFlatIP), "IndexFlat", make<FlatCodesIndex>);
const IndexKind scalar(typeid(faiss::IndexScalarQuantizer), "IndexScalarQuantizer", make<ScalarQuantizerIndex>);
const IndexKind pq_fast_scan(typeid(faiss::IndexPQFastScan), "IndexPQFastScan", make<PQFastScanIndex>);

}  // namespace

}  // namespace nanopq
