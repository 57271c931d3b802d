// The Faiss objects this library is built on, wrapped for JavaScript: search,
// training and file I/O are Faiss's own. One file per class (or family of
// kinds), over object.ts (the native handle of each); the index kinds over
// index-base.ts, each registering itself; files.ts reads, writes and makes
// indexes. This file is the `faiss` namespace.
export { ProductQuantizer } from './product-quantizer';
export { VectorTransform } from './vector-transform';
export { OPQMatrix, MAX_OPQ_DIMENSION } from './opq-matrix';
export { Index } from './index-base';
export type { FaissSearchResult, FaissRangeResult, SearchParams, IdsLike } from './index-base';
export { IndexFlat, IndexScalarQuantizer } from './index-flat';
export { IndexPQ, IndexPQFastScan, unpackCodes } from './index-pq';
export { IndexIVF, IndexIVFFlat, IndexIVFPQ, IndexIVFScalarQuantizer, IndexIVFPQFastScan } from './index-ivf';
export type { DirectMap } from './index-ivf';
export { IndexHNSW, IndexHNSWFlat, IndexHNSWPQ, IndexHNSWSQ } from './index-hnsw';
export { IndexIDMap, IndexIDMap2 } from './index-id-map';
export { IndexRefineFlat } from './index-refine';
export { IndexPreTransform } from './index-pre-transform';
export { readIndex, writeIndex, indexFactory } from './files';
