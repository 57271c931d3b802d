// Rii, the Reconfigurable Inverted Index (Matsui, Hinami and Satoh, ACM MM
// 2018), with the interface of Python rii 0.2: an inverted file over the PQ
// codes of a fitted PQ or OPQ, whose coarse centres are themselves PQ codes,
// found by PQk-means over the stored codes. Its scans are native
// (model/rii.h): queries, one or many on every core, and PQk-means'
// assignments; the index is held here, in typed arrays.
import * as fs from 'node:fs';
import { CodeMatrix, Codewords, MatrixLike, VectorLike } from '../core/arrays';
import { AsyncOptions, eachRowPiece, settled, zeroCopyOption } from '../core/async';
import { AbortError, atSite } from '../core/errors';
import { defineInspect } from '../core/inspect';
import { native } from '../core/native';
import type { NativeModel, RiiArrays, RiiPlan } from '../core/native-model';
import { checkInteger, checkOptions, checkPath, describe, toMatrix, toVector } from '../core/validate';
import { readModel } from '../io/npq';
import { readerFor } from '../io/reader';
import { readRii, writeRii } from '../io/rii-file';
import { OPQ, opqFromFields } from './opq';
import { PostingLists } from './posting-lists';
import { PQ, pqFromFields } from './pq';
import { AbortSignalLike, fittedModelOf, Progress } from './quantizer';
import type { SearchResult } from './search';

/** What `new Rii(...)` takes. */
export interface RiiOptions {
  /** A fitted PQ or OPQ with Ks <= 256; the Rii keeps a copy of it. */
  fineQuantizer: PQ | OPQ;
}

/** What `addConfigure` and `reconfigure` take. */
export interface ConfigureOptions {
  /**
   * The number of posting lists (coarse centres), 1 to N.
   * @defaultValue floor(sqrt(N))
   */
  nlist?: number;
  /**
   * PQk-means iterations (0: the centres are N codes picked at random).
   * @defaultValue 5
   */
  iter?: number;
}

/** What `addConfigureAsync` and `reconfigureAsync` take. */
export interface AsyncConfigureOptions extends ConfigureOptions, AsyncOptions {
  /**
   * Aborting stops PQk-means between iterations; the call then rejects with an AbortError and the Rii is left as it was.
   * @defaultValue none
   */
  signal?: AbortSignalLike;
  /**
   * Called on the event loop after each PQk-means iteration ({ phase: 'pqkmeans', iteration, of }); if it throws, the call stops and rejects with that error.
   * @defaultValue none
   */
  onProgress?: (progress: Progress) => void;
}

/** What `add` and `merge` take. */
export interface AddOptions {
  /**
   * Whether the new ids go into the posting lists: 'auto' does when they exist (nlist > 0).
   * @defaultValue 'auto'
   */
  updatePostingLists?: boolean | 'auto';
}

/** What `query` takes. */
export interface QueryOptions {
  /**
   * How many results, 1 to the number of targets.
   * @defaultValue 1
   */
  topk?: number;
  /**
   * Candidates whose distance ivf computes, topk to N (linear ignores it).
   * @defaultValue the smallest multiple of L0 above topk, at most N
   */
  L?: number;
  /**
   * Search only these ids (integers in [0, N), no duplicates): a BigInt64Array, another integer typed array or an array.
   * @defaultValue every id
   */
  targetIds?: BigInt64Array | ArrayLike<number | bigint>;
  /**
   * Sort (a copy of) targetIds first; false: they must already be in ascending order.
   * @defaultValue true
   */
  sortTargetIds?: boolean;
  /**
   * 'linear' scans the targets, 'ivf' the nearest posting lists, 'auto' picks the faster by the threshold.
   * @defaultValue 'auto'
   */
  method?: 'auto' | 'linear' | 'ivf';
}

/** What `searchAsync` takes: query's options and zeroCopy. */
export interface SearchAsyncOptions extends QueryOptions, AsyncOptions {}

/** The best topk, best first (smallest for 'l2', largest for 'dot'), ties to the lower id. */
export interface QueryResult { ids: Uint32Array; dists: Float32Array }

/**
 * When 'auto' picks linear: for |targets| <= slope * L + intercept (Python
 * rii's `threshold`, a np.poly1d of these coefficients).
 */
export interface Threshold { slope: number; intercept: number }

/**
 * Everything a Rii holds, as its files, Python rii's pickles and Faiss's
 * IndexIVFPQ carry it (Rii.fromParts, rii.toParts).
 */
export interface RiiParts {
  /** A fitted PQ or OPQ with Ks <= 256 (the Rii keeps a copy). */
  fineQuantizer: PQ | OPQ;
  /** (N, M) codes of the fine quantizer: id n is row n. */
  codes: Uint8Array;
  /** (nlist, M) coarse centres, PQ codes; null (or empty) for none. */
  coarseCenters: Uint8Array | null;
  /** nlist lists of ids in [0, N), each id in at most one list. */
  postingLists: ArrayLike<number>[];
  /** Which method 'auto' picks; null: estimated (where there are lists). */
  threshold: Threshold | null;
  /** Ids removed (Rii.remove): in no posting list, never found. */
  removed?: ArrayLike<number>;
}

/** The id of a missing result in a row of search (fewer than topk found): Rii.NO_ID. */
const NO_ID = 2 ** 32 - 1;

const METHODS = ['auto', 'linear', 'ivf'] as const;
const MAX_N = NO_ID;  // ids are Uint32, below NO_ID

/** A seeded generator of uniform [0, 1) doubles (mulberry32): the same sample everywhere. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The first count of a seeded random permutation of 0..n-1. */
function randomPick(n: number, count: number, seed: number): Uint32Array {
  const ids = new Uint32Array(n);
  for (let i = 0; i < n; i++) ids[i] = i;
  const next = generator(seed);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(next() * (n - i));
    const t = ids[i]; ids[i] = ids[j]; ids[j] = t;
  }
  return ids.slice(0, count);
}

