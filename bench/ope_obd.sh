#!/usr/bin/env bash
# Off-policy evaluation on the Open Bandit Dataset sample, as the Open Bandit paper evaluates
# estimators: each logging policy's value is estimated from the *other* policy's logs and compared
# with its on-policy value (the mean click rate in its own logs). Both campaigns, both directions,
# both reward models. Writes bench/results/ope_obd.json and prints the relative errors.
#   bench/ope_obd.sh [path/to/obd]
set -euo pipefail
cd "$(dirname "$0")/.."
obd=${1:-../shared/data/obd}
bin=${DRIFTREC_BIN:-build/driftrec}
[[ -x $bin ]] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
runs=()
for c in men women; do
  for rm in tabular logistic; do
    # bts's value from the uniform policy's logs
    $bin --log-level warn --threads 1 ope --log "$obd/random/$c/$c.csv" --policy bts --prior "$obd/prior_bts.yaml" \
      --campaign "$c" --truth-log "$obd/bts/$c/$c.csv" --reward-model "$rm" --json "$work/$c-bts-$rm.json" > /dev/null
    # the uniform policy's value from bts's logs
    $bin --log-level warn --threads 1 ope --log "$obd/bts/$c/$c.csv" --policy uniform \
      --truth-log "$obd/random/$c/$c.csv" --reward-model "$rm" --json "$work/$c-random-$rm.json" > /dev/null
    runs+=("$c:bts:$rm" "$c:random:$rm")
  done
done
mkdir -p bench/results
python3 - "$work" "${runs[@]}" <<'PY'
import json, math, sys
work, runs = sys.argv[1], sys.argv[2:]
rows = []
for r in runs:
    c, target, rm = r.split(":")
    j = json.load(open(f"{work}/{c}-{target}-{rm}.json"))
    # The truth is itself a sample mean: its relative standard error sqrt(p(1-p)/n)/p says how far
    # an exact estimator could land from it by chance.
    p, n = j["truth"], j["rows"]
    j.update({"campaign": c, "evaluated_policy": target, "logging_policy": "random" if target == "bts" else "bts",
              "reward_model": rm, "truth_relative_se": math.sqrt(p * (1 - p) / n) / p})
    rows.append(j)
json.dump({"what": "each OBD logging policy's value estimated from the other policy's 10,000 logged rows; "
                   "relative error against its on-policy click rate", "bootstrap": 1000, "rows": rows},
          open("bench/results/ope_obd.json", "w"), indent=2)
names = ["ips", "snips", "dm", "dr", "switch-dr"]
print("| campaign | evaluated (logs of) | reward model | truth (rel. SE) | ESS | " + " | ".join(names) + " |")
print("|---|---|---|---|---|" + "---|" * len(names))
for j in rows:
    errs = " | ".join(f"{j['estimates'][e]['relative_error']:.3f}" for e in names)
    print(f"| {j['campaign']} | {j['evaluated_policy']} ({j['logging_policy']}) | {j['reward_model']} | "
          f"{j['truth']:.4f} ({j['truth_relative_se']:.2f}) | {j['weights']['ess']:.0f} | {errs} |")
PY
python3 bench/provenance.py bench/results/ope_obd.json --command "bench/ope_obd.sh $*" \
  --note "data: the Open Bandit Dataset sample in $obd (each run's log and truth-log FNV-1a fingerprints are recorded per row)"
