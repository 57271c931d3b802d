// The Faiss objects this library is built on, wrapped for JavaScript: search,
// training and file I/O are Faiss's own. One file per class, over object.ts
// (the native handle of each); the index kinds over index-base.ts; files.ts
// reads and writes index files. This file is the `faiss` namespace.
export { ProductQuantizer } from './product-quantizer';
export { OPQMatrix, MAX_OPQ_DIMENSION } from './opq-matrix';
export type { FaissSearchResult } from './index-base';
export { IndexPQ, unpackCodes } from './index-pq';
export { IndexPreTransform } from './index-pre-transform';
export { readIndex, writeIndex } from './files';
