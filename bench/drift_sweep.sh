#!/usr/bin/env bash
# Drift sweep: does following a user's interests pay, and who follows them? The synthetic
# ecommerce shop at several drift settings, from none (the control) to strong; every model with its
# committed config (configs/beauty/*.yaml, unchanged, as bench/transfer.sh uses them); temporal split
# (0.8 / 0.9 of event times). For each setting and model: test NDCG@10 and interest-tracking error
# (total variation of the top-10's category mix from the true current interests) on the split
# protocol; replay of the test period (recommend, reveal, observe) with online NDCG@10, tracking
# error and the lag after true shifts (mean over the shifts followed, and Kaplan-Meier with the
# shifts never followed as censored: median lag and share followed within 5 events); and how much
# the truth itself moves (mean total variation between a user's consecutive sessions, share of
# sessions that are shifts). The best sequential
# model (chosen by validation NDCG@10, the split protocol on the validation period asked like the test
# period, at its own cutoff; runs before the evening of 2026-12-07 used training's own validation,
# asked without a time; on the replay protocol also the one chosen by replaying the
# validation period, `evaluate --protocol replay --on valid`) is compared with every static model per setting
# (`driftrec compare`, paired bootstrap over users, Holm over the family, on the split and on the
# replay protocol; the baseline is the sequential model, so a negative difference favours it).
# Replay scores only items new to the user (--skip-repeats: a cart or buy right after the view of
# the same item would otherwise dominate). The split protocol is reported twice: as `evaluate`
# defaults (seen items excluded, but a target the user comes back to stays rankable: this lifts
# models that score the user's own history high, iALS above all) and with --skip-repeats (targets
# new to the user only: discovery, where no model can rank a seen item), and since 2026-12-07 a third
# time with --include-seen (every seen item rankable, for every model: no rule tells a model which
# of them the user comes back to). The split protocol's lists are
# asked for at the test period's cutoff (REQUEST_AT=cutoff, `--request-at`: the moment a nightly job
# computes them; a model with `request_time` then knows how long ago each user's last event was;
# the others ignore it); REQUEST_AT=none asks without a time, as the results before 2026-12-07 did.
# Writes bench/results/drift_sweep.json and prints a Markdown table.
#   [SEQ_SET="k=v ..."] [MODELS=dir] [SEED=7] [REQUEST_AT=cutoff] [OUT=file.json] bench/drift_sweep.sh [users=3000] [items=2000] [settings="none weak moderate strong"] [models=...]
# SEQ_SET: settings added with --set to the sequential models' committed configs (e.g. the
# multi-horizon objective, "future_targets=10 future_weight=0.5"), an ablation: OUT then names
# another results file so the committed-config sweep is not overwritten.
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-3000}
items=${2:-2000}
settings=${3:-"none weak moderate strong"}
models=${4:-"pop itemknn bpr ials gru4rec sasrec hstu"}
bin=${DRIFTREC_BIN:-build/driftrec}
out=${OUT:-bench/results/drift_sweep.json}
request_at=${REQUEST_AT:-cutoff}
seq_set=()
for kv in ${SEQ_SET:-}; do seq_set+=(--set "$kv"); done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=bench/drift_settings.sh
source bench/drift_settings.sh
rows=()
prov=()
# compare_statics BASELINE OUT [flags...]: setting $s's model BASELINE against every static model in
# `statics`, Holm over the family.
compare_statics() {
  $bin --log-level warn --threads 2 compare --data "$data" --model "$work/$s-$1" "${statics[@]}" \
    --bootstrap 1000 --json "$2" "${@:3}" > /dev/null
}
for s in $settings; do
  data="$work/$s"
  drift_shop "$bin" "$users" "$items" "$s" "$data"
  prov+=(--data "$s (driftrec $(drift_synth_args "$users" "$items" "$s"))=$data")
  for m in $models; do
    extra=()
    if drift_sequential "$m"; then extra=("${seq_set[@]}"); fi
    drift_model "$bin" "$data" "$m" "$work/$s-$m" "${extra[@]}"
    $bin --log-level warn --threads 2 evaluate --model "$work/$s-$m" --data "$data" --request-at "$request_at" \
      --json "$work/$s-$m.split.json" > /dev/null
    $bin --log-level warn --threads 2 evaluate --model "$work/$s-$m" --data "$data" --skip-repeats \
      --request-at "$request_at" --json "$work/$s-$m.split_new.json" > /dev/null
    $bin --log-level warn --threads 2 evaluate --model "$work/$s-$m" --data "$data" --include-seen \
      --request-at "$request_at" --json "$work/$s-$m.split_seen.json" > /dev/null
    $bin --log-level warn --threads 2 evaluate --model "$work/$s-$m" --data "$data" --protocol replay --skip-repeats \
      --json "$work/$s-$m.replay.json" > /dev/null
    # The validation period on the split protocol, asked at the same moment as the test period (its own
    # cutoff): the picks below use it, since training's validation asks without a time.
    $bin --log-level warn --threads 2 evaluate --model "$work/$s-$m" --data "$data" --on valid \
      --request-at "$request_at" --json "$work/$s-$m.valid_split.json" > /dev/null
    # The same replay over the validation period (0.8 to the 0.9 cutoff): picks a model by replay
    # without looking at a test event.
    $bin --log-level warn --threads 2 evaluate --model "$work/$s-$m" --data "$data" --protocol replay --on valid \
      --skip-repeats --json "$work/$s-$m.valid_replay.json" > /dev/null
    python3 - "$s" "$m" "$work/$s-$m" "$data/interests.csv" > "$work/$s-$m.row" <<'PY'
