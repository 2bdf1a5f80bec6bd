#!/usr/bin/env bash
# Do the Beauty settings hold elsewhere without retuning? Trains the models with the committed
# configs/beauty/*.yaml unchanged on another dataset (default MovieLens-100K: genres as item
# attributes, titles ignored), leave-one-out, full ranking, seen items excluded, and blends
# sasrec + hstu + itemknn with weights fitted on validation, as bench/beauty_ensemble.sh does.
# Then, as bench/beauty_refit.sh does, every model is refit on training + validation events
# (`train --refit-from`) and the blend reuses the validated weights. Writes
# bench/results/transfer_<name>.json and prints a Markdown table.
#   bench/transfer.sh [data=../shared/data/ml100k] [name=ml100k]
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/ml100k}
name=${2:-ml100k}
bin=${DRIFTREC_BIN:-build/driftrec}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rows=()
row() {  # row NAME MODEL_DIR EVAL_JSON: one JSON line for the table
  python3 - "$@" <<'PY'
import json, sys
m, meta, r = sys.argv[1], json.load(open(sys.argv[2] + "/model.json")), json.load(open(sys.argv[3]))
x = r["metrics"]
json.dump({"model": m, "hr@10": x["hr@10"], "ndcg@10": x["ndcg@10"], "mrr": x["mrr"], "users": r["users_evaluated"],
           "validation_ndcg@10": (meta.get("validation") or {}).get("ndcg@10"), "training_seconds": meta["training_seconds"],
           "epochs": meta.get("epochs"), "max_len": meta.get("config", {}).get("max_len"),
           "member_weights": meta.get("member_weights")}, sys.stdout)
PY
}
for m in pop itemknn sasrec hstu ensemble; do
  if [ "$m" = ensemble ]; then
    $bin --log-level warn --threads 2 ensemble --data "$data" --member "$work/sasrec" --member "$work/hstu" \
      --member "$work/itemknn" --out "$work/$m" > /dev/null
    $bin --log-level warn --threads 2 ensemble --data "$data" --refit --member "$work/sasrec.refit" --member "$work/hstu.refit" \
      --member "$work/itemknn.refit" --weights-from "$work/$m" --out "$work/$m.refit" > /dev/null
  else
    $bin --log-level warn --threads 2 train --data "$data" --model "$m" --config "configs/beauty/$m.yaml" --out "$work/$m" > /dev/null
    $bin --log-level warn --threads 2 train --data "$data" --refit-from "$work/$m" --out "$work/$m.refit" > /dev/null
  fi
  for v in "$m" "$m.refit"; do
    $bin --log-level warn --threads 2 evaluate --model "$work/$v" --data "$data" --json "$work/$v.json" > /dev/null
    row "$v" "$work/$v" "$work/$v.json" > "$work/$v.row"
    rows+=("$work/$v.row")
  done
done
mkdir -p bench/results
python3 - "$data" "$name" "${rows[@]}" <<'PY'
import json, sys
rows = [json.load(open(p)) for p in sys.argv[3:]]
json.dump({"data": sys.argv[1], "configs": "configs/beauty/*.yaml, unchanged", "refit": "NAME.refit: retrained on "
           "training + validation events with the validated run's config, seed and best epoch (blend: validated weights)",
           "protocol": "leave-one-out, full ranking, seen items excluded",
           "command": f"bench/transfer.sh {sys.argv[1]} {sys.argv[2]}", "rows": rows},
          open(f"bench/results/transfer_{sys.argv[2]}.json", "w"), indent=2)
print("| model | HR@10 | NDCG@10 | MRR | valid NDCG@10 | train s | epochs | max_len |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    v = r["validation_ndcg@10"]
    print(f"| {r['model']} | {r['hr@10']:.4f} | {r['ndcg@10']:.4f} | {r['mrr']:.4f} | {'' if v is None else f'{v:.4f}'} | "
          f"{r['training_seconds']:.1f} | {r['epochs'] if r['epochs'] is not None else ''} | {r['max_len'] or ''} |")
PY
# Command, data fingerprints, commit and date into the results file.
bench/provenance.py "bench/results/transfer_$name.json" --command "bench/transfer.sh $data $name" --data "$name=$data"
