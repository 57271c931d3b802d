// Finds and loads the native addon, once per process.
import * as path from 'node:path';
import type { Addon } from './addon';

/** The package root: this file is dist/core/load.js. */
const root = path.join(__dirname, '..', '..');

/**
 * The addon: NANOPQ_ADDON when set, else what node-gyp-build finds (a build in
 * build/Release, from cmake-js or node-gyp, else the prebuilt one in prebuilds/
 * for this platform, architecture and libc).
 */
function load(): Addon {
  let file = process.env.NANOPQ_ADDON;
  let error: Error | undefined;
  if (!file) {
    try {
      file = (require('node-gyp-build') as { path(dir: string): string }).path(root);
    } catch (err) {
      error = err as Error;
    }
  }
  if (file) {
    try {
      return require(file) as Addon;
    } catch (err) {
      error = err as Error;
    }
  }
  throw new Error([
    'nanopq could not load its native addon.',
    file ? `${file}: ${error!.message}` : `No build in ${path.join(root, 'build', 'Release')} and no prebuilt addon in ` +
      `${path.join(root, 'prebuilds')} for this machine (${error!.message.split('\n')[0]}).`,
    'Possible solutions:',
    '  - Install Faiss and a compiler, then rebuild:',
    '      Debian/Ubuntu: sudo apt-get install libfaiss-dev libopenblas-dev cmake g++',
    '      conda: conda install -c pytorch faiss-cpu, and set FAISS_ROOT=$CONDA_PREFIX',
    '    then run "npm rebuild nanopq --foreground-scripts" (or "npm run build" in a checkout).',
    '  - Set NANOPQ_ADDON to the path of a nanopq.node you built yourself.',
    '  - See docs/troubleshooting.md in the nanopq package.',
  ].join('\n'));
}

// Faiss parallelises with OpenMP and calls a BLAS with threads of its own;
// OpenMP's default busy-waiting between regions then starves the BLAS threads
// (k-means ran 2-3x slower on 2 cores). libgomp reads OMP_WAIT_POLICY once,
// as the addon loads it: set for that moment only, and a user's choice stands.
export function loadAddon(): Addon {
  if (process.env.OMP_WAIT_POLICY !== undefined) return load();
  process.env.OMP_WAIT_POLICY = 'PASSIVE';
  try {
    return load();
  } finally {
    delete process.env.OMP_WAIT_POLICY;
  }
}
