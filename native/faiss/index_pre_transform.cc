#include "faiss/index_pre_transform.h"

#include <faiss/IndexPQ.h>

#include <algorithm>

#include "faiss/linear_transform.h"
#include "faiss/product_quantizer.h"
#include "runtime/exports.h"

namespace nanopq {

PreTransformIndex::PreTransformIndex(std::shared_ptr<faiss::Index> index, const char* kind)
    : AnyIndex(std::move(index), kind), inner_(adopt_part(*this, pre().index)) {}

size_t PreTransformIndex::held_bytes() const {
    size_t floats = 0;
    for (auto* t : pre().chain) floats += transform_floats(t);
    return floats * sizeof(float) + inner_->held_bytes();
}

void PreTransformIndex::after_read() {
    // An OPQMatrix that index_factory made trains with a ProductQuantizer of
    // its own making, which prints warnings: one that does not is given.
    for (auto* t : pre().chain)
        if (auto* opq = dynamic_cast<faiss::OPQMatrix*>(t); opq && !opq->pq) {
            auto pq = std::make_shared<faiss::ProductQuantizer>(size_t(opq->d_out), size_t(opq->M), 8);
            quiet(*pq);
            opq->pq = pq.get();
            quiet_pqs_.push_back(pq);
        }
    // Faiss 1.7.3 computes is_orthonormal before it has read d_in and
    // d_out, which makes every transform it reads "orthonormal".
    for (auto* t : pre().chain)
        if (auto* lt = dynamic_cast<faiss::LinearTransform*>(t))
            if (lt->A.size() >= size_t(lt->d_in) * size_t(lt->d_out)) lt->set_is_orthonormal();
}

void PreTransformIndex::sync() {
    faiss::IndexPreTransform& p = pre();
    if (p.ntotal != p.index->ntotal) p.ntotal = p.index->ntotal;
}

size_t PreTransformIndex::extra_floats_per_row() const {
    size_t floats = 0;
    for (auto* t : pre().chain) floats += size_t(t->d_out);
    return floats + inner_->extra_floats_per_row();
}

void PreTransformIndex::train(size_t n, const float* x) {
    const auto& chain = pre().chain;
    if (std::all_of(chain.begin(), chain.end(), [](auto* t) { return t->is_trained; }))
        check_transformed(chain, x, n,
                          "Expected vectors that the index's transforms keep within magnitude 1e15 for train()");
    inner_->train_whole(get(), n, x);
}

const char* PreTransformIndex::cannot(Op op) const {
    if (op == Op::Reconstruct)
        for (auto* t : pre().chain)
            if (auto* lt = dynamic_cast<const faiss::LinearTransform*>(t); lt && !lt->is_orthonormal)
                return "cannot reconstruct through a transform that is not orthonormal";
    return inner_->cannot(op);
}

void PreTransformIndex::search_with(size_t n, const float* x, size_t k, float* distances, int64_t* labels,
                                    const SearchOptions& options) const {
    // As Faiss's IndexPreTransform::search, through the index's own
    // search_with (which bounds what a refine index asks of its base).
    const auto nn = faiss::Index::idx_t(n);
    const float* xt = pre().apply_chain(nn, x);
    // apply_chain returns x itself for an empty chain, else a new array.
    const std::unique_ptr<const float[]> owned(xt == x ? nullptr : xt);
    inner_->search_with(n, xt, k, distances, labels, options);
}

namespace {

const IndexKind kind(typeid(faiss::IndexPreTransform), "IndexPreTransform",
                     [](std::shared_ptr<faiss::Index> index, const char* kind) -> std::shared_ptr<AnyIndex> {
                         return std::make_shared<PreTransformIndex>(std::move(index), kind);
                     });

// indexPreTransformNew(transform, index): shares both, as Faiss's own_fields = false
Napi::Value IndexPreTransformNew(const Napi::CallbackInfo& info) {
    FaissObject& t = object_arg(info, 0);
    IndexObject& i = index_arg(info, 1, Access::Read);
    if (i.read_only) throw TypeError("Expected an index of its own for argument 1, got a part of another");
    auto* transform_object = dynamic_cast<LinearTransformObject*>(&t);
    if (!transform_object) throw TypeError("Expected an OPQMatrix for argument 0");
    auto transform = transform_object->transform;
    auto inner = i.index->shared();
    auto quiet_pq = transform_object->quiet_pq;
    if (size_t(transform->d_out) != size_t(inner->d))
        throw RangeError("Expected the transform's output dimension to be the index's d");
    std::shared_ptr<faiss::Index> pre(new faiss::IndexPreTransform(transform.get(), inner.get()),
                                      [transform, inner, quiet_pq](faiss::Index* p) { delete p; });
    Locks locks = t.locks;
    locks.insert(locks.end(), i.locks.begin(), i.locks.end());
    return wrap(info.Env(), std::make_unique<IndexObject>(adopt(pre), locks));
}

// preTransformChain(index) -> [transform...], sharing the pre-transform
Napi::Value PreTransformChain(const Napi::CallbackInfo& info) {
    FaissObject& o = object_arg(info, 0);
    auto* index_object = dynamic_cast<IndexObject*>(&o);
    auto* pt = index_object ? dynamic_cast<PreTransformIndex*>(index_object->index.get()) : nullptr;
    if (!pt) throw TypeError("Expected an IndexPreTransform for argument 0");
    const faiss::IndexPreTransform& pre = pt->pre();
    auto chain = Napi::Array::New(info.Env(), pre.chain.size());
    // Each shares the PreTransformIndex, not only its faiss::Index: an
    // OPQMatrix of a chain that after_read() gave a ProductQuantizer trains
    // with it, which the PreTransformIndex holds (a transform kept after the
    // index was disposed of or collected trained with freed memory).
    for (size_t i = 0; i < pre.chain.size(); i++) {
        chain.Set(uint32_t(i), wrap(info.Env(),
                                    std::make_unique<LinearTransformObject>(
                                        std::shared_ptr<faiss::VectorTransform>(index_object->index, pre.chain[i]),
                                        nullptr, o.locks),
                                    false));
    }
    return chain;
}

void RegisterIndexPreTransform(Napi::Env env, Napi::Object exports) {
    export_function<IndexPreTransformNew>(env, exports, "indexPreTransformNew");
    export_function<PreTransformChain>(env, exports, "preTransformChain");
}

const FaissFunctions registered(RegisterIndexPreTransform);

}  // namespace

}  // namespace nanopq
