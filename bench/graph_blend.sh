#!/usr/bin/env bash
# A validated, then refit blend of models on a split shipped without a validation file (LightGCN's
# Gowalla): validation is carved out of the training file (`--valid-fraction F`: a seeded random
# share of each user's training items), every member is trained on the rest and the blend's weights
# are fitted on those validation cases; then each member is retrained on the whole training file
# (`train --refit-from`) and blended with the weights fitted on validation (`ensemble --refit
# --weights-from`). Nothing is chosen on the test split. Every member is also evaluated alone under
# the same protocol (refit), so the blend is compared like for like.
# Writes bench/results/graph_blend_NAME.json and prints a Markdown table. Members are "model [--set
# k=v ...]" strings, as in bench/graph.sh (settings chosen on the same carved validation split).
#   bench/graph_blend.sh DATA NAME FRACTION MEMBER...
#   e.g. bench/graph_blend.sh ../shared/data/gowalla gowalla 0.1 gfcf "ease --set lambda=65"
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?data path}
name=${2:?name for the results}
fraction=${3:?validation fraction}
shift 3
members=("$@")
models=()
for row in "${members[@]}"; do models+=("${row%% *}"); done
[[ ${#models[@]} -ge 2 ]] || { echo "name at least two models to blend" >&2; exit 1; }
bin=${DRIFTREC_BIN:-build/driftrec}
[[ -x $bin ]] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 1; }
work=${BLEND_WORK:-$(mktemp -d)}
[[ -n ${BLEND_WORK:-} ]] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work" bench/results
timed() {  # timed LABEL CMD...: runs CMD, appends "LABEL seconds peak_kb" to $work/times
  local label=$1
  shift
  /usr/bin/time -f "%e %M" -o "$work/t" "$@" > /dev/null
  echo "$label $(tail -1 "$work/t")" >> "$work/times"
}
: > "$work/times"
validated=()
refit=()
for row in "${members[@]}"; do
  read -r m rest <<< "$row"
  # shellcheck disable=SC2086
  timed "train:$m" $bin --log-level warn --threads 2 train --data "$data" --split given --valid-fraction "$fraction" \
    --model "$m" $rest --out "$work/$m"
  validated+=(--member "$work/$m")
done
timed "ensemble" $bin --log-level warn --threads 2 ensemble --data "$data" "${validated[@]}" --out "$work/blend"
for m in "${models[@]}"; do
  timed "refit:$m" $bin --log-level warn --threads 2 train --data "$data" --refit-from "$work/$m" --out "$work/${m}_refit"
  rm -rf "${work:?}/$m"  # large weights (EASE: 4 n_items^2 bytes); the blend keeps its own copy
  refit+=(--member "$work/${m}_refit")
  timed "evaluate:$m" $bin --log-level warn --threads 2 evaluate --model "$work/${m}_refit" --data "$data" --k 10,20 \
    --json "$work/$m.json"
done
timed "ensemble_refit" $bin --log-level warn --threads 2 ensemble --data "$data" --refit "${refit[@]}" \
  --weights-from "$work/blend" --out "$work/blend_refit"
timed "evaluate:blend" $bin --log-level warn --threads 2 evaluate --model "$work/blend_refit" --data "$data" --k 10,20 \
  --json "$work/blend.json"
python3 - "$data" "$name" "$fraction" "$work" "${members[@]}" <<'PY'
import json, shlex, sys
data, name, fraction, work, members = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
models = [row.split()[0] for row in members]
settings = {row.split()[0]: " ".join(row.split()[1:]) for row in members}
times = {}
for line in open(f"{work}/times"):
    label, s, kb = line.split()
    times[label] = (float(s), int(kb) / 1024)
blend_meta = json.load(open(f"{work}/blend/model.json"))
weights = blend_meta.get("member_weights") or blend_meta.get("config", {}).get("weights")
rows = []
for m in models + ["blend"]:
    x = json.load(open(f"{work}/{m}.json"))["metrics"]
    row = {"model": m, "settings": settings.get(m, ""), "recall@20": x["recall@20"], "ndcg@20": x["ndcg@20"], "ndcg@10": x["ndcg@10"],
           "evaluate_s": times[f"evaluate:{m}"][0]}
    if m != "blend":
        row.update({"validated_train_s": times[f"train:{m}"][0], "refit_train_s": times[f"refit:{m}"][0],
                    "refit_peak_mb": times[f"refit:{m}"][1]})
    else:
        row.update({"weights": weights, "fit_weights_s": times["ensemble"][0], "fit_weights_peak_mb": times["ensemble"][1]})
    rows.append(row)
json.dump({"data": data, "threads": 2,
           "protocol": f"given train/test split; validation = a seeded {fraction} share of each user's training items "
                       "(--valid-fraction, seed 42); members trained on the rest, blend weights fitted on validation "
                       "NDCG@10; members refit on the whole training file, blended with those weights; test: all test "
                       "items per user, full ranking, training items excluded (LightGCN's Recall@20 / NDCG@20)",
           "command": f"bench/graph_blend.sh {data} {name} {fraction} " + " ".join(shlex.quote(r) for r in members),
           "rows": rows},
          open(f"bench/results/graph_blend_{name}.json", "w"), indent=2)
print("| model (refit) | Recall@20 | NDCG@20 | validated train s | refit train s | evaluate s |")
print("|---|---|---|---|---|---|")
for r in rows:
    extra = (f"{r['validated_train_s']:.0f} | {r['refit_train_s']:.0f}" if r["model"] != "blend"
             else f"weights {r['weights']} fitted in {r['fit_weights_s']:.0f} s | -")
    label = r["model"] + (f" ({r['settings']})" if r.get("settings") else "")
    print(f"| {label} | {r['recall@20']:.4f} | {r['ndcg@20']:.4f} | {extra} | {r['evaluate_s']:.0f} |")
PY
