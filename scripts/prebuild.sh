#!/usr/bin/env bash
# Builds the prebuilt addon that the npm package carries for linux-x64 (glibc),
# prebuilds/linux-x64/nanopq.napi.glibc.node, with prebuildify (node-gyp and
# binding.gyp): Faiss and OpenBLAS linked in statically, and beside it the GCC
# runtimes that cannot be (OpenMP, gfortran for OpenBLAS's LAPACK), found
# through the addon's $ORIGIN rpath. A machine that installs the package then
# needs no compiler, Faiss or BLAS. Needs what scripts/setup.sh installs
# (libfaiss-dev, libopenblas-dev, libgfortran-12-dev, g++).
# node-gyp rebuilds build/ (node-gyp-build then loads build/Release first):
# run `npm run build:native` afterwards for a development build.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/system-libs.sh

artifacts=$(mktemp -d)
trap 'rm -rf "$artifacts"' EXIT
for lib in libgomp.so.1 libgfortran.so.5 libquadmath.so.0; do
  cp -L "$(gcc -print-file-name=$lib)" "$artifacts/$lib"
done
rm -rf prebuilds
NANOPQ_STATIC=1 npx prebuildify --napi --strip --tag-libc --artifacts "$artifacts"

# What the prebuilt addon needs: only glibc, libstdc++/libgcc and what ships beside it.
addon=$(ls prebuilds/linux-x64/*.node)
needed=$(readelf -d "$addon" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
echo "prebuild: $addon needs $needed"
for lib in $needed; do
  system_lib "$lib" || [ -f "prebuilds/linux-x64/$lib" ] || { echo "prebuild: $lib is neither glibc's nor shipped" >&2; exit 1; }
done
readelf -d "$addon" | grep -q 'Flags:.*NODELETE' || { echo "prebuild: the addon lost -z nodelete" >&2; exit 1; }
