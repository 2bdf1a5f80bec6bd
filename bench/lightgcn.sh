#!/usr/bin/env bash
# LightGCN on LightGCN's own Gowalla split with the paper's settings (3 layers, d = 64, lr 1e-3,
# L2 1e-4, batch 2048, one epoch = 810,128 BPR triples): seconds per epoch, peak memory, and the
# accuracy curve. As in the paper's code, the curve is measured on the test file (it is given as the
# validation file too, checked every EVAL_EVERY epochs); nothing is chosen from it: early stopping is
# off (patience above the number of checks), so the model evaluated at the end is the last epoch's.
# Writes bench/results/lightgcn_NAME.json.
#   bench/lightgcn.sh [DATA] [EPOCHS] [EVAL_EVERY]      e.g. bench/lightgcn.sh ../shared/data/gowalla 40 5
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/gowalla}
epochs=${2:-40}
every=${3:-5}
name=${NAME:-$(basename "$data")}
bin=${DRIFTREC_BIN:-build/driftrec}
[[ -x $bin ]] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p bench/results "$work/data"
ln -s "$(realpath "$data")/train.txt" "$work/data/train.txt"
ln -s "$(realpath "$data")/test.txt" "$work/data/test.txt"
ln -s "$(realpath "$data")/test.txt" "$work/data/valid.txt"
/usr/bin/time -f "%e %M" -o "$work/train.time" $bin --log-level info --threads 2 train --data "$work/data" \
  --split given --model lightgcn --set epochs="$epochs" --set eval_every="$every" --set patience=100000 \
  --out "$work/m" 2> "$work/train.log" > /dev/null
/usr/bin/time -f "%e %M" -o "$work/eval.time" $bin --log-level warn --threads 2 evaluate --model "$work/m" \
  --data "$work/data" --k 10,20 --json "$work/r.json" > /dev/null
python3 - "$work" "bench/results/lightgcn_$name.json" "$epochs" "$every" <<'PY'
import json, sys
work, out, epochs, every = sys.argv[1:]
meta = json.load(open(f"{work}/m/model.json"))
res = json.load(open(f"{work}/r.json"))["metrics"]
t_s, t_kb = open(f"{work}/train.time").read().split()[-2:]
e_s, e_kb = open(f"{work}/eval.time").read().split()[-2:]
curve = [{"epoch": h["epoch"], "seconds": h["seconds"], "loss": h["loss"], "test_ndcg@10": h.get("valid")}
         for h in meta["history"]]
j = {"data": "LightGCN's Gowalla split (train.txt -> test.txt)",
     "protocol": "given split; the test file doubles as the monitored validation file (as the paper's code "
                 "evaluates on test), early stopping off: the final model is the last epoch's",
     "config": meta["config"], "epochs": int(epochs), "eval_every": int(every),
     "seconds_per_epoch": meta.get("seconds_per_epoch"), "train_s": float(t_s), "train_peak_mb": int(t_kb) / 1024,
     "eval_s": float(e_s), "eval_peak_mb": int(e_kb) / 1024,
     "final": {k: res[k] for k in ("recall@20", "ndcg@20", "ndcg@10", "recall@10")},
     "curve": curve,
     "command": f"bench/lightgcn.sh DATA {epochs} {every}"}
json.dump(j, open(out, "w"), indent=2)
print(f"lightgcn {epochs} epochs: {j['seconds_per_epoch']:.1f} s/epoch, train {float(t_s):.0f} s, "
      f"peak {int(t_kb) / 1024:.0f} MB; Recall@20 {res['recall@20']:.4f} NDCG@20 {res['ndcg@20']:.4f}")
for c in curve:
    if c["test_ndcg@10"] is not None:
        print(f"  epoch {c['epoch']:4d}  {c['seconds']:7.0f} s  loss {c['loss']:.4f}  test NDCG@10 {c['test_ndcg@10']:.4f}")
PY
python3 bench/provenance.py "bench/results/lightgcn_$name.json" --command "bench/lightgcn.sh $data $epochs $every" \
  --data "$name=$data"
