#!/usr/bin/env node
// The Rii rows of `npm run bench`: our Rii against Python rii (matsui528/rii)
// and Python Faiss's inverted files, in one run, on the same data and the
// same fine codebook. Two data sets (the training rows also train Faiss's k-means):
//   Fashion-MNIST: 60,000 x 784 base, 10,000 queries; PQ M = 8, Ks = 256
//     fitted on the first 20,000 (random data of that shape when missing, said so);
//   clustered: 1,000,000 x 96 base, 1,000 queries, float32, from
//     scripts/make-clustered.js (seed 1; made once into the cache directory);
//     PQ M = 16, Ks = 256 fitted on the first 50,000.
// Our PQ (20 iterations, seed 123) is the fine quantizer of every index with
// 8-bit codes: its codewords go to Python, into the nanopq PQ of Python rii and
// the PQ of Faiss's IndexIVFPQ (by_residual false), whose lists hold our codes:
// one IVFPQ on Faiss k-means (10 iterations on the training rows), one on our
// Rii's own partition (its coarse centres decoded, its posting lists), which
// ranks the lists for a query as the Rii does. IndexIVFPQFastScan (by_residual
// false, on that k-means) trains its own 4-bit PQ of 2M sub-quantizers (the
// same bytes a vector). nlist = floor(sqrt(N)) everywhere, PQk-means 5 iterations.
// Rows (ratio = ours / peer in the row's unit, goal, ok or MISSED):
//   addConfigure (encode + PQk-means + lists) against Python rii's add_configure, timed once (goal ratio <= 0.33);
//   query, one query at a time, top-10, at our L whose recall@10 is Python rii's at its default L,
//     against Python rii's query at that default L (goal >= 2x the queries/s); ours at that L too;
//   search, all queries at once, top-10, against Faiss IndexIVFPQ with nprobe tuned to
//     the same recall@10 (where its least nprobe already recalls more, our L is raised to it)
//     (goal >= 2x), and against the other two Faiss indexes, tuned to our recall there;
//   query with targetIds, 1% of N, one query at a time, against a query over all N (linear)
//     (goal >= 10x), its results checked to equal a linear scan of those ids, and their
//     distances PQ.search's over those codes (a row; the exit code is 1 otherwise);
//     and against Python rii's query with target_ids;
//   PQ.search (exhaustive) for reference; recall@1/10/100 of each, against exact search
//     (exactSearch, cached in the cache directory); the RSS growth of addConfigure (and
//     what V8's heap and array buffers kept of it, after a full GC), in a Node process
//     of its own that holds only the vectors and the PQ before (this one's freed
//     memory would be reused, and hide the growth): one more addConfigure, untimed.
// Timed runs alternate between ours and the peers (the peer answers requests),
// medians of RUNS. A recall@10-against-queries/s chart per data set with --chart-dir
// (its points: each L and nprobe that tuning and a sweep ran, each timed once).
// The cache directory: NANOPQ_BENCH_CACHE, else ~/.cache/nanopq-bench.
// Python rii: RII_SRC (a checkout built in place) and NANOPQ_SRC (one of
// nanopq); where it does not import, its rows are left out, said on one line.
//   node scripts/bench-rii.js [--quick] [--json] [--sets fashion-mnist,clustered] [--chart-dir DIR]
//   --quick: 1,000 Fashion-MNIST queries, and 100,000 x 96 clustered with 200 queries
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const nanopq = require('..');
const { loadData, environment, table, recallAt, rows, timed } = require('./common');
const { clusteredFiles, cacheDir } = require('./make-clustered');
const { rng: uniform } = require('../test/helpers/data');
const { startPeer } = require('./peer');

const Ks = 256, ITER = 5, K = 10, RUNS = 3, SUBSET = 0.01;
const SETS = {
  'fashion-mnist': { M: 8, train: 20000, nqTime: 2000, nqSubset: 1000 },
  clustered: { n: 1000000, d: 96, nq: 1000, M: 16, train: 50000, nqTime: 1000, nqSubset: 200 },
};
const QUICK = { 'fashion-mnist': { nq: 1000, nqTime: 500, nqSubset: 200 }, clustered: { n: 100000, nq: 200, nqTime: 200, nqSubset: 100 } };

