// A faiss::Index for JavaScript (lib/faiss.ts): train, add and search, sync
// and async, generic over faiss::Index's virtual functions; index files.
// A kind that does something differently (IndexPQ, IndexPreTransform)
// derives from AnyIndex in a file pair of its own and registers itself with
// an IndexKind, which readIndex and the parts of an index find it by.
#pragma once

#include <faiss/Index.h>

#include <memory>
#include <typeinfo>

#include "faiss/object.h"

namespace nanopq {

// An index as nanopq runs it, shared by its handle and the async jobs running
// on it (so that disposing of the handle frees nothing a job still reads).
class AnyIndex {
public:
    explicit AnyIndex(std::shared_ptr<faiss::Index> index) : index_(std::move(index)) {}
    virtual ~AnyIndex() = default;
    AnyIndex(const AnyIndex&) = delete;
    AnyIndex& operator=(const AnyIndex&) = delete;

    faiss::Index& get() const { return *index_; }
    const std::shared_ptr<faiss::Index>& shared() const { return index_; }

    // The bytes of the arrays it holds.
    virtual size_t held_bytes() const { return 0; }
    // Settings Faiss's files do not hold, set on an index read from one.
    virtual void after_read() {}
    // Brings what follows another index up to date; every call on the index
    // comes here first (index_arg), once no async call runs on it.
    virtual void sync() {}
    // The index that holds what is added: this one, or the one it wraps.
    virtual AnyIndex& storage() { return *this; }

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

    // What indexTrain, indexAdd and indexSearch run (Faiss gets rows in
    // blocks, as it allocates per row).
    virtual void train(size_t n, const float* x) { train_whole(get(), n, x); }
    void add(size_t n, const float* x);
    void search(size_t n, const float* x, size_t k, float* distances, int64_t* labels,
                const faiss::SearchParameters* params);

protected:
    std::shared_ptr<faiss::Index> index_;
};

// The handle of an index.
class IndexObject : public FaissObject {
public:
    IndexObject(std::shared_ptr<AnyIndex> index, Locks shared = {})
        : FaissObject(std::move(shared)), index(std::move(index)) {}
    std::shared_ptr<AnyIndex> index;

    size_t held_bytes() const override { return index ? index->held_bytes() : 0; }
    void release() override { index.reset(); }
};

// Every call on an index reaches it here: its object, once `access` may
// start, brought up to date (AnyIndex::sync).
IndexObject& index_arg(const Napi::CallbackInfo& info, size_t i, Access access);

// The kind of index a faiss::Index of one dynamic type is: each kind's file
// holds a static IndexKind. adopt() makes an index of the kind registered for
// the type of `index`, else a generic AnyIndex.
struct IndexKind {
    using Make = std::shared_ptr<AnyIndex> (*)(std::shared_ptr<faiss::Index> index);
    IndexKind(const std::type_info& type, Make make);
};
std::shared_ptr<AnyIndex> adopt(std::shared_ptr<faiss::Index> index);

}  // namespace nanopq
