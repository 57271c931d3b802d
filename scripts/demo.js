#!/usr/bin/env node
// The nanopq tutorial end to end, in JavaScript, on Fashion-MNIST:
// 60,000 database vectors, 10,000 queries, D = 784, M = 8, Ks = 256.
// Falls back to random data (saying so) when the data set is not installed.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { PQ, OPQ, exactSearch, faiss, nanopqToFaiss, faissToNanopq } = require('..');
const { loadFashionMnist, DIR, rows, timed: time, relativeError } = require('./common');

const M = 8, Ks = 256, TRAIN = 20000, RECALL_AT = [1, 10, 100];

function randomData(n, d, seed) {
  let a = seed;
  const data = new Float32Array(n * d).map(() => {
    a = (Math.imul(a, 1103515245) + 12345) >>> 0;
    return a / 2 ** 32;
  });
  return { data, shape: [n, d] };
}

/** fn(), printing how long it took. */
function timed(label, fn) {
  const [result, seconds] = time(fn);
  console.log(`${label.padEnd(44)} ${seconds.toFixed(2)} s`);
  return result;
}

let data = loadFashionMnist();
if (data) {
  console.log(`Fashion-MNIST from ${DIR}`);
} else {
  console.log(`Fashion-MNIST is not installed (${DIR}; apt-get install dataset-fashion-mnist): using random data of the same shape`);
  data = { train: randomData(60000, 784, 1), test: randomData(10000, 784, 2) };
}
const X = data.train;                 // database
const Xq = data.test;                 // queries
const Xt = rows(X, 0, TRAIN);         // training vectors: a subset of the database, as the tutorial allows
const [N, D] = X.shape;
console.log(`database ${N} x ${D}, queries ${Xq.shape[0]}, training ${Xt.shape[0]}; M = ${M}, Ks = ${Ks}\n`);

const pq = timed(`fit (iter 20, seed 123)`, () => new PQ({ M, Ks }).fit(Xt, { iter: 20, seed: 123 }));
const codes = timed(`encode ${N} vectors`, () => pq.encode(X));
const decoded = timed(`decode ${N} codes`, () => pq.decode(codes));

const pqError = relativeError(X, decoded);
console.log(`\nrelative reconstruction error ${pqError.toFixed(4)}`);
console.log(`bytes per vector: ${codes.data.BYTES_PER_ELEMENT * M} (float32: ${4 * D}), ${(4 * D / M).toFixed(0)}x smaller\n`);

// One query, as the tutorial: distance table, asymmetric distances, the nearest.
const query = Xq.data.subarray(0, D);
const dists = pq.dtable(query).adist(codes);
let nearest = 0;
for (let i = 1; i < N; i++) if (dists[i] < dists[nearest]) nearest = i;
const exact0 = exactSearch({ data: query, shape: [1, D] }, X, 5);
console.log(`query 0: nearest by PQ is ${nearest} (adist ${dists[nearest].toFixed(0)}); exact top 5: ${Array.from(exact0.ids).join(', ')}`);
const exactDists = Array.from({ length: 5 }, (_, i) => X.data.subarray(i * D, (i + 1) * D).reduce((s, v, j) => s + (v - query[j]) ** 2, 0));
console.log(`first 5 distances by PQ:    ${Array.from(dists.subarray(0, 5), (d) => d.toFixed(0)).join(', ')}`);
console.log(`first 5 distances, exact:   ${exactDists.map((d) => d.toFixed(0)).join(', ')}\n`);

// I/O, as the tutorial's pickling: the saved model loads equal.
const modelFile = path.join(os.tmpdir(), `nanopq-demo-${process.pid}.npq`);
pq.save(modelFile);
console.log(`saved to ${modelFile} (${fs.statSync(modelFile).size} bytes); loads equal: ${PQ.load(modelFile).equals(pq)}\n`);
fs.unlinkSync(modelFile);

// All queries: exact ground truth, then PQ top-100 of every query in one
// batched call (the ids of dtable(query).topk(codes, 100), all cores).
const K = Math.max(...RECALL_AT);
const truth = timed(`exact search, ${Xq.shape[0]} queries (Faiss, BLAS)`, () => exactSearch(Xq, X, 1));
const found = timed(`PQ search top-${K}, ${Xq.shape[0]} queries`, () => pq.search(Xq, codes, K));
function recall(idsOf, label) {
  const line = RECALL_AT.map((R) => {
    let hits = 0;
    for (let q = 0; q < Xq.shape[0]; q++) if (idsOf(q, R).includes(truth.ids[q])) hits++;
    return `@${R} ${(hits / Xq.shape[0]).toFixed(4)}`;
  });
  console.log(`recall ${label.padEnd(38)} ${line.join('  ')}`);
}
const idsOf = (result) => (q, R) => result.ids.subarray(q * K, q * K + R);
recall(idsOf(found), 'PQ (search)');

// Optimized PQ, with the same interface.
console.log('');
const opq = timed('OPQ fit (pqIter 20, rotationIter 10)', () => new OPQ({ M, Ks }).fit(Xt, { pqIter: 20, rotationIter: 10, seed: 123 }));
const opqCodes = timed(`OPQ encode ${N} vectors`, () => opq.encode(X));
console.log(`OPQ relative reconstruction error ${relativeError(X, opq.decode(opqCodes)).toFixed(4)} (PQ: ${pqError.toFixed(4)})`);
const opqFound = timed(`OPQ search top-${K}, ${Xq.shape[0]} queries`, () => opq.search(Xq, opqCodes, K));
recall(idsOf(opqFound), 'OPQ (search)');

// Relation to PQ in Faiss: the model as a Faiss IndexPQ, searched by Faiss, and back.
console.log('');
const index = nanopqToFaiss(pq);                       // faiss.IndexPQ with pq's codewords
timed(`Faiss IndexPQ.add ${N} vectors`, () => index.add(X));
const faissResult = timed(`Faiss IndexPQ.search, ${Xq.shape[0]} queries, k ${K}`, () => index.search(Xq, K));
recall((q, R) => Array.from(faissResult.labels.subarray(q * K, q * K + R), Number), 'Faiss IndexPQ (same codewords)');
const [pqBack, codesBack] = faissToNanopq(index);     // a PQ and the codes the index holds
// Faiss's add finds codewords by BLAS (|x|^2 + |c|^2 - 2 x.c in float32), pq.encode
// by differences as nanopq: where two codewords are within that rounding, they may differ.
const differ = codesBack.data.reduce((n, c, i) => n + (c !== codes.data[i]), 0);
console.log(`faissToNanopq: model equal ${pqBack.equals(pq)}; stored codes equal to pq.encode(X) but ${differ} of ${codes.data.length} (near ties)`);
const file = path.join(os.tmpdir(), `nanopq-demo-${process.pid}.faiss`);
faiss.writeIndex(index, file);
console.log(`faiss.writeIndex: ${fs.statSync(file).size} bytes (Python: faiss.read_index('${file}'))`);
fs.unlinkSync(file);