// The Faiss indexes of the peer: its name in requests, in the rows, in the chart; the k of its recall rows
// (fast scan top-10 only: Faiss 1.7.3's fast scan beyond k = 20, its reservoir, can abort on tied
// distances, partitioning.cpp n_eq == 0).
const FAISS = [
  { kind: 'ivfpq', row: 'faiss IVFPQ', chart: 'Faiss IndexIVFPQ (Python)', k: 100 },
  { kind: 'ivfpq_rii', row: "faiss IVFPQ, Rii's lists", chart: "Faiss IndexIVFPQ on the Rii's lists (Python)", k: 100 },
  { kind: 'fs', row: 'faiss IVFPQfs', chart: 'Faiss IndexIVFPQFastScan (Python)', k: 10 },
];

const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const thousands = (n) => (n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n % 1000 === 0 ? `${n / 1000}k` : String(n));
const cpuSeconds = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1e6; };

/** A full garbage collection (the flag set at run time, so `node` needs no option). */
const gc = (() => {
  require('node:v8').setFlagsFromString('--expose-gc');
  return require('node:vm').runInNewContext('gc');
})();

/** The first count of a seeded random permutation of 0..n-1, sorted (mulberry32, as make-clustered). */
function sample(n, count, seed) {
  const next = uniform(seed);
  const ids = new Uint32Array(n);
  for (let i = 0; i < n; i++) ids[i] = i;
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(next() * (n - i));
    const t = ids[i]; ids[i] = ids[j]; ids[j] = t;
  }
  return ids.slice(0, count).sort();
}

