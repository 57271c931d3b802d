#!/usr/bin/env node
// npm run bench: this library against its peers on the same machine, in one
// run and one table, on Fashion-MNIST (random data of the same shape when it
// is missing, said so): database 60,000 x 784, 10,000 queries, training on the
// first 20,000, M = 8, Ks = 256. Peers: Python Faiss (Debian python3-faiss,
// /usr/bin/python3) and, when NANOPQ_SRC names a checkout of matsui528/nanopq,
// Python nanopq, both on the arrays this run uses. Every row: ours, the peer,
// ratio = ours / peer in the row's unit, the goal. Then the serving rows
// (scripts/bench-serving.js), the Faiss index rows (scripts/bench-indexes.js),
// the embedding-shape rows (scripts/bench-shapes.js), the fast-scan rows
// (scripts/bench-fastscan.js) and the Rii rows (scripts/bench-rii.js: Fashion-MNIST and 1,000,000 x 96
// clustered vectors, against Python rii where RII_SRC names a built checkout
// of matsui528/rii, and Faiss IVFPQ).
//   --json               one JSON object on stdout (the table and the machine); the log goes to stderr
//   --skip-faiss-opq     leave out Faiss's OPQMatrix (minutes with its defaults)
//   --skip-indexes       leave out the Faiss index rows (Python builds three indexes: a minute or two)
//   --skip-rii           leave out the Rii rows (several minutes: a 1,000,000-vector Rii, Python rii's and Faiss's)
//   --skip-shapes        leave out the rows of 768-d embeddings at M = 48, 96, 192 (a minute or two)
//   --skip-fastscan      leave out the fast-scan rows (packed 4-bit codes; a few minutes, Faiss's PQ indexes on 1,000,000 vectors)
//   --repeat N           also N interleaved runs (ours, the peer, in turn) of PQ encode against Faiss and OPQ fit
//                        against Python nanopq: medians, and each side's spread
//   --chart FILE.svg     also draw recall@10 against bytes per vector (scripts/bench-chart.js); the Rii rows' charts go beside it
//   --cache PLAN         then the same rows again with NANOPQ_CACHE=PLAN ("512K", "32K,256K"; may be given more than once),
//                        each plan's column printed next to the detected one's
//   --help, -h           this list
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { OPQ, exactSearch } = require('..');
const { loadData, environment, cacheName, table, recallAt, rows, timed, relativeError } = require('./common');
const { benchServing, fitPQ } = require('./bench-serving');
const { benchIndexes } = require('./bench-indexes');
const { benchRii } = require('./bench-rii');
const { benchFastScan } = require('./bench-fastscan');
const { benchShapes } = require('./bench-shapes');
const { recallChart, MS } = require('./bench-chart');
const { runPeer } = require('./peer');
const { spawnSync } = require('node:child_process');

const M = 8, Ks = 256, TRAIN = 20000, K = 100, NQ_RECALL = 1000;

