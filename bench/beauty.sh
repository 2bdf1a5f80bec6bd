#!/usr/bin/env bash
# Classic baselines on Amazon Beauty (S3Rec's 5-core file): leave-one-out, full ranking over all
# items, seen items excluded. Hyperparameters in configs/beauty/<model>.yaml were chosen on the
# validation split only. Writes bench/results/beauty_<model>.json and prints a Markdown table.
#   bench/beauty.sh [path/to/Beauty.txt] [models...]
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/beauty/Beauty.txt}
shift || true
models=("$@")
[[ ${#models[@]} -gt 0 ]] || models=(pop itemknn bpr ials)
bin=build/driftrec
[[ -x $bin ]] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 1; }
mkdir -p bench/results
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "| model | HR@10 | NDCG@10 | MRR | coverage@10 | train s | command |"
echo "|---|---|---|---|---|---|---|"
for m in "${models[@]}"; do
  cfg=configs/beauty/$m.yaml
  $bin --log-level warn --threads 2 train --data "$data" --model "$m" --config "$cfg" --out "$work/$m" > /dev/null
  $bin --log-level warn --threads 2 evaluate --model "$work/$m" --data "$data" --json "bench/results/beauty_$m.json" > /dev/null
  train_s=$(grep -o '"training_seconds": [0-9.]*' "$work/$m/model.json" | awk '{print $2}')
  python3 - "$m" "bench/results/beauty_$m.json" "$train_s" "$cfg" <<'PY'
import json, sys
m, path, secs, cfg = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
r = json.load(open(path))
r["training_seconds"] = secs
json.dump(r, open(path, "w"), indent=2)
x = r["metrics"]
print(f"| {m} | {x['hr@10']:.4f} | {x['ndcg@10']:.4f} | {x['mrr']:.4f} | {x['coverage@10']:.3f} | {secs:.2f} | "
      f"`driftrec train --data Beauty.txt --model {m} --config {cfg} --out m && driftrec evaluate --model m --data Beauty.txt` |")
PY
done
