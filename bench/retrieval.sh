#!/usr/bin/env bash
# Exact vs FAISS HNSW retrieval (bench/retrieval.cpp): writes bench/results/retrieval.json.
#   bench/retrieval.sh [items=200000] [dim=64] [queries=1000]
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
"${BENCH_BIN_DIR:-build/bench}/bench_retrieval" "${1:-200000}" "${2:-64}" "${3:-1000}" > bench/results/retrieval.json
bench/provenance.py bench/results/retrieval.json --command "bench/retrieval.sh $*"
cat bench/results/retrieval.json
