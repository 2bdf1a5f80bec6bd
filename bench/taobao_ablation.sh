#!/usr/bin/env bash
# Behaviour-aware ablation on the Taobao UserBehavior sample: predict each user's next buy from all
# their behaviours (leave-one-out over buys: the last buy is the test case, the one before it the
# validation case; the history keeps every view, cart and favourite). Full ranking over all items;
# items already seen are NOT excluded (on Taobao most buys follow views of the same item).
# Variants add one side feature at a time to configs/taobao/sasrec.yaml, then all of them.
# Writes bench/results/taobao_ablation.json and prints a Markdown table.
#   bench/taobao_ablation.sh [data dir] [model=sasrec]
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/taobao_sample}
model=${2:-sasrec}
bin=build/driftrec
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
split=(--on-error skip --rejects "$work/rejects.tsv" --targets buy --include-seen)
variants=("none" "behavior_embedding" "time_gaps" "attributes" "all")
echo "| side information | HR@10 | NDCG@10 | MRR | valid NDCG@10 | train s | epochs |"
echo "|---|---|---|---|---|---|---|"
results=()
for v in "${variants[@]}"; do
  sets=()
  case $v in
    none) ;;
    all) sets=(--set behavior_embedding=true --set time_gaps=true --set attributes=true) ;;
    *) sets=(--set "$v=true") ;;
  esac
  $bin --log-level warn --threads 2 train --data "$data" "${split[@]}" --model "$model" --config "configs/taobao/$model.yaml" \
    "${sets[@]}" --out "$work/$v" > /dev/null
  $bin --log-level warn --threads 2 evaluate --model "$work/$v" --data "$data" --on-error skip --rejects "$work/rejects.tsv" \
    --include-seen --json "$work/$v.json" > /dev/null
  python3 - "$v" "$work/$v.json" "$work/$v/model.json" <<'PY'
import json, sys
v, r, meta = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
x = r["metrics"]
print(f"| {v} | {x['hr@10']:.4f} | {x['ndcg@10']:.4f} | {x['mrr']:.4f} | {meta['validation']['ndcg@10']:.4f} | "
      f"{meta['training_seconds']:.1f} | {meta.get('epochs')} |")
json.dump({"variant": v, "test": x, "validation": meta["validation"], "training_seconds": meta["training_seconds"],
           "epochs": meta.get("epochs"), "config": r["config"], "users_evaluated": r["users_evaluated"]},
          open(sys.argv[2] + ".row", "w"))
PY
  results+=("$work/$v.json.row")
done
mkdir -p bench/results
python3 - "$data" "$model" "${results[@]}" <<'PY'
import json, sys
rows = [json.load(open(p)) for p in sys.argv[3:]]
json.dump({"data": sys.argv[1], "model": sys.argv[2], "protocol": "leave-one-out over buys, full ranking, seen items kept",
           "command": f"bench/taobao_ablation.sh {sys.argv[1]} {sys.argv[2]}", "rows": rows},
          open("bench/results/taobao_ablation.json", "w"), indent=2)
PY
