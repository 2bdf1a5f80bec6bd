#!/usr/bin/env bash
# The accuracy / tracking frontier of calibrated lists (issue #21): each model's lists re-ranked by
# Steck's calibrated re-ranker at a range of strengths, on the replay of the validation period and of
# the test period (events whose item is new to the user, `--skip-repeats`, as the drift sweep's
# replay), with the generator's truth: next-event NDCG@10 and tracking tv of the online state per
# strength. bench/drift_calibrated.sh compares every model at one strength (0.5); a model whose
# scores are flat is pulled further by the same strength than one whose scores are peaked, so one
# strength compares lists at unequal cost. Here each model gets the whole curve, and one family of
# `driftrec compare` (test replay, per-user means, Holm) puts the sequential models at STRENGTH
# against each static model at the strength whose *validation* tracking is nearest (the test is only
# read by that compare).
# The shop of bench/drift_sweep.sh (seed 7) at one setting, committed configs (configs/beauty/*.yaml).
# Writes bench/results/drift_frontier.json (or $OUT).
#   [LAMBDAS="0 0.05 ..."] [STRENGTH=0.5] [SEQ="sasrec gru4rec"] [STATIC="pop itemknn bpr ials"]
#   [OUT=file.json] bench/drift_frontier.sh [users=1500] [items=1500] [setting=moderate]
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-1500}
items=${2:-1500}
setting=${3:-moderate}
lambdas=${LAMBDAS:-"0 0.05 0.1 0.2 0.3 0.5 0.7 0.9"}
strength=${STRENGTH:-0.5}
seq_models=${SEQ:-"sasrec gru4rec"}
static_models=${STATIC:-"pop itemknn bpr ials"}
bin=${DRIFTREC_BIN:-build/driftrec}
out=${OUT:-bench/results/drift_frontier.json}
declare -A flags=(
  [none]="--shift-rate 0 --drift 0"
  [weak]="--shift-rate 0.03 --drift 0.05"
  [moderate]="--shift-rate 0.08 --drift 0.15"
  [strong]="--shift-rate 0.2 --drift 0.3"
)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data="$work/data"
# shellcheck disable=SC2086
$bin --log-level warn synth --preset ecommerce --users "$users" --items "$items" --seed 7 ${flags[$setting]} \
  --out "$data" > /dev/null
for m in $static_models $seq_models; do
  $bin --log-level warn --threads 2 train --data "$data" --split temporal --valid-start 0.8 --test-start 0.9 \
    --model "$m" --config "configs/beauty/$m.yaml" --out "$work/$m" > /dev/null
  for lam in $lambdas; do
    rerank=none
    [ "$lam" != 0 ] && rerank="calibrated:$lam"
    for on in valid test; do
      $bin --log-level warn --threads 2 evaluate --data "$data" --model "$work/$m" --protocol replay --on "$on" \
        --skip-repeats --rerank "$rerank" --json "$work/$m.$lam.$on.json" > /dev/null
    done
  done
done
# The static strength matched to each sequential model's validation tracking at STRENGTH.
matched=$(python3 - "$work" "$strength" "$lambdas" "$seq_models" "$static_models" <<'PY'
import json, sys
work, strength, lambdas, seqs, statics = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4].split(), sys.argv[5].split()
tv = lambda m, lam: json.load(open(f"{work}/{m}.{lam}.valid.json"))["replay"]["tracking"]["online"]["tv"]
for s in seqs:
    target = tv(s, strength)
    for m in statics:
        print(s, m, min(lambdas, key=lambda lam: abs(tv(m, lam) - target)))
PY
)
for s in $seq_models; do
  args=(--model "$work/$s" --rerank "calibrated:$strength")
  while read -r seq m lam; do
    [ "$seq" = "$s" ] || continue
    rerank=none
    [ "$lam" != 0 ] && rerank="calibrated:$lam"
    args+=(--model "$work/$m" --rerank "$rerank")
  done <<< "$matched"
  # shellcheck disable=SC2054  # a comma-separated metric list, one argument
  $bin --log-level warn --threads 2 compare --data "$data" --metrics ndcg@10,tracking_tv --bootstrap 1000 \
    --protocol replay --skip-repeats --json "$work/compare.$s.json" "${args[@]}" > /dev/null
done
python3 - "$work" "$out" "$setting" "$strength" "$lambdas" "$seq_models" "$static_models" <<'PY'
import json, sys
work, out, setting, strength = sys.argv[1:5]
lambdas, seqs, statics = sys.argv[5].split(), sys.argv[6].split(), sys.argv[7].split()
def point(m, lam, on):
    r = json.load(open(f"{work}/{m}.{lam}.{on}.json"))["replay"]
    t = r["tracking"]["online"]
    return {"ndcg@10": r["online"]["ndcg@10"], "hr@10": r["online"]["hr@10"], "tracking_tv": t["tv"],
            "tracking_kl": t["kl"], "km_median_lag": t["km_median_lag"], "followed_within": t["followed_within"]}
curves = {m: [{"lambda": float(lam), "valid": point(m, lam, "valid"), "test": point(m, lam, "test")}
              for lam in lambdas] for m in seqs + statics}
def dominated_by(p, on):  # static points at least as good on both and better on one (event means)
    a = p[on]
    return ["%s@%g" % (m, q["lambda"]) for m in statics for q in curves[m]
            if q[on]["ndcg@10"] >= a["ndcg@10"] and q[on]["tracking_tv"] <= a["tracking_tv"]
            and (q[on]["ndcg@10"] > a["ndcg@10"] or q[on]["tracking_tv"] < a["tracking_tv"])]
for s in seqs:
    for p in curves[s]:
        p["dominated_by"] = {on: dominated_by(p, on) for on in ("valid", "test")}
res = {"what": "accuracy / tracking frontier of calibrated lists on the replay (--skip-repeats) of the validation "
               "and test periods, online state, event means; compare: sequential models at `strength` against each "
               "static model at the strength whose validation tracking tv is nearest (test replay, per-user means, "
               "Holm over each family)",
       "setting": setting, "strength": float(strength), "curves": curves,
       "compare": {s: json.load(open(f"{work}/compare.{s}.json")) for s in seqs}}
json.dump(res, open(out, "w"), indent=2)
print("%-8s %6s  %-15s %-15s %s" % ("model", "lambda", "valid ndcg/tv", "test ndcg/tv", "test: dominated by"))
for m in seqs + statics:
    for p in curves[m]:
        v, t = p["valid"], p["test"]
        print("%-8s %6g  %.4f / %.3f  %.4f / %.3f  %s" % (m, p["lambda"], v["ndcg@10"], v["tracking_tv"], t["ndcg@10"],
              t["tracking_tv"], " ".join(p.get("dominated_by", {}).get("test", []))))
for s in seqs:
    r = res["compare"][s]
    print("compare: baseline", s, r["rerank"][0])
    for c in r["comparisons"]:
        print("  %-12s %-8s %-16s %.4f vs %.4f  p_holm %.2g" % (c["metric"], c["model"].rsplit("/", 1)[-1],
              c["rerank"] or "-", c["value"], c["baseline_value"], c["p_holm"]))
PY
bench/provenance.py "$out" --command "LAMBDAS=\"$lambdas\" STRENGTH=$strength SEQ=\"$seq_models\" \
STATIC=\"$static_models\" OUT=$out bench/drift_frontier.sh $users $items $setting" \
  --data "$setting (driftrec synth --preset ecommerce --users $users --items $items --seed 7 ${flags[$setting]})=$data"
