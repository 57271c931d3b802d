// Compiled (not run) by test/types.test.js against the published .d.ts:
// the documented API type-checks, and misuse does not.
import { DistanceTable, exactSearch, faiss, faissToNanopq, nanopqToFaiss, OPQ, PQ } from '../../dist/index';
import type { CodeMatrix, Matrix } from '../../dist/index';

const X: Matrix = { data: new Float32Array(1200), shape: [100, 12] };
const pq: PQ = new PQ({ M: 4, Ks: 16, metric: 'dot', verbose: false }).fit(X, { iter: 5, seed: 1, minit: '++' });
const codes: CodeMatrix = pq.encode([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]]);
const decoded: Matrix = pq.decode(codes);
const dt: DistanceTable = pq.dtable(new Float32Array(12));
const dists: Float32Array = dt.adist(codes);
const top: { ids: Uint32Array; dists: Float32Array } = dt.topk(codes, 3);
const buf: Buffer = pq.toBuffer();
const same: boolean = PQ.fromBuffer(buf).equals(pq);

const opq = new OPQ({ M: 4 }).fit(X, { pqIter: 5, rotationIter: 2, parametricInit: true });
const one: Float32Array = opq.rotate(new Float32Array(12));
const many: Matrix = opq.rotate(X);
const R: Matrix | null = opq.R;

const index: faiss.IndexPQ = nanopqToFaiss(pq);
const pre: faiss.IndexPreTransform = nanopqToFaiss(opq);
const found: { distances: Float32Array; labels: BigInt64Array } = index.search(X, 5);
const [model, stored] = faissToNanopq(pre);
const read: faiss.IndexPQ | faiss.IndexPreTransform = faiss.readIndex(faiss.writeIndex(index) as Buffer);
const truth = exactSearch(X, X, 1);

// @ts-expect-error M is required
new PQ({ Ks: 16 });
// @ts-expect-error metric is 'l2' or 'dot'
new PQ({ M: 4, metric: 'cosine' });
// @ts-expect-error minit has three values
pq.fit(X, { minit: 'matrix' });
// @ts-expect-error rotationIter is OPQ's
pq.fit(X, { rotationIter: 3 });

export { codes, decoded, dists, top, same, one, many, R, found, model, stored, read, truth };
