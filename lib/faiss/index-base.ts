// The Faiss objects this library is built on, wrapped for JavaScript: search,
// training and file I/O are Faiss's own. Each wraps a native handle that
// shares ownership, so `index.pq` stays valid as long as it is referenced.
import * as fs from 'node:fs';
import {
  checkInteger, checkMetric, checkValues, CodeMatrix, MAX_ABS_CODEWORD, MAX_ABS_VALUE, codeDtypeFor, CodesLike, describe, Matrix, MatrixLike, Metric,
  newCodeArray, toCodes, toMatrix,
} from '../core/validate';
import { checkIndexFile } from '../io/faiss-index';
import { readerFor } from '../io/reader';
import { AsyncOptions, ownedNow, settled, zeroCopyOption } from '../core/async';
import { native, FaissHandle } from '../core/addon';
import { defineInspect } from '../core/validate';

const handles = new WeakMap<object, FaissHandle>();

function handleOf(object: unknown, name: string, what: string): FaissHandle {
  const handle = typeof object === 'object' && object !== null ? handles.get(object) : undefined;
  if (!handle) throw new TypeError(`Expected a faiss.${what} for ${name}, got ${describe(object)}`);
  return handle;
}

/** An instance of cls around an existing handle, without running its constructor. */
function adopt<T extends object>(cls: { prototype: T }, handle: FaissHandle): T {
  const object = Object.create(cls.prototype) as T;
  handles.set(object, handle);
  return object;
}

/** An OPQMatrix trains a d x d matrix: beyond this, that alone is over a GiB. */
export const MAX_OPQ_DIMENSION = 16384;

function checkDims(d: unknown, M: unknown, maxD = 2 ** 31 - 1): [number, number] {
  const dd = checkInteger(d, 'd', 1, maxD);
  const mm = checkInteger(M, 'M', 1, dd);
  if (dd % mm !== 0) throw new RangeError(`Expected d divisible by M = ${mm}, got d = ${dd}`);
  return [dd, mm];
}

// Objects adopted from a handle never ran a constructor, so no #private fields: these read the handle.
const pqHandle = (pq: object) => handleOf(pq, 'this', 'ProductQuantizer');
const transformHandle = (t: object) => handleOf(t, 'this', 'OPQMatrix');
const indexHandle = (index: object) => handleOf(index, 'this', 'IndexPQ or IndexPreTransform');
const pqInfo = (pq: object) => native.pqInfo(pqHandle(pq));
const transformInfo = (t: object) => native.transformInfo(transformHandle(t));
const parts = (index: object) => native.preTransformParts(handleOf(index, 'this', 'IndexPreTransform'));

/** faiss::ProductQuantizer: M sub-quantizers of 2**nbits centroids over d / M dimensions each. */
export class ProductQuantizer {
  constructor(d: number, M: number, nbits: number) {
    const [dd, mm] = checkDims(d, M);
    handles.set(this, native.pqNew(dd, mm, checkInteger(nbits, 'nbits', 1, 16)));
  }

  get d(): number { return pqInfo(this).d; }
  get M(): number { return pqInfo(this).M; }
  get nbits(): number { return pqInfo(this).nbits; }
  get dsub(): number { return pqInfo(this).dsub; }
  get ksub(): number { return pqInfo(this).ksub; }

  /** A copy of the centroids, (M, ksub, dsub) row-major; assigning copies them in. */
  get centroids(): Float32Array {
    const { M, ksub, dsub } = pqInfo(this);
    const out = new Float32Array(M * ksub * dsub);
    native.pqGetCentroids(pqHandle(this), out);
    return out;
  }

