// The Faiss objects of the `faiss` namespace: ProductQuantizer, OPQMatrix (or
// any LinearTransform read from a file), IndexPQ and IndexPreTransform, held
// by type-tagged handles that share ownership, so a ProductQuantizer taken
// from an IndexPQ keeps that index alive.
#pragma once

#include <napi.h>

namespace nanopq {

void RegisterFaiss(Napi::Env env, Napi::Object exports);

}  // namespace nanopq