/** The exact nearest neighbour of each query (exactSearch), cached by the arrays' hash. */
function groundTruth(name, X, Xq, log) {
  const hash = require('node:crypto').createHash('sha1');
  for (const m of [X, Xq]) hash.update(`${m.shape}`).update(new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength));
  const file = path.join(cacheDir(), `truth-${name}-${hash.digest('hex').slice(0, 16)}.u32`);
  if (fs.existsSync(file)) return Array.from(new Uint32Array(new Uint8Array(fs.readFileSync(file)).buffer));
  log(`  (exact nearest neighbours of ${Xq.shape[0]} queries in ${X.shape[0]}: once, then cached in ${file})`);
  const [found, s] = timed(() => nanopq.exactSearch(Xq, X, 1));
  log(`  (exactSearch: ${s.toFixed(1)} s)`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.part`, found.ids);
  fs.renameSync(`${file}.part`, file);
  return Array.from(found.ids);
}

/**
 * What addConfigure of the vectors in `file` ({ path, n, d }: .npy or raw
 * float32) adds to a fresh Node process that holds them and the PQ `pqFile`
 * (PQ.toBuffer): { rss, retained (V8 heap used + array buffers) } in bytes,
 * each after a full GC.
 */
function riiMemory(pqFile, file, nlist) {
  const code = `
    const fs = require('node:fs');
    const nanopq = require(${JSON.stringify(path.join(__dirname, '..'))});
    const f = ${JSON.stringify(file)};
    const X = f.path.endsWith('.npy') ? nanopq.io.readNpy(f.path) : { data: new Float32Array(f.n * f.d), shape: [f.n, f.d] };
    if (!f.path.endsWith('.npy')) {
      const fd = fs.openSync(f.path, 'r');
      fs.readSync(fd, new Uint8Array(X.data.buffer));
      fs.closeSync(fd);
    }
    const pq = nanopq.PQ.fromBuffer(fs.readFileSync(${JSON.stringify(pqFile)}));
    // A full GC, then a pause in which the freed backing stores of array buffers are released.
    const now = async () => {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 300));
      gc();
      const m = process.memoryUsage();
      return { rss: m.rss, retained: m.heapUsed + m.arrayBuffers };
    };
    (async () => {
      const before = await now();
      const rii = new nanopq.Rii({ fineQuantizer: pq }).addConfigure(X, { nlist: ${nlist}, iter: ${ITER} });
      const after = await now();
      if (rii.N !== f.n) throw new Error('not all added');
      console.log(JSON.stringify({ rss: after.rss - before.rss, retained: after.retained - before.retained }));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const p = require('node:child_process').spawnSync(process.execPath, ['--expose-gc', '-e', code], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (p.status !== 0) throw new Error(`the memory child failed (exit ${p.status}): ${p.stderr.trim().split('\n').pop()}`);
  return JSON.parse(p.stdout.trim().split('\n').pop());
}

/** The peer's answer to `request`, or an Error when it says it failed. */
async function ask(peer, request) {
  const answer = await peer.request(request);
  if (answer.error) throw new Error(`the Python peer: ${answer.error}`);
  return answer;
}

const readIds = (file) => new BigInt64Array(new Uint8Array(fs.readFileSync(file)).buffer);

/**
 * The smallest integer p (grid points first, then bisection to within p / 32)
 * whose recall reaches target: { p, recall, reached }. evaluate(p) -> recall,
 * memoised by the caller; recall grows with p, near enough. Where two steps of
 * the grid gain nothing, or the grid ends, short of target: the last p tried, reached false.
 */
async function smallest(evaluate, grid, target) {
  let lo = null, hi = null, flat = 0;
  for (const g of grid) {
    const recall = await evaluate(g);
    if (recall >= target) { hi = g; break; }
    // Two steps of the grid without a gain: the most it reaches (fast scan's 4-bit codes, on some data).
    flat = lo !== null && recall <= await evaluate(lo) + 0.002 ? flat + 1 : 0;
    lo = g;
    if (flat === 2) break;
  }
  if (hi === null) return { p: lo, recall: await evaluate(lo), reached: false };
  while (lo !== null && hi - lo > Math.max(1, Math.floor(lo / 32))) {
    const mid = Math.floor((lo + hi) / 2);
    if (await evaluate(mid) >= target) hi = mid; else lo = mid;
  }
  return { p: hi, recall: await evaluate(hi), reached: true };
}

/**
 * fns (each () -> seconds, or a promise of it) run in turn RUNS times, the
 * first one first in one round and last in the next, so the machine's load
 * falls on all alike: the median seconds of each.
 */
async function alternate(fns) {
  const times = fns.map(() => []);
  for (let r = 0; r < RUNS; r++) {
    const order = fns.map((_, i) => i);
    if (r % 2) order.reverse();
    for (const i of order) times[i].push(await fns[i]());
  }
  return times.map(median);
}

/** Fashion-MNIST (or random data of its shape) or the clustered set, and its labels. */
function loadSet(name, spec, log, fmnist) {
  if (name === 'fashion-mnist') {
    const data = fmnist ?? loadData(log);
    const nq = Math.min(spec.nq ?? data.test.shape[0], data.test.shape[0]);
    return { X: data.train, Xq: rows(data.test, 0, nq), label: data.random ? 'RANDOM (F-MNIST shape)' : 'F-MNIST', tag: 'F-MNIST' };
  }
  const files = clusteredFiles({ n: spec.n, nq: spec.nq, d: spec.d, seed: 1 }, log);
  const read = (f) => { const a = nanopq.io.readNpy(f); return { data: a.data, shape: a.shape, file: f }; };
  return { X: read(files.base), Xq: read(files.queries), label: `clustered ${thousands(spec.n)} x ${spec.d} (seed 1)`, tag: `clust ${thousands(spec.n)}` };
}

/**
 * The rows of one data set into `t`; returns its chart points. peer: the
 * started bench_peer_rii.py or null; tmp: a directory for the files it reads.
 */
async function benchSet(log, t, name, spec, { peer, tmp, fmnist, riiSkip, goals, chartDir }) {
  const { row, guard } = t;
  const { X, Xq, label, tag } = loadSet(name, spec, log, fmnist);
  const [N, D] = X.shape, nq = Xq.shape[0], M = spec.M;
  const nlist = Math.floor(Math.sqrt(N));
  const nqTime = Math.min(spec.nqTime, nq), nqSubset = Math.min(spec.nqSubset, nq);
  log(`\n${label}: ${N} x ${D}, ${nq} queries; PQ M = ${M}, Ks = ${Ks}, fitted on the first ${spec.train}; nlist ${nlist}, iter ${ITER}`);
  const truth = groundTruth(name, X, Xq, log);
  const [pq, fitS] = timed(() => new nanopq.PQ({ M, Ks }).fit(rows(X, 0, spec.train), { iter: 20, seed: 123 }));
  log(`  (PQ.fit: ${fitS.toFixed(1)} s)`);
  const mark = (goal, pass) => { goals.push({ set: tag, goal, pass }); return pass; };
  const points = [];
  const point = (method, param, recall, qps) => points.push({ method, param, recall, qps });

  gc();
  const [rii, addS] = timed(() => new nanopq.Rii({ fineQuantizer: pq }).addConfigure(X, { nlist, iter: ITER }));
  const L0 = rii.L0;
  log(`  (our Rii: nlist ${rii.nlist}, L0 ${L0}, threshold ${rii.threshold.slope.toFixed(2)} L + ${rii.threshold.intercept.toFixed(0)})`);

  // The peer builds its indexes on the same arrays and codewords, while this process waits.
  const arrayFile = (m, file) => {
    if (m.file) return { path: m.file, n: m.shape[0], d: m.shape[1] };
    if (!fs.existsSync(path.join(tmp, file))) fs.writeFileSync(path.join(tmp, file), m.data);
    return { path: path.join(tmp, file), n: m.shape[0], d: m.shape[1] };
  };
  let built = null;
  if (peer) {
    fs.writeFileSync(path.join(tmp, 'codewords.f32'), pq.codewords.data);
    fs.writeFileSync(path.join(tmp, 'codes.u8'), rii.codes.data);
    // The Rii's partition, for a Faiss IVFPQ of the same lists: its centres decoded, each id's list.
    fs.writeFileSync(path.join(tmp, 'centres.f32'), pq.decode(rii.coarseCenters).data);
    const assign = new BigInt64Array(N);
    rii.postingLists.forEach((list, k) => { for (const id of list) assign[id] = BigInt(k); });
    fs.writeFileSync(path.join(tmp, 'assign.i64'), assign);
    log(`  (Python peer: building ${riiSkip ? '' : 'Python rii, '}Faiss IVFPQ (its k-means; the Rii's lists) and IVFPQ fast scan...)`);
    try {
      built = await ask(peer, {
        op: 'load', x: arrayFile(X, 'x.f32'), xq: arrayFile(Xq, 'xq.f32'), codewords: path.join(tmp, 'codewords.f32'), codes: path.join(tmp, 'codes.u8'),
        rii_centres: path.join(tmp, 'centres.f32'), rii_assign: path.join(tmp, 'assign.i64'),
        M, Ks, nlist, iter: ITER, train: spec.train, fs_M: 2 * M,
      });
    } catch (e) { log(`bench-rii: ${e.message}`); }
  }
  const hasRii = built && !riiSkip, hasFaiss = !!built;

  // Recall@10 of every query: ours batched (memoised by L), Python rii one at a time, Faiss (by nprobe).
  const D1 = (i) => Xq.data.subarray(i * D, (i + 1) * D);
  const ourRecall = new Map();
  rii.search(rows(Xq, 0, Math.min(100, nq)), { topk: K, L: L0 });  // warm-up
  const ourAt = (L) => {
    if (!ourRecall.has(L)) {
      const [found, s] = timed(() => rii.search(Xq, { topk: K, L }));
      ourRecall.set(L, recallAt(K, found.ids, K, truth));
      point('nanopq (Node) Rii.search', L, ourRecall.get(L), nq / s);
    }
    return ourRecall.get(L);
  };
  const faissRecall = Object.fromEntries(FAISS.map((f) => [f.kind, new Map()]));
  const faissAt = (f) => async (nprobe) => {
    if (!faissRecall[f.kind].has(nprobe)) {
      const out = path.join(tmp, 'faiss.i64');
      const { s } = await ask(peer, { op: 'faiss', kind: f.kind, nprobe, k: K, nq, out });
      faissRecall[f.kind].set(nprobe, recallAt(K, readIds(out), K, truth));
      point(f.chart, nprobe, faissRecall[f.kind].get(nprobe), nq / s);
    }
    return faissRecall[f.kind].get(nprobe);
  };
  const pythonRii = async (L, topk, n = nq, targets = null, method = 'auto') => {
    const out = path.join(tmp, 'rii.i64');
    const answer = await ask(peer, { op: 'rii', L, topk, nq: n, targets, method, out });
    return { ...answer, ids: readIds(out) };
  };
  const Lgrid = [...new Set([0.25, 0.5, 1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64]
    .map((f) => Math.min(N, Math.max(K, Math.round(f * L0)))))];
  const nprobeGrid = [];
  for (let p = 1; p < nlist; p *= 2) nprobeGrid.push(p);
  nprobeGrid.push(nlist);

  // Python rii at its default L (L0 for top-10): the recall our query row matches.
  let python = null, Lq = L0;
  if (hasRii) {
    await guard(`[${tag}] Python rii query`, async () => {
      const r = await pythonRii(null, K);
      python = { L: r.L, recall: recallAt(K, r.ids, K, truth), qps: nq / r.s };
      point('Python rii query (one at a time)', r.L, python.recall, python.qps);
      const m = await smallest(ourAt, Lgrid, python.recall);
      Lq = m.p;
      log(`  (Python rii recall@10 ${python.recall.toFixed(3)} at its default L ${python.L}; ours ${m.recall.toFixed(3)} at L ${Lq}` +
        `${m.reached ? '' : ', the most the L tried reach'})`);
    });
  } else ourAt(Lq);

  // The batched rows' operating point: Faiss IVFPQ's least nprobe reaching our recall, our L raised when
  // that recalls more; then the other Faiss indexes' least nprobe reaching ours there.
  let Lb = Lq;
  const nprobe = {};  // by kind
  if (hasFaiss) {
    await guard(`[${tag}] Faiss nprobe`, async () => {
      const [first, ...others] = FAISS;
      const f = await smallest(faissAt(first), nprobeGrid, ourAt(Lq));
      nprobe[first.kind] = f.p;
      if (f.recall > ourAt(Lq) + 0.01) Lb = (await smallest(ourAt, Lgrid, f.recall)).p;
      for (const o of others) nprobe[o.kind] = (await smallest(faissAt(o), nprobeGrid, ourAt(Lb))).p;
      log(`  (same recall@10: our L ${Lb} ${ourAt(Lb).toFixed(3)}; ` +
        `${FAISS.map((o) => `${o.row} nprobe ${nprobe[o.kind]} ${faissRecall[o.kind].get(nprobe[o.kind]).toFixed(3)}`).join(', ')})`);
    });
  }
  log(`  (ours: ${nanopq.getNumThreads()} threads; Faiss: ${peer?.hello.threads ?? '-'} OpenMP threads; Python rii: 1; medians of ${RUNS} alternating runs)`);

  // 1. addConfigure.
  const peerAdd = hasRii ? built.rii_add_configure_s : null;
  row(`[${tag}] Rii.addConfigure ${thousands(N)}`, 's', addS, peerAdd ? 'rii add_configure' : null, peerAdd, '<= 0.33',
    peerAdd ? mark('addConfigure <= 0.33 x Python rii', addS <= peerAdd / 3) : null,
    `encode included on both sides; timed once; nlist ${nlist}, iter ${ITER}`);

  // 2. One query at a time.
  const queryLoop = (n, options) => {
    const ids = new Uint32Array(n * K).fill(nanopq.Rii.NO_ID);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) ids.set(rii.query(D1(i), { topk: K, ...options }).ids, i * K);
    return [ids, Number(process.hrtime.bigint() - t0) / 1e9];
  };
  queryLoop(Math.min(100, nq), { L: Lq });  // warm-up
  await guard(`[${tag}] Rii.query top-10`, async () => {
    const fns = [() => queryLoop(nqTime, { L: Lq })[1], () => queryLoop(nqTime, { L: L0 })[1]];
    if (python) fns.push(async () => (await pythonRii(python.L, K, nqTime)).s);
    const [ours, oursL0, theirs] = await alternate(fns);
    const qps = nqTime / ours, peerQps = python ? nqTime / theirs : null;
    row(`[${tag}] Rii.query 1 at a time, L ${Lq}`, 'q/s', qps, python ? `rii query, L ${python.L}` : null, peerQps, '>= 2',
      python ? mark('query >= 2x Python rii (same recall@10)', qps >= 2 * peerQps) : null,
      `recall@10 ${ourAt(Lq).toFixed(3)}${python ? ` vs ${python.recall.toFixed(3)}` : ''}; ${nqTime} queries`);
    row(`[${tag}] Rii.query 1 at a time, L ${L0}`, 'q/s', nqTime / oursL0, python ? `rii query, L ${python.L}` : null, peerQps, '', null,
      `the same L; recall@10 ${ourAt(L0).toFixed(3)}`);
  });

  // 3. All queries at once.
  rii.search(rows(Xq, 0, Math.min(100, nq)), { topk: K, L: Lb });  // warm-up
  await guard(`[${tag}] Rii.search top-10`, async () => {
    const tuned = FAISS.filter((f) => nprobe[f.kind]);
    const fns = [() => timed(() => rii.search(Xq, { topk: K, L: Lb }))[1],
      ...tuned.map((f) => async () => (await ask(peer, { op: 'faiss', kind: f.kind, nprobe: nprobe[f.kind], k: K, nq })).s)];
    const [ours, ...theirs] = await alternate(fns);
    const qps = nq / ours, name = `[${tag}] Rii.search ${thousands(nq)} q, L ${Lb}`;
    if (!tuned.length) row(name, 'q/s', qps, null, null, '>= 2', null, `recall@10 ${ourAt(Lb).toFixed(3)}`);
    tuned.forEach((f, i) => {
      const peerQps = nq / theirs[i], first = f === FAISS[0];
      row(name, 'q/s', qps, `${f.row}${f.kind === 'fs' ? ` ${2 * M}x4` : ''}, nprobe ${nprobe[f.kind]}`, peerQps, first ? '>= 2' : '',
        first ? mark('search >= 2x Faiss IVFPQ (same recall@10)', qps >= 2 * peerQps) : null,
        `recall@10 ${ourAt(Lb).toFixed(3)} vs ${faissRecall[f.kind].get(nprobe[f.kind]).toFixed(3)}`);
    });
  });

  // 4. A subset: 1% of the ids, one query at a time, against every id.
  const S = Math.max(K, Math.round(SUBSET * N));
  const targets = sample(N, S, 7);
  await guard(`[${tag}] Rii.query targetIds`, async () => {
    const subsetLoop = (n, method) => queryLoop(n, { targetIds: targets, method });
    const linear = subsetLoop(nqSubset, 'linear')[0];
    // Checked: auto (what the rows time) gives a linear scan's ids, and that scan the distances of PQ.search over those codes.
    const auto = subsetLoop(nqSubset, 'auto')[0];
    const codes = rii.codes;
    const gathered = new Uint8Array(S * M);
    targets.forEach((id, i) => gathered.set(codes.data.subarray(id * M, (id + 1) * M), i * M));
    const direct = pq.search(rows(Xq, 0, nqSubset), { data: gathered, shape: [S, M] }, K);
    let same = 0;
    for (let q = 0; q < nqSubset; q++) {
      const a = auto.subarray(q * K, (q + 1) * K), l = linear.subarray(q * K, (q + 1) * K);
      const mapped = Array.from(direct.ids.subarray(q * K, (q + 1) * K), (i) => targets[i]);
      // Ties (equal distances) may order the direct scan's ids differently: compare distances there.
      const tab = pq.dtable(D1(q));
      const dist = (ids) => ids.map((id) => tab.adist({ data: codes.data.subarray(id * M, (id + 1) * M), shape: [1, M] })[0]);
      const dl = dist(Array.from(l)), dd = dist(mapped);
      same += a.every((id, j) => id === l[j]) && dl.every((d, j) => Math.abs(d - dd[j]) <= 1e-5 * Math.max(1, Math.abs(dd[j])));
    }
    const picks = S <= rii.threshold.slope * L0 + rii.threshold.intercept ? 'linear' : 'ivf';
    row(`[${tag}] targetIds results = linear`, '', same / nqSubset, 'queries checked', nqSubset, '= 1',
      mark('subset results = a linear scan of the ids', same === nqSubset), `auto picks ${picks} for ${S} ids at L ${L0}`);
    if (same !== nqSubset) process.exitCode = 1;

    queryLoop(Math.min(20, nqSubset), { targetIds: targets });  // warm-up
    const fns = [() => subsetLoop(nqSubset, 'auto')[1], () => queryLoop(nqSubset, { method: 'linear' })[1], () => queryLoop(nqSubset, {})[1]];
    const tids = path.join(tmp, 'targets.i64');
    if (hasRii) {
      fs.writeFileSync(tids, BigInt64Array.from(targets, BigInt));
      // The method our auto picked: Python rii's auto decides by its threshold, timed at add_configure, so by the machine's load then.
      fns.push(async () => (await pythonRii(null, K, nqSubset, tids, picks)).s);
    }
    const [sub, full, ivf, theirs] = await alternate(fns);
    row(`[${tag}] Rii.query targetIds ${thousands(S)}`, 'q/s', nqSubset / sub, `Rii.query all ${thousands(N)}, linear`, nqSubset / full, '>= 10',
      mark('subset query >= 10x a query over all N', full / sub >= 10),
      `${(nqSubset / ivf).toFixed(0)} q/s over all by ivf at L ${L0}; ${nqSubset} queries`);
    if (hasRii) row(`[${tag}] Rii.query targetIds ${thousands(S)}`, 'q/s', nqSubset / sub, `rii query, target_ids, ${picks}`, nqSubset / theirs);
  });

  // 5. The exhaustive search, for reference.
  const codes = rii.codes;
  const linearFound = pq.search(Xq, codes, 100);
  const [, linear10S] = timed(() => pq.search(Xq, codes, K));
  row(`[${tag}] PQ.search ${thousands(nq)} q (linear)`, 'q/s', nq / linear10S, null, null, '', null,
    `all ${thousands(N)} codes, top-10; recall@10 ${recallAt(K, linearFound.ids, 100, truth).toFixed(3)}`);
  point('nanopq (Node) PQ.search (linear)', 0, recallAt(K, linearFound.ids, 100, truth), nq / linear10S);

  // 6. recall@1/10/100 (top-100 runs at the rows' parameters).
  await guard(`[${tag}] recall`, async () => {
    const top = (L) => Math.min(100, L);
    const oursQ = rii.search(Xq, { topk: top(Lq), L: Lq }), oursB = Lb === Lq ? oursQ : rii.search(Xq, { topk: top(Lb), L: Lb });
    const at = (r, ids, k) => (r <= k ? recallAt(r, ids, k, truth) : null);
    const theirs = python ? await pythonRii(python.L, top(python.L)) : null;
    const faissIds = {};
    for (const f of FAISS.filter((o) => nprobe[o.kind])) {
      const out = path.join(tmp, 'faiss.i64');
      await ask(peer, { op: 'faiss', kind: f.kind, nprobe: nprobe[f.kind], k: f.k, nq, out });
      faissIds[f.kind] = readIds(out);
    }
    for (const r of [1, 10, 100]) {
      row(`[${tag}] Rii.query L ${Lq} recall@${r}`, '', at(r, oursQ.ids, top(Lq)), python ? `rii L ${python.L}` : null,
        theirs ? at(r, theirs.ids, top(python.L)) : null);
    }
    for (const r of [1, 10, 100]) {
      const name = `[${tag}] Rii.search L ${Lb} recall@${r}`;
      if (!faissIds[FAISS[0].kind]) row(name, '', at(r, oursB.ids, top(Lb)));
      for (const f of FAISS.filter((o) => faissIds[o.kind])) {
        row(name, '', at(r, oursB.ids, top(Lb)), `${f.row} nprobe ${nprobe[f.kind]}`, at(r, faissIds[f.kind], f.k));
      }
    }
    for (const r of [1, 10, 100]) row(`[${tag}] PQ.search recall@${r}`, '', at(r, linearFound.ids, 100));
  });

  // 7. Memory.
  await guard(`[${tag}] Rii memory`, async () => {
    fs.writeFileSync(path.join(tmp, 'pq.npq'), pq.toBuffer());
    const { rss: grew, retained: kept } = riiMemory(path.join(tmp, 'pq.npq'), arrayFile(X, 'x.f32'), nlist);
    row(`[${tag}] Rii memory, ${thousands(N)} codes + lists`, 'MB', grew / 1e6, null, null, '', null,
      `RSS growth of a fresh process, ${(grew / N).toFixed(1)} B/vector; heap + buffers kept ${(kept / 1e6).toFixed(1)} MB ` +
      `(${(kept / N).toFixed(1)} B/vector); codes and 4-byte ids alone ${(N * (M + 4) / 1e6).toFixed(1)} MB`);
  });

  // Chart sweeps: the rest of the grids, Python rii at a few L.
  if (chartDir) {
    await guard(`[${tag}] chart sweeps`, async () => {
      // Each grid until the recall stops growing (smallest() of an unreachable target).
      await smallest(ourAt, Lgrid.filter((L) => L <= 16 * L0), 2);
      if (hasFaiss) for (const f of FAISS) await smallest(faissAt(f), nprobeGrid.filter((p) => p <= 128), 2);
      if (python) {
        for (const f of [0.5, 2, 4, 8]) {
          const L = Math.min(N, Math.max(K, Math.round(f * L0)));
          const r = await pythonRii(L, K);
          point('Python rii query (one at a time)', L, recallAt(K, r.ids, K, truth), nq / r.s);
        }
      }
    });
  }
  return { name, label, N, M, nq, points };
}

/** The recall@10 against queries/s chart of one set, as SVG (Vega-Lite, rendered by Vega). */
async function chart(file, { label, N, M, nq, points }) {
  const vega = await import('vega');
  const vegaLite = await import('vega-lite');
  const spec = vegaLite.compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `recall@10 against queries/s: ${label}, ${thousands(nq)} queries, ${thousands(N)} vectors, PQ ${M} x 8 bits`,
    width: 520,
    height: 320,
    data: { values: points.map((p) => ({ ...p })).sort((a, b) => a.method.localeCompare(b.method) || a.param - b.param) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'qps', type: 'quantitative', scale: { type: 'log' }, title: 'queries per second (log)' },
      y: { field: 'recall', type: 'quantitative', scale: { domain: [0, 1] }, title: 'recall@10' },
      color: { field: 'method', type: 'nominal', title: null },
      order: { field: 'param', type: 'quantitative' },
      tooltip: [{ field: 'method' }, { field: 'param' }, { field: 'recall' }, { field: 'qps' }],
    },
    config: { legend: { labelLimit: 0 } },
  }).spec;
  fs.writeFileSync(file, await new vega.View(vega.parse(spec), { renderer: 'none' }).toSVG());
}

