import * as fs from 'node:fs';
import {
  checkInteger, checkOptions, CodeDtype, CodeMatrix, Codewords, CodesLike, describe, Matrix, MatrixLike,
  Metric, newCodeArray, toCodes, toMatrix, toVector, VectorLike,
} from './arrays';
import { DistanceTable, tableOf } from './distance-table';
import { readModel, writeModel } from './format';
import { native } from './native';
import { checkTraining, Minit, PQ, PQOptions, setTrainedCodewords } from './pq';

export interface OPQFitOptions {
  pqIter?: number; rotationIter?: number; seed?: number; parametricInit?: boolean; minit?: Minit;
}

/** The largest |R^T R - I| entry accepted as orthonormal (float32 rounding over D terms). */
const ORTHONORMAL_TOLERANCE = 1e-4;

function checkRotation(R: unknown, D: number): Float32Array {
  const r = toMatrix(R, 'R', D);
  if (r.rows !== D) throw new RangeError(`Expected R to have shape [${D}, ${D}] (D = M * Ds), got [${r.rows}, ${r.cols}]`);
  const error = native.orthonormalityError(r.data, D);
  if (!(error <= ORTHONORMAL_TOLERANCE)) {
    throw new RangeError(`Expected an orthonormal R (|R^T R - I| <= ${ORTHONORMAL_TOLERANCE}), got an entry off by ${error}`);
  }
  return r.data;
}

/**
 * Optimized product quantization (Ge et al., TPAMI 2014) with the interface of
 * Python nanopq's OPQ: vectors are rotated by an orthonormal R (x @ R), then
 * product-quantized by `pq`.
 *
 * @example
 * const opq = new OPQ({ M: 4 }).fit(Xt, { pqIter: 20, rotationIter: 10, seed: 123 });
 * const dists = opq.dtable(query).adist(opq.encode(X));
 */
export class OPQ {
  pq: PQ;
  #R: Float32Array | null = null;

  constructor(options: PQOptions) {
    checkOptions(options, ['M', 'Ks', 'metric', 'verbose'], 'OPQ');
    this.pq = new PQ(options);
  }

  /** An OPQ from a rotation R (D, D) and a codebook (M, Ks, Ds) trained elsewhere; both are copied. */
  static fromParts(R: Matrix, codewords: Codewords, options: { metric?: Metric; verbose?: boolean } = {}): OPQ {
    const pq = PQ.fromCodewords(codewords, options);
    const D = pq.M * (pq.Ds as number);
    const opq = new OPQ({ M: pq.M, Ks: pq.Ks, metric: pq.metric, verbose: pq.verbose });
    opq.pq = pq;
    opq.#R = Float32Array.from(checkRotation(R, D));
    return opq;
  }

  get M(): number { return this.pq.M; }
  get Ks(): number { return this.pq.Ks; }
  get metric(): Metric { return this.pq.metric; }
  get codeDtype(): CodeDtype { return this.pq.codeDtype; }
  get Ds(): number | null { return this.pq.Ds; }
  get codewords(): Codewords | null { return this.pq.codewords; }
  get verbose(): boolean { return this.pq.verbose; }
  set verbose(v: boolean) { this.pq.verbose = v; }

