// Async work: one AsyncWorker template over plain job structs (as sharp's
// batons). A job is made on the JavaScript thread from arguments already read
// and checked; its run() touches no JavaScript and may throw; result(env)
// makes what the promise resolves with. The typed arrays the job reads or
// writes stay alive through references the worker holds until it settles
// (args.h PinnedArgs lists them as a job's arguments are read).
#pragma once

#include <napi.h>

#include <exception>
#include <utility>
#include <vector>

#include "kernels/parallel.h"
#include "model/train_monitor.h"
#include "runtime/errors.h"

namespace nanopq {

// Calls on_step(phase, iteration, of, objective).
inline void call_on_step(Napi::Function on_step, const TrainStep& step) {
    Napi::Env env = on_step.Env();
    on_step.Call({Napi::String::New(env, step.phase), Napi::Number::New(env, step.iteration),
                  Napi::Number::New(env, step.of), Napi::Number::New(env, step.objective)});
}

// What a worker shares, whatever its base: the promise, the pinned inputs,
// and the exception its job threw, rejected as the error guard() would throw.
template <typename Job>
struct Settlement {
    Napi::Promise::Deferred deferred;
    Job job;
    std::vector<Napi::Reference<Napi::Value>> pinned;
    std::exception_ptr error;

    Settlement(Napi::Env env, Job&& job, const std::vector<Napi::Value>& keep_alive)
        : deferred(Napi::Promise::Deferred::New(env)), job(std::move(job)) {
        for (const Napi::Value& v : keep_alive) pinned.push_back(Napi::Persistent(v));
    }

    template <typename Run>
    void run(Run&& body) {
        try {
            AsyncCall share_the_cores;
            use_num_threads();
            run_in_background();
            body();
        } catch (...) {
            error = std::current_exception();
        }
    }

    void settle(Napi::Env env) {
        Napi::HandleScope scope(env);
        try {
            if (error) std::rethrow_exception(error);
            deferred.Resolve(job.result(env));
        } catch (...) {
            deferred.Reject(current_exception_to_js(env).Value());
        }
    }
};

template <typename Job>
class Worker final : public Napi::AsyncWorker {
public:
    // Queues job.run() on libuv's thread pool; the promise settles on this thread.
    static Napi::Promise start(Napi::Env env, Job job, const std::vector<Napi::Value>& keep_alive) {
        auto* worker = new Worker(env, std::move(job), keep_alive);
        Napi::Promise promise = worker->s_.deferred.Promise();
        worker->Queue();
        return promise;
    }

private:
    Worker(Napi::Env env, Job&& job, const std::vector<Napi::Value>& keep_alive)
        : Napi::AsyncWorker(env, "nanopq"), s_(env, std::move(job), keep_alive) {}
    void Execute() override { s_.run([&] { s_.job.run(); }); }
    void OnOK() override { s_.settle(Env()); }
    Settlement<Job> s_;
};

// A worker whose job reports training steps (job.run(const TrainMonitor&)):
// each is passed to `on_step(phase, iteration, of, objective)` on this thread.
// `stop` is an Int32Array that JavaScript sets to nonzero to stop the job.
template <typename Job>
class TrainingWorker final : public Napi::AsyncProgressQueueWorker<TrainStep> {
public:
    static Napi::Promise start(Napi::Env env, Job job, Napi::Value on_step, Napi::Int32Array stop,
                               const std::vector<Napi::Value>& keep_alive) {
        auto* worker = new TrainingWorker(env, std::move(job), keep_alive);
        if (on_step.IsFunction()) worker->on_step_ = Napi::Persistent(on_step.As<Napi::Function>());
        worker->stop_ = stop.Data();
        worker->stop_ref_ = Napi::Persistent(static_cast<Napi::Value>(stop));
        Napi::Promise promise = worker->s_.deferred.Promise();
        worker->Queue();
        return promise;
    }

private:
    TrainingWorker(Napi::Env env, Job&& job, const std::vector<Napi::Value>& keep_alive)
        : Napi::AsyncProgressQueueWorker<TrainStep>(env, "nanopq"), s_(env, std::move(job), keep_alive) {}

    void Execute(const ExecutionProgress& progress) override {
        TrainMonitor monitor;
        monitor.stop = stop_;
        monitor.objective = s_.job.verbose;
        if (!on_step_.IsEmpty()) monitor.report = [&](const TrainStep& step) { progress.Send(&step, 1); };
        s_.run([&] { s_.job.run(monitor); });
    }
    void OnProgress(const TrainStep* steps, size_t count) override {
        if (on_step_.IsEmpty()) return;
        Napi::HandleScope scope(Env());
        // lib/quantizer.ts catches what the user's callback throws; anything
        // else (an environment torn down) must not escape into libuv.
        try {
            for (size_t i = 0; i < count; i++) call_on_step(on_step_.Value(), steps[i]);
        } catch (const Napi::Error&) {
            if (Env().IsExceptionPending()) Env().GetAndClearPendingException();
        }
    }
    void OnOK() override { s_.settle(Env()); }

    Settlement<Job> s_;
    Napi::FunctionReference on_step_;
    Napi::Reference<Napi::Value> stop_ref_;
    const int32_t* stop_ = nullptr;
};

}  // namespace nanopq
