export { PQ } from './pq';
export type { PQOptions, FitOptions, Minit, Progress, AsyncFitOptions, AbortSignalLike, ModelOptions } from './pq';
export { AbortError } from './errors';
export type { AsyncOptions } from './async';
export { setNumThreads, getNumThreads } from './threads';
export { OPQ } from './opq';
export type { OPQFitOptions } from './opq';
export { DistanceTable } from './distance-table';
export type {
  Matrix, CodeMatrix, Codewords, MatrixInput, CodeMatrixInput, CodewordsInput, MatrixLike, VectorLike, CodesLike, Metric,
  CodeDtype,
} from './arrays';
export { exactSearch } from './search';
export * as faiss from './faiss';
export * as io from './io';
export { nanopqToFaiss, faissToNanopq } from './convert';
export type { SearchResult } from './search';
