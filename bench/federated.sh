#!/usr/bin/env bash
# Federated vs centralised BPR-MF (or sasrec): test NDCG@10 (leave-one-out, full ranking, seen excluded),
# training time, and bytes per round up and down (sparse rows vs the dense table, secure
# aggregation's masked uploads, DP-FedAvg). Writes bench/results/federated_NAME.json and prints a
# Markdown table. SECURE=0 skips the secure-aggregation row (dense masked uploads: slow on big
# catalogues). MODEL=sasrec runs the same rows for the sequential model (configs/federated/sasrec.yaml
# against configs/beauty/sasrec.yaml centralised) into bench/results/federated_sasrec_NAME.json.
#   bench/federated.sh DATA NAME        e.g. ../shared/data/ml100k ml100k
source "$(dirname "$0")/train_eval.sh"
run() {  # label, train args...
  local label=$1; shift
  train_eval "$label" "$@"
  python3 - "$label" "$work/r.json" "$work/m/model.json" "$secs" "$*" >> "$work/rows.jsonl" <<'PY'
import json, sys
label, res, meta, secs, args = sys.argv[1:]
r = json.load(open(res)); m = json.load(open(meta)); f = m.get("federated") or {}; p = m.get("privacy") or {}
x = r["metrics"] if "metrics" in r else r
rounds = f.get("rounds") or 1
print(json.dumps({"row": label, "ndcg@10": x["ndcg@10"], "hr@10": x["hr@10"], "train_s": int(secs),
                  "mb_up_per_round": f.get("bytes_up", 0) / rounds / 1e6 if f else None,
                  "mb_down_per_round": f.get("bytes_down", 0) / rounds / 1e6 if f else None,
                  "epsilon": p.get("epsilon"), "command": "driftrec train --data DATA " + args}))
PY
}
if [[ ${MODEL:-bpr} == sasrec ]]; then
  # The sequential model: centralised with its committed config against federated sasrec (FedAdam
  # server, every user a client sampled at fed_client_rate per round). ITEMS=file adds an item table.
  # FED_SET adds settings to every federated row (e.g. "--set fed_client_rate=0.005" on a big population).
  extra=(); [[ -n ${ITEMS:-} ]] && extra=(--items "$ITEMS")
  read -r -a fed_set <<< "${FED_SET:-}"
  cfg=configs/federated/sasrec.yaml
  fed=(--model sasrec --config $cfg "${extra[@]}" "${fed_set[@]}")
  # Whole sequences, as the recorded centralised rows and the federated clients (which train on them); no seen-item penalty.
  run "centralised sasrec" --model sasrec --config configs/beauty/sasrec.yaml --set samples=sequences --set filter_mix=0 --set ffn_dim=0 --set weight_average=0 --set seen_penalty=0 \
    --set eval_every=5 --set patience=4 "${extra[@]}"
  run "federated sasrec (full softmax: every item row changes)" "${fed[@]}"
  sampled=(--set loss=sampled --set negatives=256)
  run "federated sasrec, 256 sampled negatives, sparse uploads" "${fed[@]}" "${sampled[@]}"
  run "federated sasrec, 256 sampled negatives, dense uploads" "${fed[@]}" "${sampled[@]}" --set fed_sparse=false
  [[ ${SECURE:-1} == 1 ]] && run "federated sasrec, secure aggregation, 10% dropout" "${fed[@]}" \
    --set fed_secure=true --set fed_dropout=0.1
  # DP settings chosen on MovieLens-100K's validation split at eps 8 (NDCG@10): FedAdam with dp_clip 0.05
  # 0.0401, lr 0.001 0.0052, rate 0.3 for 100 rounds 0.0334; FedAvg, client lr 1, dp_clip 0.5 0.0409 (kept).
  run "federated sasrec, DP-FedAvg eps=8" "${fed[@]}" --set dp_epsilon=8 --set fed_server=avg \
    --set fed_client_lr=1.0 --set dp_clip=0.5
  out=bench/results/federated_sasrec_$name.json
else
  cfg=configs/federated/fedbpr.yaml
  run "centralised bpr" --model bpr --config configs/beauty/bpr.yaml
  run "federated, sparse uploads" --model fedbpr --config $cfg
  run "federated, dense uploads" --model fedbpr --config $cfg --set sparse=false
  run "federated, FedProx mu=0.1" --model fedbpr --config $cfg --set prox_mu=0.1
  [[ ${SECURE:-1} == 1 ]] && run "federated, secure aggregation, 10% dropout" --model fedbpr --config $cfg --set secure=true --set dropout=0.1
  run "federated, DP-FedAvg eps=8, half the clients per round" --model fedbpr --config $cfg --set dp_epsilon=8 --set client_rate=0.5
  out=bench/results/federated_$name.json
fi
python3 - "$work/rows.jsonl" "$out" "$data" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
json.dump({"data": sys.argv[3], "protocol": "leave-one-out, full ranking, seen excluded; test split", "rows": rows},
          open(sys.argv[2], "w"), indent=2)
print("| row | HR@10 | NDCG@10 | train s | MB up / round | MB down / round | epsilon |")
print("|---|---|---|---|---|---|---|")
f = lambda v, d: "" if v is None else f"{v:.{d}f}"
for r in rows:
    print(f"| {r['row']} | {r['hr@10']:.4f} | {r['ndcg@10']:.4f} | {r['train_s']} | {f(r['mb_up_per_round'], 2)} | "
          f"{f(r['mb_down_per_round'], 2)} | {f(r['epsilon'], 2)} |")
PY
