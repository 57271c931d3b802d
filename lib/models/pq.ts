import * as fs from 'node:fs';
import { TrainingOptions } from '../core/addon';
import { CodewordsInput, MatrixLike, Metric } from '../core/arrays';
import { NativeModel } from '../core/native-model';
import { checkInteger, checkOptions, checkPath, checkShape, checkValues, describe, MAX_ABS_CODEWORD } from '../core/validate';
import type { ModelFields } from '../io/model-fields';
import { readModel } from '../io/npq';
import { AsyncFitOptions, Minit, ModelOptions, PQOptions, Quantizer, seedAndMinit } from './quantizer';

/** What `PQ.fit` and `PQ.fitAsync` take. */
export interface FitOptions {
  /**
   * k-means iterations, 1 to 1e6.
   * @defaultValue 20
   */
  iter?: number;
  /**
   * 0 to 2**31 - 1: the same data, options and seed give the same codewords.
   * @defaultValue 123
   */
  seed?: number;
  /**
   * Initial codewords: 'points' (random training vectors), 'random' (Gaussian
   * samples with the data's mean and covariance) or '++' (k-means++).
   * @defaultValue 'points'
   */
  minit?: Minit;
}

/** A codebook (M, Ks, Ds) as the native model takes it, checked. */
export function checkCodewords(codewords: unknown): { data: Float32Array; M: number; Ks: number; Ds: number } {
  const cw = codewords as CodewordsInput;
  if (cw === null || typeof cw !== 'object' || !(cw.data instanceof Float32Array)) {
    throw new TypeError(`Expected codewords to be {data: Float32Array, shape: [M, Ks, Ds]}, got ${describe(codewords)}`);
  }
  const [M, Ks, Ds] = checkShape(cw.shape, ['M', 'Ks', 'Ds'], 'codewords', 1);
  if (cw.data.length !== M * Ks * Ds) {
    throw new RangeError(`Expected codewords.data.length to be M * Ks * Ds = ${M * Ks * Ds}, got ${cw.data.length}`);
  }
  checkValues(cw.data, 'codewords', Ds, MAX_ABS_CODEWORD);
  return { data: cw.data, M, Ks, Ds };
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
export class PQ extends Quantizer {
  constructor(options: PQOptions) {
    super(options, 'PQ');
  }

  protected get kind(): 'PQ' {
    return 'PQ';
  }

  /** A PQ over a codebook trained elsewhere, shape (M, Ks, Ds); the data is copied. */
  static fromCodewords(codewords: CodewordsInput, options: ModelOptions = {}): PQ {
    const o = checkOptions(options, ['metric', 'verbose'], 'PQ.fromCodewords');
    const { data, M, Ks, Ds } = checkCodewords(codewords);
    const pq = new PQ({ M, Ks, metric: (o.metric as Metric) ?? 'l2', verbose: (o.verbose as boolean) ?? false });
    pq.setModel(NativeModel.create(data, M, Ks, Ds, pq.metric, null));
    return pq;
  }

  protected trainingOptions(options: unknown, where: string) {
    const o = checkOptions(options, ['iter', 'seed', 'minit'], where);
    const iter = checkInteger(o.iter ?? 20, 'iter', 1, 1e6);
    return { iter, ...seedAndMinit(o), rotationIter: 0, parametricInit: false };
  }

  protected describeTraining(o: TrainingOptions): string {
    return `iter: ${o.iter}, seed: ${o.seed}`;
  }

  /** k-means in each subspace of the training vectors vecs (N, D), N > Ks, D % M === 0. Returns this. */
  override fit(vecs: MatrixLike, options: FitOptions = {}): this {
    return super.fit(vecs, options);
  }

  override fitAsync(vecs: MatrixLike, options: FitOptions & AsyncFitOptions = {}): Promise<this> {
    return super.fitAsync(vecs, options);
  }

  static fromBuffer(buf: Uint8Array): PQ {
    return pqFromFields(readModel(buf), 'buf');
  }

  static load(path: string): PQ {
    return pqFromFields(readModel(fs.readFileSync(checkPath(path)), path), path);
  }
}

/** The PQ of a .npq model's fields, read from `source` (which errors name). */
export function pqFromFields(model: ModelFields, source: string): PQ {
  if (model.kind !== 'PQ') throw new TypeError(`Expected a PQ model in ${source}, got an ${model.kind} model`);
  if (!model.codewords || !model.Ds) return new PQ({ M: model.M, Ks: model.Ks, metric: model.metric });
  return PQ.fromCodewords({ data: model.codewords, shape: [model.M, model.Ks, model.Ds] }, { metric: model.metric });
}
