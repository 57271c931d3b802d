// Checks a Faiss index file before Faiss reads it. Faiss's reader trusts the
// sizes it reads (a short centroid table is read as it is, then searched out
// of bounds), so every length and dimension is checked here: an index of the
// kinds this library wraps, IndexPQ and IndexPreTransform(linear transforms,
// IndexPQ), written as faiss.write_index (1.7.x) writes them.
import { native } from '../core/native';
import { MAX_ABS_CODEWORD } from '../core/validate';
import { Reader } from './reader';

/** Bytes of one row of Faiss's bit-packed PQ codes: ceil(M * nbits / 8). */
export function packedCodeSize(M: number, nbits: number): number {
  return Math.ceil((M * nbits) / 8);
}

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

const FAISS_FILE = 'a Faiss IndexPQ or IndexPreTransform(OPQMatrix, IndexPQ) file';

/** The error for what was found at the field read last (or at byte at). */
const invalid = (r: Reader, found: string, at?: number) => r.error(FAISS_FILE, found, at);

/** A vector of float32 (count, then values) that must all be finite and within limit; returns the count. */
function finiteFloats(r: Reader, what: string, limit = Number.MAX_VALUE): number {
  const values = r.f32(r.size64(`the length of ${what}`), what);
  const i = native.firstOutOfRange(values, limit);
  if (i >= 0) throw invalid(r, `${values[i]} in ${what} (values must be finite, of magnitude <= ${limit})`);
  return values.length;
}

/** A C++ bool: a byte that must be 0 or 1 (any other is undefined behaviour when Faiss reads it). */
function bool(r: Reader, what: string): boolean {
  const v = r.u8(what);
  if (v > 1) throw invalid(r, `${what} = ${v} (a boolean must be 0 or 1)`);
  return v === 1;
}

/** A vector: its element count (uint64), then the elements; returns the count. */
function vector(r: Reader, elementSize: number, what: string): number {
  const count = r.size64(`the length of ${what}`);
  r.skip(count * elementSize, what);
  return count;
}

const fourcc = (r: Reader) => r.text(4, 'a type tag');

function describeType(tag: string): string {
  const name = knownTypes[tag];
  return `an index of type '${printable(tag)}'${name ? ` (${name})` : ''}, which this library does not wrap`;
}

function header(r: Reader): { d: number; ntotal: number; metric: number } {
  const d = r.i32('d');
  if (d < 1) throw invalid(r, `d = ${d}`);
  const ntotal = r.size64('ntotal');
  r.size64('a reserved field');
  r.size64('a reserved field');
  bool(r, 'is_trained');
  const metric = r.i32('metric_type');
  if (metric !== 0 && metric !== 1) throw invalid(r, `metric_type ${metric} (only METRIC_INNER_PRODUCT 0 and METRIC_L2 1 are supported)`);
  return { d, ntotal, metric };
}

function indexPQ(r: Reader): { d: number; metric: number; ntotal: number } {
  const { d, ntotal, metric } = header(r);
  const pqD = r.size64('pq.d');
  const M = r.size64('pq.M');
  const nbits = r.size64('pq.nbits');
  if (pqD !== d || M < 1 || d % M !== 0) throw invalid(r, `an IndexPQ with d = ${d}, pq.d = ${pqD}, pq.M = ${M}`);
  if (nbits < 1 || nbits > 16) throw invalid(r, `pq.nbits = ${nbits} (1 to 16 are supported)`);
  const centroids = finiteFloats(r, 'pq.centroids', MAX_ABS_CODEWORD);
  if (centroids !== d * 2 ** nbits) throw invalid(r, `${centroids} centroid floats where d * 2**nbits = ${d * 2 ** nbits}`);
  const codes = vector(r, 1, 'codes');
  const codeSize = packedCodeSize(M, nbits);
  if (codes !== ntotal * codeSize) throw invalid(r, `${codes} code bytes where ntotal * code_size = ${ntotal * codeSize}`);
  const searchType = r.i32('search_type');
  if (searchType !== 0) throw invalid(r, `search_type ${searchType} (only ST_PQ 0 is supported)`);
  bool(r, 'encode_signs');
  r.i32('polysemous_ht');
  return { d, metric, ntotal };
}

function linearTransform(r: Reader): { dIn: number; dOut: number } {
  const tag = fourcc(r);
  if (tag !== 'LTra') throw invalid(r, `a transform of type '${printable(tag)}' (only linear transforms such as OPQMatrix are supported)`);
  const haveBias = bool(r, 'have_bias');
  const a = finiteFloats(r, 'A');
  const b = finiteFloats(r, 'b');
  const dIn = r.i32('d_in');
  const dOut = r.i32('d_out');
  const trained = bool(r, 'is_trained');
  // An untrained transform is written with empty A and b.
  const sizes = trained ? a === dIn * dOut && b === (haveBias ? dOut : 0) : a === 0 && b === 0;
  if (dIn < 1 || dOut < 1 || !sizes) {
    throw invalid(r, `a linear transform with d_in = ${dIn}, d_out = ${dOut}, ${a} floats in A and ${b} in b`);
  }
  return { dIn, dOut };
}

function indexPreTransform(r: Reader): void {
  const { d, metric, ntotal } = header(r);
  const nt = r.i32('the number of transforms');
  if (nt < 1 || nt > 16) throw invalid(r, `${nt} transforms`);
  let dim = d;
  for (let i = 0; i < nt; i++) {
    const { dIn, dOut } = linearTransform(r);
    if (dIn !== dim) throw invalid(r, `transform ${i} taking d_in = ${dIn} vectors of ${dim} dimensions`);
    dim = dOut;
  }
  const innerAt = r.offset;
  const innerTag = fourcc(r);
  if (innerTag !== 'IxPq') throw invalid(r, `an IndexPreTransform over ${describeType(innerTag)}`);
  const inner = indexPQ(r);
  if (inner.d !== dim) throw invalid(r, `an IndexPreTransform whose transforms give ${dim} dimensions to an index of d = ${inner.d}`, innerAt);
  if (inner.metric !== metric) throw invalid(r, `an IndexPreTransform of metric_type ${metric} over an index of metric_type ${inner.metric}`, innerAt);
  if (inner.ntotal !== ntotal) throw invalid(r, `an IndexPreTransform of ntotal = ${ntotal} over an index of ntotal = ${inner.ntotal}`, innerAt);
}

/** The kinds this library wraps, by the tag Faiss writes first: each one's section of the checker. */
const sections = new Map<string, [IndexType, (r: Reader) => unknown]>([
  ['IxPq', ['IndexPQ', indexPQ]],
  ['IxPT', ['IndexPreTransform', indexPreTransform]],
]);

/** Throws a TypeError naming what is wrong unless the reader's bytes hold an index this library wraps. */
export function checkIndexFile(r: Reader): IndexType {
  const tag = fourcc(r);
  const section = sections.get(tag);
  if (!section) throw invalid(r, describeType(tag));
  const [type, check] = section;
  check(r);
  if (r.left > 0) throw invalid(r, `${r.left} bytes after the index`, r.offset);
  return type;
}