/** numpy's round: halves to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function updateFlag(value: unknown): boolean | 'auto' {
  if (value === true || value === false || value === 'auto') return value;
  throw new TypeError(`Expected true, false or 'auto' for updatePostingLists, got ${describe(value)}`);
}

/**
 * ids (targetIds, or remove's) as sorted Uint32 ids in [0, N) (a copy: the
 * caller's array is not sorted); with distinct, duplicates are refused.
 * With inPlace (a synchronous call, which reads them before it returns), a
 * Uint32Array of distinct ids in ascending order is used as it is.
 */
function targetIdsOf(x: unknown, N: number, sort: boolean, name: string, distinct: boolean, inPlace = false): Uint32Array {
  if (inPlace && x instanceof Uint32Array && isStrictlyAscending(x) && (x.length === 0 || x[x.length - 1] < N)) return x;
  if (!Array.isArray(x) && !(ArrayBuffer.isView(x) && !(x instanceof DataView))) {
    throw new TypeError(`Expected ${name} to be a BigInt64Array, an integer typed array or an array of ids, got ${describe(x)}`);
  }
  const given = x as ArrayLike<unknown>;
  let ids: Uint32Array;
  if (x instanceof Uint32Array || x instanceof Int32Array || x instanceof Uint16Array || x instanceof Uint8Array) {
    // Integers already: a copy (the caller's array is not sorted), then one pass for the range.
    ids = new Uint32Array(x);
    if (x instanceof Int32Array) {
      const negative = x.findIndex((v) => v < 0);
      if (negative >= 0) throw new RangeError(`Expected ids in [0, N = ${N}) in ${name}, got ${x[negative]} at ${name}[${negative}]`);
    }
    const at = firstOutOf(ids, N);
    if (at >= 0) throw new RangeError(`Expected ids in [0, N = ${N}) in ${name}, got ${ids[at]} at ${name}[${at}]`);
  } else {
    ids = new Uint32Array(given.length);
    for (let i = 0; i < given.length; i++) {
      const v = given[i];
      let id: number;
      if (typeof v === 'bigint') {
        id = v >= 0n && v < BigInt(N) ? Number(v) : -1;
      } else if (typeof v === 'number' && Number.isInteger(v)) {
        id = v >= 0 && v < N ? v : -1;
      } else {
        throw new TypeError(`Expected integer ids in ${name}, got ${describe(v)} at ${name}[${i}]`);
      }
      if (id < 0) throw new RangeError(`Expected ids in [0, N = ${N}) in ${name}, got ${describe(v)} at ${name}[${i}]`);
      ids[i] = id;
    }
  }
  // Targets often come sorted and distinct: then nothing more to do (a sort of sorted ids cost a query's scan).
  if (isStrictlyAscending(ids)) return ids;
  if (sort) ids.sort();
  for (let i = 1; i < ids.length; i++) {
    if (ids[i] <= ids[i - 1]) {
      if (ids[i] < ids[i - 1]) {
        throw new RangeError(`Expected ${name} sorted in ascending order when sortTargetIds is false, ` +
          `got ${ids[i]} after ${ids[i - 1]} at ${name}[${i}]`);
      }
      if (distinct) throw new RangeError(`Expected no duplicate ids in ${name}, got ${ids[i]} twice`);
    }
  }
  return ids;
}

/** The first index of an id >= N, or -1. */
function firstOutOf(ids: Uint32Array, N: number): number {
  for (let i = 0; i < ids.length; i++) if (ids[i] >= N) return i;
  return -1;
}

function isStrictlyAscending(ids: Uint32Array): boolean {
  for (let i = 1; i < ids.length; i++) if (ids[i] <= ids[i - 1]) return false;
  return true;
}

/** What the async configurations take besides nlist and iter: signal and onProgress, checked. */
interface ProgressControl {
  /** Throws an AbortError (at site) once the signal aborted, or the error onProgress threw. */
  check(site: Error): void;
  report(progress: Progress): void;
}

function progressControl(o: Record<string, unknown>): ProgressControl {
  const { signal, onProgress } = o as { signal?: AbortSignalLike; onProgress?: (p: Progress) => void };
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`Expected an AbortSignal for signal, got ${describe(signal)}`);
  }
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new TypeError(`Expected a function for onProgress, got ${describe(onProgress)}`);
  }
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
  return {
    check(site) {
      if (signal?.aborted) throw atSite(new AbortError(undefined, { cause: signal.reason }), site);
    },
    report(progress) {
      onProgress?.(progress);
    },
  };
}

/** A Rii from a .rii file's path or bytes; `source` is what errors name. */
function riiFromFile(src: string | Uint8Array, source: string): Rii {
  if (source === 'buf' && !(src instanceof Uint8Array)) throw new TypeError(`Expected a Uint8Array for buf, got ${describe(src)}`);
  const f = readRii(readerFor(src, source));
  const fields = readModel(f.fineQuantizer, `the fine quantizer in ${source}`);
  const fineQuantizer = fields.kind === 'OPQ' ? opqFromFields(fields, source) : pqFromFields(fields, source);
  if (fineQuantizer.M !== f.M) {
    throw new TypeError(`Expected a fine quantizer with M = ${f.M} in ${source}, as its header says, got M = ${fineQuantizer.M}`);
  }
  const { M, ...parts } = f;
  return Rii.fromParts({ ...parts, fineQuantizer });
}

/**
 * toParts, with every id that is not removed in a posting list: an id in none
 * (added with updatePostingLists false, which a Rii's ivf passes over) goes
 * into the list add() would have put it in. For Faiss, whose search sees
 * every id its lists hold.
 */
export function partsWithEveryIdListed(rii: Rii): RiiParts {
  return everyIdListed(rii);
}
let everyIdListed: (rii: Rii) => RiiParts;

const QUERY_OPTIONS = ['topk', 'L', 'targetIds', 'sortTargetIds', 'method'];

function checkThreshold(t: unknown): Threshold {
  const { slope, intercept } = (t ?? {}) as Record<string, unknown>;
  if (typeof t !== 'object' || !Number.isFinite(slope) || !Number.isFinite(intercept)) {
    throw new TypeError(`Expected a threshold { slope, intercept } of finite numbers, got ${describe(t)}`);
  }
  return { slope: slope as number, intercept: intercept as number };
}

