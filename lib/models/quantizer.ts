// What PQ and OPQ share: a native model (core/native-model.ts) that holds the
// codebook, R for OPQ, and what is derived from them, and every call that
// reads it. OPQ differs only in how it trains and in rotating its input
// (x @ R), which the native model does.
import * as fs from 'node:fs';
import { OnStep, TrainingOptions } from '../core/addon';
import { CodeDtype, codeDtypeFor, CodeMatrix, Codewords, CodesLike, Matrix, MatrixLike, Metric, newCodeArray, VectorLike } from '../core/arrays';
import { AsyncOptions, eachRowPiece, ownedCopy, settled, zeroCopyOption } from '../core/async';
import { AbortError, atSite, localError } from '../core/errors';
import { defineInspect } from '../core/inspect';
import { NativeModel } from '../core/native-model';
import { newFloats } from '../core/pool';
import { checkInteger, checkMetric, checkName, checkOptions, checkPath, describe, kFound, toCodes, toMatrix, toVector } from '../core/validate';
import type { ModelFields } from '../io/model-fields';
import { writeModel } from '../io/npq';
import { DistanceTable, tableOf } from './distance-table';
import { checkCodesOf, fingerprintOf, withFingerprint } from './fingerprint';
import { checkPacked, PackedCodes } from './packed-codes';
import type { SearchResult } from './search';

export type Minit = 'points' | 'random' | '++';

/** What `new PQ(...)` and `new OPQ(...)` take. */
export interface PQOptions {
  /** Subspaces: each vector is cut into M sub-vectors of D / M dimensions (D % M === 0 at fit). */
  M: number;
  /**
   * Codewords per subspace, 1 to 2**32; codes are uint8 up to 2**8, uint16 up to 2**16, else uint32.
   * @defaultValue 256
   */
  Ks?: number;
  /**
   * What distance tables hold: squared L2 distances ('l2') or inner products ('dot').
   * @defaultValue 'l2'
   */
  metric?: Metric;
  /**
   * Print training progress with console.log; false prints nothing at all.
   * @defaultValue false
   */
  verbose?: boolean;
}

/** What `PQ.fromCodewords` and `OPQ.fromParts` take besides the arrays. */
export interface ModelOptions {
  /** @defaultValue 'l2' */
  metric?: Metric;
  /** @defaultValue false */
  verbose?: boolean;
}

/**
 * The part of an AbortSignal that fitAsync reads: Node's and the DOM's
 * AbortSignal both fit it, and the types need neither @types/node nor the DOM.
 */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** Training progress, reported between iterations. */
export interface Progress {
  /** 'kmeans' (PQ, and OPQ's final training) or 'rotation' (OPQ's alternations). */
  phase: string;
  /** 1-based. */
  iteration: number;
  of: number;
}

/** What fitAsync takes besides the fit options. */
export interface AsyncFitOptions extends AsyncOptions {
  /**
   * An AbortSignal: aborting stops training between iterations; fitAsync then
   * rejects with an AbortError and the model is left as it was.
   * @defaultValue none
   */
  signal?: AbortSignalLike;
  /**
   * Called on the event loop after each iteration; if it throws, training stops
   * and fitAsync rejects with that error.
   * @defaultValue none
   */
  onProgress?: (progress: Progress) => void;
}

const MAX_SEED = 2 ** 31 - 1;

// Async calls running per native model. An async call makes several native
// calls (a piece of its input at a time), so a model replaced by fitAsync or
// disposed of meanwhile is freed only when the last call on it ends.
const callsOn = new Map<NativeModel, number>();
const retired = new Set<NativeModel>();

function retire(model: NativeModel): void {
  if (callsOn.has(model)) retired.add(model);
  else model.dispose();
}

