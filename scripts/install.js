#!/usr/bin/env node
// npm's `install` step. Uses the prebuilt addon that node-gyp-build finds in
// prebuilds/ for this platform, architecture and libc, when it loads;
// otherwise, or with `npm install --build-from-source`, builds it from the
// system Faiss with cmake-js. Says in one line which it did (npm shows it with
// --foreground-scripts), and on failure says why once, without CMake's pages.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const rel = (file) => path.relative(root, file);
// `npm install --build-from-source` (every package), or `--build-from-source=nanopq`,
// as node-gyp-build reads it; and a checkout that has built before (build/
// exists) rebuilds, so that changed sources are compiled.
const flag = process.env.npm_config_build_from_source ?? '';
const fromSource = flag === 'true' || flag.split(',').includes('nanopq') || fs.existsSync(path.join(root, 'build'));

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
  console.log(`nanopq: using the prebuilt addon ${rel(found)} (Faiss and OpenBLAS linked in; --build-from-source=nanopq builds against your own)`);
  process.exit(0);
}

// Faiss first: when it is missing, its one message says what to install.
const faiss = spawnSync(process.execPath, [path.join(__dirname, 'find-faiss.js')], { encoding: 'utf8' });
if (faiss.status !== 0) {
  process.stderr.write(faiss.stderr);
  process.exit(1);
}
const cmakeJs = path.join(path.dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
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
