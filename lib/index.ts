export { PQ } from './models/pq';
export type { PQOptions, FitOptions, Minit, Progress, AsyncFitOptions, AbortSignalLike, ModelOptions } from './models/pq';
export { AbortError } from './core/errors';
export type { AsyncOptions } from './core/async';
export { setNumThreads, getNumThreads } from './core/threads';
export { OPQ } from './models/opq';
export type { OPQFitOptions } from './models/opq';
export { DistanceTable } from './models/distance-table';
export type {
  Matrix, CodeMatrix, Codewords, MatrixInput, CodeMatrixInput, CodewordsInput, MatrixLike, VectorLike, CodesLike, Metric,
  CodeDtype,
} from './core/validate';
export { exactSearch } from './models/search';
export * as faiss from './faiss/index-base';
export * as io from './io';
export { nanopqToFaiss, faissToNanopq } from './convert';
export type { SearchResult } from './models/search';