  set centroids(values: Float32Array) {
    const { M, ksub, dsub } = pqInfo(this);
    if (!(values instanceof Float32Array)) throw new TypeError(`Expected a Float32Array for centroids, got ${describe(values)}`);
    if (values.length !== M * ksub * dsub) {
      throw new RangeError(`Expected M * ksub * dsub = ${M * ksub * dsub} centroids values, got ${values.length}`);
    }
    checkValues(values, 'centroids', dsub, MAX_ABS_CODEWORD);
    native.pqSetCentroids(pqHandle(this), values);
  }

  train(x: MatrixLike): void {
    const m = toMatrix(x, 'x', this.d);
    if (m.rows < this.ksub) throw new RangeError(`Expected at least ksub = ${this.ksub} training vectors in x, got ${m.rows}`);
    native.pqTrain(pqHandle(this), m.data, m.rows);
  }

  /** Codes of x (N, d): one integer per sub-quantizer, (N, M), uint8 or uint16 by nanopq's rule. */
  computeCodes(x: MatrixLike): CodeMatrix {
    const { d, M, ksub } = pqInfo(this);
    const m = toMatrix(x, 'x', d);
    const codes = newCodeArray(codeDtypeFor(ksub), m.rows * M);
    native.pqComputeCodes(pqHandle(this), m.data, m.rows, codes);
    return { data: codes, shape: [m.rows, M] };
  }

  decode(codes: CodesLike): Matrix {
    const { d, M, ksub } = pqInfo(this);
    const c = toCodes(codes, 'codes', M, ksub);
    const x = new Float32Array(c.rows * d);
    native.pqDecode(pqHandle(this), c.data, c.rows, x);
    return { data: x, shape: [c.rows, d] };
  }
}

/** faiss::OPQMatrix: y = A x, A (dOut, dIn) as Faiss stores it. Read from a file, any linear transform. */
export class OPQMatrix {
  constructor(d: number, M: number) {
    const [dd, mm] = checkDims(d, M, MAX_OPQ_DIMENSION);
    handles.set(this, native.opqNew(dd, mm));
  }

  get dIn(): number { return transformInfo(this).dIn; }
  get dOut(): number { return transformInfo(this).dOut; }
  get isTrained(): boolean { return transformInfo(this).isTrained; }
  /** A^T A = I (within Faiss's 4e-5): reverseTransform needs it, and so does faissToNanopq. */
  get isOrthonormal(): boolean { return transformInfo(this).isOrthonormal; }
  /** Whether y = A x + b with a bias b (Faiss's OPQ has none; a file's LinearTransform may). */
  get haveBias(): boolean { return transformInfo(this).haveBias; }

  /**
   * A copy of A, (dOut, dIn) row-major; assigning copies it in and marks the
   * transform trained. Its values are bounded as vectors are (MAX_ABS_VALUE):
   * an OPQ's A is orthonormal, and train() starts from A (see OPQMatrix.train).
   */
  get A(): Float32Array {
    const { dIn, dOut, isTrained } = transformInfo(this);
    if (!isTrained) throw new TypeError('Expected a trained OPQMatrix for A; call train() or assign A first');
    const out = new Float32Array(dIn * dOut);
    native.transformGetA(transformHandle(this), out);
    return out;
  }

  set A(values: Float32Array) {
    const { dIn, dOut } = transformInfo(this);
    if (!(values instanceof Float32Array)) throw new TypeError(`Expected a Float32Array for A, got ${describe(values)}`);
    if (values.length !== dIn * dOut) throw new RangeError(`Expected dOut * dIn = ${dIn * dOut} values for A, got ${values.length}`);
    checkValues(values, 'A', dIn, MAX_ABS_VALUE);
    native.transformSetA(transformHandle(this), values);
  }

  /**
   * Faiss's OPQ training, from the A assigned or trained before if any (else
   * a random rotation): a RangeError if x A^T has values beyond MAX_ABS_VALUE.
   */
  train(x: MatrixLike): void {
    const m = toMatrix(x, 'x', this.dIn);
    native.transformTrain(transformHandle(this), m.data, m.rows);
  }

