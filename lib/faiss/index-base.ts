// What every Faiss index kind shares: train, add, search, their async twins,
// and dispose. A kind is a subclass in a file of its own, with a section in
// the file checker (io/faiss-index.ts) and a line in files.ts.
import type { CodesLike, Metric, MatrixLike } from '../core/arrays';
import { AsyncOptions, ownedNow, settled, zeroCopyOption } from '../core/async';
import { native } from '../core/native';
import { describe, kFound, toCodes, toMatrix } from '../core/validate';
import { handleOf } from './object';
import type { ProductQuantizer } from './product-quantizer';

export const indexHandle = (index: object) => handleOf(index, 'this', 'IndexPQ or IndexPreTransform');

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
  const found = kFound(k, ntotal, 2 ** 31 - 1);
  const m = toMatrix(x, 'x', d, checkValuesNow || found === 0);
  if (!isTrained) throw new TypeError('Expected a trained index for search(); call train() first');
  const n = m.rows * found;
  return { m, found, result: { distances: new Float32Array(n), labels: new BigInt64Array(n), shape: [m.rows, found] } as FaissSearchResult };
}

/** What every index kind shares: train, add, search, ntotal. */
export abstract class IndexBase {
  /** The index that stores this one's codes: itself, unless it hands its vectors on (IndexPreTransform). */
  protected codesIndex(): IndexBase { return this; }
  /** The ProductQuantizer of the codes this index stores, if they are PQ codes (IndexPQ). */
  protected codesPQ(): ProductQuantizer | null { return null; }

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
  // The async twins copy x (see core/async.ts) at once, not in pieces, so that
  // the native job, and with it the index's lock, starts with the call:
  // later calls are refused from then on, and dispose() lets it finish.
  async trainAsync(x: MatrixLike, options?: AsyncOptions): Promise<void> {
    const site = new Error();
    const zeroCopy = zeroCopyOption(options, 'trainAsync');
    const m = toMatrix(x, 'x', this.d, false);
    const data = ownedNow(m, 'x', zeroCopy);
    await settled(native.indexTrainAsync(indexHandle(this), data, m.rows), site);
  }

  /** add, off the event loop. */
  async addAsync(x: MatrixLike, options?: AsyncOptions): Promise<void> {
    const site = new Error();
    const zeroCopy = zeroCopyOption(options, 'addAsync');
    const m = toMatrix(x, 'x', this.d, false);
    if (!this.isTrained) throw new TypeError('Expected a trained index for add(); call train() first');
    const data = ownedNow(m, 'x', zeroCopy);
    await settled(native.indexAddAsync(indexHandle(this), data, m.rows), site);
  }

  /**
   * Appends codes (N, M), one integer per sub-quantizer below 2**nbits (as
   * faissToNanopq returns them), to the index's stored codes, as add() would
   * store the vectors they encode: codes read from a file go in as they are,
   * where encoding vectors again could differ in a tie.
   */
  addCodes(codes: CodesLike): void {
    const inner = this.codesIndex();
    const pq = inner.codesPQ();
    if (!pq) throw new TypeError(`Expected an index over a faiss.IndexPQ for addCodes(), got ${describe(inner)}`);
    if (!this.isTrained) throw new TypeError('Expected a trained index for addCodes(); call train() first');
    const { M, ksub } = pq;
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
    const data = ownedNow(m, 'x', zeroCopy);
    await settled(native.indexSearchAsync(indexHandle(this), data, m.rows, found, result.distances, result.labels), site);
    return result;
  }
}
