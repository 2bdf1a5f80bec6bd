#!/usr/bin/env bash
# Memory of cached user states in `driftrec serve` (bench/state_memory.cpp): writes
# bench/results/state_memory.json.   bench/state_memory.sh [users=1000000] [events_per_user=5] [model=ials]
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
"${BENCH_BIN_DIR:-build/bench}/bench_state_memory" "${1:-1000000}" "${2:-5}" "${3:-ials}" > bench/results/state_memory.json
bench/provenance.py bench/results/state_memory.json --command "bench/state_memory.sh $*"
cat bench/results/state_memory.json
