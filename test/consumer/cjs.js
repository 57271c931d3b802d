// A CommonJS consumer of the installed package (scripts/check-package.sh runs
// it in a temporary project): trains, encodes, searches, round-trips through
// Faiss and a worker thread, and throws on any wrong answer.
const assert = require('node:assert');
const { Worker } = require('node:worker_threads');
const { PQ, OPQ, faiss, nanopqToFaiss, faissToNanopq } = require('nanopq');

const n = 600, d = 16;
const X = { data: Float32Array.from({ length: n * d }, (_, i) => Math.sin(i * 0.731) + Math.cos(i * 0.117)), shape: [n, d] };
for (const model of [new PQ({ M: 4, Ks: 16 }).fit(X, { iter: 5 }), new OPQ({ M: 4, Ks: 16 }).fit(X, { pqIter: 5, rotationIter: 2 })]) {
  const codes = model.encode(X);
  const { ids } = model.search(X, codes, 1);
  const dists = model.dtable(X.data.subarray(7 * d, 8 * d)).adist(codes);
  assert.strictEqual(dists[ids[7]], Math.min(...dists), `${model.constructor.name}: search and adist disagree`);
  const [back, faissCodes] = faissToNanopq(faiss.readIndex(faiss.writeIndex((() => {
    const index = nanopqToFaiss(model); index.add(X); return index;
  })())));
  assert.ok(back.equals(model), `${model.constructor.name}: not equal after a Faiss round trip`);
  // OPQ: Faiss rotates with BLAS, so codes may differ on near ties; a PQ's must not.
  if (model instanceof PQ) assert.deepStrictEqual(faissCodes.data, codes.data, 'PQ: Faiss encodes differently');
}
const worker = new Worker(`
  const { PQ } = require('nanopq');
  const X = Array.from({ length: 50 }, (_, i) => [i, i * 2, i % 7, 1]);
  require('node:worker_threads').parentPort.postMessage(new PQ({ M: 2, Ks: 8 }).fit(X).encode(X).shape);
`, { eval: true });
worker.on('message', (shape) => {
  assert.deepStrictEqual(shape, [50, 2]);
  console.log(`cjs: ok (${require.resolve('nanopq')})`);
});
worker.on('error', (err) => { throw err; });
