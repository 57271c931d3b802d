// Pickles of Python nanopq 0.2's PQ and OPQ (pickle.dump, protocols 2 to 5),
// read into and written from a model's plain fields (models/pickle.ts makes
// the model).
//
// Reading: the npm package pickleparser runs the pickle, with globals resolved
// by us: only the numpy and nanopq names such a pickle holds, each to a
// function that records its arguments and calls nothing. pickleparser trusts
// the lengths in the file (a negative BINBYTES length moves its reader
// backwards: a 7-byte file loops for ever), so the opcodes are first walked
// here with the bounded reader, which checks every length against the bytes
// left and refuses opcodes no nanopq pickle holds. Arrays are decoded only
// after parsing, for the two attributes that hold them, from bytes that the
// file holds: nothing is allocated from a size the file claims.
//
// Writing: no npm package writes pickles; this one writes protocol 3 (BINBYTES
// for the array data) with numpy.core.multiarray._reconstruct, which numpy 1
// and numpy 2 both load, and the __dict__ that nanopq 0.2 sets.
import * as fs from 'node:fs';
import { BufferReader, Parser } from 'pickleparser';
import { CodeDtype, codeDtypeFor, Metric } from '../core/arrays';
import { native } from '../core/native';
import { checkOptions, checkPath, describe, listNames } from '../core/validate';
import type { ModelFields } from './model-fields';
import { Reader, readerFor } from './reader';

export interface ReadPickleOptions {
  /**
   * The out-of-band buffers of a protocol 5 pickle written with a
   * buffer_callback, in the order the callback got them. Without one, such
   * a pickle is refused, as Python's pickle.load refuses it.
   */
  buffers?: readonly Uint8Array[];
}

// ---------------------------------------------------------------- opcodes --

/**
 * More opcodes than a nanopq pickle holds (an OPQ at protocol 2 has about
 * 150, whatever its size: each array's data is one opcode). The limit bounds
 * what pickleparser builds beside the file's bytes (a tuple or dict per
 * opcode at most) and its time: a memoized tuple can be spread or assigned
 * again by each later opcode, which without a limit is quadratic in the size.
 */
const MAX_OPCODES = 2000;

/** Lengths of 2 GiB or more: pickleparser reads BINBYTES' length as a signed int32 (and Node reads files below 2 GiB). */
const MAX_LENGTH = 2 ** 31 - 1;

/**
 * The opcodes of protocols 2 to 5 that Python writes for these objects (and
 * a few it writes for others: lists, floats, POP), by name: the byte and
 * the argument, a fixed size in bytes, a length prefix of 1, 4 or 8 bytes,
 * or GLOBAL's two lines. Protocol 0/1 text opcodes, sets, persistent ids,
 * extensions, INST, OBJ and NEWOBJ_EX are not among them. Reading walks
 * them; writing uses a few.
 */
