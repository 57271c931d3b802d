// The package as a user gets it: CommonJS and ES module entries, from the
// checkout and from a project that depends on it, and nothing printed when quiet.
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const EXPORTS = ["AbortError", "DistanceTable", "OPQ", "PQ", "Rii", "exactSearch", "faiss", "faissToNanopq", "getNumThreads", "io",
  "nanopqToFaiss", "setNumThreads"];

function node(args, cwd) {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed:\n${r.stderr}`);
  return r;
}

describe('entries', () => {
  // A project that depends on nanopq, as npm would lay it out (a link to this checkout).
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'nanopq-user-'));
  fs.mkdirSync(path.join(project, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(project, 'node_modules', 'nanopq'), 'dir');

  test('require from the checkout', () => {
    const out = node(['-e', 'console.log(Object.keys(require(".")).sort().join())'], ROOT).stdout.trim();
    expect(out.split(',')).toEqual(expect.arrayContaining(EXPORTS));
  });

  test.each([['require', 'console.log(Object.keys(require("nanopq")).sort().join())'],
    ['import', 'import * as m from "nanopq"; console.log(Object.keys(m).filter((k) => k !== "default").sort().join())']])(
    '%s from a dependent project gives the same names', (kind, code) => {
      const args = kind === 'import' ? ['--input-type=module', '-e', code] : ['-e', code];
      const names = node(args, project).stdout.trim().split(',');
      expect(names).toEqual(Object.keys(require('..')).sort());
      expect(names).toEqual(expect.arrayContaining(EXPORTS));
    });

  test('import works end to end', () => {
    const code = 'import { PQ } from "nanopq"; const pq = new PQ({ M: 2, Ks: 4 }).fit([[0,0],[1,1],[2,2],[3,3],[4,4],[5,5]]); console.log(pq.encode([[5,5]]).shape.join())';
    expect(node(['--input-type=module', '-e', code], project).stdout.trim()).toBe('1,2');
  });
});

describe('verbose', () => {
  // Too few training points for Ks: Faiss warns on stderr unless we silence it.
  const script = (verbose, Ks) => `
    const { PQ } = require(${JSON.stringify(ROOT)});
    const X = Array.from({ length: 100 }, (_, i) => Array.from({ length: 8 }, (_, j) => Math.sin(i * 8 + j)));
    for (const minit of ['points', '++']) {
      const pq = new PQ({ M: 2, Ks: ${Ks}, verbose: ${verbose} }).fit(X, { minit });
      pq.dtable(X[0]).topk(pq.encode(X), 3);
      pq.decode(pq.encode(X));
    }`;

  test.each([16, 10])('verbose: false prints nothing at all (Ks = %i)', (Ks) => {
    const r = node(['-e', script(false, Ks)], ROOT);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
  });

  test('verbose: true reports training progress through console.log (Ks = 16)', () => {
    const r = node(['-e', script(true, 16)], ROOT);
    expect(r.stdout).toMatch('M: 2, Ks: 16, metric: l2, code_dtype: uint8');
    expect(r.stdout).toMatch('iter: 20, seed: 123');
    expect(r.stdout).toMatch(/k-means iteration 1 \/ 20: objective \d/);
    expect(r.stdout).toMatch(/k-means iteration 20 \/ 20: objective \d/);
    expect(r.stderr).toBe('');
  });

  test('verbose output goes through console.log, so it can be captured', () => {
    const r = node(['-e', `const lines = []; console.log = (s) => lines.push(s); ${script(true, 10)};
      process.stdout.write(JSON.stringify(lines.length))`], ROOT);
    expect(Number(r.stdout)).toBeGreaterThan(40);
  });

  test('verbose: true reports training progress (Ks = 10: our k-means)', () => {
    const r = node(['-e', script(true, 10)], ROOT);
    expect(r.stdout).toMatch('M: 2, Ks: 10, metric: l2, code_dtype: uint8');
    expect(r.stdout).toMatch(/k-means iteration 1 \/ 20: objective \d/);
    expect(r.stdout).toMatch(/k-means iteration 20 \/ 20: objective \d/);
  });
});

test('binding.gyp builds the same native sources as CMakeLists.txt (every native/**/*.cc)', () => {
  const gyp = JSON.parse(fs.readFileSync(path.join(ROOT, 'binding.gyp'), 'utf8'));
  const sources = fs.readdirSync(path.join(ROOT, 'native'), { recursive: true })
    .filter((f) => f.endsWith('.cc')).map((f) => `native/${f.split(path.sep).join('/')}`);
  expect([...gyp.targets[0].sources].sort()).toEqual(sources.sort());
});

test('without a built addon, loading lists what was tried and what to install', () => {
  // The compiled package alone, as if the native build had failed.
  const pkg = fs.mkdtempSync(path.join(os.tmpdir(), 'nanopq-unbuilt-'));
  fs.cpSync(path.join(ROOT, 'dist'), path.join(pkg, 'dist'), { recursive: true });
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(pkg, 'dist', 'index.js'))})`],
    { encoding: 'utf8', env: { ...process.env, NANOPQ_ADDON: '' } });
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch('nanopq could not load its native addon.');
  expect(r.stderr).toMatch(`No build in ${path.join(pkg, 'build', 'Release')} and no prebuilt addon in ${path.join(pkg, 'prebuilds')}`);
  expect(r.stderr).toMatch('sudo apt-get install libfaiss-dev libopenblas-dev cmake g++');
  expect(r.stderr).toMatch('FAISS_ROOT=$CONDA_PREFIX');
});

