// What the native addon provides (native/addon.cc registers it). Every
// function takes arrays already validated and shaped by the TypeScript layer,
// and writes its results into output arrays the caller allocates.
import type { CodeArray } from './arrays';

/** An opaque, type-tagged reference to a Faiss object, shared with what else holds it. */
export type FaissHandle = { readonly __faissHandle: unique symbol };

/** Range search results (lib/faiss/index-base.ts FaissRangeResult). */
export interface FaissRangeResult { lims: Float64Array; distances: Float32Array; labels: BigInt64Array }

/** What native training takes. */
export interface TrainingOptions {
  M: number; Ks: number; Ds: number; metric: string; iter: number; seed: number; minit: string;
  /** Compute the objective of every step (for verbose output). */
  verbose: boolean;
  /** 0 for PQ; OPQ's alternations. */
  rotationIter: number;
  parametricInit: boolean;
}

/** Called natively between training iterations: phase 'kmeans' or 'rotation', 1-based. */
export type OnStep = (phase: string, iteration: number, of: number, objective: number) => void;

/** An opaque, type-tagged reference to a trained model: the addon frees the model once it is collected. */
export type ModelHandle = { readonly __modelHandle: unique symbol };

/** What the addon exports. */
/**
 * riiSearch's arguments after the queries: codes, N, centers, nlist, listIds,
 * listStart, listSize, removed, targets, topk, L, linear, idsOut, distsOut.
 */
export type RiiSearchArgs = [codes: Uint8Array, N: number, centers: Uint8Array, nlist: number, listIds: Uint32Array,
  listStart: Uint32Array, listSize: Uint32Array, removed: Uint8Array | null, targets: Uint32Array | null,
  topk: number, L: number, linear: boolean, idsOut: Uint32Array, distsOut: Float32Array];

/** Cache sizes a core, in bytes, that size blocks of work, and where they came from. */
export interface CachePlan {
  l1d: number;
  l2: number;
  source: 'NANOPQ_CACHE' | 'sysconf' | 'cpuid' | 'sysfs' | 'default';
}

