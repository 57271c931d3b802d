// nanopq <-> Faiss, as Python nanopq's nanopq_to_faiss / faiss_to_nanopq;
// and a Rii <-> an IndexIVFPQ without residuals, whose lists are made and
// read as Faiss files (io/ivfpq-file.ts, io/faiss-index.ts).
import type { CodeMatrix, Metric } from './core/arrays';
import { checkOptions, describe } from './core/validate';
import * as faiss from './faiss';
import { fastScanCodes, fastScanOf } from './faiss/index-pq';
import { readIVFPQFile } from './io/faiss-index';
import { ivfpqFileBytes } from './io/ivfpq-file';
import { Reader } from './io/reader';
import { OPQ } from './models/opq';
import { PQ } from './models/pq';
import { checkNotDisposed } from './models/quantizer';
import { partsWithEveryIdListed, Rii } from './models/rii';

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

/** index in an IndexPreTransform of an OPQMatrix of A = R^T. */
function withRotation(R: Float32Array, D: number, M: number, index: faiss.Index): faiss.IndexPreTransform {
  const transform = new faiss.OPQMatrix(D, M);
  transform.A = transpose(R, D);
  return new faiss.IndexPreTransform(transform, index);
}

/** The rows ids of codes (N, M), gathered. */
function gather(codes: Uint8Array, M: number, ids: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(ids.length * M);
  for (let i = 0; i < ids.length; i++) out.set(codes.subarray(ids[i] * M, (ids[i] + 1) * M), i * M);
  return out;
}

/**
 * The IndexIVFPQ of a Rii (see nanopqToFaiss): made as a Faiss file of its
 * parts and read by faiss.readIndex, so that each list holds the Rii's own
 * codes (add() would encode their decoded vectors again, which may give
 * another code in a tie) and the file checker sees every field before Faiss does.
 */
function ivfpqFromRii(rii: Rii): faiss.IndexIVFPQ | faiss.IndexPreTransform {
  const nlist = rii.nlist;
  if (nlist === 0) {
    throw new Error('Expected a Rii with posting lists for nanopqToFaiss(), whose lists are the IndexIVFPQ\'s; it has none: call reconfigure() (or addConfigure()) first');
  }
  if (rii.Ks !== 256) throw new TypeError(`Expected a Rii with Ks = 256 for nanopqToFaiss() (an IndexIVFPQ of 8-bit codes), got Ks = ${rii.Ks}`);
  // Removed ids are left out; those in no list go into one (Faiss's search sees every id).
  const { fineQuantizer: fq, codes, coarseCenters, postingLists: lists } = partsWithEveryIdListed(rii);
  const M = rii.M;
  const codewords = rii.codewords;
  const D = M * codewords.shape[2];
  // The centres decoded as the codes of the rotated vectors (an OPQ's PQ decodes them without the rotation back).
  const decoder = PQ.fromCodewords(codewords, { metric: fq.metric });
  let centroids: Float32Array;
  try {
    centroids = decoder.decode({ data: coarseCenters!, shape: [nlist, M] }).data;
  } finally {
    decoder.dispose();
  }
  const bytes = ivfpqFileBytes({
    d: D, metric: fq.metric, M, centroids, codewords: codewords.data,
    lists: lists.map((ids) => ({ ids, codes: gather(codes, M, ids) })),
  });
  const index = faiss.readIndex<faiss.IndexIVFPQ>(bytes);
  return fq instanceof OPQ ? withRotation(fq.R!.data, D, M, index) : index;
}

/**
 * A Faiss index with the model's codewords and metric ('dot' is
 * METRIC_INNER_PRODUCT): an IndexPQ for a PQ; for an OPQ, an
 * IndexPreTransform of an OPQMatrix (A = R^T) and that IndexPQ. Empty: add() fills it.
 *
 * A Rii (with posting lists, Ks = 256) is an IndexIVFPQ holding its vectors:
 * by_residual false, nlist lists over a flat coarse quantizer (of the
 * metric) of the coarse centres decoded, the fine quantizer's codebook, list
 * k holding postingLists[k] with their codes as they are; an id in no list
 * (added with updatePostingLists false) goes to the list of its nearest
 * centre, as add() with updatePostingLists would put it, so that Faiss
 * searches it. For an OPQ fine quantizer, that index in an
 * IndexPreTransform of its OPQMatrix.
 *
 * With { fastScan: true }, a PQ or OPQ with Ks = 16 gives an
 * IndexPQFastScan (Faiss's 4-bit codes in blocks of 32) in place of the IndexPQ.
 */