type Argument = number | 'len1' | 'len4' | 'len8' | 'lines';
const OPCODES = {
  PROTO: [0x80, 1], FRAME: [0x95, 8], STOP: [0x2e, 0], MARK: [0x28, 0],
  POP: [0x30, 0], POP_MARK: [0x31, 0],
  BINPUT: [0x71, 1], LONG_BINPUT: [0x72, 4], MEMOIZE: [0x94, 0],
  BINGET: [0x68, 1], LONG_BINGET: [0x6a, 4],
  NONE: [0x4e, 0], NEWTRUE: [0x88, 0], NEWFALSE: [0x89, 0],
  BININT1: [0x4b, 1], BININT2: [0x4d, 2], BININT: [0x4a, 4], LONG1: [0x8a, 'len1'],
  BINFLOAT: [0x47, 8],
  SHORT_BINBYTES: [0x43, 'len1'], BINBYTES: [0x42, 'len4'], BINBYTES8: [0x8e, 'len8'],
  BYTEARRAY8: [0x96, 'len8'], NEXT_BUFFER: [0x97, 0], READONLY_BUFFER: [0x98, 0],
  SHORT_BINUNICODE: [0x8c, 'len1'], BINUNICODE: [0x58, 'len4'], BINUNICODE8: [0x8d, 'len8'],
  EMPTY_TUPLE: [0x29, 0], TUPLE1: [0x85, 0], TUPLE2: [0x86, 0], TUPLE3: [0x87, 0], TUPLE: [0x74, 0],
  EMPTY_LIST: [0x5d, 0], APPEND: [0x61, 0], APPENDS: [0x65, 0],
  EMPTY_DICT: [0x7d, 0], SETITEM: [0x73, 0], SETITEMS: [0x75, 0],
  GLOBAL: [0x63, 'lines'], STACK_GLOBAL: [0x93, 0],
  NEWOBJ: [0x81, 0], REDUCE: [0x52, 0], BUILD: [0x62, 0],
} satisfies Record<string, [number, Argument]>;
type Opcode = keyof typeof OPCODES;
/** Each opcode's byte, by name (for writing). */
const op = Object.fromEntries(Object.entries(OPCODES).map(([name, [code]]) => [name, code])) as Record<Opcode, number>;
/** Each opcode's name and argument, by its byte (for reading). */
const BY_CODE = new Map(Object.entries(OPCODES).map(([name, [code, arg]]) => [code, [name, arg] as [Opcode, Argument]]));

const hex = (byte: number) => `0x${byte.toString(16).padStart(2, '0')}`;

/** Walks the opcodes up to STOP (Python ignores what follows), checking each as above. */
function checkOpcodes(r: Reader, buffers: number): void {
  const head = Array.from(r.bytes.subarray(0, 4), hex).join(' ');
  r.expect(r.left >= 2 && r.bytes[0] === op.PROTO, 'a pickle (it starts with PROTO, 0x80)', `${r.left} bytes starting ${head}`);
  r.skip(1, 'PROTO');
  const protocol = r.u8('the protocol');
  r.expect(protocol >= 2 && protocol <= 5, 'a pickle of protocol 2 to 5', `protocol ${protocol}`);
  let nextBuffers = 0;
  for (let count = 0; ; count++) {
    if (count === MAX_OPCODES) throw r.error(`at most ${MAX_OPCODES} opcodes (a nanopq pickle has about 150)`, 'more', r.offset);
    const at = r.offset;
    if (r.left === 0) throw r.error('STOP (the pickle is truncated)', 'the end of the file', at);
    const code = r.u8('an opcode');
    const opcode = BY_CODE.get(code);
    if (!opcode) throw r.error('an opcode of a nanopq pickle', `opcode ${hex(code)}`, at);
    const [name, arg] = opcode;
    if (name === 'STOP') return;
    if (name === 'NEXT_BUFFER' && ++nextBuffers > buffers) {
      throw r.error(buffers ? `at most ${buffers} out-of-band buffers (options.buffers)`
        : 'the array data in the file (pickle.dump without buffer_callback) or given as options.buffers',
      'NEXT_BUFFER (out-of-band data)', at);
    }
    if (typeof arg === 'number') {
      r.skip(arg, `the argument of ${name}`);
    } else if (arg === 'lines') {
      for (const what of ['module', 'name']) {
        const end = r.bytes.indexOf(0x0a, r.offset);
        if (end < 0) throw r.error(`a line (the ${what} of GLOBAL)`, 'the end of the file', r.offset);
        r.skip(end + 1 - r.offset, `the ${what} of GLOBAL`);
      }
    } else {
      const length = arg === 'len1' ? r.u8(`the length of ${name}`)
        : arg === 'len4' ? r.u32(`the length of ${name}`) : r.size64(`the length of ${name}`);
      // nanopq's integers (Ks <= 2**32) take 5 bytes. pickleparser reads LONG1 as
      // unsigned (a negative one reads as 2**39 or more: out of every range checked
      // below) and, beyond 2**53, warns on the console.
      if (name === 'LONG1' && length > 6) throw r.error('an integer of at most 6 bytes (LONG1)', `${length} bytes`);
      if (length > MAX_LENGTH) throw r.error(`${name} of less than 2 GiB`, `${length} bytes`);
      r.skip(length, name);
    }
  }
}