import json, sys
s, m, d, truth = sys.argv[1:5]
sp, rp, meta = json.load(open(d + ".split.json")), json.load(open(d + ".replay.json")), json.load(open(d + "/model.json"))
sn = json.load(open(d + ".split_new.json"))
ss = json.load(open(d + ".split_seen.json"))
vr = json.load(open(d + ".valid_replay.json"))
vs = json.load(open(d + ".valid_split.json"))
rt = rp["replay"]["tracking"]
json.dump({"setting": s, "model": m, "ndcg@10": sp["metrics"]["ndcg@10"], "hr@10": sp["metrics"]["hr@10"],
           "tracking_tv": sp["tracking"]["tv"], "tracking_kl": sp["tracking"]["kl"], "cases": sp["users_evaluated"],
           "new_ndcg@10": sn["metrics"]["ndcg@10"], "new_hr@10": sn["metrics"]["hr@10"],
           "new_tracking_tv": sn["tracking"]["tv"], "new_cases": sn["users_evaluated"],
           "seen_ndcg@10": ss["metrics"]["ndcg@10"], "seen_hr@10": ss["metrics"]["hr@10"],
           "seen_tracking_tv": ss["tracking"]["tv"],
           "replay_ndcg@10": rp["replay"]["online"]["ndcg@10"], "replay_frozen_ndcg@10": rp["replay"]["frozen"]["ndcg@10"],
           "replay_tracking_tv": rt["online"]["tv"], "replay_tracking_kl": rt["online"]["kl"],
           "lag_mean": rt["online"]["mean_lag"], "lag_median": rt["online"]["median_lag"],
           "shifts": rt["online"]["shifts"], "shifts_crossed": rt["online"]["shifts_crossed"],
           "frozen_lag_mean": rt["frozen"]["mean_lag"], "frozen_shifts_crossed": rt["frozen"]["shifts_crossed"],
           "lag_km_median": rt["online"]["km_median_lag"], "followed_within_5": rt["online"]["followed_within"]["5"],
           "frozen_followed_within_5": rt["frozen"]["followed_within"]["5"],
           "training_seconds": meta["training_seconds"], "epochs": meta.get("epochs"),
           "validation_ndcg@10": (meta.get("validation") or {}).get("ndcg@10"),
           "validation_split_ndcg@10": vs["metrics"]["ndcg@10"],
           "validation_replay_ndcg@10": vr["replay"]["online"]["ndcg@10"]}, sys.stdout)
