// The scans of lib/models/rii.ts (model/rii.h): riiSearch over its codes
// and posting lists with a PQ/OPQ model handle, and riiAssign, PQk-means'
// assignment; each with an async twin. The index is lib's typed arrays,
// checked here before the kernels read them.
#include <memory>
#include <string>

#include "bindings/bindings.h"
#include "kernels/codes.h"
#include "model/model.h"
#include "model/rii.h"
#include "runtime/args.h"
#include "runtime/exports.h"
#include "runtime/worker.h"

namespace nanopq {

namespace {

// A typed array of `length` elements in argument i, or null for a null argument.
template <typename T>
const T* optional_array(PinnedArgs& args, size_t i, size_t length) {
    return args.info[i].IsNull() ? nullptr : args.array<T>(i, length).data;
}

struct SearchJob {
    std::shared_ptr<const Model> model;
    const float* queries;
    size_t nq;
    RiiIndex index;
    RiiPlan plan;
    uint32_t* ids;
    float* dists;
    void run() { rii_search(*model, queries, nq, index, plan, ids, dists); }
    Napi::Value result(Napi::Env env) { return env.Undefined(); }
};

// riiSearch(model, queries, nq, codes, N, centers, nlist, listIds, listStart,
//           listSize, removed | null, targets | null, topk, L, linear, idsOut, distsOut)
SearchJob search_job(PinnedArgs& args) {
    const Napi::CallbackInfo& info = args.info;
    SearchJob job{};
    job.model = model_arg(info, 0);
    const Model& m = *job.model;
    if (m.Ks > 256) throw RangeError("Expected a model with Ks <= 256 for a Rii");
    job.nq = size_arg(info, 2);
    job.queries = args.array<float>(1, checked_mul(job.nq, m.D())).data;
    RiiIndex& ix = job.index;
    ix.N = size_arg(info, 4);
    if (ix.N >= kNoId) throw RangeError("Expected N < 2**32 - 1");
    ix.codes = args.array<uint8_t>(3, checked_mul(ix.N, m.M)).data;
    ix.nlist = size_arg(info, 6);
    ix.centers = args.array<uint8_t>(5, checked_mul(ix.nlist, m.M)).data;
    if (!info[7].IsTypedArray()) throw TypeError("Expected a Uint32Array for argument 7");
    const size_t total = info[7].As<Napi::TypedArray>().ElementLength();
    ix.list_ids = args.array<uint32_t>(7, total).data;
    ix.list_start = args.array<uint32_t>(8, ix.nlist).data;
    ix.list_size = args.array<uint32_t>(9, ix.nlist).data;
    for (size_t k = 0; k < ix.nlist; k++) {
        if (size_t(ix.list_start[k]) + ix.list_size[k] > total)
            throw RangeError("Expected posting list " + std::to_string(k) + " inside the list ids");
    }
    ix.removed = optional_array<uint8_t>(args, 10, ix.N);
    RiiPlan& plan = job.plan;
    if (info[11].IsNull()) {
        plan.targets = nullptr;
    } else {
        if (!info[11].IsTypedArray()) throw TypeError("Expected a Uint32Array or null for argument 11");
        plan.S = info[11].As<Napi::TypedArray>().ElementLength();
        plan.targets = args.array<uint32_t>(11, plan.S).data;
    }
    plan.topk = size_arg(info, 12);
    plan.L = size_arg(info, 13);
    plan.linear = bool_arg(info, 14);
    job.ids = args.array<uint32_t>(15, checked_mul(job.nq, plan.topk)).data;
    job.dists = args.array<float>(16, checked_mul(job.nq, plan.topk)).data;
    return job;
}

struct AssignJob {
    const float* sym;
    size_t M, Ks;
    const uint8_t* codes;
    size_t n;
    const uint8_t* centers;
    size_t K;
    uint32_t* labels;
    void run() { rii_assign(sym, M, Ks, codes, n, centers, K, labels); }
    Napi::Value result(Napi::Env env) { return env.Undefined(); }
};

// riiAssign(sym, M, Ks, codes, n, centers, K, labelsOut): sym (M, Ks, Ks).
AssignJob assign_job(PinnedArgs& args) {
    const Napi::CallbackInfo& info = args.info;
    AssignJob job{};
    job.M = size_arg(info, 1);
    job.Ks = size_arg(info, 2);
    job.n = size_arg(info, 4);
    job.K = size_arg(info, 6);
    if (job.M == 0 || job.Ks == 0 || job.Ks > 256 || job.K == 0)
        throw RangeError("Expected M > 0, 0 < Ks <= 256 and at least one centre");
    job.sym = args.array<float>(0, checked_mul(job.M, job.Ks, job.Ks)).data;
    Codes codes = args.codes(3, job.n, job.M), centers = args.codes(5, job.K, job.M);
    if (codes.width != 1 || centers.width != 1) throw TypeError("Expected Uint8Array codes and centres");
    codes.check_range(job.Ks);
    centers.check_range(job.Ks);
    job.codes = static_cast<const uint8_t*>(codes.data);
    job.centers = static_cast<const uint8_t*>(centers.data);
    job.labels = args.array<uint32_t>(7, job.n).data;
    return job;
}

struct UpdateJob {
    const float* codewords;
    size_t M, Ks, Ds;
    const uint8_t* codes;
    size_t n;
    const uint32_t* labels;
    size_t K;
    uint8_t* centers;
    void run() { rii_update_centers(codewords, M, Ks, Ds, codes, n, labels, K, centers); }
    Napi::Value result(Napi::Env env) { return env.Undefined(); }
};

// riiUpdateCenters(codewords, M, Ks, Ds, codes, n, labels, K, centers): centers (K, M) updated.
UpdateJob update_job(PinnedArgs& args) {
    const Napi::CallbackInfo& info = args.info;
    UpdateJob job{};
    const Codebook cb = codebook_arg(info, 0);
    if (cb.Ks > 256) throw RangeError("Expected Ks <= 256");
    job.codewords = cb.codewords;
    args.pinned.push_back(info[0]);
    job.M = cb.M;
    job.Ks = cb.Ks;
    job.Ds = cb.Ds;
    job.n = size_arg(info, 5);
    job.K = size_arg(info, 7);
    if (job.K == 0) throw RangeError("Expected at least one centre");
    Codes codes = args.codes(4, job.n, job.M);
    if (codes.width != 1) throw TypeError("Expected Uint8Array codes");
    codes.check_range(job.Ks);
    job.codes = static_cast<const uint8_t*>(codes.data);
    job.labels = args.array<uint32_t>(6, job.n).data;
    job.centers = args.array<uint8_t>(8, checked_mul(job.K, job.M)).data;
    return job;
}

template <typename Job, Job (*make)(PinnedArgs&)>
Napi::Value Run(const Napi::CallbackInfo& info) {
    PinnedArgs args(info, size_t(-1));
    make(args).run();
    return info.Env().Undefined();
}

template <typename Job, Job (*make)(PinnedArgs&)>
Napi::Value RunAsync(const Napi::CallbackInfo& info) {
    PinnedArgs args(info, size_t(-1));
    Job job = make(args);
    return Worker<Job>::start(info.Env(), std::move(job), args.pinned);
}

}  // namespace

void RegisterRii(Napi::Env env, Napi::Object exports) {
    export_function<Run<SearchJob, search_job>>(env, exports, "riiSearch");
    export_function<RunAsync<SearchJob, search_job>>(env, exports, "riiSearchAsync");
    export_function<Run<AssignJob, assign_job>>(env, exports, "riiAssign");
    export_function<RunAsync<AssignJob, assign_job>>(env, exports, "riiAssignAsync");
    export_function<Run<UpdateJob, update_job>>(env, exports, "riiUpdateCenters");
    export_function<RunAsync<UpdateJob, update_job>>(env, exports, "riiUpdateCentersAsync");
}

}  // namespace nanopq
