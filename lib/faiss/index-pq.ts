import type { CodeMatrix, Metric } from '../core/arrays';
import { codeDtypeFor, newCodeArray } from '../core/arrays';
import { defineInspect } from '../core/inspect';
import { native } from '../core/native';
import { checkInteger, checkMetric, describe } from '../core/validate';
import { packedCodeSize } from '../io/faiss-index';
import { adoptIndex, Index, indexHandle, registerKind } from './index-base';
import { adopt, checkDims, own } from './object';
import { ProductQuantizer } from './product-quantizer';

/** faiss::IndexPQ: a ProductQuantizer and the codes of the vectors added. */
export class IndexPQ extends Index {
  constructor(d: number, M: number, nbits: number, metric: Metric = 'l2') {
    super();
    const [dd, mm] = checkDims(d, M);
    own(this, native.indexPQNew(dd, mm, checkInteger(nbits, 'nbits', 1, 16), checkMetric(metric)));
  }

  override get isTrained(): boolean { return this.info.isTrained; }
  /** Set true after assigning pq.centroids by hand, as Python's `index.is_trained = True`. */
  override set isTrained(value: boolean) {
    if (typeof value !== 'boolean') throw new TypeError(`Expected a boolean for isTrained, got ${describe(value)}`);
    native.indexSetTrained(indexHandle(this), value);
  }

  protected override codesPQ(): ProductQuantizer { return this.pq; }

  /** The index's own ProductQuantizer (not a copy). */
  get pq(): ProductQuantizer { return pqOf(this); }

  /** A copy of the codes as Faiss packs them: ntotal rows of ceil(M * nbits / 8) bytes. */
  get codes(): Uint8Array {
    const { M, nbits } = this.pq;
    const out = new Uint8Array(this.ntotal * packedCodeSize(M, nbits));
    native.indexCodes(indexHandle(this), out);
    return out;
  }
}

/** The ProductQuantizer of an index's codes (shared with it, not a copy). */
export function pqOf(index: Index): ProductQuantizer {
  const handle = native.indexGetPQ(indexHandle(index));
  if (handle === undefined) throw new TypeError('Expected an index of PQ codes');
  return adopt(ProductQuantizer, handle);
}

/**
 * faiss::IndexPQFastScan: PQ codes of 4 bits, packed in blocks of `bbs`
 * vectors for SIMD scans. Made by indexFactory (e.g. 'PQ16x4fs') or readIndex.
 */
export class IndexPQFastScan extends Index {
  constructor() {
    super();
    throw new TypeError("Expected faiss.indexFactory(d, 'PQ<M>x4fs') or faiss.readIndex to make an IndexPQFastScan");
  }

  /** The index's own ProductQuantizer (not a copy). */
  get pq(): ProductQuantizer { return pqOf(this); }
  /** The vectors of a block of codes. */
  get bbs(): number { return this.info.bbs as number; }
}

/** An IndexPQFastScan of index's quantizer (4-bit codes) and codes (Faiss's constructor from an IndexPQ). */
export function fastScanOf(index: IndexPQ): IndexPQFastScan {
  return adoptIndex<IndexPQFastScan>(native.indexPQFastScanFrom(indexHandle(index)));
}

/** The codes of an IndexPQFastScan, one integer per sub-quantizer: (ntotal, M). */
export function fastScanCodes(index: IndexPQFastScan): CodeMatrix {
  const M = index.pq.M, codes = new Uint8Array(index.ntotal * M);
  native.fastScanCodes(indexHandle(index), codes);
  return { data: codes, shape: [index.ntotal, M] };
}

registerKind('IndexPQ', IndexPQ);
registerKind('IndexPQFastScan', IndexPQFastScan);

/** Codes as Faiss packs them, (n, ceil(M * nbits / 8)) bytes, to one integer per sub-quantizer. */
export function unpackCodes(packed: Uint8Array, n: number, M: number, nbits: number): CodeMatrix {
  if (!(packed instanceof Uint8Array)) throw new TypeError(`Expected a Uint8Array for packed, got ${describe(packed)}`);
  checkInteger(n, 'n', 0);
  checkInteger(M, 'M', 1, 2 ** 32 - 1);
  checkInteger(nbits, 'nbits', 1, 16);
  const codeSize = packedCodeSize(M, nbits);
  if (packed.length !== n * codeSize) {
    throw new RangeError(`Expected packed to hold n * ceil(M * nbits / 8) = ${n * codeSize} bytes, got ${packed.length}`);
  }
  const codes = newCodeArray(codeDtypeFor(2 ** nbits), n * M);
  native.unpackCodes(packed, n, M, nbits, codes);
  return { data: codes, shape: [n, M] };
}

defineInspect(IndexPQFastScan, (index) => ({ d: index.d, M: index.pq.M, ntotal: index.ntotal }));

defineInspect(IndexPQ, (index) => {
  const { M, nbits } = index.pq;
  return { d: index.d, M, nbits, ntotal: index.ntotal };
});
