// The native object behind a JavaScript PQ or OPQ (lib/quantizer.ts): it holds
// a shared, immutable Model, so async calls keep using the model they started
// with even if it is disposed of or refitted meanwhile. Also the training
// bindings, which make such objects.
#pragma once

#include <napi.h>

#include <memory>

#include "model.h"

namespace nanopq {

class ModelObject : public Napi::ObjectWrap<ModelObject> {
public:
    // Registers the class for this environment (main thread or worker) and
    // returns its constructor: new Model(codewords, M, Ks, Ds, metric, R | null).
    static Napi::Function Define(Napi::Env env);
    // A new JavaScript object around a model made natively (by training).
    static Napi::Object Wrap(Napi::Env env, std::shared_ptr<const Model> model);

    explicit ModelObject(const Napi::CallbackInfo& info);
    ~ModelObject() override;

private:
    const Model& model() const;
    void adopt(Napi::Env env, std::shared_ptr<const Model> model);

    Napi::Value Ds(const Napi::CallbackInfo& info);
    Napi::Value CopyCodewords(const Napi::CallbackInfo& info);
    Napi::Value CopyR(const Napi::CallbackInfo& info);
    Napi::Value Encode(const Napi::CallbackInfo& info);
    Napi::Value EncodeAsync(const Napi::CallbackInfo& info);
    Napi::Value Decode(const Napi::CallbackInfo& info);
    Napi::Value DistanceTable(const Napi::CallbackInfo& info);
    Napi::Value Search(const Napi::CallbackInfo& info);
    Napi::Value SearchAsync(const Napi::CallbackInfo& info);
    Napi::Value Rotate(const Napi::CallbackInfo& info);
    Napi::Value Dispose(const Napi::CallbackInfo& info);

    std::shared_ptr<const Model> model_;
    Napi::Env env_;
    int64_t accounted_ = 0;  // bytes reported to V8
};

// train(x, n, options, onStep?) -> Model; trainAsync(x, n, options, onStep, stop) -> Promise<Model>.
Napi::Value Train(const Napi::CallbackInfo& info);
Napi::Value TrainAsync(const Napi::CallbackInfo& info);

}  // namespace nanopq
