#!/usr/bin/env bash
# Wall time to reach validation NDCG@10 = TARGET on Beauty: DriftRec's `sasrec` vs the same model
# and loss in PyTorch (bench/sasrec_reference.py, sequences padded to max_len), same machine,
# same threads, validation after every epoch. Writes bench/results/speed_vs_pytorch.json.
#   bench/speed_vs_pytorch.sh [Beauty.txt] [target=0.05] [loss=softmax]
# Needs Debian's python3-torch (scripts/install-deps.sh --python).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/beauty/Beauty.txt}
target=${2:-0.05}
loss=${3:-softmax}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
common=(--set dropout=0.5 --set dim=64 --set layers=2 --set heads=1 --set max_len=50 --set lr=0.001 --set batch_size=128)
build/driftrec --threads 2 train --data "$data" --model sasrec --set loss="$loss" "${common[@]}" --set eval_every=1 \
  --set patience=1000 --set epochs=300 --out "$work/m" 2> "$work/driftrec.log" > /dev/null &
pid=$!
# Stop DriftRec once the target is reached (the first validation line at or above it).
drift_s=""
while kill -0 $pid 2> /dev/null; do
  drift_s=$( (grep -o 'seconds=[0-9.]* valid=[0-9.]*' "$work/driftrec.log" | awk -v t="$target" -F'[= ]' '$4 >= t {print $2; exit}') || true)
  if [[ -n $drift_s ]]; then kill $pid; break; fi
  sleep 2
done
wait $pid 2> /dev/null || true
/usr/bin/python3 bench/sasrec_reference.py --data "$data" --target "$target" --loss "$loss" --threads 2 > "$work/ref.log"
ref_s=$(tail -1 "$work/ref.log" | python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds_to_target"])')
mkdir -p bench/results
python3 - "$drift_s" "$ref_s" "$target" "$loss" "$data" <<'PY'
import json, sys
d = float(sys.argv[1]) if sys.argv[1] else None
r = float(sys.argv[2]) if sys.argv[2] not in ("", "None") else None
out = {"what": "wall seconds to validation NDCG@10 >= target, sasrec, 2 threads", "data": sys.argv[5],
       "target": float(sys.argv[3]), "loss": sys.argv[4], "driftrec_seconds": d, "pytorch_seconds": r,
       "speedup": (r / d) if d and r else None, "command": "bench/speed_vs_pytorch.sh %s %s %s" % (sys.argv[5], sys.argv[3], sys.argv[4])}
json.dump(out, open("bench/results/speed_vs_pytorch.json", "w"), indent=2)
print(json.dumps(out))
PY
# Command, data fingerprints, commit and date into the results file.
bench/provenance.py bench/results/speed_vs_pytorch.json --command "bench/speed_vs_pytorch.sh $data $target $loss" --data "data=$data"
