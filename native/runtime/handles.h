// The native objects JavaScript holds (models, Faiss objects) and when they
// are freed. A handle is an External with no finalizer, watched by a weak
// reference: Node 20 runs N-API finalizers only when the event loop turns, so
// a synchronous loop that makes and drops models kept every one of them
// (+320 MB over 100,000 cycles). Instead, the objects whose handles were
// garbage-collected are freed here, on the JavaScript thread: when the number
// of handles or the native memory they hold has doubled since the last sweep,
// when JavaScript asks (lib/native.ts does after garbage collections), and all
// of them when the environment (main thread or worker) exits.
#pragma once

#include <napi.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/exceptions.h"

namespace nanopq {

// What a handle owns; `accounted` is the native memory V8 has been told of.
struct Owned {
    virtual ~Owned() = default;
    int64_t accounted = 0;
};

class Handles {
public:
    // One per environment (in its AddonData). Every object is freed at the
    // environment's exit, by a cleanup hook: those run before N-API's own
    // teardown, which frees the AddonData after, so references may still be
    // deleted then, and a job finishing later finds a closed registry.
    explicit Handles(napi_env env) : env_(env) { napi_add_env_cleanup_hook(env, close, this); }
    Handles(const Handles&) = delete;

    // A handle owning `object`, tagged so that `get` knows its type.
    Napi::Value make(Napi::Env env, std::unique_ptr<Owned> object, const napi_type_tag& tag) {
        if (closed_) throw Error("Expected an environment that is not exiting");
        if (entries_.size() >= next_sweep_) sweep();
        auto handle = Napi::External<Owned>::New(env, object.get());
        handle.TypeTag(&tag);
        napi_ref ref;
        if (napi_create_reference(env, handle, 0, &ref) != napi_ok) throw Error("Expected to create a handle");
        entries_.push_back({ref, std::move(object)});
        return handle;
    }

    // The object of `value`, or null unless it is a handle tagged `tag`.
    template <class T>
    static T* get(Napi::Value value, const napi_type_tag& tag) {
        if (!value.IsExternal() || !value.As<Napi::External<Owned>>().CheckTypeTag(&tag)) return nullptr;
        return static_cast<T*>(value.As<Napi::External<Owned>>().Data());
    }

    // Tells V8 that `object` now holds `bytes` of native memory.
    void account(Owned& object, int64_t bytes) {
        adjust(object, bytes);
        if (bytes_ > 2 * bytes_after_sweep_ + (int64_t(16) << 20)) sweep();
    }

    // Frees the objects whose handles were garbage-collected.
    void sweep() {
        size_t kept = 0;
        for (Entry& e : entries_) {
            napi_value value = nullptr;
            // A failed lookup (an environment going away) keeps the object: only a collected handle frees it.
            if (napi_get_reference_value(env_, e.ref, &value) == napi_ok && value == nullptr) {
                napi_delete_reference(env_, e.ref);
                adjust(*e.object, 0);
                e.object.reset();
            } else if (&entries_[kept++] != &e) {
                entries_[kept - 1] = std::move(e);
            }
        }
        entries_.resize(kept);
        next_sweep_ = std::max<size_t>(64, 2 * kept);
        bytes_after_sweep_ = bytes_;
    }

    size_t size() const { return entries_.size(); }

private:
    struct Entry {
        napi_ref ref;
        std::unique_ptr<Owned> object;
    };

    void adjust(Owned& object, int64_t bytes) {
        Napi::MemoryManagement::AdjustExternalMemory(Napi::Env(env_), bytes - object.accounted);
        bytes_ += bytes - object.accounted;
        object.accounted = bytes;
    }

    static void close(void* self) {
        auto* handles = static_cast<Handles*>(self);
        for (Entry& e : handles->entries_) napi_delete_reference(handles->env_, e.ref);
        handles->entries_.clear();
        handles->closed_ = true;
    }

    napi_env env_;
    std::vector<Entry> entries_;
    size_t next_sweep_ = 64;
    int64_t bytes_ = 0, bytes_after_sweep_ = 0;
    bool closed_ = false;
};

}  // namespace nanopq