async function using<T>(model: NativeModel, work: () => Promise<T>): Promise<T> {
  callsOn.set(model, (callsOn.get(model) ?? 0) + 1);
  try {
    return await work();
  } finally {
    const left = callsOn.get(model)! - 1;
    if (left > 0) {
      callsOn.set(model, left);
    } else {
      callsOn.delete(model);
      if (retired.delete(model)) model.dispose();
    }
  }
}

/** Quantizer's modelFor, for checkNotDisposed. */
let modelOf: (model: Quantizer, what: string) => NativeModel | null;

/**
 * Throws the Error of a disposed model, naming what (`'io.writeNanopqPickle()'`)
 * was called: for functions outside the classes that read a model.
 */
export function checkNotDisposed(model: Quantizer, what: string): void {
  modelOf(model, what);
}

/**
 * The native model of a fitted quantizer, for classes built over one (Rii);
 * the Errors of fitted(`method`) otherwise.
 */
export function fittedModelOf(model: Quantizer, method: string): NativeModel {
  return fittedOf(model, method);
}
let fittedOf: (model: Quantizer, method: string) => NativeModel;

/**
 * Gives `to` the fingerprint of `from` until `to` is fitted again: OPQ's pq,
 * the PQ of its rotated vectors, whose codes are the OPQ's own (as nanopq's
 * opq.pq.decode(opq.encode(X)) reads them).
 */
export function shareFingerprint(from: Quantizer, to: Quantizer): void {
  sharedFingerprint(from, to);
}
let sharedFingerprint: (from: Quantizer, to: Quantizer) => void;

export abstract class Quantizer {
  readonly M: number;
  readonly Ks: number;
  readonly metric: Metric;
  readonly codeDtype: CodeDtype;
  #verbose = false;
  #model: NativeModel | null = null;
  #disposed = false;
  #pending = 0;  // async calls running on this model
  #fingerprint: string | null = null;  // of #model, hashed when first asked for; null again when it is replaced

  protected constructor(options: PQOptions, kind: string) {
    const o = checkOptions(options, ['M', 'Ks', 'metric', 'verbose'], kind);
    this.M = checkInteger(o.M, 'M', 1, 2 ** 32 - 1);
    this.Ks = checkInteger(o.Ks ?? 256, 'Ks', 1, 2 ** 32);
    this.metric = checkMetric(o.metric ?? 'l2');
    if (o.verbose !== undefined && typeof o.verbose !== 'boolean') {
      throw new TypeError(`Expected a boolean for verbose, got ${describe(o.verbose)}`);
    }
    this.#verbose = o.verbose ?? false;
    this.codeDtype = codeDtypeFor(this.Ks);
    if (this.verbose) {
      console.log(`M: ${this.M}, Ks: ${this.Ks}, metric: ${this.metric}, code_dtype: ${this.codeDtype}`);
    }
    Object.freeze(this);  // M, Ks, metric and codeDtype are read-only (verbose is an accessor)
  }

