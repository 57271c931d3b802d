// Loads the native addon and describes what it provides. Every function takes
// arrays already validated and shaped by the TypeScript layer, and writes its
// results into output arrays the caller allocates.
import * as path from 'node:path';
import { AbortError } from './errors';

export type CodeArray = Uint8Array | Uint16Array | Uint32Array;

/** An opaque, type-tagged reference to a Faiss object (native/faiss_object.h). */
export type FaissHandle = { readonly __faissHandle: unique symbol };

/** What native training takes (native/model_object.cc, train_job). */
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

/** An opaque, type-tagged reference to a trained model (native/model_object.h). */
export type ModelHandle = { readonly __modelHandle: unique symbol };

/**
 * A trained PQ or OPQ held natively: the codebook, R, and what derives from
 * them, built once. Immutable; async calls keep the model they started with.
 * (An object of this realm over the model's handle; see withLocalErrorsAll.)
 */
export interface NativeModel {
  readonly Ds: number;
  copyCodewords(out: Float32Array): void;
  copyR(out: Float32Array): void;
  encode(x: Float32Array, n: number, codesOut: CodeArray): void;
  /** Checks x's values on the worker: rejects with code NANOPQ_OUT_OF_RANGE and the index. */
  encodeAsync(x: Float32Array, n: number, codesOut: CodeArray): Promise<void>;
  decode(codes: CodeArray, n: number, xOut: Float32Array): void;
  distanceTable(query: Float32Array, tableOut: Float32Array): void;
  search(queries: Float32Array, nq: number, codes: CodeArray, n: number, k: number, idsOut: Uint32Array,
    distsOut: Float32Array): void;
  searchAsync(queries: Float32Array, nq: number, codes: CodeArray, n: number, k: number, idsOut: Uint32Array,
    distsOut: Float32Array): Promise<void>;
  /** yOut = x @ R, or x @ R^T when inverse (OPQ only). */
  rotate(x: Float32Array, n: number, inverse: boolean, yOut: Float32Array): void;
  dispose(): void;
}

/** The addon's model functions: NativeModel's methods, with the handle first. */
type ModelFunctions = {
  [K in keyof NativeModel as `model${Capitalize<K & string>}`]: NativeModel[K] extends (...args: infer A) => infer R
    ? (handle: ModelHandle, ...args: A) => R : (handle: ModelHandle) => NativeModel[K];
};

/** What the addon exports; `native` below is this with models as NativeModel objects. */
interface Addon extends ModelFunctions, Omit<NativeAddon, 'Model' | 'train' | 'trainAsync'> {
  modelNew(codewords: Float32Array, M: number, Ks: number, Ds: number, metric: string, R: Float32Array | null): ModelHandle;
  train(x: Float32Array, n: number, options: TrainingOptions, onStep?: OnStep): ModelHandle;
  trainAsync(x: Float32Array, n: number, options: TrainingOptions, onStep: OnStep | undefined,
    stop: Int32Array): Promise<ModelHandle>;
}

