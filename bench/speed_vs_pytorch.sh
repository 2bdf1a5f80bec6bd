#!/usr/bin/env bash
# Wall time to reach validation NDCG@10 = TARGET on Beauty: DriftRec's `sasrec` vs the same model
# and loss in PyTorch (bench/sasrec_reference.py, sequences padded to max_len), same machine,
# same threads, validation after every epoch.
#   bench/speed_vs_pytorch.sh [Beauty.txt] [target=0.05] [loss=softmax] [setup=plain]
# setup plain: 64 dims, 2 blocks, dropout 0.5, whole sequences, no side information; writes
#   bench/results/speed_vs_pytorch.json.
# setup committed: configs/beauty/sasrec.yaml as it resolves on Beauty (spectral filter, 4 x dim
#   feed-forward, dropout 0.4, prefix samples, weight average, dense softmax, item attributes from
#   ITEMS, default Beauty_item2attributes.json beside the data); the loss argument must be softmax.
#   Writes bench/results/speed_vs_pytorch_committed.json.
# REF_TIME_LIMIT=seconds stops the reference there (its seconds_to_target is then null).
# Needs Debian's python3-torch (scripts/install-deps.sh --python).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/beauty/Beauty.txt}
target=${2:-0.05}
loss=${3:-softmax}
setup=${4:-plain}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
case $setup in
  plain)
    out=bench/results/speed_vs_pytorch.json
    drift_args=(--model sasrec --set loss="$loss" --set dropout=0.5 --set dim=64 --set layers=2 --set heads=1
      --set max_len=50 --set lr=0.001 --set batch_size=128)
    ref_args=(--loss "$loss")
    ;;
  committed)
    [[ $loss == softmax ]] || { echo "setup committed trains the dense softmax: give loss softmax" >&2; exit 2; }
    items=${ITEMS:-$(dirname "$data")/Beauty_item2attributes.json}
    out=bench/results/speed_vs_pytorch_committed.json
    drift_args=(--items "$items" --model sasrec --config configs/beauty/sasrec.yaml)
    ref_args=(--committed --attributes "$items")
    ;;
  *) echo "setup must be plain or committed" >&2; exit 2 ;;
esac
build/driftrec --threads 2 train --data "$data" "${drift_args[@]}" --set eval_every=1 --set patience=1000 \
  --set epochs=300 --out "$work/m" 2> "$work/driftrec.log" > /dev/null &
pid=$!
# Stop DriftRec once the target is reached (the first validation line at or above it).
drift_s=""
while kill -0 $pid 2> /dev/null; do
  drift_s=$( (grep -o 'seconds=[0-9.]* valid=[0-9.]*' "$work/driftrec.log" | awk -v t="$target" -F'[= ]' '$4 >= t {print $2; exit}') || true)
  if [[ -n $drift_s ]]; then kill $pid; break; fi
  sleep 2
done
wait $pid 2> /dev/null || true
grep -o 'train sasrec [0-9]*/[0-9]* loss=[0-9.]* seconds=[0-9.]* valid=[0-9.]*' "$work/driftrec.log" > "$work/drift_curve.txt" || true
/usr/bin/python3 bench/sasrec_reference.py --data "$data" --target "$target" "${ref_args[@]}" --threads 2 \
  --time-limit "${REF_TIME_LIMIT:-0}" > "$work/ref.log"
mkdir -p bench/results
python3 - "$drift_s" "$target" "$loss" "$data" "$setup" "$out" "$work" <<'PY'
import json, re, sys
drift_s, target, loss, data, setup, out, work = sys.argv[1:]
d = float(drift_s) if drift_s else None
ref = [json.loads(l) for l in open(work + "/ref.log") if l.startswith("{")]
r = ref[-1]["seconds_to_target"]
drift_curve = []
for line in open(work + "/drift_curve.txt"):
    m = re.search(r"sasrec (\d+)/\d+ loss=([0-9.]+) seconds=([0-9.]+) valid=([0-9.]+)", line)
    drift_curve.append({"epoch": int(m[1]), "seconds": float(m[3]), "loss": float(m[2]), "valid_ndcg@10": float(m[4])})
what = "wall seconds to validation NDCG@10 >= target, sasrec, 2 threads"
if setup == "committed":
    what += ", configs/beauty/sasrec.yaml on both sides (filter, 4 x dim feed-forward, prefix samples, weight average, attributes)"
res = {"what": what, "data": data, "target": float(target), "loss": loss, "setup": setup,
       "driftrec_seconds": d, "pytorch_seconds": r, "speedup": (r / d) if d and r else None,
       "driftrec_curve": drift_curve, "pytorch_curve": [x for x in ref if "epoch" in x and "what" not in x],
       "command": "bench/speed_vs_pytorch.sh %s %s %s %s" % (data, target, loss, setup)}
json.dump(res, open(out, "w"), indent=2)
print(json.dumps({k: v for k, v in res.items() if not k.endswith("curve")}))
PY
# Command, data fingerprints, commit and date into the results file.
bench/provenance.py "$out" --command "bench/speed_vs_pytorch.sh $data $target $loss $setup" --data "data=$data"
