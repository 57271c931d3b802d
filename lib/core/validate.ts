// The one place where user input is checked and brought to the shape the
// native layer reads: argument checks, value limits, matrices, vectors, codes.
import { types } from 'node:util';

import type { CodeArray, CodeMatrix, Metric } from './arrays';
import { codeDtypeFor, newCodeArray } from './arrays';
import { native } from './native';

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of length ${(value as Float32Array).length}`;
  if (typeof value === 'object') return `an object with keys [${Object.keys(value as object).join(', ')}]`;
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'bigint') return `${value}n`;
  return String(value);
}

/** Hex digits of a model's fingerprint (models/fingerprint.ts): 64 bits of sha256. */
export const FINGERPRINT_DIGITS = 16;
const FINGERPRINT = new RegExp(`^[0-9a-f]{${FINGERPRINT_DIGITS}}$`);

/** Whether text is a model's fingerprint: 16 lowercase hex digits. */
export function isFingerprint(text: string): boolean {
  return FINGERPRINT.test(text);
}

/** A model's fingerprint, given or read from a file (name: where, for the error): 16 lowercase hex digits. */
export function checkFingerprint(value: unknown, name: string): string {
  if (typeof value !== 'string' || !isFingerprint(value)) {
    throw new TypeError(`Expected ${name} to be a fingerprint of ${FINGERPRINT_DIGITS} hex digits (0-9, a-f), got ${describe(value)}`);
  }
  return value;
}

/** How many of n a top-k search returns: k (an integer >= 1, <= max) clamped to n. */
export function kFound(k: unknown, n: number, max = Number.MAX_SAFE_INTEGER): number {
  return Math.min(checkInteger(k, 'k', 1, max), n);
}

export function checkInteger(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`Expected an integer for ${name}, got ${describe(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`Expected ${min} <= ${name} <= ${max}, got ${value}`);
  }
  return value;
}

export function checkNumber(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`Expected a number for ${name}, got ${describe(value)}`);
  if (value < min || value > max) throw new RangeError(`Expected ${min} <= ${name} <= ${max}, got ${value}`);
  return value;
}

/** The names an option may take, as messages list them: `'a', 'b' or 'c'`. */
export function listNames(names: readonly string[]): string {
  const quoted = names.map((n) => `'${n}'`);
  return quoted.length > 1 ? `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}` : quoted.join('');
}

/** value, one of the names the option may take (the addon's list, native.names), or a TypeError listing them. */
export function checkName<T extends string>(value: unknown, option: keyof typeof native.names, name: string = option): T {
  const names = native.names[option];
  if (typeof value !== 'string' || !names.includes(value)) {
    throw new TypeError(`Expected ${listNames(names)} for ${name}, got ${describe(value)}`);
  }
  return value as T;
}

export function checkMetric(value: unknown, name = 'metric'): Metric {
  return checkName<Metric>(value, 'metric', name);
}

/** A file path: a number would name a file descriptor (0 is stdin). */
export function checkPath(path: unknown, name = 'path'): string {
  if (typeof path !== 'string' || path === '') throw new TypeError(`Expected a file path (string) for ${name}, got ${describe(path)}`);
  return path;
}

