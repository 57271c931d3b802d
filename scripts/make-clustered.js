#!/usr/bin/env node
// A seeded synthetic data set for the Rii rows of `npm run bench`
// (scripts/bench-rii.js): n base vectors and nq queries, float32, d dims,
// from one clustered distribution. CLUSTERS centres, normal with standard
// deviation CENTRE_SD; each cluster has its own size (log-normal weights),
// its own scale and its own random LATENT-dimensional subspace (a d x LATENT
// basis with decaying column scales); a vector is its centre, plus its basis
// times a standard normal LATENT-vector, plus a little isotropic noise. So the
// posting lists of an inverted file are uneven, and nearest neighbours are
// well defined (not lost in 96-d noise). The same seed gives the same bytes on
// every machine (a 32-bit generator, V8's Math functions). The queries come
// from the same distribution, drawn after the base vectors.
// Written with numpy's .npy format, so Python reads the same file:
//   DIR/clustered-<n>x<d>-seed<seed>.npy and DIR/clustered-<n>x<d>-seed<seed>-queries<nq>.npy
//   node scripts/make-clustered.js [--n 1000000] [--nq 1000] [--d 96] [--seed 1] [--dir DIR]
// DIR defaults to the bench cache (NANOPQ_BENCH_CACHE, else ~/.cache/nanopq-bench);
// existing files are kept (they are the same bytes).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
// mulberry32: uniform [0, 1) doubles from a 32-bit seed, as the tests' data.
const { rng: uniform } = require('../test/helpers/data');

const CLUSTERS = 1000, LATENT = 16, CENTRE_SD = 0.35, NOISE_SD = 0.02;

/** The directory of the bench's generated data and cached ground truth. */
function cacheDir() {
  return process.env.NANOPQ_BENCH_CACHE || path.join(os.homedir(), '.cache', 'nanopq-bench');
}

/** Standard normal doubles (Box-Muller, both values used). */
function normal(seed) {
  const u = uniform(seed);
  let spare = null;
  return () => {
    if (spare !== null) { const s = spare; spare = null; return s; }
    const r = Math.sqrt(-2 * Math.log(1 - u())), phi = 2 * Math.PI * u();
    spare = r * Math.sin(phi);
    return r * Math.cos(phi);
  };
}

/** The distribution's parameters: centres, cumulative weights, bases (each scaled). */
function model(d, seed) {
  const g = normal(seed), u = uniform(seed ^ 0x5bd1e995);
  const centres = Float64Array.from({ length: CLUSTERS * d }, () => CENTRE_SD * g());
  const weights = Float64Array.from({ length: CLUSTERS }, () => Math.exp(0.8 * g()));
  const cumulative = new Float64Array(CLUSTERS);
  let total = 0;
  weights.forEach((w, k) => { total += w; cumulative[k] = total; });
  for (let k = 0; k < CLUSTERS; k++) cumulative[k] /= total;
  // bases[k] is d x LATENT, column j scaled by scale_k * 0.85^j / sqrt(d).
  const bases = new Float64Array(CLUSTERS * d * LATENT);
  for (let k = 0; k < CLUSTERS; k++) {
    const scale = 0.5 + u();
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < LATENT; j++) bases[(k * d + i) * LATENT + j] = (scale * 0.85 ** j / Math.sqrt(d)) * 3 * g();
    }
  }
  return { centres, cumulative, bases };
}

/** n vectors of the distribution, drawn with the stream `seed`: a Float32Array (n x d). */
function draw({ centres, cumulative, bases }, n, d, seed) {
  const g = normal(seed), u = uniform(seed ^ 0x27d4eb2f);
  const out = new Float32Array(n * d);
  const z = new Float64Array(LATENT);
  for (let r = 0; r < n; r++) {
    const x = u();
    let lo = 0, hi = CLUSTERS - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < x) lo = mid + 1; else hi = mid;
    }
    for (let j = 0; j < LATENT; j++) z[j] = g();
    for (let i = 0; i < d; i++) {
      const b = (lo * d + i) * LATENT;
      let v = centres[lo * d + i] + NOISE_SD * g();
      for (let j = 0; j < LATENT; j++) v += bases[b + j] * z[j];
      out[r * d + i] = v;
    }
  }
  return out;
}

/**
 * The files of the set (made when missing): { base, queries } paths.
 * log: where to say that they are being made.
 */
function clusteredFiles({ n = 1000000, nq = 1000, d = 96, seed = 1, dir = cacheDir() } = {}, log = () => {}) {
  const stem = path.join(dir, `clustered-${n}x${d}-seed${seed}`);
  const files = { base: `${stem}.npy`, queries: `${stem}-queries${nq}.npy` };
  if (fs.existsSync(files.base) && fs.existsSync(files.queries)) return files;
  const { io } = require('..');
  fs.mkdirSync(dir, { recursive: true });
  log(`make-clustered: drawing ${n} x ${d} (seed ${seed}) and ${nq} queries into ${dir}...`);
  const m = model(d, seed);
  // Each file is written to a temporary name first, so an interrupted run leaves no half file.
  const write = (file, data, rows) => {
    io.writeNpy(`${file}.part`, data, [rows, d]);
    fs.renameSync(`${file}.part`, file);
  };
  if (!fs.existsSync(files.base)) write(files.base, draw(m, n, d, seed + 1), n);
  if (!fs.existsSync(files.queries)) write(files.queries, draw(m, nq, d, seed + 2), nq);
  return files;
}

module.exports = { clusteredFiles, cacheDir };

if (require.main === module) {
  const { values } = parseArgs({
    options: { n: { type: 'string' }, nq: { type: 'string' }, d: { type: 'string' }, seed: { type: 'string' }, dir: { type: 'string' } },
  });
  const num = (v, dflt) => (v === undefined ? dflt : Number(v));
  const files = clusteredFiles({
    n: num(values.n, 1000000), nq: num(values.nq, 1000), d: num(values.d, 96), seed: num(values.seed, 1), dir: values.dir ?? cacheDir(),
  }, console.error);
  console.log(`${files.base}\n${files.queries}`);
}
