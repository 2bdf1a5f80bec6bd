#!/usr/bin/env bash
# Privacy-utility curve: test NDCG@10 of user-level private BPR (DP-SGD) and iALS (sufficient-
# statistics perturbation) at epsilon 1..16 and of the non-private models (inf); leave-one-out,
# full ranking, seen items excluded (the split of the README's other tables); delta = 1e-5 for
# every row. Writes bench/results/privacy_utility_NAME.json and prints a Markdown table.
#   bench/privacy_utility.sh DATA NAME        e.g. ../shared/data/ml100k ml100k
# IALS_SET="--set factors=16 --set iterations=4" adds settings to every private iALS row (chosen on
# that data's validation split).
source "$(dirname "$0")/train_eval.sh"
run() {  # label, train args...
  local label=$1; shift
  train_eval "$label" "$@"
  python3 - "$label" "$work/r.json" "$work/m/model.json" "$secs" "$*" >> "$work/rows.jsonl" <<'PY'
import json, sys
label, res, meta, secs, args = sys.argv[1:]
r = json.load(open(res)); m = json.load(open(meta)); p = m.get("privacy") or {}
x = r["metrics"] if "metrics" in r else r
print(json.dumps({"row": label, "epsilon": p.get("epsilon"), "noise_multiplier": p.get("noise_multiplier"),
                  "steps": p.get("steps"), "sampling_rate": p.get("sampling_rate"), "ndcg@10": x["ndcg@10"],
                  "hr@10": x["hr@10"], "train_s": int(secs), "command": "driftrec train --data DATA " + args}))
PY
}
run pop --model pop
run "bpr, not private" --model bpr --config configs/beauty/bpr.yaml
run "bpr DP-SGD path, no noise" --model bpr --config configs/privacy/bpr.yaml --set dp_noise=0.001
for eps in 16 8 4 2 1; do
  run "bpr, eps=$eps" --model bpr --config configs/privacy/bpr.yaml --set dp_epsilon=$eps
done
run "ials, not private" --model ials --config configs/beauty/ials.yaml
read -r -a ials_set <<< "${IALS_SET:-}"
run "ials private path, no noise" --model ials --config configs/privacy/ials.yaml "${ials_set[@]}" --set dp_noise=0.0001
for eps in 16 10 8 4 2 1; do
  run "ials, eps=$eps" --model ials --config configs/privacy/ials.yaml "${ials_set[@]}" --set dp_epsilon=$eps
done
python3 - "$work/rows.jsonl" "bench/results/privacy_utility_$name.json" "$data" "${IALS_SET:-}" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
json.dump({"data": sys.argv[3], "protocol": "leave-one-out, full ranking, seen excluded; test split; delta=1e-5",
           "private_ials_settings": sys.argv[4],
           "rows": rows}, open(sys.argv[2], "w"), indent=2)
bases = {m: next(r for r in rows if r["row"] == m + ", not private")["ndcg@10"] for m in ("bpr", "ials")}
print("| row | epsilon | noise mult. | steps | HR@10 | NDCG@10 | of non-private | train s |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    base = bases.get(r["row"].split(",")[0].split(" ")[0], bases["bpr"])
    eps = "inf" if r["epsilon"] is None or r["epsilon"] > 1e6 else f"{r['epsilon']:.2f}"
    nm = "" if r["noise_multiplier"] is None else f"{r['noise_multiplier']:.3g}"
    print(f"| {r['row']} | {eps} | {nm} | {r['steps'] or ''} | {r['hr@10']:.4f} | {r['ndcg@10']:.4f} | "
          f"{100 * r['ndcg@10'] / base:.0f}% | {r['train_s']} |")
PY
