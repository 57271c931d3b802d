#!/usr/bin/env node
// The fast-scan rows of `npm run bench`: the codes of a Ks = 16 PQ packed
// (pq.packCodes) against the same codes plain, and Python Faiss's
// IndexPQFastScan and IndexPQ (nbits 4), each trained by Faiss on the same
// rows, in the same run. On Fashion-MNIST (60,000 x 784; PQ fitted on the
// first 20,000; M = 16 and 28, as 784 takes no 32) and the clustered
// 1,000,000 x 96 set of the Rii rows (fitted on the first 50,000; M = 16 and 32):
//   search, top-10, all cores: packed against plain (goal at 1M, M = 32: >= 4x);
//   one query's dtable(q).topk, top-10: packed against plain (goal at 1M, M = 32: >= 3x);
//   Faiss's two indexes searching the first queries (fewer at 1M: Debian's
//     build runs its fast-scan kernels emulated, and IndexPQ with 4 bits is slow);
//   recall@10 of each against exact search, and the packed results checked
//     equal to the plain ones (a row; the exit code is 1 otherwise).
// Ours alternate, medians of RUNS; the peer answers requests (bench_peer_indexes.py).
//   node scripts/bench-fastscan.js [--quick] [--json]   (--quick: 100,000 clustered vectors)
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const nanopq = require('..');
const { environment, table, recallAt, rows, timed } = require('./common');
const { loadSet, groundTruth, alternate, SETS } = require('./bench-rii');
const { startPeer } = require('./peer');

const K = 10, TOPK_QUERIES = 20;
const { native } = require('../dist/core/native');
const KERNEL = native.packedKernel;
const PLAN = {
  'fashion-mnist': { train: 20000, nq: 2000, nqFaiss: 2000, Ms: [16, 28] },
  clustered: { ...SETS.clustered, train: 50000, nq: 1000, nqFaiss: 100, Ms: [16, 32] },
};
const QUICK = { clustered: { n: 100000, nq: 200, nqFaiss: 100 } };

const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const thousands = (n) => (n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n % 1000 === 0 ? `${n / 1000}k` : String(n));
const same = (a, b) => a.ids.every((v, i) => v === b.ids[i]) && a.dists.every((v, i) => Object.is(v, b.dists[i]));

