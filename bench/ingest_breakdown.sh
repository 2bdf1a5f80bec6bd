#!/usr/bin/env bash
# Where durable single-event ingest's time goes, next to the HTTP floor: the same server, data and
# client as bench/serve.sh (ials on Beauty, SQLite store, 16 clients on loopback), alternating the
# floor (GET /healthz/live) and one-event ingest, with each run's CPU use of the server and of the
# client (/proc), the server's commit count and time (/metrics), and the raw cost of one 4 KiB
# write plus fdatasync on the store's file system with nothing else running.
#   [CLIENTS=16] bench/ingest_breakdown.sh [seconds per run] [rounds]
# Writes bench/results/ingest_breakdown.json (or $OUT).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
rounds=${2:-2}
out=${OUT:-bench/results/ingest_breakdown.json}
clients=${CLIENTS:-16}
bin=build/driftrec
load=build/bench/serve_load
source bench/serve_common.sh
start_server "$bin" --threads 2
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
metric() { curl -s "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
runs="[]"
# measure NAME LOAD-ARGS...: one run of the client, CPU sampled over its middle seconds.
measure() {
  local name=$1; shift
  local commits0 commit_s0 s0 c0 t0 s1 c1 t1
  commits0=$(metric driftrec_ingest_commits_total); commit_s0=$(metric driftrec_ingest_commit_seconds_total)
  "$load" "$@" --port "$port" --concurrency "$clients" --seconds "$secs" > "$work/run.json" &
  local client=$!
  sleep 0.5
  s0=$(cpu_ticks "$pid"); c0=$(cpu_ticks "$client"); t0=$(date +%s.%N)
  sleep $((secs - 1))
  s1=$(cpu_ticks "$pid"); c1=$(cpu_ticks "$client"); t1=$(date +%s.%N)
  wait "$client"
  runs=$(python3 - "$runs" "$name" "$work/run.json" "$s0" "$s1" "$c0" "$c1" "$t0" "$t1" "$commits0" \
    "$(metric driftrec_ingest_commits_total)" "$commit_s0" "$(metric driftrec_ingest_commit_seconds_total)" <<'PY'
import json, os, sys
runs = json.loads(sys.argv[1]); r = json.load(open(sys.argv[3]))
tick = os.sysconf("SC_CLK_TCK"); wall = float(sys.argv[9]) - float(sys.argv[8])
row = {"run": sys.argv[2], "requests_per_second": r["requests_per_second"],
       "events_per_second": r.get("events_per_second"), "latency_ms": r["latency_ms"], "errors": r["errors"],
       "server_cores": (float(sys.argv[5]) - float(sys.argv[4])) / tick / wall,
       "client_cores": (float(sys.argv[7]) - float(sys.argv[6])) / tick / wall}
commits = int(sys.argv[11]) - int(sys.argv[10])
if commits > 0 and row["events_per_second"]:
    row["commits"] = commits
    row["events_per_commit"] = r["requests"] * 1.0 / commits  # one event per request
    row["commit_ms"] = (float(sys.argv[13]) - float(sys.argv[12])) * 1e3 / commits
runs.append(row); print(json.dumps(runs))
PY
)
}
for _ in $(seq "$rounds"); do
  measure floor floor
  measure ingest ingest --batch 1 --token bench-token --items 12101 --item-prefix "$iprefix"
done
kill "$pid"; wait "$pid" 2> /dev/null || true
mkdir -p "$(dirname "$out")"
python3 - "$runs" "$work" "$out" "$secs" "$rounds" "$data_name" "$clients" <<'PY'
import json, os, statistics, sys, time
runs = json.loads(sys.argv[1])
fd = os.open(os.path.join(sys.argv[2], "fsync_probe"), os.O_RDWR | os.O_CREAT)
os.pwrite(fd, b"\0" * 4096 * 256, 0); os.fsync(fd)
n = 2000; t = time.perf_counter()
for i in range(n):
    os.pwrite(fd, b"x" * 4096, (i % 256) * 4096); os.fdatasync(fd)
fsync_ms = (time.perf_counter() - t) / n * 1e3
os.close(fd)
floor = [r for r in runs if r["run"] == "floor"]; ingest = [r for r in runs if r["run"] == "ingest"]
summary = {"floor_req_per_s": statistics.mean(r["requests_per_second"] for r in floor),
           "ingest_events_per_s": statistics.mean(r["events_per_second"] for r in ingest),
           "floor_p50_ms": statistics.mean(r["latency_ms"]["p50"] for r in floor),
           "ingest_p50_ms": statistics.mean(r["latency_ms"]["p50"] for r in ingest),
           "commit_ms_under_load": statistics.mean(r["commit_ms"] for r in ingest),
           "events_per_commit": statistics.mean(r["events_per_commit"] for r in ingest),
           "idle_write_fdatasync_ms": fsync_ms}
summary["floor_over_ingest"] = summary["floor_req_per_s"] / summary["ingest_events_per_s"]
res = {"summary": summary, "runs": runs,
       "config": {"data": sys.argv[6], "model": "ials 64 factors, 5 iterations", "store": "sqlite", "clients": int(sys.argv[7]),
                  "server_threads": 2, "cores": os.cpu_count(), "seconds_per_run": float(sys.argv[4]),
                  "rounds": int(sys.argv[5]), "command": ("" if sys.argv[7] == "16" else f"CLIENTS={sys.argv[7]} ") +
                             f"bench/ingest_breakdown.sh {sys.argv[4]} {sys.argv[5]}"}}
json.dump(res, open(sys.argv[3], "w"), indent=2)
for r in runs:
    extra = f", {r['events_per_commit']:.1f} events/commit, {r['commit_ms']:.3f} ms/commit" if "commit_ms" in r else ""
    print(f"{r['run']:7s} {r['requests_per_second']:8.0f} req/s  p50 {r['latency_ms']['p50']:.3f} ms  "
          f"server {r['server_cores']:.2f} cores  client {r['client_cores']:.2f} cores{extra}")
print(json.dumps(summary, indent=1))
PY
