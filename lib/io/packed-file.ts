// The .npk format (docs/format.md): codes packed for fast scan, as
// PackedCodes (models/packed-codes.ts) holds them, after a header.
//   offset  size  field
//   0       8     magic "NANOPQPK"
//   8       4     format version, uint32: 1
//   12      4     M, uint32: subspaces (1 to 256)
//   16      8     N, uint64: codes
//   24      ...   the packed codes: ceil(N / 32) * 32 * ceil(M / 2) bytes
import { Reader } from './reader';

const MAGIC = 'NANOPQPK';
const VERSION = 1;
/** Bytes before the codes. */
export const PACKED_HEADER_BYTES = 24;
/** The most subspaces the scans take. */
export const PACKED_MAX_M = 256;

/** Bytes of N packed codes of M subspaces: 32 bytes (one a row) a pair of subspaces a block of 32 rows. */
export function packedBytes(N: number, M: number): number {
  return Math.ceil(N / 32) * 32 * Math.ceil(M / 2);
}

/** The header of a .npk file of N codes of M subspaces. */
export function packedHeader(N: number, M: number): Uint8Array {
  const out = Buffer.alloc(PACKED_HEADER_BYTES);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(VERSION, 8);
  out.writeUInt32LE(M, 12);
  out.writeBigUInt64LE(BigInt(N), 16);
  return out;
}

const PACKED_FILE = 'nanopq packed codes (.npk)';

/** N, M and the packed codes (a copy) of a .npk file, its sizes checked against the bytes it holds. */
export function readPacked(r: Reader): { N: number; M: number; data: Uint8Array } {
  const invalid = (found: string, at?: number) => r.error(PACKED_FILE, found, at);
  r.formatHeader(PACKED_FILE, MAGIC, VERSION, PACKED_HEADER_BYTES);
  const M = r.u32('M');
  if (M < 1 || M > PACKED_MAX_M) throw invalid(`M = ${M}, not 1 to ${PACKED_MAX_M}`);
  const N = r.size64('N');
  const data = new Uint8Array(r.slice(packedBytes(N, M), 'the packed codes'));  // a copy: a Buffer's slice() is a view
  if (r.left !== 0) throw invalid(`${r.left} bytes after the packed codes`);
  return { N, M, data };
}