export interface NativeAddon {
  Model: new (codewords: Float32Array, M: number, Ks: number, Ds: number, metric: string,
    R: Float32Array | null) => NativeModel;
  train(x: Float32Array, n: number, options: TrainingOptions, onStep?: OnStep): NativeModel;
  /** Stops between iterations once stop[0] is nonzero, rejecting with an Error named AbortError. */
  trainAsync(x: Float32Array, n: number, options: TrainingOptions, onStep: OnStep | undefined,
    stop: Int32Array): Promise<NativeModel>;
  /** Frees the native objects whose handles were garbage-collected. */
  sweep(): void;
  /** Handles not yet swept (for tests). */
  handleCount(): number;
  adist(dtable: Float32Array, M: number, Ks: number, codes: CodeArray, n: number, distsOut: Float32Array): void;
  topk(dtable: Float32Array, M: number, Ks: number, codes: CodeArray, n: number, k: number,
    largestFirst: boolean, idsOut: Uint32Array, distsOut: Float32Array): void;
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
    dIn: number; dOut: number; isTrained: boolean; haveBias: boolean; isOrthonormal: boolean;
  };
  transformGetA(t: FaissHandle, out: Float32Array): void;
  transformSetA(t: FaissHandle, A: Float32Array): void;
  transformTrain(t: FaissHandle, x: Float32Array, n: number): void;
  transformApply(t: FaissHandle, x: Float32Array, n: number, yOut: Float32Array): void;
  transformReverse(t: FaissHandle, y: Float32Array, n: number, xOut: Float32Array): void;
  indexPQNew(d: number, M: number, nbits: number, metric: string): FaissHandle;
  indexPreTransformNew(transform: FaissHandle, index: FaissHandle): FaissHandle;
  indexInfo(index: FaissHandle): { d: number; ntotal: number; isTrained: boolean; metric: 'l2' | 'dot' };
  indexSetTrained(index: FaissHandle, trained: boolean): void;
  indexTrain(index: FaissHandle, x: Float32Array, n: number): void;
  indexAdd(index: FaissHandle, x: Float32Array, n: number): void;
  indexSearch(index: FaissHandle, x: Float32Array, n: number, k: number, distancesOut: Float32Array,
    labelsOut: BigInt64Array): void;
  /** The async twins check x's values on the worker (code NANOPQ_OUT_OF_RANGE). */
  indexTrainAsync(index: FaissHandle, x: Float32Array, n: number): Promise<void>;
  indexAddAsync(index: FaissHandle, x: Float32Array, n: number): Promise<void>;
  indexSearchAsync(index: FaissHandle, x: Float32Array, n: number, k: number, distancesOut: Float32Array,
    labelsOut: BigInt64Array): Promise<void>;
  indexCodes(index: FaissHandle, out: Uint8Array): void;
  /** Appends n rows of (n, M) codes to the IndexPQ (or an IndexPreTransform's IndexPQ), packed as Faiss stores them. */
  indexAddCodes(index: FaissHandle, codes: CodeArray, n: number): void;
  indexGetPQ(index: FaissHandle): FaissHandle;
  preTransformParts(index: FaissHandle): { chain: FaissHandle[]; index: FaissHandle };
  readIndex(bytes: Uint8Array): FaissHandle;
  /** Frees the object's Faiss parts now; later calls on the handle throw. */
  faissDispose(handle: FaissHandle): void;
  writeIndex(index: FaissHandle): Uint8Array;
  unpackCodes(packed: Uint8Array, n: number, M: number, nbits: number, codesOut: CodeArray): void;
  /** Index of the first value that is not finite or exceeds limit in magnitude, or -1. */
  firstOutOfRange(x: Float32Array, limit: number): number;
  /** The nearest-codeword kernel in use: 'avx512', 'avx2' or 'generic' (NANOPQ_SIMD caps it). */
  readonly simd: string;
}

const root = path.join(__dirname, '..', '..');

/**
 * The addon: NANOPQ_ADDON when set, else what node-gyp-build finds (a build in
 * build/Release, from cmake-js or node-gyp, else the prebuilt one in prebuilds/
 * for this platform, architecture and libc).
 */
function load(): Addon {
  let file = process.env.NANOPQ_ADDON;
  let error: Error | undefined;
  if (!file) {
    try {
      file = (require('node-gyp-build') as { path(dir: string): string }).path(root);
    } catch (err) {
      error = err as Error;
    }
  }
  if (file) {
    try {
      return require(file) as Addon;
    } catch (err) {
      error = err as Error;
    }
  }
  throw new Error([
    'nanopq could not load its native addon.',
    file ? `${file}: ${error!.message}` : `No build in ${path.join(root, 'build', 'Release')} and no prebuilt addon in ` +
      `${path.join(root, 'prebuilds')} for this machine (${error!.message.split('\n')[0]}).`,
    'Possible solutions:',
    '  - Install Faiss and a compiler, then rebuild:',
    '      Debian/Ubuntu: sudo apt-get install libfaiss-dev libopenblas-dev cmake g++',
    '      conda: conda install -c pytorch faiss-cpu, and set FAISS_ROOT=$CONDA_PREFIX',
    '    then run "npm rebuild nanopq --foreground-scripts" (or "npm run build" in a checkout).',
    '  - Set NANOPQ_ADDON to the path of a nanopq.node you built yourself.',
    '  - See docs/troubleshooting.md in the nanopq package.',
  ].join('\n'));
}