export function nanopqToFaiss(model: PQ, options: { fastScan: true }): faiss.IndexPQFastScan;
export function nanopqToFaiss(model: PQ, options?: { fastScan?: false }): faiss.IndexPQ;
export function nanopqToFaiss(model: OPQ, options?: { fastScan?: boolean }): faiss.IndexPreTransform;
export function nanopqToFaiss(model: Rii): faiss.IndexIVFPQ | faiss.IndexPreTransform;
export function nanopqToFaiss(model: PQ | OPQ, options?: { fastScan?: boolean }): faiss.IndexPQ | faiss.IndexPQFastScan | faiss.IndexPreTransform;
export function nanopqToFaiss(model: PQ | OPQ | Rii, options?: { fastScan?: boolean }): faiss.Index;
export function nanopqToFaiss(model: PQ | OPQ | Rii, options?: { fastScan?: boolean }): faiss.Index {
  const { fastScan = false } = checkOptions(options, ['fastScan'], 'nanopqToFaiss');
  if (typeof fastScan !== 'boolean') throw new TypeError(`Expected a boolean for fastScan, got ${describe(fastScan)}`);
  if (model instanceof Rii) {
    if (fastScan) throw new TypeError('Expected a PQ or OPQ for nanopqToFaiss(model, { fastScan: true }), got a Rii');
    return ivfpqFromRii(model);
  }
  if (!(model instanceof PQ || model instanceof OPQ)) throw new TypeError(`Expected a PQ, OPQ or Rii for model, got ${describe(model)}`);
  checkNotDisposed(model, 'nanopqToFaiss()');
  if (fastScan && model.Ks !== 16) {
    throw new TypeError(`Expected a model with Ks = 16 for an IndexPQFastScan (4-bit codes), got Ks = ${model.Ks}`);
  }
  const inner = (pq: PQ) => (fastScan ? fastScanOf(indexPQFrom(pq)) : indexPQFrom(pq));
  if (model instanceof PQ) return inner(model);
  const R = model.R;
  if (!R) throw new TypeError('Expected a fitted model for nanopqToFaiss(); call fit() first');
  return withRotation(R.data, R.shape[0], model.M, inner(model.pq));
}

function pqFrom(pq: faiss.ProductQuantizer, metric: Metric): PQ {
  const { M, ksub, dsub } = pq;
  return PQ.fromCodewords({ data: pq.centroids, shape: [M, ksub, dsub] }, { metric });
}

const CONVERTIBLE = 'a faiss.IndexPQ, an IndexPQFastScan, an IndexPreTransform(OPQMatrix, IndexPQ or IndexPQFastScan) or a ProductQuantizer';
const CONVERTIBLE_TO_RII = 'a faiss.IndexPQ, an IndexPQFastScan, an IndexIVFPQ, an IndexPreTransform(OPQMatrix, IndexPQ, ' +
  'IndexPQFastScan or IndexIVFPQ) or a ProductQuantizer';

/** The OPQ of index, an IndexPreTransform of one orthonormal OPQMatrix, and of pq, the PQ of its inner index. */
function opqFrom(index: faiss.IndexPreTransform, pq: PQ): OPQ {
  const chain = index.chain;
  const transform = chain[0];
  if (chain.length !== 1 || !(transform instanceof faiss.OPQMatrix) || transform.dIn !== transform.dOut) {
    throw new TypeError(`Expected an IndexPreTransform of one square OPQMatrix for index, got ${chain.length} transform(s)`);
  }
  // An OPQ is x @ R with R orthonormal: a bias or a general matrix has no OPQ counterpart.
  if (transform.haveBias || !transform.isOrthonormal) {
    throw new TypeError('Expected an orthonormal transform without bias (an OPQMatrix) in index.chain[0]');
  }
  const D = transform.dIn;
  return OPQ.fromParts({ data: transpose(transform.A, D), shape: [D, D] }, pq.codewords!, { metric: pq.metric });
}

