#!/usr/bin/env bash
# The package as a user gets it: packs this checkout once (with the prebuilt
# addon when prebuilds/ holds one: scripts/prebuild.sh) and, for each mode
# given, installs the tarball into a fresh temporary project with npm's
# strictest script policy and runs a CommonJS, an ES module and a strict
# TypeScript consumer there (test/consumer/, test/types/, the TypeScript of
# today from the registry).
#   scripts/check-package.sh prebuilt          # the install must use the prebuilt addon
#   scripts/check-package.sh source            # --build-from-source: built against the system Faiss
#   scripts/check-package.sh prebuilt source   # both, from the one tarball
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source scripts/system-libs.sh
: "${1:?usage: check-package.sh prebuilt|source...}"
for mode in "$@"; do
  [[ $mode == prebuilt || $mode == source ]] || { echo "check-package: no mode '$mode' (prebuilt, source)" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball=$(npm pack --silent --pack-destination "$work" | tail -1)
echo "check-package: $tarball, $(du -h "$work/$tarball" | cut -f1)"

for mode in "$@"; do
  echo "check-package: $mode"
  project="$work/consumer-$mode"
  mkdir "$project"
  cp test/consumer/* "$project/"
  cp test/types/* "$project/"
  cd "$project"
  # The tarball's install script is approved by its identity (its absolute
  # path, as `npm approve-scripts` writes it), as a user does.
  cat > package.json <<JSON
{ "name": "consumer", "private": true, "allowScripts": { "file:$work/$tarball": true } }
JSON
  flags=(--strict-allow-scripts --foreground-scripts --no-audit --no-fund)
  [ "$mode" = source ] && flags+=(--build-from-source=nanopq)
  npm install "${flags[@]}" "$work/$tarball" typescript@latest 2>&1 | tee install.log | grep '^nanopq:' || true
  case "$mode" in
    prebuilt) grep -q '^nanopq: using the prebuilt addon prebuilds/linux-x64/' install.log ;;
    source) grep -q '^nanopq: built build/Release/nanopq.node from source against Faiss' install.log ;;
  esac || { echo "check-package: the install did not do what '$mode' expects:" >&2; cat install.log >&2; exit 1; }

  node cjs.js
  node esm.mjs
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
