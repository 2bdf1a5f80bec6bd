#!/usr/bin/env bash
# Exact vs FAISS HNSW retrieval (bench/retrieval.cpp): writes bench/results/retrieval.json.
#   bench/retrieval.sh [items=200000] [dim=64] [queries=1000]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BENCH_BIN_DIR:-build/bench}/bench_retrieval
mkdir -p bench/results
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$bin" "${1:-200000}" "${2:-64}" "${3:-1000}" > "$tmp"
python3 - "$tmp" "bench/retrieval.sh $*" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["binary_command"] = r.pop("command")
r["command"] = sys.argv[2].strip()
json.dump(r, open("bench/results/retrieval.json", "w"), indent=2)
print(json.dumps(r, indent=2))
PY
