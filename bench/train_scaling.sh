#!/usr/bin/env bash
# Training cost per loss: wall seconds of one epoch and peak memory (GNU time) of `driftrec train`
# with a config's model, for each objective: softmax (logits materialised), chunked (`softmax_chunk`,
# streaming log-sum-exp), sampled (256 uniform negatives, dense AdamW), sampled4096 (4096 uniform
# negatives, lazily updated item table: what `loss: auto` picks for large catalogues),
# sampled4096_dense (the same with dense AdamW over the whole table), mixed (the batch's targets +
# 1024 uniform negatives, log-q corrected, lazy table). One epoch, no validation, 2 threads. Writes
# bench/results/train_scaling_<name>.json and prints a table. VARIANTS="..." runs a subset (the
# full softmax is out of reach at a million items).
#   bench/train_scaling.sh DATA NAME [config=configs/beauty/sasrec.yaml] [chunk=4096] [extra train flags...]
# SAMPLES=prefixes times prefix samples (default: whole sequences, as every recorded row). sasrec's
# spectral filter, wider feed-forward, weight average and seen-item penalty (issue #15) are off unless
# FILTER=1: the recorded rows predate them (and a seen penalty would send the chunked variant to dense logits).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?data path}
name=${2:?results name}
config=${3:-configs/beauty/sasrec.yaml}
chunk=${4:-4096}
shift 4 || shift $#
extra=("$@")
bin=${DRIFTREC_BIN:-build/driftrec}
model=$(sed -n 's/^model: *\([a-z0-9]*\).*/\1/p' "$config")
[[ -n $model ]] || { echo "$config names no model" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rows=()
read -r -a variants <<< "${VARIANTS:-softmax chunked sampled sampled4096 sampled4096_dense mixed}"
for variant in "${variants[@]}"; do
  case $variant in
    softmax) flags=(--set loss=softmax --set softmax_chunk=0) ;;
    chunked) flags=(--set loss=softmax --set softmax_chunk="$chunk") ;;
    sampled) flags=(--set loss=sampled --set negatives=256) ;;
    sampled4096) flags=(--set loss=sampled --set negatives=4096 --set sparse_items=true) ;;
    sampled4096_dense) flags=(--set loss=sampled --set negatives=4096 --set sparse_items=false) ;;
    mixed) flags=(--set loss=sampled --set sampling=mixed --set negatives=1024 --set sparse_items=true) ;;
    *) echo "unknown variant $variant" >&2; exit 2 ;;
  esac
  [[ $model == sasrec && ${FILTER:-0} != 1 ]] && flags+=(--set filter_mix=0 --set ffn_dim=0 --set weight_average=0 --set seen_penalty=0)
  /usr/bin/time -f '%e %M' -o "$work/$variant.time" $bin --log-level warn --threads 2 train --data "$data" "${extra[@]}" \
    --model "$model" --config "$config" "${flags[@]}" --set samples="${SAMPLES:-sequences}" --set epochs=1 --set eval_every=0 --no-validation --out "$work/$variant" > /dev/null
  read -r wall kb < "$work/$variant.time"
  python3 - "$variant" "$work/$variant/model.json" "$wall" "$kb" > "$work/$variant.row" <<'PY'
import json, sys
v, meta, wall, kb = sys.argv[1], json.load(open(sys.argv[2])), float(sys.argv[3]), int(sys.argv[4])
json.dump({"variant": v, "loss": meta["config"]["loss"], "softmax_chunk": meta["config"].get("softmax_chunk"),
           "sampling": meta["config"].get("sampling"), "negatives": meta["config"].get("negatives"),
           "sparse_items": meta["config"].get("sparse_items"),
           "epoch_seconds": meta["training_seconds"], "process_wall_seconds": wall, "peak_rss_mib": kb / 1024,
           "items": meta["data"]["items"], "train_events": meta["data"]["events"]}, sys.stdout)
PY
  rows+=("$work/$variant.row")
done
mkdir -p bench/results
python3 - "$name" "$config" "${rows[@]}" <<'PY'
import json, sys
name, config = sys.argv[1], sys.argv[2]
rows = [json.load(open(p)) for p in sys.argv[3:]]
json.dump({"what": "one training epoch per objective, 2 threads, no validation", "config": config, "rows": rows},
          open(f"bench/results/train_scaling_{name}.json", "w"), indent=2)
print("| objective | epoch s | peak MiB |")
print("|---|---|---|")
for r in rows:
    label = r["variant"] + (f" (chunk {r['softmax_chunk']})" if r["variant"] == "chunked" else "")
    print(f"| {label} | {r['epoch_seconds']:.1f} | {r['peak_rss_mib']:.0f} |")
PY
bench/provenance.py "bench/results/train_scaling_$name.json" --command "${VARIANTS:+VARIANTS=\"$VARIANTS\" }bench/train_scaling.sh $data $name $config $chunk ${extra[*]}" \
  --data "data=$data"
