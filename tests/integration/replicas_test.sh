#!/usr/bin/env bash
# Replicated serving on one PostgreSQL store (a private server started here, never a system
# service): an event posted to replica A changes the user's next recommendation on replica B;
# kill -9 of A during an ingest load loses no acknowledged event and B keeps serving; a database
# outage makes B answer 503 with a JSON body, and B recovers by itself when the database is back.
# Usage: DRIFTREC=… SERVE_LOAD=… replicas_test.sh WORKDIR
set -euo pipefail
bin=${DRIFTREC:?}; load=${SERVE_LOAD:?}; work=${1:?}
pg=$(cd "$(dirname "$0")" && pwd)/postgres_server.sh
rm -rf "$work" && mkdir -p "$work" && cd "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null || true; done
  bash "$pg" stop "$work/pg" > /dev/null 2>&1 || true
}
trap cleanup EXIT
url=$(bash "$pg" start "$work/pg")
"$bin" --log-level warn synth --users 200 --items 300 --seed 3 --out data > /dev/null
"$bin" --log-level warn train --data data --model itemknn --no-validation --out model > /dev/null
echo "s3cret" > token
start_replica() {  # name -> sets port_NAME, pid_NAME
  local name=$1 port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')  # free now (the kernel's pick)
  "$bin" --log-level warn --threads 4 serve --model model --store "$url" --port "$port" --token-file token \
    --follow-ms 50 > "server_$name.log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 100); do
    if curl -sf "http://127.0.0.1:$port/healthz/ready" > /dev/null 2>&1; then
      eval "port_$name=$port; pid_$name=$pid"
      return 0
    fi
    sleep 0.1
  done
  echo "replica $name did not start"; cat "server_$name.log"; exit 1
}
start_replica a
start_replica b
# 1. Cross-replica freshness: post to A, read from B until B's answer counts the event.
"$load" fresh --port "$port_a" --read-port "$port_b" --token s3cret --requests 60 --items 300 > fresh.json
echo "cross-replica freshness (post to A, read from B): $(cat fresh.json)"
python3 -c "import json,sys; r=json.load(open('fresh.json')); sys.exit(0 if r['errors']==0 and r['requests']>=50 else 1)" ||
  { echo "FAIL: replica B did not see replica A's events"; exit 1; }
# 2. kill -9 of A in the middle of an ingest load: every acknowledged event is in PostgreSQL, B serves on.
"$load" ingest --port "$port_a" --concurrency 8 --batch 5 --seconds 30 --token s3cret --acked acked.tsv --items 300 > load.json 2>&1 &
lpid=$!
sleep 2
kill -9 "$pid_a"
wait "$lpid" || true
acked=$(wc -l < acked.tsv)
[[ $acked -gt 100 ]] || { echo "too few acknowledged events before the kill: $acked"; exit 1; }
psql -qAt "$url" -c "select user_id || chr(9) || ts from events" | sort > stored.tsv
sort acked.tsv > acked.sorted
missing=$(comm -23 acked.sorted stored.tsv | wc -l)
echo "acknowledged $acked events before kill -9 of replica A; stored $(wc -l < stored.tsv); missing $missing"
[[ $missing -eq 0 ]] || { echo "FAIL: acknowledged events were lost"; exit 1; }
user=$(head -1 acked.sorted | cut -f1)
# The state counts the events whose item the model knows (the load draws a few it never saw).
n=$(psql -qAt "$url" -c "select item from events where user_id = '$user'" | grep -cxFf model/items.tsv || true)
got=""
for _ in $(seq 50); do  # B follows the log: its answer counts the user's stored events
  got=$(curl -sf "http://127.0.0.1:$port_b/v1/users/$user/recommendations?k=5" | grep -o '"history_length":[0-9]*' | cut -d: -f2)
  [[ $got == "$n" ]] && break
  sleep 0.1
done
echo "replica B after A's death: user $user has $n stored events, B's state has $got"
[[ $got == "$n" ]] || { echo "FAIL: replica B does not serve A's acknowledged events"; exit 1; }
# 3. Database outage: B answers 503 with a JSON body, then recovers by itself.
bash "$pg" pause "$work/pg"
code=$(curl -s -o outage.json -w '%{http_code}' -X POST "http://127.0.0.1:$port_b/v1/events" \
  -H "Authorization: Bearer s3cret" -d '{"user":"o1","item":"i5"}')
echo "during the outage: HTTP $code $(cat outage.json)"
[[ $code == 503 ]] && grep -q '"error"' outage.json || { echo "FAIL: expected a 503 with a JSON body"; exit 1; }
bash "$pg" resume "$work/pg"
code=""
for _ in $(seq 50); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port_b/v1/events" \
    -H "Authorization: Bearer s3cret" -d '{"user":"o1","item":"i5"}')
  [[ $code == 200 ]] && break
  sleep 0.2
done
echo "after the outage: HTTP $code"
[[ $code == 200 ]] || { echo "FAIL: replica B did not recover after the database came back"; exit 1; }
echo "replica checks passed"
