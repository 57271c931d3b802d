// Index files, as faiss.write_index writes them, and Faiss's index_factory.
// A file is checked whole (io/faiss-index.ts) before Faiss reads it; the
// class of what Faiss made is the one its kind registered (index-base.ts).
import * as fs from 'node:fs';
import type { Metric } from '../core/arrays';
import { native } from '../core/native';
import { checkInteger, checkMetric, describe } from '../core/validate';
import { checkIndexFile } from '../io/faiss-index';
import { readerFor } from '../io/reader';
import { adoptIndex, Index } from './index-base';
import { handleOf } from './object';

/** An index written by faiss.write_index (Python or C++), of any kind this library wraps. */
export function readIndex<T extends Index = Index>(src: string | Uint8Array): T {
  const reader = readerFor(src);
  checkIndexFile(reader);
  return adoptIndex<T>(native.readIndex(reader.bytes));
}

/**
 * The index as faiss.write_index writes it: its bytes (a Node Buffer, typed as
 * the Uint8Array it is), or, given dst, written to that file.
 */
export function writeIndex(index: Index): Uint8Array;
export function writeIndex(index: Index, dst: string): void;
export function writeIndex(index: Index, dst?: string): Uint8Array | void;
export function writeIndex(index: Index, dst?: string): Uint8Array | void {
  const bytes = native.writeIndex(handleOf(index, 'index', 'Index'));
  if (dst === undefined) return bytes;
  if (typeof dst !== 'string') throw new TypeError(`Expected a path for dst, got ${describe(dst)}`);
  fs.writeFileSync(dst, bytes);
}

/** The block sizes of fast scan in an IVF that Faiss 1.7.3 has search kernels for. */
const FAST_SCAN_IVF_BLOCKS = [32, 64, 96, 128, 160];

/** The most dimensions a random rotation (RR) may give beyond those it takes. */
const MAX_ROTATION = 1024;

/** The most lists an IVF may have, and the numbers a factory string may hold besides: 4M. */
const MAX_FACTORY_NUMBER = 2 ** 22;

/**
 * Throws a RangeError unless every number of the description is one Faiss
 * can build with: Faiss 1.7.3 checks none of them, and PQ0 divides by zero,
 * HNSW0 and IVF0 crash, HNSW1 never ends, OPQ to more dimensions than it
 * takes hangs, RR65536 over a few dimensions crashes, a fast-scan block size
 * without a search kernel aborts, and a huge nlist or M exhausts memory.
 */
function checkDescription(d: number, description: string): void {
  const refuse = (what: string) => new RangeError(`Expected a description Faiss can build, got ${what} in '${description}' (d = ${d})`);
  let dim = d;  // the dimension at this part, after the transforms before it
  let ivf = false;  // whether an IVF part came before
  for (const part of description.split(',').map((p) => p.trim())) {
    const transform = /^(OPQ)(\d+)(?:_(\d+))?$|^(PCAW?R?|RR)(\d+)$/.exec(part);
    if (transform) {
      const M = transform[1] ? Number(transform[2]) : 1;
      const out = Number(transform[3] ?? transform[5] ?? dim);
      // A random rotation to more dimensions than it takes draws an out x out matrix (out**3 to orthonormalize,
      // and a crash past 2**31 entries, which Faiss counts in an int): out is at most max(dim, 1024).
      const most = transform[4] === 'RR' ? Math.max(dim, MAX_ROTATION) : dim;
      if (M < 1 || out < 1 || out > most || out % M !== 0 || out * Math.max(out, dim) > 2 ** 31 - 1) throw refuse(`'${part}' for ${dim} dimensions`);
      dim = out;
      continue;
    }
    // Fast scan's block size (PQ8x4fs_64): Faiss 1.7.3's search aborts the process on one it has no kernel for
    // (32 to 160 by 32 in an IVF, 32 alone without), and 0 divides by zero.
    const bbs = /x4fsr?_(\d+)$/.exec(part);
    if (bbs && !(ivf ? FAST_SCAN_IVF_BLOCKS : [32]).includes(Number(bbs[1]))) {
      throw refuse(`'${part}' (fast scan's block size must be ${ivf ? FAST_SCAN_IVF_BLOCKS.join(', ') : '32 without an IVF'})`);
    }
    if (/^IVF/.test(part)) ivf = true;
    for (const [, prefix, digits] of part.matchAll(/([A-Za-z]*)(\d+)/g)) {
      const n = Number(digits);
      const [least, most] = prefix.endsWith('HNSW') ? [2, 512] : prefix.endsWith('PQ') ? [1, dim]
        : prefix === 'x' ? [1, 16] : [prefix.endsWith('IVF') ? 1 : 0, MAX_FACTORY_NUMBER];
      if (!(n >= least && n <= most)) throw refuse(`${prefix}${digits} (${least} to ${most})`);
    }
  }
}

/**
 * The index Faiss's index_factory makes of `description` (e.g.
 * 'OPQ16,IVF256,PQ16', 'HNSW32', 'IDMap2,Flat'), untrained unless it needs
 * no training; a description Faiss refuses is an Error with Faiss's message.
 */
export function indexFactory<T extends Index = Index>(d: number, description: string, metric: Metric = 'l2'): T {
  checkInteger(d, 'd', 1, 2 ** 31 - 1);
  if (typeof description !== 'string') throw new TypeError(`Expected a string for description, got ${describe(description)}`);
  checkDescription(d, description);
  return adoptIndex<T>(native.indexFactory(d, description, checkMetric(metric)));
}
