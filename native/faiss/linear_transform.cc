#include "faiss/linear_transform.h"

#include <faiss/Index.h>

#include <algorithm>
#include <cstring>

#include "faiss/product_quantizer.h"
#include "kernels/parallel.h"
#include "kernels/values.h"
#include "runtime/exports.h"

namespace nanopq {

size_t transform_floats(const faiss::VectorTransform* t) {
    auto* lt = dynamic_cast<const faiss::LinearTransform*>(t);
    return lt ? lt->A.size() + lt->b.size() : 0;
}

size_t LinearTransformObject::held_bytes() const {
    return (transform_floats(transform.get()) + (quiet_pq ? quiet_pq->centroids.size() : 0)) * sizeof(float);
}

// The transform as index_factory names it (OPQ8_32, PCAR16, L2norm, RR64), or LT<d_out> for another linear one.
std::string factory_name(const faiss::VectorTransform& t) {
    const std::string out = std::to_string(t.d_out);
    if (auto* opq = dynamic_cast<const faiss::OPQMatrix*>(&t))
        return "OPQ" + std::to_string(opq->M) + (t.d_out == t.d_in ? "" : "_" + out);
    if (auto* pca = dynamic_cast<const faiss::PCAMatrix*>(&t))
        return std::string("PCA") + (pca->eigen_power == -0.5f ? "W" : "") + (pca->random_rotation ? "R" : "") + out;
    if (dynamic_cast<const faiss::RandomRotationMatrix*>(&t)) return "RR" + out;
    if (dynamic_cast<const faiss::NormalizationTransform*>(&t)) return "L2norm";
    return "LT" + out;
}

namespace {

faiss::VectorTransform& any_transform_arg(const Napi::CallbackInfo& info, size_t i, Access access) {
    return *kind_arg<LinearTransformObject>(info, i, access, "a transform").transform;
}

faiss::LinearTransform& transform_arg(const Napi::CallbackInfo& info, size_t i, Access access) {
    auto* linear = dynamic_cast<faiss::LinearTransform*>(&any_transform_arg(info, i, access));
    if (!linear) throw TypeError("Expected a linear transform (OPQMatrix) for " + arg_name(i));
    return *linear;
}

// opqNew(d, M)
Napi::Value OpqNew(const Napi::CallbackInfo& info) {
    size_t d = size_arg(info, 0), M = size_arg(info, 1);
    check_dims(d, M);
    if (d > kMaxOpqDimension)
        throw RangeError("Expected d <= " + std::to_string(kMaxOpqDimension) + " for an OPQMatrix");
    auto opq = std::make_shared<faiss::OPQMatrix>(int(d), int(M));
    auto pq = std::make_shared<faiss::ProductQuantizer>(d, M, 8);  // OPQMatrix's own default
    quiet(*pq);
    opq->pq = pq.get();
    return wrap(info.Env(), std::make_unique<LinearTransformObject>(opq, pq));
}

// transformInfo(t) -> {linear, dIn, dOut, isTrained, haveBias, isOrthonormal}
Napi::Value TransformInfo(const Napi::CallbackInfo& info) {
    auto& t = any_transform_arg(info, 0, Access::Read);
    auto* linear = dynamic_cast<faiss::LinearTransform*>(&t);
    auto out = Napi::Object::New(info.Env());
    out.Set("linear", linear != nullptr);
    out.Set("dIn", double(t.d_in));
    out.Set("dOut", double(t.d_out));
    out.Set("isTrained", t.is_trained);
    out.Set("haveBias", linear && linear->have_bias);
    out.Set("isOrthonormal", linear && linear->is_orthonormal);
    out.Set("description", factory_name(t));
    return out;
}

// transformGetA(t, out) / transformSetA(t, A): (d_out, d_in), y = A x
Napi::Value TransformGetA(const Napi::CallbackInfo& info) {
    auto& t = transform_arg(info, 0, Access::Read);
    auto out = array_arg<float>(info, 1, checked_mul(t.d_out, t.d_in));
    if (t.A.size() != out.length) throw TypeError("Expected a trained OPQMatrix");
    std::memcpy(out.data, t.A.data(), out.length * sizeof(float));
    return undefined(info);
}

Napi::Value TransformSetA(const Napi::CallbackInfo& info) {
    auto& t = transform_arg(info, 0, Access::Write);
    auto in = array_arg<float>(info, 1, checked_mul(t.d_out, t.d_in));
    t.A.assign(in.data, in.data + in.length);
    t.b.clear();
    t.have_bias = false;
    t.is_trained = true;
    t.set_is_orthonormal();
    account(info.Env(), object_arg(info, 0));
    return undefined(info);
}

// transformTrain(t, x, n)
Napi::Value TransformTrain(const Napi::CallbackInfo& info) {
    auto& t = transform_arg(info, 0, Access::Write);
    if (!dynamic_cast<faiss::OPQMatrix*>(&t))
        throw TypeError("Expected an OPQMatrix to train; a linear transform read from a file is trained already");
    size_t n = size_arg(info, 2);
    const float* x = array_arg<float>(info, 1, checked_mul(n, t.d_in)).data;
    // Faiss starts from the A it holds (else from a random rotation), and its k-means sees x A^T first.
    if (!t.A.empty()) check_transformed({&t}, x, n, "Expected vectors that A keeps within magnitude 1e15 for train()");
    t.train(n, x);
    account(info.Env(), object_arg(info, 0));
    return undefined(info);
}

// transformApply(t, x, n, y_out) / transformReverse(t, y, n, x_out)
Napi::Value TransformApply(const Napi::CallbackInfo& info) {
    auto& t = any_transform_arg(info, 0, Access::Read);
    if (!t.is_trained) throw TypeError("Expected a trained transform");
    size_t n = size_arg(info, 2);
    auto x = array_arg<float>(info, 1, checked_mul(n, t.d_in));
    t.apply_noalloc(n, x.data, array_arg<float>(info, 3, checked_mul(n, t.d_out)).data);
    return undefined(info);
}

Napi::Value TransformReverse(const Napi::CallbackInfo& info) {
    auto& t = transform_arg(info, 0, Access::Read);
    if (!t.is_trained) throw TypeError("Expected a trained OPQMatrix");
    if (!t.is_orthonormal) throw TypeError("Expected an orthonormal transform for reverseTransform");
    size_t n = size_arg(info, 2);
    auto y = array_arg<float>(info, 1, checked_mul(n, t.d_out));
    t.reverse_transform(n, y.data, array_arg<float>(info, 3, checked_mul(n, t.d_in)).data);
    return undefined(info);
}

}  // namespace

void check_transformed(const std::vector<faiss::VectorTransform*>& chain, const float* x, size_t n,
                       const char* message) {
    if (chain.empty()) return;
    size_t widest = 0;
    for (auto* t : chain) widest = std::max(widest, size_t(t->d_out));
    const size_t d_in = size_t(chain.front()->d_in), d_out = size_t(chain.back()->d_out);
    const size_t rows = rows_per_block(2 * widest);
    std::vector<float> out, in;  // each transform's output becomes the next one's input
    for (size_t i0 = 0; i0 < n; i0 += rows) {
        const size_t nb = std::min(rows, n - i0);
        const float* y = x + i0 * d_in;
        for (auto* t : chain) {
            out.resize(nb * size_t(t->d_out));
            t->apply_noalloc(faiss::Index::idx_t(nb), y, out.data());
            std::swap(out, in);
            y = in.data();
        }
        if (first_out_of_range(y, nb * d_out, kMaxAbsValue) < nb * d_out) throw RangeError(message);
    }
}

namespace {

void RegisterLinearTransform(Napi::Env env, Napi::Object exports) {
    export_function<OpqNew>(env, exports, "opqNew");
    export_function<TransformInfo>(env, exports, "transformInfo");
    export_function<TransformGetA>(env, exports, "transformGetA");
    export_function<TransformSetA>(env, exports, "transformSetA");
    export_function<TransformTrain>(env, exports, "transformTrain");
    export_function<TransformApply>(env, exports, "transformApply");
    export_function<TransformReverse>(env, exports, "transformReverse");
    export_limit(env, exports, "maxOpqDimension", double(kMaxOpqDimension));
}

const FaissFunctions registered(RegisterLinearTransform);

}  // namespace

}  // namespace nanopq
