#!/usr/bin/env bash
# End-to-end checks of the driftrec CLI: every command, JSON outputs, and the bad-input contract
# (non-zero exit and one readable line naming file, line and field).
# Usage: DRIFTREC=path/to/driftrec cli_test.sh WORKDIR
set -euo pipefail
bin=${DRIFTREC:?set DRIFTREC to the driftrec binary}
work=${1:?work directory}
rm -rf "$work" && mkdir -p "$work" && cd "$work"
# A command that fails outside a check ends the script (set -e): say which one, so a failure in CI
# is readable without rerunning it (not under `set +e`, where failures are expected and checked).
trap 'rc_err=$?; if [[ $- == *e* ]]; then echo "FAIL line $LINENO exited $rc_err: $BASH_COMMAND" >&2; fi' ERR
fails=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }

# Every command has --help.
for c in "synth" "data inspect" "train" "evaluate" "recommend" "models" "demo" "ensemble" "compare" "tune" "simulate" "reinforce" "ope" "export-feedback"; do
  # shellcheck disable=SC2086
  check "help: $c" bash -c "'$bin' $c --help > /dev/null"
done

"$bin" --log-level warn synth --preset ecommerce --users 300 --items 200 --seed 5 --out synth > synth.txt
check "synth writes files" test -s synth/events.csv -a -s synth/items.csv -a -s synth/interests.csv
"$bin" --log-level warn synth --preset ecommerce --users 300 --items 200 --seed 5 --out synth2 > /dev/null
check "synth is reproducible" cmp -s synth/events.csv synth2/events.csv

"$bin" data inspect synth --json > inspect.json
check "inspect json has users" grep -q '"users": 300' inspect.json
check "inspect json has behaviours" grep -q '"buy"' inspect.json
"$bin" data inspect synth > inspect.txt
check "inspect text has percentiles" grep -q 'p90' inspect.txt

"$bin" --log-level warn train --data synth --model ials --set factors=16 --set iterations=4 --dedup --out m_ials > train.txt
check "train saves a model dir" test -s m_ials/model.json -a -s m_ials/weights.bin -a -s m_ials/items.tsv
check "model.json has the effective config" grep -q '"factors": 16' m_ials/model.json
printf 'neighbors: 20\ndecay: position\n' > knn.yaml
DRIFTREC_HALF_LIFE=2 "$bin" --log-level warn train --data synth/events.csv --model itemknn --config knn.yaml --set neighbors=30 --dedup --out m_knn > /dev/null
check "config layering: --set wins over file" grep -q '"neighbors": 30' m_knn/model.json
check "config layering: environment applies" grep -q '"half_life": 2.0' m_knn/model.json

"$bin" --log-level warn evaluate --model m_ials --data synth --json eval.json --save-rankings ranks.tsv --rankings-k 20 > eval.txt
for key in '"hr@10"' '"ndcg@10"' '"mrr"' '"users_evaluated"' '"fingerprint"' '"seconds"' '"split"' '"config"'; do
  check "evaluate json has $key" grep -q "$key" eval.json
done
check "rankings: header + one line per user" test "$(wc -l < ranks.tsv)" -gt 100
check "rankings: 20 items per line" bash -c "sed -n 2p ranks.tsv | cut -f3 | tr ',' '\n' | wc -l | grep -qx 20"

# Ground truth beside the data (synth/interests.csv): the interest-tracking error is reported.
check "evaluate json has the tracking error" python3 -c "
import json; t = json.load(open('eval.json'))['tracking']
assert t['moments'] > 100 and 0 <= t['tv'] <= 1 and t['kl'] >= 0 and t['k'] == 10, t"
"$bin" --log-level warn evaluate --model m_ials --data synth --protocol replay --replay-start 0.9 --json replay.json > replay.txt
check "replay reports tracking and lag" python3 -c "
import json; t = json.load(open('replay.json'))['replay']['tracking']
o = t['online']; w = o['followed_within']
assert o['moments'] > 100 and o['shifts'] >= o['shifts_crossed'] > 0, t
assert 0 <= w['1'] <= w['3'] <= w['5'] <= w['10'] <= 1, w
assert o['km_median_lag'] is None or o['km_median_lag'] >= 0, o"
check "replay prints the tracking table" grep -q "interest tracking.*Kaplan-Meier" replay.txt
rc_truth=0; "$bin" --log-level warn evaluate --model m_ials --data synth --truth synth/items.csv > /dev/null 2> err_truth.txt || rc_truth=$?
check "bad truth file: exit 2 naming file and line" \
  bash -c "test $rc_truth -eq 2 && grep -q \"synth/items.csv:1: field 'header'\" err_truth.txt && test \$(wc -l < err_truth.txt) -eq 1"
"$bin" --log-level warn recommend --model m_ials --data synth --user u3 -k 5 --json > rec.json
check "recommend json lists 5 items" test "$(grep -c '"item"' rec.json)" -eq 5
"$bin" --log-level warn recommend --model m_ials --data synth --user u3 -k 5 --history i1,i2,i3 --json > rec2.json
# Compare the recommended items only: history_length is in the output and always changes.
items_of() { python3 -c 'import json,sys; print(",".join(str(x["item"]) for x in json.load(open(sys.argv[1]))["items"]))' "$1"; }
check "new events change the recommended items" test "$(items_of rec.json)" != "$(items_of rec2.json)"
"$bin" --log-level warn recommend --model m_ials --data synth --user u3 -k 5 --at 1700000000 --json > rec_at.json
check "recommend --at: a model that does not read the time answers as without it" \
  test "$(items_of rec.json)" = "$(items_of rec_at.json)"
set +e
"$bin" recommend --model m_ials --data synth --user u3 --at noon > /dev/null 2> err_at.txt; rc_at=$?
set -e
check "recommend --at noon: exit 2, one line naming the flag" bash -c \
  "test $rc_at -eq 2 && grep -q -- '--at' err_at.txt && test \$(wc -l < err_at.txt) -eq 1"
"$bin" --log-level warn recommend --model m_knn --history i1,i2 -k 3 --explain > rec3.txt
check "anonymous recommend with explanations" grep -q "because of" rec3.txt
"$bin" --log-level warn recommend --model m_knn --history i1,i2 -k 3 --explain --json > rec3.json
check "explanations in JSON name the event's position in the history" python3 -c "
import json; b = json.load(open('rec3.json'))['items'][0]['because']; assert b and all(x['position'] in (0, 1) for x in b), b"
# Re-ranking a served list: a long-tail quota from the model directory's training counts.
"$bin" --log-level warn recommend --model m_ials --data synth --user u3 -k 10 --rerank longtail:0.5 --json > rec_lt.json
check "recommend --rerank picks 10 items and names the re-ranker" python3 -c "
import json; j = json.load(open('rec_lt.json')); assert j['rerank'] == 'longtail:0.5' and len(j['items']) == 10, j"
rc_rr=0; "$bin" --log-level warn recommend --model m_ials --user u3 --rerank bogus:1 > /dev/null 2> err_rr.txt || rc_rr=$?
check "recommend with an unknown re-ranker: exit 2, one line" \
  bash -c "test $rc_rr -eq 2 && grep -q \"unknown re-ranker 'bogus'\" err_rr.txt && test \$(wc -l < err_rr.txt) -eq 1"
