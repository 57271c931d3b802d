// Vectors and codes in the files the command line takes: .npy, .fvecs,
// .bvecs and IDX ((Fashion-)MNIST, gzipped or not), read whole through io,
// or a block of rows at a time (encode), so that a file larger than memory
// is read in bounded memory. Codes are written as .npy a block at a time too,
// with the fingerprint of their model in a sidecar file beside them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CodeDtype, CodeMatrix, Matrix } from '../core/arrays';
import { checkFingerprint } from '../core/validate';
import * as io from '../io';
import { npyHeader, readNpyHeader } from '../io/npy';
import { Reader, TypedArrayType } from '../io/reader';
import { vecsRow, vecsValues, wholeRows } from '../io/vecs';

export type VectorFormat = 'npy' | 'fvecs' | 'bvecs' | 'idx';

export function vectorFormatOf(file: string): VectorFormat {
  const name = path.basename(file).toLowerCase().replace(/\.gz$/, '');
  if (/idx\d+-ubyte$|\.idx\d*$/.test(name)) return 'idx';
  const ext = path.extname(name);
  if (ext === '.npy' || ext === '.fvecs' || ext === '.bvecs') return ext.slice(1) as VectorFormat;
  throw new Error(`Expected a vectors file ending in .npy, .fvecs, .bvecs or -idx3-ubyte (optionally .gz) for ${file}, got '${path.basename(file)}'`);
}

