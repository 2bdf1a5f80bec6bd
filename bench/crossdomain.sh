#!/usr/bin/env bash
# Cross-domain benchmark on the synthetic `crossdomain` preset (shop + social), for each domain
# correlation given: global temporal split (validation from the 0.8 time quantile, test from 0.9),
# each domain evaluated on its own test events, ranking only that domain's items, seen items
# excluded. Models:
#   single   configs/crossdomain/hstu.yaml trained on the target domain's events only
#   merged   the same model over both domains' events as one sequence
#   concat / attention   configs/crossdomain/crossdomain.yaml (one HSTU per domain, fused), trained
#            once on both domains and evaluated in each
# "sparse" = test users with 1 to 3 events in the target domain before the test period (the single
# model cannot evaluate users with none; the others can: "cold" counts them).
# Writes bench/results/crossdomain.json and prints one Markdown table.
#   bench/crossdomain.sh [correlations="0.2 0.8"]
set -euo pipefail
cd "$(dirname "$0")/.."
corrs=${1:-"0.2 0.8"}
bin=build/driftrec
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
split=(--split temporal --valid-start 0.8 --test-start 0.9)
rows=()
for corr in $corrs; do
  data="$work/xd$corr"
  $bin synth --preset crossdomain --users 3000 --items 4000 --seed 7 --correlation "$corr" --out "$data" > /dev/null
  train() {  # name, extra args...
    local name=$1; shift
    $bin --log-level warn --threads 2 train --data "$data" "${split[@]}" "$@" --out "$work/$corr-$name" > /dev/null
  }
  train merged --model hstu --config configs/crossdomain/hstu.yaml
  train attention --model crossdomain --config configs/crossdomain/crossdomain.yaml
  train concat --model crossdomain --config configs/crossdomain/crossdomain.yaml --set fusion=concat
  for dom in shop social; do
    train "single-$dom" --model hstu --config configs/crossdomain/hstu.yaml --domains "$dom"
    for m in "single-$dom" merged concat attention; do
      extra=()
      [ "$m" = "single-$dom" ] && extra=(--domains "$dom")
      $bin --log-level warn --threads 2 evaluate --model "$work/$corr-$m" --data "$data" "${split[@]}" "${extra[@]}" \
        --target-domains "$dom" --json "$work/$corr-$m-$dom.json" --save-rankings "$work/$corr-$m-$dom.tsv" > /dev/null
      python3 bench/crossdomain_row.py "$corr" "$dom" "${m%-$dom}" "$work/$corr-$m-$dom.json" "$work/$corr-$m-$dom.tsv" \
        "$work/$corr-$m/model.json" "$data/events.csv" > "$work/$corr-$m-$dom.row"
      rows+=("$work/$corr-$m-$dom.row")
    done
  done
done
mkdir -p bench/results
python3 - "$corrs" "${rows[@]}" <<'PY'
import json, sys
rows = [json.load(open(p)) for p in sys.argv[2:]]
json.dump({"data": "driftrec synth --preset crossdomain --users 3000 --items 4000 --seed 7 --correlation C",
           "protocol": "temporal split (0.8 / 0.9), per target domain, ranking that domain's items, seen excluded",
           "command": f"bench/crossdomain.sh \"{sys.argv[1]}\"", "rows": rows},
          open("bench/results/crossdomain.json", "w"), indent=2)
print("| correlation | domain | model | NDCG@10 | HR@10 | users | sparse NDCG@10 | sparse users | cold users (NDCG@10) | train s |")
print("|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    cold = "—" if r["cold_users"] == 0 else f"{r['cold_users']} ({r['cold_ndcg@10']:.4f})"
    print(f"| {r['correlation']} | {r['domain']} | {r['model']} | {r['ndcg@10']:.4f} | {r['hr@10']:.4f} | {r['users']} | "
          f"{r['sparse_ndcg@10']:.4f} | {r['sparse_users']} | {cold} | {r['training_seconds']:.0f} |")
PY
