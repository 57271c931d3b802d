// The inverted-file indexes (faiss::IndexIVF: IVFFlat, IVFPQ,
// IVFScalarQuantizer, IVFPQFastScan) for lib/faiss/index-ivf.ts: a coarse
// quantizer (an index of nlist centroids, read-only as a part) assigns each
// vector to a list; a search visits nprobe lists. Ids are the user's, so
// reconstruct needs a direct map from id to list (makeDirectMap).
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexIVFPQFastScan.h>
#include <faiss/IndexScalarQuantizer.h>

#include <cmath>

#include "faiss/index.h"
#include "faiss/product_quantizer.h"
#include "runtime/exports.h"

namespace nanopq {

namespace {

// A view of a fast-scan IVF that searches with its own nprobe (Faiss 1.7.3's
// fast scan takes no SearchParameters and reads the member), so that the
// index itself, which other searches may be reading, is not changed. It
// copies the settings a search reads and the small PQ, and borrows the
// lists, the quantizer and the precomputed tables (up to nlist * M * 16
// floats): a search costs no copy of them, nor of the direct map.
struct FastScanWithNprobe : faiss::IndexIVFPQFastScan {
    FastScanWithNprobe(const faiss::IndexIVFPQFastScan& index, size_t with_nprobe) {
        d = index.d;
        ntotal = index.ntotal;
        is_trained = index.is_trained;
        metric_type = index.metric_type;
        metric_arg = index.metric_arg;
        quantizer = index.quantizer;  // own_fields and own_invlists stay false
        nlist = index.nlist;
        invlists = index.invlists;
        code_size = index.code_size;
        nprobe = with_nprobe;
        max_codes = index.max_codes;
        parallel_mode = index.parallel_mode;
        bbs = index.bbs;
        M = index.M;
        nbits = index.nbits;
        ksub = index.ksub;
        M2 = index.M2;
        implem = index.implem;
        by_residual = index.by_residual;
        qbs = index.qbs;
        qbs2 = index.qbs2;
        pq = index.pq;
        use_precomputed_table = index.use_precomputed_table;
        borrow(index.precomputed_table.tab.ptr, index.precomputed_table.numel);
    }
    ~FastScanWithNprobe() override { borrow(nullptr, 0); }  // not freed here

private:
    void borrow(float* table, size_t numel) {
        precomputed_table.tab.ptr = table;
        precomputed_table.tab.numel = precomputed_table.numel = numel;
    }
};

const char* const kDirectMaps[] = {"none", "array", "hashtable"};

class IVFIndex : public AnyIndex {
public:
    IVFIndex(std::shared_ptr<faiss::Index> index, const char* kind)
        : AnyIndex(std::move(index), kind), quantizer_(adopt_part(*this, ivf().quantizer)) {}
    faiss::IndexIVF& ivf() const { return static_cast<faiss::IndexIVF&>(get()); }
    faiss::IndexIVFPQFastScan* fast_scan() const { return dynamic_cast<faiss::IndexIVFPQFastScan*>(&get()); }

    size_t held_bytes() const override {
        size_t bytes = quantizer_->held_bytes() + ivf().direct_map.array.size() * 8 +
                       ivf().direct_map.hashtable.size() * 32;
        for (size_t list = 0; list < ivf().nlist; list++)
            bytes += ivf().invlists->list_size(list) * (ivf().code_size + sizeof(int64_t));
        if (auto* pq = product_quantizer()) bytes += pq->centroids.size() * sizeof(float);
        if (auto* ivfpq = dynamic_cast<faiss::IndexIVFPQ*>(&get())) bytes += ivfpq->precomputed_table.size() * 4;
        return bytes;
    }

    void after_read() override {
        ivf().cp.min_points_per_centroid = 0;  // no warnings printed
        if (auto* pq = product_quantizer()) quiet(*pq);
    }

    std::shared_ptr<AnyIndex> part(const std::string& name) const override {
        return name == "quantizer" ? quantizer_ : nullptr;
    }

    faiss::ProductQuantizer* product_quantizer() const override {
        if (auto* ivfpq = dynamic_cast<faiss::IndexIVFPQ*>(&get())) return &ivfpq->pq;
        if (auto* fs = fast_scan()) return &fs->pq;
        return nullptr;
    }

    void describe(Napi::Object out) const override {
        out.Set("nlist", double(ivf().nlist));
        out.Set("nprobe", double(ivf().nprobe));
        out.Set("maxCodes", double(ivf().max_codes));
        out.Set("codeSize", double(ivf().code_size));
        out.Set("directMap", kDirectMaps[ivf().direct_map.type]);
        if (auto* ivfpq = dynamic_cast<faiss::IndexIVFPQ*>(&get())) out.Set("byResidual", ivfpq->by_residual);
        if (auto* fs = fast_scan()) out.Set("byResidual", fs->by_residual);
    }

