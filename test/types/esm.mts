// The ES module entry's types (dist/index.d.mts), as an ESM consumer imports them.
import nanopq, { PQ, faiss, faissToNanopq } from 'nanopq';
import type { CodeMatrix, Matrix } from 'nanopq';

const X: Matrix = { data: new Float32Array(24), shape: [6, 4] };
const pq: PQ = new nanopq.PQ({ M: 2, Ks: 4 }).fit(X);
const [model, codes]: [PQ, CodeMatrix] = faissToNanopq(new faiss.IndexPQ(4, 2, 2));
export { pq, model, codes, PQ };
