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
port=$(( 20000 + RANDOM % 20000 ))
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
n=$(sqlite3 events.db "select count(*) from events where user = '$user'")
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
echo "durability checks passed"
