#!/usr/bin/env bash
# Models on Amazon Beauty (S3Rec's 5-core file): leave-one-out, full ranking over all
# items, seen items excluded. Hyperparameters in configs/beauty/<model>.yaml were chosen on the
# validation split only. Writes bench/results/beauty_<model>.json and prints a Markdown table.
#   bench/beauty.sh [path/to/Beauty.txt] [models...]
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/beauty/Beauty.txt}
shift || true
models=("$@")
[[ ${#models[@]} -gt 0 ]] || models=(pop itemknn bpr ials sasrec gru4rec caser hstu)
# The item attributes beside the data file (Beauty_item2attributes.json) are passed as the item
# table; only models configured with `attributes: true` use them.
items=()
attrs=$(dirname "$data")/$(basename "$data" .txt)_item2attributes.json
[[ -f $attrs ]] && items=(--items "$attrs")
bin=${DRIFTREC_BIN:-build/driftrec}
[[ -x $bin ]] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 1; }
mkdir -p bench/results
# KEEP_MODELS=DIR keeps the trained model directories there (e.g. to build an ensemble from them).
if [[ -n ${KEEP_MODELS:-} ]]; then
  work=$KEEP_MODELS
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
echo "| model | HR@10 | NDCG@10 | MRR | coverage@10 | train s | epochs | command |"
echo "|---|---|---|---|---|---|---|---|"
# A model may be given as NAME@SEED (e.g. hstu@7): the same config trained with another seed.
for m in "${models[@]}"; do
  name=${m%@*}
  seed=42
  [[ $m == *@* ]] && seed=${m#*@}
  cfg=configs/beauty/$name.yaml
  $bin --log-level warn --threads 2 train --data "$data" "${items[@]}" --model "$name" --config "$cfg" --seed "$seed" \
    --out "$work/$m" > /dev/null
  $bin --log-level warn --threads 2 evaluate --model "$work/$m" --data "$data" --json "bench/results/beauty_$m.json" > /dev/null
  python3 - "$m" "bench/results/beauty_$m.json" "$work/$m/model.json" "$cfg" "${items[*]}" "$seed" <<'PY'
import json, sys
m, path, meta, cfg, items = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3])), sys.argv[4], sys.argv[5]
seed = sys.argv[6]
name = m.split("@")[0]
seed_arg = f" --seed {seed}" if seed != "42" else ""
secs, epochs = meta["training_seconds"], meta.get("epochs")
r = json.load(open(path))
r["training_seconds"] = secs
r["epochs"] = epochs
r["validation"] = meta.get("validation")
items_arg = " --items Beauty_item2attributes.json" if items else ""
json.dump(r, open(path, "w"), indent=2)
x = r["metrics"]
print(f"| {m} | {x['hr@10']:.4f} | {x['ndcg@10']:.4f} | {x['mrr']:.4f} | {x['coverage@10']:.3f} | {secs:.2f} | {epochs} | "
      f"`driftrec train --data Beauty.txt{items_arg} --model {name} --config {cfg}{seed_arg} --out m && driftrec evaluate --model m --data Beauty.txt` |")
PY
  bench/provenance.py "bench/results/beauty_$m.json" --command "bench/beauty.sh $data $m" --data "data=$data"
done