// ------------------------------------------------ what the globals build --

/** The error for what the pickle holds: "Expected <expected> in <file>[ at byte N], got <found>". */
type Refuse = (expected: string, found: string) => TypeError;

/** An instance of nanopq.pq.PQ or nanopq.opq.OPQ; BUILD gives it its __dict__. */
class Instance {
  state: unknown = undefined;
  constructor(readonly cls: 'PQ' | 'OPQ') {}
}

/** numpy.dtype(descr, align, copy); BUILD gives its byte order. */
class Dtype {
  byteorder: unknown = undefined;
  constructor(readonly descr: unknown) {}
}

/** An ndarray: from _reconstruct and then BUILD, or from _frombuffer (protocol 5). */
class NdArray {
  built = false;
  shape: unknown;
  dtype: unknown;
  fortran: unknown;
  data: unknown;
}

/** numpy.uint8 / uint16 / uint32, the type nanopq keeps in code_dtype. */
class ScalarType {
  constructor(readonly dtype: CodeDtype) {}
}

/** _codecs.encode(text, 'latin1'): bytes at protocol 2. Decoded when read, so memoized text is not copied per use. */
class Latin1 {
  constructor(readonly text: string) {}
}

/**
 * The globals a nanopq pickle refers to, made anew for each read: BUILD on a
 * global's function (which pickleparser turns into Object.assign) changes
 * only this read's copy. Errors from inside the parse are refusals, not a
 * malformed pickle.
 */
function globalsFor(refuse: Refuse): Map<string, unknown> {
  // BUILD calls __setstate__ where the object has one (else it assigns the state's keys).
  const setState = <T extends object>(obj: T, set: (state: unknown) => void): T =>
    Object.defineProperty(obj, '__setstate__', { value: set });
  const ndarray = function ndarray() {
    throw refuse('numpy.ndarray only as the type given to _reconstruct', 'a call of it');
  };
  const newArray = () => {
    const a = new NdArray();
    return setState(a, (state) => {
      // numpy's ndarray.__reduce__ state: (1, shape, dtype, is_fortran, rawdata).
      if (a.built || !Array.isArray(state) || state.length !== 5 || state[0] !== 1) {
        throw refuse("numpy's ndarray state (1, shape, dtype, is_fortran, data)", kindOf(state));
      }
      [, a.shape, a.dtype, a.fortran, a.data] = state;
      a.built = true;
    });
  };
  const reconstruct = (type: unknown) => {
    if (type !== ndarray) throw refuse('numpy.ndarray as the type of an array', kindOf(type));
    return newArray();
  };
  // protocol 5: _frombuffer(buffer, dtype, shape, order), in-band or out-of-band.
  const frombuffer = (data: unknown, dtype: unknown, shape: unknown, order: unknown) => {
    if (order !== 'C' && order !== 'F') throw refuse("order 'C' or 'F' for _frombuffer", kindOf(order));
    return Object.freeze(Object.assign(new NdArray(), { built: true, data, dtype, shape, fortran: order === 'F' }));
  };
  const dtype = (descr: unknown) => {
    const d = new Dtype(descr);
    // (version 3 or 4, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata])
    return setState(d, (state) => {
      if (d.byteorder !== undefined || !Array.isArray(state) || state.length < 8 || (state[0] !== 3 && state[0] !== 4)) {
        throw refuse("numpy's dtype state (3, byteorder, ...)", kindOf(state));
      }
      d.byteorder = state[1];
    });
  };
  const newInstance = (cls: 'PQ' | 'OPQ') => function () {  // NEWOBJ constructs it
    const obj = new Instance(cls);
    return setState(obj, (state) => {
      if (obj.state !== undefined) throw refuse(`one state for a ${cls}`, 'a second');
      obj.state = state;
    });
  };
  const encode = (text: unknown, encoding: unknown) => {
    if (typeof text !== 'string' || encoding !== 'latin1') {
      throw refuse("_codecs.encode(text, 'latin1') (bytes at protocol 2)", `encoding ${kindOf(encoding)} of ${kindOf(text)}`);
    }
    return new Latin1(text);
  };
  const globals = new Map<string, unknown>([
    ['numpy.ndarray', ndarray], ['numpy.dtype', dtype],
    ['nanopq.pq.PQ', newInstance('PQ')], ['nanopq.opq.OPQ', newInstance('OPQ')],
    ['_codecs.encode', encode],
  ]);
  // frozen, as Python's numpy.uint8 takes no attributes (BUILD on it fails)
  for (const t of ['uint8', 'uint16', 'uint32'] as const) globals.set(`numpy.${t}`, Object.freeze(new ScalarType(t)));
  for (const core of ['numpy.core', 'numpy._core']) {  // numpy 1, numpy 2
    globals.set(`${core}.multiarray._reconstruct`, reconstruct);
    globals.set(`${core}.numeric._frombuffer`, frombuffer);
  }
  return globals;
}

