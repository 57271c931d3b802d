#!/usr/bin/env node
// npm's `prepack` step (npm pack, npm publish; never an install, not even of
// a git dependency, for which npm runs `prepare` alone): the release tarball
// carries the prebuilt addons of linux-x64 and linux-arm64, so it builds
// (scripts/prebuild.sh) each that is missing, or older than the native
// sources. When one cannot be built, the pack fails, saying why: a tarball
// without them would build from source on every machine that installs it.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const ARCHS = ['x64', 'arm64'];

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`nanopq: prepack: ${[cmd, ...args].map((a) => path.basename(a)).join(' ')} failed; the package was not packed`);
    process.exit(r.status ?? 1);
  }
}

/** The newest modification time of what a prebuilt addon is built from. */
function sourcesTime() {
  const files = ['binding.gyp', 'scripts/find-faiss.js', 'scripts/prebuild.sh'].map((f) => path.join(root, f));
  for (const entry of fs.readdirSync(path.join(root, 'native'), { recursive: true, withFileTypes: true }))
    if (entry.isFile()) files.push(path.join(entry.parentPath ?? entry.path, entry.name));
  return Math.max(...files.map((f) => fs.statSync(f).mtimeMs));
}

// The checkout's dependencies (prebuildify, node-gyp) and dist/, as `prepare` makes them.
run(process.execPath, [path.join(__dirname, 'prepare.js')]);
const newest = sourcesTime();
const stale = ARCHS.filter((arch) => {
  const addon = path.join(root, 'prebuilds', `linux-${arch}`, 'nanopq.glibc.node');
  return !fs.existsSync(addon) || fs.statSync(addon).mtimeMs < newest;
});
if (stale.length > 0) {
  console.log(`nanopq: prepack: building the prebuilt addon for ${stale.map((a) => `linux-${a}`).join(' and ')}`);
  run(path.join(__dirname, 'prebuild.sh'), stale);
}
for (const arch of ARCHS) console.log(`nanopq: prepack: prebuilds/linux-${arch}/nanopq.glibc.node is packed`);
