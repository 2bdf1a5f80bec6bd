#!/usr/bin/env bash
# Evaluation at scale: 100k users x 100k items, full ranking with seen items excluded, on this
# machine's cores. Reports wall time and peak memory of `driftrec evaluate` (GNU time) and writes
# bench/results/eval_scale.json.   bench/eval_scale.sh [users] [items]
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-100000}
items=${2:-100000}
bin=build/driftrec
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
$bin --log-level warn synth --preset ecommerce --users "$users" --items "$items" --events-per-user 20 --seed 1 --out "$work/data" > /dev/null
$bin --log-level warn train --data "$work/data" --model ials --set factors=64 --set iterations=1 --no-validation --out "$work/m" > /dev/null
/usr/bin/time -f '%e %M' -o "$work/time.txt" $bin --log-level warn evaluate --model "$work/m" --data "$work/data" --json "$work/eval.json" > /dev/null
read -r secs kb < "$work/time.txt"
mkdir -p bench/results
python3 - "$work/eval.json" "$secs" "$kb" "$users" "$items" <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1]))
out = {"what": "driftrec evaluate, ials 64 factors, full ranking, seen excluded",
       "users": int(sys.argv[4]), "items": int(sys.argv[5]), "cases": r["users_evaluated"],
       "evaluate_seconds_inside": r["seconds"], "process_wall_seconds": float(sys.argv[2]),
       "peak_rss_mib": int(sys.argv[3]) / 1024, "cores": os.cpu_count(),
       "command": "bench/eval_scale.sh %s %s" % (sys.argv[4], sys.argv[5])}
json.dump(out, open("bench/results/eval_scale.json", "w"), indent=2)
print(json.dumps(out, indent=2))
PY
# Command, data fingerprints, commit and date into the results file.
bench/provenance.py bench/results/eval_scale.json --command "bench/eval_scale.sh $users $items" \
  --data "driftrec synth --preset ecommerce --users $users --items $items --events-per-user 20 --seed 1=$work/data"
