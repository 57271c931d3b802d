#!/usr/bin/env node
// Finds Faiss: the one place both builds ask (CMakeLists.txt through
// execute_process, binding.gyp through <!()), and the install step before
// either, so that all three agree and a missing Faiss is said once.
// Looks in FAISS_ROOT alone when it is set (a wrong one is said, not passed
// over for another Faiss), else in CMAKE_PREFIX_PATH, CONDA_PREFIX, /usr/local, /usr.
//   node scripts/find-faiss.js           -> one line: which Faiss (exit 1 and what to do if none)
//   node scripts/find-faiss.js include   -> the include directory
//   node scripts/find-faiss.js libs      -> linker arguments (space-separated)
// NANOPQ_STATIC=1: link the BLAS statically too, for the prebuilt addon
// (scripts/prebuild.sh), which must need nothing but glibc, libstdc++ and the
// GCC runtimes shipped beside it.
const fs = require('node:fs');
const path = require('node:path');

const roots = process.env.FAISS_ROOT ? [process.env.FAISS_ROOT] : [
  ...(process.env.CMAKE_PREFIX_PATH || '').split(path.delimiter),
  process.env.CONDA_PREFIX,
  '/usr/local',
  '/usr',
].filter(Boolean);
// The target's architecture: prebuildify names it (PREBUILD_ARCH) when it cross-builds.
const arch = process.env.PREBUILD_ARCH || process.arch;
const multiarch = `${arch === 'x64' ? 'x86_64' : 'aarch64'}-linux-gnu`;
const libDirs = (root) => [path.join(root, 'lib'), path.join(root, 'lib', multiarch), path.join(root, 'lib64')];

function find() {
  for (const root of roots) {
    const include = path.join(root, 'include');
    if (!fs.existsSync(path.join(include, 'faiss', 'IndexPQ.h'))) continue;
    for (const dir of libDirs(root)) {
      for (const name of ['libfaiss.so', 'libfaiss.dylib', 'libfaiss.a']) {
        if (fs.existsSync(path.join(dir, name))) return { include, dir, lib: path.join(dir, name) };
      }
    }
  }
  return null;
}

function version(include) {
  const header = fs.readFileSync(path.join(include, 'faiss', 'Index.h'), 'utf8');
  const part = (name) => (header.match(new RegExp(`#define FAISS_VERSION_${name}\\s+(\\d+)`)) || [])[1];
  return ['MAJOR', 'MINOR', 'PATCH'].map(part).filter(Boolean).join('.') || 'of unknown version';
}

function libs(found) {
  if (!found.lib.endsWith('.a')) return [`-L${found.dir}`, `-Wl,-rpath,${found.dir}`, '-lfaiss', '-fopenmp'];
  // A static libfaiss needs the BLAS/LAPACK and OpenMP it was built with.
  if (process.env.NANOPQ_STATIC !== '1') return [found.lib, '-llapack', '-lblas', '-fopenmp'];
  // OpenBLAS (with its LAPACK) linked in, its symbols kept inside the addon so
  // that they never meet another BLAS. GCC's OpenMP and gfortran runtimes cannot
  // be (their .a are not position-independent): scripts/prebuild.sh ships them
  // beside the addon, which finds them through its $ORIGIN rpath (binding.gyp):
  // an RPATH, not a RUNPATH, so that it serves libgfortran's own libquadmath too.
  // libgfortran by its file name: a cross-build's arm64 folder holds the runtime, not the -dev link.
  return [found.lib, '-Wl,-Bstatic', '-lopenblas', '-Wl,-Bdynamic', '-lgomp', '-l:libgfortran.so.5',
    '-lpthread', '-Wl,--exclude-libs,ALL', '-Wl,--disable-new-dtags'];
}

const found = find();
if (!found) {
  console.error([
    `nanopq: Faiss was not found (looked for include/faiss/IndexPQ.h and lib/libfaiss.* in ${roots.join(', ')}). Install it, then install nanopq again:`,
    '  Debian/Ubuntu: sudo apt-get install libfaiss-dev libopenblas-dev cmake g++',
    '  conda:         conda install -c pytorch faiss-cpu, then FAISS_ROOT=$CONDA_PREFIX npm install',
    '  elsewhere:     FAISS_ROOT=<prefix holding include/faiss and lib/libfaiss.*> npm install',
  ].join('\n'));
  process.exit(1);
}
const mode = process.argv[2];
if (mode === 'include') console.log(found.include);
else if (mode === 'libs') console.log(libs(found).join(' '));
else console.log(`Faiss ${version(found.include)} (${found.lib})`);
