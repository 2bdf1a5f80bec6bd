#!/usr/bin/env bash
# The final Beauty models: each member of the validated ensemble (bench/beauty_ensemble.sh) is
# retrained on training + validation events (`train --refit-from`: same config and seed, for the
# epoch count that was best on validation), then blended with the weights the ensemble fitted on
# validation (`ensemble --refit --weights-from`). Nothing is chosen on the test split: the refit
# was decided before it was run, and both the validated and the refit figures are reported.
# Writes bench/results/beauty_refit.json (rows of other runs are kept) and prints a Markdown table.
#   bench/beauty_refit.sh [path/to/Beauty.txt] [more models...]
# Needs the models that beauty_ensemble.sh keeps; more models (e.g. gru4rec caser bpr ials pop)
# must be kept first: KEEP_MODELS=bench/models/beauty bench/beauty.sh Beauty.txt gru4rec caser.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/beauty/Beauty.txt}
shift || true
extra=("$@")
keep=${KEEP_MODELS:-bench/models/beauty}
items=()
attrs=$(dirname "$data")/$(basename "$data" .txt)_item2attributes.json
[[ -f $attrs ]] && items=(--items "$attrs")
bin=${DRIFTREC_BIN:-build/driftrec}
[[ -s $keep/ensemble/model.json ]] || { echo "run bench/beauty_ensemble.sh first (no $keep/ensemble)" >&2; exit 1; }
mapfile -t members < <(python3 -c "import json,sys; print('\n'.join(json.load(open(sys.argv[1]))['members']))" "$keep/ensemble/model.json")
mkdir -p "$keep/refit" bench/results
refit_members=()
rows=()
refit() {  # refit DIR: retrain, evaluate, add a row
  local dir=$1 m out
  m=$(basename "$dir")
  out=$keep/refit/$m
  [[ -s $out/model.json ]] || $bin --log-level warn --threads 2 train --data "$data" "${items[@]}" --refit-from "$dir" --out "$out" > /dev/null
  $bin --log-level warn --threads 2 evaluate --model "$out" --data "$data" --json "$keep/refit/$m.json" > /dev/null
  rows+=("$m" "$dir" "$out" "$keep/refit/$m.json")
}
for dir in "${members[@]}"; do
  refit "$dir"
  refit_members+=(--member "$keep/refit/$(basename "$dir")")
done
for m in "${extra[@]}"; do
  [[ -s $keep/$m/model.json ]] || { echo "no $keep/$m: KEEP_MODELS=$keep bench/beauty.sh $data $m" >&2; exit 1; }
  refit "$keep/$m"
done
$bin --log-level warn --threads 2 ensemble --data "$data" --refit "${refit_members[@]}" --weights-from "$keep/ensemble" \
  --out "$keep/refit/ensemble" > /dev/null
$bin --log-level warn --threads 2 evaluate --model "$keep/refit/ensemble" --data "$data" --json "$keep/refit/ensemble.json" > /dev/null
rows+=(ensemble "$keep/ensemble" "$keep/refit/ensemble" "$keep/refit/ensemble.json")
python3 - "$data" "${rows[@]}" <<'PY'
import json, os, sys
data, args = sys.argv[1], sys.argv[2:]
path = "bench/results/beauty_refit.json"
old = json.load(open(path))["rows"] if os.path.exists(path) else []
out = []
print("| model | validated HR@10 | validated NDCG@10 | refit HR@10 | refit NDCG@10 | refit MRR | refit epochs | refit train s |")
print("|---|---|---|---|---|---|---|---|")
for k in range(0, len(args), 4):
    m, vdir, rdir, rjson = args[k:k + 4]
    name = m.split("@")[0]
    validated = f"bench/results/beauty_{m}.json" if m != "ensemble" else "bench/results/beauty_ensemble.json"
    v = json.load(open(validated))["metrics"] if os.path.exists(validated) else {}
    r = json.load(open(rjson))["metrics"]
    meta = json.load(open(os.path.join(rdir, "model.json")))
    row = {"model": m, "validated": {x: v.get(x) for x in ("hr@10", "ndcg@10", "mrr")},
           "refit": {x: r[x] for x in ("hr@10", "ndcg@10", "mrr", "hr@20", "ndcg@20", "coverage@10")},
           "refit_epochs": (meta.get("config", {}).get("epochs") or meta.get("config", {}).get("iterations")) if m != "ensemble" else None,
           "refit_training_seconds": meta.get("training_seconds"), "member_weights": meta.get("member_weights")}
    out.append(row)
    f = lambda x: "" if x is None else f"{x:.4f}"
    print(f"| {m} | {f(v.get('hr@10'))} | {f(v.get('ndcg@10'))} | {r['hr@10']:.4f} | {r['ndcg@10']:.4f} | {r['mrr']:.4f} | "
          f"{row['refit_epochs'] or ''} | {row['refit_training_seconds']:.0f} |")
names = {r["model"] for r in out}
out = [r for r in old if r["model"] not in names] + out
json.dump({"data": data, "protocol": "leave-one-out, full ranking, seen items excluded",
           "refit": "members retrained on train + validation events with their config, seed and best validation epoch; "
                    "ensemble weights as fitted on validation",
           "command": "bench/beauty_ensemble.sh ../shared/data/beauty/Beauty.txt sasrec hstu hstu@7 hstu@13 itemknn && "
                      "KEEP_MODELS=bench/models/beauty bench/beauty.sh ../shared/data/beauty/Beauty.txt pop bpr ials gru4rec caser && "
                      "bench/beauty_refit.sh ../shared/data/beauty/Beauty.txt pop bpr ials gru4rec caser",
           "rows": out}, open(path, "w"), indent=2)
PY
