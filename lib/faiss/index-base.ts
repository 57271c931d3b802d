// What every Faiss index kind shares (faiss.Index): train, add, ids, search
// with per-call options, range search, removal, reconstruction, their async
// twins, and dispose. A kind is a subclass in a file of its own that
// registers itself (registerKind) under the name the addon gives its Faiss
// type, by which readIndex, indexFactory and the parts of an index adopt it;
// and a section in the file checker (io/faiss-index.ts).
import type { CodesLike, Matrix, MatrixLike, Metric } from '../core/arrays';
import { AsyncOptions, ownedNow, settled, zeroCopyOption } from '../core/async';
import { native } from '../core/native';
import { checkInteger, describe, FLT_MAX, toCodes, toMatrix } from '../core/validate';
import type { FaissHandle } from '../core/addon';
import { adopt, handleOf } from './object';
import type { ProductQuantizer } from './product-quantizer';

export const indexHandle = (index: object) => handleOf(index, 'this', 'Index');

/**
 * Faiss search results: row i of `shape` (n, k) holds query i's
 * nearest, best first (label -1n where an index finds fewer).
 */
export interface FaissSearchResult { distances: Float32Array; labels: BigInt64Array; shape: [number, number] }

/**
 * Range search results: the results of query i are entries lims[i] to
 * lims[i + 1] - 1 of distances and labels (in no order).
 */
export type { FaissRangeResult } from '../core/addon';
import type { FaissRangeResult } from '../core/addon';

/** Options of one search; each kind takes those of its own (and of the index it wraps). */
export interface SearchParams { nprobe?: number; maxCodes?: number; efSearch?: number; kFactor?: number }

/** The checks of the search options a kind takes, by name. */
export type SearchOptionChecks = Record<string, (value: unknown) => number>;

/** Ids: a BigInt64Array, or an array of safe integers, each >= 0 (-1 is Faiss's "no result"). */
export type IdsLike = BigInt64Array | readonly (number | bigint)[];

type IndexClass = { prototype: Index };
const kinds = new Map<string, IndexClass>();

/** Makes cls the class of the indexes the addon names `kind`. */
export function registerKind(kind: string, cls: IndexClass): void { kinds.set(kind, cls); }

/** The object of an index handle, of the class of its kind. */
export function adoptIndex<T extends Index = Index>(handle: FaissHandle): T {
  const { kind } = native.indexInfo(handle);
  const cls = kinds.get(kind);
  if (!cls) throw new TypeError(`Expected an index of a kind this library wraps, got ${kind}`);
  return adopt(cls, handle) as T;
}

/** A part of an index (its quantizer, the index it wraps, ...), or null. */
export function indexPart<T extends Index = Index>(index: Index, name: string): T | null {
  const handle = native.indexPart(indexHandle(index), name);
  return handle === undefined ? null : adoptIndex<T>(handle);
}

/** The search options an index takes: a wrapper takes those of the index it wraps. */
export const searchOptionsOf = (index: Index): SearchOptionChecks => index['searchOptions']();

/**
 * The most results a search returns (3 GiB of them): a result is allocated and
 * filled whole, and memory past this is more likely the OOM killer's than the user's.
 */
const MAX_RESULTS = 2 ** 28;

const searchResult = (rows: number, k: number): FaissSearchResult => ({ distances: new Float32Array(rows * k), labels: new BigInt64Array(rows * k), shape: [rows, k] });

/** result, its first columns those of found (the same object when Faiss was asked for all k). */
function withColumns(result: FaissSearchResult, found: FaissSearchResult): FaissSearchResult {
  const [rows, k] = result.shape;
  const columns = found.shape[1];
  if (found === result || columns === 0) return result;
  for (let i = 0; i < rows; i++) {
    result.distances.set(found.distances.subarray(i * columns, (i + 1) * columns), i * k);
    result.labels.set(found.labels.subarray(i * columns, (i + 1) * columns), i * k);
  }
  return result;
}