async function benchFastScan(log, t, { quick = false } = {}) {
  const { row, guard } = t;
  let allSame = true;
  for (const name of Object.keys(PLAN)) {
    const plan = { ...PLAN[name], ...(quick ? QUICK[name] : {}) };
    const { X, Xq: allQ, tag } = loadSet(name, plan, log);
    const [N, D] = X.shape, nq = Math.min(plan.nq, allQ.shape[0]), Xq = rows(allQ, 0, nq);
    const truth = groundTruth(name, X, Xq, log);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nanopq-bench-fs-'));
    let peer = null;
    try {
      const nqFaiss = Math.min(plan.nqFaiss, nq);
      try {
        fs.writeFileSync(path.join(tmp, 'x.f32'), X.data);
        fs.writeFileSync(path.join(tmp, 'xq.f32'), Xq.data);
        const specs = plan.Ms.flatMap((M) => [
          { name: `fs${M}`, factory: `PQ${M}x4fs`, params: '', train: plan.train, n: N, nq: nqFaiss },
          { name: `pq${M}`, factory: `PQ${M}x4`, params: '', train: plan.train, n: N, nq: nqFaiss }]);
        log(`  (Python peer: building Faiss's PQ indexes on ${tag}...)`);
        peer = await startPeer('bench_peer_indexes.py', [tmp, N, nq, D, JSON.stringify(specs)]);
      } catch (e) { log(`bench-fastscan: ${e.message}; Faiss's rows are left out`); }
      for (const M of plan.Ms) {
        const [pq, fitS] = timed(() => new nanopq.PQ({ M, Ks: 16 }).fit(rows(X, 0, Math.min(plan.train, N)), { iter: 20 }));
        const codes = pq.encode(X), packed = pq.packCodes(codes);
        const where = `[${tag}, M ${M}]`;
        log(`\n${where} ${thousands(N)} x ${D}, PQ M = ${M}, Ks = 16 (fitted in ${fitS.toFixed(1)} s); ${nq} queries; fast-scan kernel ${KERNEL}`);
        await guard(`${where} search`, async () => {
          const plain = pq.search(Xq, codes, K), ranked0 = native.packedRowsRanked();
          const fast = pq.search(Xq, packed, K);
          const ranked = (native.packedRowsRanked() - ranked0) / nq;
          const equal = same(plain, fast);
          allSame &&= equal;
          const [plainS, packedS] = await alternate([() => timed(() => pq.search(Xq, codes, K))[1], () => timed(() => pq.search(Xq, packed, K))[1]]);
          const goal = name === 'clustered' && M === 32 && !quick;
          row(`${where} search packed, ${nq} q`, 'q/s', nq / packedS, 'search plain codes', nq / plainS, goal ? '>= 4' : '',
            goal ? nq / packedS >= 4 * (nq / plainS) : null,
            `recall@10 ${recallAt(K, fast.ids, K, truth).toFixed(3)}; ${ranked.toFixed(0)} of ${thousands(N)} codes ranked exactly a query; ` +
            `results equal the plain ones: ${equal ? 'yes' : 'NO'}`);
        });
        await guard(`${where} topk`, async () => {
          const tables = Array.from({ length: TOPK_QUERIES }, (_, i) => pq.dtable(Xq.data.subarray(i * D, (i + 1) * D)));
          const each = (c) => () => median(tables.map((dt) => timed(() => dt.topk(c, K))[1]));
          tables.forEach((dt) => { allSame &&= same(dt.topk(codes, K), dt.topk(packed, K)); });
          const [plainS, packedS] = await alternate([each(codes), each(packed)]);
          const goal = name === 'clustered' && M === 32 && !quick;
          row(`${where} one topk packed`, 'ms', packedS * 1e3, 'topk plain codes', plainS * 1e3, goal ? '<= 0.33' : '',
            goal ? packedS * 3 <= plainS : null, `median of ${TOPK_QUERIES} queries, ${nanopq.getNumThreads()} threads`);
        });
        for (const kind of ['fs', 'pq']) {
          await guard(`${where} faiss ${kind}`, async () => {
            if (!peer) throw new Error('no Python peer');
            const { s } = await peer.request({ name: `${kind}${M}` });
            const labels = new BigInt64Array(new Uint8Array(fs.readFileSync(path.join(tmp, `${kind}${M}.labels.i64`))).buffer);
            const [, ours] = timed(() => pq.search(rows(Xq, 0, nqFaiss), packed, K));
            row(`${where} search packed, ${nqFaiss} q`, 'q/s', nqFaiss / ours, kind === 'fs' ? 'faiss PQFastScan' : 'faiss PQ nbits 4',
              nqFaiss / s, '', null, `Faiss's recall@10 ${recallAt(K, labels, K, truth.slice(0, nqFaiss)).toFixed(3)} (its own training)`);
          });
        }
      }
    } finally {
      peer?.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  row('fast scan: packed results = plain', '', allSame ? 1 : 0, null, null, '= 1', allSame);
  if (!allSame) process.exitCode = 1;
}

module.exports = { benchFastScan };

if (require.main === module) {
  const json = process.argv.includes('--json');
  const log = json ? (s) => console.error(s) : console.log;
  const env = environment();
  log(`bench-fastscan: ${env.summary}`);
  const t = table(log);
  t.header();
  benchFastScan(log, t, { quick: process.argv.includes('--quick') }).then(() => {
    if (json) console.log(JSON.stringify({ ...env, rows: t.rows }));
  }, (e) => { console.error(e); process.exit(1); });
}
