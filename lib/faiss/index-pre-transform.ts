import { defineInspect } from '../core/inspect';
import { native } from '../core/native';
import { describe } from '../core/validate';
import { IndexBase } from './index-base';
import { IndexPQ } from './index-pq';
import { adopt, handleOf, own } from './object';
import { OPQMatrix } from './opq-matrix';

const parts = (index: object) => native.preTransformParts(handleOf(index, 'this', 'IndexPreTransform'));

/** faiss::IndexPreTransform: vectors go through the transforms of `chain`, then into `index`. */
export class IndexPreTransform extends IndexBase {
  constructor(transform: OPQMatrix, index: IndexPQ) {
    super();
    const t = handleOf(transform, 'transform', 'OPQMatrix');
    const i = handleOf(index, 'index', 'IndexPQ');
    if (!(index instanceof IndexPQ)) throw new TypeError(`Expected a faiss.IndexPQ for index, got ${describe(index)}`);
    if (transform.dOut !== index.d) {
      throw new RangeError(`Expected the transform's dOut to be the index's d = ${index.d}, got ${transform.dOut}`);
    }
    own(this, native.indexPreTransformNew(t, i));
  }

  protected override codesIndex(): IndexBase { return this.index; }

  get chain(): OPQMatrix[] { return parts(this).chain.map((h) => adopt(OPQMatrix, h)); }
  get index(): IndexPQ { return adopt(IndexPQ, parts(this).index); }
}

defineInspect(IndexPreTransform, (index) => ({ d: index.d, ntotal: index.ntotal, chain: index.chain, index: index.index }));
