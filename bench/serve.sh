#!/usr/bin/env bash
# Serving benchmark on loopback: recommendation latency/throughput at concurrency 1, 16, 64,
# durable ingest throughput, feedback throughput, and event-to-fresh-recommendation latency, with a Beauty-sized model
# (ials, 64 factors, trained on ../shared/data/beauty/Beauty.txt; a synthetic catalog of the same
# size when that file is absent; SERVE_MODEL=sasrec or hstu: that model, see serve_common.sh). The load client (build/bench/serve_load) runs on the same
# 2 cores as the server. Writes bench/results/serve.json (or $SERVE_OUT).   bench/serve.sh [seconds per run]
# SERVER_BIN runs another build (the data, model and client stay the same), SERVE_THREADS its
# --threads (default 2), SERVE_FLAGS further serve flags.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
out=${SERVE_OUT:-bench/results/serve.json}  # results file
bin=build/driftrec
load=build/bench/serve_load
source bench/serve_common.sh
threads=${SERVE_THREADS:-2}  # read workers (the event loop holds connections, not threads)
read -r -a extra <<< "${SERVE_FLAGS:-}"  # e.g. SERVE_FLAGS="--io-threads 2"
server_bin=${SERVER_BIN:-$bin}  # another build, e.g. the previous server for a before/after row
start_server "$server_bin" --threads "$threads" "${extra[@]}"
results="{}"
add() { results=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r[sys.argv[2]]=json.loads(sys.argv[3]); print(json.dumps(r))' "$results" "$1" "$2"); }
for c in 1 16 64; do
  add "recommend_c$c" "$($load recommend --port $port --concurrency $c --seconds "$secs" --users $users --user-prefix "$prefix" --k 10)"
done
# The exploring policies (full-catalogue scores, propensities, a slate record in memory).
for p in epsilon-greedy:epsilon=0.1 boltzmann:temperature=0.5; do
  add "recommend_c16_${p%%:*}" "$($load recommend --port $port --concurrency 16 --seconds "$secs" --users $users --user-prefix "$prefix" --k 10 --policy "$p")"
done
# The HTTP floor: the same client and concurrency on a route that does nothing.
add "http_floor_c16" "$($load floor --port $port --concurrency 16 --seconds "$secs")"
add "ingest_c16_batch100" "$($load ingest --port $port --concurrency 16 --batch 100 --seconds "$secs" --token bench-token --items 12101 --item-prefix "$iprefix")"
add "ingest_c16_batch1" "$($load ingest --port $port --concurrency 16 --batch 1 --seconds "$secs" --token bench-token --items 12101 --item-prefix "$iprefix")"
# Feedback on shown slates, one row per request (every 10th a click, stored with its event), for
# the greedy policy and a learning one (linucb: its posterior updated per row, its features stored).
for p in greedy linucb; do
  add "feedback_c16_$p" "$($load feedback --port $port --concurrency 16 --seconds "$secs" --token bench-token --users $users --user-prefix "$prefix" --k 10 --requests 300 --policy "$p")"
done
add "event_to_fresh_recommendation" "$($load fresh --port $port --token bench-token --requests 300 --items 12101 --item-prefix "$iprefix")"
rss=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
kill $pid; wait $pid 2> /dev/null || true
mkdir -p bench/results
python3 - "$results" "$rss" "$secs" "$data_name" "$fingerprint" "$threads" "${SERVE_FLAGS:-}" "$server_bin" "$out" "$model_desc" <<'PY'
import json, os, sys
r = json.loads(sys.argv[1])
r["server_peak_rss_mib"] = int(sys.argv[2]) / 1024
r["config"] = {"model": sys.argv[10], "server": sys.argv[8], "server_threads": int(sys.argv[6]), "cores": os.cpu_count(),
               "seconds_per_run": float(sys.argv[3]), "command": " ".join(x for x in [f"SERVE_MODEL={sys.argv[10].split(',')[0]}" if not sys.argv[10].startswith("ials") else "",
                                               f"SERVER_BIN={sys.argv[8]}" if sys.argv[8] != "build/driftrec" else "",
                                               f"SERVE_THREADS={sys.argv[6]}", f'SERVE_FLAGS="{sys.argv[7]}"' if sys.argv[7] else "",
                                               f"SERVE_OUT={sys.argv[9]}", "bench/serve.sh", sys.argv[3]] if x)}
r["data"] = {"name": sys.argv[4], "fingerprint": sys.argv[5]}
json.dump(r, open(sys.argv[9], "w"), indent=2)
for k, v in r.items():
    if isinstance(v, dict) and "latency_ms" in v:
        extra = f", {v['events_per_second']:.0f} events/s" if "events_per_second" in v else ""
        extra += f", {v['feedback_per_second']:.0f} feedback rows/s" if "feedback_per_second" in v else ""
        rps = f", {v['requests_per_second']:.0f} req/s" if "requests_per_second" in v else ""
        print(f"{k}: p50 {v['latency_ms']['p50']:.2f} ms, p99 {v['latency_ms']['p99']:.2f} ms{rps}{extra}, errors {v['errors']}")
print(f"server peak RSS {r['server_peak_rss_mib']:.0f} MiB")
PY