function parseOptions() {
  try {
    return parseArgs({
      options: {
        json: { type: 'boolean' }, 'skip-faiss-opq': { type: 'boolean' }, 'skip-indexes': { type: 'boolean' }, 'skip-rii': { type: 'boolean' }, 'skip-fastscan': { type: 'boolean' }, 'skip-shapes': { type: 'boolean' }, repeat: { type: 'string' }, chart: { type: 'string' }, cache: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    console.error(`bench: ${e.message}; --help lists the options`);
    process.exit(2);
  }
}
const options = parseOptions();
if (options.help) {  // the options, as the header comment gives them
  const header = fs.readFileSync(__filename, 'utf8').split('\n').filter((line) => line.startsWith('//   --'));
  console.log(['usage: npm run bench -- [options]', ...header.map((line) => line.slice(2))].join('\n'));
  process.exit(0);
}
const log = options.json ? (s) => console.error(s) : console.log;

/**
 * recall@1/10/100 of each model's ids (rows of K) against the exact nearest
 * neighbours; the peer is Faiss trained by itself on the same data (its own
 * initialisation: recall@1 of 1,000 queries varies by about 0.013 from that alone).
 */
function recallRows(t, truth, ours, theirs) {
  log('(recall@r: the fraction of queries whose exact nearest neighbour is among the first r found)');
  for (const [kind, ids] of Object.entries(ours)) {
    for (const r of [1, 10, 100]) {
      const peerIds = theirs[kind];
      t.row(`${kind} recall@${r} (${truth.length} queries)`, '', recallAt(r, ids, K, truth),
        peerIds ? `faiss ${kind === 'PQ' ? 'IndexPQ' : 'OPQMatrix + IndexPQ'}` : null,
        peerIds ? recallAt(r, peerIds, K, truth) : null);
    }
  }
}

/**
 * The rows whose margins a noisy machine moves most, timed `--repeat` times
 * with ours and the peer's runs alternating (each side first in turn):
 * medians, and each side's fastest and slowest run.
 */
async function repeatedRows(log, t, { X, Xt, pq, dir, Xq }) {
  const runs = Number(options.repeat);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`bench: Expected a positive integer for --repeat, got ${options.repeat}`);
  log(`\nrepeated: ${runs} runs a row, ours and the peer's in turn (medians; each side's fastest-slowest)`);
  const peer = (only) => () => runPeer('bench_peer.py', [dir, X.shape[0], Xq.shape[0], X.shape[1], '--only', only])[only];
  const spread = (a) => `${Math.min(...a).toFixed(2)}-${Math.max(...a).toFixed(2)}`;
  const rows = [
    { name: `PQ encode ${X.shape[0]} (best of 3)`, ours: () => Math.min(...[0, 1, 2].map(() => timed(() => pq.encode(X))[1])),
      peerName: 'faiss pq.compute_codes', peer: peer('faiss_pq_encode'), goal: 1 / 3 },
    ...(process.env.NANOPQ_SRC ? [{ name: `OPQ fit ${TRAIN} x ${X.shape[1]}`, peerName: 'nanopq OPQ.fit', peer: peer('nanopq_opq_train'), goal: 1 / 3.5,
      ours: () => timed(() => new OPQ({ M, Ks }).fit(Xt, { pqIter: 20, rotationIter: 10, seed: 123 }))[1] }] : []),
  ];
  if (!process.env.NANOPQ_SRC) log('  (set NANOPQ_SRC for the OPQ fit row)');
  for (const r of rows) {
    const ours = [], theirs = [];
    for (let i = 0; i < runs; i++) {
      if (i % 2) theirs.push(r.peer());
      ours.push(r.ours());
      if (!(i % 2)) theirs.push(r.peer());
    }
    const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
    t.row(`${r.name}, median of ${runs}`, 's', median(ours), r.peerName, median(theirs), `<= ${r.goal.toFixed(2)}`,
      median(ours) <= r.goal * median(theirs), `ours ${spread(ours)} s, theirs ${spread(theirs)} s`);
  }
}

async function main() {
  const env = environment();
  log(`bench: ${env.summary}`);
  const data = loadData(log);
  const { train: X, test: Xq } = data;
  const D = X.shape[1], Xt = rows(X, 0, TRAIN);
  log(`bench: ${data.random ? 'RANDOM data' : 'Fashion-MNIST'} ${X.shape[0]} x ${D}, ${Xq.shape[0]} queries, training ${TRAIN}; M = ${M}, Ks = ${Ks}`);

  // The PQ (M, Ks, training and seed as here) and its codes, which the serving rows and the chart reuse.
  const served = fitPQ(X);
  const { pq, codes, fitS: pqFit } = served;
  const [opq, opqFit] = timed(() => new OPQ({ M, Ks }).fit(Xt, { pqIter: 20, rotationIter: 10, seed: 123 }));
  const opqCodes = opq.encode(X);
  const encode = Math.min(...[0, 1, 2].map(() => timed(() => pq.encode(X))[1]));
  const [, search] = timed(() => pq.search(Xq, codes, K));
  const queries = rows(Xq, 0, NQ_RECALL);
  const truth = Array.from(exactSearch(queries, X, 1).ids);
  const ours = { PQ: pq.search(queries, codes, K).ids, OPQ: opq.search(queries, opqCodes, K).ids };

  // The peers read the arrays of this run from files; with --chart they also run the chart's Faiss.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanopq-bench-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'x.f32'), X.data);
  fs.writeFileSync(path.join(dir, 'xq.f32'), Xq.data);
  log('bench: running the Python peers...');
  let theirs = {};
  try {
    theirs = runPeer('bench_peer.py', [dir, X.shape[0], Xq.shape[0], D, ...(options['skip-faiss-opq'] ? ['--skip-faiss-opq'] : []),
      ...(options.chart ? ['--chart', MS.join(',')] : [])]);
  } catch (e) { log(`bench: ${e.message}`); }

  const t = table(log);
  log('');
  t.header();
  const fit = `fit ${TRAIN} x ${D}`;
  t.row(`PQ ${fit}`, 's', pqFit, 'nanopq PQ.fit', theirs.nanopq_pq_train, '<= 0.33', theirs.nanopq_pq_train ? pqFit <= theirs.nanopq_pq_train / 3 : null);
  t.row(`PQ ${fit}`, 's', pqFit, 'faiss IndexPQ.train', theirs.faiss_pq_train);
  t.row(`OPQ ${fit}`, 's', opqFit, 'nanopq OPQ.fit', theirs.nanopq_opq_train, '<= 0.33', theirs.nanopq_opq_train ? opqFit <= theirs.nanopq_opq_train / 3 : null);
  if (!options['skip-faiss-opq']) t.row(`OPQ ${fit}`, 's', opqFit, 'faiss OPQMatrix.train', theirs.faiss_opq_train);
  // Encoding is ~2 n D Ks flops of nearest-codeword products: its rate next to the machine's sgemm at that shape.
  const gflops = 2 * X.shape[0] * D * Ks / encode / 1e9;
  t.row(`PQ encode ${X.shape[0]} (best of 3)`, 's', encode, 'faiss pq.compute_codes', theirs.faiss_pq_encode, '<= 0.4',
    theirs.faiss_pq_encode ? encode <= 0.4 * theirs.faiss_pq_encode : null,
    `${gflops.toFixed(0)} GFLOPS` + (theirs.sgemm_gflops ? `, ${(gflops / theirs.sgemm_gflops).toFixed(2)} of numpy sgemm's ${theirs.sgemm_gflops.toFixed(0)} at that shape` : ''));
  t.row(`PQ encode ${X.shape[0]} (best of 3)`, 's', encode, 'nanopq PQ.encode', theirs.nanopq_pq_encode);
  t.row(`PQ search ${Xq.shape[0]} x top-${K}`, 's', search, 'faiss IndexPQ.search', theirs.faiss_pq_search);
  const pqError = relativeError(X, pq.decode(codes)), opqError = relativeError(X, opq.decode(opqCodes));
  t.row('PQ relative error', '', pqError, 'faiss IndexPQ', theirs.faiss_pq_error, '<= 1.01', theirs.faiss_pq_error ? pqError <= 1.01 * theirs.faiss_pq_error : null);
  t.row('PQ relative error', '', pqError, 'nanopq PQ', theirs.nanopq_pq_error);
  if (!options['skip-faiss-opq']) t.row('OPQ relative error', '', opqError, 'faiss OPQMatrix + IndexPQ', theirs.faiss_opq_error);
  t.row('OPQ relative error', '', opqError, 'nanopq OPQ', theirs.nanopq_opq_error, '<= 1.01', theirs.nanopq_opq_error ? opqError <= 1.01 * theirs.nanopq_opq_error : null);
  recallRows(t, truth, ours, { PQ: theirs.faiss_pq_ids, OPQ: theirs.faiss_opq_ids });
  if (!process.env.NANOPQ_SRC) log('(set NANOPQ_SRC to a checkout of matsui528/nanopq to compare with Python nanopq)');

  if (options.repeat !== undefined) await repeatedRows(log, t, { X, Xt, pq, dir, Xq });

  log('\nserving: one query at a time, batches, and the event loop');
  await benchServing(log, t, data, served);

  if (!options['skip-indexes']) {
    log('\nindexes: an index Python Faiss built, searched from Node and from Python; searchAsync');
    await benchIndexes(log, t, data);
  }

  if (!options['skip-shapes']) {
    log('\nshapes: 768-dimensional embeddings at M = 48, 96 and 192, against Faiss');
    await benchShapes(log, t);
  }

  if (!options['skip-fastscan']) {
    log('\nfast scan: 4-bit codes packed, against the same codes plain and Faiss\'s PQ indexes');
    await benchFastScan(log, t);
  }

  let rii;
  if (!options['skip-rii']) {
    log('\nrii: our Rii against Python rii and Faiss IVFPQ, on Fashion-MNIST and 1,000,000 clustered vectors');
    rii = await benchRii(log, t, { fmnist: data, chartDir: options.chart ? path.dirname(options.chart) : null });
  }

  let chart;
  if (options.chart) {
    log(`\nchart: recall@10 against bytes per vector -> ${options.chart}`);
    chart = await recallChart(log, data, truth, options.chart, theirs, { M, pq, codes, opq, opqCodes });
  }
  if (options.json) console.log(JSON.stringify({ ...env, data: data.random ? 'random' : 'fashion-mnist', rows: t.rows, chart, rii }));
  return { env, rows: t.rows };
}

/**
 * The rows of this run again under each --cache plan (a child bench with
 * NANOPQ_CACHE set and the same row options), printed side by side: each
 * plan's figure and ratio to its own run's peer, and whether it met the goal.
 */
function otherPlans(env, rows) {
  const forwarded = Object.entries(options).filter(([name]) => name.startsWith('skip-') || name === 'repeat')
    .flatMap(([name, value]) => (value === true ? [`--${name}`] : [`--${name}`, value]));
  const plans = options.cache.map((value) => {
    log(`\nbench: the same rows with NANOPQ_CACHE=${value}...`);
    const r = spawnSync(process.execPath, [__filename, '--json', ...forwarded], {
      env: { ...process.env, NANOPQ_CACHE: value }, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 28,
    });
    if (r.status !== 0) throw new Error(`bench: the run with NANOPQ_CACHE=${value} failed (status ${r.status})`);
    const result = JSON.parse(r.stdout.trim().split('\n').pop());
    return { value, cache: result.cache, rows: new Map(result.rows.map((row) => [`${row.name}|${row.peerName}`, row])) };
  });
  const f = (v) => (v == null ? 'n/a' : v.toPrecision(4));
  const cell = (row) => (row ? `${f(row.ours).padStart(9)} ${f(row.ratio).padStart(7)}${row.pass == null ? '   ' : row.pass ? ' ok' : ' !!'}` : ''.padStart(20));
  const heading = (cache, label) => `${label} ${cacheName(cache)}`.slice(0, 20).padStart(20);
  log(`\ncache plans: ours and ours / peer per plan (${env.cpu}, SIMD ${env.simd}; !! = goal missed)`);
  log(`${'row'.padEnd(44)} ${'unit'.padEnd(5)} ${heading(env.cache, 'detected')} ${plans.map((p) => heading(p.cache, 'plan')).join(' ')}  goal`);
  for (const row of rows.filter((r) => !r.error)) {
    const key = `${row.name}|${row.peerName}`;
    log(`${`${row.name}${row.peerName ? ` / ${row.peerName}` : ''}`.slice(0, 44).padEnd(44)} ${row.unit.padEnd(5)} ${cell(row)} ${plans.map((p) => cell(p.rows.get(key))).join(' ')}  ${row.goal ?? ''}`);
  }
}

main().then(({ env, rows }) => {
  if (options.cache) otherPlans(env, rows);
}).catch((e) => { console.error(e); process.exit(1); });