"$bin" --log-level warn recommend --model m_ials --data synth --user u3 -k 10 --rerank calibrated_set:0.5:10 --json > rec_cs.json
check "recommend --rerank calibrated_set:L:H (the recent mix) picks 10 items" python3 -c "
import json; j = json.load(open('rec_cs.json')); assert j['rerank'] == 'calibrated_set:0.5:10' and len(j['items']) == 10, j"
rc_hl=0; "$bin" --log-level warn recommend --model m_ials --data synth --user u3 --rerank calibrated:0.5:-3 > /dev/null 2> err_hl.txt || rc_hl=$?
check "recommend with a negative half-life: exit 2, one line" \
  bash -c "test $rc_hl -eq 2 && grep -q 'half-life' err_hl.txt && test \$(wc -l < err_hl.txt) -eq 1"
rc_obj=0; "$bin" --log-level warn train --data synth --model pop --objective auc --out m_bad > /dev/null 2> err_obj.txt || rc_obj=$?
check "train with an unknown objective: exit 2, one line" \
  bash -c "test $rc_obj -eq 2 && grep -q \"objective 'auc'\" err_obj.txt && test \$(wc -l < err_obj.txt) -eq 1"
"$bin" --log-level warn report --data synth --model m_ials --model m_knn --rerank mmr:0.5 --sample-users 0 --bootstrap 50 --out rr_report.html > /dev/null
check "report with --rerank has the fairness section with re-ranked rows" \
  bash -c "grep -q 'id=\"fairness\"' rr_report.html && grep -q 'ials + mmr:0.5' rr_report.html"

# Ensembles of trained models: weights fitted on validation, evaluated and explained like a model.
"$bin" --log-level warn train --data synth --model pop --dedup --out m_pop > /dev/null
"$bin" --log-level warn ensemble --data synth --dedup --member m_ials --member m_knn --member m_pop --out m_ens > ens.txt
check "ensemble saves a model dir" test -s m_ens/ensemble.json -a -s m_ens/member0.weights.bin -a -s m_ens/member2.weights.bin
check "ensemble reports fitted weights" grep -q "weights ials=" ens.txt
"$bin" --log-level warn evaluate --model m_ens --data synth --json ens_eval.json > /dev/null
check "ensemble evaluates" grep -q '"ndcg@10"' ens_eval.json
"$bin" --log-level warn recommend --model m_ens --history i1,i2 -k 3 --explain > ens_rec.txt
check "ensemble explains" grep -q "because of" ens_rec.txt
"$bin" --log-level warn ensemble --data synth --dedup --member m_ials --member m_knn --set method=rrf --weights 1,3 --out m_rrf > rrf.txt
check "fixed weights are normalised" grep -q "knn=0.75" rrf.txt
# The ensemble serves like any model: live update and explanations over HTTP.
port=$((20000 + $$ % 20000))
"$bin" --log-level warn serve --model m_ens --store memory:// --port "$port" --import synth --no-auth > serve.log 2>&1 &
serve_pid=$!
for _ in $(seq 50); do curl -sf "localhost:$port/healthz/ready" > /dev/null 2>&1 && break; sleep 0.2; done
curl -s -X POST "localhost:$port/v1/events" -d '{"user":"u3","item":"i7","behavior":"view"}' > ens_post.json
curl -s "localhost:$port/v1/users/u3/recommendations?k=3&explain=true" > ens_get.json
kill "$serve_pid"; wait "$serve_pid" 2> /dev/null || true
check "ensemble served: event accepted" grep -q '"accepted":1' ens_post.json
check "ensemble served: explained recommendations" bash -c "grep -q '\"because\"' ens_get.json && grep -q '\"item\"' ens_get.json"
"$bin" --log-level warn synth --preset ecommerce --users 100 --items 90 --seed 9 --out other > /dev/null
"$bin" --log-level warn train --data other --model pop --out m_other > /dev/null
set +e
"$bin" ensemble --data synth --dedup --member m_ials --member m_other --out x > /dev/null 2> err5.txt; rc5=$?
"$bin" ensemble --data synth --dedup --member m_ials --member m_knn --weights 1,x --out x > /dev/null 2> err6.txt; rc6=$?
set -e
check "ensemble of other data: exit 2 naming the member" bash -c "test $rc5 -eq 2 && grep -q 'm_other: this member was trained on other data' err5.txt"
check "ensemble bad weight: exit 2" bash -c "test $rc6 -eq 2 && grep -q \"'x' is not a number\" err6.txt"
rc7=0; "$bin" ensemble --data no_such_log.csv --member m_ials --member m_knn --objective auc --out x > /dev/null 2> err7.txt || rc7=$?
check "ensemble bad objective: refused before the data are read" \
  bash -c "test $rc7 -eq 2 && grep -q \"objective 'auc'\" err7.txt && ! grep -q no_such_log err7.txt"
rc7c=0; "$bin" ensemble --data no_such_log.csv --member m_ials --member m_knn --request-at cutoff --out x > /dev/null \
  2> err7c.txt || rc7c=$?
check "ensemble --request-at cutoff on leave-one-out: exit 2, one line, before the data are read" \
  bash -c "test $rc7c -eq 2 && grep -q 'no cutoff' err7c.txt && test \$(wc -l < err7c.txt) -eq 1"
# Refit: members retrained on train + validation with their settings, blended with validated weights.
"$bin" --log-level warn train --data synth --refit-from m_ials --out m_ials_refit > /dev/null
"$bin" --log-level warn train --data synth --refit-from m_knn --out m_knn_refit > /dev/null
"$bin" --log-level warn train --data synth --refit-from m_pop --out m_pop_refit > /dev/null
check "refit keeps config, seed and split, adds validation events" python3 - <<'PY'
import json
a, b = json.load(open("m_ials/model.json")), json.load(open("m_ials_refit/model.json"))
assert b["preprocess"]["refit"] and not a["preprocess"]["refit"] and b["preprocess"]["dedup"]
assert b["split"]["valid_cases"] == 0 and b["split"]["test_cases"] == a["split"]["test_cases"]
assert b["split"]["train_events"] > a["split"]["train_events"]
assert b["config"]["factors"] == 16 and b["seed"] == a["seed"] and b["refit"]["from"] == "m_ials"
assert b["config"]["iterations"] == a["best_epoch"] == b["refit"]["best_epoch"]
PY
"$bin" --log-level warn ensemble --data synth --dedup --refit --member m_ials_refit --member m_knn_refit --member m_pop_refit \
  --weights-from m_ens --out m_ens_refit > /dev/null
