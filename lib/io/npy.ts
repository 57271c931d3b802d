// NumPy's .npy format (numpy.lib.format): a magic, a version, a header that
// is a Python dict literal ({'descr': '<f4', 'fortran_order': False,
// 'shape': (3, 4), }), then the data. Ours, not npyjs: that one finds the
// header's fields by regular expression, ignores fortran_order and never
// checks the data's length against the shape.
import * as fs from 'node:fs';
import { checkPath, describe } from '../core/validate';
import { Reader, readerFor, TypedArrayType } from './reader';

export type NpyDtype = 'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64';
/** What readNpy returns as data: float64 is read as float32. */
export type NpyData = Float32Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;
export type NpyWritable = NpyData | Float64Array;

export interface NpyArray {
  /** Row-major (C order) values; float64 files are read as float32. */
  data: NpyData;
  shape: number[];
  /** The dtype stored in the file ('float64' where data holds it as float32). */
  dtype: NpyDtype;
}

const DTYPES: Record<string, [NpyDtype, TypedArrayType<NpyWritable>]> = {
  f4: ['float32', Float32Array], f8: ['float64', Float64Array],
  i1: ['int8', Int8Array], u1: ['uint8', Uint8Array], i2: ['int16', Int16Array], u2: ['uint16', Uint16Array],
  i4: ['int32', Int32Array], u4: ['uint32', Uint32Array], i8: ['int64', BigInt64Array], u8: ['uint64', BigUint64Array],
};
const SUPPORTED = Object.values(DTYPES).map(([name]) => name).join(', ');
const MAGIC = '\x93NUMPY';
const KEYS = ['descr', 'fortran_order', 'shape'];
const HEADER = "a .npy header dict {'descr': ..., 'fortran_order': ..., 'shape': (...)}";

type PyValue = string | boolean | number[];

/** The header's dict literal, parsed as the Python literal it is, not pattern-matched. */
function parseHeader(text: string, r: Reader): Record<string, PyValue> {
  const space = /\s*/y;
  const tokens = /'([^'\\]*)'|"([^"\\]*)"|(True|False)|(-?\d+)L?|([{}():,[])/y;
  let at = 0;
  let tokenStart = 0;  // where the token read last (or the text that is none) begins: errors point there
  const fail = (why: string) => r.error(HEADER, `${why} at character ${tokenStart}: ${JSON.stringify(text.slice(tokenStart, tokenStart + 30).trimEnd())}`);
  const next = () => {
    space.lastIndex = at;
    space.exec(text);
    tokenStart = tokens.lastIndex = space.lastIndex;
    const m = tokens.exec(text);
    if (!m) throw fail('unexpected text');
    at = tokens.lastIndex;
    const [, single, double, bool, int, punct] = m;
    return { str: single ?? double, bool, int, punct };
  };
  const punct = (p: string) => { if (next().punct !== p) throw fail(`no '${p}'`); };
  const value = (): PyValue => {
    const t = next();
    if (t.str !== undefined) return t.str;
    if (t.bool) return t.bool === 'True';
    if (t.punct === '[') throw fail('a structured dtype, which is not supported');
    if (t.punct !== '(') throw fail('no string, True, False or tuple');
    const tuple: number[] = [];
    for (let t = next(); t.punct !== ')'; t = next()) {
      if (t.int === undefined) throw fail('a tuple entry that is not an integer');
      tuple.push(Number(t.int));
      t = next();
      if (t.punct === ')') break;
      if (t.punct !== ',') throw fail("no ',' or ')'");
    }
    return tuple;
  };
  const dict: Record<string, PyValue> = Object.create(null);
  punct('{');
  for (let t = next(); t.punct !== '}'; t = next()) {
    if (t.str === undefined || !KEYS.includes(t.str) || t.str in dict) throw fail(`a key that is not one of ${KEYS.join(', ')} or is repeated`);
    const key = t.str;
    punct(':');
    dict[key] = value();
    t = next();
    if (t.punct === '}') break;
    if (t.punct !== ',') throw fail("no ',' or '}'");
  }
  const missing = KEYS.filter((k) => !(k in dict));
  if (missing.length > 0) throw fail(`no key ${missing.map((k) => `'${k}'`).join(', ')}`);
  space.lastIndex = at;
  space.exec(text);
  tokenStart = space.lastIndex;
  if (tokenStart < text.length) throw fail('text after the dict');
  return dict;
}

export interface NpyHeader {
  dtype: NpyDtype;
  Type: TypedArrayType<NpyWritable>;
  shape: number[];
  /** The bytes of data the shape takes. */
  dataBytes: number;
}

/**
 * The magic, version and header dict of a .npy file, checked; r is left at
 * the data. For readers that stream the data rather than read it whole.
 */
