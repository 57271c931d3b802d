#!/usr/bin/env node
// The embedding-shape rows of `npm run bench`: 768-dimensional vectors (the
// common size of text embeddings; seeded, normally distributed) coded with
// M = 48, 96 and 192 (sub-vectors of 16, 8 and 4 dimensions), Ks = 256,
// against Faiss's IndexPQ at the same M (scripts/bench_peer_shapes.py):
//   encode, time a vector (best of 3), against Faiss's pq.compute_codes (goal >= 3x),
//     and each M against M = 48 (goal: M = 96 and 192 within 1.5x its time a vector);
//   fit (25 iterations, Faiss's default) against Faiss's train.
//   node scripts/bench-shapes.js [--json]
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const nanopq = require('..');
const { environment, table, timed } = require('./common');
const { rng: uniform } = require('../test/helpers/data');
const { runPeer } = require('./peer');

const N = 20000, D = 768, MS = [48, 96, 192], ITER = 25;

/** N x D normal values (Box-Muller over the seeded mulberry32 of the tests' data). */
function embeddings(seed) {
  const next = uniform(seed), data = new Float32Array(N * D);
  for (let i = 0; i < data.length; i++) data[i] = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  return { data, shape: [N, D] };
}

async function benchShapes(log, t) {
  const { row, guard } = t;
  const X = embeddings(5);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanopq-bench-shapes-'));
  let theirs = null;
  try {
    fs.writeFileSync(path.join(dir, 'x.f32'), X.data);
    log(`  (Python peer: Faiss IndexPQ at M = ${MS.join(', ')}...)`);
    theirs = runPeer('bench_peer_shapes.py', [dir, N, D, MS.join(',')]);
  } catch (e) { log(`bench-shapes: ${e.message}; Faiss's rows are left out`); } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const perVector = {};
  for (const M of MS) {
    await guard(`${D}-d, M ${M}`, () => {
      const [pq, fitS] = timed(() => new nanopq.PQ({ M, Ks: 256 }).fit(X, { iter: ITER }));
      const encodeS = Math.min(...[0, 1, 2].map(() => timed(() => pq.encode(X))[1]));
      perVector[M] = (encodeS / N) * 1e6;
      const peer = theirs && theirs[M];
      row(`encode ${N} x ${D}, M ${M} (Ds ${D / M})`, 'us/vec', perVector[M], 'faiss pq.compute_codes', peer ? (peer.encode_s / N) * 1e6 : null,
        '<= 0.33', peer ? perVector[M] * 3 <= (peer.encode_s / N) * 1e6 : null);
      if (M !== MS[0] && perVector[MS[0]]) {
        row(`encode ${N} x ${D}, M ${M} (Ds ${D / M})`, 'us/vec', perVector[M], `ours at M ${MS[0]}`, perVector[MS[0]], '<= 1.5',
          perVector[M] <= 1.5 * perVector[MS[0]]);
      }
      row(`fit ${N} x ${D}, M ${M}, ${ITER} iterations`, 's', fitS, 'faiss IndexPQ.train', peer ? peer.train_s : null);
    });
  }
}

module.exports = { benchShapes };

if (require.main === module) {
  const json = process.argv.includes('--json');
  const log = json ? (s) => console.error(s) : console.log;
  const env = environment();
  log(`bench-shapes: ${env.summary}`);
  const t = table(log);
  t.header();
  benchShapes(log, t).then(() => {
    if (json) console.log(JSON.stringify({ ...env, rows: t.rows }));
  }, (e) => { console.error(e); process.exit(1); });
}