/** The model faissToNanopq gives, without the codes (which it unpacks); convertible: the kinds an error names. */
export function faissModel(index: faiss.Index | faiss.ProductQuantizer, convertible = CONVERTIBLE): PQ | OPQ {
  if (index instanceof faiss.ProductQuantizer) return pqFrom(index, 'l2');
  if (!(index instanceof faiss.Index)) throw new TypeError(`Expected ${convertible} for index, got ${describe(index)}`);
  if (!index.isTrained) throw new TypeError('Expected a trained Faiss index for faissToNanopq()');
  if (index instanceof faiss.IndexPQ || index instanceof faiss.IndexPQFastScan) return pqFrom(index.pq, index.metric);
  const inner = index instanceof faiss.IndexPreTransform ? index.index : null;
  if (!(inner instanceof faiss.IndexPQ || inner instanceof faiss.IndexPQFastScan)) {
    const kind = `an ${index.constructor.name} (${index.description})`;
    throw new TypeError(`Expected ${convertible} for index, got ${kind}; the pq of a kind that has one (index.pq) converts`);
  }
  return opqFrom(index as faiss.IndexPreTransform, pqFrom(inner.pq, inner.metric));
}

/** faissToNanopq of an IndexPQ, an IndexPreTransform over one or a ProductQuantizer: its model and codes. */
export function faissModelAndCodes(index: faiss.Index | faiss.ProductQuantizer, convertible = CONVERTIBLE): [PQ | OPQ, CodeMatrix] {
  const model = faissModel(index, convertible);
  if (index instanceof faiss.ProductQuantizer) return [model, faiss.unpackCodes(new Uint8Array(0), 0, index.M, index.nbits)];
  const inner = (index instanceof faiss.IndexPreTransform ? index.index : index) as faiss.IndexPQ | faiss.IndexPQFastScan;
  if (inner instanceof faiss.IndexPQFastScan) return [model, fastScanCodes(inner)];
  const { M, nbits } = inner.pq;
  return [model, faiss.unpackCodes(inner.codes, inner.ntotal, M, nbits)];
}

/**
 * The Rii of an IndexIVFPQ (or an IndexPreTransform(OPQMatrix, IndexIVFPQ)):
 * see faissToNanopq. Its lists are read from the index's Faiss file
 * (faiss.writeIndex), which holds them as they are.
 */
/** The most ids a Rii holds (they are Uint32, below Rii.NO_ID). */
const MAX_RII_N = 2 ** 32 - 1;