  static {
    modelOf = (model, what) => model.modelFor(what);
    fittedOf = (model, method) => model.fitted(method);
    sharedFingerprint = (from, to) => { to.#fingerprint = from.fingerprint; };
    // From the fields, not the getters, which throw once disposed of.
    defineInspect(Quantizer, (q) => {
      const Ds = q.#model && q.#model.Ds;
      return {
        M: q.M, Ks: q.Ks, Ds, metric: q.metric, fitted: q.#model !== null, ...q.inspectFields(Ds),
        ...(q.#disposed ? { disposed: true } : {}),
      };
    });
  }

  /** What console.log shows besides M, Ks, Ds, metric and fitted. */
  protected inspectFields(_Ds: number | null): Record<string, unknown> {
    return {};
  }

  get verbose(): boolean {
    this.modelFor('verbose');
    return this.#verbose;
  }

  set verbose(value: boolean) {
    this.modelFor('verbose');
    if (typeof value !== 'boolean') throw new TypeError(`Expected a boolean for verbose, got ${describe(value)}`);
    this.#verbose = value;
  }

  /** D / M, or null before fit. */
  get Ds(): number | null {
    const model = this.modelFor('Ds');
    return model && model.Ds;
  }

  /** A copy of the codebook, shape (M, Ks, Ds): codewords[m][ks] is codeword ks of subspace m; null before fit. */
  get codewords(): Codewords | null {
    const model = this.modelFor('codewords');
    if (!model) return null;
    const data = new Float32Array(this.M * this.Ks * model.Ds);
    model.copyCodewords(data);
    return { data, shape: [this.M, this.Ks, model.Ds] };
  }

  /**
   * A short hash (16 hex digits) of what decides what this model's codes
   * mean: M, Ks, Ds, the codewords and, for OPQ, R; not the metric. The
   * codes encode gives carry it, and the methods that take codes refuse
   * codes that carry another; null before fit.
   */
  get fingerprint(): string | null {
    const model = this.modelFor('fingerprint');
    if (!model) return null;
    if (this.#fingerprint === null) {
      const { M, Ks, Ds, codewords, R } = this.modelFields();  // copies, once per fitted state
      this.#fingerprint = fingerprintOf(M, Ks, Ds!, codewords!, R ?? null);
    }
    return this.#fingerprint;
  }

  /**
   * Throws if codes (the argument name) carry the fingerprint of another
   * model. Called after the shape checks (whose errors say more of codes of
   * another M) and before any work.
   */
  #checkCodes(codes: unknown, name: string): void {
    checkCodesOf(codes, name, () => this.fingerprint);
  }

  /** The class name, for messages. */
  protected abstract get kind(): 'PQ' | 'OPQ';
  /** Fit options (unknown ones refused) as native training options, but for M, Ks, Ds, metric and verbose. */
  protected abstract trainingOptions(options: unknown, where: string):
    Omit<TrainingOptions, 'M' | 'Ks' | 'Ds' | 'metric' | 'verbose'>;
  /** What fit prints first when verbose. */
  protected abstract describeTraining(options: TrainingOptions): string;

  /** The model trained elsewhere or read from a file (its arrays already checked). */
  protected setModel(model: NativeModel): void {
    if (this.#model) retire(this.#model);
    this.#model = model;
    this.#fingerprint = null;  // a new model: its codes are no longer the old one's
  }

  /**
   * The native model, or null before fit. Every method and getter but dispose
   * starts here: once disposed of, the model is gone (M, Ks, metric and
   * codeDtype, plain settings, stay readable), and this Error names what
   * (`'encode()'`, `'codewords'`) was called, rather than save() writing
   * an unfitted model or a getter reading null.
   */
  protected modelFor(what: string): NativeModel | null {
    if (this.#disposed) throw new Error(`Expected ${this.kind === 'OPQ' ? 'an' : 'a'} ${this.kind} that is not disposed of for ${what}`);
    return this.#model;
  }

  protected fitted(method: string): NativeModel {
    const model = this.modelFor(`${method}()`);
    if (!model) {
      const make = this.kind === 'PQ' ? 'PQ.fromCodewords()' : 'OPQ.fromParts()';
      throw new TypeError(`Expected a fitted ${this.kind} for ${method}(); call fit() or ${make} first`);
    }
    return model;
  }

  /** D = M * Ds of a fitted model. */
  protected dimension(model: NativeModel): number {
    return this.M * model.Ds;
  }

  #training(vecs: MatrixLike, options: unknown, method: 'fit' | 'fitAsync', checkValuesNow: boolean) {
    this.modelFor(`${method}()`);
    if (this.#pending > 0) {
      throw new Error(`Expected no async call running on this ${this.kind} for ${method}(); wait for it to settle first`);
    }
    const parsed = this.trainingOptions(options, `${this.kind}.${method}`);
    const x = toMatrix(vecs, 'vecs', undefined, checkValuesNow);
    if (x.cols === 0 || x.cols % this.M !== 0) {
      throw new RangeError(`Expected vecs to have D divisible by M = ${this.M}, got D = ${x.cols}`);
    }
    if (x.rows <= this.Ks) {
      throw new RangeError(`Expected more training vectors than Ks = ${this.Ks} in vecs, got N = ${x.rows}`);
    }
    const training: TrainingOptions = {
      ...parsed, M: this.M, Ks: this.Ks, Ds: x.cols / this.M, metric: this.metric, verbose: this.verbose,
    };
    if (this.verbose) console.log(this.describeTraining(training));
    return { x, training };
  }

  /** Verbose output, then onProgress: what a training step reports. */
  #onStep(onProgress?: (p: Progress) => void): OnStep | undefined {
    if (!this.verbose && !onProgress) return undefined;
    return (phase, iteration, of, objective) => {
      if (this.verbose) {
        const what = phase === 'rotation' ? 'OPQ rotation' : 'k-means iteration';
        console.log(`${what} ${iteration} / ${of}: objective ${objective}`);
      }
      onProgress?.({ phase, iteration, of });
    };
  }

  /** Trains on vecs (N, D), N > Ks, D % M === 0. Returns this. */
  fit(vecs: MatrixLike, options: object = {}): this {
    const { x, training } = this.#training(vecs, options, 'fit', true);
    // Verbose output runs user code (console.log may be anyone's) between
    // steps that read the vectors again: those must be ours.
    const data = this.verbose && !x.owned ? x.data.slice() : x.data;
    this.setModel(NativeModel.train(data, x.rows, training, this.#onStep()));
    return this;
  }

  /**
   * fit, off the event loop. Reads (encode, search, ...) may run meanwhile, on
   * the model as it was; fit and fitAsync are refused until it settles.
   */
  async fitAsync(vecs: MatrixLike, options: object & AsyncFitOptions = {}): Promise<this> {
    const site = new Error();
    // The fit options are checked by #training; signal and onProgress here.
    const all = checkOptions(options, Object.keys(options ?? {}), `${this.kind}.fitAsync`);
    const { signal, onProgress, zeroCopy, ...fitOptions } = all as AsyncFitOptions;
    zeroCopyOption({ zeroCopy }, `${this.kind}.fitAsync`);
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new TypeError(`Expected an AbortSignal for signal, got ${describe(signal)}`);
    }
    if (onProgress !== undefined && typeof onProgress !== 'function') {
      throw new TypeError(`Expected a function for onProgress, got ${describe(onProgress)}`);
    }
    const { x, training } = this.#training(vecs, fitOptions, 'fitAsync', false);
    if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
    const stop = new Int32Array(1);
    const abort = () => Atomics.store(stop, 0, 1);
    let progressError: { error: unknown } | undefined;
    const report = onProgress && ((p: Progress) => {
      try {
        onProgress(p);
      } catch (error) {  // stops training; fitAsync rejects with it
        progressError ??= { error };
        abort();
      }
    });
    signal?.addEventListener('abort', abort, { once: true });
    this.#pending++;
    try {
      const data = await ownedCopy(x, 'vecs', zeroCopy ?? false);
      const model = await NativeModel.trainAsync(data, x.rows, training, this.#onStep(report), stop);
      if (this.#disposed) {
        model.dispose();
        this.modelFor('fitAsync()');  // throws
      }
      this.setModel(model);
      return this;
    } catch (err) {
      if (progressError) throw progressError.error;
      if ((err as Error).name === 'AbortError') throw atSite(new AbortError(undefined, { cause: signal?.reason }), site);
      throw localError(err, site);
    } finally {
      this.#pending--;
      signal?.removeEventListener('abort', abort);
    }
  }

  /** Runs the native calls of an async call on model, counted as running on this quantizer and on the model. */
  async #track(model: NativeModel, site: Error, calls: () => Promise<void>): Promise<void> {
    this.#pending++;
    try {
      await using(model, calls);
    } catch (err) {
      throw localError(err, site);  // the caller's stack, for the errors of the copies too
    } finally {
      this.#pending--;
    }
  }

  /** PQ codes of vecs (N, D): (N, M), of dtype codeDtype. */
  encode(vecs: MatrixLike): CodeMatrix {
    const model = this.fitted('encode');
    const x = toMatrix(vecs, 'vecs', this.dimension(model));
    const codes = newCodeArray(this.codeDtype, x.rows * this.M);
    model.encode(x.data, x.rows, codes);
    return withFingerprint({ data: codes, shape: [x.rows, this.M] }, this.fingerprint);
  }

  /** encode, off the event loop (see AsyncOptions for what it copies). */
  async encodeAsync(vecs: MatrixLike, options?: AsyncOptions): Promise<CodeMatrix> {
    const site = new Error();
    const model = this.fitted('encodeAsync');
    const zeroCopy = zeroCopyOption(options, `${this.kind}.encodeAsync`);
    const x = toMatrix(vecs, 'vecs', this.dimension(model), false);
    const { M } = this;
    const fingerprint = this.fingerprint;  // now: a dispose() while the codes are made leaves none to ask
    const codes = newCodeArray(this.codeDtype, x.rows * M);
    await this.#track(model, site, () => eachRowPiece(x, 'vecs', zeroCopy, (rows, first, count) =>
      settled(model.encodeAsync(rows, count, codes.subarray(first * M, (first + count) * M)), site)));
    return withFingerprint({ data: codes, shape: [x.rows, M] }, fingerprint);
  }

