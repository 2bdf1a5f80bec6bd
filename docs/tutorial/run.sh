#!/usr/bin/env bash
# Every command of docs/tutorial.md, in order (about 10 minutes on 2 cores).
#   docs/tutorial/run.sh [work-dir]      (needs build/driftrec; chromium for the screenshot)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
driftrec=$repo/build/driftrec
work=${1:-/tmp/driftrec-tutorial}
mkdir -p "$work" && cd "$work"
split=(--dedup --split temporal --valid-start 0.8 --test-start 0.9)

# 1. Raw data: a CSV of events (here generated) and an item table beside it.
$driftrec synth --preset ecommerce --users 1500 --items 800 --seed 7 --out shop
$driftrec data inspect shop

# 2. Baselines.
$driftrec train --data shop "${split[@]}" --model itemknn --out models/itemknn
$driftrec train --data shop "${split[@]}" --model ials --set factors=32 --out models/ials

# 3. Tune a sequential model on the validation split.
cp "$repo/docs/tutorial/sasrec_space.yaml" .
$driftrec tune --data shop "${split[@]}" --space sasrec_space.yaml --strategy tpe --trials 8 --parallel 2 \
  --db tune.sqlite --out sasrec_best.yaml
$driftrec train --data shop "${split[@]}" --model sasrec --config sasrec_best.yaml --out models/sasrec

# 4. Blend, compare, look.
$driftrec ensemble --data shop "${split[@]}" --member models/sasrec --member models/itemknn --out models/blend
$driftrec compare --data shop --model models/itemknn --model models/ials --model models/sasrec --model models/blend
$driftrec train --data shop --refit-from models/ials --out models/ials-refit
$driftrec compare --data shop --model models/ials --model models/ials-refit
$driftrec evaluate --model models/sasrec --data shop --protocol replay --replay-windows 5
$driftrec report --data shop --model models/itemknn --model models/ials --model models/sasrec --model models/blend \
  --title "Tutorial: shop" --out report.html
if command -v chromium > /dev/null; then
  chromium --headless --no-sandbox --disable-gpu --window-size=1300,3400 --screenshot="$work/report.png" \
    "file://$work/report.html" 2> /dev/null || true
fi

# 5. Explain one user's recommendations from the command line.
$driftrec recommend --model models/blend --data shop --user u42 -k 5 --explain
