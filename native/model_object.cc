#include "model_object.h"

#include <string>
#include <vector>

#include "addon_data.h"
#include "args.h"
#include "opq_ops.h"
#include "worker.h"

namespace nanopq {

namespace {

const napi_type_tag kModelTag = {0x6e616e6f70712d6dULL, 0x6f64656c2d707472ULL};

struct EncodeJob {
    std::shared_ptr<const Model> model;
    const float* x;
    Codes codes;
    void run() {
        check_values(x, codes.n * model->D(), kMaxAbsValue);
        model->encode(x, codes);
    }
    Napi::Value result(Napi::Env env) { return env.Undefined(); }
};

struct SearchJob {
    std::shared_ptr<const Model> model;
    const float* queries;
    size_t nq;
    Codes codes;
    size_t k;
    uint32_t* ids;
    float* dists;
    void run() {
        check_values(queries, nq * model->D(), kMaxAbsValue);
        model->search(queries, nq, codes, k, ids, dists);
    }
    Napi::Value result(Napi::Env env) { return env.Undefined(); }
};

struct TrainJob {
    const float* x;
    size_t n, M, Ks, Ds;
    Metric metric;
    OpqTrainOptions options;
    bool opq, verbose;
    std::shared_ptr<const Model> model;  // the result

    void run(const TrainMonitor& monitor) {
        check_values(x, n * M * Ds, kMaxAbsValue);
        std::vector<float> codewords(M * Ks * Ds), R(opq ? M * Ds * M * Ds : 0);
        options.pq.monitor = &monitor;
        if (opq)
            train_opq(x, n, M, Ks, Ds, options, R.data(), codewords.data());
        else
            train(x, n, M, Ks, Ds, options.pq, codewords.data());
        model = std::make_shared<const Model>(M, Ks, Ds, metric, std::move(codewords), std::move(R));
    }
    Napi::Value result(Napi::Env env) { return ModelObject::Wrap(env, model); }
};

// A training job from (x, n, options): options {M, Ks, Ds, metric, iter,
// seed, minit, verbose, rotationIter (0 for PQ), parametricInit}.
TrainJob train_job(const Napi::CallbackInfo& info) {
    if (!info[2].IsObject()) throw TypeError("Expected an options object for argument 2");
    Napi::Object o = info[2].As<Napi::Object>();
    TrainJob job{};
    job.n = size_arg(info, 1);
    job.M = size_value(o.Get("M"), "M");
    job.Ks = size_value(o.Get("Ks"), "Ks");
    job.Ds = size_value(o.Get("Ds"), "Ds");
    if (job.M == 0 || job.Ks == 0 || job.Ds == 0) throw RangeError("Expected M, Ks and Ds > 0");
    job.x = array_arg<float>(info, 0, checked_mul(job.n, job.M, job.Ds)).data;
    job.metric = metric_value(o.Get("metric"));
    const size_t iter = size_value(o.Get("iter"), "iter"), seed = size_value(o.Get("seed"), "seed");
    const size_t rotation_iter = size_value(o.Get("rotationIter"), "rotationIter");
    if (iter < 1 || iter > 1000000) throw RangeError("Expected 1 <= iter <= 1000000");
    if (seed > 0x7fffffff) throw RangeError("Expected 0 <= seed < 2**31");
    if (rotation_iter > 100000) throw RangeError("Expected rotationIter <= 100000");
    job.options.pq.iter = int(iter);
    job.options.pq.seed = int(seed);
    job.options.pq.init = init_value(o.Get("minit"));
    job.options.rotation_iter = int(rotation_iter);
    job.options.parametric_init = o.Get("parametricInit").ToBoolean();
    job.opq = rotation_iter > 0;
    job.verbose = o.Get("verbose").ToBoolean();
    check_training_size(job.n, job.Ks);
    checked_mul(job.M, job.Ks, job.Ds);
    return job;
}

}  // namespace

Napi::Function ModelObject::Define(Napi::Env env) {
    Napi::Function cls = DefineClass(
        env, "Model",
        {
            InstanceAccessor<&ModelObject::Ds>("Ds"),
            InstanceMethod<&ModelObject::CopyCodewords>("copyCodewords"),
            InstanceMethod<&ModelObject::CopyR>("copyR"),
            InstanceMethod<&ModelObject::Encode>("encode"),
            InstanceMethod<&ModelObject::EncodeAsync>("encodeAsync"),
            InstanceMethod<&ModelObject::Decode>("decode"),
            InstanceMethod<&ModelObject::DistanceTable>("distanceTable"),
            InstanceMethod<&ModelObject::Search>("search"),
            InstanceMethod<&ModelObject::SearchAsync>("searchAsync"),
            InstanceMethod<&ModelObject::Rotate>("rotate"),
            InstanceMethod<&ModelObject::Dispose>("dispose"),
        });
    addon_data(env).model_constructor = Napi::Persistent(cls);
    return cls;
}

Napi::Object ModelObject::Wrap(Napi::Env env, std::shared_ptr<const Model> model) {
    auto handle = Napi::External<std::shared_ptr<const Model>>::New(env, &model);
    handle.TypeTag(&kModelTag);
    return addon_data(env).model_constructor.New({handle});
}

// new Model(codewords, M, Ks, Ds, metric, R | null), or new Model(handle) from Wrap().
ModelObject::ModelObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelObject>(info), env_(info.Env()) {
    guard(info.Env(), [&]() -> Napi::Value {
        if (info.Length() == 1 && info[0].IsExternal()) {
            auto handle = info[0].As<Napi::External<std::shared_ptr<const Model>>>();
            if (!handle.CheckTypeTag(&kModelTag)) throw TypeError("Expected a model handle for argument 0");
            adopt(info.Env(), *handle.Data());
            return info.Env().Undefined();
        }
        const Codebook cb = codebook_arg(info, 0);
        const Metric metric = metric_arg(info, 4);
        std::vector<float> codewords(cb.codewords, cb.codewords + cb.M * cb.Ks * cb.Ds), R;
        if (!info[5].IsNull()) {
            const size_t D = cb.M * cb.Ds;
            const float* r = array_arg<float>(info, 5, checked_mul(D, D)).data;
            R.assign(r, r + D * D);
        }
        adopt(info.Env(), std::make_shared<const Model>(cb.M, cb.Ks, cb.Ds, metric, std::move(codewords), std::move(R)));
        return info.Env().Undefined();
    });
}

ModelObject::~ModelObject() {
    if (accounted_) Napi::MemoryManagement::AdjustExternalMemory(env_, -accounted_);
}

void ModelObject::adopt(Napi::Env env, std::shared_ptr<const Model> model) {
    model_ = std::move(model);
    accounted_ = int64_t(model_->bytes());
    Napi::MemoryManagement::AdjustExternalMemory(env, accounted_);
}

const Model& ModelObject::model() const {
    if (!model_) throw TypeError("Expected a model that is not disposed of");
    return *model_;
}

Napi::Value ModelObject::Ds(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&]() -> Napi::Value { return Napi::Number::New(info.Env(), double(model().Ds)); });
}