check "refit ensemble takes the validated weights" python3 -c "
import json; a, b = json.load(open('m_ens/model.json')), json.load(open('m_ens_refit/model.json'))
assert len(b['member_weights']) == 3 and all(abs(x - y) < 1e-9 for x, y in zip(a['member_weights'], b['member_weights']))
assert b['weights_from'] == 'm_ens' and b['preprocess']['refit']"
"$bin" --log-level warn evaluate --model m_ens_refit --data synth --json ens_refit.json > /dev/null
check "refit ensemble evaluates on the same test cases" python3 -c "
import json; a, b = json.load(open('eval.json')), json.load(open('ens_refit.json'))
assert a['users_evaluated'] == b['users_evaluated'] > 0"
set +e
"$bin" train --data synth --refit-from m_ials_refit --out x > /dev/null 2> err_r1.txt; rc_r1=$?
"$bin" train --data synth --refit-from m_ials --split temporal --out x > /dev/null 2> err_r2.txt; rc_r2=$?
"$bin" train --data synth --refit-from m_ials --model bpr --out x > /dev/null 2> err_r3.txt; rc_r3=$?
"$bin" train --data synth --out x > /dev/null 2> err_r4.txt; rc_r4=$?
"$bin" ensemble --data synth --dedup --refit --member m_ials_refit --member m_knn_refit --weights-from m_ials --out x > /dev/null 2> err_r5.txt; rc_r5=$?
"$bin" ensemble --data synth --dedup --refit --member m_ials_refit --member m_knn_refit --out x > /dev/null 2> err_r6.txt; rc_r6=$?
set -e
check "refit of a refit: exit 2" bash -c "test $rc_r1 -eq 2 && grep -q 'already a refit' err_r1.txt"
check "refit with split flags: exit 2" bash -c "test $rc_r2 -eq 2 && grep -q 'leave out the split' err_r2.txt"
check "refit of another model: exit 2" bash -c "test $rc_r3 -eq 2 && grep -q \"holds a 'ials' model, not 'bpr'\" err_r3.txt"
check "train without --model: exit 2" bash -c "test $rc_r4 -eq 2 && grep -q 'model is required' err_r4.txt"
check "weights-from a non-ensemble: exit 2" bash -c "test $rc_r5 -eq 2 && grep -q 'holds no member weights for 2' err_r5.txt"
check "refit blend without weights: exit 2" bash -c "test $rc_r6 -eq 2 && grep -q 'no validation cases to fit the weights on (a refit split)' err_r6.txt"
"$bin" --log-level warn compare --data synth --model m_ials --model m_ials_refit --bootstrap 50 > cmp_refit.txt
check "compare a model with its refit on test" grep -q 'ials (m_ials_refit)' cmp_refit.txt
set +e
"$bin" compare --data synth --model m_ials --model m_ials_refit --on valid > /dev/null 2> err_r7.txt; rc_r7=$?
set -e
check "compare a refit on valid: exit 2" bash -c "test $rc_r7 -eq 2 && grep -q 'trained on the validation cases' err_r7.txt"

# What train and refit learn (validation and test events) is tested on the library:
# tests/unit/workflow_test.cpp TrainingLearnsNoHeldOutEventAndRefitOnlyTheValidationOnes.

# Paired comparison over users with significance marks.
"$bin" --log-level warn compare --data synth --model m_pop --model m_ials --model m_ens --bootstrap 200 --json cmp.json > cmp.txt
check "compare prints every model per metric" test "$(grep -c 'ials (m_ials)' cmp.txt)" -eq 3
"$bin" --log-level warn compare --data synth --model m_pop --model m_ials --protocol replay --skip-repeats \
  --metrics ndcg@10,tracking_tv --bootstrap 100 --json cmp_replay.json > cmp_replay.txt
check "compare on the replay protocol, with tracking" python3 -c "
import json; r = json.load(open('cmp_replay.json'))
assert r['evaluated_on'].startswith('replay from') and r['cases'] > 50
assert sorted(c['metric'] for c in r['comparisons']) == ['ndcg@10', 'tracking_tv'], r"
"$bin" --log-level warn compare --data synth --model m_pop --model m_ials --skip-repeats --bootstrap 50 \
  --json cmp_new.json > /dev/null
"$bin" --log-level warn evaluate --model m_pop --data synth --skip-repeats --json ev_new.json > /dev/null
check "split protocol with --skip-repeats: only cases with a new target, in evaluate and compare" python3 -c "
import json; c, e, a = json.load(open('cmp_new.json')), json.load(open('ev_new.json')), json.load(open('cmp.json'))
assert e['skip_repeats'] and e['cases_without_new_targets'] > 0, e
assert c['cases'] == e['users_evaluated'] == a['cases'] - e['cases_without_new_targets'], (c['cases'], e, a['cases'])"
check "compare json has p-values and CIs" bash -c "grep -q '\"p_holm\"' cmp.json && grep -q '\"ci_low\"' cmp.json"
check "ials beats pop significantly" bash -c "grep 'ndcg@10' -A2 cmp.txt | grep 'ials (m_ials)' | grep -q '\*\$'"
# A model against itself re-ranked ('none' keeps the first's own order), on the list metrics too.
"$bin" --log-level warn compare --data synth --model m_ials --model m_ials --rerank none --rerank calibrated:0.8 \
  --metrics ndcg@10,miscalibration@10 --bootstrap 100 --json cmp_rerank.json > cmp_rerank.txt
check "compare with a re-ranked model: labelled, in the json, miscalibration paired" python3 -c "
import json; r = json.load(open('cmp_rerank.json'))
assert r['rerank'][0] is None and r['rerank'][1].startswith('calibrated'), r['rerank']
m = {c['metric']: c for c in r['comparisons']}
assert set(m) == {'ndcg@10', 'miscalibration@10'} and m['miscalibration@10']['diff'] < 0, m"
check "compare labels the re-ranked model" grep -q 'ials + calibrated' cmp_rerank.txt
set +e
"$bin" compare --data synth --model m_ials --model m_other > /dev/null 2> err7.txt; rc7=$?
"$bin" compare --data synth --model m_ials --model m_pop --metrics ndcg@10,bogus > /dev/null 2> err8.txt; rc8=$?
"$bin" compare --data synth --model m_ials --model m_pop --rerank mmr:0.5 --rerank none --rerank none > /dev/null \
  2> err8r.txt; rc8r=$?
