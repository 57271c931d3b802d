// The ES module entry: the CommonJS build, re-exported by name.
import { createRequire } from 'node:module';

const nanopq = createRequire(import.meta.url)('./index.js');

export const {
  PQ, OPQ, DistanceTable, PackedCodes, Rii, AbortError, exactSearch, faiss, io, nanopqToFaiss, faissToNanopq, setNumThreads, getNumThreads,
  getCachePlan, normalize,
} = nanopq;
export default nanopq;