  /** y = A x for each row: (N, dOut). */
  apply(x: MatrixLike): Matrix {
    const { dIn, dOut } = transformInfo(this);
    const m = toMatrix(x, 'x', dIn);
    const y = new Float32Array(m.rows * dOut);
    native.transformApply(transformHandle(this), m.data, m.rows, y);
    return { data: y, shape: [m.rows, dOut] };
  }

  /** x = A^T y for each row (A orthonormal): (N, dIn). */
  reverseTransform(y: MatrixLike): Matrix {
    const { dIn, dOut } = transformInfo(this);
    const m = toMatrix(y, 'y', dOut);
    const x = new Float32Array(m.rows * dIn);
    native.transformReverse(transformHandle(this), m.data, m.rows, x);
    return { data: x, shape: [m.rows, dIn] };
  }
}

/**
 * Faiss search results: row i of `shape` (n, min(k, ntotal)) holds query i's
 * nearest, best first.
 */
export interface FaissSearchResult { distances: Float32Array; labels: BigInt64Array; shape: [number, number] }

/**
 * The checked arguments of search and searchAsync, and the arrays of their
 * result: k is clamped to ntotal, as Faiss would fill n x k results (label -1
 * beyond ntotal) whatever k is. An empty index has empty rows, without a call
 * to Faiss (whose search refuses k = 0), so its x is checked now.
 */
function searchArgs(index: IndexBase, x: MatrixLike, k: number, checkValuesNow: boolean) {
  const { d, ntotal, isTrained } = native.indexInfo(indexHandle(index));
  const found = Math.min(checkInteger(k, 'k', 1, 2 ** 31 - 1), ntotal);
  const m = toMatrix(x, 'x', d, checkValuesNow || found === 0);
  if (!isTrained) throw new TypeError('Expected a trained index for search(); call train() first');
  const n = m.rows * found;
  return { m, found, result: { distances: new Float32Array(n), labels: new BigInt64Array(n), shape: [m.rows, found] } as FaissSearchResult };
}

/** What IndexPQ and IndexPreTransform share: train, add, search, ntotal. */
abstract class IndexBase {
  protected get info() { return native.indexInfo(indexHandle(this)); }
  get d(): number { return this.info.d; }
  get ntotal(): number { return this.info.ntotal; }
  get isTrained(): boolean { return this.info.isTrained; }
  get metric(): Metric { return this.info.metric; }

  train(x: MatrixLike): void {
    const m = toMatrix(x, 'x', this.d);
    native.indexTrain(indexHandle(this), m.data, m.rows);
  }

  add(x: MatrixLike): void {
    const m = toMatrix(x, 'x', this.d);
    if (!this.isTrained) throw new TypeError('Expected a trained index for add(); call train() first');
    native.indexAdd(indexHandle(this), m.data, m.rows);
  }

  /** The min(k, ntotal) nearest of each row of x (n, d): n x min(k, ntotal) x 12 bytes of results. */
  search(x: MatrixLike, k: number): FaissSearchResult {
    const { m, found, result } = searchArgs(this, x, k, true);
    if (found > 0) native.indexSearch(indexHandle(this), m.data, m.rows, found, result.distances, result.labels);
    return result;
  }

  /**
   * train, off the event loop. While it (or addAsync) runs, every other call
   * on this index, its pq, or an IndexPreTransform over it is refused with an
   * Error; searchAsync calls may run together.
   */
  // The async twins copy x (see lib/async.ts) at once, not in pieces, so that
  // the native job, and with it the index's lock, starts with the call:
  // later calls are refused from then on, and dispose() lets it finish.
  async trainAsync(x: MatrixLike, options?: AsyncOptions): Promise<void> {
    const site = new Error();
    const zeroCopy = zeroCopyOption(options, 'trainAsync');
    const m = toMatrix(x, 'x', this.d, false);
    const data = ownedNow(m.data, m.owned, zeroCopy);
    await settled(native.indexTrainAsync(indexHandle(this), data, m.rows), site, { data, name: 'x', cols: m.cols });
  }

