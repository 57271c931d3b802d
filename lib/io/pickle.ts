// Pickles of Python nanopq 0.2's PQ and OPQ, and of Python rii 0.2's Rii over
// one of them (pickle.dump, protocols 2 to 5), read into and written from plain
// fields (models/files.ts makes the models).
//
// Reading: the npm package pickleparser runs the pickle, with globals resolved
// by us: only the numpy, nanopq and rii names such a pickle holds, each to a
// function that records its arguments and calls nothing. pickleparser trusts
// the lengths in the file (a negative BINBYTES length moves its reader
// backwards: a 7-byte file loops for ever) and whatever its stack holds, so
// the opcodes are first walked here with the bounded reader (walkOpcodes),
// which checks every length against the bytes left, refuses opcodes and
// globals no such pickle holds, and follows the stack, so that what
// pickleparser then does is linear in the file. Arrays are decoded only after
// parsing, for the attributes that hold them, from bytes that the file holds:
// nothing is allocated from a size the file claims.
//
// Writing: no npm package writes pickles; this one writes protocol 3 (BINBYTES
// for the array data) with numpy.core.multiarray._reconstruct, which numpy 1
// and numpy 2 both load, and the __dict__ that nanopq 0.2 and rii 0.2 set.
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
 * 150, whatever its size: each array's data is one opcode); a rii pickle
 * holds about 100 besides those of its lists of numbers (codes, ids, the
 * codewords again), which are not counted (PickleKind.uncounted). The limit
 * bounds the objects pickleparser builds beside the file's bytes: a string,
 * tuple or dict per counted opcode at most; an uncounted one makes a number
 * or an empty list, as many as a rii pickle of that size holds.
 */
const MAX_OPCODES = 2000;

/**
 * Items that the arguments of REDUCE and NEWOBJ and the state of BUILD may
 * hold (these pickles pass at most 9): pickleparser spreads or copies them
 * at each use, and a memoized one can be used again by each later opcode.
 */
const MAX_ITEMS = 16;

/** MARKs open at once (these pickles nest 5 deep): each is an array pickleparser keeps. */
const MAX_DEPTH = 32;

/** The longest string the walk keeps, for the names of STACK_GLOBAL (longer ones are no name these pickles refer to). */
const MAX_NAME = 200;

/** Lengths of 2 GiB or more: pickleparser reads BINBYTES' length as a signed int32 (and Node reads files below 2 GiB). */
const MAX_LENGTH = 2 ** 31 - 1;

/**
 * The opcodes of protocols 2 to 5 that Python writes for these objects (and
 * a few it writes for others: floats, POP), by name: the byte and the
 * argument, a fixed size in bytes, a length prefix of 1, 4 or 8 bytes, or
 * GLOBAL's two lines. Protocol 0/1 text opcodes, sets, persistent ids,
 * extensions, DUP, INST, OBJ and NEWOBJ_EX are not among them. Reading walks
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

/** What one reader accepts: the globals its pickles refer to, and how many opcodes they hold. */
interface PickleKind {
  /** The reading function, for messages: 'readNanopqPickle'. */
  reader: string;
  /** Its pickles, for messages. */
  what: string;
  /** The object such a pickle holds, for messages. */
  object: string;
  /** Who owns the globals it accepts, for messages. */
  owners: string;
  globals: ReadonlySet<string>;
  /** Opcodes not counted towards MAX_OPCODES: a rii pickle holds about as many as its codes. */
  uncounted: ReadonlySet<Opcode>;
  /** About how many counted opcodes such a pickle has, for the message of MAX_OPCODES. */
  typical: number;
}

const NUMPY_GLOBALS = [
  'numpy.ndarray', 'numpy.dtype', 'numpy.uint8', 'numpy.uint16', 'numpy.uint32', '_codecs.encode',
  // numpy 1, numpy 2
  'numpy.core.multiarray._reconstruct', 'numpy.core.numeric._frombuffer', 'numpy._core.multiarray._reconstruct', 'numpy._core.numeric._frombuffer',
];

const NANOPQ_PICKLE: PickleKind = {
  reader: 'readNanopqPickle', what: 'a nanopq pickle', object: 'a nanopq PQ or OPQ', owners: 'numpy or nanopq',
  globals: new Set([...NUMPY_GLOBALS, 'nanopq.pq.PQ', 'nanopq.opq.OPQ']),
  uncounted: new Set(), typical: 150,
};

/**
 * rii.Rii holds its fine quantizer, impl_cpp (a main.RiiCpp, the pybind11
 * module rii builds, pickled as the tuple of its __getstate__) and threshold
 * (a numpy.poly1d, or None).
 */
const RII_PICKLE: PickleKind = {
  reader: 'readRiiPickle', what: 'a rii pickle', object: 'a rii Rii', owners: 'numpy, nanopq or rii',
  globals: new Set([...NANOPQ_PICKLE.globals, 'rii.rii.Rii', 'main.RiiCpp', 'numpy.poly1d']),
  // RiiCpp's lists: EMPTY_LIST, MARK, the numbers, APPENDS; each list memoized.
  uncounted: new Set<Opcode>(['EMPTY_LIST', 'MARK', 'APPEND', 'APPENDS', 'BININT1', 'BININT2', 'BININT', 'BINFLOAT',
    'MEMOIZE', 'BINPUT', 'LONG_BINPUT', 'FRAME']),
  typical: 100,
};

