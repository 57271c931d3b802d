// File formats, above core/: each reads through the one bounded reader in
// ./reader. Vectors and codes (npy, vecs, idx); models as plain fields
// (npq.ts this library's .npq, pickle.ts nanopq pickles, model-fields.ts what
// both hold), which models/ turns into models; faiss-index.ts checks a Faiss
// index file before Faiss reads it. This file is the public part of the `io`
// namespace (lib/io-namespace.ts adds the pickle functions over models).
export { readNpy, writeNpy } from './npy';
export type { NpyArray, NpyData, NpyDtype, NpyWritable } from './npy';
export { readFvecs, readIvecs, readBvecs, writeFvecs, writeIvecs, writeBvecs } from './vecs';
export type { VecsMatrix } from './vecs';
export { readIdx } from './idx';
export type { IdxMatrix, IdxDtype } from './idx';
export type { ReadPickleOptions } from './pickle';