  /** add, off the event loop. */
  async addAsync(x: MatrixLike, options?: AsyncOptions): Promise<void> {
    const site = new Error();
    const zeroCopy = zeroCopyOption(options, 'addAsync');
    const m = toMatrix(x, 'x', this.d, false);
    if (!this.isTrained) throw new TypeError('Expected a trained index for add(); call train() first');
    const data = ownedNow(m.data, m.owned, zeroCopy);
    await settled(native.indexAddAsync(indexHandle(this), data, m.rows), site, { data, name: 'x', cols: m.cols });
  }

  /**
   * Appends codes (N, M), one integer per sub-quantizer below 2**nbits (as
   * faissToNanopq returns them), to the index's stored codes, as add() would
   * store the vectors they encode: codes read from a file go in as they are,
   * where encoding vectors again could differ in a tie.
   */
  addCodes(codes: CodesLike): void {
    const inner = this instanceof IndexPreTransform ? this.index : (this as IndexBase);
    if (!(inner instanceof IndexPQ)) throw new TypeError(`Expected an index over a faiss.IndexPQ for addCodes(), got ${describe(inner)}`);
    if (!this.isTrained) throw new TypeError('Expected a trained index for addCodes(); call train() first');
    const { M, ksub } = inner.pq;
    const c = toCodes(codes, 'codes', M, ksub);
    native.indexAddCodes(indexHandle(this), c.data, c.rows);
  }

  /**
   * Frees the index's native memory now (async calls already running finish
   * first, and its `pq` or `chain` objects still referenced keep their parts);
   * later calls throw.
   */
  dispose(): void {
    native.faissDispose(indexHandle(this));
  }

  /** search, off the event loop. */
  async searchAsync(x: MatrixLike, k: number, options?: AsyncOptions): Promise<FaissSearchResult> {
    const site = new Error();
    const zeroCopy = zeroCopyOption(options, 'searchAsync');
    const { m, found, result } = searchArgs(this, x, k, false);
    if (found === 0) return result;
    const data = ownedNow(m.data, m.owned, zeroCopy);
    await settled(native.indexSearchAsync(indexHandle(this), data, m.rows, found, result.distances, result.labels), site,
      { data, name: 'x', cols: m.cols });
    return result;
  }
}

/** faiss::IndexPQ: a ProductQuantizer and the codes of the vectors added. */
export class IndexPQ extends IndexBase {
  constructor(d: number, M: number, nbits: number, metric: Metric = 'l2') {
    super();
    const [dd, mm] = checkDims(d, M);
    handles.set(this, native.indexPQNew(dd, mm, checkInteger(nbits, 'nbits', 1, 16), checkMetric(metric)));
  }

  override get isTrained(): boolean { return this.info.isTrained; }
  /** Set true after assigning pq.centroids by hand, as Python's `index.is_trained = True`. */
  override set isTrained(value: boolean) {
    if (typeof value !== 'boolean') throw new TypeError(`Expected a boolean for isTrained, got ${describe(value)}`);
    native.indexSetTrained(indexHandle(this), value);
  }

  /** The index's own ProductQuantizer (not a copy). */
  get pq(): ProductQuantizer {
    return adopt(ProductQuantizer, native.indexGetPQ(indexHandle(this)));
  }

  /** A copy of the codes as Faiss packs them: ntotal rows of ceil(M * nbits / 8) bytes. */
  get codes(): Uint8Array {
    const { M, nbits } = this.pq;
    const out = new Uint8Array(this.ntotal * Math.ceil((M * nbits) / 8));
    native.indexCodes(indexHandle(this), out);
    return out;
  }
}