PY
    rows+=("$work/$s-$m.row")
  done
  # The truth's own movement, and the best sequential model against the best static one.
  python3 - "$data/interests.csv" > "$work/$s.drift" <<'PY'
import csv, collections, json, sys
snaps = collections.OrderedDict()
for r in csv.DictReader(open(sys.argv[1])):
    snaps.setdefault((r["user_id"], int(r["timestamp"])), {})[r["category"]] = float(r["weight"])
by_user = collections.defaultdict(list)
for (u, t), w in snaps.items():
    z = sum(w.values())
    by_user[u].append({c: v / z for c, v in w.items()})
tvs = []
for seq in by_user.values():
    for a, b in zip(seq, seq[1:]):
        tvs.append(0.5 * sum(abs(a.get(c, 0) - b.get(c, 0)) for c in set(a) | set(b)))
json.dump({"session_tv_mean": sum(tvs) / max(1, len(tvs)), "shift_share": sum(t >= 0.4 for t in tvs) / max(1, len(tvs)),
           "sessions": len(snaps)}, sys.stdout)
PY
  read -r best_seq best_static replay_seq < <(python3 - "$s" "${rows[@]}" <<'PY'
import json, sys
rows = [json.load(open(p)) for p in sys.argv[2:]]
rows = [r for r in rows if r["setting"] == sys.argv[1]]
seq = [r for r in rows if r["model"] in ("gru4rec", "sasrec", "hstu", "caser")]
static = [r for r in rows if r["model"] in ("pop", "itemknn", "bpr", "ials")]
best = lambda rs, key="validation_split_ndcg@10": max(rs, key=lambda r: r[key] or 0)["model"] if rs else "-"
print(best(seq), best(static), best(seq, "validation_replay_ndcg@10"))
PY
  )
  if [[ $best_seq != - && $best_static != - ]]; then
    # The static models, each compared with a sequential pick below.
    statics=()
    for m in $models; do
      case $m in pop | itemknn | bpr | ials) statics+=(--model "$work/$s-$m") ;; esac
    done
    compare_statics "$best_seq" "$work/$s.compare.json" --request-at "$request_at" --metrics ndcg@10,hr@10,tracking_tv
    compare_statics "$best_seq" "$work/$s.compare_replay.json" --protocol replay --skip-repeats \
      --metrics ndcg@10,tracking_tv
    # On the replay protocol, also the sequential model that validation by replay picks.
    if [[ $replay_seq != "$best_seq" ]]; then
      compare_statics "$replay_seq" "$work/$s.compare_replay_pick.json" --protocol replay --skip-repeats \
        --metrics ndcg@10,tracking_tv
    else
      cp "$work/$s.compare_replay.json" "$work/$s.compare_replay_pick.json"
    fi
    compare_statics "$best_seq" "$work/$s.compare_new.json" --skip-repeats --request-at "$request_at" \
      --metrics ndcg@10,hr@10,tracking_tv
    compare_statics "$best_seq" "$work/$s.compare_seen.json" --include-seen --request-at "$request_at" \
      --metrics ndcg@10,hr@10,tracking_tv
  else
    echo '{}' > "$work/$s.compare_new.json"
    echo '{}' > "$work/$s.compare_seen.json"
    echo '{}' > "$work/$s.compare.json"
    echo '{}' > "$work/$s.compare_replay.json"
    echo '{}' > "$work/$s.compare_replay_pick.json"
  fi
  python3 - "$s" "$best_seq" "$best_static" "$work/$s.drift" "$work/$s.compare.json" "${flags[$s]}" \
    "$work/$s.compare_replay.json" "$work/$s.compare_new.json" "$replay_seq" "$work/$s.compare_replay_pick.json" \
    "$work/$s.compare_seen.json" > "$work/$s.setting" <<'PY'
