// File formats: each reads through the one bounded reader in ./reader.
export { readNpy, writeNpy } from './npy';
export type { NpyArray, NpyData, NpyDtype, NpyWritable } from './npy';
export { readFvecs, readIvecs, readBvecs, writeFvecs, writeIvecs, writeBvecs } from './vecs';
export type { VecsMatrix } from './vecs';
export { readIdx } from './idx';
export type { IdxMatrix, IdxDtype } from './idx';
export { readNanopqPickle, writeNanopqPickle } from './pickle';
export type { ReadPickleOptions } from './pickle';
