// The handle behind a JavaScript PQ or OPQ (lib/quantizer.ts, lib/native.ts):
// it holds a shared, immutable Model, so async calls keep using the model they
// started with even if it is disposed of or refitted meanwhile. Its functions
// (modelEncode, modelSearch, ...) take the handle first; training makes one.
#include <memory>
#include <string>
#include <vector>

#include "bindings/bindings.h"
#include "kernels/values.h"
#include "model/model.h"
#include "model/opq.h"
#include "runtime/addon_data.h"
#include "runtime/args.h"
#include "runtime/exports.h"
#include "runtime/handles.h"
#include "runtime/worker.h"

namespace nanopq {

struct ModelHandle : Owned {
    std::shared_ptr<const Model> model;  // null once disposed of
};

static Napi::Value wrap(Napi::Env env, std::shared_ptr<const Model> model);

namespace {

Init init_value(Napi::Value value) { return enum_value<Init>(value, kInitNames, "minit"); }

const napi_type_tag kModelTag = {0x6e616e6f70712d6dULL, 0x6f64656c2d707472ULL};

struct EncodeJob {
    std::shared_ptr<const Model> model;
    const float* x;
    Codes codes;
    void run() {
        model->encode(x, codes);
    }
    Napi::Value result(Napi::Env env) { return env.Undefined(); }
};

// A search of queries over codes: plain (Codes) or packed for fast scan (PackedCodes).
template <typename CodesOf>
struct SearchJob {
    std::shared_ptr<const Model> model;
    const float* queries;
    size_t nq;
    CodesOf codes;
    size_t k;
    uint32_t* ids;
    float* dists;
    void run() { model->search(queries, nq, codes, k, ids, dists); }
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
        std::vector<float> codewords(M * Ks * Ds), R(opq ? M * Ds * M * Ds : 0);
        options.pq.monitor = &monitor;
        if (opq)
            train_opq(x, n, M, Ks, Ds, options, R.data(), codewords.data());
        else
            train(x, n, M, Ks, Ds, options.pq, codewords.data());
        model = std::make_shared<const Model>(M, Ks, Ds, metric, std::move(codewords), std::move(R));
    }
    Napi::Value result(Napi::Env env) { return wrap(env, model); }
};

// A training job from (x, n, options): options {M, Ks, Ds, metric, iter,
// seed, minit, verbose, rotationIter (0 for PQ), parametricInit}.
TrainJob train_job(PinnedArgs& args) {
    const Napi::CallbackInfo& info = args.info;
    if (!info[2].IsObject()) throw TypeError("Expected an options object for argument 2");
    Napi::Object o = info[2].As<Napi::Object>();
    TrainJob job{};
    job.n = size_arg(info, 1);
    job.M = size_value(o.Get("M"), "M");
    job.Ks = size_value(o.Get("Ks"), "Ks");
    job.Ds = size_value(o.Get("Ds"), "Ds");
    if (job.M == 0 || job.Ks == 0 || job.Ds == 0) throw RangeError("Expected M, Ks and Ds > 0");
    job.x = args.array<float>(0, checked_mul(job.n, job.M, job.Ds)).data;
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

// A handle to `model`, telling V8 the memory it holds.
static Napi::Value wrap(Napi::Env env, std::shared_ptr<const Model> model) {
    auto owned = std::make_unique<ModelHandle>();
    owned->model = std::move(model);
    ModelHandle& handle = *owned;
    Napi::Value value = handles(env).make(env, std::move(owned), kModelTag);
    handles(env).account(handle, int64_t(handle.model->bytes()));
    return value;
}

static ModelHandle& handle_arg(const Napi::CallbackInfo& info, size_t i = 0) {
    auto* handle = Handles::get<ModelHandle>(info[i], kModelTag);
    if (!handle) throw TypeError("Expected a model handle for " + arg_name(i));
    return *handle;
}

const std::shared_ptr<const Model>& model_arg(const Napi::CallbackInfo& info, size_t i) {
    const auto& model = handle_arg(info, i).model;
    if (!model) throw TypeError("Expected a model that is not disposed of");
    return model;
}

// modelNew(codewords, M, Ks, Ds, metric, R | null)
static Napi::Value New(const Napi::CallbackInfo& info) {
    const Codebook cb = codebook_arg(info, 0);
    const Metric metric = metric_arg(info, 4);
    std::vector<float> codewords(cb.codewords, cb.codewords + cb.M * cb.Ks * cb.Ds), R;
    if (!info[5].IsNull()) {
        const size_t D = cb.M * cb.Ds;
        const float* r = array_arg<float>(info, 5, checked_mul(D, D)).data;
        R.assign(r, r + D * D);
    }
    return wrap(info.Env(), std::make_shared<const Model>(cb.M, cb.Ks, cb.Ds, metric, std::move(codewords), std::move(R)));
}

static Napi::Value Ds(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), double(model_arg(info)->Ds));
}