/** A reference to a global that kind does not accept, with the reader of the pickles that hold it, if any. */
function foreignGlobal(kind: PickleKind, module: string, name: string): [string, string] {
  const full = `${module}.${name}`;
  const shown = full.length > MAX_NAME ? `${full.slice(0, MAX_NAME)}... (${full.length} characters)` : full;
  const owner = [NANOPQ_PICKLE, RII_PICKLE].find((k) => k !== kind && k.globals.has(full));
  return [`a global of ${kind.owners}`, `a reference to ${shown}${owner ? ` (${owner.what}: io.${owner.reader} reads it)` : ''}`];
}

/**
 * What the walk knows of a value on the stack or in the memo: its kind and,
 * for a list, tuple or dict, how many items it holds (a list or dict is
 * memoized empty and filled after), or a short string's text.
 */
interface Shape { kind: 'list' | 'tuple' | 'dict' | 'global' | 'object' | 'value'; items: number; text?: string }
const VALUE: Shape = Object.freeze({ kind: 'value', items: 0 });
const GLOBAL: Shape = Object.freeze({ kind: 'global', items: 0 });
/** What REDUCE and NEWOBJ make: an object of ours (globalsFor). */
const OBJECT: Shape = Object.freeze({ kind: 'object', items: 0 });

function shapeName(s: Shape): string {
  if (s.kind === 'value') return s.text === undefined ? 'a value' : kindOf(s.text);
  if (s.kind === 'object') return 'an object';
  if (s.kind === 'global') return 'a global';
  return `a ${s.kind} of ${s.items} items`;
}

const utf8 = new TextDecoder('utf-8');
const ascii = new TextDecoder('ascii');  // pickleparser's, for GLOBAL's lines

/**
 * Walks the opcodes up to STOP (Python ignores what follows), checking each as
 * above, and follows what each does to the stack, as pickleparser will: a
 * value missing from the stack, a memo index never put, a global kind does
 * not accept, or a use that would make pickleparser's work grow faster than
 * the file is refused here, where the opcode is. Those uses: a memoized
 * list or dict got again (it could be filled by each later opcode; these
 * pickles share none), more than MAX_ITEMS items passed to REDUCE, NEWOBJ or
 * BUILD, and BUILD on anything but what REDUCE or NEWOBJ made.
 */
