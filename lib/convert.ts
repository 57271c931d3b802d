// nanopq <-> Faiss, as Python nanopq's nanopq_to_faiss / faiss_to_nanopq.
import type { CodeMatrix, Metric } from './core/arrays';
import { describe } from './core/validate';
import * as faiss from './faiss';
import { OPQ } from './models/opq';
import { PQ } from './models/pq';
import { checkNotDisposed } from './models/quantizer';

/** The transpose of a square (D, D) row-major matrix: Faiss's A is nanopq's R^T. */
function transpose(m: Float32Array, D: number): Float32Array {
  const t = new Float32Array(D * D);
  for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) t[i * D + j] = m[j * D + i];
  return t;
}

/** log2(Ks), or a TypeError unless Ks is a power of two that a Faiss index holds. */
export function nbitsOf(Ks: number): number {
  const nbits = Math.log2(Ks);
  if (!Number.isInteger(nbits) || nbits < 1 || nbits > 16) {
    throw new TypeError(`Expected Ks = 2**nbits (nbits 1 to 16) for a Faiss IndexPQ, got Ks = ${Ks}`);
  }
  return nbits;
}

function indexPQFrom(pq: PQ): faiss.IndexPQ {
  const codewords = pq.codewords;
  if (!codewords) throw new TypeError('Expected a fitted model for nanopqToFaiss(); call fit() first');
  const index = new faiss.IndexPQ(pq.M * codewords.shape[2], pq.M, nbitsOf(pq.Ks), pq.metric);
  index.pq.centroids = codewords.data;  // Faiss's (M, ksub, dsub) is nanopq's (M, Ks, Ds)
  index.isTrained = true;
  return index;
}

/**
 * A Faiss index with the model's codewords and metric ('dot' is
 * METRIC_INNER_PRODUCT): an IndexPQ for a PQ; for an OPQ, an
 * IndexPreTransform of an OPQMatrix (A = R^T) and that IndexPQ. Empty: add() fills it.
 */
export function nanopqToFaiss(model: PQ): faiss.IndexPQ;
export function nanopqToFaiss(model: OPQ): faiss.IndexPreTransform;
export function nanopqToFaiss(model: PQ | OPQ): faiss.IndexPQ | faiss.IndexPreTransform;
export function nanopqToFaiss(model: PQ | OPQ): faiss.IndexPQ | faiss.IndexPreTransform {
  if (!(model instanceof PQ || model instanceof OPQ)) throw new TypeError(`Expected a PQ or OPQ for model, got ${describe(model)}`);
  checkNotDisposed(model, 'nanopqToFaiss()');
  if (model instanceof PQ) return indexPQFrom(model);
  const R = model.R;
  if (!R) throw new TypeError('Expected a fitted model for nanopqToFaiss(); call fit() first');
  const index = indexPQFrom(model.pq);
  const D = R.shape[0];
  const transform = new faiss.OPQMatrix(D, model.M);
  transform.A = transpose(R.data, D);
  return new faiss.IndexPreTransform(transform, index);
}

function pqFrom(pq: faiss.ProductQuantizer, metric: Metric): PQ {
  const { M, ksub, dsub } = pq;
  return PQ.fromCodewords({ data: pq.centroids, shape: [M, ksub, dsub] }, { metric });
}

const CONVERTIBLE = 'a faiss.IndexPQ, an IndexPreTransform(OPQMatrix, IndexPQ) or a ProductQuantizer';

/** The model faissToNanopq gives, without the codes (which it unpacks). */
export function faissModel(index: faiss.Index | faiss.ProductQuantizer): PQ | OPQ {
  if (index instanceof faiss.ProductQuantizer) return pqFrom(index, 'l2');
  if (!(index instanceof faiss.Index)) throw new TypeError(`Expected ${CONVERTIBLE} for index, got ${describe(index)}`);
  if (!index.isTrained) throw new TypeError('Expected a trained Faiss index for faissToNanopq()');
  if (index instanceof faiss.IndexPQ) return pqFrom(index.pq, index.metric);
  const inner = index instanceof faiss.IndexPreTransform ? index.index : null;
  if (!(inner instanceof faiss.IndexPQ)) {
    const kind = `an ${index.constructor.name} (${index.description})`;
    throw new TypeError(`Expected ${CONVERTIBLE} for index, got ${kind}; the pq of a kind that has one (index.pq) converts`);
  }
  const chain = (index as faiss.IndexPreTransform).chain;
  const transform = chain[0];
  if (chain.length !== 1 || !(transform instanceof faiss.OPQMatrix) || transform.dIn !== transform.dOut) {
    throw new TypeError(`Expected an IndexPreTransform of one square OPQMatrix for index, got ${chain.length} transform(s)`);
  }
  // An OPQ is x @ R with R orthonormal: a bias or a general matrix has no OPQ counterpart.
  if (transform.haveBias || !transform.isOrthonormal) {
    throw new TypeError('Expected an orthonormal transform without bias (an OPQMatrix) in index.chain[0]');
  }
  const pq = pqFrom(inner.pq, inner.metric);
  const D = transform.dIn;
  return OPQ.fromParts({ data: transpose(transform.A, D), shape: [D, D] }, pq.codewords!, { metric: pq.metric });
}

/**
 * The model of a Faiss IndexPQ (a PQ) or IndexPreTransform(OPQMatrix, IndexPQ)
 * (an OPQ with R = A^T), with the codes the index holds, one integer per
 * sub-quantizer: (ntotal, M), uint8 or uint16 by nanopq's rule.
 */
export function faissToNanopq(index: faiss.IndexPQ): [PQ, CodeMatrix];
export function faissToNanopq(index: faiss.IndexPreTransform): [OPQ, CodeMatrix];
export function faissToNanopq(index: faiss.ProductQuantizer): [PQ, CodeMatrix];
export function faissToNanopq(index: faiss.Index | faiss.ProductQuantizer): [PQ | OPQ, CodeMatrix];
export function faissToNanopq(index: faiss.Index | faiss.ProductQuantizer): [PQ | OPQ, CodeMatrix] {
  const model = faissModel(index);
  if (index instanceof faiss.ProductQuantizer) return [model, faiss.unpackCodes(new Uint8Array(0), 0, index.M, index.nbits)];
  const inner = (index instanceof faiss.IndexPreTransform ? index.index : index) as faiss.IndexPQ;
  const { M, nbits } = inner.pq;
  return [model, faiss.unpackCodes(inner.codes, inner.ntotal, M, nbits)];
}
