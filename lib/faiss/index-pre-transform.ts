import { defineInspect } from '../core/inspect';
import { native } from '../core/native';
import { Index, indexHandle, indexPart, registerKind, SearchOptionChecks, searchOptionsOf } from './index-base';
import { adopt, handleOf, own } from './object';
import { OPQMatrix } from './opq-matrix';
import { transformInfo, VectorTransform } from './vector-transform';

/** faiss::IndexPreTransform: vectors go through the transforms of `chain`, then into `index`. */
export class IndexPreTransform extends Index {
  constructor(transform: OPQMatrix, index: Index) {
    super();
    const t = handleOf(transform, 'transform', 'OPQMatrix');
    const i = handleOf(index, 'index', 'Index');
    if (transform.dOut !== index.d) {
      throw new RangeError(`Expected the transform's dOut to be the index's d = ${index.d}, got ${transform.dOut}`);
    }
    own(this, native.indexPreTransformNew(t, i));
  }

  protected override codesPQ() { return this.index['codesPQ'](); }
  protected override searchOptions(): SearchOptionChecks { return searchOptionsOf(this.index); }

  /** The transforms, first applied first: an OPQMatrix for each linear one (OPQ, PCA, rotations). */
  get chain(): VectorTransform[] {
    return native.preTransformChain(indexHandle(this)).map((h) => {
      const t = adopt(VectorTransform, h);
      return transformInfo(t).linear ? adopt(OPQMatrix, h) : t;
    });
  }
  /** The index the transformed vectors go to (vectors added to it count here too). */
  get index(): Index { return indexPart(this, 'index') as Index; }
}

registerKind('IndexPreTransform', IndexPreTransform);

defineInspect(IndexPreTransform, (index) => ({ d: index.d, ntotal: index.ntotal, chain: index.chain, index: index.index }));
