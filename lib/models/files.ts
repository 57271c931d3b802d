// Models from the plain fields that io/ reads from a model file, and back:
// the nanopq and rii pickle functions of the public io namespace, and any
// model file's fields (.npq, pickle) as a PQ or OPQ.
import { checkPath, describe } from '../core/validate';
import type { ModelFields } from '../io/model-fields';
import { readPickledModel, readPickledRii, ReadPickleOptions, writePickledModel, writePickledRii } from '../io/pickle';
import { OPQ, opqFromFields } from './opq';
import { PQ, pqFromFields } from './pq';
import { checkNotDisposed } from './quantizer';
import { Rii } from './rii';

/** The PQ or OPQ of a model file's fields, read from `source` (which errors name). */
export function modelFromFields(fields: ModelFields, source: string): PQ | OPQ {
  return fields.kind === 'OPQ' ? opqFromFields(fields, source) : pqFromFields(fields, source);
}

/**
 * A PQ or OPQ from a pickle of Python nanopq 0.2's nanopq.PQ or nanopq.OPQ
 * (pickle.dump, protocols 2 to 5, numpy 1 or 2), fitted or not: the same M,
 * Ks, metric, verbose, Ds, codewords and R. src is a file's path or its bytes.
 *
 * @example
 * const pq = io.readNanopqPickle('pq.pkl');   // written by pickle.dump(pq, f)
 * const codes = pq.encode(X);
 */
export function readNanopqPickle(src: string | Uint8Array, options: ReadPickleOptions = {}): PQ | OPQ {
  return readPickledModel(src, options, (fields) => {
    const model = modelFromFields(fields, 'src');
    model.verbose = fields.verbose ?? false;  // after construction, which prints when verbose (Python's pickle.load prints nothing)
    return model;
  });
}

/**
 * Writes model as a pickle that Python's pickle.load turns into an equal
 * nanopq.PQ or nanopq.OPQ (protocol 3, loaded by numpy 1 and 2).
 *
 * @example
 * io.writeNanopqPickle(new PQ({ M: 4 }).fit(X), 'pq.pkl');  // Python: pq = pickle.load(open('pq.pkl', 'rb'))
 */
export function writeNanopqPickle(model: PQ | OPQ, dst: string): void {
  if (!(model instanceof PQ || model instanceof OPQ)) throw new TypeError(`Expected a PQ or OPQ for model, got ${describe(model)}`);
  checkNotDisposed(model, 'io.writeNanopqPickle()');
  checkPath(dst, 'dst');
  writePickledModel(fieldsOf(model), dst);
}

/** A model's fields, as a pickle holds them. */
function fieldsOf(model: PQ | OPQ): ModelFields {
  const { M, Ks, metric, verbose, Ds } = model;
  const codewords = model.codewords?.data ?? null;
  const R = model instanceof OPQ ? model.R?.data ?? null : null;
  return { kind: model instanceof OPQ ? 'OPQ' : 'PQ', M, Ks, metric, verbose, Ds, codewords, R };
}

/**
 * A Rii from a pickle of Python rii 0.2's rii.Rii (pickle.dump, protocols 2
 * to 5, numpy 1 or 2): its fine quantizer (a nanopq PQ or OPQ), codes, coarse
 * centres, posting lists, threshold and verbose. Its queries give what
 * Python's give (for an 'l2' fine quantizer: rii scans by L2 whatever the
 * metric). src is a file's path or its bytes.
 *
 * @example
 * const rii = io.readRiiPickle('rii.pkl');   // written by pickle.dump(engine, f)
 * const { ids, dists } = rii.query(q, { topk: 10 });
 */
export function readRiiPickle(src: string | Uint8Array, options: ReadPickleOptions = {}): Rii {
  return readPickledRii(src, options, (fields) => modelFromFields(fields, 'src'), ({ verbose, ...parts }) => {
    const rii = Rii.fromParts(parts);
    rii.verbose = verbose;  // impl_cpp's, which Python's Rii.verbose gives
    return rii;
  });
}

/**
 * Writes rii as a pickle that Python rii 0.2's pickle.load turns into an
 * equal rii.Rii, whose queries give what this one's give (protocol 3, numpy 1
 * or 2). Python rii keeps ids as int32: at most 2**31 - 1 codes.
 *
 * @example
 * io.writeRiiPickle(rii, 'rii.pkl');  // Python: engine = pickle.load(open('rii.pkl', 'rb'))
 */
export function writeRiiPickle(rii: Rii, dst: string): void {
  if (!(rii instanceof Rii)) throw new TypeError(`Expected a Rii for rii, got ${describe(rii)}`);
  checkPath(dst, 'dst');
  const { fineQuantizer, codes, coarseCenters, postingLists, threshold } = rii.toParts();
  writePickledRii({ fineQuantizer: fieldsOf(fineQuantizer), codes, coarseCenters, postingLists, threshold, verbose: rii.verbose }, dst);
}
