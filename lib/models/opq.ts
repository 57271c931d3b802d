import * as fs from 'node:fs';
import { TrainingOptions } from '../core/addon';
import { CodewordsInput, Matrix, MatrixInput, MatrixLike, Metric, VectorLike } from '../core/arrays';
import { inspectShape } from '../core/inspect';
import { native } from '../core/native';
import { NativeModel } from '../core/native-model';
import { checkInteger, checkOptions, checkPath, describe, toMatrix, toVector } from '../core/validate';
import type { ModelFields } from '../io/model-fields';
import { readModel } from '../io/npq';
import { checkCodewords, PQ } from './pq';
import { AsyncFitOptions, Minit, ModelOptions, PQOptions, Quantizer, seedAndMinit, shareFingerprint } from './quantizer';

/** What `OPQ.fit` and `OPQ.fitAsync` take. */
export interface OPQFitOptions {
  /**
   * k-means iterations of the final PQ training, 1 to 1e6.
   * @defaultValue 20
   */
  pqIter?: number;
  /**
   * Alternations of PQ training and rotation update, 1 to 1e5.
   * @defaultValue 10
   */
  rotationIter?: number;
  /**
   * 0 to 2**31 - 1: the same data, options and seed give the same R and codewords.
   * @defaultValue 123
   */
  seed?: number;
  /**
   * Start from the eigenvalue-allocation rotation instead of the identity.
   * @defaultValue false
   */
  parametricInit?: boolean;
  /**
   * Initial codewords: 'points', 'random' or '++', as PQ's FitOptions.
   * @defaultValue 'points'
   */
  minit?: Minit;
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
export class OPQ extends Quantizer {
  #pq: PQ | null = null;  // made from the codewords when first asked for

  constructor(options: PQOptions) {
    super(options, 'OPQ');
  }

  protected get kind(): 'OPQ' {
    return 'OPQ';
  }

  /** An OPQ from a rotation R (D, D) and a codebook (M, Ks, Ds) trained elsewhere; both are copied. */
  static fromParts(R: MatrixInput, codewords: CodewordsInput, options: ModelOptions = {}): OPQ {
    const o = checkOptions(options, ['metric', 'verbose'], 'OPQ.fromParts');
    const { data, M, Ks, Ds } = checkCodewords(codewords);
    const opq = new OPQ({ M, Ks, metric: (o.metric as Metric) ?? 'l2', verbose: (o.verbose as boolean) ?? false });
    opq.setModel(NativeModel.create(data, M, Ks, Ds, opq.metric, checkRotation(R, M * Ds)));
    return opq;
  }

  /**
   * The PQ of the rotated vectors (a copy of this OPQ's codebook). Its codes
   * are this OPQ's, so it has this OPQ's fingerprint (until fitted again).
   */
  get pq(): PQ {
    this.modelFor('pq');
    if (!this.#pq) {
      const codewords = this.codewords;
      this.#pq = codewords ? PQ.fromCodewords(codewords, { metric: this.metric })
        : new PQ({ M: this.M, Ks: this.Ks, metric: this.metric });
      this.#pq.verbose = this.verbose;
      if (codewords) shareFingerprint(this, this.#pq);  // its codes are this OPQ's (of the rotated vectors)
    }
    return this.#pq;
  }

  override get verbose(): boolean {
    return super.verbose;
  }

  override set verbose(value: boolean) {
    super.verbose = value;
    if (this.#pq) this.#pq.verbose = value;
  }

  protected override setModel(model: NativeModel): void {
    super.setModel(model);
    this.#pq = null;
  }

  /** As the PQ's; `pq`, if asked for, lives on while referenced (it holds a copy of the codebook). */
  override dispose(): void {
    super.dispose();
    this.#pq = null;
  }

  /** A copy of the rotation (D, D): x_rotated = x @ R; null before fit. */
  get R(): Matrix | null {
    const model = this.modelFor('R');
    if (!model) return null;
    const D = this.M * model.Ds;
    const data = new Float32Array(D * D);
    model.copyR(data);
    return { data, shape: [D, D] };
  }

  protected trainingOptions(options: unknown, where: string) {
    const o = checkOptions(options, ['pqIter', 'rotationIter', 'seed', 'parametricInit', 'minit'], where);
    const iter = checkInteger(o.pqIter ?? 20, 'pqIter', 1, 1e6);
    const rotationIter = checkInteger(o.rotationIter ?? 10, 'rotationIter', 1, 1e5);
    const parametricInit = o.parametricInit ?? false;
    if (typeof parametricInit !== 'boolean') {
      throw new TypeError(`Expected a boolean for parametricInit, got ${describe(parametricInit)}`);
    }
    return { iter, ...seedAndMinit(o), rotationIter, parametricInit };
  }

  protected describeTraining(o: TrainingOptions): string {
    return `pqIter: ${o.iter}, rotationIter: ${o.rotationIter}, seed: ${o.seed}, parametricInit: ${o.parametricInit}`;
  }

  /**
   * Alternates rotationIter times between PQ training (one k-means iteration)
   * and the Procrustes update of R; the last round trains the PQ with pqIter
   * iterations. parametricInit starts from the eigenvalue-allocation rotation.
   */
  override fit(vecs: MatrixLike, options: OPQFitOptions = {}): this {
    return super.fit(vecs, options);
  }

  override fitAsync(vecs: MatrixLike, options: OPQFitOptions & AsyncFitOptions = {}): Promise<this> {
    return super.fitAsync(vecs, options);
  }

  /** vecs @ R: a matrix (N, D) gives a Matrix, one vector (D,) a Float32Array. */
  rotate(vecs: MatrixLike): Matrix;
  rotate(vec: VectorLike): Float32Array;
  rotate(vecs: MatrixLike | VectorLike): Matrix | Float32Array {
    const model = this.fitted('rotate');
    const D = this.dimension(model);
    const single = vecs instanceof Float32Array || (Array.isArray(vecs) && typeof vecs[0] === 'number');
    if (single) {
      const out = new Float32Array(D);
      model.rotate(toVector(vecs, 'vec', D), 1, false, out);
      return out;
    }
    const x = toMatrix(vecs, 'vecs', D);
    const out = new Float32Array(x.rows * D);
    model.rotate(x.data, x.rows, false, out);
    return { data: out, shape: [x.rows, D] };
  }

  protected override inspectFields(Ds: number | null): Record<string, unknown> {
    return { R: Ds === null ? null : inspectShape([this.M * Ds, this.M * Ds]) };  // R's shape, not its values
  }

  protected override modelFields(): ModelFields {
    return { ...super.modelFields(), R: this.R?.data ?? null };
  }

  static fromBuffer(buf: Uint8Array): OPQ {
    return opqFromFields(readModel(buf), 'buf');
  }

  static load(path: string): OPQ {
    return opqFromFields(readModel(fs.readFileSync(checkPath(path)), path), path);
  }
}

/** The OPQ of a .npq model's fields, read from `source` (which errors name). */
export function opqFromFields(model: ModelFields, source: string): OPQ {
  if (model.kind !== 'OPQ') throw new TypeError(`Expected an OPQ model in ${source}, got a ${model.kind} model`);
  if (!model.codewords || !model.R || !model.Ds) return new OPQ({ M: model.M, Ks: model.Ks, metric: model.metric });
  const D = model.M * model.Ds;
  return OPQ.fromParts({ data: model.R, shape: [D, D] },
    { data: model.codewords, shape: [model.M, model.Ks, model.Ds] }, { metric: model.metric });
}
