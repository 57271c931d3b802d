// Encoding and k-means find nearest codewords with a SIMD kernel chosen for
// the CPU; NANOPQ_SIMD caps its width, so each kernel this machine runs is
// checked against exact distances here.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
// Short last tiles, panels and row blocks; uint16 codes; far from the origin,
// where |x|^2 + |c|^2 - 2 x.c in float32 would lose the distances.
const n = 1003, M = 3, Ks = 300, Ds = 20;
const makeData = `
  const { randomMatrix } = require(${JSON.stringify(path.join(__dirname, 'helpers', 'data'))});
  const x = randomMatrix(${n}, ${M * Ds}, 1), c = randomMatrix(${M * Ks}, ${Ds}, 2);
  for (const v of [x.data, c.data]) for (let i = 0; i < v.length; i++) v[i] += 1000;`;

function encodeWith(simd) {
  const script = `${makeData}
    const { PQ } = require(${JSON.stringify(ROOT)});
    const { native } = require(${JSON.stringify(path.join(ROOT, 'dist', 'native'))});
    const codes = PQ.fromCodewords({ data: c.data, shape: [${M}, ${Ks}, ${Ds}] }).encode(x);
    console.log(JSON.stringify({ simd: native.simd, codes: Array.from(codes.data) }));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NANOPQ_SIMD: simd } });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

// Squared distances in float64 of every sub-vector to every codeword of its subspace.
const { x, c } = new Function('require', `${makeData}; return { x, c };`)(require);
function distance(i, m, k) {
  let s = 0;
  for (let j = 0; j < Ds; j++) s += (x.data[i * M * Ds + m * Ds + j] - c.data[(m * Ks + k) * Ds + j]) ** 2;
  return s;
}
const nearest = [];
for (let i = 0; i < n; i++) {
  for (let m = 0; m < M; m++) {
    let best = Infinity;
    for (let k = 0; k < Ks; k++) best = Math.min(best, distance(i, m, k));
    nearest.push(best);
  }
}

test.each([
  ['generic', ['generic']],
  ['avx2', ['avx2', 'generic']],
  ['', ['avx512', 'avx2', 'generic']],
])('NANOPQ_SIMD=%p: the kernel picks the nearest codeword', (simd, allowed) => {
  const { simd: used, codes } = encodeWith(simd);
  expect(allowed).toContain(used);
  let exact = 0;
  for (let i = 0; i < n; i++) {
    for (let m = 0; m < M; m++) {
      const chosen = distance(i, m, codes[i * M + m]);
      // float32 rounding may only swap codewords whose distances all but tie
      expect(chosen - nearest[i * M + m]).toBeLessThan(1e-4);
      if (chosen === nearest[i * M + m]) exact++;
    }
  }
  expect(exact).toBeGreaterThan(0.99 * n * M);
});
