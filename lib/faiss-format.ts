// Checks a Faiss index file before Faiss reads it. Faiss's reader trusts the
// sizes it reads (a short centroid table is read as it is, then searched out
// of bounds), so every length and dimension is checked here: an index of the
// kinds this library wraps, IndexPQ and IndexPreTransform(linear transforms,
// IndexPQ), written as faiss.write_index (1.7.x) writes them.
import { MAX_ABS_CODEWORD } from './arrays';
import { native } from './native';

/** Some index types a file may hold instead, by the four bytes Faiss writes first. */
const knownTypes: Record<string, string> = {
  IxF2: 'IndexFlatL2', IxFI: 'IndexFlatIP', IxFl: 'IndexFlat', IwFl: 'IndexIVFFlat', IwF2: 'IndexIVFFlat',
  IwPQ: 'IndexIVFPQ', IwQR: 'IndexIVFPQR', IwSq: 'IndexIVFScalarQuantizer', IxSQ: 'IndexScalarQuantizer',
  IHNf: 'IndexHNSWFlat', IHNp: 'IndexHNSWPQ', IHNs: 'IndexHNSWSQ', IxLS: 'IndexLSH', IxMp: 'IndexIDMap',
  IxM2: 'IndexIDMap2', IxRF: 'IndexRefineFlat', IPfs: 'IndexPQFastScan', IwPf: 'IndexIVFPQFastScan',
  IxPQ: 'IndexPQ (legacy format)', IxPo: 'IndexPQ (legacy polysemous format)',
};

export type IndexType = 'IndexPQ' | 'IndexPreTransform';

/** A type tag as it can be shown in a message. */
const printable = (tag: string) => tag.replace(/[^\x20-\x7e]/g, '?');

function invalid(detail: string): TypeError {
  return new TypeError(`Expected a Faiss IndexPQ or IndexPreTransform(OPQMatrix, IndexPQ) file for src, got ${detail}`);
}

class Reader {
  offset = 0;
  constructor(private readonly bytes: Buffer) {}

  /** A vector of float32 (count, then values) that must all be finite and within limit; returns the count. */
  finiteFloats(what: string, limit = Number.MAX_VALUE): number {
    const start = this.offset + 8;
    const count = this.vector(4, what);
    const values = new Float32Array(count);  // a copy: the file's floats need not be aligned
    new Uint8Array(values.buffer).set(this.bytes.subarray(start, start + 4 * count));
    const i = native.firstOutOfRange(values, limit);
    if (i >= 0) throw invalid(`${values[i]} in ${what} (values must be finite, of magnitude <= ${limit})`);
    return count;
  }

  need(n: number, what: string): void {
    if (this.offset + n > this.bytes.length) {
      throw invalid(`a file that ends inside ${what} (offset ${this.offset}, ${this.bytes.length} bytes)`);
    }
  }
  fourcc(): string { this.need(4, 'a type tag'); return this.bytes.toString('latin1', this.offset, (this.offset += 4)); }
  u8(what: string): number { this.need(1, what); return this.bytes.readUInt8(this.offset++); }
  /** A C++ bool: a byte that must be 0 or 1 (any other is undefined behaviour when Faiss reads it). */
  bool(what: string): boolean {
    const v = this.u8(what);
    if (v > 1) throw invalid(`${what} = ${v} (a boolean must be 0 or 1)`);
    return v === 1;
  }
  i32(what: string): number { this.need(4, what); const v = this.bytes.readInt32LE(this.offset); this.offset += 4; return v; }
  i64(what: string): number {
    this.need(8, what);
    const v = this.bytes.readBigInt64LE(this.offset);
    this.offset += 8;
    if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(`${what} = ${v}`);
    return Number(v);
  }
  /** A vector: its element count (uint64), then the elements; returns the count. */
  vector(elementSize: number, what: string): number {
    const count = this.i64(`the length of ${what}`);
    this.need(count * elementSize, what);
    this.offset += count * elementSize;
    return count;
  }
}

function describeType(tag: string): string {
  const name = knownTypes[tag];
  return `an index of type '${printable(tag)}'${name ? ` (${name})` : ''}, which this library does not wrap`;
}

