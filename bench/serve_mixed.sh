#!/usr/bin/env bash
# Mixed load on loopback: 48 clients read recommendations (known users, and never-seen ids at
# 100 per second) while 16 clients ingest single events, for 60 s at concurrency 64, against the
# Beauty-sized ials server of bench/serve.sh. Reports per-kind p50/p90/p99 and errors, and the
# server's resident memory every second (it must stay flat). Writes bench/results/serve_mixed.json.
#   bench/serve_mixed.sh [seconds=60] [label=current]
# SERVER_BIN and SERVER_FLAGS run another build (e.g. the httplib server before the transport
# change: SERVER_BIN=/tmp/old_driftrec SERVER_FLAGS="--threads 72" bench/serve_mixed.sh 60 httplib).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
label=${2:-current}
bin=build/driftrec
load=build/bench/serve_load
server_bin=${SERVER_BIN:-$bin}
read -r -a flags <<< "${SERVER_FLAGS:---threads 2}"
source bench/serve_common.sh
start_server "$server_bin" "${flags[@]}"
rss_start=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
out=$($load mixed --port $port --concurrency 64 --writers 16 --batch 1 --seconds "$secs" --token bench-token \
  --users $users --user-prefix "$prefix" --items $items --item-prefix "$iprefix" --new-users-per-second 100 --pid $pid)
kill $pid; wait $pid 2> /dev/null || true
mkdir -p bench/results
python3 - "$out" "$secs" "$label" "$data_name" "$fingerprint" "$server_bin ${flags[*]}" "$rss_start" <<'PY'
import json, os, sys
r = json.loads(sys.argv[1])
secs, label = sys.argv[2], sys.argv[3]
r["server_rss_at_start_mib"] = int(sys.argv[7]) / 1024
r["data"] = {"name": sys.argv[4], "fingerprint": sys.argv[5]}
r["config"] = {"model": "ials 64 factors, 5 iterations", "server": sys.argv[6], "cores": os.cpu_count(),
               "clients": "48 readers + 16 writers (1 event per request), 100 never-seen ids/s",
               "command": f"bench/serve_mixed.sh {secs} {label}"}
path = "bench/results/serve_mixed.json"
allr = json.load(open(path)) if os.path.exists(path) else {}
allr[label] = r
json.dump(allr, open(path, "w"), indent=2)
rss = r.get("server_rss_mib", [])
for kind in ("recommend", "ingest"):
    v = r[kind]; l = v["latency_ms"]
    extra = f", {v['events_per_second']:.0f} events/s" if kind == "ingest" else f", {v['requests_per_second']:.0f} req/s"
    print(f"{label} {kind}: p50 {l['p50']:.2f} ms, p90 {l['p90']:.2f} ms, p99 {l['p99']:.2f} ms{extra}, errors {v['errors']}")
if rss:
    k = max(1, len(rss) // 4)
    print(f"{label} server RSS: start {r['server_rss_at_start_mib']:.0f} MiB, first {k} s mean {sum(rss[:k])/k:.0f} MiB, "
          f"last {k} s mean {sum(rss[-k:])/k:.0f} MiB, max {max(rss):.0f} MiB")
PY
