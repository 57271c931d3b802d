// The one bounded reader that every file format reads through. Each length is
// checked against the bytes left before anything is read or allocated, so a
// header that claims more than the file holds is an error, never an
// allocation of what it claims. Every error has one shape:
//   Expected <what> in <file> at byte <offset>, got <what is there>
// where <file> is the path, or the argument's name when bytes were passed
// (and no offset for what is at no one place, as the objects a pickle built).
import * as fs from 'node:fs';
import { describe, unshared } from '../core/validate';

export type TypedArrayType<T> = { new (length: number): T; new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

export class Reader {
  offset = 0;
  /** Where the last field read began: an error about its value points there. */
  private fieldStart = 0;

  private readonly buf: Buffer;

  /** owned: nothing else holds bytes, so arrays may be views of them instead of copies. */
  constructor(bytes: Uint8Array, readonly name: string, private readonly owned = false) {
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get bytes(): Uint8Array { return this.buf; }

  get left(): number { return this.buf.length - this.offset; }

  error(expected: string, found: string, at: number | null = this.fieldStart): TypeError {
    return new TypeError(`Expected ${expected} in ${this.name}${at === null ? '' : ` at byte ${at}`}, got ${found}`);
  }

  expect(ok: boolean, expected: string, found: string): void {
    if (!ok) throw this.error(expected, found);
  }

  /**
   * The magic and format version that begin one of this library's files
   * (`what` names the format in errors): refused unless headerBytes are there,
   * the magic matches (shown as `shownMagic`) and the version is one of
   * `versions` (a number, or those a format still reads, oldest first),
   * which is returned.
   */
  formatHeader(what: string, magic: string, versions: number | readonly number[], headerBytes: number, shownMagic = magic): number {
    const bytes = this.left;
    if (bytes < headerBytes || this.text(magic.length, 'the magic') !== magic) {
      throw this.error(what, `${bytes} bytes that do not start with the magic "${shownMagic}"`, 0);
    }
    const known = typeof versions === 'number' ? [versions] : versions;
    const found = this.u32('the format version');
    if (!known.includes(found)) {
      const reads = known.length === 1 ? `version ${known[0]}` : `versions ${known.slice(0, -1).join(', ')} and ${known[known.length - 1]}`;
      throw this.error(what, `format version ${found}; this build reads ${reads}`);
    }
    return found;
  }

  /** The offset of n bytes of what, which are then passed over. */
  private take(n: number, what: string): number {
    this.fieldStart = this.offset;
    if (n > this.left) throw this.error(`${what} of ${n} bytes`, `${this.left} bytes left`);
    this.offset += n;
    return this.fieldStart;
  }

  u8(what: string): number { return this.buf.readUInt8(this.take(1, what)); }
  u16(what: string): number { return this.buf.readUInt16LE(this.take(2, what)); }
  u32(what: string): number { return this.buf.readUInt32LE(this.take(4, what)); }
  u32be(what: string): number { return this.buf.readUInt32BE(this.take(4, what)); }
  i32(what: string): number { return this.buf.readInt32LE(this.take(4, what)); }

  /** An int64 size or count: refused unless 0 <= value <= 2**53 - 1, so that it is exact as a number. */
  size64(what: string): number {
    const value = this.buf.readBigInt64LE(this.take(8, what));
    if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) throw this.error(`${what} of 0 to 2**53 - 1`, String(value));
    return Number(value);
  }

  /** An int64 as it is (an id, or a value that may be negative). */
  i64(what: string): bigint { return this.buf.readBigInt64LE(this.take(8, what)); }
  /** A uint64 as it is. */
  u64(what: string): bigint { return this.buf.readBigUInt64LE(this.take(8, what)); }
  /** One float32. */
  float(what: string): number { return this.buf.readFloatLE(this.take(4, what)); }
  /** One float64. */
  f64(what: string): number { return this.buf.readDoubleLE(this.take(8, what)); }

  skip(n: number, what: string): void { this.take(n, what); }

  /** n bytes of what, in place. */
  slice(n: number, what: string): Uint8Array {
    const at = this.take(n, what);
    return this.buf.subarray(at, at + n);
  }

  /** n bytes as a string; in latin1, the default, each byte is one character. */
  text(n: number, what: string, encoding: 'latin1' | 'utf8' = 'latin1'): string {
    const at = this.take(n, what);
    return this.buf.toString(encoding, at, at + n);
  }

  /**
   * count little-endian elements of Type (the host's order: every platform
   * Faiss ships for is little-endian). A view when the bytes are the reader's
   * own and aligned for Type, else an aligned copy.
   */
  array<T extends ArrayBufferView>(Type: TypedArrayType<T>, count: number, what: string): T {
    const size = Type.BYTES_PER_ELEMENT;
    const at = this.take(count * size, what);
    const start = this.buf.byteOffset + at;
    if (this.owned && start % size === 0) return new Type(this.buf.buffer, start, count);
    const out = new Type(count);
    new Uint8Array(out.buffer).set(this.buf.subarray(at, at + count * size));
    return out;
  }

  f32(count: number, what: string): Float32Array { return this.array(Float32Array, count, what); }
}

/**
 * A reader over src: a file's path (which errors name) or its bytes (named
 * argName in errors, and copied from when arrays are read, so the result does
 * not share memory the caller may reuse).
 */
export function readerFor(src: unknown, argName = 'src'): Reader {
  if (typeof src === 'string') {
    // A small file's bytes may sit in Node's shared Buffer pool: views of it would expose the rest.
    const bytes = fs.readFileSync(src);
    return new Reader(bytes, src, bytes.byteLength === bytes.buffer.byteLength);
  }
  // Bytes another thread may write are copied: they are checked, then read again.
  if (src instanceof Uint8Array) return new Reader(unshared(src), argName);
  throw new TypeError(`Expected a path or a Uint8Array for ${argName}, got ${describe(src)}`);
}
