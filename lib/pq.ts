import * as fs from 'node:fs';
import {
  checkInteger, checkMetric, checkOptions, CodeDtype, codeDtypeFor, CodeMatrix, Codewords, CodesLike,
  checkShape, checkValues, describe, MAX_ABS_CODEWORD, Matrix, MatrixLike, Metric, newCodeArray, toCodes, toMatrix, toVector, VectorLike,
} from './arrays';
import { DistanceTable, tableOf } from './distance-table';
import { readModel, writeModel } from './format';
import { native } from './native';

export type Minit = 'points' | 'random' | '++';

export interface PQOptions { M: number; Ks?: number; metric?: Metric; verbose?: boolean }
export interface FitOptions { iter?: number; seed?: number; minit?: Minit }

const MAX_SEED = 2 ** 31 - 1;

/** Gives pq codewords this library trained itself (taken as they are, unchecked). */
export let setTrainedCodewords: (pq: PQ, codewords: Float32Array, Ds: number) => void;

/** The checks PQ.fit and OPQ.fit share: training vectors, seed and minit. */
export function checkTraining(model: { M: number; Ks: number }, vecs: MatrixLike, o: Record<string, unknown>) {
  const seed = checkInteger(o.seed ?? 123, 'seed', 0, MAX_SEED);
  const minit = o.minit ?? 'points';
  if (minit !== 'points' && minit !== 'random' && minit !== '++') {
    throw new TypeError(`Expected 'points', 'random' or '++' for minit, got ${describe(minit)}`);
  }
  const x = toMatrix(vecs, 'vecs');
  if (x.cols === 0 || x.cols % model.M !== 0) {
    throw new RangeError(`Expected vecs to have D divisible by M = ${model.M}, got D = ${x.cols}`);
  }
  if (x.rows <= model.Ks) {
    throw new RangeError(`Expected more training vectors than Ks = ${model.Ks} in vecs, got N = ${x.rows}`);
  }
  return { x, Ds: x.cols / model.M, seed, minit: minit as Minit };
}

/**
 * Product quantization (Jégou et al., TPAMI 2011) with the interface of Python
 * nanopq's PQ: a D-dim vector is split into M sub-vectors of Ds = D / M dims,
 * and each is replaced by the index of its nearest codeword among Ks.
 *
 * @example
 * const pq = new PQ({ M: 4, Ks: 256 }).fit(Xt, { iter: 20, seed: 123 });
 * const codes = pq.encode(X);                       // (N, 4) uint8
 * const dists = pq.dtable(query).adist(codes);      // (N,)
 */
export class PQ {
  readonly M: number;
  readonly Ks: number;
  readonly metric: Metric;
  readonly codeDtype: CodeDtype;
  verbose: boolean;
  #codewords: Float32Array | null = null;
  #Ds: number | null = null;

  static {
    setTrainedCodewords = (pq, codewords, Ds) => pq.#setCodewords(codewords, Ds);
  }

  constructor(options: PQOptions) {
    const o = checkOptions(options, ['M', 'Ks', 'metric', 'verbose'], 'PQ');
    this.M = checkInteger(o.M, 'M', 1, 2 ** 32 - 1);
    this.Ks = checkInteger(o.Ks ?? 256, 'Ks', 1, 2 ** 32);
    this.metric = checkMetric(o.metric ?? 'l2');
    if (o.verbose !== undefined && typeof o.verbose !== 'boolean') {
      throw new TypeError(`Expected a boolean for verbose, got ${describe(o.verbose)}`);
    }
    this.verbose = o.verbose ?? false;
    this.codeDtype = codeDtypeFor(this.Ks);
    if (this.verbose) {
      console.log(`M: ${this.M}, Ks: ${this.Ks}, metric: ${this.metric}, code_dtype: ${this.codeDtype}`);
    }
  }

  /** A PQ over a codebook trained elsewhere, shape (M, Ks, Ds); the data is copied. */
  static fromCodewords(codewords: Codewords, options: { metric?: Metric; verbose?: boolean } = {}): PQ {
    const o = checkOptions(options, ['metric', 'verbose'], 'PQ.fromCodewords');
    if (codewords === null || typeof codewords !== 'object' || !(codewords.data instanceof Float32Array)) {
      throw new TypeError(`Expected codewords to be {data: Float32Array, shape: [M, Ks, Ds]}, got ${describe(codewords)}`);
    }
    const [M, Ks, Ds] = checkShape(codewords.shape, ['M', 'Ks', 'Ds'], 'codewords', 1);
    if (codewords.data.length !== M * Ks * Ds) {
      throw new RangeError(`Expected codewords.data.length to be M * Ks * Ds = ${M * Ks * Ds}, got ${codewords.data.length}`);
    }
    checkValues(codewords.data, 'codewords', Ds, MAX_ABS_CODEWORD);
    const pq = new PQ({ M, Ks, metric: (o.metric as Metric) ?? 'l2', verbose: (o.verbose as boolean) ?? false });
    pq.#setCodewords(Float32Array.from(codewords.data), Ds);
    return pq;
  }