  /** The rotation (D, D): x_rotated = x @ R; null before fit. */
  get R(): Matrix | null {
    if (!this.#R) return null;
    const D = this.M * (this.Ds as number);
    return { data: this.#R, shape: [D, D] };
  }

  #fitted(method: string): { R: Float32Array; codewords: Float32Array; Ds: number } {
    const codewords = this.pq.codewords;
    if (!this.#R || !codewords) {
      throw new TypeError(`Expected a fitted OPQ for ${method}(); call fit() or OPQ.fromParts() first`);
    }
    return { R: this.#R, codewords: codewords.data, Ds: codewords.shape[2] };
  }

  /**
   * Alternates rotationIter times between PQ training (one k-means iteration)
   * and the Procrustes update of R; the last round trains the PQ with pqIter
   * iterations. parametricInit starts from the eigenvalue-allocation rotation.
   */
  fit(vecs: MatrixLike, options: OPQFitOptions = {}): this {
    const o = checkOptions(options, ['pqIter', 'rotationIter', 'seed', 'parametricInit', 'minit'], 'OPQ.fit');
    const pqIter = checkInteger(o.pqIter ?? 20, 'pqIter', 1, 1e6);
    const rotationIter = checkInteger(o.rotationIter ?? 10, 'rotationIter', 1, 1e5);
    const parametricInit = o.parametricInit ?? false;
    if (typeof parametricInit !== 'boolean') {
      throw new TypeError(`Expected a boolean for parametricInit, got ${describe(parametricInit)}`);
    }
    const { x, Ds, seed, minit } = checkTraining(this, vecs, o);
    const D = x.cols;
    const R = new Float32Array(D * D);
    const codewords = new Float32Array(this.M * this.Ks * Ds);
    native.trainOpq(x.data, x.rows, this.M, this.Ks, Ds, pqIter, seed, minit, this.verbose, rotationIter,
      parametricInit, R, codewords);
    setTrainedCodewords(this.pq, codewords, Ds);
    this.#R = R;
    return this;
  }

  /** vecs @ R: a matrix (N, D) gives a Matrix, one vector (D,) a Float32Array. */
  rotate(vecs: MatrixLike): Matrix;
  rotate(vec: VectorLike): Float32Array;
  rotate(vecs: MatrixLike | VectorLike): Matrix | Float32Array {
    const { R, Ds } = this.#fitted('rotate');
    const D = this.M * Ds;
    const single = vecs instanceof Float32Array || (Array.isArray(vecs) && typeof vecs[0] === 'number');
    if (single) {
      const v = toVector(vecs, 'vec', D);
      const out = new Float32Array(D);
      native.rotate(v, 1, D, R, false, out);
      return out;
    }
    const x = toMatrix(vecs, 'vecs', D);
    const out = new Float32Array(x.rows * D);
    native.rotate(x.data, x.rows, D, R, false, out);
    return { data: out, shape: [x.rows, D] };
  }

  /** PQ codes of the rotated vectors: (N, M), of dtype codeDtype. */
  encode(vecs: MatrixLike): CodeMatrix {
    const { R, codewords, Ds } = this.#fitted('encode');
    const x = toMatrix(vecs, 'vecs', this.M * Ds);
    const codes = newCodeArray(this.codeDtype, x.rows * this.M);
    native.encodeRotated(codewords, this.M, this.Ks, Ds, R, x.data, x.rows, codes);
    return { data: codes, shape: [x.rows, this.M] };
  }

  /** pq.decode(codes) @ R^T: approximate vectors (N, D) in the original space. */
  decode(codes: CodesLike): Matrix {
    const { R, codewords, Ds } = this.#fitted('decode');
    const c = toCodes(codes, 'codes', this.M, this.Ks);
    const x = new Float32Array(c.rows * this.M * Ds);
    native.decodeRotated(codewords, this.M, this.Ks, Ds, R, c.data, c.rows, x);
    return { data: x, shape: [c.rows, this.M * Ds] };
  }

  /** The distance table of the rotated query (D,). */
  dtable(query: VectorLike): DistanceTable {
    const { R, codewords, Ds } = this.#fitted('dtable');
    const D = this.M * Ds;
    const rotated = new Float32Array(D);  // may exceed the input bound by up to sqrt(D): not checked again
    native.rotate(toVector(query, 'query', D), 1, D, R, false, rotated);
    return tableOf(codewords, this.M, this.Ks, Ds, rotated, this.metric);
  }

  /** Same PQ (M, Ks, metric, Ds, codewords) and the same R. */
  equals(other: unknown): boolean {
    if (!(other instanceof OPQ) || !this.pq.equals(other.pq)) return false;
    const a = this.#R;
    const b = other.#R;
    if (!a || !b) return a === b;
    return a.length === b.length && a.every((v, i) => v === b[i]);
  }

  /** The model in this library's .npq format (docs/format.md). */
  toBuffer(): Buffer {
    const cw = this.pq.codewords;
    return writeModel({
      kind: 'OPQ', metric: this.metric, M: this.M, Ks: this.Ks, Ds: this.Ds,
      codewords: cw && cw.data, R: this.#R,
    });
  }

  static fromBuffer(buf: Uint8Array): OPQ {
    const model = readModel(buf);
    if (model.kind !== 'OPQ') throw new TypeError(`Expected an OPQ model for buf, got a ${model.kind} model`);
    if (!model.codewords || !model.R || !model.Ds) return new OPQ({ M: model.M, Ks: model.Ks, metric: model.metric });
    const D = model.M * model.Ds;
    return OPQ.fromParts({ data: model.R, shape: [D, D] },
      { data: model.codewords, shape: [model.M, model.Ks, model.Ds] }, { metric: model.metric });
  }

  save(path: string): void {
    fs.writeFileSync(path, this.toBuffer());
  }

  static load(path: string): OPQ {
    return OPQ.fromBuffer(fs.readFileSync(path));
  }
}
