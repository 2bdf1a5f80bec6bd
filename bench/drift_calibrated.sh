#!/usr/bin/env bash
# Does calibrated re-ranking (Steck 2018) let a sequential model track the true interest mix? The
# drift sweep's shop at one setting (default moderate: --shift-rate 0.08 --drift 0.15), the
# committed configs (configs/beauty/*.yaml), temporal split 0.8 / 0.9; on the test split with the
# generator's truth, `driftrec compare` of NDCG@10 and tracking_tv (paired over users, Holm):
#   plain:      ials, ials + calibrated, sasrec, sasrec + calibrated (baseline: plain ials)
#   calibrated: every model + calibrated (baseline: ials + calibrated)
# and on the replay of the test period (every list shown re-ranked, events whose item is new to the
# user scored, as the drift sweep's replay: --skip-repeats), one family with calibrated sasrec as the
# baseline: plain sasrec, and each static model plain and calibrated.
# The strength (LAMBDA, default 0.5, Steck's) is fixed, not tuned. Writes
# bench/results/drift_calibrated.json (or $OUT).
#   [LAMBDA=0.5] [MODELS=dir] [SEED=7] [OUT=file.json] bench/drift_calibrated.sh [users=1500] [items=1500] [setting=moderate]
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-1500}
items=${2:-1500}
setting=${3:-moderate}
lambda=${LAMBDA:-0.5}
bin=${DRIFTREC_BIN:-build/driftrec}
out=${OUT:-bench/results/drift_calibrated.json}
# shellcheck source=bench/drift_settings.sh
source bench/drift_settings.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data="$work/data"
drift_shop "$bin" "$users" "$items" "$setting" "$data"
for m in ials bpr itemknn sasrec; do
  drift_model "$bin" "$data" "$m" "$work/$m"
done
cal="calibrated:$lambda"
# shellcheck disable=SC2054  # a comma-separated metric list, one argument
common=(--data "$data" --metrics ndcg@10,tracking_tv --bootstrap 1000)
$bin --log-level warn --threads 2 compare "${common[@]}" --json "$work/plain.json" \
  --model "$work/ials" --model "$work/ials" --model "$work/sasrec" --model "$work/sasrec" \
  --rerank none --rerank "$cal" --rerank none --rerank "$cal" > /dev/null
$bin --log-level warn --threads 2 compare "${common[@]}" --json "$work/calibrated.json" \
  --model "$work/ials" --model "$work/sasrec" --model "$work/itemknn" --model "$work/bpr" --rerank "$cal" > /dev/null
replay_models=()
for m in sasrec sasrec ials ials itemknn itemknn bpr bpr; do replay_models+=(--model "$work/$m"); done
$bin --log-level warn --threads 2 compare "${common[@]}" --protocol replay --skip-repeats --json "$work/replay.json" \
  "${replay_models[@]}" --rerank "$cal" --rerank none --rerank none --rerank "$cal" --rerank none --rerank "$cal" \
  --rerank none --rerank "$cal" > /dev/null
python3 - "$work" "$out" "$setting" "$lambda" <<'PY'
import json, sys
work, out, setting, lam = sys.argv[1:]
res = {"what": "compare on the test split, and on the replay of the test period (--skip-repeats), with the "
               "generator's truth: NDCG@10 and tracking_tv, plain and calibrated lists (paired over users, Holm "
               "over each family)",
       "setting": setting, "lambda": float(lam),
       "plain_vs_calibrated": json.load(open(work + "/plain.json")),
       "all_calibrated": json.load(open(work + "/calibrated.json")),
       "replay_calibrated_sasrec_vs_all": json.load(open(work + "/replay.json"))}
json.dump(res, open(out, "w"), indent=2)
for name in ("plain_vs_calibrated", "all_calibrated", "replay_calibrated_sasrec_vs_all"):
    r = res[name]
    print(name, "baseline", r["baseline"].rsplit("/", 1)[-1], r["rerank"][0])
    for c in r["comparisons"]:
        print("  %-12s %-8s %-22s %.4f vs %.4f  p_holm %.2g" % (c["metric"], c["model"].rsplit("/", 1)[-1],
              c["rerank"] or "-", c["value"], c["baseline_value"], c["p_holm"]))
PY
bench/provenance.py "$out" --command "${SEED:+SEED=$SEED }LAMBDA=$lambda OUT=$out bench/drift_calibrated.sh $users $items $setting" \
  --data "$setting (driftrec $(drift_synth_args "$users" "$items" "$setting"))=$data"