/** What a value of the pickle is, in Python's words, for messages. */
function kindOf(value: unknown): string {
  if (value instanceof Instance) return `a nanopq ${value.cls}`;
  if (value instanceof NdArray) return 'a numpy array';
  if (value instanceof Dtype) return 'a numpy dtype';
  if (value instanceof ScalarType) return `numpy.${value.dtype}`;
  if (value instanceof Map) return 'a dict';
  if (Array.isArray(value)) return `a tuple or list of length ${value.length}`;
  if (value instanceof Uint8Array || value instanceof Latin1) return 'bytes';
  if (value === null) return 'None';
  if (value === undefined) return 'nothing';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'string') {  // shortened and escaped: it may be array data or garbage
    const shown = value.slice(0, 40).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    return value.length > 40 ? `'${shown}...' (${value.length} characters)` : `'${shown}'`;
  }
  return describe(value);
}

// ------------------------------------------------------------- reading --

/**
 * build(fields) of a pickle of Python nanopq 0.2's nanopq.PQ or nanopq.OPQ
 * (pickle.dump, protocols 2 to 5, numpy 1 or 2), fitted or not: M, Ks,
 * metric, verbose, Ds, codewords and R. src is a file's path or its bytes.
 * What build throws (the model's own checks of the values) is refused as
 * values of the file.
 */
export function readPickledModel<T>(src: string | Uint8Array, options: ReadPickleOptions, build: (fields: ModelFields) => T): T {
  const buffers = checkReadOptions(options);
  const r = readerFor(src, 'src');
  checkOpcodes(r, buffers?.length ?? 0);
  const position = new BufferReader(r.bytes);
  const ours = new WeakSet<Error>();
  // Our functions run inside one-byte opcodes (REDUCE, BUILD, NEWOBJ), so the
  // opcode is the byte before pickleparser's position; the resolver places GLOBAL's.
  const refuse = (expected: string, found: string, at: number | null = position.position - 1) => {
    const err = r.error(expected, found, at);
    ours.add(err);
    return err;
  };
  const globals = globalsFor(refuse);
  const parser = new Parser({
    nameResolver: {
      resolve(module: string, name: string) {
        const value = globals.get(`${module}.${name}`);
        if (value === undefined) {
          // STACK_GLOBAL is one byte; GLOBAL is followed by its two lines (one byte per character)
          const at = r.bytes[position.position - 1] === op.STACK_GLOBAL ? position.position - 1 : position.position - module.length - name.length - 3;
          throw refuse('a global of numpy or nanopq', `a reference to ${module}.${name}`, at);
        }
        return value as () => unknown;
      },
    },
    unpicklingTypeOfDictionary: 'Map',  // a dict key '__proto__' stays a key
    // Copies: the pickle's BUILD opcodes may assign to what it holds (even its prototype).
    buffers: buffers?.map((b) => new Uint8Array(b))[Symbol.iterator](),
  });
  let top: unknown;
  try {
    top = parser.read(position);
  } catch (err) {
    if (err instanceof Error && ours.has(err)) throw err;
    // The opcodes were checked; what remains is a stack that does not add up.
    throw r.error('a well-formed pickle', `one pickleparser cannot run (${(err as Error).message})`, position.position);
  }
  try {
    return toModel(top, (expected, found) => refuse(expected, found, null), build);
  } catch (err) {
    // Objects the pickle built may be odd beyond what toModel checks (a null
    // prototype...): what is not an error of ours or of the model's checks.
    if (err instanceof Error && (ours.has(err) || err.message.startsWith('Expected'))) throw err;
    throw r.error('a nanopq PQ or OPQ', `objects that are not one (${(err as Error).message})`, 0);
  }
}

