#!/usr/bin/env bash
# Off-policy estimator throughput on one core (see bench/ope_throughput.cpp).
# Writes bench/results/ope_throughput.json.   bench/ope_throughput.sh [rows=5000000]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-5000000}
b=${BENCH_DIR:-build/bench}/bench_ope_throughput
[[ -x $b ]] || { echo "build first: cmake --build build --target bench_ope_throughput" >&2; exit 1; }
mkdir -p bench/results
taskset -c 0 "$b" "$rows" bench/results/ope_throughput.json
python3 bench/provenance.py bench/results/ope_throughput.json --command "bench/ope_throughput.sh $*" \
  --note "synthetic log generated in the benchmark (seeded): 34 actions, 3 positions, Thompson-sampling propensities"
