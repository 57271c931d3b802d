// The .npk format (docs/format.md): codes packed for fast scan, as
// PackedCodes (models/packed-codes.ts) holds them, after a header.
//   offset  size  field
//   0       8     magic "NANOPQPK"
//   8       4     format version, uint32: 2 (1 is still read: no fingerprint)
//   12      4     M, uint32: subspaces (1 to 256)
//   16      8     N, uint64: codes
//   24      16    version 2: the model's fingerprint, 16 ASCII hex digits, or 16 zero bytes for none
//   40      ...   the packed codes: ceil(N / 32) * 32 * ceil(M / 2) bytes (at 24 in version 1)
import { FINGERPRINT_DIGITS, isFingerprint } from '../core/validate';
import { Reader } from './reader';

const MAGIC = 'NANOPQPK';
const VERSION = 2;
/** Bytes before the codes in version 1, which has no fingerprint: the shortest header. */
const V1_HEADER_BYTES = 24;
/** Bytes before the codes. */
export const PACKED_HEADER_BYTES = V1_HEADER_BYTES + FINGERPRINT_DIGITS;
/** The most subspaces the scans take. */
export const PACKED_MAX_M = 256;

/** Bytes of N packed codes of M subspaces: 32 bytes (one a row) a pair of subspaces a block of 32 rows. */
export function packedBytes(N: number, M: number): number {
  return Math.ceil(N / 32) * 32 * Math.ceil(M / 2);
}

/** The header of a .npk file of N codes of M subspaces, of the model of fingerprint (none: null). */
export function packedHeader(N: number, M: number, fingerprint: string | null): Uint8Array {
  const out = Buffer.alloc(PACKED_HEADER_BYTES);  // zeros: no fingerprint
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(VERSION, 8);
  out.writeUInt32LE(M, 12);
  out.writeBigUInt64LE(BigInt(N), 16);
  if (fingerprint !== null) out.write(fingerprint, V1_HEADER_BYTES, 'latin1');
  return out;
}

const PACKED_FILE = 'nanopq packed codes (.npk)';
const NO_FINGERPRINT = '\0'.repeat(FINGERPRINT_DIGITS);

/** N, M, the fingerprint and the packed codes (a copy) of a .npk file, its sizes checked against the bytes it holds. */
export function readPacked(r: Reader): { N: number; M: number; fingerprint: string | null; data: Uint8Array } {
  const invalid = (found: string, at?: number) => r.error(PACKED_FILE, found, at);
  const version = r.formatHeader(PACKED_FILE, MAGIC, [1, VERSION], V1_HEADER_BYTES);
  const M = r.u32('M');
  if (M < 1 || M > PACKED_MAX_M) throw invalid(`M = ${M}, not 1 to ${PACKED_MAX_M}`);
  const N = r.size64('N');
  // Zero bytes, or a version-1 file's no field at all: codes of no known model, searched unchecked.
  const text = version >= 2 ? r.text(FINGERPRINT_DIGITS, 'the fingerprint') : NO_FINGERPRINT;
  if (text !== NO_FINGERPRINT && !isFingerprint(text)) {
    throw invalid(`the fingerprint ${JSON.stringify(text)}, not ${FINGERPRINT_DIGITS} hex digits (0-9, a-f) or zero bytes`);
  }
  const fingerprint = text === NO_FINGERPRINT ? null : text;
  const data = new Uint8Array(r.slice(packedBytes(N, M), 'the packed codes'));  // a copy: a Buffer's slice() is a view
  if (r.left !== 0) throw invalid(`${r.left} bytes after the packed codes`);
  return { N, M, fingerprint, data };
}
