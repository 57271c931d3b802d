#!/usr/bin/env bash
# linux-arm64 on an x64 Debian 12 machine: the cross-build of the prebuilt
# addon, and Debian's arm64 Node (18.20, N-API 9: it loads the same addon)
# run by qemu-user, unpacked into a folder rather than installed over the
# machine's own Node. No speed is measured this way: emulation is not the CPU.
#   scripts/arm64.sh setup        apt packages (cross compiler, Faiss and OpenBLAS for arm64,
#                                 qemu-user-static), the arm64 Node, and binfmt_misc, through
#                                 which a child process of the arm64 Node runs under qemu too
#   scripts/arm64.sh node ARGS    runs the arm64 Node
#   scripts/arm64.sh check        CI: builds prebuilds/linux-arm64 (when stale), then under qemu
#                                 the smoke test and the suites below, with NANOPQ_SIMD=neon
#                                 and generic
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

cache="${XDG_CACHE_HOME:-$HOME/.cache}/nanopq/arm64"
node_root="$cache/root"
# Debian 12's arm64 Node and what it loads from /usr/share/nodejs (its externalized builtins).
node_debs=(nodejs:arm64 libnode108:arm64 node-acorn node-cjs-module-lexer node-undici)
node_libs=(libbrotli1:arm64 libc-ares2:arm64 libicu72:arm64 libnghttp2-14:arm64 libssl3:arm64 libuv1:arm64 zlib1g:arm64)
# The arm64 prebuilt addon's build: cross compiler, and Faiss and OpenBLAS (with libgomp and libgfortran) for arm64.
build_packages=(crossbuild-essential-arm64 libfaiss-dev:arm64 libopenblas-dev:arm64 qemu-user-static)

arm_node() {
  QEMU_LD_PREFIX="$node_root" LD_LIBRARY_PATH="$node_root/usr/lib/aarch64-linux-gnu" "$node_root/usr/bin/node" "$@"
}

setup() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  dpkg --print-foreign-architectures | grep -qx arm64 || $sudo dpkg --add-architecture arm64
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${build_packages[@]}" "${node_libs[@]}"
  if [ ! -x "$node_root/usr/bin/node" ]; then
    local debs
    debs=$(mktemp -d)
    chmod 755 "$debs"  # apt-get download fetches as the _apt user
    (cd "$debs" && apt-get download "${node_debs[@]}")
    mkdir -p "$node_root"
    for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$node_root"; done
    rm -rf "$debs"
  fi
  # Child processes (tests spawn Node) find qemu through binfmt_misc, with the
  # interpreter opened now (flag F), as Debian's qemu-user-static registers it.
  if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    $sudo mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  fi
  if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    $sudo sh -c 'cat /usr/lib/binfmt.d/qemu-aarch64.conf > /proc/sys/fs/binfmt_misc/register'
  fi
  echo "arm64: Node $(arm_node -p 'process.version + " " + process.arch') under qemu"
}

# The suites that run on arm64 under qemu, where a suite takes 5 to 40 times as
# long as on the CPU; parity, nearest and packed run the NEON and the plain
# kernels each, and opq runs again with the plain ones. Left out here
# (they run on x64), for their time under emulation: Faiss's own training of
# large indexes, the fit over every thread count and OpenBLAS kernel family
# (x86's), and the forks during a Faiss training. The workers run 2 rounds.
suites=(test/parity.test.js test/nearest.test.js test/packed.test.js test/pq.test.js test/opq.test.js
  test/serving.test.js test/faiss.test.js test/workers.test.js)
slow='either family of OpenBLAS kernels|trainAsync, addAsync and searchAsync give what the sync calls give|'
slow+='OPQMatrix: Faiss trains a rotation|IndexPreTransform trains its chain and its index|nbits 16: codes unpacked|'
slow+='large batches go to Faiss in blocks|child processes spawned while Faiss trains|'
slow+='while an async call changes an index, every other call on it and its parts is refused'

check() {
  cd "$repo"
  node scripts/prepack.js > /dev/null
  local addon="$PWD/prebuilds/linux-arm64/nanopq.glibc.node"
  NANOPQ_ADDON="$addon" arm_node scripts/smoke.js
  local jest=(arm_node node_modules/.bin/jest -t "^(?!.*($slow))")
  echo "arm64: the suites with the NEON kernels"
  NANOPQ_ADDON="$addon" NANOPQ_SIMD=neon NANOPQ_TEST_WORKER_ROUNDS=2 "${jest[@]}" "${suites[@]}"
  echo "arm64: opq with the plain kernels"
  NANOPQ_ADDON="$addon" NANOPQ_SIMD=generic "${jest[@]}" test/opq.test.js
}

case "${1:-}" in
  setup) setup ;;
  node) shift; arm_node "$@" ;;
  check) check ;;
  *) echo "usage: scripts/arm64.sh setup|node ARGS|check" >&2; exit 1 ;;
esac