function checkReadOptions(options: unknown): readonly Uint8Array[] | undefined {
  const { buffers } = checkOptions(options, ['buffers'], 'readNanopqPickle');
  if (buffers !== undefined && !(Array.isArray(buffers) && buffers.every((b) => b instanceof Uint8Array))) {
    throw new TypeError(`Expected an array of Uint8Array for options.buffers, got ${describe(buffers)}`);
  }
  return buffers;
}

const PQ_ATTRIBUTES = ['M', 'Ks', 'metric', 'verbose', 'code_dtype', 'codewords', 'Ds'];

function toModel<T>(top: unknown, refuse: Refuse, build: (fields: ModelFields) => T): T {
  if (!(top instanceof Instance)) throw refuse('a nanopq.pq.PQ or nanopq.opq.OPQ', kindOf(top));
  if (top.cls === 'PQ') {
    const { M, Ks, metric, verbose, codewords } = pqFields(top, 'PQ', refuse);
    const fields: ModelFields = { kind: 'PQ', M, Ks, metric, verbose, Ds: codewords?.shape[2] ?? null, codewords: codewords?.data ?? null };
    return made(() => build(fields), 'PQ.codewords', refuse);
  }
  const a = attributes(top, ['pq', 'R'], 'OPQ', refuse);
  if (!(a.pq instanceof Instance && a.pq.cls === 'PQ')) throw refuse('a nanopq.pq.PQ for OPQ.pq', kindOf(a.pq));
  const { M, Ks, metric, verbose, codewords } = pqFields(a.pq, 'OPQ.pq', refuse);
  if (!codewords) {
    if (a.R !== null) throw refuse('OPQ.R = None with an unfitted OPQ.pq', kindOf(a.R));
    return made(() => build({ kind: 'OPQ', M, Ks, metric, verbose, Ds: null, codewords: null, R: null }), 'OPQ.R and OPQ.pq.codewords', refuse);
  }
  const Ds = codewords.shape[2];
  const D = M * Ds;
  const R = floatArray(a.R, 'OPQ.R', [D, D], '(D, D)', refuse);
  return made(() => build({ kind: 'OPQ', M, Ks, metric, verbose, Ds, codewords: codewords.data, R }), 'OPQ.R and OPQ.pq.codewords', refuse);
}

/** The model from checked arrays; the library's own value checks (finite, orthonormal R) name the array. */
function made<T>(make: () => T, what: string, refuse: Refuse): T {
  try {
    return make();
  } catch (err) {
    throw Object.assign(refuse(`values the library accepts for ${what}`, `values it refuses (${(err as Error).message})`), { cause: err });
  }
}

