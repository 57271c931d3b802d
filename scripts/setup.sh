#!/usr/bin/env bash
# Brings a Debian/Ubuntu machine to a built checkout: installs the system
# packages nanopq builds on (Faiss, BLAS, a compiler) and those its tests and
# demo use (Python Faiss as the reference, Fashion-MNIST as real data), then
# installs the npm dependencies, which builds the addon (from source, in a
# checkout) and the TypeScript.
set -euo pipefail
cd "$(dirname "$0")/.."

# gfortran (for its libgfortran-N-dev) for scripts/prebuild.sh, which links
# OpenBLAS's LAPACK into the prebuilt addon; python3 for node-gyp.
packages=(libfaiss-dev libopenblas-dev cmake g++ make gfortran python3 python3-faiss dataset-fashion-mnist)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
fi

npm ci
