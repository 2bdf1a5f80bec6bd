#!/usr/bin/env bash
# Per-request cost of serving the loop, in process (see bench/serve_policy.cpp), pinned to one core.
# Writes bench/results/serve_policy.json.   bench/serve_policy.sh
set -euo pipefail
cd "$(dirname "$0")/.."
b=${BENCH_DIR:-build/bench}/bench_serve_policy
[[ -x $b ]] || { echo "build first: cmake --build build --target bench_serve_policy" >&2; exit 1; }
mkdir -p bench/results
taskset -c 1 "$b" bench/results/serve_policy.json
python3 bench/provenance.py bench/results/serve_policy.json --command "bench/serve_policy.sh $*" \
  --note "synthetic world generated in the benchmark (ecommerce, 2,000 users, 5,000 items, seed 42); ials 64 factors"
