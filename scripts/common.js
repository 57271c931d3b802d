// What the demo and the benchmark share: Fashion-MNIST from Debian's
// dataset-fashion-mnist (60,000 train and 10,000 test images of 28x28 = 784
// pixels, as float32 matrices of pixel values 0..255), timing, error, recall,
// and the benchmark's table.
const fs = require('node:fs');
const path = require('node:path');

const DIR = process.env.FASHION_MNIST_DIR || '/usr/share/datasets/fashion-mnist';

/** An IDX image file of the data set as a float32 (n, 784) matrix of pixel values 0..255. */
function readImages(file) {
  const { data, shape } = require('..').io.readIdx(path.join(DIR, file));
  return { data, shape };
}

/** { train, test } matrices, or null when the data set is not installed. */
function loadFashionMnist() {
  if (!fs.existsSync(path.join(DIR, 'train-images-idx3-ubyte.gz'))) return null;
  return { train: readImages('train-images-idx3-ubyte.gz'), test: readImages('t10k-images-idx3-ubyte.gz') };
}

/** Fashion-MNIST, or uniform pixel values 0..255 of the same shape (said on the log): { train, test, random }. */
function loadData(log) {
  const data = loadFashionMnist();
  if (data) return { ...data, random: false };
  log(`bench: Fashion-MNIST not found in ${DIR}; using RANDOM data of the same shape (install dataset-fashion-mnist)`);
  const rand = (n) => ({ data: Float32Array.from({ length: n * 784 }, () => Math.floor(Math.random() * 256)), shape: [n, 784] });
  return { train: rand(60000), test: rand(10000), random: true };
}

/** CPU model, thread count and SIMD level, so that figures can be compared across machines. */
function environment() {
  const nanopq = require('..');
  const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m) || [])[1] || 'unknown';
  const { simd, blasKernels } = require('../dist/core/native').native;
  // OPENBLAS_CORETYPE=Haswell gives OpenBLAS's AVX2 kernels on an AVX-512 CPU (with NANOPQ_SIMD=avx2, ours).
  const blas = blasKernels || 'not OpenBLAS';
  const env = { cpu, simd, blas, threads: nanopq.getNumThreads(), node: process.version, cache: nanopq.getCachePlan() };
  const { l1d, l2, source } = env.cache;
  // One line of it, as every bench prints it first.
  env.summary = `${cpu}; ${env.threads} threads; SIMD ${simd}; cache plan ${cacheName(env.cache)} (L1d,L2 from ${source}); ` +
    `OpenBLAS kernels ${blas}; Node ${env.node}`;
  return env;
}

/** A cache plan as NANOPQ_CACHE writes it: "48K,2M". */
function cacheName({ l1d, l2 }) {
  const size = (b) => (b >= 1 << 20 && b % (1 << 20) === 0 ? `${b / (1 << 20)}M` : `${b / 1024}K`);
  return `${size(l1d)},${size(l2)}`;
}

/**
 * The benchmark's one table: each row is ours, a peer timed in the same run,
 * the ratio ours / peer (in the row's unit) and the goal, printed as it comes
 * and kept for --json.
 */
function table(log) {
  const rows = [];
  const f = (v) => (v == null ? 'n/a' : Math.abs(v) >= 1e5 ? v.toFixed(0) : v.toPrecision(4));
  return {
    rows,
    row(name, unit, ours, peerName, peer, goal, pass, note) {
      const r = { name, unit, ours, peerName, peer, ratio: ours != null && peer ? ours / peer : null, goal, pass, note };
      rows.push(r);
      log(`${name.padEnd(36)} ${f(ours).padStart(9)} ${unit.padEnd(5)} ${(peerName || '-').padEnd(28)} ${f(peer).padStart(9)}` +
        `  ${f(r.ratio).padStart(6)}  ${goal ?? ''}${pass == null ? '' : pass ? ' ok' : ' MISSED'}${note ? `  (${note})` : ''}`);
    },
    header() {
      log(`${'row'.padEnd(36)} ${'ours'.padStart(9)} ${'unit'.padEnd(5)} ${'peer (same run)'.padEnd(28)} ${'peer'.padStart(9)}  ${'ratio'.padStart(6)}  goal`);
    },
    /** A row that fails says so, and the others still run. */
    async guard(name, fn) {
      try { await fn(); } catch (e) { log(`${name.padEnd(36)} not available: ${e.message.split('\n')[0]}`); rows.push({ name, error: e.message }); }
    },
  };
}

/** recall@r: the fraction of queries whose exact nearest neighbour is among their first r ids (rows of k). */
function recallAt(r, ids, k, truth) {
  let hits = 0;
  for (let q = 0; q < truth.length; q++) {
    for (let j = 0; j < r; j++) {
      if (Number(ids[q * k + j]) === truth[q]) { hits++; break; }
    }
  }
  return hits / truth.length;
}

/** Rows [start, end) of a matrix, in place. */
function rows(x, start, end) {
  const d = x.shape[1];
  return { data: x.data.subarray(start * d, end * d), shape: [end - start, d] };
}

/** [fn(), seconds] */
function timed(fn) {
  const t0 = process.hrtime.bigint();
  const result = fn();
  return [result, Number(process.hrtime.bigint() - t0) / 1e9];
}

/** ||x - y||^2 / ||x||^2 over whole matrices. */
function relativeError(x, y) {
  let num = 0, den = 0;
  for (let i = 0; i < x.data.length; i++) {
    num += (x.data[i] - y.data[i]) ** 2;
    den += x.data[i] ** 2;
  }
  return num / den;
}

module.exports = { loadFashionMnist, loadData, environment, cacheName, table, recallAt, DIR, rows, timed, relativeError };
