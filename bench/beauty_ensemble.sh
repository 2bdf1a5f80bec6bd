#!/usr/bin/env bash
# The Beauty ensemble: trains the members with their committed configs (bench/beauty.sh with
# KEEP_MODELS), blends them with weights fitted on the validation split, and evaluates the blend
# once on the test split. Writes bench/results/beauty_ensemble.json.
#   bench/beauty_ensemble.sh [path/to/Beauty.txt] [members=sasrec hstu hstu@7 itemknn]  (NAME@SEED: another seed)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/beauty/Beauty.txt}
shift || true
members=("$@")
[[ ${#members[@]} -gt 0 ]] || members=(sasrec hstu hstu@7 itemknn)
keep=${KEEP_MODELS:-bench/models/beauty}
for m in "${members[@]}"; do
  [[ -s $keep/$m/model.json ]] || KEEP_MODELS=$keep bench/beauty.sh "$data" "$m"
done
args=()
for m in "${members[@]}"; do args+=(--member "$keep/$m"); done
bin=${DRIFTREC_BIN:-build/driftrec}
$bin --threads 2 ensemble --data "$data" "${args[@]}" --out "$keep/ensemble" | tee "$keep/ensemble.txt"
$bin --log-level warn --threads 2 evaluate --model "$keep/ensemble" --data "$data" --json bench/results/beauty_ensemble.json > /dev/null
python3 - "$keep/ensemble/model.json" "${members[*]}" <<'PY'
import json, sys
meta = json.load(open(sys.argv[1]))
path = "bench/results/beauty_ensemble.json"
r = json.load(open(path))
r["members"] = sys.argv[2].split()
r["member_weights"] = meta.get("member_weights")
r["validation"] = meta.get("validation")
r["weight_fitting_seconds"] = meta.get("training_seconds")
json.dump(r, open(path, "w"), indent=2)
x = r["metrics"]
print(f"| ensemble ({' + '.join(r['members'])}) | {x['hr@10']:.4f} | {x['ndcg@10']:.4f} | {x['mrr']:.4f} | {x['coverage@10']:.3f} |"
      f" weights {', '.join(f'{w:.2f}' for w in r['member_weights'])}, fitted on validation in {r['weight_fitting_seconds']:.0f} s |")
PY
