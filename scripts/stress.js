#!/usr/bin/env node
// Inputs changing under calls, for a while (issue 26): async calls (and sync
// ones over shared memory) run without pause while a worker thread rewrites
// the SharedArrayBuffer inputs with invalid values and this thread detaches
// and resizes the buffers of calls in flight. Every call must settle with a
// result or an Error; a crash ends the process with a signal, which is the
// failure this looks for (scripts/sanitize.sh runs it under ASan/UBSan).
//   node scripts/stress.js [seconds = 30]
'use strict';
const { Worker } = require('node:worker_threads');
const { PQ, OPQ, faiss } = require('..');

const seconds = Number(process.argv[2] ?? 30);
const D = 512, N = 8192;  // 16 MB of vectors: copied in four pieces

function matrix(rows, cols, seed) {
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(seed * 7919 + i * 0.37) * 3;
  return data;
}

const pq = new PQ({ M: 4, Ks: 256 }).fit({ data: matrix(3000, D, 1), shape: [3000, D] }, { iter: 3 });
const opq = new OPQ({ M: 4, Ks: 16 }).fit({ data: matrix(3000, D, 2), shape: [3000, D] }, { pqIter: 3, rotationIter: 2 });
const index = new faiss.IndexPQ(D, 4, 6);
index.train({ data: matrix(3000, D, 3), shape: [3000, D] });
const X = matrix(N, D, 4);
const codes = pq.encode({ data: X, shape: [N, D] }).data;

// Shared inputs, which the worker below keeps flipping between valid and invalid values.
const sharedX = new Float32Array(new SharedArrayBuffer(X.byteLength));
sharedX.set(X);
const sharedCodes = new Uint32Array(new SharedArrayBuffer(codes.length * 4));
sharedCodes.set(codes);
const flipper = new Worker(`
  const { workerData: { x, c, until } } = require('node:worker_threads');
  while (Date.now() < until) {
    for (let i = 0; i < x.length; i += 13) x[i] = 1e30;
    for (let i = 0; i < c.length; i += 13) c[i] = 0xffffffff;
    for (let i = 0; i < x.length; i += 13) x[i] = 0.5;
    for (let i = 0; i < c.length; i += 13) c[i] = 3;
  }`, { eval: true, workerData: { x: sharedX, c: sharedCodes, until: Date.now() + seconds * 1000 } });

/** A fresh input of one of the kinds whose memory can go away: [array, and what takes it away]. */
function volatileInput(source, kind) {
  if (kind === 'resizable') {
    const rab = new ArrayBuffer(source.byteLength, { maxByteLength: source.byteLength });
    const a = new source.constructor(rab, 0, source.length);
    a.set(source);
    return [a, () => rab.resize(Math.floor(Math.random() * source.byteLength / 4) * 4)];
  }
  const a = source.slice();
  return [a, () => { structuredClone(a.buffer, { transfer: [a.buffer] }); }];
}

const counts = {};
const count = (name, outcome) => { counts[`${name}: ${outcome}`] = (counts[`${name}: ${outcome}`] ?? 0) + 1; };

async function settle(name, promise) {
  try {
    await promise;
    count(name, 'ok');
  } catch (err) {
    if (!(err instanceof Error)) throw new Error(`${name} rejected with a non-Error: ${err}`);
    count(name, err.name);
  }
}

const calls = [
  ['encodeAsync', (x) => pq.encodeAsync({ data: x, shape: [N, D] })],
  ['OPQ encodeAsync', (x) => opq.encodeAsync({ data: x, shape: [N, D] })],
  ['searchAsync', (x) => pq.searchAsync({ data: x.subarray(0, 64 * D), shape: [64, D] }, { data: codes, shape: [N, 4] }, 5)],
];
// An index changed by one call refuses the others: adds in odd rounds, searches in even ones.
const faissCalls = [
  ['faiss addAsync', (x) => index.addAsync({ data: x.subarray(0, 500 * D), shape: [500, D] })],
  ['faiss searchAsync', (x) => index.searchAsync({ data: x.subarray(0, 64 * D), shape: [64, D] }, 5)],
];

async function main() {
  const end = Date.now() + seconds * 1000;
  let round = 0;
  while (Date.now() < end) {
    round++;
    const pending = [];
    for (const [name, call] of [...calls, faissCalls[round % 2]]) {
      const [x, takeAway] = volatileInput(X, round % 2 ? 'resizable' : 'transfer');
      let promise;
      try {
        promise = call(x);
      } catch (err) {  // a call refused at once (the index busy with an add)
        count(name, err.name);
        continue;
      }
      pending.push(settle(name, promise));
      setTimeout(takeAway, Math.random() * 20);
      pending.push(settle(`${name}, shared`, (async () => call(sharedX))()));
    }
    pending.push(settle('searchAsync, shared codes',
      pq.searchAsync({ data: X.subarray(0, 16 * D), shape: [16, D] }, { data: sharedCodes, shape: [N, 4] }, 5)));
    pending.push(settle('fitAsync, shared', new PQ({ M: 4, Ks: 64 }).fitAsync({ data: sharedX.subarray(0, 1000 * D), shape: [1000, D] }, { iter: 2 })));
    for (const [name, sync] of [
      ['search, shared codes', () => pq.search({ data: X.subarray(0, 16 * D), shape: [16, D] }, { data: sharedCodes, shape: [N, 4] }, 5)],
      ['adist, shared codes', () => pq.dtable(X.subarray(0, D)).adist({ data: sharedCodes, shape: [N, 4] })],
      ['encode, shared', () => pq.encode({ data: sharedX, shape: [N, D] })],
    ]) {
      try {
        sync();
        count(name, 'ok');
      } catch (err) {
        count(name, err.name);
      }
    }
    await Promise.all(pending);
  }
  await flipper.terminate();
  console.log(`stress: ${round} rounds in ${seconds} s, no crash`);
  for (const [what, n] of Object.entries(counts).sort()) console.log(`  ${what}: ${n}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
