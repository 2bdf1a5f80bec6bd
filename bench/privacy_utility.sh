#!/usr/bin/env bash
# Privacy-utility curve: test NDCG@10 of user-level private BPR (DP-SGD) and iALS (sufficient-
# statistics perturbation) at epsilon 1..16 and of the non-private models (inf); leave-one-out,
# full ranking, seen items excluded (the split of the README's other tables); delta = 1e-5 for
# every row. Writes bench/results/privacy_utility_NAME.json and prints a Markdown table.
#   bench/privacy_utility.sh DATA NAME        e.g. ../shared/data/ml100k ml100k
# IALS_SET="--set factors=16 --set iterations=4" adds settings to every private iALS row (chosen on
# that data's validation split).
source "$(dirname "$0")/train_eval.sh"
run() {  # label, train args...
  local label=$1; shift
  train_eval "$label" "$@"
  python3 bench/privacy_row.py "$label" "$work/r.json" "$work/m/model.json" "$secs" "$*" >> "$work/rows.jsonl"
}
run pop --model pop
run "bpr, not private" --model bpr --config configs/beauty/bpr.yaml
run "bpr DP-SGD path, no noise" --model bpr --config configs/privacy/bpr.yaml --set dp_noise=0.001
for eps in 16 8 4 2 1; do
  run "bpr, eps=$eps" --model bpr --config configs/privacy/bpr.yaml --set dp_epsilon=$eps
done
run "ials, not private" --model ials --config configs/beauty/ials.yaml
read -r -a ials_set <<< "${IALS_SET:-}"
run "ials private path, no noise" --model ials --config configs/privacy/ials.yaml "${ials_set[@]}" --set dp_noise=0.0001
for eps in 16 10 8 4 2 1; do
  run "ials, eps=$eps" --model ials --config configs/privacy/ials.yaml "${ials_set[@]}" --set dp_epsilon=$eps
done
python3 bench/privacy_table.py "$work/rows.jsonl" "bench/results/privacy_utility_$name.json" "$data" \
  "private_ials_settings=${IALS_SET:-}"