describe('install', () => {
  // The package's scripts alone, in a folder with neither a build nor a prebuilt addon.
  const pkg = fs.mkdtempSync(path.join(os.tmpdir(), 'nanopq-install-'));
  fs.mkdirSync(path.join(pkg, 'scripts'));
  for (const f of ['scripts/install.js', 'scripts/find-faiss.js', 'package.json']) fs.copyFileSync(path.join(ROOT, f), path.join(pkg, f));
  const missing = { ...process.env, FAISS_ROOT: path.join(pkg, 'no-faiss-here'), NANOPQ_BUILD_FROM_SOURCE: '' };
  const target = `${process.platform}-${process.arch}${process.platform === 'linux' ? ' (glibc)' : ''}`;
  const install = (dir, env) => spawnSync(process.execPath, [path.join(dir, 'scripts', 'install.js')], { cwd: dir, encoding: 'utf8', env });

  test('the Faiss finder names the Faiss it found in one line', () => {
    const r = node([path.join(ROOT, 'scripts', 'find-faiss.js')], ROOT);
    expect(r.stdout).toMatch(/^Faiss \d+\.\d+(\.\d+)? \(.*libfaiss\.(a|so|dylib)\)\n$/);
  });

  test('without Faiss, the install says so once, with what to install, and runs no CMake', () => {
    const r = install(pkg, missing);
    expect(r.status).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out.match(/Faiss was not found/g)).toHaveLength(1);
    expect(out).toMatch(`in ${missing.FAISS_ROOT}`);
    expect(out).toMatch('sudo apt-get install libfaiss-dev libopenblas-dev cmake g++');
    expect(out).not.toMatch(/CMake|OMG/);
  });

  test('without the build tools beside nanopq, building from source names them, and runs nothing', () => {
    // This machine's Faiss is found; cmake-js and node-addon-api (optional peer dependencies) are not.
    const r = install(pkg, { ...process.env, NANOPQ_BUILD_FROM_SOURCE: '' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe([
      `nanopq: no prebuilt addon for ${target}: building from source needs cmake-js and node-addon-api beside nanopq (they are optional peer dependencies):`,
      '  npm install cmake-js node-addon-api, then npm rebuild nanopq',
      ''].join('\n'));
    expect(fs.existsSync(path.join(pkg, 'build'))).toBe(false);
  });

  test('a prebuilt addon that loads is used, in one line naming it and the target; NANOPQ_BUILD_FROM_SOURCE=1 passes over it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nanopq-prebuilt-'));
    fs.cpSync(pkg, dir, { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    const prebuilds = path.join(dir, 'prebuilds', `${process.platform}-${process.arch}`);
    fs.mkdirSync(prebuilds, { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'build', 'Release', 'nanopq.node'), path.join(prebuilds, 'nanopq.glibc.node'));
    const used = install(dir, missing);
    expect(used.status).toBe(0);
    expect(used.stdout).toBe(`nanopq: using the prebuilt addon ${path.join('prebuilds', `${process.platform}-${process.arch}`, 'nanopq.glibc.node')} ` +
      `for ${target} (Faiss and OpenBLAS linked in; NANOPQ_BUILD_FROM_SOURCE=1 builds against your own)\n`);
    const passed = install(dir, { ...missing, NANOPQ_BUILD_FROM_SOURCE: '1' });
    expect(passed.status).toBe(1);
    expect(passed.stderr).toMatch('Faiss was not found');
  });

  test('CMakeLists.txt and binding.gyp ask the same finder', () => {
    expect(fs.readFileSync(path.join(ROOT, 'CMakeLists.txt'), 'utf8')).toMatch('scripts/find-faiss.js');
    const gyp = fs.readFileSync(path.join(ROOT, 'binding.gyp'), 'utf8');
    expect(gyp).toMatch('node scripts/find-faiss.js include');
    expect(gyp).toMatch('node scripts/find-faiss.js libs');
    expect(fs.readFileSync(path.join(ROOT, 'CMakeLists.txt'), 'utf8')).not.toMatch(/find_package\(faiss|find_library\(FAISS/);
  });
});

test('the packed package holds what installing and using it needs, and no build or test files', () => {
  const [{ files }] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' }));
  const paths = files.map((f) => f.path);
  expect(paths).toEqual(expect.arrayContaining([
    'LICENSE', 'README.md', 'CHANGELOG.md', 'package.json', 'docs/api.md', 'docs/troubleshooting.md', 'docs/format.md',
    'scripts/install.js', 'scripts/find-faiss.js', 'CMakeLists.txt', 'dist/index.js', 'dist/index.mjs',
    'dist/index.d.ts', 'dist/index.d.mts', 'native/addon.cc',
  ]));
  expect(paths.filter((p) => /^(build|test|node_modules)\/|\.tgz$/.test(p))).toEqual([]);
  // binding.gyp builds the prebuilt addons only. Installed, npm would list its default
  // `node-gyp rebuild` as the install script on a second install (from the lockfile, which
  // keeps no scripts: npm 11's @npmcli/arborist install-scripts.js); installs build with cmake-js.
  expect(paths).not.toContain('binding.gyp');
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  expect(pkg.license).toBe('MIT');
  expect(fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
  expect(pkg.scripts.install).toBe('node scripts/install.js');
  // The build tools are optional peers: an install that uses a prebuilt addon pulls none of them.
  expect(Object.keys(pkg.dependencies)).toContain('node-gyp-build');
  for (const tool of ['cmake-js', 'node-addon-api']) {
    expect(Object.keys(pkg.dependencies)).not.toContain(tool);
    expect(pkg.peerDependenciesMeta[tool]).toEqual({ optional: true });
    expect(pkg.devDependencies[tool]).toBe(pkg.peerDependencies[tool]);
  }
  expect(pkg.scripts.prepack).toBe('node scripts/prepack.js');
});
