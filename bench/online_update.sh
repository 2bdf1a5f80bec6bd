#!/usr/bin/env bash
# Online-update and single-request latency of the classic models (bench/online_update.cpp):
# writes bench/results/online_update.json (Google Benchmark JSON; its context holds the data
# fingerprint and the model configs).   bench/online_update.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
${BENCH_BIN_DIR:-build/bench}/bench_online_update --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_out=bench/results/online_update.json
bench/provenance.py bench/results/online_update.json --command "bench/online_update.sh"
