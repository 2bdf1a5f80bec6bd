#!/usr/bin/env bash
# The Beauty ensemble: trains the members with their committed configs (bench/beauty.sh with
# KEEP_MODELS), blends them with weights fitted on the validation split, and evaluates the blend
# once on the test split. Writes bench/results/beauty_ensemble.json, or $ENSEMBLE_OUT (for blends
# compared on validation, e.g. bench/results/beauty_ensemble_4members.json), with the command, the
# data fingerprint and every member's config and seed.
#   [ENSEMBLE_OUT=file.json] bench/beauty_ensemble.sh [path/to/Beauty.txt] [members=sasrec hstu hstu@7 itemknn]
#   (NAME@SEED: another seed)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/beauty/Beauty.txt}
shift || true
members=("$@")
[[ ${#members[@]} -gt 0 ]] || members=(sasrec hstu hstu@7 itemknn)
keep=${KEEP_MODELS:-bench/models/beauty}
out=${ENSEMBLE_OUT:-bench/results/beauty_ensemble.json}
blend=$keep/$(basename "$out" .json)
command="bench/beauty_ensemble.sh $data ${members[*]}"
[[ -z ${ENSEMBLE_OUT:-} ]] || command="ENSEMBLE_OUT=$out $command"
for m in "${members[@]}"; do
  [[ -s $keep/$m/model.json ]] || KEEP_MODELS=$keep bench/beauty.sh "$data" "$m"
done
args=()
for m in "${members[@]}"; do args+=(--member "$keep/$m"); done
bin=${DRIFTREC_BIN:-build/driftrec}
$bin --threads 2 ensemble --data "$data" "${args[@]}" --out "$blend" | tee "$blend.txt"
$bin --log-level warn --threads 2 evaluate --model "$blend" --data "$data" --json "$out" > /dev/null
python3 - "$blend/model.json" "${members[*]}" "$out" "$command" "$keep" <<'PY'
import json, sys
meta = json.load(open(sys.argv[1]))
path = sys.argv[3]
r = json.load(open(path))
r["command"] = sys.argv[4]
r["members"] = sys.argv[2].split()
r["member_configs"] = {}
for m in r["members"]:
    mm = json.load(open("%s/%s/model.json" % (sys.argv[5], m)))
    r["member_configs"][m] = {"model": mm.get("model"), "config": mm.get("config"), "seed": mm.get("seed")}
r["member_weights"] = meta.get("member_weights")
r["validation"] = meta.get("validation")
r["weight_fitting_seconds"] = meta.get("training_seconds")
json.dump(r, open(path, "w"), indent=2)
x = r["metrics"]
print(f"| ensemble ({' + '.join(r['members'])}) | {x['hr@10']:.4f} | {x['ndcg@10']:.4f} | {x['mrr']:.4f} | {x['coverage@10']:.3f} |"
      f" weights {', '.join(f'{w:.2f}' for w in r['member_weights'])}, fitted on validation in {r['weight_fitting_seconds']:.0f} s |")
PY
# Command, data fingerprints, commit and date into the results file.
bench/provenance.py "$out" --command "$command" --data "data=$data"
