#!/usr/bin/env bash
# The accuracy / tracking frontier of calibrated lists (issue #21). Each model's lists re-ranked at a
# range of strengths by Steck's calibrated greedy (`calibrated:L`, the greedy's order) and by the same
# items in the model's order (`calibrated_set:L`), on the replay of the validation period and of the
# test period (events whose item is new to the user, `--skip-repeats`, as the drift sweep's replay),
# with the generator's truth: next-event NDCG@10 and tracking tv of the online state (event means).
# bench/drift_calibrated.sh compares every model at one strength; one strength pulls a model with flat
# scores further than one with peaked scores, so here each model gets its whole curve.
# Then one rule, read on validation only, picks each sequential model's strength. RULE=budget (the
# default): the largest in the grid whose validation NDCG@10 is within BUDGET (default 5%) of the
# model's own plain list (a re-ranker that may cost at most 5% of next-event accuracy).
# RULE=maximin (#21's target, beat every static model on both, read on validation): the strength
# whose smaller relative margin over the best plain static model is largest, the margins being
# NDCG@10 / best static NDCG@10 - 1 and 1 - tracking tv / best static tracking tv.
# One family of `driftrec compare` per sequential model (test replay, per-user means, paired
# bootstrap, Holm) puts that list against every static model plain and every static model re-ranked
# the same way at the strength whose validation tracking tv is nearest (equal tracking, read on
# validation). The test is read only by the compare and the reported curves.
# The shop of bench/drift_sweep.sh (seed 7) at one setting, committed configs (configs/beauty/*.yaml).
# HALF_LIFE=H (events) gives both re-rankers the history mix weighted by recency (`calibrated:L:H`,
# Steck's w_{u,i}) instead of every past event alike. MODELS=DIR keeps the trained models for the
# other drift scripts and reruns (bench/drift_settings.sh, drift_model).
# Writes bench/results/drift_frontier.json (or $OUT).
#   [LAMBDAS="0 0.05 ..."] [RERANKER=calibrated_set] [RULE=budget|maximin] [BUDGET=0.05] [HALF_LIFE=0]
#   [SEQ="sasrec gru4rec"] [STATIC="pop itemknn bpr ials"] [MODELS=dir] [SEED=7] [OUT=file.json]
#   bench/drift_frontier.sh [users=1500] [items=1500] [setting=moderate]
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-1500}
items=${2:-1500}
setting=${3:-moderate}
lambdas=${LAMBDAS:-"0 0.05 0.1 0.2 0.3 0.5 0.7 0.9"}
chosen_reranker=${RERANKER:-calibrated_set}
budget=${BUDGET:-0.05}
rule=${RULE:-budget}
case $rule in budget | maximin) ;; *) echo "RULE must be budget or maximin, not '$rule'" >&2; exit 2 ;; esac
half_life=${HALF_LIFE:-0}
seq_models=${SEQ:-"sasrec gru4rec"}
static_models=${STATIC:-"pop itemknn bpr ials"}
bin=${DRIFTREC_BIN:-build/driftrec}
out=${OUT:-bench/results/drift_frontier.json}
# shellcheck source=bench/drift_settings.sh
source bench/drift_settings.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data="$work/data"
drift_shop "$bin" "$users" "$items" "$setting" "$data"
# rerank_spec RERANKER LAMBDA: the spec, with the history mix's half-life when HALF_LIFE is set.
rerank_spec() { if [ "$half_life" = 0 ]; then echo "$1:$2"; else echo "$1:$2:$half_life"; fi; }
# One replay per model, list and period: $work/MODEL.RERANKER.LAMBDA.PERIOD.json (lambda 0: plain).
replay() {
  local m=$1 rr=$2 lam=$3 on=$4 spec=none
  [ "$lam" != 0 ] && spec="$(rerank_spec "$rr" "$lam")"
  $bin --log-level warn --threads 2 evaluate --data "$data" --model "$work/$m" --protocol replay --on "$on" \
    --skip-repeats --rerank "$spec" --json "$work/$m.$rr.$lam.$on.json" > /dev/null
}
for m in $static_models $seq_models; do
  drift_model "$bin" "$data" "$m" "$work/$m"
  for on in valid test; do
    replay "$m" none 0 "$on"
    for rr in calibrated calibrated_set; do
      for lam in $lambdas; do
        if [ "$lam" = 0 ]; then cp "$work/$m.none.0.$on.json" "$work/$m.$rr.0.$on.json"; else replay "$m" "$rr" "$lam" "$on"; fi
      done
    done
  done