/** ids as a BigInt64Array of n ids >= 0. */
function toIds(ids: unknown, name: string, n?: number): BigInt64Array {
  let out: BigInt64Array;
  if (ids instanceof BigInt64Array) {
    out = ids;
    for (let i = 0; i < out.length; i++) {
      if (out[i] < 0n) throw new RangeError(`Expected ids >= 0 for ${name}, got ${out[i]} at ${i}`);
    }
  } else if (Array.isArray(ids)) {
    out = new BigInt64Array(ids.length);
    ids.forEach((id, i) => {
      // A bigint is taken as it is, up to int64; a number must be a safe integer.
      if (typeof id === 'bigint' && id >= 0n && id < 2n ** 63n) out[i] = id;
      else if (typeof id === 'bigint') throw new RangeError(`Expected 0 <= ${name}[${i}] < 2**63, got ${id}`);
      else out[i] = BigInt(checkInteger(id, `${name}[${i}]`, 0));
    });
  } else {
    throw new TypeError(`Expected a BigInt64Array or an array of integers (numbers or bigints) for ${name}, got ${describe(ids)}`);
  }
  if (n !== undefined && out.length !== n) throw new RangeError(`Expected ${n} ids for ${name} (one per row of x), got ${out.length}`);
  return out;
}

/** An index of Faiss: what every kind can be asked. A kind that cannot do a call refuses it with an Error. */
export abstract class Index {
  protected get info() { return native.indexInfo(indexHandle(this)); }
  get d(): number { return this.info.d; }
  get ntotal(): number { return this.info.ntotal; }
  get isTrained(): boolean { return this.info.isTrained; }
  get metric(): Metric { return this.info.metric; }
  /**
   * What index_factory would build it from ('OPQ16,IVF256,PQ16'; a linear
   * transform read from a file, OPQ's included, is 'LT<dOut>': files do not say which).
   */
  get description(): string { return this.info.description; }
  /** The bytes it holds in memory (vectors or codes, lists, graph, tables; parts included). */
  get bytes(): number { return this.info.bytes; }

  /** The search options this kind takes, with their checks: none unless a kind says so. */
  protected searchOptions(): SearchOptionChecks { return {}; }
  /** The ProductQuantizer of the codes this index stores, if they are PQ codes; IndexPQ's is its own pq. */
  protected codesPQ(): ProductQuantizer | null { return null; }

  /** Throws, naming the call, unless this kind can do it. */
  protected checkCan(op: 'addWithIds' | 'removeIds' | 'reconstruct' | 'rangeSearch' | 'mergeFrom'): void {
    const why = native.indexCannot(indexHandle(this), op);
    if (why !== null) throw new TypeError(`Expected an index that can ${op}(); an ${this.info.kind} ${why}`);
  }

  train(x: MatrixLike): void {
    const m = toMatrix(x, 'x', this.d);
    native.indexTrain(indexHandle(this), m.data, m.rows);
  }

  add(x: MatrixLike): void {
    const m = this.addArgs(x, 'add');
    native.indexAdd(indexHandle(this), m.data, m.rows);
  }

  /** Adds x (n, d) under the ids given (n of them, >= 0), which searches then return as labels. */
  addWithIds(x: MatrixLike, ids: IdsLike): void {
    const [m, i] = this.addWithIdsArgs(x, ids, true);
    native.indexAddWithIds(indexHandle(this), m.data, m.rows, i);
  }

  /**
   * The k nearest of each row of x (n, d): n x k x 12 bytes of results, label
   * -1n (and the distance Faiss gives no result) where fewer than k were
   * found. `params` apply to this call only.
   */
  search(x: MatrixLike, k: number, params?: SearchParams): FaissSearchResult {
    const { m, found, result, into, options } = this.searchArgs(x, k, params, true);
    if (found > 0) native.indexSearch(indexHandle(this), m.data, m.rows, found, into.distances, into.labels, options);
    return withColumns(result, into);
  }

  /** Every vector within `radius` of each row of x: squared L2 distance below it, or inner product above. */
  rangeSearch(x: MatrixLike, radius: number): FaissRangeResult {
    const m = this.rangeSearchArgs(x, radius, true);
    return native.indexRangeSearch(indexHandle(this), m.data, m.rows, radius);
  }

  /** Removes the vectors of these ids; returns how many it removed. */
  removeIds(ids: IdsLike): number {
    this.checkCan('removeIds');
    const i = toIds(ids, 'ids');
    return native.indexRemoveIds(indexHandle(this), i, i.length);
  }

  /** The vector stored under id (decoded from its code), (d). */
  reconstruct(id: number | bigint): Float32Array {
    const first = typeof id === 'bigint' && id >= 0n && id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : id;
    return this.reconstructN(checkInteger(first, 'id', 0), 1).data;
  }