set -e
check "compare other data: exit 2" bash -c "test $rc7 -eq 2 && grep -q 'trained on other data' err7.txt"
check "compare unknown metric: exit 2 listing known" bash -c "test $rc8 -eq 2 && grep -q \"'bogus' is not a per-user metric\" err8.txt"
check "compare with a re-rank spec count that fits no model count: exit 2, one line" bash -c "test $rc8r -eq 2 && grep -q 'one per model' err8r.txt && test \$(wc -l < err8r.txt) -eq 1"

# Replay: recommend, reveal, update, in time order; online vs frozen.
"$bin" --log-level warn evaluate --model m_ials --data synth --protocol replay --replay-start 0.8 --replay-windows 3 --json replay.json > replay.txt
check "replay prints online and frozen" bash -c "grep -q 'online (observe)' replay.txt && grep -q 'frozen at the start' replay.txt"
check "replay json has 3 windows" test "$(grep -c '"start_ts"' replay.json)" -eq 3
set +e
"$bin" evaluate --model m_ials --data synth --protocol replay --replay-start tomorrow > /dev/null 2> err9.txt; rc9=$?
set -e
check "replay bad start: exit 2 naming the flag" bash -c "test $rc9 -eq 2 && grep -q -- '--replay-start' err9.txt"
# A re-ranked replay: every list shown is calibrated; mrr still describes the model's scores; compare
# pairs the replay of the model with its re-ranked replay; --fairness stays on the split protocol.
"$bin" --log-level warn evaluate --model m_ials --data synth --protocol replay --replay-start 0.8 --rerank calibrated:0.8 \
  --json replay_rr.json > replay_rr.txt
check "replay --rerank: re-ranked lists, named in the output and the json" python3 -c "
import json; r, p = json.load(open('replay_rr.json')), json.load(open('replay.json'))
assert r['rerank'].startswith('calibrated') and r['rerank_depth'] == 100 and p['rerank'] is None, (r['rerank'], p['rerank'])
assert abs(r['replay']['online']['mrr'] - p['replay']['online']['mrr']) < 1e-12, 'mrr is the model scores'
assert r['replay']['tracking']['online']['tv'] != p['replay']['tracking']['online']['tv']
assert 're-ranked: calibrated' in open('replay_rr.txt').read()"
"$bin" --log-level warn compare --data synth --model m_ials --model m_ials --protocol replay --replay-start 0.8 \
  --rerank none --rerank calibrated:0.8 --metrics ndcg@10,tracking_tv --bootstrap 100 --json cmp_rr_replay.json > /dev/null
check "compare --protocol replay --rerank: the re-ranked replay paired with the model's own" python3 -c "
import json; c = json.load(open('cmp_rr_replay.json'))
assert c['evaluated_on'].startswith('replay') and c['rerank'][0] is None and c['rerank'][1].startswith('calibrated'), c
assert {r['metric'] for r in c['comparisons']} == {'ndcg@10', 'tracking_tv'}, c['comparisons']"
set +e
"$bin" evaluate --model m_ials --data synth --protocol replay --fairness > /dev/null 2> err9f.txt; rc9f=$?
set -e
check "replay --fairness: exit 2, one line" bash -c \
  "test $rc9f -eq 2 && grep -q 'split protocol only' err9f.txt && test \$(wc -l < err9f.txt) -eq 1"
set +e
"$bin" evaluate --model m_ials --data synth --no-request-time > /dev/null 2> err9t.txt; rc9t=$?
set -e
check "split --no-request-time: exit 2, one line" bash -c \
  "test $rc9t -eq 2 && grep -q 'replay protocol' err9t.txt && test \$(wc -l < err9t.txt) -eq 1"
"$bin" --log-level warn evaluate --model m_ials --data synth --protocol replay --replay-start 0.8 --no-request-time \
  --json replay_nt.json > /dev/null
check "replay --no-request-time is recorded" python3 -c "
import json; r = json.load(open('replay_nt.json')); assert r['request_time'] is False, r['request_time']"
set +e
"$bin" evaluate --model m_ials --data synth --request-at cutoff > /dev/null 2> err9c.txt; rc9c=$?
"$bin" evaluate --model m_ials --data synth --protocol replay --request-at arrival > /dev/null 2> err9a.txt; rc9a=$?
set -e
check "--request-at cutoff on a leave-one-out split: exit 2, one line" bash -c \
  "test $rc9c -eq 2 && grep -q 'no cutoff' err9c.txt && test \$(wc -l < err9c.txt) -eq 1"
check "replay --request-at: exit 2, one line" bash -c \
  "test $rc9a -eq 2 && grep -q 'split protocol' err9a.txt && test \$(wc -l < err9a.txt) -eq 1"
# Replay on the validation period of a temporal split: it stops at the test cutoff; a model split
# otherwise has no validation period to walk.
"$bin" --log-level warn train --data synth --model pop --split temporal --out m_pop_t > /dev/null
"$bin" --log-level warn evaluate --model m_pop_t --data synth --json split_none.json > /dev/null
"$bin" --log-level warn evaluate --model m_pop_t --data synth --request-at cutoff --json split_cut.json > /dev/null
"$bin" --log-level warn compare --model m_pop_t --model m_pop_t --data synth --request-at arrival --bootstrap 10 \
  --json cmp_arrival.json > /dev/null
check "--request-at is recorded; a model without request_time ranks the same" python3 -c "
import json; a, b = json.load(open('split_none.json')), json.load(open('split_cut.json'))
assert a['request_at'] == 'none' and b['request_at'] == 'cutoff', (a['request_at'], b['request_at'])
assert a['metrics'] == b['metrics']
assert json.load(open('cmp_arrival.json'))['request_at'] == 'arrival'"
"$bin" --log-level warn report --data synth --model m_pop_t --model m_pop_t --request-at cutoff --sample-users 0 \
  --bootstrap 10 --out cut_report.html > /dev/null
set +e
# Refused before the data are read: the data path does not exist, and the refusal is the cutoff's.
"$bin" --log-level warn report --data no_such_data --model m_ials --model m_ials --request-at cutoff \
  --out no_report.html > /dev/null 2> err9r.txt
rc9r=$?
"$bin" --log-level warn compare --data no_such_data --model m_ials --model m_ials --request-at cutoff > /dev/null \
  2> err9k.txt
rc9k=$?
set -e
check "report --request-at: the summary says when; no cutoff on leave-one-out is exit 2, one line, before any load" \
  bash -c "grep -q \"asked for at the period's cutoff\" cut_report.html && test $rc9r -eq 2 && grep -q 'no cutoff' err9r.txt \
   && test \$(wc -l < err9r.txt) -eq 1 && test ! -e no_report.html"