function riiFromIVFPQ(index: faiss.Index, ivf: faiss.IndexIVFPQ): Rii {
  if (!ivf.isTrained) throw new TypeError('Expected a trained Faiss index for faissToNanopq()');
  if (ivf.byResidual) {
    throw new TypeError('Expected an IndexIVFPQ with by_residual false (byResidual) for a Rii, whose codes are of the vectors; ' +
      `got an IndexIVFPQ (${ivf.description}) with by_residual true: its codes are of residuals to their list's centroid ` +
      '(its pq converts to a PQ: faissToNanopq(index.pq))');
  }
  const quantizer = ivf.quantizer;
  if (!(quantizer instanceof faiss.IndexFlat)) {
    throw new TypeError(`Expected a flat coarse quantizer (an IndexFlat) in an IndexIVFPQ for a Rii, whose coarse centres it encodes; got an ${quantizer.constructor.name}`);
  }
  const { M, nbits, ksub, dsub } = ivf.pq;
  if (nbits !== 8) throw new TypeError(`Expected an IndexIVFPQ of 8-bit codes (pq.nbits = 8) for a Rii, got pq.nbits = ${nbits}`);
  const file = readIVFPQFile(new Reader(faiss.writeIndex(ivf), 'the IndexIVFPQ\'s file'));
  const centroids = file.centroids!;  // a flat quantizer's
  // Ids are rows: 0..N-1, each once; ids missing below the largest are
  // removed ones (nanopqToFaiss leaves those of a Rii out).
  let largest = -1n;
  for (const list of file.lists) for (const id of list.ids) if (id > largest) largest = id;
  const most = Math.min(2 * file.ntotal + 1024, MAX_RII_N);
  const N = Number(largest) + 1;
  for (const [l, list] of file.lists.entries()) {
    for (const id of list.ids) {
      if (id < 0n || id >= BigInt(most)) {
        throw new RangeError(`Expected ids 0 to ${most - 1} in the lists of an IndexIVFPQ of ntotal = ${file.ntotal} for a Rii ` +
          `(whose ids are its rows, those missing removed), got id ${id} in list ${l}`);
      }
    }
  }
  const codes = new Uint8Array(N * M);
  const seen = new Uint8Array(N);
  const postingLists = file.lists.map((list, l) => {
    const ids = new Uint32Array(list.ids.length);
    list.ids.forEach((id, i) => {
      const n = Number(id);
      if (seen[n]) throw new RangeError(`Expected each id once in the lists of an IndexIVFPQ for a Rii, got id ${n} twice (list ${l})`);
      seen[n] = 1;
      ids[i] = n;
      codes.set(list.codes.subarray(i * M, (i + 1) * M), n * M);
    });
    return ids;
  });
  const removed: number[] = [];
  for (let n = 0; n < N; n++) if (!seen[n]) removed.push(n);
  const pq = PQ.fromCodewords({ data: ivf.pq.centroids, shape: [M, ksub, dsub] }, { metric: file.metric });
  const opq = index instanceof faiss.IndexPreTransform ? opqFrom(index, pq) : null;
  try {
    // A Rii's centres are codes: the quantizer's vectors encoded (those of a Rii's index decode to its codes again).
    const coarseCenters = pq.encode({ data: centroids, shape: [file.nlist, file.d] }).data as Uint8Array;
    return Rii.fromParts({ fineQuantizer: opq ?? pq, codes, coarseCenters, postingLists, threshold: null, removed });
  } finally {
    pq.dispose();
    opq?.dispose();
  }
}

/**
 * The model of a Faiss IndexPQ (a PQ) or IndexPreTransform(OPQMatrix, IndexPQ)
 * (an OPQ with R = A^T), with the codes the index holds, one integer per
 * sub-quantizer: (ntotal, M), uint8 or uint16 by nanopq's rule.
 *
 * An IndexIVFPQ with by_residual false, 8-bit codes and a flat coarse
 * quantizer (or an IndexPreTransform(OPQMatrix, IndexIVFPQ)) is a Rii: its
 * PQ (and OPQ) the fine quantizer, its lists the posting lists with their
 * codes, which must hold the ids 0 to ntotal - 1 once each; the coarse
 * centres the PQ codes of the quantizer's vectors (encoded: the same centres
 * for an index of nanopqToFaiss(rii), others move to their nearest codes),
 * the threshold estimated.
 */
export function faissToNanopq(index: faiss.IndexPQ | faiss.IndexPQFastScan): [PQ, CodeMatrix];
export function faissToNanopq(index: faiss.IndexIVFPQ): Rii;
export function faissToNanopq(index: faiss.IndexPreTransform): [OPQ, CodeMatrix] | Rii;
export function faissToNanopq(index: faiss.ProductQuantizer): [PQ, CodeMatrix];
export function faissToNanopq(index: faiss.Index | faiss.ProductQuantizer): [PQ | OPQ, CodeMatrix] | Rii;
export function faissToNanopq(index: faiss.Index | faiss.ProductQuantizer): [PQ | OPQ, CodeMatrix] | Rii {
  const inner = index instanceof faiss.IndexPreTransform ? index.index : index;
  if (inner instanceof faiss.IndexIVFPQ) return riiFromIVFPQ(index as faiss.Index, inner);
  return faissModelAndCodes(index, CONVERTIBLE_TO_RII);
}
