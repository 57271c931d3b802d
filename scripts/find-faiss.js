#!/usr/bin/env node
// Finds Faiss for binding.gyp (CMakeLists.txt uses find_package instead).
// Looks in FAISS_ROOT, then CONDA_PREFIX, then /usr/local and /usr.
//   node scripts/find-faiss.js include   -> the include directory
//   node scripts/find-faiss.js libs      -> linker arguments
const fs = require('node:fs');
const path = require('node:path');

const roots = [process.env.FAISS_ROOT, process.env.CONDA_PREFIX, '/usr/local', '/usr'].filter(Boolean);
const libDirs = (root) => [path.join(root, 'lib'), path.join(root, 'lib', `${process.arch === 'x64' ? 'x86_64' : 'aarch64'}-linux-gnu`)];

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

const found = find();
if (!found) {
  console.error('nanopq: Faiss was not found (looked in ' + roots.join(', ') + ').\n' +
    '  Debian/Ubuntu: sudo apt-get install libfaiss-dev libopenblas-dev cmake g++\n' +
    '  conda:         conda install -c pytorch faiss-cpu, then FAISS_ROOT=$CONDA_PREFIX');
  process.exit(1);
}
if (process.argv[2] === 'include') {
  console.log(found.include);
} else {
  // A static libfaiss needs the BLAS/LAPACK and OpenMP it was built with.
  const libs = found.lib.endsWith('.a')
    ? [found.lib, '-llapack', '-lblas', '-fopenmp']
    : [`-L${found.dir}`, `-Wl,-rpath,${found.dir}`, '-lfaiss', '-fopenmp'];
  console.log(libs.join(' '));
}
