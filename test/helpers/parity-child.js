// What nanopq's own kernels compute on small data, as digests, for
// test/parity.test.js, which compares them across kernels (NANOPQ_SIMD) and
// CPUs (x86-64 and arm64) with test/fixtures/parity.json, recorded on x86-64.
//   node test/helpers/parity-child.js          prints this process's results
//   node test/helpers/parity-child.js --write  records the fixture (on an x86-64 CPU with AVX2):
//                                              the plain kernels' and the AVX2 ones'
// Three kinds of result:
// - exact: codewords, codes and ids, the same on every kernel and CPU;
// - rounded: distances, which a fused multiply-add rounds otherwise; the same
//   for the kernels that fuse (AVX2, AVX-512, NEON) and for those that do not
//   (the plain ones: x86-64 has no FMA, and arm64 builds without contraction);
// - blas: the OPQ rotation and the codewords fitted to it, whose SVD and
//   products are OpenBLAS's, whose kernels differ by CPU: values, compared
//   within a tolerance.
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'parity.json');

function results() {
  const { PQ, OPQ, Rii } = require('../..');
  const { native } = require('../../dist/core/native');
  const { randomMatrix } = require('./data');
  const hex = (...arrays) => {
    const h = crypto.createHash('sha1');
    for (const a of arrays) h.update(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
    return h.digest('hex').slice(0, 16);
  };
  const out = { simd: native.simd, packedKernel: native.packedKernel, exact: {}, rounded: {}, blas: {} };
  const record = (name, model, X, Q) => {
    const codes = model.encode(X);
    const found = model.search(Q, codes, 10);
    out.exact[`${name} codes`] = hex(codes.data);
    out.exact[`${name} search ids`] = hex(found.ids);
    out.rounded[`${name} search dists`] = hex(found.dists);
    out.rounded[`${name} adist`] = hex(model.dtable(Q.data.subarray(0, X.shape[1])).adist(codes));
    return codes;
  };

  // Sub-vectors of 4 and 20 dimensions (the two nearest-codeword kernels), l2 and dot.
  const X = randomMatrix(1500, 40, 1), Q = randomMatrix(12, 40, 2);
  for (const [M, Ks, metric] of [[10, 64, 'l2'], [2, 100, 'l2'], [10, 32, 'dot']]) {
    const name = `PQ M ${M} Ks ${Ks} ${metric}`;
    const pq = new PQ({ M, Ks, metric, verbose: false }).fit(X, { seed: 3, iter: 6 });
    out.exact[`${name} codewords`] = hex(pq.codewords.data);
    record(name, pq, X, Q);
  }

  // Packed 4-bit codes (the fast scan), and Rii over the same model.
  const pq16 = new PQ({ M: 8, Ks: 16, verbose: false }).fit(X, { seed: 4, iter: 6 });
  const codes16 = record('PQ M 8 Ks 16', pq16, X, Q);
  const packed = pq16.search(Q, pq16.packCodes(codes16), 10);
  out.exact['packed search ids'] = hex(packed.ids);
  out.rounded['packed search dists'] = hex(packed.dists);
  const rii = new Rii({ fineQuantizer: pq16 }).addConfigure(X, { nlist: 20, iter: 5 });
  const ivf = rii.search(Q, { topk: 10, L: 300 });
  out.exact['Rii coarse centres'] = hex(rii.coarseCenters.data);
  out.exact['Rii search ids'] = hex(ivf.ids);
  out.rounded['Rii search dists'] = hex(ivf.dists);

  const opq = new OPQ({ M: 4, Ks: 16, verbose: false }).fit(randomMatrix(800, 16, 5), { seed: 6, pqIter: 4, rotationIter: 4 });
  const opqCodes = opq.encode(randomMatrix(800, 16, 5));
  out.exact['OPQ codes'] = hex(opqCodes.data);
  out.blas['OPQ R'] = Array.from(opq.R.data);
  out.blas['OPQ codewords'] = Array.from(opq.codewords.data);
  return out;
}

function run(simd) {
  const r = spawnSync(process.execPath, [__filename], { encoding: 'utf8', env: { ...process.env, NANOPQ_SIMD: simd } });
  if (r.status !== 0) throw new Error(`parity-child with NANOPQ_SIMD=${simd} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

if (require.main === module) {
  if (process.argv[2] !== '--write') {
    console.log(JSON.stringify(results()));
  } else {
    const plain = run('generic'), fused = run('avx2');
    if (process.arch !== 'x64' || fused.simd !== 'avx2') throw new Error('Record the fixture on an x86-64 CPU with AVX2');
    for (const name of Object.keys(plain.exact))
      if (plain.exact[name] !== fused.exact[name]) throw new Error(`${name} differs between the plain and the AVX2 kernels`);
    fs.writeFileSync(FIXTURE, `${JSON.stringify({
      recorded: `node test/helpers/parity-child.js --write, on x86-64 (${require('node:os').cpus()[0].model})`,
      exact: plain.exact,
      rounded: { plain: plain.rounded, fused: fused.rounded },
      blas: plain.blas,
    }, null, 1)}\n`);
    console.log(`wrote ${FIXTURE}`);
  }
}

module.exports = { run, FIXTURE };