export function readNpyHeader(r: Reader): NpyHeader {
  const magic = r.text(Math.min(6, r.left), 'the magic');
  if (magic !== MAGIC) {
    const zip = magic.startsWith('PK') ? ' (a zip archive: an .npz holds .npy files, unzip it first)' : '';
    throw r.error('the .npy magic "\\x93NUMPY"', `${JSON.stringify(magic)}${zip}`);
  }
  const major = r.u8('the major version');
  const minor = r.u8('the minor version');
  if (major < 1 || major > 3 || minor !== 0) throw r.error('.npy format version 1.0, 2.0 or 3.0', `${major}.${minor}`, 6);
  const headerLength = major === 1 ? r.u16('the header length') : r.u32('the header length');
  const header = r.text(headerLength, 'a .npy header', major === 3 ? 'utf8' : 'latin1');
  const { descr, fortran_order: fortranOrder, shape } = parseHeader(header, r);

  const parts = typeof descr === 'string' ? /^([<>|=])([a-zA-Z]\d*)$/.exec(descr) : null;
  const dtype = parts ? DTYPES[parts[2]] : undefined;
  if (!dtype) {
    const what = parts?.[2] === 'O' ? ' (Python objects)' : '';
    throw r.error(`a dtype this reader supports (${SUPPORTED})`, `descr ${typeof descr === 'string' ? `'${descr}'${what}` : describe(descr)}`);
  }
  const [name, Type] = dtype;
  if (parts![1] === '>' && Type.BYTES_PER_ELEMENT > 1) {
    throw r.error('little-endian data', `big-endian '${descr}' (save a.astype('<${parts![2]}') instead)`);
  }
  if (typeof fortranOrder !== 'boolean') throw r.error('True or False for fortran_order', describe(fortranOrder));
  if (!Array.isArray(shape) || !shape.every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw r.error('a shape of integers 0 to 2**53 - 1', Array.isArray(shape) ? `(${shape.join(', ')})` : describe(shape));
  }
  if (fortranOrder && shape.length > 1) {
    throw r.error('C-order data', `Fortran order for shape (${shape.join(', ')}) (save np.ascontiguousarray(a) instead)`);
  }
  return { dtype: name, Type, shape, dataBytes: shape.reduce((a, b) => a * b, Type.BYTES_PER_ELEMENT) };
}

/**
 * Reads a .npy file (versions 1.0, 2.0 and 3.0) of a C-order, little-endian
 * array of float32, float64, int8, uint8, int16, uint16, int32, uint32, int64
 * (BigInt64Array) or uint64 (BigUint64Array). float64 is read as float32,
 * the precision the models use (dtype still says 'float64'). Fortran order,
 * big-endian data and other dtypes (objects, strings, structured, complex,
 * float16, bool) are refused with a TypeError naming them.
 */
export function readNpy(src: string | Uint8Array): NpyArray {
  const r = readerFor(src);
  const { dtype, Type, shape, dataBytes } = readNpyHeader(r);
  if (dataBytes !== r.left) {
    throw r.error(`${dataBytes} bytes of ${dtype} data for shape (${shape.join(', ')})`, `${r.left} bytes`, r.offset);
  }
  const data = r.array(Type, dataBytes / Type.BYTES_PER_ELEMENT, 'the data');
  return { data: data instanceof Float64Array ? new Float32Array(data) : data, shape, dtype };
}

/**
 * The header numpy.save writes before a C-order array of dtype and shape:
 * version 1.0 (2.0 if it does not fit), padded so that the data starts at a
 * multiple of 64 bytes. (Also for files written a block at a time.)
 */
export function npyHeader(dtype: NpyDtype, shape: readonly number[]): Uint8Array {
  const [code, [, Type]] = Object.entries(DTYPES).find(([, [name]]) => name === dtype)!;
  const descr = `${Type.BYTES_PER_ELEMENT > 1 ? '<' : '|'}${code}`;
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${tuple}, }`;
  // numpy leaves room for the first dimension to grow to 21 digits, so a file can be appended to in place.
  if (shape.length > 0) dict += ' '.repeat(21 - String(shape[0]).length);
  const pad = (prefix: number) => dict + ' '.repeat(64 - ((prefix + dict.length + 1) % 64)) + '\n';
  const prefix = pad(10).length <= 0xffff ? 10 : 12;
  const padded = pad(prefix);
  const head = Buffer.alloc(prefix + padded.length);
  head.write(MAGIC, 0, 'latin1');
  head[6] = prefix === 10 ? 1 : 2;
  if (prefix === 10) head.writeUInt16LE(padded.length, 8);
  else head.writeUInt32LE(padded.length, 8);
  head.write(padded, prefix, 'latin1');
  return head;
}

/**
 * Writes data (row-major, shape) as numpy.save does: a version 1.0 header
 * (2.0 if it does not fit) padded so the data starts at a multiple of 64 bytes.
 */
export function writeNpy(dst: string, data: NpyWritable, shape: number[]): void {
  checkPath(dst, 'dst');
  const dtype = Object.values(DTYPES).find(([, Type]) => data instanceof Type)?.[0];
  if (!dtype) throw new TypeError(`Expected a typed array of a .npy dtype (${SUPPORTED}) for data, got ${describe(data)}`);
  if (!Array.isArray(shape) || !shape.every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw new TypeError(`Expected shape to be an array of integers 0 to 2**53 - 1, got ${describe(shape)}`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) {
    throw new RangeError(`Expected data.length to be the product of shape [${shape.join(', ')}] = ${count}, got ${data.length}`);
  }
  const head = npyHeader(dtype, shape);
  const fd = fs.openSync(dst, 'w');
  try {
    // writeFileSync on a descriptor writes all of it, where one writeSync stops at 2 GiB.
    fs.writeFileSync(fd, head);
    fs.writeFileSync(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  } finally {
    fs.closeSync(fd);
  }
}