// Copies `values` into the Float32Array argument 1, of exactly their length.
static Napi::Value copy_out(const Napi::CallbackInfo& info, const std::vector<float>& values) {
    std::copy(values.begin(), values.end(), array_arg<float>(info, 1, values.size()).data);
    return info.Env().Undefined();
}

// modelCopyCodewords(h, out): (M, Ks, Ds); modelCopyR(h, out): (D, D)
static Napi::Value CopyCodewords(const Napi::CallbackInfo& info) { return copy_out(info, model_arg(info)->codewords); }
static Napi::Value CopyR(const Napi::CallbackInfo& info) { return copy_out(info, model_arg(info)->R); }

// modelEncode(h, x, n, codes_out)
static Napi::Value Encode(const Napi::CallbackInfo& info) {
    const Model& m = *model_arg(info);
    const size_t n = size_arg(info, 2);
    m.encode(array_arg<float>(info, 1, checked_mul(n, m.D())).data, codes_arg(info, 3, n, m.M));
    return info.Env().Undefined();
}

// modelEncodeAsync(h, x, n, codes_out) -> Promise<undefined>
static Napi::Value EncodeAsync(const Napi::CallbackInfo& info) {
    const auto& model = model_arg(info);
    const size_t n = size_arg(info, 2);
    PinnedArgs args(info, 0);
    EncodeJob job{model, args.array<float>(1, checked_mul(n, model->D())).data, args.codes(3, n, model->M)};
    return Worker<EncodeJob>::start(info.Env(), std::move(job), args.pinned);
}

// modelDecode(h, codes, n, x_out)
static Napi::Value Decode(const Napi::CallbackInfo& info) {
    const Model& m = *model_arg(info);
    const size_t n = size_arg(info, 2);
    Codes codes = codes_arg(info, 1, n, m.M);
    m.decode(codes, array_arg<float>(info, 3, checked_mul(n, m.D())).data);
    return info.Env().Undefined();
}

// modelDistanceTable(h, query, table_out): (D,) -> (M, Ks)
static Napi::Value DistanceTable(const Napi::CallbackInfo& info) {
    const Model& m = *model_arg(info);
    auto query = array_arg<float>(info, 1, m.D());
    m.distance_table(query.data, array_arg<float>(info, 2, checked_mul(m.M, m.Ks)).data);
    return info.Env().Undefined();
}

// The n codes of argument 3: plain (n, M), or packed (kernels/fast_scan.h).
template <typename CodesOf>
CodesOf search_codes(PinnedArgs& args, size_t n, size_t M);
template <>
Codes search_codes<Codes>(PinnedArgs& args, size_t n, size_t M) { return args.codes(3, n, M); }
template <>
PackedCodes search_codes<PackedCodes>(PinnedArgs& args, size_t n, size_t M) {
    return {args.array<uint8_t>(3, packed_bytes(n, M)).data, n, M};
}