export interface Addon {
  // A trained PQ or OPQ held natively, called through its handle: NativeModel
  // (native-model.ts) is its class.
  modelNew(codewords: Float32Array, M: number, Ks: number, Ds: number, metric: string, R: Float32Array | null): ModelHandle;
  train(x: Float32Array, n: number, options: TrainingOptions, onStep?: OnStep): ModelHandle;
  /** Stops between iterations once stop[0] is nonzero, rejecting with an Error named AbortError. */
  trainAsync(x: Float32Array, n: number, options: TrainingOptions, onStep: OnStep | undefined,
    stop: Int32Array): Promise<ModelHandle>;
  modelDs(model: ModelHandle): number;
  modelCopyCodewords(model: ModelHandle, out: Float32Array): void;
  modelCopyR(model: ModelHandle, out: Float32Array): void;
  modelEncode(model: ModelHandle, x: Float32Array, n: number, codesOut: CodeArray): void;
  modelEncodeAsync(model: ModelHandle, x: Float32Array, n: number, codesOut: CodeArray): Promise<void>;
  modelDecode(model: ModelHandle, codes: CodeArray, n: number, xOut: Float32Array): void;
  modelDistanceTable(model: ModelHandle, query: Float32Array, tableOut: Float32Array): void;
  modelSearch(model: ModelHandle, queries: Float32Array, nq: number, codes: CodeArray, n: number, k: number,
    idsOut: Uint32Array, distsOut: Float32Array): void;
  modelSearchAsync(model: ModelHandle, queries: Float32Array, nq: number, codes: CodeArray, n: number, k: number,
    idsOut: Uint32Array, distsOut: Float32Array): Promise<void>;
  /** search over n codes packed for fast scan (packed-codes.ts). */
  modelSearchPacked(model: ModelHandle, queries: Float32Array, nq: number, packed: Uint8Array, n: number, k: number,
    idsOut: Uint32Array, distsOut: Float32Array): void;
  modelSearchPackedAsync(model: ModelHandle, queries: Float32Array, nq: number, packed: Uint8Array, n: number, k: number,
    idsOut: Uint32Array, distsOut: Float32Array): Promise<void>;
  riiSearch(model: ModelHandle, queries: Float32Array, nq: number, ...rest: RiiSearchArgs): void;
  riiSearchAsync(model: ModelHandle, queries: Float32Array, nq: number, ...rest: RiiSearchArgs): Promise<void>;
  /** labelsOut[i]: the nearest of K centres to code i by the symmetric distances sym (M, Ks, Ks). */
  riiAssign(sym: Float32Array, M: number, Ks: number, codes: Uint8Array, n: number, centers: Uint8Array, K: number,
    labelsOut: Uint32Array): void;
  riiAssignAsync(sym: Float32Array, M: number, Ks: number, codes: Uint8Array, n: number, centers: Uint8Array, K: number,
    labelsOut: Uint32Array): Promise<void>;
  /** PQk-means' update of centers (K, M) in place from the members of each (labels) among codes (n, M). */
  riiUpdateCenters(codewords: Float32Array, M: number, Ks: number, Ds: number, codes: Uint8Array, n: number,
    labels: Uint32Array, K: number, centers: Uint8Array): void;
  riiUpdateCentersAsync(codewords: Float32Array, M: number, Ks: number, Ds: number, codes: Uint8Array, n: number,
    labels: Uint32Array, K: number, centers: Uint8Array): Promise<void>;
  /** yOut = x @ R, or x @ R^T when inverse (OPQ only). */
  modelRotate(model: ModelHandle, x: Float32Array, n: number, inverse: boolean, yOut: Float32Array): void;
  modelDispose(model: ModelHandle): void;
  /** Frees the native objects whose handles were garbage-collected. */
  sweep(): void;
  /** Handles not yet swept (for tests). */
  handleCount(): number;
  adist(dtable: Float32Array, M: number, Ks: number, codes: CodeArray, n: number, distsOut: Float32Array): void;
  topk(dtable: Float32Array, M: number, Ks: number, codes: CodeArray, n: number, k: number,
    largestFirst: boolean, idsOut: Uint32Array, distsOut: Float32Array): void;
  /** codes (n, M) of Ks = 16 packed 4 bits a code in blocks of 32 (packed-codes.ts), and back. */
  pack4(codes: Uint8Array, n: number, M: number, packedOut: Uint8Array): void;
  unpack4(packed: Uint8Array, n: number, M: number, codesOut: Uint8Array): void;
  /** adist and topk of a table (M, 16) over n packed codes. */
  packedAdist(dtable: Float32Array, M: number, packed: Uint8Array, n: number, distsOut: Float32Array): void;
  packedTopk(dtable: Float32Array, M: number, packed: Uint8Array, n: number, k: number, largestFirst: boolean,
    idsOut: Uint32Array, distsOut: Float32Array): void;
  /** Rows the fast scans ranked by the float tables since the addon loaded (for the bench). */
  packedRowsRanked(): number;
  /** The fast-scan kernel: 'avx512bw', 'avx2', 'neon' or 'generic'. */
  readonly packedKernel: string;
  /** max |R^T R - I|. */
  orthonormalityError(R: Float32Array, D: number): number;
  exactSearch(queries: Float32Array, nq: number, database: Float32Array, nb: number, d: number, k: number,
    idsOut: Uint32Array, distsOut: Float32Array): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  pqNew(d: number, M: number, nbits: number): FaissHandle;
  pqInfo(pq: FaissHandle): { d: number; M: number; nbits: number; dsub: number; ksub: number };
  pqGetCentroids(pq: FaissHandle, out: Float32Array): void;
  pqSetCentroids(pq: FaissHandle, centroids: Float32Array): void;
  pqTrain(pq: FaissHandle, x: Float32Array, n: number): void;
  pqComputeCodes(pq: FaissHandle, x: Float32Array, n: number, codesOut: CodeArray): void;
  pqDecode(pq: FaissHandle, codes: CodeArray, n: number, xOut: Float32Array): void;
  opqNew(d: number, M: number): FaissHandle;
  transformInfo(t: FaissHandle): {
    linear: boolean; dIn: number; dOut: number; isTrained: boolean; haveBias: boolean; isOrthonormal: boolean;
    description: string;
  };
  transformGetA(t: FaissHandle, out: Float32Array): void;
  transformSetA(t: FaissHandle, A: Float32Array): void;
  transformTrain(t: FaissHandle, x: Float32Array, n: number): void;
  transformApply(t: FaissHandle, x: Float32Array, n: number, yOut: Float32Array): void;
  transformReverse(t: FaissHandle, y: Float32Array, n: number, xOut: Float32Array): void;
  indexPQNew(d: number, M: number, nbits: number, metric: string): FaissHandle;
  indexPreTransformNew(transform: FaissHandle, index: FaissHandle): FaissHandle;
  /** The kind's class name, the Index fields, and the kind's settings (nlist, nprobe, efSearch, ...). */
  indexInfo(index: FaissHandle): {
    kind: string; d: number; ntotal: number; isTrained: boolean; metric: 'l2' | 'dot'; readOnly: boolean;
    /** What it holds in memory, parts included; as index_factory would describe it. */
    bytes: number; description: string;
    [setting: string]: string | number | boolean;
  };
  indexSet(index: FaissHandle, name: string, value: number): void;
  indexPart(index: FaissHandle, name: string): FaissHandle | undefined;
  /** Why the index cannot do op, or null. */
  indexCannot(index: FaissHandle, op: string): string | null;
  indexFactory(d: number, description: string, metric: string): FaissHandle;
  indexSetTrained(index: FaissHandle, trained: boolean): void;
  indexTrain(index: FaissHandle, x: Float32Array, n: number): void;
  indexAdd(index: FaissHandle, x: Float32Array, n: number): void;
  indexAddWithIds(index: FaissHandle, x: Float32Array, n: number, ids: BigInt64Array): void;
  indexSearch(index: FaissHandle, x: Float32Array, n: number, k: number, distancesOut: Float32Array,
    labelsOut: BigInt64Array, options?: object): void;
  indexRangeSearch(index: FaissHandle, x: Float32Array, n: number, radius: number): FaissRangeResult;
  indexRemoveIds(index: FaissHandle, ids: BigInt64Array, n: number): number;
  indexTrainAsync(index: FaissHandle, x: Float32Array, n: number): Promise<void>;
  indexAddAsync(index: FaissHandle, x: Float32Array, n: number): Promise<void>;
  indexAddWithIdsAsync(index: FaissHandle, x: Float32Array, n: number, ids: BigInt64Array): Promise<void>;
  indexSearchAsync(index: FaissHandle, x: Float32Array, n: number, k: number, distancesOut: Float32Array,
    labelsOut: BigInt64Array, options?: object): Promise<void>;
  indexRangeSearchAsync(index: FaissHandle, x: Float32Array, n: number, radius: number): Promise<FaissRangeResult>;
  indexRemoveIdsAsync(index: FaissHandle, ids: BigInt64Array, n: number): Promise<number>;
  indexReconstruct(index: FaissHandle, first: number, n: number, out: Float32Array): void;
  indexReset(index: FaissHandle): void;
  indexMergeFrom(index: FaissHandle, other: FaissHandle, addId: number): void;
  indexMakeDirectMap(index: FaissHandle, type: string): void;
  indexIdMap(index: FaissHandle): BigInt64Array;
  indexCodes(index: FaissHandle, out: Uint8Array): void;
  /** Appends n rows of (n, M) codes to the IndexPQ (or an IndexPreTransform's IndexPQ), packed as Faiss stores them. */
  indexAddCodes(index: FaissHandle, codes: CodeArray, n: number): void;
  indexGetPQ(index: FaissHandle): FaissHandle | undefined;
  /** An IndexPQFastScan of an IndexPQ of 4-bit codes (its quantizer and codes). */
  indexPQFastScanFrom(index: FaissHandle): FaissHandle;
  /** An IndexPQFastScan's codes, one byte per sub-quantizer: (ntotal, M). */
  fastScanCodes(index: FaissHandle, codesOut: Uint8Array): void;
  preTransformChain(index: FaissHandle): FaissHandle[];
  readIndex(bytes: Uint8Array): FaissHandle;
  /** Frees the object's Faiss parts now; later calls on the handle throw. */
  faissDispose(handle: FaissHandle): void;
  writeIndex(index: FaissHandle): Uint8Array;
  unpackCodes(packed: Uint8Array, n: number, M: number, nbits: number, codesOut: CodeArray): void;
  /** Index of the first value that is not finite or exceeds limit in magnitude, or -1. */
  firstOutOfRange(x: Float32Array, limit: number, copyTo?: Float32Array): number;
  /** The limits native code holds inputs to, defined there once. */
  limits: { maxAbsValue: number; maxOpqDimension: number };
  /** The names an option may take, defined once natively (in the order of its enum). */
  names: { metric: string[]; minit: string[]; directMap: string[] };
  /** The nearest-codeword kernel in use: 'avx512', 'avx2', 'neon' or 'generic' (NANOPQ_SIMD caps it). */
  readonly simd: string;
  /** The kernels OpenBLAS chose ('SkylakeX', 'Haswell', ...; OPENBLAS_CORETYPE sets them), or '' for another BLAS. */
  readonly blasKernels: string;
  /** The cache sizes that size blocks of work (bytes a core), and where they came from; NANOPQ_CACHE sets them. */
  cachePlan(): CachePlan;
}
