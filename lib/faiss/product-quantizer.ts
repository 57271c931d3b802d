import type { CodeMatrix, CodesLike, Matrix, MatrixLike } from '../core/arrays';
import { codeDtypeFor, newCodeArray } from '../core/arrays';
import { defineInspect } from '../core/inspect';
import { native } from '../core/native';
import { checkInteger, checkValues, describe, MAX_ABS_CODEWORD, toCodes, toMatrix } from '../core/validate';
import { checkDims, handleOf, own } from './object';

const pqHandle = (pq: object) => handleOf(pq, 'this', 'ProductQuantizer');
const pqInfo = (pq: object) => native.pqInfo(pqHandle(pq));

/** faiss::ProductQuantizer: M sub-quantizers of 2**nbits centroids over d / M dimensions each. */
export class ProductQuantizer {
  constructor(d: number, M: number, nbits: number) {
    const [dd, mm] = checkDims(d, M);
    own(this, native.pqNew(dd, mm, checkInteger(nbits, 'nbits', 1, 16)));
  }

  get d(): number { return pqInfo(this).d; }
  get M(): number { return pqInfo(this).M; }
  get nbits(): number { return pqInfo(this).nbits; }
  get dsub(): number { return pqInfo(this).dsub; }
  get ksub(): number { return pqInfo(this).ksub; }

  /** A copy of the centroids, (M, ksub, dsub) row-major; assigning copies them in. */
  get centroids(): Float32Array {
    const { M, ksub, dsub } = pqInfo(this);
    const out = new Float32Array(M * ksub * dsub);
    native.pqGetCentroids(pqHandle(this), out);
    return out;
  }

  set centroids(values: Float32Array) {
    const { M, ksub, dsub } = pqInfo(this);
    if (!(values instanceof Float32Array)) throw new TypeError(`Expected a Float32Array for centroids, got ${describe(values)}`);
    if (values.length !== M * ksub * dsub) {
      throw new RangeError(`Expected M * ksub * dsub = ${M * ksub * dsub} centroids values, got ${values.length}`);
    }
    checkValues(values, 'centroids', dsub, MAX_ABS_CODEWORD);
    native.pqSetCentroids(pqHandle(this), values);
  }

  train(x: MatrixLike): void {
    const m = toMatrix(x, 'x', this.d);
    if (m.rows < this.ksub) throw new RangeError(`Expected at least ksub = ${this.ksub} training vectors in x, got ${m.rows}`);
    native.pqTrain(pqHandle(this), m.data, m.rows);
  }

  /** Codes of x (N, d): one integer per sub-quantizer, (N, M), uint8 or uint16 by nanopq's rule. */
  computeCodes(x: MatrixLike): CodeMatrix {
    const { d, M, ksub } = pqInfo(this);
    const m = toMatrix(x, 'x', d);
    const codes = newCodeArray(codeDtypeFor(ksub), m.rows * M);
    native.pqComputeCodes(pqHandle(this), m.data, m.rows, codes);
    return { data: codes, shape: [m.rows, M] };
  }

  decode(codes: CodesLike): Matrix {
    const { d, M, ksub } = pqInfo(this);
    const c = toCodes(codes, 'codes', M, ksub);
    const x = new Float32Array(c.rows * d);
    native.pqDecode(pqHandle(this), c.data, c.rows, x);
    return { data: x, shape: [c.rows, d] };
  }
}

// What console.log shows (`ProductQuantizer { d: 784, M: 8, nbits: 8 }`).
defineInspect(ProductQuantizer, (pq) => {
  const { d, M, nbits } = pqInfo(pq);
  return { d, M, nbits };
});
