import type { Matrix, MatrixLike } from '../core/arrays';
import { defineInspect } from '../core/inspect';
import { native } from '../core/native';
import { checkValues, describe, MAX_ABS_VALUE, toMatrix } from '../core/validate';
import { checkDims, own } from './object';
import { transformHandle, transformInfo, VectorTransform } from './vector-transform';

/** An OPQMatrix trains a d x d matrix: beyond 16384, that alone is over a GiB. The addon's limit. */
export const MAX_OPQ_DIMENSION = native.limits.maxOpqDimension;


/** faiss::OPQMatrix: y = A x, A (dOut, dIn) as Faiss stores it. Read from a file, any linear transform. */
export class OPQMatrix extends VectorTransform {
  constructor(d: number, M: number) {
    super();
    const [dd, mm] = checkDims(d, M, MAX_OPQ_DIMENSION);
    own(this, native.opqNew(dd, mm));
  }
  /** A^T A = I (within Faiss's 4e-5): reverseTransform needs it, and so does faissToNanopq. */
  get isOrthonormal(): boolean { return transformInfo(this).isOrthonormal; }
  /** Whether y = A x + b with a bias b (Faiss's OPQ has none; a file's LinearTransform may). */
  get haveBias(): boolean { return transformInfo(this).haveBias; }

  /**
   * A copy of A, (dOut, dIn) row-major; assigning copies it in and marks the
   * transform trained. Its values are bounded as vectors are (MAX_ABS_VALUE):
   * an OPQ's A is orthonormal, and train() starts from A (see OPQMatrix.train).
   */
  get A(): Float32Array {
    const { dIn, dOut, isTrained } = transformInfo(this);
    if (!isTrained) throw new TypeError('Expected a trained OPQMatrix for A; call train() or assign A first');
    const out = new Float32Array(dIn * dOut);
    native.transformGetA(transformHandle(this), out);
    return out;
  }

  set A(values: Float32Array) {
    const { dIn, dOut } = transformInfo(this);
    if (!(values instanceof Float32Array)) throw new TypeError(`Expected a Float32Array for A, got ${describe(values)}`);
    if (values.length !== dIn * dOut) throw new RangeError(`Expected dOut * dIn = ${dIn * dOut} values for A, got ${values.length}`);
    checkValues(values, 'A', dIn, MAX_ABS_VALUE);
    native.transformSetA(transformHandle(this), values);
  }

  /**
   * Faiss's OPQ training, from the A assigned or trained before if any (else
   * a random rotation): a RangeError if x A^T has values beyond MAX_ABS_VALUE.
   */
  train(x: MatrixLike): void {
    const m = toMatrix(x, 'x', this.dIn);
    native.transformTrain(transformHandle(this), m.data, m.rows);
  }

  /** x = A^T y for each row (A orthonormal): (N, dIn). */
  reverseTransform(y: MatrixLike): Matrix {
    const { dIn, dOut } = transformInfo(this);
    const m = toMatrix(y, 'y', dOut);
    const x = new Float32Array(m.rows * dIn);
    native.transformReverse(transformHandle(this), m.data, m.rows, x);
    return { data: x, shape: [m.rows, dIn] };
  }
}

defineInspect(OPQMatrix, (t) => {
  const { dIn, dOut, isTrained } = transformInfo(t);
  return { dIn, dOut, isTrained };
});
