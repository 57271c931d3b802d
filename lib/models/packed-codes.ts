// Codes of a Ks = 16 model packed for fast scan (native/kernels/fast_scan.h):
// 4 bits a code, in blocks of 32 rows, which search, searchAsync,
// dtable(q).topk and adist take in place of the plain codes, with the same
// results. The layout is in docs/format.md.
import * as fs from 'node:fs';
import { CodeMatrix } from '../core/arrays';
import { defineInspect } from '../core/inspect';
import { native } from '../core/native';
import { checkFingerprint, checkInteger, checkPath, describe, toCodes } from '../core/validate';
import { packedBytes, packedHeader, PACKED_MAX_M as MAX_M, readPacked } from '../io/packed-file';
import { readerFor } from '../io/reader';
import { withFingerprint } from './fingerprint';

export class PackedCodes {
  /** The layout's name, which a reader checks: 32 rows a block, 4 bits a code. */
  static readonly LAYOUT = 'nanopq-4bit-32';
  readonly layout = PackedCodes.LAYOUT;
  /** Rows (codes), and subspaces a row. */
  readonly N: number;
  readonly M: number;
  readonly data: Uint8Array;
  /**
   * The fingerprint of the model whose codes these are (packCodes), which
   * the models' methods check; null: none, unchecked.
   */
  readonly fingerprint: string | null;

  static {
    defineInspect(PackedCodes, (p) => ({ N: p.N, M: p.M, bytes: p.data.length, layout: p.layout }));
  }

  /**
   * N codes of M subspaces packed in data (packCodes' layout; used in place,
   * not copied): its length is checked. fingerprint: of the model whose codes
   * these are, if known (a model's fingerprint getter).
   */
  constructor(data: Uint8Array, N: number, M: number, fingerprint: string | null = null) {
    if (!(data instanceof Uint8Array)) throw new TypeError(`Expected data to be a Uint8Array, got ${describe(data)}`);
    this.N = checkInteger(N, 'N', 0);
    this.M = checkInteger(M, 'M', 1, MAX_M);
    const bytes = packedBytes(this.N, this.M);
    if (data.length !== bytes) {
      throw new RangeError(`Expected ${bytes} bytes of packed codes for N = ${this.N}, M = ${this.M}, got ${data.length}`);
    }
    this.data = data;
    this.fingerprint = fingerprint === null ? null : checkFingerprint(fingerprint, 'fingerprint');
    Object.freeze(this);
  }

  /** codes (N, M) of a Ks = 16 model, packed; of the model of fingerprint, if known. */
  static pack(codes: unknown, M: number, fingerprint: string | null = null): PackedCodes {
    if (M > MAX_M) throw new RangeError(`Expected M <= ${MAX_M} to pack codes, got M = ${M}`);
    const c = toCodes(codes, 'codes', M, 16);
    if (!(c.data instanceof Uint8Array)) throw new TypeError(`Expected uint8 codes to pack, got ${describe(c.data)}`);
    const out = new Uint8Array(packedBytes(c.rows, M));
    native.pack4(c.data, c.rows, M, out);
    return new PackedCodes(out, c.rows, M, fingerprint);
  }

  /** The .npk format (docs/format.md): a header (N, M, fingerprint) and the packed bytes; a Node Buffer, typed as the Uint8Array it is. */
  toBuffer(): Uint8Array {
    return Buffer.concat([packedHeader(this.N, this.M, this.fingerprint), this.data]);
  }

  save(path: string): void {
    fs.writeFileSync(checkPath(path), this.toBuffer());
  }

  /** PackedCodes of a .npk file's bytes (copied), each size checked. */
  static fromBuffer(bytes: Uint8Array): PackedCodes {
    const { N, M, fingerprint, data } = readPacked(readerFor(bytes, 'bytes'));
    return new PackedCodes(data, N, M, fingerprint);
  }

  static load(path: string): PackedCodes {
    const { N, M, fingerprint, data } = readPacked(readerFor(checkPath(path)));
    return new PackedCodes(data, N, M, fingerprint);
  }

  /** The plain codes (N, M), uint8, carrying the fingerprint. */
  unpack(): CodeMatrix {
    const codes = new Uint8Array(this.N * this.M);
    native.unpack4(this.data, this.N, this.M, codes);
    return withFingerprint({ data: codes, shape: [this.N, this.M] }, this.fingerprint);
  }
}

/**
 * packed, checked against a model of M subspaces and Ks codewords (name: the
 * argument, for the errors).
 */
export function checkPacked(packed: unknown, M: number, Ks: number, name: string): PackedCodes {
  if (!(packed instanceof PackedCodes)) {
    throw new TypeError(`Expected ${name} to be PackedCodes (packCodes), got ${describe(packed)}`);
  }
  if (Ks !== 16) throw new TypeError(`Expected a model with Ks = 16 for packed ${name}, got Ks = ${Ks}`);
  if (packed.M !== M) throw new RangeError(`Expected packed ${name} of M = ${M} subspaces, got M = ${packed.M}`);
  return packed;
}
