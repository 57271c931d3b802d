// The published type declarations: test/types/usage.ts must compile, and its
// @ts-expect-error lines must each be an error.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

test('the .d.ts accept the documented API and reject misuse', () => {
  const tsc = require.resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'types', 'tsconfig.json')], { encoding: 'utf8' });
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
});
