// The published type declarations, as a consumer project gets them: the
// package is packed (as built in dist/) and unpacked into a temporary
// project's node_modules, then test/types/ is compiled there under --strict
// with the TypeScript we build with (.ci/run compiles the same files with the
// latest TypeScript, in a project that installed the tarball with npm).
// usage.ts must compile without @types/node or the DOM, and each of its
// @ts-expect-error lines must be an error.
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

let project;
beforeAll(() => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'nanopq-types-'));
  // --ignore-scripts: pack dist/ as it is, without rebuilding it under other tests' feet.
  const tarball = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', project],
    { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop();
  const pkg = path.join(project, 'node_modules', 'nanopq');
  fs.mkdirSync(pkg, { recursive: true });
  execFileSync('tar', ['xzf', path.join(project, tarball), '-C', pkg, '--strip-components=1']);
  fs.writeFileSync(path.join(project, 'package.json'), '{ "name": "consumer", "private": true }\n');
  fs.cpSync(path.join(__dirname, 'types'), project, { recursive: true });
});

function tsc(config) {
  const r = spawnSync(process.execPath, [TSC, '-p', path.join(project, config)], { cwd: project, encoding: 'utf8' });
  return { out: r.stdout + r.stderr, status: r.status };
}

test('the .d.ts accept the documented API and reject misuse, without @types/node or the DOM', () => {
  expect(tsc('tsconfig.json')).toEqual({ out: '', status: 0 });
});

test("a DOM AbortController's signal is what fitAsync takes", () => {
  expect(tsc('tsconfig.dom.json')).toEqual({ out: '', status: 0 });
});

test("with @types/node, Node's AbortController fits too", () => {
  fs.mkdirSync(path.join(project, 'node_modules', '@types'), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules', '@types', 'node'), path.join(project, 'node_modules', '@types', 'node'), 'dir');
  expect(tsc('tsconfig.node.json')).toEqual({ out: '', status: 0 });
});

test('the published .d.ts name no Node-only type (Buffer, NodeJS.*)', () => {
  const dist = path.join(project, 'node_modules', 'nanopq', 'dist');
  const offenders = fs.readdirSync(dist, { recursive: true }).filter((f) => /\.d\.m?ts$/.test(f))
    .flatMap((f) => fs.readFileSync(path.join(dist, f), 'utf8').split('\n')
      .filter((line) => !/^\s*(\/\/|\*|\/\*)/.test(line) && /\bBuffer\b|\bNodeJS\./.test(line.replace(/ArrayBuffer|SharedArrayBuffer/g, '')))
      .map((line) => `${f}: ${line.trim()}`));
  expect(offenders).toEqual([]);
});
