#!/usr/bin/env bash
# Fairness, calibration and diversity re-ranking on CPFair's MovieLens-100K split (SIGIR 2022):
# fit on train + tune (--refit), test, K=10, training items excluded; CPFair's item groups (20%
# short head) and user groups (5% active). Genres for calibration and diversity come from
# MovieLens-100K's u.item, mapped to CPFair's 0-based ids through its MovieLens100K_data.txt (row r
# of it is row r of ratings_data.txt, the original u.data). Each row re-ranks the model's top 100.
# Writes bench/results/fairness_cpfair.json and prints a Markdown table. ON=valid instead fits on
# train only and measures the tune split (bench/results/fairness_cpfair_valid.json): the split to
# choose a strength on.
#   [ON=valid] [RERANKERS="none calibrated:0.5 ..."] bench/fairness_cpfair.sh [CPFAIR_DIR] [ML100K_DIR] [MODEL ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
on=${ON:-test}
[[ $on == test || $on == valid ]] || { echo "ON must be test or valid" >&2; exit 2; }
refit=(--refit); out=bench/results/fairness_cpfair.json
[[ $on == valid ]] && refit=() && out=bench/results/fairness_cpfair_valid.json
cp=${1:-../shared/data/cpfair_ml100k}
ml=${2:-../shared/data/ml100k}
shift $(( $# > 2 ? 2 : $# ))
model_args=("$@")
[[ ${#model_args[@]} -gt 0 ]] || model_args=(--model ease --set lambda=500)
bin=${DRIFTREC_BIN:-build/driftrec}
[[ -x $bin ]] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p bench/results "$work/data"
for f in train tune test; do ln -s "$(realpath "$cp")/MovieLens100K_$f.txt" "$work/data/$f.txt"; done
python3 - "$cp" "$ml" "$work/items.csv" <<'PY'
import sys
cp, ml, out = sys.argv[1:]
genres = [l.split("|")[0] for l in open(f"{ml}/u.genre", encoding="latin-1") if l.strip()]
item_genres = {}
for l in open(f"{ml}/u.item", encoding="latin-1"):
    f = l.rstrip("\n").split("|")
    item_genres[f[0]] = [g for g, flag in zip(genres, f[5:]) if flag == "1"]
cp_item = {}
for orig, mapped in zip(open(f"{cp}/ratings_data.txt"), open(f"{cp}/MovieLens100K_data.txt")):
    cp_item[mapped.split(",")[1]] = orig.split("\t")[1]
with open(out, "w") as o:
    o.write("item_id,category\n")
    for i, orig in sorted(cp_item.items(), key=lambda x: int(x[0])):
        o.write(f"{i},{'|'.join(item_genres[orig])}\n")
PY
$bin --log-level warn --threads 2 train --data "$work/data" --items "$work/items.csv" --split given "${refit[@]}" \
  "${model_args[@]}" --out "$work/m" > /dev/null
groups=(--long-tail-items "$cp/groups/items/020/longtail_items.txt" --active-users "$cp/groups/users/005/active_ids.txt")
: > "$work/rows.jsonl"
for rr in ${RERANKERS:-none longtail:0.2 exposure:0.5 exposure:0.4+longtail:0.2 exposure:0.3+longtail:0.3 calibrated:0.1 calibrated:0.2 calibrated:0.5 calibrated:0.9 mmr:0.3 consumer:0.6 consumer:0.7}; do
  extra=(--fairness); [[ $rr == none ]] || extra+=(--rerank "$rr")
  $bin --log-level warn --threads 1 evaluate --model "$work/m" --data "$work/data" --items "$work/items.csv" \
    --on "$on" --k 10 "${groups[@]}" "${extra[@]}" --json "$work/r.json" > /dev/null
  python3 - "$rr" "$work/r.json" >> "$work/rows.jsonl" <<'PY'
import json, sys
rr, res = sys.argv[1:]
r = json.load(open(res)); x = r["metrics"]
keys = ["ndcg@10", "recall@10", "aplt@10", "gini@10", "coverage@10", "pop_rsp@10", "pop_reo@10", "miscalibration@10",
        "ild@10", "ndcg@10_active", "ndcg@10_inactive", "ndcg@10_gap"]
print(json.dumps({"rerank": rr, **{k: x[k] for k in keys}, "evaluate_s": r["seconds"]}))
PY
done
python3 - "$work/rows.jsonl" "${model_args[*]}" "$on" "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
base = rows[0]
on, out = sys.argv[3], sys.argv[4]
fit = "refit on train+tune, test" if on == "test" else "fit on train, tune split"
json.dump({"data": "CPFair MovieLens-100K (" + ("train+tune -> test" if on == "test" else "train -> tune") + ")",
           "model": sys.argv[2],
           "protocol": "given split, " + fit + ", K=10, training items excluded, re-ranking the top 100; "
           "CPFair groups: 20% short head, 5% active users", "threads": 1, "rows": rows},
          open(out, "w"), indent=2)
print("| re-ranker | NDCG@10 | vs none | long-tail share | exposure Gini | miscalibration | ILD | NDCG active / inactive | gap | evaluate s |")
print("|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['rerank']} | {r['ndcg@10']:.4f} | {100 * (r['ndcg@10'] / base['ndcg@10'] - 1):+.1f}% | {r['aplt@10']:.3f} | "
          f"{r['gini@10']:.3f} | {r['miscalibration@10']:.3f} | {r['ild@10']:.3f} | {r['ndcg@10_active']:.4f} / "
          f"{r['ndcg@10_inactive']:.4f} | {r['ndcg@10_gap']:.4f} | {r['evaluate_s']:.2f} |")
PY
