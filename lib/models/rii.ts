// Rii, the Reconfigurable Inverted Index (Matsui, Hinami and Satoh, ACM MM
// 2018), with the interface of Python rii 0.2: an inverted file over the PQ
// codes of a fitted PQ or OPQ, whose coarse centres are themselves PQ codes,
// found by PQk-means over the stored codes. Its scans are the DistanceTable's
// (native); PQk-means is here in TypeScript, its distance scans native too.
import { CodeMatrix, Codewords, MatrixLike, VectorLike } from '../core/arrays';
import { defineInspect } from '../core/inspect';
import { checkInteger, checkOptions, describe, toMatrix } from '../core/validate';
import { DistanceTable, tableOf } from './distance-table';
import { OPQ } from './opq';
import { PQ } from './pq';
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
}

/** A checked query: linear or ivf, over targets (sorted, distinct) or every id. */
interface QueryPlan { topk: number; L: number; targets: Uint32Array | null; linear: boolean }

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

/** targetIds as sorted, distinct Uint32 ids in [0, N) (a copy: the caller's array is not sorted). */
function targetIdsOf(x: unknown, N: number, sort: boolean): Uint32Array {
  if (!Array.isArray(x) && !(ArrayBuffer.isView(x) && !(x instanceof DataView))) {
    throw new TypeError(`Expected targetIds to be a BigInt64Array, an integer typed array or an array of ids, got ${describe(x)}`);
  }
  const given = x as ArrayLike<unknown>;
  const ids = new Uint32Array(given.length);
  for (let i = 0; i < given.length; i++) {
    const v = given[i];
    let id: number;
    if (typeof v === 'bigint') {
      id = v >= 0n && v < BigInt(N) ? Number(v) : -1;
    } else if (typeof v === 'number' && Number.isInteger(v)) {
      id = v >= 0 && v < N ? v : -1;
    } else {
      throw new TypeError(`Expected integer ids in targetIds, got ${describe(v)} at targetIds[${i}]`);
    }
    if (id < 0) throw new RangeError(`Expected ids in [0, N = ${N}) in targetIds, got ${describe(v)} at targetIds[${i}]`);
    ids[i] = id;
  }
  if (sort) ids.sort();
  for (let i = 1; i < ids.length; i++) {
    if (ids[i] < ids[i - 1]) {
      throw new RangeError(`Expected targetIds sorted in ascending order when sortTargetIds is false, ` +
        `got ${ids[i]} after ${ids[i - 1]} at targetIds[${i}]`);
    }
    if (ids[i] === ids[i - 1]) throw new RangeError(`Expected no duplicate ids in targetIds, got ${ids[i]} twice`);
  }
  return ids;
}

function checkThreshold(t: unknown): Threshold {
  const { slope, intercept } = (t ?? {}) as Record<string, unknown>;
  if (typeof t !== 'object' || !Number.isFinite(slope) || !Number.isFinite(intercept)) {
    throw new TypeError(`Expected a threshold { slope, intercept } of finite numbers, got ${describe(t)}`);
  }
  return { slope: slope as number, intercept: intercept as number };
}

