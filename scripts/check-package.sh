#!/usr/bin/env bash
# The package as a user gets it: packs this checkout once (`npm pack`, whose
# prepack builds the prebuilt addons that are missing: scripts/prepack.js)
# and, for each mode given, installs the tarball into a fresh temporary
# project with npm's strictest script policy and runs a CommonJS and an ES
# module consumer there (test/consumer/), and on x64 a strict TypeScript one
# (test/types/, the TypeScript of today from the registry).
#   scripts/check-package.sh prebuilt   # x64: the install must use the prebuilt addon and pull no build tooling
#   scripts/check-package.sh source     # NANOPQ_BUILD_FROM_SOURCE=1, with cmake-js and node-addon-api: built against the system Faiss
#   scripts/check-package.sh arm64      # npm and Node of arm64 under qemu (scripts/arm64.sh setup): the arm64 prebuilt addon
# Modes combine (`prebuilt source arm64`), from the one tarball.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source scripts/system-libs.sh
: "${1:?usage: check-package.sh prebuilt|source|arm64...}"
for mode in "$@"; do
  [[ $mode == prebuilt || $mode == source || $mode == arm64 ]] || { echo "check-package: no mode '$mode' (prebuilt, source, arm64)" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball=$(npm pack --silent --pack-destination "$work" | tail -1)
echo "check-package: $tarball, $(du -h "$work/$tarball" | cut -f1)"
tar -tzf "$work/$tarball" > "$work/files"
for arch in x64 arm64; do
  grep -qx "package/prebuilds/linux-$arch/nanopq.glibc.node" "$work/files" || { echo "check-package: no linux-$arch prebuilt addon in the tarball" >&2; exit 1; }
done

# npm install ARGS... in the current folder, with the tarball's install script
# approved by its identity (its absolute path, as `npm approve-scripts` writes
# it), as a user does; keeps what nanopq's install step said in install.log.
npm_install() {
  cat > package.json <<JSON
{ "name": "consumer", "private": true, "allowScripts": { "file:$work/$tarball": true } }
JSON
  "${npm[@]}" install --strict-allow-scripts --foreground-scripts --no-audit --no-fund "$@" 2>&1 | tee install.log | grep '^nanopq:' || true
}

# Asserts that install.log has the line that starts $1.
said() {
  grep -q "^$1" install.log || { echo "check-package: the install did not say '$1':" >&2; cat install.log >&2; exit 1; }
}

for mode in "$@"; do
  echo "check-package: $mode"
  project="$work/consumer-$mode"
  mkdir "$project"
  cp test/consumer/* "$project/"
  cd "$project"
  npm=(npm)
  case "$mode" in
    prebuilt)
      npm_install "$work/$tarball"
      said 'nanopq: using the prebuilt addon prebuilds/linux-x64/'
      # A lean install: nanopq and its run-time dependencies, no build tooling.
      for tool in cmake-js node-addon-api node-gyp; do
        [ ! -e "node_modules/$tool" ] || { echo "check-package: the install pulled $tool" >&2; exit 1; }
      done
      echo "check-package: installed: $(npm ls --all --parseable | tail -n +2 | wc -l) packages, $(du -sh node_modules | cut -f1) in node_modules"
      ;;
    source)
      NANOPQ_BUILD_FROM_SOURCE=1 npm_install "$work/$tarball" cmake-js node-addon-api
      said 'nanopq: built build/Release/nanopq.node from source against Faiss'
      ;;
    arm64)
      # npm's own JavaScript, run by the arm64 Node; `node` in scripts is that Node too.
      node_bin="$work/arm64-bin"
      mkdir -p "$node_bin"
      printf '#!/bin/sh\nexec "%s" node "$@"\n' "$root/scripts/arm64.sh" > "$node_bin/node"
      chmod +x "$node_bin/node"
      npm=(env "PATH=$node_bin:$PATH" "$node_bin/node" "$(npm root -g)/npm/bin/npm-cli.js")
      npm_install "$work/$tarball"
      said 'nanopq: using the prebuilt addon prebuilds/linux-arm64/nanopq.glibc.node for linux-arm64 (glibc)'
      "$node_bin/node" cjs.js
      "$node_bin/node" esm.mjs
      cd "$root"
      continue
      ;;
  esac

  node cjs.js
  node esm.mjs
  cp "$root"/test/types/* .
  npm install --no-audit --no-fund --no-save typescript@latest > /dev/null
  npx tsc -v
  npx tsc -p tsconfig.json
  npx tsc -p tsconfig.dom.json
  echo "check-package: typescript: ok"
  if [ "$mode" = prebuilt ]; then
    # Nothing from the system but glibc and the C++ runtime (scripts/system-libs.sh): no Faiss, BLAS or OpenMP.
    addon=$(ls node_modules/nanopq/prebuilds/linux-x64/*.node)
    unexpected=$(ldd "$addon" | while read -r line; do
      [[ $line == */prebuilds/linux-x64/* ]] || system_lib "${line%% *}" || echo "$line"
    done)
    if [ -n "$unexpected" ]; then
      echo "$unexpected"
      echo "check-package: the prebuilt addon needs the libraries above from the system" >&2
      exit 1
    fi
    # OpenMP in worker threads that exit and are terminated, and the same model
    # whatever the thread count (its static OpenBLAS's threads are set through
    # weak symbols: dlsym cannot see them), with the prebuilt addon.
    (cd "$root" && NANOPQ_ADDON="$project/$addon" npx jest test/workers.test.js test/pq.test.js -t 'worker|whatever the number of threads')
  fi
  cd "$root"
done