// Copies `values` into the Float32Array argument 0, of exactly their length.
static Napi::Value copy_out(const Napi::CallbackInfo& info, const std::vector<float>& values) {
    std::copy(values.begin(), values.end(), array_arg<float>(info, 0, values.size()).data);
    return info.Env().Undefined();
}

// copyCodewords(out): (M, Ks, Ds); copyR(out): (D, D)
Napi::Value ModelObject::CopyCodewords(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&] { return copy_out(info, model().codewords); });
}

Napi::Value ModelObject::CopyR(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&] { return copy_out(info, model().R); });
}

// encode(x, n, codes_out)
Napi::Value ModelObject::Encode(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&] {
        const Model& m = model();
        const size_t n = size_arg(info, 1);
        m.encode(array_arg<float>(info, 0, checked_mul(n, m.D())).data, codes_arg(info, 2, n, m.M));
        return info.Env().Undefined();
    });
}

// encodeAsync(x, n, codes_out) -> Promise<undefined>; x's values are checked on the worker.
Napi::Value ModelObject::EncodeAsync(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&]() -> Napi::Value {
        const Model& m = model();
        const size_t n = size_arg(info, 1);
        EncodeJob job{model_, array_arg<float>(info, 0, checked_mul(n, m.D())).data, codes_arg(info, 2, n, m.M)};
        return Worker<EncodeJob>::start(info.Env(), std::move(job), {info[0], info[2]});
    });
}

