#!/usr/bin/env bash
# Behaviour-aware ablation, leave-one-out over target events, full ranking over all items.
#   taobao: predict each user's next buy from all their behaviours (the last buy is the test case,
#           the one before it the validation case; histories keep every view, cart and favourite).
#           Items already seen are NOT excluded (most buys follow views of the same item). Rows:
#           pop, itemknn, configs/taobao/sasrec.yaml without (repeat=false) and with the repeat
#           head, then the repeat head plus one side feature at a time, then all of them.
#   synth:  the synthetic ecommerce preset (generated here). Its buys always directly follow a
#           cart of the same item (a copy task any model solves), so the target is the next VIEW,
#           from all behaviours, seen items excluded; rows add one side feature at a time to the
#           same config (no repeat head: seen items cannot be recommended).
# Writes bench/results/behavior_<name>.json and prints a Markdown table.
#   bench/behavior_ablation.sh taobao [data dir=../shared/data/taobao_sample]
#   bench/behavior_ablation.sh synth
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:-taobao}
bin=build/driftrec
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ "$name" = synth ]; then
  $bin synth --preset ecommerce --users 3000 --items 5000 --seed 7 --out "$work/shop" > /dev/null
  data="$work/shop"
  source_desc="driftrec synth --preset ecommerce --users 3000 --items 5000 --seed 7"
else
  data=${2:-../shared/data/taobao_sample}
  source_desc="$data"
fi
if [ "$name" = synth ]; then
  split=(--on-error skip --rejects "$work/rejects.tsv" --targets view)
  seen=()
  base=(--set target_behaviors=view --set repeat=false)
  variants=(pop itemknn plain behavior_embedding time_gaps attributes all)
  protocol="leave-one-out over views, full ranking, seen items excluded"
else
  split=(--on-error skip --rejects "$work/rejects.tsv" --targets buy --include-seen)
  seen=(--include-seen)
  base=()
  variants=(pop itemknn plain repeat behavior_embedding time_gaps attributes all)
  protocol="leave-one-out over buys, full ranking, seen items kept"
fi
rep=(--set repeat=true)
[ "$name" = synth ] && rep=()
echo "| model | HR@10 | NDCG@10 | MRR | valid NDCG@10 | train s | epochs |"
echo "|---|---|---|---|---|---|---|"
results=()
for v in "${variants[@]}"; do
  model=sasrec
  args=(--config configs/taobao/sasrec.yaml "${base[@]}")
  case $v in
    pop|itemknn) model=$v; args=() ;;
    plain) args+=(--set repeat=false) ;;
    repeat) args+=("${rep[@]}") ;;
    all) args+=("${rep[@]}" --set behavior_embedding=true --set time_gaps=true --set attributes=true) ;;
    *) args+=("${rep[@]}" --set "$v=true") ;;
  esac
  $bin --log-level warn --threads 2 train --data "$data" "${split[@]}" --model "$model" "${args[@]}" --out "$work/$v" > /dev/null
  $bin --log-level warn --threads 2 evaluate --model "$work/$v" --data "$data" --on-error skip --rejects "$work/rejects.tsv" \
    "${seen[@]}" --json "$work/$v.json" > /dev/null
  python3 - "$v" "$work/$v.json" "$work/$v/model.json" <<'PY'
import json, sys
v, r, meta = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
x = r["metrics"]
rep = json.load(open(sys.argv[3])).get("config", {}).get("repeat", False) in (True, "true")
plus = "sasrec + repeat + " if rep else "sasrec + "
label = {"pop": "pop", "itemknn": "itemknn", "plain": "sasrec", "repeat": "sasrec + repeat head",
         "all": plus + "all side features"}.get(v, plus + v)
val = meta.get("validation", {}).get("ndcg@10")
print(f"| {label} | {x['hr@10']:.4f} | {x['ndcg@10']:.4f} | {x['mrr']:.4f} | "
      f"{'' if val is None else f'{val:.4f}'} | {meta['training_seconds']:.1f} | {meta.get('epochs', '')} |")
json.dump({"variant": v, "label": label, "test": x, "validation": meta.get("validation"),
           "training_seconds": meta["training_seconds"], "epochs": meta.get("epochs"), "config": r["config"],
           "users_evaluated": r["users_evaluated"]}, open(sys.argv[2] + ".row", "w"))
PY
  results+=("$work/$v.json.row")
done
mkdir -p bench/results
python3 - "$name" "$source_desc" "$protocol" "${results[@]}" <<'PY'
import json, sys
rows = [json.load(open(p)) for p in sys.argv[4:]]
json.dump({"data": sys.argv[2], "protocol": sys.argv[3],
           "command": f"bench/behavior_ablation.sh {sys.argv[1]}", "rows": rows},
          open(f"bench/results/behavior_{sys.argv[1]}.json", "w"), indent=2)
PY
# Command, data fingerprints, commit and date into the results file.
bench/provenance.py "bench/results/behavior_$name.json" --command "bench/behavior_ablation.sh $*" --data "$source_desc=$data"
