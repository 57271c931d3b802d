// The indexes that store one code per vector, in the order added
// (faiss::IndexFlatCodes: IndexFlat, IndexScalarQuantizer, IndexPQ; and
// IndexPQFastScan, whose codes are packed in blocks): their ids are their
// positions, which removeIds compacts.
#pragma once

#include <faiss/IndexFlatCodes.h>

#include "faiss/index.h"

namespace nanopq {

class FlatCodesIndex : public AnyIndex {
public:
    using AnyIndex::AnyIndex;
    faiss::IndexFlatCodes& flat() const { return static_cast<faiss::IndexFlatCodes&>(get()); }

    size_t held_bytes() const override { return flat().codes.size(); }
    const char* cannot(Op op) const override;
    void describe(Napi::Object out) const override;
};

}  // namespace nanopq