// decode(codes, n, x_out)
Napi::Value ModelObject::Decode(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&] {
        const Model& m = model();
        const size_t n = size_arg(info, 1);
        Codes codes = codes_arg(info, 0, n, m.M);
        m.decode(codes, array_arg<float>(info, 2, checked_mul(n, m.D())).data);
        return info.Env().Undefined();
    });
}

// distanceTable(query, table_out): (D,) -> (M, Ks)
Napi::Value ModelObject::DistanceTable(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&] {
        const Model& m = model();
        auto query = array_arg<float>(info, 0, m.D());
        m.distance_table(query.data, array_arg<float>(info, 1, checked_mul(m.M, m.Ks)).data);
        return info.Env().Undefined();
    });
}

// search(queries, nq, codes, n, k, ids_out, dists_out); k <= n
static SearchJob search_job(const std::shared_ptr<const Model>& model, const Napi::CallbackInfo& info) {
    const Model& m = *model;
    const size_t nq = size_arg(info, 1), n = size_arg(info, 3), k = size_arg(info, 4);
    if (k > n) throw RangeError("Expected k <= n");
    return {model,
            array_arg<float>(info, 0, checked_mul(nq, m.D())).data,
            nq,
            codes_arg(info, 2, n, m.M),
            k,
            array_arg<uint32_t>(info, 5, checked_mul(nq, k)).data,
            array_arg<float>(info, 6, checked_mul(nq, k)).data};
}

Napi::Value ModelObject::Search(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&] {
        model();
        SearchJob job = search_job(model_, info);
        model_->search(job.queries, job.nq, job.codes, job.k, job.ids, job.dists);
        return info.Env().Undefined();
    });
}

Napi::Value ModelObject::SearchAsync(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&]() -> Napi::Value {
        model();
        return Worker<SearchJob>::start(info.Env(), search_job(model_, info), {info[0], info[2], info[5], info[6]});
    });
}

// rotate(x, n, inverse, y_out): x @ R, or x @ R^T
Napi::Value ModelObject::Rotate(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&] {
        const Model& m = model();
        const size_t n = size_arg(info, 1);
        auto x = array_arg<float>(info, 0, checked_mul(n, m.D()));
        m.rotate(x.data, n, bool_arg(info, 2), array_arg<float>(info, 3, checked_mul(n, m.D())).data);
        return info.Env().Undefined();
    });
}

// dispose(): frees the model now (async calls still running keep their own reference).
Napi::Value ModelObject::Dispose(const Napi::CallbackInfo& info) {
    return guard(info.Env(), [&] {
        model_.reset();
        Napi::MemoryManagement::AdjustExternalMemory(info.Env(), -accounted_);
        accounted_ = 0;
        return info.Env().Undefined();
    });
}

Napi::Value Train(const Napi::CallbackInfo& info) {
    TrainJob job = train_job(info);
    TrainMonitor monitor;
    monitor.objective = job.verbose;
    const Napi::Value on_step = info[3];
    if (on_step.IsFunction())
        monitor.report = [&](const TrainStep& step) { call_on_step(on_step.As<Napi::Function>(), step); };
    job.run(monitor);
    return job.result(info.Env());
}

Napi::Value TrainAsync(const Napi::CallbackInfo& info) {
    TrainJob job = train_job(info);
    if (!info[4].IsTypedArray() || info[4].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
        info[4].As<Napi::Int32Array>().ElementLength() != 1)
        throw TypeError("Expected an Int32Array of length 1 for argument 4");
    return TrainingWorker<TrainJob>::start(info.Env(), std::move(job), info[3], info[4].As<Napi::Int32Array>(),
                                           {info[0]});
}

}  // namespace nanopq
