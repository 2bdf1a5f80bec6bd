#!/usr/bin/env bash
# Builds DriftRec and runs every test (unit, contract, CLI end-to-end) with CTest.
#   scripts/test.sh                 # normal build in build/
#   DRIFTREC_SANITIZE=1 scripts/test.sh   # ASan + UBSan build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
if [[ ${DRIFTREC_SANITIZE:-0} == 1 ]]; then
  dir=build-asan
  extra=(-DDRIFTREC_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DDRIFTREC_BUILD_BENCH=OFF)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  dir=build
  extra=()
fi
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
cmake -S . -B "$dir" "${generator[@]}" "${extra[@]}" > /dev/null
cmake --build "$dir" -j "$jobs"
cd "$dir"
ctest --output-on-failure -j "$jobs"