function header(r: Reader): { d: number; ntotal: number; metric: number } {
  const d = r.i32('d');
  const ntotal = r.i64('ntotal');
  r.i64('a reserved field');
  r.i64('a reserved field');
  r.bool('is_trained');
  const metric = r.i32('metric_type');
  if (d < 1) throw invalid(`d = ${d}`);
  if (metric !== 0 && metric !== 1) throw invalid(`metric_type ${metric} (only METRIC_INNER_PRODUCT 0 and METRIC_L2 1 are supported)`);
  return { d, ntotal, metric };
}

function indexPQ(r: Reader): { d: number; metric: number; ntotal: number } {
  const { d, ntotal, metric } = header(r);
  const pqD = r.i64('pq.d');
  const M = r.i64('pq.M');
  const nbits = r.i64('pq.nbits');
  if (pqD !== d || M < 1 || d % M !== 0) throw invalid(`an IndexPQ with d = ${d}, pq.d = ${pqD}, pq.M = ${M}`);
  if (nbits < 1 || nbits > 16) throw invalid(`pq.nbits = ${nbits} (1 to 16 are supported)`);
  const centroids = r.finiteFloats('pq.centroids', MAX_ABS_CODEWORD);
  if (centroids !== d * 2 ** nbits) throw invalid(`${centroids} centroid floats where d * 2**nbits = ${d * 2 ** nbits}`);
  const codes = r.vector(1, 'codes');
  const codeSize = Math.ceil((M * nbits) / 8);
  if (codes !== ntotal * codeSize) throw invalid(`${codes} code bytes where ntotal * code_size = ${ntotal * codeSize}`);
  const searchType = r.i32('search_type');
  if (searchType !== 0) throw invalid(`search_type ${searchType} (only ST_PQ 0 is supported)`);
  r.bool('encode_signs');
  r.i32('polysemous_ht');
  return { d, metric, ntotal };
}

function linearTransform(r: Reader): { dIn: number; dOut: number } {
  const tag = r.fourcc();
  if (tag !== 'LTra') throw invalid(`a transform of type '${printable(tag)}' (only linear transforms such as OPQMatrix are supported)`);
  const haveBias = r.bool('have_bias');
  const a = r.finiteFloats('A');
  const b = r.finiteFloats('b');
  const dIn = r.i32('d_in');
  const dOut = r.i32('d_out');
  const trained = r.bool('is_trained');
  // An untrained transform is written with empty A and b.
  const sizes = trained ? a === dIn * dOut && b === (haveBias ? dOut : 0) : a === 0 && b === 0;
  if (dIn < 1 || dOut < 1 || !sizes) {
    throw invalid(`a linear transform with d_in = ${dIn}, d_out = ${dOut}, ${a} floats in A and ${b} in b`);
  }
  return { dIn, dOut };
}

/** Throws a TypeError naming what is wrong unless bytes hold an index this library wraps. */
export function checkIndexFile(bytes: Buffer): IndexType {
  const r = new Reader(bytes);
  const tag = r.fourcc();
  let type: IndexType;
  if (tag === 'IxPq') {
    indexPQ(r);
    type = 'IndexPQ';
  } else if (tag === 'IxPT') {
    const { d, metric, ntotal } = header(r);
    const nt = r.i32('the number of transforms');
    if (nt < 1 || nt > 16) throw invalid(`${nt} transforms`);
    let dim = d;
    for (let i = 0; i < nt; i++) {
      const { dIn, dOut } = linearTransform(r);
      if (dIn !== dim) throw invalid(`transform ${i} taking d_in = ${dIn} vectors of ${dim} dimensions`);
      dim = dOut;
    }
    const innerTag = r.fourcc();
    if (innerTag !== 'IxPq') throw invalid(`an IndexPreTransform over ${describeType(innerTag)}`);
    const inner = indexPQ(r);
    if (inner.d !== dim) throw invalid(`an IndexPreTransform whose transforms give ${dim} dimensions to an index of d = ${inner.d}`);
    if (inner.metric !== metric) throw invalid(`an IndexPreTransform of metric_type ${metric} over an index of metric_type ${inner.metric}`);
    if (inner.ntotal !== ntotal) throw invalid(`an IndexPreTransform of ntotal = ${ntotal} over an index of ntotal = ${inner.ntotal}`);
    type = 'IndexPreTransform';
  } else {
    throw invalid(describeType(tag));
  }
  if (r.offset !== bytes.length) throw invalid(`${bytes.length - r.offset} bytes after the index`);
  return type;
}
