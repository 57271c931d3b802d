#include "faiss/index_pre_transform.h"

#include <faiss/IndexPQ.h>

#include <algorithm>

#include "faiss/linear_transform.h"
#include "runtime/exports.h"

namespace nanopq {

PreTransformIndex::PreTransformIndex(std::shared_ptr<faiss::Index> index)
    : AnyIndex(std::move(index)), inner_(adopt(std::shared_ptr<faiss::Index>(index_, pre().index))) {}

size_t PreTransformIndex::held_bytes() const {
    size_t floats = 0;
    for (auto* t : pre().chain) floats += transform_floats(t);
    return floats * sizeof(float) + inner_->held_bytes();
}

void PreTransformIndex::after_read() {
    inner_->after_read();
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

namespace {

const IndexKind kind(typeid(faiss::IndexPreTransform),
                     [](std::shared_ptr<faiss::Index> index) -> std::shared_ptr<AnyIndex> {
                         return std::make_shared<PreTransformIndex>(std::move(index));
                     });

// indexPreTransformNew(transform, index): shares both, as Faiss's own_fields = false
Napi::Value IndexPreTransformNew(const Napi::CallbackInfo& info) {
    FaissObject& t = object_arg(info, 0);
    FaissObject& i = object_arg(info, 1);
    auto* transform_object = dynamic_cast<LinearTransformObject*>(&t);
    auto* index_object = dynamic_cast<IndexObject*>(&i);
    if (!transform_object) throw TypeError("Expected an OPQMatrix for argument 0");
    if (!index_object || !dynamic_cast<faiss::IndexPQ*>(&index_object->index->get()))
        throw TypeError("Expected an IndexPQ for argument 1");
    auto transform = transform_object->transform;
    auto inner = index_object->index->shared();
    auto quiet_pq = transform_object->quiet_pq;
    if (size_t(transform->d_out) != size_t(inner->d))
        throw RangeError("Expected the transform's output dimension to be the index's d");
    std::shared_ptr<faiss::Index> pre(new faiss::IndexPreTransform(transform.get(), inner.get()),
                                      [transform, inner, quiet_pq](faiss::Index* p) { delete p; });
    Locks locks = t.locks;
    locks.insert(locks.end(), i.locks.begin(), i.locks.end());
    return wrap(info.Env(), std::make_unique<IndexObject>(std::make_shared<PreTransformIndex>(pre), locks));
}

// preTransformParts(index) -> {chain: [transform...], index}, sharing the pre-transform
Napi::Value PreTransformParts(const Napi::CallbackInfo& info) {
    FaissObject& o = object_arg(info, 0);
    auto* index_object = dynamic_cast<IndexObject*>(&o);
    auto* pt = index_object ? dynamic_cast<PreTransformIndex*>(index_object->index.get()) : nullptr;
    if (!pt) throw TypeError("Expected an IndexPreTransform for argument 0");
    const faiss::IndexPreTransform& pre = pt->pre();
    auto chain = Napi::Array::New(info.Env(), pre.chain.size());
    for (size_t i = 0; i < pre.chain.size(); i++) {
        auto* lt = dynamic_cast<faiss::LinearTransform*>(pre.chain[i]);
        if (!lt) throw TypeError("Expected an IndexPreTransform whose transforms are linear");
        chain.Set(uint32_t(i), wrap(info.Env(),
                                    std::make_unique<LinearTransformObject>(
                                        std::shared_ptr<faiss::LinearTransform>(pt->shared(), lt), nullptr, o.locks),
                                    false));
    }
    auto out = Napi::Object::New(info.Env());
    out.Set("chain", chain);
    out.Set("index", wrap(info.Env(),
                          std::make_unique<IndexObject>(adopt(std::shared_ptr<faiss::Index>(pt->shared(), pre.index)),
                                                        o.locks),
                          false));
    return out;
}

void RegisterIndexPreTransform(Napi::Env env, Napi::Object exports) {
    export_function<IndexPreTransformNew>(env, exports, "indexPreTransformNew");
    export_function<PreTransformParts>(env, exports, "preTransformParts");
}

const FaissFunctions registered(RegisterIndexPreTransform);

}  // namespace

}  // namespace nanopq
