#!/usr/bin/env bash
# Builds the addon with AddressSanitizer and UndefinedBehaviorSanitizer into
# build-sanitize/ and runs the whole jest suite against it, then 30 s of
# inputs changing under calls (scripts/stress.js): any invalid read or write,
# or undefined behaviour, stops the run with a report.
#   ./scripts/sanitize.sh [jest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

npx cmake-js compile --out build-sanitize --CDNANOPQ_SANITIZE=ON

# Node itself is not built with ASan: the runtime is preloaded, and leak
# reports (Node's own allocations at exit) are off.
export LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
# A smaller quarantine of freed memory than the default 256 MB, so that the
# tests bounding memory growth hold under ASan too.
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:quarantine_size_mb=64"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export NANOPQ_ADDON="$PWD/build-sanitize/Release/nanopq.node"
npx jest "$@"
node scripts/stress.js 30