  /** Approximate vectors from codes (N, M): (N, D). */
  decode(codes: CodesLike): Matrix {
    const model = this.fitted('decode');
    const c = toCodes(codes, 'codes', this.M, this.Ks);
    this.#checkCodes(codes, 'codes');
    const D = this.dimension(model);
    const x = new Float32Array(c.rows * D);
    model.decode(c.data, c.rows, x);
    return { data: x, shape: [c.rows, D] };
  }

  /** The distance table of one query (D,): squared L2 distances, or inner products for 'dot'. */
  dtable(query: VectorLike): DistanceTable {
    const model = this.fitted('dtable');
    const table = newFloats(this.M * this.Ks);
    model.distanceTable(toVector(query, 'query', this.dimension(model)), table);
    return tableOf(table, this.M, this.Ks, this.metric, this.fingerprint);
  }

  #searchArgs(method: string, queries: MatrixLike, codes: CodesLike | PackedCodes, k: number, checkValuesNow: boolean) {
    const model = this.fitted(method);
    const q = toMatrix(queries, 'queries', this.dimension(model), checkValuesNow);
    const packed = codes instanceof PackedCodes ? checkPacked(codes, this.M, this.Ks, 'codes') : null;
    const c = packed ? { data: packed.data, rows: packed.N, owned: false } : toCodes(codes, 'codes', this.M, this.Ks);
    this.#checkCodes(codes, 'codes');
    const found = kFound(k, c.rows);
    const result: SearchResult = {
      ids: new Uint32Array(q.rows * found), dists: new Float32Array(q.rows * found), shape: [q.rows, found],
    };
    return { model, q, c, packed: packed !== null, found, result };
  }

  /**
   * The k best codes for each query, all cores: row i of ids/dists (shape
   * [nq, k]) holds query i's, best first (smallest for 'l2', largest for
   * 'dot'), ties to the lower id; the ids of dtable(query).topk(codes, k).
   * Fewer than k when there are fewer codes. codes may be packed (packCodes):
   * the same results.
   */
  search(queries: MatrixLike, codes: CodesLike | PackedCodes, k: number): SearchResult {
    const { model, q, c, packed, found, result } = this.#searchArgs('search', queries, codes, k, true);
    if (packed) model.searchPacked(q.data, q.rows, c.data as Uint8Array, c.rows, found, result.ids, result.dists);
    else model.search(q.data, q.rows, c.data, c.rows, found, result.ids, result.dists);
    return result;
  }

  /** search, off the event loop (see AsyncOptions for what it copies). */
  async searchAsync(queries: MatrixLike, codes: CodesLike | PackedCodes, k: number, options?: AsyncOptions): Promise<SearchResult> {
    const site = new Error();
    const zeroCopy = zeroCopyOption(options, `${this.kind}.searchAsync`);
    const { model, q, c, packed, found, result } = this.#searchArgs('searchAsync', queries, codes, k, false);
    await this.#track(model, site, async () => {
      const ownCodes = await ownedCopy(c, 'codes', zeroCopy);
      await eachRowPiece(q, 'queries', zeroCopy, (rows, first, count) => {
        const ids = result.ids.subarray(first * found, (first + count) * found);
        const dists = result.dists.subarray(first * found, (first + count) * found);
        return settled(packed ? model.searchPackedAsync(rows, count, ownCodes as Uint8Array, c.rows, found, ids, dists)
          : model.searchAsync(rows, count, ownCodes, c.rows, found, ids, dists), site);
      });
    });
    return result;
  }

  /**
   * codes (N, M) of a model with Ks = 16, packed 4 bits a code in blocks of
   * 32 for fast scan: search, searchAsync, dtable(q).topk and adist take
   * them in place of the codes, with the same results.
   */
  packCodes(codes: CodesLike): PackedCodes {
    this.modelFor('packCodes()');
    if (this.Ks !== 16) throw new TypeError(`Expected a model with Ks = 16 to pack codes, got Ks = ${this.Ks}`);
    this.#checkCodes(codes, 'codes');  // else packing would pass another model's codes off as this one's
    return PackedCodes.pack(codes, this.M, this.fingerprint);
  }

  /** The plain codes (N, M) of packed codes (packCodes). */
  unpackCodes(packed: PackedCodes): CodeMatrix {
    this.modelFor('unpackCodes()');
    checkPacked(packed, this.M, this.Ks, 'packed');
    this.#checkCodes(packed, 'packed');
    return packed.unpack();
  }

  /** Frees the native model now; later calls throw. Async calls already running finish first. */
  dispose(): void {
    if (this.#model) retire(this.#model);
    this.#model = null;
    this.#fingerprint = null;
    this.#disposed = true;
  }

  /** The fields of the .npq format (docs/format.md). */
  protected modelFields(): ModelFields {
    const cw = this.codewords;
    return { kind: this.kind, metric: this.metric, M: this.M, Ks: this.Ks, Ds: this.Ds, codewords: cw && cw.data };
  }

  /** Same class, M, Ks, metric, Ds and codewords (and R for OPQ); a disposed other has none. */
  equals(other: unknown): boolean {
    this.modelFor('equals()');
    if (!(other instanceof Quantizer) || other.kind !== this.kind || other.#disposed) return false;
    const a = this.modelFields(), b = other.modelFields();
    const same = (x?: Float32Array | null, y?: Float32Array | null) =>
      !x || !y ? !x === !y : x.length === y.length && x.every((v, i) => v === y[i]);
    return a.M === b.M && a.Ks === b.Ks && a.metric === b.metric && a.Ds === b.Ds &&
      same(a.codewords, b.codewords) && same(a.R, b.R);
  }

  /** The model in this library's .npq format (docs/format.md): a Node Buffer, typed as the Uint8Array it is. */
  toBuffer(): Uint8Array {
    this.modelFor('toBuffer()');
    return writeModel(this.modelFields());
  }

  save(path: string): void {
    this.modelFor('save()');
    fs.writeFileSync(checkPath(path), writeModel(this.modelFields()));
  }
}

/** The fit options PQ and OPQ share: seed and minit. */
export function seedAndMinit(o: Record<string, unknown>): { seed: number; minit: Minit } {
  const seed = checkInteger(o.seed ?? 123, 'seed', 0, MAX_SEED);
  return { seed, minit: checkName<Minit>(o.minit ?? 'points', 'minit') };
}
