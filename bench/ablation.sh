#!/usr/bin/env bash
# Single-model levers, measured on the validation split only (no test figure is read): each variant
# is configs/beauty/<model>.yaml plus --set overrides, trained on the training split with early
# stopping on validation NDCG@10, on any dataset (the item table beside the data is used when there
# is one, as bench/beauty.sh does). Writes bench/results/ablation_<name>.json and prints a table.
#   bench/ablation.sh DATA NAME [threads=1] [variant names...]
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?data path}
name_out=${2:?results name}
threads=${3:-1}
shift 3 || shift $#
items=()
attrs=$(dirname "$data")/$(basename "$data" .txt)_item2attributes.json
[[ -f $attrs ]] && items=(--items "$attrs")
bin=${DRIFTREC_BIN:-build/driftrec}
# name|model|overrides (space-separated key=value). Each row reproduces the config of its time: rows
# recorded before prefix samples set whole sequences and their 5/4 validation cadence, sasrec rows
# recorded before the spectral filter switch it (and the wider feed-forward) off, and sasrec rows
# recorded before weight averaging switch that off.
variants=(
  "hstu (the whole-sequence config)|hstu|samples=sequences eval_every=5 patience=4"
  "hstu + cosine (60 epochs)|hstu|lr_schedule=cosine epochs=60 samples=sequences eval_every=5 patience=4"
  "hstu + cosine + weight decay 0.1|hstu|lr_schedule=cosine epochs=60 weight_decay=0.1 samples=sequences eval_every=5 patience=4"
  "hstu + cosine + weight decay 0.3|hstu|lr_schedule=cosine epochs=60 weight_decay=0.3 samples=sequences eval_every=5 patience=4"
  "hstu + cosine + weight decay 1.0|hstu|lr_schedule=cosine epochs=60 weight_decay=1.0 samples=sequences eval_every=5 patience=4"
  "hstu + weight decay 0.3 (constant rate, 300 epochs)|hstu|weight_decay=0.3 samples=sequences eval_every=5 patience=4"
  "hstu + label smoothing 0.1|hstu|label_smoothing=0.1 samples=sequences eval_every=5 patience=4"
  "sasrec (the whole-sequence config)|sasrec|filter_mix=0 ffn_dim=0 samples=sequences eval_every=5 patience=4 weight_average=0"
  "sasrec + cosine + weight decay 0.1|sasrec|lr_schedule=cosine epochs=60 weight_decay=0.1 filter_mix=0 ffn_dim=0 samples=sequences eval_every=5 patience=4 weight_average=0"
  # Issue #19: sampled objectives against the committed full softmax, same model otherwise.
  # sparse_items=true: the lazily updated item table (what loss: auto uses above its size limit).
  "sasrec + sampled, 2048 uniform negatives|sasrec|loss=sampled negatives=2048 filter_mix=0 ffn_dim=0 samples=sequences eval_every=5 patience=4 weight_average=0"
  "sasrec + sampled, 2048 uniform, lazy item table|sasrec|loss=sampled negatives=2048 sparse_items=true filter_mix=0 ffn_dim=0 samples=sequences eval_every=5 patience=4 weight_average=0"
  "sasrec + sampled, mixed: in-batch + 1024 uniform, lazy item table|sasrec|loss=sampled sampling=mixed negatives=1024 sparse_items=true filter_mix=0 ffn_dim=0 samples=sequences eval_every=5 patience=4 weight_average=0"
  "sasrec + sampled, mixed: in-batch + 1024 uniform|sasrec|loss=sampled sampling=mixed negatives=1024 filter_mix=0 ffn_dim=0 samples=sequences eval_every=5 patience=4 weight_average=0"
  "sasrec + sampled, mixed: in-batch + 4096 uniform|sasrec|loss=sampled sampling=mixed negatives=4096 filter_mix=0 ffn_dim=0 samples=sequences eval_every=5 patience=4 weight_average=0"
  "sasrec + sampled, 4096 uniform, lazy item table|sasrec|loss=sampled negatives=4096 sparse_items=true filter_mix=0 ffn_dim=0 samples=sequences eval_every=5 patience=4 weight_average=0"
  # Issue #15: prefix samples (docs/design-notes.md "Prefix samples"); validation every 2 epochs,
  # patience 5, as the committed configs now say.
  "hstu + whole sequences in batches of 32|hstu|batch_size=32 eval_every=2 patience=5"
  "hstu + prefix samples, batches of 256, validation every epoch|hstu|samples=prefixes batch_size=256 eval_every=1 patience=8"
  "hstu + samples auto (prefixes here)|hstu|samples=auto eval_every=2 patience=5"
  "sasrec + samples auto (prefixes here)|sasrec|samples=auto eval_every=2 patience=5 filter_mix=0 ffn_dim=0 weight_average=0 prefix_stride=1"
  "sasrec + samples auto + weight decay 0.1|sasrec|samples=auto eval_every=2 patience=5 weight_decay=0.1 filter_mix=0 ffn_dim=0 weight_average=0 prefix_stride=1"
  # Issue #15: the causal spectral filter (docs/design-notes.md "Spectral filter"), on the prefix-sample
  # config; the committed config now has both, so these rows switch off what they do not measure.
  "sasrec + spectral filter (filter_mix 0.7, 3 bins)|sasrec|ffn_dim=0 weight_average=0 prefix_stride=1"
  "sasrec + spectral filter + feed-forward 4 x dim|sasrec|weight_average=0 prefix_stride=1"
  "sasrec + spectral filter + feed-forward 4 x dim + weight average 0.999|sasrec|prefix_stride=1"
  # Issue #15: post-LN blocks (BERT/BSARec layout), and prefix samples with a stride from the data
  # (prefix_stride 0: 1 on Beauty, where it changes nothing; 3 on MovieLens-100K).
  "sasrec + post-LN blocks|sasrec|norm=post prefix_stride=1"
  "sasrec + prefix stride from the data (committed)|sasrec|"
  "sasrec + prefix stride from the data + post-LN blocks|sasrec|norm=post"
)
want=("$@")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rows=()
for v in "${variants[@]}"; do
  IFS='|' read -r name model overrides <<< "$v"
  if [[ ${#want[@]} -gt 0 ]] && ! printf '%s\n' "${want[@]}" | grep -qxF "$name"; then continue; fi
  sets=()
  for kv in $overrides; do sets+=(--set "$kv"); done
  out="$work/$(echo "$name" | tr -c 'a-z0-9' '_')"
  start=$(date +%s)
  $bin --log-level warn --threads "$threads" train --data "$data" "${items[@]}" --model "$model" \
    --config "configs/beauty/$model.yaml" "${sets[@]}" --out "$out" > /dev/null
  end=$(date +%s)
  python3 - "$name" "$model" "$overrides" "$out/model.json" "$((end - start))" "$threads" > "$out.row" <<'PY'
import json, sys
name, model, overrides, meta, secs, threads = sys.argv[1:7]
m = json.load(open(meta))
v = m.get("validation", {})
json.dump({"variant": name, "model": model, "overrides": overrides, "valid_ndcg@10": v.get("ndcg@10"),
           "valid_hr@10": v.get("hr@10"), "epochs": m.get("epochs"), "training_seconds": m.get("training_seconds"),
           "process_seconds": int(secs), "threads": int(threads)}, sys.stdout)
PY
  rows+=("$out.row")
done
mkdir -p bench/results
python3 - "$name_out" "${rows[@]}" <<'PY'
import json, sys
rows = [json.load(open(p)) for p in sys.argv[2:]]
json.dump({"what": "validation NDCG@10/HR@10 of single-model variants (no test figures)", "rows": rows},
          open(f"bench/results/ablation_{sys.argv[1]}.json", "w"), indent=2)
print("| variant | valid NDCG@10 | valid HR@10 | epochs | train s (threads) |")
print("|---|---|---|---|---|")
for r in rows:
    print(f"| {r['variant']} | {r['valid_ndcg@10']:.4f} | {r['valid_hr@10']:.4f} | {r['epochs']} | {r['training_seconds']:.0f} ({r['threads']}) |")
PY
python3 bench/provenance.py "bench/results/ablation_$name_out.json" --command "bench/ablation.sh $data $name_out $threads $*" \
  --data "$name_out=$data"