check "compare --request-at cutoff on leave-one-out: exit 2, one line, before any load" bash -c \
  "test $rc9k -eq 2 && grep -q 'no cutoff' err9k.txt && test \$(wc -l < err9k.txt) -eq 1"
"$bin" --log-level warn train --data synth --model pop --split temporal --request-at cutoff --out m_pop_tc > /dev/null
set +e
"$bin" --log-level warn train --data synth --model pop --request-at cutoff --out no_train > /dev/null 2> err9n.txt
rc9n=$?
set -e
check "train --request-at is recorded; no cutoff on leave-one-out is exit 2, one line" bash -c \
  "python3 -c \"import json; assert json.load(open('m_pop_tc/model.json'))['validation_request_at'] == 'cutoff'\" \
   && test $rc9n -eq 2 && grep -q 'no cutoff' err9n.txt && test \$(wc -l < err9n.txt) -eq 1 && test ! -e no_train"
"$bin" --log-level warn evaluate --model m_pop_t --data synth --include-seen --json split_seen.json > /dev/null
"$bin" --log-level warn compare --model m_pop_t --model m_pop_t --data synth --include-seen --metrics ndcg@10 \
  --bootstrap 10 --json cmp_seen.json > /dev/null
check "compare --include-seen ranks seen items, as evaluate --include-seen" python3 -c "
import json; e, c = json.load(open('split_seen.json')), json.load(open('cmp_seen.json'))
assert c['include_seen'] and abs(c['comparisons'][0]['baseline_value'] - e['metrics']['ndcg@10']) < 1e-12, c
assert abs(e['metrics']['ndcg@10'] - json.load(open('split_none.json'))['metrics']['ndcg@10']) > 1e-6"
"$bin" --log-level warn evaluate --model m_pop_t --data synth --protocol replay --on valid --json replay_v.json > replay_v.txt
check "replay --on valid: the validation period, ended at the test cutoff" bash -c \
  "grep -q 'validation period' replay_v.txt && grep -q '\"replayed_on\": \"valid\"' replay_v.json && \
   python3 -c 'import json,sys; r=json.load(open(\"replay_v.json\")); sys.exit(r[\"replay_end_ts\"] is None)'"
set +e
"$bin" evaluate --model m_ials --data synth --protocol replay --on valid > /dev/null 2> err9v.txt; rc9v=$?
set -e
check "replay --on valid without a temporal split: exit 2, one line, before the data are read" bash -c \
  "test $rc9v -eq 2 && grep -q 'needs a temporal split' err9v.txt && test \$(wc -l < err9v.txt) -eq 1"

# Hyperparameter search: TPE, two processes, resumable, best config ready for train.
cat > space.yaml <<'YAML'
model: ials
objective: ndcg@10
fixed: {iterations: 3}
params:
  factors: {type: choice, values: [8, 16]}
  reg: {type: loguniform, low: 0.01, high: 10}
YAML
"$bin" --log-level warn tune --data synth --dedup --space space.yaml --strategy tpe --trials 6 --parallel 2 --db tune.sqlite --out best.yaml > tune.txt
check "tune writes the best config" bash -c "grep -q '^model: ials' best.yaml && grep -q '^factors: ' best.yaml && grep -q '^iterations: 3' best.yaml"
check "tune records 6 trials" test "$(sqlite3 tune.sqlite "select count(*) from trials where status != 'failed'")" -eq 6
"$bin" --log-level warn train --data synth --dedup --model ials --config best.yaml --out m_best > /dev/null
check "the best config trains" test -s m_best/model.json
"$bin" tune --data synth --dedup --space space.yaml --strategy tpe --trials 8 --db tune.sqlite --out best.yaml > /dev/null 2> tune2.txt
check "tune resumes its database" bash -c "grep -q 'resuming tune.sqlite: 6 trial' tune2.txt && test \$(sqlite3 tune.sqlite 'select count(*) from trials') -eq 8"
set +e
"$bin" tune --data synth --dedup --space space.yaml --strategy random --trials 8 --db tune.sqlite > /dev/null 2> err10.txt; rc10=$?
printf 'model: ials\nparams:\n  nope: {type: uniform, low: 0, high: 1}\n' > bad_space.yaml
"$bin" tune --data synth --space bad_space.yaml --trials 2 --db other.sqlite > /dev/null 2> err11.txt; rc11=$?
"$bin" tune --data no_such_data --space space.yaml --request-at cutoff --trials 2 --db timed.sqlite > /dev/null \
  2> err11c.txt; rc11c=$?
set -e
check "tune --request-at cutoff on leave-one-out: exit 2, one line, before the data are read" \
  bash -c "test $rc11c -eq 2 && grep -q 'no cutoff' err11c.txt && test \$(wc -l < err11c.txt) -eq 1"
check "tune refuses another search's database" bash -c "test $rc10 -eq 2 && grep -q 'belongs to another search' err10.txt"
check "tune names an unknown parameter" bash -c "test $rc11 -eq 2 && grep -q \"'nope' is not a parameter of ials\" err11.txt"

# Behaviour, content and cross-domain settings (tiny runs: the paths, not the accuracy).
"$bin" --log-level warn train --data synth --model sasrec --set dim=16 --set epochs=2 --set layers=1 --set repeat=true \
  --targets buy --include-seen --out m_repeat > /dev/null
rc_rep=0
"$bin" --log-level warn evaluate --model m_repeat --data synth --include-seen > repeat_eval.txt || rc_rep=$?
check "repeat head trains and evaluates" bash -c "test $rc_rep -eq 0 && grep -q hr@10 repeat_eval.txt"
"$bin" --log-level warn synth --preset news --users 300 --items 300 --seed 5 --out news > /dev/null
"$bin" --log-level warn train --data news --split temporal --new-items --model sasrec --set dim=16 --set epochs=2 \
  --set layers=1 --set text=cnn --set id_dropout=0.3 --out m_text > /dev/null
"$bin" --log-level warn evaluate --model m_text --data news --impressions 10 --json text.json > /dev/null
check "cold-start split is recorded" grep -q '"new_items": true' text.json
check "impression metrics are reported" grep -q '"imp_ndcg@10"' text.json
"$bin" --log-level warn synth --preset crossdomain --users 300 --items 300 --seed 5 --out xd > /dev/null
"$bin" --log-level warn train --data xd --split temporal --model crossdomain --set dim=16 --set epochs=2 --set layers=1 \
  --set fusion=concat --out m_xd > /dev/null
