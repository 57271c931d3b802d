// Compiled (not run) by test/types.test.js in a consumer project that has the
// packed package in node_modules and neither @types/node nor the DOM: the
// documented API type-checks under --strict, and misuse does not.
import { DistanceTable, exactSearch, faiss, faissToNanopq, io, nanopqToFaiss, OPQ, PQ, Rii } from 'nanopq';
import type {
  AbortSignalLike, AsyncFitOptions, CodeMatrix, FitOptions, Matrix, ModelOptions, OPQFitOptions, PQOptions, Progress,
  QueryOptions, QueryResult, Threshold,
} from 'nanopq';

// Shapes written the natural way: a number[] and a readonly tuple are taken as they are.
const rows = 100, cols = 12;
const data = new Float32Array(rows * cols);
const X = { data, shape: [rows, cols] };
const Xc = { data, shape: [rows, cols] } as const;
const options: PQOptions = { M: 4, Ks: 16, metric: 'dot', verbose: false };
const fitOptions: FitOptions = { iter: 5, seed: 1, minit: '++' };
const pq: PQ = new PQ(options).fit(X, fitOptions).fit(Xc);
const codes: CodeMatrix = pq.encode([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]]);
const codeRows: readonly (readonly number[])[] = [[0, 1, 2, 3]];
const decoded: Matrix = pq.decode(codeRows);
const dt: DistanceTable = pq.dtable(new Float32Array(12));
const dists: Float32Array = dt.adist(codes);
const top: { ids: Uint32Array; dists: Float32Array } = dt.topk({ data: codes.data, shape: [1, 4] as const }, 3);
const own = new DistanceTable({ data: new Float32Array(64), shape: [4, 16] as const }, 'l2');
const bytes: Uint8Array = pq.toBuffer();
const same: boolean = PQ.fromBuffer(bytes).equals(pq);
const modelOptions: ModelOptions = { metric: 'l2' };
const copy: PQ = PQ.fromCodewords({ data: new Float32Array(4 * 16 * 3), shape: [4, 16, 3] }, modelOptions);
const { ids, dists: d2, shape }: { ids: Uint32Array; dists: Float32Array; shape: [number, number] } = pq.search(X, codes, 5);

// fitAsync's signal: anything shaped as an AbortSignal (Node's, the DOM's).
declare const signal: AbortSignalLike;
const asyncOptions: FitOptions & AsyncFitOptions = { iter: 3, signal, onProgress: (p: Progress) => void p.iteration };
const fitted: Promise<PQ> = pq.fitAsync(X, asyncOptions);

const opqOptions: OPQFitOptions = { pqIter: 5, rotationIter: 2, parametricInit: true, seed: 1, minit: 'points' };
const opq = new OPQ({ M: 4 }).fit(X, opqOptions);
const one: Float32Array = opq.rotate(new Float32Array(12));
const oneArray: Float32Array = opq.rotate([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
const many: Matrix = opq.rotate(X);
const R: Matrix | null = opq.R;
const parts: OPQ = OPQ.fromParts({ data: new Float32Array(144), shape: [12, 12] }, { data: new Float32Array(192), shape: [4, 16, 3] });

// Conversions and Faiss: precise types, no casts.
const index: faiss.IndexPQ = nanopqToFaiss(pq);
const pre: faiss.IndexPreTransform = nanopqToFaiss(opq);
const found: { distances: Float32Array; labels: BigInt64Array } = index.search(X, 5);
const [fromIndex, indexCodes]: [PQ, CodeMatrix] = faissToNanopq(index);
// An IndexPreTransform may be over an IndexIVFPQ, which gives a Rii.
const fromPre: [OPQ, CodeMatrix] | Rii = faissToNanopq(pre);
const opqBack: OPQ | null = fromPre instanceof Rii ? null : fromPre[0];
const written: Uint8Array = faiss.writeIndex(index);
const read: faiss.IndexPQ | faiss.IndexPreTransform = faiss.readIndex(written);
const either: [PQ | OPQ, CodeMatrix] | Rii = faissToNanopq(read);
const toFile: void = faiss.writeIndex(pre, 'index.faiss');
const truth = exactSearch(X, Xc, 1);

// @ts-expect-error M is required
new PQ({ Ks: 16 });
// @ts-expect-error metric is 'l2' or 'dot'
new PQ({ M: 4, metric: 'cosine' });
// @ts-expect-error minit has three values
pq.fit(X, { minit: 'matrix' });
// @ts-expect-error rotationIter is OPQ's
pq.fit(X, { rotationIter: 3 });
// @ts-expect-error an IndexPQ gives a PQ, not an OPQ
const wrong: [OPQ, CodeMatrix] = faissToNanopq(index);
// @ts-expect-error written to a file, there are no bytes
const none: Uint8Array = faiss.writeIndex(index, 'index.faiss');
// Rii: an inverted index over the codes of a PQ or OPQ.
const rii: Rii = new Rii({ fineQuantizer: pq }).addConfigure(X, { nlist: 10, iter: 5 });
rii.add(X, { updatePostingLists: 'auto' });
const queryOptions: QueryOptions = { topk: 3, L: 20, targetIds: new BigInt64Array([1n, 2n, 3n]), sortTargetIds: true, method: 'ivf' };
const found2: QueryResult = rii.query(new Float32Array(12), queryOptions);
const listed: Uint32Array[] = rii.postingLists;
const line: Threshold | null = rii.threshold;
const centres: CodeMatrix | null = rii.coarseCenters;
// A Rii as a Faiss IndexIVFPQ (in an IndexPreTransform for an OPQ) and back.
const riiIndex: faiss.IndexIVFPQ | faiss.IndexPreTransform = nanopqToFaiss(rii);
const ivfpq: faiss.IndexIVFPQ = faiss.readIndex(faiss.writeIndex(riiIndex));
const riiBack: Rii = faissToNanopq(ivfpq);
// @ts-expect-error an IndexPQ gives a PQ and codes, not a Rii
const notRii: Rii = faissToNanopq(index);
// @ts-expect-error method is 'auto', 'linear' or 'ivf'
rii.query([1, 2], { method: 'fast' });
// Python rii's pickles.
const unpickled: Rii = io.readRiiPickle('rii.pkl', { buffers: [new Uint8Array(8)] });
const pickled: void = io.writeRiiPickle(unpickled, 'rii2.pkl');
// @ts-expect-error the Rii first, then the path
io.writeRiiPickle('rii2.pkl', rii);
// @ts-expect-error codes are integers in typed arrays, not floats
pq.decode({ data: new Float32Array(4), shape: [1, 4] });
// Fingerprints: the model's (null before fit), carried by its codes and tables, read-only.
const fingerprint: string | null = pq.fingerprint;
const carried: string | undefined = codes.fingerprint;
const tableFingerprint: string | null = dt.fingerprint;
const unchecked: Matrix = pq.decode({ data: codes.data, shape: codes.shape, fingerprint: null });
// @ts-expect-error a model's fingerprint is read-only
pq.fingerprint = 'ffffffffffffffff';

export {
  codes, decoded, dists, top, own, same, copy, ids, d2, shape, fitted, one, oneArray, many, R, parts, found, fromIndex,
  indexCodes, fromPre, opqBack, read, either, toFile, truth, wrong, none, found2, listed, line, centres, riiIndex, ivfpq,
  riiBack, notRii, pickled, fingerprint, carried, tableFingerprint, unchecked,
};