// Errors from C++ are re-created here, in the caller's realm (a jest or vm
// context has its own TypeError), with a stack through the caller's code:
// thrown ones where they are caught, rejections with the stack captured when
// the async call was made.
const errorTypes: Record<string, new (message: string) => Error> = { TypeError, RangeError, AbortError };

/** error, its stack replaced by that of `site` (an Error made at the call): the caller's. */
export function atSite<E extends Error>(error: E, site: Error): E {
  if (site.stack) error.stack = `${error.name}: ${error.message}\n${site.stack.split('\n').slice(1).join('\n')}`;
  return error;
}

/** err, made again here; with `site`, with the caller's stack. */
export function localError(err: unknown, site?: Error): Error {
  if (typeof err !== 'object' || err === null || typeof (err as Error).message !== 'string') return err as Error;
  const { name, message } = err as Error;
  const local = new (errorTypes[name] ?? Error)(message);
  for (const key of ['code', 'index'] as const) {
    if (key in (err as object)) Object.assign(local, { [key]: (err as Record<string, unknown>)[key] });
  }
  return site ? atSite(local, site) : local;
}

function withLocalErrors<F extends (...args: never[]) => unknown>(fn: F): F {
  return function (this: unknown, ...args: Parameters<F>) {
    try {
      return fn.apply(this, args);
    } catch (err) {
      throw localError(err);
    }
  } as F;
}

// The addon is loaded once per process, but jest and vm give each context
// its own error classes: every function is wrapped so that errors are made
// again in this realm, and models are objects of this realm over their handle.
function withLocalErrorsAll(addon: Addon): NativeAddon {
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(addon)) {
    wrapped[name] = typeof value === 'function' ? withLocalErrors(value as () => unknown) : value;
  }
  const local: Record<string, unknown> = {};
  for (const name of Object.keys(addon)) {
    if (!name.startsWith('model') || name === 'modelNew') continue;
    const method = name[5].toLowerCase() + name.slice(6);
    const fn = wrapped[name] as (handle: ModelHandle, ...args: unknown[]) => unknown;
    if (method === 'ds') Object.defineProperty(local, 'Ds', { get(this: { handle: ModelHandle }) { return fn(this.handle); } });
    else local[method] = function (this: { handle: ModelHandle }, ...args: unknown[]) { return fn(this.handle, ...args); };
  }
  const own = (handle: ModelHandle) => Object.create(local, { handle: { value: handle } }) as NativeModel;
  const { modelNew, train, trainAsync } = wrapped as unknown as Addon;
  // A plain function, so that `new` works on it; it returns the realm's object.
  wrapped.Model = function (...args: Parameters<Addon['modelNew']>) { return own(modelNew(...args)); };
  wrapped.train = (...args: Parameters<Addon['train']>) => own(train(...args));
  wrapped.trainAsync = (...args: Parameters<Addon['trainAsync']>) => trainAsync(...args).then(own);
  return wrapped as unknown as NativeAddon;
}

// Faiss parallelises with OpenMP and calls a BLAS with threads of its own;
// OpenMP's default busy-waiting between regions then starves the BLAS threads
// (k-means ran 2-3x slower on 2 cores). libgomp reads OMP_WAIT_POLICY once,
// as the addon loads it: set for that moment only, and a user's choice stands.
function loadWithPassiveOpenMP(): Addon {
  if (process.env.OMP_WAIT_POLICY !== undefined) return load();
  process.env.OMP_WAIT_POLICY = 'PASSIVE';
  try {
    return load();
  } finally {
    delete process.env.OMP_WAIT_POLICY;
  }
}

export const native: NativeAddon = withLocalErrorsAll(loadWithPassiveOpenMP());

// Native objects are freed when the library sweeps their collected handles
// (native/handles.h): on its own as handles and memory grow, and here after
// every garbage collection, so that a model dropped by an idle server is freed
// too. The collection of an empty object is what tells of one.
const collections = new FinalizationRegistry<undefined>(() => {
  native.sweep();
  watchCollections();
});
function watchCollections(): void {
  collections.register({}, undefined);
}
watchCollections();