"$bin" --log-level warn evaluate --model m_xd --data xd --split temporal --target-domains social --json xd.json > /dev/null
check "target domain is recorded" grep -q '"social"' xd.json
"$bin" --log-level warn evaluate --model m_xd --data xd --split temporal --target-domains social --protocol replay > xd_replay.txt
check "replay in one domain" grep -q "online (observe)" xd_replay.txt
set +e
"$bin" train --data xd --model sasrec --target-domains games --out x > /dev/null 2> err12.txt; rc12=$?
"$bin" train --data synth --model crossdomain --set epochs=1 --out x > /dev/null 2> err13.txt; rc13=$?
set -e
check "unknown domain: named with the known ones" bash -c "test $rc12 -ne 0 && grep -q \"domain 'games' does not occur in the data (present: shop, social)\" err12.txt"
check "crossdomain without domains: clear error" bash -c "test $rc13 -eq 2 && grep -q 'needs two or more (a domain column)' err13.txt"

# Bad input: one readable line, non-zero exit, culprit named.
printf 'user,item,timestamp\nu1,a,10\nu1,b,soon\nu2,c,11\n' > bad.csv
set +e
"$bin" data inspect bad.csv > /dev/null 2> err.txt; rc=$?
set -e
check "malformed row: exit 2" test "$rc" -eq 2
check "malformed row: one line" test "$(wc -l < err.txt)" -eq 1
check "malformed row: names file, line and field" grep -q "bad.csv:3: field 'timestamp'" err.txt
"$bin" data inspect bad.csv --on-error skip --rejects bad.rejects > skip.txt 2> /dev/null
check "skip mode reports the count" grep -q "rejected rows  1" skip.txt
check "skip mode writes rejects" grep -q "soon" bad.rejects
set +e
"$bin" train --data synth --model nosuch --out x > /dev/null 2> err2.txt; rc=$?
"$bin" train --data synth --model bpr --set factors=0 --out x > /dev/null 2> err3.txt; rc3=$?
"$bin" train --data no_such_log.csv --model bpr --set factors=0 --out x > /dev/null 2> err3b.txt; rc3b=$?
echo '{' > m_knn/model.json
"$bin" evaluate --model m_knn --data synth > /dev/null 2> err4.txt; rc4=$?
set -e
check "unknown model: non-zero" test "$rc" -ne 0
check "unknown model: says which" grep -q "unknown model 'nosuch'" err2.txt
check "bad parameter: exit 2 naming it" bash -c "test $rc3 -eq 2 && grep -q \"'factors' must be >= 1\" err3.txt"
check "bad parameter: refused before the data are read" \
  bash -c "test $rc3b -eq 2 && grep -q \"'factors' must be >= 1\" err3b.txt && ! grep -q no_such_log err3b.txt"
check "corrupt model dir: exit 1, clear message" bash -c "test $rc4 -eq 1 && grep -q 'model.json: invalid JSON' err4.txt"

# Careless input to the readers: exit 2 and one line naming the problem.
printf 'user,item,timestamp\nu1,a,1\nu1,b,9223372036854775807\n' > big_ts.csv
rc_ts=0; "$bin" --log-level warn data inspect big_ts.csv > /dev/null 2> err_ts.txt || rc_ts=$?
check "timestamp at the int64 limit: exit 2 naming file:line:field" \
  bash -c "test $rc_ts -eq 2 && grep -q \"big_ts.csv:3: field 'timestamp'\" err_ts.txt && test \$(wc -l < err_ts.txt) -eq 1"
rc_col=0; "$bin" --log-level warn data inspect big_ts.csv --user-col 99999999999 > /dev/null 2> err_col.txt || rc_col=$?
check "huge --user-col: exit 2, one clear line" \
  bash -c "test $rc_col -eq 2 && grep -q 'column index 99999999999' err_col.txt && test \$(wc -l < err_col.txt) -eq 1"

# The loop: simulate with logging, then off-policy evaluation of the log; bad logs refused clearly.
"$bin" --log-level warn --threads 1 simulate --model ials --set factors=8 --set iterations=3 --users 200 --items 300 \
  --episodes 40 --policy epsilon-greedy:epsilon=0.3 --policy greedy --log-out sim_log.csv --json sim.json > sim.txt
check "simulate prints both policies" bash -c "grep -q '^epsilon-greedy' sim.txt && grep -q '^greedy' sim.txt"
check "simulate json has regret and coverage" bash -c "grep -q '\"regret_mean\"' sim.json && grep -q '\"coverage\"' sim.json"
check "simulate log in the Open Bandit layout" bash -c "head -1 sim_log.csv | grep -q '^,timestamp,item_id,position,click,propensity_score'"
"$bin" --log-level warn ope --log sim_log.csv --policy uniform --bootstrap 50 --json ope.json > ope.txt
check "ope prints every estimator" bash -c "for e in ips snips dm dr switch-dr; do grep -q \"^\$e \" ope.txt || exit 1; done"
check "ope json has intervals" grep -q '"ci_low"' ope.json
printf ',timestamp,item_id,position,click,propensity_score\n0,t,1,1,0,0.5\n1,t,2,1,0,0\n' > bad_log.csv
rc_ope=0; "$bin" --log-level warn ope --log bad_log.csv > /dev/null 2> err_ope.txt || rc_ope=$?
check "ope zero propensity: exit 2 naming file:line and column" \
  bash -c "test $rc_ope -eq 2 && grep -q \"bad_log.csv:3: field 'propensity_score (column 6)'\" err_ope.txt && test \$(wc -l < err_ope.txt) -eq 1"
rc_pol=0; "$bin" --log-level warn simulate --episodes 2 --policy 'boltzmann:temperature=x' > /dev/null 2> err_pol.txt || rc_pol=$?
check "simulate bad policy spec: exit 2 naming it" bash -c "test $rc_pol -eq 2 && grep -q \"'temperature' needs a number\" err_pol.txt"
# Learning from feedback on the simulator (a tiny run: the path, not the gain).
"$bin" --log-level warn --threads 1 reinforce --model sasrec --set dim=16 --set epochs=1 --set layers=1 --users 100 \
  --items 150 --logged-episodes 30 --eval-episodes 20 --epochs 1 --seed 3 --json rl.json > rl.txt
check "reinforce prints before and after" grep -q '^greedy ' rl.txt
check "reinforce json has both runs and the epochs" \
  bash -c "grep -q '\"supervised\"' rl.json && grep -q '\"reinforce\"' rl.json && grep -q '\"mean_weight\"' rl.json"
rc_rl=0; "$bin" --log-level warn reinforce --model itemknn --users 50 --items 60 --logged-episodes 5 --eval-episodes 5 \
  > /dev/null 2> err_rl.txt || rc_rl=$?
check "reinforce refuses a model that is not a policy: exit 2" \
  bash -c "test $rc_rl -eq 2 && grep -q \"'itemknn' cannot be fine-tuned as a policy\" err_rl.txt && test \$(wc -l < err_rl.txt) -eq 1"