function walkOpcodes(r: Reader, buffers: number, kind: PickleKind): void {
  const head = Array.from(r.bytes.subarray(0, 4), hex).join(' ');
  r.expect(r.left >= 2 && r.bytes[0] === op.PROTO, 'a pickle (it starts with PROTO, 0x80)', `${r.left} bytes starting ${head}`);
  r.skip(1, 'PROTO');
  const protocol = r.u8('the protocol');
  r.expect(protocol >= 2 && protocol <= 5, 'a pickle of protocol 2 to 5', `protocol ${protocol}`);
  let stack: Shape[] = [];
  const marks: Shape[][] = [];
  const memo = new Map<number, Shape>();
  let counted = 0;
  let nextBuffers = 0;
  // the opcode being walked: where it starts, its name and argument
  let at = 0;
  let name: Opcode = 'PROTO';
  let arg: Argument = 0;

  const fail = (expected: string, found: string) => r.error(expected, found, at);
  /** The memo index of BINPUT, BINGET (one byte) or LONG_BINPUT, LONG_BINGET (four). */
  const memoIndex = () => {
    const b = r.bytes;
    return arg === 1 ? b[at + 1] : b[at + 1] + b[at + 2] * 2 ** 8 + b[at + 3] * 2 ** 16 + b[at + 4] * 2 ** 24;
  };
  const pop = (): Shape => {
    const value = stack.pop();
    if (!value) throw fail(`a value on the stack for ${name}`, marks.length ? 'its MARK' : 'an empty stack');
    return value;
  };
  const top = (): Shape => {
    const value = pop();
    stack.push(value);
    return value;
  };
  const popMark = (): Shape[] => {
    const below = marks.pop();
    if (!below) throw fail(`a MARK before ${name}`, 'none');
    const items = stack;
    stack = below;
    return items;
  };
  /** Adds items to the list or dict on top (APPEND, SETITEM...). */
  const fill = (container: 'list' | 'dict', items: number) => {
    const target = top();
    if (target.kind !== container) throw fail(`a ${container} for ${name}`, shapeName(target));
    target.items += items;
  };
  /** REDUCE, NEWOBJ: a global called with a short tuple. */
  const call = () => {
    const args = pop();
    const callee = pop();
    if (callee.kind !== 'global') throw fail(`a class or function (a global) for ${name}`, shapeName(callee));
    if (args.kind !== 'tuple' || args.items > MAX_ITEMS) throw fail(`a tuple of at most ${MAX_ITEMS} arguments for ${name}`, shapeName(args));
    stack.push(OBJECT);
  };
  const resolve = (module: string, global: string) => {
    if (!kind.globals.has(`${module}.${global}`)) throw fail(...foreignGlobal(kind, module, global));
    stack.push(GLOBAL);
  };

  for (;;) {
    at = r.offset;
    if (r.left === 0) throw r.error('STOP (the pickle is truncated)', 'the end of the file', at);
    const code = r.u8('an opcode');
    const opcode = BY_CODE.get(code);
    if (!opcode) throw r.error(`an opcode of ${kind.what}`, `opcode ${hex(code)}`, at);
    [name, arg] = opcode;
    if (!kind.uncounted.has(name) && ++counted > MAX_OPCODES) {
      const besides = kind.uncounted.size ? ' besides those of lists of numbers' : '';
      throw r.error(`at most ${MAX_OPCODES} opcodes${besides} (${kind.what} has about ${kind.typical})`, 'more', at);
    }
    let text: string | undefined;  // a short string's
    const lines: string[] = [];  // GLOBAL's
    if (typeof arg === 'number') {
      r.skip(arg, `the argument of ${name}`);
    } else if (arg === 'lines') {
      for (const what of ['module', 'name']) {
        const end = r.bytes.indexOf(0x0a, r.offset);
        if (end < 0) throw r.error(`a line (the ${what} of GLOBAL)`, 'the end of the file', r.offset);
        lines.push(ascii.decode(r.bytes.subarray(r.offset, end)));
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
      if (name.endsWith('UNICODE') && length <= MAX_NAME) text = utf8.decode(r.bytes.subarray(r.offset - length, r.offset));
    }

    switch (name) {
      case 'STOP':
        pop();
        return;
      case 'PROTO': case 'FRAME': break;
      case 'READONLY_BUFFER': top(); break;
      case 'NEXT_BUFFER':
        if (++nextBuffers > buffers) {
          throw fail(buffers ? `at most ${buffers} out-of-band buffers (options.buffers)`
            : 'the array data in the file (pickle.dump without buffer_callback) or given as options.buffers',
          'NEXT_BUFFER (out-of-band data)');
        }
        stack.push(VALUE);
        break;
      case 'MARK':
        if (marks.length === MAX_DEPTH) throw fail(`at most ${MAX_DEPTH} MARKs open at once (these pickles nest 5)`, 'more');
        marks.push(stack);
        stack = [];
        break;
      case 'POP': pop(); break;
      case 'POP_MARK': popMark(); break;
      case 'BINPUT': case 'LONG_BINPUT': memo.set(memoIndex(), top()); break;
      case 'MEMOIZE': memo.set(memo.size, top()); break;
      case 'BINGET': case 'LONG_BINGET': {
        const value = memo.get(memoIndex());
        if (!value) throw fail('a memo index put before (BINPUT, MEMOIZE)', `${name} of index ${memoIndex()}`);
        if (value.kind === 'list' || value.kind === 'dict' || value.items > MAX_ITEMS) {
          throw fail(`a memo get of no list, dict or tuple of more than ${MAX_ITEMS} items (${kind.what} shares none)`, `${name} of ${shapeName(value)}`);
        }
        stack.push(value);
        break;
      }
      case 'EMPTY_TUPLE': stack.push({ kind: 'tuple', items: 0 }); break;
      case 'TUPLE1': case 'TUPLE2': case 'TUPLE3': {
        const items = Number(name[5]);
        for (let i = 0; i < items; i++) pop();
        stack.push({ kind: 'tuple', items });
        break;
      }
      case 'TUPLE': {
        const items = popMark().length;  // before stack.push: popMark changes stack
        stack.push({ kind: 'tuple', items });
        break;
      }
      case 'EMPTY_LIST': stack.push({ kind: 'list', items: 0 }); break;
      case 'APPEND': pop(); fill('list', 1); break;
      case 'APPENDS': fill('list', popMark().length); break;
      case 'EMPTY_DICT': stack.push({ kind: 'dict', items: 0 }); break;
      case 'SETITEM': pop(); pop(); fill('dict', 1); break;
      case 'SETITEMS': {
        const items = popMark().length;
        if (items % 2) throw fail('keys and values in pairs for SETITEMS', `${items} items`);
        fill('dict', items / 2);
        break;
      }
      case 'GLOBAL': resolve(lines[0], lines[1]); break;
      case 'STACK_GLOBAL': {
        const global = pop(), module = pop();
        if (module.text === undefined || global.text === undefined) {
          throw fail(`the module and name (strings of at most ${MAX_NAME} bytes) for STACK_GLOBAL`, `${shapeName(module)} and ${shapeName(global)}`);
        }
        resolve(module.text, global.text);
        break;
      }
      case 'NEWOBJ': case 'REDUCE': call(); break;
      case 'BUILD': {
        const state = pop();
        const target = top();
        // pickleparser assigns the state to what has no __setstate__: only objects of ours have one
        if (target.kind !== 'object') throw fail('an object made by REDUCE or NEWOBJ for BUILD', shapeName(target));
        if (state.items > MAX_ITEMS) throw fail(`a state of at most ${MAX_ITEMS} items for BUILD`, shapeName(state));
        break;
      }
      default:  // None, booleans, numbers, bytes and strings
        stack.push(text === undefined ? VALUE : { kind: 'value', items: 0, text });
    }
  }
}

// ------------------------------------------------ what the globals build --

/** The error for what the pickle holds: "Expected <expected> in <file>[ at byte N], got <found>". */
type Refuse = (expected: string, found: string) => TypeError;

/** The classes whose instances these pickles hold, and what messages call one. */
const CLASSES = {
  PQ: 'a nanopq PQ', OPQ: 'a nanopq OPQ', Rii: 'a rii Rii', RiiCpp: "rii's main.RiiCpp", poly1d: 'a numpy.poly1d',
} as const;
type ClassName = keyof typeof CLASSES;

/** An instance of nanopq.pq.PQ, nanopq.opq.OPQ, rii.rii.Rii, main.RiiCpp or numpy.poly1d; BUILD gives it its state. */
class Instance {
  state: unknown = undefined;
  constructor(readonly cls: ClassName) {}
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
 * The globals these pickles refer to (the names of RII_PICKLE.globals), made
 * anew for each read, so that nothing one read does stays. Errors from inside
 * the parse are refusals, not a malformed pickle.
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
  const newInstance = (cls: ClassName) => function () {  // NEWOBJ constructs it
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
    ['rii.rii.Rii', newInstance('Rii')], ['main.RiiCpp', newInstance('RiiCpp')], ['numpy.poly1d', newInstance('poly1d')],
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
  if (value instanceof Instance) return CLASSES[value.cls];
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
 * Runs a pickle of kind (src: a file's path or its bytes) and gives what it
 * built to convert, with the error for what the pickle holds.
 */
function readPickled<T>(src: string | Uint8Array, options: ReadPickleOptions, kind: PickleKind, convert: (top: unknown, refuse: Refuse) => T): T {
  const buffers = checkReadOptions(options, kind.reader);
  const r = readerFor(src, 'src');
  walkOpcodes(r, buffers?.length ?? 0, kind);
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
      // walkOpcodes refused any other global; this is a second line of defence
      resolve(module: string, name: string) {
        const value = kind.globals.has(`${module}.${name}`) ? globals.get(`${module}.${name}`) : undefined;
        if (value === undefined) {
          // STACK_GLOBAL is one byte; GLOBAL is followed by its two lines (one byte per character)
          const at = r.bytes[position.position - 1] === op.STACK_GLOBAL ? position.position - 1 : position.position - module.length - name.length - 3;
          throw refuse(...foreignGlobal(kind, module, name), at);
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
    return convert(top, (expected, found) => refuse(expected, found, null));
  } catch (err) {
    // Objects the pickle built may be odd beyond what convert checks (a null
    // prototype...): what is not an error of ours or of the library's checks.
    if (err instanceof Error && (ours.has(err) || err.message.startsWith('Expected'))) throw err;
    throw r.error(kind.object, `objects that are not one (${(err as Error).message})`, 0);
  }
}

/**
 * build(fields) of a pickle of Python nanopq 0.2's nanopq.PQ or nanopq.OPQ
 * (pickle.dump, protocols 2 to 5, numpy 1 or 2), fitted or not: M, Ks,
 * metric, verbose, Ds, codewords and R. src is a file's path or its bytes.
 * What build throws (the model's own checks of the values) is refused as
 * values of the file.
 */
export function readPickledModel<T>(src: string | Uint8Array, options: ReadPickleOptions, build: (fields: ModelFields) => T): T {
  return readPickled(src, options, NANOPQ_PICKLE, (top, refuse) => {
    const { fields, arrays } = modelFields(top, refuse);
    return made(() => build(fields), arrays, refuse);
  });
}

function checkReadOptions(options: unknown, reader: string): readonly Uint8Array[] | undefined {
  const { buffers } = checkOptions(options, ['buffers'], reader);
  if (buffers !== undefined && !(Array.isArray(buffers) && buffers.every((b) => b instanceof Uint8Array))) {
    throw new TypeError(`Expected an array of Uint8Array for options.buffers, got ${describe(buffers)}`);
  }
  return buffers;
}

const PQ_ATTRIBUTES = ['M', 'Ks', 'metric', 'verbose', 'code_dtype', 'codewords', 'Ds'];

/**
 * The fields of a pickled nanopq.PQ or nanopq.OPQ, checked, and what to name
 * when the library refuses their values (arrays). root names it in messages:
 * its class, or where a rii pickle holds it ('Rii.fine_quantizer').
 */
function modelFields(obj: unknown, refuse: Refuse, root?: string): { fields: ModelFields; arrays: string } {
  if (!(obj instanceof Instance && (obj.cls === 'PQ' || obj.cls === 'OPQ'))) {
    const other = obj instanceof Instance && obj.cls === 'Rii' ? ` (${RII_PICKLE.what}: io.${RII_PICKLE.reader} reads it)` : '';
    throw refuse(`a nanopq.pq.PQ or nanopq.opq.OPQ${root ? ` for ${root}` : ''}`, kindOf(obj) + other);
  }
  if (obj.cls === 'PQ') {
    const name = root ?? 'PQ';
    const { M, Ks, metric, verbose, codewords } = pqFields(obj, name, refuse);
    const fields: ModelFields = { kind: 'PQ', M, Ks, metric, verbose, Ds: codewords?.shape[2] ?? null, codewords: codewords?.data ?? null };
    return { fields, arrays: `${name}.codewords` };
  }
  const name = root ?? 'OPQ';
  const a = attributes(obj, ['pq', 'R'], name, refuse);
  if (!(a.pq instanceof Instance && a.pq.cls === 'PQ')) throw refuse(`a nanopq.pq.PQ for ${name}.pq`, kindOf(a.pq));
  const { M, Ks, metric, verbose, codewords } = pqFields(a.pq, `${name}.pq`, refuse);
  const arrays = `${name}.R and ${name}.pq.codewords`;
  if (!codewords) {
    if (a.R !== null) throw refuse(`${name}.R = None with an unfitted ${name}.pq`, kindOf(a.R));
    return { fields: { kind: 'OPQ', M, Ks, metric, verbose, Ds: null, codewords: null, R: null }, arrays };
  }
  const Ds = codewords.shape[2];
  const D = M * Ds;
  const R = floatArray(a.R, `${name}.R`, [D, D], '(D, D)', refuse);
  return { fields: { kind: 'OPQ', M, Ks, metric, verbose, Ds, codewords: codewords.data, R }, arrays };
}

/** What make returns from checked values; the library's own checks (finite, orthonormal R, codes < Ks) name what. */
function made<T>(make: () => T, what: string, refuse: Refuse): T {
  try {
    return make();
  } catch (err) {
    throw Object.assign(refuse(`values the library accepts for ${what}`, `values it refuses (${(err as Error).message})`), { cause: err });
  }
}

/**
 * obj's __dict__, which must have exactly the names given (but for optional
 * ones: see pqFields) that owner (nanopq 0.2, rii 0.2, numpy) sets.
 */
function attributes(obj: Instance, names: string[], cls: string, refuse: Refuse, optional: string[] = [], owner = 'nanopq 0.2'): Record<string, unknown> {
  const state = obj.state;
  if (!(state instanceof Map)) throw refuse(`a dict of attributes for ${cls}`, kindOf(state));
  const out: Record<string, unknown> = Object.create(null);
  for (const [key, value] of state) {
    if (typeof key !== 'string' || !names.includes(key)) {
      throw refuse(`only ${owner}'s attributes (${names.join(', ')}) for ${cls}`, `also ${kindOf(key)}`);
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

/** The numpy dtypes read here (with either byte order), by their descr. */
const DTYPES = {
  f4: { size: 4, label: 'float32', get: (v: DataView, at: number, little: boolean) => v.getFloat32(at, little) },
  f8: { size: 8, label: 'float64', get: (v: DataView, at: number, little: boolean) => v.getFloat64(at, little) },
  i4: { size: 4, label: 'int32', get: (v: DataView, at: number, little: boolean) => v.getInt32(at, little) },
  i8: { size: 8, label: 'int64', get: (v: DataView, at: number, little: boolean) => Number(v.getBigInt64(at, little)) },
};
type Descr = keyof typeof DTYPES;

/**
 * The values, C order, of an array that must have the given shape and one of
 * the dtypes accepted (described so in messages), as Out: a Float32Array
 * rounds float64 to the float32 the library computes in. Big-endian data is
 * swapped.
 */
function arrayValues<Out extends Float32Array | Float64Array>(
  value: unknown, name: string, shape: number[], dims: string, accepted: Descr[], described: string,
  Out: { new (length: number): Out }, refuse: Refuse,
): Out {
  if (!(value instanceof NdArray && value.built)) throw refuse(`a numpy array for ${name}`, kindOf(value));
  const { shape: found, dtype, data, fortran } = value;
  if (!Array.isArray(found) || found.length !== shape.length || found.some((s, i) => s !== shape[i])) {
    throw refuse(`shape ${shapeText(shape)} ${dims} for ${name}`, Array.isArray(found) ? `shape ${shapeText(found)}` : kindOf(found));
  }
  const descr = dtype instanceof Dtype ? dtype.descr : undefined;
  const order = dtype instanceof Dtype ? dtype.byteorder : undefined;
  if (!accepted.includes(descr as Descr) || !(order === '<' || order === '>')) {
    const got = dtype instanceof Dtype ? `dtype ${String(order ?? '')}${String(descr)}` : kindOf(dtype);
    throw refuse(`${described} for ${name}`, got);
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
  const { size, label, get } = DTYPES[descr as Descr];
  if (bytes.length !== count * size) {
    throw refuse(`${count * size} bytes (shape ${shapeText(shape)} of ${label}) for ${name}`, `${bytes.length}`);
  }
  const little = order === '<';
  let out = new Out(count);
  if (descr === 'f4' && little && out instanceof Float32Array) {
    new Uint8Array(out.buffer).set(bytes);  // a copy: the file's bytes may be unaligned for a Float32Array
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < count; i++) out[i] = get(view, size * i, little);
  }
  if (fortran) out = fromFortranOrder(out, shape, Out);
  return out;
}

/** The float32 data of a float32 (or float64) array, as nanopq stores its codewords and R (float64 if assigned by hand). */
function floatArray(value: unknown, name: string, shape: number[], dims: string, refuse: Refuse): Float32Array {
  return arrayValues(value, name, shape, dims, ['f4', 'f8'], 'a float32 (or float64) array', Float32Array, refuse);
}

/** Column-major data (numpy's F order: the first index varies fastest) in row-major order. */
function fromFortranOrder<Out extends Float32Array | Float64Array>(data: Out, shape: number[], Out: { new (length: number): Out }): Out {
  const out = new Out(data.length);
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

// -------------------------------------------------------- reading rii --

/** A rii.Rii as its pickle holds it, with its fine quantizer as Q: a model file's fields, or the model made of them. */
export interface PickledRii<Q> {
  fineQuantizer: Q;
  /** (N, M) uint8 codes. */
  codes: Uint8Array;
  /** (nlist, M) coarse centres, PQ codes; null when there are none (nlist 0). */
  coarseCenters: Uint8Array | null;
  /** nlist lists of ids. */
  postingLists: ArrayLike<number>[];
  /** rii's threshold line, slope * L + intercept (a numpy.poly1d); null for None. */
  threshold: { slope: number; intercept: number } | null;
  /** rii's verbose (impl_cpp's; its fine quantizer keeps one of its own). */
  verbose: boolean;
}

/** main.RiiCpp's state, the tuple its pybind11 __getstate__ returns (rii's src/main.cpp), in order. */
const CPP_STATE = ['codewords', 'verbose', 'coarse_centers', 'flattened_codes', 'posting_lists'] as const;

/**
 * build(rii) of a pickle of Python rii 0.2's rii.Rii (pickle.dump, protocols
 * 2 to 5, numpy 1 or 2), whose fine quantizer, a fitted nanopq PQ or OPQ,
 * quantizer(fields) makes. src is a file's path or its bytes. The lists are
 * checked for their shapes and byte ranges; what quantizer or build throws
 * (the library's checks: codes < Ks, ids in [0, N) and in one list at most)
 * is refused as values of the file.
 */
export function readPickledRii<Q, T>(
  src: string | Uint8Array, options: ReadPickleOptions, quantizer: (fields: ModelFields) => Q, build: (rii: PickledRii<Q>) => T,
): T {
  return readPickled(src, options, RII_PICKLE, (top, refuse) => {
    if (!(top instanceof Instance && top.cls === 'Rii')) {
      const other = top instanceof Instance && (top.cls === 'PQ' || top.cls === 'OPQ') ? ` (${NANOPQ_PICKLE.what}: io.${NANOPQ_PICKLE.reader} reads it)` : '';
      throw refuse('a rii.rii.Rii', kindOf(top) + other);
    }
    const a = attributes(top, ['fine_quantizer', 'impl_cpp', 'threshold'], 'Rii', refuse, [], 'rii 0.2');
    const { fields, arrays } = modelFields(a.fine_quantizer, refuse, 'Rii.fine_quantizer');
    const { M, Ks, Ds, codewords } = fields;
    if (codewords === null || Ds === null) throw refuse('a fitted PQ or OPQ for Rii.fine_quantizer (as rii needs)', 'one not fitted');
    if (Ks > 256) throw refuse("Ks <= 256 for Rii.fine_quantizer (rii's codes are uint8)", `Ks = ${Ks}`);
    const fineQuantizer = made(() => quantizer(fields), arrays, refuse);

    if (!(a.impl_cpp instanceof Instance && a.impl_cpp.cls === 'RiiCpp')) throw refuse(`${CLASSES.RiiCpp} for Rii.impl_cpp`, kindOf(a.impl_cpp));
    const state = a.impl_cpp.state;
    if (!Array.isArray(state) || state.length !== CPP_STATE.length) {
      throw refuse(`main.RiiCpp's state (${CPP_STATE.join(', ')}) for Rii.impl_cpp`, kindOf(state));
    }
    const cpp = Object.fromEntries(CPP_STATE.map((key, i) => [key, state[i]])) as Record<typeof CPP_STATE[number], unknown>;
    checkCppCodewords(cpp.codewords, codewords, [M, Ks, Ds], refuse);
    if (typeof cpp.verbose !== 'boolean') throw refuse('a bool for Rii.impl_cpp.verbose', kindOf(cpp.verbose));

    const centres = listOf(cpp.coarse_centers, 'Rii.impl_cpp.coarse_centers', refuse);
    const coarseCenters = new Uint8Array(centres.length * M);
    centres.forEach((centre, k) => {
      const name = `Rii.impl_cpp.coarse_centers[${k}]`;
      toCodes(listOf(centre, name, refuse, M), name, coarseCenters, k * M, refuse);
    });
    const flat = listOf(cpp.flattened_codes, 'Rii.impl_cpp.flattened_codes', refuse);
    if (flat.length % M !== 0) {
      throw refuse(`N codes of M = ${M} bytes for Rii.impl_cpp.flattened_codes`, `${flat.length} bytes`);
    }
    const codes = new Uint8Array(flat.length);
    toCodes(flat, 'Rii.impl_cpp.flattened_codes', codes, 0, refuse);
    const postingLists = listOf(cpp.posting_lists, 'Rii.impl_cpp.posting_lists', refuse)
      .map((list, k) => listOf(list, `Rii.impl_cpp.posting_lists[${k}]`, refuse) as ArrayLike<number>);
    const threshold = thresholdOf(a.threshold, refuse);
    return made(() => build({
      fineQuantizer, codes, coarseCenters: centres.length ? coarseCenters : null, postingLists, threshold, verbose: cpp.verbose as boolean,
    }), 'Rii.impl_cpp', refuse);
  });
}

/** value as a list (a pickled list or tuple) of length items, or of any length. */
function listOf(value: unknown, name: string, refuse: Refuse, length?: number): unknown[] {
  if (!Array.isArray(value) || (length !== undefined && value.length !== length)) {
    throw refuse(`a list${length === undefined ? '' : ` of ${length} items`} for ${name}`, kindOf(value));
  }
  return value;
}

/** A list of integers in [0, 255], written to out from offset. */
function toCodes(list: unknown[], name: string, out: Uint8Array, offset: number, refuse: Refuse): void {
  list.forEach((code, i) => {
    if (typeof code !== 'number' || !Number.isInteger(code) || code < 0 || code > 255) {
      throw refuse(`integers in [0, 255] (uint8 codes) for ${name}`, `${kindOf(code)} at ${name}[${i}]`);
    }
    out[offset + i] = code;
  });
}

/**
 * RiiCpp's copy of the codewords, lists (M, Ks, Ds) of floats: rii computes
 * its distances with these, so they must be the fine quantizer's, value for
 * value (RiiCpp keeps them as float32).
 */
function checkCppCodewords(value: unknown, codewords: Float32Array, [M, Ks, Ds]: number[], refuse: Refuse): void {
  const name = 'Rii.impl_cpp.codewords';
  listOf(value, name, refuse, M).forEach((subspace, m) => {
    listOf(subspace, `${name}[${m}]`, refuse, Ks).forEach((word, k) => {
      listOf(word, `${name}[${m}][${k}]`, refuse, Ds).forEach((x, d) => {
        const expected = codewords[(m * Ks + k) * Ds + d];
        if (x !== expected) {
          throw refuse(`${name} equal to Rii.fine_quantizer's codewords`, `${kindOf(x)} at [${m}][${k}][${d}], where the fine quantizer has ${expected}`);
        }
      });
    });
  });
}

/** rii's threshold: None, or a numpy.poly1d of a line (poly1d drops leading zeros: a constant has one coefficient). */
function thresholdOf(value: unknown, refuse: Refuse): PickledRii<unknown>['threshold'] {
  if (value === null) return null;
  if (!(value instanceof Instance && value.cls === 'poly1d')) throw refuse('a numpy.poly1d or None for Rii.threshold', kindOf(value));
  const a = attributes(value, ['coeffs', '_variable'], 'Rii.threshold', refuse, [], 'numpy');
  if (typeof a._variable !== 'string') throw refuse('a string for Rii.threshold._variable', kindOf(a._variable));
  const name = 'Rii.threshold.coeffs';
  const shape = a.coeffs instanceof NdArray ? a.coeffs.shape : undefined;
  if (!(Array.isArray(shape) && shape.length === 1 && (shape[0] === 1 || shape[0] === 2))) {
    throw refuse(`shape (1,) or (2,) (a line's coefficients) for ${name}`, Array.isArray(shape) ? `shape ${shapeText(shape)}` : kindOf(a.coeffs));
  }
  const c = arrayValues(a.coeffs, name, shape, '', ['f8', 'f4', 'i8', 'i4'], 'a float or integer array', Float64Array, refuse);
  const bad = c.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw refuse(`finite coefficients for ${name}`, `${c[bad]} at ${name}[${bad}]`);
  return c.length === 1 ? { slope: 0, intercept: c[0] } : { slope: c[0], intercept: c[1] };
}

// ------------------------------------------------------------- writing --

const ops = (...codes: number[]) => Buffer.from(codes);

/** Writes n, an int32, to out at `at` as Python pickles it: the shortest of BININT1, BININT2, BININT. Returns where it ends. */
function writeInt32(out: Buffer, at: number, n: number): number {
  if (n >= 0 && n < 2 ** 8) {
    out[at] = op.BININT1;
    return out.writeUInt8(n, at + 1);
  }
  out[at] = n >= 0 && n < 2 ** 16 ? op.BININT2 : op.BININT;
  return n >= 0 && n < 2 ** 16 ? out.writeUInt16LE(n, at + 1) : out.writeInt32LE(n, at + 1);
}

/** An int as Python pickles it: the shortest of BININT1, BININT2, BININT, then LONG1. */
function int(n: number): Buffer {
  if (n >= -(2 ** 31) && n < 2 ** 31) {
    const b = Buffer.alloc(5);
    return b.subarray(0, writeInt32(b, 0, n));
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
 * An ndarray as numpy pickles it below protocol 5: _reconstruct(ndarray,
 * (0,), b'b') then BUILD (1, shape, dtype('<f4') or dtype('<f8'), False, data).
 */
function ndarray(data: Float32Array | Float64Array, shape: number[], name: string): Buffer[] {
  // Typed arrays hold host order, little-endian on every platform Faiss packages ship for.
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length > 2 ** 32 - 1) throw new RangeError(`Expected ${name} of less than 4 GiB for a protocol 3 pickle, got ${bytes.length} bytes`);
  const length = Buffer.alloc(5);
  length[0] = op.BINBYTES;
  length.writeUInt32LE(bytes.length, 1);
  return [
    globalRef('numpy.core.multiarray', '_reconstruct'), globalRef('numpy', 'ndarray'),
    int(0), ops(op.TUPLE1, op.SHORT_BINBYTES, 1, 0x62 /* b */, op.TUPLE3, op.REDUCE),
    ops(op.MARK), int(1), ops(op.MARK), ...shape.map(int), ops(op.TUPLE),
    globalRef('numpy', 'dtype'), str(data instanceof Float32Array ? 'f4' : 'f8'), ops(op.NEWFALSE, op.NEWTRUE, op.TUPLE3, op.REDUCE),
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

/** A model's fields (`name` in messages) as a nanopq.PQ or nanopq.OPQ. */
function modelInstance(model: ModelFields, name: string): Buffer[] {
  if (model.kind === 'PQ') return pqInstance(model, name);
  const D = model.M * (model.Ds ?? 0);
  return instance('nanopq.opq', 'OPQ', [
    ['pq', pqInstance(model, name)],
    ['R', model.R ? ndarray(model.R, [D, D], `${name}.R`) : [ops(op.NONE)]],
  ]);
}

const pickle = (body: Buffer[]) => Buffer.concat([ops(op.PROTO, 3), ...body, ops(op.STOP)]);

/**
 * Writes a model's fields (`name` in messages) as a pickle that Python's
 * pickle.load turns into an equal nanopq.PQ or nanopq.OPQ (protocol 3, loaded
 * by numpy 1 and 2).
 */
export function writePickledModel(model: ModelFields, dst: string, name = 'model'): void {
  checkPath(dst, 'dst');
  fs.writeFileSync(dst, pickle(modelInstance(model, name)));
}

/** pickle's batch of APPENDS. */
const BATCH = 1000;

/**
 * A list as Python's pickler writes one: EMPTY_LIST, then its items in
 * batches of BATCH between MARK and APPENDS (a single item: the item, then
 * APPEND). items(from, to) pickles those [from, to).
 */
function list(count: number, items: (from: number, to: number) => Buffer[]): Buffer[] {
  if (count === 1) return [ops(op.EMPTY_LIST), ...items(0, 1), ops(op.APPEND)];
  const out: Buffer[] = [ops(op.EMPTY_LIST)];
  for (let from = 0; from < count; from += BATCH) out.push(ops(op.MARK), ...items(from, Math.min(from + BATCH, count)), ops(op.APPENDS));
  return out;
}

/** A list of numbers: int32s as int() writes them, or floats (BINFLOAT, big-endian), in one buffer per batch. */
function numberList(values: ArrayLike<number>, float = false): Buffer[] {
  return list(values.length, (from, to) => {
    const out = Buffer.alloc((to - from) * (float ? 9 : 5));
    let at = 0;
    for (let i = from; i < to; i++) {
      if (float) {
        out[at] = op.BINFLOAT;
        at = out.writeDoubleBE(values[i], at + 1);
      } else {
        at = writeInt32(out, at, values[i]);
      }
    }
    return [out.subarray(0, at)];
  });
}

/** A list of count lists, the i-th made by item(i). */
const listOfLists = (count: number, item: (i: number) => Buffer[]) =>
  list(count, (from, to) => Array.from({ length: to - from }, (_, i) => item(from + i)).flat());

/**
 * Writes a Rii's parts, its fine quantizer as a model's fields, as a pickle
 * that Python rii 0.2's pickle.load turns into an equal rii.Rii (protocol 3,
 * numpy 1 or 2): the __dict__ rii sets, impl_cpp as the state tuple of
 * main.RiiCpp, threshold as a numpy.poly1d (or None).
 */
export function writePickledRii(rii: PickledRii<ModelFields>, dst: string): void {
  checkPath(dst, 'dst');
  const { M, Ks, Ds, codewords } = rii.fineQuantizer;
  if (codewords === null || Ds === null) throw new TypeError('Expected a fitted fine quantizer for a rii pickle');
  const N = rii.codes.length / M;
  if (N > 2 ** 31 - 1) throw new RangeError(`Expected at most 2**31 - 1 codes for a rii pickle (rii's ids are int32), got ${N}`);
  const centres = rii.coarseCenters ?? new Uint8Array(0);
  const cpp = [
    globalRef('main', 'RiiCpp'), ops(op.EMPTY_TUPLE, op.NEWOBJ, op.MARK),
    ...listOfLists(M, (m) => listOfLists(Ks, (k) => numberList(codewords.subarray((m * Ks + k) * Ds, (m * Ks + k + 1) * Ds), true))),
    ops(rii.verbose ? op.NEWTRUE : op.NEWFALSE),
    ...listOfLists(centres.length / M, (k) => numberList(centres.subarray(k * M, (k + 1) * M))),
    ...numberList(rii.codes),
    ...listOfLists(rii.postingLists.length, (k) => numberList(rii.postingLists[k])),
    ops(op.TUPLE, op.BUILD),
  ];
  const t = rii.threshold;
  // np.poly1d drops leading zeros: a line of slope 0 has one coefficient
  const coeffs = t && Float64Array.from(t.slope === 0 ? [t.intercept] : [t.slope, t.intercept]);
  const threshold = coeffs ? instance('numpy', 'poly1d', [['coeffs', ndarray(coeffs, [coeffs.length], 'threshold')], ['_variable', [str('x')]]])
    : [ops(op.NONE)];
  fs.writeFileSync(dst, pickle(instance('rii.rii', 'Rii', [
    // rii sets its verbose and its fine quantizer's together
    ['fine_quantizer', modelInstance({ ...rii.fineQuantizer, verbose: rii.verbose }, 'fineQuantizer')],
    ['impl_cpp', cpp],
    ['threshold', threshold],
  ])));
}
