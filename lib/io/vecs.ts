// The TEXMEX formats of the SIFT/GIST benchmarks: each row is its dimension
// d (int32, little-endian), then d values: float32 (.fvecs), int32 (.ivecs)
// or uint8 (.bvecs). Every row must have the same d.
import * as fs from 'node:fs';
import { Matrix, MatrixLike } from '../core/arrays';
import { checkMatrix, checkPath, toMatrix } from '../core/validate';
import { Reader, readerFor, TypedArrayType } from './reader';

type VecsArray = Float32Array | Int32Array | Uint8Array;
export interface VecsMatrix<T extends VecsArray> { data: T; shape: [number, number] }

const MAX_DIM = 2 ** 31 - 1;

/** Row 0's d, read by r at byte 0 of a file of the format ('.fvecs'...), and the bytes of each row: 4 + d values of Type. */
export function vecsRow(r: Reader, Type: TypedArrayType<VecsArray>, format: string): { d: number; rowBytes: number } {
  const d = r.i32('the dimension of row 0');
  r.expect(d >= 1, `a dimension d >= 1 for row 0 of a ${format} file`, String(d));
  return { d, rowBytes: 4 + d * Type.BYTES_PER_ELEMENT };
}

/** The number of rows in size bytes: an error pointing at the last row unless they are whole rows. */
export function wholeRows(r: Reader, size: number, d: number, rowBytes: number, format: string): number {
  const rows = Math.floor(size / rowBytes);
  const at = rows * rowBytes;
  if (at !== size) throw r.error(`row ${rows} of ${rowBytes} bytes (d = ${d}) of a ${format} file`, `${size - at} bytes left`, at);
  return rows;
}

/**
 * The values of the rows in r's bytes, rows first, first + 1... of the file
 * (errors give the file's rows and offsets). Every row's d is checked before
 * the data is allocated: a ragged file is found by its first odd row.
 */
export function vecsValues<T extends VecsArray>(r: Reader, Type: TypedArrayType<T>, d: number, format: string, first = 0): T {
  const { bytes } = r;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const valueBytes = d * Type.BYTES_PER_ELEMENT;
  const rowBytes = 4 + valueBytes;
  const rows = Math.floor(bytes.length / rowBytes);
  for (let i = 0; i < rows; i++) {
    const di = view.getInt32(i * rowBytes, true);
    if (di !== d) throw r.error(`d = ${d} (as row 0 of a ${format} file) for row ${first + i}`, `d = ${di}`, (first + i) * rowBytes);
  }
  wholeRows(r, bytes.length, d, rowBytes, format);
  const data = new Type(rows * d);
  const out = new Uint8Array(data.buffer);
  for (let i = 0, at = 4; i < rows; i++, at += rowBytes) out.set(bytes.subarray(at, at + valueBytes), i * valueBytes);
  return data;
}

function readVecs<T extends VecsArray>(src: unknown, Type: TypedArrayType<T>, format: string): VecsMatrix<T> {
  const r = readerFor(src);
  if (r.left === 0) return { data: new Type(0), shape: [0, 0] };
  const { d } = vecsRow(r, Type, format);
  const data = vecsValues(r, Type, d, format);
  return { data, shape: [data.length / d, d] };
}

function writeVecs(dst: string, { data, rows, cols: d }: { data: VecsArray; rows: number; cols: number }): void {
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
  writeVecs(dst, toMatrix(matrix, 'matrix', undefined, false));
}

/** Writes a {data: Int32Array, shape: [n, d]} as .ivecs. */
export function writeIvecs(dst: string, matrix: VecsMatrix<Int32Array>): void {
  checkPath(dst, 'dst');
  writeVecs(dst, checkMatrix(matrix, 'matrix', Int32Array));
}

/** Writes a {data: Uint8Array, shape: [n, d]} as .bvecs. */
export function writeBvecs(dst: string, matrix: VecsMatrix<Uint8Array>): void {
  checkPath(dst, 'dst');
  writeVecs(dst, checkMatrix(matrix, 'matrix', Uint8Array));
}
