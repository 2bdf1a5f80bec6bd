#!/usr/bin/env bash
# Inference latency of a trained sequential model directory (e.g. sasrec on Beauty):
# encode + score every item + top-10, one history of 50 events at a time on one thread (p50/p99
# over 2,000 requests), and batches of 256 users (encode_batch + batched scoring).
# Also explanations of the top-10 (explain_batch: occlusion, one batched pass).
# Writes bench/results/nn_latency_<model>.json, or $NN_LATENCY_OUT.
#   [NN_LATENCY_OUT=file.json] bench/nn_latency.sh MODEL_DIR [history=50] [threads=1]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?model directory (driftrec train --model sasrec ... --out DIR)}
history=${2:-50}
threads=${3:-1}
mkdir -p bench/results
name=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]+"/model.json"))["model"])' "$dir")
out=${NN_LATENCY_OUT:-bench/results/nn_latency_$name.json}
build/bench/bench_nn_latency "$dir" "$history" 2000 256 40 "$threads" > "$out"
cat "$out"
# Command, data fingerprints, commit and date into the results file.
command="bench/nn_latency.sh $*"
[[ -z ${NN_LATENCY_OUT:-} ]] || command="NN_LATENCY_OUT=$out $command"
bench/provenance.py "$out" --command "$command"
# The model's training data (its fingerprint, users, items, events) as model.json records it.
python3 - "$out" "$dir/model.json" <<'PY'
import json, sys
r, meta = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
r["model_trained_on"] = meta["data"]
r["model_config"] = meta["config"]
json.dump(r, open(sys.argv[1], "w"), indent=2)
PY