done
# Validation only: each sequential model's strength (RULE) and the static strengths whose
# tracking is nearest to it. Lines: SEQ STRENGTH, then SEQ STATIC STRENGTH.
picks=$(python3 - "$work" "$chosen_reranker" "$budget" "$lambdas" "$seq_models" "$static_models" "$rule" <<'PY'
import json, sys
work, rr, budget = sys.argv[1], sys.argv[2], float(sys.argv[3])
lambdas, seqs, statics, rule = sys.argv[4].split(), sys.argv[5].split(), sys.argv[6].split(), sys.argv[7]
val = lambda m, lam: json.load(open(f"{work}/{m}.{rr}.{lam}.valid.json"))["replay"]
ndcg = lambda m, lam: val(m, lam)["online"]["ndcg@10"]
tv = lambda m, lam: val(m, lam)["tracking"]["online"]["tv"]
for s in seqs:
    if rule == "budget":  # the largest strength costing at most `budget` of the plain list's NDCG@10
        lam = max((x for x in lambdas if ndcg(s, x) >= (1 - budget) * ndcg(s, "0")), key=float)
    else:  # maximin: the largest smaller relative margin over the best plain static model on the two
        best_ndcg, best_tv = max(ndcg(m, "0") for m in statics), min(tv(m, "0") for m in statics)
        margin = lambda x: min(ndcg(s, x) / best_ndcg - 1, 1 - tv(s, x) / best_tv)
        lam = max(lambdas, key=lambda x: (margin(x), float(x)))
    print(s, "-", lam)
    target = val(s, lam)["tracking"]["online"]["tv"]
    for m in statics:
        print(s, m, min(lambdas, key=lambda x: abs(val(m, x)["tracking"]["online"]["tv"] - target)))
PY
)
spec_of() { if [ "$1" = 0 ]; then echo none; else rerank_spec "$chosen_reranker" "$1"; fi; }
for s in $seq_models; do
  args=()
  while read -r seq m lam; do
    [ "$seq" = "$s" ] || continue
    if [ "$m" = - ]; then
      args=(--model "$work/$s" --rerank "$(spec_of "$lam")" "${args[@]}")
    else
      args+=(--model "$work/$m" --rerank none)
      # At strength 0 the re-ranked list is the plain one: compared once. (It was compared twice, one
      # more test in Holm's family, in drift_frontier_strong.json's BPR and iALS and
      # drift_frontier_maximin_seed11_none.json's iALS.)
      [ "$lam" = 0 ] || args+=(--model "$work/$m" --rerank "$(spec_of "$lam")")
    fi
  done <<< "$picks"
  # shellcheck disable=SC2054  # a comma-separated metric list, one argument
  $bin --log-level warn --threads 2 compare --data "$data" --metrics ndcg@10,tracking_tv --bootstrap 1000 \
    --protocol replay --skip-repeats --json "$work/compare.$s.json" "${args[@]}" > /dev/null
done
python3 - "$work" "$out" "$setting" "$chosen_reranker" "$budget" "$lambdas" "$seq_models" "$static_models" "$half_life" \
  "$rule" "$picks" <<'PY'
