#!/usr/bin/env bash
# A validated, then refit blend of models on a split shipped without a validation file (LightGCN's
# Gowalla): validation is carved out of the training file (`--valid-fraction F`: a seeded random
# share of each user's training items), every member is trained on the rest and the blend's weights
# are fitted on those validation cases; then each member is retrained on the whole training file
# (`train --refit-from`) and blended with the weights fitted on validation (`ensemble --refit
# --weights-from`). Nothing is chosen on the test split. Every member is also evaluated alone under
# the same protocol (refit), so the blend is compared like for like.
# Writes bench/results/graph_blend_NAME.json and prints a Markdown table. Members are "model [--set
# k=v ...]" strings, as in bench/graph.sh (settings chosen on the same carved validation split), or
# "@DIR": a model already trained on this carved split (same data, --split given, --valid-fraction
# FRACTION, seed 42; checked from its model.json), which is reused instead of trained again (a
# LightGCN member costs ~25 minutes); its training time is the one its model.json recorded. A model
# named by several members gets rows lightgcn, lightgcn_2, ... (each row's "kind" is the model).
#   bench/graph_blend.sh DATA NAME FRACTION MEMBER...
#   e.g. bench/graph_blend.sh ../shared/data/gowalla gowalla 0.1 gfcf "ease --set lambda=65"
#        bench/graph_blend.sh ../shared/data/gowalla gowalla 0.1 gfcf @runs/lightgcn_validated
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?data path}
name=${2:?name for the results}
fraction=${3:?validation fraction}
shift 3
members=("$@")
reused_model() {  # reused_model DIR: the model name of a run trained on this carved split, or exit 1
  python3 - "$1" "$data" "$fraction" <<'PY'
import json, os, sys
d, data, fraction = sys.argv[1:]
try:
    m = json.load(open(os.path.join(d, "model.json")))
except OSError as e:
    sys.exit(f"{d}: not a trained model ({e.strerror})")
p = m.get("preprocess", {})
if p.get("split") != "given" or p.get("refit") or abs(float(p.get("valid_fraction", -1)) - float(fraction)) > 1e-12 \
        or p.get("valid_seed") != 42 or os.path.basename(os.path.normpath(m["data"]["name"])) != \
        os.path.basename(os.path.normpath(data)):
    sys.exit(f"{d}: not trained on {data} with --split given --valid-fraction {fraction} (seed 42); "
             f"its model.json says {m['data']['name']}, {p}")
print(m["model"])
PY
}
models=()
for row in "${members[@]}"; do
  if [[ $row == @* ]]; then models+=("$(reused_model "${row#@}")"); else models+=("${row%% *}"); fi
done
[[ ${#models[@]} -ge 2 ]] || { echo "name at least two models to blend" >&2; exit 1; }
# Each member's label (work directory, time entries, result row): its model name, with _2, _3, ...
# for a second and third member of the same model (e.g. two lightgcn runs).
labels=()
declare -A uses=()
for m in "${models[@]}"; do
  uses[$m]=$((${uses[$m]:-0} + 1))
  if ((uses[$m] == 1)); then labels+=("$m"); else labels+=("${m}_${uses[$m]}"); fi
done
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
validated=()  # the validated model directories, in member order
refit=()
for i in "${!members[@]}"; do
  row=${members[$i]}
  m=${models[$i]}
  l=${labels[$i]}
  if [[ $row == @* ]]; then
    validated+=("${row#@}")
    continue
  fi
  read -r _ rest <<< "$row"
  # shellcheck disable=SC2086
  timed "train:$l" $bin --log-level warn --threads 2 train --data "$data" --split given --valid-fraction "$fraction" \
    --model "$m" $rest --out "$work/$l"
  validated+=("$work/$l")
done
python3 - "${validated[@]}" <<'PY'  # every member saw the same carved training set
import json, sys
prints = {d: json.load(open(d + "/model.json"))["data"]["fingerprint"] for d in sys.argv[1:]}
if len(set(prints.values())) > 1:
    sys.exit(f"members were trained on different data (fingerprints {prints})")
PY
timed "ensemble" $bin --log-level warn --threads 2 ensemble --data "$data" "${validated[@]/#/--member=}" --out "$work/blend"
for i in "${!labels[@]}"; do
  l=${labels[$i]}
  timed "refit:$l" $bin --log-level warn --threads 2 train --data "$data" --refit-from "${validated[$i]}" \
    --out "$work/${l}_refit"
  [[ ${members[$i]} == @* ]] || rm -rf "${work:?}/$l"  # large weights (EASE: 4 n_items^2 bytes); the blend keeps a copy
  refit+=(--member "$work/${l}_refit")
  timed "evaluate:$l" $bin --log-level warn --threads 2 evaluate --model "$work/${l}_refit" --data "$data" --k 10,20 \
    --json "$work/$l.json"
done
timed "ensemble_refit" $bin --log-level warn --threads 2 ensemble --data "$data" --refit "${refit[@]}" \
  --weights-from "$work/blend" --out "$work/blend_refit"
timed "evaluate:blend" $bin --log-level warn --threads 2 evaluate --model "$work/blend_refit" --data "$data" --k 10,20 \
  --json "$work/blend.json"
python3 - "$data" "$name" "$fraction" "$work" "${#members[@]}" "${members[@]}" "${models[@]}" "${labels[@]}" <<'PY'
import json, shlex, sys
data, name, fraction, work, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
members, kinds, models = sys.argv[6:6 + n], sys.argv[6 + n:6 + 2 * n], sys.argv[6 + 2 * n:]  # models: the labels
kind = dict(zip(models, kinds), blend="ensemble")
settings, reused = {}, {}
for row, m in zip(members, models):
    if row.startswith("@"):
        meta = json.load(open(row[1:] + "/model.json"))
        reused[m] = meta["training_seconds"]
        settings[m] = f"reused validated run {row[1:]}: " + json.dumps(meta["config"], sort_keys=True)
    else:
        settings[m] = " ".join(row.split()[1:])
times = {}
for line in open(f"{work}/times"):
    label, s, kb = line.split()
    times[label] = (float(s), int(kb) / 1024)
blend_meta = json.load(open(f"{work}/blend/model.json"))
weights = blend_meta.get("member_weights") or blend_meta.get("config", {}).get("weights")
rows = []
for m in models + ["blend"]:
    x = json.load(open(f"{work}/{m}.json"))["metrics"]
    row = {"model": m, "kind": kind[m], "settings": settings.get(m, ""), "recall@20": x["recall@20"], "ndcg@20": x["ndcg@20"], "ndcg@10": x["ndcg@10"],
           "evaluate_s": times[f"evaluate:{m}"][0]}
    if m != "blend":
        row.update({"validated_train_s": reused[m] if m in reused else times[f"train:{m}"][0],
                    "validated_run_reused": m in reused, "refit_train_s": times[f"refit:{m}"][0],
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