  /** The vectors of ids first .. first + n - 1, (n, d). */
  reconstructN(first: number, n: number): Matrix {
    checkInteger(first, 'first', 0);
    // n ids, each one the index holds: no more than ntotal.
    checkInteger(n, 'n', 0, this.ntotal);
    this.checkCan('reconstruct');
    const out = new Float32Array(n * this.d);
    native.indexReconstruct(indexHandle(this), first, n, out);
    return { data: out, shape: [n, this.d] };
  }

  /** Removes every vector; a trained index stays trained. */
  reset(): void { native.indexReset(indexHandle(this)); }

  /**
   * Moves the vectors of other, an index of the same kind and settings, into
   * this one (other is left empty); ids of an IVF's moved vectors are shifted by addId.
   */
  mergeFrom(other: Index, addId = 0): void {
    this.checkCan('mergeFrom');
    native.indexMergeFrom(indexHandle(this), handleOf(other, 'other', 'Index'), checkInteger(addId, 'addId', 0));
  }

  /**
   * Appends codes (N, M), one integer per sub-quantizer below 2**nbits (as
   * faissToNanopq returns them), to the index's stored codes, as add() would
   * store the vectors they encode: codes read from a file go in as they are,
   * where encoding vectors again could differ in a tie. IndexPQ, and an
   * IndexPreTransform over one.
   */
  addCodes(codes: CodesLike): void {
    const pq = this.codesPQ();
    if (!pq) throw new TypeError(`Expected an index over a faiss.IndexPQ for addCodes(), got ${describe(this)}`);
    if (!this.isTrained) throw new TypeError('Expected a trained index for addCodes(); call train() first');
    const { M, ksub } = pq;
    const c = toCodes(codes, 'codes', M, ksub);
    native.indexAddCodes(indexHandle(this), c.data, c.rows);
  }

  /**
   * Frees the index's native memory now (async calls already running finish
   * first, and its parts still referenced keep theirs); later calls throw.
   */
  dispose(): void {
    native.faissDispose(indexHandle(this));
  }

  // The async twins copy x (see core/async.ts) at once, not in pieces, so that
  // the native job, and with it the index's lock, starts with the call:
  // later calls are refused from then on, and dispose() lets it finish.

  /**
   * train, off the event loop. While it (or another call that changes the
   * index) runs, every other call on this index, its parts, or an index
   * over it is refused with an Error; searchAsync calls may run together.
   */
  async trainAsync(x: MatrixLike, options?: AsyncOptions): Promise<void> {
    const site = new Error();
    const zeroCopy = zeroCopyOption(options, 'trainAsync');
    const m = toMatrix(x, 'x', this.d, false);
    await settled(native.indexTrainAsync(indexHandle(this), ownedNow(m, 'x', zeroCopy), m.rows), site);
  }

  /** add, off the event loop. */
  async addAsync(x: MatrixLike, options?: AsyncOptions): Promise<void> {
    const site = new Error();
    const zeroCopy = zeroCopyOption(options, 'addAsync');
    const m = this.addArgs(x, 'add', false);
    await settled(native.indexAddAsync(indexHandle(this), ownedNow(m, 'x', zeroCopy), m.rows), site);
  }

  /** addWithIds, off the event loop. */
  async addWithIdsAsync(x: MatrixLike, ids: IdsLike, options?: AsyncOptions): Promise<void> {
    const site = new Error();
    const zeroCopy = zeroCopyOption(options, 'addWithIdsAsync');
    const [m, i] = this.addWithIdsArgs(x, ids, false);
    const owned = i === ids ? i.slice() : i;  // the caller's BigInt64Array may change before the job reads it
    await settled(native.indexAddWithIdsAsync(indexHandle(this), ownedNow(m, 'x', zeroCopy), m.rows, owned), site);
  }

  /** search, off the event loop; searches may run together, on one index too. */
  async searchAsync(x: MatrixLike, k: number, params?: SearchParams, options?: AsyncOptions): Promise<FaissSearchResult> {
    const site = new Error();
    const zeroCopy = zeroCopyOption(options, 'searchAsync');
    const { m, found, result, into, options: searchOptions } = this.searchArgs(x, k, params, false);
    if (found > 0) {
      const data = ownedNow(m, 'x', zeroCopy);
      await settled(native.indexSearchAsync(indexHandle(this), data, m.rows, found, into.distances, into.labels, searchOptions), site);
    }
    return withColumns(result, into);
  }

