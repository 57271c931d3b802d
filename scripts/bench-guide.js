#!/usr/bin/env node
// The figures of README's "Choosing M and Ks" and docs/guide.md: on
// Fashion-MNIST (random data of the same shape when it is missing, said so;
// database 60,000) or a seeded clustered set of 768 dimensions
// (scripts/make-clustered.js; database 100,000), training 20,000, 1,000
// queries, top-100, for each model kind, M and Ks given: bytes a vector,
// recall@1/10/100 (the fraction of queries whose exact nearest neighbour is
// among the first 1/10/100 found) and 10-NN overlap (the fraction of the
// exact 10 nearest among the 10 found), the time of fit, of encode a vector
// and of search a query (one thread, the codes scanned whole; packed for Ks = 16).
//   node scripts/bench-guide.js [--set fashion-mnist|clustered768] [--M 8,16,32] [--Ks 16,256] [--opq]
//                               [--json | --markdown]
const { parseArgs } = require('node:util');
const nanopq = require('..');
const { loadData, environment, rows, timed, recallAt } = require('./common');

const { values } = parseArgs({
  options: { set: { type: 'string' }, M: { type: 'string' }, Ks: { type: 'string' }, opq: { type: 'boolean' }, json: { type: 'boolean' }, markdown: { type: 'boolean' } },
});
const list = (s, fallback) => (s ? s.split(',').map(Number) : fallback);
const MS = list(values.M, [8, 16, 32]), KSS = list(values.Ks, [16, 256]), K = 100, NQ = 1000, TRAIN = 20000;
const log = values.json ? (s) => console.error(s) : console.log;

const env = environment();
log(`bench-guide: ${env.summary}`);
const set = values.set ?? 'fashion-mnist';
if (!['fashion-mnist', 'clustered768'].includes(set)) throw new Error(`bench-guide: Expected --set fashion-mnist or clustered768, got ${set}`);
const data = set === 'fashion-mnist' ? loadData(log) : clustered768();
const X = data.train, Xq = rows(data.test, 0, NQ), Xt = rows(X, 0, TRAIN), D = X.shape[1];
const setName = set === 'clustered768' ? 'clustered 768-d' : data.random ? 'RANDOM data' : 'Fashion-MNIST';
log(`bench-guide: ${setName} ${X.shape[0]} x ${D}, ${NQ} queries, training ${TRAIN}`);

/** 100,000 + 1,000 seeded clustered vectors of 768 dimensions, made once into the bench cache. */
function clustered768() {
  const { clusteredFiles } = require('./make-clustered');
  const files = clusteredFiles({ n: 100000, nq: NQ, d: 768, seed: 7 }, log);
  const read = (file) => { const { data: values, shape } = nanopq.io.readNpy(file); return { data: values, shape }; };
  return { train: read(files.base), test: read(files.queries), random: false };
}
const truth = nanopq.exactSearch(Xq, X, 10).ids;
/** The fraction of the exact 10 nearest among the first 10 ids found (rows of k). */
function overlap10(ids, k) {
  let hits = 0;
  for (let q = 0; q < NQ; q++) {
    const found = new Set(Array.from(ids.subarray(q * k, q * k + 10)));
    for (let j = 0; j < 10; j++) hits += found.has(truth[q * 10 + j]);
  }
  return hits / (NQ * 10);
}
const nearest = Array.from({ length: NQ }, (_, q) => truth[q * 10]);
const out = [];
log(`${'model'.padEnd(16)} ${'bytes'.padStart(5)} ${'R@1'.padStart(6)} ${'R@10'.padStart(6)} ${'R@100'.padStart(6)} ${'10-NN'.padStart(6)} ${'fit s'.padStart(7)} ${'enc us'.padStart(7)} ${'q ms'.padStart(6)}`);
for (const kind of values.opq ? ['PQ', 'OPQ'] : ['PQ']) {
  for (const Ks of KSS) {
    for (const M of MS) {
      if (D % M) continue;
      const Model = kind === 'PQ' ? nanopq.PQ : nanopq.OPQ;
      const [model, fitS] = timed(() => new Model({ M, Ks }).fit(Xt, kind === 'PQ' ? { seed: 1 } : { seed: 1, pqIter: 20, rotationIter: 10 }));
      const [codes, encodeS] = timed(() => model.encode(X));
      const threads = nanopq.getNumThreads();
      nanopq.setNumThreads(1);
      const scanned = Ks === 16 ? model.packCodes(codes) : codes;  // 4-bit codes are searched packed (the same results)
      const [{ ids }, searchS] = timed(() => model.search(Xq, scanned, K));
      nanopq.setNumThreads(threads);
      const row = {
        model: `${kind} M ${M} Ks ${Ks}`, bytes: Ks === 16 ? M / 2 : M * codes.data.BYTES_PER_ELEMENT,
        recall1: recallAt(1, ids, K, nearest), recall10: recallAt(10, ids, K, nearest), recall100: recallAt(100, ids, K, nearest),
        overlap10: overlap10(ids, K), fitS, encodeUs: (encodeS / X.shape[0]) * 1e6, searchMs: (searchS / NQ) * 1e3,
      };
      out.push(row);
      log(`${row.model.padEnd(16)} ${String(row.bytes).padStart(5)} ${row.recall1.toFixed(3).padStart(6)} ${row.recall10.toFixed(3).padStart(6)} ${row.recall100.toFixed(3).padStart(6)} ${row.overlap10.toFixed(3).padStart(6)} ${fitS.toFixed(2).padStart(7)} ${row.encodeUs.toFixed(2).padStart(7)} ${row.searchMs.toFixed(2).padStart(6)}`);
    }
  }
}
if (values.json) console.log(JSON.stringify({ ...env, data: data.random ? 'random' : set, rows: out }));
if (values.markdown) {
  console.log('\n| model | bytes a vector | recall@1 | recall@10 | recall@100 | 10-NN overlap | fit, s | encode, µs a vector | search, ms a query |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of out) {
    console.log(`| ${r.model.replace(/ (M|Ks) /g, ', $1 = ').replace(', M', ' M')} | ${r.bytes} | ${r.recall1.toFixed(3)} | ${r.recall10.toFixed(3)} | ${r.recall100.toFixed(3)} | ` +
      `${r.overlap10.toFixed(3)} | ${r.fitS.toFixed(1)} | ${r.encodeUs.toFixed(1)} | ${r.searchMs.toFixed(2)} |`);
  }
}
