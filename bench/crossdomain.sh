#!/usr/bin/env bash
# Cross-domain benchmark on the synthetic `crossdomain` preset (shop + social), for each domain
# correlation given: global temporal split (validation from the 0.8 time quantile of all events,
# test from 0.9, passed as timestamps so every model has the same periods),
# each domain evaluated on its own test events, ranking only that domain's items, seen items
# excluded. Models:
#   single   configs/crossdomain/hstu.yaml trained on the target domain's events only
#   merged   the same model over both domains' events as one sequence
#   concat / attention   configs/crossdomain/crossdomain.yaml (one HSTU per domain, fused), trained
#            once on both domains and evaluated in each
# "warm" = test users with an event in the target domain before the test period (the single model
# can only evaluate these), "sparse" = those with 1 to 3 such events, "cold" = none (only the
# models that read the other domain can serve them).
# Writes bench/results/crossdomain.json and prints one Markdown table.
#   bench/crossdomain.sh [correlations="0.2 0.8"]
set -euo pipefail
cd "$(dirname "$0")/.."
corrs=${1:-"0.2 0.8"}
bin=build/driftrec
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rows=()
for corr in $corrs; do
  data="$work/xd$corr"
  $bin synth --preset crossdomain --users 3000 --items 4000 --seed 7 --correlation "$corr" --out "$data" > /dev/null
  # Cutoffs as timestamps (the 0.8 and 0.9 quantiles of all events' times), so a model trained on
  # one domain's events has the same validation and test periods as the others.
  read -r t_valid t_test < <(python3 - "$data/events.csv" <<'PY'
import csv, math, sys
ts = sorted(int(r["timestamp"]) for r in csv.DictReader(open(sys.argv[1])))
q = lambda f: ts[min(len(ts) - 1, math.floor(f * len(ts)))]
print(q(0.8), q(0.9))
PY
)
  split=(--split temporal --valid-start "$t_valid" --test-start "$t_test")
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
print("| correlation | domain | model | warm NDCG@10 | warm HR@10 | sparse NDCG@10 | cold NDCG@10 | users warm / sparse / cold | train s |")
print("|---|---|---|---|---|---|---|---|---|")
for r in rows:
    cold = "—" if r["cold_users"] == 0 else f"{r['cold_ndcg@10']:.4f}"
    print(f"| {r['correlation']} | {r['domain']} | {r['model']} | {r['warm_ndcg@10']:.4f} | {r['warm_hr@10']:.4f} | "
          f"{r['sparse_ndcg@10']:.4f} | {cold} | {r['warm_users']} / {r['sparse_users']} / {r['cold_users']} | "
          f"{r['training_seconds']:.0f} |")
PY
# Command, data fingerprints, commit and date into the results file.
prov=()
for corr in $corrs; do prov+=(--data "correlation $corr (driftrec synth --preset crossdomain --users 3000 --items 4000 --seed 7 --correlation $corr)=$work/xd$corr"); done
bench/provenance.py bench/results/crossdomain.json --command "bench/crossdomain.sh \"$corrs\"" "${prov[@]}"
