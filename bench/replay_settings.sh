#!/usr/bin/env bash
# Online updating, measured: for each setting, the committed config is trained on a global
# temporal split (validation from the 0.8 time quantile, test from 0.9) and `evaluate --protocol
# replay` walks the test period event by event (recommend, reveal, observe), against the same
# users' states frozen at the start of the test period.
#   behaviour  Taobao sample, configs/taobao/sasrec.yaml, next buy, seen items kept
#   content    synthetic news (titles), configs/news/sasrec.yaml (text CNN), new items only: only
#              items without training events are ranked and scored (--new-items)
#   cross      synthetic crossdomain (correlation 0.8), configs/crossdomain/crossdomain.yaml, each domain
# Writes bench/results/replay_settings.json and prints a Markdown table.
#   bench/replay_settings.sh [taobao dir=../shared/data/taobao_sample]
set -euo pipefail
cd "$(dirname "$0")/.."
taobao=${1:-../shared/data/taobao_sample}
bin=build/driftrec
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
split=(--split temporal --valid-start 0.8 --test-start 0.9)
$bin synth --preset news --users 3000 --items 4000 --seed 7 --out "$work/news" > /dev/null
$bin synth --preset crossdomain --users 3000 --items 4000 --seed 7 --correlation 0.8 --out "$work/xd" > /dev/null
$bin --log-level warn --threads 2 train --data "$taobao" --on-error skip --rejects "$work/rej.tsv" "${split[@]}" \
  --targets buy --include-seen --model sasrec --config configs/taobao/sasrec.yaml --out "$work/taobao" > /dev/null
$bin --log-level warn --threads 2 train --data "$work/news" "${split[@]}" --new-items --model sasrec \
  --config configs/news/sasrec.yaml --out "$work/news-model" > /dev/null
$bin --log-level warn --threads 2 train --data "$work/xd" "${split[@]}" --model crossdomain \
  --config configs/crossdomain/crossdomain.yaml --out "$work/xd-model" > /dev/null
run() {  # slug, label, model dir, data, extra evaluate flags...
  local slug=$1 label=$2 model=$3 data=$4; shift 4
  $bin --log-level warn --threads 2 evaluate --model "$model" --data "$data" --protocol replay "$@" \
    --json "$work/$slug.json" > /dev/null
  printf '%s\t%s\n' "$label" "$work/$slug.json"
}
{
  run taobao "behaviour (Taobao, next buy)" "$work/taobao" "$taobao" --on-error skip --rejects "$work/rej.tsv" --include-seen
  run news "content (news new items, text CNN)" "$work/news-model" "$work/news"
  run shop "cross-domain: shop" "$work/xd-model" "$work/xd" "${split[@]}" --target-domains shop
  run social "cross-domain: social" "$work/xd-model" "$work/xd" "${split[@]}" --target-domains social
} > "$work/list.txt"
mkdir -p bench/results
python3 - "$work/list.txt" <<'PY'
import json, sys
rows = []
for line in open(sys.argv[1]):
    label, path = line.rstrip("\n").split("\t")
    r = json.load(open(path))["replay"]
    rows.append({"setting": label, **r})
json.dump({"protocol": "temporal split 0.8 / 0.9; replay of the test period, online (observe) vs frozen state",
           "command": "bench/replay_settings.sh", "rows": rows}, open("bench/results/replay_settings.json", "w"), indent=2)
print("| setting | scored events | online NDCG@10 | frozen NDCG@10 | online HR@10 | frozen HR@10 |")
print("|---|---|---|---|---|---|")
for r in rows:
    on, off = r["online"], r["frozen"]
    print(f"| {r['setting']} | {on['events']} | {on['ndcg@10']:.4f} | {off['ndcg@10']:.4f} | {on['hr@10']:.4f} | {off['hr@10']:.4f} |")
PY
# Command, data fingerprints, commit and date into the results file.
bench/provenance.py bench/results/replay_settings.json --command "bench/replay_settings.sh $*" --data "taobao=$taobao" \
  --data "news (driftrec synth --preset news --users 3000 --items 4000 --seed 7)=$work/news" \
  --data "crossdomain (driftrec synth --preset crossdomain --users 3000 --items 4000 --seed 7 --correlation 0.8)=$work/xd"