/**
 * Reconfigurable Inverted Index (Matsui et al., ACM MM 2018) with the
 * interface of Python rii: PQ codes of a fitted PQ or OPQ in posting lists
 * around coarse centres that are PQ codes too (PQk-means), searched by a
 * linear scan or through the lists, over all codes or a subset of ids.
 * Ids are 0..N-1 in the order the vectors were added.
 *
 * @example
 * const rii = new Rii({ fineQuantizer: new PQ({ M: 8 }).fit(Xt) }).addConfigure(X);
 * const { ids, dists } = rii.query(q, { topk: 10 });
 * rii.query(q, { topk: 3, targetIds: [12, 40, 77, 103] });   // search a subset
 */
export class Rii {
  readonly #fq: PQ | OPQ;
  readonly #M: number;
  readonly #Ks: number;
  #codes = new Uint8Array(0);  // (capacity, M); the first N rows are the codes
  #N = 0;
  #centers: Uint8Array | null = null;  // (nlist, M)
  #lists: PostingLists | null = null;
  #threshold: Threshold | null = null;
  #removed: Uint8Array | null = null;  // a flag per id (capacity), once remove() was called
  #removedCount = 0;
  #symmetric: Float32Array | null = null;  // (M, Ks, Ks): squared distances between codewords, made when first needed
  #reading = 0;  // async searches running: #removed is replaced, not written, while they read it
  #changing: string | null = null;  // the async call changing the Rii, while it runs

  /** The id of a missing result in a row of search (fewer than topk found), 2**32 - 1. */
  static readonly NO_ID = NO_ID;

  static {
    everyIdListed = (r) => {
      const parts = r.toParts();
      const M = r.#M, N = r.#N;
      const listed = new Uint8Array(N);
      for (const list of parts.postingLists) for (let i = 0; i < list.length; i++) listed[list[i]] = 1;
      if (r.#removed) for (let id = 0; id < N; id++) listed[id] ||= r.#removed[id];
      const unlisted: number[] = [];
      for (let id = 0; id < N; id++) if (!listed[id]) unlisted.push(id);
      if (unlisted.length === 0 || r.nlist === 0) return parts;
      const codes = new Uint8Array(unlisted.length * M);
      unlisted.forEach((id, i) => codes.set(r.#codes.subarray(id * M, (id + 1) * M), i * M));
      const labels = r.#assign(codes, unlisted.length);
      const lists = parts.postingLists.map((list) => Array.from(list));
      unlisted.forEach((id, i) => lists[labels[i]].push(id));
      return { ...parts, postingLists: lists.map((list) => Uint32Array.from(list).sort()) };
    };
    defineInspect(Rii, (r) => ({
      fineQuantizer: r.#fq instanceof OPQ ? 'OPQ' : 'PQ', M: r.#M, Ks: r.#Ks, N: r.#N, nlist: r.nlist, L0: r.L0,
      ...(r.#removedCount > 0 ? { removed: r.#removedCount } : {}),
    }));
  }

  constructor(options: RiiOptions) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`Expected an options object { fineQuantizer } for Rii, got ${describe(options)}`);
    }
    const { fineQuantizer: fq } = checkOptions(options, ['fineQuantizer'], 'Rii');
    if (!(fq instanceof PQ) && !(fq instanceof OPQ)) {
      throw new TypeError(`Expected a PQ or OPQ for fineQuantizer, got ${describe(fq)}`);
    }
    if (fq.codewords === null) throw new TypeError(`Expected a fitted ${fq instanceof OPQ ? 'OPQ' : 'PQ'} for fineQuantizer; call fit() first`);
    if (fq.Ks > 256) throw new RangeError(`Expected Ks <= 256 for the fineQuantizer of a Rii (one-byte codes, as Python rii), got Ks = ${fq.Ks}`);
    // A copy, as Python rii's deepcopy: disposing of the caller's changes nothing here.
    this.#fq = fq instanceof OPQ ? OPQ.fromBuffer(fq.toBuffer()) : PQ.fromBuffer(fq.toBuffer());
    this.#fq.verbose = fq.verbose;
    this.#M = fq.M;
    this.#Ks = fq.Ks;
  }

  /**
   * A Rii of the given parts, checked (code ranges, list ids, shapes), as
   * read from a file, a Python rii pickle or a Faiss IndexIVFPQ; the parts
   * are copied.
   */
  static fromParts(parts: RiiParts): Rii {
    if (parts === null || typeof parts !== 'object') throw new TypeError(`Expected a RiiParts object, got ${describe(parts)}`);
    const { codes, coarseCenters, postingLists, threshold, removed } =
      checkOptions(parts, ['fineQuantizer', 'codes', 'coarseCenters', 'postingLists', 'threshold', 'removed'], 'Rii.fromParts');
    const rii = new Rii({ fineQuantizer: parts.fineQuantizer });
    const M = rii.#M, Ks = rii.#Ks;
    const byteRows = (x: unknown, name: string): Uint8Array<ArrayBuffer> => {
      if (!(x instanceof Uint8Array) || x.length % M !== 0) {
        throw new TypeError(`Expected a Uint8Array of (rows, M = ${M}) codes for ${name}, got ${describe(x)}`);
      }
      const bad = x.findIndex((c) => c >= Ks);
      if (bad >= 0) throw new RangeError(`Expected codes < Ks = ${Ks} in ${name}, got ${x[bad]} at ${name}[${bad}]`);
      return new Uint8Array(x);  // a copy (a Buffer's slice() would be a view)
    };
    const all = byteRows(codes, 'codes');
    const N = all.length / M;
    if (N > MAX_N) throw new RangeError(`Expected at most ${MAX_N} codes in a Rii, got ${N}`);
    const centers = coarseCenters === null || coarseCenters === undefined ? null : byteRows(coarseCenters, 'coarseCenters');
    const nlist = centers ? centers.length / M : 0;
    if (!Array.isArray(postingLists) || postingLists.length !== nlist) {
      throw new TypeError(`Expected an array of nlist = ${nlist} posting lists for postingLists, got ${describe(postingLists)}`);
    }
    const idsIn = (list: unknown, name: string, each: (id: number, i: number) => void) => {
      if (!Array.isArray(list) && !(ArrayBuffer.isView(list) && !(list instanceof DataView))) {
        throw new TypeError(`Expected an array of ids for ${name}, got ${describe(list)}`);
      }
      Array.from(list as ArrayLike<unknown>).forEach((id, i) => {
        if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= N) {
          throw new RangeError(`Expected ids in [0, N = ${N}) in ${name}, got ${describe(id)} at ${i}`);
        }
        each(id, i);
      });
    };
    const gone = new Uint8Array(N);
    if (removed !== undefined) idsIn(removed, 'removed', (id) => { gone[id] = 1; });
    const labels = new Uint32Array(N).fill(NO_ID);
    postingLists.forEach((list: unknown, k: number) => idsIn(list, `postingLists[${k}]`, (id) => {
      if (labels[id] !== NO_ID) throw new RangeError(`Expected each id in at most one posting list, got ${id} twice (postingLists[${k}])`);
      if (gone[id]) throw new RangeError(`Expected no removed id in the posting lists, got ${id} in postingLists[${k}]`);
      labels[id] = k;
    }));
    rii.#codes = all;
    rii.#N = N;
    const removedCount = gone.reduce((s, f) => s + f, 0);
    if (removedCount > 0) {
      rii.#removed = gone;
      rii.#removedCount = removedCount;
    }
    if (centers && nlist > 0) {
      rii.#centers = centers;
      rii.#lists = PostingLists.fromLabels(labels, nlist);
      rii.#threshold = threshold === null || threshold === undefined ? rii.#estimateThreshold() : checkThreshold(threshold);
    }
    return rii;
  }

