import type { Matrix, MatrixLike } from '../core/arrays';
import { defineInspect } from '../core/inspect';
import { native } from '../core/native';
import { toMatrix } from '../core/validate';
import { handleOf } from './object';

export const transformHandle = (t: object) => handleOf(t, 'this', t.constructor?.name ?? 'VectorTransform');
export const transformInfo = (t: object) => native.transformInfo(transformHandle(t));

/**
 * faiss::VectorTransform: what the transforms of an IndexPreTransform's
 * chain share. A linear one is an OPQMatrix (whatever made it: OPQ, PCA, a
 * rotation); another (L2norm's NormalizationTransform) is this class.
 */
export class VectorTransform {
  /** Only adopted from an index's chain (or made by a subclass). */
  protected constructor() {}

  get dIn(): number { return transformInfo(this).dIn; }
  get dOut(): number { return transformInfo(this).dOut; }
  get isTrained(): boolean { return transformInfo(this).isTrained; }
  /** As index_factory names it: 'OPQ8_32', 'PCAR16', 'L2norm', 'RR64', or 'LT<dOut>' for another linear one. */
  get description(): string { return transformInfo(this).description; }

  /** The transform of each row: (N, dOut). */
  apply(x: MatrixLike): Matrix {
    const { dIn, dOut } = transformInfo(this);
    const m = toMatrix(x, 'x', dIn);
    const y = new Float32Array(m.rows * dOut);
    native.transformApply(transformHandle(this), m.data, m.rows, y);
    return { data: y, shape: [m.rows, dOut] };
  }
}

defineInspect(VectorTransform, (t) => ({ dIn: t.dIn, dOut: t.dOut }));
