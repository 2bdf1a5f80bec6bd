#!/usr/bin/env bash
# Data-parallel training on this machine: sasrec with configs/beauty/sasrec.yaml on Beauty for
# EPOCHS epochs (validation at the end), as 1 process x 1 thread, 1 process x 2 threads and
# 2 processes x 1 thread (train --nproc 2: Gloo allreduce of every step's gradients over loopback).
# Reports seconds per epoch, optimiser steps per second and validation NDCG@10 after the epochs.
# Writes bench/results/ddp_beauty.json.   bench/ddp.sh [EPOCHS]
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-4}
data=../shared/data/beauty/Beauty.txt
items=../shared/data/beauty/Beauty_item2attributes.json
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rows=()
run() {  # label, threads, extra train args...
  local label=$1 threads=$2; shift 2
  local start=$SECONDS
  build/driftrec --log-level warn --threads "$threads" train --data "$data" --items "$items" --model sasrec \
    --config configs/beauty/sasrec.yaml --set loss=softmax --set samples=sequences --set filter_mix=0 --set ffn_dim=0 --set weight_average=0 --set epochs="$epochs" --set eval_every="$epochs" "$@" \
    --out "$work/m" > /dev/null  # plain softmax, whole sequences, no filter: the recorded runs predate loss auto and both (issue #15)
  rows+=("$(python3 - "$label" "$work/m/model.json" $((SECONDS - start)) "$threads $*" <<'PY'
import json, sys
label, path, wall, args = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
m = json.load(open(path))
h = m["history"]
secs = [e["seconds"] - (h[i - 1]["seconds"] if i else 0) for i, e in enumerate(h)]
secs = secs[:-1] if len(secs) > 1 else secs  # the last epoch also validates
print(json.dumps({"row": label, "epochs": len(h), "seconds_per_epoch": sum(secs) / len(secs),
                  "validation_ndcg@10": m["validation"]["ndcg@10"], "wall_s": wall, "args": args}))
PY
)")
}
run "1 process x 1 thread" 1
run "1 process x 2 threads" 2
run "2 processes x 1 thread (--nproc 2)" 2 --nproc 2
printf '%s\n' "${rows[@]}" > "$work/rows.jsonl"
python3 - "$work/rows.jsonl" "$epochs" <<'PY'
import json, math, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
steps = math.ceil(22363 / 128)  # training sequences / batch_size: one optimiser step per global batch
for r in rows: r["steps_per_second"] = steps / r["seconds_per_epoch"]
json.dump({"data": "Amazon Beauty (S3Rec Beauty.txt) + item attributes", "model": "sasrec, configs/beauty/sasrec.yaml",
           "epochs": int(sys.argv[2]), "steps_per_epoch": steps, "command": f"bench/ddp.sh {sys.argv[2]}", "rows": rows},
          open("bench/results/ddp_beauty.json", "w"), indent=2)
print("| setup | s / epoch | steps / s | validation NDCG@10 after the epochs |")
print("|---|---|---|---|")
for r in rows: print(f"| {r['row']} | {r['seconds_per_epoch']:.1f} | {r['steps_per_second']:.1f} | {r['validation_ndcg@10']:.4f} |")
PY