/**
 * The Rii rows into `t` (common.js's table). options: { quick, sets (names),
 * chartDir (rii-<set>.svg there), fmnist (bench.js's loaded data) }. Returns
 * { goals, charts }.
 */
async function benchRii(log, t, { quick = false, sets = Object.keys(SETS), chartDir = null, fmnist = null } = {}) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nanopq-bench-rii-'));
  const t0 = Date.now();
  const goals = [], charts = {};
  if (chartDir) fs.mkdirSync(chartDir, { recursive: true });
  let peer = null;
  try {
    try {
      peer = await startPeer('bench_peer_rii.py', []);
    } catch (e) { log(`bench-rii: ${e.message}; the peers' rows are left out`); }
    const riiSkip = peer ? peer.hello.rii_skip : 'no Python peer';
    if (peer && riiSkip) {
      log(`bench-rii: Python rii skipped: it does not import (${riiSkip}); set RII_SRC to a checkout of matsui528/rii built in place, ` +
        'NANOPQ_SRC to one of matsui528/nanopq');
    }
    for (const name of sets) {
      if (!SETS[name]) throw new Error(`bench-rii: no data set ${name} (${Object.keys(SETS).join(', ')})`);
      const spec = { ...SETS[name], ...(quick ? QUICK[name] : {}) };
      const result = await benchSet(log, t, name, spec, { peer, tmp, fmnist, riiSkip, goals, chartDir });
      charts[name] = result.points;
      if (chartDir) {
        const file = path.join(chartDir, `rii-${name}.svg`);
        await chart(file, result);
        log(`  (chart: ${file})`);
      }
      gc();
    }
  } finally {
    peer?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  log(`\nRii goals (the Rii rows took ${((Date.now() - t0) / 1e3).toFixed(0)} s):`);
  for (const g of goals) log(`  ${g.pass ? 'ok    ' : 'MISSED'}  [${g.set}] ${g.goal}`);
  return { goals, charts };
}

module.exports = { benchRii, SETS, loadSet, groundTruth, alternate };

if (require.main === module) {
  const { parseArgs } = require('node:util');
  const { values } = parseArgs({
    options: { quick: { type: 'boolean' }, json: { type: 'boolean' }, sets: { type: 'string' }, 'chart-dir': { type: 'string' } },
  });
  const log = values.json ? (s) => console.error(s) : console.log;
  const env = environment();
  log(`bench-rii: ${env.summary}`);
  const t = table(log);
  t.header();
  benchRii(log, t, { quick: values.quick, sets: values.sets?.split(','), chartDir: values['chart-dir'] }).then(({ goals, charts }) => {
    if (values.json) console.log(JSON.stringify({ ...env, rows: t.rows, goals, charts }));
  }, (e) => { console.error(e); process.exit(1); });
}