// modelSearch(h, queries, nq, codes, n, k, ids_out, dists_out); k <= n.
// modelSearchPacked: the same over n packed codes of the model's M.
template <typename CodesOf>
static SearchJob<CodesOf> search_job(PinnedArgs& args) {
    const Napi::CallbackInfo& info = args.info;
    const auto& model = model_arg(info);
    const size_t nq = size_arg(info, 2), n = size_arg(info, 4), k = size_arg(info, 5);
    if (k > n) throw RangeError("Expected k <= n");
    return {model,
            args.array<float>(1, checked_mul(nq, model->D())).data,
            nq,
            search_codes<CodesOf>(args, n, model->M),
            k,
            args.array<uint32_t>(6, checked_mul(nq, k)).data,
            args.array<float>(7, checked_mul(nq, k)).data};
}

template <typename CodesOf>
static Napi::Value Search(const Napi::CallbackInfo& info) {
    PinnedArgs args(info, 0);
    search_job<CodesOf>(args).run();
    return info.Env().Undefined();
}

template <typename CodesOf>
static Napi::Value SearchAsync(const Napi::CallbackInfo& info) {
    PinnedArgs args(info, 0);
    SearchJob<CodesOf> job = search_job<CodesOf>(args);
    return Worker<SearchJob<CodesOf>>::start(info.Env(), std::move(job), args.pinned);
}

// modelRotate(h, x, n, inverse, y_out): x @ R, or x @ R^T
static Napi::Value Rotate(const Napi::CallbackInfo& info) {
    const Model& m = *model_arg(info);
    const size_t n = size_arg(info, 2);
    auto x = array_arg<float>(info, 1, checked_mul(n, m.D()));
    m.rotate(x.data, n, bool_arg(info, 3), array_arg<float>(info, 4, checked_mul(n, m.D())).data);
    return info.Env().Undefined();
}

// modelDispose(h): frees the model now (async calls still running keep their own reference).
static Napi::Value Dispose(const Napi::CallbackInfo& info) {
    ModelHandle& handle = handle_arg(info);
    handle.model.reset();
    handles(info.Env()).account(handle, 0);
    return info.Env().Undefined();
}

static Napi::Value Train(const Napi::CallbackInfo& info) {
    PinnedArgs args(info, size_t(-1));
    TrainJob job = train_job(args);
    TrainMonitor monitor;
    monitor.objective = job.verbose;
    const Napi::Value on_step = info[3];
    if (on_step.IsFunction())
        monitor.report = [&](const TrainStep& step) { call_on_step(on_step.As<Napi::Function>(), step); };
    job.run(monitor);
    return job.result(info.Env());
}

static Napi::Value TrainAsync(const Napi::CallbackInfo& info) {
    PinnedArgs args(info, size_t(-1));
    TrainJob job = train_job(args);
    if (!info[4].IsTypedArray() || info[4].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
        info[4].As<Napi::Int32Array>().ElementLength() != 1)
        throw TypeError("Expected an Int32Array of length 1 for argument 4");
    return TrainingWorker<TrainJob>::start(info.Env(), std::move(job), info[3], info[4].As<Napi::Int32Array>(),
                                           args.pinned);
}

void RegisterModel(Napi::Env env, Napi::Object exports) {
    export_function<New>(env, exports, "modelNew");
    export_function<Ds>(env, exports, "modelDs");
    export_function<CopyCodewords>(env, exports, "modelCopyCodewords");
    export_function<CopyR>(env, exports, "modelCopyR");
    export_function<Encode>(env, exports, "modelEncode");
    export_function<EncodeAsync>(env, exports, "modelEncodeAsync");
    export_function<Decode>(env, exports, "modelDecode");
    export_function<DistanceTable>(env, exports, "modelDistanceTable");
    export_function<Search<Codes>>(env, exports, "modelSearch");
    export_function<SearchAsync<Codes>>(env, exports, "modelSearchAsync");
    export_function<Search<PackedCodes>>(env, exports, "modelSearchPacked");
    export_function<SearchAsync<PackedCodes>>(env, exports, "modelSearchPackedAsync");
    export_function<Rotate>(env, exports, "modelRotate");
    export_function<Dispose>(env, exports, "modelDispose");
    export_function<Train>(env, exports, "train");
    export_function<TrainAsync>(env, exports, "trainAsync");
    export_names(env, exports, "metric", kMetricNames);
    export_names(env, exports, "minit", kInitNames);
}

}  // namespace nanopq