import json, sys
s, seq, static, drift, cmp, flags, cmp_replay, cmp_new, replay_seq, cmp_replay_pick, cmp_seen = sys.argv[1:12]
json.dump({"setting": s, "synth_flags": flags, "truth": json.load(open(drift)),
           "best_sequential_by_validation": seq, "best_static_by_validation": static,
           "compare_split": json.load(open(cmp)), "compare_split_new_targets": json.load(open(cmp_new)),
           "compare_split_seen_rankable": json.load(open(cmp_seen)),
           "compare_replay": json.load(open(cmp_replay)),
           "best_sequential_by_validation_replay": replay_seq,
           "compare_replay_validation_replay_pick": json.load(open(cmp_replay_pick))}, sys.stdout)
PY
done
mkdir -p bench/results
python3 - "$users" "$items" "$settings" "$models" "$out" "${SEQ_SET:-}" "$request_at" "${rows[@]}" <<'PY'
import json, sys, os
users, items, settings, models, out, seq_set, request_at = sys.argv[1:8]
rows = [json.load(open(p)) for p in sys.argv[8:]]
work = os.path.dirname(sys.argv[8])
per = [json.load(open(os.path.join(work, s + ".setting"))) for s in settings.split()]
json.dump({"what": "drift sweep: ecommerce preset, temporal split 0.8 / 0.9, configs/beauty/*.yaml unchanged" +
                   (f"; sequential models with --set {seq_set}" if seq_set else ""),
           "protocol": "split: test cases after the 0.9 cutoff, full ranking, seen excluded except re-consumed targets, "
                       f"lists asked for at: {request_at}; "
                       "new_*: the same with --skip-repeats (targets new to the user only); seen_*: with --include-seen (every "
                       "seen item rankable); replay: every event after "
                       "the 0.9 cutoff scored before it is observed, new items only; tracking: top-10 category mix vs "
                       "true interests",
           "users": int(users), "items": int(items), "settings": per, "rows": rows},
          open(out, "w"), indent=2)
print("| setting | truth tv/session | model | NDCG@10 | new-target NDCG@10 | seen-rankable NDCG@10 | tracking tv | valid. replay NDCG@10 | replay NDCG@10 (frozen) | replay tv | lag mean (crossed/shifts) | KM median lag | followed within 5 | train s |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
km = lambda r: "—" if r["shifts"] == 0 else ("never half" if r["lag_km_median"] is None else str(r["lag_km_median"]))
drift = {p["setting"]: p["truth"]["session_tv_mean"] for p in per}
for r in rows:
    print(f"| {r['setting']} | {drift[r['setting']]:.3f} | {r['model']} | {r['ndcg@10']:.4f} | {r['new_ndcg@10']:.4f} | {r['seen_ndcg@10']:.4f} | "
          f"{r['tracking_tv']:.3f} | {r['validation_replay_ndcg@10']:.4f} | "
          f"{r['replay_ndcg@10']:.4f} ({r['replay_frozen_ndcg@10']:.4f}) | {r['replay_tracking_tv']:.3f} | "
          f"{r['lag_mean']:.2f} ({r['shifts_crossed']}/{r['shifts']}) | {km(r)} | {r['followed_within_5']:.3f} | "
          f"{r['training_seconds']:.0f} |")
for p in per:
    print(f"{p['setting']}: sequential pick by validation NDCG@10 {p['best_sequential_by_validation']}, "
          f"by validation replay {p['best_sequential_by_validation_replay']}")
PY
# Command, data fingerprints, commit and date into the results file.
note=$(train_bin_note "$bin")
bench/provenance.py "$out" --command "${SEED:+SEED=$SEED }${SEQ_SET:+SEQ_SET=\"$SEQ_SET\" }${REQUEST_AT:+REQUEST_AT=$REQUEST_AT }${OUT:+OUT=$OUT }bench/drift_sweep.sh $users $items \"$settings\" \"$models\"" \
  "${prov[@]}" ${note:+--note "$note"}