rc_rl2=0; "$bin" --log-level warn reinforce --store memory:// > /dev/null 2> err_rl2.txt || rc_rl2=$?
check "reinforce --store needs the model directories: exit 2" \
  bash -c "test $rc_rl2 -eq 2 && grep -q 'needs --model-dir and --out' err_rl2.txt"
# Data rights on a stored log: export, delete, and a re-import that cannot resurrect the user.
"$bin" --log-level warn store import --store sqlite://rights.db --data synth > imp1.json
"$bin" --log-level warn store export-user --store sqlite://rights.db --user u7 > exp_u7.json
check "store export-user lists the user's events" python3 -c "
import json; d = json.load(open('exp_u7.json')); assert d['user'] == 'u7' and len(d['events']) > 0 and d['deleted_at'] is None"
"$bin" --log-level warn store delete-user --store sqlite://rights.db --user u7 > del_u7.json
check "store delete-user erases the events" python3 -c "
import json; a = json.load(open('exp_u7.json')); d = json.load(open('del_u7.json'))
assert d['deleted_events'] == len(a['events']) and d['deleted_at'] > 0"
"$bin" --log-level warn store import --store sqlite://rights.db --data synth > imp2.json
check "re-import skips the deleted user's events" python3 -c "
import json; a = json.load(open('exp_u7.json')); i = json.load(open('imp2.json'))
assert i['skipped_deleted_users'] == len(a['events']), i"
rc_del=0; "$bin" --log-level warn store delete-user --store sqlite://rights.db --user nobody > /dev/null 2> err_del.txt || rc_del=$?
check "store delete-user of an unknown user: exit 2, one line" \
  bash -c "test $rc_del -eq 2 && grep -q \"user 'nobody': nothing is stored\" err_del.txt && test \$(wc -l < err_del.txt) -eq 1"
printf 'short\n' > short.key
rc_key=0; "$bin" --log-level warn store import --store memory:// --data synth --pseudonymize-users short.key > /dev/null 2> err_key.txt || rc_key=$?
check "a short pseudonymisation key: exit 2 naming the file" bash -c "test $rc_key -eq 2 && grep -q 'short.key: the pseudonymisation key has 5 bytes' err_key.txt"
"$bin" --log-level warn store purge --store sqlite://rights.db --older-than-days 1 > purge.json
check "store purge erases events older than the period" python3 -c "
import json; p = json.load(open('purge.json')); assert p['purged_events'] > 0, p"
# Privacy: the accountant (TF Privacy's published example), private training, federated training.
"$bin" --log-level warn privacy --n 60000 --batch 150 --epochs 15 --noise 1.3 > acct.json
check "privacy: TF Privacy's example epsilon" python3 -c "
import json; a = json.load(open('acct.json')); assert abs(a['epsilon'] - 0.7242) < 1e-4 and a['rdp_order'] == 19, a"
rc_acct=0; "$bin" --log-level warn privacy --n 100 --batch 10 --epochs 1 > /dev/null 2> err_acct.txt || rc_acct=$?
check "privacy without --noise or --epsilon: exit 2" bash -c "test $rc_acct -eq 2 && grep -q 'exactly one of --noise and --epsilon' err_acct.txt"
"$bin" --log-level warn --threads 1 train --data synth --model bpr --set factors=8 --set epochs=2 --set dp_epsilon=8 --out m_dp > /dev/null
check "private training: budget in model.json, no user list" python3 -c "
import json; m = json.load(open('m_dp/model.json')); assert m['privacy']['epsilon'] <= 8 and m['privacy']['unit'] == 'user'
assert open('m_dp/users.tsv').read() == ''"
rc_dp=0; "$bin" --log-level warn train --data synth --model ials --set dp_epsilon=1 --set dp_noise=0.1 --out m_dp2 > /dev/null 2> err_dp.txt || rc_dp=$?
check "a budget the noise cannot keep: exit 2, nothing written" bash -c "test $rc_dp -eq 2 && grep -q 'training refused' err_dp.txt && test ! -e m_dp2"
"$bin" --log-level warn --threads 1 train --data synth --model fedbpr --set factors=8 --set rounds=3 --out m_fed > /dev/null
"$bin" --log-level warn evaluate --model m_fed --data synth --json fed_eval.json > /dev/null
check "federated model trains, records its traffic and evaluates" python3 -c "
import json; m = json.load(open('m_fed/model.json')); e = json.load(open('fed_eval.json'))
assert m['federated']['bytes_up'] > 0 and m['federated']['rounds'] == 3
x = e['metrics'] if 'metrics' in e else e; assert 0 <= x['ndcg@10'] <= 1"
"$bin" --log-level warn --threads 1 train --data synth --model sasrec --set dim=8 --set layers=1 --set max_len=20 \
  --set fed_rounds=2 --set fed_client_rate=0.5 --set dp_epsilon=8 --out m_fedseq > /dev/null
check "federated private sasrec: traffic and budget in model.json, no user list" python3 -c "
import json; m = json.load(open('m_fedseq/model.json'))
assert m['federated']['rounds'] == 2 and m['federated']['bytes_up'] > 0 and m['privacy']['epsilon'] <= 8
assert m['privacy']['unit'] == 'user (client)' and open('m_fedseq/users.tsv').read() == ''"
rc_fr=0; "$bin" --log-level warn train --data synth --model sasrec --set fed_rounds=2 --set fed_client_rate=0 --out m_fr > /dev/null 2> err_fr.txt || rc_fr=$?
check "a client rate of 0: exit 2 naming the setting, nothing written" bash -c "test $rc_fr -eq 2 && grep -q 'fed_client_rate' err_fr.txt && test ! -e m_fr"
mkdir -p given
python3 -c "
import random
r = random.Random(3)
with open('given/train.txt', 'w') as tr, open('given/test.txt', 'w') as te:
    for u in range(60):
        items = r.sample(range(40), 8)
        tr.write(' '.join(map(str, [u] + items[:6])) + '\\n'); te.write(' '.join(map(str, [u] + items[6:])) + '\\n')
"
"$bin" --log-level warn --threads 1 train --data given --split given --model gfcf --set k=8 --out m_gfcf > /dev/null
"$bin" --log-level warn evaluate --model m_gfcf --data given --k 20 --json gfcf_eval.json > /dev/null
check "gfcf trains and evaluates on a given train/test split (all test items per user)" python3 -c "
import json; e = json.load(open('gfcf_eval.json')); x = e['metrics'] if 'metrics' in e else e
assert 0 < x['recall@20'] <= 1 and x['users_evaluated' if 'users_evaluated' in x else 'recall@20'] > 0
m = json.load(open('m_gfcf/model.json')); assert m['split']['protocol'] == 'given' and m['split']['test_cases'] == 60"
rc_loo=0; "$bin" --log-level warn train --data given --model ease --out m_loo > /dev/null 2> err_loo.txt || rc_loo=$?
check "leave-one-out on a given split: exit 2 naming --split given" bash -c "test $rc_loo -eq 2 && grep -q 'split given' err_loo.txt"
# A time budget: stop after the epoch that ends past it, that epoch validated, the best kept.
"$bin" --log-level warn --threads 1 train --data synth --model bpr --set factors=8 --set epochs=100000 --set patience=100000 \
  --time-budget 1 --out m_budget > /dev/null
