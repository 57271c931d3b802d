// Index files, as faiss.write_index writes them. A file is checked whole
// (io/faiss-index.ts) before Faiss reads it, and the checker's verdict picks
// the class: adding a kind adds a line to `kinds`.
import * as fs from 'node:fs';
import { native } from '../core/native';
import { describe } from '../core/validate';
import { checkIndexFile, IndexType } from '../io/faiss-index';
import { readerFor } from '../io/reader';
import { IndexPQ } from './index-pq';
import { IndexPreTransform } from './index-pre-transform';
import { adopt, handleOf } from './object';

/** The class of each kind the checker accepts. */
const kinds: Record<IndexType, typeof IndexPQ | typeof IndexPreTransform> = { IndexPQ, IndexPreTransform };

/** An index written by faiss.write_index (Python or C++): an IndexPQ or IndexPreTransform. */
export function readIndex(src: string | Uint8Array): IndexPQ | IndexPreTransform {
  const reader = readerFor(src);
  const type = checkIndexFile(reader);
  const handle = native.readIndex(reader.bytes);
  return adopt<IndexPQ | IndexPreTransform>(kinds[type], handle);
}

/**
 * The index as faiss.write_index writes it: its bytes (a Node Buffer, typed as
 * the Uint8Array it is), or, given dst, written to that file.
 */
export function writeIndex(index: IndexPQ | IndexPreTransform): Uint8Array;
export function writeIndex(index: IndexPQ | IndexPreTransform, dst: string): void;
export function writeIndex(index: IndexPQ | IndexPreTransform, dst?: string): Uint8Array | void;
export function writeIndex(index: IndexPQ | IndexPreTransform, dst?: string): Uint8Array | void {
  const bytes = native.writeIndex(handleOf(index, 'index', 'IndexPQ or IndexPreTransform'));
  if (dst === undefined) return bytes;
  if (typeof dst !== 'string') throw new TypeError(`Expected a path for dst, got ${describe(dst)}`);
  fs.writeFileSync(dst, bytes);
}
