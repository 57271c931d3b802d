// The same results on every CPU: nanopq's own kernels, the plain ones and
// this CPU's widest (AVX2 or AVX-512 on x86-64, NEON on arm64), against what
// x86-64 computed (test/fixtures/parity.json, recorded by
// test/helpers/parity-child.js --write). Codewords, codes and ids are the
// same on every kernel and CPU. Distances are the same as x86-64's plain
// kernels' on the plain ones and as its AVX2 kernels' on those that fuse
// multiply-adds: a fused multiply-add rounds once where a multiply and an add
// round twice. The OPQ rotation and the codewords fitted to it come from
// OpenBLAS, whose kernels differ by CPU (SVD, products): equal within 1e-4,
// and its codes still the same.
const fs = require('node:fs');
const { run, FIXTURE } = require('./helpers/parity-child');

const recorded = JSON.parse(fs.readFileSync(FIXTURE, 'utf8'));
const widest = { x64: ['avx512', 'avx2', 'generic'], arm64: ['neon'] }[process.arch];

describe.each([['generic'], ['']])('NANOPQ_SIMD=%p', (simd) => {
  const got = run(simd);
  const fused = got.simd !== 'generic';

  test('the kernel is the one asked for', () => {
    if (simd === 'generic') expect(got.simd).toBe('generic');
    else expect(widest).toContain(got.simd);
  });

  test('codewords, codes and ids: those recorded on x86-64', () => {
    expect(got.exact).toEqual(recorded.exact);
  });

  test(`distances: those of x86-64's ${fused ? 'AVX2' : 'plain'} kernels`, () => {
    expect(got.rounded).toEqual(recorded.rounded[fused ? 'fused' : 'plain']);
  });

  test("OPQ's rotation and codewords (OpenBLAS's): within 1e-4 of x86-64's", () => {
    for (const name of Object.keys(recorded.blas)) {
      const expected = recorded.blas[name], values = got.blas[name];
      expect(values).toHaveLength(expected.length);
      const worst = Math.max(...values.map((v, i) => Math.abs(v - expected[i])));
      expect({ name, worst: worst < 1e-4 }).toEqual({ name, worst: true });
    }
  });
});

test('the plain and the fused kernels round distances differently: the fixture tells them apart', () => {
  for (const name of Object.keys(recorded.rounded.plain))
    expect({ name, differ: recorded.rounded.plain[name] !== recorded.rounded.fused[name] }).toEqual({ name, differ: true });
});