/** Throws on options the function does not know, so a misspelling is not silently ignored. */
export function checkOptions(options: unknown, known: readonly string[], where: string): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`Expected an options object for ${where}, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      const near = known.find((k) => k.toLowerCase() === key.toLowerCase());
      throw new TypeError(`Unknown option "${key}" for ${where}` +
        (near ? `; did you mean "${near}"?` : `; expected one of ${known.join(', ')}`));
    }
  }
  return options as Record<string, unknown>;
}

/** name.shape as integers >= min, one per dimension named in dims. */
export function checkShape(shape: unknown, dims: readonly string[], name: string, min = 0): number[] {
  if (!Array.isArray(shape) || shape.length !== dims.length || !shape.every((s) => Number.isInteger(s) && s >= min)) {
    const kind = min > 0 ? 'positive' : 'non-negative';
    const got = Array.isArray(shape) ? `[${shape.map((v) => (typeof v === 'number' ? String(v) : describe(v))).join(',')}]` : describe(shape);
    throw new TypeError(`Expected ${name}.shape to be [${dims.join(', ')}] of ${kind} integers, got ${got}`);
  }
  return shape;
}

/**
 * The largest magnitude a vector component may have (1e15): squared
 * distances of larger ones overflow float32 inside Faiss (which then asserts,
 * aborting the process) or lose all precision. The addon's, which its own
 * checks of transformed vectors use too.
 */
export const MAX_ABS_VALUE = native.limits.maxAbsValue;

/**
 * The largest magnitude of a codeword or centroid given by the user: room for
 * codewords trained on data within MAX_ABS_VALUE and rotated (OPQ: up to
 * sqrt(D) larger), with squared distances that still fit float32.
 */
export const MAX_ABS_CODEWORD = 1e17;

/**
 * The largest finite float32 (as a limit of the native checks, Number.MAX_VALUE
 * would arrive as Infinity and let infinities pass).
 */
export const FLT_MAX = 3.4028234663852886e38;

/**
 * The one check of vector values, for every call, sync or async, on the memory
 * the native call will read (an async call's copy: lib/core/async.ts): a
 * RangeError naming the first NaN, infinity or value beyond limit in
 * magnitude. data holds rows of cols values; data[0] is value `offset` of
 * the argument name (a piece of it).
 */
export function checkValues(data: Float32Array, name: string, cols: number, limit = MAX_ABS_VALUE, offset = 0): void {
  checkedCopy(data, undefined, name, cols, limit, offset);
}

/** checkValues of data, copied into copy (of data's length, when given) in the same pass; the copy is what is checked. */
export function checkedCopy(data: Float32Array, copy: Float32Array | undefined, name: string, cols: number,
  limit = MAX_ABS_VALUE, offset = 0): void {
  const i = native.firstOutOfRange(data, limit, copy);
  if (i < 0) return;
  data = copy ?? data;
  const at = offset + i;
  const where = cols > 0 ? `${name}[${Math.floor(at / cols)}][${at % cols}]` : `${name}[${at}]`;
  if (!Number.isFinite(data[i])) throw new RangeError(`Expected finite values in ${name}, got ${data[i]} at ${where}`);
  throw new RangeError(`Expected values of magnitude <= ${limit} in ${name}, got ${data[i]} at ${where}`);
}

/**
 * Whether view's memory is a SharedArrayBuffer's, which another thread may
 * write while a native call reads it (asked of V8: realms have their own class).
 */
export function isShared(view: ArrayBufferView): boolean {
  return types.isSharedArrayBuffer(view.buffer);
}

/**
 * data, or a copy of it when its memory is shared: a native call checks
 * values (codes in range, magnitudes) and then reads them again, which is
 * only safe in memory no other thread writes.
 */
export function unshared<T extends Float32Array | CodeArray>(data: T): T {
  return isShared(data) ? (data.slice() as T) : data;
}

/** Throws a TypeError unless out shares no memory with any of inputs (name: array): a native call writes out while it reads them. */
export function checkNoOverlap(out: ArrayBufferView, outName: string, inputs: Record<string, ArrayBufferView>): void {
  for (const [name, input] of Object.entries(inputs)) {
    if (input.buffer === out.buffer && input.byteOffset < out.byteOffset + out.byteLength &&
        out.byteOffset < input.byteOffset + input.byteLength) {
      throw new TypeError(`Expected ${outName} to share no memory with ${name}`);
    }
  }
}

/** A {data, shape: [rows, cols]} whose data is a Type of rows * cols elements, used in place. */
export function checkMatrix<T extends ArrayLike<unknown>>(x: unknown, name: string, Type: abstract new (...args: never[]) => T):
  { data: T; rows: number; cols: number } {
  if (x === null || typeof x !== 'object') throw new TypeError(`Expected ${name} to be a {data: ${Type.name}, shape: [rows, cols]}, got ${describe(x)}`);
  const { data, shape } = x as { data?: unknown; shape?: unknown };
  if (!(data instanceof Type)) throw new TypeError(`Expected ${name}.data to be ${/^[AEIOU]/.test(Type.name) ? 'an' : 'a'} ${Type.name}, got ${describe(data)}`);
  const [rows, cols] = checkShape(shape, ['rows', 'cols'], name);
  if (data.length !== rows * cols) {
    throw new RangeError(`Expected ${name}.data.length to be rows * cols = ${rows * cols} for shape [${rows}, ${cols}], got ${data.length}`);
  }
  return { data, rows, cols };
}

/** A checked matrix; `owned` when data is a copy made here, which no one else can reach. */
export interface CheckedMatrix { data: Float32Array; rows: number; cols: number; owned: boolean }

/**
 * A row-major matrix (rows, cols) with finite values; Matrix data is used in
 * place, unless shared (see unshared). With checkValuesNow false, the values
 * are left to the async call, which checks the pieces it copies
 * (lib/core/async.ts), so as not to stall the event loop.
 */
export function toMatrix(x: unknown, name: string, cols?: number, checkValuesNow = true): CheckedMatrix {
  let data: Float32Array;
  let rows: number;
  let width: number;
  let owned = true;
  if (Array.isArray(x)) {
    rows = x.length;
    width = rows > 0 && (Array.isArray(x[0]) || x[0] instanceof Float32Array) ? x[0].length : (cols ?? 0);
    data = new Float32Array(rows * width);
    for (let i = 0; i < rows; i++) {  // an index loop, so holes are seen
      const row = x[i];
      if (!Array.isArray(row) && !(row instanceof Float32Array)) {
        throw new TypeError(`Expected ${name}[${i}] to be a number[] or Float32Array, got ${describe(row)}`);
      }
      if (row.length !== width) {
        throw new RangeError(`Expected every row of ${name} to have length ${width} (as ${name}[0]), got ${row.length} at ${name}[${i}]`);
      }
      for (let j = 0; j < width; j++) {
        if (typeof row[j] !== 'number') {
          throw new TypeError(`Expected a number at ${name}[${i}][${j}], got ${describe(row[j])}`);
        }
      }
      data.set(row, i * width);
    }
  } else if (x !== null && typeof x === 'object' && 'data' in x && 'shape' in x) {
    ({ data, rows, cols: width } = checkMatrix(x, name, Float32Array));
    const given = data;
    data = unshared(data);
    owned = data !== given;
  } else {
    throw new TypeError(`Expected ${name} to be a {data: Float32Array, shape: [rows, cols]}, number[][] or Float32Array[], got ${describe(x)}`);
  }
  if (cols !== undefined && width !== cols) {
    throw new RangeError(`Expected ${name} to have ${cols} columns (D), got shape [${rows}, ${width}]`);
  }
  if (checkValuesNow) checkValues(data, name, width);
  return { data, rows, cols: width, owned };
}

/** A finite vector of length D; a Float32Array is used in place, unless shared. */
export function toVector(x: unknown, name: string, D: number): Float32Array {
  let data: Float32Array;
  if (x instanceof Float32Array) {
    data = unshared(x);
  } else if (Array.isArray(x) && Array.from(x).every((v) => typeof v === 'number')) {
    data = Float32Array.from(x);
  } else {
    throw new TypeError(`Expected ${name} to be a Float32Array or number[], got ${describe(x)}`);
  }
  if (data.length !== D) {
    throw new RangeError(`Expected ${name} to have length ${D} (D), got ${data.length}`);
  }
  checkValues(data, name, 0);
  return data;
}

/**
 * An (N, M) code matrix; typed codes are used in place (their range is checked
 * natively), unless shared; `owned` when data is a copy made here.
 */
export function toCodes(codes: unknown, name: string, M: number, Ks: number): { data: CodeArray; rows: number; owned: boolean } {
  if (Array.isArray(codes)) {
    const data = newCodeArray(codeDtypeFor(Ks), codes.length * M);
    for (let i = 0; i < codes.length; i++) {  // an index loop, so holes are seen
      const row = codes[i];
      if (!Array.isArray(row) || row.length !== M) {
        throw new RangeError(`Expected ${name}[${i}] to be an array of M = ${M} codes, got ${describe(row)}`);
      }
      for (let m = 0; m < M; m++) {
        const c = row[m];
        if (!Number.isInteger(c) || c < 0 || c >= Ks) {
          throw new RangeError(`Expected integer codes in [0, Ks = ${Ks}) in ${name}, got ${describe(c)} at ${name}[${i}][${m}]`);
        }
        data[i * M + m] = c;
      }
    }
    return { data, rows: codes.length, owned: true };
  }
  if (codes !== null && typeof codes === 'object' && 'data' in codes && 'shape' in codes) {
    const c = codes as CodeMatrix;
    if (!(c.data instanceof Uint8Array || c.data instanceof Uint16Array || c.data instanceof Uint32Array)) {
      throw new TypeError(`Expected ${name}.data to be a Uint8Array, Uint16Array or Uint32Array, got ${describe(c.data)}`);
    }
    const [rows, cols] = checkShape(c.shape, ['N', 'M'], name);
    if (cols !== M) throw new RangeError(`Expected ${name} to have M = ${M} columns, got shape [${rows}, ${cols}]`);
    if (c.data.length !== rows * cols) {
      throw new RangeError(`Expected ${name}.data.length to be N * M = ${rows * cols} for shape [${rows}, ${cols}], got ${c.data.length}`);
    }
    const data = unshared(c.data);
    return { data, rows, owned: data !== c.data };
  }
  throw new TypeError(`Expected ${name} to be a {data: Uint8Array | Uint16Array | Uint32Array, shape: [N, M]} or number[][], got ${describe(codes)}`);
}