/** obj's __dict__, which must have exactly the names given (but for metric: see pqFields). */
function attributes(obj: Instance, names: string[], cls: string, refuse: Refuse, optional: string[] = []): Record<string, unknown> {
  const state = obj.state;
  if (!(state instanceof Map)) throw refuse(`a dict of attributes for ${cls}`, kindOf(state));
  const out: Record<string, unknown> = Object.create(null);
  for (const [key, value] of state) {
    if (typeof key !== 'string' || !names.includes(key)) {
      throw refuse(`only nanopq 0.2's attributes (${names.join(', ')}) for ${cls}`, `also ${kindOf(key)}`);
    }
    out[key] = value;
  }
  const missing = names.filter((n) => !(n in out) && !optional.includes(n));
  if (missing.length) throw refuse(`the attribute ${missing[0]} for ${cls}`, `only ${Object.keys(out).join(', ') || 'none'}`);
  return out;
}

interface PQFields {
  M: number; Ks: number; metric: Metric; verbose: boolean;
  codewords: { data: Float32Array; shape: [number, number, number] } | null;
}

function pqFields(obj: Instance, cls: string, refuse: Refuse): PQFields {
  // nanopq 0.1 had no metric (only l2); its pickles are read as l2.
  const a = attributes(obj, PQ_ATTRIBUTES, cls, refuse, ['metric']);
  const M = integer(a.M, `${cls}.M`, 2 ** 32 - 1, refuse);
  const Ks = integer(a.Ks, `${cls}.Ks`, 2 ** 32, refuse);
  const metric = (a.metric ?? 'l2') as Metric;
  if (!native.names.metric.includes(metric)) throw refuse(`${listNames(native.names.metric)} for ${cls}.metric`, kindOf(metric));
  // Python tests verbose for truth; nanopq takes it as given.
  if (typeof a.verbose !== 'boolean' && !Number.isSafeInteger(a.verbose)) throw refuse(`a bool for ${cls}.verbose`, kindOf(a.verbose));
  const codeDtype = codeDtypeFor(Ks);
  if (!(a.code_dtype instanceof ScalarType && a.code_dtype.dtype === codeDtype)) {
    throw refuse(`numpy.${codeDtype} for ${cls}.code_dtype (nanopq's for Ks = ${Ks})`, kindOf(a.code_dtype));
  }
  if ((a.codewords === null) !== (a.Ds === null)) {
    throw refuse(`${cls}.codewords and ${cls}.Ds both None (not fitted) or both set`,
      `codewords ${kindOf(a.codewords)} and Ds ${kindOf(a.Ds)}`);
  }
  let codewords: PQFields['codewords'] = null;
  if (a.Ds !== null) {
    const Ds = integer(a.Ds, `${cls}.Ds`, 2 ** 32 - 1, refuse);
    const shape: [number, number, number] = [M, Ks, Ds];
    codewords = { data: floatArray(a.codewords, `${cls}.codewords`, shape, '(M, Ks, Ds)', refuse), shape };
  }
  return { M, Ks, metric, verbose: Boolean(a.verbose), codewords };
}

function integer(value: unknown, name: string, max: number, refuse: Refuse): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw refuse(`an integer in [1, ${max}] for ${name}`, kindOf(value));
  }
  return value;
}

const shapeText = (shape: readonly unknown[]) => `(${shape.map((s) => (typeof s === 'number' ? s : kindOf(s))).join(', ')})`;

/**
 * The float32 data, C order, of an array that must have the given shape.
 * nanopq stores float32; a float64 array (assigned by hand) is rounded to
 * float32, which the library computes in. Big-endian data is swapped.
 */