/** Rows of any numeric type as float32, the models' precision (exact for integers below 2**24). */
function toFloat32(data: ArrayLike<number> & { length: number }): Float32Array {
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

/** A .npy array as an (n, d) matrix: a 1-D array is one vector. */
function npyMatrix(file: string, shape: number[], dtype: string): [number, number] {
  if (dtype === 'int64' || dtype === 'uint64') {
    throw new TypeError(`Expected vectors of a float or 8- to 32-bit integer dtype in ${file}, got ${dtype}`);
  }
  if (shape.length === 1) return [1, shape[0]];
  if (shape.length !== 2) throw new RangeError(`Expected a 2-D array (n, d) of vectors in ${file}, got shape (${shape.join(', ')})`);
  return [shape[0], shape[1]];
}

/** The whole file as a float32 (n, d) matrix. */
export function readVectors(file: string): Matrix {
  switch (vectorFormatOf(file)) {
    case 'npy': {
      const { data, shape, dtype } = io.readNpy(file);
      const [n, d] = npyMatrix(file, shape, dtype);
      return { data: toFloat32(data as Float32Array), shape: [n, d] };
    }
    case 'fvecs': return io.readFvecs(file);
    case 'bvecs': {
      const { data, shape } = io.readBvecs(file);
      return { data: toFloat32(data), shape };
    }
    case 'idx': {
      const { data, shape } = io.readIdx(file);
      return { data, shape };
    }
  }
}

/** Codes (n, M) of uint8, uint16 or uint32 from a .npy file. */
export function readCodes(file: string): CodeMatrix {
  if (path.extname(file).toLowerCase() !== '.npy') throw new Error(`Expected codes in a .npy file for ${file}`);
  const { data, shape, dtype } = io.readNpy(file);
  if (!(data instanceof Uint8Array || data instanceof Uint16Array || data instanceof Uint32Array)) {
    throw new TypeError(`Expected codes of dtype uint8, uint16 or uint32 in ${file}, got ${dtype} (save codes.astype(np.uint8) or np.uint16)`);
  }
  if (shape.length !== 2) throw new RangeError(`Expected a 2-D array (n, M) of codes in ${file}, got shape (${shape.join(', ')})`);
  return { data, shape: [shape[0], shape[1]] };
}

/**
 * The sidecar of codes in file: a one-line text file that names, by its
 * fingerprint, the model that encoded them. Beside the .npy, not in it:
 * numpy's header refuses keys of its own (a .npk holds it in its header).
 */
export const sidecarOf = (file: string): string => `${file}.fingerprint`;

/** The fingerprint in the sidecar of the codes in file; null when there is none (codes of no known model, taken unchecked). */
export function readSidecar(file: string): string | null {
  const sidecar = sidecarOf(file);
  const stat = fs.statSync(sidecar, { throwIfNoEntry: false });
  if (!stat) return null;
  // One short line: a large file that happens to have this name is refused, not read.
  if (!stat.isFile() || stat.size > 64) {
    throw new Error(`Expected ${sidecar} to be the one-line fingerprint of the model that encoded ${file}, got ${stat.isFile() ? `a file of ${stat.size} bytes` : 'no regular file'}`);
  }
  return checkFingerprint(fs.readFileSync(sidecar, 'latin1').trim(), `the line in ${sidecar}`);
}

/** Writes the sidecar (to file, a temporary name of it): the fingerprint and a newline. */
export function writeSidecar(file: string, fingerprint: string): void {
  fs.writeFileSync(file, `${fingerprint}\n`);
}

// ------------------------------------------------------------ streaming --

/** A vectors file opened for reading rows in blocks. */
export interface VectorSource {
  readonly shape: [number, number];
  /** Rows [start, start + count) as float32. */
  read(start: number, count: number): Float32Array;
  close(): void;
}

type NumericType = TypedArrayType<Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array>;

function readAt(fd: number, into: ArrayBufferView, position: number, file: string): void {
  const bytes = new Uint8Array(into.buffer, into.byteOffset, into.byteLength);
  let done = 0;
  while (done < bytes.length) {
    const n = fs.readSync(fd, bytes, done, bytes.length - done, position + done);
    if (n === 0) throw new Error(`Expected ${bytes.length} bytes at byte ${position} of ${file}, got ${done}: the file is shorter than its header says`);
    done += n;
  }
}

/**
 * A .npy file of vectors, from its header, read through io's reader from the
 * file's first bytes (io.readNpy reads whole files; encode streams): where
 * the data starts, its element type, and its rows and columns.
 */
function npyHeaderOf(fd: number, size: number, file: string): { offset: number; Type: NumericType; rows: number; cols: number } {
  const head = Buffer.alloc(Math.min(size, 1 << 20));  // far more than any header of a 2-D array
  readAt(fd, head, 0, file);
  const r = new Reader(head, file);
  const { Type, shape, dtype, dataBytes } = readNpyHeader(r);
  const [rows, cols] = npyMatrix(file, shape, dtype);  // 64-bit integers refused here
  if (size - r.offset !== dataBytes) throw r.error(`${dataBytes} bytes of ${dtype} data for shape (${shape.join(', ')})`, `${size - r.offset} bytes`, r.offset);
  return { offset: r.offset, Type: Type as NumericType, rows, cols };
}

/**
 * Opens a vectors file for reading in blocks: .npy and .fvecs/.bvecs are read
 * where the rows are, with only the block in memory; IDX is read whole (it
 * is usually gzipped, and MNIST-sized).
 */
export function openVectors(file: string): VectorSource {
  const format = vectorFormatOf(file);
  if (format === 'idx') {
    const { data, shape } = readVectors(file);
    return { shape, read: (start, count) => data.subarray(start * shape[1], (start + count) * shape[1]), close() {} };
  }
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (format === 'npy') {
      const { offset, Type, rows, cols } = npyHeaderOf(fd, size, file);
      const rowBytes = cols * Type.BYTES_PER_ELEMENT;
      return {
        shape: [rows, cols],
        read(start, count) {
          const block = new Type(count * cols);
          readAt(fd, block, offset + start * rowBytes, file);
          return toFloat32(block);
        },
        close: () => fs.closeSync(fd),
      };
    }
    // TEXMEX: each row is its dimension (int32), then its values, checked as io checks them.
    if (size === 0) return { shape: [0, 0], read: () => new Float32Array(0), close: () => fs.closeSync(fd) };
    const Type: TypedArrayType<Float32Array | Uint8Array> = format === 'fvecs' ? Float32Array : Uint8Array;
    const ext = `.${format}`;
    const head = new Reader(Buffer.alloc(Math.min(size, 4)), file);
    readAt(fd, head.bytes, 0, file);
    const { d, rowBytes } = vecsRow(head, Type, ext);
    const rows = wholeRows(head, size, d, rowBytes, ext);
    return {
      shape: [rows, d],
      read(start, count) {
        const raw = new Uint8Array(count * rowBytes);
        readAt(fd, raw, start * rowBytes, file);
        return toFloat32(vecsValues(new Reader(raw, file), Type, d, ext, start));
      },
      close: () => fs.closeSync(fd),
    };
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/** A .npy file of (rows, M) codes written a block at a time: the header first (the row count is known), then the rows in order. */
export class CodesWriter {
  #fd: number;
  constructor(readonly file: string, dtype: CodeDtype, rows: number, M: number) {
    this.#fd = fs.openSync(file, 'w');
    fs.writeFileSync(this.#fd, npyHeader(dtype, [rows, M]));
  }

  write(codes: CodeMatrix): void {
    const { data } = codes;
    fs.writeFileSync(this.#fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  close(): void {
    fs.closeSync(this.#fd);
  }
}
