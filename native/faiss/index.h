// A faiss::Index for JavaScript (lib/faiss/): train, add, search, ids,
// removal, reconstruction, range search, sync and async, generic over
// faiss::Index's virtual functions; index files and index_factory. A kind
// that does something differently (IndexPQ, IVF, HNSW, the wrappers) derives
// from AnyIndex in a file pair of its own and registers itself with an
// IndexKind, by which readIndex, indexFactory and the parts of an index find it.
#pragma once

#include <faiss/Index.h>

namespace faiss {
struct ProductQuantizer;
}

#include <memory>
#include <string>
#include <typeinfo>

#include "faiss/object.h"

namespace nanopq {

// What one search may set (lib/faiss/index-base.ts names those a kind takes):
// each applies to that call only, and 0 leaves the index's own.
struct SearchOptions {
    size_t nprobe = 0;     // IVF: lists visited
    size_t max_codes = 0;  // IVF: codes visited at most
    size_t ef_search = 0;  // HNSW: candidates kept
    double k_factor = 0;   // IndexRefineFlat: base results re-ranked, k * k_factor
    bool any() const { return nprobe || max_codes || ef_search || k_factor; }
};

// What some kinds cannot do: AnyIndex::cannot says why, before Faiss is called.
enum class Op { AddWithIds, RemoveIds, Reconstruct, RangeSearch, MergeFrom };

// An index as nanopq runs it, shared by its handle and the async jobs running
// on it (so that disposing of the handle frees nothing a job still reads).
class AnyIndex {
public:
    AnyIndex(std::shared_ptr<faiss::Index> index, const char* kind) : index_(std::move(index)), kind_(kind) {}
    virtual ~AnyIndex() = default;
    AnyIndex(const AnyIndex&) = delete;
    AnyIndex& operator=(const AnyIndex&) = delete;

    faiss::Index& get() const { return *index_; }
    const std::shared_ptr<faiss::Index>& shared() const { return index_; }
    // Its class in lib/faiss (IndexFlat, IndexIVFPQ, ...).
    const char* kind() const { return kind_; }

    // The bytes of the arrays it holds.
    virtual size_t held_bytes() const { return 0; }
    // Settings Faiss's files and index_factory leave as Faiss's defaults: no
    // warnings printed (verbose: false prints nothing), the parts adopted.
    virtual void after_read() {}
    // Brings what follows another index up to date; every call on the index
    // comes here first (index_arg), once no async call runs on it.
    virtual void sync() {}
    // The index that holds what is added: this one, or the one it wraps.
    virtual AnyIndex& storage() { return *this; }
    // A part by name (quantizer, index, refineIndex, storage), else null.
    virtual std::shared_ptr<AnyIndex> part(const std::string&) const { return nullptr; }
    // The ProductQuantizer of its codes, if PQ codes, else null.
    virtual faiss::ProductQuantizer* product_quantizer() const { return nullptr; }

    // Its settings for JavaScript (nlist, nprobe, efSearch, ...), and setting
    // one (false when the kind has no such setting; a RangeError if out of range).
    virtual void describe(Napi::Object) const {}
    virtual bool set(const std::string&, double) { return false; }

    // Why the index cannot do `op`, or nullptr when it can.
    virtual const char* cannot(Op op) const;
    // Throws a RangeError unless ids [first, first + n) can be reconstructed
    // (Faiss reads the rows of sequential ids unchecked).
    virtual void check_reconstruct(int64_t first, size_t n) const;

    // Floats Faiss allocates per row of add or search, besides the row and the results.
    virtual size_t extra_floats_per_row() const { return 0; }
    // The work of a row of add or search by `whole` (of dimension d) that
    // this index is the storage of, for for_row_blocks.
    virtual size_t row_work(size_t d, bool search) const;
    // Trains `whole`, of which this index is the storage.
    virtual void train_whole(faiss::Index& whole, size_t n, const float* x) const;
    // Adds x to `whole`, of which this index is the storage, in blocks of
    // `row_work` (for_row_blocks) and at most `rows` rows.
    virtual void add_whole(faiss::Index& whole, size_t n, const float* x, size_t row_work, size_t rows) const;
    // Searches with options that Faiss 1.7.3 takes as SearchParameters, or
    // that a wrapper applies itself (its own search, as Faiss's, around its
    // part's); without options, Faiss's own search.
    virtual void search_with(size_t n, const float* x, size_t k, float* distances, int64_t* labels,
                             const SearchOptions& options) const;

    // What the bindings run (Faiss gets rows in blocks, as it allocates per row).
    virtual void train(size_t n, const float* x) { train_whole(get(), n, x); }
    void add(size_t n, const float* x);
    void search(size_t n, const float* x, size_t k, float* distances, int64_t* labels, const SearchOptions& options);

protected:
    std::shared_ptr<faiss::Index> index_;
    const char* kind_;
};

// The handle of an index. A part of another index (an IVF's quantizer, an
// IDMap's index, an HNSW's storage) is read-only: changing it alone would
// break the whole (lists assigned beyond nlist, ids beyond the id map).
class IndexObject : public FaissObject {
public:
    IndexObject(std::shared_ptr<AnyIndex> index, Locks shared = {}, bool read_only = false)
        : FaissObject(std::move(shared)), index(std::move(index)), read_only(read_only) {}
    std::shared_ptr<AnyIndex> index;
    bool read_only;

    size_t held_bytes() const override { return index ? index->held_bytes() : 0; }
    void release() override { index.reset(); }
};

// Every call on an index reaches it here: its object, once `access` may
// start, brought up to date (AnyIndex::sync).
IndexObject& index_arg(const Napi::CallbackInfo& info, size_t i, Access access);

// The kind of index a faiss::Index of one dynamic type is: each kind's file
// holds a static IndexKind per type. adopt() makes an index of the kind
// registered for the type of `index`, else throws a TypeError naming it.
struct IndexKind {
    using Make = std::shared_ptr<AnyIndex> (*)(std::shared_ptr<faiss::Index> index, const char* kind);
    IndexKind(const std::type_info& type, const char* kind, Make make = nullptr);
};
std::shared_ptr<AnyIndex> adopt(std::shared_ptr<faiss::Index> index);
// A part of `whole` (a pointer into it), kept alive by it.
std::shared_ptr<AnyIndex> adopt_part(const AnyIndex& whole, faiss::Index* part);

// A handle sharing `whole`'s locks for one of its parts.
Napi::Value wrap_part(Napi::Env env, const FaissObject& whole, std::shared_ptr<AnyIndex> part, bool read_only);

}  // namespace nanopq
