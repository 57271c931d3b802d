// What every wrapped Faiss object shares: the handle JavaScript holds (see
// runtime/handles.h), its locks against changes while async calls read it,
// the native memory it tells V8 of, the async job that holds those locks,
// and the registry through which each kind's file registers its functions.
// Each kind derives from FaissObject in a file pair of its own.
#pragma once

#include <napi.h>

#include <faiss/MetricType.h>

#include <memory>
#include <string>
#include <vector>

#include "kernels/exceptions.h"
#include "runtime/args.h"
#include "runtime/handles.h"
#include "runtime/worker.h"

namespace nanopq {

// Async calls running on a Faiss object: several reads, or one write. Only
// the JavaScript thread that owns the object starts or ends them.
struct Busy {
    int readers = 0;
    bool writer = false;
};
using Locks = std::vector<std::shared_ptr<Busy>>;

enum class Access { Read, Write };

// A Faiss object JavaScript holds a handle to. It holds its Faiss parts by
// shared pointers, so that a part handed out (`index.pq`, `chain[i]`) keeps
// its parent alive.
class FaissObject : public Owned {
public:
    explicit FaissObject(Locks shared = {}) : locks(std::move(shared)) {}

    // Its own and those of every object it shares Faiss's with: an index's pq,
    // the parts of an IndexPreTransform, the objects it was made of.
    Locks locks;
    // A handle made with an object of its own (not a part of another's) tells
    // V8 how much native memory that holds, so that garbage collection keeps
    // up with a loop that makes many.
    bool owns_memory = false;
    bool disposed = false;

    // Throws unless an access may start now: a write while nothing runs, a read
    // while no write does. (Faiss's objects are not safe to change while read.)
    void check_access(Access access) const;

    // The bytes of the arrays it holds (centroids, codes, matrices).
    virtual size_t held_bytes() const = 0;
    // Lets go of its Faiss parts (dispose); async calls keep theirs alive.
    virtual void release() = 0;
};

// An access held for as long as an async job lives (it is released when the
// job is destroyed, on the JavaScript thread, after the promise settles).
class Hold {
public:
    Hold(const FaissObject& o, Access access);
    Hold(Hold&& other) noexcept : locks_(std::move(other.locks_)), access_(other.access_) { other.locks_.clear(); }
    Hold(const Hold&) = delete;
    ~Hold();

private:
    Locks locks_;
    Access access_;
};

// Tells V8 of the change in what the object holds (after training, adding, disposing).
void account(Napi::Env env, FaissObject& o);

// A handle to a new Faiss object, with a lock of its own besides those it
// shares; `owns_memory` unless it is a part of another object.
Napi::Value wrap(Napi::Env env, std::unique_ptr<FaissObject> object, bool owns_memory = true);

// The object of the handle in argument i (disposed of or not).
FaissObject& handle_arg(const Napi::CallbackInfo& info, size_t i);

// The object of a handle, unless it was disposed of.
FaissObject& object_arg(const Napi::CallbackInfo& info, size_t i);

// The object of argument i as the kind Kind, unless disposed of, once
// `access` may start; else a TypeError "Expected <what> for argument i".
template <class Kind>
Kind& kind_arg(const Napi::CallbackInfo& info, size_t i, Access access, const char* what) {
    FaissObject& o = object_arg(info, i);
    o.check_access(access);
    auto* kind = dynamic_cast<Kind*>(&o);
    if (!kind) throw TypeError(std::string("Expected ") + what + " for " + arg_name(i));
    return *kind;
}

// A job (run(), result(env), as runtime/worker.h runs them) on a Faiss
// object, holding its access to the object until the job is done, and
// telling V8 of the object's memory when it settles. The object's handle is
// among the values the worker keeps alive.
template <class Job>
struct HeldJob {
    Job job;
    Hold hold;
    FaissObject* object;
    void run() { job.run(); }
    Napi::Value result(Napi::Env env) {
        account(env, *object);
        return job.result(env);
    }
};

template <class Job>
Napi::Promise start_job(Napi::Env env, FaissObject& object, Access access, Job job,
                        const std::vector<Napi::Value>& pinned) {
    HeldJob<Job> held{std::move(job), Hold(object, access), &object};
    return Worker<HeldJob<Job>>::start(env, std::move(held), pinned);
}

// Argument readers the kinds share.
int nbits_arg(const Napi::CallbackInfo& info, size_t i);
void check_dims(size_t d, size_t M);
faiss::MetricType metric_arg_faiss(const Napi::CallbackInfo& info, size_t i);
inline Napi::Value undefined(const Napi::CallbackInfo& info) { return info.Env().Undefined(); }

// Each kind's file registers its functions with a static FaissFunctions;
// RegisterFaiss (addon.cc) calls them all, and registers faissDispose.
struct FaissFunctions {
    using Register = void (*)(Napi::Env env, Napi::Object exports);
    explicit FaissFunctions(Register functions);
};
void RegisterFaiss(Napi::Env env, Napi::Object exports);

}  // namespace nanopq
