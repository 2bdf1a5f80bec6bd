#!/usr/bin/env bash
# Memory of cached user states in `driftrec serve` (bench/state_memory.cpp): writes
# bench/results/state_memory.json.   bench/state_memory.sh [users=1000000] [events_per_user=5] [model=ials]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BENCH_BIN_DIR:-build/bench}/bench_state_memory
mkdir -p bench/results
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$bin" "${1:-1000000}" "${2:-5}" "${3:-ials}" > "$tmp"
python3 - "$tmp" "bench/state_memory.sh $*" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["binary_command"] = r.pop("command")
r["command"] = sys.argv[2].strip()
json.dump(r, open("bench/results/state_memory.json", "w"), indent=2)
print(json.dumps(r, indent=2))
PY
