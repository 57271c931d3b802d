// The addon reports the kernels OpenBLAS chose for this CPU (native.blasKernels,
// which every bench prints), and OPENBLAS_CORETYPE chooses them.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');

/** What a fresh process that loads the addon reports, with `env` over this one's (OPENBLAS_CORETYPE unset). */
function loaded(env = {}) {
  const code = `const { native } = require(${JSON.stringify(path.join(ROOT, 'dist', 'core', 'native'))});
    console.log(JSON.stringify(native.blasKernels));`;
  const base = { ...process.env };
  delete base.OPENBLAS_CORETYPE;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', env: { ...base, ...env } });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

// The builds this project makes link OpenBLAS (Debian's, shared or static).
test('blasKernels names the kernels OpenBLAS chose, and OPENBLAS_CORETYPE chooses them', () => {
  expect(loaded()).toMatch(/^[A-Z][A-Za-z0-9]+$/);
  expect(loaded({ OPENBLAS_CORETYPE: 'Haswell' })).toBe('Haswell');
});
