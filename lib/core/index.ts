// The bottom layer, which every other folder of lib/ stands on: the native
// addon (addon.ts its functions, load.ts finding it, native.ts calling it,
// native-model.ts a trained model as a class, collector.ts freeing what was
// collected), errors made in the caller's realm (errors.ts), the array types
// of the public API (arrays.ts) and the checks of every input (validate.ts),
// how objects show in console.log (inspect.ts), pooled small results (pool.ts),
// what async calls share (async.ts) and the thread setting (threads.ts).
// It imports nothing else of lib/. This file is its public face.
export type {
  Matrix, CodeMatrix, Codewords, MatrixInput, CodeMatrixInput, CodewordsInput, MatrixLike, VectorLike, CodesLike, Metric,
  CodeDtype,
} from './arrays';
export { AbortError } from './errors';
export type { AsyncOptions } from './async';
export { setNumThreads, getNumThreads, getCachePlan } from './threads';
export type { CachePlan } from './addon';
