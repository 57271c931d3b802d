// Loads the native addon and describes what it provides. Every function takes
// arrays already validated and shaped by the TypeScript layer, and writes its
// results into output arrays the caller allocates.
import * as fs from 'node:fs';
import * as path from 'node:path';

export type CodeArray = Uint8Array | Uint16Array | Uint32Array;

/** An opaque, type-tagged reference to a Faiss object (native/faiss_binding.cc). */
export type FaissHandle = { readonly __faissHandle: unique symbol };

export interface NativeAddon {
  train(x: Float32Array, n: number, M: number, Ks: number, Ds: number, iter: number, seed: number,
    minit: string, verbose: boolean, codewordsOut: Float32Array): void;
  encode(codewords: Float32Array, M: number, Ks: number, Ds: number, x: Float32Array, n: number,
    codesOut: CodeArray): void;
  decode(codewords: Float32Array, M: number, Ks: number, Ds: number, codes: CodeArray, n: number,
    xOut: Float32Array): void;
  distanceTable(codewords: Float32Array, M: number, Ks: number, Ds: number, query: Float32Array,
    metric: string, dtableOut: Float32Array): void;
  adist(dtable: Float32Array, M: number, Ks: number, codes: CodeArray, n: number, distsOut: Float32Array): void;
  topk(dtable: Float32Array, M: number, Ks: number, codes: CodeArray, n: number, k: number,
    largestFirst: boolean, idsOut: Uint32Array, distsOut: Float32Array): void;
  trainOpq(x: Float32Array, n: number, M: number, Ks: number, Ds: number, pqIter: number, seed: number,
    minit: string, verbose: boolean, rotationIter: number, parametricInit: boolean, ROut: Float32Array,
    codewordsOut: Float32Array): void;
  /** yOut = x @ R, or x @ R^T when inverse. */
  rotate(x: Float32Array, n: number, D: number, R: Float32Array, inverse: boolean, yOut: Float32Array): void;
  encodeRotated(codewords: Float32Array, M: number, Ks: number, Ds: number, R: Float32Array, x: Float32Array,
    n: number, codesOut: CodeArray): void;
  decodeRotated(codewords: Float32Array, M: number, Ks: number, Ds: number, R: Float32Array, codes: CodeArray,
    n: number, xOut: Float32Array): void;
  /** max |R^T R - I|. */
  orthonormalityError(R: Float32Array, D: number): number;
  exactSearch(queries: Float32Array, nq: number, database: Float32Array, nb: number, d: number, k: number,
    idsOut: Uint32Array, distsOut: Float32Array): void;
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
  indexCodes(index: FaissHandle, out: Uint8Array): void;
  indexGetPQ(index: FaissHandle): FaissHandle;
  preTransformParts(index: FaissHandle): { chain: FaissHandle[]; index: FaissHandle };
  readIndex(bytes: Uint8Array): FaissHandle;
  writeIndex(index: FaissHandle): Buffer;
  unpackCodes(packed: Uint8Array, n: number, M: number, nbits: number, codesOut: CodeArray): void;
  /** Index of the first value that is not finite or exceeds limit in magnitude, or -1. */
  firstOutOfRange(x: Float32Array, limit: number): number;
  /** The nearest-codeword kernel in use: 'avx512', 'avx2' or 'generic' (NANOPQ_SIMD caps it). */
  readonly simd: string;
}

const root = path.join(__dirname, '..');
const candidates = [
  process.env.NANOPQ_ADDON,
  path.join(root, 'build', 'Release', 'nanopq.node'),
  path.join(root, 'build', 'Debug', 'nanopq.node'),
].filter((p): p is string => Boolean(p));

function load(): NativeAddon {
  const failures: string[] = [];
  for (const file of candidates) {
    if (!fs.existsSync(file)) {
      failures.push(`${file}: not built`);
      continue;
    }
    try {
      return require(file) as NativeAddon;
    } catch (err) {
      failures.push(`${file}: ${(err as Error).message}`);
    }
  }
  throw new Error([
    'nanopq could not load its native addon.',
    'Tried:',
    ...failures.map((f) => `  - ${f}`),
    'Possible solutions:',
    '  - Install Faiss and a compiler, then rebuild:',
    '      Debian/Ubuntu: sudo apt-get install libfaiss-dev libopenblas-dev cmake g++',
    '      conda: conda install -c pytorch faiss-cpu, and set FAISS_ROOT=$CONDA_PREFIX',
    '    then run "npm rebuild nanopq" (or "npm run build" in a checkout).',
    '  - Set NANOPQ_ADDON to the path of a nanopq.node you built yourself.',
  ].join('\n'));
}

// Errors from C++ are re-created here, in the caller's realm (a jest or vm
// context has its own TypeError), with a stack through the caller's code.
const errorTypes: Record<string, ErrorConstructor> = { TypeError, RangeError };

function withLocalErrors(addon: NativeAddon): NativeAddon {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(addon)) {
    if (typeof fn !== 'function') {
      wrapped[name] = fn;
      continue;
    }
    wrapped[name] = (...args: unknown[]) => {
      try {
        return (fn as (...a: unknown[]) => unknown)(...args);
      } catch (err) {
        const { name: type, message } = err as Error;
        throw new (errorTypes[type] ?? Error)(message);
      }
    };
  }
  return wrapped as unknown as NativeAddon;
}

// Faiss parallelises with OpenMP and calls a BLAS with threads of its own;
// OpenMP's default busy-waiting between regions then starves the BLAS threads
// (k-means ran 2-3x slower on 2 cores). libgomp reads OMP_WAIT_POLICY once,
// as the addon loads it: set for that moment only, and a user's choice stands.
function loadWithPassiveOpenMP(): NativeAddon {
  if (process.env.OMP_WAIT_POLICY !== undefined) return load();
  process.env.OMP_WAIT_POLICY = 'PASSIVE';
  try {
    return load();
  } finally {
    delete process.env.OMP_WAIT_POLICY;
  }
}

export const native: NativeAddon = withLocalErrors(loadWithPassiveOpenMP());