  /** D / M, or null before fit. */
  get Ds(): number | null {
    return this.#Ds;
  }

  /** The codebook, shape (M, Ks, Ds): codewords[m][ks] is codeword ks of subspace m; null before fit. */
  get codewords(): Codewords | null {
    return this.#codewords && { data: this.#codewords, shape: [this.M, this.Ks, this.#Ds as number] };
  }

  #setCodewords(codewords: Float32Array, Ds: number): void {
    this.#codewords = codewords;
    this.#Ds = Ds;
  }

  #fitted(method: string): { codewords: Float32Array; Ds: number } {
    if (!this.#codewords || this.#Ds === null) {
      throw new TypeError(`Expected a fitted PQ for ${method}(); call fit() or PQ.fromCodewords() first`);
    }
    return { codewords: this.#codewords, Ds: this.#Ds };
  }

  /** k-means in each subspace of the training vectors vecs (N, D), N > Ks, D % M === 0. Returns this. */
  fit(vecs: MatrixLike, options: FitOptions = {}): this {
    const o = checkOptions(options, ['iter', 'seed', 'minit'], 'PQ.fit');
    const iter = checkInteger(o.iter ?? 20, 'iter', 1, 1e6);
    const { x, Ds, seed, minit } = checkTraining(this, vecs, o);
    if (this.verbose) console.log(`iter: ${iter}, seed: ${seed}`);
    const codewords = new Float32Array(this.M * this.Ks * Ds);
    native.train(x.data, x.rows, this.M, this.Ks, Ds, iter, seed, minit, this.verbose, codewords);
    this.#setCodewords(codewords, Ds);
    return this;
  }

  /** PQ codes of vecs (N, D): (N, M), of dtype codeDtype. */
  encode(vecs: MatrixLike): CodeMatrix {
    const { codewords, Ds } = this.#fitted('encode');
    const x = toMatrix(vecs, 'vecs', this.M * Ds);
    const codes = newCodeArray(this.codeDtype, x.rows * this.M);
    native.encode(codewords, this.M, this.Ks, Ds, x.data, x.rows, codes);
    return { data: codes, shape: [x.rows, this.M] };
  }

  /** Approximate vectors from codes (N, M): (N, D). */
  decode(codes: CodesLike): Matrix {
    const { codewords, Ds } = this.#fitted('decode');
    const c = toCodes(codes, 'codes', this.M, this.Ks);
    const x = new Float32Array(c.rows * this.M * Ds);
    native.decode(codewords, this.M, this.Ks, Ds, c.data, c.rows, x);
    return { data: x, shape: [c.rows, this.M * Ds] };
  }

  /** The distance table of one query (D,): squared L2 distances, or inner products for 'dot'. */
  dtable(query: VectorLike): DistanceTable {
    const { codewords, Ds } = this.#fitted('dtable');
    return tableOf(codewords, this.M, this.Ks, Ds, toVector(query, 'query', this.M * Ds), this.metric);
  }

  /** Same M, Ks, metric, Ds and codewords. */
  equals(other: unknown): boolean {
    if (!(other instanceof PQ)) return false;
    if (this.M !== other.M || this.Ks !== other.Ks || this.metric !== other.metric || this.Ds !== other.Ds) {
      return false;
    }
    const a = this.#codewords;
    const b = other.#codewords;
    if (!a || !b) return a === b;
    return a.length === b.length && a.every((v, i) => v === b[i]);
  }

  /** The model in this library's .npq format (docs/format.md). */
  toBuffer(): Buffer {
    return writeModel({ kind: 'PQ', metric: this.metric, M: this.M, Ks: this.Ks, Ds: this.#Ds, codewords: this.#codewords });
  }

  static fromBuffer(buf: Uint8Array): PQ {
    const model = readModel(buf);
    if (model.kind !== 'PQ') throw new TypeError(`Expected a PQ model for buf, got an ${model.kind} model`);
    if (!model.codewords || !model.Ds) return new PQ({ M: model.M, Ks: model.Ks, metric: model.metric });
    return PQ.fromCodewords({ data: model.codewords, shape: [model.M, model.Ks, model.Ds] }, { metric: model.metric });
  }

  save(path: string): void {
    fs.writeFileSync(path, this.toBuffer());
  }

  static load(path: string): PQ {
    return PQ.fromBuffer(fs.readFileSync(path));
  }
}