  /** Copies of everything the Rii holds (see fromParts). */
  toParts(): RiiParts {
    return {
      fineQuantizer: this.#fq instanceof OPQ ? OPQ.fromBuffer(this.#fq.toBuffer()) : PQ.fromBuffer(this.#fq.toBuffer()),
      codes: this.#codes.slice(0, this.#N * this.#M),
      coarseCenters: this.#centers && this.#centers.slice(),
      postingLists: this.postingLists,
      threshold: this.threshold,
      ...(this.#removed ? { removed: this.#removedIds() } : {}),
    };
  }

  /** The Rii in this library's .rii format (docs/format.md): a Node Buffer, typed as the Uint8Array it is. */
  toBuffer(): Uint8Array {
    const p = this.toParts();
    return writeRii({
      M: this.#M, fineQuantizer: this.#fq.toBuffer(), codes: p.codes, coarseCenters: p.coarseCenters,
      postingLists: p.postingLists as Uint32Array[], threshold: p.threshold, removed: Uint32Array.from(p.removed ?? []),
    });
  }

  save(path: string): void {
    fs.writeFileSync(checkPath(path), this.toBuffer());
  }

  /** A Rii from the bytes of a .rii file, every part checked. */
  static fromBuffer(buf: Uint8Array): Rii {
    return riiFromFile(buf, 'buf');
  }

  static load(path: string): Rii {
    return riiFromFile(checkPath(path), path);
  }

  /** The Rii's own copy of the PQ or OPQ that encodes its vectors. */
  get fineQuantizer(): PQ | OPQ {
    return this.#fq;
  }

  get M(): number {
    return this.#M;
  }

  get Ks(): number {
    return this.#Ks;
  }

  /** The number of codes (vectors added; removed ones too: ids stay stable). */
  get N(): number {
    return this.#N;
  }

  /** How many ids were removed (remove): they are never found. */
  get removedCount(): number {
    return this.#removedCount;
  }

  /** The number of posting lists; 0 before addConfigure or reconfigure. */
  get nlist(): number {
    return this.#lists ? this.#lists.nlist : 0;
  }

  /** The average length of a posting list, round(N / nlist) (halves to even, as numpy); null when nlist is 0. */
  get L0(): number | null {
    return this.nlist === 0 ? null : roundHalfEven(this.#N / this.nlist);
  }

  /** The fine quantizer's codebook (M, Ks, Ds), a copy. */
  get codewords(): Codewords {
    return this.#fq.codewords!;
  }

  /** A copy of the coarse centres, PQ codes (nlist, M); null when nlist is 0. */
  get coarseCenters(): CodeMatrix | null {
    return this.#centers ? { data: this.#centers.slice(), shape: [this.nlist, this.#M] } : null;
  }

  /** A copy of the codes (N, M), uint8; (0, M) when empty (Python rii: None). */
  get codes(): CodeMatrix {
    return { data: this.#codes.slice(0, this.#N * this.#M), shape: [this.#N, this.#M] };
  }

  /**
   * A copy of the posting lists: list k holds, in ascending order, the ids
   * whose nearest coarse centre is k (removed ids until reconfigure drops them).
   */
  get postingLists(): Uint32Array[] {
    const lists = this.#lists;
    if (!lists) return [];
    return Array.from({ length: lists.nlist }, (_, k) => {
      const list = lists.list(k).slice();
      return this.#removed ? list.filter((id) => !this.#removed![id]) : list;
    });
  }

  /** Which method 'auto' picks (see Threshold); null when nlist is 0. */
  get threshold(): Threshold | null {
    return this.#threshold && { ...this.#threshold };
  }

  /** The fine quantizer's verbose: progress is printed with console.log. */
  get verbose(): boolean {
    return this.#fq.verbose;
  }

  set verbose(value: boolean) {
    this.#fq.verbose = value;
  }

  /**
   * Encodes vecs (N, D) and appends the codes (ids N.. in order). With
   * updatePostingLists (by default, when posting lists exist) each new id goes
   * to the list of its nearest coarse centre; without, ivf does not see them
   * until reconfigure.
   */
  add(vecs: MatrixLike, options: AddOptions = {}): void {
    this.#notChanging('add');
    const o = checkOptions(options, ['updatePostingLists'], 'Rii.add');
    const update = this.#resolveUpdate(o.updatePostingLists, 'add');
    const codes = this.#fq.encode(vecs);
    this.#append(codes.data as Uint8Array, codes.shape[0], update && this.#assign(codes.data as Uint8Array, codes.shape[0]));
  }

  /** add, off the event loop (encoding and the assignment to lists). */
  async addAsync(vecs: MatrixLike, options: AddOptions & AsyncOptions = {}): Promise<void> {
    const site = new Error();
    this.#notChanging('addAsync');
    const o = checkOptions(options, ['updatePostingLists', 'zeroCopy'], 'Rii.addAsync');
    const zeroCopy = zeroCopyOption({ zeroCopy: o.zeroCopy }, 'Rii.addAsync');
    const update = this.#resolveUpdate(o.updatePostingLists, 'addAsync');
    await this.#changeAsync('addAsync', async () => {
      const codes = await this.#fq.encodeAsync(vecs, { zeroCopy });
      const rows = codes.shape[0], data = codes.data as Uint8Array;
      this.#append(data, rows, update && await this.#assignAsync(data, rows, this.#centers!, this.nlist, site));
    });
  }

  /** add without updating the posting lists, then reconfigure: what to call first. Returns this. */
  addConfigure(vecs: MatrixLike, options: ConfigureOptions = {}): this {
    this.#notChanging('addConfigure');
    const o = checkOptions(options, ['nlist', 'iter'], 'Rii.addConfigure');
    const codes = this.#fq.encode(vecs);
    const rows = codes.shape[0];
    const { nlist, iter } = this.#configuration(o, this.#N + rows, 'addConfigure', 'pass vectors to add');
    this.#checkConfigurable(nlist, this.#N + rows);  // before anything changes
    this.#append(codes.data as Uint8Array, rows, false);
    this.#reconfigure(nlist, iter);
    return this;
  }

  /** addConfigure, off the event loop, with signal and onProgress (between PQk-means iterations). */
  async addConfigureAsync(vecs: MatrixLike, options: AsyncConfigureOptions = {}): Promise<this> {
    const site = new Error();
    this.#notChanging('addConfigureAsync');
    const o = checkOptions(options, ['nlist', 'iter', 'signal', 'onProgress', 'zeroCopy'], 'Rii.addConfigureAsync');
    const zeroCopy = zeroCopyOption({ zeroCopy: o.zeroCopy }, 'Rii.addConfigureAsync');
    const control = progressControl(o);
    const rows = toMatrix(vecs, 'vecs', this.#M * this.#fq.Ds!, false).rows;
    const { nlist, iter } = this.#configuration(o, this.#N + rows, 'addConfigureAsync', 'pass vectors to add');
    await this.#changeAsync('addConfigureAsync', async () => {
      const codes = await this.#fq.encodeAsync(vecs, { zeroCopy });
      const configured = await this.#configureAsync(nlist, iter, site, control, codes.data as Uint8Array);
      this.#append(codes.data as Uint8Array, rows, false);
      configured();
    });
    return this;
  }