    bool set(const std::string& name, double value) override {
        if (name == "nprobe") {
            if (!(value >= 1 && value <= double(ivf().nlist) && value == std::floor(value)))
                throw RangeError("Expected 1 <= nprobe <= nlist = " + std::to_string(ivf().nlist));
            ivf().nprobe = size_t(value);
            return true;
        }
        if (auto* ivfpq = dynamic_cast<faiss::IndexIVFPQ*>(&get()); ivfpq && name == "byResidual") {
            // The PQ is trained on residuals or on the vectors themselves: set before training.
            if (ivf().is_trained) throw Error("Expected byResidual to be set before training (the index is trained)");
            ivfpq->by_residual = value != 0;
            return true;
        }
        if (name == "maxCodes" && !fast_scan()) {
            if (!(value >= 0 && value <= 9007199254740991.0 && value == std::floor(value)))
                throw RangeError("Expected maxCodes a non-negative integer (0: no limit)");
            ivf().max_codes = size_t(value);
            return true;
        }
        return false;
    }

    const char* cannot(Op op) const override {
        const bool array_map = ivf().direct_map.type == faiss::DirectMap::Array;
        switch (op) {
            case Op::AddWithIds:
                return array_map ? "with an array direct map takes sequential ids only (add())" : nullptr;
            case Op::RemoveIds:
                if (fast_scan()) return "(fast scan) cannot remove vectors in Faiss 1.7.3";
                return array_map ? "with an array direct map cannot remove; makeDirectMap('hashtable') first"
                                 : nullptr;
            case Op::Reconstruct:
                return ivf().direct_map.no() ? "has no direct map from id to list; call makeDirectMap() first"
                                             : nullptr;
            case Op::RangeSearch: return fast_scan() ? AnyIndex::cannot(op) : nullptr;
            case Op::MergeFrom:
                if (fast_scan()) return "(fast scan) cannot merge in Faiss 1.7.3";
                return ivf().direct_map.no() ? nullptr : "with a direct map cannot merge in Faiss 1.7.3";
        }
        return nullptr;
    }

    // Any id: the direct map says which it holds (and throws for others).
    void check_reconstruct(int64_t, size_t) const override {}

    size_t extra_floats_per_row() const override {
        size_t floats = 3 * ivf().nprobe;  // the coarse assignment
        if (auto* pq = product_quantizer()) floats += pq->M * pq->ksub * (fast_scan() ? ivf().nprobe : 1);
        return floats;
    }

    size_t row_work(size_t d, bool search) const override {
        const size_t per_list = size_t(ivf().ntotal) / std::max<size_t>(ivf().nlist, 1);
        return d * ivf().nlist + (search ? ivf().nprobe * per_list * ivf().code_size : 0);
    }

    void search_with(size_t n, const float* x, size_t k, float* distances, int64_t* labels,
                     const SearchOptions& options) const override {
        if (options.ef_search || options.k_factor)
            throw TypeError(std::string("Expected only nprobe and maxCodes as search options for an ") + kind());
        const auto nn = faiss::Index::idx_t(n), kk = faiss::Index::idx_t(k);
        if (!options.any()) return ivf().search(nn, x, kk, distances, labels);
        if (auto* fs = fast_scan()) {
            if (options.max_codes) throw TypeError("Expected no maxCodes for an IndexIVFPQFastScan");
            return FastScanWithNprobe(*fs, options.nprobe).search(nn, x, kk, distances, labels);
        }
        faiss::SearchParametersIVF params;
        params.nprobe = options.nprobe ? options.nprobe : ivf().nprobe;
        params.max_codes = options.max_codes ? options.max_codes : ivf().max_codes;
        ivf().search(nn, x, kk, distances, labels, &params);
    }

private:
    std::shared_ptr<AnyIndex> quantizer_;
};

std::shared_ptr<AnyIndex> make(std::shared_ptr<faiss::Index> index, const char* kind) {
    return std::make_shared<IVFIndex>(std::move(index), kind);
}

const IndexKind ivf_flat(typeid(faiss::IndexIVFFlat), "IndexIVFFlat", make);
const IndexKind ivf_pq(typeid(faiss::IndexIVFPQ), "IndexIVFPQ", make);
const IndexKind ivf_sq(typeid(faiss::IndexIVFScalarQuantizer), "IndexIVFScalarQuantizer", make);
const IndexKind ivf_pq_fast_scan(typeid(faiss::IndexIVFPQFastScan), "IndexIVFPQFastScan", make);

// indexMakeDirectMap(index, type): 'none', 'array' (sequential ids 0 .. ntotal - 1) or 'hashtable' (any ids)
Napi::Value IndexMakeDirectMap(const Napi::CallbackInfo& info) {
    IndexObject& o = index_arg(info, 0, Access::Write);
    auto* index = dynamic_cast<IVFIndex*>(o.index.get());
    if (!index) throw TypeError("Expected an IVF index for argument 0");
    const auto type = enum_value<faiss::DirectMap::Type>(info[1], kDirectMaps, "directMap");
    try {
        index->ivf().set_direct_map_type(type);
    } catch (...) {
        // Faiss has set the type before it found an id out of sequence.
        index->ivf().set_direct_map_type(faiss::DirectMap::NoMap);
        throw;
    }
    account(info.Env(), o);
    return undefined(info);
}

void RegisterIndexIVF(Napi::Env env, Napi::Object exports) {
    export_function<IndexMakeDirectMap>(env, exports, "indexMakeDirectMap");
    export_names(env, exports, "directMap", kDirectMaps);
}

const FaissFunctions registered(RegisterIndexIVF);

}  // namespace

}  // namespace nanopq
