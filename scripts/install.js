#!/usr/bin/env node
// npm's `install` step. Uses the prebuilt addon that node-gyp-build picks in
// prebuilds/ for this platform, architecture and libc, when it loads;
// otherwise, or with NANOPQ_BUILD_FROM_SOURCE=1, builds it from the system
// Faiss with cmake-js. The build tools (cmake-js, node-addon-api) are optional
// peer dependencies, so that an install that uses the prebuilt addon pulls
// none: a project that builds from source installs them beside nanopq. Says
// in one line which it did (npm shows it with --foreground-scripts), and on
// failure says why once, without CMake's pages.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const rel = (file) => path.relative(root, file);
// NANOPQ_BUILD_FROM_SOURCE=1 (an environment variable: npm 11 warns that it
// will stop passing unknown configs such as --build-from-source); and a
// checkout that has built before (build/ exists) rebuilds, so that changed
// sources are compiled.
const fromSource = process.env.NANOPQ_BUILD_FROM_SOURCE === '1' || fs.existsSync(path.join(root, 'build'));
const target = `${process.platform}-${process.arch}${process.platform === 'linux' ? ` (${libc()})` : ''}`;

/** glibc or musl, as node-gyp-build tells them apart. */
function libc() {
  return fs.existsSync('/etc/alpine-release') ? 'musl' : 'glibc';
}

/** The module `name` as Node resolves it from nanopq's folder (beside it in a project), or null. */
function resolve(name) {
  try {
    return require.resolve(name, { paths: [root] });
  } catch {
    return null;
  }
}

function loadable() {
  let file;
  try {
    file = require('node-gyp-build').path(root);
  } catch {
    return null;  // none for this platform, architecture and libc
  }
  try {
    require(file);
    return file;
  } catch (err) {
    console.log(`nanopq: ${rel(file)} does not load here (${err.message.split('\n')[0]}); building from source`);
    return null;
  }
}

const found = fromSource ? null : loadable();
if (found) {
  console.log(`nanopq: using the prebuilt addon ${rel(found)} for ${target} (Faiss and OpenBLAS linked in; NANOPQ_BUILD_FROM_SOURCE=1 builds against your own)`);
  process.exit(0);
}

// Faiss first: when it is missing, its one message says what to install.
const faiss = spawnSync(process.execPath, [path.join(__dirname, 'find-faiss.js')], { encoding: 'utf8' });
if (faiss.status !== 0) {
  process.stderr.write(faiss.stderr);
  process.exit(1);
}
// Then the build tools, which a project that builds from source installs.
const why = fromSource ? 'building from source' : `no prebuilt addon for ${target}: building from source`;
const cmakeJsPackage = resolve('cmake-js/package.json');
if (!cmakeJsPackage || !resolve('node-addon-api')) {
  console.error([
    `nanopq: ${why} needs cmake-js and node-addon-api beside nanopq (they are optional peer dependencies):`,
    '  npm install cmake-js node-addon-api, then npm rebuild nanopq',
  ].join('\n'));
  process.exit(1);
}
const cmakeJs = path.join(path.dirname(cmakeJsPackage), 'bin', 'cmake-js');
const build = spawnSync(process.execPath, [cmakeJs, 'compile'], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
const log = `${build.stdout ?? ''}${build.stderr ?? ''}`;
if (build.status !== 0) {
  fs.mkdirSync(path.join(root, 'build'), { recursive: true });
  const logFile = path.join(root, 'build', 'install.log');
  fs.writeFileSync(logFile, log);
  // The lines that say what went wrong, once each, without cmake-js's "OMG" prefix.
  const errors = [...new Set(log.split('\n')
    .filter((l) => /error|not found|not available|No such file/i.test(l) && !/Process terminated/.test(l))
    .map((l) => l.replace(/^(ERR!|ERROR) OMG /, '').trim()))];
  console.error([
    `nanopq: building the native addon against ${faiss.stdout.trim()} failed${build.error ? ` (${build.error.message})` : ''}:`,
    ...errors.slice(0, 12).map((l) => `  ${l}`),
    `The full output is in ${logFile}; docs/troubleshooting.md explains the usual causes.`,
  ].join('\n'));
  process.exit(1);
}
console.log(`nanopq: built build/Release/nanopq.node from source against ${faiss.stdout.trim()}`);