import json, sys
work, out, setting, chosen, budget = sys.argv[1:6]
lambdas, seqs, statics = sys.argv[6].split(), sys.argv[7].split(), sys.argv[8].split()
half_life, rule = float(sys.argv[9]), sys.argv[10]
picks = {s: float(lam) for s, m, lam in (line.split() for line in sys.argv[11].splitlines()) if m == "-"}
def point(m, rr, lam, on):
    r = json.load(open(f"{work}/{m}.{rr}.{lam}.{on}.json"))["replay"]
    t = r["tracking"]["online"]
    return {"ndcg@10": r["online"]["ndcg@10"], "hr@10": r["online"]["hr@10"], "tracking_tv": t["tv"],
            "tracking_kl": t["kl"], "km_median_lag": t["km_median_lag"], "followed_within": t["followed_within"]}
rerankers = ("calibrated", "calibrated_set")
curves = {m: {rr: [{"lambda": float(lam), "valid": point(m, rr, lam, "valid"), "test": point(m, rr, lam, "test")}
                   for lam in lambdas] for rr in rerankers} for m in seqs + statics}
def dominated_by(p, on):  # static points at least as good on both and better on one (event means)
    a = p[on]
    return ["%s %s:%g" % (m, rr, q["lambda"]) for m in statics for rr in rerankers for q in curves[m][rr]
            if q[on]["ndcg@10"] >= a["ndcg@10"] and q[on]["tracking_tv"] <= a["tracking_tv"]
            and (q[on]["ndcg@10"] > a["ndcg@10"] or q[on]["tracking_tv"] < a["tracking_tv"])]
for s in seqs:
    for rr in rerankers:
        for p in curves[s][rr]:
            p["dominated_by"] = {on: dominated_by(p, on) for on in ("valid", "test")}
compares = {s: json.load(open(f"{work}/compare.{s}.json")) for s in seqs}
res = {"what": "accuracy / tracking frontier of calibrated lists (calibrated: the greedy's order; calibrated_set: "
               "the same items in the model's order) on the replay (--skip-repeats) of the validation and test "
               "periods, online state, event means; compare: each sequential model re-ranked at the strength its "
               "`rule` picks on validation (budget: the largest whose validation NDCG@10 is within `budget` of "
               "its plain list's; maximin: the largest smaller relative validation margin over the best plain "
               "static model, min(NDCG@10 / best - 1, 1 - tracking tv / best)), against every static model "
               "plain and re-ranked at the strength whose validation tracking tv is nearest (test replay, "
               "per-user means, paired bootstrap, Holm over each family)",
       "setting": setting, "reranker": chosen, "rule": rule, "budget": float(budget), "half_life": half_life,
       "picked_lambda": picks,
       "curves": curves, "compare": compares}
json.dump(res, open(out, "w"), indent=2)
for rr in rerankers:
    print(rr)
    print("  %-8s %6s  %-16s %-16s %s" % ("model", "lambda", "valid ndcg / tv", "test ndcg / tv", "test: dominated by"))
    for m in seqs + statics:
        for p in curves[m][rr]:
            v, t = p["valid"], p["test"]
            print("  %-8s %6g  %.4f / %.3f  %.4f / %.3f  %s" % (m, p["lambda"], v["ndcg@10"], v["tracking_tv"],
                  t["ndcg@10"], t["tracking_tv"], " ".join(p.get("dominated_by", {}).get("test", []))))
for s in seqs:
    r = compares[s]
    print("compare: baseline", s, r.get("rerank", [None])[0])
    for c in r["comparisons"]:
        print("  %-12s %-8s %-20s %.4f vs %.4f  p_holm %.2g" % (c["metric"], c["model"].rsplit("/", 1)[-1],
              c.get("rerank") or "-", c["value"], c["baseline_value"], c["p_holm"]))
PY
bench/provenance.py "$out" --command "SEED=${SEED:-7} LAMBDAS=\"$lambdas\" RERANKER=$chosen_reranker RULE=$rule BUDGET=$budget HALF_LIFE=$half_life \
SEQ=\"$seq_models\" STATIC=\"$static_models\" OUT=$out bench/drift_frontier.sh $users $items $setting" \
  --data "$setting (driftrec $(drift_synth_args "$users" "$items" "$setting"))=$data"