check "train --time-budget: stops after the epoch that ends past it, recorded in model.json" python3 -c "
import json; m = json.load(open('m_budget/model.json')); h = m['history']
assert m['time_budget_s'] == 1 and h[-1]['out_of_time'] and 'valid' in h[-1] and len(h) < 100000
assert h[-1]['seconds'] >= 1 and all(e['seconds'] < 1 for e in h[:-1]), h[-3:]"
rc_tb=0; "$bin" --log-level warn train --data synth --model bpr --set dp_epsilon=8 --time-budget 5 --out m_tb > /dev/null 2> err_tb.txt || rc_tb=$?
check "a private fit refuses a time budget: exit 2, nothing written" bash -c "test $rc_tb -eq 2 && grep -q 'privacy accounting' err_tb.txt && test ! -e m_tb"
# A given split without a validation file: validation carved from training, a blend fitted on it
# under the members' own split (no split flags), then refit members with the validated weights.
"$bin" --log-level warn --threads 1 train --data given --split given --valid-fraction 0.2 --model gfcf --set k=8 --out m_cv_gfcf > /dev/null
"$bin" --log-level warn --threads 1 train --data given --split given --valid-fraction 0.2 --model itemknn --out m_cv_itemknn > /dev/null
"$bin" --log-level warn ensemble --data given --member m_cv_gfcf --member m_cv_itemknn --out m_cv_blend > cv_blend.txt
check "valid-fraction: validation cases carved from training; the blend fits on them" python3 -c "
import json; m = json.load(open('m_cv_gfcf/model.json'))
assert m['split']['valid_cases'] == 60 and m['split']['test_cases'] == 60 and m['preprocess']['valid_fraction'] == 0.2
b = json.load(open('m_cv_blend/model.json')); assert b['preprocess']['valid_fraction'] == 0.2 and b['validation']['ndcg@10'] > 0"
"$bin" --log-level warn ensemble --data given --member m_cv_gfcf --member m_cv_itemknn --objective recall@20 \
  --out m_cv_blend_r20 > /dev/null
rc_obj=0; "$bin" --log-level warn ensemble --data given --member m_cv_gfcf --member m_cv_itemknn --objective nope@3 \
  --out m_cv_blend_bad > /dev/null 2> err_obj.txt || rc_obj=$?
check "ensemble --objective: weights fitted to that metric, recorded; an unknown one is exit 2, nothing written" \
  bash -c "python3 -c \"
import json; b = json.load(open('m_cv_blend_r20/model.json'))
assert b['objective'] == 'recall@20' and 'recall@20' in b['validation'], b['objective']\" &&
  test $rc_obj -eq 2 && grep -q 'nope@3' err_obj.txt && test ! -e m_cv_blend_bad"
"$bin" --log-level warn train --data given --refit-from m_cv_gfcf --out m_cv_gfcf_r > /dev/null
"$bin" --log-level warn train --data given --refit-from m_cv_itemknn --out m_cv_itemknn_r > /dev/null
"$bin" --log-level warn ensemble --data given --refit --member m_cv_gfcf_r --member m_cv_itemknn_r --weights-from m_cv_blend --out m_cv_blend_r > /dev/null
"$bin" --log-level warn evaluate --model m_cv_gfcf_r --data given --k 20 --json cv_gfcf_r.json > /dev/null
check "valid-fraction refit: the whole training file, the same test cases as without the carve" python3 -c "
import json; r = json.load(open('m_cv_gfcf_r/model.json')); p = json.load(open('m_gfcf/model.json'))
assert r['split']['train_events'] == p['split']['train_events'] == 360 and r['split']['test_cases'] == 60
b = json.load(open('m_cv_blend_r/model.json')); assert b['preprocess']['refit'] and b['member_weights'] == json.load(open('m_cv_blend/model.json'))['member_weights']"
rc_vf=0; "$bin" --log-level warn train --data synth --valid-fraction 0.1 --model pop --out m_vf > /dev/null 2> err_vf.txt || rc_vf=$?
check "valid-fraction outside a given split: exit 2 naming it" bash -c "test $rc_vf -eq 2 && grep -q 'valid_fraction' err_vf.txt"
# Data-parallel training: two local ranks (Gloo) train the single-process model.
ddp_args=(--data synth --model sasrec --set dim=8 --set layers=1 --set max_len=20 --set epochs=2 --set loss=softmax
  --set dropout=0)
"$bin" --log-level warn --threads 1 train "${ddp_args[@]}" --out m_single > single.txt
"$bin" --log-level warn --threads 2 train "${ddp_args[@]}" --nproc 2 --checkpoint-dir ddp_ckpt --out m_ddp > ddp.txt
check "train --nproc 2: rank 0 writes the model, validation as one process to 3 decimals" python3 -c "
import json
a = json.load(open('m_single/model.json'))['validation']['ndcg@10']; b = json.load(open('m_ddp/model.json'))
assert abs(a - b['validation']['ndcg@10']) < 5e-4 and b['distributed']['world_size'] == 2, (a, b['validation'])"
"$bin" --log-level warn --threads 2 train "${ddp_args[@]}" --nproc 2 --checkpoint-dir ddp_ckpt --resume --out m_ddp2 > /dev/null
check "train --nproc 2 --resume continues from rank 0's checkpoint" python3 -c "
import json
a, b = (json.load(open(d + '/model.json'))['validation']['ndcg@10'] for d in ('m_ddp', 'm_ddp2'))
assert abs(a - b) < 1e-9, (a, b)"
rc_np=0; "$bin" --log-level warn train --data synth --model pop --nproc 2 --out m_np > /dev/null 2> err_np.txt || rc_np=$?
check "train --nproc with a model that does not train data-parallel: fails naming it, nothing written" \
  bash -c "test $rc_np -ne 0 && grep -q 'does not train data-parallel' err_np.txt && test ! -e m_np"
rc_rank=0; "$bin" --log-level warn train "${ddp_args[@]}" --rank 2 --world-size 2 --out m_rank > /dev/null 2> err_rank.txt || rc_rank=$?
check "a rank outside the world: exit 2, one line" bash -c "test $rc_rank -eq 2 && test \$(wc -l < err_rank.txt) -eq 1 && grep -q 'world-size' err_rank.txt"
if [[ $fails -gt 0 ]]; then echo "$fails check(s) failed"; exit 1; fi
echo "all CLI checks passed"