function floatArray(value: unknown, name: string, shape: number[], dims: string, refuse: Refuse): Float32Array {
  if (!(value instanceof NdArray && value.built)) throw refuse(`a numpy array for ${name}`, kindOf(value));
  const { shape: found, dtype, data, fortran } = value;
  if (!Array.isArray(found) || found.length !== shape.length || found.some((s, i) => s !== shape[i])) {
    throw refuse(`shape ${shapeText(shape)} ${dims} for ${name}`, Array.isArray(found) ? `shape ${shapeText(found)}` : kindOf(found));
  }
  const descr = dtype instanceof Dtype ? dtype.descr : undefined;
  const order = dtype instanceof Dtype ? dtype.byteorder : undefined;
  if (!(descr === 'f4' || descr === 'f8') || !(order === '<' || order === '>')) {
    const got = dtype instanceof Dtype ? `dtype ${String(order ?? '')}${String(descr)}` : kindOf(dtype);
    throw refuse(`a float32 (or float64) array for ${name}`, got);
  }
  if (typeof fortran !== 'boolean') throw refuse(`a bool (is_fortran) for ${name}`, kindOf(fortran));
  let bytes: Uint8Array;
  if (data instanceof Uint8Array) {
    bytes = data;
  } else if (data instanceof Latin1) {
    const beyond = /[^\x00-\xff]/.exec(data.text);  // U+FFFD where pickleparser met invalid UTF-8
    if (beyond) throw refuse(`latin1 text (bytes at protocol 2) for ${name}`, `${kindOf(beyond[0])} at character ${beyond.index}`);
    bytes = Buffer.from(data.text, 'latin1');
  } else {
    throw refuse(`the bytes of ${name}`, kindOf(data));
  }
  const count = shape.reduce((p, s) => p * s, 1);
  const size = descr === 'f4' ? 4 : 8;
  if (bytes.length !== count * size) {
    throw refuse(`${count * size} bytes (shape ${shapeText(shape)} of ${descr === 'f4' ? 'float32' : 'float64'}) for ${name}`, `${bytes.length}`);
  }
  const little = order === '<';
  let out: Float32Array = new Float32Array(count);
  if (size === 4 && little) {
    new Uint8Array(out.buffer).set(bytes);  // a copy: the file's bytes may be unaligned for a Float32Array
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < count; i++) out[i] = size === 4 ? view.getFloat32(4 * i, little) : view.getFloat64(8 * i, little);
  }
  if (fortran) out = fromFortranOrder(out, shape);
  return out;
}

/** Column-major data (numpy's F order: the first index varies fastest) in row-major order. */
function fromFortranOrder(data: Float32Array, shape: number[]): Float32Array {
  const out = new Float32Array(data.length);
  const strides = shape.map((_, d) => shape.slice(0, d).reduce((p, s) => p * s, 1));
  const index = shape.map(() => 0);
  for (let i = 0; i < data.length; i++) {
    let from = 0;
    for (let d = 0; d < shape.length; d++) from += index[d] * strides[d];
    out[i] = data[from];
    for (let d = shape.length - 1; d >= 0 && ++index[d] === shape[d]; d--) index[d] = 0;
  }
  return out;
}

// ------------------------------------------------------------- writing --

const ops = (...codes: number[]) => Buffer.from(codes);

/** An int as Python pickles it: the shortest of BININT1, BININT2, BININT, then LONG1. */
function int(n: number): Buffer {
  if (n >= 0 && n < 2 ** 8) return ops(op.BININT1, n);
  if (n >= 0 && n < 2 ** 16) return ops(op.BININT2, n & 0xff, n >>> 8);
  if (n >= -(2 ** 31) && n < 2 ** 31) {
    const b = Buffer.alloc(5);
    b[0] = op.BININT;
    b.writeInt32LE(n, 1);
    return b;
  }
  // LONG1: little-endian two's complement; n is positive here (M, Ks, Ds).
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.push(v % 256);
  if (bytes[bytes.length - 1] & 0x80) bytes.push(0);
  return ops(op.LONG1, bytes.length, ...bytes);
}

function str(s: string): Buffer {
  const utf8 = Buffer.from(s, 'utf8');
  const head = Buffer.alloc(5);
  head[0] = op.BINUNICODE;
  head.writeUInt32LE(utf8.length, 1);
  return Buffer.concat([head, utf8]);
}

