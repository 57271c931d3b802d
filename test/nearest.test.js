// Encoding and k-means find nearest codewords with a SIMD kernel chosen for
// the CPU; NANOPQ_SIMD caps its width, so each kernel this machine runs is
// checked against exact distances here, for sub-vectors of 20 dimensions
// (the tiled kernel) and of 8, 7 and 4 (the kernel whose lanes are rows).
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
// Short last tiles, panels and row blocks; uint16 codes; far from the origin,
// where |x|^2 + |c|^2 - 2 x.c in float32 would lose the distances. In each
// subspace, codewords 0 and 1 tie and 2, 3 and 4 all but tie (a few float32
// ulps apart), and rows 0-199 lie next to them: the ties go to the lower
// codeword, the near ties to the nearest by exact differences.
const n = 1003, M = 3, Ks = 300;
const makeData = (Ds) => `
  const { randomMatrix } = require(${JSON.stringify(path.join(__dirname, 'helpers', 'data'))});
  const x = randomMatrix(${n}, ${M * Ds}, 1), c = randomMatrix(${M * Ks}, ${Ds}, 2);
  for (const v of [x.data, c.data]) for (let i = 0; i < v.length; i++) v[i] += 1000;
  const noise = randomMatrix(200, ${M * Ds}, 3);
  for (let m = 0; m < ${M}; m++) {
    const codeword = (k) => c.data.subarray((m * ${Ks} + k) * ${Ds}, (m * ${Ks} + k + 1) * ${Ds});
    codeword(1).set(codeword(0));
    codeword(3).set(codeword(2));
    codeword(3)[0] += 2e-4;
    codeword(4).set(codeword(2));
    codeword(4)[1] -= 2e-4;
    for (let i = 0; i < 200; i++)
      for (let j = 0; j < ${Ds}; j++)
        x.data[i * ${M * Ds} + m * ${Ds} + j] = codeword(i < 100 ? 0 : 2)[j] + (noise.data[i * ${M * Ds} + m * ${Ds} + j] - 0.5) * 1e-3;
  }`;

function encodeWith(simd, Ds) {
  const script = `${makeData(Ds)}
    const { PQ } = require(${JSON.stringify(ROOT)});
    const { native } = require(${JSON.stringify(path.join(ROOT, 'dist', 'core', 'native'))});
    const codes = PQ.fromCodewords({ data: c.data, shape: [${M}, ${Ks}, ${Ds}] }).encode(x);
    console.log(JSON.stringify({ simd: native.simd, codes: Array.from(codes.data) }));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NANOPQ_SIMD: simd } });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

// The nearest codeword of every (row, subspace), the lowest of ties, by
// squared distances in float64.
function nearestOf(Ds) {
  const { x, c } = new Function('require', `${makeData(Ds)}; return { x, c };`)(require);
  function distance(i, m, k) {
    let s = 0;
    for (let j = 0; j < Ds; j++) s += (x.data[i * M * Ds + m * Ds + j] - c.data[(m * Ks + k) * Ds + j]) ** 2;
    return s;
  }
  const nearest = [];
  for (let i = 0; i < n; i++) {
    for (let m = 0; m < M; m++) {
      let best = 0;
      for (let k = 1; k < Ks; k++) if (distance(i, m, k) < distance(i, m, best)) best = k;
      nearest.push(best);
    }
  }
  return nearest;
}

// NEON on arm64 (never wider than AVX2).
const levels = [
  ['generic', ['generic']],
  ['avx2', ['avx2', 'neon', 'generic']],
  ['', ['avx512', 'avx2', 'neon', 'generic']],
];
describe.each([20, 8, 7, 4])('Ds %p', (Ds) => {
  const nearest = nearestOf(Ds);
  test.each(levels)('NANOPQ_SIMD=%p: encode picks the nearest codeword, the lower of a tie', (simd, allowed) => {
    const { simd: used, codes } = encodeWith(simd, Ds);
    expect(allowed).toContain(used);
    const wrong = [];
    for (let i = 0; i < n * M; i++) if (codes[i] !== nearest[i]) wrong.push([Math.floor(i / M), i % M, codes[i], nearest[i]]);
    expect(wrong).toEqual([]);
    expect(new Set(codes.filter((_, i) => i < 100 * M))).toEqual(new Set([0]));
    expect(new Set(codes.filter((_, i) => i >= 100 * M && i < 200 * M))).toEqual(new Set([2, 3, 4]));
  });
});

test('codewords so large that the kernel\'s arithmetic overflows: decided by exact differences', () => {
  // |c'|^2 or x'.c' overflow float32 (codewords up to 1e17 are accepted); the
  // exact squared distances of the nearest codewords still fit.
  const { PQ } = require(ROOT);
  const Ds = 200000;
  const codewords = (...values) => {
    const data = new Float32Array(values.length * Ds);
    values.forEach((v, k) => data.fill(v, k * Ds, (k + 1) * Ds));
    return PQ.fromCodewords({ data, shape: [1, values.length, Ds] });
  };
  const zero = { data: new Float32Array(Ds), shape: [1, Ds] };
  expect(codewords(0, -1e17, -1e17).encode(zero).data[0]).toBe(0);
  expect(codewords(-1.2e16, -1e16, -1e17).encode(zero).data[0]).toBe(1);
});
