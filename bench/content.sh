#!/usr/bin/env bash
# Content (text) benchmark: SASRec with ids only against SASRec with a title tower (CNN or
# attention pooling), and the CNN tower plus the item categories (news topics, MovieLens genres)
# as attributes, on the synthetic `news` preset and on MovieLens-100K titles, with a global
# temporal split (validation from the 0.8 time quantile, test from 0.9), two protocols:
#   full  every item is a candidate (seen items excluded)
#   cold  --new-items: targets are items without any training event, and only such new items are
#         ranked (recommending them needs their text)
# Each evaluation also reports MIND-style impression metrics (targets + 20 sampled negatives).
# Writes bench/results/content.json and prints one Markdown table.
#   bench/content.sh [ml100k dir=../shared/data/ml100k]
set -euo pipefail
cd "$(dirname "$0")/.."
ml=${1:-../shared/data/ml100k}
bin=build/driftrec
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
$bin synth --preset news --users 3000 --items 4000 --seed 7 --out "$work/news" > /dev/null
rows=()
for ds in news ml100k; do
  data="$work/news"
  [ "$ds" = ml100k ] && data="$ml"
  for protocol in full cold; do
    split=(--split temporal --valid-start 0.8 --test-start 0.9)
    [ "$protocol" = cold ] && split+=(--new-items)
    for v in pop itemknn ids cnn attention cnn+categories; do
      [ "$protocol" = cold ] && [ "$v" = itemknn ] && continue  # scores no item without training events
      case $v in
        pop|itemknn) args=(--model "$v") ;;
        ids) args=(--model sasrec --config configs/news/sasrec.yaml --set text=none) ;;
        cnn+categories) args=(--model sasrec --config configs/news/sasrec.yaml --set text=cnn --set attributes=true) ;;
        *) args=(--model sasrec --config configs/news/sasrec.yaml --set "text=$v") ;;
      esac
      out="$work/$ds-$protocol-${v/+/_}"
      $bin --log-level warn --threads 2 train --data "$data" "${split[@]}" "${args[@]}" --out "$out" > /dev/null
      $bin --log-level warn --threads 2 evaluate --model "$out" --data "$data" --impressions 20 --json "$out.json" > /dev/null
      python3 - "$ds" "$protocol" "$v" "$out.json" "$out/model.json" > "$out.row" <<'PY'
import json, sys
ds, protocol, v, r, meta = sys.argv[1], sys.argv[2], sys.argv[3], json.load(open(sys.argv[4])), json.load(open(sys.argv[5]))
label = {"pop": "pop", "itemknn": "itemknn", "ids": "sasrec (ids)", "cnn": "sasrec + text CNN",
         "attention": "sasrec + text attention", "cnn+categories": "sasrec + text CNN + categories"}[v]
x = r["metrics"]
json.dump({"data": ds, "protocol": protocol, "model": label, "ndcg@10": x["ndcg@10"], "hr@10": x["hr@10"],
           "imp_auc": x["imp_auc"], "imp_mrr": x["imp_mrr"], "imp_ndcg@5": x["imp_ndcg@5"], "imp_ndcg@10": x["imp_ndcg@10"],
           "cases": r["users_evaluated"], "training_seconds": meta["training_seconds"], "epochs": meta.get("epochs"),
           "validation_ndcg@10": meta.get("validation", {}).get("ndcg@10")}, sys.stdout)
PY
      rows+=("$out.row")
    done
  done
done
mkdir -p bench/results
python3 - "$ml" "${rows[@]}" <<'PY'
import json, sys
rows = [json.load(open(p)) for p in sys.argv[2:]]
json.dump({"data": {"news": "driftrec synth --preset news --users 3000 --items 4000 --seed 7", "ml100k": sys.argv[1]},
           "protocol": "temporal split 0.8 / 0.9; full = all items ranked, cold = --new-items; impressions: targets + 20 negatives",
           "command": "bench/content.sh", "rows": rows}, open("bench/results/content.json", "w"), indent=2)
print("| data | protocol | model | NDCG@10 | HR@10 | imp AUC | imp MRR | imp nDCG@5 | imp nDCG@10 | cases | train s |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['data']} | {r['protocol']} | {r['model']} | {r['ndcg@10']:.4f} | {r['hr@10']:.4f} | {r['imp_auc']:.4f} | "
          f"{r['imp_mrr']:.4f} | {r['imp_ndcg@5']:.4f} | {r['imp_ndcg@10']:.4f} | {r['cases']} | {r['training_seconds']:.0f} |")
PY
# Command, data fingerprints, commit and date into the results file.
bench/provenance.py bench/results/content.json --command "bench/content.sh $*" \
  --data "news (driftrec synth --preset news --users 3000 --items 4000 --seed 7)=$work/news" --data "ml100k=$ml"
