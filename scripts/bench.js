#!/usr/bin/env node
// npm run bench: this library against its peers on the same machine, in one run,
// on Fashion-MNIST (60,000 x 784 database, 10,000 queries; training on the
// first 20,000; M = 8, Ks = 256). Peers: Python Faiss (Debian python3-faiss,
// /usr/bin/python3) and, when NANOPQ_SRC names a checkout of matsui528/nanopq,
// Python nanopq. Ratios are ours / theirs: below 1 is faster.
//   --skip-faiss-opq   leave out Faiss's OPQMatrix (minutes with its defaults)
// Then the serving rows (scripts/bench-serving.js, also runnable alone).
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { PQ, OPQ } = require('..');
const { loadFashionMnist, DIR, rows, timed, relativeError } = require('./common');
const { benchServing } = require('./bench-serving');

const M = 8, Ks = 256, TRAIN = 20000, K = 100;
const PYTHON = process.env.NANOPQ_PYTHON || '/usr/bin/python3';

const data = loadFashionMnist();
if (!data) {
  console.error(`bench: Fashion-MNIST not found in ${DIR}; install dataset-fashion-mnist (./scripts/setup.sh)`);
  process.exit(1);
}
const X = data.train, Xq = data.test;
const D = X.shape[1];
const Xt = rows(X, 0, TRAIN);

console.log(`bench: Fashion-MNIST ${X.shape[0]} x ${D}, ${Xq.shape[0]} queries, training ${TRAIN}; M = ${M}, Ks = ${Ks}`);
const ours = {};
let pq;
[pq, ours.pq_train] = timed(() => new PQ({ M, Ks }).fit(Xt, { iter: 20, seed: 123 }));
let codes;
[codes, ours.pq_encode] = timed(() => pq.encode(X));
ours.pq_error = relativeError(X, pq.decode(codes));
[, ours.pq_search] = timed(() => pq.search(Xq, codes, K));
let opq;
[opq, ours.opq_train] = timed(() => new OPQ({ M, Ks }).fit(Xt, { pqIter: 20, rotationIter: 10, seed: 123 }));
ours.opq_error = relativeError(X, opq.decode(opq.encode(X)));

const args = [path.join(__dirname, 'bench_peer.py')];
if (process.argv.includes('--skip-faiss-opq')) args.push('faiss-opq');
const peer = spawnSync(PYTHON, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
if (peer.status !== 0) {
  console.error(`bench: the Python peer failed (${PYTHON}; needs python3-faiss)`);
  process.exit(1);
}
const theirs = JSON.parse(peer.stdout.trim().split('\n').pop());

const table = [
  ['PQ train', ours.pq_train, 'faiss IndexPQ.train', theirs.faiss_pq_train],
  ['PQ encode 60,000', ours.pq_encode, 'faiss IndexPQ.add', theirs.faiss_pq_encode],
  [`PQ search 10,000 x top-${K} (batched)`, ours.pq_search, 'faiss IndexPQ.search', theirs.faiss_pq_search],
  ['PQ train', ours.pq_train, 'nanopq PQ.fit', theirs.nanopq_pq_train],
  ['PQ encode 60,000', ours.pq_encode, 'nanopq PQ.encode', theirs.nanopq_pq_encode],
  ['OPQ train', ours.opq_train, 'faiss OPQMatrix.train', theirs.faiss_opq_train],
  ['OPQ train', ours.opq_train, 'nanopq OPQ.fit', theirs.nanopq_opq_train],
];
console.log(`\n${'ours'.padEnd(28)}${'s'.padStart(8)}   ${'peer'.padEnd(24)}${'s'.padStart(8)}   ours/peer`);
for (const [name, t, peerName, peerT] of table) {
  if (peerT === undefined) continue;
  console.log(`${name.padEnd(28)}${t.toFixed(2).padStart(8)}   ${peerName.padEnd(24)}${peerT.toFixed(2).padStart(8)}   ${(t / peerT).toFixed(2)}`);
}
console.log('\nrelative reconstruction error on the 60,000 database vectors');
console.log(`  PQ:  ours ${ours.pq_error.toFixed(4)}   faiss ${theirs.faiss_pq_error.toFixed(4)}` +
  (theirs.nanopq_pq_error ? `   nanopq ${theirs.nanopq_pq_error.toFixed(4)}` : ''));
console.log(`  OPQ: ours ${ours.opq_error.toFixed(4)}` +
  (theirs.faiss_opq_error ? `   faiss OPQMatrix ${theirs.faiss_opq_error.toFixed(4)}` : '') +
  (theirs.nanopq_opq_error ? `   nanopq ${theirs.nanopq_opq_error.toFixed(4)}` : ''));
if (!process.env.NANOPQ_SRC) console.log('\n(set NANOPQ_SRC to a checkout of matsui528/nanopq to compare with Python nanopq)');

console.log('\nserving: one query at a time, batches, and the event loop (scripts/bench-serving.js)');
benchServing().catch((e) => { console.error(e); process.exit(1); });