const globalRef = (module: string, name: string) => Buffer.concat([ops(op.GLOBAL), Buffer.from(`${module}\n${name}\n`, 'latin1')]);

/**
 * An ndarray as numpy pickles it below protocol 5:
 * _reconstruct(ndarray, (0,), b'b') then BUILD (1, shape, dtype('<f4'), False, data).
 */
function ndarray(data: Float32Array, shape: number[], name: string): Buffer[] {
  // Float32Array holds host order, little-endian on every platform Faiss packages ship for.
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length > 2 ** 32 - 1) throw new RangeError(`Expected ${name} of less than 4 GiB for a protocol 3 pickle, got ${bytes.length} bytes`);
  const length = Buffer.alloc(5);
  length[0] = op.BINBYTES;
  length.writeUInt32LE(bytes.length, 1);
  return [
    globalRef('numpy.core.multiarray', '_reconstruct'), globalRef('numpy', 'ndarray'),
    int(0), ops(op.TUPLE1, op.SHORT_BINBYTES, 1, 0x62 /* b */, op.TUPLE3, op.REDUCE),
    ops(op.MARK), int(1), ops(op.MARK), ...shape.map(int), ops(op.TUPLE),
    globalRef('numpy', 'dtype'), str('f4'), ops(op.NEWFALSE, op.NEWTRUE, op.TUPLE3, op.REDUCE),
    ops(op.MARK), int(3), str('<'), ops(op.NONE, op.NONE, op.NONE), int(-1), int(-1), int(0), ops(op.TUPLE, op.BUILD),
    ops(op.NEWFALSE), length, bytes, ops(op.TUPLE, op.BUILD),
  ];
}

/** cls() without __init__ (NEWOBJ, as Python pickles a plain instance), then BUILD with its __dict__. */
function instance(module: string, cls: string, dict: [string, Buffer[]][]): Buffer[] {
  return [
    globalRef(module, cls), ops(op.EMPTY_TUPLE, op.NEWOBJ, op.EMPTY_DICT, op.MARK),
    ...dict.flatMap(([key, value]) => [str(key), ...value]),
    ops(op.SETITEMS, op.BUILD),
  ];
}

/** nanopq.pq.PQ's __dict__ in nanopq's order; code_dtype is the numpy type, as nanopq sets it. */
function pqInstance(model: ModelFields, name: string): Buffer[] {
  const { M, Ks, Ds, codewords } = model;
  return instance('nanopq.pq', 'PQ', [
    ['M', [int(M)]], ['Ks', [int(Ks)]], ['metric', [str(model.metric)]],
    ['verbose', [ops(model.verbose ? op.NEWTRUE : op.NEWFALSE)]],
    ['code_dtype', [globalRef('numpy', codeDtypeFor(Ks))]],
    ['codewords', codewords && Ds !== null ? ndarray(codewords, [M, Ks, Ds], `${name}.codewords`) : [ops(op.NONE)]],
    ['Ds', [Ds === null ? ops(op.NONE) : int(Ds)]],
  ]);
}

/**
 * Writes a model's fields (`name` in messages) as a pickle that Python's
 * pickle.load turns into an equal nanopq.PQ or nanopq.OPQ (protocol 3, loaded
 * by numpy 1 and 2).
 */
export function writePickledModel(model: ModelFields, dst: string, name = 'model'): void {
  checkPath(dst, 'dst');
  let body: Buffer[];
  if (model.kind === 'PQ') {
    body = pqInstance(model, name);
  } else {
    const D = model.M * (model.Ds ?? 0);
    body = instance('nanopq.opq', 'OPQ', [
      ['pq', pqInstance(model, name)],
      ['R', model.R ? ndarray(model.R, [D, D], `${name}.R`) : [ops(op.NONE)]],
    ]);
  }
  fs.writeFileSync(dst, Buffer.concat([ops(op.PROTO, 3), ...body, ops(op.STOP)]));
}
