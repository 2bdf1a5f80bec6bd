#!/usr/bin/env bash
# Replicated serving on PostgreSQL against one server on SQLite, on loopback with the serve
# benchmark's data and model (bench/serve_common.sh: ials, 64 factors, on Beauty): durable ingest
# events/s (batches of 1 and 100, 16 clients in all) and recommendations/s (16 clients in all) for
# one SQLite server, one PostgreSQL replica and two PostgreSQL replicas (the clients split between
# them), plus event-to-fresh-recommendation latency on one replica and across replicas (post to A,
# read from B), and, halfway through the two-replica ingest runs, the share of each replica's events
# the other has already applied (a follower that falls behind under load shows here). PostgreSQL is a private server started here (tests/integration/postgres_server.sh).
# Everything (servers, database, load clients) shares this machine's cores: read the two-replica
# rows as "what a second process costs or gives on the same box", not as scale-out.
# Writes bench/results/replicas.json.   [DRIFTREC_BIN=server binary] bench/replicas.sh [seconds per run]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
bin=${DRIFTREC_BIN:-build/driftrec}  # DRIFTREC_BIN: another build's server, for before/after pairs
load=build/bench/serve_load
source bench/serve_common.sh
pgdir="$work/pg"
trap 'kill $pid $pid_b 2> /dev/null || true; bash tests/integration/postgres_server.sh stop "$pgdir" > /dev/null 2>&1; rm -rf "$work"' EXIT
pid_b=""
pg_url=$(bash tests/integration/postgres_server.sh start "$pgdir")
serve_on() {  # store url, port, extra flags... -> pid of the server
  local url=$1 p=$2; shift 2
  "$bin" --log-level warn serve --model "$work/model" --store "$url" --port "$p" --token-file "$work/token" \
    --threads 2 "$@" > "$work/server_$p.log" 2>&1 &
  local s=$!
  for _ in $(seq 900); do curl -sf "http://127.0.0.1:$p/healthz/ready" > /dev/null 2>&1 && { echo $s; return 0; }; sleep 0.1; done
  echo "server did not start" >&2; cat "$work/server_$p.log" >&2; exit 1
}
results="{}"
add() { results=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r[sys.argv[2]]=json.loads(sys.argv[3]); print(json.dumps(r))' "$results" "$1" "$2"); }
ingest() {  # port, concurrency, batch
  $load ingest --port "$1" --concurrency "$2" --batch "$3" --seconds "$secs" --token bench-token --items 12101 --item-prefix "$iprefix"
}
recommend() {  # port, concurrency
  $load recommend --port "$1" --concurrency "$2" --seconds "$secs" --users $users --user-prefix "$prefix" --k 10
}
counters() {  # events each replica stored and applied from the other, as "A_stored A_applied B_stored B_applied"
  for p in $port $port_b; do
    curl -s "http://127.0.0.1:$p/metrics" | awk '/^driftrec_events_ingested_total /{i=$2} /^driftrec_events_replicated_total /{r=$2} END{printf "%d %d ", i, r}'
  done
}
pair() {  # name, kind (ingest|recommend), args...: the same load split over both replicas, summed
  local name=$1 kind=$2; shift 2
  counters > "$work/start.txt"
  # Halfway through, how much of what each replica stored has the other applied (freshness under load).
  (sleep "$(python3 -c "print($secs / 2)")"; counters > "$work/mid.txt") &
  local jm=$!
  $kind "$port" "$@" > "$work/a.json" &
  local ja=$!
  $kind "$port_b" "$@" > "$work/b.json"
  wait $ja $jm
  add "$name" "$(python3 - "$work/a.json" "$work/b.json" "$(cat "$work/start.txt")" "$(cat "$work/mid.txt")" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
(sa, ra, sb, rb), (sa2, ra2, sb2, rb2) = (map(int, x.split()) for x in sys.argv[3:5])
out = {"replicas": [a, b], "errors": a["errors"] + b["errors"]}
if sa2 > sa or sb2 > sb:  # mid-run: the other replica's events applied / stored since the pair began
    out["applied_from_other_mid_run"] = round(((ra2 - ra) + (rb2 - rb)) / max(1, (sa2 - sa) + (sb2 - sb)), 3)
for k in ("events_per_second", "requests_per_second"):
    if k in a: out[k] = a[k] + b[k]
out["latency_ms"] = {"p50": max(a["latency_ms"]["p50"], b["latency_ms"]["p50"]), "p99": max(a["latency_ms"]["p99"], b["latency_ms"]["p99"])}
print(json.dumps(out))
PY
)"
}
# One server on SQLite (the embedded default).
pid=$(serve_on "sqlite://$work/events.db" "$port" --import "$data")
add sqlite_ingest_c16_batch1 "$(ingest $port 16 1)"
add sqlite_ingest_c16_batch100 "$(ingest $port 16 100)"
add sqlite_recommend_c16 "$(recommend $port 16)"
add sqlite_fresh "$($load fresh --port $port --token bench-token --requests 300 --items 12101 --item-prefix "$iprefix")"
kill $pid; wait $pid 2> /dev/null || true
# One replica on PostgreSQL, then a second one beside it.
port_b=$((port + 1))
pid=$(serve_on "$pg_url" "$port" --import "$data")
add pg1_ingest_c16_batch1 "$(ingest $port 16 1)"
add pg1_ingest_c16_batch100 "$(ingest $port 16 100)"
add pg1_recommend_c16 "$(recommend $port 16)"
add pg1_fresh "$($load fresh --port $port --token bench-token --requests 300 --items 12101 --item-prefix "$iprefix")"
pid_b=$(serve_on "$pg_url" "$port_b")
pair pg2_ingest_c16_batch1 ingest 8 1
pair pg2_ingest_c16_batch100 ingest 8 100
pair pg2_recommend_c16 recommend 8
add pg2_fresh_cross_replica "$($load fresh --port $port --read-port $port_b --token bench-token --requests 300 --items 12101 --item-prefix "$iprefix")"
mkdir -p bench/results
python3 - "$results" "$secs" "$data_name" "$fingerprint" <<'PY'
import json, os, sys
r = json.loads(sys.argv[1])
r["config"] = {"model": "ials 64 factors, 5 iterations", "server_threads": 2, "cores": os.cpu_count(),
               "seconds_per_run": float(sys.argv[2]), "command": f"bench/replicas.sh {sys.argv[2]}",
               "postgresql": "private server (initdb defaults, fsync on, synchronous_commit on)",
               "server_binary": os.environ.get("DRIFTREC_BIN", "build/driftrec")}
