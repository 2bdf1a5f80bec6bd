#!/usr/bin/env bash
# Graph and item-item models on a split shipped with the data (format `given`, e.g. LightGCN's
# Gowalla train.txt/test.txt): Recall@20 and NDCG@20 as LightGCN defines them (all test items per
# user, IDCG over min(|test|, 20), training items excluded), training and evaluation seconds and
# peak memory (max RSS) of each step. Writes bench/results/graph_NAME.json and prints a Markdown
# table. Rows are "model [--set k=v ...]" strings (default: gfcf, itemknn, ials).
#   bench/graph.sh DATA NAME [ROW...]     e.g. bench/graph.sh ../shared/data/gowalla gowalla
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?data path}
name=${2:?name for the results}
shift 2
rows=("$@")
[[ ${#rows[@]} -gt 0 ]] || rows=("gfcf" "itemknn" "ials")
bin=${DRIFTREC_BIN:-build/driftrec}
[[ -x $bin ]] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p bench/results
: > "$work/rows.jsonl"
for row in "${rows[@]}"; do
  read -r model rest <<< "$row"
  # shellcheck disable=SC2086
  /usr/bin/time -f "%e %M" -o "$work/train.time" $bin --log-level warn --threads 2 train --data "$data" \
    --split given --model "$model" $rest --out "$work/m" > /dev/null
  /usr/bin/time -f "%e %M" -o "$work/eval.time" $bin --log-level warn --threads 2 evaluate --model "$work/m" \
    --data "$data" --k 10,20 --json "$work/r.json" > /dev/null
  python3 - "$row" "$work/r.json" "$work/train.time" "$work/eval.time" >> "$work/rows.jsonl" <<'PY'
import json, sys
row, res, tt, et = sys.argv[1:]
x = json.load(open(res)); x = x.get("metrics", x)
t_s, t_kb = open(tt).read().split()[-2:]; e_s, e_kb = open(et).read().split()[-2:]
print(json.dumps({"row": row, "recall@20": x["recall@20"], "ndcg@20": x["ndcg@20"], "ndcg@10": x["ndcg@10"],
                  "train_s": float(t_s), "eval_s": float(e_s), "train_peak_mb": int(t_kb) / 1024,
                  "eval_peak_mb": int(e_kb) / 1024,
                  "command": "driftrec train --data DATA --split given --model " + row}))
PY
  rm -rf "$work/m"
done
python3 - "$work/rows.jsonl" "bench/results/graph_$name.json" "$data" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
json.dump({"data": sys.argv[3], "protocol": "given train/test split, all test items per user, full ranking, "
           "training items excluded; LightGCN's Recall@20 / NDCG@20", "threads": 2, "rows": rows},
          open(sys.argv[2], "w"), indent=2)
print("| model | Recall@20 | NDCG@20 | train s | evaluate s | train peak MB |")
print("|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['row']} | {r['recall@20']:.4f} | {r['ndcg@20']:.4f} | {r['train_s']:.0f} | {r['eval_s']:.0f} | "
          f"{r['train_peak_mb']:.0f} |")
PY