  /** rangeSearch, off the event loop. */
  async rangeSearchAsync(x: MatrixLike, radius: number, options?: AsyncOptions): Promise<FaissRangeResult> {
    const site = new Error();
    const zeroCopy = zeroCopyOption(options, 'rangeSearchAsync');
    const m = this.rangeSearchArgs(x, radius, false);
    return settled(native.indexRangeSearchAsync(indexHandle(this), ownedNow(m, 'x', zeroCopy), m.rows, radius), site);
  }

  /** removeIds, off the event loop (the ids are copied at the call). */
  async removeIdsAsync(ids: IdsLike): Promise<number> {
    const site = new Error();
    this.checkCan('removeIds');
    const i = toIds(ids, 'ids');
    return settled(native.indexRemoveIdsAsync(indexHandle(this), i, i.length), site);
  }

  private addArgs(x: MatrixLike, call: string, checkValuesNow = true) {
    const m = toMatrix(x, 'x', this.d, checkValuesNow);
    if (!this.isTrained) throw new TypeError(`Expected a trained index for ${call}(); call train() first`);
    return m;
  }

  private addWithIdsArgs(x: MatrixLike, ids: IdsLike, checkValuesNow: boolean) {
    this.checkCan('addWithIds');
    const m = this.addArgs(x, 'addWithIds', checkValuesNow);
    return [m, toIds(ids, 'ids', m.rows)] as const;
  }

  private rangeSearchArgs(x: MatrixLike, radius: number, checkValuesNow: boolean) {
    if (typeof radius !== 'number' || !Number.isFinite(radius)) throw new TypeError(`Expected a finite number for radius, got ${describe(radius)}`);
    this.checkCan('rangeSearch');
    const m = toMatrix(x, 'x', this.d, checkValuesNow);
    if (!this.isTrained) throw new TypeError('Expected a trained index for rangeSearch(); call train() first');
    return m;
  }

  /**
   * The checked arguments of search and searchAsync, and the arrays of their
   * result: k is clamped to ntotal, as Faiss would fill n x k results (label
   * -1 beyond ntotal) whatever k is. An empty index has empty rows, without a
   * call to Faiss (whose search refuses k = 0), so its x is checked now.
   */
  private searchArgs(x: MatrixLike, k: number, params: SearchParams | undefined, checkValuesNow: boolean) {
    const { d, ntotal, isTrained, metric } = this.info;
    checkInteger(k, 'k', 1, 2 ** 31 - 1);
    const options = this.checkSearchParams(params);
    const m = toMatrix(x, 'x', d, checkValuesNow || ntotal === 0);
    if (!isTrained) throw new TypeError('Expected a trained index for search(); call train() first');
    // Faiss is asked for no more than the index holds (a huge k would size its
    // heaps); the other columns are what Faiss gives where it finds nothing.
    const found = Math.min(k, ntotal);
    if (m.rows * k > MAX_RESULTS) {
      throw new RangeError(`Expected n * k <= ${MAX_RESULTS} results (12 bytes each), got n = ${m.rows}, k = ${k}${k > ntotal ? ` (the index holds ${ntotal})` : ''}`);
    }
    const result = searchResult(m.rows, k);
    if (found === k) return { m, found, result, into: result, options };
    // Faiss's distance where it finds nothing: the worst of the metric.
    result.distances.fill(metric === 'l2' ? FLT_MAX : -FLT_MAX);
    result.labels.fill(-1n);
    return { m, found, result, into: searchResult(m.rows, found), options };
  }

  private checkSearchParams(params: unknown): SearchParams | undefined {
    if (params === undefined) return undefined;
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      throw new TypeError(`Expected an object of search parameters for params, got ${describe(params)}`);
    }
    const checks = this.searchOptions();
    const unknown = Object.keys(params).filter((name) => !Object.hasOwn(checks, name));
    if (unknown.length > 0) {
      const takes = Object.keys(checks);
      throw new TypeError(`Expected search parameters an ${this.info.kind} takes (${takes.length ? takes.join(', ') : 'none'}), got ${unknown.join(', ')}`);
    }
    const options: Record<string, number> = {};
    for (const [name, value] of Object.entries(params)) if (value !== undefined) options[name] = checks[name](value);
    return options;
  }
}
