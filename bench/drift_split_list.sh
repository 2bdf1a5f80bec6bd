#!/usr/bin/env bash
# The list bench/drift_frontier.sh picked (a sequential model re-ranked to the recent category mix
# at the strength its rule read off the validation replay), read on the split protocol: the test
# period's lists asked at its cutoff (`--request-at cutoff`), against every static model's plain
# list, `driftrec compare` of NDCG@10 and tracking_tv (paired over users, Holm over the family), in
# the split protocol's three variants: RecBole's rule (seen items excluded except re-consumed
# targets), discovery (`--skip-repeats`) and seen-rankable (`--include-seen`). Nothing is chosen
# here: the strength, the re-ranker and the half-life come from the frontier's results file.
# Same shop, split and committed configs as the frontier (bench/drift_settings.sh); with the
# frontier's MODELS directory the kept models are reused (DRIFTREC_TRAIN_BIN: the binary that
# trained them, when it is not this one).
#   FRONTIER=bench/results/drift_frontier_....json [SEQ=sasrec] [STATIC="pop itemknn bpr ials"] [MODELS=dir]
#   [SEED=7] [OUT=file.json] bench/drift_split_list.sh [users=1500] [items=1500] [setting=moderate]
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-1500}
items=${2:-1500}
setting=${3:-moderate}
frontier=${FRONTIER:?FRONTIER=results file of bench/drift_frontier.sh}
seq_model=${SEQ:-sasrec}
static_models=${STATIC:-"pop itemknn bpr ials"}
bin=${DRIFTREC_BIN:-build/driftrec}
out=${OUT:-bench/results/drift_split_list.json}
# shellcheck source=bench/drift_settings.sh
source bench/drift_settings.sh
spec=$(python3 - "$frontier" "$seq_model" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))
lam, rr, h = f["picked_lambda"][sys.argv[2]], f["reranker"], f["half_life"]
print("none" if lam == 0 else f"{rr}:{lam:g}" + (f":{h:g}" if h else ""))
PY
)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data="$work/data"
drift_shop "$bin" "$users" "$items" "$setting" "$data"
args=(--model "$work/$seq_model" --rerank "$spec")
for m in $seq_model $static_models; do
  drift_model "$bin" "$data" "$m" "$work/$m"
  [ "$m" = "$seq_model" ] || args+=(--model "$work/$m" --rerank none)
done
for variant in rule discovery seen; do
  vflags=()
  [ "$variant" = discovery ] && vflags=(--skip-repeats)
  [ "$variant" = seen ] && vflags=(--include-seen)
  $bin --log-level warn --threads 2 compare --data "$data" --metrics ndcg@10,tracking_tv --bootstrap 1000 \
    --request-at cutoff "${vflags[@]}" "${args[@]}" --json "$work/$variant.json" > /dev/null
done
mkdir -p "$(dirname "$out")"
python3 - "$work" "$out" "$spec" "$frontier" <<'PY'
import json, sys
work, out, spec, frontier = sys.argv[1:]
res = {"what": "the frontier's picked list on the split protocol, asked at the test cutoff, against every static "
               "model's plain list; variants: rule (seen items excluded except re-consumed targets), discovery "
               "(--skip-repeats), seen (--include-seen)",
       "list": spec, "frontier": frontier,
       "compare": {v: json.load(open(f"{work}/{v}.json")) for v in ("rule", "discovery", "seen")}}
json.dump(res, open(out, "w"), indent=2)
for v, c in res["compare"].items():
    for r in c["comparisons"]:
        print(f"{v:9s} {r['metric']:11s} list {r['baseline_value']:.4f} vs {r['name']:8s} {r['value']:.4f} "
              f"p(Holm) {r['p_holm']:.1e}{' *' if r['significant'] else ''}")
PY
note=$(train_bin_note "$bin")
bench/provenance.py "$out" --command "FRONTIER=$frontier SEED=${SEED:-7} SEQ=$seq_model STATIC=\"$static_models\" \
OUT=$out bench/drift_split_list.sh $users $items $setting" \
  --data "$setting (driftrec $(drift_synth_args "$users" "$items" "$setting"))=$data" \
  ${note:+--note "$note"}
