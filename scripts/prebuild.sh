#!/usr/bin/env bash
# Builds the prebuilt addons that the npm package carries, for linux-x64 and
# linux-arm64 (glibc): prebuilds/linux-<arch>/nanopq.glibc.node, with
# prebuildify (node-gyp and binding.gyp), arm64 cross-built on x64. Faiss and
# OpenBLAS (its kernels for every CPU of the architecture) are linked in
# statically; beside the addon ship the GCC runtimes that cannot be (OpenMP,
# gfortran for OpenBLAS's LAPACK), found through its $ORIGIN rpath. A machine
# that installs the package then needs no compiler, Faiss or BLAS.
#   scripts/prebuild.sh              both architectures
#   scripts/prebuild.sh x64|arm64    one
# Needs what scripts/setup.sh installs (libfaiss-dev, libopenblas-dev,
# gfortran, g++), and for arm64 what `scripts/arm64.sh setup` adds
# (crossbuild-essential-arm64, libfaiss-dev:arm64, libopenblas-dev:arm64).
# Each is built in a copy of the sources, so that the checkout's own build/
# (a development build, which node-gyp-build loads first) is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/system-libs.sh

host=$(node -p process.arch)
archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=(x64 arm64)

# The file of library $2 for target triplet $1: the compiler's, else the multiarch directory's.
runtime_lib() {
  local file
  file=$("$1-gcc" -print-file-name="$2")
  [ -f "$file" ] || file="/usr/lib/$1/$2"
  [ -f "$file" ] || { echo "prebuild: $2 for $1 is missing (scripts/setup.sh installs it; for arm64, scripts/arm64.sh setup)" >&2; exit 1; }
  echo "$file"
}

build() {
  local arch=$1 triplet
  case "$arch" in
    x64) triplet=x86_64-linux-gnu ;;
    arm64) triplet=aarch64-linux-gnu ;;
    *) echo "prebuild: unknown architecture $arch (x64 or arm64)" >&2; exit 1 ;;
  esac
  if ! command -v "$triplet-g++" > /dev/null || [ ! -f "/usr/lib/$triplet/libfaiss.a" ]; then
    local setup=scripts/setup.sh
    [ "$arch" = x64 ] || setup="scripts/arm64.sh setup"
    echo "prebuild: building for linux-$arch needs $triplet-g++ and libfaiss-dev:$arch; $setup installs them" >&2
    exit 1
  fi
  local env=()
  [ "$arch" = "$host" ] || env=(CC="$triplet-gcc" CXX="$triplet-g++" LINK="$triplet-g++" AR="$triplet-ar"
    PREBUILD_STRIP_BIN="$triplet-strip")

  # OpenMP and gfortran, and what gfortran needs that glibc does not give (libquadmath on x64).
  local artifacts
  artifacts=$(mktemp -d)
  local libs=(libgomp.so.1 libgfortran.so.5)
  for lib in $(readelf -d "$(runtime_lib "$triplet" libgfortran.so.5)" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
    system_lib "$lib" || libs+=("$lib")
  done
  for lib in "${libs[@]}"; do cp -L "$(runtime_lib "$triplet" "$lib")" "$artifacts/$lib"; done

  local src
  src=$(mktemp -d)
  cp -r package.json binding.gyp native scripts "$src/"
  ln -s "$PWD/node_modules" "$src/node_modules"
  (cd "$src" && env "${env[@]}" NANOPQ_STATIC=1 npx prebuildify --napi --strip --tag-libc --arch "$arch" --artifacts "$artifacts")
  rm -rf "prebuilds/linux-$arch"
  mkdir -p prebuilds
  mv "$src/prebuilds/linux-$arch" prebuilds/
  rm -rf "$artifacts" "$src"

  # What the prebuilt addon needs: only glibc, libstdc++/libgcc and what ships beside it.
  local addon needed
  addon=$(ls "prebuilds/linux-$arch"/*.node)
  needed=$(readelf -d "$addon" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
  echo "prebuild: $addon needs $needed"
  for lib in $needed; do
    system_lib "$lib" || [ -f "prebuilds/linux-$arch/$lib" ] || { echo "prebuild: $lib is neither glibc's nor shipped" >&2; exit 1; }
  done
  readelf -d "$addon" | grep -q 'Flags:.*NODELETE' || { echo "prebuild: the addon lost -z nodelete" >&2; exit 1; }
  # The oldest systems it loads on, as README states them: glibc 2.34, GCC 12's libstdc++.
  local newest
  for limit in GLIBC_2.34 GLIBCXX_3.4.30; do
    newest=$(objdump -T "$addon" "prebuilds/linux-$arch"/lib*.so.* | grep -o "${limit%_*}_[0-9.]*" | sort -Vu | tail -1)
    [ "$(printf '%s\n' "$newest" "$limit" | sort -V | tail -1)" = "$limit" ] ||
      { echo "prebuild: the addon needs $newest, newer than README's $limit" >&2; exit 1; }
  done
}

for arch in "${archs[@]}"; do build "$arch"; done
