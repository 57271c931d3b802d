// The .rii format: this library's own serialization of a Rii, documented in
// docs/format.md.
//
//   offset  size  field
//   0       8     magic "NANOPQRI"
//   8       4     format version, uint32 (1)
//   12      4     M, uint32
//   16      8     N, uint64: codes
//   24      8     nlist, uint64: coarse centres (0: none)
//   32      8     removed, uint64: removed ids
//   40      8     the fine quantizer's .npq bytes, uint64 (F)
//   48      8     threshold slope, float64 (NaN: none)
//   56      8     threshold intercept, float64
//   64      F     the fine quantizer, a .npq model
//   ...     N M   codes, uint8 (N, M)
//   ...     nl M  coarse centres, uint8 (nlist, M)
//   ...     4 nl  posting list sizes, uint32
//   ...     4 S   posting lists' ids, uint32, list after list (S: the sizes' sum)
//   ...     4 R   removed ids, uint32
// All little-endian; nothing follows.
import { Reader } from './reader';

const MAGIC = 'NANOPQRI';
const VERSION = 1;
const HEADER = 64;

/** What a .rii file holds; fineQuantizer is a .npq model's bytes. */
export interface RiiFields {
  M: number;
  fineQuantizer: Uint8Array;
  codes: Uint8Array;
  coarseCenters: Uint8Array | null;
  postingLists: Uint32Array[];
  threshold: { slope: number; intercept: number } | null;
  removed: Uint32Array;
}

export function writeRii(f: RiiFields): Uint8Array {
  const nlist = f.coarseCenters ? f.coarseCenters.length / f.M : 0;
  const listed = f.postingLists.reduce((s, l) => s + l.length, 0);
  const parts: Uint8Array[] = [f.fineQuantizer, f.codes, f.coarseCenters ?? new Uint8Array(0),
    new Uint8Array(Uint32Array.from(f.postingLists, (l) => l.length).buffer)];
  const ids = new Uint32Array(listed);
  let at = 0;
  for (const list of f.postingLists) {
    ids.set(list, at);
    at += list.length;
  }
  parts.push(new Uint8Array(ids.buffer), new Uint8Array(f.removed.buffer, f.removed.byteOffset, f.removed.byteLength));
  const out = Buffer.alloc(HEADER + parts.reduce((s, p) => s + p.length, 0));
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(VERSION, 8);
  out.writeUInt32LE(f.M, 12);
  out.writeBigUInt64LE(BigInt(f.codes.length / f.M), 16);
  out.writeBigUInt64LE(BigInt(nlist), 24);
  out.writeBigUInt64LE(BigInt(f.removed.length), 32);
  out.writeBigUInt64LE(BigInt(f.fineQuantizer.length), 40);
  out.writeDoubleLE(f.threshold ? f.threshold.slope : NaN, 48);
  out.writeDoubleLE(f.threshold ? f.threshold.intercept : NaN, 56);
  let offset = HEADER;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

const RII_FILE = 'a nanopq Rii (.rii)';

/**
 * The fields of a .rii file (its sizes checked against the bytes it holds;
 * the values are checked by Rii.fromParts). r reads the file or bytes.
 */
export function readRii(r: Reader): RiiFields {
  const invalid = (found: string, at?: number) => r.error(RII_FILE, found, at);
  r.formatHeader(RII_FILE, MAGIC, VERSION, HEADER);
  const M = r.u32('M');
  const N = r.size64('N'), nlist = r.size64('nlist'), removedCount = r.size64('the number of removed ids');
  const fqBytes = r.size64('the size of the fine quantizer');
  const slope = r.f64('the threshold slope'), intercept = r.f64('the threshold intercept');
  if (M < 1) throw invalid(`M = ${M}`);
  // Each size is checked against the bytes left before anything is allocated from it.
  const fineQuantizer = new Uint8Array(r.slice(fqBytes, 'the fine quantizer'));  // copies: a Buffer's slice() is a view
  const codes = new Uint8Array(r.slice(N * M, 'the codes'));
  const coarseCenters = nlist > 0 ? new Uint8Array(r.slice(nlist * M, 'the coarse centres')) : null;
  const sizes = r.array(Uint32Array, nlist, 'the posting list sizes');
  const listed = sizes.reduce((s, n) => s + n, 0);
  const ids = r.array(Uint32Array, listed, 'the posting lists');
  const postingLists: Uint32Array[] = [];
  for (let k = 0, at = 0; k < nlist; at += sizes[k], k++) postingLists.push(ids.slice(at, at + sizes[k]));
  const removed = r.array(Uint32Array, removedCount, 'the removed ids').slice();
  if (r.left !== 0) throw invalid(`${r.left} bytes after the removed ids`);
  const threshold = Number.isNaN(slope) ? null : { slope, intercept };
  return { M, fineQuantizer, codes, coarseCenters, postingLists, threshold, removed };
}