/** Whether sorted holds id (binary search). */
function has(sorted: Uint32Array, id: number): boolean {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < id) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length && sorted[lo] === id;
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
  #lists: number[][] = [];
  #threshold: Threshold | null = null;
  #symmetric: Float32Array | null = null;  // (M, Ks, Ks): squared distances between codewords, made when first needed

  /** The id of a missing result in a row of search (fewer than topk found), 2**32 - 1. */
  static readonly NO_ID = NO_ID;

  static {
    defineInspect(Rii, (r) => ({
      fineQuantizer: r.#fq instanceof OPQ ? 'OPQ' : 'PQ', M: r.#M, Ks: r.#Ks, N: r.#N, nlist: r.nlist, L0: r.L0,
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
    const { codes, coarseCenters, postingLists, threshold } =
      checkOptions(parts, ['fineQuantizer', 'codes', 'coarseCenters', 'postingLists', 'threshold'], 'Rii.fromParts');
    const rii = new Rii({ fineQuantizer: parts.fineQuantizer });
    const M = rii.#M, Ks = rii.#Ks;
    const byteRows = (x: unknown, name: string): Uint8Array<ArrayBuffer> => {
      if (!(x instanceof Uint8Array) || x.length % M !== 0) {
        throw new TypeError(`Expected a Uint8Array of (rows, M = ${M}) codes for ${name}, got ${describe(x)}`);
      }
      const bad = x.findIndex((c) => c >= Ks);
      if (bad >= 0) throw new RangeError(`Expected codes < Ks = ${Ks} in ${name}, got ${x[bad]} at ${name}[${bad}]`);
      return x.slice();
    };
    const all = byteRows(codes, 'codes');
    const N = all.length / M;
    if (N > MAX_N) throw new RangeError(`Expected at most ${MAX_N} codes in a Rii, got ${N}`);
    const centers = coarseCenters === null || coarseCenters === undefined ? null : byteRows(coarseCenters, 'coarseCenters');
    const nlist = centers ? centers.length / M : 0;
    if (!Array.isArray(postingLists) || postingLists.length !== nlist) {
      throw new TypeError(`Expected an array of nlist = ${nlist} posting lists for postingLists, got ${describe(postingLists)}`);
    }
    const seen = new Uint8Array(N);
    const lists = postingLists.map((list: unknown, k: number) => {
      const ids = Array.from(list as ArrayLike<unknown>);
      ids.forEach((id, i) => {
        if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= N) {
          throw new RangeError(`Expected ids in [0, N = ${N}) in postingLists[${k}], got ${describe(id)} at ${i}`);
        }
        if (seen[id]) throw new RangeError(`Expected each id in at most one posting list, got ${id} twice (postingLists[${k}])`);
        seen[id] = 1;
      });
      return (ids as number[]).sort((a, b) => a - b);
    });
    rii.#codes = all;
    rii.#N = N;
    if (centers && nlist > 0) {
      rii.#centers = centers;
      rii.#lists = lists;
      rii.#threshold = threshold === null || threshold === undefined ? rii.#estimateThreshold() : checkThreshold(threshold);
    }
    return rii;
  }

  /** Copies of everything the Rii holds (see fromParts). */
  toParts(): RiiParts {
    return {
      fineQuantizer: this.#fq,
      codes: this.#codes.slice(0, this.#N * this.#M),
      coarseCenters: this.#centers && this.#centers.slice(),
      postingLists: this.postingLists,
      threshold: this.threshold,
    };
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

  /** The number of codes (vectors added). */
  get N(): number {
    return this.#N;
  }

  /** The number of posting lists; 0 before addConfigure or reconfigure. */
  get nlist(): number {
    return this.#centers ? this.#lists.length : 0;
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

  /** A copy of the posting lists: list k holds, in ascending order, the ids whose nearest coarse centre is k. */
  get postingLists(): Uint32Array[] {
    return this.#lists.map((list) => Uint32Array.from(list));
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
    const o = checkOptions(options, ['updatePostingLists'], 'Rii.add');
    const update = this.#resolveUpdate(o.updatePostingLists, 'add');
    const codes = this.#fq.encode(vecs);
    this.#append(codes.data as Uint8Array, codes.shape[0], update);
  }

  /** add without updating the posting lists, then reconfigure: what to call first. Returns this. */
  addConfigure(vecs: MatrixLike, options: ConfigureOptions = {}): this {
    const o = checkOptions(options, ['nlist', 'iter'], 'Rii.addConfigure');
    const codes = this.#fq.encode(vecs);
    const rows = codes.shape[0];
    const { nlist, iter } = this.#configuration(o, this.#N + rows, 'addConfigure', 'pass vectors to add');
    this.#append(codes.data as Uint8Array, rows, false);
    this.#reconfigure(nlist, iter);
    return this;
  }

  /**
   * New coarse centres by PQk-means over (a sample of up to 100 nlist of) the
   * codes, every id in the list of its nearest, and a new threshold. Call it
   * when the lists have grown long after many adds.
   */
  reconfigure(options: ConfigureOptions = {}): void {
    const o = checkOptions(options, ['nlist', 'iter'], 'Rii.reconfigure');
    const { nlist, iter } = this.#configuration(o, this.#N, 'reconfigure', 'call add() first');
    this.#reconfigure(nlist, iter);
  }

  /**
   * Appends the codes of other, a Rii with an equal fine quantizer, as ids
   * N..; this Rii's posting lists grow as in add.
   */
  merge(other: Rii, options: AddOptions = {}): void {
    const o = checkOptions(options, ['updatePostingLists'], 'Rii.merge');
    if (!(other instanceof Rii)) throw new TypeError(`Expected a Rii for other, got ${describe(other)}`);
    if (!this.#fq.equals(other.#fq)) {
      const kind = (q: PQ | OPQ) => (q instanceof OPQ ? 'OPQ' : 'PQ');
      throw new TypeError(`Expected other to have the same fine quantizer as this Rii (${kind(this.#fq)} of equal M, Ks, ` +
        `metric and codewords), got a different ${kind(other.#fq)}`);
    }
    const update = this.#resolveUpdate(o.updatePostingLists, 'merge');
    if (other.#N > 0) this.#append(other.#codes.slice(0, other.#N * this.#M), other.#N, update);
    if (this.verbose) console.log(`The number of codes: ${this.#N}`);
  }

  /** Forgets the codes, coarse centres, posting lists and threshold; keeps the fine quantizer. */
  clear(): void {
    this.#codes = new Uint8Array(0);
    this.#N = 0;
    this.#centers = null;
    this.#lists = [];
    this.#threshold = null;
  }

  /**
   * The topk codes nearest to q (D,), best first, over every id or targetIds:
   * by 'linear' (dtable(q).topk over the targets, exact for PQ distances),
   * 'ivf' (L candidates from the posting lists of the nearest coarse centres)
   * or 'auto' (the faster, by the threshold). Ids the posting lists do not
   * hold (added with updatePostingLists false) ivf does not find, and may
   * return fewer than topk.
   */
  query(q: VectorLike, options: QueryOptions = {}): QueryResult {
    const plan = this.#plan('query', options, ['topk', 'L', 'targetIds', 'sortTargetIds', 'method']);
    return this.#queryOne(this.#fq.dtable(q), plan);
  }

  /**
   * query for each row of queries (nq, D): rows of topk ids and distances,
   * shape [nq, topk]; a row with fewer than topk results (ivf) ends in
   * Rii.NO_ID and Infinity (-Infinity for 'dot').
   */
  search(queries: MatrixLike, options: QueryOptions = {}): SearchResult {
    const plan = this.#plan('search', options, ['topk', 'L', 'targetIds', 'sortTargetIds', 'method']);
    const q = toMatrix(queries, 'queries', this.#M * this.#fq.Ds!);
    const { topk } = plan;
    const ids = new Uint32Array(q.rows * topk).fill(NO_ID);
    const dists = new Float32Array(q.rows * topk).fill(this.#fq.metric === 'dot' ? -Infinity : Infinity);
    for (let i = 0; i < q.rows; i++) {
      const r = this.#queryOne(this.#fq.dtable(q.data.subarray(i * q.cols, (i + 1) * q.cols)), plan);
      ids.set(r.ids, i * topk);
      dists.set(r.dists, i * topk);
    }
    return { ids, dists, shape: [q.rows, topk] };
  }

  // ===== the parts =====

  /** The checked options of a query or search. */
  #plan(method: string, options: QueryOptions, known: string[]): QueryPlan {
    const o = checkOptions(options, known, `Rii.${method}`);
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
    const targets = o.targetIds === undefined ? null : targetIdsOf(o.targetIds, N, sort);
    const S = targets ? targets.length : N;
    if (topk > S) {
      throw new RangeError(`Expected topk <= targetIds.length <= N, got topk = ${topk}, targetIds.length = ${S}, N = ${N}`);
    }
    const t = this.#threshold!;
    const linear = how === 'linear' || (how === 'auto' && S <= t.slope * L + t.intercept);
    return { topk, L, targets, linear };
  }

  #queryOne(table: DistanceTable, { topk, L, targets, linear }: QueryPlan): QueryResult {
    return linear ? this.#linear(table, topk, targets) : this.#ivf(table, topk, L, targets);
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

  #append(codes: Uint8Array, rows: number, update: boolean): void {
    const M = this.#M, N0 = this.#N;
    if (N0 + rows > MAX_N) throw new RangeError(`Expected at most ${MAX_N} codes in a Rii, got ${N0} + ${rows}`);
    if ((N0 + rows) * M > this.#codes.length) {
      const grown = new Uint8Array(Math.max((N0 + rows) * M, 2 * this.#codes.length));
      grown.set(this.#codes.subarray(0, N0 * M));
      this.#codes = grown;
    }
    this.#codes.set(codes.subarray(0, rows * M), N0 * M);
    const labels = update ? this.#assign(codes, rows, this.#centers!, this.nlist) : null;
    this.#N = N0 + rows;
    if (labels) for (let n = 0; n < rows; n++) this.#lists[labels[n]].push(N0 + n);
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

  /**
   * The nearest of K centres (K, M) to each of rows codes by the symmetric
   * distance (ties to the lower centre), and that distance. Each centre's
   * rows of the symmetric table form a DistanceTable whose native adist gives
   * its distance to every code (or each code's, to every centre, when there
   * are fewer codes than centres).
   */
  #assign(codes: Uint8Array, rows: number, centers: Uint8Array, K: number): Uint32Array {
    const M = this.#M, Ks = this.#Ks;
    const sym = this.#symmetricTable();
    const labels = new Uint32Array(rows);
    const table = new Float32Array(M * Ks);
    const tableFor = (code: Uint8Array, at: number) => {
      for (let m = 0; m < M; m++) table.set(sym.subarray((m * Ks + code[at + m]) * Ks, (m * Ks + code[at + m] + 1) * Ks), m * Ks);
      return tableOf(table, M, Ks, 'l2');
    };
    if (rows < K) {
      const all = { data: centers.subarray(0, K * M), shape: [K, M] as [number, number] };
      const dists = new Float32Array(K);
      for (let n = 0; n < rows; n++) {
        tableFor(codes, n * M).adist(all, dists);
        let best = 0;
        for (let k = 1; k < K; k++) if (dists[k] < dists[best]) best = k;
        labels[n] = best;
      }
      return labels;
    }
    const all = { data: codes.subarray(0, rows * M), shape: [rows, M] as [number, number] };
    const dists = new Float32Array(rows);
    const best = new Float32Array(rows).fill(Infinity);
    for (let k = 0; k < K; k++) {
      tableFor(centers, k * M).adist(all, dists);
      for (let n = 0; n < rows; n++) {
        if (dists[n] < best[n]) {
          best[n] = dists[n];
          labels[n] = k;
        }
      }
    }
    return labels;
  }

  /**
   * PQk-means (Matsui et al., ACM MM 2017): k-means over PQ codes, by the
   * symmetric distance. K centres picked at random (seeded), iter
   * assignments, a centre update between two; a centre left without members
   * keeps its code. A centre's m-th code is the codeword b with the least
   * summed squared distance to its members' m-th codewords (pqkmeans' sparse
   * voting); as sum_a h_a |c_a - c_b|^2 = n |c_b|^2 - 2 c_b . s + const, with
   * s the sum of the members' codewords, that is the b with the least
   * n |c_b|^2 - 2 c_b . s, found in O(members Ds + Ks Ds) rather than O(Ks^2).
   */
  #pqkmeans(codes: Uint8Array, n: number, K: number, iter: number): Uint8Array {
    const M = this.#M, Ks = this.#Ks;
    const cw = this.codewords;
    const Ds = cw.shape[2];
    const norms = new Float64Array(M * Ks);
    for (let i = 0; i < M * Ks; i++) {
      let s = 0;
      for (let d = 0; d < Ds; d++) s += cw.data[i * Ds + d] ** 2;
      norms[i] = s;
    }
    const centers = new Uint8Array(K * M);
    randomPick(n, K, 0).forEach((id, k) => centers.set(codes.subarray(id * M, (id + 1) * M), k * M));
    const sum = new Float64Array(Ds);
    for (let it = 0; it < iter; it++) {
      const labels = this.#assign(codes, n, centers, K);
      if (this.verbose) console.log(`PQk-means iteration ${it + 1} / ${iter}`);
      if (it === iter - 1) break;
      // The members of each centre, by a counting sort of the labels.
      const start = new Uint32Array(K + 1);
      for (let i = 0; i < n; i++) start[labels[i] + 1]++;
      for (let k = 0; k < K; k++) start[k + 1] += start[k];
      const members = new Uint32Array(n);
      const fill = start.slice(0, K);
      for (let i = 0; i < n; i++) members[fill[labels[i]]++] = i;
      for (let k = 0; k < K; k++) {
        const count = start[k + 1] - start[k];
        if (count === 0) continue;
        for (let m = 0; m < M; m++) {
          sum.fill(0);
          for (let j = start[k]; j < start[k + 1]; j++) {
            const at = (m * Ks + codes[members[j] * M + m]) * Ds;
            for (let d = 0; d < Ds; d++) sum[d] += cw.data[at + d];
          }
          let best = 0, bestScore = Infinity;
          for (let b = 0; b < Ks; b++) {
            const at = (m * Ks + b) * Ds;
            let dot = 0;
            for (let d = 0; d < Ds; d++) dot += cw.data[at + d] * sum[d];
            const score = count * norms[m * Ks + b] - 2 * dot;
            if (score < bestScore) {
              bestScore = score;
              best = b;
            }
          }
          centers[k * M + m] = best;
        }
      }
    }
    return centers;
  }

  #reconfigure(nlist: number, iter: number): void {
    const M = this.#M, N = this.#N;
    // PQk-means over a seeded sample of at most 100 codes per centre, as Python rii.
    const count = Math.min(N, nlist * 100);
    if (this.verbose) console.log(`The number of vectors used for training of coarse centers: ${count}`);
    const sample = new Uint8Array(count * M);
    randomPick(N, count, 123).forEach((id, i) => sample.set(this.#codes.subarray(id * M, (id + 1) * M), i * M));
    const centers = this.#pqkmeans(sample, count, nlist, iter);
    const labels = this.#assign(this.#codes, N, centers, nlist);
    const lists: number[][] = Array.from({ length: nlist }, () => []);
    for (let n = 0; n < N; n++) lists[labels[n]].push(n);
    this.#centers = centers;
    this.#lists = lists;
    this.#threshold = this.#estimateThreshold();
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

  /** dtable.topk over the rows ids (ascending) of the codes, as ids. */
  #topkOf(table: DistanceTable, ids: Uint32Array, topk: number): QueryResult {
    const M = this.#M;
    const gathered = new Uint8Array(ids.length * M);
    ids.forEach((id, i) => gathered.set(this.#codes.subarray(id * M, (id + 1) * M), i * M));
    const r = table.topk({ data: gathered, shape: [ids.length, M] }, topk);
    return { ids: r.ids.map((i) => ids[i]), dists: r.dists };
  }

  /** Python rii's Algorithm 1, PQ linear scan: over the sorted targets, ties to the lower id. */
  #linear(table: DistanceTable, topk: number, targets: Uint32Array | null): QueryResult {
    if (!targets) return table.topk({ data: this.#codes.subarray(0, this.#N * this.#M), shape: [this.#N, this.#M] }, topk);
    return this.#topkOf(table, targets, topk);
  }

  /**
   * Python rii's Algorithm 2: the posting lists of the coarse centres nearest
   * to the query, in order, give up to L candidates among the targets; after
   * w = round(L nlist / S) + 3 lists, once topk are found, it stops. The
   * candidates' best topk, ties to the lower id.
   */
  #ivf(table: DistanceTable, topk: number, L: number, targets: Uint32Array | null): QueryResult {
    const nlist = this.nlist;
    const order = table.topk({ data: this.#centers!, shape: [nlist, this.#M] }, nlist).ids;
    const S = targets ? targets.length : this.#N;
    const w = Math.min(nlist, Math.round((L * nlist) / S) + 3);
    const candidates = new Uint32Array(L);
    let found = 0;
    scan: for (let i = 0; i < nlist; i++) {
      for (const id of this.#lists[order[i]]) {
        if (targets && !has(targets, id)) continue;
        candidates[found++] = id;
        if (found === L) break scan;
      }
      if (i + 1 >= w && found >= topk) break;
    }
    if (found === 0) return { ids: new Uint32Array(0), dists: new Float32Array(0) };
    return this.#topkOf(table, candidates.subarray(0, found).sort(), Math.min(topk, found));
  }
}