  /**
   * New coarse centres by PQk-means over (a sample of up to 100 nlist of) the
   * codes, every id but the removed in the list of its nearest, and a new
   * threshold. Call it when the lists have grown long after many adds.
   */
  reconfigure(options: ConfigureOptions = {}): void {
    this.#notChanging('reconfigure');
    const o = checkOptions(options, ['nlist', 'iter'], 'Rii.reconfigure');
    const { nlist, iter } = this.#configuration(o, this.#N, 'reconfigure', 'call add() first');
    this.#reconfigure(nlist, iter);
  }

  /** reconfigure, off the event loop, with signal and onProgress (between PQk-means iterations). */
  async reconfigureAsync(options: AsyncConfigureOptions = {}): Promise<void> {
    const site = new Error();
    this.#notChanging('reconfigureAsync');
    const o = checkOptions(options, ['nlist', 'iter', 'signal', 'onProgress'], 'Rii.reconfigureAsync');
    const control = progressControl(o);
    const { nlist, iter } = this.#configuration(o, this.#N, 'reconfigureAsync', 'call add() first');
    await this.#changeAsync('reconfigureAsync', async () => {
      (await this.#configureAsync(nlist, iter, site, control, null))();
    });
  }

  /**
   * Appends the codes of other, a Rii with an equal fine quantizer, as ids
   * N..; this Rii's posting lists grow as in add. Ids other removed stay removed.
   */
  merge(other: Rii, options: AddOptions = {}): void {
    this.#notChanging('merge');
    const o = checkOptions(options, ['updatePostingLists'], 'Rii.merge');
    if (!(other instanceof Rii)) throw new TypeError(`Expected a Rii for other, got ${describe(other)}`);
    if (!this.#fq.equals(other.#fq)) {
      const kind = (q: PQ | OPQ) => (q instanceof OPQ ? 'OPQ' : 'PQ');
      throw new TypeError(`Expected other to have the same fine quantizer as this Rii (${kind(this.#fq)} of equal M, Ks, ` +
        `metric and codewords), got a different ${kind(other.#fq)}`);
    }
    const update = this.#resolveUpdate(o.updatePostingLists, 'merge');
    const N0 = this.#N, rows = other.#N;
    if (rows > 0) {
      const codes = other.#codes.slice(0, rows * this.#M);
      this.#append(codes, rows, update && this.#assign(codes, rows));
      if (other.#removed) this.#markRemoved(other.#removedIds().map((id) => N0 + id));
    }
    if (this.verbose) console.log(`The number of codes: ${this.#N}`);
  }

  /**
   * Removes ids (integers in [0, N); already removed ones are ignored): no
   * query finds them again. Ids stay stable; reconfigure drops them from the
   * posting lists. Returns how many were newly removed.
   */
  remove(ids: BigInt64Array | ArrayLike<number | bigint>): number {
    this.#notChanging('remove');
    const sorted = targetIdsOf(ids, this.#N, true, 'ids', false);
    return this.#markRemoved(sorted);
  }

  /** Forgets the codes, coarse centres, posting lists and threshold; keeps the fine quantizer. */
  clear(): void {
    this.#notChanging('clear');
    this.#codes = new Uint8Array(0);
    this.#N = 0;
    this.#centers = null;
    this.#lists = null;
    this.#threshold = null;
    this.#removed = null;
    this.#removedCount = 0;
  }

  /**
   * The topk codes nearest to q (D,), best first, over every id or targetIds:
   * by 'linear' (dtable(q).topk over the targets, exact for PQ distances),
   * 'ivf' (L candidates from the posting lists of the nearest coarse centres)
   * or 'auto' (the faster, by the threshold). Ids the posting lists do not
   * hold (added with updatePostingLists false) ivf does not find, and may
   * return fewer than topk; removed ids are never found.
   */
  query(q: VectorLike, options: QueryOptions = {}): QueryResult {
    const { model, plan } = this.#plan('query', options, true);
    const query = toVector(q, 'query', this.#M * this.#fq.Ds!);
    const ids = new Uint32Array(plan.topk), dists = new Float32Array(plan.topk);
    model.riiSearch(query, 1, this.#arrays(false), plan, ids, dists);
    const found = ids.indexOf(NO_ID);
    return found < 0 ? { ids, dists } : { ids: ids.slice(0, found), dists: dists.slice(0, found) };
  }

  /**
   * query for each row of queries (nq, D), on every core: rows of topk ids
   * and distances, shape [nq, topk]; a row with fewer than topk results
   * ends in Rii.NO_ID and Infinity (-Infinity for 'dot').
   */
  search(queries: MatrixLike, options: QueryOptions = {}): SearchResult {
    const { model, plan } = this.#plan('search', options, true);
    const q = toMatrix(queries, 'queries', this.#M * this.#fq.Ds!);
    const ids = new Uint32Array(q.rows * plan.topk), dists = new Float32Array(q.rows * plan.topk);
    model.riiSearch(q.data, q.rows, this.#arrays(false), plan, ids, dists);
    return { ids, dists, shape: [q.rows, plan.topk] };
  }

  /** search, off the event loop (see AsyncOptions for what it copies). Adds and removals meanwhile are not seen. */
  async searchAsync(queries: MatrixLike, options: SearchAsyncOptions = {}): Promise<SearchResult> {
    const site = new Error();
    const { zeroCopy, ...rest } = checkOptions(options, [...QUERY_OPTIONS, 'zeroCopy'], 'Rii.searchAsync');
    const own = zeroCopyOption({ zeroCopy }, 'Rii.searchAsync');
    const { model, plan } = this.#plan('searchAsync', rest, false);
    const q = toMatrix(queries, 'queries', this.#M * this.#fq.Ds!, false);
    const k = plan.topk;
    const ids = new Uint32Array(q.rows * k), dists = new Float32Array(q.rows * k);
    const index = this.#arrays(true);
    this.#reading++;
    try {
      await eachRowPiece(q, 'queries', own, (rows, first, count) => settled(model.riiSearchAsync(rows, count, index, plan,
        ids.subarray(first * k, (first + count) * k), dists.subarray(first * k, (first + count) * k)), site));
    } finally {
      this.#reading--;
    }
    return { ids, dists, shape: [q.rows, k] };
  }

  // ===== the parts =====

  #notChanging(method: string): void {
    if (this.#changing) {
      throw new Error(`Expected no ${this.#changing}() running on this Rii for ${method}(); await it first`);
    }
  }

  /** Runs work, an async call that changes the Rii, as the one running (its native errors are made at its site). */
  async #changeAsync(method: string, work: () => Promise<void>): Promise<void> {
    this.#changing = method;
    try {
      await work();
    } finally {
      this.#changing = null;
    }
  }

  /** The checked options of a query or search, and the native model that runs it. */
  /** sync: the call reads targetIds before it returns (they need no copy). */
  #plan(method: string, options: QueryOptions, sync: boolean): { model: NativeModel; plan: RiiPlan } {
    const o = checkOptions(options, QUERY_OPTIONS, `Rii.${method}`);
    const model = fittedModelOf(this.#fq, `fineQuantizer.${method}`);
    const N = this.#N;
    if (N === 0) throw new Error(`Expected a Rii with vectors for ${method}(); it has no vectors: call addConfigure() first`);
    if (this.nlist === 0) {
      throw new Error(`Expected a Rii with posting lists for ${method}(); it has no posting lists: call reconfigure() (or addConfigure()) first`);
    }
    const how = o.method ?? 'auto';
    if (!METHODS.includes(how as typeof METHODS[number])) {
      throw new TypeError(`Expected 'auto', 'linear' or 'ivf' for method, got ${describe(how)}`);
    }
    const topk = checkInteger(o.topk ?? 1, 'topk', 1, N);
    const L = o.L === undefined ? this.#coveringL(topk) : checkInteger(o.L, 'L', 0);
    if (L < topk || L > N) throw new RangeError(`Expected topk <= L <= N, got topk = ${topk}, L = ${L}, N = ${N}`);
    const sort = o.sortTargetIds ?? true;
    if (typeof sort !== 'boolean') throw new TypeError(`Expected a boolean for sortTargetIds, got ${describe(sort)}`);
    const targets = o.targetIds === undefined ? null : targetIdsOf(o.targetIds, N, sort, 'targetIds', true, sync);
    const S = targets ? targets.length : N;
    if (topk > S) {
      throw new RangeError(`Expected topk <= targetIds.length <= N, got topk = ${topk}, targetIds.length = ${S}, N = ${N}`);
    }
    const t = this.#threshold!;
    const linear = how === 'linear' || (how === 'auto' && S <= t.slope * L + t.intercept);
    return { model, plan: { topk, L, targets, linear } };
  }

  /** What the native scans read; with snapshot, for an async scan (see PostingLists). */
  #arrays(snapshot: boolean): RiiArrays {
    const N = this.#N, M = this.#M;
    return {
      codes: this.#codes.subarray(0, N * M), N, centers: this.#centers!, nlist: this.nlist,
      ...this.#lists!.arrays(snapshot), removed: this.#removed && this.#removed.subarray(0, N),
    };
  }

  #removedIds(): Uint32Array {
    const ids: number[] = [];
    for (let id = 0; id < this.#N; id++) if (this.#removed![id]) ids.push(id);
    return Uint32Array.from(ids);
  }

  #markRemoved(ids: ArrayLike<number>): number {
    // Replaced, not written, while an async search reads the flags.
    if (!this.#removed || this.#reading > 0) {
      const flags = new Uint8Array(Math.max(this.#codes.length / this.#M, this.#N));
      if (this.#removed) flags.set(this.#removed.subarray(0, flags.length));
      this.#removed = flags;
    }
    let count = 0;
    for (let i = 0; i < ids.length; i++) {
      if (!this.#removed[ids[i]]) {
        this.#removed[ids[i]] = 1;
        count++;
      }
    }
    this.#removedCount += count;
    return count;
  }

  #resolveUpdate(value: unknown, method: string): boolean {
    const flag = updateFlag(value ?? 'auto');
    if (flag === true && this.nlist === 0) {
      throw new Error(`Expected posting lists for ${method}() with updatePostingLists: true; call addConfigure() or ` +
        `reconfigure() first, or use updatePostingLists: 'auto'`);
    }
    return flag === 'auto' ? this.nlist > 0 : flag;
  }

  #configuration(o: Record<string, unknown>, N: number, method: string, hint: string): { nlist: number; iter: number } {
    if (N === 0) throw new Error(`Expected a Rii with vectors for ${method}(); it has no vectors: ${hint}`);
    const nlist = o.nlist ?? Math.floor(Math.sqrt(N));
    if (typeof nlist !== 'number' || !Number.isInteger(nlist)) throw new TypeError(`Expected an integer for nlist, got ${describe(nlist)}`);
    if (nlist < 1 || nlist > N) throw new RangeError(`Expected 1 <= nlist <= N = ${N}, got ${nlist}`);
    return { nlist, iter: checkInteger(o.iter ?? 5, 'iter', 0, 1e6) };
  }

  /** Python rii's default L: the smallest multiple of L0 above topk, at most N. */
  #coveringL(topk: number): number {
    const L0 = this.L0!;
    return Math.min((Math.floor(topk / L0) + 1) * L0, this.#N);
  }

  /** Appends rows codes as ids N..; with labels, each into its list. */
  #append(codes: Uint8Array, rows: number, labels: Uint32Array | false): void {
    const M = this.#M, N0 = this.#N;
    if (N0 + rows > MAX_N) throw new RangeError(`Expected at most ${MAX_N} codes in a Rii, got ${N0} + ${rows}`);
    if ((N0 + rows) * M > this.#codes.length) {
      // A new buffer: an async search may be reading the old one (rows it reads are never written).
      const grown = new Uint8Array(Math.max((N0 + rows) * M, 2 * this.#codes.length));
      grown.set(this.#codes.subarray(0, N0 * M));
      this.#codes = grown;
    }
    this.#codes.set(codes.subarray(0, rows * M), N0 * M);
    if (this.#removed && this.#removed.length < N0 + rows) {
      const flags = new Uint8Array(this.#codes.length / M);
      flags.set(this.#removed.subarray(0, N0));
      this.#removed = flags;
    }
    this.#N = N0 + rows;
    if (labels) for (let n = 0; n < rows; n++) this.#lists!.append(labels[n], N0 + n);
    if (this.verbose) console.log(`${rows} new vectors are added. Total number of codes is ${this.#N}`);
  }

  /** The (M, Ks, Ks) squared distances between the codewords of each subspace. */
  #symmetricTable(): Float32Array {
    if (this.#symmetric) return this.#symmetric;
    const M = this.#M, Ks = this.#Ks;
    const cw = this.codewords;
    const Ds = cw.shape[2];
    const table = new Float32Array(M * Ks * Ks);
    for (let m = 0; m < M; m++) {
      for (let a = 0; a < Ks; a++) {
        const x = (m * Ks + a) * Ds;
        for (let b = a; b < Ks; b++) {
          const y = (m * Ks + b) * Ds;
          let s = 0;
          for (let d = 0; d < Ds; d++) s += (cw.data[x + d] - cw.data[y + d]) ** 2;
          table[(m * Ks + a) * Ks + b] = s;
          table[(m * Ks + b) * Ks + a] = s;
        }
      }
    }
    return (this.#symmetric = table);
  }

  /** The nearest of K centres (K, M) to each of rows codes by the symmetric distance (ties to the lower centre). */
  #assign(codes: Uint8Array, rows: number, centers = this.#centers!, K = this.nlist): Uint32Array {
    const labels = new Uint32Array(rows);
    native.riiAssign(this.#symmetricTable(), this.#M, this.#Ks, codes.subarray(0, rows * this.#M), rows,
      centers.subarray(0, K * this.#M), K, labels);
    return labels;
  }

  async #assignAsync(codes: Uint8Array, rows: number, centers: Uint8Array, K: number, site: Error): Promise<Uint32Array> {
    const labels = new Uint32Array(rows);
    await settled(native.riiAssignAsync(this.#symmetricTable(), this.#M, this.#Ks, codes.subarray(0, rows * this.#M), rows,
      centers.subarray(0, K * this.#M), K, labels), site);
    return labels;
  }

  /**
   * PQk-means' update (Matsui et al., ACM MM 2017; native): new centres from
   * the members of each (labels); a centre left without members keeps its
   * code. A centre's m-th code is the codeword b with the least summed
   * squared distance to its members' m-th codewords (pqkmeans' sparse
   * voting); as sum_a h_a |c_a - c_b|^2 = n |c_b|^2 - 2 c_b . s + const, with
   * s the sum of the members' codewords, that is the b with the least
   * n |c_b|^2 - 2 c_b . s, found in O(members Ds + Ks Ds) rather than O(Ks^2).
   */
  #updateArgs(codes: Uint8Array, labels: Uint32Array, centers: Uint8Array, K: number) {
    const cw = this.codewords;
    return [cw.data, this.#M, this.#Ks, cw.shape[2], codes.subarray(0, labels.length * this.#M), labels.length, labels, K,
      centers] as const;
  }

  /**
   * The start of a reconfiguration over the codes held and `extra` codes to
   * be appended: a seeded sample of at most 100 codes per centre (as Python
   * rii) that are not removed, and K centres picked among it at random.
   */
  #configureStart(nlist: number, extra: Uint8Array | null): { sample: Uint8Array; count: number; centers: Uint8Array } {
    const M = this.#M, held = this.#N, total = held + (extra ? extra.length / M : 0);
    const kept = new Uint32Array(total - this.#removedCount);
    for (let id = 0, k = 0; id < total; id++) if (!(id < held && this.#removed?.[id])) kept[k++] = id;
    const codeOf = (id: number) => (id < held ? this.#codes.subarray(id * M, (id + 1) * M) : extra!.subarray((id - held) * M, (id - held + 1) * M));
    const count = Math.min(kept.length, nlist * 100);
    if (this.verbose) console.log(`The number of vectors used for training of coarse centers: ${count}`);
    const sample = new Uint8Array(count * M);
    randomPick(kept.length, count, 123).forEach((i, j) => sample.set(codeOf(kept[i]), j * M));
    const centers = new Uint8Array(nlist * M);
    randomPick(count, Math.min(nlist, count), 0).forEach((i, k) => centers.set(sample.subarray(i * M, (i + 1) * M), k * M));
    return { sample, count, centers };
  }

  /** The end of a reconfiguration: every id held (those not removed) in the list of its nearest centre, a new threshold. */
  #configureEnd(centers: Uint8Array, nlist: number, labels: Uint32Array): void {
    if (this.#removed) for (let id = 0; id < this.#N; id++) if (this.#removed[id]) labels[id] = NO_ID;
    this.#centers = centers;
    this.#lists = PostingLists.fromLabels(labels, nlist);
    this.#threshold = this.#estimateThreshold();
  }

  #reconfigure(nlist: number, iter: number): void {
    this.#checkConfigurable(nlist);
    const { sample, count, centers } = this.#configureStart(nlist, null);
    for (let it = 0; it < iter; it++) {
      const labels = this.#assign(sample, count, centers, nlist);
      if (this.verbose) console.log(`PQk-means iteration ${it + 1} / ${iter}`);
      if (it < iter - 1) native.riiUpdateCenters(...this.#updateArgs(sample, labels, centers, nlist));
    }
    this.#configureEnd(centers, nlist, this.#assign(this.#codes, this.#N, centers, nlist));
  }

  /**
   * #reconfigure, each assignment off the event loop; over the codes held and
   * `extra`, codes to be appended first. Returns the function that installs
   * the result (after the caller appended extra), so that an abort or an
   * error leaves the Rii as it was.
   */
  async #configureAsync(nlist: number, iter: number, site: Error, control: ProgressControl, extra: Uint8Array | null):
    Promise<() => void> {
    const M = this.#M, held = this.#N, extraRows = extra ? extra.length / M : 0;
    this.#checkConfigurable(nlist, held + extraRows);
    const { sample, count, centers } = this.#configureStart(nlist, extra);
    for (let it = 0; it < iter; it++) {
      control.check(site);
      const labels = await this.#assignAsync(sample, count, centers, nlist, site);
      if (this.verbose) console.log(`PQk-means iteration ${it + 1} / ${iter}`);
      if (it < iter - 1) await settled(native.riiUpdateCentersAsync(...this.#updateArgs(sample, labels, centers, nlist)), site);
      control.report({ phase: 'pqkmeans', iteration: it + 1, of: iter });
    }
    control.check(site);
    const all = new Uint32Array(held + extraRows);
    all.set(await this.#assignAsync(this.#codes, held, centers, nlist, site));
    if (extra) all.set(await this.#assignAsync(extra, extraRows, centers, nlist, site), held);
    control.check(site);
    return () => this.#configureEnd(centers, nlist, all);
  }

  /** Throws unless nlist centres can be picked among the codes not removed. */
  #checkConfigurable(nlist: number, total = this.#N): void {
    const kept = total - this.#removedCount;
    if (nlist > kept) throw new RangeError(`Expected nlist <= the number of ids not removed (${kept}), got ${nlist}`);
  }

  /**
   * The threshold line, as Python rii draws it: for L = L0, 2 L0, ... 16 L0
   * (those below N), the number of targets S* above which ivf is cheaper than
   * linear, then a least-squares line through (L, S*). Python rii times both
   * methods; here S* is where a cost model of them crosses (a linear scan
   * costs S code distances; ivf, nlist coarse ones, L for the candidates,
   * and a binary search in the targets for each id it passes, about
   * L N / S of them), so the threshold is the same on every run.
   */
  #estimateThreshold(): Threshold {
    const N = this.#N, nlist = this.nlist, M = this.#M;
    if (N <= 128) return { slope: 0, intercept: N };  // linear is always faster, as Python rii assumes
    const ivfCost = (L: number, S: number) => nlist + L + (S < N ? Math.min(N, (L * N) / S) * Math.log2(Math.max(S, 2)) / M : 0);
    const crossing = (L: number) => {
      if (N < ivfCost(L, N)) return N;  // linear is cheaper even over every id
      let lo = 1, hi = N;  // linear cheaper at lo (or lo = 1), not at hi
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (mid < ivfCost(L, mid)) lo = mid;
        else hi = mid;
      }
      return lo;
    };
    const xs: number[] = [], ys: number[] = [];
    for (const k of [1, 2, 4, 8, 16]) {
      const L = k * this.#coveringL(k);
      if (N <= L) continue;
      xs.push(L);
      ys.push(crossing(L));
      if (ys[ys.length - 1] === N) break;
    }
    if (xs.length === 0) return { slope: 0, intercept: N };
    if (xs.length === 1) return { slope: 0, intercept: ys[0] };
    const n = xs.length;
    const mx = xs.reduce((s, x) => s + x, 0) / n, my = ys.reduce((s, y) => s + y, 0) / n;
    let sxy = 0, sxx = 0;
    for (let i = 0; i < n; i++) {
      sxy += (xs[i] - mx) * (ys[i] - my);
      sxx += (xs[i] - mx) ** 2;
    }
    const slope = sxy / sxx;
    return { slope, intercept: my - slope * mx };
  }
}