r["data"] = {"name": sys.argv[3], "fingerprint": sys.argv[4]}
json.dump(r, open("bench/results/replicas.json", "w"), indent=2)
print("| setup | ingest events/s, batch 1 | ingest events/s, batch 100 | recommendations/s | fresh p50 / p99 ms |")
print("|---|---|---|---|---|")
for name, key, fresh in (("1 server, SQLite", "sqlite", "sqlite_fresh"), ("1 replica, PostgreSQL", "pg1", "pg1_fresh"),
                         ("2 replicas, PostgreSQL", "pg2", "pg2_fresh_cross_replica")):
    f = r[fresh]["latency_ms"]
    print(f"| {name} | {r[key + '_ingest_c16_batch1']['events_per_second']:.0f} | {r[key + '_ingest_c16_batch100']['events_per_second']:.0f} | "
          f"{r[key + '_recommend_c16']['requests_per_second']:.0f} | {f['p50']:.2f} / {f['p99']:.2f} |")
errors = sum(v.get("errors", 0) for v in r.values() if isinstance(v, dict))
print(f"errors: {errors}")
mid = r["pg2_ingest_c16_batch1"].get("applied_from_other_mid_run"), r["pg2_ingest_c16_batch100"].get("applied_from_other_mid_run")
print(f"two replicas, halfway through ingest: share of the other replica's events applied: batch 1 {mid[0]}, batch 100 {mid[1]}")
PY
