// The TEXMEX formats of the SIFT/GIST benchmarks: each row is its dimension
// d (int32, little-endian), then d values: float32 (.fvecs), int32 (.ivecs)
// or uint8 (.bvecs). Every row must have the same d.
import * as fs from 'node:fs';
import { describe, Matrix, MatrixLike, checkShape, toMatrix } from '../arrays';
import { checkPath } from '../quantizer';
import { readerFor, TypedArrayType } from './reader';

type VecsArray = Float32Array | Int32Array | Uint8Array;
export interface VecsMatrix<T extends VecsArray> { data: T; shape: [number, number] }

const MAX_DIM = 2 ** 31 - 1;

function readVecs<T extends VecsArray>(src: unknown, Type: TypedArrayType<T>, format: string): VecsMatrix<T> {
  const r = readerFor(src);
  const { bytes } = r;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length === 0) return { data: new Type(0), shape: [0, 0] };
  const size = Type.BYTES_PER_ELEMENT;
  const d = r.i32('the dimension of row 0');
  r.expect(d >= 1, `a dimension d >= 1 for row 0 of a ${format} file`, String(d));
  const rowBytes = 4 + d * size;
  const rows = Math.floor(bytes.length / rowBytes);
  // Every row's d is checked before the data is allocated: a ragged file is found by its first odd row.
  for (let i = 0, at = 0; i < rows; i++, at += rowBytes) {
    const di = view.getInt32(at, true);
    if (di !== d) throw r.error(`d = ${d} (as row 0 of a ${format} file) for row ${i}`, `d = ${di}`, at);
  }
  if (rows * rowBytes !== bytes.length) {
    const at = rows * rowBytes;
    throw r.error(`row ${rows} of ${rowBytes} bytes (d = ${d}) of a ${format} file`, `${bytes.length - at} bytes left`, at);
  }
  const data = new Type(rows * d);
  const out = new Uint8Array(data.buffer);
  for (let i = 0, at = 4; i < rows; i++, at += rowBytes) out.set(bytes.subarray(at, at + d * size), i * d * size);
  return { data, shape: [rows, d] };
}

function writeVecs(dst: string, matrix: { data: VecsArray; shape: number[] }): void {
  const { data } = matrix;
  const [rows, d] = matrix.shape;
  if (rows > 0 && (d < 1 || d > MAX_DIM)) {
    throw new RangeError(`Expected 1 <= d <= ${MAX_DIM} columns in matrix (each row stores d as int32), got shape [${rows}, ${d}]`);
  }
  const size = data.BYTES_PER_ELEMENT;
  const rowBytes = 4 + d * size;
  const values = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  // Written in chunks of whole rows, so the d before each row costs a few MiB, not a copy of the matrix.
  const chunkRows = Math.max(1, Math.floor(2 ** 22 / rowBytes));
  const chunk = Buffer.alloc(Math.min(rows, chunkRows) * rowBytes);
  const fd = fs.openSync(dst, 'w');
  try {
    for (let first = 0; first < rows; first += chunkRows) {
      const n = Math.min(chunkRows, rows - first);
      for (let i = 0; i < n; i++) {
        chunk.writeInt32LE(d, i * rowBytes);
        values.copy(chunk, i * rowBytes + 4, (first + i) * d * size, (first + i + 1) * d * size);
      }
      fs.writeFileSync(fd, chunk.subarray(0, n * rowBytes));
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** A typed (rows, cols) matrix of Type: data of that type, of length rows * cols. */
function typedMatrix<T extends VecsArray>(matrix: unknown, Type: TypedArrayType<T>): VecsMatrix<T> {
  const m = matrix as VecsMatrix<T> | null;
  if (m === null || typeof m !== 'object' || !(m.data instanceof Type)) {
    throw new TypeError(`Expected matrix to be a {data: ${Type.name}, shape: [rows, cols]}, got ${describe(m === null || typeof m !== 'object' ? m : m.data)}`);
  }
  const [rows, cols] = checkShape(m.shape, ['rows', 'cols'], 'matrix');
  if (m.data.length !== rows * cols) {
    throw new RangeError(`Expected matrix.data.length to be rows * cols = ${rows * cols} for shape [${rows}, ${cols}], got ${m.data.length}`);
  }
  return m;
}

/** An .fvecs file (float32 rows) as a (n, d) Matrix, which PQ and OPQ take as it is. */
export function readFvecs(src: string | Uint8Array): Matrix {
  return readVecs(src, Float32Array, '.fvecs');
}

/** An .ivecs file (int32 rows, e.g. ground-truth neighbour ids) as a (n, d) Int32Array matrix. */
export function readIvecs(src: string | Uint8Array): VecsMatrix<Int32Array> {
  return readVecs(src, Int32Array, '.ivecs');
}

/** A .bvecs file (uint8 rows, e.g. SIFT1B) as a (n, d) Uint8Array matrix. */
export function readBvecs(src: string | Uint8Array): VecsMatrix<Uint8Array> {
  return readVecs(src, Uint8Array, '.bvecs');
}

/** Writes float32 rows as .fvecs; matrix is any MatrixLike. */
export function writeFvecs(dst: string, matrix: MatrixLike): void {
  checkPath(dst, 'dst');
  const { data, rows, cols } = toMatrix(matrix, 'matrix', undefined, false);
  writeVecs(dst, { data, shape: [rows, cols] });
}

/** Writes a {data: Int32Array, shape: [n, d]} as .ivecs. */
export function writeIvecs(dst: string, matrix: VecsMatrix<Int32Array>): void {
  checkPath(dst, 'dst');
  writeVecs(dst, typedMatrix(matrix, Int32Array));
}

/** Writes a {data: Uint8Array, shape: [n, d]} as .bvecs. */
export function writeBvecs(dst: string, matrix: VecsMatrix<Uint8Array>): void {
  checkPath(dst, 'dst');
  writeVecs(dst, typedMatrix(matrix, Uint8Array));
}
