#!/usr/bin/env bash
# Nothing acknowledged is lost: kill -9 the server in the middle of an ingest load, then check that
# every event the client saw acknowledged (2xx) is in the store, and that a restarted server
# rebuilds those users' states from it.
# Usage: DRIFTREC=… SERVE_LOAD=… durability_test.sh WORKDIR
set -euo pipefail
bin=${DRIFTREC:?}; load=${SERVE_LOAD:?}; work=${1:?}
rm -rf "$work" && mkdir -p "$work" && cd "$work"
"$bin" --log-level warn synth --users 200 --items 300 --seed 3 --out data > /dev/null
"$bin" --log-level warn train --data data --model itemknn --no-validation --out model > /dev/null
echo "s3cret" > token
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')  # free now (the kernel's pick)
start_server() {
  "$bin" --log-level warn --threads 8 serve --model model --store sqlite://events.db --port "$port" --token-file token > server.log 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/healthz/ready" > /dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "server did not start"; cat server.log; exit 1
}
start_server
"$load" ingest --port "$port" --concurrency 8 --batch 5 --seconds 30 --token s3cret --acked acked.tsv --items 300 > load.json 2>&1 &
lpid=$!
sleep 2
kill -9 "$pid"
wait "$lpid" || true
acked=$(wc -l < acked.tsv)
[[ $acked -gt 100 ]] || { echo "too few acknowledged events before the kill: $acked"; exit 1; }
sqlite3 events.db "select user || char(9) || ts from events" | sort > stored.tsv
sort acked.tsv > acked.sorted
missing=$(comm -23 acked.sorted stored.tsv | wc -l)
echo "acknowledged $acked events before kill -9; stored $(wc -l < stored.tsv); missing $missing"
[[ $missing -eq 0 ]] || { echo "FAIL: acknowledged events were lost"; comm -23 acked.sorted stored.tsv | head; exit 1; }
# Restart: a user's state is rebuilt from the store (history length = their stored events, capped).
start_server
user=$(head -1 acked.sorted | cut -f1)
# The state counts the events whose item the model knows (the load draws a few it never saw).
n=$(sqlite3 events.db "select item from events where user = '$user'" | grep -cxFf model/items.tsv || true)
got=$(curl -sf "http://127.0.0.1:$port/v1/users/$user/recommendations?k=5" | grep -o '"history_length":[0-9]*' | cut -d: -f2)
# SIGHUP reloads the model: the version moves on and the server keeps answering.
kill -HUP "$pid"
version=""
for _ in $(seq 50); do
  version=$(curl -sf "http://127.0.0.1:$port/healthz/ready" | grep -o '"model_version":[0-9]*' | cut -d: -f2)
  [[ $version == 2 ]] && break
  sleep 0.1
done
kill "$pid"; wait "$pid" 2> /dev/null || true
[[ $version == 2 ]] || { echo "FAIL: SIGHUP did not reload the model (version $version)"; exit 1; }
echo "user $user: $n stored events, state rebuilt with $got; SIGHUP reload -> model version $version"
[[ $got -eq $n || ( $n -gt 500 && $got -eq 500 ) ]] || { echo "FAIL: state not rebuilt from the store"; exit 1; }
# Feedback has the same guarantee: kill -9 while clients post feedback; every acknowledged row
# (and the click event it implies) is in the store.
start_server
feedback_client() {  # $1 = client number; appends "request_id" of each acknowledged feedback
  local i=0 id
  while true; do
    i=$((i + 1))
    id=$(curl -sf "http://127.0.0.1:$port/v1/users/fb$1_$((i % 7))/recommendations?k=3&policy=epsilon-greedy:epsilon%3D0.5" |
      grep -o '"request_id":"[^"]*"' | cut -d'"' -f4) || continue
    curl -sf -X POST "http://127.0.0.1:$port/v1/feedback" -H "Authorization: Bearer s3cret" \
      -d "{\"request_id\":\"$id\",\"position\":2,\"clicked\":true}" > /dev/null && echo "$id" >> "acked_fb_$1.txt"
  done
}
for c in 1 2 3 4; do feedback_client "$c" & done
sleep 3
kill -9 "$pid"
sleep 0.5
kill $(jobs -p) 2> /dev/null || true
wait 2> /dev/null || true
cat acked_fb_*.txt 2> /dev/null | sort > acked_fb.txt
n_fb=$(wc -l < acked_fb.txt)
[[ $n_fb -gt 10 ]] || { echo "too few acknowledged feedback rows before the kill: $n_fb"; exit 1; }
sqlite3 events.db "select request_id from feedback where clicked = 1 and position = 1" | sort > stored_fb.txt
missing_fb=$(comm -23 acked_fb.txt stored_fb.txt | wc -l)
clicks=$(sqlite3 events.db "select count(*) from events where behavior = 'click'")
echo "acknowledged $n_fb feedback rows before kill -9; stored $(wc -l < stored_fb.txt); missing $missing_fb; click events $clicks"
[[ $missing_fb -eq 0 ]] || { echo "FAIL: acknowledged feedback was lost"; exit 1; }
[[ $clicks -ge $n_fb ]] || { echo "FAIL: click events missing for acknowledged feedback"; exit 1; }
echo "durability checks passed"
