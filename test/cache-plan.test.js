// Blocks of work meant to stay in cache are sized by the cache plan
// (kernels/cache.h): detected, or set by NANOPQ_CACHE. A plan changes the
// sizes of blocks only: every plan and thread count computes the same, to the bit.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const CHILD = path.join(__dirname, 'helpers', 'plan-child.js');

function run(env, args = [CHILD]) {
  // OpenBLAS's thread count changes a fit's sums (FINDINGS.md); ours must not.
  return spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1', ...env } });
}

function childResult(env) {
  const r = run(env);
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

test('every cache plan and thread count gives the same encoding, tables, searches and fit', () => {
  const detected = childResult({ NANOPQ_CACHE: '', OMP_NUM_THREADS: '2' });
  expect(['sysconf', 'cpuid', 'sysfs', 'default']).toContain(detected.plan.source);
  expect(detected.plan.l1d).toBeGreaterThan(0);
  expect(detected.plan.l2).toBeGreaterThan(detected.plan.l1d);
  const plans = [['4K,64K', 4096, 65536], ['32K,256K', 32768, 262144], ['32K,512K', 32768, 524288], ['48K,2M', 49152, 2097152]];
  for (const [value, l1d, l2] of plans) {
    for (const threads of ['1', '2']) {
      const { plan, digest } = childResult({ NANOPQ_CACHE: value, OMP_NUM_THREADS: threads });
      expect(plan).toEqual({ l1d, l2, source: 'NANOPQ_CACHE' });
      expect([value, threads, digest]).toEqual([value, threads, detected.digest]);
    }
  }
});

test('NANOPQ_CACHE with the L2 alone keeps the detected L1d', () => {
  const detected = childResult({ NANOPQ_CACHE: '' }).plan;
  expect(childResult({ NANOPQ_CACHE: '512K' }).plan).toEqual({ l1d: detected.l1d, l2: 524288, source: 'NANOPQ_CACHE' });
  expect(childResult({ NANOPQ_CACHE: '32768,1M' }).plan).toEqual({ l1d: 32768, l2: 1048576, source: 'NANOPQ_CACHE' });
});

test.each(['big', '512K,', '32K,1K', '2M,512K', '32K,512KB,1M', '-1,512K'])(
  'NANOPQ_CACHE=%p: loading the library throws a RangeError naming it', (value) => {
    const r = run({ NANOPQ_CACHE: value }, ['-e', `try { require(${JSON.stringify(ROOT)}); } catch (e) { console.log(e.name + ': ' + e.message); process.exit(3); }`]);
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/^RangeError: Expected NANOPQ_CACHE/);
    expect(r.stdout).toContain(value);
  });