/** faiss::IndexPreTransform: vectors go through the transforms of `chain`, then into `index`. */
export class IndexPreTransform extends IndexBase {
  constructor(transform: OPQMatrix, index: IndexPQ) {
    super();
    const t = handleOf(transform, 'transform', 'OPQMatrix');
    const i = handleOf(index, 'index', 'IndexPQ');
    if (!(index instanceof IndexPQ)) throw new TypeError(`Expected a faiss.IndexPQ for index, got ${describe(index)}`);
    if (transform.dOut !== index.d) {
      throw new RangeError(`Expected the transform's dOut to be the index's d = ${index.d}, got ${transform.dOut}`);
    }
    handles.set(this, native.indexPreTransformNew(t, i));
  }

  get chain(): OPQMatrix[] { return parts(this).chain.map((h) => adopt(OPQMatrix, h)); }
  get index(): IndexPQ { return adopt(IndexPQ, parts(this).index); }
}

/** An index written by faiss.write_index (Python or C++): an IndexPQ or IndexPreTransform. */
export function readIndex(src: string | Uint8Array): IndexPQ | IndexPreTransform {
  const reader = readerFor(src);
  const type = checkIndexFile(reader);
  const handle = native.readIndex(reader.bytes);
  return type === 'IndexPQ' ? adopt(IndexPQ, handle) : adopt(IndexPreTransform, handle);
}

/**
 * The index as faiss.write_index writes it: its bytes (a Node Buffer, typed as
 * the Uint8Array it is), or, given dst, written to that file.
 */
export function writeIndex(index: IndexPQ | IndexPreTransform): Uint8Array;
export function writeIndex(index: IndexPQ | IndexPreTransform, dst: string): void;
export function writeIndex(index: IndexPQ | IndexPreTransform, dst?: string): Uint8Array | void;
export function writeIndex(index: IndexPQ | IndexPreTransform, dst?: string): Uint8Array | void {
  const bytes = native.writeIndex(handleOf(index, 'index', 'IndexPQ or IndexPreTransform'));
  if (dst === undefined) return bytes;
  if (typeof dst !== 'string') throw new TypeError(`Expected a path for dst, got ${describe(dst)}`);
  fs.writeFileSync(dst, bytes);
}

/** Codes as Faiss packs them, (n, ceil(M * nbits / 8)) bytes, to one integer per sub-quantizer. */
export function unpackCodes(packed: Uint8Array, n: number, M: number, nbits: number): CodeMatrix {
  if (!(packed instanceof Uint8Array)) throw new TypeError(`Expected a Uint8Array for packed, got ${describe(packed)}`);
  checkInteger(n, 'n', 0);
  checkInteger(M, 'M', 1, 2 ** 32 - 1);
  checkInteger(nbits, 'nbits', 1, 16);
  const codeSize = Math.ceil((M * nbits) / 8);
  if (packed.length !== n * codeSize) {
    throw new RangeError(`Expected packed to hold n * ceil(M * nbits / 8) = ${n * codeSize} bytes, got ${packed.length}`);
  }
  const codes = newCodeArray(codeDtypeFor(2 ** nbits), n * M);
  native.unpackCodes(packed, n, M, nbits, codes);
  return { data: codes, shape: [n, M] };
}

// What console.log shows of each (`IndexPQ { d: 784, M: 8, nbits: 8, ntotal: 60000 }`).
defineInspect(ProductQuantizer, (pq) => {
  const { d, M, nbits } = pqInfo(pq);
  return { d, M, nbits };
});
defineInspect(OPQMatrix, (t) => {
  const { dIn, dOut, isTrained } = transformInfo(t);
  return { dIn, dOut, isTrained };
});
defineInspect(IndexPQ, (index) => {
  const { M, nbits } = index.pq;
  return { d: index.d, M, nbits, ntotal: index.ntotal };
});
defineInspect(IndexPreTransform, (index) => ({ d: index.d, ntotal: index.ntotal, chain: index.chain, index: index.index }));
